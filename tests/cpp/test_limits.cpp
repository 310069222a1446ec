#include "fixtures.hpp"

using namespace journeyloop;
using Catch::Contains;

namespace {

// Restores the memory limit and the threads setting of the test's scope.
struct limits_scope {
    std::size_t memory = get_memory_limit();
    std::size_t threads = get_threads();
    ~limits_scope() {
        set_memory_limit(memory);
        set_threads(threads);
    }
};

template <class F>
memory_limit_exceeded refused(F&& f) {
    try {
        f();
    } catch (const memory_limit_exceeded& e) {
        return e;
    }
    FAIL("not refused");
    throw;
}

// Order-2 journeys over 20 channels: a chain past the dense routes, whose
// channel removals go through the batched solver.
journey_set many_channels() {
    fixtures::lcg next(7);
    std::vector<std::string> text;
    std::vector<double> conv, nulls;
    for (int r = 0; r < 3000; ++r) {
        std::string path;
        const unsigned len = 2 + next() % 5;
        for (unsigned i = 0; i < len; ++i) {
            if (i) path += " > ";
            path += "c" + std::to_string(next() % 20);
        }
        text.push_back(path);
        conv.push_back(next() % 3 == 0 ? 1 : 0);
        nulls.push_back(1 - conv.back());
    }
    std::vector<std::string_view> paths(text.begin(), text.end());
    path_options o;
    return build_journeys({paths, conv, nulls, {}}, o);
}

} // namespace

TEST_CASE("limits: the default cap is the machine's memory; a set cap is kept", "[limits]") {
    limits_scope scope;
    set_memory_limit(0);
    REQUIRE(get_memory_limit() == 0);
    REQUIRE(effective_memory_limit() > (std::size_t{64} << 20));
    set_memory_limit(12345);
    REQUIRE(get_memory_limit() == 12345);
    REQUIRE(effective_memory_limit() == 12345);
}

TEST_CASE("limits: counting is refused above the cap, with its estimate", "[limits]") {
    limits_scope scope;
    const auto js = fixtures::abc_example();
    // Order 1: min(5 touches, 3 channels) + 3 = 6 states, 28 bytes each.
    REQUIRE(detail::counting_memory(6, 1) == 168);
    set_memory_limit(167);
    const auto e = refused([&] { count_transitions(js, counting_options{}); });
    REQUIRE(e.estimate() == 168);
    REQUIRE(e.cap() == 167);
    REQUIRE_THAT(e.what(), Contains("counting transitions needs at least 168 bytes, above the "
                                    "memory limit of 167 bytes"));
    REQUIRE(dynamic_cast<const error*>(&e) != nullptr);
    set_memory_limit(168);
    REQUIRE(count_transitions(js, counting_options{}).num_states() == 6);
    // Order 2: min(1 + 1 + 1 windows, 3 + 9 tuples) + 3 = 6 states, 32 bytes each.
    counting_options two;
    two.order = 2;
    set_memory_limit(6 * 32 - 1);
    REQUIRE(refused([&] { count_transitions(js, two); }).estimate() == 192);
}

TEST_CASE("limits: loop counting is refused above the cap", "[limits]") {
    limits_scope scope;
    const std::vector<std::string_view> paths{"a > purchase > b > purchase", "a > b"};
    const std::vector<double> customers{1, 1};
    const auto h = build_loop_histories({paths, customers, {}, {}}, path_options{}, "purchase");
    // 4 touches (and 2 purchase markers), 2 channels: min(6, 2) + 3 = 5 states
    // of 28 bytes.
    set_memory_limit(139);
    const auto e = refused([&] { count_loop_transitions(h, counting_options{}); });
    REQUIRE(e.estimate() == 140);
    REQUIRE_THAT(e.what(), Contains("counting loop transitions needs at least 140 bytes"));
    set_memory_limit(140);
    REQUIRE(count_loop_transitions(h, counting_options{}).first.num_states() > 0);
}

TEST_CASE("limits: a fit and the removal effects are refused above the cap", "[limits]") {
    limits_scope scope;
    set_threads(1);
    counting_options two;
    two.order = 2;
    auto counts = count_transitions(many_channels(), two);
    const auto n = counts.num_states();
    const auto m = counts.num_transitions();
    REQUIRE(n - 2 > 256); // past the dense routes
    const auto fit_bytes = 28 * m + 40 * n;
    REQUIRE(detail::fit_memory(n, m) == fit_bytes);
    set_memory_limit(fit_bytes - 1);
    const auto e = refused([&] { fit_markov(counts, markov_options{}); });
    REQUIRE(e.estimate() == fit_bytes);
    REQUIRE_THAT(e.what(), Contains("fitting the chain needs at least"));
    set_memory_limit(0);
    const auto model = fit_markov(std::move(counts), markov_options{});
    // One thread holds both halves of a batch: 16 numbers a transient state.
    const auto removal_bytes = (n - 2) * 128;
    REQUIRE(detail::removal_memory(n - 2, 1) == removal_bytes);
    REQUIRE(detail::removal_memory(n - 2, 3) == (n - 2) * 192);
    set_memory_limit(removal_bytes - 1);
    const auto r = refused([&] { removal_effects(model); });
    REQUIRE(r.estimate() == removal_bytes);
    REQUIRE_THAT(r.what(), Contains("removal effects needs at least"));
    set_memory_limit(removal_bytes);
    REQUIRE(removal_effects(model).size() == 20);
}

TEST_CASE("limits: estimates saturate instead of wrapping", "[limits]") {
    REQUIRE(detail::counting_memory(SIZE_MAX / 2, 10) == SIZE_MAX);
    REQUIRE(detail::fit_memory(SIZE_MAX / 8, SIZE_MAX / 8) == SIZE_MAX);
    REQUIRE(detail::removal_memory(SIZE_MAX / 64, 2) == SIZE_MAX);
}
