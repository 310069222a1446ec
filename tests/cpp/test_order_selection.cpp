// Order selection: the split into folds, the held-out figures worked by hand,
// ChannelAttribution's choose_order on its Data (REFERENCE.md 3.3) and bad
// arguments.
#include "fixtures.hpp"

#include <journeyloop/order_selection.hpp>

#include <cmath>
#include <map>

using namespace journeyloop;
using Catch::Contains;

namespace {

journey_set table(std::vector<std::string_view> paths, std::vector<double> conv,
                  std::vector<double> nulls) {
    return build_journeys({paths, conv, nulls, {}});
}

// Three journeys, one a fold (leave-one-out: the split is the same whatever
// the seed, up to the names of the folds):
//   "a" 1 conversion, "a" 1 null, "b" 1 null.
// Order 1, prior 1, 4 symbols (a, b, CONVERSION, NULL), so P_0 = 1/4:
//   fold of a-conversion, trained on {a null, b null}:
//     P(a | START) = (1 + 1/4) / (2 + 1) = 5/12, P(CONV | a) = (0 + 1/4) / (1 + 1) = 1/8
//   fold of a-null, trained on {a conversion, b null}: 5/12 and P(NULL | a) = 1/8
//   fold of b-null, trained on {a conversion, a null}:
//     P(b | START) = (0 + 1/4) / 3 = 1/12, P(NULL | b) = 1/4 (b never seen)
// Predictions P(CONV) / (P(CONV) + P(NULL)) from the last state: 1/6 for the
// converting journey, 5/6 and 1/2 for the others: AUC 0.
journey_set loo_table() { return table({"a", "a", "b"}, {1, 0, 0}, {0, 1, 1}); }

} // namespace

TEST_CASE("split_folds partitions the journeys into folds of sizes differing by at most one",
          "[order]") {
    const auto js = table({"a > b", "b", "a > c", "c"}, {3, 0, 5, 1}, {4, 7, 0, 2});
    for (std::size_t folds : {2u, 3u, 5u, 22u}) {
        CAPTURE(folds);
        const auto s = split_folds(js, folds, 7);
        REQUIRE(s.units == 22);
        REQUIRE(!s.by_customer);
        REQUIRE(s.offsets.size() == js.size() + 1);
        std::vector<double> size(folds, 0.0);
        for (std::size_t i = 0; i < js.size(); ++i) {
            double c = 0, n = 0;
            for (std::size_t j = s.offsets[i]; j < s.offsets[i + 1]; ++j) {
                if (j > s.offsets[i]) REQUIRE(s.fold[j] > s.fold[j - 1]);
                c += s.conversions[j];
                n += s.nulls[j];
                size[s.fold[j]] += s.conversions[j] + s.nulls[j];
            }
            REQUIRE(c == js.conversions(i));
            REQUIRE(n == js.nulls(i));
        }
        const double base = std::floor(22.0 / static_cast<double>(folds));
        for (std::size_t f = 0; f < folds; ++f) REQUIRE(size[f] == base + (f < 22 % folds ? 1 : 0));
    }
    // Seeded: the same seed, the same split; another seed, another one.
    const auto a = split_folds(js, 3, 1), b = split_folds(js, 3, 1), c = split_folds(js, 3, 2);
    REQUIRE(a.fold == b.fold);
    REQUIRE(a.conversions == b.conversions);
    REQUIRE((a.fold != c.fold || a.conversions != c.conversions || a.nulls != c.nulls));
}

TEST_CASE("split_folds: every fold is equally likely for a journey", "[order]") {
    // The first journey (row 0 holds only it) of a 10-journey table over
    // 1,000 seeds: each of the 5 folds gets it with probability 1/5; the
    // count is within 4 standard errors (sqrt(1000 * 0.2 * 0.8) = 12.6) of 200.
    const auto js = table({"a", "b"}, {1, 0}, {0, 9});
    std::vector<int> hits(5, 0);
    for (std::uint64_t seed = 0; seed < 1000; ++seed) ++hits[split_folds(js, 5, seed).fold[0]];
    for (int h : hits) REQUIRE(std::abs(h - 200) < 4 * 12.65);
}

TEST_CASE("select_order: held-out likelihood, unseen transitions and AUC by hand", "[order]") {
    order_selection_options o;
    o.orders = {1};
    o.folds = 3;
    for (std::uint64_t seed : {0u, 1u, 99u}) {
        o.seed = seed;
        const auto s = select_order(loo_table(), o);
        REQUIRE(s.scores.size() == 1);
        const auto& x = s.scores[0];
        const double ll =
            2 * std::log(5.0 / 12) + 2 * std::log(1.0 / 8) + std::log(1.0 / 12) + std::log(1.0 / 4);
        REQUIRE(x.symbols == 6);
        REQUIRE(x.log_likelihood == Approx(ll / 6).epsilon(1e-14));
        // Per fold (2 symbols each): the two a-folds alike, the b-fold apart.
        const double f1 = (std::log(5.0 / 12) + std::log(1.0 / 8)) / 2;
        const double f3 = (std::log(1.0 / 12) + std::log(1.0 / 4)) / 2;
        const double mean = (2 * f1 + f3) / 3;
        const double sd =
            std::sqrt((2 * (f1 - mean) * (f1 - mean) + (f3 - mean) * (f3 - mean)) / 2);
        REQUIRE(x.log_likelihood_se == Approx(sd / std::sqrt(3.0)).epsilon(1e-12));
        REQUIRE(x.unseen_transitions == 4); // CONV | a, NULL | a, b | START, NULL | b
        REQUIRE(x.unseen_states == 1);      // b
        REQUIRE(x.auc == 0);
        REQUIRE(x.states == 2);
        REQUIRE(s.units == 3);
        REQUIRE(s.recommended == 1);
    }
}

TEST_CASE("select_order: order 2 smooths towards order 1", "[order]") {
    // The same table at order 2: every path is one touch, so the order-2
    // contexts are the prefixes (START, then "a" or "b" as a whole path) and
    // their counts equal order 1's. With order 1's predictions as the prior:
    //   a-conversion fold: P(a | START) = (1 + 5/12) / 3 = 17/36,
    //                      P(CONV | a) = (0 + 1/8) / 2 = 1/16
    //   a-null fold: 17/36 and 1/16
    //   b-null fold: P(b | START) = (0 + 1/12) / 3 = 1/36, P(NULL | b) = 1/4
    order_selection_options o;
    o.orders = {1, 2};
    o.folds = 3;
    const auto s = select_order(loo_table(), o);
    const auto& x = s.scores[1];
    REQUIRE(x.order == 2);
    const double ll =
        2 * std::log(17.0 / 36) + 2 * std::log(1.0 / 16) + std::log(1.0 / 36) + std::log(1.0 / 4);
    REQUIRE(x.log_likelihood == Approx(ll / 6).epsilon(1e-14));
    REQUIRE(s.best == 1);
    REQUIRE(s.recommended == 1);
}

TEST_CASE("select_order: collapsed repeats are not predicted", "[order]") {
    // "a > a" at order 1 is the walk START -> a -> outcome: the repeat is
    // not predicted, but it counts among the symbols (3 per journey).
    const auto js = table({"a > a", "a > a"}, {1, 0}, {0, 1});
    order_selection_options o;
    o.orders = {1};
    o.folds = 2;
    o.collapse_repeats = true;
    const auto s = select_order(js, o);
    // Each fold trains on the other journey: P(a | START) = (1 + 1/3) / 2 = 2/3,
    // the outcome that did not happen there: (0 + 1/3) / 2 = 1/6.
    REQUIRE(s.scores[0].symbols == 6);
    REQUIRE(s.scores[0].log_likelihood ==
            Approx(2 * (std::log(2.0 / 3) + std::log(1.0 / 6)) / 6).epsilon(1e-14));
    o.collapse_repeats = false;
    // Without collapsing, a -> a is predicted too. In training a is left
    // twice (to a and to the outcome): P(a | a) = (1 + 1/3) / 3 = 4/9 and the
    // outcome that did not happen there (0 + 1/3) / 3 = 1/9.
    const auto t = select_order(js, o);
    REQUIRE(
        t.scores[0].log_likelihood ==
        Approx(2 * (std::log(2.0 / 3) + std::log(4.0 / 9) + std::log(1.0 / 9)) / 6).epsilon(1e-14));
}

TEST_CASE("select_order: the same figures whatever the threads", "[order]") {
    std::vector<std::string> owned;
    std::vector<double> conv, nulls;
    fixtures::lcg rng(5);
    for (int i = 0; i < 300; ++i) {
        std::string p;
        const unsigned len = 1 + rng() % 5;
        for (unsigned t = 0; t < len; ++t) p += (t ? " > " : "") + std::string(1, 'a' + rng() % 4);
        owned.push_back(p);
        conv.push_back(rng() % 3);
        nulls.push_back(rng() % 4);
    }
    std::vector<std::string_view> paths(owned.begin(), owned.end());
    const auto js = build_journeys({paths, conv, nulls, {}});
    order_selection_options o;
    o.orders = {1, 2, 3, 4};
    o.threads = 1;
    const auto one = select_order(js, o);
    o.threads = 3;
    std::size_t calls = 0, last = 0;
    const auto three = select_order(js, o, [&](std::size_t done, std::size_t total) {
        ++calls;
        last = done;
        REQUIRE(total == 5);
    });
    REQUIRE(calls == 5);
    REQUIRE(last == 5);
    for (std::size_t i = 0; i < 4; ++i) {
        REQUIRE(one.scores[i].log_likelihood == three.scores[i].log_likelihood);
        REQUIRE(one.scores[i].auc == three.scores[i].auc);
        REQUIRE(one.scores[i].ca_pauc == three.scores[i].ca_pauc);
        REQUIRE(std::isfinite(one.scores[i].log_likelihood));
        REQUIRE(one.scores[i].log_likelihood < 0);
    }
    REQUIRE(one.recommended == three.recommended);
}

TEST_CASE("select_order: journeys from events are split by customer", "[order]") {
    // Customer 1 converts and goes on (two journeys), 2 converts, 3 and 4 do not.
    std::vector<std::int64_t> customer{1, 1, 1, 2, 2, 3, 4};
    std::vector<double> time{1, 2, 3, 1, 2, 1, 1};
    std::vector<std::string_view> channel{"a", "b", "a", "b", "a", "a", "b"};
    std::vector<double> conversion{0, 1, 0, 0, 1, 0, 0};
    event_table t;
    t.customer_ids = customer;
    t.time_real = time;
    t.channel = channel;
    t.conversion = conversion;
    const auto built = build_journeys(t, {});
    REQUIRE(built.journeys.has_customers());
    const auto s = split_folds(built.journeys, 2, 3);
    REQUIRE(s.by_customer);
    REQUIRE(s.units == 4);
    // All the rows of a customer in one fold.
    std::map<std::size_t, std::uint32_t> fold_of;
    for (std::size_t i = 0; i < built.journeys.size(); ++i) {
        for (std::size_t j = s.offsets[i]; j < s.offsets[i + 1]; ++j) {
            const auto c = built.journeys.customer(i);
            const auto [it, fresh] = fold_of.emplace(c, s.fold[j]);
            REQUIRE(it->second == s.fold[j]);
        }
    }
    REQUIRE_THROWS_WITH(split_folds(built.journeys, 5, 0), Contains("4 customers"));
}

TEST_CASE("select_order: bad arguments name the argument", "[order][errors]") {
    const auto js = loo_table();
    order_selection_options o;
    o.folds = 3;
    o.orders = {};
    REQUIRE_THROWS_AS(select_order(js, o), invalid_input);
    REQUIRE_THROWS_WITH(select_order(js, o), Contains("orders"));
    o.orders = {0};
    REQUIRE_THROWS_WITH(select_order(js, o), Contains("orders"));
    o.orders = {1, 1};
    REQUIRE_THROWS_WITH(select_order(js, o), Contains("given twice"));
    o.orders = {1};
    o.folds = 1;
    REQUIRE_THROWS_WITH(select_order(js, o), Contains("folds must be at least 2"));
    o.folds = 4;
    REQUIRE_THROWS_WITH(select_order(js, o), Contains("folds (4) exceeds the 3 journeys"));
    o.folds = 2;
    o.prior = 0;
    REQUIRE_THROWS_WITH(select_order(js, o), Contains("prior"));
    o.prior = 1;
    o.roc_points = 1;
    REQUIRE_THROWS_WITH(select_order(js, o), Contains("roc_points"));
    o.roc_points = 100;
    REQUIRE_THROWS_WITH(select_order(table({"a"}, {2}, {0}), o), Contains("non-converting"));
    REQUIRE_THROWS_WITH(select_order(table({"a", "b"}, {1.5, 0}, {0, 1}), o),
                        Contains("row 0, column conversions"));
    REQUIRE_THROWS_AS(select_order(journey_set{}, o), invalid_input);
}

TEST_CASE("reference Data: choose_order equals REFERENCE.md 3.3", "[reference][order]") {
    const auto file = fixtures::shared_data("channelattribution_pathdata/Data.csv");
    if (file.empty()) return;
    csv_options c;
    c.delimiter = ';';
    c.columns.conversions_column = "total_conversions";
    c.columns.nulls_column = "total_null";
    c.columns.value_column = "total_conversion_value";
    const auto js = read_path_csv(file, c);
    order_selection_options o;
    o.orders = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    o.folds = 2;
    const auto s = select_order(js, o);
    const std::vector<double> nodes{12, 78, 364, 1365, 4368, 12376, 31824, 75582};
    const std::vector<std::size_t> states{12, 120, 933, 3975, 8349, 11611, 13117, 13400};
    const std::vector<double> auc{0.508670, 0.517376, 0.527848, 0.542849,
                                  0.553812, 0.558917, 0.561891, 0.563227};
    const std::vector<double> pauc{0.508603, 0.516950, 0.525895, 0.535678,
                                   0.530615, 0.487100, 0.315393, 0};
    for (std::size_t i = 0; i < 8; ++i) {
        CAPTURE(i + 1);
        const auto& x = s.scores[i];
        REQUIRE(x.ca_nodes == Approx(nodes[i]).epsilon(1e-9));
        REQUIRE(x.states == states[i]);
        REQUIRE(x.ca_auc == Approx(auc[i]).margin(5e-7));
        REQUIRE(x.ca_pauc == Approx(pauc[i]).margin(5e-7));
    }
    REQUIRE(std::isnan(s.scores[8].ca_pauc));
    REQUIRE(std::isnan(s.scores[9].ca_auc));
    REQUIRE(s.ca_suggested == 4);
}

namespace {

// The label -> (out weight) of every channel state, and label pairs -> weight.
std::map<std::string, double> state_weights(const transition_counts& c) {
    std::map<std::string, double> out;
    for (state_id s = transition_counts::first_channel_state; s < c.num_states(); ++s)
        out[c.state_label(s)] = c.out_weight(s);
    return out;
}

std::map<std::pair<std::string, std::string>, double> edge_weights(const transition_counts& c) {
    std::map<std::pair<std::string, std::string>, double> out;
    for (state_id s = 0; s < c.num_states(); ++s)
        for (std::size_t e = 0; e < c.targets(s).size(); ++e)
            out[{c.state_label(s), c.state_label(c.targets(s)[e])}] = c.weights(s)[e];
    return out;
}

} // namespace

TEST_CASE("back_off merges sparse states into their suffix, by hand", "[order][backoff]") {
    // Order 2: (a,b) 3 journeys, (c,b) 1, the short path (b) 2. With
    // min_count 2, (c,b) backs off into (b), which now holds 3.
    //   START -> (a,b) 3, START -> (b) 1 + 2 = 3; (a,b) -> CONVERSION 3;
    //   (b) -> NULL 1 (from (c,b)) + 1, (b) -> CONVERSION 1.
    // p = 1/2 * 1 + 1/2 * 1/3 = 2/3 = 4 conversions / 6 journeys.
    const auto js = table({"a > b", "c > b", "b"}, {3, 0, 1}, {0, 1, 1});
    counting_options o;
    o.order = 2;
    const auto counts = count_transitions(js, o);
    const auto b = back_off(counts, 2);
    REQUIRE(b.order() == 2);
    REQUIRE(state_weights(b) == std::map<std::string, double>{{"a > b", 3}, {"b", 3}});
    const std::map<std::pair<std::string, std::string>, double> edges{{{"START", "a > b"}, 3},
                                                                      {{"START", "b"}, 3},
                                                                      {{"a > b", "CONVERSION"}, 3},
                                                                      {{"b", "CONVERSION"}, 1},
                                                                      {{"b", "NULL"}, 2}};
    REQUIRE(edge_weights(b) == edges);
    const auto model = fit_markov(b);
    REQUIRE(model.conversion_rate() == Approx(2.0 / 3).epsilon(1e-15));
    // Removing a cuts (a,b): p = 1/6, RE 3/4; every state holds b: RE 1; c
    // was backed off out of every state: RE 0. Attribution 4 * 3/7, 4 * 4/7, 0.
    const auto effects = removal_effects(model);
    const auto& ch = b.channels();
    REQUIRE(effects[ch.at("a")].conversions == Approx(0.75).epsilon(1e-14));
    REQUIRE(effects[ch.at("b")].conversions == Approx(1.0).epsilon(1e-14));
    REQUIRE(effects[ch.at("c")].conversions == 0);
    const auto a = markov_attribution(model);
    std::map<std::string, double> credit;
    for (std::size_t i = 0; i < a.names().size(); ++i) credit[a.names()[i]] = a.conversions()[i];
    REQUIRE(credit.at("a") == Approx(12.0 / 7).epsilon(1e-14));
    REQUIRE(credit.at("b") == Approx(16.0 / 7).epsilon(1e-14));
    REQUIRE(credit.at("c") == 0);
    // min_count 1 changes nothing.
    REQUIRE(back_off(counts, 1) == counts);
}

TEST_CASE("back_off backs off recursively", "[order][backoff]") {
    // Order 3, min_count 2: (x,a,b) 1 and (y,a,b) 1 merge into (a,b) (2:
    // stays); (z,q,b) 1 goes to (q,b) (1), then to (b) (1: a single channel
    // stays); (a,b,c) 4 stays.
    const auto js =
        table({"x > a > b", "y > a > b", "z > q > b", "a > b > c"}, {0, 1, 1, 4}, {1, 0, 0, 0});
    counting_options o;
    o.order = 3;
    const auto b = back_off(count_transitions(js, o), 2);
    REQUIRE(state_weights(b) ==
            std::map<std::string, double>{{"a > b", 2}, {"b", 1}, {"a > b > c", 4}});
    const auto e = edge_weights(b);
    REQUIRE(e.at({"START", "a > b"}) == 2);
    REQUIRE(e.at({"a > b", "NULL"}) == 1);
    REQUIRE(e.at({"a > b", "CONVERSION"}) == 1);
    REQUIRE(e.at({"START", "b"}) == 1);
    REQUIRE(e.at({"b", "CONVERSION"}) == 1);
    REQUIRE(fit_markov(b).conversion_rate() == Approx(6.0 / 7).epsilon(1e-15));
}

TEST_CASE("back_off keeps the chain absorbing and the observed conversion rate",
          "[order][backoff]") {
    std::vector<std::string> owned;
    std::vector<double> conv, nulls;
    fixtures::lcg rng(17);
    for (int i = 0; i < 400; ++i) {
        std::string p;
        const unsigned len = 1 + rng() % 6;
        for (unsigned t = 0; t < len; ++t) p += (t ? " > " : "") + std::string(1, 'a' + rng() % 5);
        owned.push_back(p);
        conv.push_back(rng() % 3);
        nulls.push_back(1 + rng() % 3);
    }
    std::vector<std::string_view> paths(owned.begin(), owned.end());
    const auto js = build_journeys({paths, conv, nulls, {}});
    const double observed = js.total_conversions() / (js.total_conversions() + js.total_nulls());
    for (bool collapse : {true, false}) {
        for (std::size_t k : {2u, 3u, 4u}) {
            counting_options o;
            o.order = k;
            o.collapse_repeats = collapse;
            const auto counts = count_transitions(js, o);
            for (std::size_t min_count : {2u, 5u, 50u}) {
                CAPTURE(collapse, k, min_count);
                const auto b = back_off(counts, min_count);
                REQUIRE(b.num_states() <= counts.num_states());
                // No state below min_count but single channels (with repeats
                // collapsed, the self-loops that merging makes are dropped
                // after the decision, so the weights left may be lower).
                if (!collapse)
                    for (state_id s = transition_counts::first_channel_state; s < b.num_states();
                         ++s)
                        if (b.state(s).size() > 1)
                            REQUIRE(b.out_weight(s) >= static_cast<double>(min_count));
                const auto model = fit_markov(b);
                REQUIRE(model.conversion_rate() == Approx(observed).epsilon(1e-12));
                const auto a = markov_attribution(model);
                double total = 0;
                for (double x : a.conversions()) total += x;
                REQUIRE(total == Approx(js.total_conversions()).epsilon(1e-12));
            }
        }
    }
}

TEST_CASE("back_off: bad arguments", "[order][backoff][errors]") {
    const auto js = loo_table();
    REQUIRE_THROWS_WITH(back_off(count_transitions(js, {}), 0), Contains("min_count"));
    counting_options o;
    o.order = 2;
    o.padded = true;
    REQUIRE_THROWS_WITH(back_off(count_transitions(js, o), 2), Contains("unpadded"));
}
