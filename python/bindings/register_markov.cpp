#include "arrays.hpp"
#include "register.hpp"

#include <journeyloop/markov_model.hpp>

#include <pybind11/stl.h>

#include <tuple>

namespace jl = journeyloop;

namespace {

// (from, to, count) of every stored transition, as numpy arrays.
py::tuple edges(const jl::transition_counts& c) {
    std::vector<jl::state_id> from, to;
    std::vector<double> w;
    for (jl::state_id s = 0; s < c.num_states(); ++s) {
        const auto t = c.targets(s);
        const auto ws = c.weights(s);
        for (std::size_t i = 0; i < t.size(); ++i) {
            from.push_back(s);
            to.push_back(t[i]);
            w.push_back(ws[i]);
        }
    }
    return py::make_tuple(to_numpy(from), to_numpy(to), to_numpy(w));
}

} // namespace

void register_markov(py::module_& m) {
    py::class_<jl::transition_counts>(m, "transition_counts")
        .def_property_readonly("order", &jl::transition_counts::order)
        .def_property_readonly("collapse_repeats", &jl::transition_counts::collapse_repeats)
        .def_property_readonly("num_states", &jl::transition_counts::num_states)
        .def_property_readonly("num_transitions", &jl::transition_counts::num_transitions)
        .def_property_readonly("channels",
                               [](const jl::transition_counts& c) { return c.channels().names(); })
        .def("state_label", &jl::transition_counts::state_label, py::arg("state"))
        .def("edges", &edges, "(from, to, count) arrays of the stored transitions.");

    m.def(
        "count_transitions",
        [](const jl::journey_set& js, std::size_t order, bool collapse_repeats,
           std::size_t max_states) {
            jl::counting_options o;
            o.order = order;
            o.collapse_repeats = collapse_repeats;
            o.max_states = max_states;
            return jl::count_transitions(js, o);
        },
        py::arg("journeys"), py::arg("order") = 1, py::arg("collapse_repeats") = true,
        py::arg("max_states") = jl::counting_options{}.max_states,
        py::call_guard<py::gil_scoped_release>(), "Order-k transition counts.");

    py::class_<jl::markov_model>(m, "markov_model")
        .def_property_readonly("counts", &jl::markov_model::counts,
                               py::return_value_policy::reference_internal)
        .def_property_readonly("conversion_rate", &jl::markov_model::conversion_rate)
        .def_property_readonly("value_per_journey", &jl::markov_model::value_per_journey)
        .def(
            "probabilities",
            [](const jl::markov_model& model) {
                const auto& P = model.transitions();
                std::vector<double> p;
                p.reserve(static_cast<std::size_t>(P.nonZeros()));
                // Row-major storage walks rows in the order of counts.edges().
                for (long s = 0; s < P.outerSize(); ++s)
                    for (jl::transition_matrix::InnerIterator it(P, s); it; ++it)
                        p.push_back(it.value());
                return to_numpy(p);
            },
            "Transition probabilities aligned with counts.edges().");

    m.def("fit_markov", &jl::fit_markov, py::arg("counts"),
          py::call_guard<py::gil_scoped_release>(), "Estimates and solves the Markov model.");
    m.def(
        "removal_effects",
        [](const jl::markov_model& model) {
            std::vector<jl::removal_effect> re;
            {
                py::gil_scoped_release release;
                re = jl::removal_effects(model);
            }
            std::vector<double> conv, value;
            for (const auto& e : re) {
                conv.push_back(e.conversions);
                value.push_back(e.value);
            }
            return py::make_tuple(to_numpy(conv), to_numpy(value));
        },
        py::arg("model"), "(conversions, value) removal effects per channel.");
    m.def(
        "group_removal_effect",
        [](const jl::markov_model& model, const std::vector<jl::channel_id>& group) {
            const auto e = jl::group_removal_effect(model, group);
            return py::make_tuple(e.conversions, e.value);
        },
        py::arg("model"), py::arg("group"), py::call_guard<py::gil_scoped_release>(),
        "(conversions, value) removal effect of channels removed at once.");
    m.def(
        "markov_attribution",
        [](const jl::markov_model& model,
           const std::optional<std::vector<std::string>>& group_of_channel,
           const std::vector<std::string>& extra_groups) {
            py::gil_scoped_release release;
            return group_of_channel
                       ? jl::markov_attribution(model, *group_of_channel, extra_groups)
                       : jl::markov_attribution(model);
        },
        py::arg("model"), py::arg("group_of_channel") = py::none(),
        py::arg("extra_groups") = std::vector<std::string>{}, "Markov attribution.");
}
