// journeyloop: saving and loading transition counts.
//
// The file format is versioned and self-checking: one header line of JSON
// (`format`, `kind`, `version`, `body_bytes`, `checksum`), then a JSON body.
// Loading validates the header, the checksum (FNV-1a 64 of the body) and
// every field of the body, so a truncated, corrupted or hand-edited file is
// rejected with invalid_input, never loaded as a wrong model. Fitted models
// (which need the solver and Eigen) are saved and loaded by
// `<journeyloop/model_io.hpp>`; this header needs neither.
#ifndef JOURNEYLOOP_IO_HPP
#define JOURNEYLOOP_IO_HPP

#include <journeyloop/transition_counts.hpp>

#include <string>
#include <string_view>

namespace journeyloop {

/// Version of the file format written by this library.
constexpr int file_format_version = 1;

/// Serializes counts to bytes (text, see above).
std::string to_bytes(const transition_counts& counts);

/// Reads counts from bytes; throws invalid_input naming what is wrong.
transition_counts counts_from_bytes(std::string_view bytes);

/// Writes to_bytes() to a file; throws invalid_input if it cannot be written.
void save(const transition_counts& counts, const std::string& filename);
/// Reads a file written by save().
transition_counts load_counts(const std::string& filename);

} // namespace journeyloop

#endif // JOURNEYLOOP_IO_HPP
