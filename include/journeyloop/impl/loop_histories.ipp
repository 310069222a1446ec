// Loop histories: building them from path tables, and counting the two
// funnel views of the loop chain.
#ifndef JOURNEYLOOP_IMPL_LOOP_HISTORIES_IPP
#define JOURNEYLOOP_IMPL_LOOP_HISTORIES_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/impl/counts_access.hpp>
#include <journeyloop/impl/journey_set_builder.hpp>
#include <journeyloop/impl/loop_histories_builder.hpp>
#include <journeyloop/impl/loop_log.hpp>
#include <journeyloop/impl/text.hpp>

#include <journeyloop/errors.hpp>
#include <journeyloop/interrupt.hpp>
#include <journeyloop/limits.hpp>
#include <journeyloop/loop_histories.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>

namespace journeyloop {

JOURNEYLOOP_IMPL_INLINE loop_histories::loop_histories() {
    // The marker of build_loop_histories() and event_options by default.
    purchase_ = journey_set::builder{rows_}.intern("purchase");
}

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

// Counts the histories' segments (the touches up to a purchase or to the
// end) into the rows the two views share and the start row of each view.
class loop_counter {
public:
    loop_counter(const loop_histories& histories, const counting_options& options)
        : options_(options), marker_(histories.purchase_channel()),
          to_counts_(histories.channels().size(), 0) {
        // Channels without the marker, in the histories' order.
        shared_.order = options.order;
        shared_.collapse_repeats = options.collapse_repeats;
        for (channel_id c = 0; c < histories.channels().size(); ++c)
            if (c != marker_) to_counts_[c] = shared_.channels.intern(histories.channels().name(c));
    }

    // Every segment of a history held by `w` customers.
    void count_history(column_view<channel_id> path, column_view<double> values, double w) {
        out_.customers += w;
        std::size_t purchase = 0;
        for (std::size_t i = 0;; ++i) { // i: past the marker
            auto& start = purchase == 0 ? first_start_ : repeat_start_;
            const state_id last = count_segment(path, i, start, w);
            if (i == path.size()) break;
            const double v = purchase < values.size() ? values[purchase] : 0.0;
            add_purchase(start, last, purchase == 0, v, w);
            ++purchase;
        }
    }

    // Both views: they share the channel rows and differ in their start row.
    // Each view's totals are those of its own purchases (the mean value per
    // last state is pooled over both, as the channel rows are).
    loop_counts finish() {
        out_.first = view(first_start_, out_.buyers, out_.customers - out_.buyers, first_value_);
        if (out_.buyers > 0)
            out_.repeat =
                view(repeat_start_, out_.repeat_purchases, out_.buyers, out_.value - first_value_);
        return std::move(out_);
    }

private:
    // The states of the segment from `i` to the next marker (or the end),
    // and its outcome; `i` is left at the marker. Returns the segment's last
    // state (START if it has none).
    state_id count_segment(column_view<channel_id> path, std::size_t& i, start_row& start,
                           double w) {
        segment_.clear();
        while (i < path.size() && path[i] != marker_) segment_.push_back(to_counts_[path[i++]]);
        const std::size_t k = options_.order;
        const std::size_t n = segment_.size();
        const std::size_t windows = n == 0 ? 0 : (n >= k ? n - k + 1 : 1);
        const std::size_t len = std::min(n, k);
        state_id prev = transition_counts::start;
        for (std::size_t j = 0; j < windows; ++j) {
            const state_id s = intern(segment_.data() + j, len);
            if (s == prev && options_.collapse_repeats) continue;
            add_edge(start, prev, s, w);
            prev = s;
        }
        add_edge(start, prev,
                 i < path.size() ? transition_counts::conversion : transition_counts::null, w);
        return prev;
    }

    void add_edge(start_row& start, state_id from, state_id to, double w) {
        if (log_) {
            const auto kind = from != transition_counts::start ? detail::loop_op::shared_edge
                              : &start == &first_start_        ? detail::loop_op::first_start
                                                               : detail::loop_op::repeat_start;
            log_->ops.push_back({kind, false, from, to, 0.0});
        }
        if (from == transition_counts::start) start.edges[to] += w;
        else edges_[(std::uint64_t{from} << 32) | to] += w;
    }

    // A purchase of value `v` (per customer) from state `last`.
    void add_purchase(start_row& start, state_id last, bool first, double v, double w) {
        if (log_) log_->ops.push_back({detail::loop_op::purchase, first, last, 0, v});
        if (last == transition_counts::start) {
            start.conversions += w;
            start.value += v * w;
        } else {
            if (end_conv_.size() <= last) {
                end_conv_.resize(last + 1, 0.0);
                end_value_.resize(last + 1, 0.0);
            }
            end_conv_[last] += w;
            end_value_[last] += v * w;
        }
        out_.purchases += w;
        out_.value += v * w;
        if (first) {
            out_.buyers += w;
            first_value_ += v * w;
        } else {
            out_.repeat_purchases += w;
        }
    }

    state_id intern(const channel_id* first, std::size_t len) {
        key_.assign(reinterpret_cast<const char*>(first), len * sizeof(channel_id));
        const auto next =
            static_cast<state_id>(shared_.states.size() + transition_counts::first_channel_state);
        auto [it, inserted] = index_.emplace(key_, next);
        if (inserted) {
            shared_.states.emplace_back(first, first + len);
            // Counted as the funnel's estimate is, START, CONVERSION and NULL included.
            const auto states = shared_.states.size() + transition_counts::first_channel_state;
            if (states > options_.max_states)
                throw state_space_too_large(states, options_.max_states);
        }
        return it->second;
    }

    transition_counts view(const start_row& start, double conversions, double nulls,
                           double value) const {
        detail::counts_parts parts;
        parts.order = shared_.order;
        parts.collapse_repeats = shared_.collapse_repeats;
        parts.pooled = true;
        parts.channels = shared_.channels;
        parts.states = shared_.states;
        for (const auto& [code, weight] : edges_) parts.edges.emplace_back(code, weight);
        for (const auto& [to, weight] : start.edges)
            parts.edges.emplace_back((std::uint64_t{transition_counts::start} << 32) | to, weight);
        const auto states = shared_.states.size() + transition_counts::first_channel_state;
        parts.end_conversions.assign(states, 0.0);
        parts.end_value.assign(states, 0.0);
        for (std::size_t s = 0; s < end_conv_.size(); ++s) {
            parts.end_conversions[s] = end_conv_[s];
            parts.end_value[s] = end_value_[s];
        }
        parts.end_conversions[transition_counts::start] = start.conversions;
        parts.end_value[transition_counts::start] = start.value;
        parts.total_conversions = conversions;
        parts.total_nulls = nulls;
        parts.total_value = value;
        return detail::counts_access::assemble(std::move(parts));
    }

public:
    /// Logs every addition from now on (count_loop_transitions_logged).
    detail::loop_log* log_ = nullptr;

private:
    const counting_options& options_;
    const channel_id marker_;
    detail::counts_parts shared_;
    std::vector<channel_id> to_counts_;
    std::unordered_map<std::string, state_id> index_;
    std::string key_;
    std::unordered_map<std::uint64_t, double> edges_; // channel-state rows only
    std::vector<double> end_conv_, end_value_;
    start_row first_start_, repeat_start_;
    loop_counts out_;
    double first_value_ = 0; // value of the first purchases
    std::vector<channel_id> segment_;
};

} // JOURNEYLOOP_IMPL_NAMESPACE(loop_histories_1)

JOURNEYLOOP_IMPL_NAMESPACE(loop_merge_1) {

// A view with its pooled flag set to `pooled` (merge() refuses pooled views,
// whose channel rows are shared: here both views are merged alike).
JOURNEYLOOP_IMPL_INLINE transition_counts with_pooled(const transition_counts& c, bool pooled) {
    auto parts = detail::counts_access::disassemble(c);
    parts.pooled = pooled;
    return detail::counts_access::assemble(std::move(parts));
}

// The repeat view of counts whose customers never purchased: the shared
// channel rows of `first` and no START row, nothing converting. Merged with
// another part's repeat view, it keeps both views' channel rows the same.
JOURNEYLOOP_IMPL_INLINE transition_counts empty_repeat(const transition_counts& first) {
    auto parts = detail::counts_access::disassemble(first);
    parts.pooled = false;
    std::vector<std::pair<std::uint64_t, double>> kept;
    for (const auto& edge : parts.edges)
        if ((edge.first >> 32) != transition_counts::start) kept.push_back(edge);
    parts.edges.assign(kept.begin(), kept.end());
    parts.end_conversions[transition_counts::start] = 0;
    parts.end_value[transition_counts::start] = 0;
    parts.total_conversions = parts.total_nulls = parts.total_value = 0;
    return detail::counts_access::assemble(std::move(parts));
}

} // JOURNEYLOOP_IMPL_NAMESPACE(loop_merge_1)

JOURNEYLOOP_IMPL_INLINE loop_counts merge(const loop_counts& a, const loop_counts& b) {
    // Both views are merged from `a`'s side first, so their channels and
    // states are numbered alike, as the loop model requires.
    loop_counts out;
    out.first = with_pooled(merge(with_pooled(a.first, false), with_pooled(b.first, false)), true);
    if (a.repeat || b.repeat) {
        const auto left = a.repeat ? with_pooled(*a.repeat, false) : empty_repeat(a.first);
        const auto right = b.repeat ? with_pooled(*b.repeat, false) : empty_repeat(b.first);
        out.repeat = with_pooled(merge(left, right), true);
    }
    out.customers = a.customers + b.customers;
    out.purchases = a.purchases + b.purchases;
    out.value = a.value + b.value;
    out.buyers = a.buyers + b.buyers;
    out.repeat_purchases = a.repeat_purchases + b.repeat_purchases;
    return out;
}

JOURNEYLOOP_IMPL_INLINE loop_counts count_loop_transitions(const loop_histories& histories,
                                                           const counting_options& options) {
    return count_loop_transitions(histories, options, {});
}

JOURNEYLOOP_IMPL_INLINE loop_counts count_loop_transitions(const loop_histories& histories,
                                                           const counting_options& options,
                                                           const progress_callback& progress) {
    detail::check_order(options.order);
    if (options.padded)
        throw invalid_input("the loop model has no padded form: count with padded=false");
    detail::check_channel_names(loop_histories::builder::rows(histories), true);
    {
        // The bound on the states: one a touch, and no more than the tuples
        // of up to k channels (the purchase marker is not one); START,
        // PURCHASE and END beside them.
        const auto named = histories.channels().size();
        const double c = static_cast<double>(named > 0 ? named - 1 : 0);
        double tuples = 0;
        for (std::size_t j = 1; j <= options.order && tuples < 1e18; ++j)
            tuples += std::pow(c, double(j));
        const auto bound =
            static_cast<std::size_t>(std::min(double(histories.total_touches()), tuples)) + 3;
        detail::check_memory(detail::counting_memory(bound, options.order),
                             "counting loop transitions");
    }
    loop_counter counter(histories, options);
    const std::size_t n = histories.size();
    for (std::size_t row = 0; row < n; ++row) {
        if (row % 4096 == 0) {
            detail::stop_point();
            if (progress && row > 0) progress(row, n);
        }
        const double w = histories.customers(row);
        if (w != 0) counter.count_history(histories.path(row), histories.purchase_values(row), w);
    }
    if (progress) progress(n, n);
    return counter.finish();
}

JOURNEYLOOP_IMPL_INLINE loop_counts detail::count_loop_transitions_logged(
    const loop_histories& histories, const counting_options& options, detail::loop_log& log) {
    detail::check_order(options.order);
    if (options.padded)
        throw invalid_input("the loop model has no padded form: count with padded=false");
    detail::check_channel_names(loop_histories::builder::rows(histories), true);
    loop_counter counter(histories, options);
    counter.log_ = &log;
    log.ops.clear();
    log.offsets.assign(1, 0);
    for (std::size_t row = 0; row < histories.size(); ++row) {
        if (row % 4096 == 0) detail::stop_point();
        const double w = histories.customers(row);
        if (w != 0) counter.count_history(histories.path(row), histories.purchase_values(row), w);
        log.offsets.push_back(log.ops.size());
    }
    return counter.finish();
}

JOURNEYLOOP_IMPL_INLINE loop_histories build_loop_histories(const path_table& table,
                                                            const path_options& options,
                                                            std::string_view purchase) {
    // An empty token would mark nothing: every history would read as one
    // without a purchase.
    if (detail::trim(purchase).empty())
        throw invalid_input("purchase: the token that marks a purchase in the paths is empty; "
                            "give its name (such as \"purchase\")");
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
    double unattributed_purchases = 0, unattributed_value = 0;
    for (std::size_t row = 0; row < parsed.size(); ++row) {
        const double customers = parsed.conversions(row);
        const double value = table.value.empty() ? 0.0 : table.value[row];
        if (!(value >= 0) || !std::isfinite(value))
            throw invalid_input(detail::make_message(row, options.value_column,
                                                     "value must be a non-negative number"));
        const auto path = parsed.path(row);
        std::size_t purchases = 0, leading = 0;
        for (std::size_t i = 0; i < path.size(); ++i)
            if (remap[path[i]] == marker) ++purchases;
        while (leading < path.size() && remap[path[leading]] == marker) ++leading;
        if (value > 0 && purchases == 0)
            throw invalid_input(detail::make_message(row, options.value_column,
                                                     "value on a history without a purchase ('" +
                                                         std::string(purchase) + "')"));
        const double per_purchase = purchases > 0 && customers > 0
                                        ? value / (static_cast<double>(purchases) * customers)
                                        : 0.0;
        // Purchases before the first touch have nothing to credit: left out
        // of the history and counted, as an event log counts a purchase
        // before a customer's first touch. A row of nothing else is not built.
        if (leading > 0) {
            unattributed_purchases += static_cast<double>(leading) * customers;
            unattributed_value += leading == purchases
                                      ? value
                                      : static_cast<double>(leading) * per_purchase * customers;
        }
        if (leading == path.size()) continue;
        const std::size_t base = out.total_touches();
        channel_id* touches = b.size_touches(base + path.size() - leading);
        for (std::size_t i = leading; i < path.size(); ++i)
            touches[base + i - leading] = remap[path[i]];
        const std::size_t kept = purchases - leading;
        values.insert(values.end(), kept, per_purchase);
        offsets.push_back(values.size());
        // The value left to the row's kept purchases (all of it when none
        // is left out, none when no purchase is kept).
        double kept_value = value;
        if (kept == 0) kept_value = 0.0;
        else if (leading > 0)
            kept_value = value - static_cast<double>(leading) * per_purchase * customers;
        b.end_row_at(base + path.size() - leading, static_cast<double>(kept) * customers, customers,
                     kept_value);
    }
    auto histories = loop_histories::builder::assemble(std::move(out), marker, std::move(values),
                                                       std::move(offsets));
    loop_histories::builder::set_unattributed(histories, unattributed_purchases,
                                              unattributed_value);
    return histories;
}

} // namespace journeyloop

#endif // JOURNEYLOOP_IMPL_LOOP_HISTORIES_IPP
