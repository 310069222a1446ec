#include "fixtures.hpp"

#include <journeyloop/interrupt.hpp>
#include <journeyloop/simulate.hpp>
#include <journeyloop/uncertainty.hpp>

#include <atomic>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace journeyloop;

namespace {

journey_set some_journeys() {
    std::vector<std::string_view> p{"a > b > c", "b > a > b", "a > b > a", "c", "c > a > b > c"};
    std::vector<double> conv{1, 0, 1, 1, 2}, nulls{1, 1, 0, 1, 1}, value{4, 0, 2, 1, 10};
    return build_journeys({p, conv, nulls, value});
}

// Clears the stop request however a test ends, so that the next runs.
struct cleared {
    cleared() { clear_stop(); }
    ~cleared() { clear_stop(); }
};

} // namespace

TEST_CASE("interrupt: interrupted is a journeyloop error with a message", "[interrupt]") {
    const interrupted e;
    REQUIRE(dynamic_cast<const error*>(&e) != nullptr);
    REQUIRE(dynamic_cast<const std::runtime_error*>(&e) != nullptr);
    REQUIRE(std::string(e.what()) == "interrupted: the work was stopped on request");
}

TEST_CASE("interrupt: a stop request stops counting, fits, removals, replicates and simulation "
          "until it is cleared",
          "[interrupt]") {
    const cleared guard;
    const auto journeys = some_journeys();
    const auto model = fit_markov(count_transitions(journeys, {2}));
    const auto rate = model.conversion_rate();
    replicate_options ro;
    ro.replicates = 20;
    const model_statistic stat = [](const markov_model& m) {
        return std::vector<double>{m.conversion_rate()};
    };

    REQUIRE_FALSE(stop_requested());
    request_stop();
    REQUIRE(stop_requested());
    REQUIRE_THROWS_AS(count_transitions(journeys, {2}), interrupted);
    REQUIRE_THROWS_AS(fit_markov(model.counts()), interrupted);
    REQUIRE_THROWS_AS(replicate_markov(journeys, {2}, {}, ro, stat), interrupted);
    REQUIRE_THROWS_AS(simulate(model, 1000), interrupted);
    // The model it was asked of is untouched.
    REQUIRE(model.conversion_rate() == rate);

    clear_stop();
    REQUIRE_FALSE(stop_requested());
    REQUIRE(fit_markov(count_transitions(journeys, {2})).conversion_rate() == rate);
    REQUIRE(replicate_markov(journeys, {2}, {}, ro, stat).replicates == 20);
    REQUIRE(simulate(model, 1000).journeys.size() > 0);
}

TEST_CASE("interrupt: a stop requested during the replicates ends them early", "[interrupt]") {
    const cleared guard;
    const auto journeys = some_journeys();
    replicate_options ro;
    ro.replicates = 200;
    ro.threads = 1;
    std::size_t calls = 0;
    const progress_callback stop_at_five = [&](std::size_t done, std::size_t total) {
        ++calls;
        REQUIRE(total == 200);
        if (done == 5) request_stop();
    };
    REQUIRE_THROWS_AS(
        replicate_markov(
            journeys, {1}, {}, ro,
            [](const markov_model& m) { return std::vector<double>{m.conversion_rate()}; },
            stop_at_five),
        interrupted);
    // One thread: the sixth replicate found the request before it began.
    REQUIRE(calls == 5);
}

TEST_CASE("interrupt: a stop requested from another thread ends long replicates on threads",
          "[interrupt][thread]") {
    const cleared guard;
    const auto journeys = some_journeys();
    replicate_options ro;
    ro.replicates = 1000000; // far more than the test waits for
    ro.threads = 2;
    std::atomic<std::size_t> done{0};
    std::thread stopper([&] {
        while (done.load() < 10) std::this_thread::yield();
        request_stop();
    });
    REQUIRE_THROWS_AS(
        replicate_markov(
            journeys, {1}, {}, ro,
            [](const markov_model& m) { return std::vector<double>{m.conversion_rate()}; },
            [&](std::size_t d, std::size_t) { done = d; }),
        interrupted);
    stopper.join();
    REQUIRE(done.load() >= 10);
    REQUIRE(done.load() < ro.replicates);
}
