// Calibrating an attribution to lift tests.
#ifndef JOURNEYLOOP_IMPL_CALIBRATION_IPP
#define JOURNEYLOOP_IMPL_CALIBRATION_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/calibration.hpp>
#include <journeyloop/errors.hpp>
#include <journeyloop/impl/text.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>

namespace journeyloop {

JOURNEYLOOP_IMPL_NAMESPACE(calibration_1) {

JOURNEYLOOP_IMPL_INLINE void check_test_number(double x, std::size_t i, const char* column) {
    if (!std::isfinite(x) || x < 0)
        throw invalid_input("experiments row " + std::to_string(i) + ", column " + column + ": " +
                            detail::number_text(x) +
                            "; incremental conversions and their interval must be finite and "
                            "non-negative");
}

// Shares `rest` between the untested names in proportion to `weight` (evenly
// when they all weigh zero); returns what could not be shared.
JOURNEYLOOP_IMPL_INLINE double share_rest(double rest, const std::vector<bool>& tested,
                                          const std::vector<double>& weight,
                                          std::vector<double>& out) {
    double sum = 0;
    std::size_t untested = 0;
    for (std::size_t i = 0; i < weight.size(); ++i)
        if (!tested[i]) {
            sum += weight[i];
            ++untested;
        }
    if (rest <= 0 || untested == 0) {
        for (std::size_t i = 0; i < weight.size(); ++i)
            if (!tested[i]) out[i] = 0;
        return rest;
    }
    for (std::size_t i = 0; i < weight.size(); ++i)
        if (!tested[i])
            out[i] = sum > 0 ? rest * (weight[i] / sum) : rest / static_cast<double>(untested);
    return 0;
}

} // JOURNEYLOOP_IMPL_NAMESPACE(calibration_1)

JOURNEYLOOP_IMPL_INLINE calibration_result calibrate(const attribution& a,
                                                     const std::vector<lift_test>& experiments,
                                                     const std::vector<double>& lower,
                                                     const std::vector<double>& upper) {
    const std::size_t n = a.size();
    const bool has_interval = !lower.empty() || !upper.empty();
    if (has_interval && (lower.size() != n || upper.size() != n))
        throw invalid_input("calibrate: the attribution's interval has " +
                            std::to_string(lower.size()) + " lower and " +
                            std::to_string(upper.size()) + " upper ends for " + std::to_string(n) +
                            " names; give one of each per name, or neither");
    for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(a.conversions()[i]) || !std::isfinite(a.value()[i]))
            throw invalid_input("attribution row " + std::to_string(i) + " ('" + a.names()[i] +
                                "'): conversions and value must be finite");
        if (has_interval &&
            (!std::isfinite(lower[i]) || !std::isfinite(upper[i]) || lower[i] > upper[i]))
            throw invalid_input("attribution row " + std::to_string(i) + " ('" + a.names()[i] +
                                "'): the interval [" + detail::number_text(lower[i]) + ", " +
                                detail::number_text(upper[i]) +
                                "] must be finite with lower <= upper");
    }
    std::unordered_map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < n; ++i) index.emplace(a.names()[i], i);

    calibration_result out;
    out.tested.assign(n, false);
    std::vector<double> conv(a.conversions()), value(a.value());
    double tested_conv = 0, tested_value = 0;
    const double total_conv = a.total_conversions(), total_value = a.total_value();
    const double mean_value = total_conv > 0 ? total_value / total_conv : 0;
    for (std::size_t t = 0; t < experiments.size(); ++t) {
        const lift_test& e = experiments[t];
        const auto it = index.find(e.channel);
        if (it == index.end())
            throw unknown_channel("experiments row " + std::to_string(t) + ", column channel: '" +
                                  e.channel +
                                  "' is not a name of the attribution; test only channels it "
                                  "credits");
        const std::size_t i = it->second;
        if (out.tested[i])
            throw invalid_input("experiments row " + std::to_string(t) + ", column channel: '" +
                                e.channel + "' is tested twice; give one test per channel");
        check_test_number(e.conversions, t, "conversions");
        check_test_number(e.lower, t, "lower");
        check_test_number(e.upper, t, "upper");
        if (e.lower > e.upper)
            throw invalid_input("experiments row " + std::to_string(t) + ": lower " +
                                detail::number_text(e.lower) + " is above upper " +
                                detail::number_text(e.upper));
        if (e.conversions < e.lower || e.conversions > e.upper)
            throw invalid_input("experiments row " + std::to_string(t) +
                                ", column conversions: " + detail::number_text(e.conversions) +
                                " is outside its interval [" + detail::number_text(e.lower) + ", " +
                                detail::number_text(e.upper) + "]");
        out.tested[i] = true;

        calibration_row r;
        r.channel = e.channel;
        r.attributed = a.conversions()[i];
        r.attributed_lower = has_interval ? lower[i] : r.attributed;
        r.attributed_upper = has_interval ? upper[i] : r.attributed;
        r.experiment = e.conversions;
        r.lower = e.lower;
        r.upper = e.upper;
        r.ratio = e.conversions > 0  ? r.attributed / e.conversions
                  : r.attributed > 0 ? std::numeric_limits<double>::infinity()
                                     : std::numeric_limits<double>::quiet_NaN();
        r.disagrees = r.attributed_upper < e.lower || r.attributed_lower > e.upper;
        out.report.push_back(std::move(r));

        conv[i] = e.conversions;
        // The channel keeps its value per conversion.
        value[i] = a.conversions()[i] > 0 ? a.value()[i] * (e.conversions / a.conversions()[i])
                                          : e.conversions * mean_value;
        tested_conv += conv[i];
        tested_value += value[i];
    }
    out.unallocated_conversions =
        share_rest(total_conv - tested_conv, out.tested, a.conversions(), conv);
    out.unallocated_value = share_rest(total_value - tested_value, out.tested, a.value(), value);
    out.scale.assign(n, std::numeric_limits<double>::quiet_NaN());
    for (std::size_t i = 0; i < n; ++i)
        if (a.conversions()[i] != 0) out.scale[i] = conv[i] / a.conversions()[i];
    out.calibrated = attribution(a.names(), std::move(conv), std::move(value));
    return out;
}

} // namespace journeyloop

#endif // JOURNEYLOOP_IMPL_CALIBRATION_IPP
