// The compiled library: this translation unit holds journeyloop/impl/attribution.ipp's definitions.
#include <journeyloop/impl/attribution.ipp>
