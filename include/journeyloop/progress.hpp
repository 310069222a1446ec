// journeyloop: the progress callback of long work.
#ifndef JOURNEYLOOP_PROGRESS_HPP
#define JOURNEYLOOP_PROGRESS_HPP

#include <cstddef>
#include <functional>

namespace journeyloop {

/**
 * Progress of long work: called with (steps done, steps in all), one call at
 * a time but possibly from a worker thread; the last call has done == total.
 * Each function says what its steps are: rows for counting, transient states
 * solved for a fit, removals (or batches of them) for removal effects,
 * replicates, blocks of simulated walks, pairs of orderings. An exception
 * thrown by it stops the work and is rethrown to the caller.
 */
using progress_callback = std::function<void(std::size_t done, std::size_t total)>;

} // namespace journeyloop

#endif // JOURNEYLOOP_PROGRESS_HPP
