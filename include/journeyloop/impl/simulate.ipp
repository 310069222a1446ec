// Definitions of simulate.hpp: holding times and simulation.
#ifndef JOURNEYLOOP_IMPL_SIMULATE_IPP
#define JOURNEYLOOP_IMPL_SIMULATE_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/errors.hpp>
#include <journeyloop/impl/holding_times_builder.hpp>
#include <journeyloop/impl/journey_set_builder.hpp>
#include <journeyloop/impl/loop_histories_builder.hpp>
#include <journeyloop/simulate.hpp>
#include <journeyloop/threads.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace journeyloop {

JOURNEYLOOP_IMPL_NAMESPACE(simulate_1) {

using tc = transition_counts;

// splitmix64's output function.
JOURNEYLOOP_IMPL_INLINE std::uint64_t mix64(std::uint64_t z) noexcept {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// The random stream of one walk: splitmix64 from a state derived from the
// seed and the walk's index, so that a walk draws the same numbers whichever
// thread draws it.
struct walk_rng {
    std::uint64_t state;
    walk_rng(std::uint64_t seed, std::uint64_t index) noexcept
        : state(mix64(mix64(seed + 0x632be59bd9b4e019ULL) + mix64(index ^ 0x9e3779b97f4a7c15ULL))) {
    }
    std::uint64_t next() noexcept { return mix64(state += 0x9e3779b97f4a7c15ULL); }
    /// Uniform in [0, 1), 53 bits.
    double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1p-53; }
};

// Alias tables (Vose) of the rows of a transition matrix: a draw is one
// uniform and one 16-byte table entry.
class alias_rows {
public:
    // Appends the table of row `row` of `p` (the next state id's).
    void add_row(const transition_matrix& p, Eigen::Index row) {
        std::vector<std::pair<state_id, double>> entries;
        double total = 0;
        for (transition_matrix::InnerIterator it(p, row); it; ++it)
            if (it.value() > 0) {
                entries.emplace_back(static_cast<state_id>(it.col()), it.value());
                total += it.value();
            }
        const std::size_t m = entries.size();
        const std::size_t base = table_.size();
        rows_.push_back({base, static_cast<double>(m), static_cast<std::uint32_t>(m)});
        table_.resize(base + m);
        if (m == 0) return;
        std::vector<double> scaled(m);
        std::vector<std::size_t> small, large;
        for (std::size_t i = 0; i < m; ++i) {
            scaled[i] = entries[i].second / total * double(m);
            table_[base + i] = {1.0, entries[i].first, entries[i].first};
            (scaled[i] < 1.0 ? small : large).push_back(i);
        }
        while (!small.empty() && !large.empty()) {
            const std::size_t s = small.back(), l = large.back();
            small.pop_back();
            table_[base + s].prob = scaled[s];
            table_[base + s].alias = entries[l].first;
            scaled[l] = (scaled[l] + scaled[s]) - 1.0;
            if (scaled[l] < 1.0) {
                large.pop_back();
                small.push_back(l);
            }
        }
        // What is left has probability 1 up to rounding (prob stays 1).
    }

    state_id draw(state_id s, walk_rng& rng) const noexcept {
        const row_info& r = rows_[s];
        const double t = rng.uniform() * r.width;
        auto i = static_cast<std::size_t>(t);
        if (i >= r.size) i = r.size - 1;
        const entry& e = table_[r.offset + i];
        return (t - double(i)) < e.prob ? e.first : e.alias;
    }
    bool empty_row(state_id s) const noexcept { return rows_[s].size == 0; }

private:
    struct row_info {
        std::size_t offset;
        double width; // entries, as a double
        std::uint32_t size;
    };
    struct entry {
        double prob = 1.0;
        state_id first = 0, alias = 0;
    };
    std::vector<row_info> rows_;
    std::vector<entry> table_;
};

// What a state adds to a path: its whole tuple when entered from START, its
// last channel otherwise (padding is not a touch).
struct emissions {
    std::vector<std::size_t> offsets{0};
    std::vector<channel_id> tuple;
    std::vector<channel_id> last;
    explicit emissions(const transition_counts& c) {
        const auto n = c.num_states();
        last.assign(n, 0);
        for (state_id s = 0; s < n; ++s) {
            const auto t = c.state(s);
            for (auto ch : t)
                if (ch != tc::padding) tuple.push_back(ch);
            offsets.push_back(tuple.size());
            if (!t.empty()) last[s] = t[t.size() - 1];
        }
    }
};

// One block of walks, drawn by one thread into its own arrays.
struct block {
    std::vector<channel_id> touches;
    std::vector<double> times;
    // The block's rows (ends of their touches within `touches`, counts and
    // values), closed by the drawing thread; their touches are copied into
    // place when the blocks are put together.
    journey_set rows;
    void end_row(double conversions, double nulls, double value) {
        journey_set::builder(rows).end_row_at(touches.size(), conversions, nulls, value);
    }
    std::vector<double> purchase_values; // loop: per row, in order
    std::vector<std::size_t> purchase_ends;
    simulation_report report;
    double unattributed_purchases = 0, unattributed_value = 0;
};

inline constexpr std::size_t walks_per_block = 16384;

// Draws blocks [0, blocks) on `threads` threads with `draw(block_index,
// block&)`; rethrows the first error.
template <class Draw>
std::vector<block> draw_blocks(std::size_t n, std::size_t threads,
                               const progress_callback& progress, Draw&& draw) {
    const std::size_t blocks = (n + walks_per_block - 1) / walks_per_block;
    std::vector<block> out(blocks);
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex lock;
    std::size_t done = 0;
    std::exception_ptr error;
    auto work = [&] {
        try {
            for (;;) {
                if (failed.load(std::memory_order_relaxed)) return;
                const std::size_t b = next.fetch_add(1);
                if (b >= blocks) return;
                const std::size_t first = b * walks_per_block;
                draw(first, std::min(n, first + walks_per_block), out[b]);
                if (progress) {
                    std::lock_guard<std::mutex> g(lock);
                    progress(++done, blocks);
                }
            }
        } catch (...) {
            std::lock_guard<std::mutex> g(lock);
            if (!error) error = std::current_exception();
            failed = true;
        }
    };
    threads = std::max<std::size_t>(1, std::min(threads, blocks));
    std::vector<std::thread> workers;
    for (std::size_t t = 1; t < threads; ++t) workers.emplace_back(work);
    work();
    for (auto& w : workers) w.join();
    if (error) std::rethrow_exception(error);
    return out;
}

JOURNEYLOOP_IMPL_INLINE std::size_t simulation_threads(const simulation_options& o) {
    return o.threads != 0 ? o.threads : detail::stage_threads(2);
}

JOURNEYLOOP_IMPL_INLINE void check_options(const simulation_options& o) {
    if (o.max_touches == 0)
        throw invalid_input("max_touches must be at least 1: it is the most touches a simulated "
                            "walk may make before it is stopped");
}

// Concatenates the blocks' rows, in index order, into `js` (whose
// dictionary is set); returns the report of all blocks.
JOURNEYLOOP_IMPL_INLINE simulation_report concatenate(std::vector<block>& blocks, journey_set& js,
                                                      bool times, double unit_seconds) {
    journey_set::builder b(js);
    std::size_t total = 0;
    simulation_report report;
    for (const auto& bl : blocks) {
        total += bl.touches.size();
        report.walks += bl.report.walks;
        report.truncated += bl.report.truncated;
        report.empty += bl.report.empty;
        report.empty_conversions += bl.report.empty_conversions;
        report.empty_value += bl.report.empty_value;
        report.touches += bl.report.touches;
    }
    journey_set::check_touches(total);
    std::size_t rows = 0;
    for (const auto& bl : blocks) rows += bl.rows.size();
    b.reserve(rows, 0);
    if (times) b.set_times(unit_seconds);
    channel_id* out = b.size_touches(total);
    double* out_times = b.touch_times();
    std::size_t base = 0;
    for (auto& bl : blocks) {
        if (!bl.touches.empty())
            std::memcpy(out + base, bl.touches.data(), bl.touches.size() * sizeof(channel_id));
        if (times && !bl.times.empty())
            std::memcpy(out_times + base, bl.times.data(), bl.times.size() * sizeof(double));
        b.append_rows(bl.rows, base, {});
        base += bl.touches.size();
        // The block's touches are in the set now.
        std::vector<channel_id>().swap(bl.touches);
        std::vector<double>().swap(bl.times);
        bl.rows = journey_set();
    }
    return report;
}

// Model state tuples by their bytes, for walking journeys through a model's
// states (single channels by a table: the order-1 states).
class state_index {
public:
    explicit state_index(const transition_counts& c) : single_(c.channels().size(), tc::start) {
        for (state_id s = tc::first_channel_state; s < c.num_states(); ++s) {
            const auto t = c.state(s);
            if (t.size() == 1 && t[0] < single_.size()) single_[t[0]] = s;
            else index_.emplace(key(t.data(), t.size()), s);
        }
    }
    // The state of channels [first, first + n), or START if there is none.
    state_id find(const channel_id* first, std::size_t n) const {
        if (n == 1) return *first < single_.size() ? single_[*first] : tc::start;
        auto it = index_.find(key(first, n));
        return it == index_.end() ? tc::start : it->second;
    }

private:
    static std::string key(const channel_id* first, std::size_t n) {
        return {reinterpret_cast<const char*>(first), n * sizeof(channel_id)};
    }
    std::vector<state_id> single_;
    std::unordered_map<std::string, state_id> index_;
};

} // JOURNEYLOOP_IMPL_NAMESPACE(simulate_1)

// ---- holding times ------------------------------------------------------------

JOURNEYLOOP_IMPL_INLINE double holding_times::mean(state_id from, state_id to) const noexcept {
    if (from + 1 >= row_offsets_.size()) return 0.0;
    const auto b = targets_.begin() + long(row_offsets_[from]);
    const auto e = targets_.begin() + long(row_offsets_[from + 1]);
    const auto it = std::lower_bound(b, e, to);
    return it != e && *it == to ? means_[std::size_t(it - targets_.begin())] : 0.0;
}

JOURNEYLOOP_IMPL_INLINE double holding_times::weight(state_id from, state_id to) const noexcept {
    if (from + 1 >= row_offsets_.size()) return 0.0;
    const auto b = targets_.begin() + long(row_offsets_[from]);
    const auto e = targets_.begin() + long(row_offsets_[from + 1]);
    const auto it = std::lower_bound(b, e, to);
    return it != e && *it == to ? weights_[std::size_t(it - targets_.begin())] : 0.0;
}

JOURNEYLOOP_IMPL_NAMESPACE(simulate_3) {

// Sums of one kind of row of holding times: (time x weight, weight) by
// (from << 32 | to).
using holding_sums = std::unordered_map<std::uint64_t, std::pair<double, double>>;
// The states of a walk, each with the touch that entered it.
using walk_states = std::vector<std::pair<state_id, std::size_t>>;

// Walks journeys, or loop segments, through a model's states, and sums the
// times of the transitions observed.
class segment_walker {
public:
    segment_walker(const transition_counts& c, const channel_dictionary& channels)
        : c_(c), index_(c), to_model_(channels.size(), none) {
        for (channel_id ch = 0; ch < channels.size(); ++ch)
            if (auto id = c.channels().find(channels.name(ch))) to_model_[ch] = *id;
    }

    // Whether every time is finite (a span of real times wider than a double
    // holds is not).
    static bool finite(column_view<double> times) {
        for (double t : times)
            if (!std::isfinite(t)) return false;
        return true;
    }

    // Whether every channel of `path` is one of the model's.
    bool known(column_view<channel_id> path) const {
        for (auto ch : path)
            if (ch < to_model_.size() && to_model_[ch] == none) return false;
        return true;
    }

    /// The states walked through by touches [b, e) of `path` from START,
    /// each with the touch that entered it, into `states`. Returns false if
    /// a state is not the model's.
    bool walk(column_view<channel_id> path, std::size_t b, std::size_t e, walk_states& states) {
        const std::size_t k = c_.order();
        const std::size_t n = e - b;
        padded_.clear();
        if (c_.padded())
            for (std::size_t i = 0; i + 1 < k; ++i) padded_.push_back(tc::padding);
        for (std::size_t i = b; i < e; ++i) padded_.push_back(to_model_[path[i]]);
        const std::size_t pad = padded_.size() - n;
        states.clear();
        bool ok = true;
        auto visit = [&](std::size_t begin, std::size_t len, std::size_t touch) {
            const state_id s = index_.find(padded_.data() + begin, len);
            if (s == tc::start) {
                ok = false;
                return;
            }
            if (c_.collapse_repeats() && !states.empty() && states.back().first == s) return;
            states.emplace_back(s, b + touch);
        };
        if (n > 0) {
            if (!c_.padded() && n < k) visit(0, n, n - 1);
            else
                for (std::size_t j = (c_.padded() ? 0 : k - 1); j < n && ok; ++j)
                    visit(pad + j + 1 - k, k, j);
        }
        return ok;
    }

    /**
     * Adds the transitions of one walk (from walk()), whose touches have the
     * times before an end `tbe`. `origin` is the time (before the end)
     * START stands for: the first touch in a funnel journey, the purchase
     * before the segment in a loop history. Times to CONVERSION run to
     * `conversion_at`, times to NULL to `null_at` (times before the end,
     * too). START's transitions go to `start`, the others to `shared`.
     */
    static void add_walk(const walk_states& states, column_view<double> tbe, double origin,
                         double conversion_at, double null_at, double conversions, double nulls,
                         holding_sums& start, holding_sums& shared) {
        auto add = [&](state_id s, state_id t, double time, double w) {
            if (!(w > 0)) return;
            auto& entry = (s == tc::start ? start : shared)[(std::uint64_t{s} << 32) | t];
            entry.first += std::max(0.0, time) * w;
            entry.second += w;
        };
        if (states.empty()) { // a purchase straight after a purchase, or none
            add(tc::start, tc::conversion, origin - conversion_at, conversions);
            add(tc::start, tc::null, 0.0, nulls);
            return;
        }
        const double w = conversions + nulls;
        add(tc::start, states[0].first, origin - tbe[states[0].second], w);
        for (std::size_t i = 1; i < states.size(); ++i)
            add(states[i - 1].first, states[i].first,
                tbe[states[i - 1].second] - tbe[states[i].second], w);
        const double last = tbe[states.back().second];
        add(states.back().first, tc::conversion, last - conversion_at, conversions);
        add(states.back().first, tc::null, last - null_at, nulls);
    }

private:
    static constexpr channel_id none = static_cast<channel_id>(-1);
    const transition_counts& c_;
    const state_index index_;
    std::vector<channel_id> to_model_; // the journeys' channels in the model's ids
    std::vector<channel_id> padded_;
};

JOURNEYLOOP_IMPL_INLINE void check_holding_options(const holding_options& options) {
    if (!(options.min_weight >= 1) || !std::isfinite(options.min_weight))
        throw invalid_input("min_weight must be a finite number >= 1, got " +
                            std::to_string(options.min_weight));
}
} // JOURNEYLOOP_IMPL_NAMESPACE(simulate_3)

JOURNEYLOOP_IMPL_INLINE holding_times fit_holding_times(const journey_set& journeys,
                                                        const markov_model& model,
                                                        const holding_options& options) {
    if (!journeys.has_times())
        throw invalid_input("journeys: holding times need journeys whose touches carry times "
                            "(journeys built from an event log)");
    check_holding_options(options);
    segment_walker b(model.counts(), journeys.channels());
    holding_sums start, shared;
    walk_states states;
    std::size_t skipped = 0;
    for (std::size_t r = 0; r < journeys.size(); ++r) {
        const auto path = journeys.path(r);
        const auto tbe = journeys.times_before_end(r);
        if (path.empty() || !b.known(path) || !segment_walker::finite(tbe) ||
            !b.walk(path, 0, path.size(), states) || states.empty()) {
            ++skipped;
            continue;
        }
        // A journey ends at its conversion or its last touch: both are the
        // end of its times.
        segment_walker::add_walk(states, tbe, tbe[0], 0.0, 0.0, journeys.conversions(r),
                                 journeys.nulls(r), start, shared);
    }
    return holding_times::builder::assemble(model, start, shared, options,
                                            journeys.time_unit_seconds(), skipped);
}

JOURNEYLOOP_IMPL_INLINE loop_holding_times fit_holding_times(const loop_histories& histories,
                                                             const loop_model& model,
                                                             const holding_options& options) {
    if (!histories.has_times())
        throw invalid_input("histories: holding times need loop histories whose touches carry "
                            "times (histories built from an event log)");
    check_holding_options(options);
    const markov_model& first = model.first();
    segment_walker b(first.counts(), histories.channels());
    holding_sums first_start, repeat_start, shared;
    std::size_t skipped = 0;
    const channel_id marker = histories.purchase_channel();
    // The walk of each segment of a history (the touches up to each purchase,
    // and after the last), all found before any is added: a history counts
    // whole or not at all.
    std::vector<walk_states> walks;
    std::vector<std::pair<std::size_t, std::size_t>> bounds; // [begin, end) of each segment
    for (std::size_t r = 0; r < histories.size(); ++r) {
        const auto path = histories.path(r);
        const auto tbe = histories.times_before_end(r);
        const double w = histories.customers(r);
        bool ok = !path.empty() && segment_walker::finite(tbe);
        for (std::size_t i = 0; ok && i < path.size(); ++i)
            ok = path[i] == marker || b.known({path.data() + i, 1});
        bounds.clear();
        for (std::size_t i = 0; ok;) {
            const std::size_t begin = i;
            while (i < path.size() && path[i] != marker) ++i;
            bounds.emplace_back(begin, i);
            if (walks.size() < bounds.size()) walks.emplace_back();
            ok = b.walk(path, begin, i, walks[bounds.size() - 1]);
            if (i == path.size()) break;
            ++i;
        }
        if (!ok) {
            ++skipped;
            continue;
        }
        for (std::size_t j = 0; j < bounds.size(); ++j) {
            const auto [begin, end] = bounds[j];
            const bool bought = end < path.size();
            // Before the first purchase a segment starts at its first touch,
            // after one at the purchase; one that ends without a purchase
            // (the last) ends at its last touch, or at the purchase before it.
            const double origin = j == 0 ? tbe[begin] : tbe[begin - 1];
            const double null_at = end > begin ? tbe[end - 1] : origin;
            segment_walker::add_walk(walks[j], tbe, origin, bought ? tbe[end] : 0.0, null_at,
                                     bought ? w : 0.0, bought ? 0.0 : w,
                                     j == 0 ? first_start : repeat_start, shared);
        }
    }
    loop_holding_times out{holding_times::builder::assemble(first, first_start, shared, options,
                                                            histories.time_unit_seconds(), skipped),
                           std::nullopt};
    if (model.repeat())
        out.repeat = holding_times::builder::assemble(
            *model.repeat(), repeat_start, shared, options, histories.time_unit_seconds(), skipped);
    return out;
}

JOURNEYLOOP_IMPL_NAMESPACE(simulate_2) {
JOURNEYLOOP_IMPL_INLINE void check_holding(const markov_model& model, const holding_times& h) {
    if (h.num_states() != model.counts().num_states())
        throw invalid_input("holding times: fitted for a model of " +
                            std::to_string(h.num_states()) + " states, this model has " +
                            std::to_string(model.counts().num_states()) +
                            ": fit them for this model");
}

// sum_s V(s) sum_t P(s, t) m(s, t) w(t), over the transient states.
template <class Weight>
double accumulated_time(const markov_model& model, const holding_times& h, Weight&& w) {
    check_holding(model, h);
    const auto visits = model.expected_visits();
    const transition_matrix& p = model.transitions();
    double total = 0;
    for (state_id s = 0; s < h.num_states(); ++s) {
        if (s == transition_counts::conversion || s == transition_counts::null) continue;
        // Terms that cannot count are skipped, not multiplied: a mean that
        // overflowed (times further apart than a double holds) makes the
        // result infinite, never NaN.
        if (!(visits[s] > 0)) continue;
        double row = 0;
        std::size_t at = h.row_offset(s);
        for (transition_matrix::InnerIterator it(p, s); it; ++it, ++at) {
            const double weight = it.value() * w(static_cast<state_id>(it.col()));
            if (weight > 0) row += weight * h.means()[at];
        }
        total += visits[s] * row;
    }
    return total;
}
} // JOURNEYLOOP_IMPL_NAMESPACE(simulate_2)

JOURNEYLOOP_IMPL_INLINE double expected_time_to_conversion(const markov_model& model,
                                                           const holding_times& holding) {
    const double p = model.conversion_rate();
    if (!(p > 0)) {
        check_holding(model, holding);
        return 0.0;
    }
    const auto x = model.conversion_probabilities();
    return accumulated_time(model, holding, [&x](state_id t) { return x[t]; }) / p;
}

JOURNEYLOOP_IMPL_NAMESPACE(simulate_4) {
JOURNEYLOOP_IMPL_INLINE void check_loop_holding(const loop_model& model,
                                                const loop_holding_times& h) {
    check_holding(model.first(), h.first);
    if (model.repeat().has_value() != h.repeat.has_value())
        throw invalid_input(std::string("holding times: fitted for a loop model ") +
                            (h.repeat ? "with" : "without") + " a repeat view, this model has " +
                            (model.repeat() ? "one" : "none") + ": fit them for this model");
    if (model.repeat()) check_holding(*model.repeat(), *h.repeat);
}
} // JOURNEYLOOP_IMPL_NAMESPACE(simulate_4)

JOURNEYLOOP_IMPL_INLINE double expected_time_to_first_purchase(const loop_model& model,
                                                               const loop_holding_times& holding) {
    check_loop_holding(model, holding);
    return expected_time_to_conversion(model.first(), holding.first);
}

JOURNEYLOOP_IMPL_INLINE double expected_time_to_next_purchase(const loop_model& model,
                                                              const loop_holding_times& holding) {
    check_loop_holding(model, holding);
    if (!model.repeat()) return 0.0;
    return expected_time_to_conversion(*model.repeat(), *holding.repeat);
}

// ---- simulation -------------------------------------------------------------

JOURNEYLOOP_IMPL_INLINE simulated_journeys simulate(const markov_model& model, std::size_t n,
                                                    const simulation_options& options) {
    check_options(options);
    const holding_times* holding = options.holding;
    if (holding) check_holding(model, *holding);
    const transition_counts& c = model.counts();
    const std::size_t n_states = c.num_states();
    const transition_matrix& p = model.transitions();
    alias_rows rows;
    for (state_id s = 0; s < n_states; ++s) rows.add_row(p, s);
    const emissions emit(c);
    std::vector<double> conv_value(n_states, 0.0);
    for (state_id s = 0; s < n_states; ++s) conv_value[s] = model.mean_conversion_value(s);
    const std::size_t max_touches = options.max_touches;
    const double touches_per_walk =
        std::min(double(max_touches), model.expected_touches() + double(c.order())) * 1.1 + 1.0;

    auto draw = [&](std::size_t first, std::size_t last, block& out) {
        out.rows.reserve(last - first, 0);
        // Room for the touches a block is expected to hold, so that they are
        // seldom copied as they grow.
        out.touches.reserve(static_cast<std::size_t>(double(last - first) * touches_per_walk));
        if (holding) out.times.reserve(out.touches.capacity());
        for (std::size_t i = first; i < last; ++i) {
            walk_rng rng(options.seed, i);
            const std::size_t row_begin = out.touches.size();
            ++out.report.walks;
            state_id s = tc::start;
            double clock = 0;
            bool truncated = false;
            state_id t;
            for (;;) {
                if (rows.empty_row(s)) { // not reached in a fitted chain: ends as NULL
                    t = tc::null;
                    break;
                }
                t = rows.draw(s, rng);
                const double hold =
                    holding ? -holding->mean(s, t) * std::log1p(-rng.uniform()) : 0.0;
                if (t < tc::first_channel_state) {
                    clock += hold;
                    break;
                }
                if (s == tc::start) {
                    const std::size_t b = emit.offsets[t];
                    std::size_t len = emit.offsets[t + 1] - b;
                    if (len > max_touches) len = max_touches;
                    for (std::size_t j = 0; j < len; ++j) {
                        out.touches.push_back(emit.tuple[b + j]);
                        if (holding)
                            out.times.push_back(len > 1 ? hold * double(j) / double(len - 1)
                                                        : hold);
                    }
                    clock = holding && len > 0 ? out.times.back() : 0.0;
                } else {
                    clock += hold;
                    out.touches.push_back(emit.last[t]);
                    if (holding) out.times.push_back(clock);
                }
                s = t;
                if (out.touches.size() - row_begin >= max_touches) {
                    truncated = true;
                    break;
                }
            }
            const std::size_t made = out.touches.size() - row_begin;
            const bool converted = !truncated && t == tc::conversion;
            if (made == 0) {
                ++out.report.empty;
                out.report.empty_conversions += converted ? 1.0 : 0.0;
                out.report.empty_value += converted ? conv_value[s] : 0.0;
                continue;
            }
            if (truncated) ++out.report.truncated;
            out.report.touches += made;
            if (holding) {
                // Times before the end: the conversion, or the last touch.
                const double end = converted ? clock : out.times.back();
                for (std::size_t j = row_begin; j < out.times.size(); ++j)
                    out.times[j] = std::max(0.0, end - out.times[j]);
            }
            out.end_row(converted ? 1.0 : 0.0, converted ? 0.0 : 1.0,
                        converted ? conv_value[s] : 0.0);
        }
    };
    auto blocks = draw_blocks(n, simulation_threads(options), options.progress, draw);

    simulated_journeys result;
    journey_set::builder b(result.journeys);
    for (const auto& name : c.channels().names()) b.intern(name);
    result.report = concatenate(blocks, result.journeys, holding != nullptr,
                                holding ? holding->time_unit_seconds() : 0.0);
    return result;
}

JOURNEYLOOP_IMPL_INLINE simulated_histories simulate(const loop_model& model, std::size_t n,
                                                     const simulation_options& options) {
    check_options(options);
    if (options.holding)
        throw invalid_input("holding: funnel holding times given for a loop model; give the "
                            "loop model's (loop_holding)");
    const loop_holding_times* holding = options.loop_holding;
    if (holding) check_loop_holding(model, *holding);
    const markov_model& first = model.first();
    const markov_model* repeat = model.repeat() ? &*model.repeat() : nullptr;
    const transition_counts& c = first.counts();
    const std::size_t n_states = c.num_states();
    constexpr state_id start = 0, purchase = 1, end = 2;
    // Rows by state id, and PURCHASE's row (the repeat view's START row) in
    // place of the first view's CONVERSION row.
    alias_rows rows;
    const transition_matrix& p = first.transitions();
    for (state_id s = 0; s < n_states; ++s) {
        if (s == purchase && repeat) {
            rows.add_row(repeat->transitions(), 0);
        } else {
            rows.add_row(p, s);
        }
    }
    const emissions emit(c);
    std::vector<double> first_value(n_states, 0.0), repeat_value(n_states, 0.0);
    for (state_id s = 0; s < n_states; ++s) {
        first_value[s] = first.mean_conversion_value(s);
        repeat_value[s] = repeat ? repeat->mean_conversion_value(s) : 0.0;
    }
    // The marker's id: after the model's channels.
    const auto marker = static_cast<channel_id>(c.channels().size());
    const std::size_t max_touches = options.max_touches;

    // The holding time of `s -> t`: the first view's before the first
    // purchase, the repeat view's after one (they differ in START's row
    // only; PURCHASE's row is the repeat view's START row).
    auto hold = [&](state_id s, state_id t, bool after_purchase, walk_rng& rng) {
        const holding_times& h =
            after_purchase && holding->repeat ? *holding->repeat : holding->first;
        return -h.mean(s == purchase ? start : s, t) * std::log1p(-rng.uniform());
    };

    auto draw = [&](std::size_t first_walk, std::size_t last_walk, block& out) {
        for (std::size_t i = first_walk; i < last_walk; ++i) {
            walk_rng rng(options.seed, i);
            const std::size_t row_begin = out.touches.size();
            const std::size_t values_begin = out.purchase_values.size();
            ++out.report.walks;
            std::size_t made = 0;
            double bought = 0, value = 0, lead = 0, lead_value = 0;
            bool truncated = false;
            state_id s = start;
            bool segment_start = true; // at START or just after a purchase
            double clock = 0;          // since the history's first touch
            for (;;) {
                state_id t;
                if (s == purchase && !repeat) t = end;
                else if (rows.empty_row(s)) t = end;
                else t = rows.draw(s, rng);
                if (t == end) break;
                const double h = holding ? hold(s, t, bought + lead > 0, rng) : 0.0;
                if (t == purchase) {
                    const double v = bought + lead == 0 ? first_value[s] : repeat_value[s];
                    if (made == 0) {
                        lead += 1;
                        lead_value += v;
                    } else {
                        clock += h;
                        out.touches.push_back(marker);
                        if (holding) out.times.push_back(clock);
                        out.purchase_values.push_back(v);
                        bought += 1;
                        value += v;
                    }
                    s = purchase;
                    segment_start = true;
                    continue;
                }
                if (segment_start) {
                    const std::size_t b = emit.offsets[t];
                    const std::size_t full = emit.offsets[t + 1] - b;
                    std::size_t len = full;
                    if (made + len > max_touches) len = max_touches - made;
                    for (std::size_t j = 0; j < len; ++j) {
                        out.touches.push_back(emit.tuple[b + j]);
                        // The first state's touches spread over its holding
                        // time: from the history's first touch (at 0), or
                        // after the purchase before them.
                        if (holding)
                            out.times.push_back(
                                made == 0 ? (full > 1 ? h * double(j) / double(full - 1) : 0.0)
                                          : clock + h * double(j + 1) / double(full));
                    }
                    clock = made == 0 ? (full > 1 ? h : 0.0) : clock + h;
                    made += len;
                } else {
                    clock += h;
                    out.touches.push_back(emit.last[t]);
                    if (holding) out.times.push_back(clock);
                    ++made;
                }
                segment_start = false;
                s = t;
                if (made >= max_touches) {
                    truncated = true;
                    break;
                }
            }
            out.unattributed_purchases += lead;
            out.unattributed_value += lead_value;
            if (made == 0) {
                ++out.report.empty;
                out.report.empty_conversions += lead;
                out.report.empty_value += lead_value;
                out.touches.resize(row_begin);
                if (holding) out.times.resize(row_begin);
                out.purchase_values.resize(values_begin);
                continue;
            }
            if (truncated) ++out.report.truncated;
            out.report.touches += made;
            if (holding) {
                // Times before the end: the history's last touch or purchase.
                const double last = out.times.back();
                for (std::size_t j = row_begin; j < out.times.size(); ++j)
                    out.times[j] = std::max(0.0, last - out.times[j]);
            }
            out.end_row(bought, 1.0, value);
            out.purchase_ends.push_back(out.purchase_values.size());
        }
    };
    auto blocks = draw_blocks(n, simulation_threads(options), options.progress, draw);

    journey_set rows_out;
    journey_set::builder b(rows_out);
    for (const auto& name : c.channels().names()) b.intern(name);
    const channel_id marker_id = b.intern("purchase");
    if (marker_id != marker)
        throw invalid_input("a channel of the model is named 'purchase', the name of the "
                            "purchase marker of simulated histories: rename that channel");
    std::vector<double> values;
    std::vector<std::size_t> offsets{0};
    double lead = 0, lead_value = 0;
    for (const auto& bl : blocks) {
        const std::size_t base = values.size();
        values.insert(values.end(), bl.purchase_values.begin(), bl.purchase_values.end());
        for (auto e : bl.purchase_ends) offsets.push_back(base + e);
        lead += bl.unattributed_purchases;
        lead_value += bl.unattributed_value;
    }
    simulated_histories result;
    result.report = concatenate(blocks, rows_out, holding != nullptr,
                                holding ? holding->first.time_unit_seconds() : 0.0);
    result.histories = loop_histories::builder::assemble(std::move(rows_out), marker_id,
                                                         std::move(values), std::move(offsets));
    loop_histories::builder::set_unattributed(result.histories, lead, lead_value);
    return result;
}

} // namespace journeyloop

#endif // JOURNEYLOOP_IMPL_SIMULATE_IPP
