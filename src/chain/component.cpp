// The compiled library: this translation unit holds journeyloop/impl/chain/component.ipp's
// definitions.
#include <journeyloop/impl/chain/component.ipp>
