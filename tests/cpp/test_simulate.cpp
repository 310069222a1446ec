#include "fixtures.hpp"

#include <journeyloop/events.hpp>
#include <journeyloop/io.hpp>
#include <journeyloop/simulate.hpp>

#include <cmath>
#include <map>
#include <string>
#include <utility>

using namespace journeyloop;
using Catch::Contains;

namespace {

// The hand-worked chain (order 1):
//   a > b   1 conversion (value 6), 1 null
//   b       2 nulls
//   a > c   2 conversions (value 20)
// START -> a 2/3, START -> b 1/3; a -> b 1/2, a -> c 1/2; b -> CONVERSION
// 1/4, b -> NULL 3/4; c -> CONVERSION 1. Conversion rate 1/2; a conversion
// from b is worth 6, from c 10.
journey_set hand_journeys() {
    std::vector<std::string_view> p{"a > b", "b", "a > c"};
    std::vector<double> conv{1, 0, 2}, nulls{1, 2, 0}, value{6, 0, 20};
    return build_journeys({p, conv, nulls, value});
}

journey_set order2_journeys() {
    std::vector<std::string_view> p{"a > b > c", "b > a > b", "a > b > a", "c", "c > a > b > c"};
    std::vector<double> conv{1, 0, 1, 1, 2}, nulls{1, 1, 0, 1, 1}, value{4, 0, 2, 1, 10};
    return build_journeys({p, conv, nulls, value});
}

// Every transition of `model` is within 4 standard errors of its estimate
// from the refitted counts of `sim` (same options); states matched by label.
void check_refit(const markov_model& model, const journey_set& sim) {
    const auto& c = model.counts();
    counting_options o;
    o.order = c.order();
    o.collapse_repeats = c.collapse_repeats();
    o.padded = c.padded();
    const auto refit = count_transitions(sim, o);
    std::map<std::string, state_id> by_label;
    for (state_id s = 0; s < refit.num_states(); ++s) by_label[refit.state_label(s)] = s;
    const auto& p = model.transitions();
    std::size_t checked = 0;
    for (state_id s = 0; s < c.num_states(); ++s) {
        if (s == transition_counts::conversion || s == transition_counts::null) continue;
        const auto found = by_label.find(c.state_label(s));
        REQUIRE(found != by_label.end());
        const state_id rs = found->second;
        const double n = refit.out_weight(rs);
        REQUIRE(n > 100);
        for (transition_matrix::InnerIterator it(p, s); it; ++it) {
            const auto to = c.state_label(static_cast<state_id>(it.col()));
            double got = 0;
            const auto targets = refit.targets(rs);
            for (std::size_t i = 0; i < targets.size(); ++i)
                if (refit.state_label(targets[i]) == to) got = refit.weights(rs)[i];
            const double q = it.value();
            INFO(c.state_label(s) << " -> " << to);
            REQUIRE(std::abs(got / n - q) <= 4 * std::sqrt(q * (1 - q) / n) + 1e-12);
            ++checked;
        }
    }
    REQUIRE(checked > 4);
    const double rate = sim.total_conversions() / double(sim.size());
    const double q = model.conversion_rate();
    REQUIRE(std::abs(rate - q) <= 4 * std::sqrt(q * (1 - q) / double(sim.size())));
}

// The state of `model` labelled `label`.
state_id state_of(const transition_counts& c, const std::string& label) {
    for (state_id s = 0; s < c.num_states(); ++s)
        if (c.state_label(s) == label) return s;
    FAIL("no state " << label);
    return 0;
}

} // namespace

TEST_CASE("simulate: the hand-worked chain comes back from its simulated journeys", "[simulate]") {
    const auto model = fit_markov(count_transitions(hand_journeys()));
    REQUIRE(std::abs(model.conversion_rate() - 0.5) < 1e-15);
    simulation_options o;
    o.seed = 7;
    const auto sim = simulate(model, 200000, o);
    REQUIRE(sim.journeys.size() == 200000);
    REQUIRE(sim.report.walks == 200000);
    REQUIRE(sim.report.truncated == 0);
    REQUIRE(sim.report.empty == 0);
    REQUIRE(sim.report.touches == sim.journeys.total_touches());
    REQUIRE(!sim.journeys.has_times());
    REQUIRE(sim.journeys.channels().names() == std::vector<std::string>{"a", "b", "c"});
    check_refit(model, sim.journeys);
    // Values: a conversion from b is worth 6, from c 10; nulls nothing.
    for (std::size_t i = 0; i < sim.journeys.size(); ++i) {
        const auto path = sim.journeys.path(i);
        REQUIRE(sim.journeys.conversions(i) + sim.journeys.nulls(i) == 1);
        if (sim.journeys.conversions(i) == 1)
            REQUIRE(sim.journeys.value(i) == (path[path.size() - 1] == 1 ? 6.0 : 10.0));
        else REQUIRE(sim.journeys.value(i) == 0);
    }
}

TEST_CASE("simulate: order 2 walks the pairs and gives back channel sequences", "[simulate]") {
    counting_options co;
    co.order = 2;
    const auto model = fit_markov(count_transitions(order2_journeys(), co));
    simulation_options o;
    o.seed = 11;
    const auto sim = simulate(model, 300000, o);
    check_refit(model, sim.journeys);
    // A conversion's value is the value model's at its last state (the last
    // two channels, or the whole path when it is shorter).
    std::map<std::string, double> value_at;
    for (state_id s = transition_counts::first_channel_state; s < model.counts().num_states(); ++s)
        value_at[model.counts().state_label(s)] = model.mean_conversion_value(s);
    const auto& names = sim.journeys.channels();
    for (std::size_t i = 0; i < 2000; ++i) {
        if (sim.journeys.conversions(i) == 0) continue;
        const auto path = sim.journeys.path(i);
        std::string label = names.name(path[path.size() - 1]);
        if (path.size() >= 2) label = names.name(path[path.size() - 2]) + " > " + label;
        REQUIRE(value_at.count(label) == 1);
        REQUIRE(sim.journeys.value(i) == value_at[label]);
    }
}

TEST_CASE("simulate: the same seed gives the same journeys on one thread and on two",
          "[simulate][thread]") {
    const auto model = fit_markov(count_transitions(order2_journeys(), {2}));
    simulation_options one, two;
    one.seed = two.seed = 99;
    one.threads = 1;
    two.threads = 2;
    const auto a = simulate(model, 100000, one).journeys;
    const auto b = simulate(model, 100000, two).journeys;
    REQUIRE(a.size() == b.size());
    REQUIRE(a.total_touches() == b.total_touches());
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto pa = a.path(i), pb = b.path(i);
        REQUIRE(std::vector<channel_id>(pa.begin(), pa.end()) ==
                std::vector<channel_id>(pb.begin(), pb.end()));
        REQUIRE(a.conversions(i) == b.conversions(i));
        REQUIRE(a.value(i) == b.value(i));
    }
    one.seed = 100;
    const auto c = simulate(model, 1000, one).journeys;
    bool differs = false;
    for (std::size_t i = 0; i < c.size() && !differs; ++i)
        differs = c.path(i).size() != a.path(i).size() || c.conversions(i) != a.conversions(i);
    REQUIRE(differs);
}

TEST_CASE("simulate: walks stopped by max_touches are counted, kept as non-converting",
          "[simulate]") {
    // With self-loops kept: START -> a 1, a -> a 9/10, a -> NULL 1/10.
    std::vector<std::string_view> p{"a > a > a > a > a > a > a > a > a > a"};
    std::vector<double> conv{0}, nulls{1};
    counting_options co;
    co.collapse_repeats = false;
    const auto model = fit_markov(count_transitions(build_journeys({p, conv, nulls, {}}), co));
    simulation_options o;
    o.seed = 3;
    o.max_touches = 5;
    const std::size_t n = 100000;
    const auto sim = simulate(model, n, o);
    std::size_t at_max = 0;
    for (std::size_t i = 0; i < sim.journeys.size(); ++i) {
        REQUIRE(sim.journeys.path(i).size() <= 5);
        if (sim.journeys.path(i).size() == 5) {
            ++at_max;
            REQUIRE(sim.journeys.nulls(i) == 1);
        }
    }
    REQUIRE(sim.journeys.size() == n);
    REQUIRE(sim.report.truncated == at_max);
    // P(a walk makes 5 touches) = 0.9^4.
    const double q = std::pow(0.9, 4);
    REQUIRE(std::abs(double(at_max) / double(n) - q) <= 4 * std::sqrt(q * (1 - q) / double(n)));
    o.max_touches = 0;
    REQUIRE_THROWS_AS(simulate(model, 10, o), invalid_input);
}

TEST_CASE("simulate: holding times, the exact expected time to conversion and timed journeys",
          "[simulate]") {
    // Customers (time, channel; c = conversion):
    //   1: a@0 b@2 c@5    2: a@0 b@1    3: b@0 c@4    4: a@0 c@3 c@4(conversion)    5: b@0
    std::vector<std::int64_t> customer{1, 1, 1, 2, 2, 3, 3, 4, 4, 4, 5};
    std::vector<double> time{0, 2, 5, 0, 1, 0, 4, 0, 3, 4, 0};
    std::vector<std::string_view> channel{"a", "b", "", "a", "b", "b", "", "a", "c", "", "b"};
    std::vector<double> conversion{0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0};
    event_table t;
    t.customer_ids = customer;
    t.time_real = time;
    t.channel = channel;
    t.conversion = conversion;
    const auto journeys = build_journeys(t, {}).journeys;
    REQUIRE(journeys.has_times());
    const auto model = fit_markov(count_transitions(journeys));
    holding_options ho;
    ho.min_weight = 1;
    const auto h = fit_holding_times(journeys, model, ho);
    const auto id = [&](const char* name) { return state_of(model.counts(), name); };
    REQUIRE(h.mean(0, id("a")) == 0);
    REQUIRE(h.mean(id("a"), id("b")) == 1.5);
    REQUIRE(h.mean(id("a"), id("c")) == 3);
    REQUIRE(h.mean(id("b"), transition_counts::conversion) == 3.5);
    REQUIRE(h.mean(id("b"), transition_counts::null) == 0);
    REQUIRE(h.mean(id("c"), transition_counts::conversion) == 1);
    REQUIRE(h.weight(id("a"), id("b")) == 2);
    REQUIRE(h.own_means() == 7);
    REQUIRE(h.skipped_journeys() == 0);
    // a > b > CONVERSION (1/5, time 5), a > c > CONVERSION (1/5, 4), b > CONVERSION
    // (1/5, 3.5): E[T | CONVERSION] = 2.5 / (3/5) = 25/6.
    REQUIRE(std::abs(model.conversion_rate() - 0.6) < 1e-15);
    const double exact = expected_time_to_conversion(model, h);
    REQUIRE(std::abs(exact - 25.0 / 6.0) < 1e-12);

    // Sparse transitions fall back to their state's mean, then the overall one.
    ho.min_weight = 3;
    const auto sparse = fit_holding_times(journeys, model, ho);
    REQUIRE(sparse.mean(id("a"), id("b")) == 2.0); // (1.5 * 2 + 3) / 3 out of a
    REQUIRE(sparse.mean(id("c"), transition_counts::conversion) == sparse.overall_mean());
    ho.min_weight = 0.5;
    REQUIRE_THROWS_AS(fit_holding_times(journeys, model, ho), invalid_input);

    simulation_options o;
    o.seed = 5;
    o.holding = &h;
    const auto sim = simulate(model, 200000, o);
    REQUIRE(sim.journeys.has_times());
    double sum = 0, sum2 = 0, n = 0;
    for (std::size_t i = 0; i < sim.journeys.size(); ++i) {
        const auto tbe = sim.journeys.times_before_end(i);
        for (std::size_t j = 1; j < tbe.size(); ++j) REQUIRE(tbe[j] <= tbe[j - 1]);
        if (sim.journeys.conversions(i) == 0) {
            REQUIRE(tbe[tbe.size() - 1] == 0);
            continue;
        }
        sum += tbe[0];
        sum2 += tbe[0] * tbe[0];
        n += 1;
    }
    const double mean = sum / n, se = std::sqrt((sum2 / n - mean * mean) / n);
    REQUIRE(std::abs(mean - exact) <= 4 * se);
    // Holding times refitted from the simulated journeys give back the means.
    const auto again = fit_holding_times(sim.journeys, model, {});
    REQUIRE(std::abs(again.mean(id("a"), id("c")) - 3) < 0.1);
}

TEST_CASE("simulate: loop histories come back as the loop model", "[simulate][loop]") {
    // The hand-worked loop chain of test_loop_model.cpp.
    std::vector<std::string_view> paths{"a > purchase > b > purchase", "a > b", "b > purchase"};
    std::vector<double> customers{1, 1, 2}, value{30, 0, 60};
    const auto model =
        fit_loop(count_loop_transitions(build_loop_histories({paths, customers, {}, value}, {})));
    const auto exact = summarize(model);
    simulation_options o;
    o.seed = 21;
    const std::size_t n = 200000;
    const auto sim = simulate(model, n, o);
    const auto& h = sim.histories;
    REQUIRE(h.size() == n);
    REQUIRE(h.total_customers() == double(n));
    REQUIRE(sim.report.truncated == 0);
    // Purchases per customer: mean within 4 standard errors of h / (1 - r).
    double sum = 0, sum2 = 0, buyers = 0;
    for (std::size_t i = 0; i < h.size(); ++i) {
        const double k = h.purchases(i);
        sum += k;
        sum2 += k * k;
        buyers += k > 0 ? 1 : 0;
        REQUIRE(h.purchase_values(i).size() == std::size_t(k));
        const auto path = h.path(i);
        REQUIRE((path[path.size() - 1] != h.purchase_channel() || k > 0));
    }
    const double mean = sum / double(n);
    const double se = std::sqrt((sum2 / double(n) - mean * mean) / double(n));
    REQUIRE(std::abs(mean - exact.expected_purchases) <= 4 * se);
    const double h1 = exact.first_purchase_probability;
    REQUIRE(std::abs(buyers / double(n) - h1) <= 4 * std::sqrt(h1 * (1 - h1) / double(n)));
    // Refitted: the repeat probability within 4 standard errors (over the buyers' purchases).
    const auto refit = summarize(fit_loop(count_loop_transitions(h)));
    const double r = exact.repeat_probability;
    REQUIRE(std::abs(refit.repeat_probability - r) <= 4 * std::sqrt(r * (1 - r) / sum));
    // Values: each purchase as its view's value model says.
    const auto& first = model.first();
    for (std::size_t i = 0; i < 100; ++i) {
        const auto path = h.path(i);
        const auto vals = h.purchase_values(i);
        std::size_t k = 0;
        for (std::size_t j = 0; j < path.size(); ++j) {
            if (path[j] != h.purchase_channel()) continue;
            const auto s = state_of(first.counts(), h.channels().name(path[j - 1]));
            const double want =
                k == 0 ? first.mean_conversion_value(s) : model.repeat()->mean_conversion_value(s);
            REQUIRE(vals[k] == want);
            // The views pool the value of the purchases made from each state:
            // from a 15, from b (60 + 15) / 3 = 25.
            REQUIRE(want == (h.channels().name(path[j - 1]) == "a" ? 15.0 : 25.0));
            ++k;
        }
    }
    o.threads = 1;
    const auto one = simulate(model, 50000, o);
    o.threads = 2;
    const auto two = simulate(model, 50000, o);
    REQUIRE(one.histories.total_touches() == two.histories.total_touches());
    for (std::size_t i = 0; i < one.histories.size(); ++i) {
        const auto pa = one.histories.path(i), pb = two.histories.path(i);
        REQUIRE(std::vector<channel_id>(pa.begin(), pa.end()) ==
                std::vector<channel_id>(pb.begin(), pb.end()));
    }
    holding_times none;
    o.holding = &none;
    REQUIRE_THROWS_AS(simulate(model, 10, o), invalid_input);
}

TEST_CASE("simulate: loop histories with times, holding times and the expected purchase times",
          "[simulate][loop]") {
    // Customers (time, channel; p = purchase):
    //   1: a@0 b@2 p@5 a@6 p@10    2: b@0
    const auto log = fixtures::two_purchases_log();
    const auto t = log.table();
    const auto histories = build_loop_histories(t, {}).histories;
    REQUIRE(histories.has_times());
    {
        // Times before the history's last event, purchase markers included.
        const auto tbe = histories.times_before_end(0);
        REQUIRE(std::vector<double>(tbe.begin(), tbe.end()) == std::vector<double>{10, 8, 5, 4, 0});
        REQUIRE(histories.times_before_end(1)[0] == 0);
    }
    const auto model = fit_loop(count_loop_transitions(histories));
    holding_options ho;
    ho.min_weight = 1;
    const auto h = fit_holding_times(histories, model, ho);
    REQUIRE(h.repeat.has_value());
    const auto id = [&](const char* name) { return state_of(model.first().counts(), name); };
    const state_id purchase = transition_counts::conversion, end = transition_counts::null;
    // Channel rows: the same in both views, from every segment.
    for (const auto* v : {&h.first, &*h.repeat}) {
        REQUIRE(v->mean(id("a"), id("b")) == 2);
        REQUIRE(v->mean(id("b"), purchase) == 3);
        REQUIRE(v->mean(id("a"), purchase) == 4); // after the first purchase: a@6 p@10
        REQUIRE(v->mean(id("b"), end) == 0);
    }
    // START's rows: from the first touch (0 at order 1), and from a purchase to
    // the touch after it (p@5 a@6), or to the end (the last purchase, p@10).
    REQUIRE(h.first.mean(0, id("a")) == 0);
    REQUIRE(h.repeat->mean(0, id("a")) == 1);
    REQUIRE(h.repeat->mean(0, end) == 0);
    REQUIRE(h.repeat->weight(0, end) == 1);
    // First view: a > b > P (1/8, 0 + 2 + 3), a > P (1/4, 4), b > P (1/4, 3):
    // 2.375 / (5/8) = 3.8. Repeat view: a > P (1/4, 1 + 4), a > b > P (1/8,
    // 1 + 2 + 3): 2 / (3/8) = 16/3.
    REQUIRE(std::abs(expected_time_to_first_purchase(model, h) - 3.8) < 1e-12);
    REQUIRE(std::abs(expected_time_to_next_purchase(model, h) - 16.0 / 3.0) < 1e-12);
    // The defaults (min_weight 10): every channel transition takes the overall
    // mean 3, START's rows their own row's mean (0 and 1): 3.6 and 5.
    const auto pooled = fit_holding_times(histories, model);
    REQUIRE(std::abs(expected_time_to_first_purchase(model, pooled) - 3.6) < 1e-12);
    REQUIRE(std::abs(expected_time_to_next_purchase(model, pooled) - 5.0) < 1e-12);

    // Simulated histories: times at every touch and purchase, and the times to
    // the first and the next purchase within 4 standard errors of the exact ones.
    simulation_options o;
    o.seed = 9;
    o.loop_holding = &h;
    const auto sim = simulate(model, 200000, o);
    const auto& s = sim.histories;
    REQUIRE(s.has_times());
    double f = 0, f2 = 0, nf = 0, g = 0, g2 = 0, ng = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto path = s.path(i);
        const auto tbe = s.times_before_end(i);
        REQUIRE(tbe.size() == path.size());
        REQUIRE(tbe[tbe.size() - 1] == 0);
        double last_purchase = -1;
        for (std::size_t j = 0; j < path.size(); ++j) {
            if (j > 0) REQUIRE(tbe[j] <= tbe[j - 1]);
            if (path[j] != s.purchase_channel()) continue;
            const double d = last_purchase < 0 ? tbe[0] - tbe[j] : last_purchase - tbe[j];
            (last_purchase < 0 ? f : g) += d;
            (last_purchase < 0 ? f2 : g2) += d * d;
            (last_purchase < 0 ? nf : ng) += 1;
            last_purchase = tbe[j];
        }
    }
    const double mf = f / nf, mg = g / ng;
    REQUIRE(std::abs(mf - 3.8) <= 4 * std::sqrt((f2 / nf - mf * mf) / nf));
    REQUIRE(std::abs(mg - 16.0 / 3.0) <= 4 * std::sqrt((g2 / ng - mg * mg) / ng));
    // The same seed on one thread and on two.
    o.threads = 1;
    const auto one = simulate(model, 40000, o);
    o.threads = 2;
    REQUIRE(to_bytes(one.histories) == to_bytes(simulate(model, 40000, o).histories));

    // Holding times of another kind or model are refused.
    simulation_options wrong;
    const auto funnel = fit_markov(count_transitions(build_journeys(t, {}).journeys));
    const auto funnel_h = fit_holding_times(build_journeys(t, {}).journeys, funnel);
    wrong.holding = &funnel_h;
    REQUIRE_THROWS_AS(simulate(model, 10, wrong), invalid_input);
    loop_holding_times no_repeat{h.first, std::nullopt};
    REQUIRE_THROWS_AS(expected_time_to_next_purchase(model, no_repeat), invalid_input);
    // Histories without times cannot be fitted.
    std::vector<std::string_view> paths{"a > purchase"};
    std::vector<double> one_customer{1};
    REQUIRE_THROWS_AS(
        fit_holding_times(build_loop_histories({paths, one_customer, {}, {}}, {}), model),
        invalid_input);
}

TEST_CASE("simulate: real times further apart than a double holds are left out of holding times",
          "[simulate][loop]") {
    // Customer 1's touches are 2e308 apart: their time before the end is
    // infinite, as in funnel form, and the holding times leave the history
    // out (counted); customer 2's are ordinary.
    const fixtures::event_log log{{1, 1, 1, 2, 2, 2},
                                  {-1e308, 1e308, 1e308, 0, 1, 3},
                                  {"a", "b", "", "a", "b", ""},
                                  {0, 0, 1, 0, 0, 1}};
    const auto t = log.table();
    const auto histories = build_loop_histories(t, {}).histories;
    REQUIRE(std::isinf(histories.times_before_end(0)[0]));
    REQUIRE(histories.times_before_end(0)[1] == 0);
    const auto tbe = histories.times_before_end(1);
    REQUIRE(std::vector<double>(tbe.begin(), tbe.end()) == std::vector<double>{3, 2, 0});
    const auto model = fit_loop(count_loop_transitions(histories));
    holding_options ho;
    ho.min_weight = 1;
    const auto h = fit_holding_times(histories, model, ho);
    REQUIRE(h.first.skipped_journeys() == 1);
    const auto id = [&](const char* name) { return state_of(model.first().counts(), name); };
    REQUIRE(h.first.mean(id("a"), id("b")) == 1);
    REQUIRE(h.first.mean(id("b"), transition_counts::conversion) == 2);
    REQUIRE(expected_time_to_first_purchase(model, h) == 3);
}
