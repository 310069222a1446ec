#include "fixtures.hpp"

#include <journeyloop/model_io.hpp>
#include <journeyloop/scenario.hpp>

#include <cmath>
#include <string>

using namespace journeyloop;
using Catch::Contains;

namespace {

// fixtures::abc_example at order 1, worked by hand:
//   START -> a 2/3, START -> b 1/3; a -> b 1/2, a -> c 1/2;
//   b -> CONVERSION 1/4, b -> NULL 3/4 (value 10 a conversion); c -> CONVERSION 1 (15).
//   x(b) = 1/4, x(c) = 1, x(a) = 5/8, p = 1/2; value per journey 20/3; 6 journeys.
markov_model abc() { return fit_markov(count_transitions(fixtures::abc_example())); }

// The loop histories of test_loop_model.cpp: START -> a 1/2, START -> b 1/2;
// a -> PURCHASE 1/2, a -> b 1/2; b -> PURCHASE 3/4, b -> END 1/4;
// PURCHASE -> b 1/4, PURCHASE -> END 3/4. h = 13/16, r = 3/16, E = 1; 4 customers.
loop_model hand_loop() {
    std::vector<std::string_view> paths{"a > purchase > b > purchase", "a > b", "b > purchase"};
    std::vector<double> customers{1, 1, 2}, value{30, 0, 60};
    return fit_loop(
        count_loop_transitions(build_loop_histories({paths, customers, {}, value}, {})));
}

constexpr double tight = 1e-12;

std::size_t order_of(const markov_model& m) { return m.counts().order(); }
std::size_t order_of(const loop_model& m) { return m.order(); }

} // namespace

TEST_CASE("scenario: an empty scenario gives the model's figures again", "[scenario]") {
    const auto m = abc();
    const auto same = apply_scenario(m, scenario("nothing"));
    CHECK(same.conversion_rate() == Approx(0.5).margin(tight));
    CHECK(same.value_per_journey() == Approx(20.0 / 3).margin(tight));
    CHECK(same.counts().total_conversions() == Approx(3).margin(tight));
    CHECK(same.counts().total_nulls() == Approx(3).margin(tight));
    CHECK(same.counts().total_value() == Approx(40).margin(1e-11));
    const auto a = removal_effects(m), b = removal_effects(same);
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        CHECK(b[i].conversions == Approx(a[i].conversions).margin(tight));
        CHECK(b[i].value == Approx(a[i].value).margin(tight));
    }
    // Its counts keep the sums a saved model is checked against.
    const auto back = model_from_bytes(to_bytes(same));
    CHECK(back.conversion_rate() == Approx(0.5).margin(tight));
    const auto loop_back = loop_model_from_bytes(to_bytes(apply_scenario(hand_loop(), scenario())));
    CHECK(summarize(loop_back.model).expected_purchases == Approx(1).margin(tight));
}

TEST_CASE("scenario: every kind of change, by hand", "[scenario]") {
    const auto m = abc();
    SECTION("remove a channel equals its removal effect") {
        const auto r = apply_scenario(m, scenario().remove({"c"}));
        CHECK(r.conversion_rate() == Approx(1.0 / 6).margin(tight));
        CHECK(1 - r.conversion_rate() / m.conversion_rate() ==
              Approx(removal_effects(m)[m.counts().channels().at("c")].conversions).margin(tight));
        CHECK(r.counts().total_conversions() == Approx(1).margin(tight));
        // c's state is no longer reached: left out.
        CHECK(r.counts().num_states() == m.counts().num_states() - 1);
    }
    SECTION("remove a team") {
        scenario_options o;
        o.teams = {{"a", "marketing"}, {"c", "marketing"}, {"b", "sales"}};
        const auto r = apply_scenario(m, scenario().remove({"sales"}), o);
        // Without b: START -> a 2/3 -> c 1/2: p = 1/3.
        CHECK(r.conversion_rate() == Approx(1.0 / 3).margin(tight));
        CHECK(1 - r.conversion_rate() / m.conversion_rate() ==
              Approx(group_removal_effect(m, {m.counts().channels().at("b")}).conversions)
                  .margin(tight));
    }
    SECTION("scale, the rest of the row renormalised") {
        const auto r = apply_scenario(m, scenario().scale("a", "c", 1.5));
        // a -> c 3/4, a -> b 1/4: x(a) = 13/16, p = 5/8.
        CHECK(r.conversion_rate() == Approx(5.0 / 8).margin(tight));
        CHECK(r.counts().total_conversions() == Approx(6 * 5.0 / 8).margin(tight));
    }
    SECTION("set, creating the transition at order 1") {
        const auto r = apply_scenario(m, scenario().set("b", "CONVERSION", 0.5));
        CHECK(r.conversion_rate() == Approx(2.0 / 3).margin(tight));
        CHECK(r.value_per_journey() == Approx(25.0 / 3).margin(tight));
        const auto s = apply_scenario(m, scenario().set("b", "c", 0.5));
        // b -> c 1/2, b -> CONVERSION 1/8: x(b) = 5/8, x(a) = 13/16, p = 2/3 13/16 + 1/3 5/8.
        CHECK(s.conversion_rate() == Approx(2.0 / 3 * 13.0 / 16 + 5.0 / 24).margin(tight));
    }
    SECTION("redirect") {
        const auto r = apply_scenario(m, scenario().redirect("b", "c", 0.5));
        CHECK(r.conversion_rate() == Approx(3.0 / 4).margin(tight));
        const auto n = apply_scenario(m, scenario().redirect("c", "NULL", 1));
        CHECK(n.conversion_rate() == Approx(1.0 / 6).margin(tight));
    }
    SECTION("add a channel") {
        const auto r = apply_scenario(
            m, scenario().add_channel("d", {{"START", 0.2}}, {{"CONVERSION", 0.8}, {"NULL", 0.2}}));
        CHECK(r.conversion_rate() == Approx(0.56).margin(tight));
        // d's conversions take the model's mean value per conversion, 40/3.
        CHECK(r.value_per_journey() == Approx(112.0 / 15).margin(tight));
        CHECK(r.counts().channels().find("d").has_value());
        const auto v =
            apply_scenario(m, scenario().add_channel("d", {{"a", 0.5}}, {{"CONVERSION", 1}}, 4.0));
        // a -> d 1/2, b 1/4, c 1/4: x(a) = 1/2 + 1/16 + 1/4 = 13/16.
        CHECK(v.conversion_rate() == Approx(2.0 / 3 * 13.0 / 16 + 1.0 / 12).margin(tight));
        CHECK(v.value_per_journey() ==
              Approx(2.0 / 3 * (0.5 * 4 + 0.25 * 2.5 + 0.25 * 15) + 1.0 / 3 * 2.5).margin(tight));
    }
    SECTION("values") {
        const auto r = apply_scenario(m, scenario().scale_value(2));
        CHECK(r.value_per_journey() == Approx(40.0 / 3).margin(tight));
        CHECK(r.conversion_rate() == Approx(0.5).margin(tight));
        const auto s = apply_scenario(m, scenario().set_value(5, "c"));
        CHECK(s.value_per_journey() == Approx(10.0 / 3).margin(tight));
    }
    SECTION("changes compose in order, and with +") {
        const auto both = scenario("x").scale("a", "c", 1.5) + scenario("y").remove({"b"});
        CHECK(both.name() == "x");
        REQUIRE(both.changes().size() == 2);
        const auto r = apply_scenario(m, both);
        // a -> c 3/4, a -> NULL 1/4 (b removed): p = 2/3 3/4 = 1/2.
        CHECK(r.conversion_rate() == Approx(0.5).margin(tight));
    }
}

TEST_CASE("scenario: invalid changes name the change", "[scenario]") {
    const auto m = abc();
    auto fails = [&m](const scenario& s, const std::string& what) {
        CHECK_THROWS_WITH(apply_scenario(m, s), Contains(what));
        CHECK_THROWS_AS(apply_scenario(m, s), invalid_input);
    };
    fails(scenario("s").remove({"zzz"}), "scenario 's', change 0 (remove): 'zzz' is no channel");
    fails(scenario().scale("a", "c", 1).scale("zzz", "c", 2), "change 1 (scale): from 'zzz'");
    fails(scenario().scale("a", "zzz", 2), "to 'zzz'");
    fails(scenario().scale("a", "c", -1), "factor must be a finite number >= 0");
    fails(scenario().scale("a", "c", NAN), "factor must be a finite number >= 0");
    fails(scenario().scale("a", "c", 3), "more than 1");
    fails(scenario().scale("START", "c", 2), "no transition from 'START' to 'c'");
    fails(scenario().set("a", "c", 1.5), "(set): the probability must be a probability in [0, 1]");
    fails(scenario().set("c", "CONVERSION", 0.5), "cannot be renormalised");
    fails(scenario().set("a", "a", 0.5), "self-loop");
    fails(scenario().redirect("a", "b", 2), "(redirect): the share");
    fails(scenario().redirect("zzz", "b", 0.5), "from 'zzz' is no channel");
    fails(scenario().add_channel("a", {}, {{"NULL", 1}}), "(add_channel): the new channel's name");
    fails(scenario().add_channel("d", {}, {{"NULL", 0.5}}), "sum to");
    fails(scenario().add_channel("d", {}, {}), "needs outbound");
    fails(scenario().scale_value(-2), "(scale_value): the factor");
    fails(scenario().set_value(1, "zzz"), "(set_value): 'zzz' is no channel");
    fails(scenario().set("a", "b", 1).set("b", "a", 1), "cannot reach CONVERSION or NULL");
    const auto order2 = fit_markov(count_transitions(fixtures::abc_example(), {2}));
    CHECK_THROWS_WITH(apply_scenario(order2, scenario().add_channel("d", {}, {{"NULL", 1}})),
                      Contains("order-1 model only"));
}

TEST_CASE("scenario: order k matches states by their last channel", "[scenario]") {
    const auto m = fit_markov(count_transitions(fixtures::abc_example(), {2}));
    // Order 2 states: a > b, a > c, b (a whole path). Scaling a -> c here
    // means START -> "a" (a shorter path) does not exist; "a > b" and "a > c" end in b, c.
    const auto r = apply_scenario(m, scenario().scale("START", "c", 1.5));
    // START -> a > b 1/3, a > c 1/3, b 1/3; x: a > b 1/2, a > c 1, b 0.
    // START -> a > c 1/2, the rest 1/4 each: p = 1/8 + 1/2 = 5/8.
    CHECK(r.conversion_rate() == Approx(5.0 / 8).margin(tight));
    const auto s = apply_scenario(m, scenario().scale("START", "a > c", 1.5));
    CHECK(s.conversion_rate() == Approx(5.0 / 8).margin(tight));
    // Redirect at order k: the traffic into "a > c" goes to "a > b" (its last channel replaced);
    // START -> a > b 1/2, a > c 1/6, b 1/3: p = 1/4 + 1/6.
    const auto r2 = apply_scenario(m, scenario().redirect("c", "b", 0.5));
    CHECK(r2.conversion_rate() == Approx(5.0 / 12).margin(tight));
    // "b" (a whole path) has no counterpart ending in c.
    CHECK_THROWS_WITH(apply_scenario(m, scenario().redirect("b", "c", 0.5)),
                      Contains("the model has no state 'c' to redirect the traffic into 'b'"));
    const auto t = apply_scenario(m, scenario().remove({"c"}));
    CHECK(1 - t.conversion_rate() / m.conversion_rate() ==
          Approx(removal_effects(m)[m.counts().channels().at("c")].conversions).margin(tight));
}

TEST_CASE("scenario: the loop model changes both views", "[scenario]") {
    const auto m = hand_loop();
    const auto same = apply_scenario(m, scenario());
    const auto a = summarize(m), b = summarize(same);
    CHECK(b.expected_purchases == Approx(a.expected_purchases).margin(tight));
    CHECK(b.expected_value == Approx(a.expected_value).margin(1e-11));
    CHECK(b.repeat_probability == Approx(3.0 / 16).margin(tight));
    CHECK(same.customers() == Approx(4).margin(tight));
    const auto more = summarize(apply_scenario(m, scenario().scale("PURCHASE", "b", 2)));
    CHECK(more.repeat_probability == Approx(3.0 / 8).margin(tight));
    CHECK(more.expected_purchases == Approx(1.3).margin(tight));
    const auto removed = apply_scenario(m, scenario().remove({"b"}));
    CHECK(summarize(removed).expected_purchases == Approx(0.25).margin(tight));
    const auto b_id = m.channels().at("b");
    CHECK(1 - summarize(removed).expected_purchases / a.expected_purchases ==
          Approx(loop_removal_effects(m, {{b_id}})[0].purchases).margin(tight));
    CHECK_THROWS_WITH(apply_scenario(m, scenario().set("PURCHASE", "PURCHASE", 1)),
                      Contains("repeat probability is 1"));
}

TEST_CASE("scenario: several scenarios on one and two threads agree", "[scenario][thread]") {
    const auto m = abc();
    std::vector<scenario> all{scenario().remove({"c"}), scenario().scale("a", "c", 1.5),
                              scenario().redirect("b", "c", 0.5)};
    scenario_options one, two;
    one.threads = 1;
    two.threads = 2;
    const auto x = apply_scenarios(m, all, one), y = apply_scenarios(m, all, two);
    REQUIRE(x.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) CHECK(x[i].conversion_rate() == y[i].conversion_rate());
    CHECK(x[2].conversion_rate() == Approx(0.75).margin(tight));
    all.push_back(scenario("bad").remove({"zzz"}));
    CHECK_THROWS_WITH(apply_scenarios(m, all, two), Contains("scenario 'bad'"));
}

TEST_CASE("sensitivities: against central differences of the exact solve", "[scenario]") {
    auto check = [](const auto& model, auto goal, auto label) {
        const double h = 1e-5;
        for (const auto& s : sensitivities(model)) {
            if (s.probability >= 1) continue;
            const auto from = label(model, s.from), to = label(model, s.to);
            // At order k a channel's name stands for every state that ends in
            // it: a state holding a whole shorter path has no label of its own.
            if (from.find('>') == std::string::npos && from != "START" && from != "PURCHASE" &&
                order_of(model) > 1)
                continue;
            if (to.find('>') == std::string::npos && to != "CONVERSION" && to != "NULL" &&
                to != "PURCHASE" && to != "END" && order_of(model) > 1)
                continue;
            const double up = goal(apply_scenario(model, scenario().scale(from, to, 1 + h)));
            const double down = goal(apply_scenario(model, scenario().scale(from, to, 1 - h)));
            const double fd = (up - down) / (2 * h * s.probability);
            INFO(from << " -> " << to);
            CHECK(s.sensitivity == Approx(fd).margin(1e-6));
        }
    };
    const auto m = abc();
    check(
        m, [](const markov_model& x) { return x.conversion_rate(); },
        [](const markov_model& x, state_id s) { return x.counts().state_label(s); });
    // By hand: d p / d P(a -> c) = y(a) (x(c) - x(a)) / (1 - 1/2) = 2/3 * 3/8 * 2 = 1/2.
    for (const auto& s : sensitivities(m))
        if (m.counts().state_label(s.from) == "a" && m.counts().state_label(s.to) == "c") {
            CHECK(s.sensitivity == Approx(0.5).margin(tight));
            CHECK(s.elasticity == Approx(0.5).margin(tight));
        }
    check(
        fit_markov(count_transitions(fixtures::abc_example(), {2})),
        [](const markov_model& x) { return x.conversion_rate(); },
        [](const markov_model& x, state_id s) { return x.counts().state_label(s); });
    check(
        hand_loop(), [](const loop_model& x) { return summarize(x).expected_purchases; },
        [](const loop_model& x, state_id s) { return x.state_label(s); });
}
