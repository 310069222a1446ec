// journeyloop: choosing the Markov order of a funnel model.
//
// select_order() fits the order-k chain on all folds but one and measures how
// well it predicts the held-out journeys, for each order asked: the held-out
// log-likelihood per predicted symbol (each touch and the outcome), the
// held-out AUC of the conversion prediction, and beside them
// ChannelAttribution's in-sample penalised AUC (its `choose_order`). The
// definitions are in docs/order.md.
#ifndef JOURNEYLOOP_ORDER_SELECTION_HPP
#define JOURNEYLOOP_ORDER_SELECTION_HPP

#include <journeyloop/fwd.hpp>
#include <journeyloop/journey_set.hpp>
#include <journeyloop/markov_model.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace journeyloop {

/// Options of select_order().
struct order_selection_options {
    /// The Markov orders compared, each >= 1 (at most max_order).
    std::vector<std::size_t> orders{1, 2, 3, 4, 5};
    /// Folds of the cross-validation, >= 2 and at most the number of units
    /// (journeys, or customers when the journeys know them).
    std::size_t folds = 5;
    /// Seed of the split into folds.
    std::uint64_t seed = 0;
    /// Strength of the Dirichlet prior that smooths the held-out
    /// predictions (> 0): the order-k prediction of a symbol is
    /// (N_k(context, symbol) + prior * P_{k-1}(symbol)) / (N_k(context) +
    /// prior), where P_{k-1} is the smoothed order k - 1 prediction and P_0
    /// is uniform over the channels, CONVERSION and NULL.
    double prior = 1.0;
    /// Collapse consecutive identical states. Off by default, unlike the
    /// models: with repeats collapsed, an order-k chain does not predict the
    /// repeats that it folds into a state, and the orders would be scored on
    /// different symbols. Self-loops change neither the removal effects nor
    /// the conversion predictions, so the order chosen holds for the models
    /// as they are fitted by default.
    bool collapse_repeats = false;
    /// Points of ChannelAttribution's approximate ROC curve (its `roc_npt`),
    /// >= 2.
    std::size_t roc_points = 100;
    /// Threads over the orders: 0 takes the library's setting (at most two
    /// by default).
    std::size_t threads = 0;
};

/// The figures of one order.
struct order_score {
    /// The Markov order k.
    std::size_t order = 0;
    /// Held-out log-likelihood (natural logarithm) per predicted symbol: the
    /// log-probability of every held-out symbol under the chain fitted on
    /// the other folds, summed over the folds and divided by `symbols`.
    double log_likelihood = 0;
    /// Standard error of `log_likelihood`: the standard deviation of the
    /// folds' own per-symbol figures over the square root of the folds.
    double log_likelihood_se = 0;
    /// Held-out AUC of the conversion prediction (probability of CONVERSION
    /// against NULL from each held-out journey's last state), over all
    /// folds together, each journey weighted by its count; ties count half.
    double auc = 0;
    /// Channel-tuple states of the order-k chain fitted on all journeys
    /// (START, CONVERSION and NULL not counted).
    std::size_t states = 0;
    /// Held-out symbols predicted, weighted by the journeys' counts.
    double symbols = 0;
    /// Held-out symbols whose transition (context to symbol) was never seen
    /// in the training folds: their probability comes from the prior alone.
    double unseen_transitions = 0;
    /// Of these, the symbols whose context (state) was never seen in the
    /// training folds.
    double unseen_states = 0;
    /// ChannelAttribution's penalty: the number of multisets of `order`
    /// channels, C(m + k - 1, k) with m channels.
    double ca_nodes = 0;
    /// ChannelAttribution's in-sample AUC (its ROC on `roc_points`
    /// thresholds); NaN when it skips the order (ca_nodes >= journeys).
    double ca_auc = 0;
    /// ChannelAttribution's penalised AUC, 1 - (1 - AUC) (n - 1) / (n -
    /// ca_nodes - 1) with n journeys, 0 outside [0, 1]; NaN when skipped.
    double ca_pauc = 0;
};

/// What select_order() found.
struct order_selection {
    /// One entry per order, in the order asked.
    std::vector<order_score> scores;
    /// The smallest order whose held-out log-likelihood is within one
    /// standard error of the best (the one-standard-error rule).
    std::size_t recommended = 0;
    /// The order of the best held-out log-likelihood.
    std::size_t best = 0;
    /// ChannelAttribution's suggested order: the highest penalised AUC (the
    /// first on ties); 0 when it skips every order.
    std::size_t ca_suggested = 0;
    /// Units split between the folds: journeys, or customers.
    std::size_t units = 0;
    /// Whether the units are customers (journeys built from events).
    bool by_customer = false;
    /// Folds used.
    std::size_t folds = 0;
    /// Rows that hold no journey (0 conversions and 0 nulls): left out of
    /// the folds and of every figure.
    std::size_t rows_without_journeys = 0;
};

/**
 * A split of journeys into folds: row `i` puts `conversions[j]` conversions
 * and `nulls[j]` nulls into fold `fold[j]`, for j in [offsets[i],
 * offsets[i + 1]) (folds ascending, only folds that get some).
 */
struct fold_split {
    /// Number of folds.
    std::size_t folds = 0;
    /// Units split: journeys, or customers.
    std::size_t units = 0;
    /// Whether the units are customers.
    bool by_customer = false;
    /// Per row, where its entries start (size rows + 1).
    std::vector<std::size_t> offsets;
    /// The fold of each entry.
    std::vector<std::uint32_t> fold;
    /// The conversions of each entry.
    std::vector<double> conversions;
    /// The nulls of each entry.
    std::vector<double> nulls;
};

/**
 * Splits journeys into `folds` folds at random, seeded. The units are the
 * journeys (a row with c conversions and n nulls holds c + n of them, its
 * conversions taken before its nulls), or, when the journeys know their
 * customers (journey_set::has_customers()), the customers: all the rows of
 * a customer go to one fold. Units are dealt out in order, each to a fold
 * drawn with probability proportional to the room it has left, so that the
 * folds partition the units and their sizes differ by at most one (the
 * first `units % folds` folds get one more).
 *
 * Throws invalid_input when `folds` < 2 or exceeds the units, or when a
 * path-table row's conversions or nulls are not whole numbers.
 *
 * **Example**:
 *
 *     auto split = journeyloop::split_folds(journeys, 5, 42);
 *     // split.fold[split.offsets[0]] is the first fold that row 0 puts journeys in
 */
fold_split split_folds(const journey_set& journeys, std::size_t folds, std::uint64_t seed);

/**
 * Compares Markov orders by cross-validation (see the file comment and
 * docs/order.md for the definitions). Seeded and deterministic: the same
 * figures whatever the threads. `progress` is called with (done, total)
 * after the counting and after each order.
 *
 * Throws invalid_input when `orders` is empty or holds an order < 1 or
 * above max_order, when `folds` is < 2 or exceeds the units, when `prior`
 * is not a finite number > 0, when `roc_points` < 2, or when the journeys
 * have no conversion or no null (neither AUC exists then).
 *
 * **Example**:
 *
 *     journeyloop::order_selection_options o;
 *     o.orders = {1, 2, 3};
 *     auto s = journeyloop::select_order(journeys, o);
 *     std::size_t k = s.recommended;
 */
order_selection select_order(const journey_set& journeys,
                             const order_selection_options& options = {},
                             const progress_callback& progress = {});

/**
 * Back-off of sparse states: the counts of a variable-order chain in which
 * every channel-tuple state seen fewer than `min_count` times (its out
 * weight, the journeys through it) is merged into its suffix state (its
 * last k - 1 channels). A merged state's weight is the sum of the weights
 * merged into it (and of the state of that tuple, when there is one: the
 * state of a short path); when it is still below `min_count` it backs off
 * again, down to a single channel, which never backs off. Every transition
 * goes from the merged state of its source to the merged state of its
 * target; a self-loop that merging creates is dropped when the counts
 * collapse repeats (after the decisions, which count it: a merged state may
 * then be left with fewer than `min_count` transitions out). The conversions and value that end at
 * a state go to its merged state.
 *
 * The result holds counts of the same journeys, rewritten state by state: every
 * journey still walks from START to CONVERSION or NULL, so the chain stays a
 * proper absorbing chain, attributions still sum to the totals, and a chain
 * fitted on them still reproduces the observed conversion rate. A merged
 * state forgets the channels it dropped: removing such a channel no longer
 * cuts the journeys that went through it there. `order()` stays k; states
 * may hold fewer than k channels. Such counts are not windows of a fixed
 * length: they are for fit_markov(), not for saving (a file of counts must
 * hold sliding windows) nor merging.
 *
 * Throws invalid_input if `min_count` < 1, or for padded or pooled (loop)
 * counts.
 *
 * **Example**:
 *
 *     auto counts = journeyloop::count_transitions(journeys, {3});
 *     auto model = journeyloop::fit_markov(journeyloop::back_off(counts, 5));
 */
transition_counts back_off(const transition_counts& counts, std::size_t min_count);

} // namespace journeyloop

#endif // JOURNEYLOOP_ORDER_SELECTION_HPP
