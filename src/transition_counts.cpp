// The compiled library: this translation unit holds journeyloop/impl/transition_counts.ipp's
// definitions.
#include <journeyloop/impl/transition_counts.ipp>
