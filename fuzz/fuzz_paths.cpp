// Path tables: build_journeys, append_journeys and build_loop_histories on
// rows split from the input, and read_path_csv on the input as a file.
//
// Input: one flag byte, then the table. Table mode: rows split on '\n',
// fields on '\t' (path, conversions, nulls, value; numbers read by strtod, or
// strtoll when the columns are integers). CSV mode: the rest is the file.
#include "common.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace jl = journeyloop;

namespace {

const int threads_set = fuzz::init_threads();

std::vector<std::string_view> split(std::string_view s, char c) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (;;) {
        const auto at = s.find(c, start);
        if (at == std::string_view::npos) {
            out.push_back(s.substr(start));
            return out;
        }
        out.push_back(s.substr(start, at - start));
        start = at + 1;
    }
}

// Finite numbers are capped at 1e300, so that the sums of a table's counts
// and values stay below the largest double: sums that overflow are not
// checked here (docs/fuzzing.md, "Not covered").
double number(std::string_view field) {
    const std::string text(field);
    const double x = std::strtod(text.c_str(), nullptr);
    return std::isfinite(x) && std::abs(x) > 1e300 ? std::copysign(1e300, x) : x;
}

std::int64_t integer(std::string_view field) {
    const std::string text(field);
    return std::strtoll(text.c_str(), nullptr, 10);
}

const char* const separators[] = {">", " > ", ",", "|"};

void run_csv(uint8_t flags, std::string_view rest) {
    static const std::string file = "/tmp/journeyloop_fuzz_paths_" + std::to_string(getpid());
    if (FILE* f = std::fopen(file.c_str(), "wb")) {
        std::fwrite(rest.data(), 1, rest.size(), f);
        std::fclose(f);
    } else {
        return;
    }
    jl::csv_options options;
    options.delimiter = (flags & 16) ? ';' : ',';
    options.columns.separator = separators[(flags >> 2) & 3];
    options.columns.threads = 1;
    if (!(flags & 32)) options.columns.nulls_column.clear();
    if (!(flags & 64)) options.columns.value_column.clear();
    try {
        const auto js = jl::read_path_csv(file, options);
        for (std::size_t i = 0; i < js.size(); ++i) FUZZ_CHECK(js.path(i).size() >= 1);
        fuzz::check_attribution(js);
    } catch (const jl::error&) {
    }
}

void run_table(uint8_t flags, std::string_view rest) {
    auto lines = split(rest, '\n');
    std::vector<std::string_view> paths;
    std::vector<double> conv, nulls, value;
    std::vector<std::int64_t> iconv, inulls, ivalue;
    const bool integers = flags & 128;
    for (const auto line : lines) {
        const auto fields = split(line, '\t');
        paths.push_back(fields[0]);
        const auto field = [&](std::size_t k) {
            return k < fields.size() ? fields[k] : std::string_view("0");
        };
        conv.push_back(number(field(1)));
        nulls.push_back(number(field(2)));
        value.push_back(number(field(3)));
        iconv.push_back(integer(field(1)));
        inulls.push_back(integer(field(2)));
        ivalue.push_back(integer(field(3)));
    }
    jl::path_table table;
    table.path = paths;
    if (integers) {
        table.conversions = iconv;
        if (flags & 32) table.nulls = inulls;
        if (flags & 64) table.value = ivalue;
    } else {
        table.conversions = conv;
        if (flags & 32) table.nulls = nulls;
        if (flags & 64) table.value = value;
    }
    jl::path_options options;
    options.separator = separators[(flags >> 2) & 3];
    options.threads = 1;
    if (flags & 2) {
        try {
            const auto h = jl::build_loop_histories(table, options, "purchase");
            // A row made only of purchases has no touch to credit them to: it
            // is left out, its purchases counted in unattributed_purchases().
            FUZZ_CHECK(h.size() <= paths.size());
            FUZZ_CHECK(std::isfinite(h.total_purchases()) && std::isfinite(h.total_value()));
            FUZZ_CHECK(h.unattributed_purchases() >= 0 && h.unattributed_value() >= 0);
            FUZZ_CHECK(std::isfinite(h.unattributed_purchases() + h.unattributed_value()));
            if (h.channels().size() <= 12 && h.total_touches() <= 4096) {
                jl::counting_options co;
                co.threads = 1;
                const auto counts = jl::count_loop_transitions(h, co);
                const auto model = jl::fit_loop(counts);
                const auto s = jl::summarize(model);
                FUZZ_CHECK(std::isfinite(s.expected_purchases) && std::isfinite(s.expected_value));
            }
        } catch (const jl::error&) {
        }
        return;
    }
    bool accepted = false;
    jl::journey_set whole;
    try {
        whole = jl::build_journeys(table, options);
        accepted = true;
    } catch (const jl::error&) {
    }
    // The same rows appended in two chunks: accepted alike, and the same
    // journeys.
    jl::journey_set chunks;
    bool chunks_accepted = false;
    try {
        const std::size_t half = paths.size() / 2;
        const auto part = [&](std::size_t from, std::size_t to) {
            jl::path_table t;
            t.path = jl::column_view<std::string_view>(paths.data() + from, to - from);
            const auto sub = [&](const auto& v, jl::numeric_column_view view) {
                if (view.size() == 0) return jl::numeric_column_view();
                return jl::numeric_column_view(v.data() + from, to - from);
            };
            if (integers) {
                t.conversions = sub(iconv, table.conversions);
                t.nulls = sub(inulls, table.nulls);
                t.value = sub(ivalue, table.value);
            } else {
                t.conversions = sub(conv, table.conversions);
                t.nulls = sub(nulls, table.nulls);
                t.value = sub(value, table.value);
            }
            return t;
        };
        jl::append_journeys(chunks, part(0, half), options, 0);
        jl::append_journeys(chunks, part(half, paths.size()), options, half);
        chunks_accepted = true;
    } catch (const jl::error&) {
    }
    FUZZ_CHECK(accepted == chunks_accepted);
    if (!accepted) return;
    FUZZ_CHECK(whole.size() == paths.size() && chunks.size() == whole.size());
    FUZZ_CHECK(whole.total_touches() == chunks.total_touches());
    FUZZ_CHECK(whole.channels().size() == chunks.channels().size());
    for (std::size_t i = 0; i < whole.size(); ++i) {
        FUZZ_CHECK(whole.path(i).size() >= 1);
        FUZZ_CHECK(whole.conversions(i) == chunks.conversions(i));
    }
    try {
        fuzz::check_attribution(whole);
    } catch (const jl::error&) {
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const uint8_t flags = data[0];
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (flags & 1) run_csv(flags, rest);
    else run_table(flags, rest);
    return 0;
}
