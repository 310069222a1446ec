// The library-wide memory cap.
#ifndef JOURNEYLOOP_IMPL_LIMITS_IPP
#define JOURNEYLOOP_IMPL_LIMITS_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/errors.hpp>
#include <journeyloop/limits.hpp>

#include <atomic>
#include <limits>
#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace journeyloop {

JOURNEYLOOP_IMPL_NAMESPACE(limits_1) {
JOURNEYLOOP_IMPL_INLINE std::atomic<std::size_t> memory_limit_setting{0};

JOURNEYLOOP_IMPL_INLINE std::size_t physical_memory() noexcept {
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGE_SIZE)
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long page = sysconf(_SC_PAGE_SIZE);
    if (pages > 0 && page > 0) {
        const auto p = static_cast<std::size_t>(pages);
        const auto s = static_cast<std::size_t>(page);
        if (p <= std::numeric_limits<std::size_t>::max() / s) return p * s;
    }
#endif
    return std::numeric_limits<std::size_t>::max();
}
} // JOURNEYLOOP_IMPL_NAMESPACE(limits_1)

JOURNEYLOOP_IMPL_INLINE void set_memory_limit(std::size_t bytes) noexcept {
    memory_limit_setting.store(bytes, std::memory_order_relaxed);
}

JOURNEYLOOP_IMPL_INLINE std::size_t get_memory_limit() noexcept {
    return memory_limit_setting.load(std::memory_order_relaxed);
}

JOURNEYLOOP_IMPL_INLINE std::size_t effective_memory_limit() noexcept {
    const auto set = get_memory_limit();
    return set != 0 ? set : physical_memory();
}

namespace detail {

JOURNEYLOOP_IMPL_INLINE void check_memory(std::size_t bytes, std::string_view stage) {
    const auto cap = effective_memory_limit();
    if (bytes > cap) throw memory_limit_exceeded(bytes, cap, stage);
}

} // namespace detail
} // namespace journeyloop

#endif // JOURNEYLOOP_IMPL_LIMITS_IPP
