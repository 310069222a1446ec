// Counting order-k transitions.
#include "counts_access.hpp"

#include <journeyloop/detail/flat_map.hpp>

#include <journeyloop/errors.hpp>
#include <journeyloop/transition_counts.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>
#include <unordered_map>

namespace journeyloop {

std::string transition_counts::state_label(state_id s) const {
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

bool transition_counts::state_contains(state_id s, channel_id c) const noexcept {
    for (auto x : state(s))
        if (x == c) return true;
    return false;
}

double transition_counts::out_weight(state_id s) const noexcept {
    double total = 0;
    for (auto w : weights(s)) total += w;
    return total;
}

namespace {

// Upper bound on the number of distinct states: no more than the windows
// observed, and no more than the tuples of length <= k over C channels.
std::size_t estimate_states(const journey_set& js, std::size_t k, bool padded) {
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

} // namespace

transition_counts count_transitions(const journey_set& journeys,
                                    const counting_options& options) {
    const std::size_t k = options.order;
    if (k == 0) throw invalid_input("order must be at least 1");
    if (journeys.form() == journey_form::loop)
        throw invalid_input(
            "these are loop-form histories (purchases inside the sequence); the funnel chain "
            "counts funnel journeys: build them with form=funnel");
    const auto estimate = estimate_states(journeys, k, options.padded);
    if (estimate > options.max_states) throw state_space_too_large(estimate, options.max_states);

    detail::counts_parts parts;
    parts.order = k;
    parts.collapse_repeats = options.collapse_repeats;
    parts.padded = options.padded;
    parts.channels = journeys.channels();

    auto num_states = [&parts] {
        return parts.states.size() + transition_counts::first_channel_state;
    };
    // States are interned by their channel tuple: packed into 64 bits (15
    // bits a channel) up to order 4 with fewer than 32,766 channels, by its
    // bytes otherwise.
    const bool packed = k <= 4 && parts.channels.size() < 0x7FFE;
    detail::flat_map64<state_id> packed_index(1024);
    std::unordered_map<std::string, state_id> string_index;
    std::string key;
    // Order 1: a state is a channel, found by direct indexing.
    const bool direct = k == 1 && !options.padded;
    std::vector<state_id> state_of_channel(direct ? parts.channels.size() : 0, 0);
    auto intern = [&](const channel_id* first, std::size_t len) -> state_id {
        const auto next = static_cast<state_id>(num_states());
        if (direct) {
            auto& s = state_of_channel[*first];
            if (s == 0) {
                s = next;
                parts.states.emplace_back(first, first + 1);
            }
            return s;
        }
        if (packed) {
            std::uint64_t code = 0;
            for (std::size_t i = 0; i < len; ++i) {
                const std::uint64_t c =
                    first[i] == transition_counts::padding ? 0x7FFF : std::uint64_t{first[i]} + 1;
                code |= c << (15 * i);
            }
            auto [id, inserted] = packed_index.try_emplace(code, next);
            if (inserted) parts.states.emplace_back(first, first + len);
            return *id;
        }
        key.assign(reinterpret_cast<const char*>(first), len * sizeof(channel_id));
        auto [it, inserted] = string_index.emplace(key, next);
        if (inserted) parts.states.emplace_back(first, first + len);
        return it->second;
    };

    // Edges in a dense matrix when the states are few (order 1), in an
    // open-addressing map otherwise. Every added weight is positive, so the
    // nonzero cells are exactly the observed transitions.
    const std::size_t max_dense = direct ? parts.channels.size() + 3 : 0;
    const bool dense = direct && max_dense <= 2048;
    std::vector<double> dense_edges(dense ? max_dense * max_dense : 0, 0.0);
    detail::flat_map64<double> edges(1024);
    auto add_edge = [&](state_id from, state_id to, double w) {
        if (dense) dense_edges[std::size_t{from} * max_dense + to] += w;
        else *edges.try_emplace((std::uint64_t{from} << 32) | to).first += w;
    };
    auto& end_conv = parts.end_conversions;
    auto& end_value = parts.end_value;
    std::vector<channel_id> padded_path;

    for (std::size_t row = 0; row < journeys.size(); ++row) {
        const double conv = journeys.conversions(row);
        const double nulls = journeys.nulls(row);
        const double weight = conv + nulls;
        // A row with no outcomes carries no information about transitions;
        // it stays in the journeys but adds no state (a state with no way out
        // would make the chain unsolvable).
        if (weight == 0) continue;
        auto path = journeys.path(row);
        if (options.padded) {
            // (start) x (k - 1), then the path: every window holds k symbols.
            padded_path.assign(k - 1, transition_counts::padding);
            padded_path.insert(padded_path.end(), path.begin(), path.end());
            path = padded_path;
        }
        const std::size_t n = path.size();
        const std::size_t windows = n >= k ? n - k + 1 : 1;
        const std::size_t len = std::min(n, k);
        state_id prev = transition_counts::start;
        for (std::size_t i = 0; i < windows; ++i) {
            const state_id s = intern(path.data() + i, len);
            if (s == prev && options.collapse_repeats) continue;
            add_edge(prev, s, weight);
            prev = s;
        }
        if (conv > 0) add_edge(prev, transition_counts::conversion, conv);
        if (nulls > 0) add_edge(prev, transition_counts::null, nulls);
        if (end_conv.size() <= prev) {
            end_conv.resize(num_states(), 0.0);
            end_value.resize(num_states(), 0.0);
        }
        end_conv[prev] += conv;
        end_value[prev] += journeys.value(row);
    }
    parts.edges.reserve(edges.size());
    edges.for_each([&parts](std::uint64_t code, double w) { parts.edges.emplace_back(code, w); });
    for (std::size_t cell = 0; cell < dense_edges.size(); ++cell)
        if (dense_edges[cell] != 0)
            parts.edges.emplace_back(((cell / max_dense) << 32) | (cell % max_dense),
                                     dense_edges[cell]);
    parts.total_conversions = journeys.total_conversions();
    parts.total_nulls = journeys.total_nulls();
    parts.total_value = journeys.total_value();
    return detail::counts_access::assemble(std::move(parts));
}

namespace detail {

transition_counts counts_access::assemble(counts_parts parts) {
    transition_counts out;
    out.order_ = parts.order;
    out.collapse_repeats_ = parts.collapse_repeats;
    out.padded_ = parts.padded;
    out.channels_ = std::move(parts.channels);
    out.state_offsets_.assign(transition_counts::first_channel_state + 1, 0);
    for (const auto& t : parts.states) {
        out.state_channels_.insert(out.state_channels_.end(), t.begin(), t.end());
        out.state_offsets_.push_back(out.state_channels_.size());
    }
    const auto n = out.num_states();
    std::sort(parts.edges.begin(), parts.edges.end());
    out.row_offsets_.assign(n + 1, 0);
    out.targets_.reserve(parts.edges.size());
    out.weights_.reserve(parts.edges.size());
    for (const auto& [code, w] : parts.edges) {
        ++out.row_offsets_[(code >> 32) + 1];
        out.targets_.push_back(static_cast<state_id>(code & 0xffffffffu));
        out.weights_.push_back(w);
    }
    for (std::size_t s = 0; s < n; ++s) out.row_offsets_[s + 1] += out.row_offsets_[s];
    parts.end_conversions.resize(n, 0.0);
    parts.end_value.resize(n, 0.0);
    out.end_conversions_ = std::move(parts.end_conversions);
    out.end_value_ = std::move(parts.end_value);
    out.total_conversions_ = parts.total_conversions;
    out.total_nulls_ = parts.total_nulls;
    out.total_value_ = parts.total_value;
    return out;
}

counts_parts counts_access::disassemble(const transition_counts& c) {
    counts_parts p;
    p.order = c.order_;
    p.collapse_repeats = c.collapse_repeats_;
    p.padded = c.padded_;
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
    p.end_conversions = c.end_conversions_;
    p.end_value = c.end_value_;
    p.total_conversions = c.total_conversions_;
    p.total_nulls = c.total_nulls_;
    p.total_value = c.total_value_;
    return p;
}

} // namespace detail

namespace {

// A state's identity across count sets: its channel names.
std::vector<std::string> state_key(const transition_counts& c, state_id s) {
    std::vector<std::string> key;
    if (s < transition_counts::first_channel_state) {
        key.push_back(c.state_label(s));
        key.emplace_back(); // no channel is named "" so this cannot collide
        return key;
    }
    for (auto ch : c.state(s))
        key.push_back(ch == transition_counts::padding ? std::string("(start)") : c.channels().name(ch));
    return key;
}

} // namespace

transition_counts merge(const transition_counts& a, const transition_counts& b) {
    if (a.order() != b.order() || a.collapse_repeats() != b.collapse_repeats() ||
        a.padded() != b.padded())
        throw invalid_input("cannot merge transition counts of different order or options "
                            "(order " + std::to_string(a.order()) + " and " +
                            std::to_string(b.order()) + ")");
    auto parts = detail::counts_access::disassemble(a);
    // b's channels into a's dictionary.
    std::vector<channel_id> channel_map(b.channels().size());
    for (channel_id ch = 0; ch < b.channels().size(); ++ch)
        channel_map[ch] = parts.channels.intern(b.channels().name(ch));
    // b's states into a's numbering.
    std::map<std::vector<channel_id>, state_id> index;
    for (std::size_t i = 0; i < parts.states.size(); ++i)
        index.emplace(parts.states[i], static_cast<state_id>(i + transition_counts::first_channel_state));
    std::vector<state_id> state_map(b.num_states());
    for (state_id s = 0; s < transition_counts::first_channel_state; ++s) state_map[s] = s;
    for (state_id s = transition_counts::first_channel_state; s < b.num_states(); ++s) {
        std::vector<channel_id> t;
        for (auto ch : b.state(s))
            t.push_back(ch == transition_counts::padding ? ch : channel_map[ch]);
        auto [it, inserted] = index.emplace(
            t, static_cast<state_id>(parts.states.size() + transition_counts::first_channel_state));
        if (inserted) parts.states.push_back(std::move(t));
        state_map[s] = it->second;
    }
    std::unordered_map<std::uint64_t, double> edges(parts.edges.begin(), parts.edges.end());
    for (state_id s = 0; s < b.num_states(); ++s) {
        const auto t = b.targets(s);
        const auto w = b.weights(s);
        for (std::size_t i = 0; i < t.size(); ++i)
            edges[(std::uint64_t{state_map[s]} << 32) | state_map[t[i]]] += w[i];
    }
    parts.edges.assign(edges.begin(), edges.end());
    const auto n = parts.states.size() + transition_counts::first_channel_state;
    parts.end_conversions.resize(n, 0.0);
    parts.end_value.resize(n, 0.0);
    for (state_id s = 0; s < b.num_states(); ++s) {
        parts.end_conversions[state_map[s]] += b.conversions_from(s);
        parts.end_value[state_map[s]] += b.value_from(s);
    }
    parts.total_conversions += b.total_conversions();
    parts.total_nulls += b.total_nulls();
    parts.total_value += b.total_value();
    return detail::counts_access::assemble(std::move(parts));
}

bool operator==(const transition_counts& a, const transition_counts& b) {
    if (a.order() != b.order() || a.collapse_repeats() != b.collapse_repeats() ||
        a.padded() != b.padded() || a.num_states() != b.num_states() ||
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
