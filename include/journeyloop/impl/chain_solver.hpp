// Internal: the transient part of an absorbing chain and its exact solver.
//
// Why this shape. The order-k state graphs of journeys are sparse and, past
// order 1, mostly acyclic: most strongly connected components (SCCs) are
// single states. Eigen's SparseLU on the whole of I - Q suffers fill-in on
// the large SCCs of higher orders, so instead the chain is condensed into
// its SCCs once (Tarjan's algorithm), and every solve walks the components in
// topological order: a single state is one multiply-add, a small component
// is a dense LU, a large one is Gauss-Seidel to a relative change of 1e-14
// (a dense or sparse LU of the large components for every removal was
// slower by one to three orders of magnitude: bench/results/solver_choice.txt).
// Removing states only changes the solution of their ancestors, so a removal
// solves only the components that can reach a removed state.
//
// The implementation, in include/journeyloop/impl/chain/:
//   build.ipp      build_chain: condensation, row order, full solution;
//                  relayout_chain: a refit on a fitted chain's layout
//   component.*    solving one component (one state, dense LU, Gauss-Seidel)
//   removal.ipp    solve_without (one removal), solve_without_each (dense inverse)
//   batched.ipp    solve_without_many: batches of removals shared out between threads
//   batch.*        one batch of removals over the whole chain
//   sweep.*        the vectorised Gauss-Seidel sweep of a batch
//   workspace.*    the scratch a thread of batched removals owns
//   rows.hpp       sparse rows shared by the above
#ifndef JOURNEYLOOP_SRC_CHAIN_SOLVER_HPP
#define JOURNEYLOOP_SRC_CHAIN_SOLVER_HPP

#include <cstddef>
#include <cstdint>
#include <utility>
#include <functional>
#include <optional>
#include <vector>

namespace journeyloop::detail {

/// The transient chain, stored once in the order the batched removals sweep
/// it. Transient index 0 is START, the others the channel states; the chain
/// numbers them by rows: components (strongly connected, sinks first: every
/// edge goes to a row of an equal or lower component) one after the other,
/// the terminal states first, each in the finishing order of a depth-first
/// search of Q from START, heavier successors first, and the components of
/// at least greedy_order_min_states states in a greedy order that puts less
/// of their weight on edges to later rows (see impl/chain/build.ipp).
/// Q is stored by rows, in the update order: row u is updated from its edges
/// ptr[u] .. ptr[u + 1] to other rows and its self-loop diag[u] (diag is
/// empty when no state has one, as in every chain whose repeats are
/// collapsed).
struct chain {
    std::size_t n = 0;
    std::uint32_t start = 0;           ///< START's row
    std::vector<std::uint32_t> row_of; ///< transient index -> row
    std::vector<std::size_t> ptr;      ///< by row
    std::vector<std::uint32_t> idx;    ///< rows
    std::vector<double> val;
    std::vector<double> diag; ///< by row, or empty
    /// Row u: P(-> CONVERSION) at u, times the mean value at n + u.
    std::vector<double> base;
    std::vector<std::size_t> component_end; ///< component k: rows [end[k - 1], end[k])
    std::size_t start_component = 0;        ///< START's component
    /// Rows below it are the terminal states (no transient successor, not
    /// even themselves), each a component: their solutions are constants,
    /// x = P(-> CONVERSION), that no removal changes but their own.
    std::size_t live_begin = 0;
    // The full solution, by row.
    std::vector<double> x;       ///< conversion probability from every state
    std::vector<double> x_value; ///< expected conversion value from every state
    std::vector<double> visits;  ///< expected visits from START (row START of F)

    std::size_t component_begin(std::size_t k) const noexcept {
        return k == 0 ? 0 : component_end[k - 1];
    }
    std::size_t components() const noexcept { return component_end.size(); }
    /// Self-loop probability of row u.
    double self_loop(std::uint32_t u) const noexcept { return diag.empty() ? 0.0 : diag[u]; }
};

/// Largest block solved by dense LU; larger blocks use Gauss-Seidel.
constexpr std::size_t dense_block_limit = 128;
/// Largest chain whose single-state removals all come from one dense inverse
/// (solve_without_each): n^3 flops once instead of a solve per state.
constexpr std::size_t dense_inverse_limit = 3000;
/// Gauss-Seidel stops when no value changes by more than this, relative to
/// the largest value of the block.
constexpr double gauss_seidel_tolerance = 1e-14;
/// A block of at most slow_block_direct_limit states that Gauss-Seidel has
/// not solved in slow_block_sweeps sweeps, and whose rate of convergence
/// would not reach the tolerance within the 200,000 sweeps allowed, is
/// solved by sparse LU instead (the fit and single removals; batched
/// removals then solve such a batch one removal at a time). Nearly closed
/// chains, such as a few journeys of thousands of touches, absorb once in
/// many steps. The limit bounds the LU's worst case (full fill-in) at 2 GB.
constexpr int slow_block_sweeps = 2000;
constexpr std::size_t slow_block_direct_limit = 16384;

/// Builds the chain from Q (as (source << 32 | target, p) over transient
/// indices) and r, and solves it. Throws numerical_error if an iteration
/// does not converge.
/// `progress` (may be null) is called with the transient states solved
/// after each component of the absorption solve.
chain build_chain(std::size_t n, std::vector<std::pair<std::uint64_t, double>> q_edges,
                  std::vector<double> r, std::vector<double> r_value,
                  const std::function<void(std::size_t, std::size_t)>* progress = nullptr);

/// The chain of new probabilities laid out as `old`: `old_row[t]` is the row
/// of `old` that new transient state t takes the place of (distinct rows;
/// rows no state takes are left out). q_edges (sorted), r and r_value are
/// over the new transient indices, as for build_chain. The rows keep their
/// order and components (a component left without some states is still
/// solved as one block), and every solve starts from `old`'s solution.
/// Returns nothing, having solved nothing, if an edge would break the
/// layout: one to a row of a later component, or one leaving a terminal
/// row for a transient state.
std::optional<chain> relayout_chain(const chain& old, const std::vector<std::uint32_t>& old_row,
                                    const std::vector<std::pair<std::uint64_t, double>>& q_edges,
                                    const std::vector<double>& r,
                                    const std::vector<double>& r_value,
                                    const std::function<void(std::size_t, std::size_t)>* progress);

/// Conversion probability and expected value from START when the transient
/// states t with removed[t] != 0 send everything to NULL. Solves only their
/// ancestors.
std::pair<double, double> solve_without(const chain& c, const std::vector<char>& removed);

/// Removals per batch of solve_without_many.
constexpr std::size_t many_batch = 8;
/// Below this many states times batches, solve_without_many's removals take
/// one thread by default: they are short, and a thread costs more than it
/// saves.
constexpr std::size_t two_thread_removal_work = std::size_t{1} << 18;

/// solve_without() for any number of removals, each given as the list of its
/// removed transient states. Removals are solved eight at a time on up to
/// `threads` threads, over the chain as stored; components in topological
/// order, the large ones by Gauss-Seidel sweeps that update eight solutions
/// of a state at once, with vector instructions. A batch is two systems of
/// eight (conversions and value): one thread solves both in the same sweeps,
/// sixteen solutions a state; two or more solve them apart, one a thread, so
/// that the solutions held are sixteen a live state on two threads as on
/// one. The results are the same either way, to the last bit.
/// `progress` (may be null) is called after each task (a batch on one
/// thread, a half of one on several), one call at a time.
std::vector<std::pair<double, double>> solve_without_many(
    const chain& c, const std::vector<std::vector<std::uint32_t>>& removed, std::size_t threads,
    const std::function<void(std::size_t, std::size_t)>* progress = nullptr);

/// Removal of every single transient state s in `states`, by one dense inverse of
/// I - Q: p(-s) = p - P(reach s) x(s), with P(reach s) = F[START, s] / F[s, s].
/// Only for chains with at most dense_inverse_limit states.
std::vector<std::pair<double, double>> solve_without_each(const chain& c,
                                                          const std::vector<std::uint32_t>& states);

} // namespace journeyloop::detail

#endif
