// The allocator of detail/mapped.hpp where pages are not mapped (under the
// address sanitizers, and on systems without mmap): every block comes from
// operator new. This translation unit compiles that branch with the
// project's warnings, whatever the platform.
#define JOURNEYLOOP_SANITIZED_ADDRESSES 1
#include <journeyloop/detail/mapped.hpp>
#if defined(JOURNEYLOOP_MAPPED_PAGES)
#error "JOURNEYLOOP_SANITIZED_ADDRESSES must turn the mapping off"
#endif

#include <catch2/catch.hpp>

#include <numeric>

namespace {
// A type of this translation unit only, so that its allocator's members are
// not those the other translation units instantiate with pages mapped.
struct fallback_cell {
    double x;
};
} // namespace

TEST_CASE("mapped_allocator without mapped pages serves every block from operator new",
          "[mapped]") {
    for (std::size_t n : {std::size_t{16}, journeyloop::detail::mapped_threshold}) {
        journeyloop::detail::mapped_vector<fallback_cell> v(n, fallback_cell{1.5});
        v.push_back({2.0}); // grows: the old block is given back through deallocate
        double sum = 0;
        for (const auto& c : v) sum += c.x;
        REQUIRE(sum == 1.5 * double(n) + 2.0);
    }
}
