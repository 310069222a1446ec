#include "fixtures.hpp"

#include <algorithm>
#include <map>
#include <thread>

using namespace journeyloop;

namespace {
// The weight of from -> to, by labels; 0 if absent.
double weight(const transition_counts& c, const std::string& from, const std::string& to) {
    for (state_id s = 0; s < c.num_states(); ++s) {
        if (c.state_label(s) != from) continue;
        const auto t = c.targets(s);
        const auto w = c.weights(s);
        for (std::size_t i = 0; i < t.size(); ++i)
            if (c.state_label(t[i]) == to) return w[i];
    }
    return 0;
}

// Every state of a and b the same, row by row: label, outcomes, targets and
// weights.
void require_same_rows(const transition_counts& a, const transition_counts& b) {
    for (state_id s = 0; s < a.num_states(); ++s) {
        INFO("state " << s);
        REQUIRE(a.state_label(s) == b.state_label(s));
        REQUIRE(a.conversions_from(s) == b.conversions_from(s));
        REQUIRE(a.value_from(s) == b.value_from(s));
        const auto ta = a.targets(s), tb = b.targets(s);
        const auto wa = a.weights(s), wb = b.weights(s);
        REQUIRE(std::vector<state_id>(ta.begin(), ta.end()) ==
                std::vector<state_id>(tb.begin(), tb.end()));
        REQUIRE(std::vector<double>(wa.begin(), wa.end()) ==
                std::vector<double>(wb.begin(), wb.end()));
    }
}

// A table's columns, appended (as one Arrow chunk) or added row by row.
struct table_columns {
    const std::vector<std::string_view>& paths;
    const std::vector<double>& conv;
    const std::vector<double>& nulls;
    const std::vector<double>& value;

    // Appends rows [begin, end) to js.
    void append(journey_set& js, std::size_t begin, std::size_t end,
                const path_options& options) const {
        const auto n = end - begin;
        append_journeys(js,
                        {column_view<std::string_view>(paths.data() + begin, n),
                         column_view<double>(conv.data() + begin, n),
                         column_view<double>(nulls.data() + begin, n),
                         column_view<double>(value.data() + begin, n)},
                        options, begin);
    }
    // Every row through journey_set::add, split at '>'.
    journey_set row_by_row() const {
        journey_set rows;
        for (std::size_t i = 0; i < paths.size(); ++i) {
            std::vector<std::string_view> tokens;
            std::string_view p = paths[i];
            for (std::size_t at; (at = p.find('>')) != std::string_view::npos; p = p.substr(at + 1))
                tokens.push_back(p.substr(0, at));
            tokens.push_back(p);
            rows.add(tokens, conv[i], nulls[i], value[i], i);
        }
        return rows;
    }
};
} // namespace

TEST_CASE("count_transitions: A/B example, self-loops kept or collapsed", "[transition_counts]") {
    const auto js = fixtures::ab_example();
    SECTION("kept: the published edge counts") {
        counting_options o;
        o.collapse_repeats = false;
        const auto c = count_transitions(js, o);
        REQUIRE(weight(c, "START", "A") == 3);
        REQUIRE(weight(c, "START", "B") == 0);
        REQUIRE(weight(c, "A", "A") == 2);
        REQUIRE(weight(c, "A", "B") == 3);
        REQUIRE(weight(c, "A", "CONVERSION") == 3);
        REQUIRE(weight(c, "B", "A") == 3);
        REQUIRE(weight(c, "B", "B") == 2);
        REQUIRE(weight(c, "B", "CONVERSION") == 0);
        REQUIRE(c.num_transitions() == 6);
    }
    SECTION("collapsed (default)") {
        const auto c = count_transitions(js);
        REQUIRE(weight(c, "A", "A") == 0);
        REQUIRE(weight(c, "B", "B") == 0);
        REQUIRE(weight(c, "A", "B") == 3);
        REQUIRE(weight(c, "B", "A") == 3);
        REQUIRE(weight(c, "A", "CONVERSION") == 3);
    }
}

TEST_CASE("count_transitions: order 2 windows, short paths unpadded", "[transition_counts]") {
    std::vector<std::string_view> paths{"a > b > c", "a"};
    std::vector<double> conv{1, 0}, nulls{0, 2};
    const auto js = build_journeys({paths, conv, nulls, {}});
    const auto c = count_transitions(js, {2});
    REQUIRE(c.order() == 2);
    REQUIRE(c.num_states() == 3 + 3); // (a,b), (b,c), (a)
    REQUIRE(weight(c, "START", "a > b") == 1);
    REQUIRE(weight(c, "a > b", "b > c") == 1);
    REQUIRE(weight(c, "b > c", "CONVERSION") == 1);
    REQUIRE(weight(c, "START", "a") == 2);
    REQUIRE(weight(c, "a", "NULL") == 2);
    REQUIRE(c.conversions_from(4) == 1); // (b, c) ends the converting row
    REQUIRE(c.conversions_from(5) == 0); // (a) ends the null row
}

TEST_CASE("count_transitions: every edge weighted conversions + nulls, the last split",
          "[transition_counts]") {
    const auto c = count_transitions(fixtures::abc_example());
    REQUIRE(weight(c, "START", "a") == 4);
    REQUIRE(weight(c, "START", "b") == 2);
    REQUIRE(weight(c, "a", "b") == 2);
    REQUIRE(weight(c, "a", "c") == 2);
    REQUIRE(weight(c, "b", "CONVERSION") == 1);
    REQUIRE(weight(c, "b", "NULL") == 3);
    REQUIRE(weight(c, "c", "CONVERSION") == 2);
    REQUIRE(c.total_conversions() == 3);
    REQUIRE(c.total_value() == 40);
}

TEST_CASE("count_transitions: state-space guard and bad order", "[transition_counts]") {
    const auto js = fixtures::abc_example();
    counting_options o;
    o.order = 0;
    REQUIRE_THROWS_AS(count_transitions(js, o), invalid_input);
    o.order = 2;
    o.max_states = 4;
    REQUIRE_THROWS_AS(count_transitions(js, o), state_space_too_large);
    REQUIRE_THROWS_WITH(count_transitions(js, o), Catch::Contains("above the cap of 4"));
    // One window of two channels per path (3), plus START, CONVERSION, NULL.
    try {
        count_transitions(js, o);
        FAIL("no state_space_too_large");
    } catch (const state_space_too_large& e) {
        REQUIRE(e.estimate() == 6);
        REQUIRE(e.cap() == 4);
    }
    o.max_states = 6; // at the cap itself it fits
    REQUIRE(count_transitions(js, o).num_states() == 6);
}

TEST_CASE("count_transitions: two threads count what one thread counts", "[transition_counts]") {
    // 150,000 rows; later channels first appear in the second half, so the
    // halves number their states differently before the merge.
    std::vector<std::string> paths;
    std::vector<double> conv, nulls, value;
    for (int i = 0; i < 150000; ++i) {
        std::string p;
        const int len = 1 + i % 6;
        for (int j = 0; j < len; ++j) {
            if (j) p += " > ";
            const int c = (i * 13 + j * j * 7 + (j == 2 ? 0 : i / 3)) % (i < 75000 ? 5 : 9);
            p += "c" + std::to_string(c);
        }
        paths.push_back(p);
        conv.push_back(i % 4 == 0 ? 1.0 : 0.0);
        nulls.push_back(i % 4 == 0 ? 0.0 : (i % 7 == 0 ? 0.0 : 2.0));
        value.push_back(i % 4 == 0 ? 1.5 : 0.0);
    }
    const std::vector<std::string_view> views(paths.begin(), paths.end());
    const auto js = build_journeys({views, conv, nulls, value}, {});
    for (std::size_t order : {1u, 2u, 3u}) {
        for (bool padded : {false, true}) {
            for (bool collapse : {true, false}) {
                counting_options one, two;
                one.order = two.order = order;
                one.padded = two.padded = padded;
                one.collapse_repeats = two.collapse_repeats = collapse;
                one.threads = 1;
                two.threads = 2;
                const auto a = count_transitions(js, one);
                const auto b = count_transitions(js, two);
                INFO("order " << order << " padded " << padded << " collapse " << collapse);
                REQUIRE(a == b);
                REQUIRE(a.num_states() == b.num_states());
                for (state_id s = 0; s < a.num_states(); ++s) {
                    REQUIRE(a.state_label(s) == b.state_label(s)); // same numbering
                    REQUIRE(a.conversions_from(s) == b.conversions_from(s));
                    REQUIRE(a.value_from(s) == b.value_from(s));
                    const auto ta = a.targets(s), tb = b.targets(s);
                    REQUIRE(std::vector<state_id>(ta.begin(), ta.end()) ==
                            std::vector<state_id>(tb.begin(), tb.end()));
                }
            }
        }
    }
}

TEST_CASE("count_transitions: channels named as the chain's states are refused, by row",
          "[transition_counts]") {
    std::vector<std::string_view> paths{"a > b", "b > START", "CONVERSION"};
    std::vector<double> conv{1, 0, 1}, nulls{0, 1, 0};
    const auto js = build_journeys({paths, conv, nulls, {}});
    REQUIRE_THROWS_WITH(count_transitions(js),
                        Catch::Contains("row 1: channel 'START' has the name of a "
                                        "state of the chain"));
    counting_options o;
    o.order = 10001;
    REQUIRE_THROWS_WITH(count_transitions(js, o),
                        Catch::Contains("order must be in [1, 10000], got 10001"));
}

TEST_CASE("counting_threads: two threads only for large sets with a small state bound",
          "[transition_counts]") {
    // 200,000 rows (two_thread_rows) of three touches over 1,000 channels:
    // at order 1 the bound is 1,003 states; at order 2 it is the 400,000
    // windows (plus 3), above two_thread_state_limit.
    REQUIRE(two_thread_rows == 200000);
    std::vector<std::string> paths;
    std::vector<double> conv, nulls, value;
    for (int i = 0; i < 200000; ++i) {
        paths.push_back("c" + std::to_string(i % 1000) + " > c" + std::to_string((i / 7) % 1000) +
                        " > c" + std::to_string((i / 13) % 997));
        conv.push_back(i % 5 == 0 ? 1.0 : 0.0);
        nulls.push_back(i % 5 == 0 ? 0.0 : 1.0);
        value.push_back(0.0);
    }
    const std::vector<std::string_view> views(paths.begin(), paths.end());
    const auto js = build_journeys({views, conv, nulls, value}, {});
    const std::size_t automatic =
        std::min<std::size_t>(2, std::max(1u, std::thread::hardware_concurrency()));
    counting_options o;
    REQUIRE(counting_threads(js, o) == automatic);
    o.order = 2;
    REQUIRE(400000 + 3 > two_thread_state_limit);
    REQUIRE(counting_threads(js, o) == 1);
    o.threads = 2; // asked for: two halves of 100,000 rows
    REQUIRE(counting_threads(js, o) == 2);
    o.threads = 8; // at most a thread per 50,000 rows
    REQUIRE(counting_threads(js, o) == 4);
    o.order = 0;
    REQUIRE_THROWS_AS(counting_threads(js, o), invalid_input);
    o.order = 2;
    o.max_states = 1000; // as count_transitions(), before anything else
    REQUIRE_THROWS_AS(counting_threads(js, o), state_space_too_large);
    // Order 1 of a path table with at most 64 channels: summed while parsed,
    // no counting threads.
    std::vector<std::string> few_paths(200000, "a > b > c");
    const std::vector<std::string_view> few_views(few_paths.begin(), few_paths.end());
    const auto few = build_journeys({few_views, conv, nulls, value}, {});
    REQUIRE(counting_threads(few, {}) == 1);
    REQUIRE(counting_threads(few, {2}) == automatic);
    // Below two_thread_rows rows, one thread unless asked for more.
    const std::size_t below = two_thread_rows - 1;
    const std::vector<std::string_view> below_views(few_views.begin(), few_views.begin() + below);
    const std::vector<double> below_conv(conv.begin(), conv.begin() + below),
        below_nulls(nulls.begin(), nulls.begin() + below),
        below_value(value.begin(), value.begin() + below);
    const auto fewer = build_journeys({below_views, below_conv, below_nulls, below_value}, {});
    REQUIRE(counting_threads(fewer, {2}) == 1);
    counting_options asked{2};
    asked.threads = 2;
    REQUIRE(counting_threads(fewer, asked) == 2);
    // Whatever the threads, the same counts.
    counting_options one, two;
    one.order = two.order = 2;
    one.threads = 1;
    two.threads = 2;
    REQUIRE(count_transitions(js, one) == count_transitions(js, two));
    REQUIRE(count_transitions(js, {2}) == count_transitions(js, two));
}

TEST_CASE("count_transitions: order 1 counted in channel space equals the general counter",
          "[transition_counts]") {
    // Padding adds k - 1 = 0 symbols at order 1, so padded order 1 has the
    // same chain but is counted by the general (hashed) counter; unpadded
    // order 1 by the dense channel-space counter. Rows without outcomes
    // hold channels that must not become states; repeats and first
    // appearances inside repeats; fractional weights.
    std::vector<std::string_view> paths{"z",         "b > b > a", "a > c > a > c", "y > b",
                                        "c > c > c", "d",         "a > b > a"};
    std::vector<double> conv{0, 1, 0.5, 0, 2, 0, 1}, nulls{0, 2, 0.25, 0, 0, 3, 0},
        value{0, 3, 1.5, 0, 7, 0, 0.5};
    const auto js = build_journeys({paths, conv, nulls, value}, {});
    for (std::size_t threads : {1u, 2u}) {
        counting_options direct, general;
        general.padded = true;
        direct.threads = general.threads = threads;
        const auto a = count_transitions(js, direct);
        const auto b = count_transitions(js, general);
        REQUIRE(a.num_states() == b.num_states());
        REQUIRE(a.num_states() == 3 + 4); // b a c d: z and y only on rows without outcomes
        require_same_rows(a, b);
        REQUIRE(a.state_label(3) == "b");
        REQUIRE(a.state_label(6) == "d");
        CHECK(weight(a, "START", "b") == 3);
        CHECK(weight(a, "b", "a") == 4);
        CHECK(weight(a, "a", "c") == 0.75 * 2);
        CHECK(weight(a, "c", "a") == 0.75);
        CHECK(weight(a, "b", "b") == 0);
        CHECK(weight(a, "c", "CONVERSION") == 2.5);
        CHECK(weight(a, "d", "NULL") == 3);
    }
}

TEST_CASE("transition_counts: a default value is a valid empty count set", "[transition_counts]") {
    const transition_counts empty;
    REQUIRE(empty.num_states() == 3);
    REQUIRE(empty.num_transitions() == 0);
    REQUIRE(empty.out_weight(transition_counts::start) == 0);
    REQUIRE(empty.conversions_from(transition_counts::start) == 0);
    REQUIRE(empty.state_label(transition_counts::start) == "START");
    REQUIRE_THROWS_AS(fit_markov(empty), invalid_input);
}

TEST_CASE("count_transitions: order 1 with 1,500 channels (the general loop) equals padded",
          "[transition_counts]") {
    std::vector<std::string> paths;
    for (int i = 0; i < 3000; ++i) {
        const int a = (i * 7) % 1500, b = (i * 13 + 5) % 1500;
        paths.push_back("c" + std::to_string(a) + " > c" + std::to_string(b) + " > c" +
                        std::to_string(b));
    }
    const std::vector<std::string_view> views(paths.begin(), paths.end());
    std::vector<double> conv(paths.size(), 1.0), nulls(paths.size(), 2.0);
    const auto js = build_journeys({views, conv, nulls, {}}, {});
    REQUIRE(js.channels().size() == 1500);
    counting_options direct, general;
    general.padded = true;
    const auto a = count_transitions(js, direct), b = count_transitions(js, general);
    REQUIRE(a.num_states() == b.num_states());
    for (state_id s = 0; s < a.num_states(); ++s) {
        REQUIRE(a.state_label(s) == b.state_label(s));
        const auto wa = a.weights(s), wb = b.weights(s);
        REQUIRE(std::vector<double>(wa.begin(), wa.end()) ==
                std::vector<double>(wb.begin(), wb.end()));
    }
}

TEST_CASE("count_transitions: order-1 sums gathered while parsing equal counting the touches",
          "[transition_counts]") {
    // The same rows three ways: parsed in one table (sums gathered on two
    // threads), appended in two chunks (sums added chunk by chunk), and added
    // one row at a time (no sums: the touches are counted). Late channels
    // first appear in the second half; some rows have no outcomes.
    std::vector<std::string> paths;
    std::vector<double> conv, nulls, value;
    for (int i = 0; i < 60000; ++i) {
        std::string p;
        for (int j = 0; j <= i % 5; ++j) {
            if (j) p += " > ";
            p += "c" +
                 std::to_string((i * 7 + j * j * 3 + (j == 1 ? i / 5 : 0)) % (i < 30000 ? 6 : 11));
        }
        paths.push_back(p);
        conv.push_back(i % 3 == 0 ? 1.0 : 0.0);
        nulls.push_back(i % 3 == 0 ? 0.5 : (i % 11 == 0 ? 0.0 : 2.0));
        value.push_back(i % 3 == 0 ? 2.25 : 0.0);
    }
    const std::vector<std::string_view> views(paths.begin(), paths.end());
    path_options two;
    two.threads = 2;
    const auto parsed = build_journeys({views, conv, nulls, value}, two);
    REQUIRE(journey_set::builder::order1_sums(parsed) != nullptr);
    const table_columns table{views, conv, nulls, value};
    journey_set chunked;
    const std::size_t half = 25000;
    table.append(chunked, 0, half, two);
    table.append(chunked, half, views.size(), two);
    REQUIRE(journey_set::builder::order1_sums(chunked) != nullptr);
    const auto rows = table.row_by_row();
    REQUIRE(journey_set::builder::order1_sums(rows) == nullptr);
    const auto a = count_transitions(parsed), b = count_transitions(chunked),
               c = count_transitions(rows);
    for (const auto* other : {&b, &c}) {
        REQUIRE(a.num_states() == other->num_states());
        for (state_id s = 0; s < a.num_states(); ++s) {
            INFO("state " << s);
            REQUIRE(a.state_label(s) == other->state_label(s));
            REQUIRE(a.conversions_from(s) == other->conversions_from(s));
            REQUIRE(a.value_from(s) == other->value_from(s));
            const auto ta = a.targets(s), tb = other->targets(s);
            const auto wa = a.weights(s), wb = other->weights(s);
            REQUIRE(std::vector<state_id>(ta.begin(), ta.end()) ==
                    std::vector<state_id>(tb.begin(), tb.end()));
            REQUIRE(std::vector<double>(wa.begin(), wa.end()) ==
                    std::vector<double>(wb.begin(), wb.end()));
        }
    }
    // Appending a row by hand drops the sums; the touches are counted again.
    auto more = parsed;
    std::vector<std::string_view> one{"c1", "c2"};
    more.add(one, 1.0, 0.0, 0.0, 60000);
    REQUIRE(journey_set::builder::order1_sums(more) == nullptr);
    REQUIRE(count_transitions(more).num_states() == a.num_states());
}

TEST_CASE("count_transitions: order-1 sums of chunks up to and past 64 channels",
          "[transition_counts]") {
    // Two chunks, the second with channels the first lacks, parsed on two
    // threads each. With 64 channels the sums are kept; a 65th, met only on
    // a row without outcomes at the end, drops them. Either way the counts
    // equal those of the same rows added one at a time.
    for (const bool extra : {false, true}) {
        INFO("65th channel: " << extra);
        std::vector<std::string> paths;
        std::vector<double> conv, nulls, value;
        const int n = 80000;
        for (int i = 0; i < n; ++i) {
            const int limit = i < n / 2 ? 40 : 64;
            std::string p;
            for (int j = 0; j <= i % 6; ++j) {
                if (j) p += " > ";
                p += "ch" + std::to_string((i * 13 + j * 7 + (j % 2 ? i / 3 : 0)) % limit);
            }
            paths.push_back(p);
            conv.push_back(i % 4 == 0 ? 1.0 : 0.0);
            nulls.push_back(i % 4 == 0 ? 0.0 : (i % 9 == 0 ? 0.0 : 1.0));
            value.push_back(i % 4 == 0 ? 1.5 : 0.0);
        }
        if (extra) {
            paths.emplace_back("ch10 > ch64");
            conv.push_back(0.0);
            nulls.push_back(0.0);
            value.push_back(0.0);
        }
        const std::vector<std::string_view> views(paths.begin(), paths.end());
        path_options two;
        two.threads = 2;
        const table_columns table{views, conv, nulls, value};
        journey_set chunked;
        const std::size_t half = static_cast<std::size_t>(n / 2);
        table.append(chunked, 0, half, two);
        REQUIRE(chunked.channels().size() == 40);
        table.append(chunked, half, views.size(), two);
        REQUIRE(chunked.channels().size() == (extra ? 65u : 64u));
        REQUIRE((journey_set::builder::order1_sums(chunked) == nullptr) == extra);
        const auto rows = table.row_by_row();
        REQUIRE(rows.channels().names() == chunked.channels().names());
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const auto a = rows.path(i), b = chunked.path(i);
            REQUIRE(std::vector<channel_id>(a.begin(), a.end()) ==
                    std::vector<channel_id>(b.begin(), b.end()));
        }
        const auto a = count_transitions(chunked), b = count_transitions(rows);
        REQUIRE(a.num_states() == b.num_states());
        require_same_rows(a, b);
    }
}

#include <journeyloop/detail/mapped.hpp>

#if defined(__linux__) && defined(JOURNEYLOOP_MAPPED_PAGES)
#include <fstream>
#include <thread>

namespace {
double resident_mb() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
    return -1;
}
} // namespace

TEST_CASE("mapped_vector: a large block a worker thread grew goes back when freed", "[memory]") {
    // The counting threads' tables, the removals' scratch and the fit's
    // extrapolation use this storage: without it a table grown on a worker
    // thread stayed resident in the thread's arena after it was freed (a
    // large part of what the counts of the Criteo-shaped table kept).
    double grown = 0, left = 0;
    std::thread worker([&grown, &left] {
        {
            // As after a large temporary: glibc then serves blocks up to
            // its size from the thread's arena instead of mapping them (or,
            // if it already did, this block stays there, resident).
            std::vector<char> earlier(std::size_t{30} << 20, 1);
        }
        const double before = resident_mb();
        {
            detail::mapped_vector<double> v;
            v.reserve((std::size_t{24} << 20) / sizeof(double));
            v.assign(v.capacity(), 1.0);
            grown = resident_mb() - before;
        }
        left = resident_mb() - before;
    });
    worker.join();
    REQUIRE(grown > 22); // fresh pages (not the arena's resident ones)
    REQUIRE(left < 4);   // given back when freed
    // Small blocks come from operator new, and still hold their values.
    detail::mapped_vector<int> small(10, 7);
    REQUIRE(small[9] == 7);
}
#endif

TEST_CASE("transition_counts: state() is the channel tuple of each state", "[transition_counts]") {
    counting_options o;
    o.order = 2;
    const auto counts = count_transitions(fixtures::abc_example(), o);
    // States: START, CONVERSION, NULL, then a > b, b, a > c (a path shorter than the order is
    // one state of its own).
    REQUIRE(counts.num_states() == 6);
    REQUIRE(counts.state(transition_counts::start).empty());
    REQUIRE(counts.state(transition_counts::conversion).empty());
    REQUIRE(counts.state(transition_counts::null).empty());
    const auto& ch = counts.channels();
    std::vector<std::vector<std::string>> tuples;
    for (state_id s = 3; s < counts.num_states(); ++s) {
        std::vector<std::string> names;
        std::string label;
        for (const auto id : counts.state(s)) {
            names.push_back(ch.names().at(id));
            label += (label.empty() ? "" : " > ") + ch.names().at(id);
        }
        REQUIRE(counts.state_label(s) == label);
        tuples.push_back(names);
    }
    std::sort(tuples.begin(), tuples.end());
    REQUIRE(tuples == std::vector<std::vector<std::string>>{{"a", "b"}, {"a", "c"}, {"b"}});
}

TEST_CASE("count_transitions: the windows' counts, against a count written out plainly",
          "[transition_counts]") {
    // Rows of 1 to 9 touches over 11 channels, some with no outcome and
    // some with fractional weights, many more rows than the counter looks
    // ahead; every state and transition is checked against a count made
    // here with ordered maps, which numbers the states as they first appear.
    std::vector<std::string> paths;
    std::vector<double> conv, nulls, value;
    std::uint64_t seed = 12345;
    auto next = [&seed](std::uint64_t m) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        return (seed >> 33) % m;
    };
    for (int i = 0; i < 5000; ++i) {
        std::string p;
        const auto len = 1 + next(9);
        for (std::uint64_t j = 0; j < len; ++j) {
            if (j) p += " > ";
            p += "c" + std::to_string(next(4) == 0 ? next(11) : next(3));
        }
        paths.push_back(p);
        const auto kind = next(10);
        conv.push_back(kind < 3 ? 1.0 + 0.25 * double(next(3)) : 0.0);
        nulls.push_back(kind == 9 ? 0.0 : (kind < 3 ? 0.0 : 0.5 * double(1 + next(4))));
        value.push_back(conv.back() > 0 ? 0.1 * double(next(50)) : 0.0);
        if (kind == 9) conv.back() = 0.0; // no outcome: counted in no state
    }
    const std::vector<std::string_view> views(paths.begin(), paths.end());
    const auto js = build_journeys({views, conv, nulls, value}, {});
    for (std::size_t order : {2u, 3u, 4u}) {
        for (bool collapse : {true, false}) {
            counting_options options;
            options.order = order;
            options.collapse_repeats = collapse;
            options.threads = 1;
            const auto counts = count_transitions(js, options);

            // The plain count: states by tuple, numbered in order of first appearance.
            std::map<std::vector<channel_id>, state_id> number;
            std::vector<std::vector<channel_id>> tuples;
            std::map<std::pair<state_id, state_id>, double> edges;
            std::map<state_id, std::pair<double, double>> ends; // conversions, value
            auto state_of = [&](std::vector<channel_id> t) {
                auto [it, inserted] =
                    number.emplace(t, static_cast<state_id>(transition_counts::first_channel_state +
                                                            tuples.size()));
                if (inserted) tuples.push_back(t);
                return it->second;
            };
            for (std::size_t row = 0; row < js.size(); ++row) {
                const double w = js.conversions(row) + js.nulls(row);
                if (w == 0) continue;
                const auto path = js.path(row);
                const std::size_t n = path.size();
                const std::size_t len = std::min(n, order);
                state_id prev = transition_counts::start;
                for (std::size_t i = 0; i + len <= n; ++i) {
                    const auto s = state_of({path.begin() + i, path.begin() + i + len});
                    if (s == prev && collapse) continue;
                    edges[{prev, s}] += w;
                    prev = s;
                }
                if (js.conversions(row) > 0)
                    edges[{prev, transition_counts::conversion}] += js.conversions(row);
                if (js.nulls(row) > 0) edges[{prev, transition_counts::null}] += js.nulls(row);
                ends[prev].first += js.conversions(row);
                ends[prev].second += js.value(row);
            }

            INFO("order " << order << " collapse " << collapse);
            REQUIRE(counts.num_states() == transition_counts::first_channel_state + tuples.size());
            for (std::size_t i = 0; i < tuples.size(); ++i) {
                const auto t =
                    counts.state(static_cast<state_id>(i + transition_counts::first_channel_state));
                REQUIRE(std::vector<channel_id>(t.begin(), t.end()) == tuples[i]);
            }
            std::size_t seen = 0;
            for (state_id s = 0; s < counts.num_states(); ++s) {
                const auto targets = counts.targets(s);
                const auto weights = counts.weights(s);
                REQUIRE(std::is_sorted(targets.begin(), targets.end()));
                for (std::size_t e = 0; e < targets.size(); ++e) {
                    const auto it = edges.find({s, targets[e]});
                    REQUIRE(it != edges.end());
                    REQUIRE(weights[e] == it->second); // the same sums, row by row
                    ++seen;
                }
                const auto end = ends.find(s);
                REQUIRE(counts.conversions_from(s) ==
                        (end == ends.end() ? 0.0 : end->second.first));
                REQUIRE(counts.value_from(s) == (end == ends.end() ? 0.0 : end->second.second));
            }
            REQUIRE(seen == edges.size());
            REQUIRE(counts.num_transitions() == edges.size());
        }
    }
}
