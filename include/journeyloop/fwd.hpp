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
enum class heuristic;
struct heuristic_options;
class transition_counts;
struct counting_options;
class markov_model;
struct markov_options;
struct removal_effect;
class loop_model;
struct loop_counts;
struct loop_summary;
struct loop_transition;
struct loop_removal_effect;
struct loop_attribution;
struct model_metadata;
struct stored_model;
struct stored_loop_model;
struct state_properties;
struct transition_properties;
struct scored_path;
struct top_paths_result;
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
