// journeyloop: saving and loading fitted models (funnel and loop).
//
// The same versioned, checksummed format as the counts (io.hpp): a fitted
// model is stored as its counts and options (a loop model as the counts of
// its two views and its totals) and solved again on loading. The kinds are
// `markov_model` and `loop_model`; a file of one kind is refused where the
// other is expected.
#ifndef JOURNEYLOOP_MODEL_IO_HPP
#define JOURNEYLOOP_MODEL_IO_HPP

#include <journeyloop/io.hpp>
#include <journeyloop/loop_model.hpp>
#include <journeyloop/markov_model.hpp>
#include <journeyloop/simulate.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace journeyloop {

/// A funnel model read from a file, with the file's metadata (parts the file
/// does not hold are empty).
struct stored_model {
    markov_model model;
    model_metadata metadata;
    /// The holding times stored with the model, if any.
    std::optional<holding_times> holding;
};

/// A loop model read from a file, with the file's metadata.
struct stored_loop_model {
    loop_model model;
    model_metadata metadata;
    /// The holding times stored with the model, if any.
    std::optional<loop_holding_times> holding;
};

/// Serializes a fitted model (its counts and options) to bytes.
std::string to_bytes(const markov_model& model);
/// The same, with `metadata` stored beside the model; throws invalid_input
/// if a name is empty or not UTF-8, a channel is listed twice, or
/// max_states is 0.
std::string to_bytes(const markov_model& model, const model_metadata& metadata);
/// Serializes a loop model (the counts of its views, its totals and
/// options), with optional metadata as above.
std::string to_bytes(const loop_model& model, const model_metadata& metadata = {});
/**
 * The same, with the model's holding times (simulate.hpp) stored beside it:
 * one mean and one weight per transition of the model, so that a model read
 * back simulates timed journeys and gives its expected times. Throws
 * invalid_input if `holding` was fitted for a model of other transitions.
 */
std::string to_bytes(const markov_model& model, const model_metadata& metadata,
                     const holding_times& holding);
std::string to_bytes(const loop_model& model, const model_metadata& metadata,
                     const loop_holding_times& holding);

/// Reads and solves a model from bytes; throws invalid_input naming what is
/// wrong, numerical_error if the stored chain cannot be solved.
markov_model model_from_bytes(std::string_view bytes);
/// The same, with the file's metadata.
stored_model stored_model_from_bytes(std::string_view bytes);
/// Reads and solves a loop model from bytes, with the file's metadata;
/// throws as model_from_bytes() does.
stored_loop_model loop_model_from_bytes(std::string_view bytes);

/// Writes to_bytes() to a file; throws invalid_input if it cannot be written.
void save(const markov_model& model, const std::string& filename);
void save(const markov_model& model, const std::string& filename, const model_metadata& metadata);
void save(const loop_model& model, const std::string& filename,
          const model_metadata& metadata = {});
/// Reads a file written by save().
markov_model load_model(const std::string& filename);
stored_model load_stored_model(const std::string& filename);
stored_loop_model load_loop_model(const std::string& filename);

} // namespace journeyloop

#endif // JOURNEYLOOP_MODEL_IO_HPP
