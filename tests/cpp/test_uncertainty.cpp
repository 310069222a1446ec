#include "fixtures.hpp"

#include <journeyloop/events.hpp>
#include <journeyloop/simulate.hpp>
#include <journeyloop/uncertainty.hpp>

#include <cmath>
#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace journeyloop;
using Catch::Contains;

namespace {

journey_set mixed_journeys() {
    std::vector<std::string_view> p{"a > b > c", "b > a > b",     "a > b > a",
                                    "c",         "c > a > b > c", "a > a > b"};
    std::vector<double> conv{1, 0, 1, 1, 2, 3}, nulls{1, 1, 0, 1, 1, 2}, value{4, 0, 2, 1, 10, 9};
    return build_journeys({p, conv, nulls, value});
}

double mean(const std::vector<double>& x) {
    double s = 0;
    for (double v : x) s += v;
    return s / static_cast<double>(x.size());
}

double variance(const std::vector<double>& x) {
    const double m = mean(x);
    double s = 0;
    for (double v : x) s += (v - m) * (v - m);
    return s / static_cast<double>(x.size() - 1);
}

} // namespace

TEST_CASE("uncertainty: a plan reweighted by the observed counts gives the journeys' counts",
          "[uncertainty]") {
    const auto journeys = mixed_journeys();
    for (std::size_t order : {1, 2, 3})
        for (bool collapse : {true, false})
            for (bool padded : {false, true}) {
                counting_options o;
                o.order = order;
                o.collapse_repeats = collapse;
                o.padded = padded;
                const auto plan = make_replicate_plan(journeys, o);
                std::vector<double> c, n;
                for (std::size_t i = 0; i < journeys.size(); ++i) {
                    c.push_back(journeys.conversions(i));
                    n.push_back(journeys.nulls(i));
                }
                REQUIRE(plan.reweighted(c, n) == count_transitions(journeys, o));
                REQUIRE(plan.counts() == count_transitions(journeys, o));
                REQUIRE(plan.units() == 14);
                REQUIRE_FALSE(plan.by_customer());
            }
}

TEST_CASE("uncertainty: reweighting leaves out the states no weighted journey reaches",
          "[uncertainty]") {
    // Row 0 "a > b" twice as a conversion, row 1 "c" not at all, row 2
    // "a > c" once as a null: c is reached by row 2 only.
    std::vector<std::string_view> p{"a > b", "c", "a > c"};
    std::vector<double> conv{1, 0, 2}, nulls{1, 2, 0}, value{6, 0, 20};
    const auto journeys = build_journeys({p, conv, nulls, value});
    const auto plan = make_replicate_plan(journeys);
    const auto r = plan.reweighted({2, 0, 0}, {0, 0, 0});
    // Only a and b remain: START -> a -> b -> CONVERSION, weight 2.
    REQUIRE(r.num_states() == 5);
    REQUIRE(r.state_label(3) == "a");
    REQUIRE(r.state_label(4) == "b");
    REQUIRE(r.num_transitions() == 3);
    REQUIRE(r.out_weight(transition_counts::start) == 2);
    REQUIRE(r.total_conversions() == 2);
    REQUIRE(r.total_nulls() == 0);
    // The value scales with the conversions: 6 per conversion of row 0.
    REQUIRE(r.total_value() == 12);
    REQUIRE(r.value_from(4) == 12);
    REQUIRE(r.channels().size() == 3); // channels are kept
    const auto model = fit_markov(r);
    REQUIRE(model.conversion_rate() == 1);
    REQUIRE_THROWS_WITH(plan.reweighted({1, 0}, {0, 0}), Contains("one conversion weight"));
    REQUIRE_THROWS_WITH(plan.reweighted({-1, 0, 0}, {0, 0, 0}), Contains("row 0"));
}

TEST_CASE("uncertainty: percentile intervals interpolate between order statistics",
          "[uncertainty]") {
    replicate_table t;
    t.replicates = 5;
    t.width = 2;
    t.values = {5, 10, 1, 20, 4, 30, 2, 40, 3, 50};
    const auto i = percentile_intervals(t, 0.5);
    // Quantiles 0.25 and 0.75 of 1..5: positions 1 and 3.
    REQUIRE(i[0].lower == 2);
    REQUIRE(i[0].upper == 4);
    REQUIRE(i[1].lower == 20);
    REQUIRE(i[1].upper == 40);
    // 0.9: quantiles 0.05 and 0.95, positions 0.2 and 3.8.
    const auto j = percentile_intervals(t, 0.9);
    REQUIRE(j[0].lower == Approx(1.2).epsilon(1e-12));
    REQUIRE(j[0].upper == Approx(4.8).epsilon(1e-12));
    REQUIRE(t.column(1) == std::vector<double>{10, 20, 30, 40, 50});
    REQUIRE_THROWS_AS(percentile_intervals(t, 1.0), invalid_input);
    REQUIRE_THROWS_AS(percentile_intervals(t, 0.0), invalid_input);
}

TEST_CASE("uncertainty: a bootstrap replicate of order-1 complete paths converts at its "
          "resampled rate, and the rate varies binomially",
          "[uncertainty]") {
    const auto journeys = mixed_journeys();
    replicate_options o;
    o.replicates = 4000;
    o.seed = 7;
    const auto table = replicate_markov(journeys, {}, {}, o, [](const markov_model& m) {
        const auto& c = m.counts();
        return std::vector<double>{
            m.conversion_rate(), c.total_conversions() / (c.total_conversions() + c.total_nulls()),
            c.total_conversions() + c.total_nulls()};
    });
    REQUIRE(table.replicates == 4000);
    REQUIRE(table.width == 3);
    for (std::size_t r = 0; r < table.replicates; ++r) {
        REQUIRE(table.values[r * 3] == Approx(table.values[r * 3 + 1]).margin(1e-12));
        REQUIRE(table.values[r * 3 + 2] == 14); // as many journeys as observed
    }
    // The rate is Binomial(14, 8/14) / 14: mean 8/14, variance p(1-p)/14.
    const double p = 8.0 / 14;
    const auto rate = table.column(0);
    const double v = p * (1 - p) / 14;
    REQUIRE(std::abs(mean(rate) - p) < 4 * std::sqrt(v / 4000));
    // The variance of a sample variance: about 2 v^2 / (n - 1) (a normal's;
    // the binomial's is close at n = 14), so 4 of its standard errors.
    REQUIRE(std::abs(variance(rate) - v) < 4 * v * std::sqrt(2.0 / 3999));
}

TEST_CASE("uncertainty: replicates are identical whatever the number of threads", "[uncertainty]") {
    const auto journeys = mixed_journeys();
    for (auto method : {uncertainty_method::bootstrap, uncertainty_method::bayes}) {
        replicate_options o;
        o.method = method;
        o.replicates = 64;
        o.seed = 11;
        auto stat = [](const markov_model& m) {
            std::vector<double> out{m.conversion_rate(), m.value_per_journey()};
            for (const auto& e : removal_effects(m)) out.push_back(e.conversions);
            return out;
        };
        counting_options c;
        c.order = 2;
        o.threads = 1;
        const auto one = replicate_markov(journeys, c, {}, o, stat);
        o.threads = 2;
        const auto two = replicate_markov(journeys, c, {}, o, stat);
        o.threads = 3;
        const auto three = replicate_markov(journeys, c, {}, o, stat);
        REQUIRE(one.values == two.values);
        REQUIRE(one.values == three.values);
        o.seed = 12;
        REQUIRE(replicate_markov(journeys, c, {}, o, stat).values != one.values);
    }
}

TEST_CASE("uncertainty: the bootstrap of event journeys resamples customers, each with all of "
          "their journeys",
          "[uncertainty]") {
    // Customer 1 converts twice ("a > b", then "a"); customer 2 does not ("b").
    const fixtures::event_log log{
        {1, 1, 1, 1, 1, 2}, {0, 1, 2, 3, 4, 0}, {"a", "b", "", "a", "", "b"}, {0, 0, 1, 0, 1, 0}};
    const auto t = log.table();
    const auto journeys = build_journeys(t, event_options{}).journeys;
    REQUIRE(journeys.has_customers());
    const auto plan = make_replicate_plan(journeys);
    REQUIRE(plan.by_customer());
    REQUIRE(plan.units() == 2);
    replicate_options o;
    o.replicates = 200;
    const auto table = replicate_markov(plan, {}, o, [](const markov_model& m) {
        return std::vector<double>{m.counts().total_conversions(), m.counts().total_nulls()};
    });
    // Two customers drawn: {1, 1} gives 4 conversions, {1, 2} 2 and a null,
    // {2, 2} two nulls; nothing else.
    std::set<std::pair<double, double>> seen;
    for (std::size_t r = 0; r < table.replicates; ++r)
        seen.emplace(table.values[2 * r], table.values[2 * r + 1]);
    REQUIRE(seen == std::set<std::pair<double, double>>{{4, 0}, {2, 1}, {0, 2}});
}

TEST_CASE("uncertainty: a Bayes replicate draws each row from its Dirichlet posterior",
          "[uncertainty]") {
    // START -> a always; a -> CONVERSION 30 times, a -> NULL 70 times: the
    // conversion rate of a replicate is a Beta(30 + prior, 70 + prior) draw.
    std::vector<std::string_view> p{"a"};
    std::vector<double> conv{30}, nulls{70};
    const auto journeys = build_journeys({p, conv, nulls, {}});
    for (double prior : {0.5, 1.0}) {
        replicate_options o;
        o.method = uncertainty_method::bayes;
        o.replicates = 4000;
        o.prior = prior;
        o.seed = 3;
        const auto table = replicate_markov(journeys, {}, {}, o, [](const markov_model& m) {
            return std::vector<double>{m.conversion_rate(), m.counts().total_conversions()};
        });
        const auto rate = table.column(0);
        const double a = 30 + prior, b = 70 + prior;
        const double mu = a / (a + b), v = a * b / ((a + b) * (a + b) * (a + b + 1));
        REQUIRE(std::abs(mean(rate) - mu) < 4 * std::sqrt(v / 4000));
        REQUIRE(std::abs(variance(rate) - v) < 4 * v * std::sqrt(2.0 / 3999));
        // The observed totals stay.
        for (double c : table.column(1)) REQUIRE(c == 30);
    }
}

TEST_CASE("uncertainty: bad options are refused before any work", "[uncertainty]") {
    const auto journeys = mixed_journeys();
    auto stat = [](const markov_model& m) { return std::vector<double>{m.conversion_rate()}; };
    replicate_options o;
    o.replicates = 1;
    REQUIRE_THROWS_WITH(replicate_markov(journeys, {}, {}, o, stat), Contains("at least 2"));
    o.replicates = 10;
    o.prior = -1;
    REQUIRE_THROWS_WITH(replicate_markov(journeys, {}, {}, o, stat), Contains("prior"));
    o.prior = 0.5;
    REQUIRE_THROWS_WITH(replicate_markov(count_transitions(journeys), {}, o, stat),
                        Contains("give the journeys"));
    REQUIRE_THROWS_AS(uncertainty_method_from_string("jackknife"), invalid_input);
    REQUIRE(uncertainty_method_from_string("bayes") == uncertainty_method::bayes);
    REQUIRE(to_string(uncertainty_method::bootstrap) == "bootstrap");
    // A statistic that throws stops the work and its error reaches the caller.
    REQUIRE_THROWS_WITH(replicate_markov(journeys, {}, {}, o,
                                         [](const markov_model&) -> std::vector<double> {
                                             throw invalid_input("stop here");
                                         }),
                        Contains("stop here"));
    std::size_t calls = 0, last_total = 0;
    replicate_markov(journeys, {}, {}, o, stat, [&](std::size_t done, std::size_t total) {
        ++calls;
        last_total = total;
        REQUIRE(done == calls);
    });
    REQUIRE(calls == 10);
    REQUIRE(last_total == 10);
}

TEST_CASE("uncertainty: 95% bootstrap intervals cover the truth of a known chain in 90-99% of "
          "repetitions",
          "[uncertainty][coverage]") {
    // The truth: an order-1 chain over four channels, fitted on a large
    // hand-made table; each repetition simulates 3,000 journeys from it,
    // refits, and bootstraps 200 replicates.
    std::vector<std::string_view> p{"a > b", "a > c", "b > d", "c", "d > a > b", "b > c > d", "a"};
    std::vector<double> conv{30, 25, 10, 12, 8, 6, 5}, nulls{60, 40, 50, 70, 30, 20, 90};
    const auto truth = fit_markov(count_transitions(build_journeys({p, conv, nulls, {}})));
    const auto true_re = removal_effects(truth);
    const double true_rate = truth.conversion_rate();
    const std::size_t repetitions = 200;
    std::size_t covered_rate = 0;
    std::vector<std::size_t> covered_re(true_re.size(), 0);
    for (std::size_t rep = 0; rep < repetitions; ++rep) {
        simulation_options so;
        so.seed = 1000 + rep;
        const auto sim = simulate(truth, 3000, so).journeys;
        replicate_options o;
        o.replicates = 200;
        o.seed = rep;
        const auto table = replicate_markov(sim, {}, {}, o, [](const markov_model& m) {
            std::vector<double> out{m.conversion_rate()};
            for (const auto& e : removal_effects(m)) out.push_back(e.conversions);
            return out;
        });
        // Channels of the simulation are numbered by first appearance.
        const auto i = percentile_intervals(table, 0.95);
        if (i[0].lower <= true_rate && true_rate <= i[0].upper) ++covered_rate;
        const auto& names = sim.channels();
        for (channel_id c = 0; c < truth.counts().channels().size(); ++c) {
            const auto id = names.find(truth.counts().channels().name(c));
            REQUIRE(id);
            const auto& ci = i[1 + *id];
            if (ci.lower <= true_re[c].conversions && true_re[c].conversions <= ci.upper)
                ++covered_re[c];
        }
    }
    INFO("conversion rate covered " << covered_rate << " of " << repetitions);
    REQUIRE(covered_rate >= 180);
    REQUIRE(covered_rate <= 198);
    for (std::size_t c = 0; c < covered_re.size(); ++c) {
        INFO("removal effect " << c << " covered " << covered_re[c] << " of " << repetitions);
        REQUIRE(covered_re[c] >= 180);
        REQUIRE(covered_re[c] <= 198);
    }
}

TEST_CASE("uncertainty: heuristics of reweighted journeys, and their bootstrap", "[uncertainty]") {
    const auto journeys = mixed_journeys();
    std::vector<double> observed;
    for (std::size_t i = 0; i < journeys.size(); ++i) observed.push_back(journeys.conversions(i));
    for (auto h : all_heuristics) {
        const auto a = heuristic_attribution(journeys, h);
        const auto b = heuristic_attribution(journeys, h, {}, observed);
        REQUIRE(a.names() == b.names());
        for (std::size_t c = 0; c < a.size(); ++c) {
            REQUIRE(a.conversions()[c] == Approx(b.conversions()[c]).margin(1e-12));
            REQUIRE(a.value()[c] == Approx(b.value()[c]).margin(1e-12));
        }
    }
    // Row 5 "a > a > b" (3 conversions, value 9) counted twice, nothing else:
    // first touch gives a 2 conversions and value 6.
    const auto twice = heuristic_attribution(journeys, heuristic::first_touch, {},
                                             std::vector<double>{0, 0, 0, 0, 0, 2});
    REQUIRE(twice.conversions()[0] == 2);
    REQUIRE(twice.value()[0] == 6);
    REQUIRE_THROWS_WITH(heuristic_attribution(journeys, heuristic::linear, {}, {1, 2}),
                        Contains("one weight per row"));
    // The bootstrap passes weights that sum to the journeys' count.
    const auto plan = make_replicate_plan(journeys);
    replicate_options o;
    o.replicates = 50;
    const auto t = replicate_rows(plan, o, [](const auto& wc, const auto& wn) {
        double s = 0;
        for (std::size_t i = 0; i < wc.size(); ++i) s += wc[i] + wn[i];
        return std::vector<double>{s};
    });
    for (double s : t.column(0)) REQUIRE(s == 14);
    o.method = uncertainty_method::bayes;
    REQUIRE_THROWS_WITH(
        replicate_rows(plan, o, [](const auto&, const auto&) { return std::vector<double>{}; }),
        Contains("bootstrap only"));
}

namespace {

loop_histories loop_example() {
    std::vector<std::string_view> paths{"a > b > purchase > c > purchase", "b > purchase > a",
                                        "a > c", "c > purchase > purchase > b",
                                        "b > a > b > purchase > c"};
    std::vector<double> customers{3, 5, 7, 2, 4}, value{60, 25, 0, 30, 40};
    return build_loop_histories({paths, customers, {}, value}, {});
}

bool same_loop_counts(const loop_counts& a, const loop_counts& b) {
    return a.first == b.first && a.repeat.has_value() == b.repeat.has_value() &&
           (!a.repeat || *a.repeat == *b.repeat) && a.customers == b.customers &&
           a.purchases == b.purchases && a.value == Approx(b.value).epsilon(1e-12) &&
           a.buyers == b.buyers && a.repeat_purchases == b.repeat_purchases;
}

} // namespace

TEST_CASE("uncertainty: a loop plan reweighted by the observed customers gives the histories' "
          "counts, and leaves out what no weighted customer reaches",
          "[uncertainty][loop]") {
    const auto histories = loop_example();
    for (std::size_t order : {1, 2}) {
        counting_options o;
        o.order = order;
        const auto plan = make_loop_replicate_plan(histories, o);
        REQUIRE(plan.units() == 21);
        const auto counts = count_loop_transitions(histories, o);
        REQUIRE(same_loop_counts(plan.counts(), counts));
        REQUIRE(same_loop_counts(plan.reweighted({3, 5, 7, 2, 4}), counts));
    }
    // History 2 ("a > c", no purchase) alone, twice: no buyer, no repeat view.
    const auto plan = make_loop_replicate_plan(histories);
    const auto only = plan.reweighted({0, 0, 2, 0, 0});
    REQUIRE_FALSE(only.repeat);
    REQUIRE(only.customers == 2);
    REQUIRE(only.buyers == 0);
    REQUIRE(only.first.num_states() == 5); // START, PURCHASE, END, a, c
    const auto model = fit_loop(only);
    REQUIRE(summarize(model).expected_purchases == 0);
    // History 0 once: two purchases of 10 each; a first from b, a repeat from c.
    const auto one = plan.reweighted({1, 0, 0, 0, 0});
    REQUIRE(one.purchases == 2);
    REQUIRE(one.buyers == 1);
    REQUIRE(one.repeat_purchases == 1);
    REQUIRE(one.value == 20); // the row's 60 over 3 customers
    REQUIRE(fit_loop(one).buyers() == 1);
    REQUIRE_THROWS_WITH(plan.reweighted({1, 2}), Contains("one weight per history"));
}

TEST_CASE("uncertainty: loop replicates, bootstrap by customer and Bayes, are the same on any "
          "number of threads",
          "[uncertainty][loop]") {
    const auto histories = loop_example();
    const auto plan = make_loop_replicate_plan(histories);
    const auto model = fit_loop(plan.counts());
    auto stat = [](const loop_model& m) {
        const auto s = summarize(m);
        return std::vector<double>{s.expected_purchases, s.repeat_probability, m.customers()};
    };
    for (auto method : {uncertainty_method::bootstrap, uncertainty_method::bayes}) {
        replicate_options o;
        o.method = method;
        o.replicates = 200;
        o.threads = 1;
        const auto one = method == uncertainty_method::bootstrap ? replicate_loop(plan, {}, o, stat)
                                                                 : replicate_loop(model, o, stat);
        o.threads = 2;
        const auto two = method == uncertainty_method::bootstrap ? replicate_loop(plan, {}, o, stat)
                                                                 : replicate_loop(model, o, stat);
        REQUIRE(one.values == two.values);
        // Every replicate holds the 21 customers.
        for (double c : one.column(2)) REQUIRE(c == 21);
        const auto i = percentile_intervals(one, 0.95);
        const double h = summarize(model).expected_purchases;
        REQUIRE(i[0].lower <= h);
        REQUIRE(h <= i[0].upper);
        REQUIRE(i[0].lower < i[0].upper);
    }
    replicate_options o;
    REQUIRE_THROWS_WITH(replicate_loop(model, o, stat), Contains("resamples customers"));
    o.method = uncertainty_method::bayes;
    REQUIRE_THROWS_WITH(replicate_loop(plan, {}, o, stat), Contains("give the model"));
}

TEST_CASE("uncertainty: the simplified Shapley value of reweighted journeys", "[uncertainty]") {
    const auto journeys = mixed_journeys();
    std::vector<double> observed;
    for (std::size_t i = 0; i < journeys.size(); ++i) observed.push_back(journeys.conversions(i));
    const auto a = simplified_shapley(journeys);
    const auto b = simplified_shapley(journeys, observed);
    for (std::size_t c = 0; c < a.size(); ++c) {
        REQUIRE(a.conversions()[c] == Approx(b.conversions()[c]).margin(1e-12));
        REQUIRE(a.value()[c] == Approx(b.value()[c]).margin(1e-12));
    }
    // Row 4 "c > a > b > c" (2 conversions, value 10) counted 3 times: a, b
    // and c get 1 conversion and value 5 each.
    const auto r = simplified_shapley(journeys, {0, 0, 0, 0, 3, 0});
    for (std::size_t c = 0; c < 3; ++c) {
        REQUIRE(r.conversions()[c] == Approx(1.0).margin(1e-12));
        REQUIRE(r.value()[c] == Approx(5.0).margin(1e-12));
    }
    REQUIRE_THROWS_WITH(simplified_shapley(journeys, {1.0}), Contains("one weight per row"));
}

TEST_CASE("uncertainty: the multinomial over many blocks of rows draws each journey alike, the "
          "same on one thread and on two",
          "[uncertainty]") {
    // 3,000 rows of one conversion each, 2,000 of one null: 5,000 journeys over
    // 10,000 categories (ten blocks), some of them of weight 0.
    std::vector<std::string> names;
    std::vector<std::string_view> paths;
    std::vector<double> conv, nulls;
    for (int i = 0; i < 5000; ++i) names.push_back("c" + std::to_string(i % 7));
    for (int i = 0; i < 5000; ++i) {
        paths.push_back(names[static_cast<std::size_t>(i)]);
        conv.push_back(i < 3000 ? 1 : 0);
        nulls.push_back(i < 3000 ? 0 : 1);
    }
    const auto journeys = build_journeys({paths, conv, nulls, {}});
    const auto plan = make_replicate_plan(journeys);
    replicate_options o;
    o.replicates = 2000;
    auto stat = [](const std::vector<double>& wc, const std::vector<double>& wn) {
        double total = 0, zero_weight = 0;
        for (std::size_t i = 0; i < wc.size(); ++i) {
            total += wc[i] + wn[i];
            zero_weight += i < 3000 ? wn[i] : wc[i];
        }
        return std::vector<double>{total, zero_weight, wc[0], wc[2999], wn[3000], wn[4999]};
    };
    o.threads = 2;
    const auto t = replicate_rows(plan, o, stat);
    o.threads = 1;
    REQUIRE(replicate_rows(plan, o, stat).values == t.values);
    for (double x : t.column(0)) REQUIRE(x == 5000);
    for (double x : t.column(1)) REQUIRE(x == 0); // categories of weight 0 are never drawn
    // Each journey's count is Binomial(5000, 1/5000): mean 1, variance 1 - 1/5000.
    const double v = 1 - 1.0 / 5000;
    for (std::size_t j = 2; j < 6; ++j) {
        const auto x = t.column(j);
        REQUIRE(std::abs(mean(x) - 1) < 4 * std::sqrt(v / 2000));
        REQUIRE(std::abs(variance(x) - v) < 4 * v * std::sqrt(3.0 / 1999));
    }
}
