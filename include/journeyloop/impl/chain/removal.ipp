// Single removals: over the ancestors of the removed states, or all of them
// at once from one dense inverse.
#ifndef JOURNEYLOOP_IMPL_CHAIN_REMOVAL_IPP
#define JOURNEYLOOP_IMPL_CHAIN_REMOVAL_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/impl/chain/component.hpp>
#include <journeyloop/impl/chain/rows.hpp>

#include <Eigen/Dense>

namespace journeyloop::detail {

JOURNEYLOOP_IMPL_NAMESPACE(chain_removal_1) {

// The rows of the transient states marked in `removed` (by transient index).
JOURNEYLOOP_IMPL_INLINE std::vector<char> rows_marked(const chain& c,
                                                      const std::vector<char>& removed) {
    std::vector<char> out(c.n, 0);
    for (std::uint32_t t = 0; t < c.n; ++t)
        if (removed[t]) out[c.row_of[t]] = 1;
    return out;
}

// The components whose solutions change when the rows in `removed` send
// everything to NULL, and their states (`affected`, not the removed ones):
// the ancestors of the removed states. One pass over the components, sinks
// first (every edge goes to an equal or lower component): a component is
// affected if one of its states has an edge to a removed or affected state
// of a lower component, or if it has two or more states and one is removed
// (all of them reach it). Only up to START's: the others cannot be reached.
JOURNEYLOOP_IMPL_INLINE std::vector<std::size_t> affected_components(
    const chain& c, const std::vector<char>& removed, std::vector<char>& affected) {
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
    return comps;
}

} // JOURNEYLOOP_IMPL_NAMESPACE(chain_removal_1)

JOURNEYLOOP_IMPL_INLINE std::pair<double, double> solve_without(
    const chain& c, const std::vector<char>& removed_states) {
    const auto removed = rows_marked(c, removed_states);
    std::vector<char> affected(c.n, 0);
    const auto comps = affected_components(c, removed, affected);
    if (removed[c.start]) return {0.0, 0.0};
    if (!affected[c.start]) return {c.x[c.start], c.x_value[c.start]};

    std::vector<double> y = c.x, y_value = c.x_value;
    for (std::uint32_t u = 0; u < c.n; ++u)
        if (removed[u]) y[u] = y_value[u] = 0.0;
    component_workspace ws(c.n);
    double* ys[2] = {y.data(), y_value.data()};
    const block_system sys{forward_of(c), removed, ys, 2, c.base.data(), 1, c.n};
    for (auto k : comps) // in update order, as in the fit
        solve_component(sys, c.component_begin(k), c.component_end[k], ws);
    return {y[c.start], y_value[c.start]};
}

JOURNEYLOOP_IMPL_INLINE std::vector<std::pair<double, double>> solve_without_each(
    const chain& c, const std::vector<std::uint32_t>& states) {
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

#endif // JOURNEYLOOP_IMPL_CHAIN_REMOVAL_IPP
