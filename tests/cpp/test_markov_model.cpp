#include "fixtures.hpp"

#include <type_traits>

using namespace journeyloop;
using Catch::Contains;

TEST_CASE("markov_model: A/B example, published removal effects and attribution",
          "[markov_model]") {
    const auto model = fit_markov(count_transitions(fixtures::ab_example()));
    REQUIRE(model.conversion_rate() == Approx(1.0).epsilon(1e-12).margin(1e-12));
    const auto re = removal_effects(model);
    REQUIRE(re[0].conversions == Approx(1.0).epsilon(1e-12).margin(1e-12));
    REQUIRE(re[1].conversions == Approx(0.5).epsilon(1e-12).margin(1e-12));
    const auto a = markov_attribution(model);
    REQUIRE(a.names() == std::vector<std::string>{"A", "B"});
    REQUIRE(a.conversions()[0] == Approx(2.0).epsilon(1e-12).margin(1e-12));
    REQUIRE(a.conversions()[1] == Approx(1.0).epsilon(1e-12).margin(1e-12));
    SECTION("self-loops do not change removal effects") {
        counting_options o;
        o.collapse_repeats = false;
        const auto kept = fit_markov(count_transitions(fixtures::ab_example(), o));
        const auto re2 = removal_effects(kept);
        REQUIRE(re2[1].conversions == Approx(0.5).epsilon(1e-12).margin(1e-12));
    }
}

TEST_CASE("markov_model: hand-worked abc example", "[markov_model]") {
    // P: START->a 2/3, START->b 1/3; a->b 1/2, a->c 1/2; b->CONV 1/4, b->NULL 3/4;
    // c->CONV 1. p = 2/3 (1/8 + 1/2) + 1/12 = 1/2. Mean values: b 10, c 15.
    const auto model = fit_markov(count_transitions(fixtures::abc_example()));
    REQUIRE(model.conversion_rate() == Approx(0.5).epsilon(1e-12).margin(1e-12));
    REQUIRE(model.value_per_journey() == Approx(20.0 / 3).epsilon(1e-12).margin(1e-12));
    // Mean conversion value by last state: b 10 (one conversion worth 10), c 15 (two worth
    // 30); a, START, CONVERSION and NULL end no conversion.
    const auto& counts = model.counts();
    for (state_id s = 0; s < counts.num_states(); ++s) {
        const auto label = counts.state_label(s);
        CAPTURE(label);
        const double expected = label == "b" ? 10.0 : label == "c" ? 15.0 : 0.0;
        REQUIRE(model.mean_conversion_value(s) == expected);
    }
    const auto re = removal_effects(model);
    // without a: 1/12; without b: 1/3; without c: 1/6
    REQUIRE(re[0].conversions == Approx(5.0 / 6).epsilon(1e-12).margin(1e-12));
    REQUIRE(re[1].conversions == Approx(1.0 / 3).epsilon(1e-12).margin(1e-12));
    REQUIRE(re[2].conversions == Approx(2.0 / 3).epsilon(1e-12).margin(1e-12));
    // value without a: 5/6; without b: 5; without c: 5/3
    REQUIRE(re[0].value == Approx(7.0 / 8).epsilon(1e-12).margin(1e-12));
    REQUIRE(re[1].value == Approx(1.0 / 4).epsilon(1e-12).margin(1e-12));
    REQUIRE(re[2].value == Approx(3.0 / 4).epsilon(1e-12).margin(1e-12));
    const auto a = markov_attribution(model);
    REQUIRE(a.conversions()[0] == Approx(15.0 / 11).epsilon(1e-12).margin(1e-12));
    REQUIRE(a.conversions()[1] == Approx(6.0 / 11).epsilon(1e-12).margin(1e-12));
    REQUIRE(a.conversions()[2] == Approx(12.0 / 11).epsilon(1e-12).margin(1e-12));
    REQUIRE(a.value()[0] == Approx(56.0 / 3).epsilon(1e-12).margin(1e-12));
    REQUIRE(a.value()[1] == Approx(16.0 / 3).epsilon(1e-12).margin(1e-12));
    REQUIRE(a.value()[2] == Approx(16.0).epsilon(1e-12).margin(1e-12));
    REQUIRE(a.total_conversions() == Approx(3.0).epsilon(1e-12).margin(1e-12));
    REQUIRE(a.total_value() == Approx(40.0).epsilon(1e-12).margin(1e-12));

    SECTION("teams are removed whole, not summed") {
        const auto t = markov_attribution(model, {"marketing", "sales", "sales"}, {"service"});
        REQUIRE(t.names() == std::vector<std::string>{"marketing", "sales", "service"});
        // RE(marketing) = 5/6, RE(sales) = 1 (nothing converts without b and c)
        REQUIRE(t.conversions()[0] ==
                Approx(3 * (5.0 / 6) / (11.0 / 6)).epsilon(1e-12).margin(1e-12));
        REQUIRE(t.conversions()[1] == Approx(3 * 1.0 / (11.0 / 6)).epsilon(1e-12).margin(1e-12));
        REQUIRE(t.conversions()[2] == 0);
        REQUIRE(group_removal_effect(model, {1, 2}).conversions ==
                Approx(1.0).epsilon(1e-12).margin(1e-12));
    }
    SECTION("transition probabilities") {
        const auto& P = model.transitions();
        REQUIRE(P.coeff(transition_counts::start, 3) == Approx(2.0 / 3).epsilon(1e-12));
        REQUIRE(P.coeff(4, transition_counts::null) == Approx(0.75).epsilon(1e-12));
    }
}

TEST_CASE("markov_model: a team's removal effect is below the sum of its channels'",
          "[markov_model]") {
    // START -> a 1/2, b 1/4, c 1/4; a -> b 1/2, NULL 1/2; b, c -> CONVERSION.
    // p = 3/4. Without a: 1/2 (RE 1/3); without b: 1/4 (RE 2/3); without
    // both: 1/4 (RE 2/3, not 1/3 + 2/3 = 1); without c: 1/2 (RE 1/3).
    std::vector<std::string_view> paths{"a > b", "a", "b", "c"};
    std::vector<double> conv{1, 0, 1, 1}, nulls{0, 1, 0, 0};
    const auto model = fit_markov(count_transitions(build_journeys({paths, conv, nulls, {}})));
    REQUIRE(model.conversion_rate() == Approx(0.75).epsilon(1e-12).margin(1e-15));
    const auto single = removal_effects(model); // ids a = 0, b = 1, c = 2
    REQUIRE(single[0].conversions == Approx(1.0 / 3).epsilon(1e-12).margin(1e-15));
    REQUIRE(single[1].conversions == Approx(2.0 / 3).epsilon(1e-12).margin(1e-15));
    REQUIRE(group_removal_effect(model, {0, 1}).conversions ==
            Approx(2.0 / 3).epsilon(1e-12).margin(1e-15));
    // Marketing (a, b) gets 3 * (2/3) / (2/3 + 1/3) = 2, sales (c) 1; summed
    // effects would give 3 * 1 / (4/3) = 2.25 and 0.75.
    const auto t = markov_attribution(model, {"marketing", "marketing", "sales"});
    REQUIRE(t.names() == std::vector<std::string>{"marketing", "sales"});
    REQUIRE(t.conversions()[0] == Approx(2.0).epsilon(1e-12).margin(1e-14));
    REQUIRE(t.conversions()[1] == Approx(1.0).epsilon(1e-12).margin(1e-14));
}

TEST_CASE("markov_model: no outcomes at all is an error, not NaN", "[markov_model]") {
    std::vector<std::string_view> paths{"a"};
    std::vector<double> conv{0}, nulls{0};
    const auto counts = count_transitions(build_journeys({paths, conv, nulls, {}}));
    REQUIRE_THROWS_AS(fit_markov(counts), invalid_input);
}

TEST_CASE("markov_model: no conversions gives zero effects, never NaN", "[markov_model]") {
    std::vector<std::string_view> paths{"a > b", "b"};
    std::vector<double> conv{0, 0}, nulls{3, 1};
    const auto model = fit_markov(count_transitions(build_journeys({paths, conv, nulls, {}})));
    REQUIRE(model.conversion_rate() == 0);
    for (const auto& e : removal_effects(model)) REQUIRE(e.conversions == 0);
    const auto a = markov_attribution(model);
    REQUIRE(a.conversions() == std::vector<double>{0, 0});
}

TEST_CASE("shapley_attribution: exact over a few players", "[markov_model][shapley]") {
    // A/B example: v(none) = 0, v(A) = p (1 - RE(B)) = p / 2, v(B) = 0,
    // v(A, B) = p. phi_A = (p/2 + p) / 2 = 3p/4, phi_B = p/4: 2.25 and 0.75
    // of the 3 conversions.
    const auto model = fit_markov(count_transitions(fixtures::ab_example()));
    const auto a = model.counts().channels().at("A");
    const auto b = model.counts().channels().at("B");
    const auto s = shapley_attribution(model, {"A", "B"}, {{a}, {b}});
    REQUIRE(s.conversions()[0] == Approx(2.25).epsilon(1e-13));
    REQUIRE(s.conversions()[1] == Approx(0.75).epsilon(1e-13));
    // One player holding every channel gets everything; a player with no
    // channel gets nothing.
    const auto whole = shapley_attribution(model, {"all", "none"}, {{a, b}, {}});
    REQUIRE(whole.conversions()[0] == Approx(3.0).epsilon(1e-13));
    REQUIRE(whole.conversions()[1] == Approx(0.0).epsilon(1e-12).margin(1e-13));
    REQUIRE_THROWS_WITH(shapley_attribution(model, {"x", "y"}, {{a}, {a}}),
                        Catch::Contains("belongs to two players"));
    std::vector<std::vector<channel_id>> many(17);
    std::vector<std::string> names(17, "p");
    REQUIRE_THROWS_WITH(shapley_attribution(model, names, many), Catch::Contains("2^n"));
}

TEST_CASE("shapley_attribution: efficiency and symmetry on the abc example",
          "[markov_model][shapley]") {
    const auto model = fit_markov(count_transitions(fixtures::abc_example()));
    const auto& ch = model.counts().channels();
    const auto s =
        shapley_attribution(model, {"a", "b", "c"}, {{ch.at("a")}, {ch.at("b")}, {ch.at("c")}});
    REQUIRE(s.total_conversions() == Approx(model.counts().total_conversions()).epsilon(1e-13));
    REQUIRE(s.total_value() == Approx(model.counts().total_value()).epsilon(1e-13));
    // P: START -> a 2/3, b 1/3; a -> b 1/2, c 1/2; b -> CONVERSION 1/4; c -> CONVERSION 1,
    // rate 1/2 of 6 journeys. Keeping only the channels of a coalition S (the others lead to
    // NULL), v(S) = 3 p_S / p: v(a) = v(c) = 0, v(b) = v(bc) = 1/2, v(ab) = 1, v(ac) = 2,
    // v(abc) = 3. Shapley weights 1/3, 1/6, 1/6, 1/3 over the marginal contributions:
    // a = 0/3 + 1/2/6 + 2/6 + 5/2/3 = 5/4, b = 1/2/3 + 1/6 + 1/2/6 + 1/3 = 3/4, c = 1.
    REQUIRE(s.conversions()[0] == Approx(1.25).epsilon(1e-12));
    REQUIRE(s.conversions()[1] == Approx(0.75).epsilon(1e-12));
    REQUIRE(s.conversions()[2] == Approx(1.0).epsilon(1e-12));
    // Value: a conversion through b is worth 10, through c 15 (30 over 2); value per journey
    // 20/3, so v(S) = 40 q_S / (20/3) with q_S the value per journey keeping S: v(b) = v(bc) =
    // 5, v(ab) = 10, v(ac) = 30, v(abc) = 40, v(a) = v(c) = 0. a = 5/6 + 30/6 + 35/3 = 17.5,
    // b = 5/3 + 10/6 + 5/6 + 10/3 = 7.5, c = 30/6 + 30/3 = 15.
    REQUIRE(s.value()[0] == Approx(17.5).epsilon(1e-12));
    REQUIRE(s.value()[1] == Approx(7.5).epsilon(1e-12));
    REQUIRE(s.value()[2] == Approx(15.0).epsilon(1e-12));
}

TEST_CASE("markov_model: removals on a large chain, batched, equal single removals",
          "[markov_model][large]") {
    // An order-3 chain of more than 50,000 states, with a large strongly
    // connected part: removal_effects() solves it in batches on two threads
    // (solve_without_many); group_removal_effect() solves one removal at a
    // time over the ancestors of the removed states (solve_without).
    std::vector<std::string> paths;
    std::vector<double> conv, nulls, value;
    fixtures::lcg next(12345);
    for (int i = 0; i < 80000; ++i) {
        std::string p;
        const unsigned len = 1 + next() % 9;
        for (unsigned j = 0; j < len; ++j) {
            if (j) p += " > ";
            // Skewed popularity: channel = floor(40 * u^2).
            const double u = (next() % 10000) / 10000.0;
            p += "c" + std::to_string(static_cast<int>(40 * u * u));
        }
        paths.push_back(p);
        const bool converts = next() % 10 == 0;
        conv.push_back(converts ? 1.0 : 0.0);
        nulls.push_back(converts ? 0.0 : 1.0 + next() % 3);
        value.push_back(converts ? 10.0 + next() % 90 : 0.0);
    }
    const std::vector<std::string_view> views(paths.begin(), paths.end());
    const auto js = build_journeys({views, conv, nulls, value}, {});
    counting_options co;
    co.order = 3;
    // With repeats kept, states such as (c0, c0, c0) have self-loops, which
    // the batched solver keeps apart as a diagonal.
    co.collapse_repeats = GENERATE(true, false);
    const auto model = fit_markov(count_transitions(js, co));
    REQUIRE(model.counts().num_states() > 50'000);
    bool self_loop = false;
    for (state_id s = 0; s < model.counts().num_states() && !self_loop; ++s)
        for (auto t : model.counts().targets(s)) self_loop = self_loop || t == s;
    REQUIRE(self_loop == !co.collapse_repeats);
    const auto effects = removal_effects(model);
    REQUIRE(effects.size() == model.counts().channels().size());
    for (channel_id c : {0u, 1u, 5u, 17u, 39u}) {
        const auto one = group_removal_effect(model, {c});
        INFO("channel " << model.counts().channels().name(c));
        REQUIRE(std::abs(effects[c].conversions - one.conversions) < 1e-12);
        REQUIRE(std::abs(effects[c].value - one.value) < 1e-12);
        REQUIRE(effects[c].conversions > 0);
    }
    // Overlapping groups, and a group of every channel (removal effect 1).
    std::vector<std::vector<channel_id>> groups{{0, 1}, {1, 2, 3}, {}};
    for (channel_id c = 0; c < model.counts().channels().size(); ++c) groups[2].push_back(c);
    const auto grouped = group_removal_effects(model, groups);
    for (std::size_t g = 0; g < groups.size(); ++g) {
        const auto one = group_removal_effect(model, groups[g]);
        REQUIRE(std::abs(grouped[g].conversions - one.conversions) < 1e-12);
        REQUIRE(std::abs(grouped[g].value - one.value) < 1e-12);
    }
    REQUIRE(grouped[2].conversions == Approx(1.0).epsilon(1e-12).margin(1e-12));
}

TEST_CASE("removal_effects: progress after each step, and a callback that throws stops it",
          "[markov_model]") {
    // 40 channels at order 2 (well over 256 states): five batches of eight.
    std::vector<std::string> paths;
    std::vector<double> conv, nulls;
    fixtures::lcg next(99);
    for (int i = 0; i < 20000; ++i) {
        std::string p;
        const unsigned len = 1 + next() % 6;
        for (unsigned j = 0; j < len; ++j) p += (j ? " > c" : "c") + std::to_string(next() % 40);
        paths.push_back(p);
        conv.push_back(next() % 8 == 0 ? 1.0 : 0.0);
        nulls.push_back(conv.back() > 0 ? 0.0 : 1.0);
    }
    const std::vector<std::string_view> views(paths.begin(), paths.end());
    const auto js = build_journeys({views, conv, nulls, {}}, {});
    counting_options co;
    co.order = 2;
    const auto model = fit_markov(count_transitions(js, co));
    REQUIRE(model.counts().num_states() > 600);
    REQUIRE(model.counts().channels().size() == 40);

    std::vector<std::pair<std::size_t, std::size_t>> calls;
    const auto with = removal_effects(
        model, [&calls](std::size_t done, std::size_t total) { calls.emplace_back(done, total); });
    REQUIRE(calls.size() == 5);
    for (std::size_t i = 0; i < calls.size(); ++i)
        REQUIRE(calls[i] == std::make_pair(i + 1, std::size_t{5}));
    const auto without = removal_effects(model);
    for (std::size_t c = 0; c < with.size(); ++c)
        REQUIRE(with[c].conversions == without[c].conversions);

    REQUIRE_THROWS_WITH(removal_effects(model,
                                        [](std::size_t done, std::size_t) {
                                            if (done == 2) throw std::runtime_error("stop here");
                                        }),
                        "stop here");

    // A small chain: one removal at a time, a step each; order 1: one step.
    const auto small = fit_markov(count_transitions(fixtures::abc_example()));
    calls.clear();
    group_removal_effects(small, {{0}, {1}, {0, 2}},
                          [&calls](std::size_t d, std::size_t t) { calls.emplace_back(d, t); });
    REQUIRE(calls == std::vector<std::pair<std::size_t, std::size_t>>{{1, 3}, {2, 3}, {3, 3}});
    // An empty group removes nothing: exactly zero, and not a step of its own.
    calls.clear();
    const auto with_empty =
        group_removal_effects(small, {{}, {0}, {}, {1}},
                              [&calls](std::size_t d, std::size_t t) { calls.emplace_back(d, t); });
    REQUIRE(calls == std::vector<std::pair<std::size_t, std::size_t>>{{1, 2}, {2, 2}});
    REQUIRE(with_empty.size() == 4);
    for (std::size_t g : {0u, 2u}) {
        REQUIRE(with_empty[g].conversions == 0);
        REQUIRE(with_empty[g].value == 0);
    }
    REQUIRE(with_empty[1].conversions == group_removal_effect(small, {0}).conversions);
    REQUIRE(with_empty[3].value == group_removal_effect(small, {1}).value);
    // The same on a chain solved in batches.
    const auto batched = group_removal_effects(model, {{}, {0, 1}, {}});
    REQUIRE(batched[0].conversions == 0);
    REQUIRE(batched[2].value == 0);
    REQUIRE(std::abs(batched[1].conversions - group_removal_effect(model, {0, 1}).conversions) <
            1e-12);
    calls.clear();
    removal_effects(small, [&calls](std::size_t d, std::size_t t) { calls.emplace_back(d, t); });
    REQUIRE(calls == std::vector<std::pair<std::size_t, std::size_t>>{{1, 1}});
}

TEST_CASE("markov_model: there is no unfitted model to misuse", "[markov_model]") {
    // A default-constructed model had no chain to read its figures from.
    static_assert(!std::is_default_constructible_v<markov_model>, "a model is always fitted");
    const auto model = fit_markov(count_transitions(fixtures::abc_example()));
    const markov_model copy = model;
    REQUIRE(copy.conversion_rate() == model.conversion_rate());
}
