// The compiled library: this translation unit holds journeyloop/impl/chain/removal.ipp's
// definitions.
#include <journeyloop/impl/chain/removal.ipp>
