// The loop model: the analysis of the two funnel views of the loop chain.
#include <journeyloop/errors.hpp>
#include <journeyloop/loop_model.hpp>

#include <algorithm>
#include <cmath>

namespace journeyloop {

loop_model fit_loop(const loop_counts& counts, const markov_options& options) {
    loop_model m{fit_markov(counts.first, options), std::nullopt, counts.customers,
                 counts.purchases, counts.value, counts.buyers, counts.repeat_purchases};
    if (counts.repeat) m.repeat = fit_markov(*counts.repeat, options);
    return m;
}

namespace {

// E[purchases] and E[value] from the four view figures.
struct loop_totals {
    double purchases = 0, value = 0;
};

loop_totals totals(double h, double r, double v_first, double v_repeat) {
    if (!(r < 1))
        throw numerical_error(
            "the repeat probability is 1: every purchase is followed by another, so the "
            "expected number of purchases is infinite");
    return {h / (1 - r), v_first + h * v_repeat / (1 - r)};
}

} // namespace

loop_summary summarize(const loop_model& m) {
    loop_summary s;
    s.first_purchase_probability = m.first.conversion_rate();
    s.repeat_probability = m.repeat ? m.repeat->conversion_rate() : 0.0;
    const auto t = totals(s.first_purchase_probability, s.repeat_probability,
                          m.first.value_per_journey(),
                          m.repeat ? m.repeat->value_per_journey() : 0.0);
    s.expected_purchases = t.purchases;
    s.expected_value = t.value;
    s.touches_to_first_purchase = m.first.expected_touches_converting();
    s.touches_between_purchases = m.repeat ? m.repeat->expected_touches_converting() : 0.0;
    return s;
}

std::vector<loop_removal_effect> loop_removal_effects(
    const loop_model& m, const std::vector<std::vector<channel_id>>& groups) {
    const double h = m.first.conversion_rate();
    const double r = m.repeat ? m.repeat->conversion_rate() : 0.0;
    const double vf = m.first.value_per_journey();
    const double vr = m.repeat ? m.repeat->value_per_journey() : 0.0;
    const auto base = totals(h, r, vf, vr);
    const auto first = group_removal_effects(m.first, groups);
    std::vector<removal_effect> repeat(groups.size());
    if (m.repeat) repeat = group_removal_effects(*m.repeat, groups);
    std::vector<loop_removal_effect> out(groups.size());
    auto drop = [](double without, double with) {
        return with > 0 ? std::clamp(1 - without / with, 0.0, 1.0) : 0.0;
    };
    for (std::size_t g = 0; g < groups.size(); ++g) {
        const double h_g = h * (1 - first[g].conversions);
        const double r_g = r * (1 - repeat[g].conversions);
        const auto t = totals(h_g, r_g, vf * (1 - first[g].value), vr * (1 - repeat[g].value));
        out[g].purchases = drop(t.purchases, base.purchases);
        out[g].value = drop(t.value, base.value);
        out[g].first_purchases = first[g].conversions;
        // Purchases after a first one, per buyer: r / (1 - r).
        out[g].repeat_purchases = drop(r_g / (1 - r_g), r / (1 - r));
    }
    return out;
}

double loyalty_loop_rate(const loop_model& m, const std::vector<channel_id>& avoided) {
    if (!m.repeat) return 0.0;
    const double r = m.repeat->conversion_rate();
    if (avoided.empty()) return r;
    return r * (1 - group_removal_effect(*m.repeat, avoided).conversions);
}

} // namespace journeyloop
