#include "register.hpp"

#include <journeyloop/threads.hpp>
#include <journeyloop/transition_counts.hpp>

namespace jl = journeyloop;

PYBIND11_MODULE(_core, m) {
    m.doc() = "journeyloop C++ core (use the journeyloop package, not this module)";
    m.attr("__version__") = JOURNEYLOOP_VERSION_STRING;
    register_errors(m);
    register_journeys(m);
    register_events(m);
    register_attribution(m);
    register_markov(m);
    register_loop(m);
    m.def("set_threads", &jl::set_threads, py::arg("n"),
          "Threads of the parallel stages when a call does not say (0: each stage's default).");
    m.def("get_threads", &jl::get_threads, "What set_threads last set (0: the defaults).");
    m.attr("max_order") = jl::max_order;
}
