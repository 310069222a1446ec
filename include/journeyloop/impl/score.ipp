// Scoring open journeys: state lookups over the solution of the fit.
#ifndef JOURNEYLOOP_IMPL_SCORE_IPP
#define JOURNEYLOOP_IMPL_SCORE_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/impl/model_access.hpp>

#include <journeyloop/errors.hpp>
#include <journeyloop/limits.hpp>
#include <journeyloop/score.hpp>
#include <journeyloop/threads.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace journeyloop {

JOURNEYLOOP_IMPL_NAMESPACE(score_1) {

using tc = transition_counts;

// Input channels the model does not know, and the purchase marker of loop
// histories, mapped past every real channel id (padding is the largest id).
constexpr channel_id unknown_id = std::numeric_limits<channel_id>::max() - 1;
constexpr channel_id marker_id = std::numeric_limits<channel_id>::max() - 2;
constexpr std::uint32_t npos = std::numeric_limits<std::uint32_t>::max();
// Journeys a scoring thread takes at least.
constexpr std::size_t rows_per_thread = 100'000;

JOURNEYLOOP_IMPL_INLINE std::uint64_t hash_tuple(const channel_id* p, std::size_t n) noexcept {
    std::uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    for (std::size_t i = 0; i < n; ++i) {
        h ^= p[i];
        h *= 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
    }
    return h;
}

// Open addressing over tuples whose storage lives elsewhere: a slot holds an
// entry id + 1 and the entry's hash; `tuple(id)` gives the stored tuple to
// compare with. Sized once for the entries it will hold (no rehash).
class tuple_index {
public:
    void reserve(std::size_t entries) {
        std::size_t cap = 16;
        while (cap < 2 * entries) cap *= 2;
        slots_.assign(cap, {0, 0});
        mask_ = cap - 1;
    }
    template <class Tuple>
    std::uint32_t find(const channel_id* p, std::size_t n, Tuple&& tuple) const noexcept {
        const auto h = hash_tuple(p, n);
        for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
            const auto& s = slots_[i];
            if (s.first == 0) return npos;
            if (s.second == h) {
                const column_view<channel_id> t = tuple(s.first - 1);
                if (t.size() == n && std::equal(p, p + n, t.data())) return s.first - 1;
            }
        }
    }
    // `id`'s tuple must not be present yet.
    void insert(const channel_id* p, std::size_t n, std::uint32_t id) noexcept {
        const auto h = hash_tuple(p, n);
        std::size_t i = h & mask_;
        while (slots_[i].first != 0) i = (i + 1) & mask_;
        slots_[i] = {id + 1, h};
    }

private:
    std::vector<std::pair<std::uint32_t, std::uint64_t>> slots_;
    std::size_t mask_ = 0;
};

// Tuples (prefixes or suffixes of states) with the weighted sums of their
// states' probabilities and values.
struct pools {
    std::vector<channel_id> symbols;
    std::vector<std::size_t> offsets{0};
    std::vector<double> weight, weighted_p, weighted_v;
    tuple_index index;

    column_view<channel_id> tuple(std::uint32_t id) const noexcept {
        return {symbols.data() + offsets[id], offsets[id + 1] - offsets[id]};
    }
    std::uint32_t find(const channel_id* p, std::size_t n) const noexcept {
        return index.find(p, n, [this](std::uint32_t id) { return tuple(id); });
    }
    void add(const channel_id* p, std::size_t n, double w, double x, double v) {
        auto id = find(p, n);
        if (id == npos) {
            id = static_cast<std::uint32_t>(weight.size());
            symbols.insert(symbols.end(), p, p + n);
            offsets.push_back(symbols.size());
            weight.push_back(0);
            weighted_p.push_back(0);
            weighted_v.push_back(0);
            index.insert(p, n, id);
        }
        weight[id] += w;
        weighted_p[id] += w * x;
        weighted_v[id] += w * v;
    }
    std::size_t size() const noexcept { return weight.size(); }
    // A pool of no weight answers nothing (its states are never reached).
    bool usable(std::uint32_t id) const noexcept { return weight[id] > 0; }
    double probability(std::uint32_t id) const noexcept { return weighted_p[id] / weight[id]; }
    double value(std::uint32_t id) const noexcept { return weighted_v[id] / weight[id]; }
};

enum key_kind : std::uint32_t { kind_state, kind_prefix, kind_suffix, kind_start, kind_unknown };

// The answer for one journey (or one journey after one more touch).
struct found {
    double p = 0, v = 0;
    score_status status = score_status::exact;
    std::uint32_t matched = 0;
    key_kind kind = kind_start;
    std::uint32_t index = 0;
};

// One funnel view of a fitted model, ready to score: the probability and
// value of every state, its channel states by tuple, the prefixes of
// START's successors, and (built on first need) the suffixes of every state.
class view_scorer {
public:
    // `empty`: the repeat view of a loop model with no buyers, which does
    // not exist; its figures are all 0, and so are those of every state.
    view_scorer(const markov_model& model, bool repeat, bool empty, unknown_rule unknown)
        : model_(model), counts_(model.counts()), k_(counts_.order()), padded_(counts_.padded()),
          repeat_(repeat), empty_(empty), unknown_(unknown) {
        const auto n = counts_.num_states();
        const auto& chain = detail::chain_of(model);
        const auto conv = model.conversion_probabilities();
        x_.assign(conv.data(), conv.data() + conv.size());
        v_.assign(n, 0.0);
        v_[tc::start] = model.value_per_journey();
        for (state_id s = tc::first_channel_state; s < n; ++s)
            v_[s] = chain.x_value[chain.row_of[s - 2]];
        if (empty_) {
            std::fill(x_.begin(), x_.end(), 0.0);
            std::fill(v_.begin(), v_.end(), 0.0);
        }
        exact_.reserve(n);
        for (state_id s = tc::first_channel_state; s < n; ++s) {
            const auto t = counts_.state(s);
            exact_.insert(t.data(), t.size(), s);
        }
        if (k_ > 1 && !padded_) build_prefixes();
    }

    std::size_t order() const noexcept { return k_; }
    const transition_counts& counts() const noexcept { return counts_; }
    bool repeat() const noexcept { return repeat_; }
    const pools& prefixes() const noexcept { return prefix_; }
    // The suffix pools; only after some lookup has built them (suffix_built()).
    const pools& suffixes() const noexcept { return suffix_; }
    bool suffix_built() const noexcept { return suffix_built_; }
    double start_probability() const noexcept { return x_[tc::start]; }
    double start_value() const noexcept { return v_[tc::start]; }

    // `tail`: the last m = min(n, k) channels of the journey's segment (model
    // ids, or unknown_id), `whole`: the segment has fewer than k touches (m
    // is all of it). `scratch` is the calling thread's own.
    found lookup(const channel_id* tail, std::size_t m, bool whole,
                 std::vector<channel_id>& scratch) const {
        found f;
        if (m == 0) {
            f.p = x_[tc::start];
            f.v = v_[tc::start];
            return f;
        }
        std::size_t known = 0;
        while (known < m && tail[m - 1 - known] != unknown_id) ++known;
        if (known == m) {
            std::uint32_t id = npos;
            if (!whole) {
                id = find_state(tail, m);
            } else if (padded_) {
                scratch.assign(k_ - m, tc::padding);
                scratch.insert(scratch.end(), tail, tail + m);
                id = find_state(scratch.data(), k_);
            } else {
                const auto p = prefix_.find(tail, m);
                if (p != npos && prefix_.usable(p)) {
                    f.p = prefix_.probability(p);
                    f.v = prefix_.value(p);
                    f.matched = static_cast<std::uint32_t>(m);
                    f.kind = kind_prefix;
                    f.index = p;
                    return f;
                }
            }
            if (id != npos) {
                f.p = x_[id];
                f.v = v_[id];
                f.matched = static_cast<std::uint32_t>(m);
                f.kind = kind_state;
                f.index = id;
                return f;
            }
        }
        if (k_ > 1 && known > 0) {
            ensure_suffixes();
            for (std::size_t j = std::min(known, k_ - 1); j >= 1; --j) {
                const auto q = suffix_.find(tail + (m - j), j);
                if (q != npos && suffix_.usable(q)) {
                    f.p = suffix_.probability(q);
                    f.v = suffix_.value(q);
                    f.status = score_status::backed_off;
                    f.matched = static_cast<std::uint32_t>(j);
                    f.kind = kind_suffix;
                    f.index = q;
                    return f;
                }
            }
        }
        f.status = score_status::unknown;
        f.kind = kind_unknown;
        if (unknown_ == unknown_rule::nan) {
            f.p = f.v = std::numeric_limits<double>::quiet_NaN();
        } else {
            f.p = x_[tc::start];
            f.v = v_[tc::start];
        }
        return f;
    }

    std::string label(key_kind kind, std::uint32_t index) const {
        const std::string start = repeat_ ? "PURCHASE" : "START";
        switch (kind) {
        case kind_state: return counts_.state_label(index);
        case kind_prefix: return join(prefix_.tuple(index)) + " > ...";
        case kind_suffix: return "... > " + join(suffix_.tuple(index));
        case kind_start: return start;
        case kind_unknown: return unknown_ == unknown_rule::nan ? std::string() : start;
        }
        return {};
    }

private:
    std::uint32_t find_state(const channel_id* p, std::size_t n) const noexcept {
        return exact_.find(p, n, [this](std::uint32_t s) { return counts_.state(s); });
    }

    std::string join(column_view<channel_id> t) const {
        std::string out;
        for (auto c : t) {
            if (!out.empty()) out += " > ";
            out += c == tc::padding ? std::string("(start)") : counts_.channels().name(c);
        }
        return out;
    }

    // Prefixes of length 1 .. k - 1 of START's successors, weighted by
    // P(START -> t): the chain given the first touches of a journey.
    void build_prefixes() {
        const auto& p = model_.transitions();
        std::size_t entries = 0;
        for (transition_matrix::InnerIterator it(p, tc::start); it; ++it)
            entries += std::min<std::size_t>(counts_.state(static_cast<state_id>(it.col())).size(),
                                             k_ - 1);
        prefix_.index.reserve(entries);
        for (transition_matrix::InnerIterator it(p, tc::start); it; ++it) {
            const auto t = static_cast<state_id>(it.col());
            if (t < tc::first_channel_state || !(it.value() > 0)) continue;
            const auto tuple = counts_.state(t);
            for (std::size_t j = 1; j <= std::min(tuple.size(), k_ - 1); ++j)
                prefix_.add(tuple.data(), j, it.value(), x_[t], v_[t]);
        }
    }

    // Suffixes of length 1 .. k - 1 of every channel state (real channels
    // only), weighted by the state's expected visits from START.
    void ensure_suffixes() const {
        std::call_once(suffix_once_, [this] {
            const auto visits = model_.expected_visits();
            const auto n = counts_.num_states();
            std::size_t entries = 0;
            for (state_id s = tc::first_channel_state; s < n; ++s)
                entries += std::min(counts_.state(s).size(), k_ - 1);
            suffix_.index.reserve(entries);
            for (state_id s = tc::first_channel_state; s < n; ++s) {
                const double w = visits[s];
                if (!(w > 0)) continue;
                const auto t = counts_.state(s);
                for (std::size_t j = 1; j <= std::min(t.size(), k_ - 1); ++j) {
                    const auto* p = t.data() + (t.size() - j);
                    if (*p == tc::padding) break;
                    suffix_.add(p, j, w, x_[s], v_[s]);
                }
            }
            suffix_built_ = true;
        });
    }

    const markov_model& model_;
    const transition_counts& counts_;
    std::size_t k_;
    bool padded_, repeat_, empty_;
    unknown_rule unknown_;
    std::vector<double> x_, v_;
    tuple_index exact_;
    pools prefix_;
    mutable std::once_flag suffix_once_;
    mutable pools suffix_;
    mutable bool suffix_built_ = false;
};

// Rows of open journeys: a path of input channel ids per row.
struct open_rows {
    std::size_t size = 0;
    std::function<column_view<channel_id>(std::size_t)> path;
};

// The input's channels as model channel ids (unknown_id, marker_id).
JOURNEYLOOP_IMPL_INLINE std::vector<channel_id> map_channels(const channel_dictionary& input,
                                                             const channel_dictionary& model,
                                                             std::optional<channel_id> marker) {
    std::vector<channel_id> out(input.size(), unknown_id);
    for (channel_id c = 0; c < input.size(); ++c) {
        if (marker && c == *marker) {
            out[c] = marker_id;
            continue;
        }
        if (auto id = model.find(input.name(c))) out[c] = *id;
    }
    return out;
}

JOURNEYLOOP_IMPL_INLINE std::size_t thread_count(std::size_t rows, const score_options& options) {
    // An explicit number is taken as given (at most one thread a journey).
    if (options.threads != 0) return std::max<std::size_t>(1, std::min(options.threads, rows));
    const std::size_t wanted = (rows + rows_per_thread - 1) / rows_per_thread;
    return std::max<std::size_t>(1, std::min(detail::stage_threads(wanted), wanted));
}

// Runs f(begin, end) over contiguous parts of [0, rows) on the threads.
template <class F>
void parallel_rows(std::size_t rows, std::size_t threads, F&& f) {
    if (threads <= 1) {
        f(std::size_t{0}, rows);
        return;
    }
    std::vector<std::exception_ptr> errors(threads);
    std::vector<std::thread> pool;
    const std::size_t step = (rows + threads - 1) / threads;
    for (std::size_t t = 0; t < threads; ++t) {
        const std::size_t begin = std::min(rows, t * step), end = std::min(rows, begin + step);
        pool.emplace_back([&, t, begin, end] {
            try {
                f(begin, end);
            } catch (...) {
                errors[t] = std::current_exception();
            }
        });
    }
    for (auto& th : pool) th.join();
    for (auto& e : errors)
        if (e) std::rethrow_exception(e);
}

// The scoring of one call: one or two views, the rows, and what to compute.
class scoring {
public:
    scoring(const view_scorer& first, const view_scorer* repeat, bool loop,
            std::vector<channel_id> id_map, const open_rows& rows, const score_options& options)
        : first_(first), repeat_(repeat), loop_(loop), map_(std::move(id_map)), rows_(rows),
          options_(options) {
        if (rows.size == 0)
            throw invalid_input("no open journeys to score: give at least one journey");
    }

    journey_scores score() const {
        const auto n = rows_.size;
        journey_scores out;
        resize(out, n);
        std::vector<std::uint8_t> view(n, 0);
        std::vector<std::pair<key_kind, std::uint32_t>> keys(n);
        parallel_rows(n, thread_count(n, options_), [&](std::size_t begin, std::size_t end) {
            std::vector<channel_id> tail, scratch;
            for (std::size_t i = begin; i < end; ++i) {
                const auto [vp, whole] = segment(i, tail);
                view[i] = vp == &first_ ? 0 : 1;
                const auto f = vp->lookup(tail.data(), tail.size(), whole, scratch);
                store(out, i, f);
                keys[i] = {f.kind, f.index};
            }
        });
        finish(out, view, keys);
        return out;
    }

    touch_scores touches(const std::vector<std::vector<channel_id>>& groups) const {
        const auto& channels = first_.counts().channels();
        if (groups.empty())
            throw invalid_input("candidates: no candidate next touch given; give at least one "
                                "channel (or leave it out for every channel of the model)");
        for (std::size_t g = 0; g < groups.size(); ++g) {
            if (groups[g].empty())
                throw invalid_input("candidates: group " + std::to_string(g) +
                                    " has no channel; give every group at least one channel");
            for (auto c : groups[g])
                if (c >= channels.size())
                    throw unknown_channel("candidates: channel id " + std::to_string(c) +
                                          " is not a channel of the model (it has " +
                                          std::to_string(channels.size()) + ")");
        }
        const auto n = rows_.size, m = groups.size();
        const bool best_only = options_.best_only;
        // The table is refused before anything is allocated when it would not
        // fit; each journey's best group alone takes one entry a journey.
        if (!best_only) {
            const auto bytes = next_touch_memory(n, m);
            const auto cap = effective_memory_limit();
            if (bytes > cap)
                throw memory_limit_exceeded(
                    bytes, cap,
                    "next_touch's table of " + std::to_string(n) + " journeys x " +
                        std::to_string(m) + " candidates",
                    "keep only each journey's best candidate (best=True in Python, "
                    "score_options::best_only in C++), or score the journeys in chunks");
        }
        touch_scores out;
        out.current = score();
        out.journeys = n;
        out.groups = m;
        const std::size_t entries = best_only ? n : n * m;
        out.channel.assign(entries, 0);
        out.probability.assign(entries, 0.0);
        out.expected_value.assign(entries, 0.0);
        out.gain.assign(entries, 0.0);
        out.value_gain.assign(entries, 0.0);
        out.status.assign(entries, score_status::exact);
        out.best.assign(n, 0);
        parallel_rows(n, thread_count(n, options_), [&](std::size_t begin, std::size_t end) {
            std::vector<channel_id> tail, scratch, longer;
            for (std::size_t i = begin; i < end; ++i) {
                const auto [vp, whole] = segment(i, tail);
                const auto& v = *vp;
                const auto k = v.order();
                // The tail after one more touch: the last min(n + 1, k) channels.
                longer.assign(tail.begin() + (whole ? 0 : 1), tail.end());
                longer.push_back(0);
                const bool whole_after = whole && longer.size() < k;
                double best_p = -1;
                // best_only: the entry of the best group so far (group 0 until
                // one beats -1, as best[i] is 0 then).
                found chosen;
                channel_id chosen_c = 0;
                for (std::size_t g = 0; g < m; ++g) {
                    found best;
                    channel_id best_c = groups[g][0];
                    bool any = false;
                    for (auto c : groups[g]) {
                        longer.back() = c;
                        const auto f = v.lookup(longer.data(), longer.size(), whole_after, scratch);
                        if (!any || f.p > best.p) {
                            best = f;
                            best_c = c;
                            any = true;
                        }
                    }
                    if (!best_only) {
                        put(out, i * m + g, i, best, best_c);
                    } else if (g == 0 || best.p > best_p) {
                        chosen = best;
                        chosen_c = best_c;
                    }
                    if (best.p > best_p) {
                        best_p = best.p;
                        out.best[i] = static_cast<std::uint32_t>(g);
                    }
                }
                if (best_only) put(out, i, i, chosen, chosen_c);
            }
        });
        return out;
    }

private:
    // The view row i is scored in, with `tail` set to the last min(n, k)
    // model channel ids of its segment (since its last purchase in the
    // loop), and whether the segment has fewer than k touches (n < k).
    std::pair<const view_scorer*, bool> segment(std::size_t i,
                                                std::vector<channel_id>& tail) const {
        const auto path = rows_.path(i);
        std::size_t begin = 0;
        bool repeat = false;
        if (loop_)
            for (std::size_t j = path.size(); j > 0; --j)
                if (map_[path[j - 1]] == marker_id) {
                    begin = j;
                    repeat = true;
                    break;
                }
        const auto& v = repeat ? *repeat_ : first_;
        const auto k = v.order();
        const std::size_t len = path.size() - begin;
        const std::size_t from = len > k ? path.size() - k : begin;
        tail.clear();
        for (std::size_t j = from; j < path.size(); ++j) tail.push_back(map_[path[j]]);
        return {&v, len < k};
    }

    // Entry `e` of the table: journey `i` after a touch of `c`, found as `f`.
    static void put(touch_scores& out, std::size_t e, std::size_t i, const found& f, channel_id c) {
        out.channel[e] = c;
        out.probability[e] = f.p;
        out.expected_value[e] = f.v;
        out.gain[e] = f.p - out.current.probability[i];
        out.value_gain[e] = f.v - out.current.expected_value[i];
        out.status[e] = f.status;
    }

    static void resize(journey_scores& out, std::size_t n) {
        out.probability.assign(n, 0.0);
        out.expected_value.assign(n, 0.0);
        out.status.assign(n, score_status::exact);
        out.matched.assign(n, 0);
        out.key.assign(n, 0);
    }

    static void store(journey_scores& out, std::size_t i, const found& f) {
        out.probability[i] = f.p;
        out.expected_value[i] = f.v;
        out.status[i] = f.status;
        out.matched[i] = f.matched;
    }

    // Labels of the states used, numbered in order of first use; counts;
    // the loop figures.
    void finish(journey_scores& out, const std::vector<std::uint8_t>& view,
                const std::vector<std::pair<key_kind, std::uint32_t>>& keys) const {
        const view_scorer* views[2] = {&first_, repeat_};
        std::vector<std::uint32_t> numbers[2][5];
        std::unordered_map<std::string, std::uint32_t> label_number;
        for (int w = 0; w < 2; ++w) {
            if (!views[w]) continue;
            const auto& s = *views[w];
            numbers[w][kind_state].assign(s.counts().num_states(), npos);
            numbers[w][kind_prefix].assign(s.prefixes().size(), npos);
            numbers[w][kind_suffix].assign(s.suffix_built() ? s.suffixes().size() : 0, npos);
            numbers[w][kind_start].assign(1, npos);
            numbers[w][kind_unknown].assign(1, npos);
        }
        for (std::size_t i = 0; i < keys.size(); ++i) {
            const auto [kind, index] = keys[i];
            const auto w = view[i];
            auto& number = numbers[w][kind][kind == kind_start || kind == kind_unknown ? 0 : index];
            if (number == npos) {
                // Keys of the same name share it: a channel state of both
                // loop views, START for an unknown journey and for START.
                auto label = views[w]->label(kind, index);
                const auto [it, added] =
                    label_number.emplace(label, static_cast<std::uint32_t>(out.labels.size()));
                if (added) out.labels.push_back(std::move(label));
                number = it->second;
            }
            out.key[i] = number;
            switch (out.status[i]) {
            case score_status::exact: ++out.exact; break;
            case score_status::backed_off: ++out.backed_off; break;
            case score_status::unknown: ++out.unknown; break;
            }
        }
        if (!loop_) return;
        out.repeat = view;
        const double r = repeat_ ? repeat_->start_probability() : 0.0;
        const double vr = repeat_ ? repeat_->start_value() : 0.0;
        out.expected_purchases.resize(keys.size());
        out.future_value.resize(keys.size());
        const double inf = std::numeric_limits<double>::infinity();
        for (std::size_t i = 0; i < keys.size(); ++i) {
            const double p = out.probability[i], v = out.expected_value[i];
            if (r < 1) {
                out.expected_purchases[i] = p / (1 - r);
                out.future_value[i] = v + p * vr / (1 - r);
            } else {
                out.expected_purchases[i] = p > 0 ? inf : p;
                out.future_value[i] = p > 0 && vr > 0 ? inf : v;
            }
        }
    }

    const view_scorer& first_;
    const view_scorer* repeat_;
    bool loop_;
    std::vector<channel_id> map_;
    const open_rows& rows_;
    const score_options& options_;
};

JOURNEYLOOP_IMPL_INLINE open_rows rows_of(const journey_set& open) {
    return {open.size(), [&open](std::size_t i) { return open.path(i); }};
}
JOURNEYLOOP_IMPL_INLINE open_rows rows_of(const loop_histories& open) {
    return {open.size(), [&open](std::size_t i) { return open.path(i); }};
}

// The two views of a loop model (the repeat one empty when no customer
// purchased), and what the rows need.
struct loop_views {
    view_scorer first;
    view_scorer repeat;
    loop_views(const loop_model& model, unknown_rule unknown)
        : first(model.first(), false, false, unknown),
          repeat(model.repeat() ? *model.repeat() : model.first(), true, !model.repeat(), unknown) {
    }
};

JOURNEYLOOP_IMPL_INLINE std::optional<channel_id> marker_of(const journey_set& open,
                                                            const score_options& options) {
    return open.channels().find(options.purchase);
}

} // JOURNEYLOOP_IMPL_NAMESPACE(score_1)

JOURNEYLOOP_IMPL_INLINE journey_scores score_journeys(const markov_model& model,
                                                      const journey_set& open,
                                                      const score_options& options) {
    const auto rows = rows_of(open);
    const view_scorer view(model, false, false, options.unknown);
    return scoring(view, nullptr, false,
                   map_channels(open.channels(), model.counts().channels(), std::nullopt), rows,
                   options)
        .score();
}

JOURNEYLOOP_IMPL_INLINE journey_scores score_journeys(const loop_model& model,
                                                      const loop_histories& open,
                                                      const score_options& options) {
    const auto rows = rows_of(open);
    const loop_views views(model, options.unknown);
    return scoring(views.first, &views.repeat, true,
                   map_channels(open.channels(), model.channels(), open.purchase_channel()), rows,
                   options)
        .score();
}

JOURNEYLOOP_IMPL_INLINE journey_scores score_journeys(const loop_model& model,
                                                      const journey_set& open,
                                                      const score_options& options) {
    const auto rows = rows_of(open);
    const loop_views views(model, options.unknown);
    return scoring(views.first, &views.repeat, true,
                   map_channels(open.channels(), model.channels(), marker_of(open, options)), rows,
                   options)
        .score();
}

JOURNEYLOOP_IMPL_INLINE std::size_t next_touch_memory(std::size_t journeys,
                                                      std::size_t groups) noexcept {
    // A channel id, four doubles and a status code an entry.
    constexpr std::size_t entry = sizeof(channel_id) + 4 * sizeof(double) + sizeof(score_status);
    return detail::saturating_product(detail::saturating_product(journeys, groups), entry);
}

JOURNEYLOOP_IMPL_INLINE touch_scores next_touch(const markov_model& model, const journey_set& open,
                                                const std::vector<std::vector<channel_id>>& groups,
                                                const score_options& options) {
    const auto rows = rows_of(open);
    const view_scorer view(model, false, false, options.unknown);
    return scoring(view, nullptr, false,
                   map_channels(open.channels(), model.counts().channels(), std::nullopt), rows,
                   options)
        .touches(groups);
}

JOURNEYLOOP_IMPL_INLINE touch_scores next_touch(const loop_model& model, const loop_histories& open,
                                                const std::vector<std::vector<channel_id>>& groups,
                                                const score_options& options) {
    const auto rows = rows_of(open);
    const loop_views views(model, options.unknown);
    return scoring(views.first, &views.repeat, true,
                   map_channels(open.channels(), model.channels(), open.purchase_channel()), rows,
                   options)
        .touches(groups);
}

JOURNEYLOOP_IMPL_INLINE touch_scores next_touch(const loop_model& model, const journey_set& open,
                                                const std::vector<std::vector<channel_id>>& groups,
                                                const score_options& options) {
    const auto rows = rows_of(open);
    const loop_views views(model, options.unknown);
    return scoring(views.first, &views.repeat, true,
                   map_channels(open.channels(), model.channels(), marker_of(open, options)), rows,
                   options)
        .touches(groups);
}

} // namespace journeyloop

#endif // JOURNEYLOOP_IMPL_SCORE_IPP
