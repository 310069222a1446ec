// journeyloop: stopping long work from outside, such as on Ctrl-C.
#ifndef JOURNEYLOOP_INTERRUPT_HPP
#define JOURNEYLOOP_INTERRUPT_HPP

#include <journeyloop/errors.hpp>

#include <atomic>

namespace journeyloop {

/// Thrown by long work (counting, fits, removals, replicates, simulation,
/// Shapley sampling, order selection) that finds a stop requested by
/// request_stop() at one of its check points. The work leaves no partial
/// result behind: what it was building is discarded, and its inputs are as
/// they were.
class interrupted : public std::runtime_error, public error {
public:
    interrupted() : std::runtime_error("interrupted: the work was stopped on request") {}
};

namespace detail {
// A lock-free flag (atomic<bool> is on every platform journeyloop builds
// for), so that request_stop() may be called from a signal handler.
inline std::atomic<bool> stop_flag{false};
} // namespace detail

/**
 * Asks every call in progress in the process to stop: each throws
 * `interrupted` at its next check point (they come between short steps: a
 * block of rows, a sweep, a removal, a replicate, a block of walks), and
 * calls started later throw at their first. Safe from any thread and from a
 * signal handler. The request stays until clear_stop().
 * **Example** (a user interface's cancel button):
 *     std::thread work([&] {
 *         try { model = journeyloop::fit_markov(journeyloop::count_transitions(js, {3})); }
 *         catch (const journeyloop::interrupted&) { cancelled = true; }
 *     });
 *     ...
 *     journeyloop::request_stop();  // on cancel
 *     work.join();
 *     journeyloop::clear_stop();
 */
inline void request_stop() noexcept { detail::stop_flag.store(true, std::memory_order_relaxed); }

/// Whether a stop has been requested and not cleared.
inline bool stop_requested() noexcept { return detail::stop_flag.load(std::memory_order_relaxed); }

/// Withdraws a stop request: work started afterwards runs to its end.
inline void clear_stop() noexcept { detail::stop_flag.store(false, std::memory_order_relaxed); }

namespace detail {
/// A check point of long work: throws `interrupted` when a stop is requested.
inline void stop_point() {
    if (stop_requested()) throw interrupted();
}
} // namespace detail

} // namespace journeyloop

#endif // JOURNEYLOOP_INTERRUPT_HPP
