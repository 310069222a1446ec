// journeyloop: a non-owning view over one column of values.
#ifndef JOURNEYLOOP_COLUMN_VIEW_HPP
#define JOURNEYLOOP_COLUMN_VIEW_HPP

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#if defined(__GNUC__) || defined(__clang__)
#define JOURNEYLOOP_INLINE inline __attribute__((always_inline))
#else
#define JOURNEYLOOP_INLINE inline
#endif

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
    constexpr column_view(const T* data, std::size_t size) noexcept : data_(data), size_(size) {}
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

/**
 * A read-only, non-owning view of a numeric column of any common width:
 * booleans or unsigned bytes, signed integers of 8 to 64 bits, or floats of
 * 32 or 64 bits. Values are read as double (or as a 64-bit integer), so that
 * a flag, a count or a code column is read in place whatever its type.
 *
 * **Example**:
 *
 *     std::vector<std::uint8_t> flags{0, 1};
 *     journeyloop::numeric_column_view col(flags);
 *     assert(col[1] == 1.0);
 */
class numeric_column_view {
public:
    /// The element type.
    enum class kind : std::uint8_t { u8, i8, i16, i32, i64, f32, f64 };

    /// An empty view (an absent column).
    numeric_column_view() noexcept = default;
    numeric_column_view(column_view<std::uint8_t> v) noexcept // NOLINT
        : data_(v.data()), size_(v.size()), kind_(kind::u8) {}
    numeric_column_view(column_view<std::int8_t> v) noexcept // NOLINT
        : data_(v.data()), size_(v.size()), kind_(kind::i8) {}
    numeric_column_view(column_view<std::int16_t> v) noexcept // NOLINT
        : data_(v.data()), size_(v.size()), kind_(kind::i16) {}
    numeric_column_view(column_view<std::int32_t> v) noexcept // NOLINT
        : data_(v.data()), size_(v.size()), kind_(kind::i32) {}
    numeric_column_view(column_view<std::int64_t> v) noexcept // NOLINT
        : data_(v.data()), size_(v.size()), kind_(kind::i64) {}
    numeric_column_view(column_view<float> v) noexcept // NOLINT
        : data_(v.data()), size_(v.size()), kind_(kind::f32) {}
    numeric_column_view(column_view<double> v) noexcept // NOLINT
        : data_(v.data()), size_(v.size()), kind_(kind::f64) {}
    /// A view of `size` values of a supported type starting at `data`.
    template <class T>
    numeric_column_view(const T* data, std::size_t size) noexcept
        : numeric_column_view(column_view<T>(data, size)) {}
    /// A view of a whole vector of a supported type; it must outlive the view.
    template <class T>
    numeric_column_view(const std::vector<T>& v) noexcept // NOLINT
        : numeric_column_view(column_view<T>(v)) {}

    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    kind type() const noexcept { return kind_; }
    bool is_floating() const noexcept { return kind_ == kind::f32 || kind_ == kind::f64; }

    /// Value i as a double.
    JOURNEYLOOP_INLINE double operator[](std::size_t i) const noexcept {
        // Direct branches for the usual types (well predicted, unlike a
        // jump table shared by several columns).
        if (kind_ == kind::f64) return static_cast<const double*>(data_)[i];
        if (kind_ == kind::u8) return static_cast<const std::uint8_t*>(data_)[i];
        switch (kind_) {
        case kind::u8: return static_cast<const std::uint8_t*>(data_)[i];
        case kind::i8: return static_cast<const std::int8_t*>(data_)[i];
        case kind::i16: return static_cast<const std::int16_t*>(data_)[i];
        case kind::i32: return static_cast<const std::int32_t*>(data_)[i];
        case kind::i64: return static_cast<double>(static_cast<const std::int64_t*>(data_)[i]);
        case kind::f32: return static_cast<const float*>(data_)[i];
        case kind::f64: return static_cast<const double*>(data_)[i];
        }
        return 0;
    }

    /// Value i of an integer column as a 64-bit integer (floating columns
    /// are truncated; callers check is_floating() first).
    JOURNEYLOOP_INLINE std::int64_t integer(std::size_t i) const noexcept {
        if (kind_ == kind::i8) return static_cast<const std::int8_t*>(data_)[i];
        if (kind_ == kind::i32) return static_cast<const std::int32_t*>(data_)[i];
        switch (kind_) {
        case kind::u8: return static_cast<const std::uint8_t*>(data_)[i];
        case kind::i8: return static_cast<const std::int8_t*>(data_)[i];
        case kind::i16: return static_cast<const std::int16_t*>(data_)[i];
        case kind::i32: return static_cast<const std::int32_t*>(data_)[i];
        case kind::i64: return static_cast<const std::int64_t*>(data_)[i];
        case kind::f32: return static_cast<std::int64_t>(static_cast<const float*>(data_)[i]);
        case kind::f64: return static_cast<std::int64_t>(static_cast<const double*>(data_)[i]);
        }
        return 0;
    }

private:
    const void* data_ = nullptr;
    std::size_t size_ = 0;
    kind kind_ = kind::f64;
};

/**
 * A read-only, non-owning view of a column of strings: either string_views,
 * or Arrow's layout (`size + 1` offsets of 32 or 64 bits into one character
 * buffer, and an optional validity bitmap) so that Arrow, pandas and polars
 * string columns are read without a copy.
 *
 * **Example**:
 *
 *     std::vector<std::int64_t> offsets{0, 5, 6};
 *     journeyloop::string_column_view col(offsets.data(), "a > bc", 2);
 *     assert(col[0] == "a > b" && col[1] == "c");
 */
class string_column_view {
public:
    /// An empty column.
    string_column_view() noexcept = default;
    /// A view of string_views; they and their characters must outlive it.
    string_column_view(column_view<std::string_view> views) noexcept // NOLINT
        : views_(views.data()), size_(views.size()) {}
    string_column_view(const std::vector<std::string_view>& views) noexcept // NOLINT
        : views_(views.data()), size_(views.size()) {}
    /// Arrow `large_string`: row i is `data[offsets[i] .. offsets[i + 1])`.
    /// `validity` (may be null) has bit `validity_offset + i` set when row i
    /// is present.
    string_column_view(const std::int64_t* offsets, const char* data, std::size_t size,
                       const std::uint8_t* validity = nullptr,
                       std::size_t validity_offset = 0) noexcept
        : offsets64_(offsets), data_(data), size_(size), validity_(validity),
          validity_offset_(validity_offset) {}
    /// Arrow `string` (32-bit offsets).
    string_column_view(const std::int32_t* offsets, const char* data, std::size_t size,
                       const std::uint8_t* validity = nullptr,
                       std::size_t validity_offset = 0) noexcept
        : offsets32_(offsets), data_(data), size_(size), validity_(validity),
          validity_offset_(validity_offset) {}

    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }

    /// Whether row i is missing (null in Arrow's validity bitmap).
    bool is_null(std::size_t i) const noexcept {
        if (validity_ == nullptr) return false;
        const auto bit = validity_offset_ + i;
        return ((validity_[bit / 8] >> (bit % 8)) & 1) == 0;
    }

    /// Arrow columns: one past the last character of the last row (the rows'
    /// characters lie before it, so reading up to it is valid from any
    /// row). Columns of string_views: nullptr.
    const char* characters_end() const noexcept {
        if (views_ != nullptr || size_ == 0) return nullptr;
        return data_ + (offsets64_ != nullptr ? offsets64_[size_] : offsets32_[size_]);
    }

    /// Row i (empty for a null row).
    std::string_view operator[](std::size_t i) const noexcept {
        if (views_ != nullptr) return views_[i];
        if (offsets64_ != nullptr)
            return {data_ + offsets64_[i],
                    static_cast<std::size_t>(offsets64_[i + 1] - offsets64_[i])};
        return {data_ + offsets32_[i], static_cast<std::size_t>(offsets32_[i + 1] - offsets32_[i])};
    }

private:
    const std::string_view* views_ = nullptr;
    const std::int64_t* offsets64_ = nullptr;
    const std::int32_t* offsets32_ = nullptr;
    const char* data_ = nullptr;
    std::size_t size_ = 0;
    const std::uint8_t* validity_ = nullptr;
    std::size_t validity_offset_ = 0;
};

} // namespace journeyloop

#endif // JOURNEYLOOP_COLUMN_VIEW_HPP
