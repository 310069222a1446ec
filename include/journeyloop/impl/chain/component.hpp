// Internal: solving the chain one strongly connected component at a time.
#ifndef JOURNEYLOOP_SRC_CHAIN_COMPONENT_HPP
#define JOURNEYLOOP_SRC_CHAIN_COMPONENT_HPP

#include <journeyloop/impl/chain/rows.hpp>

#include <journeyloop/detail/mapped.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace journeyloop::detail {

/// Gauss-Seidel gives up on a block after this many sweeps.
constexpr int gauss_seidel_max_sweeps = 200000;
/// Right-hand sides a component solve takes at most.
constexpr std::size_t max_right_hand_sides = 4;

/// The systems a component solve works on: for the unknowns of a block
/// (rows, none removed) and every right-hand side k < sides,
///   y_u - sum_{v in block} a(u, v) y_v = b_k(u) + sum_{v outside block, not removed} a(u, v) y_v
/// with b_k(u) = b[b_stride * u + k_stride * k] and ys[k] the solution k,
/// by row (in and out; values outside the block are final).
struct block_system {
    adjacency a;
    const std::vector<char>& removed; ///< by row
    double* const* ys;
    std::size_t sides;
    const double* b;
    std::size_t b_stride;
    std::size_t k_stride;

    double rhs(std::uint32_t u, std::size_t k) const noexcept {
        return b[b_stride * u + k_stride * k];
    }
};

/// The scratch of component solves over a chain of n rows, reused from one
/// component to the next: the block's rows, each row's position in the
/// block (-1 outside it: all -1 between solves), and Gauss-Seidel's arrays
/// (mapped when large: solves run on worker threads too, see
/// detail/mapped.hpp). Those hold, by position in the block, one over
/// (1 minus the row's self-loop) and each row's constant: its right-hand side
/// plus its edges to rows outside the block (final during the solve), so
/// divided; and the solutions of the block's rows side by side, `sides`
/// numbers a row from the block's first row on (the removed rows among
/// them held at 0), with their values before an extrapolation step.
struct component_workspace {
    explicit component_workspace(std::size_t n, std::size_t largest_block = 0) : local(n, -1) {
        block.reserve(largest_block);
    }
    std::vector<std::uint32_t> block;
    std::vector<long> local;
    mapped_vector<double> inv, constant, y, before;
};

/// Solves `sys` for the rows in ws.block (in update order: a block's rows
/// are read in storage order): one state directly, up to dense_block_limit
/// states by dense LU, larger blocks by Gauss-Seidel warm-started from ys
/// (or by sparse LU when it converges too slowly). Throws numerical_error if
/// neither converges.
void solve_block(const block_system& sys, component_workspace& ws);

/// Solves `sys` for the rows [begin, end) of a component that are not
/// removed (nothing if all are), updating them in row order, or with
/// `reverse` in the opposite order: the order of the transposed system,
/// whose rows read the rows of their predecessors (the visits).
void solve_component(const block_system& sys, std::size_t begin, std::size_t end,
                     component_workspace& ws, bool reverse = false);

/// Whether Gauss-Seidel, whose last two sweeps changed a solution by
/// `previous` then `change`, would need more than `sweeps_left` sweeps to
/// bring the change below `tolerance` at that rate.
bool too_slow(double change, double previous, double tolerance, int sweeps_left);

} // namespace journeyloop::detail

#endif
