// Per-journey credit and calibration to lift tests.
#include "interrupt.hpp"
#include "progress.hpp"
#include "arrays.hpp"
#include "register.hpp"

#include <journeyloop/calibration.hpp>
#include <journeyloop/journey_credit.hpp>

#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

namespace jl = journeyloop;

namespace {

// (row, channel, conversions, value) as numpy arrays.
py::tuple credit_tuple(const jl::journey_credit& c) {
    return py::make_tuple(to_numpy(c.row), to_numpy(c.channel), to_numpy(c.conversions),
                          to_numpy(c.value));
}

std::vector<double> vector_of(const std::optional<py::array_t<double, py::array::c_style>>& a) {
    if (!a) return {};
    return {a->data(), a->data() + a->size()};
}

} // namespace

void register_credit(py::module_& m) {
    m.def(
        "heuristic_journey_credit",
        [](const jl::journey_set& js, const std::string& method,
           const jl::heuristic_options& options, std::size_t threads) {
            const auto h = jl::heuristic_from_string(method);
            jl::journey_credit c;
            {
                py::gil_scoped_release release;
                c = jl::heuristic_journey_credit(js, h, options, threads);
            }
            return credit_tuple(c);
        },
        py::arg("journeys"), py::arg("method"), py::arg("options") = jl::heuristic_options{},
        py::arg("threads") = 0,
        "(row, channel, conversions, value) of a heuristic, per row and distinct channel.");
    m.def(
        "simplified_shapley_journey_credit",
        [](const jl::journey_set& js, std::size_t threads) {
            jl::journey_credit c;
            {
                py::gil_scoped_release release;
                c = jl::simplified_shapley_journey_credit(js, threads);
            }
            return credit_tuple(c);
        },
        py::arg("journeys"), py::arg("threads") = 0,
        "(row, channel, conversions, value) of the simplified Shapley value, per row.");
    m.def(
        "proportional_journey_credit",
        [](const jl::journey_set& js, const std::vector<double>& conversion_weights,
           const std::vector<double>& value_weights, std::size_t threads) {
            jl::journey_credit c;
            {
                py::gil_scoped_release release;
                c = jl::proportional_journey_credit(js, conversion_weights, value_weights, threads);
            }
            return credit_tuple(c);
        },
        py::arg("journeys"), py::arg("conversion_weights"), py::arg("value_weights"),
        py::arg("threads") = 0,
        "(row, channel, conversions, value): each row split in proportion to weights per "
        "channel.");
    m.def(
        "markov_journey_credit",
        [](const jl::journey_set& js, const jl::markov_model& model,
           const std::optional<py::function>& progress, std::size_t threads) {
            const sigint_scope interruptible;
            const auto callback = progress_of(progress);
            jl::journey_credit c;
            {
                py::gil_scoped_release release;
                c = jl::markov_journey_credit(js, model, callback, threads);
            }
            return credit_tuple(c);
        },
        py::arg("journeys"), py::arg("model"), py::arg("progress") = py::none(),
        py::arg("threads") = 0,
        "(row, channel, conversions, value): each row split by its channels' removal effects.");
    m.def(
        "shapley_journey_credit",
        [](const jl::journey_set& js, const jl::markov_model& model, std::size_t threads) {
            jl::journey_credit c;
            {
                py::gil_scoped_release release;
                c = jl::shapley_journey_credit(js, model, threads);
            }
            return credit_tuple(c);
        },
        py::arg("journeys"), py::arg("model"), py::arg("threads") = 0,
        "(row, channel, conversions, value): each row split by its channels' Shapley values.");
    m.def(
        "calibrate",
        [](const std::vector<std::string>& names, const std::vector<double>& conversions,
           const std::vector<double>& value, const std::vector<std::string>& tested,
           const std::vector<double>& measured, const std::vector<double>& lower,
           const std::vector<double>& upper,
           const std::optional<py::array_t<double, py::array::c_style>>& attributed_lower,
           const std::optional<py::array_t<double, py::array::c_style>>& attributed_upper) {
            if (measured.size() != tested.size() || lower.size() != tested.size() ||
                upper.size() != tested.size())
                throw jl::invalid_input("calibrate: the experiments' columns differ in length");
            std::vector<jl::lift_test> tests(tested.size());
            for (std::size_t i = 0; i < tests.size(); ++i)
                tests[i] = {tested[i], measured[i], lower[i], upper[i]};
            const jl::attribution a(names, conversions, value);
            const auto lo = vector_of(attributed_lower), hi = vector_of(attributed_upper);
            jl::calibration_result r;
            {
                py::gil_scoped_release release;
                r = jl::calibrate(a, tests, lo, hi);
            }
            const auto n = r.report.size();
            std::vector<double> att(n), att_lo(n), att_hi(n), exp(n), exp_lo(n), exp_hi(n),
                ratio(n);
            std::vector<bool> disagrees(n);
            std::vector<std::string> channel(n);
            for (std::size_t i = 0; i < n; ++i) {
                const auto& row = r.report[i];
                channel[i] = row.channel;
                att[i] = row.attributed;
                att_lo[i] = row.attributed_lower;
                att_hi[i] = row.attributed_upper;
                exp[i] = row.experiment;
                exp_lo[i] = row.lower;
                exp_hi[i] = row.upper;
                ratio[i] = row.ratio;
                disagrees[i] = row.disagrees;
            }
            py::dict report;
            report["channel"] = channel;
            report["attributed"] = to_numpy(att);
            report["attributed_lower"] = to_numpy(att_lo);
            report["attributed_upper"] = to_numpy(att_hi);
            report["experiment"] = to_numpy(exp);
            report["lower"] = to_numpy(exp_lo);
            report["upper"] = to_numpy(exp_hi);
            report["ratio"] = to_numpy(ratio);
            report["disagrees"] = disagrees;
            py::dict out;
            out["report"] = report;
            out["names"] = r.calibrated.names();
            out["conversions"] = to_numpy(r.calibrated.conversions());
            out["value"] = to_numpy(r.calibrated.value());
            out["tested"] = r.tested;
            out["scale"] = to_numpy(r.scale);
            out["unallocated_conversions"] = r.unallocated_conversions;
            out["unallocated_value"] = r.unallocated_value;
            return out;
        },
        py::arg("names"), py::arg("conversions"), py::arg("value"), py::arg("tested"),
        py::arg("measured"), py::arg("lower"), py::arg("upper"),
        py::arg("attributed_lower") = py::none(), py::arg("attributed_upper") = py::none(),
        "Calibrates an attribution (names, conversions, value) to lift tests: {report, names, "
        "conversions, value, tested, scale, unallocated_conversions, unallocated_value}.");
}
