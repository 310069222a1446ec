// Solving one strongly connected component of the chain: one state
// directly, a small component by dense LU, a large one by Gauss-Seidel.
#ifndef JOURNEYLOOP_IMPL_CHAIN_COMPONENT_IPP
#define JOURNEYLOOP_IMPL_CHAIN_COMPONENT_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/impl/chain/component.hpp>

#include <journeyloop/errors.hpp>
#include <journeyloop/interrupt.hpp>

#include <Eigen/Dense>
#include <Eigen/SparseLU>

#include <algorithm>
#include <cmath>
#include <string>

namespace journeyloop::detail {

JOURNEYLOOP_IMPL_INLINE bool too_slow(double change, double previous, double tolerance,
                                      int sweeps_left) {
    if (change <= tolerance) return false;
    if (!(previous > 0) || change >= previous) return true;
    const double needed = std::log(tolerance / change) / std::log(change / previous);
    return needed > sweeps_left;
}

JOURNEYLOOP_IMPL_NAMESPACE(chain_component_1) {

// A component of one state: its self-loop (stored apart or as an edge) is
// the only coefficient inside the block.
JOURNEYLOOP_IMPL_INLINE void solve_single(const block_system& sys, std::uint32_t u) {
    const auto& a = sys.a;
    double diag = a.diag != nullptr ? a.diag[u] : 0.0;
    for (auto e = a.ptr[u]; e < a.ptr[u + 1]; ++e)
        if (a.idx[e] == u) diag += a.val[e];
    for (std::size_t k = 0; k < sys.sides; ++k) {
        double s = sys.rhs(u, k);
        for (auto e = a.ptr[u]; e < a.ptr[u + 1]; ++e) {
            const auto v = a.idx[e];
            if (v != u && !sys.removed[v]) s += a.val[e] * sys.ys[k][v];
        }
        sys.ys[k][u] = s / (1.0 - diag);
    }
}

// A direct solve of the block: dense LU up to dense_block_limit states,
// sparse LU beyond (only for blocks on which Gauss-Seidel is too slow).
// `local` gives each row's position in the block.
JOURNEYLOOP_IMPL_INLINE void solve_direct(const block_system& sys,
                                          const std::vector<std::uint32_t>& block,
                                          const std::vector<long>& local) {
    const auto& adj = sys.a;
    const std::size_t m = block.size(), K = sys.sides;
    Eigen::MatrixXd B(static_cast<long>(m), static_cast<long>(K));
    std::vector<Eigen::Triplet<double>> a;
    for (std::size_t i = 0; i < m; ++i) {
        const auto u = block[i];
        a.emplace_back(long(i), long(i), 1.0);
        if (adj.diag != nullptr && adj.diag[u] != 0) a.emplace_back(long(i), long(i), -adj.diag[u]);
        for (std::size_t k = 0; k < K; ++k) B(long(i), long(k)) = sys.rhs(u, k);
        for (auto e = adj.ptr[u]; e < adj.ptr[u + 1]; ++e) {
            const auto v = adj.idx[e];
            if (sys.removed[v]) continue;
            if (local[v] >= 0) {
                a.emplace_back(long(i), local[v], -adj.val[e]);
            } else {
                for (std::size_t k = 0; k < K; ++k)
                    B(long(i), long(k)) += adj.val[e] * sys.ys[k][v];
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
        for (std::size_t k = 0; k < K; ++k) sys.ys[k][block[i]] = Y(long(i), long(k));
}

// Gauss-Seidel's arrays for the block (component_workspace). The block's
// rows span [first, first + span) (a component less its removed rows); the
// solutions of that span are held side by side, the removed rows' at 0 (they
// add nothing), any other row's at its final value. The rows outside the
// span are final during the solve, so their terms are added once, to each
// row's constant: the sweeps gather only from an array the size of the
// block.
struct block_span {
    std::uint32_t first;
    std::size_t span;
};

JOURNEYLOOP_IMPL_INLINE block_span prepare_block(const block_system& sys, component_workspace& ws) {
    const auto& block = ws.block;
    const auto& adj = sys.a;
    const std::size_t m = block.size(), K = sys.sides;
    const auto [lo, hi] = std::minmax_element(block.begin(), block.end());
    const block_span range{*lo, std::size_t{*hi} - *lo + 1};
    ws.y.assign(range.span * K, 0.0);
    for (std::size_t r = 0; r < range.span; ++r)
        if (!sys.removed[range.first + r])
            for (std::size_t k = 0; k < K; ++k) ws.y[r * K + k] = sys.ys[k][range.first + r];
    ws.inv.resize(m);
    ws.constant.resize(m * K);
    for (std::size_t i = 0; i < m; ++i) {
        const auto u = block[i];
        double diag = adj.diag != nullptr ? adj.diag[u] : 0.0;
        double sum[max_right_hand_sides];
        for (std::size_t k = 0; k < K; ++k) sum[k] = sys.rhs(u, k);
        for (auto e = adj.ptr[u]; e < adj.ptr[u + 1]; ++e) {
            const auto v = adj.idx[e];
            if (v == u) diag += adj.val[e];
            else if (v - std::size_t{range.first} >= range.span && !sys.removed[v])
                for (std::size_t k = 0; k < K; ++k) sum[k] += adj.val[e] * sys.ys[k][v];
        }
        const double inv = 1.0 / (1.0 - diag);
        ws.inv[i] = inv;
        for (std::size_t k = 0; k < K; ++k) ws.constant[i * K + k] = sum[k] * inv;
    }
    return range;
}

// One Gauss-Seidel sweep over the block, every right-hand side in one pass
// over the edges; records each solution's largest change and magnitude. An
// edge to a row outside the block's span (in its constant) or to the row
// itself (in its inverse) is passed over.
// The solutions of a row a few positions ahead are fetched early: the sweep
// waits on the rows it gathers.
JOURNEYLOOP_IMPL_INLINE void sweep_block(const block_system& sys, component_workspace& ws,
                                         block_span range, double* change, double* scale) {
    const auto& block = ws.block;
    const auto& adj = sys.a;
    const std::size_t m = block.size(), K = sys.sides;
    const double* const inv = ws.inv.data();
    const double* const constant = ws.constant.data();
    double* const y = ws.y.data();
    constexpr std::size_t ahead = 8;
    for (std::size_t i = 0; i < m; ++i) {
        if (i + ahead < m) {
            const auto w = block[i + ahead];
            if (adj.ptr[w] < adj.ptr[w + 1]) {
                const std::size_t at = adj.idx[adj.ptr[w + 1] - 1] - std::size_t{range.first};
                if (at < range.span) __builtin_prefetch(y + at * K);
            }
        }
        const auto u = block[i];
        double sum[max_right_hand_sides] = {};
        for (auto e = adj.ptr[u]; e < adj.ptr[u + 1]; ++e) {
            const auto v = adj.idx[e];
            const std::size_t at = v - std::size_t{range.first};
            if (at >= range.span || v == u) continue;
            const double w = adj.val[e];
            for (std::size_t k = 0; k < K; ++k) sum[k] += w * y[at * K + k];
        }
        double* const yu = y + (u - std::size_t{range.first}) * K;
        for (std::size_t k = 0; k < K; ++k) {
            const double next = constant[i * K + k] + sum[k] * inv[i];
            change[k] = std::max(change[k], std::abs(next - yu[k]));
            scale[k] = std::max(scale[k], std::abs(next));
            yu[k] = next;
        }
    }
}

// Geometric extrapolation: the error shrinks by a nearly constant factor
// lambda a sweep (the ratio of two successive largest changes), so the rest
// of the series, lambda / (1 - lambda) times the last step, is added at once.
JOURNEYLOOP_IMPL_INLINE void extrapolate_block(component_workspace& ws, std::size_t K,
                                               const double* change, const double* previous) {
    const std::size_t n = ws.y.size() / K; // rows not in the block: unchanged
    for (std::size_t k = 0; k < K; ++k) {
        const double lambda = previous[k] > 0 ? change[k] / previous[k] : 0.0;
        if (!(lambda > 0 && lambda < 0.9)) continue;
        const double factor = lambda / (1.0 - lambda);
        for (std::size_t r = 0; r < n; ++r)
            ws.y[r * K + k] += factor * (ws.y[r * K + k] - ws.before[r * K + k]);
    }
}

// Gauss-Seidel, warm-started from the values in ys, on the block's own
// arrays (prepare_block), written back at the end. The matrix is an M-matrix (I minus
// a substochastic block from which absorption is reachable), so the
// iteration converges; on large blocks it extrapolates every eighth sweep,
// until an extrapolation is followed by a larger change.
JOURNEYLOOP_IMPL_INLINE void gauss_seidel(const block_system& sys, component_workspace& ws) {
    const auto& block = ws.block;
    const std::size_t m = block.size(), K = sys.sides;
    if (K > max_right_hand_sides)
        throw numerical_error("internal error: too many right-hand sides");
    const auto range = prepare_block(sys, ws);
    auto write_back = [&] {
        for (const auto u : block)
            for (std::size_t k = 0; k < K; ++k)
                sys.ys[k][u] = ws.y[(u - std::size_t{range.first}) * K + k];
    };
    constexpr int extrapolate_every = 8;
    bool extrapolate = m > 1000;
    double previous[max_right_hand_sides] = {}, before_jump = 0;
    bool jumped = false, jumped_last = false, rate_checked = false;
    for (int sweep = 0;; ++sweep) {
        detail::stop_point();
        double change[max_right_hand_sides] = {}, scale[max_right_hand_sides] = {};
        const bool jump = extrapolate && sweep % extrapolate_every == extrapolate_every - 1;
        if (jump) ws.before.assign(ws.y.begin(), ws.y.end());
        sweep_block(sys, ws, range, change, scale);
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
            extrapolate_block(ws, K, change, previous);
            before_jump = largest;
            jumped = true;
        }
        // Nearly closed blocks (journeys of thousands of touches over few
        // states: absorption once in many steps) converge too slowly to
        // iterate: once, past slow_block_sweeps (on a sweep clear of the
        // extrapolation), a block of moderate size whose rate would not
        // reach the tolerance within the sweeps allowed is solved directly.
        if (!rate_checked && sweep >= slow_block_sweeps && !jump && !jumped_last) {
            rate_checked = true;
            bool slow = false;
            for (std::size_t k = 0; k < K; ++k)
                slow = slow || too_slow(change[k], previous[k], gauss_seidel_tolerance * scale[k],
                                        gauss_seidel_max_sweeps - sweep);
            if (slow && m <= slow_block_direct_limit) {
                write_back();
                solve_direct(sys, block, ws.local);
                return;
            }
        }
        jumped_last = jump;
        std::copy(change, change + K, previous);
        if (sweep == gauss_seidel_max_sweeps)
            throw numerical_error("Gauss-Seidel did not converge on a block of " +
                                  std::to_string(m) + " states");
    }
    write_back();
}

} // JOURNEYLOOP_IMPL_NAMESPACE(chain_component_1)

JOURNEYLOOP_IMPL_INLINE void solve_block(const block_system& sys, component_workspace& ws) {
    const auto& block = ws.block;
    if (block.size() == 1) {
        solve_single(sys, block[0]);
        return;
    }
    for (std::size_t i = 0; i < block.size(); ++i) ws.local[block[i]] = static_cast<long>(i);
    if (block.size() <= dense_block_limit) solve_direct(sys, block, ws.local);
    else gauss_seidel(sys, ws);
    for (auto u : block) ws.local[u] = -1;
}

JOURNEYLOOP_IMPL_INLINE void solve_component(const block_system& sys, std::size_t begin,
                                             std::size_t end, component_workspace& ws,
                                             bool reverse) {
    ws.block.clear(); // in update order: the edges are read in storage order
    for (auto u = begin; u < end; ++u)
        if (!sys.removed[u]) ws.block.push_back(static_cast<std::uint32_t>(u));
    if (reverse) std::reverse(ws.block.begin(), ws.block.end());
    if (!ws.block.empty()) solve_block(sys, ws);
}

} // namespace journeyloop::detail

#endif // JOURNEYLOOP_IMPL_CHAIN_COMPONENT_IPP
