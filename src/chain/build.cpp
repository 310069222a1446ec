// The compiled library: this translation unit holds journeyloop/impl/chain/build.ipp's definitions.
#include <journeyloop/impl/chain/build.ipp>
