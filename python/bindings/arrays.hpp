// Conversions between C++ vectors / views and numpy arrays.
#pragma once

#include <journeyloop/column_view.hpp>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <optional>
#include <vector>

namespace py = pybind11;

// A float64 column, converted (not copied when already float64 and
// contiguous; read-only arrays are fine).
using double_array = py::array_t<double, py::array::c_style | py::array::forcecast>;

inline journeyloop::column_view<double> view_of(const std::optional<double_array>& a) {
    if (!a) return {};
    return {a->data(), static_cast<std::size_t>(a->size())};
}

template <class T>
py::array_t<T> to_numpy(const std::vector<T>& v) {
    return py::array_t<T>(static_cast<py::ssize_t>(v.size()), v.data());
}
