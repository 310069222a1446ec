// Internal: giving freed memory back to the system.
#ifndef JOURNEYLOOP_SRC_MEMORY_HPP
#define JOURNEYLOOP_SRC_MEMORY_HPP

#include <cstddef>

namespace journeyloop::detail {

/// Temporaries below this size are not worth a trim (a trim walks the free
/// blocks of the heap); from this size, a trim lowers what even the small
/// tables keep resident after a stage (bench/results/profile_memory.txt,
/// --preset data --order 4).
inline constexpr std::size_t release_threshold = std::size_t{256} << 10;

/// After a stage whose temporaries took about `temporary_bytes` (now
/// freed): returns the free pages of the heap to the system (glibc), so that
/// they do not stay resident under the next stages.
void release_free_memory(std::size_t temporary_bytes) noexcept;

} // namespace journeyloop::detail

#endif
