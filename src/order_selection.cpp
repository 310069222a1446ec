// The compiled library: this translation unit holds journeyloop/impl/order_selection.ipp's
// definitions.
#include <journeyloop/impl/order_selection.ipp>
