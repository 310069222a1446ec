// Loop histories: building them from path tables, and counting the two
// funnel views of the loop chain.
#ifndef JOURNEYLOOP_IMPL_LOOP_HISTORIES_IPP
#define JOURNEYLOOP_IMPL_LOOP_HISTORIES_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/impl/counts_access.hpp>
#include <journeyloop/impl/journey_set_builder.hpp>
#include <journeyloop/impl/loop_histories_builder.hpp>

#include <journeyloop/errors.hpp>
#include <journeyloop/loop_histories.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>

namespace journeyloop {

JOURNEYLOOP_IMPL_INLINE loop_histories
loop_histories::builder::assemble(journey_set rows, channel_id purchase, std::vector<double> values,
                                  std::vector<std::size_t> offsets) {
    if (offsets.size() != rows.size() + 1 || offsets.front() != 0 ||
        offsets.back() != values.size() || purchase >= rows.channels().size())
        throw numerical_error("internal error: loop histories assembled from parts that differ");
    loop_histories out;
    out.rows_ = std::move(rows);
    out.purchase_ = purchase;
    out.purchase_values_ = std::move(values);
    out.purchase_offsets_ = std::move(offsets);
    return out;
}

JOURNEYLOOP_IMPL_NAMESPACE(loop_histories_1) {

// The edges out of one start state, and the purchases made straight from it.
struct start_row {
    std::unordered_map<state_id, double> edges; // to channel states, CONVERSION, NULL
    double conversions = 0, value = 0;
};

} // JOURNEYLOOP_IMPL_NAMESPACE(loop_histories_1)

JOURNEYLOOP_IMPL_INLINE loop_counts count_loop_transitions(const loop_histories& histories,
                                                           const counting_options& options) {
    const std::size_t k = options.order;
    detail::check_order(k);
    if (options.padded) throw invalid_input("the loop model has no padded form");
    detail::check_channel_names(loop_histories::builder::rows(histories));
    const channel_id marker = histories.purchase_channel();

    // Channels without the marker, in the histories' order.
    detail::counts_parts shared;
    shared.order = k;
    shared.collapse_repeats = options.collapse_repeats;
    std::vector<channel_id> to_counts(histories.channels().size(), 0);
    for (channel_id c = 0; c < histories.channels().size(); ++c)
        if (c != marker) to_counts[c] = shared.channels.intern(histories.channels().name(c));

    std::unordered_map<std::string, state_id> index;
    std::string key;
    auto intern = [&](const channel_id* first, std::size_t len) -> state_id {
        key.assign(reinterpret_cast<const char*>(first), len * sizeof(channel_id));
        const auto next =
            static_cast<state_id>(shared.states.size() + transition_counts::first_channel_state);
        auto [it, inserted] = index.emplace(key, next);
        if (inserted) {
            shared.states.emplace_back(first, first + len);
            // Counted as the funnel's estimate is, START, CONVERSION and NULL included.
            const auto states = shared.states.size() + transition_counts::first_channel_state;
            if (states > options.max_states)
                throw state_space_too_large(states, options.max_states);
        }
        return it->second;
    };
    std::unordered_map<std::uint64_t, double> edges; // channel-state rows only
    std::vector<double> end_conv, end_value;
    start_row first_start, repeat_start;
    loop_counts out;
    double first_value = 0; // value of the first purchases
    std::vector<channel_id> segment;

    for (std::size_t row = 0; row < histories.size(); ++row) {
        const double w = histories.customers(row);
        if (w == 0) continue;
        const auto path = histories.path(row);
        const auto values = histories.purchase_values(row);
        out.customers += w;
        std::size_t purchase = 0;
        std::size_t i = 0;
        while (true) {
            // One segment: the touches up to the next purchase, or to the end.
            segment.clear();
            while (i < path.size() && path[i] != marker) segment.push_back(to_counts[path[i++]]);
            const bool purchased = i < path.size();
            auto& start = purchase == 0 ? first_start : repeat_start;
            state_id prev = transition_counts::start;
            const std::size_t n = segment.size();
            const std::size_t windows = n == 0 ? 0 : (n >= k ? n - k + 1 : 1);
            const std::size_t len = std::min(n, k);
            for (std::size_t j = 0; j < windows; ++j) {
                const state_id s = intern(segment.data() + j, len);
                if (s == prev && options.collapse_repeats) continue;
                if (prev == transition_counts::start) start.edges[s] += w;
                else edges[(std::uint64_t{prev} << 32) | s] += w;
                prev = s;
            }
            const state_id outcome =
                purchased ? transition_counts::conversion : transition_counts::null;
            if (prev == transition_counts::start) start.edges[outcome] += w;
            else edges[(std::uint64_t{prev} << 32) | outcome] += w;
            if (!purchased) break;
            const double v = purchase < values.size() ? values[purchase] : 0.0;
            if (prev == transition_counts::start) {
                start.conversions += w;
                start.value += v * w;
            } else {
                if (end_conv.size() <= prev) {
                    end_conv.resize(prev + 1, 0.0);
                    end_value.resize(prev + 1, 0.0);
                }
                end_conv[prev] += w;
                end_value[prev] += v * w;
            }
            out.purchases += w;
            out.value += v * w;
            if (purchase == 0) {
                out.buyers += w;
                first_value += v * w;
            } else {
                out.repeat_purchases += w;
            }
            ++purchase;
            ++i; // past the marker
        }
    }

    // The two views share the channel rows and differ in their start row.
    auto view = [&](const start_row& start, double conversions, double nulls, double value) {
        detail::counts_parts parts;
        parts.order = shared.order;
        parts.collapse_repeats = shared.collapse_repeats;
        parts.pooled = true;
        parts.channels = shared.channels;
        parts.states = shared.states;
        for (const auto& [code, weight] : edges) parts.edges.emplace_back(code, weight);
        for (const auto& [to, weight] : start.edges)
            parts.edges.emplace_back((std::uint64_t{transition_counts::start} << 32) | to, weight);
        const auto states = shared.states.size() + transition_counts::first_channel_state;
        parts.end_conversions.assign(states, 0.0);
        parts.end_value.assign(states, 0.0);
        for (std::size_t s = 0; s < end_conv.size(); ++s) {
            parts.end_conversions[s] = end_conv[s];
            parts.end_value[s] = end_value[s];
        }
        parts.end_conversions[transition_counts::start] = start.conversions;
        parts.end_value[transition_counts::start] = start.value;
        parts.total_conversions = conversions;
        parts.total_nulls = nulls;
        parts.total_value = value;
        return detail::counts_access::assemble(std::move(parts));
    };
    // Each view's totals are those of its own purchases (the mean value per
    // last state is pooled over both, as the channel rows are).
    out.first = view(first_start, out.buyers, out.customers - out.buyers, first_value);
    if (out.buyers > 0)
        out.repeat = view(repeat_start, out.repeat_purchases, out.buyers, out.value - first_value);
    return out;
}

JOURNEYLOOP_IMPL_INLINE loop_histories build_loop_histories(const path_table& table,
                                                            const path_options& options,
                                                            std::string_view purchase) {
    // Parse as paths (table.conversions are the customer counts here), then
    // mark the purchases.
    journey_set parsed = build_journeys({table.path, table.conversions, {}, {}}, options);
    journey_set out;
    journey_set::builder b{out};
    const channel_id marker = b.intern(purchase);
    std::vector<channel_id> remap(parsed.channels().size());
    for (channel_id c = 0; c < remap.size(); ++c) remap[c] = b.intern(parsed.channels().name(c));
    b.reserve(parsed.size(), parsed.total_touches());
    std::vector<double> values;
    std::vector<std::size_t> offsets{0};
    for (std::size_t row = 0; row < parsed.size(); ++row) {
        const double customers = parsed.conversions(row);
        const double value = table.value.empty() ? 0.0 : table.value[row];
        if (!(value >= 0) || !std::isfinite(value))
            throw invalid_input(detail::make_message(row, options.value_column,
                                                     "value must be a non-negative number"));
        const auto path = parsed.path(row);
        const std::size_t base = out.total_touches();
        channel_id* touches = b.size_touches(base + path.size());
        std::size_t purchases = 0;
        for (std::size_t i = 0; i < path.size(); ++i) {
            touches[base + i] = remap[path[i]];
            if (remap[path[i]] == marker) ++purchases;
        }
        if (value > 0 && purchases == 0)
            throw invalid_input(detail::make_message(row, options.value_column,
                                                     "value on a history without a purchase ('" +
                                                         std::string(purchase) + "')"));
        const double per_purchase = purchases > 0 && customers > 0
                                        ? value / (static_cast<double>(purchases) * customers)
                                        : 0.0;
        values.insert(values.end(), purchases, per_purchase);
        offsets.push_back(values.size());
        b.end_row_at(base + path.size(), static_cast<double>(purchases) * customers, customers,
                     value);
    }
    return loop_histories::builder::assemble(std::move(out), marker, std::move(values),
                                             std::move(offsets));
}

} // namespace journeyloop

#endif // JOURNEYLOOP_IMPL_LOOP_HISTORIES_IPP
