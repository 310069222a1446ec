// Internal: giving freed memory back to the system.
#ifndef JOURNEYLOOP_SRC_MEMORY_HPP
#define JOURNEYLOOP_SRC_MEMORY_HPP

#include <cstddef>

namespace journeyloop::detail {

/// Temporaries below this size are not worth a trim.
inline constexpr std::size_t release_threshold = std::size_t{16} << 20;

/// After a stage whose temporaries took about `temporary_bytes` (now
/// freed): returns the free pages of the heap to the system (glibc), so that
/// they do not stay resident under the next stages.
void release_free_memory(std::size_t temporary_bytes) noexcept;

} // namespace journeyloop::detail

#endif
