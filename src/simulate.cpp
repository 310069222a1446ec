// The compiled library: this translation unit holds journeyloop/impl/simulate.ipp's definitions.
#include <journeyloop/impl/simulate.ipp>
