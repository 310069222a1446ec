// journeyloop: how many threads the library's parallel stages use.
#ifndef JOURNEYLOOP_THREADS_HPP
#define JOURNEYLOOP_THREADS_HPP

#include <cstddef>

namespace journeyloop {

/**
 * Sets the threads that journeyloop's parallel stages use when a call does
 * not say (an explicit `threads` in path_options, counting_options or
 * event_options still wins). 0, the default, lets each stage choose:
 *
 * - parsing a path table: every hardware thread, one per 20,000 rows;
 * - counting transitions: two from two_thread_rows (200,000) rows, and one
 *   when the bound on the states exceeds two_thread_state_limit;
 * - building journeys from events: two from 200,000 events;
 * - fitting: the visits on a second thread from 20,000 states;
 * - removal effects on chains past the dense route: up to two, each solving
 *   the conversions or the values of a batch of eight removals (one thread
 *   solves both together), and one when the states times the batches are
 *   fewer than 2^18 (such removals are short, and a second thread would
 *   cost more than it saves).
 *
 * n >= 1 puts n in place of the machine's threads and of the caps of two of
 * counting and removals; building from events and the fit take their second
 * thread only when n >= 2. So 1 runs everything on the calling thread, and on
 * a larger machine n > 2 lets parsing, counting and the removals use n. A
 * removal thread holds eight numbers a live state (half of its batch's
 * solutions), sixteen when it is the only one: one or two threads hold the
 * same, and each thread past two adds eight. The counts keep their one thread above
 * two_thread_state_limit and take at most one per 50,000 rows.
 * Thread-safe; calls already running keep what they chose.
 *
 * **Example**:
 *
 *     journeyloop::set_threads(1);     // one thread, least memory
 *     auto a = journeyloop::markov_attribution(model);
 *     journeyloop::set_threads(0);     // back to the defaults
 */
void set_threads(std::size_t n) noexcept;

/// What set_threads() last set (0: the defaults).
std::size_t get_threads() noexcept;

namespace detail {
/// The threads of a stage whose default is `usual` capped by the machine's
/// hardware threads; get_threads() instead when it is set. At least 1.
std::size_t stage_threads(std::size_t usual) noexcept;
} // namespace detail

} // namespace journeyloop

#endif // JOURNEYLOOP_THREADS_HPP
