#include "fixtures.hpp"

#include <journeyloop/score.hpp>

#include <cmath>

using namespace journeyloop;
using Catch::Contains;

namespace {

// Four rows worked by hand:
//   a > b       1 conversion, value 10
//   a > c       1 null
//   b           1 conversion (value 20), 3 nulls
//   c > a > b   1 null
// Order 1: START -> a 2/7, b 4/7, c 1/7; a -> b 2/3, a -> c 1/3;
// b -> CONVERSION 1/3, NULL 2/3; c -> a 1/2, NULL 1/2. So x(b) = 1/3,
// x(a) = 2/3 x(b) + 1/3 x(c), x(c) = x(a) / 2: x(a) = 4/15, x(c) = 2/15,
// x(START) = 2/7. Every conversion leaves b, whose mean value is 15.
// Order 2: START -> (a,b) 1/7, (a,c) 1/7, (b) 4/7, (c,a) 1/7; x(a,b) = 1/2,
// x(a,c) = 0, x(b) = 1/4, x(c,a) = 1/2; visits (a,b) 2/7, (b) 4/7, (a,c) 1/7,
// (c,a) 1/7; mean values (a,b) 10, (b) 20.
journey_set hand_journeys() {
    std::vector<std::string_view> paths{"a > b", "a > c", "b", "c > a > b"};
    std::vector<double> conv{1, 0, 1, 0}, nulls{0, 1, 3, 1}, value{10, 0, 20, 0};
    return build_journeys({paths, conv, nulls, value});
}

markov_model hand_model(std::size_t order) {
    counting_options o;
    o.order = order;
    return fit_markov(count_transitions(hand_journeys(), o));
}

journey_set open_journeys(std::vector<std::string_view> paths) {
    std::vector<double> zeros(paths.size(), 0.0);
    return build_journeys({paths, zeros, {}, {}});
}

std::vector<channel_id> ids(const markov_model& m, std::vector<std::string> names) {
    std::vector<channel_id> out;
    for (const auto& n : names) out.push_back(m.counts().channels().at(n));
    return out;
}

} // namespace

TEST_CASE("score: order 1, the probability from each state by hand", "[score]") {
    const auto model = hand_model(1);
    const auto open = open_journeys({"a", "c > a", "b", "c", "a > d", "d"});
    const auto s = score_journeys(model, open);
    const std::vector<double> p{4.0 / 15, 4.0 / 15, 1.0 / 3, 2.0 / 15, 2.0 / 7, 2.0 / 7};
    for (std::size_t i = 0; i < p.size(); ++i) {
        CHECK(s.probability[i] == Approx(p[i]).margin(1e-14));
        CHECK(s.expected_value[i] == Approx(15 * p[i]).margin(1e-12));
    }
    CHECK(s.status[0] == score_status::exact);
    CHECK(s.status[4] == score_status::unknown);
    CHECK(s.status[5] == score_status::unknown);
    CHECK(s.exact == 4);
    CHECK(s.backed_off == 0);
    CHECK(s.unknown == 2);
    CHECK(s.labels[s.key[0]] == "a");
    CHECK(s.labels[s.key[1]] == "a");
    CHECK(s.labels[s.key[4]] == "START");
    CHECK(s.matched[0] == 1);
    CHECK(s.matched[4] == 0);
    CHECK(s.repeat.empty());

    score_options nan;
    nan.unknown = unknown_rule::nan;
    const auto n = score_journeys(model, open, nan);
    CHECK(std::isnan(n.probability[4]));
    CHECK(std::isnan(n.expected_value[5]));
    CHECK(n.labels[n.key[5]].empty());
    CHECK(n.probability[0] == s.probability[0]);
}

TEST_CASE("score: a prefix of a fitted path gets the chain's value", "[score]") {
    for (std::size_t k = 1; k <= 3; ++k) {
        const auto model = hand_model(k);
        const auto x = model.conversion_probabilities();
        const auto open = open_journeys({"c > a > b"});
        const auto s = score_journeys(model, open);
        // The fitted path's last state (at order 3 the whole path).
        const auto& counts = model.counts();
        state_id last = 0;
        for (state_id t = transition_counts::first_channel_state; t < counts.num_states(); ++t)
            if (counts.state_label(t) == (k == 1 ? "b" : k == 2 ? "a > b" : "c > a > b")) last = t;
        REQUIRE(last != 0);
        CHECK(s.probability[0] == x[last]);
        CHECK(s.status[0] == score_status::exact);
    }
}

TEST_CASE("score: order 2 windows, prefixes and back-off by hand", "[score]") {
    const auto model = hand_model(2);
    const auto open =
        open_journeys({"c > a > b", "a", "b", "c > b", "b > a", "b > c", "d > a > b", "a > d"});
    const auto s = score_journeys(model, open);
    const std::vector<double> p{0.5, 0.25, 0.25, 1.0 / 3, 0.5, 0.0, 0.5, 2.0 / 7};
    const std::vector<double> v{5, 2.5, 5, 5, 5, 0, 5, 30.0 / 7};
    const std::vector<score_status> st{score_status::exact,      score_status::exact,
                                       score_status::exact,      score_status::backed_off,
                                       score_status::backed_off, score_status::backed_off,
                                       score_status::exact,      score_status::unknown};
    const std::vector<std::string> label{"a > b",   "a > ...", "b > ...", "... > b",
                                         "... > a", "... > c", "a > b",   "START"};
    const std::vector<std::uint32_t> matched{2, 1, 1, 1, 1, 1, 2, 0};
    for (std::size_t i = 0; i < p.size(); ++i) {
        INFO("journey " << i);
        CHECK(s.probability[i] == Approx(p[i]).margin(1e-14));
        CHECK(s.expected_value[i] == Approx(v[i]).margin(1e-12));
        CHECK(s.status[i] == st[i]);
        CHECK(s.labels[s.key[i]] == label[i]);
        CHECK(s.matched[i] == matched[i]);
    }
    CHECK(s.exact == 4);
    CHECK(s.backed_off == 3);
    CHECK(s.unknown == 1);
}

TEST_CASE("score: padded order 2 has a state for a short journey", "[score]") {
    counting_options o;
    o.order = 2;
    o.padded = true;
    const auto model = fit_markov(count_transitions(hand_journeys(), o));
    const auto s = score_journeys(model, open_journeys({"a", "b", "c > b"}));
    // ((start), a) -> (a, b) 1/2, (a, c) 1/2: x = 1/4; ((start), b) = 1/4.
    CHECK(s.probability[0] == Approx(0.25).margin(1e-14));
    CHECK(s.labels[s.key[0]] == "(start) > a");
    CHECK(s.probability[1] == Approx(0.25).margin(1e-14));
    // (c, b) unseen: the states ending with b, ((start), b) 4/7 at 1/4 and
    // (a, b) 2/7 at 1/2.
    CHECK(s.status[2] == score_status::backed_off);
    CHECK(s.probability[2] == Approx(1.0 / 3).margin(1e-14));
}

TEST_CASE("next_touch: gains by hand", "[score]") {
    SECTION("order 1") {
        const auto model = hand_model(1);
        const auto t = next_touch(model, open_journeys({"c", "a > d"}),
                                  {ids(model, {"a"}), ids(model, {"b"}), ids(model, {"c"})});
        REQUIRE(t.journeys == 2);
        REQUIRE(t.groups == 3);
        CHECK(t.probability[0] == Approx(4.0 / 15).margin(1e-14));
        CHECK(t.gain[0] == Approx(2.0 / 15).margin(1e-14));
        CHECK(t.gain[1] == Approx(1.0 / 5).margin(1e-14));
        CHECK(t.gain[2] == Approx(0.0).margin(1e-14));
        CHECK(t.value_gain[1] == Approx(3.0).margin(1e-12));
        CHECK(t.best[0] == 1);
        // The unknown journey scores from START; after a touch it is known.
        CHECK(t.current.status[1] == score_status::unknown);
        CHECK(t.gain[3] == Approx(4.0 / 15 - 2.0 / 7).margin(1e-14));
        CHECK(t.status[3] == score_status::exact);
    }
    SECTION("order 2, a team as one candidate") {
        const auto model = hand_model(2);
        const auto a = ids(model, {"a"})[0], b = ids(model, {"b"})[0], c = ids(model, {"c"})[0];
        const auto t = next_touch(model, open_journeys({"c"}), {{a}, {b}, {c}, {c, b}});
        CHECK(t.current.probability[0] == Approx(0.5).margin(1e-14));
        CHECK(t.gain[0] == Approx(0.0).margin(1e-14));
        CHECK(t.gain[1] == Approx(1.0 / 3 - 0.5).margin(1e-14));
        CHECK(t.status[1] == score_status::backed_off);
        CHECK(t.gain[2] == Approx(-0.5).margin(1e-14));
        CHECK(t.channel[3] == b);
        CHECK(t.probability[3] == t.probability[1]);
        CHECK(t.best[0] == 0);
    }
    SECTION("bad candidates") {
        const auto model = hand_model(1);
        const auto open = open_journeys({"a"});
        CHECK_THROWS_AS(next_touch(model, open, {{99}}), unknown_channel);
        CHECK_THROWS_AS(next_touch(model, open, {}), invalid_input);
        CHECK_THROWS_WITH(next_touch(model, open, {{0}, {}}), Contains("group 1 has no channel"));
    }
}

TEST_CASE("next_touch: best_only keeps the best group of each journey", "[score]") {
    const auto model = hand_model(1);
    const auto open = open_journeys({"c", "a > d", "b"});
    const std::vector<std::vector<channel_id>> groups{ids(model, {"a"}), ids(model, {"b"}),
                                                      ids(model, {"c"}), ids(model, {"c", "a"})};
    const auto full = next_touch(model, open, groups);
    score_options o;
    o.best_only = true;
    const auto best = next_touch(model, open, groups, o);
    REQUIRE(best.journeys == 3);
    REQUIRE(best.groups == 4);
    REQUIRE(best.probability.size() == 3);
    CHECK(best.best == full.best);
    for (std::size_t i = 0; i < 3; ++i) {
        const auto e = i * 4 + full.best[i];
        CHECK(best.channel[i] == full.channel[e]);
        CHECK(best.probability[i] == full.probability[e]);
        CHECK(best.expected_value[i] == full.expected_value[e]);
        CHECK(best.gain[i] == full.gain[e]);
        CHECK(best.value_gain[i] == full.value_gain[e]);
        CHECK(best.status[i] == full.status[e]);
    }
    // b leads to x(b) = 1/3 from everywhere (from b itself: repeats collapse).
    CHECK(best.best == std::vector<std::uint32_t>{1, 1, 1});
    CHECK(best.probability[0] == Approx(1.0 / 3).margin(1e-14));

    // The full table is refused above the memory limit, before it is built:
    // 3 journeys x 4 groups of 40 bytes; best_only needs no table.
    CHECK(next_touch_memory(3, 4) == 480);
    set_memory_limit(479);
    CHECK_THROWS_AS(next_touch(model, open, groups), memory_limit_exceeded);
    CHECK_THROWS_WITH(next_touch(model, open, groups),
                      Contains("next_touch's table of 3 journeys x 4 candidates needs at least "
                               "480 bytes, above the memory limit of 479 bytes") &&
                          Contains("best_only"));
    CHECK(next_touch(model, open, groups, o).best == best.best);
    set_memory_limit(480);
    CHECK(next_touch(model, open, groups).probability == full.probability);
    set_memory_limit(0);
}

TEST_CASE("score: bad input", "[score]") {
    const auto model = hand_model(1);
    CHECK_THROWS_WITH(score_journeys(model, journey_set{}), Contains("no open journeys"));
    std::vector<std::string_view> empty{""};
    std::vector<double> zero{0};
    CHECK_THROWS_AS(build_journeys({empty, zero, {}, {}}), invalid_input);
}

TEST_CASE("score: loop first and next purchase by hand", "[score][loop]") {
    // a > P > b > P (1 customer), a > b (1), b > P (2): a -> P 1/2, a -> b
    // 1/2; b -> P 3/4, b -> END 1/4; START -> a 1/2, b 1/2; PURCHASE -> b
    // 1/4, END 3/4. x(b) = 3/4, x(a) = 7/8, h = 13/16, r = 3/16.
    std::vector<std::string_view> paths{"a > purchase > b > purchase", "a > b", "b > purchase"};
    std::vector<double> customers{1, 1, 2}, value{30, 0, 60};
    const auto model =
        fit_loop(count_loop_transitions(build_loop_histories({paths, customers, {}, value}, {})));
    std::vector<std::string_view> open{
        "a", "b", "a > purchase", "a > purchase > b", "b > purchase > a", "purchase > a"};
    std::vector<double> ones(open.size(), 1.0);
    const auto js = build_journeys({open, ones, {}, {}});
    const auto s = score_journeys(model, js);
    const std::vector<double> p{7.0 / 8, 3.0 / 4, 3.0 / 16, 3.0 / 4, 7.0 / 8, 7.0 / 8};
    const std::vector<std::uint8_t> repeat{0, 0, 1, 1, 1, 1};
    for (std::size_t i = 0; i < p.size(); ++i) {
        INFO("history " << i);
        CHECK(s.probability[i] == Approx(p[i]).margin(1e-14));
        CHECK(s.repeat[i] == repeat[i]);
        CHECK(s.expected_purchases[i] == Approx(p[i] * 16 / 13).margin(1e-14));
    }
    CHECK(s.labels[s.key[2]] == "PURCHASE");
    // State a of the first view and of the repeat view: one label.
    CHECK(s.key[0] == s.key[4]);
    CHECK(s.labels.size() == 3);
    CHECK(s.expected_value[2] == Approx(model.repeat()->value_per_journey()).margin(1e-12));
    // START -> a 1/2, b 1/2: the model's figures are the mean of the two.
    const auto sum = summarize(model);
    CHECK(0.5 * (s.expected_purchases[0] + s.expected_purchases[1]) ==
          Approx(sum.expected_purchases).margin(1e-13));
    CHECK(0.5 * (s.future_value[0] + s.future_value[1]) ==
          Approx(sum.expected_value).margin(1e-12));

    // The same histories as loop_histories (the row that starts with a
    // purchase loses it there).
    std::vector<std::string_view> h{"a", "a > purchase > b"};
    std::vector<double> c2{1, 1};
    const auto lh = score_journeys(model, build_loop_histories({h, c2, {}, {}}, {}));
    CHECK(lh.probability[0] == Approx(7.0 / 8).margin(1e-14));
    CHECK(lh.probability[1] == Approx(3.0 / 4).margin(1e-14));
    CHECK(lh.repeat[1] == 1);

    const auto b = model.channels().at("b");
    const auto t = next_touch(model, js, {{b}});
    // a > purchase, then b: 3/4 - 3/16.
    CHECK(t.gain[2] == Approx(9.0 / 16).margin(1e-14));
    CHECK(t.gain[0] == Approx(3.0 / 4 - 7.0 / 8).margin(1e-14));
}

TEST_CASE("score: the same on one thread and on several", "[score][thread]") {
    const auto model = hand_model(2);
    std::vector<std::string> names{"a", "b", "c", "d"};
    fixtures::lcg rng(7);
    std::vector<std::string> paths;
    for (int i = 0; i < 5000; ++i) {
        std::string p;
        const auto n = 1 + rng() % 5;
        for (unsigned j = 0; j < n; ++j) p += (j ? " > " : "") + names[rng() % 4];
        paths.push_back(p);
    }
    std::vector<std::string_view> views(paths.begin(), paths.end());
    std::vector<double> zeros(paths.size(), 0.0);
    const auto open = build_journeys({views, zeros, {}, {}});
    score_options one, three;
    one.threads = 1;
    three.threads = 3;
    const auto a = score_journeys(model, open, one);
    const auto b = score_journeys(model, open, three);
    CHECK(a.probability == b.probability);
    CHECK(a.key == b.key);
    CHECK(a.labels == b.labels);
    CHECK(a.exact + a.backed_off + a.unknown == paths.size());
    const auto ta = next_touch(model, open, {{0}, {1}, {2}}, one);
    const auto tb = next_touch(model, open, {{0}, {1}, {2}}, three);
    CHECK(ta.gain == tb.gain);
    CHECK(ta.best == tb.best);
}
