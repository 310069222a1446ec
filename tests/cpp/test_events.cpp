#include "fixtures.hpp"

#include <journeyloop/events.hpp>
#include <journeyloop/teams.hpp>

#include <algorithm>
#include <limits>
#include <utility>

using namespace journeyloop;
using Catch::Contains;

namespace {

// The columns of a test log other than its times and values (the caller
// sets the times).
event_table log_columns(const std::vector<std::int64_t>& customer,
                        const std::vector<std::string_view>& channel,
                        const std::vector<double>& conversion) {
    event_table t;
    t.customer_ids = customer;
    t.channel = channel;
    t.conversion = conversion;
    return t;
}

// The same, with a value column.
event_table log_columns(const std::vector<std::int64_t>& customer,
                        const std::vector<std::string_view>& channel,
                        const std::vector<double>& conversion, const std::vector<double>& value) {
    auto t = log_columns(customer, channel, conversion);
    t.value = value;
    return t;
}

// Customers 7 and 3 and a rejected row (see each test for the journeys).
//   row 0: 7, t=5,  search
//   row 1: 3, t=1,  email
//   row 2: 7, t=1,  email            (out of time order)
//   row 3: 7, t=9,  demo, conversion, value 100
//   row 4: 7, t=12, email
//   row 5: 3, t=4,  no channel, conversion, value 20
//   row 6: 9, t=2,  no channel, not a conversion: rejected
struct small_log {
    std::vector<std::int64_t> customer{7, 3, 7, 7, 7, 3, 9};
    std::vector<double> time{5, 1, 1, 9, 12, 4, 2};
    std::vector<std::string_view> channel{"search", "email", "email", "demo", "email", "", ""};
    std::vector<double> conversion{0, 0, 0, 1, 0, 1, 0};
    std::vector<double> value{0, 0, 0, 100, 0, 20, 0};

    event_table table() const {
        auto t = log_columns(customer, channel, conversion, value);
        t.time_real = time;
        return t;
    }
};

template <class Rows> // journey_set or loop_histories
std::vector<std::string> path_names(const Rows& js, std::size_t row) {
    std::vector<std::string> out;
    for (auto c : js.path(row)) out.push_back(js.channels().name(c));
    return out;
}

std::vector<double> times(const journey_set& js, std::size_t row) {
    const auto t = js.times_before_end(row);
    return {t.begin(), t.end()};
}

void check_accounting(const event_report& r) {
    REQUIRE(r.rows_read ==
            r.rows_used + r.rows_rejected() + r.outside_lookback + r.conversions_without_touch);
    // The field list reads the same numbers: its rejections sum to rows_rejected().
    double rejected = 0;
    for (const auto& f : event_report_fields())
        if (f.rejection) rejected += f.value(r);
    REQUIRE(rejected == static_cast<double>(r.rows_rejected()));
}

using names = std::vector<std::string>;
using reals = std::vector<double>;

} // namespace

TEST_CASE("events: funnel journeys split at conversions, sorted by customer and time", "[events]") {
    const small_log log;
    const auto built = build_journeys(log.table(), {});
    const auto& js = built.journeys;
    const auto& r = built.report;
    REQUIRE(js.channels().names() == names{"search", "email", "demo"});
    REQUIRE(js.size() == 3);
    REQUIRE(path_names(js, 0) == names{"email", "search", "demo"});
    REQUIRE(js.conversions(0) == 1);
    REQUIRE(js.nulls(0) == 0);
    REQUIRE(js.value(0) == 100);
    REQUIRE(times(js, 0) == reals{8, 4, 0});
    REQUIRE(path_names(js, 1) == names{"email"});
    REQUIRE(js.conversions(1) == 0);
    REQUIRE(js.nulls(1) == 1);
    REQUIRE(times(js, 1) == reals{0});
    // Customer 3's conversion row has no channel: its journey is the email.
    REQUIRE(path_names(js, 2) == names{"email"});
    REQUIRE(js.value(2) == 20);
    REQUIRE(times(js, 2) == reals{3});
    REQUIRE(js.customer_ids() == std::vector<std::int64_t>{7, 3});
    REQUIRE(js.customer(0) == 0);
    REQUIRE(js.customer(2) == 1);

    REQUIRE(r.rows_read == 7);
    REQUIRE(r.rows_used == 6);
    REQUIRE(r.null_channel == 1);
    REQUIRE(r.rows_rejected() == 1);
    REQUIRE_FALSE(r.sorted_input);
    REQUIRE(r.customers == 2);
    REQUIRE(r.journeys == 3);
    REQUIRE(r.converting_journeys == 2);
    REQUIRE(r.non_converting_journeys == 1);
    REQUIRE(r.conversions == 2);
    REQUIRE(r.value == 120);
    REQUIRE(js.total_conversions() == 2);
    REQUIRE(js.total_nulls() == 1);
    check_accounting(r);
}

TEST_CASE("events: a log of more touches than a journey set holds is refused", "[events][errors]") {
    const small_log log;
    REQUIRE(build_journeys(log.table(), {}).journeys.total_touches() == 5);
    const fixtures::touch_limit_guard limit(4);
    REQUIRE_THROWS_WITH(build_journeys(log.table(), {}), Contains("more than 4 touches"));
}

TEST_CASE("events: sorted input is detected and gives the same journeys", "[events]") {
    // The rows of small_log in (customer, time) order, customers by first
    // appearance.
    std::vector<std::int64_t> customer{7, 7, 7, 7, 3, 3};
    std::vector<double> time{1, 5, 9, 12, 1, 4};
    std::vector<std::string_view> channel{"search", "search", "demo", "email", "email", ""};
    std::vector<double> conversion{0, 0, 1, 0, 0, 1};
    event_table t;
    t.customer_ids = customer;
    t.time_real = time;
    t.channel = channel;
    t.conversion = conversion;
    const auto built = build_journeys(t, {});
    REQUIRE(built.report.sorted_input);
    REQUIRE(built.journeys.size() == 3);
    REQUIRE(path_names(built.journeys, 0) == names{"search", "search", "demo"});
    REQUIRE(path_names(built.journeys, 2) == names{"email"});
    check_accounting(built.report);
    // Equal times keep row order (a stable sort).
    std::vector<std::int64_t> c2{1, 2, 1, 1};
    std::vector<double> t2{3, 0, 3, 1};
    std::vector<std::string_view> ch2{"x", "z", "y", "w"};
    event_table u;
    u.customer_ids = c2;
    u.time_real = t2;
    u.channel = ch2;
    const auto b2 = build_journeys(u, {});
    REQUIRE_FALSE(b2.report.sorted_input);
    REQUIRE(path_names(b2.journeys, 0) == names{"w", "x", "y"});
    REQUIRE(path_names(b2.journeys, 1) == names{"z"});
}

TEST_CASE("events: lookback drops old touches and counts them", "[events]") {
    const small_log log;
    event_options o;
    o.lookback = 5;
    auto built = build_journeys(log.table(), o);
    REQUIRE(path_names(built.journeys, 0) == names{"search", "demo"});
    REQUIRE(times(built.journeys, 0) == reals{4, 0});
    REQUIRE(path_names(built.journeys, 2) == names{"email"});
    REQUIRE(built.report.outside_lookback == 1);
    REQUIRE(built.report.rows_used == 5);
    check_accounting(built.report);

    // A window of 2 leaves customer 3's conversion with no touch: it is
    // counted as unattributed, not built and not dropped silently.
    o.lookback = 2;
    built = build_journeys(log.table(), o);
    REQUIRE(built.journeys.size() == 2);
    REQUIRE(path_names(built.journeys, 0) == names{"demo"});
    REQUIRE(built.report.outside_lookback == 3);
    REQUIRE(built.report.conversions_without_touch == 1);
    REQUIRE(built.report.unattributed_conversions == 1);
    REQUIRE(built.report.unattributed_value == 20);
    REQUIRE(built.report.rows_used == 2);
    REQUIRE(built.report.conversions == 1);
    check_accounting(built.report);

    // Non-converting journeys are windowed before their last touch.
    std::vector<std::int64_t> c{1, 1, 1};
    std::vector<double> t{0, 10, 11};
    std::vector<std::string_view> ch{"a", "b", "c"};
    event_table u;
    u.customer_ids = c;
    u.time_real = t;
    u.channel = ch;
    o.lookback = 1;
    built = build_journeys(u, o);
    REQUIRE(path_names(built.journeys, 0) == names{"b", "c"});
    REQUIRE(built.report.outside_lookback == 1);
    check_accounting(built.report);
}

TEST_CASE("events: conversion rows as non-touches, inactivity gaps", "[events]") {
    const small_log log;
    event_options o;
    o.conversion_is_touch = false;
    auto built = build_journeys(log.table(), o);
    REQUIRE(path_names(built.journeys, 0) == names{"email", "search"});
    REQUIRE(times(built.journeys, 0) == reals{8, 4});
    REQUIRE(built.report.rows_used == 6);
    check_accounting(built.report);

    o = {};
    o.inactivity = 3.5;
    built = build_journeys(log.table(), o);
    const auto& js = built.journeys;
    REQUIRE(js.size() == 5);
    REQUIRE(path_names(js, 0) == names{"email"});
    REQUIRE(js.nulls(0) == 1);
    REQUIRE(path_names(js, 1) == names{"search"});
    REQUIRE(js.nulls(1) == 1);
    REQUIRE(path_names(js, 2) == names{"demo"});
    REQUIRE(js.conversions(2) == 1);
    REQUIRE(path_names(js, 3) == names{"email"});
    REQUIRE(js.nulls(3) == 1);
    REQUIRE(path_names(js, 4) == names{"email"});
    REQUIRE(js.conversions(4) == 1);
    REQUIRE(built.report.rows_used == 6);
    check_accounting(built.report);
}

TEST_CASE("events: a purchase before any touch is counted, not put in a loop history", "[events]") {
    // Customer 1: purchase (no channel), a, purchase (no channel), purchase
    // of channel b. Customer 2: only a purchase without a channel.
    std::vector<std::int64_t> c{1, 1, 1, 2, 1};
    std::vector<double> t{0, 1, 2, 0, 3};
    std::vector<std::string_view> ch{"", "a", "", "", "b"};
    std::vector<double> conv{1, 0, 1, 1, 1};
    std::vector<double> value{7, 0, 10, 4, 5};
    event_table u;
    u.customer_ids = c;
    u.time_real = t;
    u.channel = ch;
    u.conversion = conv;
    u.value = value;
    const auto built = build_loop_histories(u, {});
    const auto& h = built.histories;
    const auto& r = built.report;
    REQUIRE(h.size() == 1);
    REQUIRE(path_names(h, 0) == names{"a", "purchase", "b", "purchase"});
    REQUIRE(h.purchases(0) == 2);
    REQUIRE(h.value(0) == 15);
    REQUIRE(r.conversions_without_touch == 2);
    REQUIRE(r.unattributed_conversions == 2);
    REQUIRE(r.unattributed_value == 11);
    REQUIRE(r.rows_used == 3);
    REQUIRE(r.journeys == 1);
    REQUIRE(r.customers == 2);
    REQUIRE(r.conversions == 2);
    REQUIRE(r.value == 15);
    check_accounting(r);

    // The funnel form gives the same account of the first purchases.
    const auto funnel = build_journeys(u, {});
    REQUIRE(funnel.report.conversions_without_touch == 2);
    REQUIRE(funnel.report.unattributed_value == 11);
    REQUIRE(funnel.journeys.size() == 2);
    check_accounting(funnel.report);

    // The same histories as a path table: the leading purchases are counted
    // the same way.
    std::vector<std::string_view> paths{"purchase > a > purchase > b > purchase", "purchase"};
    std::vector<double> customers{1, 1}, total{22, 4};
    path_options po;
    const auto from_table = build_loop_histories({paths, customers, {}, total}, po, "purchase");
    REQUIRE(from_table.size() == 1);
    REQUIRE(path_names(from_table, 0) == names{"a", "purchase", "b", "purchase"});
    REQUIRE(from_table.purchases(0) == 2);
    REQUIRE(from_table.unattributed_purchases() == 2);
    REQUIRE(from_table.unattributed_value() == Approx(22.0 / 3 + 4).epsilon(1e-15));
    REQUIRE(from_table.value(0) == Approx(22.0 * 2 / 3).epsilon(1e-15));
}

TEST_CASE("events: duplicates are kept or dropped, and counted either way", "[events]") {
    std::vector<std::int64_t> c{1, 1, 1, 1, 1};
    std::vector<double> t{0, 0, 0, 1, 1};
    std::vector<std::string_view> ch{"a", "a", "b", "a", "a"};
    std::vector<double> conv{0, 0, 0, 0, 1};
    auto u = log_columns(c, ch, conv);
    u.time_real = t;
    event_options o;
    auto built = build_journeys(u, o);
    REQUIRE(path_names(built.journeys, 0) == names{"a", "a", "b", "a", "a"});
    REQUIRE(built.report.duplicates_found == 1);
    REQUIRE(built.report.duplicate == 0);
    check_accounting(built.report);
    o.duplicates = duplicate_policy::drop;
    built = build_journeys(u, o);
    // Row 4 is a conversion on the channel of row 3 at the same time: not a
    // duplicate (a different conversion count).
    REQUIRE(path_names(built.journeys, 0) == names{"a", "b", "a", "a"});
    REQUIRE(built.report.duplicates_found == 1);
    REQUIRE(built.report.duplicate == 1);
    REQUIRE(built.report.rows_used == 4);
    check_accounting(built.report);
    o.strict = true;
    REQUIRE_THROWS_WITH(build_journeys(u, o),
                        Contains("row 1, column 'channel'") && Contains("duplicate of row 0"));
}

TEST_CASE("events: bad rows are counted by reason, or thrown with strict", "[events]") {
    constexpr auto nat = std::numeric_limits<std::int64_t>::min();
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<std::int64_t> customer{1, 2, 3, 4, 5, 6, 7, 8, 9};
    std::vector<std::uint8_t> customer_valid{1, 0, 1, 1, 1, 1, 1, 1, 1};
    std::vector<std::int64_t> time{0, 0, nat, 0, 0, 0, 0, 0, 0};
    std::vector<std::string_view> channel{"a", "a", "a", "a", "a", "a", "a", "", "b"};
    std::vector<double> conversion{1, 0, 0, nan, -1, 1, 0, 0, 1};
    std::vector<double> value{5, 0, 0, 0, 0, -2, 3, 0, nan};
    event_table t;
    t.customer_ids = customer;
    t.customer_valid = customer_valid;
    t.time = time;
    t.channel = channel;
    t.conversion = conversion;
    t.value = value;
    event_options o;
    o.customer_column = "cookie";
    auto built = build_journeys(t, o);
    const auto& r = built.report;
    REQUIRE(r.rows_read == 9);
    // Rows 5 and 8 (a negative and a missing value on a conversion) keep
    // their conversion with value 0; row 6 keeps its touch, its stray value
    // ignored: none of them is rejected.
    REQUIRE(r.rows_used == 4);
    REQUIRE(r.null_customer == 1);
    REQUIRE(r.null_time == 1);
    REQUIRE(r.bad_conversion == 2);
    REQUIRE(r.bad_value == 2);
    REQUIRE(r.value_without_conversion == 1);
    REQUIRE(r.null_channel == 1);
    REQUIRE(r.rows_rejected() == 5);
    const auto& js = built.journeys;
    REQUIRE(js.size() == 4);
    REQUIRE(path_names(js, 0) == names{"a"});
    REQUIRE(js.conversions(0) == 1);
    REQUIRE(js.value(0) == 5);
    REQUIRE(js.customer_ids()[js.customer(1)] == 6);
    REQUIRE(js.conversions(1) == 1);
    REQUIRE(js.value(1) == 0);
    REQUIRE(js.customer_ids()[js.customer(2)] == 7);
    REQUIRE(path_names(js, 2) == names{"a"});
    REQUIRE(js.nulls(2) == 1);
    REQUIRE(js.value(2) == 0);
    REQUIRE(path_names(js, 3) == names{"b"});
    REQUIRE(js.conversions(3) == 1);
    REQUIRE(js.value(3) == 0);
    REQUIRE(r.conversions == 3);
    REQUIRE(r.value == 5);
    check_accounting(r);

    o.strict = true;
    REQUIRE_THROWS_WITH(build_journeys(t, o), Contains("row 1, column 'cookie'"));
    customer_valid[1] = 1;
    REQUIRE_THROWS_WITH(build_journeys(t, o), Contains("row 2, column 'time'") && Contains("NaT"));
    time[2] = 0;
    REQUIRE_THROWS_WITH(build_journeys(t, o), Contains("row 3, column 'conversion'"));
    conversion[3] = conversion[4] = 0;
    REQUIRE_THROWS_WITH(build_journeys(t, o), Contains("row 5, column 'value'") && Contains("-2"));
    value[5] = 0;
    REQUIRE_THROWS_WITH(build_journeys(t, o),
                        Contains("row 6, column 'value'") && Contains("not a conversion"));
    value[6] = 0;
    REQUIRE_THROWS_WITH(build_journeys(t, o), Contains("row 7, column 'channel'"));
}

TEST_CASE("events: malformed tables and options throw", "[events]") {
    std::vector<std::int64_t> customer{1, 2};
    std::vector<double> time{0, 1}, short_col{1};
    std::vector<std::string_view> channel{"a", "b"};
    event_table t;
    t.customer_ids = customer;
    t.time_real = time;
    t.channel = channel;
    REQUIRE(build_journeys(t, {}).journeys.size() == 2);
    auto bad = t;
    bad.conversion = short_col;
    REQUIRE_THROWS_WITH(build_journeys(bad, {}), Contains("column 'conversion' has 1 rows"));
    bad = t;
    bad.customer_names = channel;
    REQUIRE_THROWS_WITH(build_journeys(bad, {}), Contains("two customer columns"));
    bad = t;
    bad.time_real = {};
    REQUIRE_THROWS_WITH(build_journeys(bad, {}), Contains("no time column"));
    event_options o;
    o.lookback = -1;
    REQUIRE_THROWS_WITH(build_journeys(t, o), Contains("lookback must be positive"));
    o = {};
    o.inactivity = 3;
    REQUIRE_THROWS_WITH(build_loop_histories(t, o), Contains("loop history"));
    o.inactivity.reset();
    std::vector<std::string_view> marker{"a", "purchase"};
    bad = t;
    bad.channel = marker;
    REQUIRE_THROWS_WITH(build_loop_histories(bad, o),
                        Contains("row 1, column 'channel'") && Contains("purchase marker"));
    // An empty log is empty journeys, not an error.
    const auto empty = build_journeys(event_table{}, {});
    REQUIRE(empty.journeys.empty());
    REQUIRE(empty.report.rows_read == 0);
}

TEST_CASE("events: string customers and dictionary-coded channels", "[events]") {
    std::vector<std::string_view> customer{"u2", "u1", "u2"};
    std::vector<double> time{0, 0, 1};
    std::vector<std::int32_t> codes{1, 0, -1};
    std::vector<std::string_view> dictionary{"seo", "crm"};
    std::vector<double> conversion{0, 0, 1};
    event_table t;
    t.customer_names = customer;
    t.time_real = time;
    t.channel_codes = codes;
    t.channel_dictionary = dictionary;
    t.conversion = conversion;
    const auto built = build_journeys(t, {});
    const auto& js = built.journeys;
    REQUIRE(js.customer_names() == names{"u2", "u1"});
    REQUIRE(js.channels().names() == names{"crm", "seo"});
    REQUIRE(path_names(js, 0) == names{"crm"});
    REQUIRE(js.conversions(0) == 1);
    REQUIRE(path_names(js, 1) == names{"seo"});
    REQUIRE(js.nulls(1) == 1);
    std::vector<std::int32_t> bad_codes{1, 2, 0};
    t.channel_codes = bad_codes;
    REQUIRE_THROWS_WITH(build_journeys(t, {}),
                        Contains("row 1, column 'channel'") && Contains("out of range"));
}

TEST_CASE("events: loop form keeps purchases inside each customer's history", "[events]") {
    std::vector<std::int64_t> c{1, 1, 1, 2, 1, 1};
    std::vector<double> t{0, 1, 2, 0, 3, 4};
    std::vector<std::string_view> ch{"a", "b", "b", "x", "c", ""};
    std::vector<double> conv{0, 0, 1, 0, 0, 1};
    std::vector<double> value{0, 0, 10, 0, 0, 5};
    event_table u;
    u.customer_ids = c;
    u.time_real = t;
    u.channel = ch;
    u.conversion = conv;
    u.value = value;
    const auto built = build_loop_histories(u, {});
    const auto& h = built.histories;
    REQUIRE(h.size() == 2);
    REQUIRE(path_names(h, 0) == names{"a", "b", "b", "purchase", "c", "purchase"});
    REQUIRE(h.purchases(0) == 2);
    REQUIRE(h.customers(0) == 1);
    REQUIRE(h.value(0) == 15);
    const auto values = h.purchase_values(0);
    REQUIRE(std::vector<double>(values.begin(), values.end()) == std::vector<double>{10, 5});
    REQUIRE(path_names(h, 1) == names{"x"});
    REQUIRE(h.purchases(1) == 0);
    REQUIRE(h.purchase_values(1).empty());
    REQUIRE(h.purchase_channel() == h.channels().at("purchase"));
    REQUIRE(h.total_customers() == 2);
    REQUIRE(h.total_purchases() == 2);
    REQUIRE(h.total_value() == 15);
    REQUIRE(h.customer_ids()[h.customer(1)] == 2);
    REQUIRE(built.report.converting_journeys == 1);
    REQUIRE(built.report.rows_used == 6);
    check_accounting(built.report);
}

TEST_CASE("events: time decay by time before the conversion", "[events][attribution]") {
    const small_log log;
    const auto js = build_journeys(log.table(), {}).journeys;
    heuristic_options h;
    h.time_half_life = 4;
    const auto a = heuristic_attribution(js, heuristic::time_decay, h);
    // Journey 0: times 8, 4, 0 -> weights 1/4, 1/2, 1 -> 1/7, 2/7, 4/7.
    // Journey 2: one touch of email with the whole conversion.
    REQUIRE(a.names() == names{"search", "email", "demo"});
    REQUIRE(a.conversions()[0] == Approx(2.0 / 7).epsilon(1e-14));
    REQUIRE(a.conversions()[1] == Approx(1.0 / 7 + 1).epsilon(1e-14));
    REQUIRE(a.conversions()[2] == Approx(4.0 / 7).epsilon(1e-14));
    REQUIRE(a.value()[0] == Approx(200.0 / 7).epsilon(1e-14));
    REQUIRE(a.value()[1] == Approx(100.0 / 7 + 20).epsilon(1e-14));
    REQUIRE(a.value()[2] == Approx(400.0 / 7).epsilon(1e-14));
    // Unitless times need a half-life; a known unit defaults to 7 days.
    REQUIRE_THROWS_WITH(heuristic_attribution(js, heuristic::time_decay), Contains("unitless"));
    event_options days;
    days.time_unit_seconds = 86400;
    const auto jd = build_journeys(log.table(), days).journeys;
    const auto d = heuristic_attribution(jd, heuristic::time_decay);
    const double w8 = std::exp2(-8.0 / 7), w4 = std::exp2(-4.0 / 7);
    REQUIRE(d.conversions()[0] == Approx(w4 / (w8 + w4 + 1)).epsilon(1e-14));
    // By steps on request: 1/7, 2/7, 4/7 again with half-life 1 step.
    h = {};
    h.decay_by_steps = true;
    const auto s = heuristic_attribution(js, heuristic::time_decay, h);
    REQUIRE(s.conversions()[2] == Approx(4.0 / 7).epsilon(1e-14));
}

namespace {

// A generated log of `n` rows: ties, duplicates, bad rows, conversions with
// and without channels; in customer order or shuffled.
struct generated_log {
    std::vector<std::int64_t> customer;
    std::vector<std::string> customer_text;
    std::vector<std::string_view> customer_names;
    std::vector<std::int64_t> time;
    std::vector<std::string_view> channel;
    std::vector<double> conversion, value;
    std::vector<std::int8_t> codes;
    std::vector<std::string_view> dictionary{"f", "e", "d", "c", "b", "a"};

    generated_log(std::size_t n, bool shuffled) {
        static const std::string_view channel_names[] = {"a", "b", "c", "d", "e", "f", ""};
        std::uint64_t state = 12345;
        auto next = [&state] {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            return state >> 33;
        };
        std::int64_t c = 0, t = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (next() % 20 == 0) {
                c += 1 + static_cast<std::int64_t>(next() % 3);
                t = 0;
            }
            t += static_cast<std::int64_t>(next() % 3); // ties
            customer.push_back(c * 7919 % 100003);
            time.push_back(next() % 500 == 0 ? std::numeric_limits<std::int64_t>::min() : t);
            channel.push_back(channel_names[next() % 7]);
            const bool conv = next() % 12 == 0;
            conversion.push_back(conv ? 1.0 : 0.0);
            value.push_back(conv ? static_cast<double>(next() % 100) : 0.0);
        }
        if (shuffled)
            for (std::size_t i = n - 1; i > 0; --i) {
                const auto j = next() % (i + 1);
                std::swap(customer[i], customer[j]);
                std::swap(time[i], time[j]);
                std::swap(channel[i], channel[j]);
                std::swap(conversion[i], conversion[j]);
                std::swap(value[i], value[j]);
            }
        for (auto x : customer) customer_text.push_back("u" + std::to_string(x));
        for (auto name : channel) {
            const auto it = std::find(dictionary.begin(), dictionary.end(), name);
            codes.push_back(it == dictionary.end()
                                ? std::int8_t{-1}
                                : static_cast<std::int8_t>(it - dictionary.begin()));
        }
        for (const auto& s : customer_text) customer_names.push_back(s);
    }

    event_table table(bool by_name) const {
        event_table t;
        if (by_name) t.customer_names = customer_names;
        else t.customer_ids = customer;
        t.time = time;
        t.channel = channel;
        t.conversion = conversion;
        t.value = value;
        return t;
    }
};

std::vector<double> reals_of(column_view<double> v) { return {v.begin(), v.end()}; }

// What journeys and histories share: channels, customers, paths; `row(i)`
// checks the rest of row i.
template <class Rows, class Row>
void require_same_rows(const Rows& x, const Rows& y, Row row) {
    REQUIRE(x.channels().names() == y.channels().names());
    REQUIRE(x.customer_ids() == y.customer_ids());
    REQUIRE(x.customer_names() == y.customer_names());
    REQUIRE(x.size() == y.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
        const auto p = x.path(i), q = y.path(i);
        REQUIRE(std::vector<channel_id>(p.begin(), p.end()) ==
                std::vector<channel_id>(q.begin(), q.end()));
        REQUIRE(x.value(i) == y.value(i));
        REQUIRE(x.customer(i) == y.customer(i));
        row(i);
    }
}

void require_same_report(const event_report& r, const event_report& v);

void require_same(const event_histories& a, const event_histories& b) {
    const auto& x = a.histories;
    const auto& y = b.histories;
    REQUIRE(x.purchase_channel() == y.purchase_channel());
    require_same_rows(x, y, [&](std::size_t i) {
        REQUIRE(reals_of(x.purchase_values(i)) == reals_of(y.purchase_values(i)));
        REQUIRE(x.purchases(i) == y.purchases(i));
        REQUIRE(x.customers(i) == y.customers(i));
    });
    require_same_report(a.report, b.report);
}

void require_same(const event_journeys& a, const event_journeys& b) {
    const auto& x = a.journeys;
    const auto& y = b.journeys;
    require_same_rows(x, y, [&](std::size_t i) {
        REQUIRE(reals_of(x.times_before_end(i)) == reals_of(y.times_before_end(i)));
        REQUIRE(x.conversions(i) == y.conversions(i));
        REQUIRE(x.nulls(i) == y.nulls(i));
    });
    require_same_report(a.report, b.report);
}

void require_same_report(const event_report& r, const event_report& v) {
    REQUIRE(r.rows_read == v.rows_read);
    REQUIRE(r.rows_used == v.rows_used);
    REQUIRE(r.null_time == v.null_time);
    REQUIRE(r.null_channel == v.null_channel);
    REQUIRE(r.duplicate == v.duplicate);
    REQUIRE(r.duplicates_found == v.duplicates_found);
    REQUIRE(r.outside_lookback == v.outside_lookback);
    REQUIRE(r.conversions_without_touch == v.conversions_without_touch);
    REQUIRE(r.customers == v.customers);
    REQUIRE(r.journeys == v.journeys);
    REQUIRE(r.conversions == v.conversions);
    REQUIRE(r.value == v.value);
    check_accounting(r);
    check_accounting(v);
}

} // namespace

TEST_CASE("events: two threads build exactly what one builds", "[events]") {
    for (bool shuffled : {false, true}) {
        const generated_log log(300000, shuffled);
        for (bool by_name : {false, true}) {
            for (bool loop : {false, true}) {
                event_options one, two;
                one.threads = 1;
                two.threads = 2;
                if (!loop) one.lookback = two.lookback = 40;
                one.duplicates = two.duplicates = duplicate_policy::drop;
                auto coded = log.table(by_name);
                coded.channel = {};
                coded.channel_codes = log.codes;
                coded.channel_dictionary = log.dictionary;
                auto check = [&](auto build) {
                    const auto a = build(log.table(by_name), one);
                    const auto b = build(log.table(by_name), two);
                    REQUIRE(a.report.sorted_input == !shuffled);
                    REQUIRE(b.report.sorted_input == !shuffled);
                    REQUIRE(a.report.null_time > 0);
                    REQUIRE(a.report.duplicate > 0);
                    if (!loop)
                        REQUIRE(a.report.conversions_without_touch + a.report.outside_lookback > 0);
                    require_same(a, b);
                    // Dictionary-coded channels (the one-pass shortcut for
                    // sorted logs) give the same journeys.
                    require_same(a, build(coded, one));
                    require_same(a, build(coded, two));
                };
                if (loop)
                    check([](const event_table& t, const event_options& o) {
                        return build_loop_histories(t, o);
                    });
                else
                    check([](const event_table& t, const event_options& o) {
                        return build_journeys(t, o);
                    });
            }
        }
    }
}

TEST_CASE("events: the report's field list names every field once, in order", "[events]") {
    const auto& fields = event_report_fields();
    REQUIRE(fields.size() == 21);
    REQUIRE(std::string(fields.front().name) == "rows_read");
    REQUIRE(std::string(fields.back().name) == "sorted_input");
    std::vector<std::string> seen;
    std::size_t rejections = 0;
    for (const auto& f : fields) {
        REQUIRE(std::find(seen.begin(), seen.end(), f.name) == seen.end());
        seen.emplace_back(f.name);
        REQUIRE(int(f.count != nullptr) + int(f.amount != nullptr) + int(f.flag != nullptr) == 1);
        rejections += f.rejection;
    }
    REQUIRE(rejections == 5);
    event_report r;
    r.rows_read = 7;
    r.value = 2.5;
    r.sorted_input = true;
    REQUIRE(fields[0].value(r) == 7);
    REQUIRE(fields[19].value(r) == 2.5);
    REQUIRE(fields[20].value(r) == 1);
}

TEST_CASE("teams: handoffs, shares of touches and time, openers and closers", "[teams]") {
    // small_log: journeys email > search > demo (converting; 8, 4, 0 days
    // before), email (not), email (converting, 3 days before).
    const small_log log;
    const auto js = build_journeys(log.table(), {}).journeys;
    // Channels: search, email, demo.
    const auto f = analyze_teams(js, {"marketing", "marketing", "sales"});
    REQUIRE(f.teams == names{"marketing", "sales"});
    // email -> search (marketing -> marketing), search -> demo (marketing -> sales).
    REQUIRE(f.handoffs == std::vector<double>{1, 1, 0, 0});
    REQUIRE(f.touches == std::vector<double>{4, 1});
    // Time: email 4 + search 4 (marketing), demo 0; the other journeys'
    // single touches: 0 and 3 (to the conversion).
    REQUIRE(f.time == std::vector<double>{11, 0});
    // Opened by marketing: closed by sales once, by marketing once.
    REQUIRE(f.opener_closer == std::vector<double>{1, 1, 0, 0});
    // Shares: marketing hands off half to itself, half to sales; sales to
    // nobody (a row of zeros). 4 of 5 touches and all the time are marketing's.
    REQUIRE(f.handoff_share == std::vector<double>{0.5, 0.5, 0, 0});
    REQUIRE(f.touch_share == std::vector<double>{0.8, 0.2});
    REQUIRE(f.time_share == std::vector<double>{1, 0});
    REQUIRE_THROWS_WITH(analyze_teams(js, {"x"}), Contains("1 teams for 3 channels"));
}

TEST_CASE("stages: channels relabelled by stage, and the channels that move customers",
          "[teams][stages]") {
    // Journeys: email > search > demo (converting), email, email (converting).
    const small_log log;
    const auto js = build_journeys(log.table(), {}).journeys;
    // Channels: search, email, demo.
    const std::vector<std::string> stage{"awareness", "consideration", "evaluation"};
    const auto by_stage = relabel_channels(js, stage);
    REQUIRE(by_stage.channels().names() == names{"awareness", "consideration", "evaluation"});
    REQUIRE(path_names(by_stage, 0) == names{"consideration", "awareness", "evaluation"});
    REQUIRE(by_stage.conversions(0) == 1);
    REQUIRE(times(by_stage, 0) == reals{8, 4, 0});
    const auto moves = stage_moves(js, stage);
    // Sorted by (from, to): search: awareness -> evaluation; email:
    // consideration -> awareness, -> conversion and -> null; demo: evaluation
    // -> conversion.
    REQUIRE(moves.size() == 5);
    REQUIRE(moves[0].from == "awareness");
    REQUIRE(moves[0].to == "evaluation");
    REQUIRE(moves[0].channel == "search");
    REQUIRE(moves[1].from == "consideration");
    REQUIRE(moves[1].to == "awareness");
    REQUIRE(moves[1].channel == "email");
    REQUIRE(moves[2].from == "consideration");
    REQUIRE(moves[2].to == "conversion");
    REQUIRE(moves[2].channel == "email");
    REQUIRE(moves[2].count == 1);
    REQUIRE(moves[3].from == "consideration");
    REQUIRE(moves[3].to == "null");
    REQUIRE(moves[3].channel == "email");
    REQUIRE(moves[4].from == "evaluation");
    REQUIRE(moves[4].to == "conversion");
    REQUIRE(moves[4].channel == "demo");
    // Each of these moves is the only one between its two stages.
    for (const auto& m : moves) REQUIRE(m.share == 1);
    REQUIRE_THROWS_WITH(stage_moves(js, {"x"}), Contains("1 stages for 3 channels"));
}

namespace {

// A log of n rows, all of one channel: fill(i, customer, time, conversion, value).
struct one_channel_log {
    std::vector<std::int64_t> customer, time;
    std::vector<double> conversion, value;
    std::vector<std::string_view> channel;

    template <class F>
    one_channel_log(std::size_t n, std::string_view name, F fill)
        : customer(n), time(n), conversion(n, 0.0), value(n, 0.0), channel(n, name) {
        for (std::size_t i = 0; i < n; ++i) fill(i, customer[i], time[i], conversion[i], value[i]);
    }

    event_table table() const {
        auto t = log_columns(customer, channel, conversion, value);
        t.time = time;
        return t;
    }
};

// The journeys of `t` built on one thread and on two, with the same options.
std::pair<event_journeys, event_journeys> on_one_and_two_threads(const event_table& t,
                                                                 event_options o) {
    o.threads = 1;
    auto one = build_journeys(t, o);
    o.threads = 2;
    return {std::move(one), build_journeys(t, o)};
}

// The same for loop histories.
std::pair<event_histories, event_histories> histories_on_one_and_two_threads(const event_table& t,
                                                                             event_options o) {
    o.threads = 1;
    auto one = build_loop_histories(t, o);
    o.threads = 2;
    return {std::move(one), build_loop_histories(t, o)};
}

} // namespace

TEST_CASE("events: edge cases of the one-pass and parallel paths", "[events]") {
    SECTION("loop form at two touches a row fills the touch output exactly, on two threads") {
        // Every row is a purchase with a channel: a touch and a purchase
        // marker each, the most the output is sized for. Sorted and shuffled
        // (the one-pass and the grouping paths).
        const std::size_t n = 250000;
        for (bool shuffled : {false, true}) {
            one_channel_log log(n, "email",
                                [](std::size_t i, auto& c, auto& t, auto& conv, auto& v) {
                                    c = static_cast<std::int64_t>(i / 5);
                                    t = static_cast<std::int64_t>(i % 5);
                                    conv = 1.0;
                                    v = 2.0;
                                });
            if (shuffled)
                for (std::size_t i = 0; i + 1 < n; i += 2)
                    std::swap(log.customer[i], log.customer[i + 1]);
            const auto [a, b] = histories_on_one_and_two_threads(log.table(), {});
            REQUIRE(a.report.sorted_input == !shuffled);
            REQUIRE(a.histories.total_touches() == 2 * n);
            require_same(a, b);
        }
    }
    SECTION("conversion rows that are not touches leave gaps the second part closes") {
        const std::size_t n = 240000;
        const one_channel_log log(n, "search",
                                  [](std::size_t i, auto& c, auto& t, auto& conv, auto& v) {
                                      c = static_cast<std::int64_t>(i / 6);
                                      t = static_cast<std::int64_t>(i % 6);
                                      if (i % 6 == 3) conv = 1.0, v = 5.0;
                                  });
        event_options o;
        o.conversion_is_touch = false;
        const auto [a, b] = on_one_and_two_threads(log.table(), o);
        REQUIRE(a.report.sorted_input);
        // Per customer: touches 0-2 close a converting journey, 4-5 a null one.
        REQUIRE(a.journeys.size() == 2 * (n / 6));
        REQUIRE(a.journeys.total_touches() == 5 * (n / 6));
        require_same(a, b);
    }
    SECTION("a customer coming back after the split point is not sorted input") {
        const std::size_t n = 200000;
        std::vector<std::int64_t> customer(n, 1);
        std::vector<std::int64_t> time(n, 0);
        for (std::size_t i = 1; i <= 16; ++i) customer[i] = static_cast<std::int64_t>(i + 1);
        for (std::size_t i = 17; i < n; ++i) time[i] = static_cast<std::int64_t>(i);
        std::vector<std::int32_t> codes(n, 0);
        std::vector<std::string_view> dictionary{"email"};
        event_table t;
        t.customer_ids = customer;
        t.time = time;
        t.channel_codes = codes;
        t.channel_dictionary = dictionary;
        event_options one, two;
        one.threads = 1;
        two.threads = 2;
        const auto a = build_journeys(t, one), b = build_journeys(t, two);
        REQUIRE_FALSE(a.report.sorted_input);
        REQUIRE_FALSE(b.report.sorted_input);
        REQUIRE(a.report.customers == 17);
        REQUIRE(b.report.customers == 17);
        REQUIRE(b.journeys.size() == 17);
    }
    SECTION("an infinite time is rejected on the shortcut too") {
        std::vector<std::int64_t> customer{1, 1};
        std::vector<double> time{0, std::numeric_limits<double>::infinity()};
        std::vector<std::int32_t> codes{0, 0};
        std::vector<std::string_view> dictionary{"email"};
        event_table t;
        t.customer_ids = customer;
        t.time_real = time;
        t.channel_codes = codes;
        t.channel_dictionary = dictionary;
        const auto built = build_journeys(t, {});
        REQUIRE(built.report.null_time == 1);
        REQUIRE(built.journeys.size() == 1);
        REQUIRE(built.journeys.path(0).size() == 1);
    }
    SECTION("floating-point dictionary codes are refused") {
        std::vector<std::int64_t> customer{1};
        std::vector<double> time{0}, codes{0.5};
        std::vector<std::string_view> dictionary{"email"};
        event_table t;
        t.customer_ids = customer;
        t.time_real = time;
        t.channel_codes = codes;
        t.channel_dictionary = dictionary;
        REQUIRE_THROWS_WITH(build_journeys(t, {}), Contains("codes must be integers"));
    }
    SECTION("an empty log gives empty loop histories with their marker") {
        const auto built = build_loop_histories(event_table{}, {});
        REQUIRE(built.histories.empty());
        REQUIRE(built.histories.total_customers() == 0);
        REQUIRE(built.histories.channels().name(built.histories.purchase_channel()) == "purchase");
    }
    SECTION("no channel may be relabelled as the purchase marker") {
        std::vector<std::int64_t> customer{1, 1};
        std::vector<double> time{0, 1}, conversion{0, 1};
        std::vector<std::string_view> channel{"email", "email"};
        event_table t;
        t.customer_ids = customer;
        t.time_real = time;
        t.channel = channel;
        t.conversion = conversion;
        const auto js = build_loop_histories(t, {}).histories;
        std::vector<std::string> groups(js.channels().size(), "purchase");
        REQUIRE_THROWS_WITH(relabel_channels(js, groups), Contains("purchase marker"));
    }
}

TEST_CASE("events: two parts within the touch limit but over it together are refused",
          "[events][errors]") {
    // Each part of a two-thread build holds half the touches; the set they
    // make holds all of them, one more than the limit allows.
    const std::size_t n = 240000;
    for (bool shuffled : {false, true}) {
        one_channel_log log(n, "email", [](std::size_t i, auto& c, auto& t, auto& conv, auto& v) {
            c = static_cast<std::int64_t>(i / 4);
            t = static_cast<std::int64_t>(i % 4);
            if (i % 4 == 3) conv = 1.0, v = 1.0;
        });
        if (shuffled)
            for (std::size_t i = 0; i + 4 < n; i += 8)
                std::swap(log.customer[i], log.customer[i + 4]);
        event_options o;
        o.threads = 2;
        REQUIRE(build_journeys(log.table(), o).journeys.total_touches() == n);
        const fixtures::touch_limit_guard limit(n - 1);
        REQUIRE_THROWS_WITH(build_journeys(log.table(), o),
                            Contains("more than " + std::to_string(n - 1) + " touches"));
    }
}
