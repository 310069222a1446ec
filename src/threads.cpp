// The library-wide thread setting.
#include <journeyloop/threads.hpp>

#include <algorithm>
#include <atomic>
#include <thread>

namespace journeyloop {

namespace {
std::atomic<std::size_t> threads_setting{0};
}

void set_threads(std::size_t n) noexcept { threads_setting.store(n, std::memory_order_relaxed); }

std::size_t get_threads() noexcept { return threads_setting.load(std::memory_order_relaxed); }

namespace detail {

std::size_t stage_threads(std::size_t usual) noexcept {
    if (const auto n = get_threads(); n != 0) return n;
    const std::size_t hardware = std::max(1u, std::thread::hardware_concurrency());
    return std::max<std::size_t>(1, std::min(usual, hardware));
}

} // namespace detail
} // namespace journeyloop
