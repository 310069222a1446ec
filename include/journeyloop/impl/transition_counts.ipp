// Counting order-k transitions.
#ifndef JOURNEYLOOP_IMPL_TRANSITION_COUNTS_IPP
#define JOURNEYLOOP_IMPL_TRANSITION_COUNTS_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/impl/counts_access.hpp>
#include <journeyloop/impl/journey_set_builder.hpp>
#include <journeyloop/impl/memory.hpp>

#include <journeyloop/detail/flat_map.hpp>

#include <journeyloop/errors.hpp>
#include <journeyloop/interrupt.hpp>
#include <journeyloop/limits.hpp>
#include <journeyloop/transition_counts.hpp>
#include <journeyloop/threads.hpp>

#include <array>
#include <utility>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <mutex>
#include <functional>
#include <thread>
#include <tuple>
#include <unordered_map>

namespace journeyloop {

JOURNEYLOOP_IMPL_INLINE std::string transition_counts::state_label(state_id s) const {
    switch (s) {
    case start: return "START";
    case conversion: return "CONVERSION";
    case null: return "NULL";
    default: break;
    }
    std::string out;
    for (auto c : state(s)) {
        if (!out.empty()) out += " > ";
        out += c == padding ? std::string("(start)") : channels_.name(c);
    }
    return out;
}

JOURNEYLOOP_IMPL_INLINE bool transition_counts::state_contains(state_id s,
                                                               channel_id c) const noexcept {
    for (auto x : state(s))
        if (x == c) return true;
    return false;
}

JOURNEYLOOP_IMPL_INLINE double transition_counts::out_weight(state_id s) const noexcept {
    double total = 0;
    for (auto w : weights(s)) total += w;
    return total;
}

JOURNEYLOOP_IMPL_NAMESPACE(transition_counts_1) {

// Upper bound on the number of distinct states: no more than the windows
// observed, and no more than the tuples of length <= k over C channels.
JOURNEYLOOP_IMPL_INLINE std::size_t estimate_states(const journey_set& js, std::size_t k,
                                                    bool padded) {
    std::size_t windows = 0;
    for (std::size_t r = 0; r < js.size(); ++r) {
        const auto n = js.path(r).size();
        windows += padded ? n : (n >= k ? n - k + 1 : 1);
    }
    const double c = static_cast<double>(js.channels().size());
    double tuples = 0;
    for (std::size_t j = 1; j <= k && tuples < 1e18; ++j) tuples += std::pow(c, double(j));
    const double bound = std::min(static_cast<double>(windows), tuples);
    return static_cast<std::size_t>(bound) + 3;
}

JOURNEYLOOP_IMPL_INLINE std::size_t threads_for(std::size_t rows, std::size_t estimate,
                                                const counting_options& options) {
    std::size_t threads = options.threads;
    if (threads == 0)
        threads = estimate > two_thread_state_limit
                      ? 1
                      : detail::stage_threads(rows >= two_thread_rows ? 2 : 1);
    return std::min(threads, std::max<std::size_t>(1, rows / 50000));
}

// The checks count_transitions() makes before it allocates; the bound on
// the number of states.
JOURNEYLOOP_IMPL_INLINE std::size_t checked_estimate(const journey_set& journeys,
                                                     const counting_options& options) {
    detail::check_order(options.order);
    detail::check_channel_names(journeys);
    const auto estimate = estimate_states(journeys, options.order, options.padded);
    if (estimate > options.max_states) throw state_space_too_large(estimate, options.max_states);
    detail::check_memory(detail::counting_memory(estimate, options.order), "counting transitions");
    return estimate;
}

// Order 1 (collapsed, unpadded) of journeys parsed from path tables: the
// sums were gathered while the touches were parsed; only the states remain
// to be numbered, on the calling thread.
JOURNEYLOOP_IMPL_INLINE bool counts_from_sums(const journey_set& journeys,
                                              const counting_options& options) {
    const auto* sums = journey_set::builder::order1_sums(journeys);
    return options.order == 1 && options.collapse_repeats && !options.padded && sums != nullptr &&
           sums->stride == journeys.channels().size() + 1;
}

} // JOURNEYLOOP_IMPL_NAMESPACE(transition_counts_1)

namespace detail {

JOURNEYLOOP_IMPL_INLINE void check_order(std::size_t order) {
    if (order == 0 || order > max_order)
        throw invalid_input("order must be in [1, " + std::to_string(max_order) + "], got " +
                            std::to_string(order));
}

JOURNEYLOOP_IMPL_INLINE void check_channel_names(const journey_set& journeys, bool loop) {
    const auto& channels = journeys.channels();
    for (channel_id c = 0; c < channels.size(); ++c) {
        const auto& name = channels.name(c);
        if (!state_name(name) && !(loop && loop_state_name(name))) continue;
        for (std::size_t row = 0; row < journeys.size(); ++row)
            for (auto t : journeys.path(row))
                if (t == c)
                    throw invalid_input(
                        "row " + std::to_string(row) + ": channel '" + name +
                        "' has the name of a state of the chain (" +
                        (loop ? "START, PURCHASE, END; CONVERSION and NULL are reserved too"
                              : "START, CONVERSION, NULL") +
                        "): rename the channel");
    }
}

} // namespace detail

JOURNEYLOOP_IMPL_INLINE std::size_t counting_threads(const journey_set& journeys,
                                                     const counting_options& options) {
    const auto estimate = checked_estimate(journeys, options);
    return counts_from_sums(journeys, options) ? 1
                                               : threads_for(journeys.size(), estimate, options);
}

JOURNEYLOOP_IMPL_NAMESPACE(transition_counts_2) {

// Rows between two checks for a stop request (interrupt.hpp): few, since a
// row may hold hundreds of touches; and between two reports of progress.
constexpr std::size_t stop_check_rows = 512;
constexpr std::size_t progress_rows = 4096;

// Counts the rows of one part of a journey set with its own state numbering
// (states numbered from first_channel_state in order of first appearance);
// parts are then merged in order, which numbers the states as one pass
// over all rows would.
class counter {
public:
    counter(std::size_t order, const counting_options& options, std::size_t channels)
        : k_(order), collapse_(options.collapse_repeats), padded_(options.padded),
          // States are interned by their channel tuple: packed into 64 bits
          // (15 bits a channel) up to order 4 with fewer than 32,766
          // channels, by its bytes otherwise.
          packed_(order <= 4 && channels < 0x7FFE),
          // Order 1: a state is a channel, found by direct indexing, and the
          // edges are a dense matrix when the channels are few.
          direct_(order == 1 && !options.padded), max_dense_(direct_ ? channels + 3 : 0),
          dense_(direct_ && max_dense_ <= 2048), state_of_channel_(direct_ ? channels : 0, 0),
          dense_edges_(dense_ ? max_dense_ * max_dense_ : 0, 0.0) {}

    std::size_t num_states() const noexcept {
        return tuple_offsets_.size() - 1 + transition_counts::first_channel_state;
    }

    /// Called (when set) with the rows counted since its last call, every
    /// progress_rows rows and at the end of count().
    std::function<void(std::size_t)> on_rows;

    void count(const journey_set& journeys, std::size_t begin, std::size_t end) {
        reported_ = begin;
        count_rows(journeys, begin, end);
        if (on_rows) on_rows(end - reported_);
    }

private:
    // A check point: a stop request (interrupt.hpp), and the rows counted.
    void checkpoint(std::size_t row) {
        detail::stop_point();
        if (on_rows && row % progress_rows == 0 && row > reported_) {
            on_rows(row - reported_);
            reported_ = row;
        }
    }

    void count_rows(const journey_set& journeys, std::size_t begin, std::size_t end) {
        // Channel space needs a second (C + 1)^2 matrix for the part: up
        // to 8 MB (1,023 channels); beyond, the general loop below.
        if (direct_ && dense_ && collapse_ && state_of_channel_.size() < 1024) {
            count_direct(journeys, begin, end);
            return;
        }
        if (packed_ && !padded_) {
            count_packed(journeys, begin, end);
            return;
        }
        for (std::size_t row = begin; row < end; ++row) {
            if (row % stop_check_rows == 0) checkpoint(row);
            const double conv = journeys.conversions(row);
            const double nulls = journeys.nulls(row);
            const double weight = conv + nulls;
            // A row with no outcomes carries no information about
            // transitions; it stays in the journeys but adds no state (a
            // state with no way out would make the chain unsolvable).
            if (weight == 0) continue;
            auto path = journeys.path(row);
            if (padded_) {
                // (start) x (k - 1), then the path: every window holds k symbols.
                padded_path_.assign(k_ - 1, transition_counts::padding);
                padded_path_.insert(padded_path_.end(), path.begin(), path.end());
                path = padded_path_;
            }
            const auto [windows, len] = windows_of(path.size());
            state_id prev = transition_counts::start;
            for (std::size_t i = 0; i < windows; ++i) {
                const state_id s = intern(path.data() + i, len);
                if (s == prev && collapse_) continue;
                add_edge(prev, s, weight);
                prev = s;
            }
            end_row(prev, conv, nulls, journeys.value(row));
        }
    }

    // The rows of packed states (order 4 or less, no padding), as the loop
    // above counts them, with the hash tables' slots fetched ahead: with
    // millions of states and transitions nearly every lookup missed the
    // caches, one after the other. The states of the row `state_ahead` rows
    // on are fetched before a row is interned, and a row's transitions are
    // added `edge_delay` rows later, once their slots have arrived. Each
    // transition's sum still takes the rows in order, and the states are
    // numbered as they first appear, so the counts are those of the loop
    // above, to the bit.
    void count_packed(const journey_set& journeys, std::size_t begin, std::size_t end) {
        constexpr std::size_t state_ahead = 8;
        struct pending_row {
            std::vector<std::uint64_t> edges; ///< (from << 32) | to
            double weight = 0, conv = 0, nulls = 0, value = 0;
            state_id last = 0;
            bool counted = false;
        };
        std::array<pending_row, edge_delay> ring;
        auto fetch_states = [&](std::size_t row) {
            if (row >= end || journeys.conversions(row) + journeys.nulls(row) == 0) return;
            const auto path = journeys.path(row);
            const auto [windows, len] = windows_of(path.size());
            for (std::size_t i = 0; i < windows; ++i)
                packed_index_.prefetch(pack(path.data() + i, len));
        };
        auto add_row = [&](pending_row& r) {
            if (!r.counted) return;
            for (const auto code : r.edges)
                add_edge(static_cast<state_id>(code >> 32), static_cast<state_id>(code), r.weight);
            end_row(r.last, r.conv, r.nulls, r.value);
            r.counted = false;
        };
        for (std::size_t row = begin; row < begin + state_ahead && row < end; ++row)
            fetch_states(row);
        std::size_t turn = 0;
        for (std::size_t row = begin; row < end; ++row) {
            if (row % stop_check_rows == 0) checkpoint(row);
            fetch_states(row + state_ahead);
            const double conv = journeys.conversions(row);
            const double nulls = journeys.nulls(row);
            const double weight = conv + nulls;
            if (weight == 0) continue;
            // The slot of the row edge_delay rows back: its transitions go in
            // now, before this row's take its place.
            auto& r = ring[turn];
            turn = turn + 1 == edge_delay ? 0 : turn + 1;
            add_row(r);
            const auto path = journeys.path(row);
            const auto [windows, len] = windows_of(path.size());
            r.edges.clear();
            state_id prev = transition_counts::start;
            for (std::size_t i = 0; i < windows; ++i) {
                const state_id s = intern(path.data() + i, len);
                if (s == prev && collapse_) continue;
                const auto code = (std::uint64_t{prev} << 32) | s;
                edges_.prefetch(code);
                r.edges.push_back(code);
                prev = s;
            }
            const auto from_last = std::uint64_t{prev} << 32;
            if (conv > 0) edges_.prefetch(from_last | transition_counts::conversion);
            if (nulls > 0) edges_.prefetch(from_last | transition_counts::null);
            if (prev < end_conv_.size()) {
                prefetch(&end_conv_[prev]);
                prefetch(&end_value_[prev]);
            }
            r.weight = weight;
            r.conv = conv;
            r.nulls = nulls;
            r.value = journeys.value(row);
            r.last = prev;
            r.counted = true;
        }
        for (std::size_t i = 0; i < edge_delay; ++i) {
            add_row(ring[turn]);
            turn = turn + 1 == edge_delay ? 0 : turn + 1;
        }
    }

public:
    /// Adds `other` (the rows after this part's) to this part.
    void merge(const counter& other) {
        std::vector<state_id> map(other.num_states());
        for (state_id s = 0; s < transition_counts::first_channel_state; ++s) map[s] = s;
        for (std::size_t i = 0; i + 1 < other.tuple_offsets_.size(); ++i) {
            const auto b = other.tuple_offsets_[i], e = other.tuple_offsets_[i + 1];
            map[i + transition_counts::first_channel_state] =
                intern(other.tuples_.data() + b, e - b);
        }
        for (std::size_t cell = 0; cell < other.dense_edges_.size(); ++cell)
            if (other.dense_edges_[cell] != 0)
                add_edge(map[cell / max_dense_], map[cell % max_dense_], other.dense_edges_[cell]);
        other.edges_.for_each([&](std::uint64_t code, double w) {
            add_edge(map[code >> 32], map[code & 0xffffffffu], w);
        });
        end_conv_.resize(num_states(), 0.0);
        end_value_.resize(num_states(), 0.0);
        for (std::size_t s = 0; s < other.end_conv_.size(); ++s) {
            end_conv_[map[s]] += other.end_conv_[s];
            end_value_[map[s]] += other.end_value_[s];
        }
    }

    /// Moves the counts into `parts`.
    void finish(detail::counts_parts& parts) {
        parts.flat_states = std::move(tuples_);
        parts.flat_offsets = std::move(tuple_offsets_);
        // The hash table's storage becomes the edge list (a copy would add
        // 16 bytes an edge to the peak of counting).
        parts.edges = edges_.take_entries();
        for (std::size_t cell = 0; cell < dense_edges_.size(); ++cell)
            if (dense_edges_[cell] != 0)
                parts.edges.emplace_back(((cell / max_dense_) << 32) | (cell % max_dense_),
                                         dense_edges_[cell]);
        parts.end_conversions = std::move(end_conv_);
        parts.end_value = std::move(end_value_);
    }

private:
    // Order 1, collapsed repeats, a dense edge matrix: the common case. The
    // rows are summed in channel space (detail::order1_sums: nothing but an
    // index and an add per touch); then the channels that occur get their
    // states in order of first appearance and the cells move to the states'
    // matrix, each sum unchanged.
    void count_direct(const journey_set& journeys, std::size_t begin, std::size_t end) {
        detail::order1_sums sums;
        sums.widen(state_of_channel_.size());
        for (std::size_t row = begin; row < end; ++row) {
            if (row % stop_check_rows == 0) checkpoint(row);
            const double conv = journeys.conversions(row);
            const double nulls = journeys.nulls(row);
            if (conv + nulls == 0) continue;
            const auto path = journeys.path(row);
            sums.add_row(path.begin(), path.end(), conv, nulls, journeys.value(row));
        }
        from_sums(journeys, begin, end, sums);
    }

public:
    /// Order 1 from sums in channel space of rows [begin, end) (stride:
    /// channels + 1): the channels that occur get their states in order of
    /// first appearance (a pass over the rows that stops once all are found).
    void from_sums(const journey_set& journeys, std::size_t begin, std::size_t end,
                   const detail::order1_sums& sums) {
        const std::size_t channels = state_of_channel_.size();
        const std::size_t stride = channels + 1;
        const double* const cell = sums.cells.data();
        // Every touch that is not a repeat has a cell in its column, so the
        // channels that occur are those with a non-zero column.
        std::vector<char> occurs(stride, 0);
        for (std::size_t a = 0; a < stride; ++a)
            for (std::size_t b = 1; b < stride; ++b) occurs[b] |= cell[a * stride + b] != 0;
        const auto occurring =
            static_cast<std::size_t>(std::count(occurs.begin(), occurs.end(), 1));
        std::size_t found = 0;
        for (std::size_t row = begin; row < end && found < occurring; ++row) {
            if (journeys.conversions(row) + journeys.nulls(row) == 0) continue;
            for (const auto c : journeys.path(row))
                if (state_of_channel_[c] == 0) {
                    intern(&c, 1);
                    ++found;
                }
        }

        std::vector<state_id> state(stride, transition_counts::start);
        for (std::size_t c = 0; c < channels; ++c) state[c + 1] = state_of_channel_[c];
        for (std::size_t a = 0; a < stride; ++a) {
            for (std::size_t b = 1; b < stride; ++b)
                if (cell[a * stride + b] != 0) add_edge(state[a], state[b], cell[a * stride + b]);
            if (sums.conv_at[a] > 0 || sums.nulls_at[a] > 0 || sums.value_at[a] > 0)
                end_row(state[a], sums.conv_at[a], sums.nulls_at[a], sums.value_at[a]);
        }
    }

private:
    void end_row(state_id last, double conv, double nulls, double value) {
        if (conv > 0) add_edge(last, transition_counts::conversion, conv);
        if (nulls > 0) add_edge(last, transition_counts::null, nulls);
        if (end_conv_.size() <= last) {
            end_conv_.resize(num_states(), 0.0);
            end_value_.resize(num_states(), 0.0);
        }
        end_conv_[last] += conv;
        end_value_[last] += value;
    }

    void add_edge(state_id from, state_id to, double w) {
        if (dense_) dense_edges_[std::size_t{from} * max_dense_ + to] += w;
        else *edges_.try_emplace((std::uint64_t{from} << 32) | to).first += w;
    }

    void new_state(const channel_id* first, std::size_t len) {
        tuples_.insert(tuples_.end(), first, first + len);
        tuple_offsets_.push_back(tuples_.size());
    }

    state_id intern(const channel_id* first, std::size_t len) {
        const auto next = static_cast<state_id>(num_states());
        if (direct_) {
            auto& s = state_of_channel_[*first];
            if (s == 0) {
                s = next;
                new_state(first, 1);
            }
            return s;
        }
        if (packed_) {
            auto [id, inserted] = packed_index_.try_emplace(pack(first, len), next);
            if (inserted) new_state(first, len);
            return *id;
        }
        key_.assign(reinterpret_cast<const char*>(first), len * sizeof(channel_id));
        auto [it, inserted] = string_index_.emplace(key_, next);
        if (inserted) new_state(first, len);
        return it->second;
    }

    // A path of n channels has this many windows (states), of this length:
    // one shorter than the order when the path is.
    std::pair<std::size_t, std::size_t> windows_of(std::size_t n) const noexcept {
        return {n >= k_ ? n - k_ + 1 : 1, std::min(n, k_)};
    }

    // A tuple of at most 4 channels as 64 bits, 15 a channel (packed_).
    static std::uint64_t pack(const channel_id* first, std::size_t len) noexcept {
        std::uint64_t code = 0;
        for (std::size_t i = 0; i < len; ++i) {
            const std::uint64_t c =
                first[i] == transition_counts::padding ? 0x7FFF : std::uint64_t{first[i]} + 1;
            code |= c << (15 * i);
        }
        return code;
    }

    static void prefetch(const void* p) noexcept {
#if defined(__GNUC__) || defined(__clang__)
        __builtin_prefetch(p);
#else
        (void)p;
#endif
    }

    // Rows between a row's states and its transitions (count_packed).
    static constexpr std::size_t edge_delay = 4;

    std::size_t reported_ = 0;
    std::size_t k_;
    bool collapse_, padded_, packed_, direct_;
    std::size_t max_dense_;
    bool dense_;
    std::vector<state_id> state_of_channel_;
    std::vector<double> dense_edges_;
    detail::mapped_vector<channel_id> tuples_;
    detail::mapped_vector<std::size_t> tuple_offsets_ = detail::mapped_vector<std::size_t>(1, 0);
    detail::flat_map64<state_id> packed_index_{1024};
    std::unordered_map<std::string, state_id> string_index_;
    std::string key_;
    detail::flat_map64<double> edges_{1024};
    detail::mapped_vector<double> end_conv_, end_value_;
    std::vector<channel_id> padded_path_;
};

} // JOURNEYLOOP_IMPL_NAMESPACE(transition_counts_2)

JOURNEYLOOP_IMPL_INLINE transition_counts count_transitions(const journey_set& journeys,
                                                            const counting_options& options) {
    return count_transitions(journeys, options, {});
}

JOURNEYLOOP_IMPL_INLINE transition_counts count_transitions(const journey_set& journeys,
                                                            const counting_options& options,
                                                            const progress_callback& progress) {
    const std::size_t k = options.order;
    const auto estimate = checked_estimate(journeys, options);

    detail::counts_parts parts;
    parts.order = k;
    parts.collapse_repeats = options.collapse_repeats;
    parts.padded = options.padded;
    parts.channels = journeys.channels();
    parts.total_conversions = journeys.total_conversions();
    parts.total_nulls = journeys.total_nulls();
    parts.total_value = journeys.total_value();

    if (counts_from_sums(journeys, options)) {
        counter one(k, options, parts.channels.size());
        one.from_sums(journeys, 0, journeys.size(), *journey_set::builder::order1_sums(journeys));
        one.finish(parts);
        if (progress) progress(journeys.size(), journeys.size());
        return detail::counts_access::assemble(std::move(parts));
    }

    // Large journey sets are counted in two halves on two threads, then
    // merged (the same states, numbered the same way, and the same sums).
    // Each half has its own hash table, so two threads pay off only while
    // the transitions repeat: with a large state space most transitions are
    // in both halves' tables and the merge inserts them again: on the
    // Criteo-shaped table two threads saved a little time at order 2 for
    // more memory, and none at order 3 (bench/results/profile_memory.txt,
    // --threads).
    const std::size_t n = journeys.size();
    const std::size_t threads = threads_for(n, estimate, options);
    std::vector<counter> parts_of;
    for (std::size_t t = 0; t < threads; ++t)
        parts_of.emplace_back(k, options, parts.channels.size());
    std::mutex progress_mutex;
    std::size_t counted = 0;
    if (progress)
        for (auto& part : parts_of)
            part.on_rows = [&](std::size_t rows) {
                const std::lock_guard<std::mutex> lock(progress_mutex);
                counted += rows;
                progress(counted, n);
            };
    std::vector<std::exception_ptr> errors(threads);
    auto work = [&](std::size_t t) {
        try {
            parts_of[t].count(journeys, n * t / threads, n * (t + 1) / threads);
        } catch (...) {
            errors[t] = std::current_exception();
        }
    };
    std::vector<std::thread> workers;
    for (std::size_t t = 1; t < threads; ++t) workers.emplace_back(work, t);
    work(0);
    for (auto& w : workers) w.join();
    for (const auto& e : errors)
        if (e) std::rethrow_exception(e);
    for (std::size_t t = 1; t < threads; ++t) {
        parts_of[0].merge(parts_of[t]);
        parts_of[t] = counter(k, options, 0);
    }
    parts_of[0].finish(parts);
    parts_of.clear();
    const auto edges = parts.edges.size();
    auto out = detail::counts_access::assemble(std::move(parts));
    // The counters' hash maps and the merged edge list are freed by now:
    // about 16 bytes an edge for each thread's map and for the list.
    detail::release_free_memory(edges * 16 * (threads + 1));
    return out;
}

namespace detail {

JOURNEYLOOP_IMPL_INLINE transition_counts counts_access::assemble(counts_parts parts) {
    transition_counts out;
    out.order_ = parts.order;
    out.collapse_repeats_ = parts.collapse_repeats;
    out.padded_ = parts.padded;
    out.pooled_ = parts.pooled;
    out.channels_ = std::move(parts.channels);
    // Sized exactly: the counts are kept for the model's lifetime.
    {
        std::size_t channels = parts.flat_states.size();
        for (const auto& t : parts.states) channels += t.size();
        out.state_channels_.reserve(channels);
        out.state_offsets_.reserve(
            transition_counts::first_channel_state + 1 + parts.states.size() +
            (parts.flat_offsets.empty() ? 0 : parts.flat_offsets.size() - 1));
    }
    out.state_offsets_.assign(transition_counts::first_channel_state + 1, 0);
    for (const auto& t : parts.states) {
        out.state_channels_.insert(out.state_channels_.end(), t.begin(), t.end());
        out.state_offsets_.push_back(out.state_channels_.size());
    }
    if (parts.flat_offsets.size() > 1) {
        const auto base = out.state_channels_.size();
        out.state_channels_.insert(out.state_channels_.end(), parts.flat_states.begin(),
                                   parts.flat_states.end());
        for (std::size_t i = 1; i < parts.flat_offsets.size(); ++i)
            out.state_offsets_.push_back(base + parts.flat_offsets[i]);
    }
    const auto n = out.num_states();
    out.row_offsets_.assign(n + 1, 0);
    for (const auto& e : parts.edges) ++out.row_offsets_[(e.first >> 32) + 1];
    for (std::size_t s = 0; s < n; ++s) out.row_offsets_[s + 1] += out.row_offsets_[s];
    if (std::is_sorted(parts.edges.begin(), parts.edges.end())) {
        // Edges built in order (a reweighted replicate, a relabelling).
        out.targets_.reserve(parts.edges.size());
        out.weights_.reserve(parts.edges.size());
        for (const auto& [code, w] : parts.edges) {
            out.targets_.push_back(static_cast<state_id>(code & 0xffffffffu));
            out.weights_.push_back(w);
        }
    } else {
        // Each edge straight to its row's place (the rows' sizes are counted
        // above), then each row sorted by target: the order a sort of all the
        // (code, weight) pairs gives, without comparing across rows.
        out.targets_.resize(parts.edges.size());
        out.weights_.resize(parts.edges.size());
        // row_offsets_[s] serves as row s's cursor, then takes its start back.
        for (const auto& [code, w] : parts.edges) {
            const auto k = out.row_offsets_[code >> 32]++;
            out.targets_[k] = static_cast<state_id>(code & 0xffffffffu);
            out.weights_[k] = w;
        }
        for (std::size_t s = n; s > 0; --s) out.row_offsets_[s] = out.row_offsets_[s - 1];
        out.row_offsets_[0] = 0;
        std::vector<std::pair<state_id, double>> row;
        for (std::size_t s = 0; s < n; ++s) {
            const auto b = out.row_offsets_[s], e = out.row_offsets_[s + 1];
            if (e - b < 2) continue;
            row.clear();
            for (auto k = b; k < e; ++k) row.emplace_back(out.targets_[k], out.weights_[k]);
            if (std::is_sorted(row.begin(), row.end())) continue;
            std::sort(row.begin(), row.end());
            for (auto k = b; k < e; ++k) {
                out.targets_[k] = row[k - b].first;
                out.weights_[k] = row[k - b].second;
            }
        }
    }
    mapped_vector<std::pair<std::uint64_t, double>>().swap(parts.edges);
    parts.end_conversions.resize(n, 0.0);
    parts.end_value.resize(n, 0.0);
    out.end_conversions_.assign(parts.end_conversions.begin(), parts.end_conversions.end());
    mapped_vector<double>().swap(parts.end_conversions);
    out.end_value_.assign(parts.end_value.begin(), parts.end_value.end());
    mapped_vector<double>().swap(parts.end_value);
    out.total_conversions_ = parts.total_conversions;
    out.total_nulls_ = parts.total_nulls;
    out.total_value_ = parts.total_value;
    return out;
}

JOURNEYLOOP_IMPL_INLINE counts_parts counts_access::disassemble(const transition_counts& c) {
    counts_parts p;
    p.order = c.order_;
    p.collapse_repeats = c.collapse_repeats_;
    p.padded = c.padded_;
    p.pooled = c.pooled_;
    p.channels = c.channels_;
    for (state_id s = transition_counts::first_channel_state; s < c.num_states(); ++s) {
        const auto t = c.state(s);
        p.states.emplace_back(t.begin(), t.end());
    }
    for (state_id s = 0; s < c.num_states(); ++s) {
        const auto t = c.targets(s);
        const auto w = c.weights(s);
        for (std::size_t i = 0; i < t.size(); ++i)
            p.edges.emplace_back((std::uint64_t{s} << 32) | t[i], w[i]);
    }
    p.end_conversions.assign(c.end_conversions_.begin(), c.end_conversions_.end());
    p.end_value.assign(c.end_value_.begin(), c.end_value_.end());
    p.total_conversions = c.total_conversions_;
    p.total_nulls = c.total_nulls_;
    p.total_value = c.total_value_;
    return p;
}

} // namespace detail

JOURNEYLOOP_IMPL_NAMESPACE(transition_counts_3) {

// A state's identity across count sets: its channel names.
JOURNEYLOOP_IMPL_INLINE std::vector<std::string> state_key(const transition_counts& c, state_id s) {
    std::vector<std::string> key;
    if (s < transition_counts::first_channel_state) {
        key.push_back(c.state_label(s));
        key.emplace_back(); // no channel is named "" so this cannot collide
        return key;
    }
    for (auto ch : c.state(s))
        key.push_back(ch == transition_counts::padding ? std::string("(start)")
                                                       : c.channels().name(ch));
    return key;
}

} // JOURNEYLOOP_IMPL_NAMESPACE(transition_counts_3)

JOURNEYLOOP_IMPL_NAMESPACE(merge_1) {

// The shortest text that reads back as `x` (for messages).
JOURNEYLOOP_IMPL_INLINE std::string number_text(double x) {
    char buf[32];
    for (int digits = 15; digits <= 17; ++digits) {
        std::snprintf(buf, sizeof buf, "%.*g", digits, x);
        if (std::strtod(buf, nullptr) == x) break;
    }
    return buf;
}

// Adds counts `w` to `into` for merge(), refusing a sum that is not the
// sum: past the largest double (infinite), or of two whole numbers that no
// longer add exactly (from 2**53 on; the rounding error of the addition,
// found as in Knuth's TwoSum, is not zero). Fractional weights add in
// floating point as documented. `what` names the figure in the message.
template <class What>
JOURNEYLOOP_IMPL_INLINE void add_counts(double& into, double w, const What& what) {
    const double sum = into + w;
    if (std::isfinite(sum)) {
        if (into != std::floor(into) || w != std::floor(w)) {
            into = sum;
            return;
        }
        const double bv = sum - into;
        if ((into - (sum - bv)) + (w - bv) == 0) {
            into = sum;
            return;
        }
    }
    throw invalid_input("cannot merge transition counts: " + what() + " would be " +
                        (std::isfinite(sum) ? std::string("inexact (whole counts past 2**53 no "
                                                          "longer add exactly)")
                                            : std::string("past the largest number")) +
                        " (" + number_text(into) + " + " + number_text(w) +
                        "): scale the weights down or keep the parts apart");
}

} // JOURNEYLOOP_IMPL_NAMESPACE(merge_1)

JOURNEYLOOP_IMPL_INLINE transition_counts merge(const transition_counts& a,
                                                const transition_counts& b) {
    return merge(std::vector<const transition_counts*>{&a, &b});
}

JOURNEYLOOP_IMPL_INLINE transition_counts merge(const std::vector<const transition_counts*>& all) {
    if (all.empty()) throw invalid_input("merge: no transition counts to merge");
    const transition_counts& a = *all.front();
    for (const auto* b : all) {
        if (a.order() != b->order() || a.collapse_repeats() != b->collapse_repeats() ||
            a.padded() != b->padded())
            throw invalid_input("cannot merge transition counts of different order or options "
                                "(order " +
                                std::to_string(a.order()) + " and " + std::to_string(b->order()) +
                                "): count every part with the same order, collapse_repeats and "
                                "padded");
        if (b->pooled())
            throw invalid_input("cannot merge the views of loop counts (their channel rows are "
                                "pooled): count the loop histories together instead");
    }
    auto parts = detail::counts_access::disassemble(a);
    std::map<std::vector<channel_id>, state_id> index;
    for (std::size_t i = 0; i < parts.states.size(); ++i)
        index.emplace(parts.states[i],
                      static_cast<state_id>(i + transition_counts::first_channel_state));
    std::unordered_map<std::uint64_t, double> edges(parts.edges.begin(), parts.edges.end());
    for (std::size_t p = 1; p < all.size(); ++p) {
        const transition_counts& b = *all[p];
        // b's channels into a's dictionary.
        std::vector<channel_id> channel_map(b.channels().size());
        for (channel_id ch = 0; ch < b.channels().size(); ++ch)
            channel_map[ch] = parts.channels.intern(b.channels().name(ch));
        // b's states into a's numbering.
        std::vector<state_id> state_map(b.num_states());
        for (state_id s = 0; s < transition_counts::first_channel_state; ++s) state_map[s] = s;
        for (state_id s = transition_counts::first_channel_state; s < b.num_states(); ++s) {
            std::vector<channel_id> t;
            for (auto ch : b.state(s))
                t.push_back(ch == transition_counts::padding ? ch : channel_map[ch]);
            auto [it, inserted] =
                index.emplace(t, static_cast<state_id>(parts.states.size() +
                                                       transition_counts::first_channel_state));
            if (inserted) parts.states.push_back(std::move(t));
            state_map[s] = it->second;
        }
        for (state_id s = 0; s < b.num_states(); ++s) {
            const auto t = b.targets(s);
            const auto w = b.weights(s);
            for (std::size_t i = 0; i < t.size(); ++i)
                add_counts(edges[(std::uint64_t{state_map[s]} << 32) | state_map[t[i]]], w[i], [&] {
                    return "the weight of the transition '" + b.state_label(s) + "' -> '" +
                           b.state_label(t[i]) + "'";
                });
        }
        const auto n = parts.states.size() + transition_counts::first_channel_state;
        parts.end_conversions.resize(n, 0.0);
        parts.end_value.resize(n, 0.0);
        for (state_id s = 0; s < b.num_states(); ++s) {
            add_counts(parts.end_conversions[state_map[s]], b.conversions_from(s), [&] {
                return "the conversions of the paths ending in '" + b.state_label(s) + "'";
            });
            add_counts(parts.end_value[state_map[s]], b.value_from(s), [&] {
                return "the value of the paths ending in '" + b.state_label(s) + "'";
            });
        }
        add_counts(parts.total_conversions, b.total_conversions(),
                   [] { return std::string("the total conversions"); });
        add_counts(parts.total_nulls, b.total_nulls(),
                   [] { return std::string("the total nulls"); });
        add_counts(parts.total_value, b.total_value(),
                   [] { return std::string("the total value"); });
    }
    parts.edges.assign(edges.begin(), edges.end());
    return detail::counts_access::assemble(std::move(parts));
}

JOURNEYLOOP_IMPL_INLINE bool operator==(const transition_counts& a, const transition_counts& b) {
    if (a.order() != b.order() || a.collapse_repeats() != b.collapse_repeats() ||
        a.padded() != b.padded() || a.pooled() != b.pooled() || a.num_states() != b.num_states() ||
        a.num_transitions() != b.num_transitions() ||
        a.total_conversions() != b.total_conversions() || a.total_nulls() != b.total_nulls() ||
        a.total_value() != b.total_value())
        return false;
    auto names = [](const transition_counts& c) {
        auto v = c.channels().names();
        std::sort(v.begin(), v.end());
        return v;
    };
    if (names(a) != names(b)) return false;
    using edge = std::tuple<std::vector<std::string>, std::vector<std::string>, double>;
    using end = std::tuple<std::vector<std::string>, double, double>;
    auto canonical = [](const transition_counts& c) {
        std::vector<edge> edges;
        std::vector<end> ends;
        for (state_id s = 0; s < c.num_states(); ++s) {
            const auto t = c.targets(s);
            const auto w = c.weights(s);
            for (std::size_t i = 0; i < t.size(); ++i)
                edges.emplace_back(state_key(c, s), state_key(c, t[i]), w[i]);
            ends.emplace_back(state_key(c, s), c.conversions_from(s), c.value_from(s));
        }
        std::sort(edges.begin(), edges.end());
        std::sort(ends.begin(), ends.end());
        return std::make_pair(edges, ends);
    };
    return canonical(a) == canonical(b);
}

} // namespace journeyloop

#endif // JOURNEYLOOP_IMPL_TRANSITION_COUNTS_IPP
