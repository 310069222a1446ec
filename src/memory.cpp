// The compiled library: this translation unit holds journeyloop/impl/memory.ipp's definitions.
#include <journeyloop/impl/memory.ipp>
