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

#include <journeyloop/journey_set.hpp>
#include <journeyloop/markov_model.hpp>
#include <journeyloop/transition_counts.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace journeyloop {

/// The two funnel views of a loop chain: counts from START and counts from
/// PURCHASE (see the top of this header).
struct loop_counts {
    transition_counts first;
    /// Absent when no customer purchased (there is no segment after a purchase).
    std::optional<transition_counts> repeat;
    /// Customers, purchases and value of the histories.
    double customers = 0, purchases = 0, value = 0;
    /// Customers with at least one purchase, and purchases after a first one.
    double buyers = 0, repeat_purchases = 0;
};

/**
 * Counts the transitions of loop-form histories (built with
 * `journey_form::loop`). Every history weighs its number of customers
 * (`nulls(i)`). Channels are numbered as in the histories, without the
 * purchase marker. Throws invalid_input for funnel journeys.
 */
loop_counts count_loop_transitions(const journey_set& histories,
                                   const counting_options& options = {});

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

/**
 * Loop-form histories from a path table whose paths hold the purchase token
 * (`"email > demo > purchase > webinar"`): `table.conversions` is the number
 * of customers with each history, `table.value` (optional) the total value of
 * their purchases, split evenly between the row's purchases. Throws
 * invalid_input as build_journeys() does, and for a value on a row without a
 * purchase.
 */
journey_set build_loop_histories(const path_table& table, const path_options& options,
                                 std::string_view purchase = "purchase");

} // namespace journeyloop

#endif // JOURNEYLOOP_LOOP_MODEL_HPP
