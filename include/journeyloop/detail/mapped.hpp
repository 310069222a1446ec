// journeyloop detail: an allocator that maps large blocks straight from the
// system, so that freeing them gives their pages back at once.
//
// glibc serves a block from a thread's own arena when the thread allocates
// it, and after large blocks have been freed it raises the size from which it
// maps blocks instead (up to 32 MB). Temporaries that worker threads grow to
// tens of MB (a counting thread's hash table, a solving thread's solutions)
// then end at the top of the thread's arena, which neither free() nor
// malloc_trim() shrinks: the counts of the Criteo-shaped table at order 2
// kept more resident than their data. Blocks from `mapped_threshold`
// bytes on are mapped here and unmapped when freed; smaller ones use
// operator new.
#ifndef JOURNEYLOOP_DETAIL_MAPPED_HPP
#define JOURNEYLOOP_DETAIL_MAPPED_HPP

#include <cstddef>
#include <limits>
#include <new>
#include <vector>

// Not under the address sanitizers, which check the blocks of operator new
// only (GCC defines __SANITIZE_ADDRESS__; Clang, before version 22, only
// answers __has_feature).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_HWADDRESS__)
#define JOURNEYLOOP_SANITIZED_ADDRESSES 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(hwaddress_sanitizer)
#define JOURNEYLOOP_SANITIZED_ADDRESSES 1
#endif
#endif
#if (defined(__unix__) || defined(__APPLE__)) && !defined(JOURNEYLOOP_SANITIZED_ADDRESSES)
#include <sys/mman.h>
#define JOURNEYLOOP_MAPPED_PAGES 1
#elif defined(__linux__)
#include <sys/mman.h> // advise_huge_pages
#endif

namespace journeyloop::detail {

/// Blocks of at least this many bytes are mapped (a few pages: mapping costs
/// a system call and a page fault a page).
inline constexpr std::size_t mapped_threshold = std::size_t{1} << 20;

template <class T>
class mapped_allocator {
    static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__,
                  "operator new without an alignment serves the small blocks");

public:
    using value_type = T;
    mapped_allocator() noexcept = default;
    template <class U>
    mapped_allocator(const mapped_allocator<U>&) noexcept {} // NOLINT

    T* allocate(std::size_t n) {
        if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_alloc();
        const std::size_t bytes = n * sizeof(T);
#if defined(JOURNEYLOOP_MAPPED_PAGES)
        if (bytes >= mapped_threshold) {
            void* p =
                ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) throw std::bad_alloc();
            return static_cast<T*>(p);
        }
#endif
        return static_cast<T*>(::operator new(bytes));
    }

    void deallocate(T* p, std::size_t n) noexcept {
#if defined(JOURNEYLOOP_MAPPED_PAGES)
        if (n * sizeof(T) >= mapped_threshold) {
            ::munmap(p, n * sizeof(T));
            return;
        }
#else
        (void)n; // every block came from operator new
#endif
        ::operator delete(p);
    }
};

template <class T, class U>
bool operator==(const mapped_allocator<T>&, const mapped_allocator<U>&) noexcept {
    return true;
}
template <class T, class U>
bool operator!=(const mapped_allocator<T>&, const mapped_allocator<U>&) noexcept {
    return false;
}

/// Blocks from this size on may be asked for huge pages (advise_huge_pages,
/// and the batched removals' solution buffers).
inline constexpr std::size_t huge_page_advice_min = std::size_t{16} << 20;

/// Asks the system for transparent huge pages over a block that has not been
/// written yet (Linux; a hint: small pages where refused, as for a block
/// that does not start on a page). Arrays of tens of MB read at random (a
/// hash table of millions of states, a batch's solutions) missed the TLB on
/// nearly every read with 4 KiB pages.
inline void advise_huge_pages(void* block, std::size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (bytes >= huge_page_advice_min) ::madvise(block, bytes, MADV_HUGEPAGE);
#else
    (void)block;
    (void)bytes;
#endif
}

/// A vector whose large storage is mapped (see mapped_allocator).
template <class T>
using mapped_vector = std::vector<T, mapped_allocator<T>>;

} // namespace journeyloop::detail

#endif
