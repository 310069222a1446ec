// The messages of docs/errors.md that the C++ core gives (the Python rows of
// tests/python/test_errors_catalogue.py run the same checks through the
// bindings): the exact text, so that a reworded message is a decision.
#include "fixtures.hpp"

#include <journeyloop/loop_histories.hpp>
#include <journeyloop/transition_counts.hpp>

#include <string>
#include <string_view>
#include <vector>

using namespace journeyloop;
using Catch::Contains;

namespace {

loop_counts count_loop(std::vector<std::string_view> paths) {
    std::vector<double> customers(paths.size(), 1.0);
    return count_loop_transitions(build_loop_histories({paths, customers, {}, {}}, {}), {});
}

} // namespace

TEST_CASE("errors: channels named like a loop chain's states are refused, with the row",
          "[errors][loop]") {
    const std::string loop_states = "(START, PURCHASE, END; CONVERSION and NULL are reserved too)"
                                    ": rename the channel";
    REQUIRE_THROWS_WITH(count_loop({"a > purchase", "b > PURCHASE > purchase"}),
                        "row 1: channel 'PURCHASE' has the name of a state of the chain " +
                            loop_states);
    REQUIRE_THROWS_WITH(count_loop({"END > a > purchase"}),
                        "row 0: channel 'END' has the name of a state of the chain " + loop_states);
    REQUIRE_THROWS_WITH(count_loop({"a", "b", "NULL > purchase"}),
                        "row 2: channel 'NULL' has the name of a state of the chain " +
                            loop_states);
    // The marker is not a channel; nor is a name that only looks like a state.
    REQUIRE(count_loop({"a > purchase > Purchase > End"}).first.order() == 1);
    // Funnel journeys may hold PURCHASE and END: those are no states of theirs.
    std::vector<std::string_view> paths{"PURCHASE > END"};
    std::vector<double> conversions{1};
    REQUIRE_NOTHROW(count_transitions(build_journeys({paths, conversions, {}, {}}, {}), {}));
}

TEST_CASE("errors: an empty purchase token is refused", "[errors][loop]") {
    std::vector<std::string_view> paths{"a > purchase"};
    std::vector<double> customers{1};
    const std::string what = "purchase: the token that marks a purchase in the paths is empty; "
                             "give its name (such as \"purchase\")";
    REQUIRE_THROWS_AS(build_loop_histories({paths, customers, {}, {}}, {}, ""), invalid_input);
    REQUIRE_THROWS_WITH(build_loop_histories({paths, customers, {}, {}}, {}, "  "), what);
}

TEST_CASE("errors: a bad count says what counts must be", "[errors][journey_set]") {
    std::vector<std::string_view> paths{"a", "b"};
    std::vector<double> ok{1, 1}, bad{1, -2};
    const std::string fix = " (counts and values are finite numbers >= 0: fix or drop the row)";
    REQUIRE_THROWS_WITH(build_journeys({paths, ok, bad, {}}, {}),
                        "row 1, column 'nulls': negative count -2" + fix);
}

TEST_CASE("errors: options name themselves and the way out", "[errors]") {
    std::vector<std::string_view> paths{"a"};
    std::vector<double> conversions{1};
    path_options no_separator;
    no_separator.separator = "";
    REQUIRE_THROWS_WITH(build_journeys({paths, conversions, {}, {}}, no_separator),
                        "sep: the path separator is empty; give one, such as '>'");
    const auto journeys = build_journeys({paths, conversions, {}, {}}, {});
    counting_options second;
    second.order = 2;
    REQUIRE_THROWS_WITH(merge(count_transitions(journeys, {}), count_transitions(journeys, second)),
                        "cannot merge transition counts of different order or options (order 1 "
                        "and 2): count every part with the same order, collapse_repeats and "
                        "padded");
}
