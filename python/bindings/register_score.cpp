#include "arrays.hpp"
#include "register.hpp"

#include <journeyloop/errors.hpp>
#include <journeyloop/score.hpp>

#include <pybind11/stl.h>

#include <string>
#include <vector>

namespace jl = journeyloop;

namespace {

std::vector<std::uint8_t> status_codes(const std::vector<jl::score_status>& s) {
    std::vector<std::uint8_t> out(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) out[i] = static_cast<std::uint8_t>(s[i]);
    return out;
}

// The columns of journey_scores as numpy arrays (the loop ones only for a
// loop model), the labels and the counts.
py::dict scores_dict(const jl::journey_scores& s) {
    py::dict d;
    d["probability"] = to_numpy(s.probability);
    d["expected_value"] = to_numpy(s.expected_value);
    d["status"] = to_numpy(status_codes(s.status));
    d["matched"] = to_numpy(s.matched);
    d["key"] = to_numpy(s.key);
    d["labels"] = s.labels;
    d["exact"] = s.exact;
    d["backed_off"] = s.backed_off;
    d["unknown"] = s.unknown;
    if (!s.repeat.empty() || !s.expected_purchases.empty()) {
        d["repeat"] = to_numpy(s.repeat);
        d["expected_purchases"] = to_numpy(s.expected_purchases);
        d["future_value"] = to_numpy(s.future_value);
    }
    return d;
}

py::dict touches_dict(const jl::touch_scores& t) {
    py::dict d;
    d["journeys"] = t.journeys;
    d["groups"] = t.groups;
    d["current"] = scores_dict(t.current);
    d["channel"] = to_numpy(t.channel);
    d["probability"] = to_numpy(t.probability);
    d["expected_value"] = to_numpy(t.expected_value);
    d["gain"] = to_numpy(t.gain);
    d["value_gain"] = to_numpy(t.value_gain);
    d["status"] = to_numpy(status_codes(t.status));
    d["best"] = to_numpy(t.best);
    return d;
}

template <class Model, class Open>
void def_scoring(py::module_& m) {
    m.def(
        "score_journeys",
        [](const Model& model, const Open& open, const jl::score_options& options) {
            jl::journey_scores s;
            {
                py::gil_scoped_release release;
                s = jl::score_journeys(model, open, options);
            }
            return scores_dict(s);
        },
        py::arg("model"), py::arg("open"), py::arg("options"),
        "Scores of open journeys: {probability, expected_value, status, matched, key: arrays; "
        "labels; exact, backed_off, unknown: counts; loop: repeat, expected_purchases, "
        "future_value}.");
    m.def(
        "next_touch",
        [](const Model& model, const Open& open,
           const std::vector<std::vector<jl::channel_id>>& groups,
           const jl::score_options& options) {
            jl::touch_scores t;
            {
                py::gil_scoped_release release;
                t = jl::next_touch(model, open, groups, options);
            }
            return touches_dict(t);
        },
        py::arg("model"), py::arg("open"), py::arg("groups"), py::arg("options"),
        "Every open journey after one more touch of each group's best channel: {journeys, "
        "groups, current (as score_journeys), channel, probability, expected_value, gain, "
        "value_gain, status (journeys x groups, row-major; with options.best_only one entry a "
        "journey, its best group's), best (per journey)}.");
}

} // namespace

void register_score(py::module_& m) {
    py::class_<jl::score_options>(m, "score_options")
        .def(py::init([](const std::string& unknown, const std::string& purchase,
                         std::size_t threads, bool best_only) {
                 jl::score_options o;
                 if (unknown == "start") o.unknown = jl::unknown_rule::start;
                 else if (unknown == "nan") o.unknown = jl::unknown_rule::nan;
                 else
                     throw jl::invalid_input("unknown must be \"start\" or \"nan\", got '" +
                                             unknown + "'");
                 o.purchase = purchase;
                 o.threads = threads;
                 o.best_only = best_only;
                 return o;
             }),
             py::kw_only(), py::arg("unknown") = "start", py::arg("purchase") = "purchase",
             py::arg("threads") = 0, py::arg("best_only") = false)
        .def_property_readonly("unknown",
                               [](const jl::score_options& o) {
                                   return o.unknown == jl::unknown_rule::nan ? "nan" : "start";
                               })
        .def_readonly("purchase", &jl::score_options::purchase)
        .def_readonly("threads", &jl::score_options::threads)
        .def_readonly("best_only", &jl::score_options::best_only);
    def_scoring<jl::markov_model, jl::journey_set>(m);
    def_scoring<jl::loop_model, jl::loop_histories>(m);
    def_scoring<jl::loop_model, jl::journey_set>(m);
}
