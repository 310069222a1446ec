// Small hand-worked fixtures shared by the C++ tests (the Python tests use the
// same ones in tests/python/fixtures.py).
#ifndef JOURNEYLOOP_TESTS_FIXTURES_HPP
#define JOURNEYLOOP_TESTS_FIXTURES_HPP

#include <journeyloop/journeyloop.hpp>

// Internal: detail::set_touch_limit and journey_set::builder (src/ is on the
// tests' include path).
#include <journeyloop/impl/journey_set_builder.hpp>
// Internal: the solver's graph of a component (detail::local_edges).
#include <journeyloop/impl/chain/rows.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace fixtures {

// A small deterministic generator of test data (a 64-bit LCG, its high bits).
class lcg {
public:
    explicit lcg(std::uint64_t seed) : state_(seed) {}
    // The next value, below 2^31.
    unsigned operator()() {
        state_ = state_ * 6364136223846793005ull + 1442695040888963407ull;
        return static_cast<unsigned>(state_ >> 33);
    }

private:
    std::uint64_t state_;
};

// ChannelAttribution's toy problem (vignette 1.1): three converting paths.
// Lowers the touch bound of journey sets for a scope (the builders' checks,
// without holding max_touches touches in memory).
struct touch_limit_guard {
    explicit touch_limit_guard(std::size_t limit) { journeyloop::detail::set_touch_limit(limit); }
    ~touch_limit_guard() { journeyloop::detail::set_touch_limit(0); }
    touch_limit_guard(const touch_limit_guard&) = delete;
    touch_limit_guard& operator=(const touch_limit_guard&) = delete;
};

inline journeyloop::journey_set ab_example() {
    std::vector<std::string_view> paths{"A > B > A > B > B > A", "A > B > B > A > A", "A > A"};
    std::vector<double> conv{1, 1, 1};
    return journeyloop::build_journeys({paths, conv, {}, {}});
}

// A small funnel with nulls and value, worked by hand in the tests:
//   "a > b"  1 conversion (value 10), 1 null
//   "b"      0 conversions,           2 nulls
//   "a > c"  2 conversions (value 30), 0 nulls
inline journeyloop::journey_set abc_example() {
    std::vector<std::string_view> paths{"a > b", "b", "a > c"};
    std::vector<double> conv{1, 0, 2}, nulls{1, 2, 0}, value{10, 0, 30};
    return journeyloop::build_journeys({paths, conv, nulls, value});
}

// An event log held by its columns (integer customers, real times, channel
// names, "" for a conversion row without a channel), for logs written by hand.
struct event_log {
    std::vector<std::int64_t> customer;
    std::vector<double> time;
    std::vector<std::string_view> channel;
    std::vector<double> conversion;
    // A view of the columns: the log must outlive it.
    journeyloop::event_table table() const {
        journeyloop::event_table t;
        t.customer_ids = customer;
        t.time_real = time;
        t.channel = channel;
        t.conversion = conversion;
        return t;
    }
};

// A loop log worked by hand in the tests (and in tests/python/test_simulate.py):
// customer 1 goes a@0 b@2 purchase@5 a@6 purchase@10, customer 2 touches b@0.
inline event_log two_purchases_log() {
    return {
        {1, 1, 1, 1, 1, 2}, {0, 2, 5, 6, 10, 0}, {"a", "b", "", "a", "", "b"}, {0, 0, 1, 0, 1, 0}};
}

// The reference data beside the repository, or an empty string when it is
// absent. With JOURNEYLOOP_REQUIRE_DATA=1 (set by .ci/run) absence fails.
inline std::string shared_data(const std::string& relative) {
    const std::filesystem::path p = std::filesystem::path(JOURNEYLOOP_SHARED_DATA) / relative;
    if (std::filesystem::exists(p)) return p.string();
    const char* require = std::getenv("JOURNEYLOOP_REQUIRE_DATA");
    if (require != nullptr && std::string(require) == "1")
        FAIL("reference data " << p << " is missing and JOURNEYLOOP_REQUIRE_DATA=1");
    WARN("skipped: reference data " << p << " not found (clone ../shared beside the repository)");
    return {};
}

// A graph of n states as the greedy order reads it, from edges (from, to,
// probability) where `from` reads `to`: each state's edges in the list's
// order, both ways.
inline journeyloop::detail::local_edges edges_of(
    std::size_t n, const std::vector<std::tuple<std::uint32_t, std::uint32_t, double>>& list) {
    journeyloop::detail::local_edges g;
    for (auto* c : {&g.out, &g.in}) c->ptr.assign(n + 1, 0);
    for (const auto& [from, to, w] : list) {
        ++g.out.ptr[from + 1];
        ++g.in.ptr[to + 1];
    }
    for (std::size_t i = 0; i < n; ++i) {
        g.out.ptr[i + 1] += g.out.ptr[i];
        g.in.ptr[i + 1] += g.in.ptr[i];
    }
    for (auto* c : {&g.out, &g.in}) {
        c->idx.resize(list.size());
        c->val.resize(list.size());
    }
    std::vector<std::size_t> fo(g.out.ptr.begin(), g.out.ptr.end() - 1),
        fi(g.in.ptr.begin(), g.in.ptr.end() - 1);
    for (const auto& [from, to, w] : list) {
        g.out.idx[fo[from]] = to;
        g.out.val[fo[from]++] = w;
        g.in.idx[fi[to]] = from;
        g.in.val[fi[to]++] = w;
    }
    return g;
}

} // namespace fixtures

#endif
