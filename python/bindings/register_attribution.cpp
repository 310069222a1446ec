#include "arrays.hpp"
#include "register.hpp"
#include "interrupt.hpp"

#include <journeyloop/attribution.hpp>

#include <pybind11/stl.h>

namespace jl = journeyloop;

void register_attribution(py::module_& m) {
    py::class_<jl::attribution>(m, "attribution")
        .def_property_readonly("names", &jl::attribution::names)
        .def_property_readonly("conversions",
                               [](const jl::attribution& a) { return to_numpy(a.conversions()); })
        .def_property_readonly("value",
                               [](const jl::attribution& a) { return to_numpy(a.value()); })
        .def_property_readonly(
            "shares",
            [](const jl::attribution& a) {
                std::vector<double> out;
                out.reserve(a.size());
                for (std::size_t i = 0; i < a.size(); ++i) out.push_back(a.share(i));
                return to_numpy(out);
            },
            "Share of the conversions credited to each name (0 if there are none).");

    m.def("heuristic_names", [] {
        std::vector<std::string> out;
        for (auto h : jl::all_heuristics) out.emplace_back(jl::to_string(h));
        return out;
    });
    const jl::heuristic_options defaults;
    py::class_<jl::heuristic_options>(m, "heuristic_options",
                                      "Parameters of the heuristics (C++ heuristic_options).")
        .def(py::init([](double half_life, double endpoint_share,
                         std::optional<double> time_half_life, bool decay_by_steps,
                         std::optional<double> first_share, std::optional<double> last_share) {
                 jl::heuristic_options o;
                 o.half_life = half_life;
                 o.endpoint_share = endpoint_share;
                 o.time_half_life = time_half_life;
                 o.decay_by_steps = decay_by_steps;
                 o.first_share = first_share;
                 o.last_share = last_share;
                 return o;
             }),
             py::kw_only(), py::arg("half_life") = defaults.half_life,
             py::arg("endpoint_share") = defaults.endpoint_share,
             py::arg("time_half_life") = defaults.time_half_life,
             py::arg("decay_by_steps") = defaults.decay_by_steps,
             py::arg("first_share") = defaults.first_share,
             py::arg("last_share") = defaults.last_share)
        .def_readwrite("half_life", &jl::heuristic_options::half_life)
        .def_readwrite("endpoint_share", &jl::heuristic_options::endpoint_share)
        .def_readwrite("time_half_life", &jl::heuristic_options::time_half_life)
        .def_readwrite("decay_by_steps", &jl::heuristic_options::decay_by_steps)
        .def_readwrite("first_share", &jl::heuristic_options::first_share)
        .def_readwrite("last_share", &jl::heuristic_options::last_share);
    m.def(
        "heuristic_attribution",
        [](const jl::journey_set& js, const std::string& method,
           const jl::heuristic_options& options) {
            const auto h = jl::heuristic_from_string(method);
            py::gil_scoped_release release;
            return jl::heuristic_attribution(js, h, options);
        },
        py::arg("journeys"), py::arg("method"), py::arg("options") = jl::heuristic_options{},
        "Heuristic attribution of every row.");
    m.def("simplified_shapley",
          static_cast<jl::attribution (*)(const jl::journey_set&)>(&jl::simplified_shapley),
          py::arg("journeys"), py::call_guard<sigint_scope, py::gil_scoped_release>(),
          "The simplified Shapley value of Zhao et al. (2018) from the journeys.");
    m.def(
        "ordered_simplified_shapley",
        [](const jl::journey_set& js) {
            jl::ordered_attribution a;
            {
                py::gil_scoped_release release;
                a = jl::ordered_simplified_shapley(js);
            }
            py::dict d;
            d["names"] = a.names;
            d["positions"] = a.positions;
            d["conversions"] = to_numpy(a.conversions);
            d["value"] = to_numpy(a.value);
            return d;
        },
        py::arg("journeys"),
        "The ordered simplified Shapley value: {names, positions, conversions, value}, credit "
        "by channel and position (channel-major).");
    m.def("group_attribution", &jl::group_attribution, py::arg("attribution"), py::arg("group_of"),
          py::arg("extra_groups") = std::vector<std::string>{}, "Sums an attribution by group.");
}
