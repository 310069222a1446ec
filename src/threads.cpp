// The compiled library: this translation unit holds journeyloop/impl/threads.ipp's definitions.
#include <journeyloop/impl/threads.ipp>
