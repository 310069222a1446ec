// journeyloop: the journey graph, a Boost.Graph view of a fitted model.
//
// Vertices are the states of the model (vertex i is state id i), edges its
// observed transitions with their counts and probabilities. The view is a
// copy made on request; the model's own storage is sparse matrices. This is
// the only public header that includes Boost.Graph.
#ifndef JOURNEYLOOP_JOURNEY_GRAPH_HPP
#define JOURNEYLOOP_JOURNEY_GRAPH_HPP

#include <journeyloop/loop_model.hpp>
#include <journeyloop/markov_model.hpp>

#include <boost/graph/adjacency_list.hpp>

#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

namespace journeyloop {

/// What a vertex of the journey graph carries.
struct state_properties {
    state_id state = 0;                ///< the state id (== the vertex index)
    std::string label;                 ///< `START`, `CONVERSION`, `NULL` or `a > b`
    double conversion_probability = 0; ///< P(CONVERSION | in this state)
    double expected_visits = 0;        ///< expected visits of a journey from START
};

/// What an edge of the journey graph carries.
struct transition_properties {
    double count = 0;       ///< weighted number of observed transitions
    double probability = 0; ///< estimated transition probability
};

/// A directed graph of states and transitions (bidirectional: in-edges are
/// available), usable with every Boost.Graph algorithm.
using journey_graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS,
                                            state_properties, transition_properties>;

/**
 * The journey graph of a fitted model.
 *
 * **Example**:
 *
 *     auto g = journeyloop::make_journey_graph(model);
 *     for (auto e : boost::make_iterator_range(boost::out_edges(0, g)))
 *         std::cout << g[boost::target(e, g)].label << " " << g[e].probability << "\n";
 */
journey_graph make_journey_graph(const markov_model& model);

/**
 * The journey graph of a loop model: vertices START, PURCHASE, END and the
 * channel states, edges loop_model::transitions(). A vertex's
 * `conversion_probability` is the probability of reaching PURCHASE (again)
 * from it, its `expected_visits` those of a customer from START.
 */
journey_graph make_journey_graph(const loop_model& model);

/// Writes the graph in Graphviz DOT; edges are labelled with probabilities.
void write_dot(std::ostream& out, const journey_graph& graph);

/// Writes the graph in GraphML with the state and transition properties as
/// attributes (`label`, `conversion_probability`, `expected_visits`,
/// `count`, `probability`).
void write_graphml(std::ostream& out, const journey_graph& graph);

/**
 * The loops of the journey: the strongly connected components of the
 * transient states that hold a cycle (more than one state, or a self-loop),
 * largest first, each as sorted state ids.
 */
std::vector<std::vector<state_id>> journey_loops(const markov_model& model);

/// The loops of a loop model's chain, as above: PURCHASE is transient, so
/// the loop back to another purchase is one of them (ties in size in order
/// of their smallest state).
std::vector<std::vector<state_id>> journey_loops(const loop_model& model);

/// A complete path START -> ... -> CONVERSION and its probability.
struct scored_path {
    std::vector<state_id> states; ///< START first, CONVERSION last
    double probability = 0;
};

/// What top_paths() found.
struct top_paths_result {
    /// Most probable first.
    std::vector<scored_path> paths;
    /// Whether the search stopped at `max_expanded` walks before finding
    /// the `n` paths asked for.
    bool stopped = false;
};

/// The walks top_paths() expands at most, by default.
inline constexpr std::size_t top_paths_max_expanded = 2'000'000;

/// The longest walk top_paths() follows, in transitions, by default.
inline constexpr std::size_t top_paths_max_length = 64;

/**
 * The `n` most probable complete paths from START to CONVERSION, most
 * probable first: the k shortest walks on edge weights -log p, enumerated by
 * best-first search. Walks may repeat states; none is longer than
 * `max_length` transitions. On chains where most walks end in NULL the
 * search is bounded: it stops after expanding `max_expanded` walks (memory
 * grows with them, by the successors of each) and returns the paths found
 * by then, fewer than `n`, with `stopped` set. Throws invalid_input if n,
 * max_length or max_expanded is 0.
 */
top_paths_result top_paths(const markov_model& model, std::size_t n,
                           std::size_t max_length = top_paths_max_length,
                           std::size_t max_expanded = top_paths_max_expanded);

/// The same for a loop model: the most probable paths from START to the
/// first PURCHASE (state 1).
top_paths_result top_paths(const loop_model& model, std::size_t n,
                           std::size_t max_length = top_paths_max_length,
                           std::size_t max_expanded = top_paths_max_expanded);

} // namespace journeyloop

#endif // JOURNEYLOOP_JOURNEY_GRAPH_HPP
