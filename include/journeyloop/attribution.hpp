// journeyloop: attribution results and the heuristic (rule-based) methods.
//
// Heuristics work on the journeys directly, one row at a time: each row's
// conversions and value are split between its touches by fixed weights, and
// the credit of each touch goes to its channel. Paths are used as given
// (repeated channels are separate touches), which is ChannelAttribution's
// convention for `heuristic_models`.
#ifndef JOURNEYLOOP_ATTRIBUTION_HPP
#define JOURNEYLOOP_ATTRIBUTION_HPP

#include <journeyloop/fwd.hpp>
#include <journeyloop/journey_set.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace journeyloop {

/**
 * Credit per key (a channel, or a team): conversions and value. Every method
 * attributes all of its totals: `sum(conversions()) == total_conversions()`
 * and `sum(value()) == total_value()` up to rounding. Its three vectors have
 * one entry per name, always: the constructor checks it and the result is
 * read-only.
 */
class attribution {
public:
    /// No names.
    attribution() = default;
    /// Throws invalid_input if `conversions` or `value` does not have one
    /// entry per name.
    attribution(std::vector<std::string> names, std::vector<double> conversions,
                std::vector<double> value);

    /// Channel (or team) names; the other vectors are indexed alike.
    const std::vector<std::string>& names() const noexcept { return names_; }
    /// Conversions credited to each name.
    const std::vector<double>& conversions() const noexcept { return conversions_; }
    /// Conversion value credited to each name.
    const std::vector<double>& value() const noexcept { return value_; }
    /// Number of names.
    std::size_t size() const noexcept { return names_.size(); }

    /// Share of the conversions credited to name `i` (0 if there are none).
    double share(std::size_t i) const;
    /// Sum of `conversions()`.
    double total_conversions() const;
    /// Sum of `value()`.
    double total_value() const;

private:
    std::vector<std::string> names_;
    std::vector<double> conversions_;
    std::vector<double> value_;
};

/// The heuristic rules.
enum class heuristic {
    first_touch,    ///< all credit to the first touch
    last_touch,     ///< all credit to the last touch
    linear,         ///< equal credit to every touch
    position_based, ///< 40 % first, 40 % last, 20 % spread over the middle (configurable)
    time_decay,     ///< weight 2^(-time or steps before the end / half-life)
};

/// Every heuristic, in the order of attribution tables.
inline constexpr heuristic all_heuristics[] = {heuristic::first_touch, heuristic::last_touch,
                                               heuristic::linear, heuristic::position_based,
                                               heuristic::time_decay};

/// The name of a heuristic as used in tables (`"first_touch"`, ...).
std::string_view to_string(heuristic h) noexcept;

/// Parses a heuristic name; throws invalid_input listing the valid names.
heuristic heuristic_from_string(std::string_view name);

/// Parameters of the heuristics.
struct heuristic_options {
    /// Time decay: half-life in steps (touches) before the end of the path;
    /// the last touch has weight 1, the one before 2^(-1/half_life), ... Must
    /// be positive.
    double half_life = 1.0;
    /// Position based: share of the first touch (and of the last touch). The
    /// middle touches share `1 - 2 * endpoint_share`. A single touch gets
    /// 100 %, two touches get 50 % each. Must be in [0, 0.5].
    double endpoint_share = 0.4;
    /// Time decay on journeys with times (built from events): the weight of a
    /// touch is 2^(-dt / time_half_life), dt its time before the conversion,
    /// in the journeys' time units. Unset: 7 days when the journeys know
    /// their time unit; journeys with unitless numeric times need it set.
    /// Must be positive.
    std::optional<double> time_half_life;
    /// Time decay by steps (`half_life`) even when the journeys have times.
    bool decay_by_steps = false;
    /// Position based, asymmetric: share of the first touch. Unset, it is
    /// `endpoint_share`. The middle touches share `1 - first - last`; two
    /// touches split everything first:last in proportion (evenly when both
    /// are 0). Must be in [0, 1], with first + last <= 1.
    std::optional<double> first_share;
    /// Position based, asymmetric: share of the last touch (unset:
    /// `endpoint_share`); see `first_share`.
    std::optional<double> last_share;
};

/**
 * Per-touch weights of a path of `length` touches under rule `h`; they sum
 * to 1. Exposed so that callers can attribute their own rows alike.
 *
 * **Example**: `touch_weights(heuristic::position_based, 4)` is
 * `{0.4, 0.1, 0.1, 0.4}`.
 */
std::vector<double> touch_weights(heuristic h, std::size_t length,
                                  const heuristic_options& options = {});

/**
 * Attributes the conversions and value of every row of `journeys` by rule
 * `h`. The result has one entry per channel, in channel-id order.
 * Throws invalid_input for options out of range.
 */
attribution heuristic_attribution(const journey_set& journeys, heuristic h,
                                  const heuristic_options& options = {});

/**
 * heuristic_attribution() with row i counted as `conversion_weights[i]`
 * converting journeys in place of its own conversions (its value scaled
 * alike): the attribution of a reweighted (bootstrap) sample of the
 * journeys. Throws invalid_input unless there is one finite weight >= 0 per
 * row.
 */
attribution heuristic_attribution(const journey_set& journeys, heuristic h,
                                  const heuristic_options& options,
                                  const std::vector<double>& conversion_weights);
/**
 * The simplified Shapley value of Zhao et al. (2018), from the journeys
 * alone: with R(S) the conversions (and the value) of the rows whose set of
 * distinct channels is exactly S, each channel j gets
 *
 *     phi_j = sum over S containing j of R(S) / |S|,
 *
 * the exact Shapley value of the game v(S) = sum over T within S of R(T)
 * (the conversions of the journeys that touched only channels of S). Each
 * row's conversions and value are split evenly between its distinct
 * channels, however often each was touched. One entry per channel, in
 * channel-id order; sums to the journeys' totals.
 *
 * **Example**: rows `"a > b > a"` (3 conversions) and `"a"` (1) give a 2.5
 * and b 1.5.
 */
attribution simplified_shapley(const journey_set& journeys);

/// simplified_shapley() with row i counted as `conversion_weights[i]`
/// converting journeys (its value scaled alike), as the weighted
/// heuristic_attribution(). Throws invalid_input unless there is one finite
/// weight >= 0 per row.
attribution simplified_shapley(const journey_set& journeys,
                               const std::vector<double>& conversion_weights);
/**
 * Credit per channel and position: `conversions[j * positions + i]` is the
 * credit of channel `names[j]` at position `i` (0-based).
 */
struct ordered_attribution {
    std::vector<std::string> names;
    /// Positions per channel (the most distinct channels of a row).
    std::size_t positions = 0;
    std::vector<double> conversions, value;
};

/**
 * The ordered variant of simplified_shapley() (Zhao et al., 2018): each
 * row's share R(S) / |S| for channel j goes to the position at which j first
 * appears among the row's distinct channels (0 for the first channel
 * touched). Summed over positions, it is simplified_shapley().
 *
 * **Example**: `"b > a > b"` (2 conversions) gives b 1 at position 0 and a 1
 * at position 1.
 */
ordered_attribution ordered_simplified_shapley(const journey_set& journeys);

/**
 * Sums an attribution by group: `group_of[i]` is the group name of
 * `a.names[i]`. Groups appear in order of first appearance, followed by
 * `extra_groups` not seen (with zero credit).
 */
attribution group_attribution(const attribution& a, const std::vector<std::string>& group_of,
                              const std::vector<std::string>& extra_groups = {});

} // namespace journeyloop

#endif // JOURNEYLOOP_ATTRIBUTION_HPP
