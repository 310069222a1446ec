// Internal: the Gauss-Seidel sweep of batched removals, eight or sixteen
// solutions of a state at once.
#ifndef JOURNEYLOOP_SRC_CHAIN_SWEEP_HPP
#define JOURNEYLOOP_SRC_CHAIN_SWEEP_HPP

#include <journeyloop/impl/chain_solver.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace journeyloop::detail {

// The batched removals solve, for each batch of many_batch removals, two
// systems with the same matrix: the conversions (half 0) and the values
// (half 1). One thread solves both halves of a batch in the same sweeps
// (sixteen solutions a live state: the chain is read once for both); two or
// more threads each solve one half at a time (eight solutions a live state,
// one 64-byte line), so that the removals hold sixteen numbers a live state
// on two threads as on one (bench/results/profile_memory.txt).
template <std::size_t Halves>
constexpr std::size_t width_of = Halves* many_batch;

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

// Gauss-Seidel updates of rows [begin, end) for Halves halves of a batch,
// from st.first_half on (solution j of half k at k * many_batch + j);
// records the largest change of each solution in change[j] (kept if
// larger), and with `delta` (not null) every change too, at
// delta + (row - begin) * record_stride (see record_half in sweep.cpp).
template <std::size_t Halves>
void sweep_range(const chain& c, const sweep_state& st, std::size_t begin, std::size_t end,
                 double* change, std::int16_t* delta);

} // namespace journeyloop::detail

#endif
