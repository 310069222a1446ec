// journeyloop: loop histories, the input of the loop model of repeat
// purchases.
//
// A loop history is one customer's whole sequence of touches (or, from a
// path table, the sequence shared by several customers) with a purchase
// marker after each purchase; it ends when no further touch is observed.
// count_loop_transitions() counts the two funnel views of the loop chain
// that the loop model (loop_model.hpp) fits.
#ifndef JOURNEYLOOP_LOOP_HISTORIES_HPP
#define JOURNEYLOOP_LOOP_HISTORIES_HPP

#include <journeyloop/column_view.hpp>
#include <journeyloop/fwd.hpp>
#include <journeyloop/progress.hpp>
#include <journeyloop/journey_set.hpp>
#include <journeyloop/transition_counts.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace journeyloop {

/**
 * Loop histories: rows of channel sequences with a purchase marker channel
 * after each purchase, each row held by a number of customers.
 *
 * Built by build_loop_histories() from a path table whose paths hold the
 * purchase token, or from an event log (events.hpp), which also records the
 * customer of each row.
 */
class loop_histories {
public:
    /// No rows; the dictionary holds only the purchase marker `"purchase"`,
    /// so that purchase_channel() names a channel in every loop_histories.
    loop_histories();

    /// Number of rows (histories).
    std::size_t size() const noexcept { return rows_.size(); }
    bool empty() const noexcept { return rows_.empty(); }

    /// The channel ids of row `i`, in order, the purchase marker included.
    column_view<channel_id> path(std::size_t i) const noexcept { return rows_.path(i); }
    /// The channel dictionary; it holds the purchase marker too.
    const channel_dictionary& channels() const noexcept { return rows_.channels(); }
    /// The id of the purchase marker (always a channel of channels()).
    channel_id purchase_channel() const noexcept { return purchase_; }

    /// Customers with the history of row `i` (its weight).
    double customers(std::size_t i) const noexcept { return rows_.nulls(i); }
    /// Purchases of row `i`, over all its customers.
    double purchases(std::size_t i) const noexcept { return rows_.conversions(i); }
    /// Total purchase value of row `i`, over all its customers.
    double value(std::size_t i) const noexcept { return rows_.value(i); }
    /// The value of each purchase of row `i`, per customer, in order (one
    /// per marker of the path).
    column_view<double> purchase_values(std::size_t i) const noexcept {
        return {purchase_values_.data() + purchase_offsets_[i],
                purchase_offsets_[i + 1] - purchase_offsets_[i]};
    }

    double total_customers() const noexcept { return rows_.total_nulls(); }
    double total_purchases() const noexcept { return rows_.total_conversions(); }
    double total_value() const noexcept { return rows_.total_value(); }
    /// Purchases (over their customers) that a path table put before the
    /// first touch of a history, and their value: nothing can be credited
    /// with them, so they are left out of the rows and counted here, as an
    /// event log counts them in event_report::conversions_without_touch.
    /// Zero for histories built from events (their report counts them).
    double unattributed_purchases() const noexcept { return unattributed_purchases_; }
    double unattributed_value() const noexcept { return unattributed_value_; }
    /// Number of touches over all rows, purchase markers included (not
    /// weighted by customers).
    std::size_t total_touches() const noexcept { return rows_.total_touches(); }

    /// Whether the touches and purchase markers carry times (histories built
    /// from an event log).
    bool has_times() const noexcept { return rows_.has_times(); }
    /// Row `i`: the time of each touch and purchase marker before the
    /// history's last event (a touch or a purchase), in the event log's time
    /// units; empty without times.
    column_view<double> times_before_end(std::size_t i) const noexcept {
        return rows_.times_before_end(i);
    }
    /// Seconds per time unit (0: unitless numeric times, or no times).
    double time_unit_seconds() const noexcept { return rows_.time_unit_seconds(); }

    /// Whether rows know their customer (histories built from events).
    bool has_customers() const noexcept { return rows_.has_customers(); }
    /// The customer index of row `i` (into customer_ids() or customer_names()).
    std::size_t customer(std::size_t i) const noexcept { return rows_.customer(i); }
    /// Integer customer ids by index (empty when customers are names).
    const std::vector<std::int64_t>& customer_ids() const noexcept { return rows_.customer_ids(); }
    /// Customer names by index (empty when customers are integers).
    const std::vector<std::string>& customer_names() const noexcept {
        return rows_.customer_names();
    }

    /// Internal: the only writer of loop histories. Defined in
    /// include/journeyloop/impl/loop_histories_builder.hpp, which users do
    /// not include.
    class builder;

private:
    // The rows' touches, customers and counts are kept as a journey set
    // (its conversions are the purchases, its nulls the customers): one
    // columnar layout, one writer.
    journey_set rows_;
    channel_id purchase_ = 0;
    std::vector<double> purchase_values_;
    std::vector<std::size_t> purchase_offsets_{0};
    double unattributed_purchases_ = 0, unattributed_value_ = 0;
};

/// The two funnel views of a loop chain: counts from START (the first
/// purchase absorbing) and counts from PURCHASE (the next one absorbing).
struct loop_counts {
    transition_counts first;
    /// Absent when no customer purchased (there is no segment after a purchase).
    std::optional<transition_counts> repeat;
    /// Customers, purchases and value of the histories.
    double customers = 0, purchases = 0, value = 0;
    /// Customers with at least one purchase, and purchases after a first one.
    double buyers = 0, repeat_purchases = 0;
};

/**
 * Counts the transitions of loop histories. Every history weighs its number
 * of customers. Channels are numbered as in the histories, without the
 * purchase marker. Throws invalid_input for a padded count and a channel
 * named as a state; state_space_too_large past `options.max_states`.
 */
loop_counts count_loop_transitions(const loop_histories& histories,
                                   const counting_options& options = {});

/// count_loop_transitions() reporting progress (progress.hpp): the histories
/// counted, every few thousand and at the end.
loop_counts count_loop_transitions(const loop_histories& histories, const counting_options& options,
                                   const progress_callback& progress);

/**
 * The loop counts of the union of the histories behind `a` and `b`: each
 * view's counts merged as merge() merges funnel counts (channels and states
 * matched by name), the totals added. The views keep sharing their channel
 * rows, so loop counts made per partition, per file or per day merge into the
 * counts of all the histories, exactly while the weights are whole numbers
 * below 2**53. Throws invalid_input for counts of different order or options.
 */
loop_counts merge(const loop_counts& a, const loop_counts& b);

/**
 * Loop histories from a path table whose paths hold the purchase token
 * (`"email > demo > purchase > webinar"`): `table.conversions` is the number
 * of customers with each history, `table.value` (optional) the total value of
 * their purchases, split evenly between the row's purchases. Purchases at the
 * start of a path, before any touch, have nothing to credit: they are left
 * out of the history with their share of the value and counted in
 * unattributed_purchases() and unattributed_value() (an event log counts
 * them in event_report::conversions_without_touch); a row of purchases only
 * is not built, so rows may be fewer than the table's. Throws invalid_input as
 * build_journeys() does, and for a value on a row without a purchase.
 *
 * **Example**:
 *
 *     std::vector<std::string_view> p{"a > purchase > b", "b"};
 *     std::vector<double> customers{2, 1}, value{30, 0};
 *     auto h = journeyloop::build_loop_histories({p, customers, {}, value}, {});
 *     // h.purchases(0) == 2, h.purchase_values(0)[0] == 15
 */
loop_histories build_loop_histories(const path_table& table, const path_options& options = {},
                                    std::string_view purchase = "purchase");

} // namespace journeyloop

#endif // JOURNEYLOOP_LOOP_HISTORIES_HPP
