#include "fixtures.hpp"

#include <journeyloop/calibration.hpp>

#include <cmath>
#include <limits>

using namespace journeyloop;
using Catch::Contains;

namespace {
attribution abc() { return {{"a", "b", "c"}, {60, 30, 10}, {600, 300, 100}}; }
} // namespace

TEST_CASE("calibrate: one test by hand", "[calibration]") {
    // a measured 30 [20, 40]: the attribution's 60 is above the interval.
    const auto r = calibrate(abc(), {{"a", 30, 20, 40}});
    REQUIRE(r.report.size() == 1);
    const auto& row = r.report[0];
    REQUIRE(row.channel == "a");
    REQUIRE(row.attributed == 60);
    REQUIRE(row.attributed_lower == 60);
    REQUIRE(row.attributed_upper == 60);
    REQUIRE(row.experiment == 30);
    REQUIRE(row.ratio == 2.0);
    REQUIRE(row.disagrees);
    // a gets 30 and keeps its 10 a conversion; the 70 left go to b and c 3:1.
    const auto& c = r.calibrated;
    REQUIRE(c.names() == std::vector<std::string>{"a", "b", "c"});
    REQUIRE(c.conversions()[0] == 30);
    REQUIRE(c.conversions()[1] == Approx(52.5).epsilon(1e-15));
    REQUIRE(c.conversions()[2] == Approx(17.5).epsilon(1e-15));
    REQUIRE(c.value()[0] == Approx(300).epsilon(1e-15));
    REQUIRE(c.value()[1] == Approx(525).epsilon(1e-15));
    REQUIRE(c.value()[2] == Approx(175).epsilon(1e-15));
    REQUIRE(c.total_conversions() == Approx(100).epsilon(1e-15));
    REQUIRE(r.tested == std::vector<bool>{true, false, false});
    REQUIRE(r.scale[0] == 0.5);
    REQUIRE(r.scale[1] == Approx(1.75).epsilon(1e-15));
    REQUIRE(r.unallocated_conversions == 0);
    REQUIRE(r.unallocated_value == 0);
}

TEST_CASE("calibrate: the attribution's interval decides the disagreement", "[calibration]") {
    // Intervals a [45, 70], b [25, 35]; tests a 30 [20, 40], b 33 [31, 36].
    const std::vector<double> lower{45, 25, 5}, upper{70, 35, 15};
    const auto r = calibrate(abc(), {{"a", 30, 20, 40}, {"b", 33, 31, 36}}, lower, upper);
    REQUIRE(r.report.size() == 2);
    REQUIRE(r.report[0].disagrees);       // 45 > 40
    REQUIRE_FALSE(r.report[1].disagrees); // [25, 35] meets [31, 36]
    REQUIRE(r.report[0].attributed_lower == 45);
    REQUIRE(r.report[1].attributed_upper == 35);
    // a 30, b 33, c the 37 left (value: 300, 330, then 370 to c).
    REQUIRE(r.calibrated.conversions()[2] == Approx(37).epsilon(1e-15));
    REQUIRE(r.calibrated.value()[1] == Approx(330).epsilon(1e-15));
    REQUIRE(r.calibrated.value()[2] == Approx(370).epsilon(1e-15));
    // Touching intervals agree.
    const auto t = calibrate(abc(), {{"a", 30, 20, 45}}, lower, upper);
    REQUIRE_FALSE(t.report[0].disagrees);
    // Without an interval, the attribution's point inside the test's agrees.
    REQUIRE_FALSE(calibrate(abc(), {{"b", 30, 28, 31}}).report[0].disagrees);
}

TEST_CASE("calibrate: tests beyond the total, every channel tested, zero credit", "[calibration]") {
    // The tests hold 110 of the 100 conversions: c gets nothing.
    auto r = calibrate(abc(), {{"a", 70, 60, 80}, {"b", 40, 30, 50}});
    REQUIRE(r.calibrated.conversions()[2] == 0);
    REQUIRE(r.calibrated.value()[2] == 0);
    REQUIRE(r.unallocated_conversions == Approx(-10).epsilon(1e-15));
    REQUIRE(r.unallocated_value == Approx(-100).epsilon(1e-15));
    // Every channel tested: what the tests leave is unallocated.
    r = calibrate(abc(), {{"a", 50, 40, 60}, {"b", 30, 20, 40}, {"c", 10, 5, 15}});
    REQUIRE(r.unallocated_conversions == Approx(10).epsilon(1e-15));
    REQUIRE(r.calibrated.total_conversions() == Approx(90).epsilon(1e-15));
    // A tested channel the attribution gave nothing takes the mean value per
    // conversion (8 here); untested channels with no credit share evenly.
    const attribution z{{"a", "b", "c"}, {10, 0, 0}, {80, 0, 0}};
    r = calibrate(z, {{"b", 2, 1, 3}});
    REQUIRE(r.calibrated.conversions()[1] == 2);
    REQUIRE(r.calibrated.value()[1] == Approx(16).epsilon(1e-15));
    REQUIRE(r.calibrated.conversions()[0] == Approx(8).epsilon(1e-15));
    REQUIRE(r.calibrated.conversions()[2] == 0);
    REQUIRE(std::isinf(r.report[0].ratio) == false);
    REQUIRE(r.report[0].ratio == 0);
    REQUIRE(std::isnan(r.scale[1]));
    const attribution two{{"a", "b", "c"}, {10, 0, 0}, {0, 0, 0}};
    r = calibrate(two, {{"a", 4, 3, 5}});
    REQUIRE(r.calibrated.conversions()[1] == Approx(3).epsilon(1e-15));
    REQUIRE(r.calibrated.conversions()[2] == Approx(3).epsilon(1e-15));
    // A test that measured nothing against credit: infinite ratio.
    r = calibrate(abc(), {{"c", 0, 0, 1}});
    REQUIRE(std::isinf(r.report[0].ratio));
    REQUIRE(r.report[0].disagrees);
}

TEST_CASE("calibrate: bad input names the row and the column", "[calibration]") {
    REQUIRE_THROWS_WITH(calibrate(abc(), {{"z", 1, 0, 2}}),
                        Contains("experiments row 0, column channel: 'z'"));
    REQUIRE_THROWS_AS(calibrate(abc(), {{"z", 1, 0, 2}}), unknown_channel);
    REQUIRE_THROWS_WITH(calibrate(abc(), {{"a", 1, 0, 2}, {"a", 1, 0, 2}}),
                        Contains("row 1") && Contains("tested twice"));
    REQUIRE_THROWS_WITH(calibrate(abc(), {{"a", 1, -1, 2}}),
                        Contains("experiments row 0, column lower"));
    REQUIRE_THROWS_WITH(calibrate(abc(), {{"a", -1, 0, 2}}),
                        Contains("experiments row 0, column conversions"));
    REQUIRE_THROWS_WITH(calibrate(abc(), {{"a", 1, 0, std::nan("")}}),
                        Contains("experiments row 0, column upper"));
    REQUIRE_THROWS_WITH(calibrate(abc(), {{"a", 1, 3, 2}}), Contains("lower 3 is above upper 2"));
    REQUIRE_THROWS_WITH(calibrate(abc(), {{"a", 5, 0, 2}}),
                        Contains("column conversions: 5 is outside its interval"));
    REQUIRE_THROWS_WITH(calibrate(abc(), {{"a", 1, 0, 2}}, {1, 2}, {3, 4}),
                        Contains("2 lower and 2 upper ends for 3 names"));
    REQUIRE_THROWS_WITH(calibrate(abc(), {{"a", 1, 0, 2}}, {1, 5, 1}, {3, 4, 2}),
                        Contains("attribution row 1 ('b')") && Contains("lower <= upper"));
}
