// The C++ quickstart of the README: Markov attribution of three paths.
#include <journeyloop/journeyloop.hpp>

#include <cmath>
#include <cstdio>
#include <string_view>
#include <vector>

int main() {
    namespace jl = journeyloop;
    std::vector<std::string_view> paths{"email > webinar > demo", "email", "webinar > demo"};
    std::vector<double> conversions{2, 0, 1}, nulls{1, 3, 1}, value{90000, 0, 40000};
    const auto journeys = jl::build_journeys({paths, conversions, nulls, value});

    const auto model = jl::fit_markov(jl::count_transitions(journeys, {/*order=*/1}));
    std::printf("conversion rate %.4f\n", model.conversion_rate());
    const auto a = jl::markov_attribution(model);
    for (std::size_t i = 0; i < a.size(); ++i)
        std::printf("%-8s %.4f conversions  %10.2f value\n", a.names()[i].c_str(),
                    a.conversions()[i], a.value()[i]);

    // Checked in every build type (an assert would be compiled out in Release).
    int failures = 0;
    auto check = [&failures](bool ok, const char* what) {
        if (!ok) {
            std::fprintf(stderr, "FAILED: %s\n", what);
            ++failures;
        }
    };
    check(std::abs(model.conversion_rate() - 3.0 / 8.0) < 1e-12, "conversion rate 3/8");
    check(std::abs(a.total_conversions() - 3.0) < 1e-9, "attributed conversions sum to 3");
    check(std::abs(a.total_value() - 130000.0) < 1e-6, "attributed value sums to 130000");
    return failures == 0 ? 0 : 1;
}
