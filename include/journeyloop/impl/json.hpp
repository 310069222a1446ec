// Internal: a small JSON reader and writer for journeyloop's file format.
//
// Only what the format needs: objects, arrays, strings, numbers, booleans and
// null. The reader limits nesting depth so that a hostile file cannot
// exhaust the stack, and reports the byte offset of a syntax error.
#ifndef JOURNEYLOOP_SRC_JSON_HPP
#define JOURNEYLOOP_SRC_JSON_HPP

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace journeyloop::detail::json {

struct value {
    enum class kind { null, boolean, number, string, array, object };
    kind type = kind::null;
    bool boolean = false;
    double number = 0;
    std::string string;
    std::vector<value> array;
    std::map<std::string, value> object;

    /// Member `key` of an object; throws invalid_input naming `where`.
    const value& at(const std::string& key, std::string_view where) const;
    /// Typed accessors; throw invalid_input naming `where` on a type mismatch.
    double as_number(std::string_view where) const;
    /// A number that is an integer in [lo, hi].
    std::int64_t as_integer(std::string_view where, std::int64_t lo, std::int64_t hi) const;
    const std::string& as_string(std::string_view where) const;
    bool as_bool(std::string_view where) const;
    const std::vector<value>& as_array(std::string_view where) const;
};

/// Parses `text`; throws invalid_input with the offset of the first error.
value parse(std::string_view text);

/// The offset of the first byte of `s` that is not part of well-formed UTF-8
/// (no overlong forms, no surrogates, nothing past U+10FFFF), or npos.
std::size_t invalid_utf8(std::string_view s);

/// Appends JSON text; write_string throws invalid_input if `s` is not UTF-8.
void write_string(std::string& out, std::string_view s);
void write_number(std::string& out, double x); // shortest text that round-trips

/// FNV-1a 64-bit hash, as 16 hex digits.
std::string fnv1a64(std::string_view bytes);

} // namespace journeyloop::detail::json

#endif
