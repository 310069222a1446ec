// Team flows: handoffs, shares of touches and time, openers and closers.
#ifndef JOURNEYLOOP_IMPL_TEAMS_IPP
#define JOURNEYLOOP_IMPL_TEAMS_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/detail/grouping.hpp>
#include <journeyloop/errors.hpp>
#include <journeyloop/teams.hpp>

#include <journeyloop/impl/journey_set_builder.hpp>
#include <journeyloop/impl/loop_histories_builder.hpp>

#include <algorithm>
#include <optional>
#include <unordered_map>

namespace journeyloop {

JOURNEYLOOP_IMPL_NAMESPACE(teams_1) {

// Each entry's share of the sum (zeros when the sum is 0).
JOURNEYLOOP_IMPL_INLINE std::vector<double> shares(const std::vector<double>& x) {
    double sum = 0;
    for (double v : x) sum += v;
    std::vector<double> out(x.size(), 0.0);
    if (sum > 0)
        for (std::size_t i = 0; i < x.size(); ++i) out[i] = x[i] / sum;
    return out;
}

// Funnel journeys and loop histories share one layout (loop_histories keeps
// its rows as a journey set: conversions are purchases, nulls customers);
// `marker` is the purchase marker of loop histories.
JOURNEYLOOP_IMPL_INLINE team_flows teams_of(const journey_set& journeys,
                                            std::optional<channel_id> marker,
                                            const std::vector<std::string>& team_of_channel) {
    if (team_of_channel.size() != journeys.channels().size())
        throw invalid_input("analyze_teams: " + std::to_string(team_of_channel.size()) +
                            " teams for " + std::to_string(journeys.channels().size()) +
                            " channels");
    const bool loop = marker.has_value();
    auto teams = team_of_channel;
    if (marker) {
        // The purchase marker belongs to no team: give it a team that exists
        // (its entry is never used).
        teams[*marker] = teams.size() > 1 ? teams[*marker == 0 ? 1 : 0] : std::string();
        if (teams.size() == 1) teams.clear();
    }
    const auto groups = detail::make_grouping(teams, {});
    const std::size_t t = groups.names.size();
    team_flows out;
    out.teams = groups.names;
    out.handoffs.assign(t * t, 0.0);
    out.touches.assign(t, 0.0);
    out.opener_closer.assign(t * t, 0.0);
    if (journeys.has_times()) out.time.assign(t, 0.0);
    for (std::size_t row = 0; row < journeys.size(); ++row) {
        const double w =
            loop ? journeys.nulls(row) : journeys.conversions(row) + journeys.nulls(row);
        if (w == 0) continue;
        const auto path = journeys.path(row);
        const auto before = journeys.times_before_end(row);
        std::size_t prev = t, first = t, last = t;
        for (std::size_t i = 0; i < path.size(); ++i) {
            if (marker && path[i] == *marker) continue;
            const std::size_t team = groups.group_of_item[path[i]];
            out.touches[team] += w;
            if (prev != t) out.handoffs[prev * t + team] += w;
            if (first == t) first = team;
            last = team;
            prev = team;
            if (!before.empty()) {
                // Time to the next touch, or to the end for the last one.
                const double next = i + 1 < before.size() ? before[i + 1] : 0.0;
                out.time[team] += w * (before[i] - next);
            }
        }
        const double conv = journeys.conversions(row);
        if (first != t && conv > 0 && !loop) out.opener_closer[first * t + last] += conv;
    }
    out.handoff_share.assign(t * t, 0.0);
    for (std::size_t a = 0; a < t; ++a) {
        double row = 0;
        for (std::size_t b = 0; b < t; ++b) row += out.handoffs[a * t + b];
        if (row > 0)
            for (std::size_t b = 0; b < t; ++b)
                out.handoff_share[a * t + b] = out.handoffs[a * t + b] / row;
    }
    out.touch_share = shares(out.touches);
    out.time_share = shares(out.time);
    return out;
}

// The channels' new ids and dictionary; the marker keeps its name.
JOURNEYLOOP_IMPL_INLINE std::vector<channel_id> relabelled(
    const journey_set& journeys, std::optional<channel_id> marker,
    const std::vector<std::string>& group_of_channel, channel_dictionary& channels) {
    if (group_of_channel.size() != journeys.channels().size())
        throw invalid_input("relabel_channels: " + std::to_string(group_of_channel.size()) +
                            " groups for " + std::to_string(journeys.channels().size()) +
                            " channels");
    std::vector<channel_id> remap(group_of_channel.size());
    for (channel_id c = 0; c < remap.size(); ++c) {
        const auto& name =
            marker && c == *marker ? journeys.channels().name(c) : group_of_channel[c];
        if (name.empty())
            throw invalid_input("relabel_channels: channel '" + journeys.channels().name(c) +
                                "' has an empty group name");
        if (marker && c != *marker && name == journeys.channels().name(*marker))
            throw invalid_input("relabel_channels: channel '" + journeys.channels().name(c) +
                                "' would be relabelled as the purchase marker '" + name + "'");
        remap[c] = channels.intern(name);
    }
    return remap;
}

JOURNEYLOOP_IMPL_INLINE std::vector<stage_move> moves_of(
    const journey_set& journeys, std::optional<channel_id> marker,
    const std::vector<std::string>& stage_of_channel) {
    if (stage_of_channel.size() != journeys.channels().size())
        throw invalid_input("stage_moves: " + std::to_string(stage_of_channel.size()) +
                            " stages for " + std::to_string(journeys.channels().size()) +
                            " channels");
    const bool loop = marker.has_value();
    std::vector<stage_move> out;
    std::unordered_map<std::string, std::size_t> index;
    std::string key;
    auto credit = [&](const std::string& from, const std::string& to, channel_id channel,
                      double w) {
        if (w == 0) return;
        const auto& name = journeys.channels().name(channel);
        key.clear();
        key.append(from).push_back('\0');
        key.append(to).push_back('\0');
        key.append(name);
        auto [it, inserted] = index.emplace(key, out.size());
        if (inserted) out.push_back({from, to, name, 0.0});
        out[it->second].count += w;
    };
    static const std::string purchase = "purchase", end = "end", conversion = "conversion",
                             null = "null";
    for (std::size_t row = 0; row < journeys.size(); ++row) {
        const double w =
            loop ? journeys.nulls(row) : journeys.conversions(row) + journeys.nulls(row);
        if (w == 0) continue;
        const auto path = journeys.path(row);
        bool have_prev = false;
        channel_id prev = 0;
        for (auto c : path) {
            if (marker && c == *marker) {
                if (have_prev) credit(stage_of_channel[prev], purchase, prev, w);
                have_prev = false; // a new segment starts after the purchase
                continue;
            }
            if (have_prev && stage_of_channel[prev] != stage_of_channel[c])
                credit(stage_of_channel[prev], stage_of_channel[c], prev, w);
            prev = c;
            have_prev = true;
        }
        if (!have_prev) continue;
        if (loop) {
            credit(stage_of_channel[prev], end, prev, w);
        } else {
            credit(stage_of_channel[prev], conversion, prev, journeys.conversions(row));
            credit(stage_of_channel[prev], null, prev, journeys.nulls(row));
        }
    }
    // Each move's share of the moves between the same two stages.
    std::unordered_map<std::string, double> pair_total;
    for (const auto& m : out) pair_total[m.from + '\0' + m.to] += m.count;
    for (auto& m : out) m.share = m.count / pair_total[m.from + '\0' + m.to];
    // By (from, to), the largest count first within each pair; ties keep the
    // order of first appearance.
    std::stable_sort(out.begin(), out.end(), [](const stage_move& a, const stage_move& b) {
        if (a.from != b.from) return a.from < b.from;
        if (a.to != b.to) return a.to < b.to;
        return a.count > b.count;
    });
    return out;
}

} // JOURNEYLOOP_IMPL_NAMESPACE(teams_1)

JOURNEYLOOP_IMPL_INLINE team_flows analyze_teams(const journey_set& journeys,
                                                 const std::vector<std::string>& team_of_channel) {
    return teams_of(journeys, std::nullopt, team_of_channel);
}

JOURNEYLOOP_IMPL_INLINE team_flows analyze_teams(const loop_histories& histories,
                                                 const std::vector<std::string>& team_of_channel) {
    return teams_of(loop_histories::builder::rows(histories), histories.purchase_channel(),
                    team_of_channel);
}

JOURNEYLOOP_IMPL_INLINE journey_set
relabel_channels(const journey_set& journeys, const std::vector<std::string>& group_of_channel) {
    channel_dictionary channels;
    const auto remap = relabelled(journeys, std::nullopt, group_of_channel, channels);
    journey_set out = journeys; // times and customers kept
    journey_set::builder{out}.replace_channels(std::move(channels), remap);
    return out;
}

JOURNEYLOOP_IMPL_INLINE loop_histories relabel_channels(
    const loop_histories& histories, const std::vector<std::string>& group_of_channel) {
    const auto& rows = loop_histories::builder::rows(histories);
    channel_dictionary channels;
    const auto remap = relabelled(rows, histories.purchase_channel(), group_of_channel, channels);
    journey_set out = rows; // customers and purchases kept
    journey_set::builder{out}.replace_channels(std::move(channels), remap);
    return loop_histories::builder::assemble(std::move(out), remap[histories.purchase_channel()],
                                             loop_histories::builder::values(histories),
                                             loop_histories::builder::offsets(histories));
}

JOURNEYLOOP_IMPL_INLINE std::vector<stage_move> stage_moves(
    const journey_set& journeys, const std::vector<std::string>& stage_of_channel) {
    return moves_of(journeys, std::nullopt, stage_of_channel);
}

JOURNEYLOOP_IMPL_INLINE std::vector<stage_move> stage_moves(
    const loop_histories& histories, const std::vector<std::string>& stage_of_channel) {
    return moves_of(loop_histories::builder::rows(histories), histories.purchase_channel(),
                    stage_of_channel);
}

} // namespace journeyloop

#endif // JOURNEYLOOP_IMPL_TEAMS_IPP
