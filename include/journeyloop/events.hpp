// journeyloop: journeys from event logs (one row per touch).
//
// build_journeys(events, options) orders the events of each customer by time,
// splits them into journeys at conversions, applies the lookback window and
// the inactivity gap, and accounts for every row read in an event_report.
// build_loop_histories(events, options) keeps each customer's whole history
// with its purchases inside instead (the loop model's input).
#ifndef JOURNEYLOOP_EVENTS_HPP
#define JOURNEYLOOP_EVENTS_HPP

#include <journeyloop/column_view.hpp>
#include <journeyloop/journey_set.hpp>
#include <journeyloop/loop_histories.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace journeyloop {

/// What to do with duplicate events (same customer, time, channel and
/// conversion count).
enum class duplicate_policy {
    keep, ///< keep them as separate touches (they are still counted)
    drop, ///< keep the first, reject the others
};

/**
 * Non-owning columns of an event log; every given column has one value per
 * row. Give exactly one customer column, one time column and one channel
 * column (names, or dictionary codes with their dictionary).
 *
 * Missing values: a null string (Arrow validity bit), a zero byte in a
 * `*_valid` mask, INT64_MIN in an integer time (numpy's NaT) and NaN in a
 * floating column.
 */
struct event_table {
    /// Integer customer ids, or ...
    column_view<std::int64_t> customer_ids;
    /// ... customer names.
    string_column_view customer_names;
    /// Optional mask for `customer_ids`: 0 marks a missing customer.
    column_view<std::uint8_t> customer_valid;

    /// Integer times (any unit, e.g. nanoseconds since the epoch), or ...
    column_view<std::int64_t> time;
    /// ... floating-point times.
    column_view<double> time_real;
    /// Optional mask for `time`: 0 marks a missing time.
    column_view<std::uint8_t> time_valid;

    /// Channel names (a null row is an event without a channel), or ...
    string_column_view channel;
    /// ... integer dictionary codes (negative: no channel) into
    /// `channel_dictionary`.
    numeric_column_view channel_codes;
    string_column_view channel_dictionary;

    /// Optional conversions per row: 0 for a touch, a positive count (1 for a
    /// flag) for a conversion; booleans, integers or floats. Absent: no
    /// conversions.
    numeric_column_view conversion;
    /// Optional value of each conversion row (read on conversion rows only).
    /// A conversion row whose value is missing, negative or infinite is kept
    /// with value 0 and counted in event_report::bad_value; any other value
    /// than 0 or missing on a touch row is ignored and counted in
    /// event_report::value_without_conversion (strict: either throws).
    numeric_column_view value;
};

/// How events become journeys.
struct event_options {
    /// Funnel form: touches more than `lookback` time units before the
    /// conversion (before the last touch, for a non-converting journey) are
    /// dropped and counted. Unset: no window.
    std::optional<double> lookback;
    /// Funnel form: a gap of more than `inactivity` time units between two
    /// events of a customer ends the journey (non-converting) and starts a
    /// new one. Unset: no gap splits.
    std::optional<double> inactivity;
    /// A conversion row that names a channel is also a touch (the last touch
    /// of the journey it closes). False: conversion rows are never touches.
    bool conversion_is_touch = true;
    duplicate_policy duplicates = duplicate_policy::keep;
    /// Throw invalid_input at the first rejected row instead of counting it,
    /// and at the first row whose value would be set aside (bad_value,
    /// value_without_conversion): the first in row order among the row checks
    /// (missing values, bad conversions, missing channels, bad values);
    /// duplicates are found after those, in (customer, time) order.
    bool strict = false;
    /// Seconds per time unit (1e-9 for nanoseconds), recorded in the
    /// journeys for time decay; 0 for unitless numeric times.
    double time_unit_seconds = 0;
    /// Threads: 1 builds in one thread; 0 uses two threads from 200,000 rows
    /// where the machine has two cores (and set_threads() is not 1). The
    /// result does not depend on it.
    std::size_t threads = 0;
    /// Loop histories: the name of the purchase marker in the histories.
    std::string purchase = "purchase";
    /// Column names, used in error messages.
    std::string customer_column = "customer";
    std::string time_column = "time";
    std::string channel_column = "channel";
    std::string conversion_column = "conversion";
    std::string value_column = "value";
};

/**
 * An account of every row read: `rows_read == rows_used + rows_rejected() +
 * outside_lookback + conversions_without_touch`, always.
 */
struct event_report {
    std::size_t rows_read = 0;
    /// Rows that are a touch or a conversion of a built journey.
    std::size_t rows_used = 0;
    // Rejected rows, by reason.
    std::size_t null_customer = 0;
    std::size_t null_time = 0;
    /// A row that is not a conversion and has no channel.
    std::size_t null_channel = 0;
    /// A conversion count that is missing, negative or not finite.
    std::size_t bad_conversion = 0;
    // Rows kept with their value set aside (not rejections: these rows are
    // counted in rows_used, or wherever their journey puts them).
    /// Conversion rows whose value is missing, negative or not finite: the
    /// conversion is kept with value 0.
    std::size_t bad_value = 0;
    /// Touch rows (not conversions) carrying a value other than 0 or
    /// missing: the touch is kept, the value ignored.
    std::size_t value_without_conversion = 0;
    /// Duplicates rejected by duplicate_policy::drop.
    std::size_t duplicate = 0;
    /// Duplicates found (dropped or kept).
    std::size_t duplicates_found = 0;
    /// Touches dropped by the lookback window.
    std::size_t outside_lookback = 0;
    /// Conversion rows with no touch to credit (they cannot be attributed to
    /// any channel). Funnel form: no channel of their own and no touch left in
    /// their journey. Loop form: a purchase before the customer's first touch
    /// (it gets no marker in the history).
    std::size_t conversions_without_touch = 0;
    /// Conversions and value of those rows.
    double unattributed_conversions = 0;
    double unattributed_value = 0;

    std::size_t customers = 0;
    std::size_t journeys = 0;
    std::size_t converting_journeys = 0;
    std::size_t non_converting_journeys = 0;
    /// Conversions (purchases, in loop histories) and value in the journeys.
    double conversions = 0;
    double value = 0;
    /// Whether the rows were already in (customer, time) order.
    bool sorted_input = false;

    /// Sum of the rejected counts (bad_value and value_without_conversion
    /// count rows that were kept).
    std::size_t rows_rejected() const noexcept {
        return null_customer + null_time + null_channel + bad_conversion + duplicate;
    }
};

/// One field of event_report: its name, what it counts, and where it is
/// (exactly one of the member pointers is set).
struct event_report_field {
    const char* name;
    const char* description;
    std::size_t event_report::*count = nullptr; ///< a number of rows, customers, ...
    double event_report::*amount = nullptr;     ///< conversions or value
    bool event_report::*flag = nullptr;
    /// A reason for rejecting rows (rows_rejected() sums them).
    bool rejection = false;

    /// The field's value in `report`, as a double (counts are exact).
    double value(const event_report& report) const noexcept {
        if (count) return static_cast<double>(report.*count);
        if (amount) return report.*amount;
        return report.*flag ? 1.0 : 0.0;
    }
};

/// Every field of event_report, in order: the one list that bindings and
/// printers read (rows_rejected() is not a field; it sums the rejections).
const std::vector<event_report_field>& event_report_fields();

/// Journeys and the account of the rows they were built from.
struct event_journeys {
    journey_set journeys;
    event_report report;
};

/**
 * Builds journeys from an event log.
 *
 * Events are ordered by (customer, time) stably: customers in order of first
 * appearance, events with equal times in row order. Input that is already in
 * that order (each customer's rows together, in time order) is detected and
 * read in one pass; otherwise the rows are grouped by customer with a
 * counting sort and each customer's rows sorted by time. Channels are numbered in order of
 * first appearance in the rows.
 *
 * Funnel form: a conversion row closes the journey of the touches before it
 * (including its own channel, when it has one and `conversion_is_touch`);
 * touches after a customer's last conversion form a non-converting journey.
 * Each journey row has `conversions` = the conversion count of its closing
 * row, `nulls` = 1 for a non-converting journey, and its `value`; the
 * journeys record each touch's time before the end of its journey.
 *
 * Rows that cannot be used are counted in the report by reason (strict: the
 * first one throws invalid_input naming its row and column). Throws
 * invalid_input for columns of unequal length, a missing or doubly given
 * column, more than 2^31 - 1 rows, and a non-positive lookback or
 * inactivity.
 *
 * **Example**:
 *
 *     std::vector<std::int64_t> customer{1, 1, 2};
 *     std::vector<double> time{0, 1, 0}, conversion{0, 1, 0};
 *     std::vector<std::string_view> channel{"email", "demo", "ads"};
 *     journeyloop::event_table t;
 *     t.customer_ids = customer; t.time_real = time; t.channel = channel;
 *     t.conversion = conversion;
 *     auto built = journeyloop::build_journeys(t, {});
 *     // two journeys: email > demo (converting) and ads (non-converting)
 *     assert(built.journeys.size() == 2 && built.report.rows_used == 3);
 */
event_journeys build_journeys(const event_table& events, const event_options& options);

/// Loop histories and the account of the rows they were built from.
struct event_histories {
    loop_histories histories;
    event_report report;
};

/**
 * Builds loop histories from an event log: one row per customer, its touches
 * in (customer, time) order as build_journeys() orders them, with the marker
 * channel `options.purchase` after each conversion row (one purchase per
 * conversion row, valued by its value). Each row has one customer. A
 * purchase before the customer's first touch (a conversion row without a
 * channel, or with `conversion_is_touch` false) has nothing to credit: it gets
 * no marker and is counted in `conversions_without_touch`, with its purchase
 * in `unattributed_conversions` and its value, as in funnel form and as
 * build_loop_histories() on a path table does with leading purchases. A
 * customer with no other row has no history. The report counts the rows as
 * build_journeys() does; its `conversions` are the purchases and its
 * `journeys` the histories.
 *
 * Throws invalid_input as build_journeys() does, and for a lookback or an
 * inactivity gap (a history keeps every touch of a customer), an empty
 * purchase name and a channel named like the purchase marker.
 */
event_histories build_loop_histories(const event_table& events, const event_options& options);

} // namespace journeyloop

#endif // JOURNEYLOOP_EVENTS_HPP
