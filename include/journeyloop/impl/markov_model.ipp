// Estimation and exact absorbing-chain analysis of the Markov model.
#ifndef JOURNEYLOOP_IMPL_MARKOV_MODEL_IPP
#define JOURNEYLOOP_IMPL_MARKOV_MODEL_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/impl/chain_solver.hpp>
#include <journeyloop/impl/memory.hpp>
#include <journeyloop/impl/model_access.hpp>

#include <journeyloop/detail/flat_map.hpp>
#include <journeyloop/detail/grouping.hpp>
#include <journeyloop/errors.hpp>
#include <journeyloop/interrupt.hpp>
#include <journeyloop/limits.hpp>
#include <journeyloop/markov_model.hpp>
#include <journeyloop/threads.hpp>

#include <algorithm>
#include <limits>
#include <thread>
#include <cmath>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace journeyloop {

JOURNEYLOOP_IMPL_NAMESPACE(markov_model_1) {

using tc = transition_counts;

// Transient index of a state: START is 0, channel state s is s - 2.
inline std::uint32_t transient_index(state_id s) { return s == tc::start ? 0 : s - 2; }

// The sums the estimates divide by must be finite: weights of up to 1.8e308
// each can add up to infinity, which would make every probability of the
// row 0.
JOURNEYLOOP_IMPL_INLINE void check_finite(const transition_counts& counts) {
    for (state_id s = 0; s < counts.num_states(); ++s) {
        const double conv = counts.conversions_from(s), value = counts.value_from(s);
        if (!std::isfinite(counts.out_weight(s)) || !std::isfinite(value) ||
            (conv > 0 && !std::isfinite(value / conv)))
            throw invalid_input("the weights leaving state '" + counts.state_label(s) +
                                "' or the value of the journeys that end there (or that value per "
                                "conversion) add up to more than a double holds: scale the counts "
                                "or the values down");
    }
    if (!std::isfinite(counts.total_conversions()) || !std::isfinite(counts.total_nulls()) ||
        !std::isfinite(counts.total_value()))
        throw invalid_input("the total conversions, nulls or value add up to more than a double "
                            "holds: scale the counts or the values down");
}

// Every transient state must reach CONVERSION or NULL, or (I - Q) is
// singular.
JOURNEYLOOP_IMPL_INLINE void check_absorbing(const transition_counts& counts) {
    const auto n = counts.num_states();
    // The states that reach CONVERSION or NULL are the least solution of
    // "a state reaches them if one of its successors does". Passes over the
    // states from the last id down find it without the predecessors: counting
    // numbers a journey's states as they first appear, so the successors of
    // most states come later and are settled first, and a few passes settle
    // the cycles. A pass that settles nothing new ends it; past
    // `forward_passes`, a search over the predecessors from the states
    // settled so far settles the rest.
    constexpr int forward_passes = 6;
    std::vector<char> reaches(n, 0);
    reaches[tc::conversion] = reaches[tc::null] = 1;
    bool changed = true;
    for (int pass = 0; changed && pass < forward_passes; ++pass) {
        changed = false;
        for (state_id s = n; s-- > 0;) {
            if (reaches[s]) continue;
            for (auto t : counts.targets(s))
                if (reaches[t]) {
                    reaches[s] = 1;
                    changed = true;
                    break;
                }
        }
    }
    if (changed) {
        // Predecessors in compressed rows (4 bytes an edge; a vector per
        // state cost 56 bytes a state more).
        std::vector<std::size_t> ptr(n + 1, 0);
        for (state_id s = 0; s < n; ++s)
            for (auto t : counts.targets(s)) ++ptr[t + 1];
        for (std::size_t t = 0; t < n; ++t) ptr[t + 1] += ptr[t];
        std::vector<state_id> reverse(ptr[n]);
        {
            std::vector<std::size_t> fill(ptr.begin(), ptr.end() - 1);
            for (state_id s = 0; s < n; ++s)
                for (auto t : counts.targets(s)) reverse[fill[t]++] = s;
        }
        std::vector<state_id> queue;
        for (state_id s = 0; s < n; ++s)
            if (reaches[s]) queue.push_back(s);
        for (std::size_t head = 0; head < queue.size(); ++head) {
            const auto t = queue[head];
            for (auto i = ptr[t]; i < ptr[t + 1]; ++i)
                if (!reaches[reverse[i]]) {
                    reaches[reverse[i]] = 1;
                    queue.push_back(reverse[i]);
                }
        }
    }
    for (state_id s = 0; s < n; ++s)
        if (!reaches[s] && (s == tc::start || s >= tc::first_channel_state))
            throw numerical_error("state '" + counts.state_label(s) +
                                  "' cannot reach CONVERSION or NULL: the chain has no "
                                  "absorption from it");
}

// The states a journey could move to from each state (for smoothing): see
// markov_options::smoothing.
class successor_index {
public:
    explicit successor_index(const transition_counts& c) : counts_(c), k_(c.order()) {
        for (state_id s = tc::first_channel_state; s < c.num_states(); ++s)
            if (c.state(s).size() == k_) by_prefix_[key(c.state(s), 0)].push_back(s);
    }
    std::vector<state_id> operator()(state_id s) const {
        std::vector<state_id> out{tc::conversion, tc::null};
        if (s == tc::start) {
            for (state_id t = tc::first_channel_state; t < counts_.num_states(); ++t)
                out.push_back(t);
            return out;
        }
        const auto tuple = counts_.state(s);
        if (tuple.size() < k_) return out; // a whole path shorter than k
        auto it = by_prefix_.find(key(tuple, 1));
        if (it != by_prefix_.end())
            for (auto t : it->second)
                if (!(t == s && counts_.collapse_repeats())) out.push_back(t);
        return out;
    }

private:
    // Bytes of k - 1 channels of `tuple` from `first`.
    std::string key(column_view<channel_id> tuple, std::size_t first) const {
        return {reinterpret_cast<const char*>(tuple.data() + first), (k_ - 1) * sizeof(channel_id)};
    }
    const transition_counts& counts_;
    std::size_t k_;
    std::unordered_map<std::string, std::vector<state_id>> by_prefix_;
};

JOURNEYLOOP_IMPL_INLINE double relative_drop(double without, double with) {
    // The solvers throw on a solve that does not converge; this guards the promise that no
    // effect is ever NaN, whatever reaches it.
    if (std::isnan(without) || std::isnan(with))
        throw numerical_error("a removal gave a conversion probability or value that is not a "
                              "number");
    if (!(with > 0)) return 0.0;
    // Clamp rounding noise: removing states can only lower absorption.
    const double re = 1.0 - without / with;
    return re < 0 ? 0.0 : (re > 1 ? 1.0 : re);
}

JOURNEYLOOP_IMPL_INLINE removal_effect effect_of(const markov_model& model,
                                                 std::pair<double, double> without) {
    return {relative_drop(without.first, model.conversion_rate()),
            relative_drop(without.second, model.value_per_journey())};
}

} // JOURNEYLOOP_IMPL_NAMESPACE(markov_model_1)

JOURNEYLOOP_IMPL_INLINE double markov_model::conversion_rate() const noexcept {
    return chain_->x[chain_->start];
}
JOURNEYLOOP_IMPL_INLINE double markov_model::value_per_journey() const noexcept {
    return chain_->x_value[chain_->start];
}

JOURNEYLOOP_IMPL_INLINE double markov_model::mean_conversion_value(state_id s) const noexcept {
    const double c = counts_.conversions_from(s);
    return c > 0 ? counts_.value_from(s) / c : 0.0;
}

JOURNEYLOOP_IMPL_INLINE probability_vector markov_model::conversion_probabilities() const {
    probability_vector out = probability_vector::Zero(static_cast<long>(counts_.num_states()));
    out[tc::start] = conversion_rate();
    out[tc::conversion] = 1.0;
    for (state_id s = tc::first_channel_state; s < counts_.num_states(); ++s)
        out[s] = chain_->x[chain_->row_of[transient_index(s)]];
    return out;
}

JOURNEYLOOP_IMPL_INLINE probability_vector markov_model::expected_visits() const {
    probability_vector out = probability_vector::Zero(static_cast<long>(counts_.num_states()));
    out[tc::start] = chain_->visits[chain_->start];
    out[tc::conversion] = conversion_rate();
    out[tc::null] = 1.0 - conversion_rate();
    for (state_id s = tc::first_channel_state; s < counts_.num_states(); ++s)
        out[s] = chain_->visits[chain_->row_of[transient_index(s)]];
    return out;
}

JOURNEYLOOP_IMPL_INLINE double markov_model::expected_touches() const {
    double total = 0;
    for (std::size_t u = 0; u < chain_->n; ++u)
        if (u != chain_->start) total += chain_->visits[u];
    return total;
}

JOURNEYLOOP_IMPL_INLINE double markov_model::expected_touches_converting() const {
    // E[visits to t and CONVERSION] = F[START, t] x(t) (strong Markov property).
    const double p = conversion_rate();
    if (!(p > 0)) return 0.0;
    double total = 0;
    for (std::size_t u = 0; u < chain_->n; ++u)
        if (u != chain_->start) total += chain_->visits[u] * chain_->x[u];
    return total / p;
}

JOURNEYLOOP_IMPL_NAMESPACE(markov_model_2) {

// Calls row(s) for every state in order, then f(s, t, p) for each
// probability of row s, targets ascending: the maximum-likelihood estimate,
// or with smoothing alpha the observed counts plus alpha over every target a
// journey could take (markov_options::smoothing). Absorbing rows are empty.
template <class Row, class F>
void for_each_probability(const transition_counts& c, double alpha, Row&& row_begin, F&& f) {
    const auto n = c.num_states();
    std::unique_ptr<successor_index> successors;
    if (alpha > 0) successors = std::make_unique<successor_index>(c);
    std::vector<std::pair<state_id, double>> row;
    std::vector<char> in_row(successors ? n : 0, 0);
    for (state_id s = 0; s < n; ++s) {
        row_begin(s);
        if (s == tc::conversion || s == tc::null) continue;
        const auto targets = c.targets(s);
        const auto weights = c.weights(s);
        const double out = c.out_weight(s);
        if (!successors) {
            for (std::size_t i = 0; i < targets.size(); ++i) f(s, targets[i], weights[i] / out);
            continue;
        }
        row.clear();
        for (std::size_t i = 0; i < targets.size(); ++i) row.emplace_back(targets[i], weights[i]);
        for (auto t : targets) in_row[t] = 1;
        for (auto t : (*successors)(s))
            if (!in_row[t]) row.emplace_back(t, 0.0);
        for (auto t : targets) in_row[t] = 0;
        // (w + alpha) / (out + alpha m), divided through by alpha when it
        // is at least 1, so that no large alpha overflows (towards 1 / m).
        const double m = static_cast<double>(row.size());
        const bool scaled = alpha >= 1;
        const double denominator = scaled ? out / alpha + m : out + alpha * m;
        for (auto& entry : row)
            entry.second = scaled ? entry.second / alpha + 1 : entry.second + alpha;
        std::sort(row.begin(), row.end());
        for (const auto& [t, w] : row) f(s, t, w / denominator);
    }
}

} // JOURNEYLOOP_IMPL_NAMESPACE(markov_model_2)

struct markov_model::lazy_matrix {
    std::once_flag once;
    transition_matrix matrix;
};

JOURNEYLOOP_IMPL_INLINE const transition_matrix& markov_model::transitions() const {
    std::call_once(transitions_->once, [this] {
        // Written row by row straight into the row-major matrix (no
        // triplets, no sorting copy): the targets of every row are sorted.
        auto& p = transitions_->matrix;
        const auto n = static_cast<long>(counts_.num_states());
        p.resize(n, n);
        p.reserve(static_cast<long>(counts_.num_transitions()));
        for_each_probability(
            counts_, options_.smoothing, [&p](state_id s) { p.startVec(static_cast<long>(s)); },
            [&p](state_id s, state_id t, double prob) {
                p.insertBack(static_cast<long>(s), static_cast<long>(t)) = prob;
            });
        p.finalize();
    });
    return transitions_->matrix;
}

JOURNEYLOOP_IMPL_NAMESPACE(markov_model_estimate) {

// The chain's estimates over transient indices: Q's edges (sorted by
// source << 32 | target), and each state's probability of converting next
// and that times its mean conversion value.
struct chain_estimates {
    std::vector<std::pair<std::uint64_t, double>> edges;
    std::vector<double> r, r_value;
};

// The solver's chain only: the full matrix P is built on demand by
// transitions() (12 bytes a transition and 4 a state that no solve reads).
JOURNEYLOOP_IMPL_INLINE chain_estimates estimate_chain(const markov_model& m) {
    const auto& counts = m.counts();
    const std::size_t n_transient = counts.num_states() - 2;
    chain_estimates q;
    q.edges.reserve(counts.num_transitions());
    q.r.assign(n_transient, 0.0);
    q.r_value.assign(n_transient, 0.0);
    for_each_probability(
        counts, m.options().smoothing, [](state_id) {},
        [&](state_id s, state_id t, double p) {
            const auto from = transient_index(s);
            if (t == tc::conversion) {
                q.r[from] += p;
                q.r_value[from] += p * m.mean_conversion_value(s);
            } else if (t != tc::null) {
                q.edges.emplace_back((std::uint64_t{from} << 32) | transient_index(t), p);
            }
        });
    return q;
}

} // JOURNEYLOOP_IMPL_NAMESPACE(markov_model_estimate)

JOURNEYLOOP_IMPL_INLINE markov_model fit_markov(transition_counts counts,
                                                const markov_options& options) {
    return fit_markov(std::move(counts), options, {});
}

JOURNEYLOOP_IMPL_INLINE markov_model
detail::model_access::unsolved_model(transition_counts counts, const markov_options& options) {
    const double alpha = options.smoothing;
    if (!(alpha >= 0) || !std::isfinite(alpha))
        throw invalid_input("smoothing must be a finite number >= 0, got " + std::to_string(alpha));
    if (counts.out_weight(tc::start) <= 0)
        throw invalid_input("cannot fit a Markov model: no journey has a conversion or a null");
    check_finite(counts);
    check_absorbing(counts);
    markov_model m;
    m.counts_ = std::move(counts);
    m.options_ = options;
    m.transitions_ = std::make_shared<markov_model::lazy_matrix>();
    return m;
}

JOURNEYLOOP_IMPL_NAMESPACE(markov_model_fit) {

// Builds and solves m's chain from its estimates, from scratch.
JOURNEYLOOP_IMPL_INLINE void solve_chain(markov_model& m, chain_estimates q,
                                         const progress_callback& progress) {
    const auto n = m.counts().num_states();
    detail::check_memory(detail::fit_memory(n, m.counts().num_transitions()), "fitting the chain");
    const auto edges = q.edges.size();
    detail::model_access::set_chain(m, detail::build_chain(n - 2, std::move(q.edges),
                                                           std::move(q.r), std::move(q.r_value),
                                                           progress ? &progress : nullptr));
    // Freed by now: the edge list (16 bytes an edge) and the chain by
    // transient index (12 more).
    detail::release_free_memory(edges * 28);
}

} // JOURNEYLOOP_IMPL_NAMESPACE(markov_model_fit)

JOURNEYLOOP_IMPL_INLINE markov_model fit_markov(transition_counts counts,
                                                const markov_options& options,
                                                const progress_callback& progress) {
    auto m = detail::model_access::unsolved_model(std::move(counts), options);
    solve_chain(m, estimate_chain(m), progress);
    return m;
}

JOURNEYLOOP_IMPL_NAMESPACE(markov_model_refit) {

// The transient state of `fitted` that each transient state of `counts` is
// (START is START): the states of `counts` must be states of `fitted`.
// Empty if they are not, or the counts differ in order, options or channels.
JOURNEYLOOP_IMPL_INLINE std::vector<std::uint32_t> match_states(const transition_counts& fitted,
                                                                const transition_counts& counts) {
    if (counts.order() != fitted.order() ||
        counts.collapse_repeats() != fitted.collapse_repeats() ||
        counts.padded() != fitted.padded() || counts.pooled() != fitted.pooled() ||
        counts.channels().names() != fitted.channels().names() ||
        counts.num_states() > fitted.num_states())
        return {};
    auto equal = [&](state_id s, state_id f) {
        const auto want = counts.state(s), have = fitted.state(f);
        return have.size() == want.size() && std::equal(want.begin(), want.end(), have.begin());
    };
    std::vector<std::uint32_t> out(counts.num_states() - 2, 0);
    // Mostly the same states in the same order (or some of them, as a
    // bootstrap replicate that leaves out the states no drawn journey
    // visits): a merge; the others looked up by a 64-bit hash of their
    // tuple (two states of one hash: no match, and so a fit from scratch).
    using index = detail::flat_map64<state_id>;
    constexpr state_id ambiguous = std::numeric_limits<state_id>::max();
    auto hash = [](column_view<channel_id> t) {
        std::uint64_t h = 0x9E3779B97F4A7C15ull ^ t.size();
        for (const auto c : t) h = (h ^ c) * 0xFF51AFD7ED558CCDull, h ^= h >> 29;
        return h == index::empty_key ? 0 : h;
    };
    std::unique_ptr<index> by_tuple;
    state_id j = tc::first_channel_state;
    for (state_id s = tc::first_channel_state; s < counts.num_states(); ++s) {
        while (!by_tuple && j < fitted.num_states() && !equal(s, j)) ++j;
        if (!by_tuple && j < fitted.num_states()) {
            out[transient_index(s)] = transient_index(j++);
            continue;
        }
        if (!by_tuple) {
            by_tuple = std::make_unique<index>(fitted.num_states());
            for (state_id f = tc::first_channel_state; f < fitted.num_states(); ++f) {
                const auto [slot, added] = by_tuple->try_emplace(hash(fitted.state(f)), f);
                if (!added) *slot = ambiguous;
            }
        }
        const auto [slot, added] = by_tuple->try_emplace(hash(counts.state(s)), ambiguous);
        if (added || *slot == ambiguous || !equal(s, *slot)) return {};
        out[transient_index(s)] = transient_index(*slot);
    }
    return out;
}

} // JOURNEYLOOP_IMPL_NAMESPACE(markov_model_refit)

JOURNEYLOOP_IMPL_INLINE markov_model refit_markov(const markov_model& fitted,
                                                  transition_counts counts,
                                                  const progress_callback& progress) {
    const auto& old = detail::chain_of(fitted);
    auto same = match_states(fitted.counts(), counts);
    if (same.empty()) return fit_markov(std::move(counts), fitted.options(), progress);
    auto m = detail::model_access::unsolved_model(std::move(counts), fitted.options());
    auto q = estimate_chain(m);
    for (auto& t : same) t = old.row_of[t];
    auto laid =
        detail::relayout_chain(old, same, q.edges, q.r, q.r_value, progress ? &progress : nullptr);
    if (laid) detail::model_access::set_chain(m, std::move(*laid));
    else solve_chain(m, std::move(q), progress);
    return m;
}

JOURNEYLOOP_IMPL_NAMESPACE(markov_model_3) {

JOURNEYLOOP_IMPL_INLINE std::vector<char> removal_mask(const markov_model& model,
                                                       const std::vector<channel_id>& group) {
    const auto& counts = model.counts();
    std::vector<char> in_group(counts.channels().size(), 0);
    for (auto c : group) {
        if (c >= in_group.size()) throw unknown_channel("unknown channel id " + std::to_string(c));
        in_group[c] = 1;
    }
    std::vector<char> removed(counts.num_states() - 2, 0);
    for (state_id s = tc::first_channel_state; s < counts.num_states(); ++s)
        for (auto c : counts.state(s))
            if (c < in_group.size() && in_group[c]) removed[transient_index(s)] = 1;
    return removed;
}

} // JOURNEYLOOP_IMPL_NAMESPACE(markov_model_3)

JOURNEYLOOP_IMPL_INLINE removal_effect group_removal_effect(const markov_model& model,
                                                            const std::vector<channel_id>& group) {
    return effect_of(model,
                     detail::solve_without(detail::chain_of(model), removal_mask(model, group)));
}

JOURNEYLOOP_IMPL_INLINE removal_effect state_removal_effect(const markov_model& model,
                                                            state_id state) {
    const auto& counts = model.counts();
    if (state < tc::first_channel_state || state >= counts.num_states())
        throw invalid_input("state " + std::to_string(state) +
                            " is not a channel state of the model");
    std::vector<char> removed(counts.num_states() - 2, 0);
    removed[transient_index(state)] = 1;
    return effect_of(model, detail::solve_without(detail::chain_of(model), removed));
}

JOURNEYLOOP_IMPL_INLINE std::vector<removal_effect> removal_effects(
    const markov_model& model, const progress_callback& progress) {
    const auto& counts = model.counts();
    const auto n_channels = counts.channels().size();
    std::vector<removal_effect> out;
    out.reserve(n_channels);
    if (counts.order() == 1 && detail::chain_of(model).n <= detail::dense_inverse_limit) {
        // One state per channel: one dense inverse serves them all.
        std::vector<std::uint32_t> state_of(n_channels, 0);
        for (state_id s = tc::first_channel_state; s < counts.num_states(); ++s) {
            const auto tuple = counts.state(s);
            if (tuple.size() == 1 && tuple[0] < n_channels) state_of[tuple[0]] = transient_index(s);
        }
        const auto without = detail::solve_without_each(detail::chain_of(model), state_of);
        for (std::size_t c = 0; c < n_channels; ++c)
            out.push_back(state_of[c] == 0 ? removal_effect{} : effect_of(model, without[c]));
        if (progress) progress(1, 1); // one step: the inverse
        return out;
    }
    std::vector<std::vector<channel_id>> groups;
    for (channel_id c = 0; c < n_channels; ++c) groups.push_back({c});
    return group_removal_effects(model, groups, progress);
}

JOURNEYLOOP_IMPL_NAMESPACE(markov_model_4) {

// The removal effects of removals given as lists of transient states (each
// sorted, no repeats), on larger chains: in batches that share each pass
// over the chain, laid out for locality, on up to two threads (one below
// two_thread_removal_work states times batches), or set_threads()'s number
// (solve_without_many).
// Faster on the path benchmarks than solving the removals one at a time
// (bench/results/solver_choice.txt: `groups` against `single`).
JOURNEYLOOP_IMPL_INLINE std::vector<removal_effect> batched_removal_effects(
    const markov_model& model, std::vector<std::vector<std::uint32_t>> removed,
    const progress_callback& progress) {
    std::vector<removal_effect> out;
    out.reserve(removed.size());
    const auto& chain = detail::chain_of(model);
    const auto batches = (removed.size() + detail::many_batch - 1) / detail::many_batch;
    const auto threads =
        detail::stage_threads(chain.n * batches >= detail::two_thread_removal_work ? 2 : 1);
    {
        for (const auto& without : detail::solve_without_many(chain, removed, threads, &progress))
            out.push_back(effect_of(model, without));
    }
    std::vector<std::vector<std::uint32_t>>().swap(removed);
    // Freed by now: the removed states and each thread's solutions.
    // (eight solutions a state for each of two or more threads, sixteen for one)
    detail::release_free_memory(chain.n * detail::many_batch * sizeof(double) *
                                (threads > 1 ? threads : 2));
    return out;
}

// Chains this small solve one removal at a time, a step each.
JOURNEYLOOP_IMPL_INLINE bool small_chain(const markov_model& model) {
    return detail::chain_of(model).n <= 2 * detail::dense_block_limit;
}

// solve(item) for each item, one at a time, reporting each as a step.
template <class Items, class Solve>
std::vector<removal_effect> one_at_a_time(const Items& items, Solve&& solve,
                                          const progress_callback& progress) {
    std::vector<removal_effect> out;
    out.reserve(items.size());
    for (const auto& item : items) {
        detail::stop_point();
        out.push_back(solve(item));
        if (progress) progress(out.size(), items.size());
    }
    return out;
}

// group_removal_effects() of groups that each hold a channel.
JOURNEYLOOP_IMPL_INLINE std::vector<removal_effect> nonempty_group_removal_effects(
    const markov_model& model, const std::vector<std::vector<channel_id>>& groups,
    const progress_callback& progress) {
    if (small_chain(model))
        return one_at_a_time(
            groups, [&model](const auto& group) { return group_removal_effect(model, group); },
            progress);
    const auto& counts = model.counts();
    const auto n_channels = counts.channels().size();
    std::vector<std::vector<std::uint32_t>> groups_of(n_channels);
    for (std::size_t g = 0; g < groups.size(); ++g)
        for (auto ch : groups[g]) {
            if (ch >= n_channels) throw unknown_channel("unknown channel id " + std::to_string(ch));
            if (groups_of[ch].empty() || groups_of[ch].back() != g)
                groups_of[ch].push_back(static_cast<std::uint32_t>(g));
        }
    // Each group's states, in two passes (sizes, then the states), so that
    // every list is allocated once at its size: the lists are kept through
    // the removals.
    std::vector<std::uint32_t> last(groups.size());
    auto for_each_member = [&](auto&& add) {
        std::fill(last.begin(), last.end(), std::numeric_limits<std::uint32_t>::max());
        for (state_id s = tc::first_channel_state; s < counts.num_states(); ++s) {
            const auto t = static_cast<std::uint32_t>(transient_index(s));
            for (auto ch : counts.state(s)) {
                if (ch >= n_channels) continue; // padding
                for (auto g : groups_of[ch])
                    if (last[g] != t) {
                        last[g] = t;
                        add(g, t);
                    }
            }
        }
    };
    std::vector<std::size_t> sizes(groups.size(), 0);
    for_each_member([&sizes](std::uint32_t g, std::uint32_t) { ++sizes[g]; });
    std::vector<std::vector<std::uint32_t>> removed(groups.size());
    for (std::size_t g = 0; g < groups.size(); ++g) removed[g].reserve(sizes[g]);
    for_each_member([&removed](std::uint32_t g, std::uint32_t t) { removed[g].push_back(t); });
    std::vector<std::vector<std::uint32_t>>().swap(groups_of);
    return batched_removal_effects(model, std::move(removed), progress);
}

} // JOURNEYLOOP_IMPL_NAMESPACE(markov_model_4)

JOURNEYLOOP_IMPL_INLINE std::vector<removal_effect> group_removal_effects(
    const markov_model& model, const std::vector<std::vector<channel_id>>& groups,
    const progress_callback& progress) {
    // An empty group removes nothing: its effects are exactly zero, and it is
    // not solved (nor counted as a step of the progress).
    const auto is_empty = [](const std::vector<channel_id>& group) { return group.empty(); };
    if (std::none_of(groups.begin(), groups.end(), is_empty))
        return nonempty_group_removal_effects(model, groups, progress);
    std::vector<std::vector<channel_id>> solved;
    for (const auto& group : groups)
        if (!group.empty()) solved.push_back(group);
    const auto effects = nonempty_group_removal_effects(model, solved, progress);
    std::vector<removal_effect> out(groups.size());
    auto next = effects.begin();
    for (std::size_t g = 0; g < groups.size(); ++g)
        if (!groups[g].empty()) out[g] = *next++;
    return out;
}

JOURNEYLOOP_IMPL_INLINE std::vector<removal_effect> state_removal_effects(
    const markov_model& model, const std::vector<state_id>& states,
    const progress_callback& progress) {
    const auto& counts = model.counts();
    for (auto s : states)
        if (s < tc::first_channel_state || s >= counts.num_states())
            throw invalid_input("state " + std::to_string(s) +
                                " is not a channel state of the model");
    if (small_chain(model))
        return one_at_a_time(
            states, [&model](state_id s) { return state_removal_effect(model, s); }, progress);
    std::vector<std::vector<std::uint32_t>> removed;
    removed.reserve(states.size());
    for (auto s : states) removed.push_back({static_cast<std::uint32_t>(transient_index(s))});
    return batched_removal_effects(model, std::move(removed), progress);
}

JOURNEYLOOP_IMPL_NAMESPACE(markov_model_5) {

JOURNEYLOOP_IMPL_INLINE attribution attribute_effects(const markov_model& model,
                                                      std::vector<std::string> names,
                                                      const std::vector<removal_effect>& effects) {
    std::vector<double> conv, value;
    conv.reserve(effects.size());
    value.reserve(effects.size());
    for (const auto& e : effects) {
        conv.push_back(e.conversions);
        value.push_back(e.value);
    }
    return {std::move(names), detail::share_out(conv, model.counts().total_conversions()),
            detail::share_out(value, model.counts().total_value())};
}

} // JOURNEYLOOP_IMPL_NAMESPACE(markov_model_5)

JOURNEYLOOP_IMPL_INLINE attribution markov_attribution(const markov_model& model,
                                                       const progress_callback& progress) {
    return attribute_effects(model, model.counts().channels().names(),
                             removal_effects(model, progress));
}

JOURNEYLOOP_IMPL_INLINE attribution markov_attribution(
    const markov_model& model, const std::vector<std::string>& group_of_channel,
    const std::vector<std::string>& extra_groups, const progress_callback& progress) {
    const auto& channels = model.counts().channels();
    if (group_of_channel.size() != channels.size())
        throw invalid_input("markov_attribution: " + std::to_string(group_of_channel.size()) +
                            " group names for " + std::to_string(channels.size()) + " channels");
    const auto groups = detail::make_grouping(group_of_channel, extra_groups);
    std::vector<std::vector<channel_id>> members(groups.names.size());
    for (channel_id c = 0; c < channels.size(); ++c) members[groups.group_of_item[c]].push_back(c);
    return group_markov_attribution(model, groups.names, members, progress);
}

JOURNEYLOOP_IMPL_INLINE attribution group_markov_attribution(
    const markov_model& model, const std::vector<std::string>& names,
    const std::vector<std::vector<channel_id>>& groups, const progress_callback& progress) {
    if (names.size() != groups.size())
        throw invalid_input("group_markov_attribution: " + std::to_string(names.size()) +
                            " names for " + std::to_string(groups.size()) + " groups");
    return attribute_effects(model, names, group_removal_effects(model, groups, progress));
}

JOURNEYLOOP_IMPL_INLINE attribution state_markov_attribution(const markov_model& model,
                                                             const std::vector<state_id>& states,
                                                             const progress_callback& progress) {
    const auto effects = state_removal_effects(model, states, progress);
    std::vector<std::string> names;
    names.reserve(states.size());
    for (auto s : states) names.push_back(model.counts().state_label(s));
    return attribute_effects(model, std::move(names), effects);
}

namespace detail {

JOURNEYLOOP_IMPL_INLINE std::vector<double> share_out(const std::vector<double>& effects,
                                                      double total) {
    double sum = 0;
    for (const double e : effects) sum += e;
    std::vector<double> out;
    out.reserve(effects.size());
    for (const double e : effects) out.push_back(sum > 0 ? e / sum * total : 0.0);
    return out;
}

JOURNEYLOOP_IMPL_INLINE std::vector<std::vector<channel_id>> coalition_removals(
    const channel_dictionary& channels, const std::vector<std::string>& names,
    const std::vector<std::vector<channel_id>>& players) {
    const std::size_t n = players.size();
    if (names.size() != n)
        throw invalid_input("shapley_attribution: " + std::to_string(names.size()) + " names for " +
                            std::to_string(n) + " players");
    if (n > max_shapley_players)
        throw invalid_input("exact Shapley attribution enumerates 2^n coalitions; " +
                            std::to_string(n) + " players is more than " +
                            std::to_string(max_shapley_players) +
                            " (attribute teams, or groups of channels, instead)");
    std::vector<int> owner(channels.size(), -1);
    for (std::size_t i = 0; i < n; ++i)
        for (auto c : players[i]) {
            if (c >= owner.size()) throw invalid_input("shapley_attribution: unknown channel id");
            if (owner[c] >= 0 && owner[c] != static_cast<int>(i))
                throw invalid_input("channel '" + channels.name(c) + "' belongs to two players");
            owner[c] = static_cast<int>(i);
        }
    // Coalition S (a bit mask) removes the players outside S.
    const std::size_t coalitions = std::size_t{1} << n;
    std::vector<std::vector<channel_id>> removed(coalitions);
    for (std::size_t s = 0; s < coalitions; ++s)
        for (std::size_t i = 0; i < n; ++i)
            if (!(s >> i & 1))
                removed[s].insert(removed[s].end(), players[i].begin(), players[i].end());
    return removed;
}

JOURNEYLOOP_IMPL_INLINE attribution shapley_from_coalitions(const std::vector<std::string>& names,
                                                            const std::vector<double>& vc,
                                                            const std::vector<double>& vv,
                                                            double total_c, double total_v) {
    const std::size_t n = names.size();
    const std::size_t coalitions = std::size_t{1} << n;
    // phi_i = sum over S without i of |S|! (n - |S| - 1)! / n! (v(S + i) - v(S)).
    std::vector<double> weight(n + 1, 0.0);
    for (std::size_t k = 0; k < n; ++k) {
        double w = 1.0 / static_cast<double>(n);
        // 1 / (n * C(n - 1, k))
        for (std::size_t j = 1; j <= k; ++j)
            w *= static_cast<double>(j) / static_cast<double>(n - k + j - 1);
        weight[k] = w;
    }
    std::vector<double> phi_c(n, 0.0), phi_v(n, 0.0);
    for (std::size_t s = 0; s < coalitions; ++s) {
        std::size_t size = 0;
        for (std::size_t i = 0; i < n; ++i) size += s >> i & 1;
        for (std::size_t i = 0; i < n; ++i)
            if (!(s >> i & 1)) {
                const auto with = s | (std::size_t{1} << i);
                phi_c[i] += weight[size] * (vc[with] - vc[s]);
                phi_v[i] += weight[size] * (vv[with] - vv[s]);
            }
    }
    return {names, share_out(phi_c, total_c), share_out(phi_v, total_v)};
}

} // namespace detail

JOURNEYLOOP_IMPL_INLINE attribution
shapley_attribution(const markov_model& model, const std::vector<std::string>& names,
                    const std::vector<std::vector<channel_id>>& players) {
    const auto removed = detail::coalition_removals(model.counts().channels(), names, players);
    const auto effects = group_removal_effects(model, removed);
    const double p = model.conversion_rate(), v = model.value_per_journey();
    std::vector<double> vc(removed.size()), vv(removed.size());
    for (std::size_t s = 0; s < removed.size(); ++s) {
        vc[s] = removed[s].empty() ? p : p * (1 - effects[s].conversions);
        vv[s] = removed[s].empty() ? v : v * (1 - effects[s].value);
    }
    return detail::shapley_from_coalitions(names, vc, vv, model.counts().total_conversions(),
                                           model.counts().total_value());
}

} // namespace journeyloop

#endif // JOURNEYLOOP_IMPL_MARKOV_MODEL_IPP
