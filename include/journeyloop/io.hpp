// journeyloop: saving and loading transition counts, journeys and loop
// histories.
//
// The file format is versioned and self-checking: one header line of JSON
// (`format`, `kind`, `version`, `body_bytes`, `checksum`), then a JSON body.
// Loading validates the header, the checksum (FNV-1a 64 of the body) and
// every field of the body, so a truncated, corrupted or hand-edited file is
// rejected with invalid_input, never loaded as a wrong model. Fitted models
// (which need the solver and Eigen) are saved and loaded by
// `<journeyloop/model_io.hpp>`; this header needs neither. Every save writes
// a temporary file in the target's folder, flushes it to the disk and
// renames it over the target, so that an interrupted save leaves the old
// file (or none), never a part of the new one. docs/format.md describes the
// format and its version policy.
#ifndef JOURNEYLOOP_IO_HPP
#define JOURNEYLOOP_IO_HPP

#include <journeyloop/journey_set.hpp>
#include <journeyloop/loop_histories.hpp>
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
 * What a model or journeys file may hold besides its object, for callers that keep it
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

/// Reads counts from bytes; throws invalid_input naming what is wrong.
transition_counts counts_from_bytes(std::string_view bytes);

/// Writes to_bytes() to a file; throws invalid_input if it cannot be written.
void save(const transition_counts& counts, const std::string& filename);
/// Reads a file written by save().
transition_counts load_counts(const std::string& filename);

/// Journeys read from a file, with the file's metadata (teams and stages).
struct stored_journeys {
    journey_set journeys;
    model_metadata metadata;
};

/// Loop histories read from a file, with the file's metadata.
struct stored_histories {
    loop_histories histories;
    model_metadata metadata;
};

/// Serializes journeys: every row's path, conversions, nulls and value, the
/// channels in their order, and for journeys built from events each touch's
/// time and each row's customer; with optional metadata (teams, stages).
std::string to_bytes(const journey_set& journeys, const model_metadata& metadata = {});
/// Serializes loop histories (their rows, purchase marker and the value of
/// each purchase), with optional metadata.
std::string to_bytes(const loop_histories& histories, const model_metadata& metadata = {});

/// Reads journeys from bytes; throws invalid_input naming what is wrong.
stored_journeys journeys_from_bytes(std::string_view bytes);
/// Reads loop histories from bytes; throws invalid_input naming what is wrong.
stored_histories histories_from_bytes(std::string_view bytes);

/// Writes to_bytes() to a file (atomically, as every save).
void save(const journey_set& journeys, const std::string& filename,
          const model_metadata& metadata = {});
void save(const loop_histories& histories, const std::string& filename,
          const model_metadata& metadata = {});
/// Reads a file written by save().
stored_journeys load_journeys(const std::string& filename);
stored_histories load_histories(const std::string& filename);

} // namespace journeyloop

#endif // JOURNEYLOOP_IO_HPP
