// Bootstrap and Bayesian replicates of fitted chains.
#ifndef JOURNEYLOOP_IMPL_UNCERTAINTY_IPP
#define JOURNEYLOOP_IMPL_UNCERTAINTY_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/impl/counts_access.hpp>
#include <journeyloop/impl/loop_log.hpp>

#include <journeyloop/errors.hpp>
#include <journeyloop/interrupt.hpp>
#include <journeyloop/threads.hpp>
#include <journeyloop/uncertainty.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <limits>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace journeyloop {

JOURNEYLOOP_IMPL_NAMESPACE(uncertainty_1) {

using tc = transition_counts;

JOURNEYLOOP_IMPL_INLINE std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// xoshiro256**: small, fast, and seeded per replicate from (seed, r), so
// that a replicate's draws do not depend on which thread makes them.
class replicate_rng {
public:
    using result_type = std::uint64_t;
    replicate_rng(std::uint64_t seed, std::uint64_t replicate) {
        std::uint64_t x = seed;
        const std::uint64_t mixed = splitmix64(x) ^ (replicate * 0xD1B54A32D192ED03ull);
        std::uint64_t y = mixed;
        for (auto& w : s_) w = splitmix64(y);
    }
    static constexpr result_type min() { return 0; }
    static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }
    result_type operator()() noexcept {
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    std::uint64_t s_[4];
};

// Walker's alias table of `m` weights (Vose's construction): entry j is
// kept with probability prob[j], else it gives alias[j]. Weights summing to
// 0 leave prob 0 everywhere (such a table is never drawn from).
JOURNEYLOOP_IMPL_INLINE void build_alias(const double* weights, std::size_t m, double* prob,
                                         std::uint32_t* alias) {
    double sum = 0;
    for (std::size_t j = 0; j < m; ++j) sum += weights[j];
    if (!(sum > 0)) return;
    std::vector<double> scaled(m);
    std::vector<std::uint32_t> small, large;
    for (std::size_t j = 0; j < m; ++j) {
        scaled[j] = weights[j] * static_cast<double>(m) / sum;
        (scaled[j] < 1.0 ? small : large).push_back(static_cast<std::uint32_t>(j));
    }
    while (!small.empty() && !large.empty()) {
        const auto s = small.back(), l = large.back();
        small.pop_back();
        prob[s] = scaled[s];
        alias[s] = l;
        scaled[l] -= 1.0 - scaled[s];
        if (scaled[l] < 1.0) {
            large.pop_back();
            small.push_back(l);
        }
    }
    for (auto j : large) prob[j] = 1.0;
    for (auto j : small) prob[j] = 1.0; // rounding leftovers, each within rounding of 1
}

// One draw from an alias table of m entries: the high half of a 64-bit word
// picks the entry, the low half decides between it and its alias.
inline std::size_t alias_draw(std::uint64_t u, std::size_t m, const double* prob,
                              const std::uint32_t* alias) {
    const auto j = static_cast<std::size_t>(((u >> 32) * m) >> 32);
    const double f = static_cast<double>(u & 0xffffffffu) * 0x1p-32;
    return f < prob[j] ? j : alias[j];
}

// Draws a multinomial of n trials over categories of given weights, in two
// steps so that the memory accesses of each step stay within a table that
// fits a cache: each trial's block of 1,024 categories (an alias table over
// the blocks), then each block's trials between its categories (the block's
// alias table). Exact, and free of std::binomial_distribution, whose
// std::lgamma writes a global (a data race between replicates on threads).
class multinomial_sampler {
public:
    static constexpr std::size_t block = 1024;

    explicit multinomial_sampler(const std::vector<double>& weights)
        : size_(weights.size()), prob_(weights.size(), 0.0), alias_(weights.size(), 0) {
        const std::size_t blocks = (size_ + block - 1) / block;
        std::vector<double> block_weight(blocks, 0.0);
        for (std::size_t b = 0; b < blocks; ++b) {
            const std::size_t first = b * block, m = std::min(block, size_ - first);
            for (std::size_t j = 0; j < m; ++j) block_weight[b] += weights[first + j];
            build_alias(weights.data() + first, m, prob_.data() + first, alias_.data() + first);
        }
        block_prob_.assign(blocks, 0.0);
        block_alias_.assign(blocks, 0);
        build_alias(block_weight.data(), blocks, block_prob_.data(), block_alias_.data());
    }

    // counts[k] = trials of category k (counts is resized and zeroed).
    void draw(replicate_rng& rng, std::uint64_t trials, std::vector<std::uint32_t>& counts) const {
        counts.assign(size_, 0);
        const std::size_t blocks = block_prob_.size();
        if (blocks == 0) return;
        std::vector<std::uint64_t> per_block(blocks, 0);
        for (std::uint64_t i = 0; i < trials; ++i)
            ++per_block[alias_draw(rng(), blocks, block_prob_.data(), block_alias_.data())];
        for (std::size_t b = 0; b < blocks; ++b) {
            const std::size_t first = b * block, m = std::min(block, size_ - first);
            const double* prob = prob_.data() + first;
            const std::uint32_t* alias = alias_.data() + first;
            std::uint32_t* out = counts.data() + first;
            for (std::uint64_t i = 0; i < per_block[b]; ++i)
                ++out[alias_draw(rng(), m, prob, alias)];
        }
    }

private:
    std::size_t size_;
    std::vector<double> prob_;
    std::vector<std::uint32_t> alias_;
    std::vector<double> block_prob_;
    std::vector<std::uint32_t> block_alias_;
};

// The threads replicates run on: options.threads, or the machine's (at most
// one a replicate).
JOURNEYLOOP_IMPL_INLINE std::size_t replicate_threads(const replicate_options& options) {
    const std::size_t n = options.replicates;
    return std::max<std::size_t>(
        1, std::min(n, options.threads != 0 ? options.threads : detail::stage_threads(n)));
}

// Runs `n` replicates on `threads` threads: make(r, rng, worker) gives
// replicate r's statistic (worker < threads names the calling thread, for
// buffers of its own). Results land in replicate order; the first exception
// stops the rest and is rethrown.
template <class Make>
replicate_table run_replicates(const replicate_options& options, const progress_callback& progress,
                               Make make) {
    const std::size_t n = options.replicates;
    std::vector<std::vector<double>> rows(n);
    const std::size_t threads = replicate_threads(options);
    std::atomic<std::size_t> next{0};
    std::atomic<bool> stop{false};
    std::exception_ptr error;
    std::mutex mutex;
    std::size_t done = 0;
    auto work = [&](std::size_t worker) {
        try {
            for (;;) {
                if (stop.load(std::memory_order_relaxed)) return;
                detail::stop_point();
                const std::size_t r = next.fetch_add(1);
                if (r >= n) return;
                replicate_rng rng(options.seed, r);
                rows[r] = make(r, rng, worker);
                std::lock_guard<std::mutex> lock(mutex);
                ++done;
                if (progress && !stop.load(std::memory_order_relaxed)) progress(done, n);
            }
        } catch (...) {
            std::lock_guard<std::mutex> lock(mutex);
            if (!error) error = std::current_exception();
            stop.store(true);
        }
    };
    std::vector<std::thread> pool;
    for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(work, t);
    work(0);
    for (auto& t : pool) t.join();
    if (error) std::rethrow_exception(error);
    replicate_table out;
    out.replicates = n;
    out.width = n > 0 ? rows[0].size() : 0;
    out.values.reserve(n * out.width);
    for (const auto& row : rows) {
        if (row.size() != out.width)
            throw invalid_input("the statistic gave " + std::to_string(row.size()) +
                                " figures on one replicate and " + std::to_string(out.width) +
                                " on another: it must give the same number every time");
        out.values.insert(out.values.end(), row.begin(), row.end());
    }
    return out;
}

JOURNEYLOOP_IMPL_INLINE void check_options(const replicate_options& options) {
    if (options.replicates < 2)
        throw invalid_input("replicates: at least 2 are needed for an interval, got " +
                            std::to_string(options.replicates));
    if (!(options.prior >= 0) || !std::isfinite(options.prior))
        throw invalid_input("prior: the Dirichlet prior must be a finite number >= 0, got " +
                            std::to_string(options.prior));
}

// Counts of `base`'s states with new transition weights (indexed like
// base's stored transitions), conversions and value per last state, and
// totals. States with no weight out are left out (no journey of the
// replicate reaches them) and the others numbered anew in the same order.
JOURNEYLOOP_IMPL_INLINE transition_counts with_weights(const transition_counts& base,
                                                       const std::vector<double>& weights,
                                                       const std::vector<double>& end_conv,
                                                       const std::vector<double>& end_value,
                                                       double conversions, double nulls,
                                                       double value) {
    const std::size_t n = base.num_states();
    std::vector<state_id> map(n, 0);
    detail::counts_parts parts;
    parts.order = base.order();
    parts.collapse_repeats = base.collapse_repeats();
    parts.padded = base.padded();
    parts.pooled = base.pooled();
    parts.channels = base.channels();
    std::vector<char> keep(n, 0);
    for (state_id s = 0; s < tc::first_channel_state; ++s) keep[s] = 1;
    std::size_t slot = 0, kept_edges = 0, kept_channels = 0;
    for (state_id s = 0; s < n; ++s) {
        const std::size_t row = base.targets(s).size();
        for (std::size_t i = 0; i < row; ++i)
            if (weights[slot + i] > 0) keep[s] = 1, ++kept_edges;
        slot += row;
        if (keep[s] && s >= tc::first_channel_state) kept_channels += base.state(s).size();
    }
    // The kept states' tuples in one flat array, and the edges sized once:
    // a replicate is built many times, from states numbering millions.
    parts.flat_states.reserve(kept_channels);
    parts.flat_offsets.push_back(0);
    parts.edges.reserve(kept_edges);
    state_id next = tc::first_channel_state;
    for (state_id s = 0; s < n; ++s) {
        if (s < tc::first_channel_state) {
            map[s] = s;
            continue;
        }
        if (!keep[s]) continue;
        map[s] = next++;
        const auto t = base.state(s);
        parts.flat_states.insert(parts.flat_states.end(), t.begin(), t.end());
        parts.flat_offsets.push_back(parts.flat_states.size());
    }
    parts.end_conversions.assign(next, 0.0);
    parts.end_value.assign(next, 0.0);
    slot = 0;
    for (state_id s = 0; s < n; ++s) {
        const auto targets = base.targets(s);
        for (std::size_t i = 0; i < targets.size(); ++i, ++slot)
            if (weights[slot] > 0)
                parts.edges.emplace_back((std::uint64_t{map[s]} << 32) | map[targets[i]],
                                         weights[slot]);
        if (keep[s]) {
            parts.end_conversions[map[s]] = end_conv[s];
            parts.end_value[map[s]] = end_value[s];
        }
    }
    parts.total_conversions = conversions;
    parts.total_nulls = nulls;
    parts.total_value = value;
    return detail::counts_access::assemble(std::move(parts));
}

// A Bayes replicate of `counts`: every stored weight w becomes a Gamma(w +
// prior) draw, so that each row, normalised, is a draw of its Dirichlet
// posterior. Ends and totals stay.
JOURNEYLOOP_IMPL_INLINE transition_counts posterior_draw(const transition_counts& counts,
                                                         double prior, replicate_rng& rng) {
    std::vector<double> weights;
    weights.reserve(counts.num_transitions());
    std::vector<double> end_conv(counts.num_states()), end_value(counts.num_states());
    for (state_id s = 0; s < counts.num_states(); ++s) {
        end_conv[s] = counts.conversions_from(s);
        end_value[s] = counts.value_from(s);
        for (const double w : counts.weights(s)) {
            std::gamma_distribution<double> gamma(w + prior, 1.0);
            double g = gamma(rng);
            // A draw that underflows to 0 would drop the transition.
            if (!(g > 0)) g = std::numeric_limits<double>::min();
            weights.push_back(g);
        }
    }
    return with_weights(counts, weights, end_conv, end_value, counts.total_conversions(),
                        counts.total_nulls(), counts.total_value());
}

JOURNEYLOOP_IMPL_INLINE void check_prior(const transition_counts& counts, double prior) {
    if (prior > 0) return;
    for (state_id s = 0; s < counts.num_states(); ++s)
        for (const double w : counts.weights(s))
            if (!(w > 0))
                throw invalid_input("prior: a transition of state '" + counts.state_label(s) +
                                    "' has weight 0, which a Dirichlet posterior needs a prior "
                                    "> 0 for");
}

} // JOURNEYLOOP_IMPL_NAMESPACE(uncertainty_1)

JOURNEYLOOP_IMPL_INLINE std::string_view to_string(uncertainty_method m) noexcept {
    return m == uncertainty_method::bayes ? "bayes" : "bootstrap";
}

JOURNEYLOOP_IMPL_INLINE uncertainty_method uncertainty_method_from_string(std::string_view name) {
    if (name == "bootstrap") return uncertainty_method::bootstrap;
    if (name == "bayes") return uncertainty_method::bayes;
    throw invalid_input("uncertainty: '" + std::string(name) +
                        "' is not a method; use 'bootstrap' or 'bayes'");
}

JOURNEYLOOP_IMPL_INLINE std::vector<double> replicate_table::column(std::size_t j) const {
    if (j >= width)
        throw invalid_input("column " + std::to_string(j) + " of a table of " +
                            std::to_string(width) + " figures");
    std::vector<double> out(replicates);
    for (std::size_t r = 0; r < replicates; ++r) out[r] = values[r * width + j];
    return out;
}

JOURNEYLOOP_IMPL_INLINE std::vector<interval> percentile_intervals(const replicate_table& table,
                                                                   double level) {
    if (!(level > 0 && level < 1))
        throw invalid_input("ci: the level must be between 0 and 1 (such as 0.95), got " +
                            std::to_string(level));
    std::vector<interval> out(table.width);
    if (table.replicates == 0) return out;
    auto quantile = [](const std::vector<double>& sorted, double q) {
        const double h = q * static_cast<double>(sorted.size() - 1);
        const auto lo = static_cast<std::size_t>(std::floor(h));
        const auto hi = std::min(lo + 1, sorted.size() - 1);
        return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
    };
    for (std::size_t j = 0; j < table.width; ++j) {
        auto x = table.column(j);
        std::sort(x.begin(), x.end());
        out[j] = {quantile(x, (1 - level) / 2), quantile(x, (1 + level) / 2)};
    }
    return out;
}

struct replicate_plan::data {
    transition_counts counts;
    std::vector<double> conversions, nulls, value;   // per row
    std::vector<std::size_t> row_offsets;            // into slots
    std::vector<std::uint32_t> slots;                // inner edges of each row
    std::vector<state_id> last;                      // last state of each row
    std::vector<std::uint32_t> conv_slot, null_slot; // per state (none: max)
    // By customer: the unit of each row, and the number of units.
    std::vector<std::uint32_t> unit;
    std::size_t customers = 0;
    double journeys = 0;
};

JOURNEYLOOP_IMPL_INLINE const transition_counts& replicate_plan::counts() const noexcept {
    return data_->counts;
}

JOURNEYLOOP_IMPL_INLINE double replicate_plan::units() const noexcept {
    return data_->unit.empty() ? data_->journeys : static_cast<double>(data_->customers);
}

JOURNEYLOOP_IMPL_INLINE bool replicate_plan::by_customer() const noexcept {
    return !data_->unit.empty();
}

JOURNEYLOOP_IMPL_INLINE transition_counts replicate_plan::reweighted(
    const std::vector<double>& conversions, const std::vector<double>& nulls) const {
    const auto& d = *data_;
    const std::size_t rows = d.conversions.size();
    if (conversions.size() != rows || nulls.size() != rows)
        throw invalid_input("reweighted: one conversion weight and one null weight per row (" +
                            std::to_string(rows) + " rows) are needed");
    const auto& c = d.counts;
    std::vector<double> weights(c.num_transitions(), 0.0);
    std::vector<double> end_conv(c.num_states(), 0.0), end_value(c.num_states(), 0.0);
    double total_conv = 0, total_nulls = 0, total_value = 0;
    constexpr auto none = std::numeric_limits<std::uint32_t>::max();
    for (std::size_t i = 0; i < rows; ++i) {
        const double wc = conversions[i], wn = nulls[i];
        if (!(wc >= 0) || !(wn >= 0) || !std::isfinite(wc) || !std::isfinite(wn))
            throw invalid_input("reweighted: the weights of row " + std::to_string(i) +
                                " must be finite numbers >= 0");
        if (wc + wn == 0) continue;
        if (d.row_offsets[i] == d.row_offsets[i + 1])
            throw invalid_input("reweighted: row " + std::to_string(i) +
                                " has no outcome in the journeys and cannot be weighted");
        const double w = wc + wn;
        for (auto k = d.row_offsets[i]; k < d.row_offsets[i + 1]; ++k) weights[d.slots[k]] += w;
        const state_id last = d.last[i];
        if (wc > 0) {
            if (d.conv_slot[last] == none)
                throw invalid_input("reweighted: row " + std::to_string(i) +
                                    " has no conversion to weight");
            weights[d.conv_slot[last]] += wc;
            const double v = d.conversions[i] > 0 ? d.value[i] * wc / d.conversions[i] : 0.0;
            end_conv[last] += wc;
            end_value[last] += v;
            total_value += v;
        }
        if (wn > 0) {
            if (d.null_slot[last] == none)
                throw invalid_input("reweighted: row " + std::to_string(i) +
                                    " has no null outcome to weight");
            weights[d.null_slot[last]] += wn;
        }
        total_conv += wc;
        total_nulls += wn;
    }
    return with_weights(c, weights, end_conv, end_value, total_conv, total_nulls, total_value);
}

JOURNEYLOOP_IMPL_INLINE replicate_plan make_replicate_plan(const journey_set& journeys,
                                                           const counting_options& options) {
    auto d = std::make_shared<replicate_plan::data>();
    d->counts = count_transitions(journeys, options);
    const auto& c = d->counts;
    if (c.num_transitions() >= std::numeric_limits<std::uint32_t>::max())
        throw state_space_too_large(c.num_transitions(),
                                    std::numeric_limits<std::uint32_t>::max() - 1);
    // Slot of each stored transition: row offsets of the counts.
    std::vector<std::size_t> row_start(c.num_states() + 1, 0);
    for (state_id s = 0; s < c.num_states(); ++s)
        row_start[s + 1] = row_start[s] + c.targets(s).size();
    auto slot_of = [&](state_id from, state_id to) -> std::uint32_t {
        const auto t = c.targets(from);
        const auto it = std::lower_bound(t.begin(), t.end(), to);
        if (it == t.end() || *it != to) return std::numeric_limits<std::uint32_t>::max();
        return static_cast<std::uint32_t>(row_start[from] + (it - t.begin()));
    };
    d->conv_slot.resize(c.num_states());
    d->null_slot.resize(c.num_states());
    for (state_id s = 0; s < c.num_states(); ++s) {
        d->conv_slot[s] = slot_of(s, tc::conversion);
        d->null_slot[s] = slot_of(s, tc::null);
    }
    // The counts' states by their channels, to find each window's state.
    const std::size_t k = options.order;
    std::unordered_map<std::string, state_id> index;
    index.reserve(c.num_states());
    auto key_of = [](const channel_id* first, std::size_t len) {
        return std::string(reinterpret_cast<const char*>(first), len * sizeof(channel_id));
    };
    for (state_id s = tc::first_channel_state; s < c.num_states(); ++s) {
        const auto t = c.state(s);
        index.emplace(key_of(t.data(), t.size()), s);
    }
    const std::size_t rows = journeys.size();
    d->conversions.resize(rows);
    d->nulls.resize(rows);
    d->value.resize(rows);
    d->last.assign(rows, tc::start);
    d->row_offsets.assign(rows + 1, 0);
    std::vector<channel_id> padded;
    std::string key;
    for (std::size_t row = 0; row < rows; ++row) {
        d->conversions[row] = journeys.conversions(row);
        d->nulls[row] = journeys.nulls(row);
        d->value[row] = journeys.value(row);
        d->journeys += journeys.conversions(row) + journeys.nulls(row);
        // The windows as count_transitions() takes them (rows without an
        // outcome add nothing).
        if (journeys.conversions(row) + journeys.nulls(row) != 0) {
            auto path = journeys.path(row);
            if (options.padded) {
                padded.assign(k - 1, tc::padding);
                padded.insert(padded.end(), path.begin(), path.end());
                path = padded;
            }
            const std::size_t n = path.size();
            const std::size_t windows = n >= k ? n - k + 1 : 1;
            const std::size_t len = std::min(n, k);
            state_id prev = tc::start;
            for (std::size_t i = 0; i < windows; ++i) {
                const auto it = index.find(key_of(path.data() + i, len));
                if (it == index.end())
                    throw invalid_input("internal: a window of row " + std::to_string(row) +
                                        " is not a state of its counts");
                const state_id s = it->second;
                if (s == prev && options.collapse_repeats) continue;
                d->slots.push_back(slot_of(prev, s));
                prev = s;
            }
            d->last[row] = prev;
        }
        d->row_offsets[row + 1] = d->slots.size();
    }
    if (journeys.has_customers()) {
        // Units: the customers that own a row, numbered in order of first row.
        std::unordered_map<std::size_t, std::uint32_t> unit_of;
        d->unit.resize(rows);
        for (std::size_t row = 0; row < rows; ++row) {
            const auto [it, added] = unit_of.try_emplace(
                journeys.customer(row), static_cast<std::uint32_t>(unit_of.size()));
            d->unit[row] = it->second;
        }
        d->customers = unit_of.size();
    }
    replicate_plan plan;
    plan.data_ = std::move(d);
    return plan;
}

JOURNEYLOOP_IMPL_INLINE replicate_table replicate_rows(const replicate_plan& plan,
                                                       const replicate_options& options,
                                                       const row_statistic& statistic,
                                                       const progress_callback& progress) {
    check_options(options);
    if (options.method != uncertainty_method::bootstrap)
        throw invalid_input("replicate_rows: rows are reweighted by the bootstrap only");
    if (!statistic) throw invalid_input("replicate_rows: no statistic given");
    const auto& counts = plan.counts();
    if (!(counts.total_conversions() + counts.total_nulls() > 0))
        throw invalid_input("no journey has an outcome: there is nothing to resample");
    // The categories: each row's converting and non-converting journeys, or
    // each customer.
    const auto& d = *plan.data_;
    const std::size_t n_rows = d.conversions.size();
    std::vector<double> category_weight;
    if (plan.by_customer()) {
        category_weight.assign(d.customers, 1.0);
    } else {
        category_weight.resize(2 * n_rows);
        for (std::size_t i = 0; i < n_rows; ++i) {
            category_weight[2 * i] = d.conversions[i];
            category_weight[2 * i + 1] = d.nulls[i];
        }
    }
    const multinomial_sampler sampler(category_weight);
    const auto trials = static_cast<std::uint64_t>(std::llround(plan.units()));
    if (trials == 0)
        throw invalid_input("the journeys hold fewer than one journey in all: there is nothing "
                            "to resample");
    // Each thread's buffers, reused from replicate to replicate: fresh
    // memory of this size would be paged in anew each time.
    struct buffers {
        std::vector<std::uint32_t> drawn;
        std::vector<double> wc, wn;
    };
    std::vector<buffers> workspace(replicate_threads(options));
    return run_replicates(options, progress,
                          [&](std::size_t, replicate_rng& rng, std::size_t worker) {
                              auto& [drawn, wc, wn] = workspace[worker];
                              sampler.draw(rng, trials, drawn);
                              wc.resize(n_rows);
                              wn.resize(n_rows);
                              if (plan.by_customer()) {
                                  for (std::size_t i = 0; i < n_rows; ++i) {
                                      const double m = drawn[d.unit[i]];
                                      wc[i] = m * d.conversions[i];
                                      wn[i] = m * d.nulls[i];
                                  }
                              } else {
                                  for (std::size_t i = 0; i < n_rows; ++i) {
                                      wc[i] = drawn[2 * i];
                                      wn[i] = drawn[2 * i + 1];
                                  }
                              }
                              return statistic(wc, wn);
                          });
}

JOURNEYLOOP_IMPL_INLINE replicate_table replicate_markov(const replicate_plan& plan,
                                                         const markov_options& fitting,
                                                         const replicate_options& options,
                                                         const model_statistic& statistic,
                                                         const progress_callback& progress) {
    if (options.method == uncertainty_method::bayes)
        return replicate_markov(plan.counts(), fitting, options, statistic, progress);
    if (!statistic) throw invalid_input("replicate_markov: no statistic given");
    // Every replicate's chain is the observed one with some transitions
    // left out: each is refitted on the observed chain's structure.
    const auto observed = fit_markov(plan.counts(), fitting);
    return replicate_rows(
        plan, options,
        [&](const std::vector<double>& wc, const std::vector<double>& wn) {
            return statistic(refit_markov(observed, plan.reweighted(wc, wn)));
        },
        progress);
}

JOURNEYLOOP_IMPL_INLINE replicate_table replicate_markov(const journey_set& journeys,
                                                         const counting_options& counting,
                                                         const markov_options& fitting,
                                                         const replicate_options& options,
                                                         const model_statistic& statistic,
                                                         const progress_callback& progress) {
    check_options(options);
    if (options.method == uncertainty_method::bayes)
        return replicate_markov(count_transitions(journeys, counting), fitting, options, statistic,
                                progress);
    return replicate_markov(make_replicate_plan(journeys, counting), fitting, options, statistic,
                            progress);
}

JOURNEYLOOP_IMPL_INLINE replicate_table replicate_markov(const transition_counts& counts,
                                                         const markov_options& fitting,
                                                         const replicate_options& options,
                                                         const model_statistic& statistic,
                                                         const progress_callback& progress) {
    check_options(options);
    if (options.method != uncertainty_method::bayes)
        throw invalid_input("the bootstrap resamples journeys: give the journeys (counts alone "
                            "allow uncertainty='bayes')");
    if (!statistic) throw invalid_input("replicate_markov: no statistic given");
    if (!(counts.total_conversions() + counts.total_nulls() > 0))
        throw invalid_input("no journey has an outcome: there is no posterior to draw from");
    check_prior(counts, options.prior);
    // A draw has the observed chain's transitions, with new probabilities.
    const auto observed = fit_markov(counts, fitting);
    return run_replicates(options, progress, [&](std::size_t, replicate_rng& rng, std::size_t) {
        return statistic(refit_markov(observed, posterior_draw(counts, options.prior, rng)));
    });
}

namespace detail {
// A loop model from views whose weights are posterior draws: fit_loop()
// checks that the views' weights are the flows of whole histories (what
// comes into a state leaves it, the totals match), which draws of the rows
// are not; the model's figures need only the rows' probabilities.
struct loop_model_access {
    static loop_model fit_drawn(const loop_counts& counts, const markov_options& options) {
        auto first = fit_markov(counts.first, options);
        std::optional<markov_model> repeat;
        if (counts.repeat) repeat = fit_markov(*counts.repeat, options);
        return loop_model(std::move(first), std::move(repeat), counts);
    }
};
} // namespace detail

struct loop_replicate_plan::data {
    loop_counts counts;
    detail::loop_log log;
    std::vector<double> customers; // per history
    // Per op: its transition's slot in the first and the repeat view (none:
    // max).
    std::vector<std::uint32_t> first_slot, repeat_slot;
};

JOURNEYLOOP_IMPL_INLINE const loop_counts& loop_replicate_plan::counts() const noexcept {
    return data_->counts;
}

JOURNEYLOOP_IMPL_INLINE double loop_replicate_plan::units() const noexcept {
    return data_->counts.customers;
}

JOURNEYLOOP_IMPL_NAMESPACE(uncertainty_2) {
// Slot of the stored transition (from, to) of `c` (max if absent).
JOURNEYLOOP_IMPL_INLINE std::uint32_t slot_in(const transition_counts& c,
                                              const std::vector<std::size_t>& row_start,
                                              state_id from, state_id to) {
    const auto t = c.targets(from);
    const auto it = std::lower_bound(t.begin(), t.end(), to);
    if (it == t.end() || *it != to) return std::numeric_limits<std::uint32_t>::max();
    return static_cast<std::uint32_t>(row_start[from] + static_cast<std::size_t>(it - t.begin()));
}

JOURNEYLOOP_IMPL_INLINE std::vector<std::size_t> row_starts(const transition_counts& c) {
    std::vector<std::size_t> out(c.num_states() + 1, 0);
    for (state_id s = 0; s < c.num_states(); ++s) out[s + 1] = out[s] + c.targets(s).size();
    return out;
}
} // JOURNEYLOOP_IMPL_NAMESPACE(uncertainty_2)

JOURNEYLOOP_IMPL_INLINE loop_replicate_plan
make_loop_replicate_plan(const loop_histories& histories, const counting_options& options) {
    auto d = std::make_shared<loop_replicate_plan::data>();
    d->counts = detail::count_loop_transitions_logged(histories, options, d->log);
    const auto& first = d->counts.first;
    const auto* repeat = d->counts.repeat ? &*d->counts.repeat : nullptr;
    if (first.num_transitions() >= std::numeric_limits<std::uint32_t>::max())
        throw state_space_too_large(first.num_transitions(),
                                    std::numeric_limits<std::uint32_t>::max() - 1);
    const auto first_rows = row_starts(first);
    const auto repeat_rows = repeat ? row_starts(*repeat) : std::vector<std::size_t>{};
    constexpr auto none = std::numeric_limits<std::uint32_t>::max();
    d->first_slot.assign(d->log.ops.size(), none);
    d->repeat_slot.assign(d->log.ops.size(), none);
    for (std::size_t k = 0; k < d->log.ops.size(); ++k) {
        const auto& op = d->log.ops[k];
        if (op.kind == detail::loop_op::shared_edge || op.kind == detail::loop_op::first_start)
            d->first_slot[k] = slot_in(first, first_rows, op.from, op.to);
        if (repeat &&
            (op.kind == detail::loop_op::shared_edge || op.kind == detail::loop_op::repeat_start))
            d->repeat_slot[k] = slot_in(*repeat, repeat_rows, op.from, op.to);
    }
    d->customers.resize(histories.size());
    for (std::size_t i = 0; i < histories.size(); ++i) d->customers[i] = histories.customers(i);
    loop_replicate_plan plan;
    plan.data_ = std::move(d);
    return plan;
}

JOURNEYLOOP_IMPL_INLINE loop_counts
loop_replicate_plan::reweighted(const std::vector<double>& customers) const {
    const auto& d = *data_;
    const std::size_t rows = d.customers.size();
    if (customers.size() != rows)
        throw invalid_input("reweighted: one weight per history (" + std::to_string(rows) +
                            " histories) is needed, got " + std::to_string(customers.size()));
    const auto& first = d.counts.first;
    const auto* repeat = d.counts.repeat ? &*d.counts.repeat : nullptr;
    std::vector<double> wf(first.num_transitions(), 0.0),
        wr(repeat ? repeat->num_transitions() : 0, 0.0);
    std::vector<double> end_conv(first.num_states(), 0.0), end_value(first.num_states(), 0.0);
    double start_conv[2] = {0, 0}, start_value[2] = {0, 0};
    double n_customers = 0, purchases = 0, value = 0, buyers = 0, repeats = 0, first_value = 0;
    for (std::size_t i = 0; i < rows; ++i) {
        const double w = customers[i];
        if (!(w >= 0) || !std::isfinite(w))
            throw invalid_input("reweighted: the weight of history " + std::to_string(i) +
                                " must be a finite number >= 0");
        if (w == 0 || d.customers[i] == 0) continue;
        n_customers += w;
        for (auto k = d.log.offsets[i]; k < d.log.offsets[i + 1]; ++k) {
            const auto& op = d.log.ops[k];
            if (op.kind != detail::loop_op::purchase) {
                if (d.first_slot[k] != std::numeric_limits<std::uint32_t>::max())
                    wf[d.first_slot[k]] += w;
                if (d.repeat_slot[k] != std::numeric_limits<std::uint32_t>::max())
                    wr[d.repeat_slot[k]] += w;
                continue;
            }
            const double v = op.value * w;
            if (op.from == transition_counts::start) {
                start_conv[op.first ? 0 : 1] += w;
                start_value[op.first ? 0 : 1] += v;
            } else {
                end_conv[op.from] += w;
                end_value[op.from] += v;
            }
            purchases += w;
            value += v;
            if (op.first) {
                buyers += w;
                first_value += v;
            } else {
                repeats += w;
            }
        }
    }
    loop_counts out;
    out.customers = n_customers;
    out.purchases = purchases;
    out.value = value;
    out.buyers = buyers;
    out.repeat_purchases = repeats;
    end_conv[transition_counts::start] = start_conv[0];
    end_value[transition_counts::start] = start_value[0];
    out.first =
        with_weights(first, wf, end_conv, end_value, buyers, n_customers - buyers, first_value);
    if (repeat && buyers > 0) {
        end_conv[transition_counts::start] = start_conv[1];
        end_value[transition_counts::start] = start_value[1];
        out.repeat =
            with_weights(*repeat, wr, end_conv, end_value, repeats, buyers, value - first_value);
    }
    return out;
}

JOURNEYLOOP_IMPL_INLINE replicate_table replicate_loop(const loop_replicate_plan& plan,
                                                       const markov_options& fitting,
                                                       const replicate_options& options,
                                                       const loop_statistic& statistic,
                                                       const progress_callback& progress) {
    check_options(options);
    if (options.method != uncertainty_method::bootstrap)
        throw invalid_input("the bayes method draws from a fitted loop model: give the model");
    if (!statistic) throw invalid_input("replicate_loop: no statistic given");
    const auto& d = *plan.data_;
    const multinomial_sampler sampler(d.customers);
    const auto trials = static_cast<std::uint64_t>(std::llround(plan.units()));
    if (trials == 0)
        throw invalid_input("the histories hold fewer than one customer in all: there is "
                            "nothing to resample");
    std::vector<std::pair<std::vector<std::uint32_t>, std::vector<double>>> workspace(
        replicate_threads(options));
    return run_replicates(options, progress,
                          [&](std::size_t, replicate_rng& rng, std::size_t worker) {
                              auto& [drawn, w] = workspace[worker];
                              sampler.draw(rng, trials, drawn);
                              w.assign(drawn.begin(), drawn.end());
                              return statistic(fit_loop(plan.reweighted(w), fitting));
                          });
}

JOURNEYLOOP_IMPL_INLINE replicate_table replicate_loop(const loop_model& model,
                                                       const replicate_options& options,
                                                       const loop_statistic& statistic,
                                                       const progress_callback& progress) {
    check_options(options);
    if (options.method != uncertainty_method::bayes)
        throw invalid_input("the bootstrap resamples customers: give the histories' plan "
                            "(counts alone allow uncertainty='bayes')");
    if (!statistic) throw invalid_input("replicate_loop: no statistic given");
    const auto& first = model.first().counts();
    const auto* repeat = model.repeat() ? &model.repeat()->counts() : nullptr;
    check_prior(first, options.prior);
    if (repeat) check_prior(*repeat, options.prior);
    auto ends = [](const transition_counts& c, std::vector<double>& conv,
                   std::vector<double>& value) {
        conv.resize(c.num_states());
        value.resize(c.num_states());
        for (state_id s = 0; s < c.num_states(); ++s) {
            conv[s] = c.conversions_from(s);
            value[s] = c.value_from(s);
        }
    };
    return run_replicates(options, progress, [&](std::size_t, replicate_rng& rng, std::size_t) {
        auto gamma = [&](double w) {
            std::gamma_distribution<double> g(w + options.prior, 1.0);
            const double x = g(rng);
            return x > 0 ? x : std::numeric_limits<double>::min();
        };
        // The first view: its START row, then the channel rows, which the
        // repeat view shares (the same draws), then the repeat START row.
        std::vector<double> wf;
        wf.reserve(first.num_transitions());
        for (state_id s = 0; s < first.num_states(); ++s)
            for (const double w : first.weights(s)) wf.push_back(gamma(w));
        loop_counts out;
        out.customers = model.customers();
        out.purchases = model.purchases();
        out.value = model.value();
        out.buyers = model.buyers();
        out.repeat_purchases = model.repeat_purchases();
        std::vector<double> conv, value;
        ends(first, conv, value);
        out.first = with_weights(first, wf, conv, value, first.total_conversions(),
                                 first.total_nulls(), first.total_value());
        if (repeat) {
            std::vector<double> wr;
            wr.reserve(repeat->num_transitions());
            std::size_t shared = first.targets(transition_counts::start).size();
            for (const double w : repeat->weights(transition_counts::start)) wr.push_back(gamma(w));
            for (state_id s = 1; s < repeat->num_states(); ++s)
                for (std::size_t i = 0; i < repeat->targets(s).size(); ++i)
                    wr.push_back(wf[shared++]);
            ends(*repeat, conv, value);
            out.repeat = with_weights(*repeat, wr, conv, value, repeat->total_conversions(),
                                      repeat->total_nulls(), repeat->total_value());
        }
        return statistic(detail::loop_model_access::fit_drawn(out, model.options()));
    });
}

} // namespace journeyloop

#endif // JOURNEYLOOP_IMPL_UNCERTAINTY_IPP
