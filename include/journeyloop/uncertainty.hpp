// journeyloop: intervals around the figures of a fitted chain.
//
// A fitted model is exact for its chain, but the chain is estimated from a
// finite sample. Two methods measure how much its figures would move:
//
// - bootstrap: each replicate resamples the journeys with replacement (a
//   multinomial draw of as many journeys as there are, each journey of the
//   path table equally likely; journeys built from an event log are drawn by
//   customer, each customer with all of their journeys), counts the
//   replicate's transitions and refits;
// - bayes: each replicate draws every row of transition probabilities from
//   its Dirichlet posterior, `Dirichlet(N(s -> t) + prior)` over the
//   successors t observed from s (a prior of 0.5 per observed transition,
//   Jeffreys's, by default); the conversion values per last state and the
//   totals stay those observed.
//
// The work of a replicate is proportional to the transitions of the
// journeys, not to their text: the journeys' states and transitions are
// looked up once (a replicate_plan), and a replicate only reweights them.
// Replicates run in parallel; replicate r draws from a generator seeded by
// (seed, r) alone, so the results are identical for a given seed whatever
// the number of threads.
#ifndef JOURNEYLOOP_UNCERTAINTY_HPP
#define JOURNEYLOOP_UNCERTAINTY_HPP

#include <journeyloop/fwd.hpp>
#include <journeyloop/loop_histories.hpp>
#include <journeyloop/loop_model.hpp>
#include <journeyloop/markov_model.hpp>
#include <journeyloop/transition_counts.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

namespace journeyloop {

/// How replicates are drawn (see the top of this header).
enum class uncertainty_method {
    bootstrap, ///< resample the journeys (or customers) and refit
    bayes,     ///< draw the transition rows from their Dirichlet posterior
};

/// The name of a method (`"bootstrap"`, `"bayes"`).
std::string_view to_string(uncertainty_method m) noexcept;
/// Parses a method name; throws invalid_input listing the valid names.
uncertainty_method uncertainty_method_from_string(std::string_view name);

/// What replicates to draw.
struct replicate_options {
    uncertainty_method method = uncertainty_method::bootstrap;
    /// Number of replicates, at least 2.
    std::size_t replicates = 1000;
    /// Replicate r draws from a generator seeded by (seed, r).
    std::uint64_t seed = 0;
    /// bayes: the Dirichlet prior added to every observed transition's
    /// count; >= 0, and > 0 when some observed count is 0.
    double prior = 0.5;
    /// Threads: 0 uses the machine's hardware threads (set_threads() when it
    /// is set), n >= 1 uses n. The results do not depend on it.
    std::size_t threads = 0;
};

/// A statistic of a fitted model: a fixed number of figures per call.
using model_statistic = std::function<std::vector<double>(const markov_model&)>;
/// A statistic of a fitted loop model.
using loop_statistic = std::function<std::vector<double>(const loop_model&)>;

/// A statistic of journeys reweighted (see replicate_plan::reweighted()):
/// a fixed number of figures from each row's conversion and null weights.
using row_statistic = std::function<std::vector<double>(const std::vector<double>& conversions,
                                                        const std::vector<double>& nulls)>;

/// The statistic of every replicate: `values[r * width + j]` is figure j of
/// replicate r.
struct replicate_table {
    std::size_t replicates = 0;
    std::size_t width = 0;
    std::vector<double> values;
    /// Figure j of every replicate.
    std::vector<double> column(std::size_t j) const;
};

/// Lower and upper bound of one figure.
struct interval {
    double lower = 0;
    double upper = 0;
};

/**
 * Percentile intervals: for each figure, the (1 - level) / 2 and (1 + level)
 * / 2 quantiles of its replicates (linear interpolation between order
 * statistics, numpy's default). Throws invalid_input unless 0 < level < 1.
 */
std::vector<interval> percentile_intervals(const replicate_table& table, double level);

/**
 * The states and transitions of every journey, looked up once in the
 * counts of all of them, so that a bootstrap replicate only reweights them.
 * Built by make_replicate_plan(); immutable, shareable between threads.
 */
class replicate_plan {
public:
    /// The counts of all the journeys (the replicate with every weight as
    /// observed).
    const transition_counts& counts() const noexcept;
    /// Number of resampling units: journeys of a path table, customers of
    /// an event log.
    double units() const noexcept;
    /// Whether the units are customers (journeys built from events).
    bool by_customer() const noexcept;
    /**
     * The counts of the journeys reweighted: row i of the journeys counts
     * `conversions[i]` times as a converting journey and `nulls[i]` times
     * as a journey without conversion (its value scaled alike). States no
     * journey of positive weight reaches are left out (numbered anew,
     * channels kept). Throws invalid_input if the vectors do not have one
     * entry per row.
     */
    transition_counts reweighted(const std::vector<double>& conversions,
                                 const std::vector<double>& nulls) const;

    struct data; ///< internal

private:
    friend replicate_plan make_replicate_plan(const journey_set&, const counting_options&);
    friend replicate_table replicate_rows(const replicate_plan&, const replicate_options&,
                                          const row_statistic&, const progress_callback&);
    std::shared_ptr<const data> data_;
};

/// The plan of `journeys` counted with `options` (count_transitions()'s
/// errors).
replicate_plan make_replicate_plan(const journey_set& journeys,
                                   const counting_options& options = {});

/**
 * Draws `options.replicates` replicates of the model fitted on `journeys`
 * (counting and fitting options as given) and evaluates `statistic` on each.
 * Bootstrap replicates resample the journeys (by customer when they know
 * their customers); bayes replicates draw from the posterior of the counts.
 * `progress` is called after each replicate (from a worker thread, one call
 * at a time); an exception from it, or from a statistic, stops the work and
 * is rethrown. Throws invalid_input for fewer than 2 replicates, a negative
 * prior, or journeys with no outcome.
 */
replicate_table replicate_markov(const journey_set& journeys, const counting_options& counting,
                                 const markov_options& fitting, const replicate_options& options,
                                 const model_statistic& statistic,
                                 const progress_callback& progress = {});

/**
 * Bootstrap replicates of any statistic that is a function of the journeys'
 * weights (heuristic attributions, for one): each replicate draws the
 * weights as replicate_markov() does and passes them to `statistic`, with
 * no model fitted. Throws invalid_input for the bayes method.
 */
replicate_table replicate_rows(const replicate_plan& plan, const replicate_options& options,
                               const row_statistic& statistic,
                               const progress_callback& progress = {});

/// The same from a plan made once (several statistics over one plan).
replicate_table replicate_markov(const replicate_plan& plan, const markov_options& fitting,
                                 const replicate_options& options, const model_statistic& statistic,
                                 const progress_callback& progress = {});

/**
 * Bayes replicates from the counts alone (a model loaded from a file has no
 * journeys). Throws invalid_input for the bootstrap, which needs the
 * journeys.
 */
replicate_table replicate_markov(const transition_counts& counts, const markov_options& fitting,
                                 const replicate_options& options, const model_statistic& statistic,
                                 const progress_callback& progress = {});

/**
 * The histories' segments looked up once, so that a bootstrap replicate of a
 * loop model only reweights them (replicate_plan's counterpart for loop
 * histories). Built by make_loop_replicate_plan(); immutable, shareable.
 */
class loop_replicate_plan {
public:
    /// The counts of all the histories.
    const loop_counts& counts() const noexcept;
    /// Customers: the resampling units.
    double units() const noexcept;
    /**
     * The loop counts of the histories reweighted: history i counts as
     * `customers[i]` customers. Channel states no weighted history reaches
     * are left out; the repeat view is absent when no weighted history has
     * a purchase. Throws invalid_input unless there is one finite weight >= 0
     * per history.
     */
    loop_counts reweighted(const std::vector<double>& customers) const;

    struct data; ///< internal

private:
    friend loop_replicate_plan make_loop_replicate_plan(const loop_histories&,
                                                        const counting_options&);
    friend replicate_table replicate_loop(const loop_replicate_plan&, const markov_options&,
                                          const replicate_options&, const loop_statistic&,
                                          const progress_callback&);
    std::shared_ptr<const data> data_;
};

/// The plan of `histories` counted with `options` (count_loop_transitions()'s
/// errors).
loop_replicate_plan make_loop_replicate_plan(const loop_histories& histories,
                                             const counting_options& options = {});

/**
 * Bootstrap replicates of a loop model: each resamples the customers (a
 * multinomial draw of as many customers as the histories hold, each
 * customer equally likely), refits with `fitting` and evaluates `statistic`.
 * Throws invalid_input for the bayes method (use the model overload).
 */
replicate_table replicate_loop(const loop_replicate_plan& plan, const markov_options& fitting,
                               const replicate_options& options, const loop_statistic& statistic,
                               const progress_callback& progress = {});

/**
 * Bayes replicates of a loop model: the shared channel rows and each view's
 * start row are drawn from their Dirichlet posteriors (the channel rows once,
 * for both views); values and totals stay. Throws invalid_input for the
 * bootstrap, which needs the histories.
 */
replicate_table replicate_loop(const loop_model& model, const replicate_options& options,
                               const loop_statistic& statistic,
                               const progress_callback& progress = {});

} // namespace journeyloop

#endif // JOURNEYLOOP_UNCERTAINTY_HPP
