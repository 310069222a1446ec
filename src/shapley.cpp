// The compiled library: this translation unit holds journeyloop/impl/shapley.ipp's
// definitions.
#include <journeyloop/impl/shapley.ipp>
