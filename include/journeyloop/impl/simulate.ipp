// Definitions of simulate.hpp: holding times and simulation.
#ifndef JOURNEYLOOP_IMPL_SIMULATE_IPP
#define JOURNEYLOOP_IMPL_SIMULATE_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/errors.hpp>
#include <journeyloop/interrupt.hpp>
#include <journeyloop/impl/holding_times_builder.hpp>
#include <journeyloop/impl/journey_set_builder.hpp>
#include <journeyloop/impl/loop_histories_builder.hpp>
#include <journeyloop/simulate.hpp>
#include <journeyloop/threads.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

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
    std::uint64_t state = 0;
    walk_rng() noexcept = default;
    walk_rng(std::uint64_t seed, std::uint64_t index) noexcept
        : state(mix64(seed_part(seed) + mix64(index ^ 0x9e3779b97f4a7c15ULL))) {}
    /// The part of the state that only depends on the seed (the same for
    /// every walk of a call).
    static std::uint64_t seed_part(std::uint64_t seed) noexcept {
        return mix64(seed + 0x632be59bd9b4e019ULL);
    }
    /// The stream of walk `index`, from seed_part(seed).
    static walk_rng of(std::uint64_t seed_part, std::uint64_t index) noexcept {
        walk_rng r;
        r.state = mix64(seed_part + mix64(index ^ 0x9e3779b97f4a7c15ULL));
        return r;
    }
    std::uint64_t next() noexcept { return mix64(state += 0x9e3779b97f4a7c15ULL); }
    /// Uniform in [0, 1), 53 bits.
    double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1p-53; }
};

// Memory for the tables the walks read (alias tables, emissions), in huge
// pages where the system gives them on request (Linux, transparent huge
// pages): the walks read these tables at random, and in a large model,
// with small pages, most reads would also miss the cache of address
// translations.
template <class T>
struct table_allocator {
    using value_type = T;
    static constexpr std::size_t huge_page = std::size_t{2} << 20;
    table_allocator() noexcept = default;
    template <class U>
    table_allocator(const table_allocator<U>&) noexcept {} // NOLINT
    T* allocate(std::size_t n) {
        if (n > std::numeric_limits<std::size_t>::max() / sizeof(T) - huge_page)
            throw std::bad_array_new_length();
#if defined(__linux__)
        const std::size_t bytes = n * sizeof(T);
        if (bytes >= huge_page) {
            const std::size_t rounded = (bytes + huge_page - 1) / huge_page * huge_page;
            void* p = std::aligned_alloc(huge_page, rounded);
            if (!p) throw std::bad_alloc();
            madvise(p, rounded, MADV_HUGEPAGE); // a hint: small pages if refused
            return static_cast<T*>(p);
        }
#endif
        return std::allocator<T>().allocate(n);
    }
    void deallocate(T* p, std::size_t n) noexcept {
#if defined(__linux__)
        if (n * sizeof(T) >= huge_page) {
            std::free(p);
            return;
        }
#endif
        std::allocator<T>().deallocate(p, n);
    }
};
template <class T, class U>
bool operator==(const table_allocator<T>&, const table_allocator<U>&) noexcept {
    return true;
}
template <class T, class U>
bool operator!=(const table_allocator<T>&, const table_allocator<U>&) noexcept {
    return false;
}
template <class T>
using table_vector = std::vector<T, table_allocator<T>>;

// Alias tables (Vose) of the rows of a transition matrix: a draw is one
// uniform and one 16-byte table entry.
class alias_rows {
public:
    struct entry {
        double prob = 1.0;
        state_id first = 0, alias = 0;
    };

    // Appends the table of row `row` of `p` (the next state id's).
    void add_row(const transition_matrix& p, Eigen::Index row) {
        const std::size_t base = table_.size();
        const std::size_t m = positive(p, row);
        rows_.push_back({base, static_cast<std::uint32_t>(m), 0});
        table_.resize(base + m);
        scratch s;
        fill(p, row, table_.data() + base, s);
    }

    // The tables of every row of `p`, on `threads` threads (the same tables
    // as add_row() row by row).
    void add_rows(const transition_matrix& p, std::size_t threads) {
        const auto n = static_cast<std::size_t>(p.rows());
        const std::size_t first = rows_.size();
        rows_.resize(first + n);
        std::size_t base = table_.size();
        for (std::size_t r = 0; r < n; ++r) {
            const std::size_t m = positive(p, static_cast<Eigen::Index>(r));
            rows_[first + r] = {base, static_cast<std::uint32_t>(m), 0};
            base += m;
        }
        table_.resize(base);
        threads = std::max<std::size_t>(1, std::min(threads, n / 4096 + 1));
        std::atomic<std::size_t> next{0};
        auto work = [&] {
            scratch s;
            constexpr std::size_t chunk = 1024;
            for (;;) {
                const std::size_t begin = next.fetch_add(chunk);
                if (begin >= n) return;
                for (std::size_t r = begin; r < std::min(n, begin + chunk); ++r)
                    fill(p, static_cast<Eigen::Index>(r), table_.data() + rows_[first + r].offset,
                         s);
            }
        };
        std::vector<std::thread> workers;
        for (std::size_t t = 1; t < threads; ++t) workers.emplace_back(work);
        work();
        for (auto& w : workers) w.join();
    }

    state_id draw(state_id s, walk_rng& rng) const noexcept {
        double frac;
        const entry* e = locate(s, rng, frac);
        return resolve(e, frac);
    }
    // The two halves of a draw, so that walks drawn side by side can ask for
    // the entry's memory before they read it: the entry a uniform falls in
    // (and the uniform's fraction within it), then the state it gives.
    const entry* locate(state_id s, walk_rng& rng, double& frac) const noexcept {
        const row_info& r = rows_[s];
        const double t = rng.uniform() * double(r.size);
        auto i = static_cast<std::size_t>(t);
        if (i >= r.size) i = r.size - 1;
        frac = t - double(i);
        return table_.data() + r.offset + i;
    }
    static state_id resolve(const entry* e, double frac) noexcept {
        return frac < e->prob ? e->first : e->alias;
    }
    bool empty_row(state_id s) const noexcept { return rows_[s].size == 0; }
    // Keeps each row's state's last channel beside its table, so that the
    // walk reads the touch a state adds with the row it draws from next.
    void set_last(const table_vector<channel_id>& last) {
        for (std::size_t s = 0; s < rows_.size() && s < last.size(); ++s) rows_[s].last = last[s];
    }
    channel_id last(state_id s) const noexcept { return rows_[s].last; }
    const void* row_address(state_id s) const noexcept { return rows_.data() + s; }

private:
    struct row_info {
        std::uint64_t offset;
        std::uint32_t size;
        std::uint32_t last; // the row's state's last channel (set_last())
    };
    struct scratch {
        std::vector<std::pair<state_id, double>> entries;
        std::vector<double> scaled;
        std::vector<std::size_t> small, large;
    };
    static std::size_t positive(const transition_matrix& p, Eigen::Index row) {
        std::size_t m = 0;
        for (transition_matrix::InnerIterator it(p, row); it; ++it) m += it.value() > 0;
        return m;
    }
    // Writes the table of `row` at `out` (positive(p, row) entries).
    static void fill(const transition_matrix& p, Eigen::Index row, entry* out, scratch& s) {
        auto& entries = s.entries;
        entries.clear();
        double total = 0;
        for (transition_matrix::InnerIterator it(p, row); it; ++it)
            if (it.value() > 0) {
                entries.emplace_back(static_cast<state_id>(it.col()), it.value());
                total += it.value();
            }
        const std::size_t m = entries.size();
        if (m == 0) return;
        auto& scaled = s.scaled;
        auto& small = s.small;
        auto& large = s.large;
        scaled.resize(m);
        small.clear();
        large.clear();
        for (std::size_t i = 0; i < m; ++i) {
            scaled[i] = entries[i].second / total * double(m);
            out[i] = {1.0, entries[i].first, entries[i].first};
            (scaled[i] < 1.0 ? small : large).push_back(i);
        }
        while (!small.empty() && !large.empty()) {
            const std::size_t a = small.back(), l = large.back();
            small.pop_back();
            out[a].prob = scaled[a];
            out[a].alias = entries[l].first;
            scaled[l] = (scaled[l] + scaled[a]) - 1.0;
            if (scaled[l] < 1.0) {
                large.pop_back();
                small.push_back(l);
            }
        }
        // What is left has probability 1 up to rounding (prob stays 1).
    }

    table_vector<row_info> rows_;
    table_vector<entry> table_;
};

// What a state adds to a path: its whole tuple when entered from START, its
// last channel otherwise (padding is not a touch).
struct emissions {
    table_vector<std::size_t> offsets{0};
    std::vector<channel_id> tuple;
    table_vector<channel_id> last;
    explicit emissions(const transition_counts& c) {
        const auto n = c.num_states();
        last.assign(n, 0);
        offsets.reserve(std::size_t{n} + 1);
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
    // The block's rows: the end of each row's touches within `touches`, and
    // its counts and value. The journey set's row arrays are written from
    // them when the blocks are put together.
    std::vector<std::uint32_t> ends;
    std::vector<double> conversions, nulls, values;
    void end_row(double c, double u, double v) {
        // A block's touches stay below the journey set's own cap (which
        // refuses the set anyway), so that their ends fit in 32 bits.
        if (touches.size() > journey_set::max_touches) journey_set::check_touches(touches.size());
        ends.push_back(static_cast<std::uint32_t>(touches.size()));
        conversions.push_back(c);
        nulls.push_back(u);
        values.push_back(v);
    }
    void reserve_rows(std::size_t n) {
        ends.reserve(n);
        conversions.reserve(n);
        nulls.reserve(n);
        values.reserve(n);
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
                detail::stop_point();
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
// dictionary is set), on `threads` threads (0: the library's setting, at
// most two); returns the report of all blocks. Each block's rows and
// touches go to their place in the set's arrays, known from the blocks'
// sizes, and the block is freed once copied.
JOURNEYLOOP_IMPL_INLINE simulation_report concatenate(std::vector<block>& blocks, journey_set& js,
                                                      bool times, double unit_seconds,
                                                      std::size_t threads = 0) {
    journey_set::builder b(js);
    simulation_report report;
    const std::size_t nb = blocks.size();
    std::vector<std::size_t> touch_base(nb + 1, 0), row_base(nb + 1, 0);
    for (std::size_t i = 0; i < nb; ++i) {
        const auto& bl = blocks[i];
        report.walks += bl.report.walks;
        report.truncated += bl.report.truncated;
        report.empty += bl.report.empty;
        report.empty_conversions += bl.report.empty_conversions;
        report.empty_value += bl.report.empty_value;
        report.touches += bl.report.touches;
        touch_base[i + 1] = touch_base[i] + bl.touches.size();
        row_base[i + 1] = row_base[i] + bl.ends.size();
    }
    const std::size_t old_touches = js.total_touches();
    journey_set::check_touches(old_touches + touch_base[nb]);
    if (times) b.set_times(unit_seconds);
    channel_id* out = b.size_touches(old_touches + touch_base[nb]) + old_touches;
    double* out_times = times ? b.touch_times() + old_touches : nullptr;
    const auto rows = b.size_rows(row_base[nb]);
    // Each block's totals summed in row order from 0, then added in block
    // order: the sums of one row at a time into a set per block.
    std::vector<double> sums(3 * nb, 0.0);
    auto copy = [&](std::size_t i) {
        auto& bl = blocks[i];
        const std::size_t tb = touch_base[i], rb = row_base[i];
        if (!bl.touches.empty())
            std::memcpy(out + tb, bl.touches.data(), bl.touches.size() * sizeof(channel_id));
        if (times && !bl.times.empty())
            std::memcpy(out_times + tb, bl.times.data(), bl.times.size() * sizeof(double));
        const std::size_t base = old_touches + tb;
        double c = 0, u = 0, v = 0;
        for (std::size_t r = 0; r < bl.ends.size(); ++r) {
            rows.ends[rb + r] = static_cast<std::uint32_t>(base + bl.ends[r]);
            rows.conversions[rb + r] = bl.conversions[r];
            rows.nulls[rb + r] = bl.nulls[r];
            rows.values[rb + r] = bl.values[r];
            c += bl.conversions[r];
            u += bl.nulls[r];
            v += bl.values[r];
        }
        sums[3 * i] = c;
        sums[3 * i + 1] = u;
        sums[3 * i + 2] = v;
        // The block is in the set now.
        bl.touches = {};
        bl.times = {};
        bl.ends = {};
        bl.conversions = {};
        bl.nulls = {};
        bl.values = {};
    };
    if (threads == 0) threads = detail::stage_threads(2);
    threads = std::max<std::size_t>(1, std::min(threads, nb));
    std::atomic<std::size_t> next{0};
    auto work = [&] {
        for (;;) {
            const std::size_t i = next.fetch_add(1);
            if (i >= nb) return;
            copy(i);
        }
    };
    std::vector<std::thread> workers;
    for (std::size_t t = 1; t < threads; ++t) workers.emplace_back(work);
    work();
    for (auto& w : workers) w.join();
    double c = 0, u = 0, v = 0;
    for (std::size_t i = 0; i < nb; ++i) {
        c += sums[3 * i];
        u += sums[3 * i + 1];
        v += sums[3 * i + 2];
    }
    b.add_totals(c, u, v);
    return report;
}

// Writes the drawn blocks of a funnel simulation into a journey set, in
// block order, as they come: a block is copied into place once every block
// before it is, and its arrays are then reused for a later block, so that
// the blocks' memory is never held all at once (nor written fresh for every
// block). The set's arrays are sized once, for an estimate of the touches
// (grown when it is passed) and a row a walk, and cut at the end.
class block_writer {
public:
    block_writer(journey_set& js, std::size_t walks, std::size_t blocks, double touches_per_walk,
                 bool times, double unit_seconds)
        : b_(js), waiting_(blocks) {
        if (times) b_.set_times(unit_seconds);
        const double estimate = std::min(double(walks) * touches_per_walk, double(1u << 28));
        capacity_ = std::min(static_cast<std::size_t>(estimate), journey_set::max_touches);
        touches_at_ = b_.size_touches(capacity_);
        times_at_ = b_.touch_times();
        rows_at_ = b_.size_rows(walks);
    }
    // A block to draw into (empty arrays, perhaps with room).
    std::unique_ptr<block> take() {
        std::lock_guard<std::mutex> g(lock_);
        if (pool_.empty()) return std::make_unique<block>();
        auto p = std::move(pool_.back());
        pool_.pop_back();
        return p;
    }
    // Block `index` is drawn: written now if every block before it is.
    void finish(std::size_t index, std::unique_ptr<block> drawn) {
        std::lock_guard<std::mutex> g(lock_);
        waiting_[index] = std::move(drawn);
        while (next_ < waiting_.size() && waiting_[next_]) {
            place(*waiting_[next_]);
            pool_.push_back(std::move(waiting_[next_]));
            ++next_;
        }
    }
    // After the last block: the set cut to what was written, its totals.
    void close() {
        b_.size_touches(touches_);
        b_.resize_rows(rows_);
        b_.add_totals(conversions_, nulls_, value_);
    }

private:
    void place(block& bl) {
        const std::size_t n = bl.touches.size();
        journey_set::check_touches(touches_ + n);
        if (touches_ + n > capacity_) {
            capacity_ = std::min(journey_set::max_touches, std::max(2 * capacity_, touches_ + n));
            touches_at_ = b_.size_touches(capacity_);
            times_at_ = b_.touch_times();
        }
        if (n != 0) std::memcpy(touches_at_ + touches_, bl.touches.data(), n * sizeof(channel_id));
        if (times_at_ && n != 0)
            std::memcpy(times_at_ + touches_, bl.times.data(), n * sizeof(double));
        // The block's sums in row order from 0, added in block order (as a
        // set per block appended one after the other would sum them).
        double c = 0, u = 0, v = 0;
        for (std::size_t r = 0; r < bl.ends.size(); ++r) {
            const std::size_t at = rows_ + r;
            rows_at_.ends[at] = static_cast<std::uint32_t>(touches_ + bl.ends[r]);
            rows_at_.conversions[at] = bl.conversions[r];
            rows_at_.nulls[at] = bl.nulls[r];
            rows_at_.values[at] = bl.values[r];
            c += bl.conversions[r];
            u += bl.nulls[r];
            v += bl.values[r];
        }
        conversions_ += c;
        nulls_ += u;
        value_ += v;
        touches_ += n;
        rows_ += bl.ends.size();
        bl.touches.clear();
        bl.times.clear();
        bl.ends.clear();
        bl.conversions.clear();
        bl.nulls.clear();
        bl.values.clear();
    }

    journey_set::builder b_;
    std::mutex lock_;
    std::vector<std::unique_ptr<block>> pool_, waiting_;
    std::size_t next_ = 0;
    std::size_t capacity_ = 0, touches_ = 0, rows_ = 0;
    channel_id* touches_at_ = nullptr;
    double* times_at_ = nullptr;
    journey_set::builder::row_arrays rows_at_{};
    double conversions_ = 0, nulls_ = 0, value_ = 0;
};

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
    const std::size_t threads = simulation_threads(options);
    alias_rows rows;
    rows.add_rows(model.transitions(), threads);
    const emissions emit(c);
    rows.set_last(emit.last);
    std::vector<double> conv_value(n_states, 0.0);
    for (state_id s = 0; s < n_states; ++s) conv_value[s] = model.mean_conversion_value(s);
    const std::size_t max_touches = options.max_touches;
    const double touches_per_walk =
        std::min(double(max_touches), model.expected_touches() + double(c.order())) * 1.1 + 1.0;
    const std::uint64_t seed_part = walk_rng::seed_part(options.seed);

    // Walks are drawn side by side, a group of `lanes` at a time: each step
    // of a walk reads a row of the alias tables and then an entry of it,
    // which in a large model are far apart in memory; stepping every walk
    // of the group in turn, and asking for each read a round before it is
    // needed, lets those reads overlap instead of waiting one after the
    // other. Each walk draws from its own stream in its own order, so the
    // journeys are those of one walk after another; the group's rows are
    // written in walk order once all its walks have ended.
    constexpr std::size_t lanes = 32;
    struct lane {
        walk_rng rng;
        state_id s = tc::start;  // the state the walk is in
        state_id end = tc::null; // the absorbing state it ended in
        const alias_rows::entry* entry = nullptr;
        double frac = 0, clock = 0, hold = 0;
        bool pending = false;    // state `s` entered, its touches not yet written
        bool from_start = false; // ... entered from START
        bool truncated = false;
        std::vector<channel_id> touches;
        std::vector<double> times;
    };

    simulated_journeys result;
    journey_set::builder names(result.journeys);
    for (const auto& name : c.channels().names()) names.intern(name);
    block_writer writer(result.journeys, n, (n + walks_per_block - 1) / walks_per_block,
                        touches_per_walk, holding != nullptr,
                        holding ? holding->time_unit_seconds() : 0.0);

    auto draw = [&](std::size_t first, std::size_t last, block& done) {
        auto drawn = writer.take();
        block& out = *drawn;
        out.reserve_rows(last - first);
        // Room for the touches a block is expected to hold, so that they are
        // seldom copied as they grow.
        out.touches.reserve(static_cast<std::size_t>(double(last - first) * touches_per_walk));
        if (holding) out.times.reserve(out.touches.capacity());
        std::vector<lane> group(lanes);
        std::size_t active[lanes];
        for (std::size_t g0 = first; g0 < last; g0 += lanes) {
            const std::size_t size = std::min(lanes, last - g0);
            for (std::size_t j = 0; j < size; ++j) {
                lane& w = group[j];
                w.rng = walk_rng::of(seed_part, g0 + j);
                w.s = tc::start;
                w.end = tc::null;
                w.clock = 0;
                w.pending = w.truncated = false;
                w.touches.clear();
                w.times.clear();
                active[j] = j;
            }
            std::size_t live = size;
            while (live > 0) {
                // First half of a step: write the touches of the state
                // entered, stop at max_touches, and find the table entry of
                // the next draw.
                std::size_t kept = 0;
                for (std::size_t a = 0; a < live; ++a) {
                    lane& w = group[active[a]];
                    if (w.pending) {
                        w.pending = false;
                        const state_id t = w.s;
                        if (w.from_start) {
                            const std::size_t b = emit.offsets[t];
                            std::size_t len = emit.offsets[t + 1] - b;
                            if (len > max_touches) len = max_touches;
                            for (std::size_t j = 0; j < len; ++j)
                                w.touches.push_back(emit.tuple[b + j]);
                            if (holding) {
                                for (std::size_t j = 0; j < len; ++j)
                                    w.times.push_back(len > 1 ? w.hold * double(j) / double(len - 1)
                                                              : w.hold);
                                w.clock = len > 0 ? w.times.back() : 0.0;
                            }
                        } else {
                            w.clock += w.hold;
                            w.touches.push_back(rows.last(t));
                            if (holding) w.times.push_back(w.clock);
                        }
                        if (w.touches.size() >= max_touches) {
                            w.truncated = true;
                            continue;
                        }
                    }
                    if (rows.empty_row(w.s)) { // not reached in a fitted chain: ends as NULL
                        w.end = tc::null;
                        continue;
                    }
                    w.entry = rows.locate(w.s, w.rng, w.frac);
                    __builtin_prefetch(w.entry);
                    active[kept++] = active[a];
                }
                live = kept;
                // Second half: the state drawn; an absorbing one ends the
                // walk, a channel state is entered.
                kept = 0;
                for (std::size_t a = 0; a < live; ++a) {
                    lane& w = group[active[a]];
                    const state_id t = alias_rows::resolve(w.entry, w.frac);
                    const double hold =
                        holding ? -holding->mean(w.s, t) * std::log1p(-w.rng.uniform()) : 0.0;
                    if (t < tc::first_channel_state) {
                        w.clock += hold;
                        w.end = t;
                        continue;
                    }
                    w.from_start = w.s == tc::start;
                    w.hold = hold;
                    w.s = t;
                    w.pending = true;
                    __builtin_prefetch(rows.row_address(t));
                    if (w.from_start) __builtin_prefetch(&emit.offsets[t]);
                    active[kept++] = active[a];
                }
                live = kept;
            }
            // The group's rows, in walk order.
            for (std::size_t j = 0; j < size; ++j) {
                lane& w = group[j];
                ++out.report.walks;
                const std::size_t made = w.touches.size();
                const bool converted = !w.truncated && w.end == tc::conversion;
                if (made == 0) {
                    ++out.report.empty;
                    out.report.empty_conversions += converted ? 1.0 : 0.0;
                    out.report.empty_value += converted ? conv_value[w.s] : 0.0;
                    continue;
                }
                if (w.truncated) ++out.report.truncated;
                out.report.touches += made;
                for (const channel_id ch : w.touches) out.touches.push_back(ch);
                if (holding) {
                    // Times before the end: the conversion, or the last touch.
                    const double end = converted ? w.clock : w.times.back();
                    for (const double t : w.times) out.times.push_back(std::max(0.0, end - t));
                }
                out.end_row(converted ? 1.0 : 0.0, converted ? 0.0 : 1.0,
                            converted ? conv_value[w.s] : 0.0);
            }
        }
        done.report = out.report;
        out.report = simulation_report{};
        writer.finish(first / walks_per_block, std::move(drawn));
    };
    auto blocks = draw_blocks(n, threads, options.progress, draw);
    writer.close();
    for (const auto& bl : blocks) {
        result.report.walks += bl.report.walks;
        result.report.truncated += bl.report.truncated;
        result.report.empty += bl.report.empty;
        result.report.empty_conversions += bl.report.empty_conversions;
        result.report.empty_value += bl.report.empty_value;
        result.report.touches += bl.report.touches;
    }
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
