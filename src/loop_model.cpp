// The compiled library: this translation unit holds journeyloop/impl/loop_model.ipp's definitions.
#include <journeyloop/impl/loop_model.ipp>
