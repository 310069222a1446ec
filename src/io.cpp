// The compiled library: this translation unit holds journeyloop/impl/io.ipp's definitions.
#include <journeyloop/impl/io.ipp>
