// The compiled library: this translation unit holds journeyloop/impl/calibration.ipp's definitions.
#include <journeyloop/impl/calibration.ipp>
