// The compiled library: this translation unit holds journeyloop/impl/loop_histories.ipp's
// definitions.
#include <journeyloop/impl/loop_histories.ipp>
