// The compiled library: this translation unit holds journeyloop/impl/markov_model.ipp's
// definitions.
#include <journeyloop/impl/markov_model.ipp>
