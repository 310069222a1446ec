// The compiled library: this translation unit holds journeyloop/impl/journey_credit.ipp's
// definitions.
#include <journeyloop/impl/journey_credit.ipp>
