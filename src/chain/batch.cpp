// The compiled library: this translation unit holds journeyloop/impl/chain/batch.ipp's definitions.
#include <journeyloop/impl/chain/batch.ipp>
