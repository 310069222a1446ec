// Saved files: counts_from_bytes, stored_model_from_bytes and
// loop_model_from_bytes (what load_counts, load_model and load_loop_model
// read, holding times included), on the input as a whole file, or on the input as a file's body
// under a valid header (so that mutations reach the body past the checksum).
//
// Where a file is accepted: saved again, it reads back, and saving that gives
// the same bytes; a model's figures are finite and its attribution sums to
// its totals.
#include "common.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace jl = journeyloop;

namespace {

const int threads_set = fuzz::init_threads();

const char* const kinds[] = {"transition_counts", "markov_model", "loop_model",
                             "transition_counts"};

std::string with_header(const char* kind, std::string_view body) {
    return "{\"format\":\"journeyloop\",\"kind\":\"" + std::string(kind) +
           "\",\"version\":1,\"body_bytes\":" + std::to_string(body.size()) +
           ",\"checksum\":\"fnv1a64:" + jl::detail::json::fnv1a64(body) + "\"}\n" +
           std::string(body);
}

void counts(const std::string& bytes) {
    try {
        const auto c = jl::counts_from_bytes(bytes);
        FUZZ_CHECK(std::isfinite(c.total_conversions()) && std::isfinite(c.total_nulls()) &&
                   std::isfinite(c.total_value()));
        const auto saved = jl::to_bytes(c);
        const auto again = jl::to_bytes(jl::counts_from_bytes(saved));
        FUZZ_CHECK(saved == again);
    } catch (const jl::error&) {
    }
}

void model(const std::string& bytes) {
    try {
        const auto m = jl::stored_model_from_bytes(bytes);
        const auto save = [](const jl::stored_model& x) {
            return x.holding ? jl::to_bytes(x.model, x.metadata, *x.holding)
                             : jl::to_bytes(x.model, x.metadata);
        };
        const auto saved = save(m);
        const auto back = jl::stored_model_from_bytes(saved);
        FUZZ_CHECK(saved == save(back));
        fuzz::check_model(m.model);
        if (m.holding) {
            const double t = jl::expected_time_to_conversion(m.model, *m.holding);
            FUZZ_CHECK(t >= 0 && !std::isnan(t));
        }
    } catch (const jl::error&) {
    }
}

void loop_model(const std::string& bytes) {
    try {
        const auto m = jl::loop_model_from_bytes(bytes);
        const auto save = [](const jl::stored_loop_model& x) {
            return x.holding ? jl::to_bytes(x.model, x.metadata, *x.holding)
                             : jl::to_bytes(x.model, x.metadata);
        };
        const auto saved = save(m);
        const auto back = jl::loop_model_from_bytes(saved);
        FUZZ_CHECK(saved == save(back));
        if (m.holding) {
            const double a = jl::expected_time_to_first_purchase(m.model, *m.holding);
            const double b = jl::expected_time_to_next_purchase(m.model, *m.holding);
            FUZZ_CHECK(a >= 0 && !std::isnan(a) && b >= 0 && !std::isnan(b));
        }
        const auto s = jl::summarize(m.model);
        FUZZ_CHECK(std::isfinite(s.expected_purchases) && std::isfinite(s.expected_value) &&
                   std::isfinite(s.repeat_probability));
    } catch (const jl::error&) {
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const int kind = data[0] & 3;
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    const std::string bytes = (data[0] & 4) ? with_header(kinds[kind], rest) : std::string(rest);
    switch (kind) {
    case 1: model(bytes); break;
    case 2: loop_model(bytes); break;
    default: counts(bytes); break;
    }
    return 0;
}
