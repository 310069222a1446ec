#include "register.hpp"

PYBIND11_MODULE(_core, m) {
    m.doc() = "journeyloop C++ core (use the journeyloop package, not this module)";
    m.attr("__version__") = JOURNEYLOOP_VERSION_STRING;
    register_errors(m);
    register_journeys(m);
    register_events(m);
    register_attribution(m);
    register_markov(m);
    register_loop(m);
}
