// journeyloop: the cap on the memory one call may need.
#ifndef JOURNEYLOOP_LIMITS_HPP
#define JOURNEYLOOP_LIMITS_HPP

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace journeyloop {

/**
 * Sets the cap on the memory that one stage of a call may need: counting
 * transitions, building the chain of a fit, and the solutions of batched
 * removal effects. Each stage estimates its need from the sizes it knows
 * before it allocates, and throws memory_limit_exceeded (with the estimate
 * and the cap) instead of starting when the estimate is above the cap.
 * The estimates are lower bounds of what the stage holds, so an input that
 * is refused would not have fitted either.
 *
 * 0, the default, caps at the machine's physical memory (no cap where the
 * system does not say). Thread-safe; calls already running keep the cap they
 * read.
 *
 * **Example**:
 *
 *     journeyloop::set_memory_limit(std::size_t{2} << 30);
 *     auto counts = journeyloop::count_transitions(journeys, options);
 *     journeyloop::set_memory_limit(0);                    // the default
 */
void set_memory_limit(std::size_t bytes) noexcept;

/// What set_memory_limit() last set (0: the default).
std::size_t get_memory_limit() noexcept;

/// The cap in force: get_memory_limit(), or the machine's physical memory
/// when it is 0 (the largest size_t when the system does not say).
std::size_t effective_memory_limit() noexcept;

namespace detail {
inline std::size_t saturating_product(std::size_t a, std::size_t b) noexcept {
    return b != 0 && a > SIZE_MAX / b ? SIZE_MAX : a * b;
}

/// The estimates each stage checks, in bytes (lower bounds of what it holds):
/// - counting transitions at order k, with a bound of `states` on the states:
///   states × (4k + 24) (a state's channels and its hash-table entry);
inline std::size_t counting_memory(std::size_t states, std::size_t order) noexcept {
    return saturating_product(states, 4 * order + 24);
}
/// - fitting a chain of `states` states and `transitions` transitions:
///   28 bytes a transition (the edge list and the chain built from it, held
///   together) and 40 a state (the solutions and the rates);
inline std::size_t fit_memory(std::size_t states, std::size_t transitions) noexcept {
    const auto a = saturating_product(transitions, 28);
    const auto b = saturating_product(states, 40);
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}
/// - removal effects on a chain of `states` states on `threads` threads:
///   8 numbers of 8 bytes a state for each thread, and at least two threads'
///   worth (one thread holds both halves of a batch).
inline std::size_t removal_memory(std::size_t states, std::size_t threads) noexcept {
    return saturating_product(states, 64 * (threads > 2 ? threads : 2));
}

/// Throws memory_limit_exceeded when `bytes` is above the cap in force;
/// `stage` names what needs it in the message.
void check_memory(std::size_t bytes, std::string_view stage);
} // namespace detail

} // namespace journeyloop

#endif // JOURNEYLOOP_LIMITS_HPP
