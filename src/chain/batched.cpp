// The compiled library: this translation unit holds journeyloop/impl/chain/batched.ipp's
// definitions.
#include <journeyloop/impl/chain/batched.ipp>
