// The compiled library: this translation unit holds journeyloop/impl/scenario.ipp's definitions.
#include <journeyloop/impl/scenario.ipp>
