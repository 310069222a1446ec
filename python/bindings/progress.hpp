// A Python callable (done, total) as the library's progress callback.
#pragma once

#include <journeyloop/markov_model.hpp>

#include <pybind11/pybind11.h>

#include <optional>

// For work that runs without the GIL: each call takes the GIL. The callable
// must outlive the callback (it stays in the binding's frame while the work
// runs); an exception it raises stops the work and reaches the caller.
inline journeyloop::progress_callback progress_of(const std::optional<pybind11::function>& f) {
    if (!f) return {};
    const pybind11::function* fn = &*f;
    return [fn](std::size_t done, std::size_t total) {
        pybind11::gil_scoped_acquire gil;
        (*fn)(done, total);
    };
}
