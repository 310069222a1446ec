// Inputs found by the fuzz harnesses (fuzz/, docs/fuzzing.md), each kept as a
// test of the fixed behaviour.
#include "fixtures.hpp"

#include <cstdio>

using namespace journeyloop;
using Catch::Contains;

namespace {

// FNV-1a 64, written again here so that the test can sign a body it wrote.
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

// The counts of one journey "<name>" with one conversion, as a file body with
// the channel written as `escaped` (JSON text).
std::string counts_body(const std::string& escaped) {
    return "{\"order\":1,\"collapse_repeats\":true,\"padded\":false,\"channels\":[\"" + escaped +
           "\"],\"states\":[[0]],\"edges\":[[0,3,1],[3,1,1]],\"ends\":[[3,1,0]],"
           "\"totals\":[1,0,0]}";
}

} // namespace

// fuzz_json, its seed corpus: a character beyond U+FFFF escaped as a UTF-16
// surrogate pair ("\ud83d\ude00", as Python's json.dumps writes it) was decoded
// half by half into six bytes that are not UTF-8; the file loaded, and saving
// it again threw.
TEST_CASE("fuzz: a surrogate pair escape reads as one UTF-8 character", "[fuzz]") {
    const auto counts =
        counts_from_bytes(sign("transition_counts", counts_body("\\ud83d\\ude00 \\u00e9")));
    REQUIRE(counts.channels().size() == 1);
    CHECK(counts.channels().name(0) == "\xF0\x9F\x98\x80 \xC3\xA9");
    // The loaded counts save and read back.
    const auto saved = to_bytes(counts);
    CHECK(to_bytes(counts_from_bytes(saved)) == saved);
    // The same counts written with the raw UTF-8 name save to the same bytes.
    CHECK(to_bytes(counts_from_bytes(
              sign("transition_counts", counts_body("\xF0\x9F\x98\x80 \xC3\xA9")))) == saved);
}

TEST_CASE("fuzz: an unpaired surrogate escape is refused with its offset", "[fuzz]") {
    for (const char* escaped : {"\\ud83d", "\\ude00", "\\ud83dx", "\\ud83d\\u0041"}) {
        INFO(escaped);
        CHECK_THROWS_WITH(counts_from_bytes(sign("transition_counts", counts_body(escaped))),
                          Contains("JSON syntax error at byte") && Contains("unpaired surrogate"));
    }
}

// fuzz_files: a funnel model file whose counts are a pooled view of loop counts
// (their checks were skipped) with a total value of 1 that no end holds. It
// loaded, and its Markov attribution shared out a value of 0. A pooled view's
// totals are now bounded by what its rows hold, and START's journeys are
// checked exactly, as for any counts.
TEST_CASE("fuzz: a pooled view whose total value no end holds is refused", "[fuzz]") {
    // The found input, the unknown keys ("me", "rt") included.
    const std::string found =
        R"({"smoothing":0,"me":{"max_sAates":50000000},"counts":{"order":1,)"
        R"("collapse_repeats":true,"paddts":true,"padded":false,"pooled":true,)"
        R"("channels":["a","b"],"states":[[0],[1]],"edges":[[0,3,5],[3,1,2],[4,1,1],)"
        R"([4,3,1]],"ends":[[3,2,0],[4,1,0]],"totals":[2,1,1]},"rt":{"ordechannels":)"
        R"(["a","b"],"totals":[4,0,0]}})";
    CHECK_THROWS_WITH(stored_model_from_bytes(sign("markov_model", found)),
                      Contains("inconsistent counts: the transitions into NULL sum to 0, the "
                               "total nulls are 1 (more than the rows that both views share "
                               "hold)"));
    // With no null, and START's journeys mended to match (one to each
    // channel), the value is the one thing wrong.
    auto mended = found;
    mended.replace(mended.find("[0,3,5]"), 7, "[0,3,1],[0,4,1]");
    mended.replace(mended.find("[2,1,1]"), 7, "[2,0,1]");
    CHECK_THROWS_WITH(stored_model_from_bytes(sign("markov_model", mended)),
                      Contains("the value of the ends sums to 0, the total value is 1 (more "
                               "than the rows that both views share hold)"));
    // A value the ends hold loads: a pooled view's totals may be less than
    // its shared rows hold (the other view's journeys end there too).
    auto held = mended;
    held.replace(held.find("[3,2,0]"), 7, "[3,2,5]");
    const auto model = stored_model_from_bytes(sign("markov_model", held)).model;
    CHECK(model.counts().total_value() == 1);
    CHECK(model.counts().pooled());
}

TEST_CASE("fuzz: the views of real loop counts load, and keep their bounds", "[fuzz]") {
    std::vector<std::string_view> paths{"a > purchase > b > purchase", "a > b", "b > purchase",
                                        "b > a > purchase > purchase"};
    std::vector<double> customers{1, 1, 2, 3}, value{30, 0, 60, 12};
    const auto counts =
        count_loop_transitions(build_loop_histories({paths, customers, {}, value}, {}));
    for (const auto* view : {&counts.first, &*counts.repeat}) {
        const auto bytes = to_bytes(*view);
        CHECK(counts_from_bytes(bytes) == *view);
    }
    const auto model = fit_loop(counts);
    CHECK(to_bytes(loop_model_from_bytes(to_bytes(model)).model) == to_bytes(model));
}

// fuzz_events: a conversion count of 1e300 beside one of 1e-300 that carries
// all the value. The value per journey (1e-300 / 1e300) is below the smallest
// double: no channel's removal changes it, so no value is shared out, and the
// value attribution is all zero, not a share of the total (the Python layer
// announces it). The conversions are shared out in full.
TEST_CASE("fuzz: a value too small against the counts to represent is not shared", "[fuzz]") {
    journey_set js;
    const std::vector<std::string_view> email{"email"}, search{"search"};
    js.add(email, 1e300, 0, 0);
    js.add(search, 1e-300, 0, 1);
    const auto model = fit_markov(count_transitions(js));
    CHECK(model.value_per_journey() == 0);
    const auto a = markov_attribution(model);
    CHECK(a.total_conversions() == Approx(1e300).epsilon(1e-12));
    CHECK(a.value() == std::vector<double>{0, 0});
    for (const auto& e : removal_effects(model)) CHECK(e.value == 0);
}
