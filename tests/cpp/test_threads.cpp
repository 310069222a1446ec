#include "fixtures.hpp"

#include <journeyloop/threads.hpp>

#include <journeyloop/impl/chain_solver.hpp>
#include <journeyloop/impl/model_access.hpp>

#include <algorithm>
#include <set>
#include <thread>

using namespace journeyloop;

namespace {
// Restores the defaults whatever the test does.
struct threads_reset {
    ~threads_reset() { set_threads(0); }
};

journey_set random_paths(std::uint64_t seed, int rows, int channels) {
    std::vector<std::string> paths;
    std::vector<double> conv, nulls, value;
    fixtures::lcg next(seed);
    for (int i = 0; i < rows; ++i) {
        std::string p;
        const unsigned len = 1 + next() % 6;
        for (unsigned j = 0; j < len; ++j)
            p += (j ? " > c" : "c") + std::to_string(next() % unsigned(channels));
        paths.push_back(p);
        conv.push_back(next() % 8 == 0 ? 1.0 : 0.0);
        nulls.push_back(conv.back() > 0 ? 0.0 : 1.0);
        value.push_back(conv.back() > 0 ? 5.0 + next() % 20 : 0.0);
    }
    const std::vector<std::string_view> views(paths.begin(), paths.end());
    return build_journeys({views, conv, nulls, value}, {});
}
} // namespace

TEST_CASE("set_threads: the counting threads follow it, explicit threads win", "[threads]") {
    const threads_reset reset;
    REQUIRE(get_threads() == 0);
    // 210,000 rows over 30 channels: the order-2 bound is 30 + 900 + 3 states,
    // below two_thread_state_limit; at most a thread per 50,000 rows.
    const auto js = random_paths(7, 210000, 30);
    counting_options o;
    o.order = 2;
    const std::size_t automatic =
        std::min<std::size_t>(2, std::max(1u, std::thread::hardware_concurrency()));
    REQUIRE(counting_threads(js, o) == automatic);
    set_threads(1);
    REQUIRE(get_threads() == 1);
    REQUIRE(counting_threads(js, o) == 1);
    set_threads(8);
    REQUIRE(counting_threads(js, o) == 4); // 210,000 rows: four parts
    o.threads = 2;                         // asked for by the call
    REQUIRE(counting_threads(js, o) == 2);
    o.threads = 0;
    const auto three = count_transitions(js, o);
    set_threads(0);
    REQUIRE(count_transitions(js, o) == three);
}

TEST_CASE("set_threads: removal effects are the same on any number of threads", "[threads]") {
    const threads_reset reset;
    // 60 channels at order 2: eight batches of eight removals (the last of
    // four), over a component large enough to extrapolate (over 1,000 states).
    const auto js = random_paths(99, 40000, 60);
    counting_options co;
    co.order = 2;
    const auto model = fit_markov(count_transitions(js, co));
    const auto& chain = detail::chain_of(model);
    std::size_t largest = 0;
    for (std::size_t k = 0; k < chain.components(); ++k)
        largest = std::max(largest, chain.component_end[k] - chain.component_begin(k));
    REQUIRE(largest > 1000);
    // By default, removals this small (under 4,000 states times eight
    // batches, below 2^18) take one thread, which solves both halves of a
    // batch (conversions and value) together: every batch is reported on the
    // calling thread. Two or more threads solve the halves apart, to the same
    // numbers.
    std::set<std::thread::id> reporters;
    auto record = [&reporters](std::size_t, std::size_t) {
        reporters.insert(std::this_thread::get_id());
    };
    const auto automatic = removal_effects(model, record);
    REQUIRE(reporters == std::set<std::thread::id>{std::this_thread::get_id()});
    set_threads(2);
    const auto base = removal_effects(model);
    REQUIRE(base.size() == 60);
    // One thread: every batch is solved, and reported, on the calling thread.
    set_threads(1);
    reporters.clear();
    const auto one = removal_effects(model, record);
    REQUIRE(reporters == std::set<std::thread::id>{std::this_thread::get_id()});
    set_threads(3);
    const auto three = removal_effects(model);
    for (std::size_t c = 0; c < base.size(); ++c) {
        INFO("channel " << c);
        REQUIRE(base[c].conversions > 0);
        // Each batch is solved the same way whichever thread takes it.
        REQUIRE(automatic[c].conversions == base[c].conversions);
        REQUIRE(automatic[c].value == base[c].value);
        REQUIRE(one[c].conversions == base[c].conversions);
        REQUIRE(one[c].value == base[c].value);
        REQUIRE(three[c].conversions == base[c].conversions);
        REQUIRE(three[c].value == base[c].value);
    }
}
