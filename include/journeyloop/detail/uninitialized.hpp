// journeyloop detail: an allocator whose resize() leaves new elements of
// trivial types uninitialized.
//
// Builders that size an array first and then fill it on several threads
// would otherwise write every element twice (zeros, then the value), and
// take every page fault on one thread while zeroing.
#ifndef JOURNEYLOOP_DETAIL_UNINITIALIZED_HPP
#define JOURNEYLOOP_DETAIL_UNINITIALIZED_HPP

#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace journeyloop::detail {

template <class T>
class uninitialized_allocator : public std::allocator<T> {
public:
    using value_type = T;
    template <class U>
    struct rebind {
        using other = uninitialized_allocator<U>;
    };
    uninitialized_allocator() noexcept = default;
    template <class U>
    uninitialized_allocator(const uninitialized_allocator<U>&) noexcept {} // NOLINT

    /// Default-initialization (nothing, for trivial types) instead of
    /// value-initialization.
    template <class U>
    void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
        ::new (static_cast<void*>(p)) U;
    }
    template <class U, class... Args>
    void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
};

template <class T, class U>
bool operator==(const uninitialized_allocator<T>&, const uninitialized_allocator<U>&) noexcept {
    return true;
}
template <class T, class U>
bool operator!=(const uninitialized_allocator<T>&, const uninitialized_allocator<U>&) noexcept {
    return false;
}

} // namespace journeyloop::detail

#endif
