// Order selection: select_order and the split into folds behind it.
#include "interrupt.hpp"
#include "progress.hpp"
#include "arrays.hpp"
#include "register.hpp"

#include <journeyloop/order_selection.hpp>

#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace jl = journeyloop;

namespace {

py::dict split_dict(const jl::fold_split& s) {
    py::dict d;
    d["folds"] = s.folds;
    d["units"] = s.units;
    d["by_customer"] = s.by_customer;
    d["offsets"] = to_numpy(s.offsets);
    d["fold"] = to_numpy(s.fold);
    d["conversions"] = to_numpy(s.conversions);
    d["nulls"] = to_numpy(s.nulls);
    return d;
}

py::dict selection_dict(const jl::order_selection& s) {
    std::vector<std::size_t> order, states;
    std::vector<double> ll, se, auc, symbols, unseen, unseen_states, nodes, ca_auc, ca_pauc;
    for (const auto& x : s.scores) {
        order.push_back(x.order);
        states.push_back(x.states);
        ll.push_back(x.log_likelihood);
        se.push_back(x.log_likelihood_se);
        auc.push_back(x.auc);
        symbols.push_back(x.symbols);
        unseen.push_back(x.unseen_transitions);
        unseen_states.push_back(x.unseen_states);
        nodes.push_back(x.ca_nodes);
        ca_auc.push_back(x.ca_auc);
        ca_pauc.push_back(x.ca_pauc);
    }
    py::dict d;
    d["order"] = to_numpy(order);
    d["log_likelihood"] = to_numpy(ll);
    d["log_likelihood_se"] = to_numpy(se);
    d["auc"] = to_numpy(auc);
    d["states"] = to_numpy(states);
    d["symbols"] = to_numpy(symbols);
    d["unseen_transitions"] = to_numpy(unseen);
    d["unseen_states"] = to_numpy(unseen_states);
    d["ca_nodes"] = to_numpy(nodes);
    d["ca_auc"] = to_numpy(ca_auc);
    d["ca_pauc"] = to_numpy(ca_pauc);
    d["recommended"] = s.recommended;
    d["best"] = s.best;
    d["ca_suggested"] = s.ca_suggested;
    d["units"] = s.units;
    d["by_customer"] = s.by_customer;
    d["folds"] = s.folds;
    d["rows_without_journeys"] = s.rows_without_journeys;
    return d;
}

} // namespace

void register_order(py::module_& m) {
    m.def(
        "split_folds",
        [](const jl::journey_set& journeys, std::size_t folds, std::uint64_t seed) {
            jl::fold_split s;
            {
                py::gil_scoped_release release;
                s = jl::split_folds(journeys, folds, seed);
            }
            return split_dict(s);
        },
        py::arg("journeys"), py::arg("folds"), py::arg("seed"),
        "The split of the journeys (or customers) into folds: {folds, units, by_customer, "
        "offsets, fold, conversions, nulls}.");
    m.def(
        "select_order",
        [](const jl::journey_set& journeys, const std::vector<std::size_t>& orders,
           std::size_t folds, std::uint64_t seed, double prior, bool collapse_repeats,
           std::size_t roc_points, std::size_t threads,
           const std::optional<py::function>& progress) {
            jl::order_selection_options o;
            o.orders = orders;
            o.folds = folds;
            o.seed = seed;
            o.prior = prior;
            o.collapse_repeats = collapse_repeats;
            o.roc_points = roc_points;
            o.threads = threads;
            const sigint_scope interruptible;
            const auto callback = progress_of(progress);
            jl::order_selection s;
            {
                py::gil_scoped_release release;
                s = jl::select_order(journeys, o, callback);
            }
            return selection_dict(s);
        },
        py::arg("journeys"), py::arg("orders"), py::arg("folds"), py::arg("seed"), py::arg("prior"),
        py::arg("collapse_repeats"), py::arg("roc_points"), py::arg("threads"),
        py::arg("progress") = py::none(),
        "Cross-validated comparison of Markov orders: one array per figure (order, "
        "log_likelihood, log_likelihood_se, auc, states, symbols, unseen_transitions, "
        "unseen_states, ca_nodes, ca_auc, ca_pauc) and recommended, best, ca_suggested, units, "
        "by_customer, folds, rows_without_journeys.");
    m.def(
        "back_off",
        [](const jl::transition_counts& counts, std::size_t min_count) {
            py::gil_scoped_release release;
            return jl::back_off(counts, min_count);
        },
        py::arg("counts"), py::arg("min_count"),
        "The counts with every state seen fewer than min_count times merged into its suffix "
        "state, recursively (see back_off in order_selection.hpp).");
}
