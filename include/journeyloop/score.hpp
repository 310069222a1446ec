// journeyloop: scoring journeys in flight.
//
// An open journey (touches so far, no outcome yet) has reached a state of
// the fitted chain; the chain gives, exactly, the probability that it
// converts from there (in the loop: that the customer makes a first purchase,
// or a next one) and the expected value of that conversion. Every state's
// probability and value come from the one solve of the fit; scoring a
// journey is a state lookup (a hash of its last k channels).
//
// The state a journey has reached follows the fitting conventions:
//
// - a journey of n >= k touches is in the state of its last k channels
//   (collapsing repeats never changes the last window);
// - a journey of n < k touches has not yet reached the chain's first state
//   (the window of the first k touches): its probability is that of the
//   chain given the touches so far, the mean of the probabilities of START's
//   successors whose tuple begins with them, weighted by P(START -> t)
//   (exact: the chain's conditional probability); padded models have a state
//   for it (k - n `(start)` symbols, then the touches).
//
// Back-off, for a journey whose state the fitted journeys never reached: the
// longest suffix of its last channels (at most k - 1 of them) that ends some
// state of the model; the journey gets the mean probability (and value) of
// the states ending with that suffix, weighted by their expected visits from
// START: the chain's probability of converting at a moment when the last j
// touches were these. A journey whose last channel no state ends with (a
// channel the model never saw) is unknown: it gets the probability from
// START, the chain's rate for a journey about which nothing is known (or
// NaN, score_options::unknown). Both are counted in the result.
#ifndef JOURNEYLOOP_SCORE_HPP
#define JOURNEYLOOP_SCORE_HPP

#include <journeyloop/fwd.hpp>
#include <journeyloop/journey_set.hpp>
#include <journeyloop/loop_histories.hpp>
#include <journeyloop/loop_model.hpp>
#include <journeyloop/markov_model.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace journeyloop {

/// How the state of an open journey was found.
enum class score_status {
    /// The state it has reached (or, for fewer than k touches, the chain
    /// given its touches so far): the chain's exact answer.
    exact = 0,
    /// A state never reached in fitting: backed off to the states ending
    /// with the longest known suffix of its last channels.
    backed_off = 1,
    /// Its last channel ends no state of the model: scored from START (or
    /// NaN).
    unknown = 2,
};

/// What an unknown journey (see score_status::unknown) is given.
enum class unknown_rule {
    /// The probability and value from START (of the view: the first purchase,
    /// or PURCHASE for a next purchase): a journey about which nothing is
    /// known.
    start = 0,
    /// NaN probability and value.
    nan = 1,
};

/// Options of score_journeys() and next_touch().
struct score_options {
    /// What an unknown journey is given.
    unknown_rule unknown = unknown_rule::start;
    /// Loop model on a journey_set: the channel name of the purchase marker
    /// in the open histories' paths.
    std::string purchase = "purchase";
    /// Threads: 0 (the default) one per 100,000 journeys, at most
    /// set_threads()'s number or the machine's; n >= 1 that many (at most
    /// one a journey). The result does not depend on it.
    std::size_t threads = 0;
    /// next_touch() only: keep each journey's best group alone. The
    /// per-entry arrays of touch_scores then hold one entry per journey (its
    /// best group's, entry `i`) instead of the journeys x groups table, which
    /// is never built: the memory is that of the journeys, whatever the
    /// number of groups.
    bool best_only = false;
};

/**
 * The scores of open journeys, one entry per journey in the input's order.
 * The state each was scored from is given as an index into `labels`
 * (`key`), so that millions of journeys share a few labels.
 */
struct journey_scores {
    /// Probability of converting (loop: of the next purchase, first or not).
    std::vector<double> probability;
    /// Expected value of that conversion (or purchase): the sum over
    /// converting ends of their probability times their mean conversion
    /// value.
    std::vector<double> expected_value;
    /// How the state was found.
    std::vector<score_status> status;
    /// Channels of the journey's end the state matched: min(n, k) when
    /// exact, the suffix length when backed off, 0 when unknown (or for a
    /// loop history that ends with a purchase).
    std::vector<std::uint32_t> matched;
    /// Index of the state's label in `labels`.
    std::vector<std::uint32_t> key;
    /// The distinct labels of the states used, in order of first use: a
    /// state (`a > b`; a channel state of both loop views has one), a prefix of START's
    /// successors (`a > ...`), a backed-off suffix (`... > b`), `START`,
    /// `PURCHASE` (the view's start), or empty (unknown under
    /// unknown_rule::nan).
    std::vector<std::string> labels;
    /// Journeys scored exactly, backed off, unknown.
    std::size_t exact = 0, backed_off = 0, unknown = 0;

    /// Loop model only (empty otherwise): 1 when the history holds a
    /// purchase (its next purchase is a repeat one), 0 otherwise.
    std::vector<std::uint8_t> repeat;
    /// Loop model only: expected purchases from now on, p / (1 - r), with r
    /// the model's repeat probability (infinite when r is 1 and p > 0).
    std::vector<double> expected_purchases;
    /// Loop model only: expected value of every purchase from now on,
    /// expected_value + p v_r / (1 - r), with v_r the expected value of a
    /// next purchase from PURCHASE.
    std::vector<double> future_value;
};

/**
 * Scores open journeys against a fitted funnel model (their outcome columns
 * are ignored): the exact probability of converting from the state each
 * has reached, and the expected value, as the top of this header describes.
 * Channels are matched by name. Throws invalid_input for an empty journey
 * set.
 *
 * **Example**:
 *
 *     auto open = journeyloop::build_journeys({paths, zeros, {}, {}});
 *     auto s = journeyloop::score_journeys(model, open);
 *     // s.probability[i]: journey i's probability of converting
 */
journey_scores score_journeys(const markov_model& model, const journey_set& open,
                              const score_options& options = {});

/**
 * Scores open loop histories: a history without a purchase is scored in the
 * first view (the probability of a first purchase), a history with one from
 * the touches since its last purchase in the repeat view (the probability
 * of a next purchase; `PURCHASE` itself when it ends with one). The loop
 * figures (expected purchases and value from now on) are filled in.
 */
journey_scores score_journeys(const loop_model& model, const loop_histories& open,
                              const score_options& options = {});

/// The same, for open loop histories given as journeys whose paths hold the
/// purchase marker as a channel named `options.purchase` (every row is
/// kept, those that start with a purchase too).
journey_scores score_journeys(const loop_model& model, const journey_set& open,
                              const score_options& options = {});

/**
 * The effect of each candidate next touch on each open journey: a table of
 * journeys x groups, row-major (entry `i * groups + g`), or with
 * score_options::best_only one entry per journey, its best group's (entry
 * `i`, group `best[i]`). A group of channels (a single channel, or a team's
 * channels) is represented by its best channel: the one that leaves the
 * journey with the highest probability (the first on ties).
 */
struct touch_scores {
    /// Number of journeys and of candidate groups.
    std::size_t journeys = 0, groups = 0;
    /// The journeys as they stand.
    journey_scores current;
    /// The best channel of the group (model channel id).
    std::vector<channel_id> channel;
    /// Probability (loop: of the next purchase) after the touch.
    std::vector<double> probability;
    /// Expected value after the touch.
    std::vector<double> expected_value;
    /// probability - the journey's current probability.
    std::vector<double> gain;
    /// expected_value - the journey's current expected value.
    std::vector<double> value_gain;
    /// How the state after the touch was found.
    std::vector<score_status> status;
    /// Per journey: the group with the highest probability after the touch
    /// (the first on ties).
    std::vector<std::uint32_t> best;
};

/**
 * For every open journey and every group of candidate channels, the
 * probability after one more touch of the group's best channel and the
 * gain over the current probability. Throws unknown_channel for a
 * candidate channel id out of range, and invalid_input for no groups, an
 * empty group or an empty journey set. The full table (without
 * score_options::best_only) takes next_touch_memory() bytes: above the
 * memory limit (set_memory_limit()) it throws memory_limit_exceeded before
 * allocating; best_only keeps one entry a journey instead.
 */
touch_scores next_touch(const markov_model& model, const journey_set& open,
                        const std::vector<std::vector<channel_id>>& groups,
                        const score_options& options = {});

/// Bytes of the per-entry arrays of next_touch()'s table of `journeys` x
/// `groups` entries (without score_options::best_only): a lower bound of
/// what the table holds, checked against the memory limit.
std::size_t next_touch_memory(std::size_t journeys, std::size_t groups) noexcept;

/// The same for open loop histories (loop_histories, or a journey_set whose
/// paths hold the purchase marker): the touch extends the segment since the
/// last purchase.
touch_scores next_touch(const loop_model& model, const loop_histories& open,
                        const std::vector<std::vector<channel_id>>& groups,
                        const score_options& options = {});
/// See next_touch(const loop_model&, const loop_histories&, ...).
touch_scores next_touch(const loop_model& model, const journey_set& open,
                        const std::vector<std::vector<channel_id>>& groups,
                        const score_options& options = {});

} // namespace journeyloop

#endif // JOURNEYLOOP_SCORE_HPP
