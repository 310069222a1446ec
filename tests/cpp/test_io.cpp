// Merging, comparing, saving and loading counts and models.
// Counts I/O alone pulls in neither Eigen nor Boost.Graph (model I/O is in
// model_io.hpp): checked before anything else is included.
#include <journeyloop/io.hpp>
#if defined(EIGEN_WORLD_VERSION) || defined(BOOST_GRAPH_ADJACENCY_LIST_HPP)
#error "journeyloop/io.hpp includes Eigen or Boost.Graph"
#endif

#include "fixtures.hpp"

#include <journeyloop/events.hpp>
#include <journeyloop/impl/loop_histories_builder.hpp>
#include <journeyloop/simulate.hpp>

#include <csignal>
#include <cstdio>

#include <sys/wait.h>
#include <unistd.h>

using namespace journeyloop;
using Catch::Contains;

namespace {

journey_set rows(std::vector<std::string_view> paths, std::vector<double> conv,
                 std::vector<double> nulls, std::vector<double> value) {
    return build_journeys({paths, conv, nulls, value});
}

// FNV-1a 64, written again here so that the test can re-sign an edited body.
std::string fnv(std::string_view bytes) {
    std::uint64_t h = 14695981039346656037ull;
    for (const char c : bytes) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ull;
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

std::string sign(const std::string& kind, const std::string& body) {
    return "{\"format\":\"journeyloop\",\"kind\":\"" + kind +
           "\",\"version\":1,\"body_bytes\":" + std::to_string(body.size()) +
           ",\"checksum\":\"fnv1a64:" + fnv(body) + "\"}\n" + body;
}

// `body` with its first `from` replaced by `to`, signed as a file of `kind`.
std::string edited(const std::string& kind, std::string body, const std::string& from,
                   const std::string& to) {
    const auto at = body.find(from);
    REQUIRE(at != std::string::npos);
    body.replace(at, from.size(), to);
    return sign(kind, body);
}

} // namespace

TEST_CASE("merge: counts of parts merge to the counts of the whole", "[transition_counts]") {
    const auto all = count_transitions(fixtures::abc_example(), {2});
    const auto p1 = count_transitions(rows({"a > b"}, {1}, {1}, {10}), {2});
    const auto p2 = count_transitions(rows({"b"}, {0}, {2}, {0}), {2});
    const auto p3 = count_transitions(rows({"a > c"}, {2}, {0}, {30}), {2});
    REQUIRE(merge(merge(p1, p2), p3) == all);
    REQUIRE(merge(p1, merge(p2, p3)) == all); // associative
    REQUIRE(merge(p3, merge(p2, p1)) == all); // commutative
    REQUIRE(merge(merge(p1, p2), p3).channels().names() == std::vector<std::string>{"a", "b", "c"});
    REQUIRE(merge(p1, p2) != all);
    // A merged model is the model of the whole.
    REQUIRE(fit_markov(merge(merge(p3, p1), p2)).conversion_rate() ==
            Approx(fit_markov(all).conversion_rate()).epsilon(1e-12).margin(1e-15));
    REQUIRE_THROWS_WITH(merge(p1, count_transitions(fixtures::abc_example(), {1})),
                        Contains("cannot merge transition counts of different order"));
}

TEST_CASE("io: counts and models round-trip through bytes and files", "[io]") {
    counting_options o;
    o.order = 2;
    o.padded = true;
    const auto counts = count_transitions(fixtures::abc_example(), o);
    REQUIRE(counts_from_bytes(to_bytes(counts)) == counts);
    const auto model = fit_markov(counts, {0.5});
    const auto again = model_from_bytes(to_bytes(model));
    REQUIRE(again.options().smoothing == 0.5);
    REQUIRE(again.conversion_rate() == model.conversion_rate());
    REQUIRE(again.counts() == counts);
    const auto file = (std::filesystem::temp_directory_path() / "journeyloop_model.jl").string();
    save(model, file);
    REQUIRE(load_model(file).value_per_journey() == model.value_per_journey());
    REQUIRE_THROWS_WITH(load_counts(file),
                        Contains("holds a markov_model, expected a transition_counts"));
    std::filesystem::remove(file);
    REQUIRE_THROWS_WITH(load_model(file), Contains("cannot open"));
}

TEST_CASE("io: save and load_counts / load_model round-trip every figure", "[io]") {
    counting_options o;
    o.order = 2;
    o.padded = true;
    const auto counts = count_transitions(fixtures::abc_example(), o);
    const auto dir = std::filesystem::temp_directory_path();
    const auto counts_file = (dir / "journeyloop_counts_roundtrip.jl").string();
    save(counts, counts_file);
    const auto read = load_counts(counts_file);
    REQUIRE(read == counts);
    REQUIRE(read.order() == 2);
    REQUIRE(read.padded());
    REQUIRE(read.num_states() == counts.num_states());
    REQUIRE(read.total_conversions() == 3);
    REQUIRE(read.total_nulls() == 3);
    REQUIRE(read.total_value() == 40);
    REQUIRE(to_bytes(read) == to_bytes(counts));
    REQUIRE_THROWS_WITH(load_model(counts_file),
                        Contains("holds a transition_counts, expected a markov_model"));
    std::filesystem::remove(counts_file);
    REQUIRE_THROWS_WITH(load_counts(counts_file), Contains("cannot open"));

    const auto model = fit_markov(count_transitions(fixtures::abc_example()), {0.25});
    const auto model_file = (dir / "journeyloop_model_roundtrip.jl").string();
    save(model, model_file);
    const auto again = load_model(model_file);
    std::filesystem::remove(model_file);
    REQUIRE(again.counts() == model.counts());
    REQUIRE(again.options().smoothing == 0.25);
    REQUIRE(again.conversion_rate() == model.conversion_rate());
    REQUIRE(again.value_per_journey() == model.value_per_journey());
    REQUIRE((again.conversion_probabilities() == model.conversion_probabilities()));
    REQUIRE((again.expected_visits() == model.expected_visits()));
    const auto ra = removal_effects(again), rm = removal_effects(model);
    REQUIRE(ra.size() == rm.size());
    for (std::size_t c = 0; c < ra.size(); ++c) {
        REQUIRE(ra[c].conversions == rm[c].conversions);
        REQUIRE(ra[c].value == rm[c].value);
    }
    REQUIRE(to_bytes(again) == to_bytes(model));
}

TEST_CASE("io: a model file keeps its metadata", "[io]") {
    const auto model = fit_markov(count_transitions(fixtures::abc_example()));
    model_metadata meta;
    meta.teams = {{"b", "sales"}, {"a", "marketing"}, {"z", "sales"}}; // order kept
    meta.stages = std::vector<std::pair<std::string, std::string>>{};
    meta.max_states = 1234;
    const auto bytes = to_bytes(model, meta);
    const auto stored = stored_model_from_bytes(bytes);
    const auto& again = stored.model;
    const auto& back = stored.metadata;
    REQUIRE_FALSE(stored.holding.has_value());
    REQUIRE(again.counts() == model.counts());
    REQUIRE(back.teams == meta.teams);
    REQUIRE(back.stages.has_value());
    REQUIRE(back.stages->empty());
    REQUIRE(back.max_states == std::optional<std::size_t>{1234});
    // Without metadata, as before it existed: the same bytes, and none read back.
    REQUIRE(to_bytes(model, model_metadata{}) == to_bytes(model));
    const auto none = stored_model_from_bytes(to_bytes(model)).metadata;
    REQUIRE_FALSE(none.teams);
    REQUIRE_FALSE(none.stages);
    REQUIRE_FALSE(none.max_states);
    REQUIRE(model_from_bytes(bytes).conversion_rate() == model.conversion_rate());
    // What cannot be written is refused when writing.
    model_metadata twice;
    twice.teams = {{"a", "x"}, {"a", "y"}};
    REQUIRE_THROWS_WITH(to_bytes(model, twice), Contains("teams: channel 'a' twice"));
    model_metadata zero;
    zero.max_states = 0;
    REQUIRE_THROWS_WITH(to_bytes(model, zero), Contains("max_states must be at least 1"));
    // A hand-edited file is refused, re-signed or not.
    const auto body = bytes.substr(bytes.find('\n') + 1);
    auto edit = [&](const std::string& from, const std::string& to) {
        return edited("markov_model", body, from, to);
    };
    REQUIRE(model_from_bytes(sign("markov_model", body)).counts() == model.counts());
    REQUIRE_THROWS_WITH(model_from_bytes(edit("\"max_states\":1234", "\"max_states\":0")),
                        Contains("metadata.max_states: expected an integer in [1,"));
    REQUIRE_THROWS_WITH(model_from_bytes(edit("[\"a\",\"marketing\"]", "[\"b\",\"marketing\"]")),
                        Contains("metadata.teams[1]: channel 'b' twice"));
    REQUIRE_THROWS_WITH(model_from_bytes(edit("[\"a\",\"marketing\"]", "[\"a\"]")),
                        Contains("metadata.teams[1]: expected [channel, team]"));
    REQUIRE_THROWS_WITH(model_from_bytes(edit("[\"a\",\"marketing\"]", "[\"\",\"marketing\"]")),
                        Contains("metadata.teams[1]: empty channel name"));
    REQUIRE_THROWS_WITH(model_from_bytes(edit("\"stages\":[]", "\"stages\":{}")),
                        Contains("metadata.stages: expected an array"));
    REQUIRE_THROWS_WITH(model_from_bytes(edit("\"stages\":[]", "\"owner\":[]")),
                        Contains("metadata: unknown member 'owner'"));
    REQUIRE_THROWS_WITH(model_from_bytes(edit("[\"a\",\"marketing\"]", "[\"a\",3]")),
                        Contains("metadata.teams[1]: expected a string"));
}

TEST_CASE("io: damaged files are rejected with a clear error", "[io]") {
    const auto counts = count_transitions(fixtures::abc_example());
    const auto bytes = to_bytes(counts);
    const auto eol = bytes.find('\n');
    const auto body = bytes.substr(eol + 1);
    SECTION("a changed byte") {
        auto bad = bytes;
        bad[bad.size() - 5] = bad[bad.size() - 5] == '1' ? '2' : '1';
        REQUIRE_THROWS_WITH(counts_from_bytes(bad), Contains("checksum mismatch"));
    }
    SECTION("truncated") {
        REQUIRE_THROWS_WITH(counts_from_bytes(bytes.substr(0, bytes.size() - 10)),
                            Contains("truncated or modified"));
        REQUIRE_THROWS_WITH(counts_from_bytes(bytes.substr(0, 20)), Contains("invalid file"));
    }
    SECTION("not a journeyloop file") {
        REQUIRE_THROWS_WITH(counts_from_bytes("hello\nworld"), Contains("JSON syntax error"));
        REQUIRE_THROWS_WITH(counts_from_bytes("{\"format\":\"other\"}\n{}"),
                            Contains("not a journeyloop file"));
        REQUIRE_THROWS_AS(counts_from_bytes(""), invalid_input);
    }
    SECTION("a newer version") {
        auto bad = bytes;
        bad.replace(bad.find("\"version\":1"), 11, "\"version\":9");
        REQUIRE_THROWS_WITH(counts_from_bytes(bad), Contains("format version 9 is newer"));
        bad.replace(bad.find("\"version\":9"), 11, "\"version\":0");
        REQUIRE_THROWS_WITH(counts_from_bytes(bad),
                            Contains("version: expected an integer in [1,"));
    }
    SECTION("a key twice in an object") {
        auto b = body;
        b.insert(1, "\"order\":2,"); // then "order":1 again
        REQUIRE_THROWS_WITH(counts_from_bytes(sign("transition_counts", b)),
                            Contains("JSON key 'order' twice in an object"));
    }
    SECTION("an edited body, re-signed: every field is validated") {
        auto edit = [&](const std::string& from, const std::string& to) {
            return edited("transition_counts", body, from, to);
        };
        REQUIRE(counts_from_bytes(sign("transition_counts", body)) == counts);
        REQUIRE_THROWS_WITH(counts_from_bytes(edit("\"order\":1", "\"order\":0")),
                            Contains("order: expected an integer in [1, 10000]"));
        REQUIRE_THROWS_WITH(counts_from_bytes(edit("\"edges\":[[0,3,", "\"edges\":[[0,99,")),
                            Contains("edges[0]: expected an integer"));
        REQUIRE_THROWS_WITH(counts_from_bytes(edit("\"edges\":[[0,3,4]", "\"edges\":[[0,3,-4]")),
                            Contains("edges[0]: negative number"));
        REQUIRE_THROWS_WITH(
            counts_from_bytes(edit("\"channels\":[\"a\",\"b\"", "\"channels\":[\"a\",\"a\"")),
            Contains("duplicate channel 'a'"));
        REQUIRE_THROWS_WITH(counts_from_bytes(edit("\"states\":[[0]", "\"states\":[[0,1]")),
                            Contains("states[0]: wrong tuple length"));
        REQUIRE_THROWS_WITH(counts_from_bytes(edit("\"totals\":[3,", "\"totals\":[\"3\",")),
                            Contains("totals: expected a number, found a string"));
        // Sums that counts of journeys keep: an edit that breaks one is refused.
        REQUIRE_THROWS_WITH(counts_from_bytes(edit("[5,1,2]", "[5,5,2]")),
                            Contains("inconsistent counts: state 'c': ends with 2 conversions, "
                                     "its transitions into CONVERSION sum to 0"));
        REQUIRE_THROWS_WITH(counts_from_bytes(edit("\"totals\":[3,", "\"totals\":[4,")),
                            Contains("inconsistent counts: the transitions into CONVERSION"));
        REQUIRE_THROWS_WITH(counts_from_bytes(edit("[5,2,30]", "[5,2.5,30]")),
                            Contains("state 'c': ends with 2.5 conversions, its transitions "
                                     "into CONVERSION sum to 2"));
        REQUIRE_THROWS_WITH(counts_from_bytes(edit("[4,1,10]", "[1,1,10]")),
                            Contains("ends: a path cannot end in an absorbing state"));
        REQUIRE_THROWS_WITH(counts_from_bytes(edit("[3,4,2]", "[3,4,3]")),
                            Contains("state 'a': transitions in sum to 4, out to 5"));
        REQUIRE_THROWS_WITH(counts_from_bytes(edit("[5,2,30]", "[5,2,31]")),
                            Contains("the value of the ends sums to 41, the total value is 40"));
    }
    SECTION("bytes that are not UTF-8 text are refused, wherever they are") {
        for (std::size_t at : {std::size_t{12}, eol + 20, bytes.size() - 3}) {
            auto bad = bytes;
            bad[at] = static_cast<char>(0xC3); // a lead byte without its continuation
            REQUIRE_THROWS_WITH(counts_from_bytes(bad),
                                Contains("not UTF-8 text (byte " + std::to_string(at) + ")"));
        }
        // Well-formed multibyte names are text.
        std::vector<std::string_view> paths{"caf\xC3\xA9 > \xE2\x82\xAC"};
        std::vector<double> conv{1};
        const auto named = count_transitions(build_journeys({paths, conv, {}, {}}));
        REQUIRE(counts_from_bytes(to_bytes(named)) == named);
        // A name that is not UTF-8 (Latin-1 here) cannot be written.
        std::vector<std::string_view> latin{"caf\xE9 > b"};
        const auto latin_counts = count_transitions(build_journeys({latin, conv, {}, {}}));
        REQUIRE_THROWS_WITH(to_bytes(latin_counts),
                            Contains("cannot write a name that is not UTF-8 text (byte 3 of a "
                                     "4-byte name)"));
        // A reserved name no state uses (left in the dictionary) saves and loads.
        auto spare = build_journeys({paths, conv, {}, {}});
        journey_set::builder{spare}.intern("START");
        const auto spare_counts = count_transitions(spare);
        REQUIRE(counts_from_bytes(to_bytes(spare_counts)) == spare_counts);
        // A channel named as a state is refused in a file too.
        auto b = body;
        b.replace(b.find("\"channels\":[\"a\""), 15, "\"channels\":[\"NULL\"");
        REQUIRE_THROWS_WITH(counts_from_bytes(sign("transition_counts", b)),
                            Contains("states[0]: channel 'NULL' has the name of a state"));
    }
    SECTION("an edit that keeps the sums but breaks the windows is refused") {
        auto edit_of = [](const transition_counts& c, const std::string& from,
                          const std::string& to) {
            const auto all = to_bytes(c);
            return edited("transition_counts", all.substr(all.find('\n') + 1), from, to);
        };
        // The abc counts as order 2: their one-channel states would be whole
        // paths, but a -> b and a -> c leave them.
        REQUIRE_THROWS_WITH(counts_from_bytes(edit_of(counts, "\"order\":1", "\"order\":2")),
                            Contains("transition 'a' -> 'b': a state shorter than the order is a "
                                     "whole path, with no successor (order 2)"));
        // A self-loop adds as much into a state as out of it: the sums hold.
        REQUIRE_THROWS_WITH(
            counts_from_bytes(edit_of(counts, "\"edges\":[", "\"edges\":[[3,3,1],")),
            Contains("transition 'a' -> 'a': a self-loop, but repeats are collapsed"));
        // Order 2: a > b > c converts, c > a > b does not.
        std::vector<std::string_view> paths{"a > b > c", "c > a > b"};
        std::vector<double> conv{1, 0}, nulls{0, 1};
        counting_options o;
        o.order = 2;
        const auto two = count_transitions(build_journeys({paths, conv, nulls, {}}), o);
        REQUIRE(two.state_label(3) == "a > b");
        REQUIRE(two.state_label(5) == "c > a");
        REQUIRE(counts_from_bytes(edit_of(two, "[3,4,1]", "[3,4,1]")) == two); // the control
        REQUIRE_THROWS_WITH(counts_from_bytes(edit_of(two, "[3,4,1]", "[3,5,1]")),
                            Contains("transition 'a > b' -> 'c > a': the second state does not "
                                     "continue the first (order 2)"));
        o.padded = true;
        const auto padded = count_transitions(build_journeys({paths, conv, nulls, {}}), o);
        REQUIRE(padded.state_label(3) == "(start) > a");
        REQUIRE_THROWS_WITH(counts_from_bytes(edit_of(padded, "[0,3,1]", "[0,4,1]")),
                            Contains("a padded path begins with k - 1 paddings"));
    }
    SECTION("consistent counts with a closed loop load, but cannot be fitted") {
        // b -> b only: its sums balance, but it reaches neither CONVERSION nor
        // NULL. The fit's error names it.
        const std::string loop = "{\"order\":1,\"collapse_repeats\":false,\"padded\":false,"
                                 "\"channels\":[\"a\",\"b\"],\"states\":[[0],[1]],"
                                 "\"edges\":[[0,3,1],[3,1,1],[4,4,1]],\"ends\":[[3,1,5]],"
                                 "\"totals\":[1,0,5]}";
        const auto trap = counts_from_bytes(sign("transition_counts", loop));
        REQUIRE(trap.num_states() == 5);
        REQUIRE_THROWS_AS(fit_markov(trap), numerical_error);
        REQUIRE_THROWS_WITH(fit_markov(trap),
                            Contains("state 'b' cannot reach CONVERSION or NULL"));
    }
    SECTION("states numbered against their transitions are checked as well") {
        // START -> c10 -> c9 -> ... -> c1 -> CONVERSION, each state's one
        // successor numbered below it (state ids 13 down to 4): the passes
        // from the last id down settle one state each, so the check goes on
        // to the predecessors' search. c0 (state 3) is a journey of its own
        // ending without conversion, or with `trap` loops on itself and must
        // be named.
        auto chain_counts = [](bool trap) {
            std::string channels, states, edges = "[0,13,1]";
            for (int c = 0; c <= 10; ++c) {
                channels += (c ? ",\"c" : "\"c") + std::to_string(c) + "\"";
                states += (c ? ",[" : "[") + std::to_string(c) + "]";
            }
            for (int id = 13; id > 4; --id)
                edges += ",[" + std::to_string(id) + "," + std::to_string(id - 1) + ",1]";
            edges += ",[4,1,1]";
            edges += trap ? ",[3,3,1]" : ",[0,3,1],[3,2,1]";
            return counts_from_bytes(
                sign("transition_counts",
                     "{\"order\":1,\"collapse_repeats\":false,\"padded\":false,\"channels\":[" +
                         channels + "],\"states\":[" + states + "],\"edges\":[" + edges +
                         "],\"ends\":[[4,1,5]],\"totals\":[1," + (trap ? "0" : "1") + ",5]}"));
        };
        REQUIRE(fit_markov(chain_counts(false)).conversion_rate() == 0.5);
        REQUIRE_THROWS_WITH(fit_markov(chain_counts(true)),
                            Contains("state 'c0' cannot reach CONVERSION or NULL"));
    }
}

TEST_CASE("loop model files: the loader refuses inconsistent totals as fit_loop does",
          "[io][loop]") {
    std::vector<std::string_view> paths{"a > purchase > b > purchase", "a > b", "b > purchase"};
    std::vector<double> customers{1, 1, 2}, value{30, 0, 60};
    const auto model =
        fit_loop(count_loop_transitions(build_loop_histories({paths, customers, {}, value}, {})));
    const auto bytes = to_bytes(model);
    const auto body = bytes.substr(bytes.find('\n') + 1);
    REQUIRE(loop_model_from_bytes(sign("loop_model", body)).model.buyers() == 3);
    // Five customers, but the first view counts four.
    REQUIRE_THROWS_WITH(
        loop_model_from_bytes(edited("loop_model", body, "\"totals\":[4,", "\"totals\":[5,")),
        Contains("invalid file: loop counts: the first view's nulls"));
    // No buyers, but a repeat view.
    REQUIRE_THROWS_WITH(
        loop_model_from_bytes(
            edited("loop_model", body, "\"totals\":[4,4,90,3,1]", "\"totals\":[4,0,90,0,0]")),
        Contains("invalid file: loop counts: a repeat view is needed exactly when"));
}

namespace {

// Every figure of two journey sets, compared exactly.
void require_same_rows(const journey_set& a, const journey_set& b) {
    REQUIRE(a.size() == b.size());
    REQUIRE(a.channels().names() == b.channels().names());
    REQUIRE(a.has_times() == b.has_times());
    REQUIRE(a.time_unit_seconds() == b.time_unit_seconds());
    REQUIRE(a.has_customers() == b.has_customers());
    REQUIRE(a.customer_ids() == b.customer_ids());
    REQUIRE(a.customer_names() == b.customer_names());
    for (std::size_t r = 0; r < a.size(); ++r) {
        const auto pa = a.path(r), pb = b.path(r);
        REQUIRE(std::vector<channel_id>(pa.begin(), pa.end()) ==
                std::vector<channel_id>(pb.begin(), pb.end()));
        REQUIRE(a.conversions(r) == b.conversions(r));
        REQUIRE(a.nulls(r) == b.nulls(r));
        REQUIRE(a.value(r) == b.value(r));
        const auto ta = a.times_before_end(r), tb = b.times_before_end(r);
        REQUIRE(std::vector<double>(ta.begin(), ta.end()) ==
                std::vector<double>(tb.begin(), tb.end()));
        if (a.has_customers()) REQUIRE(a.customer(r) == b.customer(r));
    }
    REQUIRE(a.total_conversions() == b.total_conversions());
    REQUIRE(a.total_nulls() == b.total_nulls());
    REQUIRE(a.total_value() == b.total_value());
}

void require_same_histories(const loop_histories& a, const loop_histories& b) {
    require_same_rows(loop_histories::builder::rows(a), loop_histories::builder::rows(b));
    REQUIRE(a.purchase_channel() == b.purchase_channel());
    for (std::size_t r = 0; r < a.size(); ++r) {
        const auto va = a.purchase_values(r), vb = b.purchase_values(r);
        REQUIRE(std::vector<double>(va.begin(), va.end()) ==
                std::vector<double>(vb.begin(), vb.end()));
    }
}

// A small event log: customers 7 and 3, times with fractions of a unit.
event_table small_events(std::vector<std::int64_t>& customer, std::vector<double>& time,
                         std::vector<std::string_view>& channel, std::vector<double>& conversion,
                         std::vector<double>& value) {
    customer = {7, 3, 7, 7, 7, 3, 3};
    time = {5.25, 1, 1, 9, 12, 4, 0.1};
    channel = {"search", "email", "email", "demo", "email", "demo", "search"};
    conversion = {0, 0, 0, 1, 0, 1, 0};
    value = {0, 0, 0, 100.5, 0, 20, 0};
    event_table t;
    t.customer_ids = customer;
    t.channel = channel;
    t.conversion = conversion;
    t.value = value;
    t.time_real = time;
    return t;
}

std::string temp_file(const std::string& name) {
    return (std::filesystem::temp_directory_path() /
            ("journeyloop_" + std::to_string(::getpid()) + "_" + name))
        .string();
}

// Files in `folder` whose name begins with `prefix`.
std::size_t files_like(const std::filesystem::path& folder, const std::string& prefix) {
    std::size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(folder))
        n += e.path().filename().string().rfind(prefix, 0) == 0;
    return n;
}

} // namespace

TEST_CASE("io: journeys round-trip exactly through bytes and files", "[io][journeys]") {
    const auto js = rows({"a > b > a", "b", "c > a"}, {1, 0, 2.5}, {1, 2, 0}, {10.25, 0, 30});
    model_metadata meta;
    meta.teams = {{"b", "sales"}, {"a", "marketing"}};
    const auto bytes = to_bytes(js, meta);
    const auto back = journeys_from_bytes(bytes);
    require_same_rows(back.journeys, js);
    REQUIRE(back.metadata.teams == meta.teams);
    REQUIRE(!back.metadata.stages);
    REQUIRE(to_bytes(back.journeys, back.metadata) == bytes); // the same bytes again
    // Counted again, the reloaded rows give the same counts.
    REQUIRE(count_transitions(back.journeys, {2}) == count_transitions(js, {2}));

    const auto file = temp_file("journeys.jl");
    save(js, file, meta);
    require_same_rows(load_journeys(file).journeys, js);
    REQUIRE_THROWS_WITH(load_histories(file),
                        Contains("holds a journeys, expected a loop_histories"));
    REQUIRE_THROWS_WITH(load_counts(file),
                        Contains("holds a journeys, expected a transition_counts"));
    std::filesystem::remove(file);

    const auto empty = journeys_from_bytes(to_bytes(journey_set{}));
    REQUIRE(empty.journeys.size() == 0);
    REQUIRE(empty.journeys.channels().size() == 0);
}

TEST_CASE("io: journeys and histories from events keep times and customers", "[io][journeys]") {
    std::vector<std::int64_t> customer;
    std::vector<double> time, conversion, value;
    std::vector<std::string_view> channel;
    const auto table = small_events(customer, time, channel, conversion, value);
    event_options options;
    options.time_unit_seconds = 86400;
    const auto built = build_journeys(table, options);
    REQUIRE(built.journeys.has_times());
    REQUIRE(built.journeys.has_customers());
    const auto bytes = to_bytes(built.journeys);
    const auto back = journeys_from_bytes(bytes).journeys;
    require_same_rows(back, built.journeys);
    REQUIRE(back.time_unit_seconds() == 86400);
    REQUIRE(to_bytes(back) == bytes);

    // Customer ids past 2**53 are kept exactly (stored as text).
    std::vector<std::int64_t> big{INT64_MAX, INT64_MIN, INT64_MAX};
    std::vector<double> t3{1, 2, 3}, c3{0, 0, 1}, v3{0, 0, 5};
    std::vector<std::string_view> ch3{"a", "b", "a"};
    event_table t;
    t.customer_ids = big;
    t.time_real = t3;
    t.channel = ch3;
    t.conversion = c3;
    t.value = v3;
    const auto ids = build_journeys(t, {}).journeys;
    const auto ids_back = journeys_from_bytes(to_bytes(ids)).journeys;
    require_same_rows(ids_back, ids);
    REQUIRE(ids_back.customer_ids() == ids.customer_ids());

    const auto histories = build_loop_histories(table, options).histories;
    const auto hbytes = to_bytes(histories);
    const auto hback = histories_from_bytes(hbytes).histories;
    require_same_histories(hback, histories);
    REQUIRE(to_bytes(hback) == hbytes);
    REQUIRE(count_loop_transitions(hback, {}).first == count_loop_transitions(histories, {}).first);
}

TEST_CASE("io: loop histories round-trip exactly", "[io][journeys]") {
    std::vector<std::string_view> paths{"a > purchase > b > purchase", "a > b", "b > purchase"};
    std::vector<double> customers{1, 1, 2}, value{30, 0, 60};
    const auto h = build_loop_histories({paths, customers, {}, value}, {});
    model_metadata meta;
    meta.stages = {{"a", "top"}, {"b", "bottom"}};
    const auto file = temp_file("histories.jl");
    save(h, file, meta);
    const auto back = load_histories(file);
    require_same_histories(back.histories, h);
    REQUIRE(back.metadata.stages == meta.stages);
    REQUIRE(back.histories.total_purchases() == 4);
    REQUIRE(back.histories.total_value() == 90);
    REQUIRE_THROWS_WITH(load_journeys(file),
                        Contains("holds a loop_histories, expected a journeys"));
    std::filesystem::remove(file);
}

TEST_CASE("io: damaged journeys files are rejected with a clear error", "[io][journeys]") {
    const auto js = rows({"a > b", "b"}, {1, 0}, {1, 2}, {10, 0});
    const auto bytes = to_bytes(js);
    const auto body = bytes.substr(bytes.find('\n') + 1);
    REQUIRE(body == "{\"channels\":[\"a\",\"b\"],\"offsets\":[0,2,3],\"touches\":[0,1,1],"
                    "\"conversions\":[1,0],\"nulls\":[1,2],\"values\":[10,0]}");
    auto damaged = [&](const std::string& from, const std::string& to) {
        return journeys_from_bytes(edited("journeys", body, from, to));
    };
    REQUIRE_THROWS_WITH(damaged("[0,1,1]", "[0,1,2]"),
                        Contains("invalid file: touches[2]: expected an integer in [0, 1]"));
    REQUIRE_THROWS_WITH(damaged("[0,2,3]", "[0,2,2]"),
                        Contains("invalid file: offsets[2]: row 1 has no touch"));
    REQUIRE_THROWS_WITH(damaged("[0,2,3]", "[0,3]"),
                        Contains("invalid file: conversions: 2 items, the offsets give 1 rows"));
    REQUIRE_THROWS_WITH(damaged("[0,2,3]", "[0,1,2]"),
                        Contains("invalid file: offsets: the rows end at touch 2, there are 3"));
    REQUIRE_THROWS_WITH(damaged("\"nulls\":[1,2]", "\"nulls\":[1,-2]"),
                        Contains("invalid file: nulls[1]: negative number"));
    REQUIRE_THROWS_WITH(damaged("\"b\"]", "\"a\"]"),
                        Contains("invalid file: channels[1]: channel 'a' twice"));
    REQUIRE_THROWS_WITH(
        damaged("\"values\":[10,0]}", "\"values\":[10,0],\"metadata\":{\"max_states\":3}}"),
        Contains("journeys have no max_states"));
    REQUIRE_THROWS_WITH(journeys_from_bytes(bytes.substr(0, bytes.size() - 3)),
                        Contains("truncated or modified"));

    std::vector<std::string_view> paths{"a > purchase", "b"};
    std::vector<double> customers{2, 1};
    const auto hbytes = to_bytes(build_loop_histories({paths, customers, {}, {}}, {}));
    const auto hbody = hbytes.substr(hbytes.find('\n') + 1);
    REQUIRE_THROWS_WITH(
        histories_from_bytes(edited("loop_histories", hbody, "\"purchase_offsets\":[0,1,1]",
                                    "\"purchase_offsets\":[0,0,1]")),
        Contains("invalid file: purchase_offsets[1]: row 0 has 1 purchases and 0 purchase values"));
    REQUIRE_THROWS_WITH(
        histories_from_bytes(edited("loop_histories", hbody, "\"purchase\":0", "\"purchase\":7")),
        Contains("invalid file: purchase: expected an integer in [0, 2]"));
}

TEST_CASE("io: a failed save removes its temporary file and leaves the old file", "[io][files]") {
    const auto counts = count_transitions(fixtures::abc_example());
    const auto folder =
        std::filesystem::temp_directory_path() / ("journeyloop_save_" + std::to_string(::getpid()));
    std::filesystem::create_directories(folder);
    // The target is a folder: the rename fails once the temporary file is written.
    std::filesystem::create_directories(folder / "model.jl");
    REQUIRE_THROWS_WITH(save(counts, (folder / "model.jl").string()),
                        Contains("cannot replace the file"));
    REQUIRE(std::filesystem::is_directory(folder / "model.jl"));
    REQUIRE(files_like(folder, ".model.jl.tmp-") == 0);
    // A folder that does not exist: nothing is created.
    REQUIRE_THROWS_WITH(save(counts, (folder / "missing" / "model.jl").string()),
                        Contains("cannot create a file in its folder"));
    // A save over an existing file replaces it whole and leaves nothing else.
    const auto file = (folder / "counts.jl").string();
    save(count_transitions(fixtures::abc_example(), {2}), file);
    save(counts, file);
    REQUIRE(load_counts(file) == counts);
    REQUIRE(files_like(folder, ".counts.jl.tmp-") == 0);
    std::filesystem::remove_all(folder);
}

TEST_CASE("io: a save killed at any moment leaves the old file or the whole new one",
          "[io][files]") {
    // Large counts: many distinct order-3 states, a file of megabytes.
    std::vector<std::string> text;
    std::vector<double> conv, nulls;
    std::uint64_t x = 12345;
    for (int r = 0; r < 20000; ++r) {
        std::string p;
        for (int i = 0; i < 6; ++i) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            if (i) p += " > ";
            p += "ch" + std::to_string((x >> 33) % 40);
        }
        text.push_back(p);
        conv.push_back(r % 3 == 0 ? 1 : 0);
        nulls.push_back(r % 3 == 0 ? 0 : 1);
    }
    const std::vector<std::string_view> paths(text.begin(), text.end());
    counting_options o;
    o.order = 3;
    const auto big = count_transitions(build_journeys({paths, conv, nulls, {}}), o);
    const auto small = count_transitions(fixtures::abc_example());
    const auto new_bytes = to_bytes(big);
    REQUIRE(new_bytes.size() > (std::size_t{1} << 20));

    const auto folder =
        std::filesystem::temp_directory_path() / ("journeyloop_kill_" + std::to_string(::getpid()));
    std::filesystem::create_directories(folder);
    const auto file = (folder / "counts.jl").string();
    std::size_t old_seen = 0, new_seen = 0;
    for (int attempt = 0; attempt < 24; ++attempt) {
        save(small, file);
        const pid_t child = ::fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            try {
                for (;;) save(big, file); // until killed
            } catch (...) {
            }
            ::_exit(1);
        }
        // From at once to well after the first save ended.
        ::usleep(static_cast<useconds_t>(attempt * attempt * 250));
        ::kill(child, SIGKILL);
        int status = 0;
        ::waitpid(child, &status, 0);
        REQUIRE(WIFSIGNALED(status));
        const auto loaded = load_counts(file); // never a half file
        if (loaded == small) ++old_seen;
        else {
            REQUIRE(loaded == big);
            ++new_seen;
        }
    }
    REQUIRE(old_seen + new_seen == 24);
    std::filesystem::remove_all(folder);
}

TEST_CASE("merge: counts that would overflow or lose exactness are refused",
          "[transition_counts]") {
    const auto huge = count_transitions(rows({"a"}, {1e308}, {0}, {0}));
    REQUIRE_THROWS_WITH(merge(huge, huge),
                        Contains("cannot merge transition counts: the weight of the transition") &&
                            Contains("would be past the largest number (1e+308 + 1e+308)"));
    // Whole counts add exactly up to 2**53, and past it only while the sum is exact.
    const double two53 = 9007199254740992.0;
    const auto big = count_transitions(rows({"a > b"}, {two53}, {0}, {0}));
    const auto one = count_transitions(rows({"a > b"}, {1}, {0}, {0}));
    const auto two = count_transitions(rows({"a > b"}, {2}, {0}, {0}));
    REQUIRE_THROWS_WITH(merge(big, one),
                        Contains("would be inexact (whole counts past 2**53 no longer add "
                                 "exactly) (9007199254740992 + 1)"));
    const auto sum = merge(big, two);
    REQUIRE(sum.total_conversions() == two53 + 2);
    REQUIRE(sum.out_weight(transition_counts::start) == two53 + 2);
    // Fractional weights add in floating point, as documented.
    const auto tenth = count_transitions(rows({"a"}, {0.1}, {0.2}, {0}));
    REQUIRE(merge(tenth, tenth).total_nulls() == 0.2 + 0.2);
}

TEST_CASE("io: holding times are saved with a model and read back", "[io][simulate]") {
    const auto log = fixtures::two_purchases_log();
    const auto t = log.table();
    const auto journeys = build_journeys(t, {}).journeys;
    const auto funnel = fit_markov(count_transitions(journeys));
    holding_options ho;
    ho.min_weight = 1;
    const auto h = fit_holding_times(journeys, funnel, ho);
    const auto bytes = to_bytes(funnel, {}, h);
    const auto back = stored_model_from_bytes(bytes);
    REQUIRE(back.holding.has_value());
    REQUIRE(back.holding->means() == h.means());
    REQUIRE(back.holding->own_means() == h.own_means());
    REQUIRE(expected_time_to_conversion(back.model, *back.holding) ==
            expected_time_to_conversion(funnel, h));
    REQUIRE(to_bytes(back.model, {}, *back.holding) == bytes);
    REQUIRE_FALSE(stored_model_from_bytes(to_bytes(funnel)).holding.has_value());

    const auto histories = build_loop_histories(t, {}).histories;
    const auto loop = fit_loop(count_loop_transitions(histories));
    const auto lh = fit_holding_times(histories, loop, ho);
    const auto loop_bytes = to_bytes(loop, {}, lh);
    const auto loop_back = loop_model_from_bytes(loop_bytes);
    REQUIRE(loop_back.holding.has_value());
    REQUIRE(expected_time_to_next_purchase(loop_back.model, *loop_back.holding) ==
            expected_time_to_next_purchase(loop, lh));
    REQUIRE(to_bytes(loop_back.model, {}, *loop_back.holding) == loop_bytes);

    // Holding times of another model are refused on saving; a file whose
    // holding times do not fit its model, on loading.
    REQUIRE_THROWS_AS(to_bytes(*loop.repeat(), {}, h), invalid_input);
    auto body_of = [](const std::string& b) { return b.substr(b.find('\n') + 1); };
    const auto refused = [](const std::string& file, const char* kind, const char* words) {
        try {
            if (std::string(kind) == "markov_model") stored_model_from_bytes(file);
            else loop_model_from_bytes(file);
            FAIL("accepted");
        } catch (const invalid_input& e) {
            INFO(e.what());
            REQUIRE(std::string(e.what()).find(words) != std::string::npos);
        }
    };
    const auto body = body_of(bytes);
    const std::string m = "markov_model";
    refused(edited(m, body, "\"means\":[", "\"means\":[1,"), "markov_model", "means and");
    refused(edited(m, body, "\"means\":[0", "\"means\":[-1"), "markov_model", "non-negative");
    refused(edited(m, body, "\"fallbacks\":[", "\"fallbacks\":[9,"), "markov_model", "fallbacks");
    refused(edited(m, body, "\"means\":[", "\"extra\":1,\"means\":["), "markov_model",
            "unknown member");
    refused(edited("loop_model", body_of(loop_bytes), "\"repeat\":{\"unit_seconds\"",
                   "\"repeat\":null,\"x\":{\"unit_seconds\""),
            "loop_model", "holding");
}
