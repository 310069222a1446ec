#include "arrays.hpp"
#include "register.hpp"

#include <journeyloop/loop_model.hpp>

#include <pybind11/stl.h>

#include <string>
#include <string_view>
#include <vector>

namespace jl = journeyloop;

namespace {

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
        .def_readonly("first", &jl::loop_counts::first)
        .def_readonly("repeat", &jl::loop_counts::repeat)
        .def_readonly("customers", &jl::loop_counts::customers)
        .def_readonly("purchases", &jl::loop_counts::purchases)
        .def_readonly("value", &jl::loop_counts::value)
        .def_readonly("buyers", &jl::loop_counts::buyers)
        .def_readonly("repeat_purchases", &jl::loop_counts::repeat_purchases);
    m.def(
        "count_loop_transitions",
        [](const jl::loop_histories& js, std::size_t order, bool collapse_repeats,
           std::size_t max_states) {
            jl::counting_options o;
            o.order = order;
            o.collapse_repeats = collapse_repeats;
            o.max_states = max_states;
            py::gil_scoped_release release;
            return jl::count_loop_transitions(js, o);
        },
        py::arg("histories"), py::arg("order"), py::arg("collapse_repeats"),
        py::arg("max_states"), "Counts of the two views of the loop chain.");

    py::class_<jl::loop_model>(m, "loop_model")
        .def_readonly("first", &jl::loop_model::first)
        .def_readonly("repeat", &jl::loop_model::repeat)
        .def_readonly("customers", &jl::loop_model::customers)
        .def_readonly("purchases", &jl::loop_model::purchases)
        .def_readonly("value", &jl::loop_model::value)
        .def_readonly("buyers", &jl::loop_model::buyers)
        .def_readonly("repeat_purchases", &jl::loop_model::repeat_purchases);
    m.def(
        "fit_loop",
        [](const jl::loop_counts& counts, double smoothing) {
            jl::markov_options o;
            o.smoothing = smoothing;
            py::gil_scoped_release release;
            return jl::fit_loop(counts, o);
        },
        py::arg("counts"), py::arg("smoothing") = 0.0, "Fits both views of the loop chain.");
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
