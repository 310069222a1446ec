// journeyloop: the loop model of repeat purchases.
//
// A loop-form history is a customer's whole sequence of touches with a
// purchase marker after each purchase; it ends in END (no further touch
// observed). The loop chain has the transient states START, PURCHASE and the
// channel states (the windows of the last k channels since START or since
// the last purchase), and the absorbing state END. Two funnel views of the
// same chain answer every question exactly:
//
//   first  = the chain from START, with PURCHASE absorbing (a "conversion")
//   repeat = the chain from PURCHASE, with the next PURCHASE absorbing
//
// Both have the same channel rows (estimated from every segment between
// purchases); they differ only in their start row. With h the probability of
// a first purchase and r the probability of another purchase after a
// purchase, the expected number of purchases per customer is F[START,
// PURCHASE] = h / (1 - r), and the expected value is v_first + h v_repeat /
// (1 - r), each purchase valued by the mean value of the purchases made from
// the same last state.
#ifndef JOURNEYLOOP_LOOP_MODEL_HPP
#define JOURNEYLOOP_LOOP_MODEL_HPP

#include <journeyloop/attribution.hpp>
#include <journeyloop/loop_histories.hpp>
#include <journeyloop/markov_model.hpp>
#include <journeyloop/transition_counts.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace journeyloop {

namespace detail {
struct loop_model_access;
}

/// Headline figures of a loop model, per customer.
struct loop_summary {
    /// F[START, PURCHASE] = h / (1 - r).
    double expected_purchases = 0;
    /// Expected purchase value per customer.
    double expected_value = 0;
    /// h: probability of at least one purchase.
    double first_purchase_probability = 0;
    /// r: probability of another purchase after a purchase (the repeat rate).
    double repeat_probability = 0;
    /// Expected channel states visited before the first purchase, for
    /// customers who purchase.
    double touches_to_first_purchase = 0;
    /// Expected channel states visited between two purchases, for the
    /// purchases that are followed by another.
    double touches_between_purchases = 0;
};

/// One transition of the loop chain: its observed (weighted) count and its
/// estimated probability.
struct loop_transition {
    state_id from = 0;
    state_id to = 0;
    double count = 0;
    double probability = 0;
};

/**
 * A fitted loop model: the loop chain START -> channel states -> PURCHASE ->
 * channel states -> ... -> END, held as its two funnel views (see the top of
 * this header). Build it with fit_loop(); it cannot be default-constructed
 * (there is no empty model to read figures from). Immutable; const methods
 * may be called from several threads at once.
 *
 * States are numbered as in the views' counts: START 0, PURCHASE 1 (the
 * views' CONVERSION), END 2 (the views' NULL), then the channel states.
 */
class loop_model {
public:
    /// The chain from START with PURCHASE absorbing (first purchases).
    const markov_model& first() const noexcept { return first_; }
    /// The chain from PURCHASE with the next PURCHASE absorbing; absent when
    /// no customer purchased.
    const std::optional<markov_model>& repeat() const noexcept { return repeat_; }
    /// The estimation options.
    const markov_options& options() const noexcept { return first_.options(); }
    /// Markov order k.
    std::size_t order() const noexcept { return first_.counts().order(); }
    /// The channels, without the purchase marker.
    const channel_dictionary& channels() const noexcept { return first_.counts().channels(); }

    /// Customers of the histories it was fitted on.
    double customers() const noexcept { return customers_; }
    /// Purchases of the histories.
    double purchases() const noexcept { return purchases_; }
    /// Value of the purchases.
    double value() const noexcept { return value_; }
    /// Customers with at least one purchase.
    double buyers() const noexcept { return buyers_; }
    /// Purchases after a customer's first.
    double repeat_purchases() const noexcept { return repeat_purchases_; }

    /// Number of states, START, PURCHASE and END included.
    std::size_t num_states() const noexcept { return first_.counts().num_states(); }
    /// `START`, `PURCHASE`, `END` or the channels of the state (`a > b`).
    std::string state_label(state_id s) const;

    /**
     * Every transition of the loop chain with a count or a probability,
     * from-state then to-state ascending: START's row is the first view's,
     * PURCHASE's the repeat view's START row (PURCHASE -> END with
     * probability 1 when no customer purchased), the channel rows are the
     * views' shared rows. With smoothing, unobserved transitions have count 0.
     */
    std::vector<loop_transition> transitions() const;
    /// Probability of reaching PURCHASE (again) from every state, by state
    /// id: START h, PURCHASE r, END 0.
    std::vector<double> purchase_probabilities() const;
    /// Expected visits to every state of a customer from START, by state id:
    /// START 1, PURCHASE the expected purchases, END 1.
    std::vector<double> expected_visits() const;

    /// The journey graph of the loop chain: make_journey_graph(*this), which
    /// needs `<journeyloop/journey_graph.hpp>` (as markov_model::graph()).
    template <class Model = loop_model>
    auto graph() const -> decltype(make_journey_graph(std::declval<const Model&>())) {
        return make_journey_graph(static_cast<const Model&>(*this));
    }

private:
    friend loop_model fit_loop(const loop_counts& counts, const markov_options& options,
                               const progress_callback& progress);
    // Bayes replicates (impl/uncertainty.ipp): views whose weights are
    // posterior draws, not flows of journeys.
    friend struct detail::loop_model_access;
    loop_model(markov_model first, std::optional<markov_model> repeat, const loop_counts& counts);
    markov_model first_;
    std::optional<markov_model> repeat_;
    double customers_ = 0, purchases_ = 0, value_ = 0, buyers_ = 0, repeat_purchases_ = 0;
};

/// Fits both views of the loop chain. Throws invalid_input, naming what is
/// wrong, for counts count_loop_transitions() cannot produce: views that are
/// not pooled or are padded, a repeat view present when there are no buyers
/// (or absent when there are), views over different orders, channels or
/// states, and totals that do not match the views (buyers + repeat purchases
/// = purchases; the first view's conversions the buyers and its nulls the
/// customers without a purchase; the repeat view's conversions the repeat
/// purchases and its nulls the buyers; the views' values sum to the value).
/// Throws numerical_error naming a state with no way out.
loop_model fit_loop(const loop_counts& counts, const markov_options& options = {});

/// fit_loop() reporting progress (progress.hpp): the transient states solved,
/// of the first view and then of the repeat view, over the states of both.
loop_model fit_loop(const loop_counts& counts, const markov_options& options,
                    const progress_callback& progress);

/// The headline figures. Throws numerical_error if the repeat probability
/// is 1 (purchases would never end).
loop_summary summarize(const loop_model& model);

/// Relative drops when a group of channels is removed (every transition
/// into a state holding one of them goes to END).
struct loop_removal_effect {
    double purchases = 0;       ///< of the expected purchases per customer
    double value = 0;           ///< of the expected value per customer
    double first_purchases = 0; ///< of the probability of a first purchase
    /// of the expected purchases after a first one, per buyer: r / (1 - r)
    /// (what brings customers back, whatever won them)
    double repeat_purchases = 0;
};

/// The removal effects of several channel groups, each removed on its own.
std::vector<loop_removal_effect> loop_removal_effects(
    const loop_model& model, const std::vector<std::vector<channel_id>>& groups);

/**
 * The loyalty-loop rate: the probability of purchasing again after a
 * purchase without touching any of `avoided` (the evaluation-stage channels)
 * in between.
 */
double loyalty_loop_rate(const loop_model& model, const std::vector<channel_id>& avoided);

/// Markov attribution of a loop model (loop_markov_attribution()): an
/// attribution of the purchases (`conversions()`) and value, with the first
/// and repeat purchases beside them, one entry per name.
class loop_attribution : public attribution {
public:
    /// No names.
    loop_attribution() = default;
    /// Throws invalid_input if `first_purchases` or `repeat_purchases` does
    /// not have one entry per name of `purchases`.
    loop_attribution(attribution purchases, std::vector<double> first_purchases,
                     std::vector<double> repeat_purchases);

    /// First purchases credited to each name (they sum to the buyers).
    const std::vector<double>& first_purchases() const noexcept { return first_purchases_; }
    /// Purchases after a first one credited to each name.
    const std::vector<double>& repeat_purchases() const noexcept { return repeat_purchases_; }

private:
    std::vector<double> first_purchases_;
    std::vector<double> repeat_purchases_;
};

/**
 * Markov attribution of a loop model between groups of channels (channels,
 * teams or any groups; they may overlap): group i, named `names[i]`, gets
 * `RE(i) / sum_j RE(j)` of the purchases (`conversions`), of the value, of
 * the first purchases (the buyers) and of the repeat purchases, each share
 * from its own removal effect (loop_removal_effect). An empty group gets
 * zero. A total that no group's removal changes (repeat purchases all made
 * with no touch since the last purchase) cannot be shared: its entries are all
 * zero, and the Python layer announces it with a DataWarning. Throws
 * invalid_input if names and groups differ in number.
 */
loop_attribution loop_markov_attribution(const loop_model& model,
                                         const std::vector<std::string>& names,
                                         const std::vector<std::vector<channel_id>>& groups);

/**
 * Exact Shapley attribution of a loop model over players (groups of
 * channels, not overlapping): v(S) is the expected purchases per customer
 * (and the expected value) of the model with every channel of a player
 * outside S removed. Shapley values sum to v(all) - v(none); they are scaled
 * to the total purchases (`conversions`) and value. Throws invalid_input as
 * the funnel model's shapley_attribution() does.
 */
attribution shapley_attribution(const loop_model& model, const std::vector<std::string>& names,
                                const std::vector<std::vector<channel_id>>& players);

} // namespace journeyloop

#endif // JOURNEYLOOP_LOOP_MODEL_HPP
