// journeyloop: journeys, the first stage of the pipeline.
//
// A journey_set holds journeys in a compact columnar form: one flat array of
// channel ids with row offsets (CSR), and per row the number of conversions,
// the number of non-converting outcomes (nulls) and the conversion value.
// Channel names are interned in a channel_dictionary; ids are dense and given
// in order of first appearance.
#ifndef JOURNEYLOOP_JOURNEY_SET_HPP
#define JOURNEYLOOP_JOURNEY_SET_HPP

#include <journeyloop/column_view.hpp>
#include <journeyloop/detail/uninitialized.hpp>
#include <journeyloop/errors.hpp>
#include <journeyloop/fwd.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace journeyloop {

/**
 * Interns channel names: each distinct name gets a dense id (0, 1, 2, ...) in
 * order of first appearance.
 *
 * **Example**:
 *
 *     journeyloop::channel_dictionary d;
 *     assert(d.intern("email") == 0 && d.intern("demo") == 1 && d.intern("email") == 0);
 *     assert(d.name(1) == "demo");
 */
class channel_dictionary {
public:
    /// The id of `name`, adding it if it is new.
    channel_id intern(std::string_view name);

    /// The id of `name`, or nothing if it is unknown.
    std::optional<channel_id> find(std::string_view name) const;

    /// The id of `name`. Throws unknown_channel if it is unknown.
    channel_id at(std::string_view name) const;

    /// The name of channel `id`; `id < size()` is a precondition.
    const std::string& name(channel_id id) const { return names_[id]; }

    /// All names, indexed by id.
    const std::vector<std::string>& names() const noexcept { return names_; }

    /// Number of channels.
    std::size_t size() const noexcept { return names_.size(); }

private:
    std::size_t slot_of(std::string_view name) const noexcept;
    void grow();

    std::vector<std::string> names_;
    // Open addressing over the names: id + 1, or 0 for an empty slot. Lookups
    // by string_view need no allocation (the hot loop of path parsing).
    std::vector<channel_id> slots_;
};

namespace detail {
struct order1_sums;
} // namespace detail

/**
 * A set of journeys (funnel form): rows of channel sequences, each with a
 * count of conversions, a count of non-converting outcomes (nulls) and the
 * total conversion value of the row. Rows are kept as given (duplicate paths
 * are not merged; the model sums them).
 *
 * Built by build_journeys() from a path table, by read_path_csv(), or row by
 * row with add(); or from an event log by build_journeys(event_table, ...)
 * (events.hpp), which also records the customer of each row and each
 * touch's time before the end of its journey. Loop histories, with
 * purchases inside each sequence, are a type of their own (loop_histories).
 */
class journey_set {
public:
    /// Number of rows (journeys or aggregated paths).
    std::size_t size() const noexcept { return conversions_.size(); }
    bool empty() const noexcept { return conversions_.empty(); }

    /// Room for `rows` more rows holding `touches` more touches in total, so
    /// that appending in several calls (one per chunk of a column) copies
    /// nothing. Only a hint; reserving too much costs address space only.
    void reserve(std::size_t rows, std::size_t touches);

    /// The channel ids of row `i`, in order.
    column_view<channel_id> path(std::size_t i) const noexcept {
        return {touches_.data() + offsets_[i], offsets_[i + 1] - offsets_[i]};
    }
    /// Conversions of row `i` (a non-negative count).
    double conversions(std::size_t i) const noexcept { return conversions_[i]; }
    /// Non-converting outcomes of row `i` (a non-negative count).
    double nulls(std::size_t i) const noexcept { return nulls_[i]; }
    /// Total conversion value of row `i` (non-negative).
    double value(std::size_t i) const noexcept { return values_[i]; }

    /// The channel dictionary.
    const channel_dictionary& channels() const noexcept { return channels_; }

    double total_conversions() const noexcept { return total_conversions_; }
    double total_nulls() const noexcept { return total_nulls_; }
    double total_value() const noexcept { return total_value_; }
    /// Number of touches over all rows (not weighted by counts).
    std::size_t total_touches() const noexcept { return touches_.size(); }
    /// Most touches one journey set holds (row offsets are 32-bit: 4 bytes a
    /// row). Builders that would pass it throw invalid_input; larger data
    /// are counted in parts, whose transition counts merge exactly.
    static constexpr std::size_t max_touches = 0xFFFFFFFFu;
    /// Throws invalid_input if a set of `touches` touches exceeds max_touches.
    static void check_touches(std::size_t touches);

    /**
     * Appends one row given by channel names (interned here). Throws
     * invalid_input if the path is empty, a name is empty, a count or the value
     * is negative or not finite, or the value is positive while there are no
     * conversions; `row` is only used in the message.
     */
    void add(column_view<std::string_view> path, double conversions, double nulls, double value,
             std::size_t row = 0);

    /// Appends one row given by channel ids of this set's dictionary.
    void add_ids(column_view<channel_id> path, double conversions, double nulls, double value,
                 std::size_t row = 0);

    /// Whether the touches carry times (journeys built from events).
    bool has_times() const noexcept { return has_times_; }
    /// Row `i`: each touch's time before the end of its journey (the
    /// conversion, or the last touch of a non-converting journey), in the
    /// event log's time units; empty without times.
    column_view<double> times_before_end(std::size_t i) const noexcept {
        if (!has_times_) return {};
        return {touch_times_.data() + offsets_[i], offsets_[i + 1] - offsets_[i]};
    }
    /// Seconds per time unit (0: unitless numeric times, or no times).
    double time_unit_seconds() const noexcept { return time_unit_seconds_; }

    /// Whether rows know their customer (journeys built from events).
    bool has_customers() const noexcept { return !row_customer_.empty(); }
    /// The customer index of row `i` (into customer_ids() or customer_names()).
    std::size_t customer(std::size_t i) const noexcept { return row_customer_[i]; }
    /// Integer customer ids by index (empty when customers are names).
    const std::vector<std::int64_t>& customer_ids() const noexcept { return customer_ids_; }
    /// Customer names by index (empty when customers are integers).
    const std::vector<std::string>& customer_names() const noexcept { return customer_names_; }

    /// Internal: the only writer of a journey set (every builder goes
    /// through it). Defined in include/journeyloop/impl/journey_set_builder.hpp,
    /// which users do not include.
    class builder;

private:
    channel_dictionary channels_;
    std::vector<std::uint32_t, detail::uninitialized_allocator<std::uint32_t>> offsets_{0};
    std::vector<channel_id, detail::uninitialized_allocator<channel_id>> touches_;
    std::vector<double, detail::uninitialized_allocator<double>> conversions_;
    std::vector<double, detail::uninitialized_allocator<double>> nulls_;
    std::vector<double, detail::uninitialized_allocator<double>> values_;
    double total_conversions_ = 0;
    double total_nulls_ = 0;
    double total_value_ = 0;

    bool has_times_ = false;
    std::vector<double, detail::uninitialized_allocator<double>> touch_times_;
    double time_unit_seconds_ = 0;
    std::vector<std::uint32_t> row_customer_;
    std::vector<std::int64_t> customer_ids_;
    std::vector<std::string> customer_names_;
    // Order-1 sums gathered while path tables were parsed (shared between
    // copies: they never change once built), or null.
    std::shared_ptr<const detail::order1_sums> order1_;
};

/// Column names and separator of a path table, used for parsing and in error
/// messages.
struct path_options {
    /// Separator between channels; tokens are trimmed of surrounding blanks.
    std::string separator = ">";
    std::string path_column = "path";
    std::string conversions_column = "conversions";
    std::string nulls_column = "nulls";
    std::string value_column = "value";
    /// Threads that parse a large table (from 20,000 rows a thread); 0 means
    /// one per hardware thread, or set_threads()'s number when it is set.
    /// The result does not depend on it.
    std::size_t threads = 0;
};

/**
 * Non-owning columns of a path table (the format of ChannelAttribution:
 * `"a > b > c"`, conversions, nulls, value). `nulls` and `value` may be empty
 * views: no nulls column means no non-converting outcomes, no value column
 * means value 0. Non-empty columns must have the length of `path`. The
 * count and value columns may hold doubles, floats or integers of 8 to 64
 * bits; they are read in place as doubles (an integer count column needs no
 * converted copy).
 */
struct path_table {
    string_column_view path;
    numeric_column_view conversions;
    numeric_column_view nulls;
    numeric_column_view value;
};

/**
 * Builds journeys from a path table. Tokens are split on
 * `options.separator` and trimmed; channels get ids in first-appearance order.
 *
 * Throws invalid_input naming the row and the column for: an empty path, an
 * empty token (`"a >> b"`), a NaN, infinite or negative count or value, a
 * positive value on a row without conversions, or columns of unequal length.
 *
 * **Example**:
 *
 *     std::vector<std::string_view> p{"a > b", "b"};
 *     std::vector<double> conv{1, 0}, nulls{0, 1};
 *     auto js = journeyloop::build_journeys({p, conv, nulls, {}});
 *     assert(js.size() == 2 && js.channels().size() == 2);
 */
journey_set build_journeys(const path_table& table, const path_options& options = {});

/**
 * Appends the rows of `table` to `journeys`, as build_journeys() would; rows
 * are numbered from `first_row` in error messages. Used to read a chunked
 * column (Arrow record batches) one chunk at a time. On an error, `journeys`
 * is left unchanged. Channels keep their order of first appearance over all
 * appended rows.
 */
void append_journeys(journey_set& journeys, const path_table& table,
                     const path_options& options = {}, std::size_t first_row = 0);

/// Options of read_path_csv().
struct csv_options {
    /// Field delimiter (`;` for ChannelAttribution's `Data.csv`).
    char delimiter = ',';
    /// Column names and path separator. An empty nulls_column or value_column
    /// means that column is not read.
    path_options columns;
};

/**
 * Reads a path table from a CSV file with a header line (fields may be
 * double-quoted). Rows in errors are numbered from 0, the first data line.
 * Throws invalid_input for a missing file or column, a non-numeric field, and
 * everything build_journeys() rejects.
 */
journey_set read_path_csv(const std::string& filename, const csv_options& options = {});

} // namespace journeyloop

#endif // JOURNEYLOOP_JOURNEY_SET_HPP
