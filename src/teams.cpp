// Team flows: handoffs, shares of touches and time, openers and closers.
#include <journeyloop/detail/grouping.hpp>
#include <journeyloop/errors.hpp>
#include <journeyloop/teams.hpp>

#include "journey_set_builder.hpp"

#include <unordered_map>

namespace journeyloop {

team_flows analyze_teams(const journey_set& journeys,
                         const std::vector<std::string>& team_of_channel) {
    if (team_of_channel.size() != journeys.channels().size())
        throw invalid_input("analyze_teams: " + std::to_string(team_of_channel.size()) +
                            " teams for " + std::to_string(journeys.channels().size()) +
                            " channels");
    const auto marker = journeys.purchase_channel();
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
        const double w = journeys.form() == journey_form::loop
                             ? journeys.nulls(row)
                             : journeys.conversions(row) + journeys.nulls(row);
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
        if (first != t && conv > 0 && journeys.form() == journey_form::funnel)
            out.opener_closer[first * t + last] += conv;
    }
    return out;
}

journey_set relabel_channels(const journey_set& journeys,
                             const std::vector<std::string>& group_of_channel) {
    if (group_of_channel.size() != journeys.channels().size())
        throw invalid_input("relabel_channels: " + std::to_string(group_of_channel.size()) +
                            " groups for " + std::to_string(journeys.channels().size()) +
                            " channels");
    journey_set out = journeys; // times, customers, loop form and purchases kept
    channel_dictionary channels;
    const auto marker = journeys.purchase_channel();
    std::vector<channel_id> remap(group_of_channel.size());
    for (channel_id c = 0; c < remap.size(); ++c) {
        const auto& name = marker && c == *marker ? journeys.channels().name(c) : group_of_channel[c];
        if (name.empty())
            throw invalid_input("relabel_channels: channel '" + journeys.channels().name(c) +
                                "' has an empty group name");
        if (marker && c != *marker && name == journeys.channels().name(*marker))
            throw invalid_input("relabel_channels: channel '" + journeys.channels().name(c) +
                                "' would be relabelled as the purchase marker '" + name + "'");
        remap[c] = channels.intern(name);
    }
    journey_set::builder{out}.replace_channels(std::move(channels), remap);
    return out;
}

std::vector<stage_move> stage_moves(const journey_set& journeys,
                                    const std::vector<std::string>& stage_of_channel) {
    if (stage_of_channel.size() != journeys.channels().size())
        throw invalid_input("stage_moves: " + std::to_string(stage_of_channel.size()) +
                            " stages for " + std::to_string(journeys.channels().size()) +
                            " channels");
    const auto marker = journeys.purchase_channel();
    const bool loop = journeys.form() == journey_form::loop;
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
        const double w = loop ? journeys.nulls(row)
                              : journeys.conversions(row) + journeys.nulls(row);
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
    return out;
}

} // namespace journeyloop
