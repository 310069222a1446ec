// Internal: the one writer of holding_times. Installed for header-only mode,
// not part of the public API.
#ifndef JOURNEYLOOP_SRC_HOLDING_TIMES_BUILDER_HPP
#define JOURNEYLOOP_SRC_HOLDING_TIMES_BUILDER_HPP

#include <journeyloop/errors.hpp>
#include <journeyloop/markov_model.hpp>
#include <journeyloop/simulate.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace journeyloop {

// The one writer of holding times: the means of a model's transitions from
// the sums of their observed times, with the fallbacks.
class holding_times::builder {
public:
    using sums = std::unordered_map<std::uint64_t, std::pair<double, double>>;

    /// The parts a file stores: the fallback counts, overall mean and unit.
    struct summary {
        double overall_mean = 0, unit_seconds = 0;
        std::size_t own = 0, by_state = 0, overall = 0, skipped = 0;
    };
    static summary summary_of(const holding_times& h) noexcept {
        return {h.overall_mean_, h.unit_seconds_, h.own_, h.by_state_, h.overall_, h.skipped_};
    }

    /**
     * Holding times read back for `model`: one mean and one weight per
     * transition of its matrix, row after row (the layout of assemble()).
     * Throws invalid_input (naming `where`) if the numbers do not fit the
     * model or are not finite and non-negative.
     */
    static holding_times from_parts(const markov_model& model, const std::vector<double>& means,
                                    const std::vector<double>& weights, const summary& parts,
                                    const std::string& where) {
        const transition_matrix& p = model.transitions();
        const auto n = static_cast<std::size_t>(p.nonZeros());
        if (means.size() != n || weights.size() != n)
            throw invalid_input("invalid file: " + where + ": " + std::to_string(means.size()) +
                                " means and " + std::to_string(weights.size()) +
                                " weights for a model of " + std::to_string(n) + " transitions");
        if (parts.own + parts.by_state + parts.overall != n)
            throw invalid_input("invalid file: " + where +
                                ": the counts of own, state and overall means do not add up to "
                                "the model's " +
                                std::to_string(n) + " transitions");
        auto check = [&](double x, const char* what) {
            if (!(x >= 0) || !std::isfinite(x))
                throw invalid_input("invalid file: " + where + ": " + what +
                                    " must be finite and non-negative");
        };
        check(parts.overall_mean, "overall_mean");
        check(parts.unit_seconds, "unit_seconds");
        holding_times out;
        out.overall_mean_ = parts.overall_mean;
        out.unit_seconds_ = parts.unit_seconds;
        out.own_ = parts.own;
        out.by_state_ = parts.by_state;
        out.overall_ = parts.overall;
        out.skipped_ = parts.skipped;
        std::size_t at = 0;
        for (Eigen::Index s = 0; s < p.outerSize(); ++s) {
            for (transition_matrix::InnerIterator it(p, s); it; ++it, ++at) {
                check(means[at], "means");
                check(weights[at], "weights");
                out.targets_.push_back(static_cast<state_id>(it.col()));
                out.means_.push_back(means[at]);
                out.weights_.push_back(weights[at]);
            }
            out.row_offsets_.push_back(out.targets_.size());
        }
        return out;
    }

    /**
     * The means of `model`'s transitions from the sums of START's row and of
     * the other rows. Channel states' rows and the fallback pools depend on
     * `shared` alone, so two views that share their channel rows get the
     * same means there. START's row is pooled apart (at order 1 a funnel's
     * are 0 by definition), and the times to NULL are left out of the pools:
     * a journey that ends in NULL ends at its last touch, so they are mostly
     * 0 and would drag the pools down.
     */
    static holding_times assemble(const markov_model& model, const sums& start, const sums& shared,
                                  const holding_options& options, double unit_seconds,
                                  std::size_t skipped) {
        const std::size_t n_states = model.counts().num_states();
        holding_times out;
        out.unit_seconds_ = unit_seconds;
        out.skipped_ = skipped;
        std::vector<double> state_time(n_states, 0.0), state_weight(n_states, 0.0);
        double all_time = 0, all_weight = 0;
        for (const auto* part : {&start, &shared})
            for (const auto& [key, e] : *part) {
                const auto s = static_cast<state_id>(key >> 32);
                const auto t = static_cast<state_id>(key & 0xFFFFFFFFu);
                if (s >= n_states || t == transition_counts::null) continue;
                state_time[s] += e.first;
                state_weight[s] += e.second;
                if (s == transition_counts::start) continue;
                all_time += e.first;
                all_weight += e.second;
            }
        out.overall_mean_ = all_weight > 0 ? all_time / all_weight : 0.0;
        const transition_matrix& p = model.transitions();
        for (state_id s = 0; s < n_states; ++s) {
            const sums& part = s == transition_counts::start ? start : shared;
            for (transition_matrix::InnerIterator it(p, s); it; ++it) {
                const auto t = static_cast<state_id>(it.col());
                const auto found = part.find((std::uint64_t{s} << 32) | t);
                const double w = found == part.end() ? 0.0 : found->second.second;
                double m;
                if (w >= options.min_weight || (w > 0 && t == transition_counts::null)) {
                    m = found->second.first / w;
                    ++out.own_;
                } else if (t == transition_counts::null) {
                    m = 0;
                    ++out.by_state_;
                } else if (state_weight[s] >= options.min_weight ||
                           (s == transition_counts::start && state_weight[s] > 0)) {
                    m = state_time[s] / state_weight[s];
                    ++out.by_state_;
                } else if (s == transition_counts::start) {
                    m = 0;
                    ++out.by_state_;
                } else {
                    m = out.overall_mean_;
                    ++out.overall_;
                }
                out.targets_.push_back(t);
                out.means_.push_back(m);
                out.weights_.push_back(w);
            }
            out.row_offsets_.push_back(out.targets_.size());
        }
        return out;
    }
};

} // namespace journeyloop

#endif // JOURNEYLOOP_SRC_HOLDING_TIMES_BUILDER_HPP
