// journeyloop: transition counts of order k, the sufficient statistics of a
// Markov model of journeys.
//
// A journey c1 ... cn with outcome o and weight w contributes the transitions
// START -> s1 -> s2 -> ... -> sm -> o, where the states s are the sliding
// windows of k consecutive channels (a path shorter than k is one state
// holding the shorter tuple: no padding). By default consecutive identical
// states are collapsed (`a > a > b` at order 1 is `a > b`), as
// ChannelAttribution's `markov_model` does. Every edge gets the row's weight
// `conversions + nulls`, except the last: `-> CONVERSION` gets the
// conversions and `-> NULL` the nulls.
#ifndef JOURNEYLOOP_TRANSITION_COUNTS_HPP
#define JOURNEYLOOP_TRANSITION_COUNTS_HPP

#include <journeyloop/column_view.hpp>
#include <journeyloop/fwd.hpp>
#include <journeyloop/journey_set.hpp>
#include <journeyloop/progress.hpp>

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

namespace journeyloop {

namespace detail {
struct counts_access;
}

/// How journeys are turned into transitions.
struct counting_options {
    /// Markov order k >= 1: a state is the tuple of the last k channels.
    std::size_t order = 1;
    /// Collapse consecutive identical states (the default, as
    /// ChannelAttribution); false keeps self-loops.
    bool collapse_repeats = true;
    /// Pad the start of every path with k - 1 `(start)` symbols, so that
    /// every state holds k symbols and the first states remember that the
    /// journey just began. The default (false) is ChannelAttribution's: a
    /// path shorter than k is one state holding the shorter tuple.
    bool padded = false;
    /// Cap on the number of states; count_transitions() throws
    /// state_space_too_large before allocating more.
    std::size_t max_states = 50'000'000;
    /// Threads: 1 counts in one thread; 0 (the default) counts large
    /// journey sets (from two_thread_rows rows) in two halves on two threads
    /// (or in set_threads()'s number of parts, one per 50,000 rows) when
    /// the bound on the number of states is at most two_thread_state_limit
    /// (beyond it, each half's hash table holds most transitions and two
    /// threads nearly double the memory of counting for little time). Order
    /// 1 (collapsed, unpadded) of journeys read from a path table with at
    /// most 64 channels is summed while the table is parsed and takes no
    /// threads here.
    std::size_t threads = 0;
};

/// The highest Markov order counted (and read from files).
inline constexpr std::size_t max_order = 10000;

/// The largest bound on the number of states (see counting_options::
/// max_states) at which counting_options::threads = 0 counts on two threads.
inline constexpr std::size_t two_thread_state_limit = std::size_t{1} << 18;
/// The fewest rows that counting_options::threads = 0 counts on two threads
/// (set_threads() unset): below, one thread counts them quickly enough that
/// a second thread, which would hold a second hash table, is not worth its
/// memory.
inline constexpr std::size_t two_thread_rows = 200'000;

/**
 * Weighted transition counts between the states of an order-k chain, in
 * compressed sparse rows. State 0 is START, 1 is CONVERSION, 2 is NULL; states
 * from 3 on are channel tuples, numbered in order of first appearance.
 * Also kept per state: the conversions and the conversion value of the
 * journeys whose last state it is (ChannelAttribution's value model).
 */
class transition_counts {
public:
    static constexpr state_id start = 0;
    static constexpr state_id conversion = 1;
    static constexpr state_id null = 2;
    /// Id of the first channel-tuple state.
    static constexpr state_id first_channel_state = 3;
    /// The `(start)` symbol in the tuples of padded counts.
    static constexpr channel_id padding = std::numeric_limits<channel_id>::max();

    /// The Markov order k.
    std::size_t order() const noexcept { return order_; }
    /// Whether consecutive identical states were collapsed.
    bool collapse_repeats() const noexcept { return collapse_repeats_; }
    /// Whether paths were padded with `(start)` symbols.
    bool padded() const noexcept { return padded_; }
    /// Whether the channel rows are pooled with other counts: true for the
    /// two views of loop counts (count_loop_transitions), which share their
    /// channel rows and differ in their START row and totals. Such counts do
    /// not merge.
    bool pooled() const noexcept { return pooled_; }
    /// The channels the tuples refer to.
    const channel_dictionary& channels() const noexcept { return channels_; }

    /// Number of states, START, CONVERSION and NULL included.
    std::size_t num_states() const noexcept { return state_offsets_.size() - 1; }
    /// The channel tuple of state `s` (empty for START, CONVERSION, NULL).
    column_view<channel_id> state(state_id s) const noexcept {
        return {state_channels_.data() + state_offsets_[s],
                state_offsets_[s + 1] - state_offsets_[s]};
    }
    /// A readable name: `START`, `CONVERSION`, `NULL`, or the channel names of
    /// the tuple joined by `" > "` (`(start)` for padding).
    std::string state_label(state_id s) const;
    /// Whether state `s` holds channel `c`.
    bool state_contains(state_id s, channel_id c) const noexcept;

    /// Row `s` of the counts: the targets and their weights, targets ascending.
    column_view<state_id> targets(state_id s) const noexcept {
        return {targets_.data() + row_offsets_[s], row_offsets_[s + 1] - row_offsets_[s]};
    }
    column_view<double> weights(state_id s) const noexcept {
        return {weights_.data() + row_offsets_[s], row_offsets_[s + 1] - row_offsets_[s]};
    }
    /// Total weight leaving state `s`.
    double out_weight(state_id s) const noexcept;
    /// Number of stored (from, to) pairs.
    std::size_t num_transitions() const noexcept { return targets_.size(); }

    /// Conversions of the journeys whose last state is `s`.
    double conversions_from(state_id s) const noexcept { return end_conversions_[s]; }
    /// Conversion value of the journeys whose last state is `s`.
    double value_from(state_id s) const noexcept { return end_value_[s]; }

    double total_conversions() const noexcept { return total_conversions_; }
    double total_nulls() const noexcept { return total_nulls_; }
    double total_value() const noexcept { return total_value_; }

    /// Same options, channels, states, weights and totals, compared by
    /// channel names (ids and state numbering may differ).
    friend bool operator==(const transition_counts& a, const transition_counts& b);
    friend bool operator!=(const transition_counts& a, const transition_counts& b) {
        return !(a == b);
    }

private:
    friend struct detail::counts_access;
    std::size_t order_ = 1;
    bool collapse_repeats_ = true;
    bool padded_ = false;
    bool pooled_ = false;
    channel_dictionary channels_;
    // A default-constructed value is a valid empty count set: START,
    // CONVERSION and NULL, no transitions.
    std::vector<std::size_t> state_offsets_ = std::vector<std::size_t>(first_channel_state + 1, 0);
    std::vector<channel_id> state_channels_;
    std::vector<std::size_t> row_offsets_ = std::vector<std::size_t>(first_channel_state + 1, 0);
    std::vector<state_id> targets_;
    std::vector<double> weights_;
    std::vector<double> end_conversions_ = std::vector<double>(first_channel_state, 0.0);
    std::vector<double> end_value_ = std::vector<double>(first_channel_state, 0.0);
    double total_conversions_ = 0;
    double total_nulls_ = 0;
    double total_value_ = 0;
};

/**
 * Counts the transitions of every journey. Throws invalid_input if
 * `options.order` is 0, and state_space_too_large if the number of states
 * could exceed `options.max_states`.
 *
 * **Example**:
 *
 *     auto counts = journeyloop::count_transitions(journeys, {2});
 *     for (auto t : counts.targets(journeyloop::transition_counts::start)) ...
 */
transition_counts count_transitions(const journey_set& journeys,
                                    const counting_options& options = {});

/// count_transitions() reporting progress: the rows counted, every few
/// thousand rows (once, at the end, for order 1 from a path table's sums).
transition_counts count_transitions(const journey_set& journeys, const counting_options& options,
                                    const progress_callback& progress);

/**
 * The number of threads count_transitions() counts `journeys` on with
 * `options`: one for order 1 from the sums of a path table (see
 * counting_options::threads); otherwise at most one per 50,000 rows, and
 * with threads = 0 one when the bound on the states exceeds
 * two_thread_state_limit, else two from two_thread_rows rows
 * (set_threads()'s number when it is set). Throws what count_transitions()
 * throws before it allocates (invalid_input, state_space_too_large).
 */
std::size_t counting_threads(const journey_set& journeys, const counting_options& options = {});

/**
 * The counts of the union of the journeys behind `a` and `b`: the merge of a
 * commutative monoid, so that counts computed per partition (per day, per
 * worker) reduce to the counts of all the data. Channels and states are
 * matched by name; `a`'s ids are kept and `b`'s new channels and states are
 * appended. Weights add exactly while they are integers below 2^53 (counts
 * of journeys); values add in floating point. Throws invalid_input if the
 * order, `collapse_repeats` or `padded` differ.
 *
 * **Example**:
 *
 *     auto all = journeyloop::merge(count_transitions(monday), count_transitions(tuesday));
 */
transition_counts merge(const transition_counts& a, const transition_counts& b);

/**
 * The counts of the union of the journeys behind every element of `parts`
 * (at least one), as merge(a, b) applied from left to right gives them, in
 * one pass: the first part's states are indexed once, not once per merge.
 * Throws invalid_input for an empty list and as merge(a, b).
 */
transition_counts merge(const std::vector<const transition_counts*>& parts);

} // namespace journeyloop

#endif // JOURNEYLOOP_TRANSITION_COUNTS_HPP
