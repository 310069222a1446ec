// Counting order-k transitions.
#include <journeyloop/errors.hpp>
#include <journeyloop/transition_counts.hpp>

#include <algorithm>
#include <cmath>
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
        out += channels_.name(c);
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
std::size_t estimate_states(const journey_set& js, std::size_t k) {
    std::size_t windows = 0;
    for (std::size_t r = 0; r < js.size(); ++r) {
        const auto n = js.path(r).size();
        windows += n >= k ? n - k + 1 : 1;
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
    const auto estimate = estimate_states(journeys, k);
    if (estimate > options.max_states) throw state_space_too_large(estimate, options.max_states);

    transition_counts out;
    out.order_ = k;
    out.collapse_repeats_ = options.collapse_repeats;
    out.channels_ = journeys.channels();
    out.state_offsets_.assign(transition_counts::first_channel_state + 1, 0);

    // States are interned by the bytes of their channel tuple.
    std::unordered_map<std::string, state_id> state_index;
    std::string key;
    auto intern = [&](const channel_id* first, std::size_t len) -> state_id {
        key.assign(reinterpret_cast<const char*>(first), len * sizeof(channel_id));
        auto [it, inserted] =
            state_index.emplace(key, static_cast<state_id>(out.state_offsets_.size() - 1));
        if (inserted) {
            out.state_channels_.insert(out.state_channels_.end(), first, first + len);
            out.state_offsets_.push_back(out.state_channels_.size());
        }
        return it->second;
    };

    std::unordered_map<std::uint64_t, double> edges;
    auto add_edge = [&edges](state_id from, state_id to, double w) {
        edges[(std::uint64_t{from} << 32) | to] += w;
    };
    std::vector<double> end_conv(transition_counts::first_channel_state, 0.0);
    std::vector<double> end_value(transition_counts::first_channel_state, 0.0);

    for (std::size_t row = 0; row < journeys.size(); ++row) {
        const double conv = journeys.conversions(row);
        const double nulls = journeys.nulls(row);
        const double weight = conv + nulls;
        // A row with no outcomes carries no information about transitions;
        // it stays in the journeys but adds no state (a state with no way out
        // would make the chain unsolvable).
        if (weight == 0) continue;
        const auto path = journeys.path(row);
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
            end_conv.resize(out.num_states(), 0.0);
            end_value.resize(out.num_states(), 0.0);
        }
        end_conv[prev] += conv;
        end_value[prev] += journeys.value(row);
    }
    end_conv.resize(out.num_states(), 0.0);
    end_value.resize(out.num_states(), 0.0);

    std::vector<std::pair<std::uint64_t, double>> sorted(edges.begin(), edges.end());
    std::sort(sorted.begin(), sorted.end());
    out.row_offsets_.assign(out.num_states() + 1, 0);
    out.targets_.reserve(sorted.size());
    out.weights_.reserve(sorted.size());
    for (const auto& [code, w] : sorted) {
        ++out.row_offsets_[(code >> 32) + 1];
        out.targets_.push_back(static_cast<state_id>(code & 0xffffffffu));
        out.weights_.push_back(w);
    }
    for (std::size_t s = 0; s < out.num_states(); ++s)
        out.row_offsets_[s + 1] += out.row_offsets_[s];
    out.end_conversions_ = std::move(end_conv);
    out.end_value_ = std::move(end_value);
    out.total_conversions_ = journeys.total_conversions();
    out.total_nulls_ = journeys.total_nulls();
    out.total_value_ = journeys.total_value();
    return out;
}

} // namespace journeyloop
