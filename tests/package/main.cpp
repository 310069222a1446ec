// Built against the journeyloop package (installed, or the build tree): the A/B
// example of ChannelAttribution.
#include <journeyloop/journeyloop.hpp>

#include <cmath>
#include <cstdio>
#include <string_view>
#include <vector>

int main() {
    namespace jl = journeyloop;
    std::vector<std::string_view> paths{"A > B > A > B > B > A", "A > B > B > A > A", "A > A"};
    std::vector<double> conv{1, 1, 1};
    const auto model =
        jl::fit_markov(jl::count_transitions(jl::build_journeys({paths, conv, {}, {}})));
    const auto a = jl::markov_attribution(model);
    std::printf("journeyloop %d: A %.6f, B %.6f\n", JOURNEYLOOP_VERSION, a.conversions()[0],
                a.conversions()[1]);
    const bool ok =
        std::abs(a.conversions()[0] - 2.0) < 1e-12 && std::abs(a.conversions()[1] - 1.0) < 1e-12;
    if (!ok) std::printf("FAILED: expected A 2, B 1\n");
    return ok ? 0 : 1;
}
