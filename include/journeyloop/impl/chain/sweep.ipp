// The Gauss-Seidel sweep of batched removals: the solutions of a batch's
// removals updated together, a state at a time, with vector instructions.
#ifndef JOURNEYLOOP_IMPL_CHAIN_SWEEP_IPP
#define JOURNEYLOOP_IMPL_CHAIN_SWEEP_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/impl/chain/sweep.hpp>

#include <algorithm>
#include <cmath>

namespace journeyloop::detail {

JOURNEYLOOP_IMPL_NAMESPACE(chain_sweep_1) {

// Records one half (many_batch changes) at `d`, its exponent at `*e`.
inline void record_half(const double* change, std::int16_t* d, std::int16_t* e) noexcept {
    double m = 0;
    for (std::size_t j = 0; j < many_batch; ++j) m = std::max(m, std::abs(change[j]));
    std::uint64_t bits;
    std::memcpy(&bits, &m, sizeof bits);
    // m < 2^exponent (as frexp's exponent; subnormal m, negligible, record 0)
    const int exponent = static_cast<int>((bits >> 52) & 0x7ff) - 1022;
    const double scale = bits >> 52 != 0 ? power_of_two(record_bits - exponent) : 0.0;
    for (std::size_t j = 0; j < many_batch; ++j) {
        // Clamped: |x| <= 2^14 already, and a NaN or infinite change (no
        // chain that can be fitted has one) records a defined value.
        const double x = std::min(16384.0, std::max(-16384.0, change[j] * scale));
        d[j] = static_cast<std::int16_t>(x + std::copysign(0.5, x));
    }
    *e = static_cast<std::int16_t>(exponent);
}

// The rows updated next are scattered over the layout: fetch them early,
// 32 updates ahead for a state's own row (and its record), 16 for its
// successors (distances tuned on the large components of the criteo-shaped
// table at order 3: shorter ones waited for memory, longer ones gained
// nothing). A row is one 64-byte line a half.
template <std::size_t Halves, bool Record>
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
inline void
prefetch_ahead(const chain& sc, const sweep_state& st, std::size_t p, std::size_t begin,
               const std::int16_t* delta) {
    constexpr std::size_t width = width_of<Halves>;
    const std::size_t* ptr = sc.ptr.data();
    const std::uint32_t* idx = sc.idx.data();
    const std::size_t live = sc.live_begin;
    double* const y = st.y;
    auto row_of = [y, live](std::size_t u) { return y + (u - live) * width; };
    const double* ahead = row_of(p + 32);
    for (std::size_t k = 0; k < Halves; ++k) __builtin_prefetch(ahead + 8 * k, 1);
    if constexpr (Record) __builtin_prefetch(delta + (p + 32 - begin) * record_stride<Halves>, 1);
    // The successors of a state further ahead: the terminal ones first (rows
    // below live_begin), then the others, sorted, and often near each other
    // (a run when they span few rows).
    auto e0 = ptr[p + 16];
    const auto e1 = ptr[p + 17];
    for (; e0 < e1 && idx[e0] < live; ++e0) {
        __builtin_prefetch(st.terminal_x + 2 * std::size_t{idx[e0]} + st.first_half);
        __builtin_prefetch(st.terminal_bits + idx[e0]);
    }
    if (e1 > e0) {
        const double* lo = row_of(idx[e0]);
        const double* hi = row_of(idx[e1 - 1]) + width;
        if (hi - lo <= static_cast<std::ptrdiff_t>(64 * width))
            for (const double* q = lo; q < hi; q += 8) __builtin_prefetch(q);
        else
            for (auto e = e0; e < e1; ++e) {
                const double* q = row_of(idx[e]);
                for (std::size_t k = 0; k < Halves; ++k) __builtin_prefetch(q + 8 * k);
            }
    }
}

template <std::size_t Halves, bool Record>
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
inline void
sweep_impl(const chain& sc, const sweep_state& st, std::size_t begin, std::size_t end,
           double* change, std::int16_t* delta) {
    constexpr std::size_t width = width_of<Halves>;
    constexpr std::size_t stride = record_stride<Halves>;
    // change[j]: the largest change of solution j (0 .. width).
    // Lanes of four doubles (GCC vector extensions: AVX2 registers in the
    // avx2 clone, pairs of SSE2 registers otherwise).
    typedef double lane __attribute__((vector_size(32)));
    static_assert(many_batch % 4 == 0, "whole lanes of four for each half");
    const std::size_t* ptr = sc.ptr.data();
    const std::uint32_t* idx = sc.idx.data();
    const double* val = sc.val.data();
    const double* diag = sc.diag.empty() ? nullptr : sc.diag.data();
    const std::size_t live = sc.live_begin;
    const std::size_t h0 = st.first_half;
    const double* base = sc.base.data() + h0 * sc.n; // half k at base[k * n + p]
    double* const y = st.y;
    auto row_of = [y, live](std::size_t u) { return y + (u - live) * width; };
    double ch[width] = {};
    for (std::size_t p = begin; p < end; ++p) {
        if (p + 32 < end) prefetch_ahead<Halves, Record>(sc, st, p, begin, delta);
        constexpr std::size_t lanes = width / 4;
        // Terminal successors: constants, added once for every removal but
        // those that remove them (added apart, to the others only).
        double b[Halves];
        for (std::size_t k = 0; k < Halves; ++k) b[k] = base[k * sc.n + p];
        double extra[width] = {};
        bool any_extra = false;
        auto e = ptr[p];
        const auto e_end = ptr[p + 1];
        for (; e < e_end && idx[e] < live; ++e) {
            const std::size_t v = idx[e];
            const double w = val[e];
            const unsigned gone = st.terminal_bits[v];
            if (gone == 0) {
                for (std::size_t k = 0; k < Halves; ++k) b[k] += w * st.terminal_x[2 * v + h0 + k];
                continue;
            }
            any_extra = true;
            for (std::size_t k = 0; k < Halves; ++k) {
                const double xv = st.terminal_x[2 * v + h0 + k];
                for (std::size_t j = 0; j < many_batch; ++j)
                    if (!((gone >> j) & 1u)) extra[k * many_batch + j] += w * xv;
            }
        }
        lane a[lanes];
        for (std::size_t l = 0; l < lanes; ++l) {
            const double init = b[l / (lanes / Halves)];
            a[l] = lane{init, init, init, init};
        }
        for (; e < e_end; ++e) {
            const double w = val[e];
            const lane wv = {w, w, w, w};
            const double* yv = row_of(idx[e]);
            for (std::size_t l = 0; l < lanes; ++l) {
                lane yl;
                std::memcpy(&yl, yv + 4 * l, sizeof(lane));
                a[l] += wv * yl;
            }
        }
        double acc[width];
        std::memcpy(acc, a, sizeof(a));
        if (any_extra)
            for (std::size_t j = 0; j < width; ++j) acc[j] += extra[j];
        const double scale = diag != nullptr ? 1.0 / (1.0 - diag[p]) : 1.0;
        double* yu = row_of(p);
        const unsigned bits = st.removed_bits[p];
        [[maybe_unused]] double moved[width] = {};
        for (std::size_t k = 0; k < Halves; ++k) {
            if (!st.active[k]) continue; // converged: left as it is
            for (std::size_t j = k * many_batch; j < (k + 1) * many_batch; ++j) {
                const double next = (bits >> (j - k * many_batch)) & 1u ? 0.0 : acc[j] * scale;
                if constexpr (Record) moved[j] = next - yu[j];
                ch[j] = std::max(ch[j], std::abs(next - yu[j]));
                yu[j] = next;
            }
        }
        if constexpr (Record) {
            std::int16_t* const d = delta + (p - begin) * stride;
            for (std::size_t k = 0; k < Halves; ++k)
                record_half(moved + k * many_batch, d + k * many_batch, d + width + k);
        }
    }
    for (std::size_t j = 0; j < width; ++j) change[j] = std::max(change[j], ch[j]);
}

// The sweep without and with recording the changes: separate functions, so
// that the plain sweep (nearly all of them) carries no test of `delta`.
// Not under ThreadSanitizer: it instruments the resolver that picks a clone,
// which the loader runs before the sanitizer's runtime is set up, and the
// program crashes before main.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) &&       \
    !defined(__SANITIZE_THREAD__)
#define JOURNEYLOOP_SWEEP_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define JOURNEYLOOP_SWEEP_CLONES
#endif
JOURNEYLOOP_SWEEP_CLONES
void sweep_both(const chain& sc, const sweep_state& st, std::size_t begin, std::size_t end,
                double* change) {
    sweep_impl<2, false>(sc, st, begin, end, change, nullptr);
}
JOURNEYLOOP_SWEEP_CLONES
void sweep_both_recording(const chain& sc, const sweep_state& st, std::size_t begin,
                          std::size_t end, double* change, std::int16_t* delta) {
    sweep_impl<2, true>(sc, st, begin, end, change, delta);
}
JOURNEYLOOP_SWEEP_CLONES
void sweep_half(const chain& sc, const sweep_state& st, std::size_t begin, std::size_t end,
                double* change) {
    sweep_impl<1, false>(sc, st, begin, end, change, nullptr);
}
JOURNEYLOOP_SWEEP_CLONES
void sweep_half_recording(const chain& sc, const sweep_state& st, std::size_t begin,
                          std::size_t end, double* change, std::int16_t* delta) {
    sweep_impl<1, true>(sc, st, begin, end, change, delta);
}
#undef JOURNEYLOOP_SWEEP_CLONES

} // JOURNEYLOOP_IMPL_NAMESPACE(chain_sweep_1)

template <>
JOURNEYLOOP_IMPL_INLINE void sweep_range<2>(const chain& c, const sweep_state& st,
                                            std::size_t begin, std::size_t end, double* change,
                                            std::int16_t* delta) {
    if (delta != nullptr) sweep_both_recording(c, st, begin, end, change, delta);
    else sweep_both(c, st, begin, end, change);
}

template <>
JOURNEYLOOP_IMPL_INLINE void sweep_range<1>(const chain& c, const sweep_state& st,
                                            std::size_t begin, std::size_t end, double* change,
                                            std::int16_t* delta) {
    if (delta != nullptr) sweep_half_recording(c, st, begin, end, change, delta);
    else sweep_half(c, st, begin, end, change);
}

} // namespace journeyloop::detail

#endif // JOURNEYLOOP_IMPL_CHAIN_SWEEP_IPP
