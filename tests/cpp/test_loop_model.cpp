#include "fixtures.hpp"

#include <journeyloop/io.hpp>
#include <journeyloop/loop_model.hpp>

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
    REQUIRE(re[0].repeat_purchases == Approx(0.0).margin(1e-15));
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
    REQUIRE(loyalty_loop_rate(model, {b}) == Approx(0.0).margin(1e-15));
}

TEST_CASE("loop model: expected purchases and value equal the observed means", "[loop]") {
    // The MLE chain of complete histories reproduces the observed flow at
    // every order.
    std::vector<std::string_view> paths{
        "a > b > purchase > c > a > purchase > purchase", "b > b > c", "c > purchase > a",
        "a > c > b > purchase > b", "purchase > a > purchase"};
    std::vector<double> customers{3, 5, 2, 1, 4}, value{60, 0, 10, 7, 16};
    const auto histories = build_loop_histories({paths, customers, {}, value}, {});
    for (std::size_t order : {1, 2, 3}) {
        for (bool collapse : {true, false}) {
            counting_options o;
            o.order = order;
            o.collapse_repeats = collapse;
            const auto s = summarize(fit_loop(count_loop_transitions(histories, o)));
            REQUIRE(s.expected_purchases == Approx(20.0 / 15).epsilon(1e-12));
            REQUIRE(s.expected_value == Approx(93.0 / 15).epsilon(1e-12));
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
    REQUIRE_FALSE(model.repeat.has_value());
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
