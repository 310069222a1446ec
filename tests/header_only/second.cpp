// A second translation unit that includes the whole library in header-only
// mode: linking it with main.cpp fails if any definition is not inline.
#include <journeyloop/journeyloop.hpp>

#include <string_view>
#include <vector>

double second_unit_conversion_rate() {
    namespace jl = journeyloop;
    std::vector<std::string_view> paths{"a > b", "b", "a"};
    std::vector<double> conversions{1, 0, 1}, nulls{0, 1, 1};
    auto journeys = jl::build_journeys({paths, conversions, nulls, {}});
    return jl::fit_markov(jl::count_transitions(journeys)).conversion_rate();
}

// The library-wide settings are one object across translation units.
std::size_t second_unit_threads() { return journeyloop::get_threads(); }
