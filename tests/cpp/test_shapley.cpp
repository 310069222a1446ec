#include "fixtures.hpp"

#include <journeyloop/shapley.hpp>

#include <cmath>
#include <numeric>
#include <string>
#include <vector>

using namespace journeyloop;

namespace {

double sum(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }

// Every channel a player of its own.
struct channel_players {
    std::vector<std::string> names;
    std::vector<std::vector<channel_id>> players;
};

channel_players each_channel(const channel_dictionary& ch) {
    channel_players out;
    for (channel_id c = 0; c < ch.size(); ++c) {
        out.names.push_back(ch.name(c));
        out.players.push_back({c});
    }
    return out;
}

// A funnel of `channels` channels (c0, c1, ...) with random paths of one to
// four touches, random conversions, nulls and value.
journey_set random_journeys(std::size_t channels, std::size_t rows, std::uint64_t seed,
                            std::vector<std::string>& storage) {
    fixtures::lcg rng(seed);
    storage.clear();
    std::vector<double> conv, nulls, value;
    for (std::size_t r = 0; r < rows; ++r) {
        const auto len = 1 + rng() % 4;
        std::string p;
        for (unsigned t = 0; t < len; ++t) {
            if (t) p += " > ";
            p += "c" + std::to_string(rng() % channels);
        }
        storage.push_back(p);
        conv.push_back(rng() % 4);
        nulls.push_back(1 + rng() % 5);
        value.push_back(conv.back() * (5 + rng() % 20));
    }
    std::vector<std::string_view> paths(storage.begin(), storage.end());
    return build_journeys({paths, conv, nulls, value});
}

shapley_options sampled(std::size_t permutations, std::uint64_t seed = 7, std::size_t threads = 1) {
    shapley_options o;
    o.method = shapley_method::sampled;
    o.permutations = permutations;
    o.seed = seed;
    o.threads = threads;
    return o;
}

shapley_options exact() {
    shapley_options o;
    o.method = shapley_method::exact;
    return o;
}

} // namespace

TEST_CASE("removal rules: the skip rule by hand on the abc chain", "[shapley][removal]") {
    // P: START -> a 2/3, b 1/3; a -> b 1/2, c 1/2; b -> CONVERSION 1/4, NULL 3/4;
    // c -> CONVERSION 1; p = 1/2, value per journey 20/3 (10 through b, 15 through c).
    const auto model = fit_markov(count_transitions(fixtures::abc_example()));
    const auto& ch = model.counts().channels();
    const auto a = ch.at("a"), b = ch.at("b"), c = ch.at("c");
    const std::vector<std::vector<channel_id>> groups{{a}, {b}, {c}, {a, c}, {}};
    const auto skip = group_removal_effects(model, groups, removal_rule::skip);
    // Skipping b: a -> b becomes a -> CONVERSION 1/8, a -> NULL 3/8; the walk
    // START -> b -> CONVERSION (1/3 * 1/4 = 1/12) touched only b and is lost:
    // RE = (1/12) / (1/2) = 1/6; its value 10/12 of 20/3 is 1/8.
    REQUIRE(std::abs(skip[1].conversions - 1.0 / 6) < 1e-12);
    REQUIRE(std::abs(skip[1].value - 1.0 / 8) < 1e-12);
    // Skipping a or c alone loses nothing: no converting walk touches only a
    // (a never converts directly) or only c (c is never first).
    REQUIRE(std::abs(skip[0].conversions) < 1e-12);
    REQUIRE(std::abs(skip[2].conversions) < 1e-12);
    // Skipping a and c loses START -> a -> c -> CONVERSION: 2/3 * 1/2 = 1/3,
    // RE 2/3; value 1/3 * 15 = 5 of 20/3: 3/4.
    REQUIRE(std::abs(skip[3].conversions - 2.0 / 3) < 1e-12);
    REQUIRE(std::abs(skip[3].value - 3.0 / 4) < 1e-12);
    REQUIRE(skip[4].conversions == 0);
    // The NULL rule for comparison: without b, p = 2/3 * 1/2 = 1/3 (RE 1/3);
    // without a, p = 1/12 (RE 5/6).
    const auto null = group_removal_effects(model, groups, removal_rule::null);
    REQUIRE(std::abs(null[1].conversions - 1.0 / 3) < 1e-12);
    REQUIRE(std::abs(null[0].conversions - 5.0 / 6) < 1e-12);
    const auto plain = group_removal_effects(model, groups);
    for (std::size_t g = 0; g < groups.size(); ++g)
        REQUIRE(null[g].conversions == plain[g].conversions);
    // States: at order 1 a state is a channel.
    const std::vector<state_id> states{
        static_cast<state_id>(transition_counts::first_channel_state + b)};
    const auto by_state = state_removal_effects(model, states, removal_rule::skip);
    REQUIRE(std::abs(by_state[0].conversions - 1.0 / 6) < 1e-12);
    REQUIRE_THROWS_AS(group_removal_effects(model, {{99}}, removal_rule::skip), unknown_channel);
}

TEST_CASE("removal rules: skip at order 2 loses the walks whose every state holds the channel",
          "[shapley][removal]") {
    // Order 2: "a > b" (1 conversion, 1 null), "b" (2 nulls), "a > c" (2 conversions).
    // States (a), (b), (a b), (a c); every walk of one touch or two is one state.
    // Skipping b loses the walks through states holding b only: START -> (a b)
    // -> CONVERSION (1/6) and START -> (b) -> NULL: RE = (1/6) / (1/2) = 1/3.
    counting_options o;
    o.order = 2;
    const auto model = fit_markov(count_transitions(fixtures::abc_example(), o));
    const auto& ch = model.counts().channels();
    const auto e = group_removal_effects(model, {{ch.at("b")}, {ch.at("a")}}, removal_rule::skip);
    REQUIRE(std::abs(e[0].conversions - 1.0 / 3) < 1e-12);
    // Every converting walk holds a in its only state: skipping a loses them all.
    REQUIRE(std::abs(e[1].conversions - 1.0) < 1e-12);
}

TEST_CASE("removal rules: the loop model under skip", "[shapley][removal][loop]") {
    std::vector<std::string_view> paths{"a > purchase > b > purchase", "a > b", "b > purchase"};
    std::vector<double> customers{1, 1, 2}, value{30, 0, 60};
    const auto loop =
        fit_loop(count_loop_transitions(build_loop_histories({paths, customers, {}, value}, {})));
    const auto& ch = loop.channels();
    const std::vector<std::vector<channel_id>> groups{{ch.at("a")}, {ch.at("b")}};
    const auto e = loop_removal_effects(loop, groups, removal_rule::skip);
    const auto first = group_removal_effects(loop.first(), groups, removal_rule::skip);
    const auto repeat = group_removal_effects(*loop.repeat(), groups, removal_rule::skip);
    // Order 1: START -> a 1/2, b 1/2; a -> P 1/2, b 1/2; b -> P 3/4, END 1/4;
    // PURCHASE -> b 1/4, END 3/4. h = 1/2 * (1/2 + 1/2 * 3/4) + 1/2 * 3/4 = 13/16.
    // Skipping b: lost first purchases START -> b -> P = 3/8, RE 6/13.
    REQUIRE(std::abs(e[1].first_purchases - 6.0 / 13) < 1e-12);
    REQUIRE(std::abs(first[1].conversions - 6.0 / 13) < 1e-12);
    // r = 1/4 * 3/4 = 3/16, all through b alone: skipping b loses every repeat.
    REQUIRE(std::abs(repeat[1].conversions - 1.0) < 1e-12);
    REQUIRE(std::abs(e[1].repeat_purchases - 1.0) < 1e-12);
    // Skipping a: START -> a -> P (1/4 of 13/16); repeats never touch a.
    REQUIRE(std::abs(e[0].first_purchases - 4.0 / 13) < 1e-12);
    REQUIRE(std::abs(e[0].repeat_purchases) < 1e-12);
    // Purchases: h / (1 - r) with h and r each dropped.
    const double h = 13.0 / 16, r = 3.0 / 16;
    const double h_b = h * (1 - 6.0 / 13);
    REQUIRE(std::abs(e[1].purchases - (1 - h_b / h * (1 - r))) < 1e-12);
    const auto null = loop_removal_effects(loop, groups, removal_rule::null);
    const auto plain = loop_removal_effects(loop, groups);
    REQUIRE(null[1].purchases == plain[1].purchases);
}

TEST_CASE("shapley_values: exact matches shapley_attribution, and loop columns", "[shapley]") {
    const auto model = fit_markov(count_transitions(fixtures::abc_example()));
    const auto p = each_channel(model.counts().channels());
    const auto s = shapley_values(model, p.names, p.players, exact());
    const auto old = shapley_attribution(model, p.names, p.players);
    REQUIRE_FALSE(s.sampled);
    REQUIRE(s.permutations == 0);
    for (std::size_t i = 0; i < 3; ++i) {
        REQUIRE(std::abs(s.conversions[i] - old.conversions()[i]) < 1e-12);
        REQUIRE(std::abs(s.value[i] - old.value()[i]) < 1e-11);
        REQUIRE(s.conversions_se[i] == 0);
    }
    // The hand-worked values of test_markov_model.cpp: 5/4, 3/4, 1.
    REQUIRE(std::abs(s.conversions[0] - 1.25) < 1e-12);
    REQUIRE(s.first_purchases.empty());
    // Automatic: three players are enumerated.
    REQUIRE_FALSE(shapley_values(model, p.names, p.players).sampled);

    std::vector<std::string_view> paths{"a > purchase > b > purchase", "a > b", "b > purchase"};
    std::vector<double> customers{1, 1, 2}, value{30, 0, 60};
    const auto loop =
        fit_loop(count_loop_transitions(build_loop_histories({paths, customers, {}, value}, {})));
    const auto lp = each_channel(loop.channels());
    const auto ls = shapley_values(loop, lp.names, lp.players, exact());
    const auto lold = shapley_attribution(loop, lp.names, lp.players);
    for (std::size_t i = 0; i < 2; ++i) {
        REQUIRE(std::abs(ls.conversions[i] - lold.conversions()[i]) < 1e-12);
        REQUIRE(std::abs(ls.value[i] - lold.value()[i]) < 1e-11);
    }
    // First purchases: the first view's game. v(none) = 0, v(a) = 1/4,
    // v(b) = 3/8, v(ab) = 13/16: phi_a = (1/4 + 7/16) / 2 = 11/32, phi_b =
    // (3/8 + 9/16) / 2 = 15/32, scaled to the 3 buyers by 16/13.
    REQUIRE(std::abs(ls.first_purchases[0] - 3 * 11.0 / 26) < 1e-12);
    REQUIRE(std::abs(ls.first_purchases[1] - 3 * 15.0 / 26) < 1e-12);
    // Repeat purchases (one): only b brings customers back.
    REQUIRE(std::abs(ls.repeat_purchases[0]) < 1e-12);
    REQUIRE(std::abs(ls.repeat_purchases[1] - 1.0) < 1e-12);
    REQUIRE(std::abs(sum(ls.conversions) - loop.purchases()) < 1e-12);
    // Sampled: two players have two orderings, a pair covers both, so the
    // sampled values are exact and their standard errors 0.
    const auto lsamp = shapley_values(loop, lp.names, lp.players, sampled(4));
    REQUIRE(lsamp.sampled);
    REQUIRE(lsamp.permutations == 4);
    for (std::size_t i = 0; i < 2; ++i) {
        REQUIRE(std::abs(lsamp.conversions[i] - ls.conversions[i]) < 1e-12);
        REQUIRE(std::abs(lsamp.first_purchases[i] - ls.first_purchases[i]) < 1e-12);
        REQUIRE(std::abs(lsamp.repeat_purchases[i] - ls.repeat_purchases[i]) < 1e-12);
        REQUIRE(std::abs(lsamp.value[i] - ls.value[i]) < 1e-11);
        REQUIRE(lsamp.conversions_se[i] < 1e-12);
    }
}

TEST_CASE("shapley_values: sampled against exact on ten players, thread by thread",
          "[shapley][thread]") {
    std::vector<std::string> storage;
    const auto model = fit_markov(count_transitions(random_journeys(10, 300, 12345, storage)));
    const auto p = each_channel(model.counts().channels());
    REQUIRE(p.names.size() == 10);
    const auto ex = shapley_values(model, p.names, p.players, exact());
    const auto s = shapley_values(model, p.names, p.players, sampled(400, 99));
    REQUIRE(s.sampled);
    REQUIRE(s.permutations == 400);
    for (std::size_t i = 0; i < 10; ++i) {
        REQUIRE(s.conversions_se[i] > 0);
        REQUIRE(std::abs(s.conversions[i] - ex.conversions[i]) < 4 * s.conversions_se[i]);
        REQUIRE(std::abs(s.value[i] - ex.value[i]) < 4 * s.value_se[i]);
    }
    // Efficiency holds ordering by ordering: even four orderings sum to the totals.
    const auto few = shapley_values(model, p.names, p.players, sampled(4, 3));
    REQUIRE(std::abs(sum(few.conversions) - model.counts().total_conversions()) <
            1e-12 * model.counts().total_conversions());
    REQUIRE(std::abs(sum(few.value) - model.counts().total_value()) <
            1e-12 * model.counts().total_value());
    // The same seed gives the same values on any number of threads, to the bit.
    for (std::size_t threads : {2, 3}) {
        const auto t = shapley_values(model, p.names, p.players, sampled(400, 99, threads));
        REQUIRE(t.conversions == s.conversions);
        REQUIRE(t.value == s.value);
        REQUIRE(t.conversions_se == s.conversions_se);
    }
    // Another seed, other orderings.
    REQUIRE(shapley_values(model, p.names, p.players, sampled(400, 100)).conversions !=
            s.conversions);
    // The walk by the solver (every coalition solved) gives the same values
    // as the bordered inverse.
    auto by_solver = sampled(40, 5);
    by_solver.dense_limit = 0;
    const auto solved = shapley_values(model, p.names, p.players, by_solver);
    const auto dense = shapley_values(model, p.names, p.players, sampled(40, 5));
    for (std::size_t i = 0; i < 10; ++i) {
        REQUIRE(std::abs(solved.conversions[i] - dense.conversions[i]) < 1e-10);
        REQUIRE(std::abs(solved.value[i] - dense.value[i]) < 1e-8);
    }
    // Progress: one call a pair, the last with done == total.
    std::size_t calls = 0, last_done = 0, last_total = 0;
    auto o = sampled(20, 1, 2);
    o.progress = [&](std::size_t done, std::size_t total) {
        ++calls;
        last_done = done;
        last_total = total;
    };
    shapley_values(model, p.names, p.players, o);
    REQUIRE(calls == 10);
    REQUIRE(last_done == 10);
    REQUIRE(last_total == 10);
}

TEST_CASE("shapley_values: teams at order 2, sampled against exact", "[shapley]") {
    std::vector<std::string> storage;
    counting_options co;
    co.order = 2;
    const auto model = fit_markov(count_transitions(random_journeys(8, 200, 777, storage), co));
    const auto& ch = model.counts().channels();
    // Four teams of two channels; the blocks of states a team unlocks are
    // bordered together.
    std::vector<std::string> names{"t0", "t1", "t2", "t3"};
    std::vector<std::vector<channel_id>> teams(4);
    for (channel_id c = 0; c < ch.size(); ++c) teams[c % 4].push_back(c);
    const auto ex = shapley_values(model, names, teams, exact());
    const auto old = shapley_attribution(model, names, teams);
    // Every coalition by the engine gives the dense solves' values.
    auto by_engine = exact();
    by_engine.dense_limit = 0;
    const auto engine = shapley_values(model, names, teams, by_engine);
    for (std::size_t i = 0; i < 4; ++i) {
        REQUIRE(std::abs(engine.conversions[i] - ex.conversions[i]) < 1e-12);
        REQUIRE(std::abs(engine.value[i] - ex.value[i]) < 1e-10);
    }
    const auto s = shapley_values(model, names, teams, sampled(200, 11));
    for (std::size_t i = 0; i < 4; ++i) {
        REQUIRE(std::abs(ex.conversions[i] - old.conversions()[i]) < 1e-10);
        REQUIRE(std::abs(s.conversions[i] - ex.conversions[i]) <= 4 * s.conversions_se[i] + 1e-12);
    }
    REQUIRE(std::abs(sum(s.conversions) - model.counts().total_conversions()) < 1e-9);
}

TEST_CASE("shapley_values: the axioms on small chains, exact and sampled", "[shapley]") {
    // x and y are interchangeable (the same rows, the same counts), d is on
    // journeys that never convert and leads nowhere else (a dummy).
    std::vector<std::string_view> paths{"x > z", "y > z", "x", "y", "d", "d > d"};
    std::vector<double> conv{2, 2, 1, 1, 0, 0}, nulls{1, 1, 2, 2, 3, 1}, value{20, 20, 5, 5, 0, 0};
    const auto model = fit_markov(count_transitions(build_journeys({paths, conv, nulls, value})));
    const auto p = each_channel(model.counts().channels());
    const auto& ch = model.counts().channels();
    const auto x = ch.at("x"), y = ch.at("y"), d = ch.at("d");
    for (const auto& o : {exact(), sampled(64, 5)}) {
        const auto s = shapley_values(model, p.names, p.players, o);
        // Efficiency.
        REQUIRE(std::abs(sum(s.conversions) - model.counts().total_conversions()) < 1e-12);
        REQUIRE(std::abs(sum(s.value) - model.counts().total_value()) < 1e-10);
        // Dummy player: no coalition's worth changes with d.
        REQUIRE(std::abs(s.conversions[d]) < 1e-13);
        REQUIRE(std::abs(s.value[d]) < 1e-12);
        if (!s.sampled) {
            // Symmetry (exact; sampled, each ordering treats them differently).
            REQUIRE(std::abs(s.conversions[x] - s.conversions[y]) < 1e-12);
        } else {
            REQUIRE(std::abs(s.conversions[x] - s.conversions[y]) <
                    4 * std::hypot(s.conversions_se[x], s.conversions_se[y]) + 1e-12);
        }
    }
    // Additivity: the value game of the values v1 + v2 is the sum of the
    // value games of v1 and of v2 (the mean values per state add), and with
    // v(none) = 0 each is scaled by the number of journeys.
    std::vector<double> v1{20, 0, 5, 0, 0, 0}, v2{0, 20, 0, 5, 0, 0}, v12(6);
    for (std::size_t i = 0; i < 6; ++i) v12[i] = v1[i] + v2[i];
    auto fit = [&](const std::vector<double>& v) {
        return fit_markov(count_transitions(build_journeys({paths, conv, nulls, v})));
    };
    const auto m1 = fit(v1), m2 = fit(v2), m12 = fit(v12);
    for (const auto& o : {exact(), sampled(16, 9)}) {
        const auto s1 = shapley_values(m1, p.names, p.players, o);
        const auto s2 = shapley_values(m2, p.names, p.players, o);
        const auto s12 = shapley_values(m12, p.names, p.players, o);
        for (std::size_t i = 0; i < p.names.size(); ++i)
            REQUIRE(std::abs(s12.value[i] - (s1.value[i] + s2.value[i])) < 1e-10);
    }
}

TEST_CASE("shapley_values: bad options and players", "[shapley]") {
    const auto model = fit_markov(count_transitions(fixtures::abc_example()));
    const auto p = each_channel(model.counts().channels());
    REQUIRE_THROWS_WITH(shapley_values(model, p.names, p.players, sampled(3)),
                        Catch::Contains("even number >= 4"));
    REQUIRE_THROWS_WITH(shapley_values(model, p.names, p.players, sampled(2)),
                        Catch::Contains("even number >= 4"));
    REQUIRE_THROWS_WITH(shapley_values(model, {"a"}, p.players), Catch::Contains("1 names for 3"));
    REQUIRE_THROWS_WITH(shapley_values(model, {"a", "b"}, {{0}, {0}}),
                        Catch::Contains("belongs to two players"));
    REQUIRE_THROWS_AS(shapley_values(model, {"a"}, {{42}}), unknown_channel);
    std::vector<std::vector<channel_id>> many(17);
    std::vector<std::string> names(17, "p");
    REQUIRE_THROWS_WITH(shapley_values(model, names, many, exact()), Catch::Contains("2^n"));
    auto o = shapley_options{};
    o.exact_limit = 17;
    REQUIRE_THROWS_WITH(shapley_values(model, p.names, p.players, o),
                        Catch::Contains("exact_limit"));
    // Players with no channel: sampled beyond the automatic limit, zero credit.
    const auto s = shapley_values(model, names, many, sampled(4));
    REQUIRE(s.sampled);
    for (double c : s.conversions) REQUIRE(c == 0);
}

TEST_CASE("shapley_values: loop model, sampled against exact on six channels", "[shapley][loop]") {
    // Histories of one to three segments of one to three touches, each segment
    // but perhaps the last ending in a purchase.
    fixtures::lcg rng(4242);
    std::vector<std::string> storage;
    std::vector<double> customers, value;
    for (int r = 0; r < 200; ++r) {
        std::string h;
        const auto segments = 1 + rng() % 3;
        double v = 0;
        for (unsigned seg = 0; seg < segments; ++seg) {
            const auto len = 1 + rng() % 3;
            for (unsigned t = 0; t < len; ++t) {
                if (!h.empty()) h += " > ";
                h += "c" + std::to_string(rng() % 6);
            }
            if (seg + 1 < segments || rng() % 2) {
                h += " > purchase";
                v += 5 + rng() % 20;
            }
        }
        storage.push_back(h);
        customers.push_back(1 + rng() % 3);
        value.push_back(v * customers.back());
    }
    std::vector<std::string_view> paths(storage.begin(), storage.end());
    const auto loop =
        fit_loop(count_loop_transitions(build_loop_histories({paths, customers, {}, value}, {})));
    const auto p = each_channel(loop.channels());
    REQUIRE(p.names.size() == 6);
    const auto ex = shapley_values(loop, p.names, p.players, exact());
    const auto s = shapley_values(loop, p.names, p.players, sampled(400, 21, 2));
    REQUIRE(std::abs(sum(ex.first_purchases) - loop.buyers()) < 1e-9);
    REQUIRE(std::abs(sum(s.first_purchases) - loop.buyers()) < 1e-9);
    REQUIRE(std::abs(sum(s.repeat_purchases) - loop.repeat_purchases()) < 1e-9);
    REQUIRE(std::abs(sum(s.conversions) - loop.purchases()) < 1e-9);
    for (std::size_t i = 0; i < 6; ++i) {
        REQUIRE(std::abs(s.conversions[i] - ex.conversions[i]) <= 4 * s.conversions_se[i] + 1e-12);
        REQUIRE(std::abs(s.value[i] - ex.value[i]) <= 4 * s.value_se[i] + 1e-12);
        REQUIRE(std::abs(s.first_purchases[i] - ex.first_purchases[i]) <=
                4 * s.first_purchases_se[i] + 1e-12);
        REQUIRE(std::abs(s.repeat_purchases[i] - ex.repeat_purchases[i]) <=
                4 * s.repeat_purchases_se[i] + 1e-12);
    }
    // The loop's purchases game is the one shapley_attribution() plays.
    const auto old = shapley_attribution(loop, p.names, p.players);
    for (std::size_t i = 0; i < 6; ++i)
        REQUIRE(std::abs(ex.conversions[i] - old.conversions()[i]) < 1e-10);
}
