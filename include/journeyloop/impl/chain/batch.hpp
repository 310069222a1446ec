// Internal: one batch of removals solved together over the whole chain.
#ifndef JOURNEYLOOP_SRC_CHAIN_BATCH_HPP
#define JOURNEYLOOP_SRC_CHAIN_BATCH_HPP

#include <journeyloop/impl/chain/workspace.hpp>

#include <journeyloop/detail/mapped.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace journeyloop::detail {

/// What every batch of one solve_without_many call shares.
struct removal_job {
    const chain& c;
    /// The removals in the order they are batched (each the list of its
    /// removed transient states; not copies).
    std::vector<const std::vector<std::uint32_t>*> removed;
    /// x and the value of each terminal row side by side (row v at 2v,
    /// 2v + 1): a sweep of both halves reads both at once.
    mapped_vector<double> terminal_x;
    /// The largest conversion probability and value of the unperturbed chain.
    double scale[2] = {0, 0};
};

/// One batch: removals job.removed[first .. first + count), count <=
/// many_batch; the halves from first_half on (0: conversions, 1: value);
/// half k's solutions go to out[k][0 .. count).
struct batch_request {
    std::size_t first = 0;
    std::size_t count = 0;
    std::size_t first_half = 0;
    double* out[2] = {nullptr, nullptr};
};

/**
 * Solves Halves halves of one batch over the chain, in `ws` (whose bits are
 * all zero on entry and left so on exit). Returns the halves solved (bit k:
 * half k). A half is not solved, and nothing is written for it, if a
 * component of at most slow_block_direct_limit states converges too slowly
 * for it (as solve_block judges it): the caller then solves that half's
 * removals one at a time (solve_without, which solves such blocks
 * directly).
 */
template <std::size_t Halves>
unsigned solve_batch(const removal_job& job, const batch_request& request, batch_workspace& ws);

} // namespace journeyloop::detail

#endif
