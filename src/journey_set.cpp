// Journeys from path tables and CSV files.
#include <journeyloop/journey_set.hpp>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace journeyloop {

channel_id channel_dictionary::intern(std::string_view name) {
    // One lookup on the hot path: most tokens are channels already seen.
    auto it = ids_.find(std::string(name));
    if (it != ids_.end()) return it->second;
    const auto id = static_cast<channel_id>(names_.size());
    names_.emplace_back(name);
    ids_.emplace(names_.back(), id);
    return id;
}

std::optional<channel_id> channel_dictionary::find(std::string_view name) const {
    auto it = ids_.find(std::string(name));
    if (it == ids_.end()) return std::nullopt;
    return it->second;
}

channel_id channel_dictionary::at(std::string_view name) const {
    if (auto id = find(name)) return *id;
    throw unknown_channel("unknown channel '" + std::string(name) + "'");
}

namespace {

std::string number_text(double x) {
    std::ostringstream os;
    os << x;
    return os.str();
}

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

std::string_view trim(std::string_view s) {
    const char* ws = " \t\r\n";
    const auto b = s.find_first_not_of(ws);
    if (b == std::string_view::npos) return {};
    const auto e = s.find_last_not_of(ws);
    return s.substr(b, e - b + 1);
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

void journey_set::add_ids(column_view<channel_id> path, double conversions, double nulls,
                          double value, std::size_t row) {
    if (path.empty())
        throw invalid_input(detail::make_message(row, "path", "empty path"));
    for (auto id : path)
        if (id >= channels_.size())
            throw unknown_channel("row " + std::to_string(row) + ": unknown channel id " +
                                  std::to_string(id));
    check_counts(conversions, nulls, value, row);
    touches_.insert(touches_.end(), path.begin(), path.end());
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

journey_set build_journeys(const path_table& table, const path_options& options) {
    const auto n = table.path.size();
    auto check_length = [n](const column_view<double>& col, const std::string& name,
                            bool required) {
        if ((required || !col.empty()) && col.size() != n)
            throw invalid_input("column '" + name + "' has " + std::to_string(col.size()) +
                                " rows, column 'path' has " + std::to_string(n));
    };
    check_length(table.conversions, options.conversions_column, true);
    check_length(table.nulls, options.nulls_column, false);
    check_length(table.value, options.value_column, false);
    if (options.separator.empty()) throw invalid_input("the path separator is empty");

    journey_set out;
    std::vector<channel_id> ids;
    const std::string_view sep = options.separator;
    for (std::size_t row = 0; row < n; ++row) {
        const double conv = table.conversions[row];
        const double nulls = table.nulls.empty() ? 0.0 : table.nulls[row];
        const double value = table.value.empty() ? 0.0 : table.value[row];
        check_count(conv, row, "count", options.conversions_column);
        check_count(nulls, row, "count", options.nulls_column);
        check_count(value, row, "value", options.value_column);
        if (value > 0 && conv == 0)
            throw invalid_input(detail::make_message(
                row, options.value_column,
                "value " + number_text(value) + " on a row without conversions"));

        const std::string_view path = table.path[row];
        if (trim(path).empty())
            throw invalid_input(detail::make_message(row, options.path_column, "empty path"));
        ids.clear();
        std::size_t pos = 0;
        while (true) {
            const auto next = path.find(sep, pos);
            const auto token =
                trim(path.substr(pos, next == std::string_view::npos ? path.npos : next - pos));
            if (token.empty())
                throw invalid_input(detail::make_message(
                    row, options.path_column,
                    "empty channel name in '" + std::string(path) + "'"));
            ids.push_back(out.mutable_channels().intern(token));
            if (next == std::string_view::npos) break;
            pos = next + sep.size();
        }
        out.add_ids(ids, conv, nulls, value, row);
    }
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
