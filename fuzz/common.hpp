// Shared by the fuzz harnesses: the whole library in header-only mode, and
// the checks that make an accepted input fail loudly when an invariant breaks.
#ifndef JOURNEYLOOP_FUZZ_COMMON_HPP
#define JOURNEYLOOP_FUZZ_COMMON_HPP

#include <journeyloop/journeyloop.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace fuzz {

// An invariant failed on an input the library accepted: abort, so that
// libFuzzer keeps the input as a crash.
[[noreturn]] inline void fail(const char* what, const char* file, int line) {
    std::fprintf(stderr, "invariant failed: %s (%s:%d)\n", what, file, line);
    std::abort();
}

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) ::fuzz::fail(#cond, __FILE__, __LINE__);                                      \
    } while (0)

// a and b agree to a relative 1e-9 (sums of many terms in a different order).
inline bool close(double a, double b) {
    if (!std::isfinite(a) || !std::isfinite(b)) return false;
    return std::abs(a - b) <= 1e-9 * std::max({1.0, std::abs(a), std::abs(b)});
}

// One thread: the harnesses run many inputs in one process, and the result
// does not depend on the number of threads.
inline int init_threads() {
    journeyloop::set_threads(1);
    return 0;
}

inline void check_model(const journeyloop::markov_model& model);

// Where the journeys are accepted and small: the order-1 counts keep the
// journeys' totals, and the Markov attribution sums to them.
inline void check_attribution(const journeyloop::journey_set& js) {
    namespace jl = journeyloop;
    const double totals[] = {js.total_conversions(), js.total_nulls(), js.total_value()};
    for (const double x : totals) FUZZ_CHECK(!std::isnan(x));
    // Sums of huge counts (a CSV file can hold 1e308) overflow to infinity:
    // not checked here (docs/fuzzing.md, "Not covered").
    for (const double x : totals)
        if (std::isinf(x)) return;
    if (js.empty() || js.channels().size() > 12 || js.total_touches() > 4096) return;
    jl::counting_options co;
    co.threads = 1;
    const auto counts = jl::count_transitions(js, co);
    FUZZ_CHECK(close(counts.total_conversions(), js.total_conversions()));
    FUZZ_CHECK(close(counts.total_nulls(), js.total_nulls()));
    FUZZ_CHECK(close(counts.total_value(), js.total_value()));
    check_model(jl::fit_markov(counts));
}

// A fitted model's figures are finite, and (order 1, few channels) its
// attribution sums to the counts' totals.
inline void check_model(const journeyloop::markov_model& model) {
    namespace jl = journeyloop;
    const auto& counts = model.counts();
    const double rate = model.conversion_rate();
    FUZZ_CHECK(std::isfinite(rate) && rate >= 0 && rate <= 1 + 1e-12);
    if (counts.order() != 1 || counts.channels().size() > 12) return;
    const auto a = jl::markov_attribution(model);
    for (std::size_t i = 0; i < a.size(); ++i)
        FUZZ_CHECK(std::isfinite(a.conversions()[i]) && std::isfinite(a.value()[i]));
    if (counts.total_conversions() > 0) {
        // A total is shared out in proportion to the removal effects; when no
        // channel's removal changes it (a pooled view's journeys that end at
        // START, or probabilities too small to represent), nothing is shared
        // (documented; the Python layer warns).
        const bool conversions_shared = close(a.total_conversions(), counts.total_conversions());
        const bool value_shared = close(a.total_value(), counts.total_value());
        if (!conversions_shared || !value_shared) {
            const auto effects = jl::removal_effects(model);
            for (const auto& e : effects) {
                FUZZ_CHECK(conversions_shared || e.conversions == 0);
                FUZZ_CHECK(value_shared || e.value == 0);
            }
            FUZZ_CHECK(conversions_shared || a.total_conversions() == 0);
            FUZZ_CHECK(value_shared || a.total_value() == 0);
        }
    }
}

} // namespace fuzz

#endif // JOURNEYLOOP_FUZZ_COMMON_HPP
