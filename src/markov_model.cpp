// Estimation and exact absorbing-chain analysis of the Markov model.
#include <journeyloop/detail/grouping.hpp>
#include <journeyloop/errors.hpp>
#include <journeyloop/markov_model.hpp>

#include <Eigen/SparseLU>

#include <deque>

namespace journeyloop {

double markov_model::mean_conversion_value(state_id s) const noexcept {
    const double c = counts_.conversions_from(s);
    return c > 0 ? counts_.value_from(s) / c : 0.0;
}

namespace {

using tc = transition_counts;

// Transient index of a state: START is 0, channel state s is s - 2.
inline std::size_t transient_index(state_id s) { return s == tc::start ? 0 : s - 2; }
inline state_id state_of_transient(std::size_t t) {
    return t == 0 ? tc::start : static_cast<state_id>(t + 2);
}

// Every transient state must reach CONVERSION or NULL, or (I - Q) is
// singular. Found by a backward search from the absorbing states.
void check_absorbing(const transition_counts& counts) {
    const auto n = counts.num_states();
    std::vector<std::vector<state_id>> reverse(n);
    for (state_id s = 0; s < n; ++s)
        for (auto t : counts.targets(s)) reverse[t].push_back(s);
    std::vector<char> seen(n, 0);
    std::deque<state_id> queue{tc::conversion, tc::null};
    seen[tc::conversion] = seen[tc::null] = 1;
    while (!queue.empty()) {
        const auto t = queue.front();
        queue.pop_front();
        for (auto s : reverse[t])
            if (!seen[s]) {
                seen[s] = 1;
                queue.push_back(s);
            }
    }
    for (state_id s = 0; s < n; ++s)
        if (!seen[s] && (s == tc::start || s >= tc::first_channel_state))
            throw numerical_error("state '" + counts.state_label(s) +
                                  "' cannot reach CONVERSION or NULL: the chain has no "
                                  "absorption from it");
}

struct absorption {
    double conversion = 0; // P(START -> ... -> CONVERSION)
    double value = 0;      // expected value collected on the way to CONVERSION
};

// Solves (I - Q_KK) x = [r, r_value] on the kept transient states K, where
// removed states send everything to NULL (x = 0 there). Eigen's SparseLU with
// COLAMD ordering: exact up to rounding (relative residual ~1e-15 on the
// order-1 to order-3 chains of the reference data).
absorption solve_absorption(const markov_model& model, const std::vector<char>& removed) {
    const auto& counts = model.counts();
    const auto& P = model.transitions();
    const std::size_t n_transient = counts.num_states() - 2;
    std::vector<long> index(n_transient, -1);
    long kept = 0;
    for (std::size_t t = 0; t < n_transient; ++t)
        if (!removed[state_of_transient(t)]) index[t] = kept++;
    if (index[0] < 0) return {};

    std::vector<Eigen::Triplet<double>> triplets;
    triplets.reserve(static_cast<std::size_t>(P.nonZeros()) + kept);
    Eigen::MatrixXd rhs = Eigen::MatrixXd::Zero(kept, 2);
    for (std::size_t t = 0; t < n_transient; ++t) {
        const long i = index[t];
        if (i < 0) continue;
        const state_id s = state_of_transient(t);
        triplets.emplace_back(i, i, 1.0);
        for (transition_matrix::InnerIterator it(P, s); it; ++it) {
            const auto target = static_cast<state_id>(it.col());
            if (target == tc::conversion) {
                rhs(i, 0) += it.value();
                rhs(i, 1) += it.value() * model.mean_conversion_value(s);
            } else if (target != tc::null) {
                const long j = index[transient_index(target)];
                if (j >= 0) triplets.emplace_back(i, j, -it.value());
            }
        }
    }
    Eigen::SparseMatrix<double> A(kept, kept);
    A.setFromTriplets(triplets.begin(), triplets.end());
    Eigen::SparseLU<Eigen::SparseMatrix<double>, Eigen::COLAMDOrdering<int>> lu;
    lu.compute(A);
    if (lu.info() != Eigen::Success)
        throw numerical_error("sparse LU factorization of I - Q failed: " + lu.lastErrorMessage());
    const Eigen::MatrixXd x = lu.solve(rhs);
    if (lu.info() != Eigen::Success) throw numerical_error("sparse LU solve of I - Q failed");
    return {x(index[0], 0), x(index[0], 1)};
}

double relative_drop(double without, double with) {
    if (!(with > 0)) return 0.0;
    // Clamp rounding noise: removing states can only lower absorption.
    const double re = 1.0 - without / with;
    return re < 0 ? 0.0 : (re > 1 ? 1.0 : re);
}

std::vector<char> removal_mask(const transition_counts& counts,
                               const std::vector<channel_id>& group) {
    std::vector<char> in_group(counts.channels().size(), 0);
    for (auto c : group) {
        if (c >= in_group.size())
            throw unknown_channel("unknown channel id " + std::to_string(c));
        in_group[c] = 1;
    }
    std::vector<char> removed(counts.num_states(), 0);
    for (state_id s = tc::first_channel_state; s < counts.num_states(); ++s)
        for (auto c : counts.state(s))
            if (in_group[c]) removed[s] = 1;
    return removed;
}

} // namespace

markov_model fit_markov(transition_counts counts) {
    const auto n = counts.num_states();
    if (counts.out_weight(tc::start) <= 0)
        throw invalid_input("cannot fit a Markov model: no journey has a conversion or a null");
    check_absorbing(counts);
    std::vector<Eigen::Triplet<double>> triplets;
    triplets.reserve(counts.num_transitions());
    for (state_id s = 0; s < n; ++s) {
        const double out = counts.out_weight(s);
        const auto targets = counts.targets(s);
        const auto weights = counts.weights(s);
        for (std::size_t i = 0; i < targets.size(); ++i)
            triplets.emplace_back(s, targets[i], weights[i] / out);
    }
    markov_model m;
    m.transitions_.resize(static_cast<long>(n), static_cast<long>(n));
    m.transitions_.setFromTriplets(triplets.begin(), triplets.end());
    m.counts_ = std::move(counts);
    const auto full = solve_absorption(m, std::vector<char>(n, 0));
    m.conversion_rate_ = full.conversion;
    m.value_per_journey_ = full.value;
    return m;
}

removal_effect group_removal_effect(const markov_model& model,
                                    const std::vector<channel_id>& group) {
    const auto without = solve_absorption(model, removal_mask(model.counts(), group));
    return {relative_drop(without.conversion, model.conversion_rate()),
            relative_drop(without.value, model.value_per_journey())};
}

std::vector<removal_effect> removal_effects(const markov_model& model) {
    const auto n = model.counts().channels().size();
    std::vector<removal_effect> out;
    out.reserve(n);
    for (channel_id c = 0; c < n; ++c) out.push_back(group_removal_effect(model, {c}));
    return out;
}

namespace {

attribution attribute_effects(const markov_model& model, std::vector<std::string> names,
                              const std::vector<removal_effect>& effects) {
    double sum_conv = 0, sum_value = 0;
    for (const auto& e : effects) {
        sum_conv += e.conversions;
        sum_value += e.value;
    }
    const double total_conv = model.counts().total_conversions();
    const double total_value = model.counts().total_value();
    attribution out{std::move(names), {}, {}};
    for (const auto& e : effects) {
        out.conversions.push_back(sum_conv > 0 ? e.conversions / sum_conv * total_conv : 0.0);
        out.value.push_back(sum_value > 0 ? e.value / sum_value * total_value : 0.0);
    }
    return out;
}

} // namespace

attribution markov_attribution(const markov_model& model) {
    return attribute_effects(model, model.counts().channels().names(), removal_effects(model));
}

attribution markov_attribution(const markov_model& model,
                               const std::vector<std::string>& group_of_channel,
                               const std::vector<std::string>& extra_groups) {
    const auto& channels = model.counts().channels();
    if (group_of_channel.size() != channels.size())
        throw invalid_input("markov_attribution: " + std::to_string(group_of_channel.size()) +
                            " group names for " + std::to_string(channels.size()) +
                            " channels");
    const auto groups = detail::make_grouping(group_of_channel, extra_groups);
    std::vector<std::vector<channel_id>> members(groups.names.size());
    for (channel_id c = 0; c < channels.size(); ++c)
        members[groups.group_of_item[c]].push_back(c);
    std::vector<removal_effect> effects;
    effects.reserve(members.size());
    for (const auto& group : members)
        effects.push_back(group.empty() ? removal_effect{} : group_removal_effect(model, group));
    return attribute_effects(model, groups.names, effects);
}

} // namespace journeyloop
