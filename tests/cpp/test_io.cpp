// Merging, comparing, saving and loading counts and models.
// Counts I/O alone pulls in neither Eigen nor Boost.Graph (model I/O is in
// model_io.hpp): checked before anything else is included.
#include <journeyloop/io.hpp>
#if defined(EIGEN_WORLD_VERSION) || defined(BOOST_GRAPH_ADJACENCY_LIST_HPP)
#error "journeyloop/io.hpp includes Eigen or Boost.Graph"
#endif

#include "fixtures.hpp"

#include <cstdio>

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
    const auto [again, back] = stored_model_from_bytes(bytes);
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
