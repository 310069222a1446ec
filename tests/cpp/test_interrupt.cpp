#include "fixtures.hpp"

#include <journeyloop/interrupt.hpp>
#include <journeyloop/loop_histories.hpp>
#include <journeyloop/loop_model.hpp>
#include <journeyloop/simulate.hpp>
#include <journeyloop/uncertainty.hpp>

#include <algorithm>
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

TEST_CASE("progress: counting reports the rows and a fit the transient states, in order",
          "[progress]") {
    const auto journeys = some_journeys();
    for (std::size_t order : {1, 2, 3}) {
        std::vector<std::pair<std::size_t, std::size_t>> rows, states;
        const auto counts = count_transitions(
            journeys, {order}, [&](std::size_t d, std::size_t t) { rows.emplace_back(d, t); });
        REQUIRE(counts == count_transitions(journeys, {order}));
        REQUIRE_FALSE(rows.empty());
        REQUIRE(rows.back() == std::make_pair(journeys.size(), journeys.size()));
        const auto model = fit_markov(
            counts, {}, [&](std::size_t d, std::size_t t) { states.emplace_back(d, t); });
        REQUIRE(model.conversion_rate() == fit_markov(counts).conversion_rate());
        const std::size_t transient = counts.num_states() - 2;
        REQUIRE(states.back() == std::make_pair(transient, transient));
        for (std::size_t i = 1; i < states.size(); ++i)
            REQUIRE(states[i].first > states[i - 1].first);
    }
}

TEST_CASE("progress: counting on two threads reports every row once", "[progress][thread]") {
    // Enough rows for two counting threads, with several reports each.
    std::vector<std::string> paths;
    std::vector<double> conv, nulls, value;
    const char* names[] = {"a", "b", "c", "d"};
    for (std::size_t i = 0; i < 120000; ++i) {
        paths.push_back(std::string(names[i % 4]) + " > " + names[(i / 4) % 4] + " > " +
                        names[(i / 16) % 4]);
        conv.push_back(static_cast<double>(i % 2));
        nulls.push_back(1);
        value.push_back(0);
    }
    std::vector<std::string_view> views(paths.begin(), paths.end());
    const auto journeys = build_journeys({views, conv, nulls, value});
    counting_options o;
    o.order = 2;
    o.threads = 2;
    std::size_t calls = 0, last = 0;
    const auto counts = count_transitions(journeys, o, [&](std::size_t d, std::size_t t) {
        ++calls;
        REQUIRE(t == 120000);
        REQUIRE(d > last);
        last = d;
    });
    REQUIRE(last == 120000);
    REQUIRE(calls >= 10);
    o.threads = 1;
    REQUIRE(counts == count_transitions(journeys, o));
}

TEST_CASE("progress: a loop fit reports its histories, then the states of both views",
          "[progress]") {
    std::vector<std::string_view> p{"a > b > purchase > c", "b > purchase > a > purchase", "c"};
    std::vector<double> customers{3, 2, 4};
    const auto histories = build_loop_histories({p, customers, {}, {}});
    std::vector<std::pair<std::size_t, std::size_t>> rows, states;
    const auto counts = count_loop_transitions(
        histories, {}, [&](std::size_t d, std::size_t t) { rows.emplace_back(d, t); });
    REQUIRE(rows == std::vector<std::pair<std::size_t, std::size_t>>{{3, 3}});
    const auto model =
        fit_loop(counts, {}, [&](std::size_t d, std::size_t t) { states.emplace_back(d, t); });
    const std::size_t first = counts.first.num_states() - 2,
                      both = first + counts.repeat->num_states() - 2;
    REQUIRE(states.back() == std::make_pair(both, both));
    REQUIRE(std::find(states.begin(), states.end(), std::make_pair(first, both)) != states.end());
    REQUIRE(summarize(model).expected_purchases == summarize(fit_loop(counts)).expected_purchases);
}
