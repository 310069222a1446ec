// journeyloop: the absorbing Markov chain of journeys and its exact analysis.
//
// With transient states T (START and the channel tuples) and absorbing states
// CONVERSION and NULL, P = [[Q, R], [0, I]]. The conversion probability from
// each transient state solves (I - Q) x = r, r = P(. -> CONVERSION); the
// model's conversion rate is x[START]. journeyloop solves these sparse
// systems exactly (Eigen's SparseLU); it never simulates.
#ifndef JOURNEYLOOP_MARKOV_MODEL_HPP
#define JOURNEYLOOP_MARKOV_MODEL_HPP

#include <journeyloop/attribution.hpp>
#include <journeyloop/fwd.hpp>
#include <journeyloop/transition_counts.hpp>

#include <Eigen/SparseCore>

#include <string>
#include <vector>

namespace journeyloop {

/// Row-stochastic transition probabilities between all states (absorbing
/// states have an empty row).
using transition_matrix = Eigen::SparseMatrix<double, Eigen::RowMajor>;
/// A probability per state.
using probability_vector = Eigen::VectorXd;

/**
 * A fitted Markov model: maximum-likelihood transition probabilities
 * `P(s -> t) = N(s -> t) / sum_u N(s -> u)` and the exact conversion rate.
 * Build it with fit_markov(). Immutable; const methods may be called from
 * several threads.
 */
class markov_model {
public:
    /// The counts the model was estimated from.
    const transition_counts& counts() const noexcept { return counts_; }
    /// The transition probabilities, indexed by state id.
    const transition_matrix& transitions() const noexcept { return transitions_; }
    /// Exact probability that a journey from START ends in CONVERSION.
    double conversion_rate() const noexcept { return conversion_rate_; }
    /// Exact expected conversion value per journey (value model below).
    double value_per_journey() const noexcept { return value_per_journey_; }
    /// Mean value of the conversions whose last state is `s` (0 if none).
    double mean_conversion_value(state_id s) const noexcept;

private:
    friend markov_model fit_markov(transition_counts counts);
    transition_counts counts_;
    transition_matrix transitions_;
    double conversion_rate_ = 0;
    double value_per_journey_ = 0;
};

/**
 * Estimates the model from counts and solves it. Throws numerical_error naming
 * the state if some state cannot reach CONVERSION or NULL.
 *
 * **Example**:
 *
 *     auto model = journeyloop::fit_markov(journeyloop::count_transitions(journeys));
 *     double p = model.conversion_rate();
 */
markov_model fit_markov(transition_counts counts);

/// Relative drops of the conversion rate and of the expected value.
struct removal_effect {
    /// `1 - p(without) / p`, in [0, 1]; 0 when p is 0.
    double conversions = 0;
    /// `1 - v(without) / v` for the expected value; 0 when v is 0.
    double value = 0;
};

/**
 * The removal effect of a group of channels removed at once: every transition
 * into a state that holds one of them goes to NULL instead. The value effect
 * weights each conversion by the mean value of the conversions that leave
 * from the same last state (ChannelAttribution's value model).
 */
removal_effect group_removal_effect(const markov_model& model,
                                    const std::vector<channel_id>& group);

/// The removal effect of every channel, in channel-id order.
std::vector<removal_effect> removal_effects(const markov_model& model);

/**
 * Markov attribution: `A(c) = RE(c) / sum_d RE(d) * total conversions`, and
 * the same with value removal effects for the total value. With `groups`
 * (group name per channel id), groups are removed whole and attributed
 * instead of channels; `extra_groups` lists groups with no channel, which get
 * zero credit.
 */
attribution markov_attribution(const markov_model& model);
attribution markov_attribution(const markov_model& model,
                               const std::vector<std::string>& group_of_channel,
                               const std::vector<std::string>& extra_groups = {});

} // namespace journeyloop

#endif // JOURNEYLOOP_MARKOV_MODEL_HPP
