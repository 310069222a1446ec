// journeyloop: how teams share the journeys: handoffs between teams, each
// team's share of touches and of journey time, and who opens and who closes
// the converting journeys.
#ifndef JOURNEYLOOP_TEAMS_HPP
#define JOURNEYLOOP_TEAMS_HPP

#include <journeyloop/journey_set.hpp>
#include <journeyloop/loop_histories.hpp>

#include <string>
#include <vector>

namespace journeyloop {

/**
 * Team flows of a set of funnel journeys. Every row weighs its number of
 * journeys (`conversions + nulls`). Matrices are row-major,
 * `teams.size()` squared.
 */
struct team_flows {
    /// Team names: in order of first appearance in `team_of_channel`.
    std::vector<std::string> teams;
    /// handoffs[a * T + b]: weighted number of times a touch of team a is
    /// followed by a touch of team b in the same journey (a == b included).
    std::vector<double> handoffs;
    /// Weighted touches of each team.
    std::vector<double> touches;
    /// Journey time of each team: the time from each touch to the next touch
    /// of the journey (or to its end) counts for the touch's team. Empty for
    /// journeys without times.
    std::vector<double> time;
    /// opener_closer[a * T + b]: conversions of the converting journeys whose
    /// first touch is team a's and whose last touch is team b's.
    std::vector<double> opener_closer;
    /// handoff_share[a * T + b]: the share of team a's handoffs that go to
    /// team b (a row of zeros for a team that hands off to nobody).
    std::vector<double> handoff_share;
    /// Each team's share of all touches (zeros without touches).
    std::vector<double> touch_share;
    /// Each team's share of all journey time; empty without times (zeros
    /// when the journeys take no time).
    std::vector<double> time_share;
};

/**
 * Computes the team flows; `team_of_channel[c]` is the team of channel c
 * (one entry per channel of `journeys`; the purchase marker's entry is
 * ignored). Throws invalid_input if the sizes differ.
 */
team_flows analyze_teams(const journey_set& journeys,
                         const std::vector<std::string>& team_of_channel);
/// The team flows of loop histories: rows weigh their customers, purchase
/// markers are skipped and opener_closer is all zeros.
team_flows analyze_teams(const loop_histories& histories,
                         const std::vector<std::string>& team_of_channel);

/**
 * The journeys with every channel replaced by its group (a stage, a team):
 * `group_of_channel[c]` names channel c's group; consecutive touches of the
 * same group stay separate touches (the Markov model collapses them by
 * default). Funnel journeys keep their outcomes; loop histories keep their
 * purchase markers. Throws invalid_input if the sizes differ.
 */
journey_set relabel_channels(const journey_set& journeys,
                             const std::vector<std::string>& group_of_channel);
/// Loop histories relabelled; the purchase marker keeps its name, and no
/// channel may be relabelled as it.
loop_histories relabel_channels(const loop_histories& histories,
                                const std::vector<std::string>& group_of_channel);

/// One kind of move between stages and the channel that made it.
struct stage_move {
    std::string from, to, channel;
    /// Weighted number of moves.
    double count = 0;
    /// The channel's share of all moves from `from` to `to`.
    double share = 0;
};

/**
 * Which channels move customers between stages: every time a journey goes
 * from a touch in stage A to a touch in another stage B, the channel of the
 * last touch in A is credited with the move A -> B (weighted as the row). At
 * the end of a funnel journey the last touch is credited with A ->
 * "conversion" (the row's conversions) and A -> "null" (its nulls); in loop
 * histories a purchase is the stage "purchase" and the end is "end".
 * Moves are sorted by from, then to (byte order of the names), the largest
 * count first within each pair; ties keep the order of first appearance.
 */
std::vector<stage_move> stage_moves(const journey_set& journeys,
                                    const std::vector<std::string>& stage_of_channel);
/// The stage moves of loop histories (a purchase is the stage "purchase",
/// the end of a history "end").
std::vector<stage_move> stage_moves(const loop_histories& histories,
                                    const std::vector<std::string>& stage_of_channel);

} // namespace journeyloop

#endif // JOURNEYLOOP_TEAMS_HPP
