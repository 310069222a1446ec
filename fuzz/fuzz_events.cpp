// Event logs: build_journeys and build_loop_histories on columns derived from
// the input (their lengths, kinds, nulls, times, duplicates and order), under
// options derived from it too.
//
// Where the log is accepted: the row account holds, the journeys agree with
// the report, and (funnel form, small) the attribution sums to the totals.
#include "common.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace jl = journeyloop;

namespace {

const int threads_set = fuzz::init_threads();

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// Numbers that parsers and sums get wrong: signs, zeros, non-finite, huge.
// Huge stops at 1e300, so that the sums of a log's counts and values stay
// below the largest double: sums that overflow are not checked here
// (docs/fuzzing.md, "Not covered").
double special_or_small(FuzzedDataProvider& in) {
    static const double specials[] = {0, 1, 2, -1, 0.5, nan, inf, -inf, 1e300, -0.0, 1e-300, 3};
    if (in.ConsumeBool()) return specials[in.ConsumeIntegralInRange<std::size_t>(0, 11)];
    return static_cast<double>(in.ConsumeIntegralInRange<int>(-2, 5));
}

std::size_t length_near(FuzzedDataProvider& in, std::size_t n) {
    // Mostly the table's length; sometimes one off, which must be refused.
    switch (in.ConsumeIntegralInRange<int>(0, 15)) {
    case 0: return n + 1;
    case 1: return n == 0 ? 0 : n - 1;
    default: return n;
    }
}

struct strings {
    std::vector<std::string> owned;
    std::vector<std::string_view> views;
    // Arrow layout of the same strings (32-bit offsets, validity bitmap).
    std::vector<std::int32_t> offsets{0};
    std::string chars;
    std::vector<std::uint8_t> validity;

    void fill(FuzzedDataProvider& in, std::size_t n, bool nulls) {
        static const char* const pool[] = {
            "email", "search", "demo", "", " ", "a > b", "purchase", "ads", "\xc3\xa9t\xc3\xa9",
            "x,y"};
        owned.reserve(n);
        validity.assign(n / 8 + 1, 0);
        for (std::size_t i = 0; i < n; ++i) {
            if (in.ConsumeBool())
                owned.push_back(pool[in.ConsumeIntegralInRange<std::size_t>(0, 9)]);
            else owned.push_back(in.ConsumeRandomLengthString(8));
            const bool present = !nulls || in.ConsumeIntegralInRange<int>(0, 7) != 0;
            if (present) validity[i / 8] |= static_cast<std::uint8_t>(1u << (i % 8));
            chars += owned.back();
            offsets.push_back(static_cast<std::int32_t>(chars.size()));
        }
        for (const auto& s : owned) views.push_back(s);
    }
    jl::string_column_view view(bool arrow, std::size_t n) const {
        if (arrow)
            return {offsets.data(), chars.data(), std::min(n, owned.size()), validity.data()};
        return jl::column_view<std::string_view>(views.data(), std::min(n, views.size()));
    }
};

void check_report(const jl::event_report& r, std::size_t rows) {
    FUZZ_CHECK(r.rows_read == rows);
    FUZZ_CHECK(r.rows_read ==
               r.rows_used + r.rows_rejected() + r.outside_lookback + r.conversions_without_touch);
    FUZZ_CHECK(r.converting_journeys + r.non_converting_journeys == r.journeys);
    FUZZ_CHECK(std::isfinite(r.conversions) && std::isfinite(r.value));
    FUZZ_CHECK(std::isfinite(r.unattributed_conversions) && std::isfinite(r.unattributed_value));
    FUZZ_CHECK(r.conversions >= 0 && r.value >= 0);
    FUZZ_CHECK(r.duplicate <= r.duplicates_found);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzedDataProvider in(data, size);
    const std::size_t n = in.ConsumeIntegralInRange<std::size_t>(0, 40);
    // The rows of an accepted log: every column has the customers' length
    // (n, or n + 1 when the input runs out: FuzzedDataProvider then returns
    // the low end of each range).
    std::size_t rows = 0;
    const bool loop = in.ConsumeBool();

    jl::event_table t;
    jl::event_options o;
    o.threads = 1;

    // Customers: integer ids (with a mask) or names (views or Arrow).
    std::vector<std::int64_t> customer_ids;
    std::vector<std::uint8_t> customer_valid;
    strings customer_names;
    const int customer_kind = in.ConsumeIntegralInRange<int>(0, 3);
    if (customer_kind <= 1) {
        const auto len = length_near(in, n);
        for (std::size_t i = 0; i < len; ++i)
            customer_ids.push_back(in.ConsumeBool() ? in.ConsumeIntegralInRange<int>(0, 3)
                                                    : in.ConsumeIntegral<std::int64_t>());
        t.customer_ids = customer_ids;
        rows = customer_ids.size();
        if (customer_kind == 1) {
            for (std::size_t i = 0; i < length_near(in, n); ++i)
                customer_valid.push_back(in.ConsumeIntegralInRange<int>(0, 5) != 0);
            t.customer_valid = customer_valid;
        }
    } else {
        customer_names.fill(in, length_near(in, n), customer_kind == 3);
        t.customer_names = customer_names.view(customer_kind == 3, n + 1);
        rows = t.customer_names.size();
    }

    // Times: integers (with a mask) or doubles; sorted, reversed or shuffled.
    std::vector<std::int64_t> time;
    std::vector<double> time_real;
    std::vector<std::uint8_t> time_valid;
    const int time_kind = in.ConsumeIntegralInRange<int>(0, 3);
    const auto time_len = length_near(in, n);
    for (std::size_t i = 0; i < time_len; ++i) {
        if (time_kind <= 1) {
            time.push_back(in.ConsumeBool() ? in.ConsumeIntegralInRange<std::int64_t>(-3, 10)
                                            : in.ConsumeIntegral<std::int64_t>());
        } else {
            time_real.push_back(in.ConsumeBool() ? special_or_small(in)
                                                 : in.ConsumeFloatingPoint<double>());
        }
    }
    if (time_kind <= 1) {
        t.time = time;
        if (time_kind == 1) {
            for (std::size_t i = 0; i < length_near(in, n); ++i)
                time_valid.push_back(in.ConsumeIntegralInRange<int>(0, 5) != 0);
            t.time_valid = time_valid;
        }
    } else if (time_kind == 2) {
        t.time_real = time_real;
    }
    // time_kind 3: no time column, which must be refused.

    // Channels: names (views or Arrow with nulls) or dictionary codes.
    strings channel, dictionary;
    std::vector<std::int32_t> codes;
    const int channel_kind = in.ConsumeIntegralInRange<int>(0, 2);
    if (channel_kind <= 1) {
        channel.fill(in, length_near(in, n), channel_kind == 1);
        t.channel = channel.view(channel_kind == 1, n + 1);
    } else {
        dictionary.fill(in, in.ConsumeIntegralInRange<std::size_t>(0, 5), false);
        t.channel_dictionary = dictionary.view(false, dictionary.owned.size());
        for (std::size_t i = 0; i < length_near(in, n); ++i)
            codes.push_back(in.ConsumeIntegralInRange<std::int32_t>(-2, 6));
        t.channel_codes = codes;
    }

    // Conversions and values: absent, flags, counts or doubles.
    std::vector<double> conversion, value;
    std::vector<std::uint8_t> flags;
    const int conversion_kind = in.ConsumeIntegralInRange<int>(0, 2);
    const auto conversion_len = length_near(in, n);
    for (std::size_t i = 0; i < conversion_len; ++i) {
        if (conversion_kind == 1) flags.push_back(in.ConsumeIntegralInRange<std::uint8_t>(0, 2));
        if (conversion_kind == 2) conversion.push_back(special_or_small(in));
    }
    if (conversion_kind == 1) t.conversion = flags;
    if (conversion_kind == 2) t.conversion = conversion;
    if (in.ConsumeBool()) {
        for (std::size_t i = 0; i < length_near(in, n); ++i) value.push_back(special_or_small(in));
        t.value = value;
    }

    if (in.ConsumeIntegralInRange<int>(0, 3) == 0) o.lookback = special_or_small(in);
    if (in.ConsumeIntegralInRange<int>(0, 3) == 0) o.inactivity = special_or_small(in);
    o.conversion_is_touch = in.ConsumeBool();
    o.duplicates = in.ConsumeBool() ? jl::duplicate_policy::drop : jl::duplicate_policy::keep;
    o.strict = in.ConsumeIntegralInRange<int>(0, 3) == 0;
    if (in.ConsumeBool()) o.time_unit_seconds = 1e-9;
    if (in.ConsumeIntegralInRange<int>(0, 7) == 0) o.purchase = in.ConsumeRandomLengthString(6);

    if (loop) {
        try {
            const auto built = jl::build_loop_histories(t, o);
            check_report(built.report, rows);
            const auto& h = built.histories;
            FUZZ_CHECK(h.size() == built.report.journeys);
            FUZZ_CHECK(fuzz::close(h.total_purchases(), built.report.conversions));
            FUZZ_CHECK(fuzz::close(h.total_value(), built.report.value));
            // Every touch and purchase has a time before the history's last
            // event: non-negative (infinite only for real times further apart
            // than a double holds, as in funnel form), not increasing along
            // the row, 0 at its end.
            FUZZ_CHECK(h.has_times());
            for (std::size_t i = 0; i < h.size(); ++i) {
                const auto tbe = h.times_before_end(i);
                FUZZ_CHECK(tbe.size() == h.path(i).size() && tbe.size() >= 1);
                for (std::size_t j = 0; j < tbe.size(); ++j) {
                    FUZZ_CHECK(tbe[j] >= 0);
                    if (j > 0) FUZZ_CHECK(tbe[j] <= tbe[j - 1]);
                }
                FUZZ_CHECK(tbe[tbe.size() - 1] == 0);
            }
            if (h.channels().size() <= 12) {
                jl::counting_options co;
                co.threads = 1;
                const auto m = jl::fit_loop(jl::count_loop_transitions(h, co));
                const auto s = jl::summarize(m);
                FUZZ_CHECK(std::isfinite(s.expected_purchases) && std::isfinite(s.expected_value));
                const auto held = jl::fit_holding_times(h, m);
                const double a = jl::expected_time_to_first_purchase(m, held);
                const double b = jl::expected_time_to_next_purchase(m, held);
                FUZZ_CHECK(a >= 0 && !std::isnan(a) && b >= 0 && !std::isnan(b));
            }
        } catch (const jl::error&) {
        }
        return 0;
    }
    try {
        const auto built = jl::build_journeys(t, o);
        check_report(built.report, rows);
        const auto& js = built.journeys;
        FUZZ_CHECK(js.size() == built.report.journeys);
        FUZZ_CHECK(fuzz::close(js.total_conversions(), built.report.conversions));
        FUZZ_CHECK(fuzz::close(js.total_value(), built.report.value));
        std::size_t converting = 0;
        for (std::size_t i = 0; i < js.size(); ++i) {
            FUZZ_CHECK(js.path(i).size() >= 1);
            converting += js.conversions(i) > 0;
        }
        FUZZ_CHECK(converting == built.report.converting_journeys);
        fuzz::check_attribution(js);
    } catch (const jl::error&) {
    }
    return 0;
}
