// Heuristic attribution and attribution helpers.
#ifndef JOURNEYLOOP_IMPL_ATTRIBUTION_IPP
#define JOURNEYLOOP_IMPL_ATTRIBUTION_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/attribution.hpp>
#include <journeyloop/detail/grouping.hpp>
#include <journeyloop/errors.hpp>
#include <journeyloop/impl/text.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <utility>

namespace journeyloop {

JOURNEYLOOP_IMPL_INLINE attribution::attribution(std::vector<std::string> names,
                                                 std::vector<double> conversions,
                                                 std::vector<double> value)
    : names_(std::move(names)), conversions_(std::move(conversions)), value_(std::move(value)) {
    if (conversions_.size() != names_.size() || value_.size() != names_.size())
        throw invalid_input("attribution: " + std::to_string(names_.size()) + " names, " +
                            std::to_string(conversions_.size()) + " conversions and " +
                            std::to_string(value_.size()) + " values; expected one per name");
}

JOURNEYLOOP_IMPL_INLINE double attribution::share(std::size_t i) const {
    const double total = total_conversions();
    return total > 0 ? conversions_[i] / total : 0.0;
}

JOURNEYLOOP_IMPL_INLINE double attribution::total_conversions() const {
    return std::accumulate(conversions_.begin(), conversions_.end(), 0.0);
}

JOURNEYLOOP_IMPL_INLINE double attribution::total_value() const {
    return std::accumulate(value_.begin(), value_.end(), 0.0);
}

JOURNEYLOOP_IMPL_INLINE std::string_view to_string(heuristic h) noexcept {
    switch (h) {
    case heuristic::first_touch: return "first_touch";
    case heuristic::last_touch: return "last_touch";
    case heuristic::linear: return "linear";
    case heuristic::position_based: return "position_based";
    case heuristic::time_decay: return "time_decay";
    }
    return "unknown";
}

JOURNEYLOOP_IMPL_INLINE heuristic heuristic_from_string(std::string_view name) {
    std::string valid;
    for (auto h : all_heuristics) {
        if (to_string(h) == name) return h;
        valid += valid.empty() ? "" : ", ";
        valid += to_string(h);
    }
    throw invalid_input("unknown heuristic '" + std::string(name) + "' (valid: " + valid + ")");
}

JOURNEYLOOP_IMPL_NAMESPACE(attribution_1) {

JOURNEYLOOP_IMPL_INLINE void check_options(const heuristic_options& o) {
    if (!(o.half_life > 0) || !std::isfinite(o.half_life))
        throw invalid_input("half_life must be positive and finite, got " +
                            detail::number_text(o.half_life));
    if (!(o.endpoint_share >= 0 && o.endpoint_share <= 0.5))
        throw invalid_input("endpoint_share must be in [0, 0.5], got " +
                            std::to_string(o.endpoint_share));
    for (const auto& [name, share] :
         {std::pair{"first_share", o.first_share}, std::pair{"last_share", o.last_share}})
        if (share && !(*share >= 0 && *share <= 1))
            throw invalid_input(std::string(name) + " must be in [0, 1], got " +
                                detail::number_text(*share));
    const double first = o.first_share.value_or(o.endpoint_share);
    const double last = o.last_share.value_or(o.endpoint_share);
    // A little slack, so that shares written as decimals (0.7 + 0.3) pass.
    if (first + last > 1 + 1e-12)
        throw invalid_input("first_share + last_share must be at most 1, got " +
                            detail::number_text(first) + " + " + detail::number_text(last));
}

// Fills w[0..n) with the weights of rule h; they sum to 1.
JOURNEYLOOP_IMPL_INLINE void fill_weights(heuristic h, std::size_t n, const heuristic_options& o,
                                          std::vector<double>& w) {
    w.assign(n, 0.0);
    if (n == 0) return;
    switch (h) {
    case heuristic::first_touch: w.front() = 1.0; break;
    case heuristic::last_touch: w.back() = 1.0; break;
    case heuristic::linear:
        for (auto& x : w) x = 1.0 / static_cast<double>(n);
        break;
    case heuristic::position_based: {
        const double first = o.first_share.value_or(o.endpoint_share);
        const double last = o.last_share.value_or(o.endpoint_share);
        if (n == 1) {
            w[0] = 1.0;
        } else if (n == 2) {
            // No middle: the first and last touches split it all in proportion.
            const double both = first + last;
            w[0] = both > 0 ? first / both : 0.5;
            w[1] = both > 0 ? last / both : 0.5;
        } else {
            w.front() = first;
            w.back() = last;
            // Unset shares keep the symmetric rule's arithmetic to the last bit.
            const double rest =
                o.first_share || o.last_share ? 1.0 - first - last : 1.0 - 2.0 * o.endpoint_share;
            const double middle = std::max(0.0, rest) / static_cast<double>(n - 2);
            for (std::size_t i = 1; i + 1 < n; ++i) w[i] = middle;
        }
        break;
    }
    case heuristic::time_decay: {
        // Weight 2^(-d / half_life) for the touch d steps before the end,
        // normalised. Computed from the end so that long paths do not
        // underflow the last touches.
        double total = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const double d = static_cast<double>(n - 1 - i);
            w[i] = std::exp2(-d / o.half_life);
            total += w[i];
        }
        for (auto& x : w) x /= total;
        break;
    }
    }
}

} // JOURNEYLOOP_IMPL_NAMESPACE(attribution_1)

JOURNEYLOOP_IMPL_INLINE std::vector<double> touch_weights(heuristic h, std::size_t length,
                                                          const heuristic_options& options) {
    check_options(options);
    std::vector<double> w;
    fill_weights(h, length, options, w);
    return w;
}

JOURNEYLOOP_IMPL_NAMESPACE(attribution_2) {

// Time-decay weights from each touch's time before the end; relative to the
// latest touch, so that old journeys do not underflow.
JOURNEYLOOP_IMPL_INLINE void fill_time_weights(column_view<double> before_end, double half_life,
                                               std::vector<double>& w) {
    w.assign(before_end.size(), 0.0);
    if (before_end.empty()) return;
    const double latest = *std::min_element(before_end.begin(), before_end.end());
    double total = 0;
    for (std::size_t i = 0; i < w.size(); ++i) {
        w[i] = std::exp2(-(before_end[i] - latest) / half_life);
        total += w[i];
    }
    for (auto& x : w) x /= total;
}

// The half-life in time units for time decay on journeys with times, or 0
// for decay by steps.
JOURNEYLOOP_IMPL_INLINE double time_half_life(const journey_set& journeys,
                                              const heuristic_options& o) {
    if (!journeys.has_times() || o.decay_by_steps) return 0;
    if (o.time_half_life) {
        if (!(*o.time_half_life > 0) || !std::isfinite(*o.time_half_life))
            throw invalid_input("time_half_life must be positive and finite, got " +
                                detail::number_text(*o.time_half_life));
        return *o.time_half_life;
    }
    if (journeys.time_unit_seconds() > 0) return 7 * 86400.0 / journeys.time_unit_seconds();
    throw invalid_input(
        "time decay on journeys with unitless times needs a half-life in those units "
        "(time_half_life), or decay by steps");
}

} // JOURNEYLOOP_IMPL_NAMESPACE(attribution_2)

JOURNEYLOOP_IMPL_INLINE attribution heuristic_attribution(const journey_set& journeys, heuristic h,
                                                          const heuristic_options& options) {
    check_options(options);
    const double by_time = h == heuristic::time_decay ? time_half_life(journeys, options) : 0;
    const auto& names = journeys.channels().names();
    std::vector<double> conversions(names.size(), 0.0), values(names.size(), 0.0);
    std::vector<double> w;
    for (std::size_t row = 0; row < journeys.size(); ++row) {
        const double conv = journeys.conversions(row);
        const double value = journeys.value(row);
        if (conv == 0 && value == 0) continue;
        const auto path = journeys.path(row);
        if (by_time > 0) fill_time_weights(journeys.times_before_end(row), by_time, w);
        else fill_weights(h, path.size(), options, w);
        for (std::size_t i = 0; i < path.size(); ++i) {
            conversions[path[i]] += w[i] * conv;
            values[path[i]] += w[i] * value;
        }
    }
    return {names, std::move(conversions), std::move(values)};
}

JOURNEYLOOP_IMPL_INLINE attribution
heuristic_attribution(const journey_set& journeys, heuristic h, const heuristic_options& options,
                      const std::vector<double>& conversion_weights) {
    check_options(options);
    if (conversion_weights.size() != journeys.size())
        throw invalid_input("conversion_weights: one weight per row (" +
                            std::to_string(journeys.size()) + " rows) is needed, got " +
                            std::to_string(conversion_weights.size()));
    const double by_time = h == heuristic::time_decay ? time_half_life(journeys, options) : 0;
    const auto& names = journeys.channels().names();
    std::vector<double> conversions(names.size(), 0.0), values(names.size(), 0.0);
    std::vector<double> w;
    for (std::size_t row = 0; row < journeys.size(); ++row) {
        const double conv = conversion_weights[row];
        if (!(conv >= 0) || !std::isfinite(conv))
            throw invalid_input("conversion_weights: the weight of row " + std::to_string(row) +
                                " must be a finite number >= 0");
        if (conv == 0) continue;
        const double observed = journeys.conversions(row);
        const double value = observed > 0 ? journeys.value(row) * conv / observed : 0.0;
        const auto path = journeys.path(row);
        if (by_time > 0) fill_time_weights(journeys.times_before_end(row), by_time, w);
        else fill_weights(h, path.size(), options, w);
        for (std::size_t i = 0; i < path.size(); ++i) {
            conversions[path[i]] += w[i] * conv;
            values[path[i]] += w[i] * value;
        }
    }
    return {names, std::move(conversions), std::move(values)};
}

JOURNEYLOOP_IMPL_NAMESPACE(attribution_2) {
// Calls f(row, channel, position, share) for the distinct channels of every
// row with conversions or value, in order of first appearance; `share` is 1
// over the number of distinct channels. Returns the most distinct channels of a
// row.
template <class F>
std::size_t for_each_distinct(const journey_set& journeys, F&& f) {
    std::vector<std::uint32_t> seen(journeys.channels().size(), 0);
    std::vector<channel_id> distinct;
    std::uint32_t stamp = 0;
    std::size_t most = 0;
    for (std::size_t row = 0; row < journeys.size(); ++row) {
        if (journeys.conversions(row) == 0 && journeys.value(row) == 0) continue;
        if (++stamp == 0) { // wrapped: start the marks again
            std::fill(seen.begin(), seen.end(), 0);
            stamp = 1;
        }
        distinct.clear();
        for (const channel_id c : journeys.path(row))
            if (seen[c] != stamp) {
                seen[c] = stamp;
                distinct.push_back(c);
            }
        most = std::max(most, distinct.size());
        const double share = 1.0 / static_cast<double>(distinct.size());
        for (std::size_t i = 0; i < distinct.size(); ++i) f(row, distinct[i], i, share);
    }
    return most;
}
} // JOURNEYLOOP_IMPL_NAMESPACE(attribution_2)

JOURNEYLOOP_IMPL_INLINE attribution simplified_shapley(const journey_set& journeys) {
    const auto& names = journeys.channels().names();
    std::vector<double> conversions(names.size(), 0.0), values(names.size(), 0.0);
    for_each_distinct(journeys, [&](std::size_t row, channel_id c, std::size_t, double share) {
        conversions[c] += share * journeys.conversions(row);
        values[c] += share * journeys.value(row);
    });
    return {names, std::move(conversions), std::move(values)};
}

JOURNEYLOOP_IMPL_INLINE attribution
simplified_shapley(const journey_set& journeys, const std::vector<double>& conversion_weights) {
    if (conversion_weights.size() != journeys.size())
        throw invalid_input("conversion_weights: one weight per row (" +
                            std::to_string(journeys.size()) + " rows) is needed, got " +
                            std::to_string(conversion_weights.size()));
    for (std::size_t row = 0; row < journeys.size(); ++row)
        if (!(conversion_weights[row] >= 0) || !std::isfinite(conversion_weights[row]))
            throw invalid_input("conversion_weights: the weight of row " + std::to_string(row) +
                                " must be a finite number >= 0");
    const auto& names = journeys.channels().names();
    std::vector<double> conversions(names.size(), 0.0), values(names.size(), 0.0);
    for_each_distinct(journeys, [&](std::size_t row, channel_id c, std::size_t, double share) {
        const double w = conversion_weights[row], observed = journeys.conversions(row);
        conversions[c] += share * w;
        values[c] += observed > 0 ? share * journeys.value(row) * w / observed : 0.0;
    });
    return {names, std::move(conversions), std::move(values)};
}

JOURNEYLOOP_IMPL_INLINE ordered_attribution
ordered_simplified_shapley(const journey_set& journeys) {
    ordered_attribution out;
    out.names = journeys.channels().names();
    // First the widest row, then the credit.
    out.positions =
        for_each_distinct(journeys, [](std::size_t, channel_id, std::size_t, double) {});
    out.conversions.assign(out.names.size() * out.positions, 0.0);
    out.value.assign(out.names.size() * out.positions, 0.0);
    for_each_distinct(journeys, [&](std::size_t row, channel_id c, std::size_t i, double share) {
        out.conversions[c * out.positions + i] += share * journeys.conversions(row);
        out.value[c * out.positions + i] += share * journeys.value(row);
    });
    return out;
}

JOURNEYLOOP_IMPL_INLINE attribution
group_attribution(const attribution& a, const std::vector<std::string>& group_of,
                  const std::vector<std::string>& extra_groups) {
    if (group_of.size() != a.size())
        throw invalid_input("group_attribution: " + std::to_string(group_of.size()) +
                            " group names for " + std::to_string(a.size()) + " channels");
    auto groups = detail::make_grouping(group_of, extra_groups);
    std::vector<double> conversions(groups.names.size(), 0.0), values(groups.names.size(), 0.0);
    for (std::size_t i = 0; i < a.size(); ++i) {
        conversions[groups.group_of_item[i]] += a.conversions()[i];
        values[groups.group_of_item[i]] += a.value()[i];
    }
    return {std::move(groups.names), std::move(conversions), std::move(values)};
}

} // namespace journeyloop

#endif // JOURNEYLOOP_IMPL_ATTRIBUTION_IPP
