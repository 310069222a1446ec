// The solutions buffer of batched removals.
#ifndef JOURNEYLOOP_IMPL_CHAIN_WORKSPACE_IPP
#define JOURNEYLOOP_IMPL_CHAIN_WORKSPACE_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/impl/chain/workspace.hpp>

#include <cstdint>
#include <new>
#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace journeyloop::detail {

JOURNEYLOOP_IMPL_INLINE void solution_buffer::resize(std::size_t n) {
    if (n <= capacity_) return;
    release();
    const std::size_t bytes = n * sizeof(double);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    constexpr std::size_t huge = std::size_t{2} << 20;
    if (bytes >= huge_page_advice_min) {
        const std::size_t size = (bytes + huge - 1) / huge * huge;
        void* map =
            mmap(nullptr, size + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (map == MAP_FAILED) throw std::bad_alloc();
        // Aligned to a huge page; the excess before and after is given back.
        auto* first = static_cast<char*>(map);
        const auto skip = (huge - reinterpret_cast<std::uintptr_t>(first) % huge) % huge;
        if (skip != 0) munmap(first, skip);
        if (huge - skip != 0) munmap(first + skip + size, huge - skip);
        advise_huge_pages(first + skip, size);
        data_ = reinterpret_cast<double*>(first + skip);
        mapped_ = size;
        capacity_ = size / sizeof(double);
        return;
    }
#endif
    data_ = static_cast<double*>(::operator new (bytes, std::align_val_t{64}));
    capacity_ = n;
}

JOURNEYLOOP_IMPL_INLINE void solution_buffer::release() noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (mapped_ != 0) munmap(data_, mapped_);
    else if (data_ != nullptr) ::operator delete (data_, std::align_val_t{64});
#else
    if (data_ != nullptr) ::operator delete (data_, std::align_val_t{64});
#endif
    data_ = nullptr;
    capacity_ = mapped_ = 0;
}

} // namespace journeyloop::detail

#endif // JOURNEYLOOP_IMPL_CHAIN_WORKSPACE_IPP
