// journeyloop: forward declarations and the basic index types.
#ifndef JOURNEYLOOP_FWD_HPP
#define JOURNEYLOOP_FWD_HPP

#include <cstdint>

namespace journeyloop {

/// Dense id of a channel in a channel_dictionary.
using channel_id = std::uint32_t;
/// Dense id of a state of a Markov chain.
using state_id = std::uint32_t;

class channel_dictionary;
class journey_set;
struct path_table;
struct path_options;
struct csv_options;
struct attribution;
struct heuristic_options;
class transition_counts;
struct counting_options;
class markov_model;
struct markov_options;
class invalid_input;
class unknown_channel;
class numerical_error;
class state_space_too_large;
template <class T>
class column_view;
class numeric_column_view;
class string_column_view;
class loop_histories;
struct loop_counts;
struct event_table;
struct event_options;
struct event_report;
struct event_journeys;
struct event_histories;
enum class duplicate_policy;
struct team_flows;
struct stage_move;

} // namespace journeyloop

#endif // JOURNEYLOOP_FWD_HPP
