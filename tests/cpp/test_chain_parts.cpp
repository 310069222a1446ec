// The solver's parts (src/chain/) on their own: a component solve in its
// workspace, and batches of removals in one reused batch workspace.
#include "fixtures.hpp"

#include <journeyloop/impl/chain/batch.hpp>
#include <journeyloop/impl/chain/component.hpp>
#include <journeyloop/impl/chain/rows.hpp>
#include <journeyloop/impl/chain_solver.hpp>
#include <journeyloop/impl/model_access.hpp>

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <tuple>

using namespace journeyloop;
using namespace journeyloop::detail;

TEST_CASE("solve_block: a two-state component by hand, the workspace left clean", "[solver]") {
    // Rows 0 and 1, one component:
    //   y0 = 0.5 + 0.25 y1,  y1 = 0.2 + 0.5 y0 + 0.1 y1 (a self-loop stored apart)
    // so y1 = (0.2 + 0.5 y0) / 0.9 and y0 = 0.5 + 0.25 (0.2 + 0.5 y0) / 0.9:
    // y0 (1 - 0.125 / 0.9) = 0.5 + 0.05 / 0.9, y0 = 0.5 / 0.775 = 20/31, y1 = 18/31.
    const std::vector<std::size_t> ptr{0, 1, 2};
    const std::vector<std::uint32_t> idx{1, 0};
    const std::vector<double> val{0.25, 0.5};
    const std::vector<double> diag{0.0, 0.1};
    const std::vector<double> b{0.5, 0.2, 1.0, 0.0}; // two right-hand sides: k_stride 2
    std::vector<double> y0(2, 0.0), y1(2, 0.0);
    double* ys[2] = {y0.data(), y1.data()};
    const std::vector<char> none(2, 0);
    const block_system sys{
        {ptr.data(), idx.data(), val.data(), diag.data()}, none, ys, 2, b.data(), 1, 2};
    component_workspace ws(2);
    solve_component(sys, 0, 2, ws);
    CHECK(std::abs(y0[0] - 20.0 / 31) < 1e-15);
    CHECK(std::abs(y0[1] - 18.0 / 31) < 1e-15);
    // Second side: y0 = 1 + 0.25 y1, y1 = 0.5 y0 / 0.9: y0 (1 - 0.125 / 0.9) = 1, y0 = 36/31.
    CHECK(std::abs(y1[0] - 36.0 / 31) < 1e-15);
    CHECK(std::abs(y1[1] - 20.0 / 31) < 1e-15);
    CHECK(std::all_of(ws.local.begin(), ws.local.end(), [](long l) { return l == -1; }));
    // Row 1 removed: row 0 alone, y0 = 0.5 (row 1 no longer feeds it).
    std::vector<double> z0(2, 0.0), z1(2, 0.0);
    double* zs[2] = {z0.data(), z1.data()};
    const std::vector<char> removed{0, 1};
    const block_system without{sys.a, removed, zs, 2, b.data(), 1, 2};
    solve_component(without, 0, 2, ws);
    CHECK(z0[0] == 0.5);
    CHECK(z1[0] == 1.0);
    CHECK(z0[1] == 0.0); // a removed row is not solved
}

TEST_CASE("solve_component: Gauss-Seidel on a copied block agrees with a dense solve", "[solver]") {
    // Rows 0..39 lie below the block (final values); the block is rows
    // 40..339, too large for the dense LU of small blocks. Its rows read rows
    // below, rows inside, themselves (a self-loop stored apart and one as an
    // edge), and removed rows, which must count as nothing.
    constexpr std::uint32_t below = 40, n = 340;
    fixtures::lcg next(11);
    std::vector<std::size_t> ptr{0};
    std::vector<std::uint32_t> idx;
    std::vector<double> val, diag(n, 0.0), b(2 * n, 0.0);
    std::vector<char> removed(n, 0);
    for (std::uint32_t u = below; u < n; ++u) removed[u] = u % 37 == 5;
    for (std::uint32_t u = 0; u < n; ++u) {
        b[u] = 0.01 * (1 + next() % 20); // first side: b[u]
        b[n + u] = 0.5 * (next() % 4);   // second side: b[n + u]
        if (u < below) {
            ptr.push_back(idx.size());
            continue;
        }
        std::vector<std::uint32_t> targets;
        const unsigned k = 1 + next() % 5;
        for (unsigned j = 0; j < k; ++j)
            targets.push_back(next() % 3 == 0 ? next() % below : below + next() % (n - below));
        if (u % 11 == 0) targets.push_back(u); // a self-loop as an edge
        std::sort(targets.begin(), targets.end());
        targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
        for (const auto v : targets) {
            idx.push_back(v);
            val.push_back(0.8 / static_cast<double>(targets.size() + 1));
        }
        if (u % 13 == 0) diag[u] = 0.05; // a self-loop stored apart
        ptr.push_back(idx.size());
    }
    std::vector<double> y0(n, 0.0), y1(n, 0.0);
    for (std::uint32_t u = 0; u < below; ++u) y0[u] = 0.1 * (u % 7), y1[u] = 0.3 * (u % 3);
    double* ys[2] = {y0.data(), y1.data()};
    const block_system sys{
        {ptr.data(), idx.data(), val.data(), diag.data()}, removed, ys, 2, b.data(), 1, n};
    component_workspace ws(n);
    // The dense system of the rows kept, both sides.
    std::vector<std::uint32_t> kept;
    for (std::uint32_t u = below; u < n; ++u)
        if (!removed[u]) kept.push_back(u);
    const auto m = static_cast<long>(kept.size());
    std::vector<long> at(n, -1);
    for (long i = 0; i < m; ++i) at[kept[i]] = i;
    Eigen::MatrixXd A = Eigen::MatrixXd::Identity(m, m), B(m, 2);
    for (long i = 0; i < m; ++i) {
        const auto u = kept[i];
        A(i, i) -= diag[u];
        B(i, 0) = b[u];
        B(i, 1) = b[n + u];
        for (auto e = ptr[u]; e < ptr[u + 1]; ++e) {
            const auto v = idx[e];
            if (removed[v]) continue;
            if (at[v] >= 0) A(i, at[v]) -= val[e];
            else B(i, 0) += val[e] * y0[v], B(i, 1) += val[e] * y1[v];
        }
    }
    const Eigen::MatrixXd X = A.partialPivLu().solve(B);
    for (const bool reverse : {false, true}) {
        std::fill(y0.begin() + below, y0.end(), 0.0);
        std::fill(y1.begin() + below, y1.end(), 0.0);
        solve_component(sys, below, n, ws, reverse);
        double err = 0;
        for (long i = 0; i < m; ++i)
            err = std::max({err, std::abs(y0[kept[i]] - X(i, 0)), std::abs(y1[kept[i]] - X(i, 1))});
        CHECK(err < 1e-13);
        // The solutions held are the block's span's (rows 40 to 339, both
        // sides); the rows below and the removed rows are untouched; the
        // workspace is clean.
        CHECK(ws.y.size() == 2 * (n - below));
        CHECK(ws.constant.size() == 2 * kept.size());
        for (std::uint32_t u = 0; u < below; ++u) CHECK(y0[u] == 0.1 * (u % 7));
        for (std::uint32_t u = below; u < n; ++u)
            if (removed[u]) CHECK((y0[u] == 0.0 && y1[u] == 0.0));
        CHECK(std::all_of(ws.local.begin(), ws.local.end(), [](long l) { return l == -1; }));
    }
}

namespace {

markov_model random_model(std::uint64_t seed, int rows, int channels, std::size_t order) {
    std::vector<std::string> paths;
    std::vector<double> conv, nulls, value;
    fixtures::lcg next(seed);
    for (int i = 0; i < rows; ++i) {
        std::string p;
        const unsigned len = 1 + next() % 7;
        for (unsigned j = 0; j < len; ++j)
            p += (j ? " > c" : "c") + std::to_string(next() % unsigned(channels));
        paths.push_back(p);
        conv.push_back(next() % 6 == 0 ? 1.0 : 0.0);
        nulls.push_back(conv.back() > 0 ? 0.0 : 1.0);
        value.push_back(conv.back() > 0 ? 3.0 + next() % 10 : 0.0);
    }
    const std::vector<std::string_view> views(paths.begin(), paths.end());
    counting_options co;
    co.order = order;
    return fit_markov(count_transitions(build_journeys({views, conv, nulls, value}), co));
}

} // namespace

TEST_CASE("solve_batch: batches in one reused workspace match single removals", "[solver]") {
    const auto model = random_model(7, 6000, 9, 2);
    const auto& c = chain_of(model);
    REQUIRE(c.n > 2 * many_batch);
    // Removals of one state each (rows of every kind: terminal ones too),
    // two batches and a part.
    std::vector<std::vector<std::uint32_t>> removed;
    for (std::uint32_t t = 1; t < c.n && removed.size() < 2 * many_batch + 3; t += 3)
        removed.push_back({t});
    removal_job job{c, {}, mapped_vector<double>(2 * c.live_begin), {0, 0}};
    for (std::size_t u = 0; u < c.n; ++u) {
        job.scale[0] = std::max(job.scale[0], std::abs(c.x[u]));
        job.scale[1] = std::max(job.scale[1], std::abs(c.x_value[u]));
    }
    for (const auto& r : removed) job.removed.push_back(&r);
    for (std::size_t v = 0; v < c.live_begin; ++v) {
        job.terminal_x[2 * v] = c.x[v];
        job.terminal_x[2 * v + 1] = c.x_value[v];
    }
    std::vector<double> both[2] = {std::vector<double>(removed.size()),
                                   std::vector<double>(removed.size())};
    std::vector<double> apart[2] = {std::vector<double>(removed.size()),
                                    std::vector<double>(removed.size())};
    batch_workspace ws(c); // one workspace for every batch, as a thread keeps it
    for (std::size_t first = 0; first < removed.size(); first += many_batch) {
        batch_request request;
        request.first = first;
        request.count = std::min(many_batch, removed.size() - first);
        request.out[0] = both[0].data() + first;
        request.out[1] = both[1].data() + first;
        REQUIRE(solve_batch<2>(job, request, ws) == 3u);
        for (std::size_t half = 0; half < 2; ++half) {
            request.first_half = half;
            request.out[0] = apart[half].data() + first;
            REQUIRE(solve_batch<1>(job, request, ws) == 1u);
        }
        // The workspace's marks are cleared after each batch.
        REQUIRE(std::all_of(ws.bits.begin(), ws.bits.end(), [](auto b) { return b == 0; }));
        REQUIRE(std::all_of(ws.terminal_bits.begin(), ws.terminal_bits.end(),
                            [](auto b) { return b == 0; }));
    }
    std::vector<char> mask(c.n, 0);
    for (std::size_t g = 0; g < removed.size(); ++g) {
        INFO("removal " << g);
        mask[removed[g][0]] = 1;
        const auto one = solve_without(c, mask);
        mask[removed[g][0]] = 0;
        // The halves solved together or apart: the same numbers, to the bit.
        CHECK(both[0][g] == apart[0][g]);
        CHECK(both[1][g] == apart[1][g]);
        CHECK(std::abs(both[0][g] - one.first) <= 1e-12 * std::max(1.0, one.first));
        CHECK(std::abs(both[1][g] - one.second) <= 1e-12 * std::max(1.0, one.second));
    }
}

namespace {

// The weight on edges to states later in `order` (read stale by Gauss-Seidel),
// as a share of all.
double stale_share(const local_edges& g, const std::vector<std::uint32_t>& order) {
    std::vector<std::size_t> position(order.size());
    for (std::size_t p = 0; p < order.size(); ++p) position[order[p]] = p;
    double stale = 0, all = 0;
    for (std::uint32_t u = 0; u + 1 < g.out.ptr.size(); ++u)
        for (auto e = g.out.ptr[u]; e < g.out.ptr[u + 1]; ++e) {
            all += g.out.val[e];
            if (position[g.out.idx[e]] > position[u]) stale += g.out.val[e];
        }
    return stale / all;
}

} // namespace

TEST_CASE("greedy_sequence: a cycle is cut at its lightest edge", "[solver]") {
    // a reads b (0.5), b reads c (0.4), c reads a (0.1): c first, then b,
    // then a; only c's read of a is stale.
    const auto g = fixtures::edges_of(3, {{0, 1, 0.5}, {1, 2, 0.4}, {2, 0, 0.1}});
    REQUIRE(greedy_sequence(g) == std::vector<std::uint32_t>{2, 1, 0});
    REQUIRE(stale_share(g, greedy_sequence(g)) == Approx(0.1));
}

TEST_CASE("greedy_sequence: a planted order is found again", "[solver]") {
    // 3,000 states in a hidden order: each reads two states before it (0.3
    // each) and one after it (0.05), so that the hidden order reads 0.05 of
    // every 0.65 stale, and the states' numbers (a random order) about half.
    const std::uint32_t n = 3000;
    std::mt19937 rng(5);
    std::vector<std::uint32_t> hidden(n);
    std::iota(hidden.begin(), hidden.end(), 0u);
    std::shuffle(hidden.begin(), hidden.end(), rng);
    std::vector<std::tuple<std::uint32_t, std::uint32_t, double>> list;
    for (std::uint32_t p = 1; p + 1 < n; ++p) {
        std::uniform_int_distribution<std::uint32_t> before(0, p - 1), after(p + 1, n - 1);
        const auto b1 = before(rng);
        auto b2 = before(rng);
        if (b2 == b1) b2 = b1 == 0 ? (p > 1 ? 1 : b1) : b1 - 1;
        list.emplace_back(hidden[p], hidden[b1], 0.3);
        if (b2 != b1) list.emplace_back(hidden[p], hidden[b2], 0.3);
        list.emplace_back(hidden[p], hidden[after(rng)], 0.05);
    }
    const auto g = fixtures::edges_of(n, list);
    const auto order = greedy_sequence(g);
    std::vector<std::uint32_t> sorted = order, numbers(n);
    std::sort(sorted.begin(), sorted.end());
    std::iota(numbers.begin(), numbers.end(), 0u);
    REQUIRE(sorted == numbers); // every state once
    const double planted = stale_share(g, hidden), greedy = stale_share(g, order),
                 plain = stale_share(g, numbers);
    CAPTURE(planted, greedy, plain);
    REQUIRE(planted < 0.08);
    REQUIRE(plain > 0.4);
    REQUIRE(greedy <= 1.5 * planted);
}
