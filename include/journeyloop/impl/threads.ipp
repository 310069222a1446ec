// The library-wide thread setting.
#ifndef JOURNEYLOOP_IMPL_THREADS_IPP
#define JOURNEYLOOP_IMPL_THREADS_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/threads.hpp>

#include <algorithm>
#include <atomic>
#include <thread>

namespace journeyloop {

JOURNEYLOOP_IMPL_NAMESPACE(threads_1) {
JOURNEYLOOP_IMPL_INLINE std::atomic<std::size_t> threads_setting{0};
}

JOURNEYLOOP_IMPL_INLINE void set_threads(std::size_t n) noexcept {
    threads_setting.store(n, std::memory_order_relaxed);
}

JOURNEYLOOP_IMPL_INLINE std::size_t get_threads() noexcept {
    return threads_setting.load(std::memory_order_relaxed);
}

namespace detail {

JOURNEYLOOP_IMPL_INLINE std::size_t stage_threads(std::size_t usual) noexcept {
    if (const auto n = get_threads(); n != 0) return n;
    const std::size_t hardware = std::max(1u, std::thread::hardware_concurrency());
    return std::max<std::size_t>(1, std::min(usual, hardware));
}

} // namespace detail
} // namespace journeyloop

#endif // JOURNEYLOOP_IMPL_THREADS_IPP
