#include "arrays.hpp"
#include "register.hpp"

#include <journeyloop/attribution.hpp>

#include <pybind11/stl.h>

namespace jl = journeyloop;

void register_attribution(py::module_& m) {
    py::class_<jl::attribution>(m, "attribution")
        .def_readonly("names", &jl::attribution::names)
        .def_property_readonly("conversions",
                               [](const jl::attribution& a) { return to_numpy(a.conversions); })
        .def_property_readonly("value", [](const jl::attribution& a) { return to_numpy(a.value); })
        .def_property_readonly(
            "shares",
            [](const jl::attribution& a) {
                std::vector<double> out;
                out.reserve(a.conversions.size());
                for (std::size_t i = 0; i < a.conversions.size(); ++i) out.push_back(a.share(i));
                return to_numpy(out);
            },
            "Share of the conversions credited to each name (0 if there are none).");

    m.def("heuristic_names", [] {
        std::vector<std::string> out;
        for (auto h : {jl::heuristic::first_touch, jl::heuristic::last_touch, jl::heuristic::linear,
                       jl::heuristic::position_based, jl::heuristic::time_decay})
            out.emplace_back(jl::to_string(h));
        return out;
    });
    m.def(
        "heuristic_attribution",
        [](const jl::journey_set& js, const std::string& method, double half_life,
           double endpoint_share, std::optional<double> time_half_life, bool decay_by_steps) {
            const auto h = jl::heuristic_from_string(method);
            jl::heuristic_options o;
            o.half_life = half_life;
            o.endpoint_share = endpoint_share;
            o.time_half_life = time_half_life;
            o.decay_by_steps = decay_by_steps;
            py::gil_scoped_release release;
            return jl::heuristic_attribution(js, h, o);
        },
        py::arg("journeys"), py::arg("method"), py::arg("half_life") = 1.0,
        py::arg("endpoint_share") = 0.4, py::arg("time_half_life") = py::none(),
        py::arg("decay_by_steps") = false, "Heuristic attribution of every row.");
    m.def("group_attribution", &jl::group_attribution, py::arg("attribution"),
          py::arg("group_of"), py::arg("extra_groups") = std::vector<std::string>{},
          "Sums an attribution by group.");
}
