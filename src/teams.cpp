// The compiled library: this translation unit holds journeyloop/impl/teams.ipp's definitions.
#include <journeyloop/impl/teams.ipp>
