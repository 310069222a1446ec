#include "fixtures.hpp"

#include <journeyloop/journey_credit.hpp>

#include <cmath>
#include <map>
#include <string>
#include <tuple>
#include <utility>

using namespace journeyloop;
using Catch::Contains;

namespace {

// The credit as (row, channel name) -> (conversions, value).
std::map<std::pair<std::uint64_t, std::string>, std::pair<double, double>> by_key(
    const journey_set& js, const journey_credit& c) {
    std::map<std::pair<std::uint64_t, std::string>, std::pair<double, double>> out;
    for (std::size_t i = 0; i < c.size(); ++i)
        out[{c.row[i], js.channels().name(c.channel[i])}] = {c.conversions[i], c.value[i]};
    return out;
}

void require_credit(
    const journey_set& js, const journey_credit& c,
    const std::vector<std::tuple<std::uint64_t, std::string, double, double>>& want) {
    REQUIRE(c.size() == want.size());
    const auto got = by_key(js, c);
    for (const auto& [row, channel, conv, value] : want) {
        CAPTURE(row, channel);
        const auto it = got.find({row, channel});
        REQUIRE(it != got.end());
        REQUIRE(it->second.first == Approx(conv).epsilon(1e-13).margin(1e-13));
        REQUIRE(it->second.second == Approx(value).epsilon(1e-13).margin(1e-13));
    }
}

// Every row's credit sums to its conversions and value; rows without either
// have no entry; entries come row by row.
void require_row_sums(const journey_set& js, const journey_credit& c) {
    std::vector<double> conv(js.size(), 0.0), value(js.size(), 0.0);
    for (std::size_t i = 0; i < c.size(); ++i) {
        if (i > 0) REQUIRE(c.row[i] >= c.row[i - 1]);
        conv[c.row[i]] += c.conversions[i];
        value[c.row[i]] += c.value[i];
    }
    for (std::size_t r = 0; r < js.size(); ++r) {
        CAPTURE(r);
        REQUIRE(conv[r] == Approx(js.conversions(r)).epsilon(1e-12).margin(1e-12));
        REQUIRE(value[r] == Approx(js.value(r)).epsilon(1e-12).margin(1e-12));
    }
}

void require_same(const attribution& a, const attribution& b) {
    REQUIRE(a.names() == b.names());
    for (std::size_t i = 0; i < a.size(); ++i) {
        CAPTURE(a.names()[i]);
        REQUIRE(a.conversions()[i] == Approx(b.conversions()[i]).epsilon(1e-12).margin(1e-12));
        REQUIRE(a.value()[i] == Approx(b.value()[i]).epsilon(1e-12).margin(1e-12));
    }
}

heuristic_options weights(double first, double last) {
    heuristic_options o;
    o.first_share = first;
    o.last_share = last;
    return o;
}

} // namespace

TEST_CASE("position weights: asymmetric first and last shares by hand", "[attribution][credit]") {
    const auto w = touch_weights(heuristic::position_based, 4, weights(0.3, 0.5));
    REQUIRE(w.size() == 4);
    REQUIRE(w[0] == Approx(0.3).epsilon(1e-15));
    REQUIRE(w[1] == Approx(0.1).epsilon(1e-14));
    REQUIRE(w[2] == Approx(0.1).epsilon(1e-14));
    REQUIRE(w[3] == Approx(0.5).epsilon(1e-15));
    // Two touches: first:last in proportion, 0.3:0.5.
    const auto two = touch_weights(heuristic::position_based, 2, weights(0.3, 0.5));
    REQUIRE(two[0] == Approx(0.375).epsilon(1e-15));
    REQUIRE(two[1] == Approx(0.625).epsilon(1e-15));
    REQUIRE(touch_weights(heuristic::position_based, 1, weights(0.3, 0.5)) ==
            std::vector<double>{1.0});
    // Both zero: two touches evenly, longer paths all to the middle.
    REQUIRE(touch_weights(heuristic::position_based, 2, weights(0, 0)) ==
            std::vector<double>{0.5, 0.5});
    REQUIRE(touch_weights(heuristic::position_based, 3, weights(0, 0)) ==
            std::vector<double>{0, 1, 0});
    // first + last = 1: nothing in the middle.
    const auto ends = touch_weights(heuristic::position_based, 3, weights(0.7, 0.3));
    REQUIRE(ends[0] == 0.7);
    REQUIRE(ends[1] == Approx(0.0).margin(1e-15)); // 1 - 0.7 - 0.3 in floating point
    REQUIRE(ends[2] == 0.3);
    // One share set, the other from endpoint_share.
    heuristic_options only_first;
    only_first.first_share = 0.6;
    const auto f = touch_weights(heuristic::position_based, 3, only_first);
    REQUIRE(f[0] == Approx(0.6));
    REQUIRE(f[2] == Approx(0.4));
    REQUIRE(f[1] == Approx(0.0).margin(1e-15));
}

TEST_CASE("position weights: endpoint_share alone gives the symmetric rule, bit for bit",
          "[attribution][credit]") {
    for (double share : {0.0, 0.25, 0.4, 0.5}) {
        heuristic_options sym;
        sym.endpoint_share = share;
        const auto both = weights(share, share);
        for (std::size_t n = 1; n < 7; ++n) {
            CAPTURE(share, n);
            const auto a = touch_weights(heuristic::position_based, n, sym);
            const auto b = touch_weights(heuristic::position_based, n, both);
            for (std::size_t i = 0; i < n; ++i) REQUIRE(a[i] == Approx(b[i]).epsilon(1e-15));
        }
    }
    // The defaults are today's 40/20/40.
    REQUIRE(touch_weights(heuristic::position_based, 3)[1] == Approx(0.2).epsilon(1e-15));
}

TEST_CASE("position weights: shares out of range name the option", "[attribution][credit]") {
    REQUIRE_THROWS_WITH(touch_weights(heuristic::position_based, 3, weights(-0.1, 0.2)),
                        Contains("first_share must be in [0, 1]"));
    REQUIRE_THROWS_WITH(touch_weights(heuristic::position_based, 3, weights(0.2, 1.5)),
                        Contains("last_share must be in [0, 1]"));
    REQUIRE_THROWS_WITH(touch_weights(heuristic::position_based, 3, weights(0.6, 0.5)),
                        Contains("first_share + last_share must be at most 1"));
    REQUIRE_THROWS_AS(touch_weights(heuristic::position_based, 3, weights(std::nan(""), 0.2)),
                      invalid_input);
    const auto js = fixtures::abc_example();
    REQUIRE_THROWS_AS(heuristic_attribution(js, heuristic::position_based, weights(0.6, 0.5)),
                      invalid_input);
    REQUIRE_THROWS_AS(heuristic_journey_credit(js, heuristic::position_based, weights(0.6, 0.5)),
                      invalid_input);
}

TEST_CASE("heuristic_attribution: asymmetric position weights by hand", "[attribution][credit]") {
    // "a > b > c > a" 2 conversions (value 10), "b > c" 1 conversion (value 4).
    std::vector<std::string_view> paths{"a > b > c > a", "b > c"};
    std::vector<double> conv{2, 1}, value{10, 4};
    const auto js = build_journeys({paths, conv, {}, value});
    const auto a = heuristic_attribution(js, heuristic::position_based, weights(0.3, 0.5));
    // Row 0: a 0.3 + 0.5, b 0.1, c 0.1; row 1: b 0.375, c 0.625.
    REQUIRE(a.conversions()[0] == Approx(1.6).epsilon(1e-14));
    REQUIRE(a.conversions()[1] == Approx(0.2 + 0.375).epsilon(1e-14));
    REQUIRE(a.conversions()[2] == Approx(0.2 + 0.625).epsilon(1e-14));
    REQUIRE(a.value()[0] == Approx(8.0).epsilon(1e-14));
    REQUIRE(a.value()[1] == Approx(1.0 + 1.5).epsilon(1e-14));
    REQUIRE(a.value()[2] == Approx(1.0 + 2.5).epsilon(1e-14));
}

TEST_CASE("heuristic_journey_credit: hand-worked rows of the abc example", "[credit]") {
    // "a > b" 1 conversion (10), "b" none, "a > c" 2 conversions (30).
    const auto js = fixtures::abc_example();
    require_credit(js, heuristic_journey_credit(js, heuristic::first_touch),
                   {{0, "a", 1, 10}, {0, "b", 0, 0}, {2, "a", 2, 30}, {2, "c", 0, 0}});
    require_credit(js, heuristic_journey_credit(js, heuristic::last_touch),
                   {{0, "a", 0, 0}, {0, "b", 1, 10}, {2, "a", 0, 0}, {2, "c", 2, 30}});
    require_credit(js, heuristic_journey_credit(js, heuristic::linear),
                   {{0, "a", 0.5, 5}, {0, "b", 0.5, 5}, {2, "a", 1, 15}, {2, "c", 1, 15}});
    require_credit(js, heuristic_journey_credit(js, heuristic::position_based, weights(0.3, 0.5)),
                   {{0, "a", 0.375, 3.75},
                    {0, "b", 0.625, 6.25},
                    {2, "a", 0.75, 11.25},
                    {2, "c", 1.25, 18.75}});
    // Half-life 1 step: weights 1/2 and 1, normalised to 1/3 and 2/3.
    require_credit(js, heuristic_journey_credit(js, heuristic::time_decay),
                   {{0, "a", 1.0 / 3, 10.0 / 3},
                    {0, "b", 2.0 / 3, 20.0 / 3},
                    {2, "a", 2.0 / 3, 10},
                    {2, "c", 4.0 / 3, 20}});
}

TEST_CASE("heuristic_journey_credit: repeated channels add their touches", "[credit]") {
    std::vector<std::string_view> paths{"a > b > a", "c", "b > c > b > a"};
    std::vector<double> conv{1, 0, 4}, nulls{0, 3, 0}, value{0, 0, 8};
    const auto js = build_journeys({paths, conv, nulls, value});
    const auto c = heuristic_journey_credit(js, heuristic::position_based);
    // Row 0: a 0.4 + 0.4, b 0.2; row 2 (b, c, b, a): b 0.4 + 0.1, c 0.1, a 0.4.
    require_credit(js, c,
                   {{0, "a", 0.8, 0},
                    {0, "b", 0.2, 0},
                    {2, "b", 2.0, 4.0},
                    {2, "c", 0.4, 0.8},
                    {2, "a", 1.6, 3.2}});
    // In order of first touch within a row.
    REQUIRE(js.channels().name(c.channel[2]) == "b");
    REQUIRE(js.channels().name(c.channel[3]) == "c");
    REQUIRE(js.channels().name(c.channel[4]) == "a");
}

TEST_CASE("simplified_shapley_journey_credit: even split between distinct channels", "[credit]") {
    const auto js = fixtures::abc_example();
    require_credit(js, simplified_shapley_journey_credit(js),
                   {{0, "a", 0.5, 5}, {0, "b", 0.5, 5}, {2, "a", 1, 15}, {2, "c", 1, 15}});
}

TEST_CASE("markov_journey_credit: removal effects of the abc example by hand", "[credit]") {
    // P(START->a) 2/3, P(a->b) = P(a->c) = 1/2, P(b->CONVERSION) 1/4, c converts.
    // p = 1/2; RE a 5/6, b 1/3, c 2/3. Value (b 10, c 15 per conversion):
    // v = 20/3; RE a 7/8, b 1/4, c 3/4.
    const auto js = fixtures::abc_example();
    const auto model = fit_markov(count_transitions(js));
    const auto c = markov_journey_credit(js, model);
    require_credit(js, c,
                   {{0, "a", 5.0 / 7, 70.0 / 9},
                    {0, "b", 2.0 / 7, 20.0 / 9},
                    {2, "a", 10.0 / 9, 210.0 / 13},
                    {2, "c", 8.0 / 9, 180.0 / 13}});
    require_row_sums(js, c);
    // Summed over the journeys it is not the aggregate attribution (a 15/11,
    // b 6/11, c 12/11): rows that never touched b do not give b a share.
    const auto total = total_credit(js, c);
    REQUIRE(total.conversions()[0] == Approx(115.0 / 63).epsilon(1e-13));
    REQUIRE(total.conversions()[1] == Approx(18.0 / 63).epsilon(1e-13));
    REQUIRE(total.conversions()[2] == Approx(56.0 / 63).epsilon(1e-13));
    REQUIRE(total.total_conversions() == Approx(3.0).epsilon(1e-14));
    const auto aggregate = markov_attribution(model);
    REQUIRE(aggregate.conversions()[0] == Approx(15.0 / 11).epsilon(1e-12));
}

TEST_CASE("shapley_journey_credit: Markov Shapley values of the abc example by hand", "[credit]") {
    // v(S) (conversion probability with the others removed): v(b) = 1/12,
    // v(ab) = 1/6, v(ac) = 1/3, v(bc) = 1/12, v(abc) = 1/2, else 0: Shapley
    // a 5/24, b 1/8, c 1/6. Expected value: a 105/36, b 45/36, c 90/36.
    const auto js = fixtures::abc_example();
    const auto model = fit_markov(count_transitions(js));
    const auto c = shapley_journey_credit(js, model);
    require_credit(js, c,
                   {{0, "a", 5.0 / 8, 7},
                    {0, "b", 3.0 / 8, 3},
                    {2, "a", 10.0 / 9, 210.0 / 13},
                    {2, "c", 8.0 / 9, 180.0 / 13}});
    require_row_sums(js, c);
}

TEST_CASE("proportional_journey_credit: weights by hand, zero weights, bad weights", "[credit]") {
    std::vector<std::string_view> paths{"a > b", "c"};
    std::vector<double> conv{2, 1}, value{8, 5};
    const auto js = build_journeys({paths, conv, {}, value});
    const auto c = proportional_journey_credit(js, {1, 3, 0}, {1, 1, 0});
    // "c" weighs zero: its row goes evenly to its one channel.
    require_credit(js, c, {{0, "a", 0.5, 4}, {0, "b", 1.5, 4}, {1, "c", 1, 5}});
    REQUIRE_THROWS_WITH(proportional_journey_credit(js, {1, 2}, {1, 1, 1}),
                        Contains("2 weights for 3 channels"));
    REQUIRE_THROWS_WITH(proportional_journey_credit(js, {1, -2, 0}, {1, 1, 1}),
                        Contains("finite and non-negative"));
    REQUIRE_THROWS_AS(proportional_journey_credit(js, {1, 1, 1}, {1, std::nan(""), 1}),
                      invalid_input);
}

TEST_CASE("journey credit: every method sums per row, heuristics and simplified Shapley to "
          "their aggregates",
          "[credit]") {
    fixtures::lcg rng(25);
    const char* names[] = {"a", "b", "c", "d", "e"};
    std::vector<std::string> texts;
    std::vector<double> conv, nulls, value;
    for (int r = 0; r < 400; ++r) {
        std::string p;
        const unsigned len = 1 + rng() % 6;
        for (unsigned i = 0; i < len; ++i) p += (i ? " > " : "") + std::string(names[rng() % 5]);
        texts.push_back(p);
        conv.push_back(rng() % 3);
        nulls.push_back(1 + rng() % 3);
        value.push_back(conv.back() * (1 + rng() % 50));
    }
    const std::vector<std::string_view> views(texts.begin(), texts.end());
    const auto js = build_journeys({views, conv, nulls, value});
    for (auto h : all_heuristics) {
        CAPTURE(to_string(h));
        const auto c = heuristic_journey_credit(js, h);
        require_row_sums(js, c);
        require_same(total_credit(js, c), heuristic_attribution(js, h));
        // The same on several threads.
        const auto c3 = heuristic_journey_credit(js, h, {}, 3);
        REQUIRE(c3.row == c.row);
        REQUIRE(c3.channel == c.channel);
        REQUIRE(c3.conversions == c.conversions);
    }
    const auto ss = simplified_shapley_journey_credit(js, 2);
    require_row_sums(js, ss);
    require_same(total_credit(js, ss), simplified_shapley(js));
    const auto model = fit_markov(count_transitions(js));
    require_row_sums(js, markov_journey_credit(js, model));
    require_row_sums(js, shapley_journey_credit(js, model, 2));
    // Only crediting rows appear.
    const auto c = heuristic_journey_credit(js, heuristic::linear);
    for (std::size_t i = 0; i < c.size(); ++i)
        REQUIRE((js.conversions(c.row[i]) != 0 || js.value(c.row[i]) != 0));
}

TEST_CASE("markov_journey_credit: a channel the model does not know is named", "[credit]") {
    const auto js = fixtures::abc_example();
    const auto model = fit_markov(count_transitions(js));
    std::vector<std::string_view> paths{"a > z", "b"};
    std::vector<double> conv{1, 1};
    const auto other = build_journeys({paths, conv, {}, {}});
    REQUIRE_THROWS_WITH(markov_journey_credit(other, model), Contains("row 0") && Contains("'z'"));
    REQUIRE_THROWS_AS(markov_journey_credit(other, model), unknown_channel);
    // A non-crediting row may touch it.
    std::vector<double> none{0, 1}, nulls{1, 0};
    const auto quiet = build_journeys({paths, none, nulls, {}});
    const auto c = markov_journey_credit(quiet, model);
    REQUIRE(c.size() == 1);
    REQUIRE(c.conversions[0] == 1.0);
}
