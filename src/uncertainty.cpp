// The compiled library: this translation unit holds journeyloop/impl/uncertainty.ipp's definitions.
#include <journeyloop/impl/uncertainty.ipp>
