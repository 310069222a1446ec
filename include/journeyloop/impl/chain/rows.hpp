// Internal: the sparse rows the chain solver works on.
#ifndef JOURNEYLOOP_SRC_CHAIN_ROWS_HPP
#define JOURNEYLOOP_SRC_CHAIN_ROWS_HPP

#include <journeyloop/impl/chain_solver.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace journeyloop::detail {

/// Compressed sparse rows: row i holds (idx[k], val[k]) for k in
/// [ptr[i], ptr[i+1]).
struct csr {
    std::vector<std::size_t> ptr;
    std::vector<std::uint32_t> idx;
    std::vector<double> val;
};

/// The edges of a graph both ways: out row u holds the states u reads (its
/// successors) with their probabilities, in row v the states that read v.
struct local_edges {
    csr out, in;
};

/// An order of the graph's states for Gauss-Seidel, first updated to last,
/// that puts little of the edges' weight on edges to later states (whose
/// values are stale when read): Eades, Lin and Smyth's greedy heuristic for
/// a small feedback arc set (see build.ipp).
std::vector<std::uint32_t> greedy_sequence(const local_edges& g);

/// The coefficients a(u, .) of the rows of a system: the edges of row u are
/// at CSR row u, plus the self-loop diag[u] when diag is not null.
struct adjacency {
    const std::size_t* ptr;
    const std::uint32_t* idx;
    const double* val;
    const double* diag;
};

/// Q of the chain, by row.
inline adjacency forward_of(const chain& c) {
    return {c.ptr.data(), c.idx.data(), c.val.data(), c.diag.empty() ? nullptr : c.diag.data()};
}

} // namespace journeyloop::detail

#endif
