// The compiled library: this translation unit holds journeyloop/impl/limits.ipp's definitions.
#include <journeyloop/impl/limits.ipp>
