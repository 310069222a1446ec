// journeyloop: credit per journey, for every attribution method.
//
// Each row of a journey_set with conversions or value is split between the
// distinct channels it touched. The heuristics and the simplified Shapley
// value split a row exactly as their aggregate forms do, so that their
// per-journey credit summed over the rows is their attribution. The Markov
// methods (removal effects, Markov Shapley) are properties of the whole
// chain, not of a row: a row's conversions and value are split between the
// channels it touched in proportion to those channels' figures (removal
// effects, or Shapley values). Each row's credit sums to the row's
// conversions and value; summed over the rows it differs from the model's
// aggregate attribution unless every crediting row touched every channel
// (docs/credit.md shows how and why).
#ifndef JOURNEYLOOP_JOURNEY_CREDIT_HPP
#define JOURNEYLOOP_JOURNEY_CREDIT_HPP

#include <journeyloop/attribution.hpp>
#include <journeyloop/fwd.hpp>
#include <journeyloop/journey_set.hpp>
#include <journeyloop/markov_model.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace journeyloop {

/**
 * Credit per (row, channel), in long form: entry `i` gives row `row[i]` of
 * the journeys, channel `channel[i]` (an id of the journeys' channel
 * dictionary) and its credit. The entries of a row are contiguous, rows in
 * increasing order, and within a row the channels come in order of first
 * touch; every distinct channel a crediting row touched has an entry, even
 * when its credit is zero (first touch gives the later channels nothing).
 * Rows with neither conversions nor value have no entry (their credit would
 * be zero). For every row, the entries' conversions sum to the row's
 * conversions and their value to the row's value, up to rounding.
 */
struct journey_credit {
    /// Row index into the journeys, per entry.
    std::vector<std::uint64_t> row;
    /// Channel id per entry (the journeys' channel dictionary).
    std::vector<channel_id> channel;
    /// Conversions credited per entry.
    std::vector<double> conversions;
    /// Value credited per entry.
    std::vector<double> value;
    /// Number of entries.
    std::size_t size() const noexcept { return row.size(); }
};

/**
 * Per-journey credit of heuristic `h`: each touch gets the weight of its
 * position (touch_weights(), or the time-decay weights of journeys with
 * times), and a channel touched several times adds its touches' weights.
 * Summed over the rows it is heuristic_attribution(journeys, h, options).
 * `threads` 0 lets the library choose. Throws invalid_input for options out
 * of range.
 *
 * **Example**: `"a > b > a"` with 1 conversion under position_based (40 %
 * first, 40 % last, 20 % middle) gives a 0.8 and b 0.2.
 */
journey_credit heuristic_journey_credit(const journey_set& journeys, heuristic h,
                                        const heuristic_options& options = {},
                                        std::size_t threads = 0);

/**
 * Per-journey credit of the simplified Shapley value: each row split evenly
 * between its distinct channels. Summed over the rows it is
 * simplified_shapley(journeys).
 */
journey_credit simplified_shapley_journey_credit(const journey_set& journeys,
                                                 std::size_t threads = 0);

/**
 * Each row's conversions split between its distinct channels in proportion
 * to `conversion_weights[c]`, and its value in proportion to
 * `value_weights[c]` (one weight per channel id of the journeys, finite and
 * non-negative). A row whose channels all weigh zero is split evenly between
 * them. Throws invalid_input for weights of the wrong size, negative or not
 * finite.
 *
 * **Example**: weights a 1, b 3 split a row `"a > b"` of 2 conversions as
 * a 0.5, b 1.5.
 */
journey_credit proportional_journey_credit(const journey_set& journeys,
                                           const std::vector<double>& conversion_weights,
                                           const std::vector<double>& value_weights,
                                           std::size_t threads = 0);

/**
 * Markov per-journey credit: each row's conversions split between the
 * distinct channels it touched in proportion to their removal effects, and
 * its value in proportion to their value removal effects
 * (proportional_journey_credit() with removal_effects(model)). The model's
 * channels are matched to the journeys' by name. Throws unknown_channel for
 * a channel of a crediting row that the model does not know.
 */
journey_credit markov_journey_credit(const journey_set& journeys, const markov_model& model,
                                     const progress_callback& progress = {},
                                     std::size_t threads = 0);

/**
 * Markov Shapley per-journey credit: as markov_journey_credit(), in
 * proportion to the channels' Shapley values (shapley_attribution() with
 * one player per channel of the model, conversions and value). Negative
 * values, which only rounding gives when removal sends journeys to NULL,
 * count as zero. Throws invalid_input beyond max_shapley_players channels.
 */
journey_credit shapley_journey_credit(const journey_set& journeys, const markov_model& model,
                                      std::size_t threads = 0);

/**
 * The weights per channel of the journeys, from weights per channel name
 * (`names[i]` weighs `weights[i]`): channels of the journeys that are not
 * named weigh zero, and are listed in `missing`.
 */
std::vector<double> weights_by_channel(const journey_set& journeys,
                                       const std::vector<std::string>& names,
                                       const std::vector<double>& weights,
                                       std::vector<channel_id>* missing = nullptr);

/**
 * Sums per-journey credit by channel: one entry per channel of the journeys,
 * in channel-id order (the aggregate form of the credit).
 */
attribution total_credit(const journey_set& journeys, const journey_credit& credit);

} // namespace journeyloop

#endif // JOURNEYLOOP_JOURNEY_CREDIT_HPP
