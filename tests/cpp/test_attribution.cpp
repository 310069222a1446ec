#include "fixtures.hpp"

using namespace journeyloop;
using Catch::Contains;

namespace {
void require_values(const attribution& a, std::vector<double> conv, std::vector<double> value) {
    REQUIRE(a.conversions().size() == conv.size());
    for (std::size_t i = 0; i < conv.size(); ++i) {
        CAPTURE(i, a.names()[i]);
        REQUIRE(a.conversions()[i] == Approx(conv[i]).epsilon(1e-12).margin(1e-12));
        REQUIRE(a.value()[i] == Approx(value[i]).epsilon(1e-12).margin(1e-12));
    }
}
} // namespace

namespace {
heuristic_options options(double half_life, double endpoint_share) {
    heuristic_options o;
    o.half_life = half_life;
    o.endpoint_share = endpoint_share;
    return o;
}
} // namespace

TEST_CASE("touch_weights: the rules", "[attribution]") {
    REQUIRE(touch_weights(heuristic::position_based, 1) == std::vector<double>{1.0});
    REQUIRE(touch_weights(heuristic::position_based, 2) == std::vector<double>{0.5, 0.5});
    const auto pb = touch_weights(heuristic::position_based, 4);
    REQUIRE(pb[0] == Approx(0.4).epsilon(1e-12));
    REQUIRE(pb[1] == Approx(0.1).epsilon(1e-12));
    REQUIRE(pb[2] == Approx(0.1).epsilon(1e-12));
    REQUIRE(pb[3] == Approx(0.4).epsilon(1e-12));
    const auto td = touch_weights(heuristic::time_decay, 3, options(2.0, 0.4));
    // weights 2^-1, 2^-0.5, 1, normalised
    const double total = 0.5 + std::sqrt(0.5) + 1.0;
    REQUIRE(td[0] == Approx(0.5 / total).epsilon(1e-12));
    REQUIRE(td[1] == Approx(std::sqrt(0.5) / total).epsilon(1e-12));
    REQUIRE(td[2] == Approx(1.0 / total).epsilon(1e-12));
    REQUIRE_THROWS_AS(touch_weights(heuristic::time_decay, 3, options(0.0, 0.4)), invalid_input);
    REQUIRE_THROWS_WITH(touch_weights(heuristic::linear, 3, options(1.0, 0.7)),
                        Contains("endpoint_share must be in [0, 0.5]"));
}

TEST_CASE("heuristic_attribution: hand-worked abc example", "[attribution]") {
    const auto js = fixtures::abc_example();
    SECTION("first touch") {
        require_values(heuristic_attribution(js, heuristic::first_touch), {3, 0, 0}, {40, 0, 0});
    }
    SECTION("last touch") {
        require_values(heuristic_attribution(js, heuristic::last_touch), {0, 1, 2}, {0, 10, 30});
    }
    SECTION("linear") {
        require_values(heuristic_attribution(js, heuristic::linear), {1.5, 0.5, 1}, {20, 5, 15});
    }
    SECTION("position based, two touches split 50/50") {
        require_values(heuristic_attribution(js, heuristic::position_based), {1.5, 0.5, 1},
                       {20, 5, 15});
    }
    SECTION("time decay, half-life one step") {
        require_values(heuristic_attribution(js, heuristic::time_decay), {1, 2.0 / 3, 4.0 / 3},
                       {40.0 / 3, 20.0 / 3, 20});
    }
}

TEST_CASE("heuristic_attribution: A/B example, first and last touch all to A", "[attribution]") {
    const auto js = fixtures::ab_example();
    require_values(heuristic_attribution(js, heuristic::first_touch), {3, 0}, {0, 0});
    require_values(heuristic_attribution(js, heuristic::last_touch), {3, 0}, {0, 0});
}

TEST_CASE("heuristic names round-trip", "[attribution]") {
    for (auto name : {"first_touch", "last_touch", "linear", "position_based", "time_decay"})
        REQUIRE(to_string(heuristic_from_string(name)) == name);
    REQUIRE_THROWS_WITH(heuristic_from_string("u_shaped"),
                        Contains("unknown heuristic 'u_shaped' (valid: first_touch"));
}

TEST_CASE("group_attribution: sums channels into teams", "[attribution]") {
    const auto js = fixtures::abc_example();
    const auto a = heuristic_attribution(js, heuristic::linear);
    const auto teams = group_attribution(a, {"marketing", "sales", "sales"}, {"service"});
    REQUIRE(teams.names() == std::vector<std::string>{"marketing", "sales", "service"});
    require_values(teams, {1.5, 1.5, 0}, {20, 20, 0});
    REQUIRE_THROWS_AS(group_attribution(a, {"x"}), invalid_input);
}

TEST_CASE("attribution: one entry per name, checked on construction", "[attribution]") {
    const attribution a({"x", "y"}, {1.0, 3.0}, {10.0, 30.0});
    REQUIRE(a.size() == 2);
    REQUIRE(a.share(1) == 0.75);
    REQUIRE(a.total_value() == 40);
    REQUIRE(attribution().size() == 0);
    REQUIRE_THROWS_WITH(attribution({"x", "y"}, {1.0}, {10.0, 30.0}),
                        Contains("2 names, 1 conversions and 2 values; expected one per name"));
    REQUIRE_THROWS_AS(attribution({"x"}, {1.0}, {}), invalid_input);
    REQUIRE_THROWS_WITH(loop_attribution(a, {1.0, 2.0}, {0.0}),
                        Contains("2 names, 2 first and 1 repeat purchases"));
    const loop_attribution l(a, {1.0, 2.0}, {0.0, 1.0});
    REQUIRE(l.first_purchases()[1] == 2);
    REQUIRE(l.conversions()[1] == 3);
}
