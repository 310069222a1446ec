#include "fixtures.hpp"

#include <journeyloop/loop_histories.hpp>
#include <journeyloop/loop_model.hpp>
#include <journeyloop/teams.hpp>

using namespace journeyloop;
using Catch::Contains;

namespace {

std::vector<std::string> names_of(const loop_histories& h, std::size_t row) {
    std::vector<std::string> out;
    for (auto c : h.path(row)) out.push_back(h.channels().name(c));
    return out;
}

std::vector<double> values_of(const loop_histories& h, std::size_t row) {
    const auto v = h.purchase_values(row);
    return {v.begin(), v.end()};
}

} // namespace

TEST_CASE("loop histories: from a path table, each accessor says what it holds", "[loop]") {
    std::vector<std::string_view> paths{"a > purchase > b > purchase", "a > b", "b > purchase"};
    std::vector<double> customers{1, 1, 2}, value{30, 0, 60};
    const auto h = build_loop_histories({paths, customers, {}, value}, {});
    REQUIRE(h.size() == 3);
    // The marker is interned first.
    REQUIRE(h.channels().names() == std::vector<std::string>{"purchase", "a", "b"});
    REQUIRE(h.purchase_channel() == 0);
    REQUIRE(names_of(h, 0) == std::vector<std::string>{"a", "purchase", "b", "purchase"});
    REQUIRE(h.customers(0) == 1);
    REQUIRE(h.purchases(0) == 2);
    REQUIRE(h.value(0) == 30);
    // A row's value is split evenly between its purchases, per customer.
    REQUIRE(values_of(h, 0) == std::vector<double>{15, 15});
    REQUIRE(values_of(h, 1).empty());
    REQUIRE(h.purchases(2) == 2); // one purchase each for two customers
    REQUIRE(values_of(h, 2) == std::vector<double>{30});
    REQUIRE(h.total_customers() == 4);
    REQUIRE(h.total_purchases() == 4);
    REQUIRE(h.total_value() == 90);
    REQUIRE(h.total_touches() == 8);
    REQUIRE_FALSE(h.has_customers());
    // Every purchase value, weighted by its row's customers, sums to the total.
    double sum = 0;
    for (std::size_t i = 0; i < h.size(); ++i)
        for (double v : h.purchase_values(i)) sum += v * h.customers(i);
    REQUIRE(sum == h.total_value());
}

TEST_CASE("loop histories: teams, stages and relabelling skip the marker", "[loop][teams]") {
    std::vector<std::string_view> paths{"a > purchase > b > purchase", "a > b", "b > purchase"};
    std::vector<double> customers{1, 1, 2}, value{30, 0, 60};
    const auto h = build_loop_histories({paths, customers, {}, value}, {});
    // Channels: purchase, a, b.
    const auto f = analyze_teams(h, {"", "marketing", "sales"});
    REQUIRE(f.teams == std::vector<std::string>{"marketing", "sales"});
    // a > b handoffs (marketing -> sales), across the purchase in row 0 too:
    // 1 (row 0) + 1 (row 1).
    REQUIRE(f.handoffs == std::vector<double>{0, 2, 0, 0});
    REQUIRE(f.touches == std::vector<double>{2, 4});
    REQUIRE(f.opener_closer == std::vector<double>{0, 0, 0, 0});
    REQUIRE(f.time.empty());
    REQUIRE(f.handoff_share == std::vector<double>{0, 1, 0, 0});
    REQUIRE(f.touch_share[0] == Approx(1.0 / 3).epsilon(1e-15));
    REQUIRE(f.touch_share[1] == Approx(2.0 / 3).epsilon(1e-15));
    REQUIRE(f.time_share.empty());

    const auto moves = stage_moves(h, {"", "evaluation", "experience"});
    double to_purchase = 0, to_end = 0;
    for (const auto& m : moves) {
        if (m.to == "purchase") to_purchase += m.count;
        if (m.to == "end") to_end += m.count;
    }
    REQUIRE(to_purchase == 4); // every purchase
    REQUIRE(to_end == 1);      // row 1 ends on a touch, rows 0 and 2 on a purchase
    // One channel makes each kind of move here: every share is 1.
    for (const auto& m : moves) REQUIRE(m.share == 1);

    const auto r = relabel_channels(h, {"", "x", "x"});
    REQUIRE(r.channels().names() == std::vector<std::string>{"purchase", "x"});
    REQUIRE(names_of(r, 0) == std::vector<std::string>{"x", "purchase", "x", "purchase"});
    REQUIRE(values_of(r, 0) == std::vector<double>{15, 15});
    REQUIRE(r.total_value() == 90);
    REQUIRE_THROWS_WITH(relabel_channels(h, {"", "purchase", "b"}), Contains("purchase marker"));
}

TEST_CASE("loop histories: a default-constructed set is empty and names its marker", "[loop]") {
    const loop_histories h;
    REQUIRE(h.empty());
    REQUIRE(h.total_customers() == 0);
    REQUIRE(h.channels().names() == std::vector<std::string>{"purchase"});
    REQUIRE(h.channels().name(h.purchase_channel()) == "purchase");
    const auto counts = count_loop_transitions(h);
    REQUIRE(counts.customers == 0);
    REQUIRE(counts.first.channels().size() == 0);
    REQUIRE_FALSE(counts.repeat);
}

TEST_CASE("loop counts: counts of parts merge into the counts of the whole", "[loop][merge]") {
    // The parts name their channels in different orders, and the first part
    // has no purchase (no repeat view).
    const std::vector<std::string_view> p1{"b > a", "c > b"},
        p2{"a > purchase > b > purchase", "a > b", "b > purchase > c"};
    const std::vector<double> c1{2, 1}, c2{1, 1, 2}, v2{30, 0, 60};
    std::vector<std::string_view> all(p1);
    all.insert(all.end(), p2.begin(), p2.end());
    std::vector<double> call(c1), vall{0, 0};
    call.insert(call.end(), c2.begin(), c2.end());
    vall.insert(vall.end(), v2.begin(), v2.end());
    const auto h1 = build_loop_histories({p1, c1, {}, {}}, {});
    const auto h2 = build_loop_histories({p2, c2, {}, v2}, {});
    const auto whole = build_loop_histories({all, call, {}, vall}, {});
    for (std::size_t order : {1, 2}) {
        counting_options options;
        options.order = order;
        const auto a = count_loop_transitions(h1, options);
        const auto b = count_loop_transitions(h2, options);
        const auto want = count_loop_transitions(whole, options);
        REQUIRE_FALSE(a.repeat);
        for (const auto& merged : {merge(a, b), merge(b, a)}) {
            REQUIRE(merged.first == want.first);
            REQUIRE(merged.repeat);
            REQUIRE(*merged.repeat == *want.repeat);
            REQUIRE(merged.first.pooled());
            REQUIRE(merged.repeat->pooled());
            REQUIRE(merged.customers == 7);
            REQUIRE(merged.purchases == want.purchases);
            REQUIRE(merged.value == 90);
            REQUIRE(merged.buyers == want.buyers);
            REQUIRE(merged.repeat_purchases == want.repeat_purchases);
            // The merged counts fit the same chain.
            const auto m = fit_loop(merged);
            const auto w = fit_loop(want);
            REQUIRE(m.purchases() == w.purchases());
            const auto pm = m.purchase_probabilities();
            const auto pw = w.purchase_probabilities();
            REQUIRE(pm.size() == pw.size());
            for (state_id s = 0; s < m.num_states(); ++s) {
                // Same state by label (the numbering may differ).
                state_id t = 0;
                while (w.state_label(t) != m.state_label(s)) ++t;
                REQUIRE(pm[s] == Approx(pw[t]).margin(1e-12));
            }
        }
        // Neither part purchased: no repeat view.
        const auto none = merge(a, a);
        REQUIRE_FALSE(none.repeat);
        REQUIRE(none.customers == 6);
    }
    counting_options two;
    two.order = 2;
    REQUIRE_THROWS_WITH(merge(count_loop_transitions(h1, {}), count_loop_transitions(h2, two)),
                        Contains("different order"));
}
