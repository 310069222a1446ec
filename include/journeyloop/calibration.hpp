// journeyloop: calibrating an attribution to lift tests.
//
// A lift test (a holdout of one channel) measures the conversions the
// channel adds, with an interval. An attribution that credits the channel
// with far more or far fewer conversions than the test measured disagrees
// with it; calibrate() reports the agreement channel by channel and returns
// the attribution calibrated to the tests: each tested channel gets its
// measured conversions, and what is left of the attribution's total is
// shared among the untested channels in proportion to their credit.
#ifndef JOURNEYLOOP_CALIBRATION_HPP
#define JOURNEYLOOP_CALIBRATION_HPP

#include <journeyloop/attribution.hpp>
#include <journeyloop/fwd.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace journeyloop {

/// The result of one lift test (a holdout of one channel, or team).
struct lift_test {
    /// The channel tested: a name of the attribution.
    std::string channel;
    /// Incremental conversions measured; finite and non-negative.
    double conversions = 0;
    /// Lower end of the test's interval, in [0, conversions].
    double lower = 0;
    /// Upper end of the test's interval, at least conversions.
    double upper = 0;
};

/// One tested channel: the attribution against the experiment.
struct calibration_row {
    /// The channel.
    std::string channel;
    /// Conversions the attribution credits it with.
    double attributed = 0;
    /// The attribution's interval (both `attributed` when it has none).
    double attributed_lower = 0, attributed_upper = 0;
    /// The experiment's incremental conversions and interval.
    double experiment = 0, lower = 0, upper = 0;
    /// attributed / experiment (infinite when the experiment measured 0 and
    /// the attribution credits more; NaN when both are 0).
    double ratio = 0;
    /// Whether the two intervals do not overlap: the attribution's upper end
    /// is below the experiment's lower end, or its lower end above the
    /// experiment's upper end.
    bool disagrees = false;
};

/// calibrate()'s result.
struct calibration_result {
    /// One row per lift test, in the order of the tests.
    std::vector<calibration_row> report;
    /// The calibrated attribution, with the names of the input, in order.
    attribution calibrated;
    /// Per name: whether a lift test measured it.
    std::vector<bool> tested;
    /// Per name: calibrated conversions / attributed conversions (NaN when
    /// the attribution gave the name nothing).
    std::vector<double> scale;
    /// Conversions the calibrated attribution does not hold of the input's
    /// total: positive when every channel was tested and the tests sum to
    /// less than the total, negative when the tests sum to more than the
    /// total (the untested channels then get nothing). 0 otherwise.
    double unallocated_conversions = 0;
    /// The same for value.
    double unallocated_value = 0;
};

/**
 * Calibrates attribution `a` to the lift tests `experiments`.
 *
 * The report compares, per test, the attribution's conversions (with its
 * interval `[lower[i], upper[i]]` when `lower` and `upper`, one entry per
 * name, are given) to the test's. The calibrated attribution:
 *
 * - a tested channel gets the test's conversions, and its value scaled
 *   alike (its value per conversion kept; the attribution's mean value per
 *   conversion when it credited the channel with none);
 * - the rest of the attribution's total conversions (and value) goes to the
 *   untested channels in proportion to their credit (evenly when they have
 *   none); when the tests already exceed the total, the untested channels
 *   get nothing.
 *
 * It assumes that the tests measure the same conversions as the attribution
 * (same period, same conversion event) and that the total is right: the
 * tests move credit between channels, they do not change how many
 * conversions there were.
 *
 * Throws unknown_channel for a test of a name the attribution does not
 * have, invalid_input for a channel tested twice, numbers that are negative
 * or not finite, `lower > conversions` or `conversions > upper` in a test,
 * and intervals of the attribution of the wrong size or with lower > upper.
 *
 * **Example**: attribution a 60, b 30, c 10 and a test of a measuring 30
 * [20, 40]: a disagrees (60 is above 40); calibrated a 30, b 52.5, c 17.5.
 */
calibration_result calibrate(const attribution& a, const std::vector<lift_test>& experiments,
                             const std::vector<double>& lower = {},
                             const std::vector<double>& upper = {});

} // namespace journeyloop

#endif // JOURNEYLOOP_CALIBRATION_HPP
