// journeyloop: Markov Shapley values beyond exact enumeration, the Shapley
// values of loop models for first and repeat purchases, and the removal
// rules.
//
// Markov Shapley: the players are channels (or groups of channels), and the
// worth v(S) of a coalition is the conversion probability (and the expected
// value) of the model with every channel of a player outside S removed.
// Exact Shapley values enumerate the 2^n coalitions (shapley_attribution()
// in markov_model.hpp and loop_model.hpp); beyond a few players they are
// estimated from sampled orderings of the players, each with its reverse
// (antithetic pairs), and reported with a standard error.
//
// Removal rules: under the NULL rule (ChannelAttribution's, the default) a
// transition into a removed state goes to NULL. Under the skip rule a walk
// that would enter a removed state goes on as if the touch had not happened:
// the transitions into the removed set are replaced by where the walk first
// leaves it (the censored chain on the kept states). The censored chain ends
// in CONVERSION exactly as often as the full chain, so only one kind of walk
// is lost: one whose every touch was removed (it leaves START into the
// removed set and leaves that set straight into CONVERSION), which, its
// touches skipped, is a journey without a touch. See docs/markov.md,
// "Removal rules".
#ifndef JOURNEYLOOP_SHAPLEY_HPP
#define JOURNEYLOOP_SHAPLEY_HPP

#include <journeyloop/attribution.hpp>
#include <journeyloop/fwd.hpp>
#include <journeyloop/loop_model.hpp>
#include <journeyloop/markov_model.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace journeyloop {

/// How removed states are taken out of the chain.
enum class removal_rule {
    /// Transitions into a removed state go to NULL (ChannelAttribution's rule).
    null,
    /// A walk that would enter a removed state goes on where it would first
    /// leave the removed states; a journey whose every touch is removed is
    /// lost (it would have no touch).
    skip,
};

/**
 * The removal effects of several groups of channels under `rule`, each group
 * removed on its own; removal_rule::null gives group_removal_effects(). Under
 * the skip rule the removal effect of a group is the probability that a
 * converting walk visits only states holding one of its channels (at order
 * k, every state of the walk holds one), and the same for the value. An
 * empty group removes nothing: its effects are 0. Throws unknown_channel for
 * an id out of range.
 */
std::vector<removal_effect> group_removal_effects(
    const markov_model& model, const std::vector<std::vector<channel_id>>& groups,
    removal_rule rule, const progress_callback& progress = {});

/// The removal effects of several states (k-tuples of channels), each
/// removed on its own under `rule`. Throws invalid_input as
/// state_removal_effects() does.
std::vector<removal_effect> state_removal_effects(const markov_model& model,
                                                  const std::vector<state_id>& states,
                                                  removal_rule rule,
                                                  const progress_callback& progress = {});

/// The loop model's removal effects under `rule`: each view (first and
/// repeat purchases) removes the group's states under the rule.
std::vector<loop_removal_effect> loop_removal_effects(
    const loop_model& model, const std::vector<std::vector<channel_id>>& groups, removal_rule rule);

/// Markov attribution between groups of channels under `rule`: group i
/// gets `RE(i) / sum_j RE(j)` of the totals (group_markov_attribution()).
attribution group_markov_attribution(const markov_model& model,
                                     const std::vector<std::string>& names,
                                     const std::vector<std::vector<channel_id>>& groups,
                                     removal_rule rule, const progress_callback& progress = {});

/// Markov attribution between states under `rule` (state_markov_attribution()).
attribution state_markov_attribution(const markov_model& model, const std::vector<state_id>& states,
                                     removal_rule rule, const progress_callback& progress = {});

/// Markov attribution of a loop model under `rule` (loop_markov_attribution()).
loop_attribution loop_markov_attribution(const loop_model& model,
                                         const std::vector<std::string>& names,
                                         const std::vector<std::vector<channel_id>>& groups,
                                         removal_rule rule);

/// How shapley_values() computes the values.
enum class shapley_method {
    /// Exact up to shapley_options::exact_limit players, sampled beyond.
    automatic,
    /// Every coalition (at most max_shapley_players players).
    exact,
    /// Sampled orderings of the players.
    sampled,
};

/// The most players shapley_method::automatic enumerates exactly, chosen by
/// measurement (bench/results/shapley.jsonl, docs/shapley.md): up to it, the
/// 2^n coalitions cost no more than the default number of sampled orderings.
inline constexpr std::size_t auto_exact_players = 13;

/// Options of shapley_values().
struct shapley_options {
    /// Exact, sampled, or exact up to `exact_limit` players.
    shapley_method method = shapley_method::automatic;
    /// Players up to which shapley_method::automatic is exact (at most
    /// max_shapley_players).
    std::size_t exact_limit = auto_exact_players;
    /// Sampled orderings, counting each ordering and its reverse: an even
    /// number >= 2.
    std::size_t permutations = 1000;
    /// The seed: the same seed gives the same values, whatever `threads`.
    std::uint64_t seed = 0;
    /// Threads; 0 uses set_threads()'s number (two by default).
    std::size_t threads = 0;
    /// Up to this many channel states the values are solved densely: each
    /// sampling thread keeps the inverse of the chain of the coalition it
    /// grows (n^2 doubles) and borders it as players join, and exact values
    /// solve the coalitions with few kept or few removed states from small
    /// dense systems; beyond, and for the other coalitions, the engine solves
    /// every coalition.
    std::size_t dense_limit = 3000;
    /// Called with (pairs of orderings done, pairs in all) when sampled, or
    /// with the steps of the removals when exact.
    progress_callback progress;
};

/**
 * Shapley values of a model, scaled to the totals, with their standard
 * errors when sampled. For the funnel model, `conversions` and `value`; for
 * the loop model, `conversions` holds the purchases, and `first_purchases`
 * and `repeat_purchases` are filled too (empty for the funnel model).
 */
struct shapley_result {
    /// The players.
    std::vector<std::string> names;
    /// Credit per player: the conversions (loop: purchases), summing to the total.
    std::vector<double> conversions;
    /// Credit of value, summing to the total value.
    std::vector<double> value;
    /// Loop model: credit of first purchases (summing to the buyers).
    std::vector<double> first_purchases;
    /// Loop model: credit of purchases after a first one.
    std::vector<double> repeat_purchases;
    /// Standard errors of the entries above, on the same scale (all 0 when
    /// exact; empty where the column is).
    std::vector<double> conversions_se, value_se, first_purchases_se, repeat_purchases_se;
    /// True when the values were sampled.
    bool sampled = false;
    /// Orderings sampled (0 when exact).
    std::size_t permutations = 0;
};

/**
 * Markov Shapley values of the players (groups of channels, not
 * overlapping; channels in no player always stay): exact by enumeration, or
 * estimated from `permutations` orderings of the players drawn as antithetic
 * pairs (an ordering and its reverse), each pair's marginal contributions
 * averaged. Every ordering's contributions sum to v(all) - v(none), so the
 * sampled values do too (to rounding). The standard error of a player is
 * the standard deviation of its pair averages over the square root of the
 * pairs. Each pair draws its ordering from its own stream (the seed and the
 * pair's index), and the pairs are summed in order, so the result is the same
 * for every number of threads. Throws invalid_input for overlapping players,
 * names that do not match the players, an odd or zero number of
 * permutations, or more than max_shapley_players players with
 * shapley_method::exact.
 */
shapley_result shapley_values(const markov_model& model, const std::vector<std::string>& names,
                              const std::vector<std::vector<channel_id>>& players,
                              const shapley_options& options = {});

/**
 * Shapley values of a loop model: the purchases (v(S) the expected purchases
 * per customer), the value, the first purchases (v(S) the probability of a
 * first purchase) and the repeat purchases (v(S) the expected purchases after
 * a first one per buyer, r / (1 - r), as loop_removal_effect defines), each
 * game with its own Shapley values scaled to its total. Exact or sampled as
 * for the funnel model.
 */
shapley_result shapley_values(const loop_model& model, const std::vector<std::string>& names,
                              const std::vector<std::vector<channel_id>>& players,
                              const shapley_options& options = {});

} // namespace journeyloop

#endif // JOURNEYLOOP_SHAPLEY_HPP
