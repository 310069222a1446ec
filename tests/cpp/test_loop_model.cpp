#include "fixtures.hpp"

#include <journeyloop/journey_graph.hpp>
#include <journeyloop/model_io.hpp>
#include <journeyloop/loop_model.hpp>
#include <journeyloop/impl/counts_access.hpp>

#include <sstream>
#include <type_traits>

using namespace journeyloop;
using Catch::Contains;

namespace {

// Three histories worked by hand (P is a purchase; a row's value is split
// evenly between its purchases):
//   a > P(15) > b > P(15)     1 customer, value 30
//   a > b                     1 customer
//   b > P(30)                 2 customers, value 60
// Order 1: a -> P 1/2, a -> b 1/2; b -> P 3/4, b -> END 1/4;
// START -> a 1/2, START -> b 1/2; PURCHASE -> b 1/4, PURCHASE -> END 3/4.
loop_histories hand_histories() {
    std::vector<std::string_view> paths{"a > purchase > b > purchase", "a > b", "b > purchase"};
    std::vector<double> customers{1, 1, 2}, value{30, 0, 60};
    return build_loop_histories({paths, customers, {}, value}, {});
}

} // namespace

TEST_CASE("loop model: the hand-worked chain", "[loop]") {
    const auto histories = hand_histories();
    REQUIRE(histories.total_purchases() == 4);
    REQUIRE(histories.total_customers() == 4);
    const auto counts = count_loop_transitions(histories);
    REQUIRE(counts.customers == 4);
    REQUIRE(counts.purchases == 4);
    REQUIRE(counts.buyers == 3);
    REQUIRE(counts.repeat_purchases == 1);
    REQUIRE(counts.value == 90);
    REQUIRE(counts.first.channels().names() == std::vector<std::string>{"a", "b"});
    const auto model = fit_loop(counts);
    const auto s = summarize(model);
    // h = 1/2 (7/8 + 3/4) = 13/16, r = 1/4 * 3/4 = 3/16, E = h / (1 - r) = 1.
    REQUIRE(s.first_purchase_probability == Approx(13.0 / 16).epsilon(1e-14));
    REQUIRE(s.repeat_probability == Approx(3.0 / 16).epsilon(1e-14));
    REQUIRE(s.expected_purchases == Approx(1.0).epsilon(1e-14));
    // Value: mean 15 from a, (15 + 60) / 3 = 25 from b: 17.8125 for the
    // first purchase, 4.6875 per purchase for the next: 22.5 = 90 / 4.
    REQUIRE(s.expected_value == Approx(22.5).epsilon(1e-14));
    REQUIRE(s.touches_to_first_purchase == Approx(16.0 / 13).epsilon(1e-14));
    REQUIRE(s.touches_between_purchases == Approx(1.0).epsilon(1e-14));

    const auto a = counts.first.channels().at("a");
    const auto b = counts.first.channels().at("b");
    const auto re = loop_removal_effects(model, {{a}, {b}, {a, b}});
    REQUIRE(re[0].purchases == Approx(7.0 / 13).epsilon(1e-13));
    REQUIRE(re[0].first_purchases == Approx(7.0 / 13).epsilon(1e-13));
    // a never brings a customer back: the repeat rate does not change.
    REQUIRE(re[0].repeat_purchases == Approx(0.0).epsilon(1e-12).margin(1e-15));
    // Without a: 9.375 + (3/8) 4.6875 / (13/16) = 150/13 of 22.5.
    REQUIRE(re[0].value == Approx(19.0 / 39).epsilon(1e-13));
    REQUIRE(re[1].purchases == Approx(3.0 / 4).epsilon(1e-13));
    REQUIRE(re[1].first_purchases == Approx(9.0 / 13).epsilon(1e-13));
    REQUIRE(re[1].repeat_purchases == Approx(1.0).epsilon(1e-13));
    // Without b: 1/2 * 1/2 * 15 = 3.75 of 22.5.
    REQUIRE(re[1].value == Approx(5.0 / 6).epsilon(1e-13));
    // Removing every channel leaves no purchase.
    REQUIRE(re[2].purchases == Approx(1.0).epsilon(1e-13));
    REQUIRE(re[2].value == Approx(1.0).epsilon(1e-13));

    REQUIRE(loyalty_loop_rate(model, {}) == Approx(3.0 / 16).epsilon(1e-14));
    REQUIRE(loyalty_loop_rate(model, {a}) == Approx(3.0 / 16).epsilon(1e-14));
    REQUIRE(loyalty_loop_rate(model, {b}) == Approx(0.0).epsilon(1e-12).margin(1e-15));
}

TEST_CASE("loop model: expected purchases and value equal the observed means", "[loop]") {
    // The MLE chain of complete histories reproduces the observed flow at
    // every order.
    std::vector<std::string_view> paths{"a > b > purchase > c > a > purchase > purchase",
                                        "b > b > c", "c > purchase > a", "a > c > b > purchase > b",
                                        "purchase > a > purchase"};
    std::vector<double> customers{3, 5, 2, 1, 4}, value{60, 0, 10, 7, 16};
    const auto histories = build_loop_histories({paths, customers, {}, value}, {});
    // The last row's first purchase comes before any touch: it is left out
    // (4 customers, half of their value 16) and counted.
    REQUIRE(histories.unattributed_purchases() == 4);
    REQUIRE(histories.unattributed_value() == 8);
    REQUIRE(histories.total_purchases() == 16);
    REQUIRE(histories.total_value() == 85);
    for (std::size_t order : {1, 2, 3}) {
        for (bool collapse : {true, false}) {
            counting_options o;
            o.order = order;
            o.collapse_repeats = collapse;
            const auto s = summarize(fit_loop(count_loop_transitions(histories, o)));
            REQUIRE(s.expected_purchases == Approx(16.0 / 15).epsilon(1e-12));
            REQUIRE(s.expected_value == Approx(85.0 / 15).epsilon(1e-12));
        }
    }
}

TEST_CASE("loop model: bad input", "[loop]") {
    std::vector<std::string_view> paths{"a > b"};
    std::vector<double> one{1}, value{5};
    REQUIRE_THROWS_WITH(build_loop_histories({paths, one, {}, value}, {}),
                        Contains("row 0, column 'value'") && Contains("without a purchase"));
    // Nobody purchases: no repeat view, zero purchases.
    const auto none = build_loop_histories({paths, one, {}, {}}, {});
    const auto model = fit_loop(count_loop_transitions(none));
    REQUIRE_FALSE(model.repeat().has_value());
    REQUIRE(summarize(model).expected_purchases == 0);
}

TEST_CASE("loop model: the views of its counts save, load and refuse to merge", "[loop]") {
    const auto counts = count_loop_transitions(hand_histories());
    REQUIRE(counts.first.pooled());
    REQUIRE(counts.repeat.has_value());
    // Their sums do not balance on their own (the channel rows are shared by
    // both views); the file says they are pooled, and they load as saved.
    for (const auto* view : {&counts.first, &*counts.repeat}) {
        const auto back = counts_from_bytes(to_bytes(*view));
        REQUIRE(back == *view);
        REQUIRE(back.pooled());
    }
    REQUIRE_THROWS_WITH(merge(counts.first, *counts.repeat), Contains("cannot merge the views"));
    // Journey counts are not pooled, and their files say nothing of it.
    const auto funnel = count_transitions(fixtures::abc_example());
    REQUIRE_FALSE(funnel.pooled());
    REQUIRE(to_bytes(funnel).find("pooled") == std::string::npos);
}

TEST_CASE("loop model: the state-space cap counts as the funnel's does", "[loop]") {
    counting_options o;
    o.max_states = 4; // START, CONVERSION, NULL and one channel state
    try {
        count_loop_transitions(hand_histories(), o);
        FAIL("no state_space_too_large");
    } catch (const state_space_too_large& e) {
        REQUIRE(e.estimate() == 5);
        REQUIRE(e.cap() == 4);
    }
}

TEST_CASE("loop model: the loop chain, state by state", "[loop]") {
    const auto model = fit_loop(count_loop_transitions(hand_histories()));
    static_assert(!std::is_default_constructible_v<loop_model>, "a loop model is always fitted");
    REQUIRE(model.num_states() == 5);
    REQUIRE(model.order() == 1);
    REQUIRE(model.customers() == 4);
    REQUIRE(model.purchases() == 4);
    REQUIRE(model.value() == 90);
    REQUIRE(model.buyers() == 3);
    REQUIRE(model.repeat_purchases() == 1);
    std::vector<std::string> labels;
    for (state_id s = 0; s < model.num_states(); ++s) labels.push_back(model.state_label(s));
    REQUIRE(labels == std::vector<std::string>{"START", "PURCHASE", "END", "a", "b"});
    // START -> a 2, b 2; PURCHASE -> END 3, b 1; a -> PURCHASE 1, b 1;
    // b -> PURCHASE 3, END 1.
    const auto t = model.transitions();
    REQUIRE(t.size() == 8);
    const std::vector<std::tuple<state_id, state_id, double, double>> expected{
        {0, 3, 2, 0.5}, {0, 4, 2, 0.5}, {1, 2, 3, 0.75}, {1, 4, 1, 0.25},
        {3, 1, 1, 0.5}, {3, 4, 1, 0.5}, {4, 1, 3, 0.75}, {4, 2, 1, 0.25}};
    for (std::size_t i = 0; i < t.size(); ++i) {
        REQUIRE(t[i].from == std::get<0>(expected[i]));
        REQUIRE(t[i].to == std::get<1>(expected[i]));
        REQUIRE(t[i].count == std::get<2>(expected[i]));
        REQUIRE(t[i].probability == Approx(std::get<3>(expected[i])).epsilon(1e-15));
    }
    // P(PURCHASE) from a: 1/2 + 1/2 * 3/4; from b 3/4; h and r.
    const auto x = model.purchase_probabilities();
    REQUIRE(x[0] == Approx(13.0 / 16).epsilon(1e-14));
    REQUIRE(x[1] == Approx(3.0 / 16).epsilon(1e-14));
    REQUIRE(x[2] == 0);
    REQUIRE(x[3] == Approx(7.0 / 8).epsilon(1e-14));
    REQUIRE(x[4] == Approx(3.0 / 4).epsilon(1e-14));
    // Visits per customer: a 2 of 4 customers, b 4 of 4, one purchase each.
    const auto v = model.expected_visits();
    REQUIRE(v[0] == 1);
    REQUIRE(v[1] == Approx(1.0).epsilon(1e-14));
    REQUIRE(v[2] == 1);
    REQUIRE(v[3] == Approx(0.5).epsilon(1e-14));
    REQUIRE(v[4] == Approx(1.0).epsilon(1e-14));

    // The graph, its loops (PURCHASE -> b -> PURCHASE) and the paths to
    // the first purchase.
    const auto g = make_journey_graph(model);
    REQUIRE(boost::num_vertices(g) == 5);
    REQUIRE(boost::num_edges(g) == 8);
    REQUIRE(g[1].label == "PURCHASE");
    REQUIRE(g[1].expected_visits == Approx(1.0).epsilon(1e-14));
    const journey_graph same = model.graph();
    REQUIRE(boost::num_edges(same) == 8);
    std::ostringstream dot;
    write_dot(dot, g);
    REQUIRE_THAT(dot.str(), Contains("1 [label=\"PURCHASE\", shape=box]"));
    REQUIRE_THAT(dot.str(), Contains("2 [label=\"END\", shape=doublecircle]"));
    REQUIRE(journey_loops(model) == std::vector<std::vector<state_id>>{{1, 4}});
    const auto paths = top_paths(model, 5);
    REQUIRE_FALSE(paths.stopped);
    REQUIRE(paths.paths.size() == 3);
    REQUIRE(paths.paths[0].states == std::vector<state_id>{0, 4, 1});
    REQUIRE(paths.paths[0].probability == Approx(3.0 / 8).epsilon(1e-14));
    REQUIRE(paths.paths[1].states == std::vector<state_id>{0, 3, 1});
    REQUIRE(paths.paths[1].probability == Approx(1.0 / 4).epsilon(1e-14));
    REQUIRE(paths.paths[2].states == std::vector<state_id>{0, 3, 4, 1});
    REQUIRE(paths.paths[2].probability == Approx(3.0 / 16).epsilon(1e-14));
}

TEST_CASE("loop model: attribution and Shapley, by hand", "[loop]") {
    const auto model = fit_loop(count_loop_transitions(hand_histories()));
    // Removal effects (see the hand-worked chain): purchases a 7/13, b 3/4;
    // first purchases 7/13, 9/13; repeat purchases 0, 1; value 19/39, 5/6.
    const auto a = loop_markov_attribution(model, {"a", "b", "none"}, {{0}, {1}, {}});
    REQUIRE(a.names() == std::vector<std::string>{"a", "b", "none"});
    REQUIRE(a.conversions()[0] == Approx(112.0 / 67).epsilon(1e-13));
    REQUIRE(a.conversions()[1] == Approx(156.0 / 67).epsilon(1e-13));
    REQUIRE(a.conversions()[2] == 0);
    REQUIRE(a.total_conversions() == Approx(4.0).epsilon(1e-12));
    REQUIRE(a.value()[0] == Approx(3420.0 / 103).epsilon(1e-13));
    REQUIRE(a.total_value() == Approx(90.0).epsilon(1e-12));
    REQUIRE(a.first_purchases()[0] == Approx(21.0 / 16).epsilon(1e-13));
    REQUIRE(a.first_purchases()[1] == Approx(27.0 / 16).epsilon(1e-13));
    REQUIRE(a.repeat_purchases()[0] == Approx(0.0).epsilon(1e-12).margin(1e-15));
    REQUIRE(a.repeat_purchases()[1] == Approx(1.0).epsilon(1e-13));
    REQUIRE(a.share(1) == Approx(39.0 / 67).epsilon(1e-13));
    REQUIRE_THROWS_AS(loop_markov_attribution(model, {"a"}, {}), invalid_input);

    // v(S) = expected purchases: v({}) 0, v({a}) 1/4, v({b}) 6/13, v({a, b}) 1:
    // phi_a = 41/104, phi_b = 63/104, scaled to the 4 purchases.
    const auto sh = shapley_attribution(model, {"a", "b"}, {{0}, {1}});
    REQUIRE(sh.conversions()[0] == Approx(41.0 / 26).epsilon(1e-13));
    REQUIRE(sh.conversions()[1] == Approx(63.0 / 26).epsilon(1e-13));
    // Value: v({a}) 3.75, v({b}) 150/13, v({a, b}) 22.5, scaled to 90.
    REQUIRE(sh.value()[0] == Approx(52.5 - 300.0 / 13).epsilon(1e-13));
    REQUIRE(sh.total_value() == Approx(90.0).epsilon(1e-12));
    REQUIRE_THROWS_WITH(shapley_attribution(model, {"a", "b"}, {{0}, {0}}),
                        Contains("belongs to two players"));
}

TEST_CASE("loop model: saved and loaded, with its metadata", "[loop][io]") {
    const auto model = fit_loop(count_loop_transitions(hand_histories()), {0.5});
    model_metadata meta;
    meta.stages = {{"a", "awareness"}, {"b", "evaluation"}};
    meta.max_states = 99;
    const auto bytes = to_bytes(model, meta);
    const auto [back, back_meta, back_holding] = loop_model_from_bytes(bytes);
    REQUIRE_FALSE(back_holding.has_value());
    REQUIRE(back.options().smoothing == 0.5);
    REQUIRE(back.first().counts() == model.first().counts());
    REQUIRE(back.repeat()->counts() == model.repeat()->counts());
    REQUIRE(back.purchases() == model.purchases());
    REQUIRE(back.repeat_purchases() == model.repeat_purchases());
    REQUIRE(summarize(back).expected_purchases == summarize(model).expected_purchases);
    REQUIRE(back_meta.stages == meta.stages);
    REQUIRE(back_meta.max_states == std::optional<std::size_t>{99});
    REQUIRE_FALSE(back_meta.teams);
    // Each kind where it is expected.
    REQUIRE_THROWS_WITH(model_from_bytes(bytes),
                        Contains("holds a loop_model, expected a markov_model"));
    REQUIRE_THROWS_WITH(loop_model_from_bytes(to_bytes(model.first())),
                        Contains("holds a markov_model, expected a loop_model"));
    // A model with no purchase has no repeat view, in the file too.
    std::vector<std::string_view> paths{"a > b"};
    std::vector<double> one{1};
    const auto none =
        fit_loop(count_loop_transitions(build_loop_histories({paths, one, {}, {}}, {})));
    const auto again = loop_model_from_bytes(to_bytes(none)).model;
    REQUIRE_FALSE(again.repeat());
    REQUIRE(summarize(again).expected_purchases == 0);
    const auto file = (std::filesystem::temp_directory_path() / "journeyloop_loop.jl").string();
    save(model, file);
    REQUIRE(load_loop_model(file).model.value() == 90);
    std::filesystem::remove(file);
}

TEST_CASE("loop model: smoothed rows sum to 1 and keep the observed counts", "[loop]") {
    const auto model = fit_loop(count_loop_transitions(hand_histories()), {1.0});
    std::vector<double> row_sum(model.num_states(), 0.0), row_count(model.num_states(), 0.0);
    for (const auto& t : model.transitions()) {
        row_sum[t.from] += t.probability;
        row_count[t.from] += t.count;
    }
    for (state_id s : {0u, 1u, 3u, 4u}) REQUIRE(row_sum[s] == Approx(1.0).epsilon(1e-14));
    REQUIRE(row_sum[2] == 0); // END: no way out
    REQUIRE(row_count == std::vector<double>{4, 4, 0, 2, 4});
    // alpha = 1 over PURCHASE, END, a and b: START a (2 + 1) / 8, PURCHASE 1/8;
    // after a purchase b (1 + 1) / 8, END (3 + 1) / 8, a 1/8 (unobserved, count 0).
    auto probability = [&model](state_id from, state_id to) {
        for (const auto& t : model.transitions())
            if (t.from == from && t.to == to) return std::pair{t.count, t.probability};
        return std::pair{-1.0, -1.0};
    };
    REQUIRE(probability(0, 3).second == Approx(3.0 / 8).epsilon(1e-14));
    REQUIRE(probability(0, 1).second == Approx(1.0 / 8).epsilon(1e-14));
    REQUIRE(probability(1, 4).second == Approx(2.0 / 8).epsilon(1e-14));
    REQUIRE(probability(1, 2).second == Approx(4.0 / 8).epsilon(1e-14));
    REQUIRE(probability(1, 3) == std::pair{0.0, 1.0 / 8});

    // With no purchase observed there is no repeat view: a purchase (possible
    // only with smoothing) ends the history.
    std::vector<std::string_view> paths{"a > b"};
    std::vector<double> one{1};
    const auto none =
        fit_loop(count_loop_transitions(build_loop_histories({paths, one, {}, {}}, {})), {1.0});
    bool found = false;
    for (const auto& t : none.transitions())
        if (t.from == 1) {
            REQUIRE(t.to == 2);
            REQUIRE(t.count == 0);
            REQUIRE(t.probability == 1);
            found = true;
        }
    REQUIRE(found);
    REQUIRE(none.purchase_probabilities()[1] == 0);
}

TEST_CASE("loop model: fit_loop refuses inconsistent counts", "[loop]") {
    const auto good = count_loop_transitions(hand_histories());
    REQUIRE_NOTHROW(fit_loop(good));
    auto counts = good;
    SECTION("a missing repeat view") {
        counts.repeat.reset();
        REQUIRE_THROWS_AS(fit_loop(counts), invalid_input);
        REQUIRE_THROWS_WITH(fit_loop(counts), Contains("a repeat view is needed exactly when"));
    }
    SECTION("a repeat view without buyers") {
        std::vector<std::string_view> paths{"a > b"};
        std::vector<double> one{1};
        auto none = count_loop_transitions(build_loop_histories({paths, one, {}, {}}, {}));
        none.repeat = none.first;
        REQUIRE_THROWS_WITH(fit_loop(none), Contains("a repeat view is needed exactly when"));
    }
    SECTION("funnel counts as a view") {
        std::vector<std::string_view> paths{"a > b", "b"};
        std::vector<double> conv{3, 1}, nulls{0, 1};
        counts.first = count_transitions(build_journeys({paths, conv, nulls, {}}));
        REQUIRE_THROWS_WITH(fit_loop(counts), Contains("pooled counts"));
    }
    SECTION("views over other channels") {
        std::vector<std::string_view> paths{"x > purchase > b > purchase", "x > b", "b > purchase"};
        std::vector<double> customers{1, 1, 2}, value{30, 0, 60};
        counts.repeat =
            count_loop_transitions(build_loop_histories({paths, customers, {}, value}, {})).repeat;
        REQUIRE_THROWS_WITH(fit_loop(counts), Contains("different channels"));
    }
    SECTION("views over other states") {
        std::vector<double> one{1, 1};
        std::vector<std::string_view> p1{"a > b > purchase", "b > b"},
            p2{"a > b > purchase", "b > a"};
        auto c1 = count_loop_transitions(build_loop_histories({p1, one, {}, {}}, {}), {2});
        const auto c2 = count_loop_transitions(build_loop_histories({p2, one, {}, {}}, {}), {2});
        REQUIRE_NOTHROW(fit_loop(c1));
        c1.repeat = c2.repeat;
        REQUIRE_THROWS_WITH(fit_loop(c1), Contains("different states"));
    }
    SECTION("views of another order") {
        counts.repeat = count_loop_transitions(hand_histories(), {2}).repeat;
        REQUIRE_THROWS_WITH(fit_loop(counts), Contains("differ in order"));
    }
    SECTION("views whose shared channel rows differ") {
        std::vector<std::string_view> paths{"a > purchase > b > purchase", "a > b", "b > purchase"};
        std::vector<double> customers{1, 1, 3}, value{30, 0, 60};
        counts.repeat =
            count_loop_transitions(build_loop_histories({paths, customers, {}, value}, {})).repeat;
        REQUIRE_THROWS_WITH(fit_loop(counts),
                            Contains("differ in the row of state 'b' (the views share"));
    }
    SECTION("a view's total the rows do not hold") {
        // Each view's totals agree with the loop totals; the two views' rows
        // hold 10 less value than their totals add up to.
        auto parts = detail::counts_access::disassemble(counts.first);
        parts.total_value += 10;
        counts.first = detail::counts_access::assemble(std::move(parts));
        counts.value += 10;
        REQUIRE_THROWS_WITH(fit_loop(counts),
                            Contains("the value of the ends sum to 90.000000, the views' "
                                     "totals to 100.000000"));
    }
    SECTION("totals that do not match the views") {
        counts.customers += 1;
        REQUIRE_THROWS_WITH(fit_loop(counts), Contains("the first view's nulls is 1"));
        counts = good;
        counts.purchases += 1;
        REQUIRE_THROWS_WITH(fit_loop(counts), Contains("buyers + repeat_purchases"));
        counts = good;
        counts.buyers += 1;
        counts.repeat_purchases -= 1;
        REQUIRE_THROWS_WITH(fit_loop(counts), Contains("the first view's conversions is 3"));
        counts = good;
        counts.value = 100;
        REQUIRE_THROWS_WITH(fit_loop(counts), Contains("the views' value is 90"));
        counts = good;
        counts.value = -1;
        REQUIRE_THROWS_WITH(fit_loop(counts), Contains("finite and non-negative"));
    }
}
