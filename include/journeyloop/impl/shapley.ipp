// Markov Shapley values (exact and sampled) for both models, and the skip
// removal rule.
#ifndef JOURNEYLOOP_IMPL_SHAPLEY_IPP
#define JOURNEYLOOP_IMPL_SHAPLEY_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/impl/model_access.hpp>

#include <journeyloop/errors.hpp>
#include <journeyloop/interrupt.hpp>
#include <journeyloop/shapley.hpp>
#include <journeyloop/threads.hpp>
#include <journeyloop/transition_counts.hpp>

#include <Eigen/Dense>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace journeyloop {

JOURNEYLOOP_IMPL_NAMESPACE(shapley_0) {

using tc = transition_counts;

JOURNEYLOOP_IMPL_INLINE std::uint32_t transient_of(state_id s) {
    return s == tc::start ? 0 : static_cast<std::uint32_t>(s - 2);
}

JOURNEYLOOP_IMPL_INLINE double drop_of(double without, double with) {
    if (std::isnan(without) || std::isnan(with))
        throw numerical_error("a removal gave a figure that is not a number");
    if (!(with > 0)) return 0.0;
    return std::clamp(1.0 - without / with, 0.0, 1.0);
}

// Under the skip rule only the converting walks whose every state is removed
// are lost: the conversion probability (and value) of the chain in which
// every channel state outside `kept` is removed under the NULL rule, less
// START's own direct conversions.
JOURNEYLOOP_IMPL_INLINE removal_effect skip_effect(const markov_model& model,
                                                   const std::vector<char>& in_removed_set) {
    const auto& c = detail::chain_of(model);
    std::vector<char> others(in_removed_set.size(), 0);
    bool any = false;
    for (std::size_t t = 1; t < in_removed_set.size(); ++t) {
        others[t] = in_removed_set[t] ? 0 : 1;
        any = any || in_removed_set[t];
    }
    if (!any) return {};
    const auto within = detail::solve_without(c, others);
    const double lost = std::max(0.0, within.first - c.base[c.start]);
    const double lost_value = std::max(0.0, within.second - c.base[c.n + c.start]);
    const double p = model.conversion_rate(), v = model.value_per_journey();
    return {p > 0 ? std::clamp(lost / p, 0.0, 1.0) : 0.0,
            v > 0 ? std::clamp(lost_value / v, 0.0, 1.0) : 0.0};
}

// The transient states (by transient index) holding a channel of `group`.
JOURNEYLOOP_IMPL_INLINE std::vector<char> states_of_group(const markov_model& model,
                                                          const std::vector<channel_id>& group) {
    const auto& counts = model.counts();
    std::vector<char> in_group(counts.channels().size(), 0);
    for (auto ch : group) {
        if (ch >= in_group.size())
            throw unknown_channel("unknown channel id " + std::to_string(ch));
        in_group[ch] = 1;
    }
    std::vector<char> out(counts.num_states() - 2, 0);
    for (state_id s = tc::first_channel_state; s < counts.num_states(); ++s)
        for (auto ch : counts.state(s))
            if (ch < in_group.size() && in_group[ch]) out[transient_of(s)] = 1;
    return out;
}

} // JOURNEYLOOP_IMPL_NAMESPACE(shapley_0)

JOURNEYLOOP_IMPL_INLINE std::vector<removal_effect> group_removal_effects(
    const markov_model& model, const std::vector<std::vector<channel_id>>& groups,
    removal_rule rule, const progress_callback& progress) {
    if (rule == removal_rule::null) return group_removal_effects(model, groups, progress);
    std::vector<removal_effect> out;
    out.reserve(groups.size());
    for (const auto& g : groups) { // check every id before any work
        for (auto ch : g)
            if (ch >= model.counts().channels().size())
                throw unknown_channel("unknown channel id " + std::to_string(ch));
    }
    for (const auto& g : groups) {
        out.push_back(g.empty() ? removal_effect{} : skip_effect(model, states_of_group(model, g)));
        if (progress) progress(out.size(), groups.size());
    }
    return out;
}

JOURNEYLOOP_IMPL_INLINE std::vector<removal_effect> state_removal_effects(
    const markov_model& model, const std::vector<state_id>& states, removal_rule rule,
    const progress_callback& progress) {
    if (rule == removal_rule::null) return state_removal_effects(model, states, progress);
    const auto& counts = model.counts();
    for (auto s : states)
        if (s < tc::first_channel_state || s >= counts.num_states())
            throw invalid_input("state " + std::to_string(s) +
                                " is not a channel state of the model");
    std::vector<removal_effect> out;
    out.reserve(states.size());
    for (auto s : states) {
        std::vector<char> removed(counts.num_states() - 2, 0);
        removed[transient_of(s)] = 1;
        out.push_back(skip_effect(model, removed));
        if (progress) progress(out.size(), states.size());
    }
    return out;
}

JOURNEYLOOP_IMPL_NAMESPACE(shapley_1) {

// E[purchases], E[value], P(first purchase), E[repeat purchases per buyer]
// from the views' figures (loop_model.hpp).
struct loop_figures {
    double purchases = 0, value = 0, first = 0, repeat = 0;
};

JOURNEYLOOP_IMPL_INLINE loop_figures loop_figures_of(double h, double vf, double r, double vr) {
    if (!(r < 1))
        throw numerical_error(
            "the repeat probability is 1: every purchase is followed by another, so the "
            "expected number of purchases is infinite");
    return {h / (1 - r), vf + h * vr / (1 - r), h, r / (1 - r)};
}

} // JOURNEYLOOP_IMPL_NAMESPACE(shapley_1)

JOURNEYLOOP_IMPL_INLINE std::vector<loop_removal_effect> loop_removal_effects(
    const loop_model& m, const std::vector<std::vector<channel_id>>& groups, removal_rule rule) {
    if (rule == removal_rule::null) return loop_removal_effects(m, groups);
    const double h = m.first().conversion_rate();
    const double r = m.repeat() ? m.repeat()->conversion_rate() : 0.0;
    const double vf = m.first().value_per_journey();
    const double vr = m.repeat() ? m.repeat()->value_per_journey() : 0.0;
    const auto base = loop_figures_of(h, vf, r, vr);
    const auto first = group_removal_effects(m.first(), groups, rule);
    std::vector<removal_effect> repeat(groups.size());
    if (m.repeat()) repeat = group_removal_effects(*m.repeat(), groups, rule);
    std::vector<loop_removal_effect> out(groups.size());
    for (std::size_t g = 0; g < groups.size(); ++g) {
        const auto t = loop_figures_of(h * (1 - first[g].conversions), vf * (1 - first[g].value),
                                       r * (1 - repeat[g].conversions), vr * (1 - repeat[g].value));
        out[g].purchases = drop_of(t.purchases, base.purchases);
        out[g].value = drop_of(t.value, base.value);
        out[g].first_purchases = first[g].conversions;
        out[g].repeat_purchases = drop_of(t.repeat, base.repeat);
    }
    return out;
}

JOURNEYLOOP_IMPL_NAMESPACE(shapley_3) {

JOURNEYLOOP_IMPL_INLINE attribution shared_out(const markov_model& model,
                                               std::vector<std::string> names,
                                               const std::vector<removal_effect>& effects) {
    std::vector<double> conv, value;
    for (const auto& e : effects) {
        conv.push_back(e.conversions);
        value.push_back(e.value);
    }
    return {std::move(names), detail::share_out(conv, model.counts().total_conversions()),
            detail::share_out(value, model.counts().total_value())};
}

} // JOURNEYLOOP_IMPL_NAMESPACE(shapley_3)

JOURNEYLOOP_IMPL_INLINE attribution
group_markov_attribution(const markov_model& model, const std::vector<std::string>& names,
                         const std::vector<std::vector<channel_id>>& groups, removal_rule rule,
                         const progress_callback& progress) {
    if (rule == removal_rule::null) return group_markov_attribution(model, names, groups, progress);
    if (names.size() != groups.size())
        throw invalid_input("group_markov_attribution: " + std::to_string(names.size()) +
                            " names for " + std::to_string(groups.size()) + " groups");
    return shared_out(model, names, group_removal_effects(model, groups, rule, progress));
}

JOURNEYLOOP_IMPL_INLINE attribution state_markov_attribution(const markov_model& model,
                                                             const std::vector<state_id>& states,
                                                             removal_rule rule,
                                                             const progress_callback& progress) {
    if (rule == removal_rule::null) return state_markov_attribution(model, states, progress);
    const auto effects = state_removal_effects(model, states, rule, progress);
    std::vector<std::string> names;
    for (auto s : states) names.push_back(model.counts().state_label(s));
    return shared_out(model, std::move(names), effects);
}

JOURNEYLOOP_IMPL_INLINE loop_attribution
loop_markov_attribution(const loop_model& m, const std::vector<std::string>& names,
                        const std::vector<std::vector<channel_id>>& groups, removal_rule rule) {
    if (rule == removal_rule::null) return loop_markov_attribution(m, names, groups);
    if (names.size() != groups.size())
        throw invalid_input("loop_markov_attribution: " + std::to_string(names.size()) +
                            " names for " + std::to_string(groups.size()) + " groups");
    const auto effects = loop_removal_effects(m, groups, rule);
    std::vector<double> purchases, value, first, repeat;
    for (const auto& e : effects) {
        purchases.push_back(e.purchases);
        value.push_back(e.value);
        first.push_back(e.first_purchases);
        repeat.push_back(e.repeat_purchases);
    }
    return {
        {names, detail::share_out(purchases, m.purchases()), detail::share_out(value, m.value())},
        detail::share_out(first, m.buyers()),
        detail::share_out(repeat, m.repeat_purchases())};
}

JOURNEYLOOP_IMPL_NAMESPACE(shapley_2) {

// The game of a model: a chain of channel states shared by one or two start
// rows (the funnel model's START; the loop model's START and PURCHASE), each
// coalition's worth computed from the conversion probability and value from
// each start row.
struct sparse_entry {
    std::uint32_t to = 0;
    double p = 0;
};

struct start_row {
    std::vector<sparse_entry> edges; ///< to local channel states
    double r = 0, r_value = 0;       ///< straight to CONVERSION
};

struct game_chain {
    std::size_t n = 0; ///< channel states (local index = state id - first_channel_state)
    std::vector<std::vector<sparse_entry>> out, in; ///< between channel states, no self-loop
    std::vector<double> self, r, r_value;
    std::vector<start_row> starts;
    std::vector<std::vector<std::uint32_t>> states_of_player; ///< local states holding a player
    std::vector<std::uint32_t> players_needed; ///< distinct players of each local state
    std::vector<std::uint32_t> base_states;    ///< states holding no player's channel
};

JOURNEYLOOP_IMPL_INLINE start_row start_of(const markov_model& view) {
    const auto& P = view.transitions();
    start_row s;
    for (transition_matrix::InnerIterator it(P, tc::start); it; ++it) {
        const auto t = static_cast<state_id>(it.col());
        if (t == tc::conversion) {
            s.r += it.value();
            s.r_value += it.value() * view.mean_conversion_value(tc::start);
        } else if (t >= tc::first_channel_state) {
            s.edges.push_back(
                {static_cast<std::uint32_t>(t - tc::first_channel_state), it.value()});
        }
    }
    return s;
}

// `views`: the views whose START rows start the walks; their channel rows
// are the same (the first view's are read).
JOURNEYLOOP_IMPL_INLINE game_chain make_game(const std::vector<const markov_model*>& views,
                                             const std::vector<int>& owner, std::size_t n_players) {
    const auto& view = *views.front();
    const auto& counts = view.counts();
    const auto& P = view.transitions();
    game_chain g;
    g.n = counts.num_states() - tc::first_channel_state;
    g.out.resize(g.n);
    g.in.resize(g.n);
    g.self.assign(g.n, 0.0);
    g.r.assign(g.n, 0.0);
    g.r_value.assign(g.n, 0.0);
    g.states_of_player.resize(n_players);
    g.players_needed.assign(g.n, 0);
    for (std::uint32_t u = 0; u < g.n; ++u) {
        const auto s = static_cast<state_id>(u + tc::first_channel_state);
        for (transition_matrix::InnerIterator it(P, static_cast<long>(s)); it; ++it) {
            const auto t = static_cast<state_id>(it.col());
            if (t == tc::conversion) {
                g.r[u] += it.value();
                g.r_value[u] += it.value() * view.mean_conversion_value(s);
            } else if (t == s) {
                g.self[u] += it.value();
            } else if (t >= tc::first_channel_state) {
                const auto v = static_cast<std::uint32_t>(t - tc::first_channel_state);
                g.out[u].push_back({v, it.value()});
                g.in[v].push_back({u, it.value()});
            }
        }
        std::vector<int> players;
        for (auto ch : counts.state(s))
            if (ch < owner.size() && owner[ch] >= 0) players.push_back(owner[ch]);
        std::sort(players.begin(), players.end());
        players.erase(std::unique(players.begin(), players.end()), players.end());
        g.players_needed[u] = static_cast<std::uint32_t>(players.size());
        for (int p : players) g.states_of_player[static_cast<std::size_t>(p)].push_back(u);
        if (players.empty()) g.base_states.push_back(u);
    }
    for (const auto* v : views) g.starts.push_back(start_of(*v));
    return g;
}

/// Coalitions grown one player at a time, each worth solved exactly by
/// bordering: with S the allowed channel states and G = (I - Q_SS)^-1,
/// allowing the block D of new states gives the inverse on S + D from the
/// Schur complement of I - Q_SS (the new states' m x m system), so that a
/// whole ordering of the players costs about one dense factorisation of the
/// chain instead of a solve per coalition.
class bordered_walk {
public:
    explicit bordered_walk(const game_chain& g)
        : g_(g), G_(static_cast<long>(g.n), static_cast<long>(g.n)), x_(static_cast<long>(g.n)),
          xv_(static_cast<long>(g.n)) {
        reset_empty();
        add_block(g_.base_states);
        base_k_ = k_;
        base_pos_ = pos_;
        base_order_ = order_;
        base_G_ = G_.topLeftCorner(static_cast<long>(k_), static_cast<long>(k_));
        base_x_ = x_.head(static_cast<long>(k_));
        base_xv_ = xv_.head(static_cast<long>(k_));
    }

    /// Back to the coalition of no player.
    void reset() {
        k_ = base_k_;
        pos_ = base_pos_;
        order_ = base_order_;
        missing_ = g_.players_needed;
        const auto k = static_cast<long>(k_);
        G_.topLeftCorner(k, k) = base_G_;
        x_.head(k) = base_x_;
        xv_.head(k) = base_xv_;
    }

    /// Player j joins.
    void add_player(std::size_t j) {
        block_.clear();
        for (auto u : g_.states_of_player[j])
            if (--missing_[u] == 0) block_.push_back(u);
        add_block(block_);
    }

    /// Conversion probability and value from start row `s`.
    std::pair<double, double> worth(std::size_t s) const {
        const auto& row = g_.starts[s];
        double p = row.r, v = row.r_value;
        for (const auto& e : row.edges) {
            const auto at = pos_[e.to];
            if (at >= 0) {
                p += e.p * x_[at];
                v += e.p * xv_[at];
            }
        }
        return {p, v};
    }

private:
    void reset_empty() {
        k_ = 0;
        pos_.assign(g_.n, -1);
        order_.clear();
        missing_ = g_.players_needed;
    }

    void add_block(const std::vector<std::uint32_t>& block) {
        const auto m = static_cast<long>(block.size());
        if (m == 0) return;
        const auto k = static_cast<long>(k_);
        for (long j = 0; j < m; ++j) {
            pos_[block[static_cast<std::size_t>(j)]] = static_cast<int>(k + j);
            order_.push_back(block[static_cast<std::size_t>(j)]);
        }
        // E = G B (k x m), F = C G (m x k), W = I - Q_DD, C x and C xv.
        Eigen::MatrixXd E = Eigen::MatrixXd::Zero(k, m), F = Eigen::MatrixXd::Zero(m, k);
        Eigen::MatrixXd W = Eigen::MatrixXd::Identity(m, m);
        Eigen::VectorXd cx = Eigen::VectorXd::Zero(m), cxv = Eigen::VectorXd::Zero(m);
        for (long j = 0; j < m; ++j) {
            const auto u = block[static_cast<std::size_t>(j)];
            W(j, j) -= g_.self[u];
            cx[j] = g_.r[u];
            cxv[j] = g_.r_value[u];
            for (const auto& e : g_.in[u]) {
                const int at = pos_[e.to];
                if (at >= 0 && at < k) E.col(j) += e.p * G_.col(at).head(k);
            }
            for (const auto& e : g_.out[u]) {
                const int at = pos_[e.to];
                if (at < 0) continue;
                if (at >= k) {
                    W(j, at - k) -= e.p;
                } else {
                    F.row(j) += e.p * G_.row(at).head(k);
                    cx[j] += e.p * x_[at];
                    cxv[j] += e.p * xv_[at];
                }
            }
        }
        // Schur complement: Sc = W - C E, where C E's row j is sum over the
        // kept successors i of p(j -> i) E(i, .).
        Eigen::MatrixXd Sc = W;
        for (long j = 0; j < m; ++j)
            for (const auto& e : g_.out[block[static_cast<std::size_t>(j)]]) {
                const int at = pos_[e.to];
                if (at >= 0 && at < k) Sc.row(j) -= e.p * E.row(at);
            }
        const Eigen::MatrixXd Si = m == 1 ? Eigen::MatrixXd::Constant(1, 1, 1.0 / Sc(0, 0))
                                          : Eigen::MatrixXd(Sc.inverse());
        const Eigen::VectorXd z = Si * cx, zv = Si * cxv;
        x_.head(k) += E * z;
        xv_.head(k) += E * zv;
        x_.segment(k, m) = z;
        xv_.segment(k, m) = zv;
        if (k > 0) {
            const Eigen::MatrixXd SiF = Si * F;
            G_.topLeftCorner(k, k).noalias() += E * SiF;
            G_.block(0, k, k, m).noalias() = E * Si;
            G_.block(k, 0, m, k) = SiF;
        }
        G_.block(k, k, m, m) = Si;
        k_ += static_cast<std::size_t>(m);
    }

    const game_chain& g_;
    Eigen::MatrixXd G_;
    Eigen::VectorXd x_, xv_;
    std::size_t k_ = 0, base_k_ = 0;
    std::vector<int> pos_, base_pos_;
    std::vector<std::uint32_t> order_, base_order_, missing_, block_;
    Eigen::MatrixXd base_G_;
    Eigen::VectorXd base_x_, base_xv_;
};

/// The same walk by the solver, one solve of each view per coalition, for
/// chains too large for a dense inverse.
class solver_walk {
public:
    solver_walk(const game_chain& g, std::vector<const markov_model*> views)
        : g_(g), views_(std::move(views)) {
        reset();
    }
    void reset() {
        missing_ = g_.players_needed;
        removed_.assign(g_.n + 1, 0);
        for (std::size_t u = 0; u < g_.n; ++u) removed_[u + 1] = missing_[u] > 0 ? 1 : 0;
        solve();
    }
    void add_player(std::size_t j) {
        for (auto u : g_.states_of_player[j])
            if (--missing_[u] == 0) removed_[u + 1] = 0;
        solve();
    }
    std::pair<double, double> worth(std::size_t s) const { return worths_[s]; }

private:
    void solve() {
        worths_.clear();
        for (const auto* v : views_)
            worths_.push_back(detail::solve_without(detail::chain_of(*v), removed_));
    }
    const game_chain& g_;
    std::vector<const markov_model*> views_;
    std::vector<std::uint32_t> missing_;
    std::vector<char> removed_; ///< by transient index (0 is START)
    std::vector<std::pair<double, double>> worths_;
};

// The games' worths from the start rows' (conversion, value) pairs.
using combine_fn = std::vector<double> (*)(const std::vector<std::pair<double, double>>&);

JOURNEYLOOP_IMPL_INLINE std::vector<double> funnel_games(
    const std::vector<std::pair<double, double>>& w) {
    return {w[0].first, w[0].second};
}

JOURNEYLOOP_IMPL_INLINE std::vector<double> loop_games(
    const std::vector<std::pair<double, double>>& w) {
    const auto f = w.size() > 1 ? loop_figures_of(w[0].first, w[0].second, w[1].first, w[1].second)
                                : loop_figures_of(w[0].first, w[0].second, 0.0, 0.0);
    return {f.purchases, f.value, f.first, f.repeat};
}

JOURNEYLOOP_IMPL_INLINE std::uint64_t mix(std::uint64_t z) noexcept {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// The ordering of pair `index`: a Fisher-Yates shuffle driven by splitmix64
// from the seed and the index, so that a pair draws the same ordering on
// every thread and platform.
JOURNEYLOOP_IMPL_INLINE std::vector<std::size_t> ordering(std::size_t n, std::uint64_t seed,
                                                          std::uint64_t index) {
    std::vector<std::size_t> p(n);
    std::iota(p.begin(), p.end(), std::size_t{0});
    std::uint64_t state =
        mix(mix(seed + 0x632be59bd9b4e019ULL) + mix(index ^ 0x9e3779b97f4a7c15ULL));
    for (std::size_t i = n; i > 1; --i) {
        state += 0x9e3779b97f4a7c15ULL;
        // The bias of the remainder is below i / 2^64.
        const auto r = static_cast<std::size_t>(mix(state) % i);
        std::swap(p[i - 1], p[r]);
    }
    return p;
}

// Sum over an ordering's marginal contributions: out[i * games + g] gets
// player i's contribution to game g, scaled by `weight`.
template <class Walk>
void walk_ordering(Walk& walk, const std::vector<std::size_t>& order, combine_fn combine,
                   std::size_t views, std::size_t games, double weight, std::vector<double>& out) {
    walk.reset();
    std::vector<std::pair<double, double>> w(views);
    for (std::size_t s = 0; s < views; ++s) w[s] = walk.worth(s);
    auto before = combine(w);
    for (auto player : order) {
        walk.add_player(player);
        for (std::size_t s = 0; s < views; ++s) w[s] = walk.worth(s);
        auto after = combine(w);
        for (std::size_t g = 0; g < games; ++g)
            out[player * games + g] += weight * (after[g] - before[g]);
        before = std::move(after);
    }
}

struct sampled_values {
    std::vector<double> phi, se; ///< [player * games + game]
    std::size_t permutations = 0;
};

JOURNEYLOOP_IMPL_INLINE sampled_values sample(const game_chain& g,
                                              const std::vector<const markov_model*>& views,
                                              std::size_t n_players, combine_fn combine,
                                              std::size_t games, const shapley_options& o) {
    const std::size_t pairs = o.permutations / 2;
    const std::size_t width = n_players * games;
    // Each pair's averages, kept to be summed in pair order whatever thread
    // computed them.
    std::vector<double> y(pairs * width, 0.0);
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex lock;
    std::size_t done = 0;
    std::exception_ptr error;
    const bool bordered = g.n <= o.dense_limit;
    auto work = [&] {
        try {
            std::optional<bordered_walk> dense;
            std::optional<solver_walk> solved;
            if (bordered) dense.emplace(g);
            else solved.emplace(g, views);
            std::vector<double> row(width);
            for (;;) {
                if (failed.load(std::memory_order_relaxed)) return;
                detail::stop_point();
                const std::size_t m = next.fetch_add(1);
                if (m >= pairs) return;
                auto order = ordering(n_players, o.seed, m);
                std::fill(row.begin(), row.end(), 0.0);
                for (int half = 0; half < 2; ++half) {
                    if (half == 1) std::reverse(order.begin(), order.end());
                    if (dense) walk_ordering(*dense, order, combine, views.size(), games, 0.5, row);
                    else walk_ordering(*solved, order, combine, views.size(), games, 0.5, row);
                }
                std::copy(row.begin(), row.end(), y.begin() + static_cast<long>(m * width));
                if (o.progress) {
                    std::lock_guard<std::mutex> guard(lock);
                    o.progress(++done, pairs);
                }
            }
        } catch (...) {
            std::lock_guard<std::mutex> guard(lock);
            if (!error) error = std::current_exception();
            failed = true;
        }
    };
    std::size_t threads = o.threads != 0 ? o.threads : detail::stage_threads(2);
    threads = std::max<std::size_t>(1, std::min(threads, pairs));
    {
        std::vector<std::thread> workers;
        for (std::size_t t = 1; t < threads; ++t) workers.emplace_back(work);
        work();
        for (auto& w : workers) w.join();
    }
    if (error) std::rethrow_exception(error);
    sampled_values out;
    out.permutations = 2 * pairs;
    out.phi.assign(width, 0.0);
    out.se.assign(width, 0.0);
    const double np = static_cast<double>(pairs);
    for (std::size_t m = 0; m < pairs; ++m)
        for (std::size_t i = 0; i < width; ++i) out.phi[i] += y[m * width + i];
    for (auto& v : out.phi) v /= np;
    for (std::size_t m = 0; m < pairs; ++m)
        for (std::size_t i = 0; i < width; ++i) {
            const double d = y[m * width + i] - out.phi[i];
            out.se[i] += d * d;
        }
    for (auto& v : out.se) v = std::sqrt(v / (np - 1) / np);
    return out;
}

// Who owns each channel, after checking the players (names match, ids in
// range, no channel in two players).
JOURNEYLOOP_IMPL_INLINE std::vector<int> owners(
    const channel_dictionary& channels, const std::vector<std::string>& names,
    const std::vector<std::vector<channel_id>>& players) {
    if (names.size() != players.size())
        throw invalid_input("shapley_values: " + std::to_string(names.size()) + " names for " +
                            std::to_string(players.size()) + " players");
    std::vector<int> owner(channels.size(), -1);
    for (std::size_t i = 0; i < players.size(); ++i)
        for (auto c : players[i]) {
            if (c >= owner.size())
                throw unknown_channel("shapley_values: unknown channel id " + std::to_string(c));
            if (owner[c] >= 0 && owner[c] != static_cast<int>(i))
                throw invalid_input("channel '" + channels.name(c) + "' belongs to two players");
            owner[c] = static_cast<int>(i);
        }
    return owner;
}

JOURNEYLOOP_IMPL_INLINE bool use_exact(const shapley_options& o, std::size_t n) {
    switch (o.method) {
    case shapley_method::exact:
        if (n > max_shapley_players)
            throw invalid_input("exact Shapley values enumerate 2^n coalitions; " +
                                std::to_string(n) + " players is more than " +
                                std::to_string(max_shapley_players) +
                                " (use method \"sampled\", or attribute teams or groups of "
                                "channels)");
        return true;
    case shapley_method::sampled: break;
    case shapley_method::automatic:
        if (o.exact_limit > max_shapley_players)
            throw invalid_input("shapley_options: exact_limit " + std::to_string(o.exact_limit) +
                                " is more than max_shapley_players (" +
                                std::to_string(max_shapley_players) + ")");
        if (n <= o.exact_limit) return true;
        break;
    default: throw invalid_input("shapley_options: unknown method");
    }
    if (o.permutations < 4 || o.permutations % 2 != 0)
        throw invalid_input("shapley_options: permutations must be an even number >= 4 (each "
                            "sampled ordering and its reverse; two pairs at least for a standard "
                            "error), got " +
                            std::to_string(o.permutations));
    return false;
}

// Exact Shapley values from every coalition's worths `v[s * games + g]`.
JOURNEYLOOP_IMPL_INLINE std::vector<double> exact_phi(std::size_t n, std::size_t games,
                                                      const std::vector<double>& v) {
    std::vector<double> weight(n + 1, 0.0);
    for (std::size_t k = 0; k < n; ++k) {
        double w = 1.0 / static_cast<double>(n); // 1 / (n * C(n - 1, k))
        for (std::size_t j = 1; j <= k; ++j)
            w *= static_cast<double>(j) / static_cast<double>(n - k + j - 1);
        weight[k] = w;
    }
    std::vector<double> phi(n * games, 0.0);
    const std::size_t coalitions = std::size_t{1} << n;
    for (std::size_t s = 0; s < coalitions; ++s) {
        std::size_t size = 0;
        for (std::size_t i = 0; i < n; ++i) size += s >> i & 1;
        for (std::size_t i = 0; i < n; ++i)
            if (!(s >> i & 1)) {
                const auto with = s | (std::size_t{1} << i);
                for (std::size_t g = 0; g < games; ++g)
                    phi[i * games + g] += weight[size] * (v[with * games + g] - v[s * games + g]);
            }
    }
    return phi;
}

/// Coalitions with at most this many allowed channel states, or this many
/// removed ones, are solved densely (a system of that size, or the removal
/// formula over the rows and columns of the removed states of the full
/// inverse) rather than by the engine's batched removals.
inline constexpr std::size_t small_coalition_states = 64;

// The (conversion, value) worth of every coalition in each view (coalition s
// removes the players outside it): densely where few states are kept or
// removed and the chain has at most `dense_limit` channel states, by the
// engine's batched removals otherwise.
JOURNEYLOOP_IMPL_INLINE std::vector<std::vector<std::pair<double, double>>> coalition_worths(
    const std::vector<const markov_model*>& views, const game_chain& g,
    const std::vector<std::vector<channel_id>>& players, std::size_t dense_limit,
    const progress_callback& progress) {
    const std::size_t n = players.size(), coalitions = std::size_t{1} << n;
    std::vector<std::vector<std::pair<double, double>>> out(coalitions);
    std::vector<char> solved(coalitions, 0);
    if (g.n > 0 && g.n <= dense_limit) {
        // The players each state needs (n <= max_shapley_players bits).
        std::vector<std::uint32_t> needs(g.n, 0);
        for (std::size_t i = 0; i < n; ++i)
            for (auto u : g.states_of_player[i]) needs[u] |= std::uint32_t{1} << i;
        const auto N = static_cast<long>(g.n);
        // The full chain, factorised on first use: x = (I - Q)^-1 [r, r_value],
        // f_s = the expected visits from start row s, and the columns of the
        // inverse as the removal formula asks for them.
        std::optional<Eigen::PartialPivLU<Eigen::MatrixXd>> lu;
        Eigen::MatrixXd x;
        std::vector<Eigen::VectorXd> f, column(g.n);
        auto factorise = [&] {
            if (lu) return;
            Eigen::MatrixXd M = Eigen::MatrixXd::Identity(N, N);
            Eigen::MatrixXd rhs(N, 2);
            for (long u = 0; u < N; ++u) {
                const auto uu = static_cast<std::size_t>(u);
                M(u, u) -= g.self[uu];
                for (const auto& e : g.out[uu]) M(u, static_cast<long>(e.to)) -= e.p;
                rhs(u, 0) = g.r[uu];
                rhs(u, 1) = g.r_value[uu];
            }
            lu.emplace(M);
            x = lu->solve(rhs);
            for (const auto& row : g.starts) {
                Eigen::VectorXd q = Eigen::VectorXd::Zero(N);
                for (const auto& e : row.edges) q[static_cast<long>(e.to)] += e.p;
                f.push_back(lu->transpose().solve(q));
            }
        };
        auto column_of = [&](std::uint32_t j) -> const Eigen::VectorXd& {
            if (column[j].size() == 0)
                column[j] = lu->solve(Eigen::VectorXd::Unit(N, static_cast<long>(j)));
            return column[j];
        };
        std::vector<std::uint32_t> kept, removed;
        std::vector<long> at(g.n, -1);
        for (std::size_t s = 0; s < coalitions; ++s) {
            kept.clear();
            removed.clear();
            for (std::uint32_t u = 0; u < g.n; ++u)
                ((needs[u] & ~static_cast<std::uint32_t>(s)) != 0 ? removed : kept).push_back(u);
            if (removed.empty()) {
                for (const auto* v : views)
                    out[s].emplace_back(v->conversion_rate(), v->value_per_journey());
            } else if (kept.size() <= small_coalition_states && kept.size() <= removed.size()) {
                // The chain of the kept states alone: (I - Q_AA) y = [r_A, r_value_A].
                const auto m = static_cast<long>(kept.size());
                for (long a = 0; a < m; ++a) at[kept[static_cast<std::size_t>(a)]] = a;
                Eigen::MatrixXd W = Eigen::MatrixXd::Identity(m, m), rhs(m, 2);
                for (long a = 0; a < m; ++a) {
                    const auto u = kept[static_cast<std::size_t>(a)];
                    W(a, a) -= g.self[u];
                    for (const auto& e : g.out[u])
                        if (at[e.to] >= 0) W(a, at[e.to]) -= e.p;
                    rhs(a, 0) = g.r[u];
                    rhs(a, 1) = g.r_value[u];
                }
                const Eigen::MatrixXd y =
                    m > 0 ? Eigen::MatrixXd(W.partialPivLu().solve(rhs)) : Eigen::MatrixXd(0, 2);
                for (const auto& row : g.starts) {
                    double p = row.r, v = row.r_value;
                    for (const auto& e : row.edges)
                        if (at[e.to] >= 0) {
                            p += e.p * y(at[e.to], 0);
                            v += e.p * y(at[e.to], 1);
                        }
                    out[s].emplace_back(p, v);
                }
                for (auto u : kept) at[u] = -1;
            } else if (removed.size() <= small_coalition_states) {
                // Removing R loses the walks that reach it: p(-R) = p - f_R^T
                // F_RR^-1 x_R, with F the full inverse (f_R F_RR^-1 are the
                // probabilities of first reaching R at each of its states).
                factorise();
                const auto m = static_cast<long>(removed.size());
                Eigen::MatrixXd FRR(m, m), xR(m, 2);
                for (long b = 0; b < m; ++b) {
                    const auto& col = column_of(removed[static_cast<std::size_t>(b)]);
                    for (long a = 0; a < m; ++a)
                        FRR(a, b) = col[static_cast<long>(removed[static_cast<std::size_t>(a)])];
                    xR.row(b) = x.row(static_cast<long>(removed[static_cast<std::size_t>(b)]));
                }
                const Eigen::MatrixXd z = FRR.partialPivLu().solve(xR);
                for (std::size_t v = 0; v < views.size(); ++v) {
                    double lost = 0, lost_value = 0;
                    for (long a = 0; a < m; ++a) {
                        const double fa =
                            f[v][static_cast<long>(removed[static_cast<std::size_t>(a)])];
                        lost += fa * z(a, 0);
                        lost_value += fa * z(a, 1);
                    }
                    out[s].emplace_back(views[v]->conversion_rate() - lost,
                                        views[v]->value_per_journey() - lost_value);
                }
            } else {
                continue;
            }
            solved[s] = 1;
        }
    }
    std::vector<std::size_t> rest;
    std::vector<std::vector<channel_id>> removed;
    for (std::size_t s = 0; s < coalitions; ++s) {
        if (solved[s]) continue;
        rest.push_back(s);
        removed.emplace_back();
        for (std::size_t i = 0; i < n; ++i)
            if (!(s >> i & 1))
                removed.back().insert(removed.back().end(), players[i].begin(), players[i].end());
    }
    for (const auto* view : views) {
        if (rest.empty()) break;
        const auto effects = group_removal_effects(*view, removed, progress);
        const double p = view->conversion_rate(), v = view->value_per_journey();
        for (std::size_t k = 0; k < rest.size(); ++k)
            out[rest[k]].emplace_back(removed[k].empty() ? p : p * (1 - effects[k].conversions),
                                      removed[k].empty() ? v : v * (1 - effects[k].value));
    }
    if (rest.empty() && progress) progress(1, 1); // one step: the dense solves
    return out;
}

JOURNEYLOOP_IMPL_INLINE shapley_result
shapley_of(const std::vector<const markov_model*>& views, const std::vector<std::string>& names,
           const std::vector<std::vector<channel_id>>& players, const shapley_options& o,
           combine_fn combine, const std::vector<double>& totals) {
    const auto& channels = views.front()->counts().channels();
    const auto owner = owners(channels, names, players);
    const std::size_t n = players.size(), games = totals.size();
    const bool exact = use_exact(o, n);
    // v(all) and v(none) by the solver: the sampled values are scaled by
    // total / (v(all) - v(none)), so that they sum to the total exactly when
    // each ordering's contributions sum to v(all) - v(none).
    std::vector<std::pair<double, double>> all, none;
    {
        std::vector<channel_id> every;
        for (const auto& p : players) every.insert(every.end(), p.begin(), p.end());
        const auto mask = states_of_group(*views.front(), every);
        for (const auto* v : views) {
            all.emplace_back(v->conversion_rate(), v->value_per_journey());
            none.push_back(detail::solve_without(detail::chain_of(*v), mask));
        }
    }
    const auto v_all = combine(all), v_none = combine(none);
    shapley_result out;
    out.names = names;
    std::vector<double> phi, se;
    const auto game = make_game(views, owner, n);
    if (exact) {
        const auto worths = coalition_worths(views, game, players, o.dense_limit, o.progress);
        std::vector<double> v;
        v.reserve(worths.size() * games);
        for (const auto& w : worths) {
            const auto g = combine(w);
            v.insert(v.end(), g.begin(), g.end());
        }
        phi = exact_phi(n, games, v);
        se.assign(phi.size(), 0.0);
    } else {
        auto s = sample(game, views, n, combine, games, o);
        phi = std::move(s.phi);
        se = std::move(s.se);
        out.sampled = true;
        out.permutations = s.permutations;
    }
    std::vector<std::vector<double>> credit(games, std::vector<double>(n)),
        credit_se(games, std::vector<double>(n));
    for (std::size_t gi = 0; gi < games; ++gi) {
        const double span = v_all[gi] - v_none[gi];
        const double scale = span > 0 ? totals[gi] / span : 0.0;
        for (std::size_t i = 0; i < n; ++i) {
            credit[gi][i] = phi[i * games + gi] * scale;
            credit_se[gi][i] = se[i * games + gi] * scale;
            // Every game here is monotone (removing channels never raises a
            // worth), so no value is below 0; a worth computed as a
            // difference can leave rounding noise of either sign.
            if (credit[gi][i] < 0 && credit[gi][i] > -1e-9 * std::abs(totals[gi]))
                credit[gi][i] = 0;
        }
    }
    out.conversions = std::move(credit[0]);
    out.value = std::move(credit[1]);
    out.conversions_se = std::move(credit_se[0]);
    out.value_se = std::move(credit_se[1]);
    if (games == 4) {
        out.first_purchases = std::move(credit[2]);
        out.repeat_purchases = std::move(credit[3]);
        out.first_purchases_se = std::move(credit_se[2]);
        out.repeat_purchases_se = std::move(credit_se[3]);
    }
    return out;
}

} // JOURNEYLOOP_IMPL_NAMESPACE(shapley_2)

JOURNEYLOOP_IMPL_INLINE shapley_result shapley_values(
    const markov_model& model, const std::vector<std::string>& names,
    const std::vector<std::vector<channel_id>>& players, const shapley_options& options) {
    return shapley_of({&model}, names, players, options, &funnel_games,
                      {model.counts().total_conversions(), model.counts().total_value()});
}

JOURNEYLOOP_IMPL_INLINE shapley_result shapley_values(
    const loop_model& model, const std::vector<std::string>& names,
    const std::vector<std::vector<channel_id>>& players, const shapley_options& options) {
    std::vector<const markov_model*> views{&model.first()};
    if (model.repeat()) views.push_back(&*model.repeat());
    return shapley_of(views, names, players, options, &loop_games,
                      {model.purchases(), model.value(), model.buyers(), model.repeat_purchases()});
}

} // namespace journeyloop

#endif // JOURNEYLOOP_IMPL_SHAPLEY_IPP
