#include "register.hpp"

#include <journeyloop/limits.hpp>
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
    register_scenario(m);
    register_score(m);
    register_simulate(m);
    register_uncertainty(m);
    register_order(m);
    register_credit(m);
    register_shapley(m);
    m.def("set_threads", &jl::set_threads, py::arg("n"),
          "Threads of the parallel stages when a call does not say (0: each stage's default).");
    m.def("get_threads", &jl::get_threads, "What set_threads last set (0: the defaults).");
    m.def("set_memory_limit", &jl::set_memory_limit, py::arg("bytes"),
          "Cap on the memory one stage of a call may need (0: the machine's physical memory).");
    m.def("get_memory_limit", &jl::get_memory_limit,
          "What set_memory_limit last set (0: the default).");
    m.def("effective_memory_limit", &jl::effective_memory_limit, "The cap in force, in bytes.");
    m.attr("max_order") = jl::max_order;
}
