#include "fixtures.hpp"

using namespace journeyloop;

namespace {
// The weight of from -> to, by labels; 0 if absent.
double weight(const transition_counts& c, const std::string& from, const std::string& to) {
    for (state_id s = 0; s < c.num_states(); ++s) {
        if (c.state_label(s) != from) continue;
        const auto t = c.targets(s);
        const auto w = c.weights(s);
        for (std::size_t i = 0; i < t.size(); ++i)
            if (c.state_label(t[i]) == to) return w[i];
    }
    return 0;
}
} // namespace

TEST_CASE("count_transitions: A/B example, self-loops kept or collapsed",
          "[transition_counts]") {
    const auto js = fixtures::ab_example();
    SECTION("kept: the published edge counts") {
        counting_options o;
        o.collapse_repeats = false;
        const auto c = count_transitions(js, o);
        REQUIRE(weight(c, "START", "A") == 3);
        REQUIRE(weight(c, "START", "B") == 0);
        REQUIRE(weight(c, "A", "A") == 2);
        REQUIRE(weight(c, "A", "B") == 3);
        REQUIRE(weight(c, "A", "CONVERSION") == 3);
        REQUIRE(weight(c, "B", "A") == 3);
        REQUIRE(weight(c, "B", "B") == 2);
        REQUIRE(weight(c, "B", "CONVERSION") == 0);
        REQUIRE(c.num_transitions() == 6);
    }
    SECTION("collapsed (default)") {
        const auto c = count_transitions(js);
        REQUIRE(weight(c, "A", "A") == 0);
        REQUIRE(weight(c, "B", "B") == 0);
        REQUIRE(weight(c, "A", "B") == 3);
        REQUIRE(weight(c, "B", "A") == 3);
        REQUIRE(weight(c, "A", "CONVERSION") == 3);
    }
}

TEST_CASE("count_transitions: order 2 windows, short paths unpadded", "[transition_counts]") {
    std::vector<std::string_view> paths{"a > b > c", "a"};
    std::vector<double> conv{1, 0}, nulls{0, 2};
    const auto js = build_journeys({paths, conv, nulls, {}});
    const auto c = count_transitions(js, {2});
    REQUIRE(c.order() == 2);
    REQUIRE(c.num_states() == 3 + 3); // (a,b), (b,c), (a)
    REQUIRE(weight(c, "START", "a > b") == 1);
    REQUIRE(weight(c, "a > b", "b > c") == 1);
    REQUIRE(weight(c, "b > c", "CONVERSION") == 1);
    REQUIRE(weight(c, "START", "a") == 2);
    REQUIRE(weight(c, "a", "NULL") == 2);
    REQUIRE(c.conversions_from(4) == 1); // (b, c) ends the converting row
    REQUIRE(c.conversions_from(5) == 0); // (a) ends the null row
}

TEST_CASE("count_transitions: every edge weighted conversions + nulls, the last split",
          "[transition_counts]") {
    const auto c = count_transitions(fixtures::abc_example());
    REQUIRE(weight(c, "START", "a") == 4);
    REQUIRE(weight(c, "START", "b") == 2);
    REQUIRE(weight(c, "a", "b") == 2);
    REQUIRE(weight(c, "a", "c") == 2);
    REQUIRE(weight(c, "b", "CONVERSION") == 1);
    REQUIRE(weight(c, "b", "NULL") == 3);
    REQUIRE(weight(c, "c", "CONVERSION") == 2);
    REQUIRE(c.total_conversions() == 3);
    REQUIRE(c.total_value() == 40);
}

TEST_CASE("count_transitions: state-space guard and bad order", "[transition_counts]") {
    const auto js = fixtures::abc_example();
    counting_options o;
    o.order = 0;
    REQUIRE_THROWS_AS(count_transitions(js, o), invalid_input);
    o.order = 2;
    o.max_states = 4;
    REQUIRE_THROWS_AS(count_transitions(js, o), state_space_too_large);
    REQUIRE_THROWS_WITH(count_transitions(js, o),
                        Catch::Contains("above the cap of 4"));
}
