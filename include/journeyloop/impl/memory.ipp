// Returning freed memory to the system after large temporaries.
#ifndef JOURNEYLOOP_IMPL_MEMORY_IPP
#define JOURNEYLOOP_IMPL_MEMORY_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/impl/memory.hpp>

#include <cstdlib> // defines __GLIBC__ where the C library is glibc

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace journeyloop::detail {

JOURNEYLOOP_IMPL_INLINE void release_free_memory(std::size_t temporary_bytes) noexcept {
#if defined(__GLIBC__)
    // glibc keeps freed blocks below its mmap threshold in the heap, where
    // they stay resident; after a count or a fit with large temporaries
    // they would add to the peak of every later stage. malloc_trim gives
    // their pages back (the blocks stay free for reuse).
    if (temporary_bytes >= release_threshold) malloc_trim(0);
#else
    (void)temporary_bytes;
#endif
}

} // namespace journeyloop::detail

#endif // JOURNEYLOOP_IMPL_MEMORY_IPP
