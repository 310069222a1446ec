// The compiled library: this translation unit holds journeyloop/impl/score.ipp's definitions.
#include <journeyloop/impl/score.ipp>
