#include "fixtures.hpp"

#include <sstream>

using namespace journeyloop;

TEST_CASE("journey_graph: vertices are states, edges observed transitions", "[journey_graph]") {
    const auto model = fit_markov(count_transitions(fixtures::abc_example()));
    const auto g = make_journey_graph(model);
    REQUIRE(boost::num_vertices(g) == 6);
    REQUIRE(boost::num_edges(g) == 7);
    REQUIRE(g[0].label == "START");
    REQUIRE(g[3].label == "a");
    REQUIRE(g[3].conversion_probability == Approx(5.0 / 8).epsilon(1e-12));
    REQUIRE(g[3].expected_visits == Approx(2.0 / 3).epsilon(1e-12));
    double from_start = 0;
    for (auto e : boost::make_iterator_range(boost::out_edges(0, g)))
        from_start += g[e].probability;
    REQUIRE(from_start == Approx(1.0).epsilon(1e-12));
    REQUIRE(boost::in_degree(transition_counts::conversion, g) == 2);
    // model.graph() is the same view.
    const journey_graph same = model.graph();
    REQUIRE(boost::num_edges(same) == boost::num_edges(g));
    for (auto e : boost::make_iterator_range(boost::edges(g))) {
        const auto [f, found] = boost::edge(boost::source(e, g), boost::target(e, g), same);
        REQUIRE(found);
        REQUIRE(same[f].count == g[e].count);
        REQUIRE(same[f].probability == g[e].probability);
    }

    std::ostringstream dot, graphml;
    write_dot(dot, g);
    write_graphml(graphml, g);
    REQUIRE_THAT(dot.str(), Catch::Contains("digraph journey"));
    REQUIRE_THAT(dot.str(), Catch::Contains("0 -> 3 [label=\"0.667\""));
    REQUIRE_THAT(graphml.str(), Catch::Contains("<data key=\"label\">a</data>"));
    REQUIRE_THAT(graphml.str(), Catch::Contains("source=\"n4\" target=\"n2\""));
}

TEST_CASE("journey_graph: loops are the cyclic components", "[journey_graph]") {
    REQUIRE(journey_loops(fit_markov(count_transitions(fixtures::abc_example()))).empty());
    const auto ab = fit_markov(count_transitions(fixtures::ab_example()));
    const auto loops = journey_loops(ab);
    REQUIRE(loops.size() == 1);
    REQUIRE(loops[0] == std::vector<state_id>{3, 4});
    counting_options keep;
    keep.collapse_repeats = false;
    std::vector<std::string_view> paths{"a > a"};
    std::vector<double> conv{1};
    const auto self = fit_markov(count_transitions(build_journeys({paths, conv, {}, {}}), keep));
    REQUIRE(journey_loops(self).size() == 1); // a self-loop is a loop
}

TEST_CASE("top_paths: most probable complete paths, by hand", "[journey_graph]") {
    const auto model = fit_markov(count_transitions(fixtures::abc_example()));
    const auto paths = top_paths(model, 5).paths;
    // START a c (1/3), START a b (1/12), START b (1/12); no other walk converts.
    REQUIRE(paths.size() == 3);
    REQUIRE(paths[0].states == std::vector<state_id>{0, 3, 5, 1});
    REQUIRE(paths[0].probability == Approx(1.0 / 3).epsilon(1e-12));
    REQUIRE(paths[1].probability == Approx(1.0 / 12).epsilon(1e-12));
    REQUIRE(paths[2].probability == Approx(1.0 / 12).epsilon(1e-12));
    REQUIRE_THROWS_AS(top_paths(model, 0), invalid_input);
    // The search ends when no walk is left: not stopped by its bound.
    const auto all = top_paths(model, 5, 64, top_paths_max_expanded);
    REQUIRE(all.paths.size() == 3);
    REQUIRE_FALSE(all.stopped);
    // Two walks expanded (START, then START a) find no complete path yet.
    const auto few = top_paths(model, 5, 64, 2);
    REQUIRE(few.stopped);
    REQUIRE(few.paths.empty());
    REQUIRE_THROWS_AS(top_paths(model, 5, 64, 0), invalid_input);
    // A/B: START A CONV (1/2), START A B A CONV (1/4), ...
    const auto ab = top_paths(fit_markov(count_transitions(fixtures::ab_example())), 3).paths;
    REQUIRE(ab[0].probability == Approx(0.5).epsilon(1e-12));
    REQUIRE(ab[1].probability == Approx(0.25).epsilon(1e-12));
    REQUIRE(ab[2].probability == Approx(0.125).epsilon(1e-12));
}
