// Exact solves of the absorbing chain by strongly connected components.
#include "chain_solver.hpp"

#include <journeyloop/errors.hpp>

#include <Eigen/Dense>
#include <boost/graph/compressed_sparse_row_graph.hpp>
#include <boost/graph/strong_components.hpp>

#include <algorithm>
#include <cmath>
#include <deque>
#include <string>

namespace journeyloop::detail {

namespace {

csr make_csr(std::size_t n, const std::vector<std::pair<std::uint64_t, double>>& edges,
             bool transpose) {
    csr out;
    out.ptr.assign(n + 1, 0);
    for (const auto& [code, w] : edges) {
        const auto row = transpose ? (code & 0xffffffffu) : (code >> 32);
        ++out.ptr[row + 1];
    }
    for (std::size_t i = 0; i < n; ++i) out.ptr[i + 1] += out.ptr[i];
    out.idx.resize(edges.size());
    out.val.resize(edges.size());
    std::vector<std::size_t> fill(out.ptr.begin(), out.ptr.end() - 1);
    for (const auto& [code, w] : edges) {
        const auto from = static_cast<std::uint32_t>(code >> 32);
        const auto to = static_cast<std::uint32_t>(code & 0xffffffffu);
        const auto row = transpose ? to : from;
        const auto k = fill[row]++;
        out.idx[k] = transpose ? from : to;
        out.val[k] = w;
    }
    return out;
}

// Solves, for the unknowns of `block` (none removed),
//   y_u - sum_{v in block} a(u, v) y_v = b_u + sum_{v outside block, not removed} a(u, v) y_v
// for every right-hand side k (ys[k] in/out, bs[k] in), where row u of `adj`
// holds a(u, .). Values of y outside the block are final.
void solve_block(const csr& adj, const std::vector<std::uint32_t>& block,
                 const std::vector<char>& removed, const std::vector<std::vector<double>*>& ys,
                 const std::vector<const std::vector<double>*>& bs, std::vector<long>& local) {
    const std::size_t m = block.size();
    const std::size_t K = ys.size();
    if (m == 1) {
        const auto u = block[0];
        double diag = 0;
        for (std::size_t k = 0; k < K; ++k) {
            double s = (*bs[k])[u];
            for (auto e = adj.ptr[u]; e < adj.ptr[u + 1]; ++e) {
                const auto v = adj.idx[e];
                if (v == u) {
                    if (k == 0) diag += adj.val[e];
                } else if (!removed[v]) {
                    s += adj.val[e] * (*ys[k])[v];
                }
            }
            (*ys[k])[u] = s / (1.0 - diag);
        }
        return;
    }
    for (std::size_t i = 0; i < m; ++i) local[block[i]] = static_cast<long>(i);
    if (m <= dense_block_limit) {
        Eigen::MatrixXd A = Eigen::MatrixXd::Identity(static_cast<long>(m), static_cast<long>(m));
        Eigen::MatrixXd B(static_cast<long>(m), static_cast<long>(K));
        for (std::size_t i = 0; i < m; ++i) {
            const auto u = block[i];
            for (std::size_t k = 0; k < K; ++k) B(long(i), long(k)) = (*bs[k])[u];
            for (auto e = adj.ptr[u]; e < adj.ptr[u + 1]; ++e) {
                const auto v = adj.idx[e];
                if (removed[v]) continue;
                if (local[v] >= 0) {
                    A(long(i), local[v]) -= adj.val[e];
                } else {
                    for (std::size_t k = 0; k < K; ++k) B(long(i), long(k)) += adj.val[e] * (*ys[k])[v];
                }
            }
        }
        const Eigen::MatrixXd Y = A.partialPivLu().solve(B);
        for (std::size_t i = 0; i < m; ++i)
            for (std::size_t k = 0; k < K; ++k) (*ys[k])[block[i]] = Y(long(i), long(k));
    } else {
        // Gauss-Seidel, warm-started from the values in ys. The matrix is an
        // M-matrix (I minus a substochastic block from which absorption is
        // reachable), so the iteration converges.
        constexpr int max_sweeps = 200000;
        for (std::size_t k = 0; k < K; ++k) {
            auto& y = *ys[k];
            const auto& b = *bs[k];
            int sweep = 0;
            for (;; ++sweep) {
                double change = 0, scale = 0;
                for (auto u : block) {
                    double s = b[u], diag = 0;
                    for (auto e = adj.ptr[u]; e < adj.ptr[u + 1]; ++e) {
                        const auto v = adj.idx[e];
                        if (v == u) diag += adj.val[e];
                        else if (!removed[v]) s += adj.val[e] * y[v];
                    }
                    const double next = s / (1.0 - diag);
                    change = std::max(change, std::abs(next - y[u]));
                    scale = std::max(scale, std::abs(next));
                    y[u] = next;
                }
                if (change <= gauss_seidel_tolerance * scale) break;
                if (sweep == max_sweeps)
                    throw numerical_error("Gauss-Seidel did not converge on a block of " +
                                          std::to_string(m) + " states");
            }
        }
    }
    for (auto u : block) local[u] = -1;
}

} // namespace

chain build_chain(std::size_t n, std::vector<std::pair<std::uint64_t, double>> q_edges,
                  std::vector<double> r, std::vector<double> r_value) {
    std::sort(q_edges.begin(), q_edges.end());
    chain c;
    c.n = n;
    c.forward = make_csr(n, q_edges, false);
    c.backward = make_csr(n, q_edges, true);
    c.r = std::move(r);
    c.r_value = std::move(r_value);

    using graph = boost::compressed_sparse_row_graph<boost::directedS>;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;
    edges.reserve(q_edges.size());
    for (const auto& e : q_edges)
        edges.emplace_back(static_cast<std::uint32_t>(e.first >> 32),
                           static_cast<std::uint32_t>(e.first & 0xffffffffu));
    const graph g(boost::edges_are_sorted, edges.begin(), edges.end(), n);
    std::vector<std::uint32_t> comp(n);
    const auto num = static_cast<std::size_t>(boost::strong_components(
        g, boost::make_iterator_property_map(comp.begin(), get(boost::vertex_index, g))));
    // Tarjan numbers a component after every component it reaches: edges go
    // to lower or equal numbers. Checked, since every solve relies on it.
    for (const auto& [from, to] : edges)
        if (comp[to] > comp[from])
            throw numerical_error("internal error: components are not in topological order");
    c.component = std::move(comp);
    c.members.ptr.assign(num + 1, 0);
    for (auto k : c.component) ++c.members.ptr[k + 1];
    for (std::size_t k = 0; k < num; ++k) c.members.ptr[k + 1] += c.members.ptr[k];
    c.members.idx.resize(n);
    std::vector<std::size_t> fill(c.members.ptr.begin(), c.members.ptr.end() - 1);
    for (std::uint32_t t = 0; t < n; ++t) c.members.idx[fill[c.component[t]]++] = t;

    // Full solution: absorption forward (sinks first), visits backward
    // (sources first).
    const std::vector<char> none(n, 0);
    std::vector<long> local(n, -1);
    c.x.assign(n, 0.0);
    c.x_value.assign(n, 0.0);
    std::vector<double> start(n, 0.0);
    start[0] = 1.0;
    c.visits.assign(n, 0.0);
    std::vector<std::uint32_t> block;
    for (std::size_t k = 0; k < num; ++k) {
        block.assign(c.members.idx.begin() + long(c.members.ptr[k]),
                     c.members.idx.begin() + long(c.members.ptr[k + 1]));
        solve_block(c.forward, block, none, {&c.x, &c.x_value}, {&c.r, &c.r_value}, local);
    }
    for (std::size_t k = num; k-- > 0;) {
        block.assign(c.members.idx.begin() + long(c.members.ptr[k]),
                     c.members.idx.begin() + long(c.members.ptr[k + 1]));
        solve_block(c.backward, block, none, {&c.visits}, {&start}, local);
    }
    return c;
}

std::pair<double, double> solve_without(const chain& c, const std::vector<char>& removed) {
    // Ancestors of the removed states: the only states whose values change.
    std::vector<char> affected(c.n, 0);
    std::deque<std::uint32_t> queue;
    for (std::uint32_t t = 0; t < c.n; ++t)
        if (removed[t]) queue.push_back(t);
    while (!queue.empty()) {
        const auto t = queue.front();
        queue.pop_front();
        for (auto e = c.backward.ptr[t]; e < c.backward.ptr[t + 1]; ++e) {
            const auto s = c.backward.idx[e];
            if (!affected[s] && !removed[s]) {
                affected[s] = 1;
                queue.push_back(s);
            }
        }
    }
    if (removed[0]) return {0.0, 0.0};
    if (!affected[0]) return {c.x[0], c.x_value[0]};

    std::vector<std::uint32_t> comps;
    for (std::uint32_t t = 0; t < c.n; ++t)
        if (affected[t]) comps.push_back(c.component[t]);
    std::sort(comps.begin(), comps.end());
    comps.erase(std::unique(comps.begin(), comps.end()), comps.end());

    std::vector<double> y = c.x, y_value = c.x_value;
    for (std::uint32_t t = 0; t < c.n; ++t)
        if (removed[t]) y[t] = y_value[t] = 0.0;
    std::vector<long> local(c.n, -1);
    std::vector<std::uint32_t> block;
    for (auto k : comps) {
        block.clear();
        for (auto i = c.members.ptr[k]; i < c.members.ptr[k + 1]; ++i)
            if (!removed[c.members.idx[i]]) block.push_back(c.members.idx[i]);
        if (block.empty()) continue;
        solve_block(c.forward, block, removed, {&y, &y_value}, {&c.r, &c.r_value}, local);
        // Components numbered above START's cannot be reached from START.
        if (k == c.component[0]) break;
    }
    return {y[0], y_value[0]};
}

std::vector<std::pair<double, double>> solve_without_batch(
    const chain& c, const std::vector<std::vector<char>>& removed) {
    const std::size_t A = removed.size();
    if (A == 0) return {};
    if (A > 64) throw numerical_error("internal error: more than 64 removals in a batch");
    std::vector<std::uint64_t> mask(c.n, 0);
    for (std::size_t a = 0; a < A; ++a)
        for (std::uint32_t t = 0; t < c.n; ++t)
            if (removed[a][t]) mask[t] |= std::uint64_t{1} << a;
    std::vector<double> y(c.n * A), y_value(c.n * A);
    for (std::uint32_t t = 0; t < c.n; ++t)
        for (std::size_t a = 0; a < A; ++a) {
            const bool gone = (mask[t] >> a) & 1;
            y[t * A + a] = gone ? 0.0 : c.x[t];
            y_value[t * A + a] = gone ? 0.0 : c.x_value[t];
        }
    std::vector<double> sum(A), sum_value(A), change(2 * A), scale(2 * A);
    // One Gauss-Seidel update of state u for every removal; returns nothing,
    // records the changes.
    auto update = [&](std::uint32_t u) {
        double diag = 0;
        std::fill(sum.begin(), sum.end(), c.r[u]);
        std::fill(sum_value.begin(), sum_value.end(), c.r_value[u]);
        for (auto e = c.forward.ptr[u]; e < c.forward.ptr[u + 1]; ++e) {
            const auto v = c.forward.idx[e];
            const double w = c.forward.val[e];
            if (v == u) {
                diag += w;
                continue;
            }
            const double* yv = y.data() + std::size_t{v} * A;
            const double* yvv = y_value.data() + std::size_t{v} * A;
            for (std::size_t a = 0; a < A; ++a) {
                sum[a] += w * yv[a];
                sum_value[a] += w * yvv[a];
            }
        }
        double* yu = y.data() + std::size_t{u} * A;
        double* yuv = y_value.data() + std::size_t{u} * A;
        for (std::size_t a = 0; a < A; ++a) {
            if ((mask[u] >> a) & 1) continue;
            const double next = sum[a] / (1.0 - diag);
            const double next_value = sum_value[a] / (1.0 - diag);
            change[2 * a] = std::max(change[2 * a], std::abs(next - yu[a]));
            change[2 * a + 1] = std::max(change[2 * a + 1], std::abs(next_value - yuv[a]));
            scale[2 * a] = std::max(scale[2 * a], std::abs(next));
            scale[2 * a + 1] = std::max(scale[2 * a + 1], std::abs(next_value));
            yu[a] = next;
            yuv[a] = next_value;
        }
    };
    constexpr int max_sweeps = 200000;
    const auto start_comp = c.component[0];
    for (std::size_t k = 0; k <= start_comp; ++k) {
        const auto begin = c.members.ptr[k], end = c.members.ptr[k + 1];
        for (int sweep = 0;; ++sweep) {
            std::fill(change.begin(), change.end(), 0.0);
            std::fill(scale.begin(), scale.end(), 0.0);
            for (auto i = begin; i < end; ++i) update(c.members.idx[i]);
            // A single state without a self-loop is exact after one update.
            bool done = end - begin == 1;
            if (!done) {
                done = true;
                for (std::size_t j = 0; j < 2 * A; ++j)
                    done = done && change[j] <= gauss_seidel_tolerance * scale[j];
            }
            if (done) break;
            if (sweep == max_sweeps)
                throw numerical_error("Gauss-Seidel did not converge on a block of " +
                                      std::to_string(end - begin) + " states");
        }
    }
    std::vector<std::pair<double, double>> out(A);
    for (std::size_t a = 0; a < A; ++a) out[a] = {y[a], y_value[a]};
    return out;
}

std::vector<std::pair<double, double>> solve_without_each(const chain& c,
                                                          const std::vector<std::uint32_t>& states) {
    const auto n = static_cast<long>(c.n);
    Eigen::MatrixXd M = Eigen::MatrixXd::Identity(n, n);
    for (std::size_t u = 0; u < c.n; ++u)
        for (auto e = c.forward.ptr[u]; e < c.forward.ptr[u + 1]; ++e)
            M(long(u), long(c.forward.idx[e])) -= c.forward.val[e];
    const Eigen::MatrixXd F = M.partialPivLu().inverse();
    std::vector<std::pair<double, double>> out;
    out.reserve(states.size());
    for (auto s : states) {
        if (s == 0) {
            out.emplace_back(0.0, 0.0);
            continue;
        }
        const double reach = F(0, long(s)) / F(long(s), long(s));
        out.emplace_back(c.x[0] - reach * c.x[s], c.x_value[0] - reach * c.x_value[s]);
    }
    return out;
}

} // namespace journeyloop::detail
