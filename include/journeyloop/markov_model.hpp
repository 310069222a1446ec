// journeyloop: the absorbing Markov chain of journeys and its exact analysis.
//
// With transient states T (START and the channel tuples) and absorbing states
// CONVERSION and NULL, P = [[Q, R], [0, I]]. The conversion probability from
// every transient state solves (I - Q) x = r, r = P(. -> CONVERSION); the
// model's conversion rate is x[START]; the fundamental matrix F = (I - Q)^-1
// gives expected visits. journeyloop solves these systems exactly and never
// simulates: the chain is condensed into strongly connected components once,
// and each solve walks them in topological order (dense LU for components of
// up to 128 states, Gauss-Seidel to a relative change of 1e-14 beyond).
#ifndef JOURNEYLOOP_MARKOV_MODEL_HPP
#define JOURNEYLOOP_MARKOV_MODEL_HPP

#include <journeyloop/attribution.hpp>
#include <journeyloop/fwd.hpp>
#include <journeyloop/progress.hpp>
#include <journeyloop/transition_counts.hpp>

#include <Eigen/SparseCore>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace journeyloop {

namespace detail {
struct chain;
struct model_access;
} // namespace detail

/// Row-stochastic transition probabilities between all states (absorbing
/// states have an empty row).
using transition_matrix = Eigen::SparseMatrix<double, Eigen::RowMajor>;
/// A number per state, indexed by state id.
using probability_vector = Eigen::VectorXd;

/// Estimation options.
struct markov_options {
    /**
     * Additive (Laplace) smoothing alpha >= 0 on observed rows: for a state s
     * with outgoing transitions, `P(s -> t) = (N(s -> t) + alpha) /
     * (sum_u N(s -> u) + alpha |T(s)|)` over the targets T(s) that a journey
     * could take from s: CONVERSION, NULL and every observed state whose
     * tuple continues s's (at order k, t's first k-1 channels are s's last
     * k-1; not s itself when repeats are collapsed; from START, every state).
     * 0 (the default) is the maximum-likelihood estimate.
     */
    double smoothing = 0.0;
};

/**
 * A fitted Markov model: transition probabilities (maximum likelihood,
 * optionally smoothed) and the exact analysis of the absorbing chain. Build
 * it with fit_markov() (or load it, model_io.hpp); it cannot be
 * default-constructed, so every model holds a solved chain. Immutable; const
 * methods may be called from several threads at once.
 */
class markov_model {
public:
    /// The counts the model was estimated from.
    const transition_counts& counts() const noexcept { return counts_; }
    /// The estimation options.
    const markov_options& options() const noexcept { return options_; }
    /// The transition probabilities, indexed by state id. Built from the
    /// counts on the first call and kept (the solver does not need it);
    /// safe to call from several threads at once.
    const transition_matrix& transitions() const;
    /// Exact probability that a journey from START ends in CONVERSION.
    double conversion_rate() const noexcept;
    /// Exact expected conversion value per journey (value model below).
    double value_per_journey() const noexcept;
    /// Mean value of the conversions whose last state is `s` (0 if none).
    double mean_conversion_value(state_id s) const noexcept;

    /// Probability of ending in CONVERSION from every state (CONVERSION 1,
    /// NULL 0).
    probability_vector conversion_probabilities() const;
    /// Expected number of visits to every state of a journey from START
    /// (START 1; CONVERSION and NULL: the probability of ending there).
    probability_vector expected_visits() const;
    /// Expected number of channel states visited before absorption (touches
    /// at order 1 with collapsed repeats; windows at order k).
    double expected_touches() const;
    /// The same, for converting journeys only: E[touches | CONVERSION]
    /// (0 if the conversion rate is 0).
    double expected_touches_converting() const;

    /**
     * The journey graph, a Boost.Graph view of the states and transitions
     * with their counts and probabilities: make_journey_graph(*this). It
     * needs `<journeyloop/journey_graph.hpp>` (the one header that includes
     * Boost.Graph), which declares what it returns; without it the call does
     * not compile.
     *
     *     #include <journeyloop/journey_graph.hpp>
     *     journeyloop::journey_graph g = model.graph();
     */
    template <class Model = markov_model>
    auto graph() const -> decltype(make_journey_graph(std::declval<const Model&>())) {
        return make_journey_graph(static_cast<const Model&>(*this));
    }

private:
    // The solver's access to the chain, and the fits' to a model they build
    // (impl/model_access.hpp).
    friend struct detail::model_access;
    markov_model() = default;
    transition_counts counts_;
    markov_options options_;
    struct lazy_matrix;
    std::shared_ptr<lazy_matrix> transitions_;
    std::shared_ptr<const detail::chain> chain_;
};

/**
 * Estimates the model from counts and solves it. Throws invalid_input if no
 * journey has an outcome or the smoothing is negative, and numerical_error
 * naming the state if some state cannot reach CONVERSION or NULL.
 *
 * **Example**:
 *
 *     auto model = journeyloop::fit_markov(journeyloop::count_transitions(journeys));
 *     double p = model.conversion_rate();
 */
markov_model fit_markov(transition_counts counts, const markov_options& options = {});

/// fit_markov() reporting progress: the transient states solved, after each
/// strongly connected component of the chain (a large component is one
/// step, however long it iterates).
markov_model fit_markov(transition_counts counts, const markov_options& options,
                        const progress_callback& progress);

/**
 * Fits new counts of the chain `fitted` was fitted on: the same states (or
 * some of them) and transitions among its transitions, with new weights, as
 * a bootstrap replicate or a later period of the same journeys has. The
 * model is the one fit_markov(counts, fitted's options) gives, to the
 * solver's tolerance, but the chain's structure is reused: its strongly
 * connected components and the order its rows are stored and swept in are
 * not searched again, and each solve starts from `fitted`'s solution.
 *
 * Counts that do not fit the structure (another order or options, other
 * channels, a state `fitted` does not have, a transition to a state of a
 * later component) are fitted from scratch, as fit_markov() would: the
 * result is the same, only slower. Throws what fit_markov() throws.
 *
 * **Example**:
 *
 *     auto model = journeyloop::fit_markov(counts);
 *     auto replicate = journeyloop::refit_markov(model, reweighted_counts);
 */
markov_model refit_markov(const markov_model& fitted, transition_counts counts,
                          const progress_callback& progress = {});

/// Relative drops of the conversion rate and of the expected value.
struct removal_effect {
    /// `1 - p(without) / p`, in [0, 1]; 0 when p is 0.
    double conversions = 0;
    /// `1 - v(without) / v` for the expected value; 0 when v is 0.
    double value = 0;
};

/**
 * The removal effect of a group of channels removed at once (a team, or any
 * user-given group): every transition into a state that holds one of them
 * goes to NULL instead. The value effect weights each conversion by the mean
 * value of the conversions that leave from the same last state
 * (ChannelAttribution's value model). Throws unknown_channel for an id out
 * of range.
 */
removal_effect group_removal_effect(const markov_model& model,
                                    const std::vector<channel_id>& group);

// The removal functions below report progress (progress.hpp) after each
// step: a batch of removals solved together, or on two or more threads the
// conversions or the values of one, or one removal.

/// The removal effects of several groups, each removed on its own. An empty
/// group removes nothing: its effects are 0 (it is not solved).
std::vector<removal_effect> group_removal_effects(
    const markov_model& model, const std::vector<std::vector<channel_id>>& groups,
    const progress_callback& progress = {});

/// The removal effect of one state (a sequence of k channels at order k):
/// transitions into it go to NULL. Throws invalid_input for START,
/// CONVERSION, NULL or an id out of range.
removal_effect state_removal_effect(const markov_model& model, state_id state);

/// The removal effects of several states, each removed on its own, solved
/// in batches as group_removal_effects(). Throws invalid_input as
/// state_removal_effect() does, before any work.
std::vector<removal_effect> state_removal_effects(const markov_model& model,
                                                  const std::vector<state_id>& states,
                                                  const progress_callback& progress = {});

/**
 * The removal effect of every channel, in channel-id order. At order 1
 * (chains of up to 3,000 states) all of them follow from one dense inverse
 * F = (I - Q)^-1: RE(c) = F[START, c] / F[c, c] * x(c) / p, the probability
 * that a converting walk visits c.
 */
std::vector<removal_effect> removal_effects(const markov_model& model,
                                            const progress_callback& progress = {});

/**
 * Markov attribution: `A(c) = RE(c) / sum_d RE(d) * total conversions`, and
 * the same with value removal effects for the total value. With `groups`
 * (group name per channel id), groups are removed whole and attributed
 * instead of channels; `extra_groups` lists groups with no channel, which get
 * zero credit.
 */
attribution markov_attribution(const markov_model& model, const progress_callback& progress = {});
attribution markov_attribution(const markov_model& model,
                               const std::vector<std::string>& group_of_channel,
                               const std::vector<std::string>& extra_groups = {},
                               const progress_callback& progress = {});

/**
 * Markov attribution between any groups of channels (they may overlap):
 * group i, named `names[i]`, removes the channels `groups[i]` at once and
 * gets `RE(i) / sum_j RE(j)` of the totals. An empty group gets zero.
 */
attribution group_markov_attribution(const markov_model& model,
                                     const std::vector<std::string>& names,
                                     const std::vector<std::vector<channel_id>>& groups,
                                     const progress_callback& progress = {});

/**
 * Markov attribution between sequences (states, k-tuples of channels at
 * order k): state `states[i]`, named by its label (`"a > b"`), is removed on
 * its own and gets `RE(i) / sum_j RE(j)` of the totals. Sequences overlap
 * (a journey passes through many), so the credit is shared among the states
 * given, not over the whole journey.
 */
attribution state_markov_attribution(const markov_model& model, const std::vector<state_id>& states,
                                     const progress_callback& progress = {});

/// The most players shapley_attribution() enumerates exactly (2^16 coalitions).
inline constexpr std::size_t max_shapley_players = 16;

/**
 * Shapley attribution over players that are groups of channels (teams, or
 * single channels), computed exactly by enumerating every coalition. The
 * characteristic function v(S) is the conversion probability (and the
 * expected value) of the model in which every channel of a player outside S
 * is removed; channels in no player always stay. Shapley values sum to
 * v(all) - v(none) (efficiency); the attribution scales them to the total
 * conversions and value. Players must not overlap. Throws invalid_input for
 * more than max_shapley_players players or a channel in two players.
 */
attribution shapley_attribution(const markov_model& model, const std::vector<std::string>& names,
                                const std::vector<std::vector<channel_id>>& players);

} // namespace journeyloop

#endif // JOURNEYLOOP_MARKOV_MODEL_HPP
