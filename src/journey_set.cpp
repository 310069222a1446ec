// Journeys from path tables and CSV files.
#include <journeyloop/journey_set.hpp>

#include "text.hpp"

#include <algorithm>
#include <cerrno>
#include <exception>
#include <functional>
#include <thread>
#include <cstring>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace journeyloop {

using detail::number_text;
using detail::trim;

namespace {
// Channel names are short: hash them 8 bytes at a time (a multiply-xorshift
// mix per word), which took the hash out of the parsing profile.
std::uint64_t hash_name(std::string_view s) noexcept {
    std::uint64_t h = 0x9E3779B97F4A7C15ull ^ s.size();
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
        std::uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
        h ^= h >> 31;
    }
    std::uint64_t w = 0;
    std::memcpy(&w, s.data() + i, s.size() - i);
    h = (h ^ w) * 0x94D049BB133111EBull;
    return h ^ (h >> 29);
}
} // namespace

std::size_t channel_dictionary::slot_of(std::string_view name) const noexcept {
    // Linear probing; the table is never more than half full.
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = static_cast<std::size_t>(hash_name(name)) & mask;
    while (slots_[i] != 0 && names_[slots_[i] - 1] != name) i = (i + 1) & mask;
    return i;
}

void channel_dictionary::grow() {
    std::vector<channel_id> old;
    old.swap(slots_);
    std::size_t capacity = old.empty() ? 64 : old.size() * 2;
    while (capacity < 2 * names_.size() + 2) capacity *= 2;
    slots_.assign(capacity, 0);
    for (std::size_t id = 0; id < names_.size(); ++id)
        slots_[slot_of(names_[id])] = static_cast<channel_id>(id + 1);
}

channel_id channel_dictionary::intern(std::string_view name) {
    if (slots_.empty()) grow();
    auto i = slot_of(name);
    if (slots_[i] != 0) return slots_[i] - 1;
    const auto id = static_cast<channel_id>(names_.size());
    names_.emplace_back(name);
    slots_[i] = id + 1;
    if (names_.size() * 2 > slots_.size()) grow();
    return id;
}

std::optional<channel_id> channel_dictionary::find(std::string_view name) const {
    if (slots_.empty()) return std::nullopt;
    const auto i = slot_of(name);
    if (slots_[i] == 0) return std::nullopt;
    return slots_[i] - 1;
}

channel_id channel_dictionary::at(std::string_view name) const {
    if (auto id = find(name)) return *id;
    throw unknown_channel("unknown channel '" + std::string(name) + "'");
}

namespace {

void check_count(double x, std::size_t row, const char* what, std::string_view column) {
    if (std::isnan(x))
        throw invalid_input(detail::make_message(row, column, std::string(what) + " is NaN"));
    if (!std::isfinite(x))
        throw invalid_input(
            detail::make_message(row, column, std::string(what) + " is infinite"));
    if (x < 0)
        throw invalid_input(detail::make_message(
            row, column, "negative " + std::string(what) + " " + number_text(x)));
}

} // namespace

void journey_set::check_counts(double conversions, double nulls, double value,
                               std::size_t row) const {
    // add() has no column names; build_journeys() checks with the real names
    // first, so these defaults only show for direct callers of add().
    check_count(conversions, row, "conversions", "conversions");
    check_count(nulls, row, "nulls", "nulls");
    check_count(value, row, "value", "value");
    if (value > 0 && conversions == 0)
        throw invalid_input(detail::make_message(
            row, "value", "value " + number_text(value) + " on a row without conversions"));
}

void journey_set::check_appendable() const {
    if (has_times_ || has_customers() || form_ != journey_form::funnel)
        throw invalid_input(
            "rows cannot be added to journeys built from events (they carry times, customers "
            "or loop histories); build a new journey set");
}

void journey_set::add_ids(column_view<channel_id> path, double conversions, double nulls,
                          double value, std::size_t row) {
    check_appendable();
    if (path.empty())
        throw invalid_input(detail::make_message(row, "path", "empty path"));
    for (auto id : path)
        if (id >= channels_.size())
            throw unknown_channel("row " + std::to_string(row) + ": unknown channel id " +
                                  std::to_string(id));
    check_counts(conversions, nulls, value, row);
    push_row(path, conversions, nulls, value);
}

void journey_set::push_row(column_view<channel_id> path, double conversions, double nulls,
                           double value) {
    touches_.insert(touches_.end(), path.begin(), path.end());
    end_row(conversions, nulls, value);
}

void journey_set::end_row(double conversions, double nulls, double value) {
    offsets_.push_back(touches_.size());
    conversions_.push_back(conversions);
    nulls_.push_back(nulls);
    values_.push_back(value);
    total_conversions_ += conversions;
    total_nulls_ += nulls;
    total_value_ += value;
}

void journey_set::add(column_view<std::string_view> path, double conversions, double nulls,
                      double value, std::size_t row) {
    check_appendable();
    if (path.empty())
        throw invalid_input(detail::make_message(row, "path", "empty path"));
    for (auto name : path)
        if (trim(name).empty())
            throw invalid_input(detail::make_message(row, "path", "empty channel name"));
    check_counts(conversions, nulls, value, row);
    std::vector<channel_id> ids;
    ids.reserve(path.size());
    for (auto name : path) ids.push_back(channels_.intern(trim(name)));
    add_ids(ids, conversions, nulls, value, row);
}

namespace {

// Rows [begin, end) of a path table parsed on their own, with channel ids of
// a local dictionary (so that parts can be parsed on separate threads).
struct parsed_part {
    std::size_t begin = 0, end = 0;
    channel_dictionary channels;
    std::vector<std::size_t> offsets{0};
    std::vector<channel_id> touches;
    std::exception_ptr error;
};

void parse_part(const path_table& table, const path_options& options, std::size_t first_row,
                parsed_part& part) noexcept {
    try {
        const std::string_view sep = options.separator;
        const bool single = sep.size() == 1;
        for (std::size_t i = part.begin; i < part.end; ++i) {
            const std::size_t row = first_row + i;
            const double conv = table.conversions[i];
            const double nulls = table.nulls.empty() ? 0.0 : table.nulls[i];
            const double value = table.value.empty() ? 0.0 : table.value[i];
            check_count(conv, row, "count", options.conversions_column);
            check_count(nulls, row, "count", options.nulls_column);
            check_count(value, row, "value", options.value_column);
            if (value > 0 && conv == 0)
                throw invalid_input(detail::make_message(
                    row, options.value_column,
                    "value " + number_text(value) + " on a row without conversions"));
            if (table.path.is_null(i))
                throw invalid_input(
                    detail::make_message(row, options.path_column, "missing path (null)"));
            const std::string_view path = table.path[i];
            if (trim(path).empty())
                throw invalid_input(detail::make_message(row, options.path_column, "empty path"));
            std::size_t pos = 0;
            while (true) {
                std::size_t next;
                if (single) {
                    // Tokens are short: a plain scan beats a memchr call per token.
                    next = pos;
                    while (next < path.size() && path[next] != sep[0]) ++next;
                    if (next == path.size()) next = std::string_view::npos;
                } else {
                    next = path.find(sep, pos);
                }
                const auto token =
                    trim(path.substr(pos, next == std::string_view::npos ? path.npos : next - pos));
                if (token.empty())
                    throw invalid_input(detail::make_message(
                        row, options.path_column,
                        "empty channel name in '" + std::string(path) + "'"));
                part.touches.push_back(part.channels.intern(token));
                if (next == std::string_view::npos) break;
                pos = next + sep.size();
            }
            part.offsets.push_back(part.touches.size());
        }
    } catch (...) {
        part.error = std::current_exception();
    }
}

} // namespace

void append_journeys(journey_set& journeys, const path_table& table,
                     const path_options& options, std::size_t first_row) {
    journeys.check_appendable();
    const auto n = table.path.size();
    auto check_length = [&](const column_view<double>& col, const std::string& name,
                            bool required) {
        if ((required || !col.empty()) && col.size() != n)
            throw invalid_input("column '" + name + "' has " + std::to_string(col.size()) +
                                " rows, column '" + options.path_column + "' has " +
                                std::to_string(n));
    };
    check_length(table.conversions, options.conversions_column, true);
    check_length(table.nulls, options.nulls_column, false);
    check_length(table.value, options.value_column, false);
    if (options.separator.empty()) throw invalid_input("the path separator is empty");

    // Large tables are parsed in parts on several threads. Nothing touches
    // `journeys` until every part has parsed, so a bad row leaves it as it
    // was; the first bad row (lowest part) is the one reported.
    std::size_t threads = options.threads;
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    threads = std::min(threads, std::max<std::size_t>(1, n / 20000));
    std::vector<parsed_part> parts(threads);
    for (std::size_t t = 0; t < threads; ++t) {
        parts[t].begin = n * t / threads;
        parts[t].end = n * (t + 1) / threads;
    }
    std::vector<std::thread> workers;
    for (std::size_t t = 1; t < threads; ++t)
        workers.emplace_back(parse_part, std::cref(table), std::cref(options), first_row,
                             std::ref(parts[t]));
    parse_part(table, options, first_row, parts[0]);
    for (auto& w : workers) w.join();
    for (const auto& part : parts)
        if (part.error) std::rethrow_exception(part.error);

    // Local channel ids to the journeys' ids, part by part: this keeps the
    // order of first appearance over the whole table.
    auto& out = journeys;
    std::vector<channel_id> to_global;
    for (const auto& part : parts) {
        to_global.clear();
        for (const auto& name : part.channels.names())
            to_global.push_back(out.channels_.intern(name));
        const auto base = out.touches_.size();
        out.touches_.reserve(base + part.touches.size());
        for (auto id : part.touches) out.touches_.push_back(to_global[id]);
        for (std::size_t r = 1; r < part.offsets.size(); ++r)
            out.offsets_.push_back(base + part.offsets[r]);
        for (std::size_t i = part.begin; i < part.end; ++i) {
            const double conv = table.conversions[i];
            const double nulls = table.nulls.empty() ? 0.0 : table.nulls[i];
            const double value = table.value.empty() ? 0.0 : table.value[i];
            out.conversions_.push_back(conv);
            out.nulls_.push_back(nulls);
            out.values_.push_back(value);
            out.total_conversions_ += conv;
            out.total_nulls_ += nulls;
            out.total_value_ += value;
        }
    }
}

journey_set build_journeys(const path_table& table, const path_options& options) {
    journey_set out;
    append_journeys(out, table, options, 0);
    return out;
}

namespace {

// Splits one CSV line into fields; supports double quotes with "" escapes.
std::vector<std::string> split_csv_line(const std::string& line, char delim) {
    std::vector<std::string> fields(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char ch = line[i];
        if (quoted) {
            if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                fields.back() += '"';
                ++i;
            } else if (ch == '"') {
                quoted = false;
            } else {
                fields.back() += ch;
            }
        } else if (ch == '"') {
            quoted = true;
        } else if (ch == delim) {
            fields.emplace_back();
        } else if (ch != '\r') {
            fields.back() += ch;
        }
    }
    return fields;
}

double parse_number(const std::string& text, std::size_t row, const std::string& column) {
    const auto t = trim(text);
    const std::string s(t);
    char* end = nullptr;
    errno = 0;
    const double x = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || errno == ERANGE)
        throw invalid_input(detail::make_message(row, column, "not a number: '" + s + "'"));
    return x;
}

} // namespace

journey_set read_path_csv(const std::string& filename, const csv_options& options) {
    std::ifstream in(filename);
    if (!in) throw invalid_input("cannot open '" + filename + "'");
    std::string line;
    if (!std::getline(in, line)) throw invalid_input("'" + filename + "' is empty");
    const auto header = split_csv_line(line, options.delimiter);
    auto column_index = [&](const std::string& name) -> long {
        if (name.empty()) return -1;
        for (std::size_t i = 0; i < header.size(); ++i)
            if (trim(header[i]) == name) return static_cast<long>(i);
        throw invalid_input("'" + filename + "' has no column '" + name + "'");
    };
    const auto& cols = options.columns;
    const long ip = column_index(cols.path_column);
    const long ic = column_index(cols.conversions_column);
    const long in_ = column_index(cols.nulls_column);
    const long iv = column_index(cols.value_column);

    std::vector<std::string> paths;
    std::vector<double> conv, nulls, value;
    std::size_t row = 0;
    while (std::getline(in, line)) {
        if (trim(line).empty()) continue;
        const auto f = split_csv_line(line, options.delimiter);
        if (f.size() != header.size())
            throw invalid_input("row " + std::to_string(row) + ": " + std::to_string(f.size()) +
                                " fields, the header has " + std::to_string(header.size()));
        paths.push_back(f[ip]);
        conv.push_back(parse_number(f[ic], row, cols.conversions_column));
        if (in_ >= 0) nulls.push_back(parse_number(f[in_], row, cols.nulls_column));
        if (iv >= 0) value.push_back(parse_number(f[iv], row, cols.value_column));
        ++row;
    }
    const std::vector<std::string_view> views(paths.begin(), paths.end());
    return build_journeys({views, conv, nulls, value}, cols);
}

} // namespace journeyloop
