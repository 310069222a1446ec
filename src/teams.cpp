// Team flows: handoffs, shares of touches and time, openers and closers.
#include <journeyloop/detail/grouping.hpp>
#include <journeyloop/errors.hpp>
#include <journeyloop/teams.hpp>

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

} // namespace journeyloop
