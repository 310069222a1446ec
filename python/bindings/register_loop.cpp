#include "arrays.hpp"
#include "model_helpers.hpp"
#include "register.hpp"
#include "interrupt.hpp"
#include "progress.hpp"

#include <journeyloop/journey_graph.hpp>
#include <journeyloop/loop_model.hpp>
#include <journeyloop/model_io.hpp>

#include <pybind11/stl.h>

#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace jl = journeyloop;

namespace {

using pairs = std::vector<std::pair<std::string, std::string>>;

py::dict summary_dict(const jl::loop_model& m) {
    jl::loop_summary s;
    {
        py::gil_scoped_release release;
        s = jl::summarize(m);
    }
    py::dict d;
    d["expected_purchases"] = s.expected_purchases;
    d["expected_value"] = s.expected_value;
    d["first_purchase_probability"] = s.first_purchase_probability;
    d["repeat_probability"] = s.repeat_probability;
    d["touches_to_first_purchase"] = s.touches_to_first_purchase;
    d["touches_between_purchases"] = s.touches_between_purchases;
    return d;
}

// Columns purchases, value, first_purchases, repeat_purchases of the removal
// effects of each group.
py::dict effects(const jl::loop_model& m, const std::vector<std::vector<jl::channel_id>>& groups) {
    std::vector<jl::loop_removal_effect> e;
    const sigint_scope interruptible;
    {
        py::gil_scoped_release release;
        e = jl::loop_removal_effects(m, groups);
    }
    std::vector<double> purchases, value, first, repeat;
    for (const auto& x : e) {
        purchases.push_back(x.purchases);
        value.push_back(x.value);
        first.push_back(x.first_purchases);
        repeat.push_back(x.repeat_purchases);
    }
    py::dict d;
    d["purchases"] = to_numpy(purchases);
    d["value"] = to_numpy(value);
    d["first_purchases"] = to_numpy(first);
    d["repeat_purchases"] = to_numpy(repeat);
    return d;
}

} // namespace

void register_loop(py::module_& m) {
    py::class_<jl::loop_counts>(m, "loop_counts")
        .def(py::init([](jl::transition_counts first, std::optional<jl::transition_counts> repeat,
                         double customers, double purchases, double value, double buyers,
                         double repeat_purchases) {
                 return jl::loop_counts{
                     std::move(first), std::move(repeat), customers, purchases, value,
                     buyers,           repeat_purchases};
             }),
             py::arg("first"), py::arg("repeat"), py::arg("customers"), py::arg("purchases"),
             py::arg("value"), py::arg("buyers"), py::arg("repeat_purchases"),
             "Loop counts from their parts (checked when fitted).")
        .def_readonly("first", &jl::loop_counts::first)
        .def_readonly("repeat", &jl::loop_counts::repeat)
        .def_readonly("customers", &jl::loop_counts::customers)
        .def_readonly("purchases", &jl::loop_counts::purchases)
        .def_readonly("value", &jl::loop_counts::value)
        .def_readonly("buyers", &jl::loop_counts::buyers)
        .def_readonly("repeat_purchases", &jl::loop_counts::repeat_purchases);
    m.def(
        "count_loop_transitions",
        [](const jl::loop_histories& js, const jl::counting_options& options,
           const std::optional<py::function>& progress) {
            const sigint_scope interruptible;
            const auto callback = progress_of(progress);
            py::gil_scoped_release release;
            return jl::count_loop_transitions(js, options, callback);
        },
        py::arg("histories"), py::arg("options"), py::arg("progress") = py::none(),
        "Counts of the two views of the loop chain; progress(histories counted, histories).");

    m.def(
        "merge_loop_counts",
        [](const jl::loop_counts& a, const jl::loop_counts& b) { return jl::merge(a, b); },
        py::arg("a"), py::arg("b"), py::call_guard<py::gil_scoped_release>(),
        "The loop counts of the union of the histories behind a and b.");

    py::class_<jl::loop_model>(m, "loop_model")
        .def_property_readonly("first", &jl::loop_model::first,
                               py::return_value_policy::reference_internal)
        .def_property_readonly(
            "repeat",
            [](const jl::loop_model& model) -> std::optional<const jl::markov_model*> {
                // A reference into the model (no copy of its counts), or None.
                if (!model.repeat()) return std::nullopt;
                return &*model.repeat();
            },
            py::return_value_policy::reference_internal)
        .def_property_readonly("options", &jl::loop_model::options)
        .def_property_readonly(
            "smoothing", [](const jl::loop_model& model) { return model.options().smoothing; })
        .def_property_readonly("order", &jl::loop_model::order)
        .def_property_readonly(
            "collapse_repeats",
            [](const jl::loop_model& model) { return model.first().counts().collapse_repeats(); })
        .def_property_readonly("channels",
                               [](const jl::loop_model& model) { return model.channels().names(); })
        .def_property_readonly("num_states", &jl::loop_model::num_states)
        .def_property_readonly("customers", &jl::loop_model::customers)
        .def_property_readonly("purchases", &jl::loop_model::purchases)
        .def_property_readonly("value", &jl::loop_model::value)
        .def_property_readonly("buyers", &jl::loop_model::buyers)
        .def_property_readonly("repeat_purchases", &jl::loop_model::repeat_purchases)
        .def(
            "state_labels",
            [](const jl::loop_model& model) {
                std::vector<std::string> out;
                for (jl::state_id s = 0; s < model.num_states(); ++s)
                    out.push_back(model.state_label(s));
                return out;
            },
            "Labels of every state, by id (START, PURCHASE, END, channel states).")
        .def(
            "transitions",
            [](const jl::loop_model& model) {
                std::vector<jl::loop_transition> t;
                {
                    py::gil_scoped_release release;
                    t = model.transitions();
                }
                std::vector<jl::state_id> from, to;
                std::vector<double> count, probability;
                for (const auto& x : t) {
                    from.push_back(x.from);
                    to.push_back(x.to);
                    count.push_back(x.count);
                    probability.push_back(x.probability);
                }
                return py::make_tuple(to_numpy(from), to_numpy(to), to_numpy(count),
                                      to_numpy(probability));
            },
            "(from, to, count, probability) arrays of the loop chain's transitions.")
        .def(
            "purchase_probabilities",
            [](const jl::loop_model& model) { return to_numpy(model.purchase_probabilities()); },
            "P(PURCHASE, again) from every state, by state id.")
        .def(
            "expected_visits",
            [](const jl::loop_model& model) { return to_numpy(model.expected_visits()); },
            "Expected visits of a customer from START, by state id.")
        .def("to_bytes", &model_bytes<jl::loop_model, jl::loop_holding_times>,
             py::arg("teams") = py::none(), py::arg("stages") = py::none(),
             py::arg("max_states") = py::none(), py::arg("holding") = nullptr,
             "The loop model in journeyloop's file format, with the metadata given.")
        .def_static(
            "from_bytes_with_metadata",
            [](const py::bytes& b) {
                const std::string s = b;
                std::optional<jl::stored_loop_model> stored;
                {
                    py::gil_scoped_release release;
                    stored.emplace(jl::loop_model_from_bytes(s));
                }
                return stored_tuple(std::move(*stored));
            },
            py::arg("data"),
            "(loop model, metadata) from journeyloop's file format (validated, solved).");
    m.def(
        "fit_loop",
        [](const jl::loop_counts& counts, const jl::markov_options& options,
           const std::optional<py::function>& progress) {
            const sigint_scope interruptible;
            const auto callback = progress_of(progress);
            py::gil_scoped_release release;
            return jl::fit_loop(counts, options, callback);
        },
        py::arg("counts"), py::arg("options") = jl::markov_options{},
        py::arg("progress") = py::none(),
        "Fits both views of the loop chain; progress(states solved, states of both views).");

    py::class_<jl::loop_attribution, jl::attribution>(m, "loop_attribution")
        .def_property_readonly(
            "first_purchases",
            [](const jl::loop_attribution& a) { return to_numpy(a.first_purchases()); })
        .def_property_readonly("repeat_purchases", [](const jl::loop_attribution& a) {
            return to_numpy(a.repeat_purchases());
        });
    m.def("loop_markov_attribution", &jl::loop_markov_attribution, py::arg("model"),
          py::arg("names"), py::arg("groups"),
          py::call_guard<sigint_scope, py::gil_scoped_release>(),
          "Markov attribution of purchases, value, first and repeat purchases between groups.");
    def_graph_functions<jl::loop_model>(
        m, {"Exact Shapley attribution of a loop model (v(S): expected purchases per customer).",
            "The loop chain in DOT.", "The loop chain in GraphML.",
            "The n most probable paths to the first purchase, and whether the search stopped."});
    m.def("loop_summary", &summary_dict, py::arg("model"), "Headline figures per customer.");
    m.def("loop_removal_effects", &effects, py::arg("model"), py::arg("groups"),
          "Removal effects of channel groups on purchases, value, first and repeat purchases.");
    m.def(
        "loyalty_loop_rate",
        [](const jl::loop_model& model, const std::vector<jl::channel_id>& avoided) {
            py::gil_scoped_release release;
            return jl::loyalty_loop_rate(model, avoided);
        },
        py::arg("model"), py::arg("avoided"),
        "Probability of purchasing again without touching the avoided channels.");
}
