// The compiled library: this translation unit holds journeyloop/impl/events.ipp's definitions.
#include <journeyloop/impl/events.ipp>
