// Internal: the transient part of an absorbing chain and its exact solver.
//
// Why this shape. The order-k state graphs of journeys are sparse and, past
// order 1, mostly acyclic: most strongly connected components (SCCs) are
// single states. Eigen's SparseLU on the whole of I - Q suffers fill-in on
// the large SCCs of higher orders, so instead the chain is condensed into
// its SCCs once (Boost.Graph), and every solve walks the components in
// topological order: a single state is one multiply-add, a small component
// is a dense LU, a large one is Gauss-Seidel to a relative change of 1e-14
// (on the reference data at order 3, a dense LU of its 785-state component
// for every removal was an order of magnitude slower than Gauss-Seidel).
// Removing states only changes the solution of their ancestors, so a removal
// solves only the components that can reach a removed state.
#ifndef JOURNEYLOOP_SRC_CHAIN_SOLVER_HPP
#define JOURNEYLOOP_SRC_CHAIN_SOLVER_HPP

#include <journeyloop/detail/mapped.hpp>

#include <cstddef>
#include <cstdint>
#include <utility>
#include <functional>
#include <vector>

namespace journeyloop::detail {

/// Compressed sparse rows: row i holds (idx[k], val[k]) for k in [ptr[i], ptr[i+1]).
struct csr {
    std::vector<std::size_t> ptr;
    std::vector<std::uint32_t> idx;
    std::vector<double> val;
};

/// The transient chain: t = 0 is START, the others are the channel states.
struct chain {
    std::size_t n = 0;
    csr forward;                 ///< Q, rows are sources
    std::vector<double> r;       ///< P(t -> CONVERSION)
    std::vector<double> r_value; ///< P(t -> CONVERSION) * mean conversion value of t
    /// SCCs numbered sinks first: every edge goes to an equal or lower number.
    std::vector<std::uint32_t> component;
    csr members; ///< members of each component (val unused)
    // The full solution.
    std::vector<double> x;       ///< conversion probability from every state
    std::vector<double> x_value; ///< expected conversion value from every state
    std::vector<double> visits;  ///< expected visits from START (row START of F)
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

/// Builds the chain from Q (as triplets over transient indices) and r, and
/// solves it. Throws numerical_error if an iteration does not converge.
chain build_chain(std::size_t n, std::vector<std::pair<std::uint64_t, double>> q_edges,
                  std::vector<double> r, std::vector<double> r_value);

/// Conversion probability and expected value from START when the states with
/// removed[t] != 0 send everything to NULL. Solves only their ancestors.
std::pair<double, double> solve_without(const chain& c, const std::vector<char>& removed);

/// Orders of the transient states for solve_without_many (ranks, one per
/// state): `layout` places states in memory, `sweep` orders the updates. For
/// order-k chains: layout by channel tuple, so that the successors of a
/// state (which share its last k - 1 channels as their prefix) are
/// contiguous; sweep by those last k - 1 channels, so that states with the
/// same successors are updated together.
struct many_order {
    mapped_vector<std::uint32_t> layout, sweep; // mapped: freed as soon as the chain is laid out
};

/// Removals per batch of solve_without_many.
constexpr std::size_t many_batch = 8;
/// Below this many states times batches, solve_without_many's removals take
/// one thread by default: they take well under 0.1 s, and a second thread
/// would hold a second set of sixteen solutions a state.
constexpr std::size_t two_thread_removal_work = std::size_t{1} << 18;
/// Huge pages for a thread's solutions only from this size: a buffer is
/// rounded up to whole 2 MiB pages, all resident once written.
constexpr std::size_t huge_page_buffer_min = std::size_t{16} << 20;

/// solve_without() for any number of removals, each given as the list of its
/// removed states (`order` is freed once the chain is laid out by it).
/// Removals are solved eight at a time on up to `threads` threads, over one
/// copy of the chain laid out by `order`;
/// components in topological order, the large ones by Gauss-Seidel sweeps
/// that update all sixteen solutions (conversions and value of eight
/// removals) of a state at once, with vector instructions.
/// `progress` (may be null) is called after each batch, one call at a time.
std::vector<std::pair<double, double>> solve_without_many(
    const chain& c, const std::vector<std::vector<std::uint32_t>>& removed, many_order order,
    std::size_t threads,
    const std::function<void(std::size_t, std::size_t)>* progress = nullptr);

/// Removal of every single state s in `states`, by one dense inverse of
/// I - Q: p(-s) = p - P(reach s) x(s), with P(reach s) = F[START, s] / F[s, s].
/// Only for chains with at most dense_inverse_limit states.
std::vector<std::pair<double, double>> solve_without_each(const chain& c,
                                                          const std::vector<std::uint32_t>& states);

} // namespace journeyloop::detail

#endif
