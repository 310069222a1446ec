// Exact solves of the absorbing chain by strongly connected components.
#include "chain_solver.hpp"

#include <journeyloop/detail/mapped.hpp>
#include <journeyloop/errors.hpp>
#include <journeyloop/threads.hpp>

#include <Eigen/Dense>
#include <Eigen/SparseLU>
#include <boost/graph/compressed_sparse_row_graph.hpp>
#include <boost/graph/strong_components.hpp>

#include <algorithm>
#include <cstdint>
#include <new>
#if defined(__linux__)
#include <sys/mman.h>
#endif
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

namespace journeyloop::detail {

namespace {

// Compressed sparse rows: row i holds (idx[k], val[k]) for k in [ptr[i], ptr[i+1]).
struct csr {
    std::vector<std::size_t> ptr;
    std::vector<std::uint32_t> idx;
    std::vector<double> val;
};

// Rows of the edges (sorted by code: source << 32 | target).
csr make_csr(std::size_t n, const std::vector<std::pair<std::uint64_t, double>>& edges) {
    csr out;
    out.ptr.assign(n + 1, 0);
    for (const auto& [code, w] : edges) ++out.ptr[(code >> 32) + 1];
    for (std::size_t i = 0; i < n; ++i) out.ptr[i + 1] += out.ptr[i];
    out.idx.resize(edges.size());
    out.val.resize(edges.size());
    for (std::size_t k = 0; k < edges.size(); ++k) {
        out.idx[k] = static_cast<std::uint32_t>(edges[k].first & 0xffffffffu);
        out.val[k] = edges[k].second;
    }
    return out;
}

// The coefficients a(u, .) of the rows of a system: the edges of row u are
// at CSR row u, plus the self-loop diag[u] when diag is not null.
struct adjacency {
    const std::size_t* ptr;
    const std::uint32_t* idx;
    const double* val;
    const double* diag;
};

// Q of the chain, by row.
adjacency forward_of(const chain& c) {
    return {c.ptr.data(), c.idx.data(), c.val.data(),
            c.diag.empty() ? nullptr : c.diag.data()};
}

// Whether Gauss-Seidel, whose last two sweeps changed a solution by
// `previous` then `change`, would need more than `sweeps_left` sweeps to
// bring the change below `tolerance` at that rate.
bool too_slow(double change, double previous, double tolerance, int sweeps_left) {
    if (change <= tolerance) return false;
    if (!(previous > 0) || change >= previous) return true;
    const double needed = std::log(tolerance / change) / std::log(change / previous);
    return needed > sweeps_left;
}

// Solves, for the unknowns of `block` (rows, none removed),
//   y_u - sum_{v in block} a(u, v) y_v = b_u + sum_{v outside block, not removed} a(u, v) y_v
// for every right-hand side k < K (ys[k] in/out, by row; b_k(u) is
// b[b_stride * u + k_stride * k]). Values of y outside the block are final.
void solve_block(const adjacency& adj, const std::vector<std::uint32_t>& block,
                 const std::vector<char>& removed, double* const* ys, std::size_t K,
                 const double* b, std::size_t b_stride, std::size_t k_stride,
                 std::vector<long>& local) {
    const std::size_t m = block.size();
    auto rhs = [&](std::uint32_t u, std::size_t k) { return b[b_stride * u + k_stride * k]; };
    if (m == 1) {
        const auto u = block[0];
        const auto p = u;
        double diag = adj.diag != nullptr ? adj.diag[p] : 0.0;
        for (auto e = adj.ptr[p]; e < adj.ptr[p + 1]; ++e)
            if (adj.idx[e] == u) diag += adj.val[e];
        for (std::size_t k = 0; k < K; ++k) {
            double s = rhs(u, k);
            for (auto e = adj.ptr[p]; e < adj.ptr[p + 1]; ++e) {
                const auto v = adj.idx[e];
                if (v != u && !removed[v]) s += adj.val[e] * ys[k][v];
            }
            ys[k][u] = s / (1.0 - diag);
        }
        return;
    }
    for (std::size_t i = 0; i < m; ++i) local[block[i]] = static_cast<long>(i);
    // A direct solve of the block: dense LU up to dense_block_limit states,
    // sparse LU beyond (only for blocks on which Gauss-Seidel is too slow).
    auto direct = [&] {
        Eigen::MatrixXd B(static_cast<long>(m), static_cast<long>(K));
        std::vector<Eigen::Triplet<double>> a;
        for (std::size_t i = 0; i < m; ++i) {
            const auto u = block[i];
            const auto p = u;
            a.emplace_back(long(i), long(i), 1.0);
            if (adj.diag != nullptr && adj.diag[p] != 0) a.emplace_back(long(i), long(i), -adj.diag[p]);
            for (std::size_t k = 0; k < K; ++k) B(long(i), long(k)) = rhs(u, k);
            for (auto e = adj.ptr[p]; e < adj.ptr[p + 1]; ++e) {
                const auto v = adj.idx[e];
                if (removed[v]) continue;
                if (local[v] >= 0) {
                    a.emplace_back(long(i), local[v], -adj.val[e]);
                } else {
                    for (std::size_t k = 0; k < K; ++k) B(long(i), long(k)) += adj.val[e] * ys[k][v];
                }
            }
        }
        Eigen::MatrixXd Y;
        if (m <= dense_block_limit) {
            Eigen::MatrixXd A = Eigen::MatrixXd::Zero(static_cast<long>(m), static_cast<long>(m));
            for (const auto& t : a) A(t.row(), t.col()) += t.value();
            Y = A.partialPivLu().solve(B);
        } else {
            Eigen::SparseMatrix<double> A(static_cast<long>(m), static_cast<long>(m));
            A.setFromTriplets(a.begin(), a.end()); // duplicates add up
            Eigen::SparseLU<Eigen::SparseMatrix<double>, Eigen::COLAMDOrdering<int>> lu;
            lu.compute(A);
            if (lu.info() != Eigen::Success)
                throw numerical_error("the sparse LU of a block of " + std::to_string(m) +
                                      " states failed: " + lu.lastErrorMessage());
            Y = lu.solve(B);
        }
        for (std::size_t i = 0; i < m; ++i)
            for (std::size_t k = 0; k < K; ++k) ys[k][block[i]] = Y(long(i), long(k));
    };
    if (m <= dense_block_limit) {
        direct();
    } else {
        // Gauss-Seidel, warm-started from the values in ys, all right-hand
        // sides in one pass over the edges. The matrix is an M-matrix (I
        // minus a substochastic block from which absorption is reachable),
        // so the iteration converges.
        constexpr int max_sweeps = 200000;
        constexpr std::size_t max_k = 4;
        if (K > max_k) throw numerical_error("internal error: too many right-hand sides");
        double* y[max_k];
        for (std::size_t k = 0; k < K; ++k) y[k] = ys[k];
        // Geometric extrapolation on large blocks, as in solve_batch below.
        constexpr int extrapolate_every = 8;
        bool extrapolate = m > 1000;
        // Mapped when large: this runs on a worker thread too (detail/mapped.hpp).
        mapped_vector<double> before[max_k];
        double previous[max_k] = {}, before_jump = 0;
        bool jumped = false, jumped_last = false, rate_checked = false;
        for (int sweep = 0;; ++sweep) {
            double change[max_k] = {}, scale[max_k] = {};
            const bool jump = extrapolate && sweep % extrapolate_every == extrapolate_every - 1;
            if (jump)
                for (std::size_t k = 0; k < K; ++k) {
                    before[k].resize(m);
                    for (std::size_t i = 0; i < m; ++i) before[k][i] = y[k][block[i]];
                }
            for (auto u : block) {
                const auto p = u;
                double sum[max_k];
                double diag = adj.diag != nullptr ? adj.diag[p] : 0.0;
                for (std::size_t k = 0; k < K; ++k) sum[k] = b[b_stride * p + k_stride * k];
                for (auto e = adj.ptr[p]; e < adj.ptr[p + 1]; ++e) {
                    const auto v = adj.idx[e];
                    const double w = adj.val[e];
                    if (v == u) diag += w;
                    else if (!removed[v])
                        for (std::size_t k = 0; k < K; ++k) sum[k] += w * y[k][v];
                }
                for (std::size_t k = 0; k < K; ++k) {
                    const double next = sum[k] / (1.0 - diag);
                    change[k] = std::max(change[k], std::abs(next - y[k][u]));
                    scale[k] = std::max(scale[k], std::abs(next));
                    y[k][u] = next;
                }
            }
            bool done = true;
            double largest = 0;
            for (std::size_t k = 0; k < K; ++k) {
                done = done && change[k] <= gauss_seidel_tolerance * scale[k];
                largest = std::max(largest, change[k]);
            }
            if (jumped) {
                jumped = false;
                if (largest > before_jump) extrapolate = false;
            }
            if (done) break;
            if (jump) {
                for (std::size_t k = 0; k < K; ++k) {
                    const double lambda = previous[k] > 0 ? change[k] / previous[k] : 0.0;
                    if (!(lambda > 0 && lambda < 0.9)) continue;
                    const double factor = lambda / (1.0 - lambda);
                    for (std::size_t i = 0; i < m; ++i) {
                        const auto u = block[i];
                        y[k][u] += factor * (y[k][u] - before[k][i]);
                    }
                }
                before_jump = largest;
                jumped = true;
            }
            // Nearly closed blocks (journeys of thousands of touches over few
            // states: absorption once in many steps) converge too slowly to
            // iterate: once, past slow_block_sweeps (on a sweep clear of the
            // extrapolation), a block of moderate size whose rate would not
            // reach the tolerance within max_sweeps is solved directly.
            if (!rate_checked && sweep >= slow_block_sweeps && !jump && !jumped_last) {
                rate_checked = true;
                bool slow = false;
                for (std::size_t k = 0; k < K; ++k)
                    slow = slow || too_slow(change[k], previous[k], gauss_seidel_tolerance * scale[k],
                                            max_sweeps - sweep);
                if (slow && m <= slow_block_direct_limit) {
                    direct();
                    break;
                }
            }
            jumped_last = jump;
            std::copy(change, change + K, previous);
            if (sweep == max_sweeps)
                throw numerical_error("Gauss-Seidel did not converge on a block of " +
                                      std::to_string(m) + " states");
        }
    }
    for (auto u : block) local[u] = -1;
}

// The order the chain is stored and swept in: a depth-first search of Q's
// graph from START, heavier successors first, numbering each state when it
// finishes (after every state it reaches that was not already on the
// search's path). Gauss-Seidel in that order reads fresh values along every
// edge of the search tree and every cross edge, so within a large component
// most of the transitions' weight; and a state's row lies just after the rows
// of its heaviest successors, which it reads. Measured on the criteo-shaped
// table at order 3 (bench/README.md): 16 sweeps a batch of removals instead of
// 30 with the states by channel tuple, and the removals of all channels in
// 23 s instead of 54 s.
mapped_vector<std::uint32_t> finishing_order(const csr& q) {
    const std::size_t n = q.ptr.size() - 1;
    // Each row's targets, heaviest first (ties by target).
    mapped_vector<std::uint32_t> heavy(q.idx.size());
    for (std::size_t u = 0; u < n; ++u) {
        const auto b = q.ptr[u], e = q.ptr[u + 1];
        for (auto k = b; k < e; ++k) heavy[k] = static_cast<std::uint32_t>(k - b);
        std::sort(heavy.begin() + long(b), heavy.begin() + long(e),
                  [&q, b](std::uint32_t x, std::uint32_t y) {
                      const double wx = q.val[b + x], wy = q.val[b + y];
                      return wx != wy ? wx > wy : x < y;
                  });
        for (auto k = b; k < e; ++k) heavy[k] = q.idx[b + heavy[k]];
    }
    constexpr std::uint32_t unseen = std::numeric_limits<std::uint32_t>::max();
    mapped_vector<std::uint32_t> rank(n, unseen);
    std::vector<std::pair<std::uint32_t, std::size_t>> stack; // (state, next edge)
    std::uint32_t next = 0;
    auto search = [&](std::uint32_t root) {
        if (rank[root] != unseen) return;
        rank[root] = unseen - 1; // on the path
        stack.emplace_back(root, q.ptr[root]);
        while (!stack.empty()) {
            auto& [u, e] = stack.back();
            if (e == q.ptr[u + 1]) {
                rank[u] = next++;
                stack.pop_back();
                continue;
            }
            const auto v = heavy[e++];
            if (rank[v] == unseen) {
                rank[v] = unseen - 1;
                stack.emplace_back(v, q.ptr[v]);
            }
        }
    };
    if (n > 0) search(0); // START
    for (std::uint32_t u = 0; u < n; ++u) search(u);
    return rank;
}

} // namespace

chain build_chain(std::size_t n, std::vector<std::pair<std::uint64_t, double>> q_edges,
                  std::vector<double> r, std::vector<double> r_value) {
    std::sort(q_edges.begin(), q_edges.end());
    // Q by transient index, until the chain is laid out.
    csr forward = make_csr(n, q_edges);
    // Freed before the component search allocates (it is the peak of a fit).
    std::vector<std::pair<std::uint64_t, double>>().swap(q_edges);

    // The components (the graph and its edge list are freed after).
    std::vector<std::uint32_t> comp(n);
    {
        using graph = boost::compressed_sparse_row_graph<boost::directedS>;
        std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;
        edges.reserve(forward.idx.size());
        for (std::size_t u = 0; u < n; ++u)
            for (auto k = forward.ptr[u]; k < forward.ptr[u + 1]; ++k)
                edges.emplace_back(static_cast<std::uint32_t>(u), forward.idx[k]);
        const graph g(boost::edges_are_sorted, edges.begin(), edges.end(), n);
        boost::strong_components(
            g, boost::make_iterator_property_map(comp.begin(), get(boost::vertex_index, g)));
        // Tarjan numbers a component after every component it reaches: edges go
        // to lower or equal numbers. Checked, since every solve relies on it.
        for (const auto& [from, to] : edges)
            if (comp[to] > comp[from])
                throw numerical_error("internal error: components are not in topological order");
    }

    const auto rank = finishing_order(forward);

    // Rows: the terminal states (no transient successor), then the other
    // components sinks first, each in `rank` order.
    // Terminal states are sinks, so the order is still topological; the
    // batched removals keep no solutions for them.
    // Temporaries mapped: freed, they leave no resident pages under the
    // solutions.
    chain c;
    c.n = n;
    {
        auto terminal = [&forward](std::uint32_t t) { return forward.ptr[t + 1] == forward.ptr[t]; };
        mapped_vector<std::uint32_t> by(n);
        for (std::uint32_t t = 0; t < n; ++t) by[t] = t;
        std::sort(by.begin(), by.end(), [&](std::uint32_t a, std::uint32_t b) {
            const bool ta = terminal(a), tb = terminal(b);
            if (ta != tb) return ta;
            if (ta) return rank[a] < rank[b];
            return comp[a] != comp[b] ? comp[a] < comp[b] : rank[a] < rank[b];
        });
        while (c.live_begin < n && terminal(by[c.live_begin])) ++c.live_begin;
        c.row_of.assign(n, 0);
        for (std::uint32_t i = 0; i < n; ++i) c.row_of[by[i]] = i;
        for (std::size_t begin = 0; begin < n;) {
            std::size_t end = begin + 1;
            while (begin >= c.live_begin && end < n && comp[by[end]] == comp[by[begin]]) ++end;
            c.component_end.push_back(end);
            begin = end;
        }
        std::vector<std::uint32_t>().swap(comp);
        bool self_loops = false; // the diagonal is kept only for chains with self-loops
        for (std::size_t u = 0; u < n && !self_loops; ++u)
            for (auto e = forward.ptr[u]; e < forward.ptr[u + 1]; ++e)
                if (forward.idx[e] == u) self_loops = true;
        if (self_loops) c.diag.assign(n, 0.0);
        c.base.assign(2 * n, 0.0);
        c.ptr.reserve(n + 1);
        c.ptr.push_back(0);
        c.idx.reserve(forward.idx.size());
        c.val.reserve(forward.idx.size());
        std::vector<std::pair<std::uint32_t, double>> edges;
        for (std::uint32_t p = 0; p < n; ++p) {
            const auto u = by[p];
            edges.clear();
            for (auto e = forward.ptr[u]; e < forward.ptr[u + 1]; ++e) {
                const auto v = forward.idx[e];
                if (v == u) c.diag[p] += forward.val[e];
                else edges.emplace_back(c.row_of[v], forward.val[e]);
            }
            std::sort(edges.begin(), edges.end()); // ascending rows: mostly one run
            for (const auto& [row, w] : edges) {
                c.idx.push_back(row);
                c.val.push_back(w);
            }
            c.ptr.push_back(c.idx.size());
            c.base[p] = r[u];
            c.base[n + p] = r_value[u];
        }
    }
    forward = csr();
    std::vector<double>().swap(r);
    std::vector<double>().swap(r_value);
    c.start = c.row_of[0];
    c.start_component = static_cast<std::size_t>(
        std::upper_bound(c.component_end.begin(), c.component_end.end(), std::size_t{c.start}) -
        c.component_end.begin());
    const auto num = c.components();

    // Full solution: absorption forward (sinks first), visits backward
    // (sources first), over the transpose of Q, which is freed after: no
    // later solve needs it (solve_without finds ancestors from the forward
    // rows and the component order).
    // The two are independent: on large chains, visits on a second thread.
    csr backward; // by row, self-loops included
    backward.ptr.assign(n + 1, 0);
    for (std::uint32_t p = 0; p < n; ++p) {
        for (auto e = c.ptr[p]; e < c.ptr[p + 1]; ++e) ++backward.ptr[c.idx[e] + 1];
        if (!c.diag.empty() && c.diag[p] != 0) ++backward.ptr[p + 1];
    }
    for (std::size_t i = 0; i < n; ++i) backward.ptr[i + 1] += backward.ptr[i];
    backward.idx.resize(backward.ptr[n]);
    backward.val.resize(backward.ptr[n]);
    {
        std::vector<std::size_t> fill(backward.ptr.begin(), backward.ptr.end() - 1);
        // Sources ascending in each row: by rows, then the self-loop in place.
        for (std::uint32_t u = 0; u < n; ++u) {
            for (auto e = c.ptr[u]; e < c.ptr[u + 1]; ++e) {
                const auto k = fill[c.idx[e]]++;
                backward.idx[k] = u;
                backward.val[k] = c.val[e];
            }
            if (!c.diag.empty() && c.diag[u] != 0) {
                const auto k = fill[u]++;
                backward.idx[k] = u;
                backward.val[k] = c.diag[u];
            }
        }
    }
    const adjacency backward_adj{backward.ptr.data(), backward.idx.data(), backward.val.data(),
                                 nullptr};
    const std::vector<char> none(n, 0);
    c.x.assign(n, 0.0);
    c.x_value.assign(n, 0.0);
    c.visits.assign(n, 0.0);
    auto absorption = [&c, &none, n, num] {
        std::vector<long> local(n, -1);
        std::vector<std::uint32_t> block;
        double* ys[2] = {c.x.data(), c.x_value.data()};
        const auto adj = forward_of(c);
        for (std::size_t k = 0; k < num; ++k) {
            block.clear(); // in update order: the edges are read in storage order
            for (auto u = c.component_begin(k); u < c.component_end[k]; ++u) block.push_back(std::uint32_t(u));
            solve_block(adj, block, none, ys, 2, c.base.data(), 1, n, local);
        }
    };
    // The visits' buffers are allocated here, on the calling thread, though
    // the visits may run on a second one: blocks a worker thread allocates
    // can stay resident after they are freed (detail/mapped.hpp).
    std::vector<long> visits_local(n, -1);
    std::vector<double> start(n, 0.0);
    start[c.start] = 1.0;
    std::vector<std::uint32_t> visits_block;
    {
        std::size_t largest = 0;
        for (std::size_t k = 0; k < num; ++k)
            largest = std::max<std::size_t>(largest, c.component_end[k] - c.component_begin(k));
        visits_block.reserve(largest);
    }
    auto visits = [&c, &backward_adj, &none, &visits_local, &start, &visits_block, num] {
        auto& local = visits_local;
        auto& block = visits_block;
        double* ys[1] = {c.visits.data()};
        for (std::size_t k = num; k-- > 0;) {
            block.clear();
            for (auto u = c.component_begin(k); u < c.component_end[k]; ++u)
                block.push_back(static_cast<std::uint32_t>(u));
            solve_block(backward_adj, block, none, ys, 1, start.data(), 1, 0, local);
        }
    };
    if (n < 20000 || stage_threads(2) < 2) {
        absorption();
        visits();
        return c;
    }
    std::exception_ptr error;
    std::thread second([&] {
        try {
            visits();
        } catch (...) {
            error = std::current_exception();
        }
    });
    try {
        absorption();
    } catch (...) {
        second.join();
        throw;
    }
    second.join();
    if (error) std::rethrow_exception(error);
    return c;
}

namespace {

// The rows of the transient states marked in `removed` (by transient index).
std::vector<char> rows_marked(const chain& c, const std::vector<char>& removed) {
    std::vector<char> out(c.n, 0);
    for (std::uint32_t t = 0; t < c.n; ++t)
        if (removed[t]) out[c.row_of[t]] = 1;
    return out;
}

} // namespace

std::pair<double, double> solve_without(const chain& c, const std::vector<char>& removed_states) {
    const auto removed = rows_marked(c, removed_states);
    // Ancestors of the removed states: the only states whose values change.
    // One pass over the components, sinks first (every edge goes to an
    // equal or lower component): a component is affected if one of its
    // states has an edge to a removed or affected state of a lower
    // component, or if it has two or more states and one is removed (all
    // of them reach it). Only up to START's: the others cannot be reached.
    std::vector<char> affected(c.n, 0);
    std::vector<std::size_t> comps;
    for (std::size_t k = 0; k <= c.start_component; ++k) {
        const auto begin = c.component_begin(k), end = c.component_end[k];
        bool hit = false;
        for (auto u = begin; u < end && !hit; ++u) {
            if (removed[u] && end - begin > 1) hit = true;
            for (auto e = c.ptr[u]; e < c.ptr[u + 1] && !hit; ++e) {
                const auto v = c.idx[e];
                hit = (v < begin || v >= end) && (removed[v] || affected[v]);
            }
        }
        if (hit) {
            comps.push_back(k);
            for (auto u = begin; u < end; ++u)
                if (!removed[u]) affected[u] = 1;
        }
    }
    if (removed[c.start]) return {0.0, 0.0};
    if (!affected[c.start]) return {c.x[c.start], c.x_value[c.start]};

    std::vector<double> y = c.x, y_value = c.x_value;
    for (std::uint32_t u = 0; u < c.n; ++u)
        if (removed[u]) y[u] = y_value[u] = 0.0;
    std::vector<long> local(c.n, -1);
    std::vector<std::uint32_t> block;
    double* ys[2] = {y.data(), y_value.data()};
    const auto adj = forward_of(c);
    for (auto k : comps) {
        block.clear(); // in update order, as in the fit
        for (auto u = c.component_begin(k); u < c.component_end[k]; ++u)
            if (!removed[u]) block.push_back(std::uint32_t(u));
        if (block.empty()) continue;
        solve_block(adj, block, removed, ys, 2, c.base.data(), 1, c.n, local);
    }
    return {y[c.start], y_value[c.start]};
}

namespace {

// Scratch array of doubles for the batched solutions, in transparent huge
// pages where the system offers them (Linux, madvise): the sweeps read the
// solutions of scattered states, and with 4 KiB pages nearly every such read
// of a large chain also missed the TLB. Allocated once per thread; resize()
// keeps no contents.
class solution_buffer {
public:
    solution_buffer() = default;
    solution_buffer(const solution_buffer&) = delete;
    solution_buffer& operator=(const solution_buffer&) = delete;
    ~solution_buffer() { release(); }

    void resize(std::size_t n) {
        if (n <= capacity_) return;
        release();
        const std::size_t bytes = n * sizeof(double);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
        constexpr std::size_t huge = std::size_t{2} << 20;
        if (bytes >= huge_page_buffer_min) {
            const std::size_t size = (bytes + huge - 1) / huge * huge;
            void* map = mmap(nullptr, size + huge, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (map == MAP_FAILED) throw std::bad_alloc();
            // Aligned to a huge page; the excess before and after is given back.
            auto* first = static_cast<char*>(map);
            const auto skip = (huge - reinterpret_cast<std::uintptr_t>(first) % huge) % huge;
            if (skip != 0) munmap(first, skip);
            if (huge - skip != 0) munmap(first + skip + size, huge - skip);
            madvise(first + skip, size, MADV_HUGEPAGE);
            data_ = reinterpret_cast<double*>(first + skip);
            mapped_ = size;
            capacity_ = size / sizeof(double);
            return;
        }
#endif
        // Aligned to a cache line: a state's solutions of a half are one line.
        data_ = static_cast<double*>(::operator new(bytes, std::align_val_t{64}));
        capacity_ = n;
    }
    double* data() noexcept { return data_; }
    const double* data() const noexcept { return data_; }

private:
    void release() noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
        if (mapped_ != 0) munmap(data_, mapped_);
        else if (data_ != nullptr) ::operator delete(data_, std::align_val_t{64});
#else
        if (data_ != nullptr) ::operator delete(data_, std::align_val_t{64});
#endif
        data_ = nullptr;
        capacity_ = mapped_ = 0;
    }
    double* data_ = nullptr;
    std::size_t capacity_ = 0, mapped_ = 0;
};

// The batched removals solve, for each batch of many_batch removals, two
// systems with the same matrix: the conversions (half 0) and the values
// (half 1). One thread solves both halves of a batch in the same sweeps
// (sixteen solutions a live state: the chain is read once for both); two or
// more threads each solve one half at a time (eight solutions a live state,
// one 64-byte line), so that the removals hold sixteen numbers a live state
// on two threads as on one. On the criteo-shaped table at order 3 the halves
// on two threads took the removals' memory from 431 to 238 MB (bench/README.md).
template <std::size_t Halves>
constexpr std::size_t width_of = Halves * many_batch;

// The changes the extrapolation records, per state: its changes as 16-bit
// integers, in block floating point (each half scaled by its largest
// magnitude: a relative precision of 2^-14 of it), then one exponent a half.
template <std::size_t Halves>
constexpr std::size_t record_stride = width_of<Halves> + Halves;
constexpr int record_bits = 14; // |scaled change| < 2^14

// 2^e for the exponents of normal doubles (from its bits: no library call
// in the sweep); 0 outside them.
inline double power_of_two(int e) noexcept {
    if (e < -1022 || e > 1023) return 0.0;
    const std::uint64_t bits = std::uint64_t(e + 1023) << 52;
    double out;
    std::memcpy(&out, &bits, sizeof out);
    return out;
}

// Records one half (many_batch changes) at `d`, its exponent at `*e`.
inline void record_half(const double* change, std::int16_t* d, std::int16_t* e) noexcept {
    double m = 0;
    for (std::size_t j = 0; j < many_batch; ++j) m = std::max(m, std::abs(change[j]));
    std::uint64_t bits;
    std::memcpy(&bits, &m, sizeof bits);
    // m < 2^exponent (as frexp's exponent; subnormal m, negligible, record 0)
    const int exponent = static_cast<int>((bits >> 52) & 0x7ff) - 1022;
    const double scale = bits >> 52 != 0 ? power_of_two(record_bits - exponent) : 0.0;
    for (std::size_t j = 0; j < many_batch; ++j) {
        // Clamped: |x| <= 2^14 already, and a NaN or infinite change (no
        // chain that can be fitted has one) records a defined value.
        const double x = std::min(16384.0, std::max(-16384.0, change[j] * scale));
        d[j] = static_cast<std::int16_t>(x + std::copysign(0.5, x));
    }
    *e = static_cast<std::int16_t>(exponent);
}

// What a sweep reads besides the chain: the solutions of the live rows (row
// u at (u - live_begin) * width), and for the terminal rows their constant
// solutions (x and value of row v at 2v, 2v + 1) and which of the batch's
// removals remove them (bit j of terminal_bits[v]).
struct sweep_state {
    double* y;
    const double* terminal_x;
    const std::uint16_t* terminal_bits;
    const std::uint16_t* removed_bits; // by row: removals that remove it
    std::size_t first_half;            // 0 (conversions) or 1 (value)
    bool active[2];                    // the halves a sweep updates (see solve_batch)
};

// Gauss-Seidel updates of rows [begin, end) for Halves halves of a
// batch, from st.first_half on (solution j of half k at k * many_batch + j);
// records the largest change of each solution, and with `delta` (not null)
// every change too, at delta + (row - begin) * record_stride (see
// record_half).
template <std::size_t Halves, bool Record>
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
inline void sweep_impl(const chain& sc, const sweep_state& st, std::size_t begin, std::size_t end,
                       double* change, std::int16_t* delta) {
    constexpr std::size_t width = width_of<Halves>;
    constexpr std::size_t stride = record_stride<Halves>;
    // change[j]: the largest change of solution j (0 .. width).
    // Lanes of four doubles (GCC vector extensions: AVX2 registers in the
    // avx2 clone, pairs of SSE2 registers otherwise).
    typedef double lane __attribute__((vector_size(32)));
    static_assert(many_batch % 4 == 0, "whole lanes of four for each half");
    const std::size_t* ptr = sc.ptr.data();
    const std::uint32_t* idx = sc.idx.data();
    const double* val = sc.val.data();
    const double* diag = sc.diag.empty() ? nullptr : sc.diag.data();
    const std::size_t live = sc.live_begin;
    const std::size_t h0 = st.first_half;
    const double* base = sc.base.data() + h0 * sc.n; // half k at base[k * n + p]
    double* const y = st.y;
    auto row_of = [y, live](std::size_t u) { return y + (u - live) * width; };
    double ch[width] = {};
    for (std::size_t p = begin; p < end; ++p) {
        // The rows updated next are scattered over the layout: fetch them
        // early (32 updates ahead for a state's own row, 16 for its
        // successors: on the criteo-shaped table at order 3 the removals took
        // 42 s with 8 and 4, 36 s with 16 and 8, 34 s with these, and the
        // same with 64 and 32). A row is one 64-byte line a half.
        if (p + 32 < end) {
            const double* ahead = row_of(p + 32);
            for (std::size_t k = 0; k < Halves; ++k) __builtin_prefetch(ahead + 8 * k, 1);
            if constexpr (Record)
                __builtin_prefetch(delta + (p + 32 - begin) * stride, 1);
            // The successors of a state further ahead: the terminal ones
            // first (rows below live_begin), then the others, sorted, and
            // often near each other (a run when they span few rows).
            auto e0 = ptr[p + 16];
            const auto e1 = ptr[p + 17];
            for (; e0 < e1 && idx[e0] < live; ++e0) {
                __builtin_prefetch(st.terminal_x + 2 * std::size_t{idx[e0]} + h0);
                __builtin_prefetch(st.terminal_bits + idx[e0]);
            }
            if (e1 > e0) {
                const double* lo = row_of(idx[e0]);
                const double* hi = row_of(idx[e1 - 1]) + width;
                if (hi - lo <= static_cast<std::ptrdiff_t>(64 * width))
                    for (const double* q = lo; q < hi; q += 8) __builtin_prefetch(q);
                else
                    for (auto e = e0; e < e1; ++e) {
                        const double* q = row_of(idx[e]);
                        for (std::size_t k = 0; k < Halves; ++k) __builtin_prefetch(q + 8 * k);
                    }
            }
        }
        constexpr std::size_t lanes = width / 4;
        // Terminal successors: constants, added once for every removal but
        // those that remove them (added apart, to the others only).
        double b[Halves];
        for (std::size_t k = 0; k < Halves; ++k) b[k] = base[k * sc.n + p];
        double extra[width] = {};
        bool any_extra = false;
        auto e = ptr[p];
        const auto e_end = ptr[p + 1];
        for (; e < e_end && idx[e] < live; ++e) {
            const std::size_t v = idx[e];
            const double w = val[e];
            const unsigned gone = st.terminal_bits[v];
            if (gone == 0) {
                for (std::size_t k = 0; k < Halves; ++k) b[k] += w * st.terminal_x[2 * v + h0 + k];
                continue;
            }
            any_extra = true;
            for (std::size_t k = 0; k < Halves; ++k) {
                const double xv = st.terminal_x[2 * v + h0 + k];
                for (std::size_t j = 0; j < many_batch; ++j)
                    if (!((gone >> j) & 1u)) extra[k * many_batch + j] += w * xv;
            }
        }
        lane a[lanes];
        for (std::size_t l = 0; l < lanes; ++l) {
            const double init = b[l / (lanes / Halves)];
            a[l] = lane{init, init, init, init};
        }
        for (; e < e_end; ++e) {
            const double w = val[e];
            const lane wv = {w, w, w, w};
            const double* yv = row_of(idx[e]);
            for (std::size_t l = 0; l < lanes; ++l) {
                lane yl;
                std::memcpy(&yl, yv + 4 * l, sizeof(lane));
                a[l] += wv * yl;
            }
        }
        double acc[width];
        std::memcpy(acc, a, sizeof(a));
        if (any_extra)
            for (std::size_t j = 0; j < width; ++j) acc[j] += extra[j];
        const double scale = diag != nullptr ? 1.0 / (1.0 - diag[p]) : 1.0;
        double* yu = row_of(p);
        const unsigned bits = st.removed_bits[p];
        [[maybe_unused]] double moved[width] = {};
        for (std::size_t k = 0; k < Halves; ++k) {
            if (!st.active[k]) continue; // converged: left as it is
            for (std::size_t j = k * many_batch; j < (k + 1) * many_batch; ++j) {
                const double next = (bits >> (j - k * many_batch)) & 1u ? 0.0 : acc[j] * scale;
                if constexpr (Record) moved[j] = next - yu[j];
                ch[j] = std::max(ch[j], std::abs(next - yu[j]));
                yu[j] = next;
            }
        }
        if constexpr (Record) {
            std::int16_t* const d = delta + (p - begin) * stride;
            for (std::size_t k = 0; k < Halves; ++k)
                record_half(moved + k * many_batch, d + k * many_batch, d + width + k);
        }
    }
    for (std::size_t j = 0; j < width; ++j) change[j] = std::max(change[j], ch[j]);
}

// The sweep without and with recording the changes: separate functions, so
// that the plain sweep (nearly all of them) carries no test of `delta`.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define JOURNEYLOOP_SWEEP_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define JOURNEYLOOP_SWEEP_CLONES
#endif
JOURNEYLOOP_SWEEP_CLONES
void sweep_both(const chain& sc, const sweep_state& st, std::size_t begin, std::size_t end,
                double* change) {
    sweep_impl<2, false>(sc, st, begin, end, change, nullptr);
}
JOURNEYLOOP_SWEEP_CLONES
void sweep_both_recording(const chain& sc, const sweep_state& st, std::size_t begin,
                          std::size_t end, double* change, std::int16_t* delta) {
    sweep_impl<2, true>(sc, st, begin, end, change, delta);
}
JOURNEYLOOP_SWEEP_CLONES
void sweep_half(const chain& sc, const sweep_state& st, std::size_t begin, std::size_t end,
                double* change) {
    sweep_impl<1, false>(sc, st, begin, end, change, nullptr);
}
JOURNEYLOOP_SWEEP_CLONES
void sweep_half_recording(const chain& sc, const sweep_state& st, std::size_t begin,
                          std::size_t end, double* change, std::int16_t* delta) {
    sweep_impl<1, true>(sc, st, begin, end, change, delta);
}
#undef JOURNEYLOOP_SWEEP_CLONES

template <std::size_t Halves>
void sweep_range(const chain& sc, const sweep_state& st, std::size_t begin, std::size_t end,
                 double* change, std::int16_t* delta) {
    if constexpr (Halves == 2) {
        if (delta != nullptr) sweep_both_recording(sc, st, begin, end, change, delta);
        else sweep_both(sc, st, begin, end, change);
    } else {
        if (delta != nullptr) sweep_half_recording(sc, st, begin, end, change, delta);
        else sweep_half(sc, st, begin, end, change);
    }
}

// Solves Halves halves, from first_half on (0: conversions, 1: value), of
// one batch (at most many_batch removals, given as transient states) over
// the chain; `bits` (one per row) and `terminal_bits` (one per terminal
// row) are scratch, all zero on entry and on exit; `y` and `delta` are
// scratch too; `terminal_x` holds x and the value of each terminal row (see
// sweep_state); scale[h] is the largest solution of half h of the
// unperturbed chain. Half k's solutions go to out[k][0 .. count). Returns
// the halves solved (bit k: half k). A half is not solved, and nothing is
// written for it, if a component of at most slow_block_direct_limit states
// converges too slowly for it (as solve_block judges it): the caller then
// solves that half's removals one at a time (solve_without, which solves
// such blocks directly).
template <std::size_t Halves>
unsigned solve_batch(const chain& c, const std::vector<const std::vector<std::uint32_t>*>& removed,
                 std::size_t first, std::size_t count, std::size_t first_half,
                 mapped_vector<std::uint16_t>& bits, mapped_vector<std::uint16_t>& terminal_bits,
                 const double* terminal_x, solution_buffer& y, mapped_vector<std::int16_t>& delta,
                 const double* scale, double* const* out) {
    constexpr std::size_t width = width_of<Halves>;
    if (first_half + Halves > 2) throw numerical_error("internal error: no such half");
    const auto n = c.n;
    const auto live = c.live_begin;
    const auto& component_end = c.component_end;
    const std::vector<double>* x0[Halves];
    for (std::size_t k = 0; k < Halves; ++k) x0[k] = first_half + k == 0 ? &c.x : &c.x_value;
    y.resize((n - live) * width);
    for (std::size_t u = live; u < n; ++u) {
        double* yu = y.data() + (u - live) * width;
        for (std::size_t k = 0; k < Halves; ++k)
            std::fill(yu + k * many_batch, yu + (k + 1) * many_batch, (*x0[k])[u]);
    }
    auto mark = [&](std::size_t g, bool on) {
        for (auto t : *removed[first + g]) {
            const auto u = c.row_of[t];
            auto& b = u < live ? terminal_bits[u] : bits[u];
            b = on ? static_cast<std::uint16_t>(b | (1u << g)) : std::uint16_t{0};
            if (on && u >= live)
                for (std::size_t k = 0; k < Halves; ++k)
                    y.data()[(u - live) * width + k * many_batch + g] = 0.0;
        }
    };
    for (std::size_t g = 0; g < count; ++g) mark(g, true);
    sweep_state st{y.data(), terminal_x, terminal_bits.data(), bits.data(), first_half, {}};
    double tol[width]; // solution j converges when it changes by at most tol[j]
    for (std::size_t j = 0; j < width; ++j)
        tol[j] = gauss_seidel_tolerance * scale[first_half + j / many_batch];
    // Each half iterates as if alone: it stops, and stops changing, when it
    // has converged, and keeps its own extrapolation; so a batch's solutions
    // are the same whether its halves are solved together or apart (on one
    // thread or on several). A half that converges too slowly is given up
    // (failed: the caller solves it one removal at a time).
    bool failed[Halves] = {};
    // Only the live components up to START's: the others cannot be reached,
    // and the terminal rows' solutions are constants.
    const auto start_component = c.start_component;
    constexpr int max_sweeps = 200000;
    std::size_t begin = live; // each terminal row is a component of its own
    auto all_failed = [&failed] {
        return std::all_of(failed, failed + Halves, [](bool f) { return f; });
    };
    for (std::size_t k = live; k <= start_component && k < component_end.size() && !all_failed();
         ++k) {
        auto end = component_end[k];
        for (std::size_t h = 0; h < Halves; ++h) st.active[h] = !failed[h];
        if (end - begin == 1) {
            // A run of single states (with or without a self-loop), each
            // depending only on rows before it: exact in one pass.
            while (k < start_component && component_end[k + 1] - component_end[k] == 1)
                end = component_end[++k];
            double change[width] = {};
            sweep_range<Halves>(c, st, begin, end, change, nullptr);
            begin = end;
            continue;
        }
        // On large components, once the changes shrink steadily: the error
        // of Gauss-Seidel shrinks by a nearly constant factor lambda per
        // sweep (per solution: the ratio of two successive largest changes),
        // so the rest of the geometric series, lambda / (1 - lambda) times
        // the last change, is added at once. A jump of a half waits until
        // each of its solutions not yet converged shrank by the same factor
        // (within 10 %) in the last two sweeps, and its next jump at least
        // three sweeps more; sweeps then go on until the tolerance is met.
        // A half's extrapolation stops for the component after two jumps that
        // were followed by a larger change than the one before them. On the
        // criteo-shaped table at order 3 this took the removals of all
        // channels from 23.3 s (a jump every eighth sweep, stopped after one
        // such failure) to 21.2 s.
        struct half_state {
            bool extrapolate = false, jumped = false, jumped_last = false, rate_checked = false;
            int since_jump = 0, failed_jumps = 0;
            double before_jump = 0;
        } hs[Halves];
        for (auto& one : hs) one.extrapolate = end - begin > 1000;
        double* yb = y.data() + (begin - live) * width;
        const std::size_t len = (end - begin) * width;
        // The changes of the last three sweeps, newest first.
        double previous[width] = {}, previous2[width] = {}, previous3[width] = {};
        // Steady: each solution of half h not yet converged shrank by the
        // same factor (within 10 %) in the last two sweeps.
        auto steady = [&](std::size_t h) {
            for (std::size_t j = h * many_batch; j < (h + 1) * many_batch; ++j) {
                if (previous[j] <= tol[j]) continue;
                if (!(previous2[j] > 0) || !(previous3[j] > 0)) return false;
                const double r1 = previous[j] / previous2[j], r2 = previous2[j] / previous3[j];
                if (!(r1 < 0.95) || !(r2 < 0.95) || std::abs(r1 - r2) > 0.1 * r1) return false;
            }
            return true;
        };
        for (int sweep = 0;; ++sweep) {
            double change[width] = {};
            bool jump[Halves] = {}, any_jump = false;
            for (std::size_t h = 0; h < Halves; ++h) {
                if (!st.active[h]) continue;
                auto& one = hs[h];
                jump[h] = one.extrapolate && one.since_jump >= 3 && sweep >= 3 && steady(h);
                ++one.since_jump;
                any_jump = any_jump || jump[h];
            }
            // A jump sweep records its changes (in 16-bit block floating
            // point, see record_half: they only set the extrapolation step,
            // and the sweeps after it converge to the tolerance regardless).
            if (any_jump) delta.resize((end - begin) * record_stride<Halves>);
            sweep_range<Halves>(c, st, begin, end, change, any_jump ? delta.data() : nullptr);
            for (std::size_t h = 0; h < Halves; ++h) {
                if (!st.active[h]) continue;
                auto& one = hs[h];
                bool converged = true;
                double largest = 0;
                for (std::size_t j = h * many_batch; j < (h + 1) * many_batch; ++j) {
                    // Converged when the change and, while the changes
                    // shrink by a factor lambda a sweep, the rest of their
                    // series, lambda / (1 - lambda) times the change, are
                    // within the tolerance: at lambda near 1 a small change
                    // alone leaves the solution further off.
                    const double lambda = previous[j] > 0 ? change[j] / previous[j] : 0.0;
                    const double rest = lambda > 0 && lambda < 1 ? change[j] * lambda / (1 - lambda) : 0.0;
                    converged = converged && change[j] <= tol[j] && rest <= tol[j];
                    largest = std::max(largest, change[j]);
                }
                if (one.jumped) {
                    one.jumped = false;
                    if (largest > one.before_jump && ++one.failed_jumps == 2) one.extrapolate = false;
                }
                if (converged) {
                    st.active[h] = false; // done with this component
                    continue;
                }
                if (jump[h]) {
                    double factor[many_batch];
                    for (std::size_t i = 0; i < many_batch; ++i) {
                        const std::size_t j = h * many_batch + i;
                        const double lambda = previous[j] > 0 ? change[j] / previous[j] : 0.0;
                        const double before = previous2[j] > 0 ? previous[j] / previous2[j] : 0.0;
                        const bool same = std::abs(lambda - before) <= 0.1 * lambda;
                        factor[i] = same && lambda > 0 && lambda < 0.9 ? lambda / (1.0 - lambda) : 0.0;
                    }
                    one.since_jump = 0;
                    const std::int16_t* d = delta.data();
                    for (std::size_t i = 0; i < len; i += width, d += record_stride<Halves>) {
                        const double unit = power_of_two(d[width + h] - record_bits);
                        for (std::size_t q = 0; q < many_batch; ++q)
                            yb[i + h * many_batch + q] += factor[q] * unit * d[h * many_batch + q];
                    }
                    one.before_jump = largest;
                    one.jumped = true;
                }
                if (!one.rate_checked && sweep >= slow_block_sweeps && !jump[h] && !one.jumped_last) {
                    one.rate_checked = true; // as in solve_block
                    bool slow = false;
                    for (std::size_t j = h * many_batch; j < (h + 1) * many_batch && !slow; ++j)
                        slow = too_slow(change[j], previous[j], tol[j], max_sweeps - sweep);
                    if (slow && end - begin <= slow_block_direct_limit) {
                        failed[h] = true;
                        st.active[h] = false;
                        continue;
                    }
                }
                one.jumped_last = jump[h];
                for (std::size_t j = h * many_batch; j < (h + 1) * many_batch; ++j) {
                    previous3[j] = previous2[j];
                    previous2[j] = previous[j];
                    previous[j] = change[j];
                }
            }
            if (std::none_of(st.active, st.active + Halves, [](bool a) { return a; })) break;
            if (sweep == max_sweeps)
                throw numerical_error("Gauss-Seidel did not converge on a block of " +
                                      std::to_string(end - begin) + " states");
        }
        begin = end;
    }
    unsigned solved = 0;
    for (std::size_t h = 0; h < Halves; ++h) {
        if (failed[h]) continue;
        solved |= 1u << h;
        for (std::size_t g = 0; g < count; ++g) {
            if (c.start < live) { // START itself terminal: nothing to solve
                out[h][g] = (terminal_bits[c.start] >> g) & 1u ? 0.0 : (*x0[h])[c.start];
                continue;
            }
            out[h][g] = y.data()[(c.start - live) * width + h * many_batch + g];
        }
    }
    for (std::size_t g = 0; g < count; ++g) mark(g, false);
    return solved;
}

} // namespace

std::vector<std::pair<double, double>> solve_without_many(
    const chain& c, const std::vector<std::vector<std::uint32_t>>& removed, std::size_t threads,
    const std::function<void(std::size_t, std::size_t)>* progress) {
    std::vector<std::pair<double, double>> out(removed.size());
    if (removed.empty()) return out;
    double scale[2] = {0, 0}; // the largest conversion probability and value
    for (std::size_t u = 0; u < c.n; ++u) {
        scale[0] = std::max(scale[0], std::abs(c.x[u]));
        scale[1] = std::max(scale[1], std::abs(c.x_value[u]));
    }
    const std::size_t batches = (removed.size() + many_batch - 1) / many_batch;
    // One thread: a task is a batch, both halves. More: a task is one half,
    // task 2b + h half h of batch b (see width_of).
    const bool halves = threads > 1;
    const std::size_t tasks = halves ? 2 * batches : batches;
    threads = std::max<std::size_t>(1, std::min(threads, tasks));
    // Removals in batches of similar weight (the conversions that pass
    // through the removed states, an upper bound of what the removal changes):
    // the sweeps of a batch stop when its largest change has converged, and
    // batches of small removals converge in fewer sweeps.
    std::vector<std::size_t> by_weight(removed.size());
    std::vector<double> weight(removed.size(), 0.0);
    for (std::size_t g = 0; g < removed.size(); ++g) {
        by_weight[g] = g;
        for (auto t : removed[g]) weight[g] += c.visits[c.row_of[t]] * c.x[c.row_of[t]];
    }
    std::stable_sort(by_weight.begin(), by_weight.end(),
                     [&weight](std::size_t a, std::size_t b) { return weight[a] > weight[b]; });
    std::vector<const std::vector<std::uint32_t>*> sorted(removed.size()); // no copies
    for (std::size_t i = 0; i < removed.size(); ++i) sorted[i] = &removed[by_weight[i]];
    std::vector<double> sorted_out[2] = {std::vector<double>(removed.size()),
                                         std::vector<double>(removed.size())};
    // The terminal rows' solutions side by side: a sweep of both halves reads both at once.
    mapped_vector<double> terminal_x(2 * c.live_begin);
    for (std::size_t v = 0; v < c.live_begin; ++v) {
        terminal_x[2 * v] = c.x[v];
        terminal_x[2 * v + 1] = c.x_value[v];
    }
    std::atomic<std::size_t> next{0};
    std::size_t done = 0;
    std::mutex progress_mutex;
    std::vector<std::exception_ptr> errors(threads);
    auto work = [&](std::size_t t) {
        try {
            // Mapped: a worker thread's scratch (detail/mapped.hpp).
            mapped_vector<std::uint16_t> bits(c.n, 0), terminal_bits(c.live_begin, 0);
            solution_buffer y;
            mapped_vector<std::int16_t> delta;
            for (std::size_t task; (task = next.fetch_add(1)) < tasks;) {
                const auto b = halves ? task / 2 : task;
                const std::size_t first_half = halves ? task % 2 : 0;
                const auto first = b * many_batch;
                const auto count = std::min(many_batch, removed.size() - first);
                double* out_of[2] = {sorted_out[first_half].data() + first,
                                     sorted_out[1].data() + first};
                const unsigned solved =
                    halves ? solve_batch<1>(c, sorted, first, count, first_half, bits,
                                            terminal_bits, terminal_x.data(), y, delta, scale,
                                            out_of)
                           : solve_batch<2>(c, sorted, first, count, 0, bits, terminal_bits,
                                            terminal_x.data(), y, delta, scale, out_of);
                // The halves left: one removal at a time.
                const unsigned wanted = halves ? 1u : 3u;
                if (solved != wanted) {
                    std::vector<char> mask(c.n, 0);
                    for (std::size_t g = 0; g < count; ++g) {
                        for (auto s : *sorted[first + g]) mask[s] = 1;
                        const auto both = solve_without(c, mask);
                        for (std::size_t k = 0; k < (halves ? 1 : 2); ++k)
                            if (!((solved >> k) & 1u))
                                out_of[k][g] = first_half + k == 0 ? both.first : both.second;
                        for (auto s : *sorted[first + g]) mask[s] = 0;
                    }
                }
                if (progress != nullptr && *progress) {
                    const std::lock_guard<std::mutex> lock(progress_mutex);
                    (*progress)(++done, tasks);
                }
            }
        } catch (...) {
            errors[t] = std::current_exception();
            next = tasks;
        }
    };
    std::vector<std::thread> workers;
    for (std::size_t t = 1; t < threads; ++t) workers.emplace_back(work, t);
    work(0);
    for (auto& w : workers) w.join();
    for (const auto& e : errors)
        if (e) std::rethrow_exception(e);
    for (std::size_t i = 0; i < removed.size(); ++i)
        out[by_weight[i]] = {sorted_out[0][i], sorted_out[1][i]};
    return out;
}

std::vector<std::pair<double, double>> solve_without_each(const chain& c,
                                                          const std::vector<std::uint32_t>& states) {
    const auto n = static_cast<long>(c.n);
    Eigen::MatrixXd M = Eigen::MatrixXd::Identity(n, n);
    for (std::uint32_t p = 0; p < c.n; ++p) {
        const auto u = long(p);
        if (!c.diag.empty()) M(u, u) -= c.diag[p];
        for (auto e = c.ptr[p]; e < c.ptr[p + 1]; ++e) M(u, long(c.idx[e])) -= c.val[e];
    }
    const Eigen::MatrixXd F = M.partialPivLu().inverse();
    const auto start = long(c.start);
    std::vector<std::pair<double, double>> out;
    out.reserve(states.size());
    for (auto s : states) {
        if (s == 0) { // START: nothing reaches CONVERSION without it
            out.emplace_back(0.0, 0.0);
            continue;
        }
        const auto u = long(c.row_of[s]);
        const double reach = F(start, u) / F(u, u);
        out.emplace_back(c.x[c.start] - reach * c.x[std::size_t(u)],
                         c.x_value[c.start] - reach * c.x_value[std::size_t(u)]);
    }
    return out;
}

} // namespace journeyloop::detail
