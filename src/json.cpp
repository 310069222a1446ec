// The compiled library: this translation unit holds journeyloop/impl/json.ipp's definitions.
#include <journeyloop/impl/json.ipp>
