#include "interrupt.hpp"
#include "progress.hpp"
#include "register.hpp"

#include <journeyloop/simulate.hpp>

#include <pybind11/stl.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <utility>

namespace jl = journeyloop;

namespace {

py::dict report_dict(const jl::simulation_report& r) {
    py::dict d;
    d["walks"] = r.walks;
    d["truncated"] = r.truncated;
    d["empty"] = r.empty;
    d["empty_conversions"] = r.empty_conversions;
    d["empty_value"] = r.empty_value;
    d["touches"] = r.touches;
    return d;
}

// (rows, report) as a plain tuple.
py::tuple pair_of(py::object rows, py::dict report) {
    py::tuple out(2);
    out[0] = std::move(rows);
    out[1] = std::move(report);
    return out;
}

jl::simulation_options options_of(std::uint64_t seed, std::size_t threads, std::size_t max_touches,
                                  const jl::holding_times* holding,
                                  const jl::loop_holding_times* loop_holding = nullptr) {
    jl::simulation_options o;
    o.seed = seed;
    o.threads = threads;
    o.max_touches = max_touches;
    o.holding = holding;
    o.loop_holding = loop_holding;
    return o;
}

} // namespace

void register_simulate(py::module_& m) {
    py::class_<jl::holding_times>(m, "holding_times")
        .def_property_readonly("num_states", &jl::holding_times::num_states)
        .def_property_readonly("overall_mean", &jl::holding_times::overall_mean)
        .def_property_readonly("own_means", &jl::holding_times::own_means)
        .def_property_readonly("state_means", &jl::holding_times::state_means)
        .def_property_readonly("overall_means", &jl::holding_times::overall_means)
        .def_property_readonly("skipped_journeys", &jl::holding_times::skipped_journeys)
        .def_property_readonly("time_unit_seconds", &jl::holding_times::time_unit_seconds)
        .def("mean", &jl::holding_times::mean, py::arg("from_state"), py::arg("to_state"),
             "The mean holding time of a transition (0 if the model has none).")
        .def("weight", &jl::holding_times::weight, py::arg("from_state"), py::arg("to_state"),
             "The weight of the journeys that showed a transition.");

    m.def(
        "fit_holding_times",
        [](const jl::journey_set& journeys, const jl::markov_model& model, double min_weight) {
            jl::holding_options o;
            o.min_weight = min_weight;
            return jl::fit_holding_times(journeys, model, o);
        },
        py::arg("journeys"), py::arg("model"), py::kw_only(),
        py::arg("min_weight") = jl::holding_options{}.min_weight,
        py::call_guard<sigint_scope, py::gil_scoped_release>(),
        "The mean holding time of every transition of a model, from journeys with times.");
    py::class_<jl::loop_holding_times>(m, "loop_holding_times")
        .def_property_readonly(
            "first", [](const jl::loop_holding_times& h) { return h.first; },
            "The first view's holding times.")
        .def_property_readonly(
            "repeat", [](const jl::loop_holding_times& h) { return h.repeat; },
            "The repeat view's holding times (None without a repeat view).")
        .def_property_readonly(
            "time_unit_seconds",
            [](const jl::loop_holding_times& h) { return h.first.time_unit_seconds(); },
            "Seconds per time unit (0: unitless).");
    m.def(
        "fit_loop_holding_times",
        [](const jl::loop_histories& histories, const jl::loop_model& model, double min_weight) {
            jl::holding_options o;
            o.min_weight = min_weight;
            return jl::fit_holding_times(histories, model, o);
        },
        py::arg("histories"), py::arg("model"), py::kw_only(),
        py::arg("min_weight") = jl::holding_options{}.min_weight,
        py::call_guard<sigint_scope, py::gil_scoped_release>(),
        "The mean holding time of every transition of a loop model, from histories with times.");
    m.def("expected_time_to_first_purchase", &jl::expected_time_to_first_purchase, py::arg("model"),
          py::arg("holding"), py::call_guard<sigint_scope, py::gil_scoped_release>(),
          "The exact expected time from the first touch to the first purchase, for buyers.");
    m.def("expected_time_to_next_purchase", &jl::expected_time_to_next_purchase, py::arg("model"),
          py::arg("holding"), py::call_guard<sigint_scope, py::gil_scoped_release>(),
          "The exact expected time from a purchase to the next, when there is one.");
    m.def("expected_time_to_conversion", &jl::expected_time_to_conversion, py::arg("model"),
          py::arg("holding"), py::call_guard<sigint_scope, py::gil_scoped_release>(),
          "The exact expected time from the first touch to the conversion, for converting "
          "journeys.");
    m.def(
        "simulate_journeys",
        [](const jl::markov_model& model, std::size_t n, std::uint64_t seed, std::size_t threads,
           std::size_t max_touches, const jl::holding_times* holding,
           const std::optional<py::function>& progress) {
            jl::simulated_journeys sim;
            auto options = options_of(seed, threads, max_touches, holding);
            const sigint_scope interruptible;
            options.progress = progress_of(progress);
            {
                py::gil_scoped_release release;
                sim = jl::simulate(model, n, options);
            }
            return pair_of(py::cast(std::move(sim.journeys)), report_dict(sim.report));
        },
        py::arg("model"), py::arg("n"), py::kw_only(), py::arg("seed") = 0, py::arg("threads") = 0,
        py::arg("max_touches") = jl::simulation_options{}.max_touches, py::arg("holding") = nullptr,
        py::arg("progress") = py::none(),
        "(journeys, report) drawn from a funnel model; progress(done, total) after each block of "
        "walks.");
    m.def(
        "simulate_histories",
        [](const jl::loop_model& model, std::size_t n, std::uint64_t seed, std::size_t threads,
           std::size_t max_touches, const jl::loop_holding_times* holding,
           const std::optional<py::function>& progress) {
            jl::simulated_histories sim;
            auto options = options_of(seed, threads, max_touches, nullptr, holding);
            const sigint_scope interruptible;
            options.progress = progress_of(progress);
            {
                py::gil_scoped_release release;
                sim = jl::simulate(model, n, options);
            }
            return pair_of(py::cast(std::move(sim.histories)), report_dict(sim.report));
        },
        py::arg("model"), py::arg("n"), py::kw_only(), py::arg("seed") = 0, py::arg("threads") = 0,
        py::arg("max_touches") = jl::simulation_options{}.max_touches, py::arg("holding") = nullptr,
        py::arg("progress") = py::none(),
        "(histories, report) drawn from a loop model; progress(done, total) after each block of "
        "walks.");
}
