#include "fixtures.hpp"

#include <algorithm>
#include <map>
#include <numeric>
#include <utility>

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

namespace {

// The Shapley values of the game v(S) = the conversions (or value) of the
// rows whose distinct channels all lie in S, by brute force over every
// ordering of the players: the definition the simplified Shapley value
// claims to equal.
std::pair<std::vector<double>, std::vector<double>> brute_force_shapley(const journey_set& js) {
    const std::size_t n = js.channels().size();
    std::vector<std::uint32_t> mask(js.size(), 0);
    for (std::size_t r = 0; r < js.size(); ++r)
        for (auto c : js.path(r)) mask[r] |= 1u << c;
    auto worth = [&](std::uint32_t s, bool value) {
        double v = 0;
        for (std::size_t r = 0; r < js.size(); ++r)
            if ((mask[r] & ~s) == 0) v += value ? js.value(r) : js.conversions(r);
        return v;
    };
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::vector<double> conv(n, 0.0), value(n, 0.0);
    double orderings = 0;
    do {
        std::uint32_t s = 0;
        for (auto p : order) {
            conv[p] += worth(s | (1u << p), false) - worth(s, false);
            value[p] += worth(s | (1u << p), true) - worth(s, true);
            s |= 1u << p;
        }
        orderings += 1;
    } while (std::next_permutation(order.begin(), order.end()));
    for (auto& x : conv) x /= orderings;
    for (auto& x : value) x /= orderings;
    return {conv, value};
}

journey_set random_rows(fixtures::lcg& rng, std::size_t channels, std::size_t rows) {
    static const char* names[] = {"a", "b", "c", "d", "e", "f"};
    std::vector<std::string> paths;
    std::vector<double> conv, nulls, value;
    for (std::size_t r = 0; r < rows; ++r) {
        std::string p;
        const std::size_t len = 1 + rng() % 5;
        for (std::size_t i = 0; i < len; ++i) {
            if (i) p += " > ";
            p += names[rng() % channels];
        }
        paths.push_back(p);
        conv.push_back(double(rng() % 4));
        nulls.push_back(double(rng() % 3));
        value.push_back(conv.back() * double(1 + rng() % 50));
    }
    std::vector<std::string_view> views(paths.begin(), paths.end());
    return build_journeys({views, conv, nulls, value});
}

} // namespace

TEST_CASE("simplified_shapley: hand-worked rows", "[attribution][shapley]") {
    // "a > b > a" 3 conversions (value 30), "a" 1 (value 4), "c > b" 2 (value 8):
    // a 3/2 + 1 = 2.5, b 3/2 + 1 = 2.5, c 1; value a 15 + 4, b 15 + 4, c 4.
    std::vector<std::string_view> paths{"a > b > a", "a", "c > b"};
    std::vector<double> conv{3, 1, 2}, nulls{0, 0, 1}, value{30, 4, 8};
    const auto js = build_journeys({paths, conv, nulls, value});
    const auto s = simplified_shapley(js);
    REQUIRE(s.names() == std::vector<std::string>{"a", "b", "c"});
    REQUIRE(s.conversions() == std::vector<double>{2.5, 2.5, 1});
    REQUIRE(s.value() == std::vector<double>{19, 19, 4});
    const auto o = ordered_simplified_shapley(js);
    REQUIRE(o.positions == 2);
    // a first in "a > b > a" and in "a"; b second in "a > b > a", second in "c > b".
    REQUIRE(o.conversions == std::vector<double>{2.5, 0, 0, 2.5, 1, 0});
    REQUIRE(o.value == std::vector<double>{19, 0, 0, 19, 4, 0});
}

TEST_CASE("simplified_shapley: the Shapley value of its game, and the axioms",
          "[attribution][shapley]") {
    fixtures::lcg rng(11);
    for (std::size_t channels = 1; channels <= 6; ++channels) {
        const auto js = random_rows(rng, channels, 40);
        const auto s = simplified_shapley(js);
        const auto [conv, value] = brute_force_shapley(js);
        for (std::size_t j = 0; j < s.size(); ++j) {
            REQUIRE(s.conversions()[j] == Approx(conv[j]).epsilon(1e-12).margin(1e-12));
            REQUIRE(s.value()[j] == Approx(value[j]).epsilon(1e-12).margin(1e-12));
        }
        // Efficiency: the credits sum to the totals.
        REQUIRE(s.total_conversions() == Approx(js.total_conversions()).epsilon(1e-12));
        REQUIRE(s.total_value() == Approx(js.total_value()).epsilon(1e-12));
        // The ordered variant sums to it over positions.
        const auto o = ordered_simplified_shapley(js);
        for (std::size_t j = 0; j < s.size(); ++j) {
            double sum = 0;
            for (std::size_t i = 0; i < o.positions; ++i) sum += o.conversions[j * o.positions + i];
            REQUIRE(sum == Approx(s.conversions()[j]).epsilon(1e-12).margin(1e-12));
        }
    }
    // Symmetry: two channels that always come together get the same credit.
    {
        std::vector<std::string_view> paths{"a > b", "b > c > a", "c"};
        std::vector<double> conv{2, 3, 1};
        const auto s = simplified_shapley(build_journeys({paths, conv, {}, {}}));
        REQUIRE(s.conversions()[0] == s.conversions()[1]);
    }
    // Dummy player: a channel only on rows without conversions gets nothing.
    {
        std::vector<std::string_view> paths{"a > b", "d > a", "b"};
        std::vector<double> conv{2, 0, 1}, nulls{0, 5, 0};
        const auto s = simplified_shapley(build_journeys({paths, conv, nulls, {}}));
        REQUIRE(s.names()[2] == "d");
        REQUIRE(s.conversions()[2] == 0);
    }
    // Additivity: the value of two tables together is the sum of their values.
    {
        std::vector<std::string_view> p1{"a > b", "c"}, p2{"b > c", "a > c"};
        std::vector<std::string_view> both{"a > b", "c", "b > c", "a > c"};
        std::vector<double> c1{1, 2}, c2{3, 4}, cb{1, 2, 3, 4};
        const auto s1 = simplified_shapley(build_journeys({p1, c1, {}, {}}));
        const auto s2 = simplified_shapley(build_journeys({p2, c2, {}, {}}));
        const auto sb = simplified_shapley(build_journeys({both, cb, {}, {}}));
        std::map<std::string, double> sum;
        for (const auto* part : {&s1, &s2})
            for (std::size_t j = 0; j < part->size(); ++j)
                sum[part->names()[j]] += part->conversions()[j];
        for (std::size_t j = 0; j < sb.size(); ++j)
            REQUIRE(sb.conversions()[j] == Approx(sum[sb.names()[j]]).epsilon(1e-12));
    }
}
