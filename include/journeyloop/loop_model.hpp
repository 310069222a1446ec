// journeyloop: the loop model of repeat purchases.
//
// A loop-form history is a customer's whole sequence of touches with a
// purchase marker after each purchase; it ends in END (no further touch
// observed). The loop chain has the transient states START, PURCHASE and the
// channel states (the windows of the last k channels since START or since
// the last purchase), and the absorbing state END. Two funnel views of the
// same chain answer every question exactly:
//
//   first  = the chain from START, with PURCHASE absorbing (a "conversion")
//   repeat = the chain from PURCHASE, with the next PURCHASE absorbing
//
// Both have the same channel rows (estimated from every segment between
// purchases); they differ only in their start row. With h the probability of
// a first purchase and r the probability of another purchase after a
// purchase, the expected number of purchases per customer is F[START,
// PURCHASE] = h / (1 - r), and the expected value is v_first + h v_repeat /
// (1 - r), each purchase valued by the mean value of the purchases made from
// the same last state.
#ifndef JOURNEYLOOP_LOOP_MODEL_HPP
#define JOURNEYLOOP_LOOP_MODEL_HPP

#include <journeyloop/loop_histories.hpp>
#include <journeyloop/markov_model.hpp>
#include <journeyloop/transition_counts.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace journeyloop {

/// A fitted loop model.
struct loop_model {
    markov_model first;
    std::optional<markov_model> repeat;
    double customers = 0, purchases = 0, value = 0, buyers = 0, repeat_purchases = 0;
};

/// Fits both views of the loop chain. Throws numerical_error naming a state
/// with no way out.
loop_model fit_loop(const loop_counts& counts, const markov_options& options = {});

/// Headline figures of a loop model, per customer.
struct loop_summary {
    /// F[START, PURCHASE] = h / (1 - r).
    double expected_purchases = 0;
    /// Expected purchase value per customer.
    double expected_value = 0;
    /// h: probability of at least one purchase.
    double first_purchase_probability = 0;
    /// r: probability of another purchase after a purchase (the repeat rate).
    double repeat_probability = 0;
    /// Expected channel states visited before the first purchase, for
    /// customers who purchase.
    double touches_to_first_purchase = 0;
    /// Expected channel states visited between two purchases, for the
    /// purchases that are followed by another.
    double touches_between_purchases = 0;
};

/// The headline figures. Throws numerical_error if the repeat probability
/// is 1 (purchases would never end).
loop_summary summarize(const loop_model& model);

/// Relative drops when a group of channels is removed (every transition
/// into a state holding one of them goes to END).
struct loop_removal_effect {
    double purchases = 0;        ///< of the expected purchases per customer
    double value = 0;            ///< of the expected value per customer
    double first_purchases = 0;  ///< of the probability of a first purchase
    /// of the expected purchases after a first one, per buyer: r / (1 - r)
    /// (what brings customers back, whatever won them)
    double repeat_purchases = 0;
};

/// The removal effects of several channel groups, each removed on its own.
std::vector<loop_removal_effect> loop_removal_effects(
    const loop_model& model, const std::vector<std::vector<channel_id>>& groups);

/**
 * The loyalty-loop rate: the probability of purchasing again after a
 * purchase without touching any of `avoided` (the evaluation-stage channels)
 * in between.
 */
double loyalty_loop_rate(const loop_model& model, const std::vector<channel_id>& avoided);

} // namespace journeyloop

#endif // JOURNEYLOOP_LOOP_MODEL_HPP
