// Conversions shared by the bindings of the funnel and loop models.
#pragma once

#include <journeyloop/journey_graph.hpp>
#include <journeyloop/model_io.hpp>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace py = pybind11;

/// {"teams": pairs or None, "stages": pairs or None, "max_states": int or None}.
py::dict metadata_dict(const journeyloop::model_metadata& meta);

/// ([(state ids, probability)], stopped) of top_paths().
py::tuple top_paths_tuple(const journeyloop::top_paths_result& found);

/// The model in journeyloop's file format with the metadata given: the
/// to_bytes method of both models.
/// With `holding` (holding times of the model, or nullptr), they are stored too.
template <class Model, class Holding>
py::bytes model_bytes(const Model& model,
                      const std::optional<std::vector<std::pair<std::string, std::string>>>& teams,
                      const std::optional<std::vector<std::pair<std::string, std::string>>>& stages,
                      const std::optional<std::size_t>& max_states, const Holding* holding) {
    const journeyloop::model_metadata meta{teams, stages, max_states};
    std::string out;
    {
        py::gil_scoped_release release;
        out = holding ? journeyloop::to_bytes(model, meta, *holding)
                      : journeyloop::to_bytes(model, meta);
    }
    return py::bytes(out);
}

/// (model, metadata) of a stored model: metadata_dict() with "holding", the
/// stored holding times or None.
template <class Stored>
py::tuple stored_tuple(Stored&& stored) {
    py::dict meta = metadata_dict(stored.metadata);
    meta["holding"] = stored.holding ? py::cast(std::move(*stored.holding)) : py::none();
    return py::make_tuple(std::move(stored.model), meta);
}

/// The docstrings of def_graph_functions(), which differ by model.
struct graph_function_docs {
    const char* shapley;
    const char* dot;
    const char* graphml;
    const char* top_paths;
};

/// The functions the funnel and the loop model share, bound as overloads on
/// `Model`: Shapley attribution, the DOT and GraphML exports, the loops and
/// the most probable paths.
template <class Model>
void def_graph_functions(py::module_& m, const graph_function_docs& docs) {
    namespace jl = journeyloop;
    m.def(
        "shapley_attribution",
        [](const Model& model, const std::vector<std::string>& names,
           const std::vector<std::vector<jl::channel_id>>& players) {
            return jl::shapley_attribution(model, names, players);
        },
        py::arg("model"), py::arg("names"), py::arg("players"),
        py::call_guard<py::gil_scoped_release>(), docs.shapley);
    m.def(
        "to_dot",
        [](const Model& model) {
            std::ostringstream out;
            jl::write_dot(out, jl::make_journey_graph(model));
            return out.str();
        },
        py::arg("model"), py::call_guard<py::gil_scoped_release>(), docs.dot);
    m.def(
        "to_graphml",
        [](const Model& model) {
            std::ostringstream out;
            jl::write_graphml(out, jl::make_journey_graph(model));
            return out.str();
        },
        py::arg("model"), py::call_guard<py::gil_scoped_release>(), docs.graphml);
    m.def(
        "journey_loops", [](const Model& model) { return jl::journey_loops(model); },
        py::arg("model"), py::call_guard<py::gil_scoped_release>(),
        "State ids of the cyclic components.");
    m.def(
        "top_paths",
        [](const Model& model, std::size_t n, std::size_t max_length, std::size_t max_expanded) {
            jl::top_paths_result found;
            {
                py::gil_scoped_release release;
                found = jl::top_paths(model, n, max_length, max_expanded);
            }
            return top_paths_tuple(found);
        },
        py::arg("model"), py::arg("n"), py::arg("max_length") = jl::top_paths_max_length,
        py::arg("max_expanded") = jl::top_paths_max_expanded, docs.top_paths);
}
