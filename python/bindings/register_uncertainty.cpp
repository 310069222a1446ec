// Bootstrap and Bayesian replicates: the statistics the Python layer asks
// for, each computed in C++ on every replicate.
#include "interrupt.hpp"
#include "progress.hpp"
#include "register.hpp"

#include <journeyloop/attribution.hpp>
#include <journeyloop/loop_model.hpp>
#include <journeyloop/markov_model.hpp>
#include <journeyloop/order_selection.hpp>
#include <journeyloop/shapley.hpp>
#include <journeyloop/uncertainty.hpp>

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace jl = journeyloop;

namespace {

py::array_t<double> to_matrix(const jl::replicate_table& t) {
    py::array_t<double> out({t.replicates, t.width});
    if (!t.values.empty())
        std::memcpy(out.mutable_data(), t.values.data(), t.values.size() * sizeof(double));
    return out;
}

jl::replicate_options options_of(const std::string& method, std::size_t replicates,
                                 std::uint64_t seed, double prior, std::size_t threads) {
    jl::replicate_options o;
    o.method = jl::uncertainty_method_from_string(method);
    o.replicates = replicates;
    o.seed = seed;
    o.prior = prior;
    o.threads = threads;
    return o;
}

// An attribution's conversions then values, each share of the replicate's
// totals put on the observed totals: what is divided is the observed
// conversions and value.
void append_shares(std::vector<double>& out, const jl::attribution& a, double conversions,
                   double value) {
    const double tc = a.total_conversions(), tv = a.total_value();
    for (double c : a.conversions()) out.push_back(tc > 0 ? c / tc * conversions : 0.0);
    for (double v : a.value()) out.push_back(tv > 0 ? v / tv * value : 0.0);
}

// The statistic `kind` of a replicate model (see markov_replicates' doc).
jl::removal_rule rule_of(const std::string& rule) {
    if (rule == "null") return jl::removal_rule::null;
    if (rule == "skip") return jl::removal_rule::skip;
    throw jl::invalid_input("rule must be \"null\" or \"skip\", got '" + rule + "'");
}

jl::model_statistic markov_statistic(const std::string& kind, const jl::markov_model& observed,
                                     const std::vector<std::string>& names,
                                     const std::vector<std::vector<jl::channel_id>>& groups,
                                     jl::removal_rule rule) {
    const double conversions = observed.counts().total_conversions();
    const double value = observed.counts().total_value();
    if (kind == "summary")
        return [](const jl::markov_model& m) {
            return std::vector<double>{m.conversion_rate(), m.value_per_journey()};
        };
    if (kind == "removal")
        return [groups, rule](const jl::markov_model& m) {
            const auto re = jl::group_removal_effects(m, groups, rule);
            std::vector<double> out;
            for (const auto& e : re) out.push_back(e.conversions);
            for (const auto& e : re) out.push_back(e.value);
            return out;
        };
    if (kind == "attribution")
        return [names, groups, conversions, value, rule](const jl::markov_model& m) {
            std::vector<double> out;
            append_shares(out, jl::group_markov_attribution(m, names, groups, rule), conversions,
                          value);
            return out;
        };
    if (kind == "shapley")
        return [names, groups, conversions, value](const jl::markov_model& m) {
            std::vector<double> out;
            append_shares(out, jl::shapley_attribution(m, names, groups), conversions, value);
            return out;
        };
    throw jl::invalid_input("statistic: '" + kind +
                            "' is not one of summary, removal, attribution, shapley");
}

// The statistic `kind` of a replicate loop model (see loop_replicates' doc).
jl::loop_statistic loop_statistic_of(const std::string& kind, const jl::loop_model& observed,
                                     const std::vector<std::string>& names,
                                     const std::vector<std::vector<jl::channel_id>>& groups,
                                     jl::removal_rule rule) {
    const double purchases = observed.purchases(), value = observed.value();
    const double buyers = observed.buyers(), repeats = observed.repeat_purchases();
    if (kind == "summary")
        return [](const jl::loop_model& m) {
            const auto s = jl::summarize(m);
            return std::vector<double>{s.expected_purchases, s.expected_value,
                                       s.first_purchase_probability, s.repeat_probability};
        };
    if (kind == "removal")
        return [groups, rule](const jl::loop_model& m) {
            const auto re = jl::loop_removal_effects(m, groups, rule);
            std::vector<double> out;
            for (const auto& e : re) out.push_back(e.purchases);
            for (const auto& e : re) out.push_back(e.value);
            for (const auto& e : re) out.push_back(e.first_purchases);
            for (const auto& e : re) out.push_back(e.repeat_purchases);
            return out;
        };
    if (kind == "attribution")
        return [=](const jl::loop_model& m) {
            const auto a = jl::loop_markov_attribution(m, names, groups, rule);
            std::vector<double> out;
            append_shares(out, a, purchases, value);
            auto shares = [&out](const std::vector<double>& x, double total) {
                double sum = 0;
                for (double v : x) sum += v;
                for (double v : x) out.push_back(sum > 0 ? v / sum * total : 0.0);
            };
            shares(a.first_purchases(), buyers);
            shares(a.repeat_purchases(), repeats);
            return out;
        };
    if (kind == "shapley")
        return [names, groups, purchases, value](const jl::loop_model& m) {
            std::vector<double> out;
            append_shares(out, jl::shapley_attribution(m, names, groups), purchases, value);
            return out;
        };
    throw jl::invalid_input("statistic: '" + kind +
                            "' is not one of summary, removal, attribution, shapley");
}

} // namespace

void register_uncertainty(py::module_& m) {
    py::class_<jl::replicate_plan>(m, "replicate_plan",
                                   "The journeys' states and transitions looked up once, so that "
                                   "a bootstrap replicate only reweights them.")
        .def_property_readonly("units", &jl::replicate_plan::units)
        .def_property_readonly("by_customer", &jl::replicate_plan::by_customer);
    m.def("make_replicate_plan", &jl::make_replicate_plan, py::arg("journeys"),
          py::arg("options") = jl::counting_options{},
          py::call_guard<sigint_scope, py::gil_scoped_release>(),
          "The replicate plan of the journeys counted with the options.");
    m.def(
        "markov_replicates",
        [](const jl::markov_model& model, const jl::replicate_plan* plan, const std::string& kind,
           const std::vector<std::string>& names,
           const std::vector<std::vector<jl::channel_id>>& groups, const std::string& method,
           std::size_t replicates, std::uint64_t seed, double prior, std::size_t threads,
           const std::optional<py::function>& progress, std::size_t min_count,
           const std::string& rule) {
            const auto options = options_of(method, replicates, seed, prior, threads);
            const auto statistic = markov_statistic(kind, model, names, groups, rule_of(rule));
            const sigint_scope interruptible;
            const auto callback = progress_of(progress);
            jl::replicate_table t;
            {
                py::gil_scoped_release release;
                if (options.method == jl::uncertainty_method::bayes || plan == nullptr)
                    t = jl::replicate_markov(model.counts(), model.options(), options, statistic,
                                             callback);
                else if (min_count > 0)
                    // The back-off is part of the fit: each replicate decides its own.
                    t = jl::replicate_rows(
                        *plan, options,
                        [&](const std::vector<double>& wc, const std::vector<double>& wn) {
                            return statistic(
                                jl::fit_markov(jl::back_off(plan->reweighted(wc, wn), min_count),
                                               model.options()));
                        },
                        callback);
                else t = jl::replicate_markov(*plan, model.options(), options, statistic, callback);
            }
            return to_matrix(t);
        },
        py::arg("model"), py::arg("plan"), py::arg("kind"), py::arg("names"), py::arg("groups"),
        py::arg("method"), py::arg("replicates"), py::arg("seed"), py::arg("prior"),
        py::arg("threads") = 0, py::arg("progress") = py::none(), py::arg("min_count") = 0,
        py::arg("rule") = "null",
        "Replicates x figures: kind 'summary' (conversion rate, value per journey), 'removal' "
        "(conversion removal effects of the groups, then value ones), 'attribution' or 'shapley' "
        "(conversions of the groups, then value, as shares of each replicate's totals put on the "
        "observed totals). The plan is needed for the bootstrap; min_count > 0 backs each "
        "bootstrap "
        "replicate's counts off (back_off) before fitting.");
    py::class_<jl::loop_replicate_plan>(m, "loop_replicate_plan",
                                        "The histories' additions to the loop counts logged once, "
                                        "so that a bootstrap replicate only reweights them.")
        .def_property_readonly("units", &jl::loop_replicate_plan::units);
    m.def("make_loop_replicate_plan", &jl::make_loop_replicate_plan, py::arg("histories"),
          py::arg("options") = jl::counting_options{},
          py::call_guard<sigint_scope, py::gil_scoped_release>(),
          "The replicate plan of the loop histories counted with the options.");
    m.def(
        "loop_replicates",
        [](const jl::loop_model& model, const jl::loop_replicate_plan* plan,
           const std::string& kind, const std::vector<std::string>& names,
           const std::vector<std::vector<jl::channel_id>>& groups, const std::string& method,
           std::size_t replicates, std::uint64_t seed, double prior, std::size_t threads,
           const std::optional<py::function>& progress, const std::string& rule) {
            const auto options = options_of(method, replicates, seed, prior, threads);
            const auto statistic = loop_statistic_of(kind, model, names, groups, rule_of(rule));
            const sigint_scope interruptible;
            const auto callback = progress_of(progress);
            jl::replicate_table t;
            {
                py::gil_scoped_release release;
                if (options.method == jl::uncertainty_method::bayes || plan == nullptr)
                    t = jl::replicate_loop(model, options, statistic, callback);
                else t = jl::replicate_loop(*plan, model.options(), options, statistic, callback);
            }
            return to_matrix(t);
        },
        py::arg("model"), py::arg("plan"), py::arg("kind"), py::arg("names"), py::arg("groups"),
        py::arg("method"), py::arg("replicates"), py::arg("seed"), py::arg("prior"),
        py::arg("threads") = 0, py::arg("progress") = py::none(), py::arg("rule") = "null",
        "Replicates x figures of a loop model: kind 'summary' (expected purchases, expected "
        "value, first purchase and repeat probabilities), 'removal' (the groups' removal effects "
        "on purchases, then value, first and repeat purchases), 'attribution' (purchases, value, "
        "first and repeat purchases of the groups) or 'shapley' (purchases, value), shares put "
        "on the observed totals. The plan is needed for the bootstrap.");
    m.def(
        "heuristic_replicates",
        [](const jl::replicate_plan& plan, const jl::journey_set& journeys,
           const std::vector<std::string>& methods, const jl::heuristic_options& heuristics,
           const std::vector<std::string>& group_of, const std::vector<std::string>& extra_groups,
           std::size_t replicates, std::uint64_t seed, std::size_t threads,
           const std::optional<py::function>& progress) {
            // "simplified_shapley" is the data-driven Shapley value; the rest are heuristics.
            std::vector<std::optional<jl::heuristic>> hs;
            for (const auto& name : methods)
                hs.push_back(name == "simplified_shapley"
                                 ? std::nullopt
                                 : std::optional<jl::heuristic>(jl::heuristic_from_string(name)));
            const auto options = options_of("bootstrap", replicates, seed, 0.5, threads);
            const double conversions = journeys.total_conversions();
            const double value = journeys.total_value();
            const sigint_scope interruptible;
            const auto callback = progress_of(progress);
            jl::replicate_table t;
            {
                py::gil_scoped_release release;
                t = jl::replicate_rows(
                    plan, options,
                    [&](const std::vector<double>& wc, const std::vector<double>&) {
                        std::vector<double> out;
                        for (const auto& h : hs) {
                            auto a = h ? jl::heuristic_attribution(journeys, *h, heuristics, wc)
                                       : jl::simplified_shapley(journeys, wc);
                            if (!group_of.empty())
                                a = jl::group_attribution(a, group_of, extra_groups);
                            append_shares(out, a, conversions, value);
                        }
                        return out;
                    },
                    callback);
            }
            return to_matrix(t);
        },
        py::arg("plan"), py::arg("journeys"), py::arg("methods"), py::arg("heuristics"),
        py::arg("group_of"), py::arg("extra_groups"), py::arg("replicates"), py::arg("seed"),
        py::arg("threads") = 0, py::arg("progress") = py::none(),
        "Replicates x figures: for each heuristic (or 'simplified_shapley'), the conversions of "
        "every channel (or group, "
        "with group_of: group name per channel) then their value (shares of each replicate's "
        "totals put on the observed totals).");
    m.def(
        "percentile_intervals",
        [](const py::array_t<double, py::array::c_style | py::array::forcecast>& values,
           double level) {
            if (values.ndim() != 2) throw jl::invalid_input("values: a 2-d array is needed");
            jl::replicate_table t;
            t.replicates = static_cast<std::size_t>(values.shape(0));
            t.width = static_cast<std::size_t>(values.shape(1));
            t.values.assign(values.data(), values.data() + values.size());
            const auto i = jl::percentile_intervals(t, level);
            std::vector<double> lower, upper;
            for (const auto& x : i) {
                lower.push_back(x.lower);
                upper.push_back(x.upper);
            }
            return py::make_tuple(lower, upper);
        },
        py::arg("values"), py::arg("level"),
        "(lower, upper) percentile bounds of each column at the given level.");
}
