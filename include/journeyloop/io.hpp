// journeyloop: saving and loading transition counts and fitted models.
//
// The file format is versioned and self-checking: one header line of JSON
// (`format`, `kind`, `version`, `body_bytes`, `checksum`), then a JSON body.
// Loading validates the header, the checksum (FNV-1a 64 of the body) and
// every field of the body, so a truncated, corrupted or hand-edited file is
// rejected with invalid_input, never loaded as a wrong model. A fitted model
// is stored as its counts and options and solved again on loading.
#ifndef JOURNEYLOOP_IO_HPP
#define JOURNEYLOOP_IO_HPP

#include <journeyloop/markov_model.hpp>
#include <journeyloop/transition_counts.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace journeyloop {

/// Version of the file format written by this library.
constexpr int file_format_version = 1;

/**
 * What a model file may hold besides the model, for callers that keep it
 * with the model (the Python package does): the channel metadata of the
 * journeys it was fitted on, as (channel, team) and (channel, stage) pairs in
 * their order, and the state cap it was fitted with. Every part is optional;
 * a file written without them reads back with none.
 */
struct model_metadata {
    std::optional<std::vector<std::pair<std::string, std::string>>> teams;
    std::optional<std::vector<std::pair<std::string, std::string>>> stages;
    std::optional<std::size_t> max_states; ///< at least 1
};

/// Serializes counts to bytes (text, see above).
std::string to_bytes(const transition_counts& counts);
/// Serializes a fitted model (its counts and options) to bytes.
std::string to_bytes(const markov_model& model);
/// The same, with `metadata` stored beside the model; throws invalid_input
/// if a name is empty or not UTF-8, a channel is listed twice, or
/// max_states is 0.
std::string to_bytes(const markov_model& model, const model_metadata& metadata);

/// Reads counts from bytes; throws invalid_input naming what is wrong.
transition_counts counts_from_bytes(std::string_view bytes);
/// Reads and solves a model from bytes; throws invalid_input naming what is
/// wrong, numerical_error if the stored chain cannot be solved.
markov_model model_from_bytes(std::string_view bytes);
/// The same, and stores the file's metadata in `*metadata` (parts the file
/// does not hold are left empty); `metadata` may be null.
markov_model model_from_bytes(std::string_view bytes, model_metadata* metadata);

/// Writes to_bytes() to a file; throws invalid_input if it cannot be written.
void save(const transition_counts& counts, const std::string& filename);
void save(const markov_model& model, const std::string& filename);
void save(const markov_model& model, const std::string& filename, const model_metadata& metadata);
/// Reads a file written by save().
transition_counts load_counts(const std::string& filename);
markov_model load_model(const std::string& filename);
markov_model load_model(const std::string& filename, model_metadata* metadata);

} // namespace journeyloop

#endif // JOURNEYLOOP_IO_HPP
