// Exact chain quantities beyond the conversion rate, worked by hand on the
// abc example (see fixtures.hpp), and the solver on large components.
#include "fixtures.hpp"

#include <journeyloop/impl/chain/rows.hpp>
#include <journeyloop/impl/chain_solver.hpp>
#include <journeyloop/impl/model_access.hpp>

#include <algorithm>
#include <thread>

#include <Eigen/SparseLU>

#include <functional>
#include <map>
#include <random>

using namespace journeyloop;
using Catch::Contains;

namespace {
state_id state_of(const transition_counts& c, const std::string& label) {
    for (state_id s = 0; s < c.num_states(); ++s)
        if (c.state_label(s) == label) return s;
    FAIL("no state " << label);
    return 0;
}
} // namespace

TEST_CASE("markov_model: conversion probabilities, visits and touches by hand", "[markov_model]") {
    const auto model = fit_markov(count_transitions(fixtures::abc_example()));
    const auto& c = model.counts();
    const auto x = model.conversion_probabilities();
    REQUIRE(x[transition_counts::start] == Approx(0.5).epsilon(1e-12).margin(1e-12));
    REQUIRE(x[transition_counts::conversion] == 1.0);
    REQUIRE(x[transition_counts::null] == 0.0);
    REQUIRE(x[state_of(c, "a")] == Approx(5.0 / 8).epsilon(1e-12).margin(1e-12));
    REQUIRE(x[state_of(c, "b")] == Approx(1.0 / 4).epsilon(1e-12).margin(1e-12));
    REQUIRE(x[state_of(c, "c")] == Approx(1.0).epsilon(1e-12).margin(1e-12));
    const auto v = model.expected_visits();
    REQUIRE(v[transition_counts::start] == Approx(1.0).epsilon(1e-12).margin(1e-12));
    REQUIRE(v[state_of(c, "a")] == Approx(2.0 / 3).epsilon(1e-12).margin(1e-12));
    REQUIRE(v[state_of(c, "b")] == Approx(2.0 / 3).epsilon(1e-12).margin(1e-12));
    REQUIRE(v[state_of(c, "c")] == Approx(1.0 / 3).epsilon(1e-12).margin(1e-12));
    REQUIRE(v[transition_counts::conversion] == Approx(0.5).epsilon(1e-12).margin(1e-12));
    // 10 touches over 6 journeys
    REQUIRE(model.expected_touches() == Approx(5.0 / 3).epsilon(1e-12).margin(1e-12));
    // converting walks: a b (1/12, 2 touches), a c (1/3, 2), b (1/12, 1): (11/12) / (1/2)
    REQUIRE(model.expected_touches_converting() == Approx(11.0 / 6).epsilon(1e-12).margin(1e-12));
}

TEST_CASE("markov_model: state removal equals channel removal at order 1", "[markov_model]") {
    const auto model = fit_markov(count_transitions(fixtures::abc_example()));
    const auto b = state_of(model.counts(), "b");
    REQUIRE(state_removal_effect(model, b).conversions ==
            Approx(1.0 / 3).epsilon(1e-12).margin(1e-12));
    REQUIRE(state_removal_effect(model, b).value == Approx(1.0 / 4).epsilon(1e-12).margin(1e-12));
    REQUIRE_THROWS_AS(state_removal_effect(model, transition_counts::start), invalid_input);
    REQUIRE_THROWS_AS(group_removal_effect(model, {7}), unknown_channel);
}

TEST_CASE("markov_model: removing a sequence at order 2", "[markov_model]") {
    // "a > b > c" converts, "a > c" does not: removing the state (a, b)
    // removes every conversion, removing (a, c) none.
    std::vector<std::string_view> paths{"a > b > c", "a > c"};
    std::vector<double> conv{1, 0}, nulls{0, 1};
    const auto model = fit_markov(count_transitions(build_journeys({paths, conv, nulls, {}}), {2}));
    const auto& c = model.counts();
    REQUIRE(state_removal_effect(model, state_of(c, "a > b")).conversions ==
            Approx(1.0).epsilon(1e-12));
    REQUIRE(state_removal_effect(model, state_of(c, "a > c")).conversions ==
            Approx(0.0).epsilon(1e-12));
    // removing channel b removes (a, b) and (b, c)
    REQUIRE(group_removal_effect(model, {c.channels().at("b")}).conversions ==
            Approx(1.0).epsilon(1e-12));
}

TEST_CASE("markov_model: sequence attribution by hand at order 2", "[markov_model]") {
    // "a > b > c" (value 10) converts, "a > c" and "b > c" do not. START goes
    // to (a, b), (a, c) and (b, c) with 1/3 each; (a, b) goes on to (b, c),
    // which converts half the time: p = 1/3 (1/2) + 1/3 (1/2) = 1/3.
    // Without (a, b): p = 1/6, RE 1/2. Without (b, c): p = 0, RE 1. Without
    // (a, c): RE 0. Attribution: 1/3, 0, 2/3 of the one conversion.
    std::vector<std::string_view> paths{"a > b > c", "a > c", "b > c"};
    std::vector<double> conv{1, 0, 0}, nulls{0, 1, 1}, value{10, 0, 0};
    const auto model =
        fit_markov(count_transitions(build_journeys({paths, conv, nulls, value}), {2}));
    const auto& c = model.counts();
    const std::vector<state_id> states{state_of(c, "a > b"), state_of(c, "a > c"),
                                       state_of(c, "b > c")};
    const auto effects = state_removal_effects(model, states);
    REQUIRE(effects.size() == 3);
    REQUIRE(model.conversion_rate() == Approx(1.0 / 3).epsilon(1e-12).margin(1e-12));
    REQUIRE(effects[0].conversions == Approx(0.5).epsilon(1e-12).margin(1e-12));
    REQUIRE(effects[1].conversions == Approx(0.0).epsilon(1e-12).margin(1e-12));
    REQUIRE(effects[2].conversions == Approx(1.0).epsilon(1e-12).margin(1e-12));
    const auto a = state_markov_attribution(model, states);
    REQUIRE(a.names() == std::vector<std::string>{"a > b", "a > c", "b > c"});
    REQUIRE(a.conversions()[0] == Approx(1.0 / 3).epsilon(1e-12).margin(1e-12));
    REQUIRE(a.conversions()[1] == Approx(0.0).epsilon(1e-12).margin(1e-12));
    REQUIRE(a.conversions()[2] == Approx(2.0 / 3).epsilon(1e-12).margin(1e-12));
    // One converting end state: the value shares are the same.
    REQUIRE(a.value()[0] == Approx(10.0 / 3).epsilon(1e-12).margin(1e-12));
    REQUIRE(a.value()[1] == Approx(0.0).epsilon(1e-12).margin(1e-12));
    REQUIRE(a.value()[2] == Approx(20.0 / 3).epsilon(1e-12).margin(1e-12));
    // Checked before any work: START is no sequence.
    REQUIRE_THROWS_AS(state_removal_effects(model, {states[0], transition_counts::start}),
                      invalid_input);
}

TEST_CASE("markov_model: additive smoothing", "[markov_model]") {
    const auto counts = count_transitions(fixtures::abc_example());
    REQUIRE_THROWS_WITH(fit_markov(counts, {-1.0}), Contains("smoothing must be"));
    const auto model = fit_markov(counts, {1.0});
    const auto& P = model.transitions();
    const auto a = state_of(counts, "a"), b = state_of(counts, "b"), c = state_of(counts, "c");
    // START: a 4+1, b 2+1, c 0+1, CONVERSION 0+1, NULL 0+1 over 6 + 5
    REQUIRE(P.coeff(transition_counts::start, a) == Approx(5.0 / 11).epsilon(1e-12));
    REQUIRE(P.coeff(transition_counts::start, c) == Approx(1.0 / 11).epsilon(1e-12));
    REQUIRE(P.coeff(transition_counts::start, transition_counts::conversion) ==
            Approx(1.0 / 11).epsilon(1e-12));
    // b (no self-loop when collapsing): CONVERSION 1+1, NULL 3+1, a 0+1, c 0+1 over 4 + 4
    REQUIRE(P.coeff(b, transition_counts::conversion) == Approx(2.0 / 8).epsilon(1e-12));
    REQUIRE(P.coeff(b, b) == 0.0);
    REQUIRE(P.coeff(b, a) == Approx(1.0 / 8).epsilon(1e-12));
    double row_sum = 0;
    for (transition_matrix::InnerIterator it(P, c); it; ++it) row_sum += it.value();
    REQUIRE(row_sum == Approx(1.0).epsilon(1e-12));
}

TEST_CASE("markov_model: smoothing at order 2, and a smoothing too large to add",
          "[markov_model]") {
    // START -> ab -> bc -> CONVERSION; START -> bc -> ca -> NULL; START -> ab -> NULL.
    std::vector<std::string_view> paths{"a > b > c", "b > c > a", "a > b"};
    std::vector<double> conv{1, 0, 0}, nulls{0, 1, 1};
    counting_options o;
    o.order = 2;
    const auto counts = count_transitions(build_journeys({paths, conv, nulls, {}}), o);
    const auto ab = state_of(counts, "a > b"), bc = state_of(counts, "b > c"),
               ca = state_of(counts, "c > a");
    constexpr auto start = transition_counts::start, conversion = transition_counts::conversion,
                   null = transition_counts::null;
    const auto model = fit_markov(counts, {1.0});
    const auto& P = model.transitions();
    // START may go to every state: ab 2+1, bc 1+1, ca 0+1, CONVERSION 0+1, NULL 0+1 over 3 + 5.
    REQUIRE(P.coeff(start, ab) == Approx(3.0 / 8).epsilon(1e-12).margin(1e-15));
    REQUIRE(P.coeff(start, ca) == Approx(1.0 / 8).epsilon(1e-12).margin(1e-15));
    REQUIRE(P.coeff(start, conversion) == Approx(1.0 / 8).epsilon(1e-12).margin(1e-15));
    // ab continues with the states that begin with b: bc 1+1, NULL 1+1, CONVERSION 0+1 over 2 + 3.
    REQUIRE(P.coeff(ab, bc) == Approx(2.0 / 5).epsilon(1e-12).margin(1e-15));
    REQUIRE(P.coeff(ab, null) == Approx(2.0 / 5).epsilon(1e-12).margin(1e-15));
    REQUIRE(P.coeff(ab, conversion) == Approx(1.0 / 5).epsilon(1e-12).margin(1e-15));
    REQUIRE(P.coeff(ab, ca) == 0.0); // ca does not begin with b
    // ca was never followed by ab, but could be: NULL 1+1, ab 0+1, CONVERSION 0+1 over 1 + 3.
    REQUIRE(P.coeff(ca, null) == Approx(1.0 / 2).epsilon(1e-12).margin(1e-15));
    REQUIRE(P.coeff(ca, ab) == Approx(1.0 / 4).epsilon(1e-12).margin(1e-15));
    REQUIRE(P.coeff(ca, bc) == 0.0);
    REQUIRE(P.coeff(bc, ca) == Approx(2.0 / 5).epsilon(1e-12).margin(1e-15));
    // A smoothing so large that alpha times the targets overflows: every
    // row is uniform over its targets, and the rate stays a probability.
    const auto huge = fit_markov(counts, {1e308});
    REQUIRE(huge.transitions().coeff(start, ab) == Approx(1.0 / 5).epsilon(1e-12).margin(1e-15));
    REQUIRE(huge.transitions().coeff(ca, ab) == Approx(1.0 / 3).epsilon(1e-12).margin(1e-15));
    // Uniform rows: START goes to ab, bc, ca, CONVERSION, NULL with 1/5 each; every state to
    // its successor, CONVERSION and NULL with 1/3 each. From each state x = 1/3 + x/3, so
    // x = 1/2, and from START 1/5 + 3/5 * 1/2 = 1/2.
    REQUIRE(huge.conversion_rate() == Approx(1.0 / 2).epsilon(1e-12));
    // Removing a channel removes the two states holding it: from START only CONVERSION (1/5)
    // and the remaining state (1/5, then 1/3 to CONVERSION) are left, 4/15 in all; the removal
    // effect is 1 - (4/15) / (1/2) = 7/15 for each of the three channels.
    const auto effects = removal_effects(huge);
    REQUIRE(effects.size() == 3);
    for (const auto& e : effects) REQUIRE(e.conversions == Approx(7.0 / 15).epsilon(1e-12));
}

TEST_CASE("markov_model: weights that add up to more than a double are an error",
          "[markov_model]") {
    std::vector<std::string_view> paths{"a", "a"};
    std::vector<double> conv{1e308, 1e308}, nulls{0, 0};
    // A column whose total overflows is refused when the journeys are built.
    REQUIRE_THROWS_WITH(build_journeys({paths, conv, nulls, {}}),
                        Contains("row 1, column 'conversions': the column's total passes"));
    // Each column's total is finite, but a row's weight (conversions and
    // nulls) is not: the fit refuses it.
    std::vector<std::string_view> one_path{"a"};
    std::vector<double> c1{1e308}, n1{1e308};
    const auto counts = count_transitions(build_journeys({one_path, c1, n1, {}}));
    REQUIRE_THROWS_WITH(fit_markov(counts), Contains("state 'START'"));
    REQUIRE_THROWS_WITH(fit_markov(counts), Contains("more than a double holds"));
    // Nor can such counts be saved: a file holds finite numbers only.
    REQUIRE_THROWS_WITH(to_bytes(counts), Contains("cannot write an infinite number"));
    // A tiny number of conversions with a large value: the mean overflows.
    std::vector<double> tiny{1e-300, 1}, one{1, 1}, value{1e10, 5};
    std::vector<std::string_view> two{"a > b", "c"};
    const auto mean = count_transitions(build_journeys({two, tiny, one, value}, {}));
    REQUIRE_THROWS_WITH(fit_markov(mean), Contains("state 'b'"));
}

TEST_CASE("markov_model: transitions() built on demand, once, from several threads",
          "[markov_model]") {
    counting_options o;
    o.order = 2;
    const auto counts = count_transitions(fixtures::abc_example(), o);
    const auto model = fit_markov(counts, {0.5});
    std::vector<const transition_matrix*> seen(4, nullptr);
    {
        std::vector<std::thread> threads;
        for (std::size_t i = 0; i < seen.size(); ++i)
            threads.emplace_back([&model, &seen, i] { seen[i] = &model.transitions(); });
        for (auto& t : threads) t.join();
    }
    for (const auto* p : seen) REQUIRE(p == seen[0]);
    const auto& P = *seen[0];
    REQUIRE(static_cast<std::size_t>(P.rows()) == counts.num_states());
    // The matrix is the one the solver used: x = P x on every transient row,
    // with x(CONVERSION) = 1 and x(NULL) = 0, and every row sums to 1.
    const auto x = model.conversion_probabilities();
    for (long s = 0; s < P.outerSize(); ++s) {
        if (s == transition_counts::conversion || s == transition_counts::null) {
            REQUIRE(P.row(s).nonZeros() == 0);
            continue;
        }
        double px = 0, sum = 0;
        for (transition_matrix::InnerIterator it(P, s); it; ++it) {
            px += it.value() * x[it.col()];
            sum += it.value();
        }
        REQUIRE(px == Approx(x[s]).epsilon(1e-12).margin(1e-13));
        REQUIRE(sum == Approx(1.0).epsilon(1e-12).margin(1e-13));
    }
}

TEST_CASE("count_transitions: padded start states", "[transition_counts]") {
    counting_options o;
    o.order = 2;
    o.padded = true;
    const auto c = count_transitions(fixtures::abc_example(), o);
    REQUIRE(c.padded());
    REQUIRE(c.num_states() == 3 + 4);
    REQUIRE(c.state_label(3) == "(start) > a");
    REQUIRE(c.state_label(4) == "a > b");
    REQUIRE(c.state_label(5) == "(start) > b");
    const auto model = fit_markov(c);
    REQUIRE(model.conversion_rate() == Approx(0.5).epsilon(1e-12).margin(1e-12));
}

TEST_CASE("solver: large components by Gauss-Seidel agree with sparse LU", "[markov_model]") {
    // 60 channels at order 2: one strongly connected component of thousands
    // of states, above the dense limit.
    std::mt19937 rng(7);
    std::vector<std::string> names;
    for (int i = 0; i < 60; ++i) names.push_back("ch" + std::to_string(i));
    std::vector<std::string> paths;
    std::vector<double> conv, nulls;
    std::uniform_int_distribution<int> channel(0, 59), length(1, 12), count(0, 3);
    for (int row = 0; row < 20000; ++row) {
        std::string p;
        for (int i = length(rng); i > 0; --i) p += (p.empty() ? "" : ">") + names[channel(rng)];
        paths.push_back(p);
        conv.push_back(count(rng));
        nulls.push_back(1 + count(rng));
    }
    const std::vector<std::string_view> views(paths.begin(), paths.end());
    const auto js = build_journeys({views, conv, nulls, {}});
    counting_options co{2};
    // With repeats kept, states such as (ch1, ch1) have self-loops, which
    // the chain keeps apart from its other edges.
    co.collapse_repeats = GENERATE(true, false);
    CAPTURE(co.collapse_repeats);
    const auto model = fit_markov(count_transitions(js, co));
    const auto loops = journey_loops(model);
    REQUIRE(!loops.empty());
    REQUIRE(loops[0].size() > 1500);
    // The large component's rows are in the greedy order of its states
    // (greedy_sequence over its edges, the states numbered as the counts
    // number them).
    {
        const auto& chain = detail::chain_of(model);
        std::size_t begin = 0, size = 0, first = 0;
        for (const auto end : chain.component_end) {
            if (end - begin > size) {
                size = end - begin;
                first = begin;
            }
            begin = end;
        }
        REQUIRE(size == loops[0].size());
        std::vector<std::uint32_t> state_at(chain.n); // transient index of each row
        for (std::uint32_t t = 0; t < chain.n; ++t) state_at[chain.row_of[t]] = t;
        std::vector<std::uint32_t> members; // by transient index
        for (std::uint32_t t = 0; t < chain.n; ++t)
            if (chain.row_of[t] >= first && chain.row_of[t] < first + size) members.push_back(t);
        std::map<std::uint32_t, std::uint32_t> local;
        for (std::uint32_t i = 0; i < members.size(); ++i) local[members[i]] = i;
        // Each state's edges in the component, by the transient index they go to.
        std::vector<std::tuple<std::uint32_t, std::uint32_t, double>> list;
        for (std::uint32_t i = 0; i < size; ++i) {
            const auto u = chain.row_of[members[i]];
            std::vector<std::pair<std::uint32_t, double>> out;
            for (auto e = chain.ptr[u]; e < chain.ptr[u + 1]; ++e)
                if (chain.idx[e] >= first) out.emplace_back(state_at[chain.idx[e]], chain.val[e]);
            std::sort(out.begin(), out.end());
            for (const auto& [t, w] : out) list.emplace_back(i, local[t], w);
        }
        const auto g = fixtures::edges_of(size, list);
        const auto order = detail::greedy_sequence(g);
        REQUIRE(order.size() == size);
        for (std::size_t p = 0; p < size; ++p)
            REQUIRE(chain.row_of[members[order[p]]] == first + p);
    }
    // The chain reproduces the observed conversion rate.
    REQUIRE(model.conversion_rate() ==
            Approx(js.total_conversions() / (js.total_conversions() + js.total_nulls()))
                .epsilon(1e-12)
                .margin(1e-12));
    // A removal against a direct sparse LU solve of the reduced system.
    const channel_id removed = 3;
    const auto& counts = model.counts();
    const auto& P = model.transitions();
    std::vector<long> index(counts.num_states(), -1);
    long n = 0;
    for (state_id s = 0; s < counts.num_states(); ++s)
        if (s == transition_counts::start ||
            (s >= transition_counts::first_channel_state && !counts.state_contains(s, removed)))
            index[s] = n++;
    std::vector<Eigen::Triplet<double>> t;
    Eigen::VectorXd r = Eigen::VectorXd::Zero(n);
    for (state_id s = 0; s < counts.num_states(); ++s) {
        if (index[s] < 0) continue;
        t.emplace_back(index[s], index[s], 1.0);
        for (transition_matrix::InnerIterator it(P, s); it; ++it) {
            if (it.col() == transition_counts::conversion) r[index[s]] += it.value();
            else if (index[it.col()] >= 0) t.emplace_back(index[s], index[it.col()], -it.value());
        }
    }
    Eigen::SparseMatrix<double> A(n, n);
    A.setFromTriplets(t.begin(), t.end());
    Eigen::SparseLU<Eigen::SparseMatrix<double>> lu(A);
    REQUIRE(lu.info() == Eigen::Success);
    const Eigen::VectorXd x = lu.solve(r);
    const double expected = 1.0 - x[0] / model.conversion_rate();
    REQUIRE(group_removal_effect(model, {removed}).conversions ==
            Approx(expected).epsilon(1e-12).margin(1e-12));
    // The full solution against the full system: conversion probabilities
    // (I - Q) x = r and expected visits (I - Q)^T v = e_START.
    {
        std::vector<Eigen::Triplet<double>> full;
        const long m = long(counts.num_states());
        Eigen::VectorXd to_conversion = Eigen::VectorXd::Zero(m),
                        from_start = Eigen::VectorXd::Zero(m);
        from_start[transition_counts::start] = 1.0;
        for (long s = 0; s < m; ++s) {
            full.emplace_back(s, s, 1.0);
            if (s == transition_counts::conversion || s == transition_counts::null) continue;
            for (transition_matrix::InnerIterator it(P, s); it; ++it) {
                if (it.col() == transition_counts::conversion) to_conversion[s] += it.value();
                else if (it.col() != transition_counts::null)
                    full.emplace_back(s, it.col(), -it.value());
            }
        }
        Eigen::SparseMatrix<double> I_Q(m, m);
        I_Q.setFromTriplets(full.begin(), full.end());
        Eigen::SparseLU<Eigen::SparseMatrix<double>> f(I_Q);
        REQUIRE(f.info() == Eigen::Success);
        const Eigen::VectorXd all_x = f.solve(to_conversion);
        const Eigen::SparseMatrix<double> transposed = I_Q.transpose();
        Eigen::SparseLU<Eigen::SparseMatrix<double>> ft(transposed);
        REQUIRE(ft.info() == Eigen::Success);
        const Eigen::VectorXd all_visits = ft.solve(from_start);
        const auto probabilities = model.conversion_probabilities();
        const auto visits = model.expected_visits();
        for (long s = transition_counts::first_channel_state; s < m; ++s) {
            CAPTURE(counts.state_label(state_id(s)));
            REQUIRE(probabilities[s] == Approx(all_x[s]).epsilon(1e-12).margin(1e-12));
            REQUIRE(visits[s] == Approx(all_visits[s]).epsilon(1e-12).margin(1e-12));
        }
        REQUIRE(model.conversion_rate() == Approx(all_x[0]).epsilon(1e-12).margin(1e-12));
    }
    // All channels at once (batched sweeps) agree with one removal at a time.
    REQUIRE(model.counts().num_states() > 256 + 2);
    REQUIRE(model.counts().num_states() <= 50000 + 2);
    const auto all = removal_effects(model);
    for (channel_id c = 0; c < 60; c += 7) {
        CAPTURE(c);
        const auto one = group_removal_effect(model, {c});
        REQUIRE(all[c].conversions == Approx(one.conversions).epsilon(1e-12).margin(1e-12));
        REQUIRE(all[c].value == Approx(one.value).epsilon(1e-12).margin(1e-12));
    }
    // Sequences: batched state removals agree with one at a time, and report
    // their steps (batches of eight).
    std::vector<state_id> states;
    for (state_id st = transition_counts::first_channel_state; st < counts.num_states(); st += 97)
        states.push_back(st);
    REQUIRE(states.size() > 16);
    std::size_t steps = 0, total = 0;
    const auto batched =
        state_removal_effects(model, states, [&](std::size_t done, std::size_t of) {
            steps = done;
            total = of;
        });
    REQUIRE(total == (states.size() + 7) / 8);
    REQUIRE(steps == total);
    for (std::size_t i = 0; i < states.size(); i += 5) {
        CAPTURE(counts.state_label(states[i]));
        const auto one = state_removal_effect(model, states[i]);
        REQUIRE(batched[i].conversions == Approx(one.conversions).epsilon(1e-12).margin(1e-12));
        REQUIRE(batched[i].value == Approx(one.value).epsilon(1e-12).margin(1e-12));
    }
}

TEST_CASE("chain: states are stored in the finishing order of a search, heavier successors first",
          "[markov_model]") {
    // START -> x; x -> y (8), x -> z (4); y -> x (6), z -> x (3): one
    // component {x, y, z}. The search from START goes x, then y (heavier),
    // which finishes first (its successor x is on the path), then z, then x.
    std::vector<std::string_view> paths{"x > y > x", "x > z > x", "x > y", "x > z"};
    std::vector<double> conv{0, 0, 2, 1}, nulls{6, 3, 0, 0};
    const auto model = fit_markov(count_transitions(build_journeys({paths, conv, nulls, {}})));
    const auto& c = model.counts();
    const auto& chain = detail::chain_of(model);
    auto row = [&](const std::string& label) { return chain.row_of[state_of(c, label) - 2]; };
    REQUIRE(row("y") < row("z"));
    REQUIRE(row("z") < row("x"));
    REQUIRE(row("x") < chain.row_of[0]); // START: a component of its own, after
    // Every edge goes to a row of an equal or lower component, the order
    // every solve relies on.
    auto component = [&chain](std::size_t u) {
        return std::size_t(
            std::upper_bound(chain.component_end.begin(), chain.component_end.end(), u) -
            chain.component_end.begin());
    };
    for (std::size_t u = 0; u < chain.n; ++u)
        for (auto e = chain.ptr[u]; e < chain.ptr[u + 1]; ++e)
            REQUIRE(component(chain.idx[e]) <= component(u));
    // Lighter weights the other way round: z is searched first.
    std::vector<double> nulls2{0, 0, 6, 3}, conv2{1, 1, 0, 0};
    std::vector<std::string_view> paths2{"x > y > x", "x > z > x", "x > z > x", "x > z"};
    const auto other = fit_markov(count_transitions(build_journeys({paths2, conv2, nulls2, {}})));
    const auto row2 = [&](const std::string& label) {
        return detail::chain_of(other).row_of[state_of(other.counts(), label) - 2];
    };
    REQUIRE(row2("z") < row2("y"));
    REQUIRE(row2("y") < row2("x"));
}

namespace {
// 60 channels at order 2 (one component of thousands of states): the rows
// weighted by `weight(row)`, each row's paths kept even at weight 0 so that
// every set names its channels in the same order.
journey_set weighted_journeys(const std::function<double(int)>& weight,
                              const std::string& extra = "") {
    std::mt19937 rng(11);
    std::vector<std::string> names;
    for (int i = 0; i < 60; ++i) names.push_back("ch" + std::to_string(i));
    std::vector<std::string> paths;
    std::vector<double> conv, nulls;
    std::uniform_int_distribution<int> channel(0, 59), length(1, 10), count(0, 3);
    for (int row = 0; row < 8000; ++row) {
        std::string p;
        for (int i = length(rng); i > 0; --i) p += (p.empty() ? "" : ">") + names[channel(rng)];
        const double w = weight(row);
        paths.push_back(p);
        conv.push_back(w * count(rng));
        nulls.push_back(w * (1 + count(rng)));
    }
    if (!extra.empty()) {
        paths.push_back(extra);
        conv.push_back(1);
        nulls.push_back(2);
    }
    const std::vector<std::string_view> views(paths.begin(), paths.end());
    return build_journeys({views, conv, nulls, {}});
}

// The largest difference of a and b relative to b (within an absolute
// 1e-13 of 0).
double worst(double a, double b, double worst_so_far) {
    return std::max(worst_so_far, std::abs(a - b) / std::max(std::abs(b), 1e-2));
}

void require_same_model(const markov_model& a, const markov_model& b, bool removals = true) {
    REQUIRE(a.counts().num_states() == b.counts().num_states());
    const auto xa = a.conversion_probabilities(), xb = b.conversion_probabilities();
    const auto va = a.expected_visits(), vb = b.expected_visits();
    double x = 0, v = 0;
    for (state_id s = 0; s < a.counts().num_states(); ++s) {
        x = worst(xa[s], xb[s], x);
        v = worst(va[s], vb[s], v);
    }
    REQUIRE(x < 1e-11);
    REQUIRE(v < 1e-11);
    REQUIRE(a.value_per_journey() == Approx(b.value_per_journey()).epsilon(1e-11));
    if (!removals) return;
    const auto ra = removal_effects(a), rb = removal_effects(b);
    REQUIRE(ra.size() == rb.size());
    double re = 0;
    for (std::size_t c = 0; c < ra.size(); ++c) {
        re = std::max(re, std::abs(ra[c].conversions - rb[c].conversions) /
                              std::max(std::abs(rb[c].conversions), 1e-4));
        re = std::max(re,
                      std::abs(ra[c].value - rb[c].value) / std::max(std::abs(rb[c].value), 1e-4));
    }
    REQUIRE(re < 1e-9);
}
} // namespace

TEST_CASE("refit_markov: new weights on the fitted chain's structure", "[markov_model]") {
    counting_options co{2};
    co.collapse_repeats = GENERATE(true, false);
    CAPTURE(co.collapse_repeats);
    const auto fitted =
        fit_markov(count_transitions(weighted_journeys([](int) { return 1.0; }), co));
    const auto& layout = detail::chain_of(fitted);
    REQUIRE(layout.component_end.size() < layout.n); // a large component
    SECTION("the same states, new weights: the layout is reused") {
        auto counts =
            count_transitions(weighted_journeys([](int row) { return 1.0 + row % 5; }), co);
        REQUIRE(counts.num_states() == fitted.counts().num_states());
        const auto refitted = refit_markov(fitted, counts);
        const auto& chain = detail::chain_of(refitted);
        REQUIRE(chain.row_of == layout.row_of);
        REQUIRE(chain.component_end == layout.component_end);
        REQUIRE(chain.live_begin == layout.live_begin);
        require_same_model(refitted, fit_markov(counts));
        REQUIRE(refitted.conversion_rate() != Approx(fitted.conversion_rate()).epsilon(1e-6));
    }
    SECTION("some states left out (rows of weight 0): the layout without their rows") {
        auto counts = count_transitions(
            weighted_journeys([](int row) { return row % 3 == 0 ? 0.0 : 2.0; }), co);
        REQUIRE(counts.num_states() < fitted.counts().num_states());
        const auto refitted = refit_markov(fitted, counts);
        const auto& chain = detail::chain_of(refitted);
        REQUIRE(chain.n == counts.num_states() - 2);
        // The rows keep their relative order: sorted by their old row, the
        // states have ascending new rows.
        std::map<std::string, state_id> fitted_state;
        for (state_id f = 0; f < fitted.counts().num_states(); ++f)
            fitted_state[fitted.counts().state_label(f)] = f;
        std::vector<std::pair<std::uint32_t, std::uint32_t>> rows; // (old row, new row)
        for (state_id s = 0; s < counts.num_states(); ++s) {
            if (s == transition_counts::conversion || s == transition_counts::null) continue;
            const auto f = fitted_state.at(counts.state_label(s));
            const auto t = s == 0 ? 0u : s - 2, ft = f == 0 ? 0u : f - 2;
            rows.emplace_back(layout.row_of[ft], chain.row_of[t]);
        }
        std::sort(rows.begin(), rows.end());
        std::size_t out_of_order = 0;
        for (std::size_t i = 0; i < rows.size(); ++i) out_of_order += rows[i].second != i ? 1 : 0;
        REQUIRE(out_of_order == 0);
        require_same_model(refitted, fit_markov(counts));
    }
    SECTION("counts that do not fit the structure are fitted from scratch") {
        // Other channels (a path of a channel the fit never saw).
        const auto other =
            count_transitions(weighted_journeys([](int) { return 1.0; }, "ch1>new>ch2"), co);
        require_same_model(refit_markov(fitted, other), fit_markov(other), false);
        // New transitions between the fitted states.
        const auto more = count_transitions(
            weighted_journeys([](int) { return 1.0; }, "ch0>ch1>ch2>ch3>ch4>ch5>ch6>ch7>ch8"), co);
        REQUIRE(more.num_transitions() > fitted.counts().num_transitions());
        require_same_model(refit_markov(fitted, more), fit_markov(more), false);
        // Another order.
        counting_options o1{1};
        o1.collapse_repeats = co.collapse_repeats;
        const auto third = count_transitions(weighted_journeys([](int) { return 1.0; }), o1);
        require_same_model(refit_markov(fitted, third), fit_markov(third), false);
    }
}
