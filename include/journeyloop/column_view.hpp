// journeyloop: a non-owning view over one column of values.
#ifndef JOURNEYLOOP_COLUMN_VIEW_HPP
#define JOURNEYLOOP_COLUMN_VIEW_HPP

#include <cstddef>
#include <vector>

namespace journeyloop {

/**
 * A read-only, non-owning view of `size()` contiguous values (a C++17 stand-in
 * for `std::span<const T>`). Columns handed to journeyloop are read through
 * views, never copied. An empty view means "column absent" where a column is
 * optional.
 *
 * **Example**:
 *
 *     std::vector<double> conversions{1, 0, 2};
 *     journeyloop::column_view<double> col(conversions);
 *     assert(col.size() == 3 && col[2] == 2);
 */
template <class T>
class column_view {
public:
    using value_type = T;
    using const_iterator = const T*;

    /// An empty view (an absent column).
    constexpr column_view() noexcept = default;
    /// A view of `size` values starting at `data`.
    constexpr column_view(const T* data, std::size_t size) noexcept
        : data_(data), size_(size) {}
    /// A view of a whole vector; the vector must outlive the view.
    column_view(const std::vector<T>& v) noexcept // NOLINT(google-explicit-constructor)
        : data_(v.data()), size_(v.size()) {}

    constexpr const T* data() const noexcept { return data_; }
    constexpr std::size_t size() const noexcept { return size_; }
    constexpr bool empty() const noexcept { return size_ == 0; }
    constexpr const T& operator[](std::size_t i) const noexcept { return data_[i]; }
    constexpr const T* begin() const noexcept { return data_; }
    constexpr const T* end() const noexcept { return data_ + size_; }

private:
    const T* data_ = nullptr;
    std::size_t size_ = 0;
};

} // namespace journeyloop

#endif // JOURNEYLOOP_COLUMN_VIEW_HPP
