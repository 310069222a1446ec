// The compiled library: this translation unit holds journeyloop/impl/chain/workspace.ipp's
// definitions.
#include <journeyloop/impl/chain/workspace.ipp>
