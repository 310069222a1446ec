// Conversions between C++ vectors / views and numpy arrays.
#pragma once

#include <journeyloop/column_view.hpp>
#include <journeyloop/errors.hpp>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace py = pybind11;

// A float64 column, converted (not copied when already float64 and
// contiguous; read-only arrays are fine).
using double_array = py::array_t<double, py::array::c_style | py::array::forcecast>;

// By reference: no copy of the array object, so this is safe without the GIL.
inline journeyloop::column_view<double> view_of(const double_array& a) {
    return {a.data(), static_cast<std::size_t>(a.size())};
}

inline journeyloop::column_view<double> view_of(const std::optional<double_array>& a) {
    if (!a) return {};
    return {a->data(), static_cast<std::size_t>(a->size())};
}

// An Arrow string array given as (offsets, characters, validity or None,
// validity bit offset): int32 or int64 offsets, already shifted to the
// array's offset.
using byte_array = py::array_t<std::uint8_t, py::array::c_style>;

inline journeyloop::string_column_view strings_of(const py::array& offsets, const byte_array& data,
                                                  const std::optional<byte_array>& validity,
                                                  std::size_t validity_offset) {
    if (offsets.ndim() != 1 || offsets.shape(0) < 1)
        throw journeyloop::invalid_input("arrow offsets must be a non-empty 1-d array");
    const auto rows = static_cast<std::size_t>(offsets.shape(0) - 1);
    const auto* chars = reinterpret_cast<const char*>(data.data());
    const std::uint8_t* bits = validity ? validity->data() : nullptr;
    const bool contiguous = (offsets.flags() & py::array::c_style) != 0;
    if (offsets.dtype().is(py::dtype::of<std::int64_t>()) && contiguous)
        return {static_cast<const std::int64_t*>(offsets.data()), chars, rows, bits,
                validity_offset};
    if (offsets.dtype().is(py::dtype::of<std::int32_t>()) && contiguous)
        return {static_cast<const std::int32_t*>(offsets.data()), chars, rows, bits,
                validity_offset};
    throw journeyloop::invalid_input("arrow offsets must be contiguous int32 or int64");
}

template <class T>
journeyloop::column_view<T> view_of(const std::optional<py::array_t<T, py::array::c_style>>& a) {
    if (!a) return {};
    return {a->data(), static_cast<std::size_t>(a->size())};
}

// A numeric column of any common dtype, read in place (bool, uint8, int8 to
// int64, float32, float64); `name` is used in errors.
inline journeyloop::numeric_column_view numeric_of(const std::optional<py::array>& a,
                                                   const char* name) {
    namespace jl = journeyloop;
    if (!a) return {};
    if (a->ndim() != 1 || !(a->flags() & py::array::c_style))
        throw jl::invalid_input(std::string(name) + " must be a contiguous 1-d array");
    if (!(a->flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_) ||
        !a->dtype().attr("isnative").cast<bool>())
        throw jl::invalid_input(std::string(name) +
                                " must be an aligned array in the machine's byte order");
    const auto n = static_cast<std::size_t>(a->shape(0));
    const void* p = a->data();
    const char kind = a->dtype().kind();
    const auto size = a->itemsize();
    if (kind == 'b' || (kind == 'u' && size == 1))
        return jl::column_view<std::uint8_t>(static_cast<const std::uint8_t*>(p), n);
    if (kind == 'i' && size == 1)
        return jl::column_view<std::int8_t>(static_cast<const std::int8_t*>(p), n);
    if (kind == 'i' && size == 2)
        return jl::column_view<std::int16_t>(static_cast<const std::int16_t*>(p), n);
    if (kind == 'i' && size == 4)
        return jl::column_view<std::int32_t>(static_cast<const std::int32_t*>(p), n);
    if (kind == 'i' && size == 8)
        return jl::column_view<std::int64_t>(static_cast<const std::int64_t*>(p), n);
    if (kind == 'f' && size == 4) return jl::column_view<float>(static_cast<const float*>(p), n);
    if (kind == 'f' && size == 8) return jl::column_view<double>(static_cast<const double*>(p), n);
    throw jl::invalid_input(std::string(name) + ": unsupported dtype " +
                            py::str(a->dtype()).cast<std::string>());
}

template <class T>
py::array_t<T> to_numpy(const std::vector<T>& v) {
    return py::array_t<T>(static_cast<py::ssize_t>(v.size()), v.data());
}
