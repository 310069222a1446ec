// journeyloop: forward declarations and the basic index types.
#ifndef JOURNEYLOOP_FWD_HPP
#define JOURNEYLOOP_FWD_HPP

#include <cstdint>

namespace journeyloop {

/// Dense id of a channel in a channel_dictionary.
using channel_id = std::uint32_t;
/// Dense id of a state of a Markov chain.
using state_id = std::uint32_t;

// Every public class, struct and enum of include/journeyloop/*.hpp, by
// header (tests/python/test_fwd.py checks that none is missing).

// column_view.hpp
template <class T>
class column_view;
class numeric_column_view;
class string_column_view;
// errors.hpp
class error;
class invalid_input;
class unknown_channel;
class numerical_error;
class state_space_too_large;
class memory_limit_exceeded;
// interrupt.hpp
class interrupted;
// journey_set.hpp
class channel_dictionary;
class journey_set;
struct path_options;
struct path_table;
struct csv_options;
// attribution.hpp
class attribution;
enum class heuristic;
struct heuristic_options;
struct ordered_attribution;
// transition_counts.hpp
struct counting_options;
class transition_counts;
// markov_model.hpp
struct markov_options;
class markov_model;
struct removal_effect;
// loop_histories.hpp
class loop_histories;
struct loop_counts;
// loop_model.hpp
struct loop_summary;
struct loop_transition;
class loop_model;
struct loop_removal_effect;
class loop_attribution;
// io.hpp
struct model_metadata;
struct stored_journeys;
struct stored_histories;
// model_io.hpp
struct stored_model;
struct stored_loop_model;
// journey_graph.hpp
struct state_properties;
struct transition_properties;
struct scored_path;
struct top_paths_result;
// events.hpp
enum class duplicate_policy;
struct event_table;
struct event_options;
struct event_report;
struct event_report_field;
struct event_journeys;
struct event_histories;
// scenario.hpp
enum class scenario_change_kind;
struct scenario_change;
class scenario;
struct scenario_options;
struct transition_sensitivity;
// simulate.hpp
struct holding_options;
class holding_times;
struct loop_holding_times;
struct simulation_options;
struct simulation_report;
struct simulated_journeys;
struct simulated_histories;
// teams.hpp
struct team_flows;
struct stage_move;
// score.hpp
enum class score_status;
enum class unknown_rule;
struct score_options;
struct journey_scores;
struct touch_scores;
// uncertainty.hpp
enum class uncertainty_method;
struct replicate_options;
struct replicate_table;
struct interval;
class replicate_plan;
class loop_replicate_plan;
// order_selection.hpp
struct order_selection_options;
struct order_score;
struct order_selection;
struct fold_split;
// journey_credit.hpp
struct journey_credit;
// calibration.hpp
struct lift_test;
struct calibration_row;
struct calibration_result;
// shapley.hpp
enum class removal_rule;
enum class shapley_method;
struct shapley_options;
struct shapley_result;

} // namespace journeyloop

#endif // JOURNEYLOOP_FWD_HPP
