// The compiled library: this translation unit holds journeyloop/impl/chain/sweep.ipp's definitions.
#include <journeyloop/impl/chain/sweep.ipp>
