// Markov Shapley values (exact and sampled) of both models, and removal
// effects under a removal rule.
#include "interrupt.hpp"
#include "progress.hpp"
#include "arrays.hpp"
#include "register.hpp"

#include <journeyloop/errors.hpp>
#include <journeyloop/shapley.hpp>

#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

namespace jl = journeyloop;

namespace {

jl::removal_rule rule_of(const std::string& rule) {
    if (rule == "null") return jl::removal_rule::null;
    if (rule == "skip") return jl::removal_rule::skip;
    throw jl::invalid_input("rule must be \"null\" or \"skip\", got '" + rule + "'");
}

const char* method_name(jl::shapley_method m) {
    switch (m) {
    case jl::shapley_method::exact: return "exact";
    case jl::shapley_method::sampled: return "sampled";
    default: return "auto";
    }
}

py::tuple effects_tuple(const std::vector<jl::removal_effect>& effects) {
    std::vector<double> conv, value;
    for (const auto& e : effects) {
        conv.push_back(e.conversions);
        value.push_back(e.value);
    }
    return py::make_tuple(to_numpy(conv), to_numpy(value));
}

py::dict result_dict(const jl::shapley_result& r) {
    py::dict d;
    d["names"] = r.names;
    d["conversions"] = to_numpy(r.conversions);
    d["value"] = to_numpy(r.value);
    double total = 0;
    for (double c : r.conversions) total += c;
    std::vector<double> share;
    for (double c : r.conversions) share.push_back(total > 0 ? c / total : 0.0);
    d["share"] = to_numpy(share);
    d["conversions_se"] = to_numpy(r.conversions_se);
    d["value_se"] = to_numpy(r.value_se);
    d["first_purchases"] = to_numpy(r.first_purchases);
    d["repeat_purchases"] = to_numpy(r.repeat_purchases);
    d["first_purchases_se"] = to_numpy(r.first_purchases_se);
    d["repeat_purchases_se"] = to_numpy(r.repeat_purchases_se);
    d["sampled"] = r.sampled;
    d["permutations"] = r.permutations;
    return d;
}

template <class Model>
void def_shapley_values(py::module_& m) {
    m.def(
        "shapley_values",
        [](const Model& model, const std::vector<std::string>& names,
           const std::vector<std::vector<jl::channel_id>>& players, jl::shapley_options options,
           const std::optional<py::function>& progress) {
            const sigint_scope interruptible;
            options.progress = progress_of(progress);
            jl::shapley_result r;
            {
                py::gil_scoped_release release;
                r = jl::shapley_values(model, names, players, options);
            }
            return result_dict(r);
        },
        py::arg("model"), py::arg("names"), py::arg("players"), py::arg("options"),
        py::arg("progress") = py::none(),
        "Shapley values scaled to the totals, exact or sampled: {names, conversions, value, "
        "first_purchases, repeat_purchases (loop), their *_se, sampled, permutations}.");
}

} // namespace

void register_shapley(py::module_& m) {
    m.attr("auto_exact_players") = jl::auto_exact_players;
    py::class_<jl::shapley_options>(m, "shapley_options")
        .def(py::init([](const std::string& method, std::size_t exact_limit,
                         std::size_t permutations, std::uint64_t seed, std::size_t threads,
                         std::size_t dense_limit) {
                 jl::shapley_options o;
                 if (method == "auto") o.method = jl::shapley_method::automatic;
                 else if (method == "exact") o.method = jl::shapley_method::exact;
                 else if (method == "sampled") o.method = jl::shapley_method::sampled;
                 else
                     throw jl::invalid_input(
                         "method must be \"auto\", \"exact\" or \"sampled\", got '" + method + "'");
                 o.exact_limit = exact_limit;
                 o.permutations = permutations;
                 o.seed = seed;
                 o.threads = threads;
                 o.dense_limit = dense_limit;
                 return o;
             }),
             py::kw_only(), py::arg("method") = "auto",
             py::arg("exact_limit") = jl::auto_exact_players, py::arg("permutations") = 1000,
             py::arg("seed") = 0, py::arg("threads") = 0, py::arg("dense_limit") = 3000)
        .def_property_readonly("method",
                               [](const jl::shapley_options& o) { return method_name(o.method); })
        .def_readonly("exact_limit", &jl::shapley_options::exact_limit)
        .def_readonly("permutations", &jl::shapley_options::permutations)
        .def_readonly("seed", &jl::shapley_options::seed)
        .def_readonly("threads", &jl::shapley_options::threads)
        .def_readonly("dense_limit", &jl::shapley_options::dense_limit);
    def_shapley_values<jl::markov_model>(m);
    def_shapley_values<jl::loop_model>(m);
    m.def(
        "rule_group_removal_effects",
        [](const jl::markov_model& model, const std::vector<std::vector<jl::channel_id>>& groups,
           const std::string& rule, const std::optional<py::function>& progress) {
            const auto r = rule_of(rule);
            const sigint_scope interruptible;
            const auto callback = progress_of(progress);
            std::vector<jl::removal_effect> e;
            {
                py::gil_scoped_release release;
                e = jl::group_removal_effects(model, groups, r, callback);
            }
            return effects_tuple(e);
        },
        py::arg("model"), py::arg("groups"), py::arg("rule"), py::arg("progress") = py::none(),
        "(conversions, value) removal effects of several groups under a removal rule "
        "(\"null\" or \"skip\").");
    m.def(
        "rule_state_removal_effects",
        [](const jl::markov_model& model, const std::vector<jl::state_id>& states,
           const std::string& rule, const std::optional<py::function>& progress) {
            const auto r = rule_of(rule);
            const sigint_scope interruptible;
            const auto callback = progress_of(progress);
            std::vector<jl::removal_effect> e;
            {
                py::gil_scoped_release release;
                e = jl::state_removal_effects(model, states, r, callback);
            }
            return effects_tuple(e);
        },
        py::arg("model"), py::arg("states"), py::arg("rule"), py::arg("progress") = py::none(),
        "(conversions, value) removal effects of several states under a removal rule.");
    m.def(
        "rule_group_markov_attribution",
        [](const jl::markov_model& model, const std::vector<std::string>& names,
           const std::vector<std::vector<jl::channel_id>>& groups, const std::string& rule,
           const std::optional<py::function>& progress) {
            const auto r = rule_of(rule);
            const sigint_scope interruptible;
            const auto callback = progress_of(progress);
            py::gil_scoped_release release;
            return jl::group_markov_attribution(model, names, groups, r, callback);
        },
        py::arg("model"), py::arg("names"), py::arg("groups"), py::arg("rule"),
        py::arg("progress") = py::none(), "Markov attribution of groups under a removal rule.");
    m.def(
        "rule_state_markov_attribution",
        [](const jl::markov_model& model, const std::vector<jl::state_id>& states,
           const std::string& rule, const std::optional<py::function>& progress) {
            const auto r = rule_of(rule);
            const sigint_scope interruptible;
            const auto callback = progress_of(progress);
            py::gil_scoped_release release;
            return jl::state_markov_attribution(model, states, r, callback);
        },
        py::arg("model"), py::arg("states"), py::arg("rule"), py::arg("progress") = py::none(),
        "Markov attribution of states under a removal rule.");
    m.def(
        "rule_loop_markov_attribution",
        [](const jl::loop_model& model, const std::vector<std::string>& names,
           const std::vector<std::vector<jl::channel_id>>& groups, const std::string& rule) {
            const auto r = rule_of(rule);
            py::gil_scoped_release release;
            return jl::loop_markov_attribution(model, names, groups, r);
        },
        py::arg("model"), py::arg("names"), py::arg("groups"), py::arg("rule"),
        "Markov attribution of a loop model under a removal rule.");
    m.def(
        "rule_loop_removal_effects",
        [](const jl::loop_model& model, const std::vector<std::vector<jl::channel_id>>& groups,
           const std::string& rule) {
            const auto r = rule_of(rule);
            std::vector<jl::loop_removal_effect> e;
            {
                py::gil_scoped_release release;
                e = jl::loop_removal_effects(model, groups, r);
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
        },
        py::arg("model"), py::arg("groups"), py::arg("rule"),
        "Loop removal effects (purchases, value, first_purchases, repeat_purchases) under a "
        "removal rule.");
}
