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
