// Internal: the scratch a thread of batched removals owns.
#ifndef JOURNEYLOOP_SRC_CHAIN_WORKSPACE_HPP
#define JOURNEYLOOP_SRC_CHAIN_WORKSPACE_HPP

#include <journeyloop/impl/chain_solver.hpp>

#include <journeyloop/detail/mapped.hpp>

#include <cstddef>
#include <cstdint>

namespace journeyloop::detail {

/// Scratch array of doubles for the batched solutions, in transparent huge
/// pages where the system offers them (Linux, madvise) from
/// huge_page_advice_min bytes (detail/mapped.hpp; such a buffer is rounded
/// up to whole 2 MiB pages, all resident once written): the sweeps read the solutions of scattered
/// states, and with 4 KiB pages nearly every such read of a large chain
/// also missed the TLB. Otherwise aligned to a cache line (a state's
/// solutions of a half are one line). resize() keeps no contents.
class solution_buffer {
public:
    solution_buffer() = default;
    solution_buffer(const solution_buffer&) = delete;
    solution_buffer& operator=(const solution_buffer&) = delete;
    ~solution_buffer() { release(); }

    /// Room for at least n doubles (contents undefined).
    void resize(std::size_t n);
    double* data() noexcept { return data_; }
    const double* data() const noexcept { return data_; }

private:
    void release() noexcept;
    double* data_ = nullptr;
    std::size_t capacity_ = 0, mapped_ = 0;
};

/// What one thread of solve_without_many works in, allocated once by that
/// thread and reused by every batch it solves (mapped: a worker thread's
/// scratch, see detail/mapped.hpp).
struct batch_workspace {
    explicit batch_workspace(const chain& c) : bits(c.n, 0), terminal_bits(c.live_begin, 0) {}
    /// By row: bit j marks a row that removal j of the batch removes (all
    /// zero between batches).
    mapped_vector<std::uint16_t> bits;
    /// The same for the terminal rows.
    mapped_vector<std::uint16_t> terminal_bits;
    /// The batch's solutions of the live rows (see sweep_state).
    solution_buffer y;
    /// The changes a sweep before an extrapolation records (see record_half).
    mapped_vector<std::int16_t> delta;
};

} // namespace journeyloop::detail

#endif
