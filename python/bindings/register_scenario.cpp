#include "arrays.hpp"
#include "register.hpp"
#include "interrupt.hpp"

#include <journeyloop/scenario.hpp>

#include <pybind11/stl.h>

#include <string>
#include <utility>
#include <vector>

namespace jl = journeyloop;

namespace {

using pairs = std::vector<std::pair<std::string, std::string>>;
using weights = std::vector<std::pair<std::string, double>>;

// (from, to, probability, sensitivity, elasticity) arrays.
py::tuple sensitivity_tuple(const std::vector<jl::transition_sensitivity>& all) {
    std::vector<jl::state_id> from, to;
    std::vector<double> p, s, e;
    for (const auto& x : all) {
        from.push_back(x.from);
        to.push_back(x.to);
        p.push_back(x.probability);
        s.push_back(x.sensitivity);
        e.push_back(x.elasticity);
    }
    return py::make_tuple(to_numpy(from), to_numpy(to), to_numpy(p), to_numpy(s), to_numpy(e));
}

template <class Model>
void def_for(py::module_& m) {
    m.def(
        "apply_scenario",
        [](const Model& model, const jl::scenario& s, const jl::scenario_options& options) {
            return jl::apply_scenario(model, s, options);
        },
        py::arg("model"), py::arg("scenario"), py::arg("options"),
        py::call_guard<sigint_scope, py::gil_scoped_release>(),
        "The model changed by the scenario, solved exactly (a new fitted model).");
    m.def(
        "apply_scenarios",
        [](const Model& model, const std::vector<jl::scenario>& s,
           const jl::scenario_options& options) { return jl::apply_scenarios(model, s, options); },
        py::arg("model"), py::arg("scenarios"), py::arg("options"),
        py::call_guard<sigint_scope, py::gil_scoped_release>(),
        "apply_scenario for several scenarios, on up to options.threads threads.");
    m.def(
        "sensitivities",
        [](const Model& model) {
            std::vector<jl::transition_sensitivity> all;
            {
                py::gil_scoped_release release;
                all = jl::sensitivities(model);
            }
            return sensitivity_tuple(all);
        },
        py::arg("model"),
        "(from, to, probability, sensitivity, elasticity) arrays of every transition.");
}

} // namespace

void register_scenario(py::module_& m) {
    py::class_<jl::scenario>(m, "scenario")
        .def(py::init<std::string>(), py::arg("name") = std::string())
        .def_property_readonly("name", &jl::scenario::name)
        .def_property_readonly("num_changes",
                               [](const jl::scenario& s) { return s.changes().size(); })
        .def(
            "remove", [](jl::scenario& s, std::vector<std::string> names) { s.remove(names); },
            py::arg("names"))
        .def(
            "scale",
            [](jl::scenario& s, std::string from, std::string to, double factor) {
                s.scale(std::move(from), std::move(to), factor);
            },
            py::arg("from_"), py::arg("to"), py::arg("factor"))
        .def(
            "set",
            [](jl::scenario& s, std::string from, std::string to, double p) {
                s.set(std::move(from), std::move(to), p);
            },
            py::arg("from_"), py::arg("to"), py::arg("probability"))
        .def(
            "redirect",
            [](jl::scenario& s, std::string from, std::string to, double share) {
                s.redirect(std::move(from), std::move(to), share);
            },
            py::arg("from_"), py::arg("to"), py::arg("share"))
        .def(
            "add_channel",
            [](jl::scenario& s, std::string name, weights inbound, weights outbound, double value) {
                s.add_channel(std::move(name), std::move(inbound), std::move(outbound), value);
            },
            py::arg("name"), py::arg("inbound"), py::arg("outbound"), py::arg("value"))
        .def(
            "scale_value",
            [](jl::scenario& s, double factor, std::string channel) {
                s.scale_value(factor, std::move(channel));
            },
            py::arg("factor"), py::arg("channel"))
        .def(
            "set_value",
            [](jl::scenario& s, double value, std::string channel) {
                s.set_value(value, std::move(channel));
            },
            py::arg("value"), py::arg("channel"));

    py::class_<jl::scenario_options>(m, "scenario_options")
        .def(py::init([](pairs teams, std::size_t threads) {
                 jl::scenario_options o;
                 o.teams = std::move(teams);
                 o.threads = threads;
                 return o;
             }),
             py::kw_only(), py::arg("teams") = pairs{}, py::arg("threads") = 0)
        .def_readwrite("teams", &jl::scenario_options::teams)
        .def_readwrite("threads", &jl::scenario_options::threads);

    def_for<jl::markov_model>(m);
    def_for<jl::loop_model>(m);
}
