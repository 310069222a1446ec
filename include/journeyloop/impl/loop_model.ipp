// The loop model: the analysis of the two funnel views of the loop chain.
#ifndef JOURNEYLOOP_IMPL_LOOP_MODEL_IPP
#define JOURNEYLOOP_IMPL_LOOP_MODEL_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/impl/model_access.hpp>

#include <journeyloop/errors.hpp>
#include <journeyloop/loop_model.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace journeyloop {

JOURNEYLOOP_IMPL_INLINE loop_model::loop_model(markov_model first,
                                               std::optional<markov_model> repeat,
                                               const loop_counts& counts)
    : first_(std::move(first)), repeat_(std::move(repeat)), customers_(counts.customers),
      purchases_(counts.purchases), value_(counts.value), buyers_(counts.buyers),
      repeat_purchases_(counts.repeat_purchases) {}

JOURNEYLOOP_IMPL_NAMESPACE(loop_model_0) {

// Sums built in different orders (or read back from a file) agree to
// rounding, not bit for bit.
JOURNEYLOOP_IMPL_INLINE bool same_total(double a, double b) {
    return std::abs(a - b) <= 1e-9 * std::max({1.0, std::abs(a), std::abs(b)});
}

JOURNEYLOOP_IMPL_INLINE void check_total(double actual, double expected, const char* what) {
    if (!same_total(actual, expected))
        throw invalid_input(std::string("loop counts: ") + what + " is " + std::to_string(actual) +
                            ", expected " + std::to_string(expected));
}

// The repeat view is the first view with another start row: same order,
// channels and states.
JOURNEYLOOP_IMPL_INLINE void check_same_chain(const transition_counts& first,
                                              const transition_counts& repeat) {
    if (first.order() != repeat.order() || first.collapse_repeats() != repeat.collapse_repeats())
        throw invalid_input(
            "loop counts: the first and repeat views differ in order or collapse_repeats");
    if (first.channels().names() != repeat.channels().names())
        throw invalid_input("loop counts: the first and repeat views have different channels");
    bool same = first.num_states() == repeat.num_states();
    for (state_id s = 0; same && s < first.num_states(); ++s) {
        const auto a = first.state(s), b = repeat.state(s);
        same = std::equal(a.begin(), a.end(), b.begin(), b.end());
    }
    if (!same) throw invalid_input("loop counts: the first and repeat views have different states");
    for (state_id s = transition_counts::first_channel_state; s < first.num_states(); ++s) {
        const auto ta = first.targets(s), tb = repeat.targets(s);
        const auto wa = first.weights(s), wb = repeat.weights(s);
        if (!std::equal(ta.begin(), ta.end(), tb.begin(), tb.end()) ||
            !std::equal(wa.begin(), wa.end(), wb.begin(), wb.end()) ||
            first.conversions_from(s) != repeat.conversions_from(s) ||
            first.value_from(s) != repeat.value_from(s))
            throw invalid_input("loop counts: the first and repeat views differ in the row of "
                                "state '" +
                                first.state_label(s) + "' (the views share their channel rows)");
    }
}

// Each view's totals only bound what the shared channel rows hold; together,
// the two views' START rows and the shared rows keep the sums of counts of
// journeys exactly: every journey into a channel state leaves it, and the
// transitions into PURCHASE and END, and the value of the ends, add up to the
// two views' totals. Equal to 1e-6, relative, as files are checked.
JOURNEYLOOP_IMPL_INLINE void check_pooled_sums(const transition_counts& first,
                                               const transition_counts* repeat) {
    const auto n = first.num_states();
    std::vector<double> in(n, 0.0);
    auto add_row = [&in](const transition_counts& c, state_id s) {
        const auto targets = c.targets(s);
        const auto weights = c.weights(s);
        for (std::size_t i = 0; i < targets.size(); ++i) in[targets[i]] += weights[i];
    };
    for (state_id s = 0; s < n; ++s)
        if (s == transition_counts::start || s >= transition_counts::first_channel_state)
            add_row(first, s);
    double conversions = first.total_conversions(), nulls = first.total_nulls();
    double value = first.total_value();
    double end_value = first.value_from(transition_counts::start);
    if (repeat) {
        add_row(*repeat, transition_counts::start);
        conversions += repeat->total_conversions();
        nulls += repeat->total_nulls();
        value += repeat->total_value();
        end_value += repeat->value_from(transition_counts::start);
    }
    for (state_id s = transition_counts::first_channel_state; s < n; ++s)
        end_value += first.value_from(s);
    auto check = [](double sum, double total, const std::string& what) {
        if (std::abs(sum - total) > 1e-6 * std::max({1.0, std::abs(sum), std::abs(total)}))
            throw invalid_input("loop counts: " + what + " sum to " + std::to_string(sum) +
                                ", the views' totals to " + std::to_string(total));
    };
    check(in[transition_counts::conversion], conversions, "the transitions into PURCHASE");
    check(in[transition_counts::null], nulls, "the transitions into END");
    check(end_value, value, "the value of the ends");
    for (state_id s = transition_counts::first_channel_state; s < n; ++s)
        check(in[s], first.out_weight(s),
              "the transitions into state '" + first.state_label(s) + "' (its transitions out)");
}

// What count_loop_transitions guarantees and the model relies on.
JOURNEYLOOP_IMPL_INLINE void check_loop_counts(const loop_counts& c) {
    for (const double x : {c.customers, c.purchases, c.value, c.buyers, c.repeat_purchases})
        if (!(x >= 0) || !std::isfinite(x))
            throw invalid_input("loop counts: the totals must be finite and non-negative");
    if (!c.first.pooled() || (c.repeat && !c.repeat->pooled()))
        throw invalid_input("loop counts: the views of a loop model are pooled counts");
    if (c.first.padded() || (c.repeat && c.repeat->padded()))
        throw invalid_input("loop counts: the loop model has no padded form");
    if ((c.buyers > 0) != c.repeat.has_value())
        throw invalid_input("loop counts: a repeat view is needed exactly when some customer "
                            "purchased (buyers > 0)");
    check_total(c.buyers + c.repeat_purchases, c.purchases, "buyers + repeat_purchases");
    check_total(c.first.total_conversions(), c.buyers, "the first view's conversions");
    check_total(c.first.total_nulls(), c.customers - c.buyers, "the first view's nulls");
    double value = c.first.total_value();
    if (c.repeat) {
        check_same_chain(c.first, *c.repeat);
        check_total(c.repeat->total_conversions(), c.repeat_purchases,
                    "the repeat view's conversions");
        check_total(c.repeat->total_nulls(), c.buyers, "the repeat view's nulls");
        value += c.repeat->total_value();
    }
    check_total(value, c.value, "the views' value");
    check_pooled_sums(c.first, c.repeat ? &*c.repeat : nullptr);
}

} // JOURNEYLOOP_IMPL_NAMESPACE(loop_model_0)

JOURNEYLOOP_IMPL_INLINE loop_model fit_loop(const loop_counts& counts,
                                            const markov_options& options) {
    return fit_loop(counts, options, {});
}

JOURNEYLOOP_IMPL_INLINE loop_model fit_loop(const loop_counts& counts,
                                            const markov_options& options,
                                            const progress_callback& progress) {
    check_loop_counts(counts);
    // One count of states for both views: the first's, then the repeat's.
    const std::size_t first_states = counts.first.num_states() - 2;
    const std::size_t all = first_states + (counts.repeat ? counts.repeat->num_states() - 2 : 0);
    progress_callback first_progress, repeat_progress;
    if (progress) {
        first_progress = [&](std::size_t done, std::size_t) { progress(done, all); };
        repeat_progress = [&](std::size_t done, std::size_t) {
            progress(first_states + done, all);
        };
    }
    auto first = fit_markov(counts.first, options, first_progress);
    std::optional<markov_model> repeat;
    if (counts.repeat) repeat = fit_markov(*counts.repeat, options, repeat_progress);
    return loop_model(std::move(first), std::move(repeat), counts);
}

JOURNEYLOOP_IMPL_INLINE std::string loop_model::state_label(state_id s) const {
    switch (s) {
    case transition_counts::start: return "START";
    case transition_counts::conversion: return "PURCHASE";
    case transition_counts::null: return "END";
    default: return first_.counts().state_label(s);
    }
}

JOURNEYLOOP_IMPL_INLINE std::vector<loop_transition> loop_model::transitions() const {
    // Row s of the loop chain comes from one view's row: PURCHASE's from the
    // repeat view's START row, every other from the first view (the views
    // share their channel rows).
    std::vector<loop_transition> out;
    auto add_row = [&out](const markov_model& view, state_id view_row, state_id loop_row) {
        const auto& counts = view.counts();
        const auto targets = counts.targets(view_row);
        const auto weights = counts.weights(view_row);
        const auto& P = view.transitions();
        // Both lists are sorted by target: merge them.
        std::size_t i = 0;
        transition_matrix::InnerIterator it(P, static_cast<long>(view_row));
        while (i < targets.size() || it) {
            const bool from_counts =
                i < targets.size() && (!it || targets[i] <= static_cast<state_id>(it.col()));
            const bool from_p =
                it && (i >= targets.size() || static_cast<state_id>(it.col()) <= targets[i]);
            loop_transition t;
            t.from = loop_row;
            t.to = from_counts ? targets[i] : static_cast<state_id>(it.col());
            t.count = from_counts ? weights[i] : 0.0;
            t.probability = from_p ? it.value() : 0.0;
            out.push_back(t);
            if (from_counts) ++i;
            if (from_p) ++it;
        }
    };
    const auto n = static_cast<state_id>(num_states());
    add_row(first_, transition_counts::start, transition_counts::start);
    if (repeat_) add_row(*repeat_, transition_counts::start, transition_counts::conversion);
    else // no purchase was observed: a purchase (with smoothing) ends the history
        out.push_back({transition_counts::conversion, transition_counts::null, 0.0, 1.0});
    for (state_id s = transition_counts::first_channel_state; s < n; ++s) add_row(first_, s, s);
    return out;
}

JOURNEYLOOP_IMPL_INLINE std::vector<double> loop_model::purchase_probabilities() const {
    const auto x = first_.conversion_probabilities();
    std::vector<double> out(x.data(), x.data() + x.size());
    out[transition_counts::conversion] = repeat_ ? repeat_->conversion_rate() : 0.0;
    return out;
}

JOURNEYLOOP_IMPL_INLINE std::vector<double> loop_model::expected_visits() const {
    // Every visit to PURCHASE starts a segment like the repeat view's walk
    // from its START (strong Markov property): F[START, s] = visits before
    // the first purchase + E[purchases] * visits in one segment after one.
    const double purchases = summarize(*this).expected_purchases;
    const auto before = first_.expected_visits();
    std::vector<double> out(before.data(), before.data() + before.size());
    if (repeat_) {
        const auto after = repeat_->expected_visits();
        for (std::size_t s = transition_counts::first_channel_state; s < out.size(); ++s)
            out[s] += purchases * after[static_cast<long>(s)];
    }
    out[transition_counts::start] = 1.0;
    out[transition_counts::conversion] = purchases;
    out[transition_counts::null] = 1.0;
    return out;
}

JOURNEYLOOP_IMPL_NAMESPACE(loop_model_1) {

// E[purchases] and E[value] from the four view figures.
struct loop_totals {
    double purchases = 0, value = 0;
};

JOURNEYLOOP_IMPL_INLINE loop_totals totals(double h, double r, double v_first, double v_repeat) {
    if (!(r < 1))
        throw numerical_error(
            "the repeat probability is 1: every purchase is followed by another, so the "
            "expected number of purchases is infinite");
    return {h / (1 - r), v_first + h * v_repeat / (1 - r)};
}

} // JOURNEYLOOP_IMPL_NAMESPACE(loop_model_1)

JOURNEYLOOP_IMPL_INLINE loop_summary summarize(const loop_model& m) {
    loop_summary s;
    s.first_purchase_probability = m.first().conversion_rate();
    s.repeat_probability = m.repeat() ? m.repeat()->conversion_rate() : 0.0;
    const auto t =
        totals(s.first_purchase_probability, s.repeat_probability, m.first().value_per_journey(),
               m.repeat() ? m.repeat()->value_per_journey() : 0.0);
    s.expected_purchases = t.purchases;
    s.expected_value = t.value;
    s.touches_to_first_purchase = m.first().expected_touches_converting();
    s.touches_between_purchases = m.repeat() ? m.repeat()->expected_touches_converting() : 0.0;
    return s;
}

JOURNEYLOOP_IMPL_INLINE std::vector<loop_removal_effect> loop_removal_effects(
    const loop_model& m, const std::vector<std::vector<channel_id>>& groups) {
    const double h = m.first().conversion_rate();
    const double r = m.repeat() ? m.repeat()->conversion_rate() : 0.0;
    const double vf = m.first().value_per_journey();
    const double vr = m.repeat() ? m.repeat()->value_per_journey() : 0.0;
    const auto base = totals(h, r, vf, vr);
    const auto first = group_removal_effects(m.first(), groups);
    std::vector<removal_effect> repeat(groups.size());
    if (m.repeat()) repeat = group_removal_effects(*m.repeat(), groups);
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

JOURNEYLOOP_IMPL_INLINE double loyalty_loop_rate(const loop_model& m,
                                                 const std::vector<channel_id>& avoided) {
    if (!m.repeat()) return 0.0;
    const double r = m.repeat()->conversion_rate();
    if (avoided.empty()) return r;
    return r * (1 - group_removal_effect(*m.repeat(), avoided).conversions);
}

JOURNEYLOOP_IMPL_INLINE loop_attribution::loop_attribution(attribution purchases,
                                                           std::vector<double> first_purchases,
                                                           std::vector<double> repeat_purchases)
    : attribution(std::move(purchases)), first_purchases_(std::move(first_purchases)),
      repeat_purchases_(std::move(repeat_purchases)) {
    if (first_purchases_.size() != size() || repeat_purchases_.size() != size())
        throw invalid_input("loop_attribution: " + std::to_string(size()) + " names, " +
                            std::to_string(first_purchases_.size()) + " first and " +
                            std::to_string(repeat_purchases_.size()) +
                            " repeat purchases; expected one per name");
}

JOURNEYLOOP_IMPL_INLINE loop_attribution
loop_markov_attribution(const loop_model& m, const std::vector<std::string>& names,
                        const std::vector<std::vector<channel_id>>& groups) {
    if (names.size() != groups.size())
        throw invalid_input("loop_markov_attribution: " + std::to_string(names.size()) +
                            " names for " + std::to_string(groups.size()) + " groups");
    const auto effects = loop_removal_effects(m, groups);
    std::vector<double> purchases, value, first, repeat;
    for (std::size_t g = 0; g < groups.size(); ++g) {
        // An empty group removes nothing; its effects are 0 already.
        purchases.push_back(effects[g].purchases);
        value.push_back(effects[g].value);
        first.push_back(effects[g].first_purchases);
        repeat.push_back(effects[g].repeat_purchases);
    }
    return {
        {names, detail::share_out(purchases, m.purchases()), detail::share_out(value, m.value())},
        detail::share_out(first, m.buyers()),
        detail::share_out(repeat, m.repeat_purchases())};
}

JOURNEYLOOP_IMPL_INLINE attribution
shapley_attribution(const loop_model& m, const std::vector<std::string>& names,
                    const std::vector<std::vector<channel_id>>& players) {
    const auto removed = detail::coalition_removals(m.channels(), names, players);
    // v(S): the expected purchases and value of the model without the
    // players outside S (removing nothing keeps the model's own figures).
    const auto effects = loop_removal_effects(m, removed);
    const auto base = summarize(m);
    std::vector<double> vc(removed.size()), vv(removed.size());
    for (std::size_t s = 0; s < removed.size(); ++s) {
        vc[s] = removed[s].empty() ? base.expected_purchases
                                   : base.expected_purchases * (1 - effects[s].purchases);
        vv[s] =
            removed[s].empty() ? base.expected_value : base.expected_value * (1 - effects[s].value);
    }
    return detail::shapley_from_coalitions(names, vc, vv, m.purchases(), m.value());
}

} // namespace journeyloop

#endif // JOURNEYLOOP_IMPL_LOOP_MODEL_IPP
