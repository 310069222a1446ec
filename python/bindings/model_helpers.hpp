// Conversions shared by the bindings of the funnel and loop models.
#pragma once

#include <journeyloop/journey_graph.hpp>
#include <journeyloop/model_io.hpp>

#include <pybind11/pybind11.h>

namespace py = pybind11;

/// {"teams": pairs or None, "stages": pairs or None, "max_states": int or None}.
py::dict metadata_dict(const journeyloop::model_metadata& meta);

/// ([(state ids, probability)], stopped) of top_paths().
py::tuple top_paths_tuple(const journeyloop::top_paths_result& found);
