// Header-only mode: two translation units include the whole library
// (JOURNEYLOOP_HEADER_ONLY), link into one program and agree.
#include <journeyloop/journeyloop.hpp>

#include <cmath>
#include <cstdio>
#include <string_view>
#include <vector>

double second_unit_conversion_rate();
std::size_t second_unit_threads();

namespace {
int failures = 0;
void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "FAILED: %s\n", what);
        ++failures;
    }
}
} // namespace

int main() {
    namespace jl = journeyloop;
    std::vector<std::string_view> paths{"email > webinar > demo", "email", "webinar > demo"};
    std::vector<double> conversions{2, 0, 1}, nulls{1, 3, 1}, value{90000, 0, 40000};
    const auto model = jl::fit_markov(jl::count_transitions(jl::build_journeys({paths, conversions, nulls, value})));
    const auto a = jl::markov_attribution(model);
    check(std::abs(model.conversion_rate() - 3.0 / 8.0) < 1e-12, "conversion rate 3/8");
    check(std::abs(a.total_conversions() - 3.0) < 1e-9, "attribution sums to the conversions");
    check(std::abs(second_unit_conversion_rate() - 0.5) < 1e-12, "second unit: rate 1/2");
    jl::set_threads(3);
    check(second_unit_threads() == 3, "one thread setting across units");
    jl::set_threads(0);
    if (failures == 0) std::printf("header-only: 4 checks passed\n");
    return failures == 0 ? 0 : 1;
}
