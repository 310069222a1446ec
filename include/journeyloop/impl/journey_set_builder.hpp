// Internal: the one writer of a journey_set, and the order-1 sums gathered
// while path tables are parsed. Installed for header-only mode, not part of
// the public API; tests may include it.
#ifndef JOURNEYLOOP_SRC_JOURNEY_SET_BUILDER_HPP
#define JOURNEYLOOP_SRC_JOURNEY_SET_BUILDER_HPP

#include <journeyloop/journey_set.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace journeyloop {

namespace detail {

/// Order-1 transitions in channel space, gathered while path tables are
/// parsed (the touches are then in cache): cell (a, b) is the weight of the
/// transitions from a to b, 0 being START and c + 1 channel c, with repeats
/// collapsed; `*_at[a]` are the conversions, nulls and value of the rows
/// ending in a. count_transitions() uses them for order 1 (collapsed,
/// unpadded) instead of reading every touch again.
struct order1_sums {
    std::size_t stride = 1; ///< channels + 1
    std::vector<double> cells{0.0};
    std::vector<double> conv_at{0.0}, nulls_at{0.0}, value_at{0.0};

    /// Room for `channels` channels (the cells keep their values).
    void widen(std::size_t channels);

    /// Adds one row: channels [first, last) (all below stride - 1), weight
    /// conv + nulls > 0 on every transition. A repeat adds 0 to the diagonal
    /// instead of branching: whether a touch repeats the last is data, and
    /// the branch mispredicted often enough to double the loop's time.
    void add_row(const channel_id* first, const channel_id* last, double conv, double nulls,
                 double value) noexcept {
        double* const cell = cells.data();
        const double add[2] = {conv + nulls, 0.0};
        std::size_t prev = 0;
        for (; first != last; ++first) {
            const std::size_t s = std::size_t{*first} + 1;
            cell[prev * stride + s] += add[s == prev];
            prev = s;
        }
        conv_at[prev] += conv;
        nulls_at[prev] += nulls;
        value_at[prev] += value;
    }
};

/// Most channels for which order-1 sums are gathered: their cells stay in
/// the first-level caches while the touches are parsed. With more, a
/// scattered add per touch costs more than counting the touches again.
inline constexpr std::size_t order1_sums_max_channels = 64;

/// Tests only: lowers the bound of journey_set::check_touches (0 restores
/// max_touches), so that the builders' checks can be reached without
/// holding max_touches touches in memory.
void set_touch_limit(std::size_t limit) noexcept;

} // namespace detail

/**
 * The only code that writes a journey_set: every builder (path tables, CSV
 * files, event logs, relabelling, add()) goes through it. It writes in place
 * into the set it is given; each of its operations leaves the set
 * consistent, except the in-place touch writes, which end_row_at() closes
 * row by row and finish_touches() sizes.
 */
class journey_set::builder {
public:
    explicit builder(journey_set& target) noexcept : js_(target) {}

    const journey_set& journeys() const noexcept { return js_; }

    // ---- channels --------------------------------------------------------------
    channel_id intern(std::string_view name) { return js_.channels_.intern(name); }
    /// Replaces the dictionary (relabelling); the caller maps the touches.
    void replace_channels(channel_dictionary channels, const std::vector<channel_id>& remap);

    // ---- rows one at a time ---------------------------------------------------------
    /// Throws invalid_input if rows cannot be appended (times or customers).
    void check_appendable() const;
    void add(column_view<std::string_view> path, double conversions, double nulls, double value,
             std::size_t row);
    void add_ids(column_view<channel_id> path, double conversions, double nulls, double value,
                 std::size_t row);
    void reserve(std::size_t rows, std::size_t touches);

    // ---- path tables ------------------------------------------------------------------
    /// Appends a path table (append_journeys); on an error the set is left
    /// as it was.
    void append(const path_table& table, const path_options& options, std::size_t first_row);

    // ---- in place (the event builder) ---------------------------------------------
    /// Journeys whose touches carry times in units of `unit_seconds`.
    void set_times(double unit_seconds) noexcept {
        js_.has_times_ = true;
        js_.time_unit_seconds_ = unit_seconds;
    }
    /// Sizes the touches (and times, with times) to `n`, uninitialized
    /// beyond the rows already closed; returns where touch 0 is.
    channel_id* size_touches(std::size_t n) {
        js_.touches_.resize(n);
        js_.touch_times_.resize(js_.has_times_ ? n : 0);
        return js_.touches_.data();
    }
    /// The times of the touches sized by size_touches(), or nullptr.
    double* touch_times() noexcept { return js_.has_times_ ? js_.touch_times_.data() : nullptr; }
    /// Closes a row whose touches end at touch `end`, written in place.
    void end_row_at(std::size_t end, double conversions, double nulls, double value);
    /// Where rows written in place go (see size_rows()).
    struct row_arrays {
        std::uint32_t* ends; ///< each row's end offset in the touches
        double* conversions;
        double* nulls;
        double* values;
    };
    /// Sizes the row arrays to `n` more rows, uninitialized, for rows written
    /// in place (each end within the touches sized by size_touches(), rows in
    /// order); add_totals() then adds their counts and values to the totals.
    row_arrays size_rows(std::size_t n) {
        const auto old = js_.conversions_.size();
        js_.offsets_.resize(old + 1 + n);
        js_.conversions_.resize(old + n);
        js_.nulls_.resize(old + n);
        js_.values_.resize(old + n);
        return {js_.offsets_.data() + old + 1, js_.conversions_.data() + old,
                js_.nulls_.data() + old, js_.values_.data() + old};
    }
    /// Cuts (or sizes) the row arrays to `rows` rows, for rows sized by
    /// size_rows() beyond those written.
    void resize_rows(std::size_t rows) {
        js_.offsets_.resize(rows + 1);
        js_.conversions_.resize(rows);
        js_.nulls_.resize(rows);
        js_.values_.resize(rows);
    }
    /// Adds the sums of rows written by size_rows() to the set's totals;
    /// throws invalid_input if a total is no longer finite (as end_row_at()).
    void add_totals(double conversions, double nulls, double value);
    /// The customer of the last closed row (an index into the customer ids or
    /// names).
    void add_row_customer(std::uint32_t customer) { js_.row_customer_.push_back(customer); }
    std::vector<std::int64_t>& customer_ids() noexcept { return js_.customer_ids_; }
    std::vector<std::string>& customer_names() noexcept { return js_.customer_names_; }
    /// Appends the rows of `part`, whose touches were already written in
    /// place at [base, base + its last row's end) of this set's touches, with its
    /// customer indices mapped by `customers` (empty: the same indices).
    void append_rows(const journey_set& part, std::size_t base,
                     const std::vector<std::uint32_t>& customers);

    /// The order-1 sums of `journeys`, or nullptr.
    static const detail::order1_sums* order1_sums(const journey_set& journeys) noexcept {
        return journeys.order1_.get();
    }

private:
    journey_set& js_;
};

} // namespace journeyloop

#endif // JOURNEYLOOP_SRC_JOURNEY_SET_BUILDER_HPP
