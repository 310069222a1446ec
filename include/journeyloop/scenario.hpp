// journeyloop: what-if scenarios on a fitted chain, answered exactly, and the
// sensitivity of the conversion probability to every transition.
//
// A scenario is an ordered list of changes to the transition probabilities
// (and the values) of a fitted model: remove a channel or a team, scale or set
// one transition's probability, redirect a share of the traffic into one
// channel to another, add a channel, change the value per conversion.
// apply_scenario() makes the changed matrix P', solves it and returns a new
// fitted model of the same kind whose counts are the expected counts of the
// same number J of journeys (customers in the loop) under P':
//
//     N'(s -> t) = J visits'(s) P'(s -> t)
//
// with visits' the expected visits from START of the changed chain. Fitted
// without smoothing, its estimate is P' itself (to rounding), and every
// analysis of a model (figures, removal effects, attribution, saving) works
// on it unchanged. States that P' no longer reaches from START are left out of
// the new model.
//
// The rest of the row renormalised: when a change moves P(s -> t) from p to
// p', every other entry of row s (the outcomes included) is multiplied by
// (1 - p') / (1 - p), so that the row still sums to 1. A row that cannot be
// renormalised (p = 1 and p' < 1, with no other entry) or a factor f with
// f p > 1 is refused.
//
// Names in a change. `from` and `to` are a channel name (at order k: every
// state whose last channel it is), the exact label of a state (`"a > b"`),
// START (as `from`), and the outcomes CONVERSION and NULL (funnel) or
// PURCHASE and END (loop; PURCHASE is also a `from`: the row of what follows
// a purchase).
#ifndef JOURNEYLOOP_SCENARIO_HPP
#define JOURNEYLOOP_SCENARIO_HPP

#include <journeyloop/fwd.hpp>
#include <journeyloop/loop_model.hpp>
#include <journeyloop/markov_model.hpp>

#include <cstddef>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace journeyloop {

/// The kinds of change a scenario holds.
enum class scenario_change_kind {
    remove,      ///< remove channels or teams: transitions into their states go to NULL (END)
    scale,       ///< multiply P(from -> to) by a factor, the rest of the row renormalised
    set,         ///< set P(from -> to), the rest of the row renormalised
    redirect,    ///< a share of the transitions into channel `from` go to `to` instead
    add_channel, ///< a new channel with its inbound and outbound transitions (order 1)
    scale_value, ///< multiply the value per conversion (of `from`'s conversions, or all)
    set_value    ///< set the value per conversion (of `from`'s conversions, or all)
};

/// The name of a kind, as messages and the Python layer write it ("scale").
const char* scenario_change_name(scenario_change_kind kind) noexcept;

/// One change of a scenario; which fields it reads depends on its kind.
struct scenario_change {
    scenario_change_kind kind = scenario_change_kind::scale;
    /// remove: the channels or teams removed together.
    std::vector<std::string> names;
    /// scale/set: the transition's source; redirect: the channel whose
    /// inbound traffic moves; add_channel: the new channel's name;
    /// scale_value/set_value: the channel whose conversions change (empty:
    /// every conversion).
    std::string from;
    /// scale/set: the transition's target; redirect: where the traffic goes.
    std::string to;
    /// The factor (scale, scale_value), probability (set), share (redirect)
    /// or value (set_value, and add_channel's value per conversion: NaN for
    /// the model's mean value per conversion).
    double amount = 0;
    /// add_channel: P(from -> new channel) for each `from` (the rest of each
    /// row renormalised).
    std::vector<std::pair<std::string, double>> inbound;
    /// add_channel: the new channel's row, P(new channel -> to); sums to 1.
    std::vector<std::pair<std::string, double>> outbound;
};

/**
 * A what-if scenario: a name and an ordered list of changes, applied one
 * after the other. A value type; the builder methods append a change and
 * return the scenario, so that changes chain:
 *
 *     auto s = journeyloop::scenario("cut social").remove({"social"}).scale("demo",
 *                                                                       "CONVERSION", 1.2);
 *
 * Nothing is checked against a model until the scenario is applied.
 */
class scenario {
public:
    /// An empty scenario (it changes nothing) with a name.
    explicit scenario(std::string name = {}) : name_(std::move(name)) {}

    /// Removes channels (or teams, see scenario_options::teams) together.
    scenario& remove(std::vector<std::string> names);
    /// P(from -> to) times `factor` (>= 0), the rest of the row renormalised.
    scenario& scale(std::string from, std::string to, double factor);
    /// P(from -> to) = `probability`, the rest of the row renormalised.
    scenario& set(std::string from, std::string to, double probability);
    /// A share in [0, 1] of the transitions into channel `from` go to `to`.
    scenario& redirect(std::string from, std::string to, double share);
    /// A new channel (order 1 only): P(s -> name) for each inbound entry,
    /// its own row from the outbound entries (summing to 1), and the value
    /// of its conversions (NaN: the model's mean value per conversion).
    scenario& add_channel(std::string name, std::vector<std::pair<std::string, double>> inbound,
                          std::vector<std::pair<std::string, double>> outbound,
                          double value_per_conversion = std::numeric_limits<double>::quiet_NaN());
    /// The value per conversion times `factor`, for the conversions from
    /// channel `channel` (empty: all).
    scenario& scale_value(double factor, std::string channel = {});
    /// The value per conversion set to `value`, for the conversions from
    /// channel `channel` (empty: all).
    scenario& set_value(double value, std::string channel = {});
    /// Appends a change as it is.
    scenario& add(scenario_change change);

    /// The name.
    const std::string& name() const noexcept { return name_; }
    /// The changes, in the order they apply.
    const std::vector<scenario_change>& changes() const noexcept { return changes_; }

    /// `a`'s changes then `b`'s, under `a`'s name (or `b`'s if `a` has none).
    friend scenario operator+(scenario a, const scenario& b);

private:
    std::string name_;
    std::vector<scenario_change> changes_;
};

/// How scenarios are applied.
struct scenario_options {
    /// (channel, team) pairs: a name in a remove change that is no channel
    /// is looked up as a team and removes all its channels.
    std::vector<std::pair<std::string, std::string>> teams;
    /// Threads of apply_scenarios(): 0 (the default) takes
    /// set_threads()'s setting, or up to two; each thread solves one
    /// scenario at a time.
    std::size_t threads = 0;
};

/**
 * The model changed by `s` (see the top of this header), solved exactly: a
 * new fitted model whose counts are the expected counts of the model's
 * journeys under the changed chain, without smoothing. An empty scenario
 * gives the model's figures again (to rounding). Throws invalid_input naming
 * the change (its index from 0 and kind) for an unknown channel or state, a
 * probability outside [0, 1], a negative or non-finite factor, a row that
 * cannot be renormalised, or a transition the model does not have; and
 * invalid_input when a state the changed chain reaches cannot reach an
 * outcome.
 */
markov_model apply_scenario(const markov_model& model, const scenario& s,
                            const scenario_options& options = {});

/**
 * The loop model changed by `s`: both views change together (they share
 * their channel rows; PURCHASE's row is the repeat view's START row), and
 * the new model holds the expected counts of the same customers. Throws as
 * the funnel overload does, and numerical_error if after the changes every
 * purchase is followed by another (repeat probability 1).
 */
loop_model apply_scenario(const loop_model& model, const scenario& s,
                          const scenario_options& options = {});

/// apply_scenario() for several scenarios, on up to options.threads
/// threads; the results are in the order of `scenarios` and do not depend
/// on the number of threads.
std::vector<markov_model> apply_scenarios(const markov_model& model,
                                          const std::vector<scenario>& scenarios,
                                          const scenario_options& options = {});
/// The same for the loop model.
std::vector<loop_model> apply_scenarios(const loop_model& model,
                                        const std::vector<scenario>& scenarios,
                                        const scenario_options& options = {});

/// The derivative of the model's goal with respect to one transition
/// probability.
struct transition_sensitivity {
    state_id from = 0;
    state_id to = 0;
    /// P(from -> to).
    double probability = 0;
    /// d goal / d P(from -> to), the rest of the row renormalised.
    double sensitivity = 0;
    /// sensitivity * P(from -> to) / goal (0 when the goal is 0).
    double elasticity = 0;
};

/**
 * The sensitivity of the conversion probability p = B[START, CONVERSION] to
 * every transition probability of the model, from the solved chain and its
 * adjoint: with x the conversion probability from every state and y the
 * expected visits from START, moving P(s -> t) by e and renormalising the
 * rest of row s gives
 *
 *     dp / dP(s -> t) = y(s) (x(t) - x(s)) / (1 - P(s -> t)),
 *
 * (x(CONVERSION) = 1, x(NULL) = 0). A transition of probability 1 has no
 * rest of the row to renormalise: its sensitivity is 0. Every transition
 * with a positive probability, from-state then to-state ascending.
 */
std::vector<transition_sensitivity> sensitivities(const markov_model& model);

/**
 * The sensitivity of the expected purchases per customer E = F[START,
 * PURCHASE] of a loop model to every transition probability of the loop
 * chain: with w(u) = F[u, PURCHASE] the expected visits to PURCHASE from u
 * (w(END) = 0) and y the expected visits from START,
 *
 *     dE / dP(s -> t) = y(s) (w(t) - w(s) + [s = PURCHASE]) / (1 - P(s -> t)).
 */
std::vector<transition_sensitivity> sensitivities(const loop_model& model);

} // namespace journeyloop

#endif // JOURNEYLOOP_SCENARIO_HPP
