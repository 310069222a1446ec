// Internal: what the solver and the analyses in impl/ reach inside a fitted
// model, kept out of the public headers.
#ifndef JOURNEYLOOP_SRC_MODEL_ACCESS_HPP
#define JOURNEYLOOP_SRC_MODEL_ACCESS_HPP

#include <journeyloop/impl/chain_solver.hpp>

#include <journeyloop/attribution.hpp>
#include <journeyloop/markov_model.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace journeyloop::detail {

/// The solver's view of a model's chain.
struct model_access {
    static const chain& chain_of(const markov_model& model) noexcept { return *model.chain_; }
    /// The model of `counts` before its chain is solved: the counts checked
    /// (as fit_markov() documents) and moved in, P left to transitions().
    static markov_model unsolved_model(transition_counts counts, const markov_options& options);
    static void set_chain(markov_model& model, chain solved) {
        model.chain_ = std::make_shared<const chain>(std::move(solved));
    }
};

inline const chain& chain_of(const markov_model& model) noexcept {
    return model_access::chain_of(model);
}

/// `effects[i] / sum(effects) * total` for every i (all 0 when the sum is
/// not positive): how every removal-effect attribution shares a total.
std::vector<double> share_out(const std::vector<double>& effects, double total);

/**
 * The channels removed in every coalition of players (a bit mask over the
 * players: the channels of the players outside it), after checking the
 * players as shapley_attribution() documents.
 */
std::vector<std::vector<channel_id>> coalition_removals(
    const channel_dictionary& channels, const std::vector<std::string>& names,
    const std::vector<std::vector<channel_id>>& players);

/// Shapley values of the players from v(S) of every coalition (conversions
/// or purchases in `v_count`, value in `v_value`), scaled to the totals.
attribution shapley_from_coalitions(const std::vector<std::string>& names,
                                    const std::vector<double>& v_count,
                                    const std::vector<double>& v_value, double total_count,
                                    double total_value);

} // namespace journeyloop::detail

#endif // JOURNEYLOOP_SRC_MODEL_ACCESS_HPP
