// journeyloop: simulation from a fitted model, and holding times.
//
// simulate() draws journeys (funnel) or customer histories (loop) from a
// fitted chain. Every journey has its own random stream, derived from the
// seed and the journey's index (a splitmix64 counter), and the uniforms are
// drawn from its 64-bit output here rather than through <random>'s
// distributions, whose results differ between standard libraries: the same
// seed gives the same journeys on every platform and for every number of
// threads.
//
// Holding times are the times a journey spends between touches. When the
// fitted journeys carry times (journeys built from an event log),
// fit_holding_times() estimates the mean holding time of every transition
// of the model; simulate() then stamps the touches of the journeys it draws
// with exponential holding times of those means, and
// expected_time_to_conversion() gives the exact expected time from the
// first touch to the conversion, for converting journeys.
#ifndef JOURNEYLOOP_SIMULATE_HPP
#define JOURNEYLOOP_SIMULATE_HPP

#include <journeyloop/fwd.hpp>
#include <journeyloop/journey_set.hpp>
#include <journeyloop/loop_histories.hpp>
#include <journeyloop/loop_model.hpp>
#include <journeyloop/markov_model.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace journeyloop {

/// Options of fit_holding_times().
struct holding_options {
    /**
     * The least weight (journeys, as counted) a transition needs for its own
     * mean. A transition observed less often takes the mean of the
     * transitions out of the same state (to channel states and CONVERSION);
     * a state observed less often takes the overall mean (over every channel
     * state's transitions to channel states and CONVERSION). START's row
     * falls back to the mean of START's row (0 when it has no weight), and a
     * transition to NULL to 0 (a journey without conversion ends at its last
     * touch). At least 1.
     */
    double min_weight = 10;
};

/**
 * The mean holding time of every transition of a funnel model (the time
 * from the touch that enters a state to the touch that enters the next, or
 * to the end of the journey), in the journeys' time units. Build it with
 * fit_holding_times(). Immutable.
 *
 * The holding time of `START -> s` is the time from the journey's first
 * touch to the touch that completes `s` (0 at order 1; at order k the first
 * state holds up to k touches). The holding time of `s -> CONVERSION` is
 * the time from the touch that entered `s` to the conversion; that of `s ->
 * NULL` the time to the journey's last touch. With collapsed repeats a run
 * of identical states is one visit: its holding time runs from its first
 * touch.
 */
class holding_times {
public:
    /// Number of states of the model it was fitted for.
    std::size_t num_states() const noexcept { return row_offsets_.size() - 1; }
    /// The mean holding time of `from -> to` (after the fallbacks of
    /// holding_options::min_weight), or 0 if the model has no such
    /// transition.
    double mean(state_id from, state_id to) const noexcept;
    /// The weight of the journeys that showed `from -> to` with its time.
    double weight(state_id from, state_id to) const noexcept;
    /// The mean over the channel states' observed transitions to channel
    /// states and CONVERSION (the last fallback).
    double overall_mean() const noexcept { return overall_mean_; }
    /// Transitions of the model whose mean is their own (weight at least
    /// min_weight, or any weight to NULL), those that took their state's
    /// fallback (see holding_options) and those that took the overall mean.
    std::size_t own_means() const noexcept { return own_; }
    std::size_t state_means() const noexcept { return by_state_; }
    std::size_t overall_means() const noexcept { return overall_; }
    /// Journeys left out of the fit: a touch on a channel, or a state, that
    /// the model does not have, or a time that is not finite (real times
    /// further apart than a double holds).
    std::size_t skipped_journeys() const noexcept { return skipped_; }
    /// Seconds per time unit of the journeys (0: unitless).
    double time_unit_seconds() const noexcept { return unit_seconds_; }

    /// The means in the layout of the model's transition matrix: row `s`
    /// holds entries [row_offset(s), row_offset(s + 1)), targets ascending.
    std::size_t row_offset(state_id s) const noexcept { return row_offsets_[s]; }
    const std::vector<state_id>& targets() const noexcept { return targets_; }
    const std::vector<double>& means() const noexcept { return means_; }

    /// Internal: the only writer of holding times. Defined in
    /// include/journeyloop/impl/simulate.ipp.
    class builder;

private:
    std::vector<std::size_t> row_offsets_{0};
    std::vector<state_id> targets_;
    std::vector<double> means_, weights_;
    double overall_mean_ = 0, unit_seconds_ = 0;
    std::size_t own_ = 0, by_state_ = 0, overall_ = 0, skipped_ = 0;
};

/**
 * Fits the mean holding time of every transition of `model` from journeys
 * with times (normally those the model was fitted on): each journey is
 * walked through the model's states (same order, collapsing and padding as
 * its counts) and each transition's time is averaged, weighted as the counts
 * weigh it. Throws invalid_input if the journeys carry no times or
 * `options.min_weight` is not at least 1.
 */
holding_times fit_holding_times(const journey_set& journeys, const markov_model& model,
                                const holding_options& options = {});

/**
 * The holding times of a loop model, one holding_times for each of its two
 * views (in the layout of that view's transition matrix). A history is cut
 * at its purchases into segments, as count_loop_transitions() cuts it; the
 * channel states' rows are fitted on every segment and are the same in both
 * views, as the views' transition probabilities are. START's row differs:
 * in `first` it holds the times from the history's first touch (0 at order
 * 1), in `repeat` (PURCHASE's row) the times from a purchase to the touch
 * that completes the first state after it, or to the next purchase when no
 * touch comes between. A transition to CONVERSION (PURCHASE) runs from the
 * touch that entered the state to the purchase. Build it with
 * fit_holding_times(const loop_histories&, const loop_model&, ...).
 */
struct loop_holding_times {
    holding_times first;
    /// Absent when the model has no repeat view (no customer purchased).
    std::optional<holding_times> repeat;
};

/**
 * Fits the mean holding time of every transition of a loop model from loop
 * histories with times (normally those the model was fitted on; histories
 * built from an event log), with the fallbacks of holding_options. A
 * history with a touch on a channel the model does not have is left out
 * (skipped_journeys() counts the histories). Throws invalid_input if the
 * histories carry no times or `options.min_weight` is not at least 1.
 */
loop_holding_times fit_holding_times(const loop_histories& histories, const loop_model& model,
                                     const holding_options& options = {});

/**
 * The exact expected time from a customer's first touch to the first
 * purchase, for the customers who purchase: expected_time_to_conversion()
 * of the first view under `holding.first`. 0 when nobody purchases. Throws
 * invalid_input if `holding` was fitted for another model.
 */
double expected_time_to_first_purchase(const loop_model& model, const loop_holding_times& holding);

/**
 * The exact expected time from a purchase to the next, over the purchases
 * that another follows: expected_time_to_conversion() of the repeat view
 * (whose START is PURCHASE) under `holding.repeat`. 0 when the model has no
 * repeat view or no repeat purchase. Throws invalid_input if `holding` was
 * fitted for another model.
 */
double expected_time_to_next_purchase(const loop_model& model, const loop_holding_times& holding);

/**
 * The exact expected time from the first touch to the conversion, for the
 * journeys that convert, under `holding` (its means; the distribution does
 * not matter):
 *
 *     E[T | CONVERSION] = sum_s V(s) sum_t P(s, t) m(s, t) x(t) / p
 *
 * over the transient states s, with V(s) the expected visits from START
 * (the first row of the fundamental matrix F = (I - Q)^-1), m(s, t) the mean
 * holding time, x(t) the conversion probability from t (1 at CONVERSION)
 * and p the conversion rate: a transition counts only on the walks that go
 * on to convert. 0 when p is 0. Throws invalid_input if `holding` was
 * fitted for a model with another number of states.
 */
double expected_time_to_conversion(const markov_model& model, const holding_times& holding);

/// Options of simulate().
struct simulation_options {
    /// The seed: the same seed gives the same journeys, whatever `threads`.
    std::uint64_t seed = 0;
    /// Threads; 0 uses set_threads()'s number, or one per hardware thread (at
    /// most two). The journeys do not depend on it.
    std::size_t threads = 0;
    /// The runaway guard: a walk that has made this many touches without
    /// ending stops there (see simulation_report::truncated). At least 1.
    std::size_t max_touches = 10000;
    /// Holding times to stamp the touches with (funnel models), or nullptr
    /// for journeys without times. It must outlive the call.
    const holding_times* holding = nullptr;
    /// The same for loop models: touches and purchases carry times.
    const loop_holding_times* loop_holding = nullptr;
    /// Called with (blocks done, blocks in all) as blocks of journeys are
    /// drawn, one call at a time, possibly from a drawing thread.
    progress_callback progress;
};

/// What a simulation drew, beside the rows.
struct simulation_report {
    /// Walks drawn (n).
    std::size_t walks = 0;
    /// Walks stopped by simulation_options::max_touches. A truncated funnel
    /// walk is kept as a non-converting journey of its max_touches touches; a
    /// truncated loop walk is kept as a history that ends there, with the
    /// purchases made so far.
    std::size_t truncated = 0;
    /// Walks that ended before their first touch (a smoothed START row can
    /// lead straight to an absorbing state): a journey needs a touch, so they
    /// are not rows; counted here, with their conversions (funnel) or
    /// purchases (loop).
    std::size_t empty = 0;
    double empty_conversions = 0;
    /// The value of those conversions (purchases), as the model values them.
    double empty_value = 0;
    /// Touches drawn, over all rows (purchase markers not included).
    std::size_t touches = 0;
};

/// Simulated funnel journeys: one row per walk that made a touch (conversions
/// 1 and nulls 0, or 0 and 1).
struct simulated_journeys {
    journey_set journeys;
    simulation_report report;
};

/// Simulated loop histories: one row per customer that made a touch
/// (customers 1).
struct simulated_histories {
    loop_histories histories;
    simulation_report report;
};

/**
 * Draws `n` journeys from a funnel model: each walks from START by the
 * model's transition probabilities until CONVERSION or NULL. Paths are
 * channel sequences at every order: the first state gives its channels,
 * every later state the channel it adds (padding is not a touch). A
 * conversion from state s has the value model.mean_conversion_value(s), the
 * model's value model. With `options.holding`, touches carry times (see
 * holding_times): exponential holding times of the fitted means, the touches
 * of a first state of several channels spread evenly over its holding time.
 * Throws invalid_input for max_touches 0 or holding times of another model.
 */
simulated_journeys simulate(const markov_model& model, std::size_t n,
                            const simulation_options& options = {});

/**
 * Draws `n` customer histories from a loop model: from START by the first
 * view's START row, through the shared channel rows, to PURCHASE (a purchase
 * marker in the history, valued by the first view's value model for a first
 * purchase and the repeat view's for the next ones) and on from the repeat
 * view's START row, until END. Purchases before a history's first touch
 * cannot be rows' purchases: they are counted in
 * loop_histories::unattributed_purchases(), as a path table's are. With
 * `options.loop_holding`, touches and purchase markers carry times: a
 * history's first touch is at time 0, and every later touch and purchase
 * follows the one before by an exponential holding time of the fitted mean
 * of its transition (the first view's before the first purchase, the repeat
 * view's after one; the touches of a first state of several channels are
 * spread evenly over its holding time). Throws invalid_input for
 * max_touches 0, funnel holding times (`options.holding`) or loop holding
 * times of another model.
 */
simulated_histories simulate(const loop_model& model, std::size_t n,
                             const simulation_options& options = {});

} // namespace journeyloop

#endif // JOURNEYLOOP_SIMULATE_HPP
