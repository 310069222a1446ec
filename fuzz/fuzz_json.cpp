// The JSON reader of the file format (impl/json.hpp): parse must accept or
// throw invalid_input, never crash, whatever the bytes and however deep the
// nesting. Where it accepts: strings written back read back equal, and
// numbers written back read back equal.
#include "common.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace jl = journeyloop;
namespace json = journeyloop::detail::json;

namespace {

// Called on what parse accepted from valid UTF-8 text: its strings (escapes
// decoded) are UTF-8 too.
void round_trip(const json::value& v, int depth) {
    switch (v.type) {
    case json::value::kind::string: {
        FUZZ_CHECK(json::invalid_utf8(v.string) == std::string_view::npos);
        std::string out;
        json::write_string(out, v.string);
        const auto back = json::parse(out);
        FUZZ_CHECK(back.type == json::value::kind::string && back.string == v.string);
        break;
    }
    case json::value::kind::number: {
        FUZZ_CHECK(std::isfinite(v.number));
        std::string out;
        json::write_number(out, v.number);
        const auto back = json::parse(out);
        FUZZ_CHECK(back.type == json::value::kind::number && back.number == v.number);
        break;
    }
    case json::value::kind::array:
        for (const auto& item : v.array) round_trip(item, depth + 1);
        break;
    case json::value::kind::object:
        for (const auto& [key, item] : v.object) {
            FUZZ_CHECK(json::invalid_utf8(key) == std::string_view::npos);
            round_trip(item, depth + 1);
        }
        break;
    default: break;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    // The file reader checks that a file is UTF-8 before parsing it; parse
    // itself must survive any bytes.
    const bool utf8 = json::invalid_utf8(text) == std::string_view::npos;
    try {
        const auto v = json::parse(text);
        if (utf8) round_trip(v, 0);
    } catch (const jl::error&) {
    }
    return 0;
}
