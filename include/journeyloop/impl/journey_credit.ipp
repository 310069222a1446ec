// Credit per journey.
#ifndef JOURNEYLOOP_IMPL_JOURNEY_CREDIT_IPP
#define JOURNEYLOOP_IMPL_JOURNEY_CREDIT_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/errors.hpp>
#include <journeyloop/impl/text.hpp>
#include <journeyloop/journey_credit.hpp>
#include <journeyloop/threads.hpp>

#include <algorithm>
#include <cmath>
#include <exception>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>

namespace journeyloop {

JOURNEYLOOP_IMPL_NAMESPACE(journey_credit_1) {

// Rows per thread below which a second thread is not worth starting.
constexpr std::size_t credit_rows_per_thread = 100000;

JOURNEYLOOP_IMPL_INLINE bool credits(const journey_set& js, std::size_t row) {
    return js.conversions(row) != 0 || js.value(row) != 0;
}

// Splits the rows into contiguous parts, one per thread, each filling its own
// journey_credit in row order; the parts are joined in order, so the result
// does not depend on the number of threads. `split(row, distinct, conv,
// value)` fills the credit of one row's distinct channels (given in order of
// first touch) into conv and value.
template <class Split>
journey_credit credit_rows(const journey_set& js, std::size_t threads, Split&& split) {
    const std::size_t rows = js.size();
    if (threads == 0) {
        const std::size_t wanted = std::max<std::size_t>(1, rows / credit_rows_per_thread);
        threads = std::min(detail::stage_threads(2), wanted);
    }
    threads = std::max<std::size_t>(1, std::min(threads, std::max<std::size_t>(rows, 1)));
    std::vector<journey_credit> parts(threads);
    std::vector<std::exception_ptr> errors(threads);
    const std::size_t step = (rows + threads - 1) / threads;
    auto work = [&](std::size_t t) {
        try {
            // Each thread its own copy of split and of the scratch it holds.
            std::decay_t<Split> local = split;
            const std::size_t begin = std::min(rows, t * step), end = std::min(rows, begin + step);
            journey_credit& out = parts[t];
            std::vector<std::uint32_t> seen(js.channels().size(), 0);
            std::vector<channel_id> distinct;
            std::vector<double> conv, value;
            std::uint32_t stamp = 0;
            for (std::size_t row = begin; row < end; ++row) {
                if (!credits(js, row)) continue;
                if (++stamp == 0) { // wrapped: start the marks again
                    std::fill(seen.begin(), seen.end(), 0);
                    stamp = 1;
                }
                distinct.clear();
                for (const channel_id c : js.path(row))
                    if (seen[c] != stamp) {
                        seen[c] = stamp;
                        distinct.push_back(c);
                    }
                conv.assign(distinct.size(), 0.0);
                value.assign(distinct.size(), 0.0);
                local(row, distinct, conv, value);
                for (std::size_t i = 0; i < distinct.size(); ++i) {
                    out.row.push_back(row);
                    out.channel.push_back(distinct[i]);
                    out.conversions.push_back(conv[i]);
                    out.value.push_back(value[i]);
                }
            }
        } catch (...) {
            errors[t] = std::current_exception();
        }
    };
    if (threads == 1) {
        work(0);
    } else {
        std::vector<std::thread> pool;
        for (std::size_t t = 0; t < threads; ++t) pool.emplace_back(work, t);
        for (auto& th : pool) th.join();
    }
    for (auto& e : errors)
        if (e) std::rethrow_exception(e);
    if (threads == 1) return std::move(parts[0]);
    journey_credit out;
    std::size_t total = 0;
    for (const auto& p : parts) total += p.size();
    out.row.reserve(total);
    out.channel.reserve(total);
    out.conversions.reserve(total);
    out.value.reserve(total);
    for (auto& p : parts) {
        out.row.insert(out.row.end(), p.row.begin(), p.row.end());
        out.channel.insert(out.channel.end(), p.channel.begin(), p.channel.end());
        out.conversions.insert(out.conversions.end(), p.conversions.begin(), p.conversions.end());
        out.value.insert(out.value.end(), p.value.begin(), p.value.end());
        p = journey_credit{};
    }
    return out;
}

// The position of each channel of a row among its distinct channels: the
// inverse of `distinct`, kept in a table indexed by channel id.
struct slot_table {
    std::vector<std::uint32_t> slot;
    explicit slot_table(std::size_t channels) : slot(channels, 0) {}
    void set(const std::vector<channel_id>& distinct) {
        for (std::size_t i = 0; i < distinct.size(); ++i)
            slot[distinct[i]] = static_cast<std::uint32_t>(i);
    }
};

JOURNEYLOOP_IMPL_INLINE void check_weights(const std::vector<double>& w, std::size_t channels,
                                           const char* what) {
    if (w.size() != channels)
        throw invalid_input(std::string(what) + ": " + std::to_string(w.size()) + " weights for " +
                            std::to_string(channels) +
                            " channels; give one per channel of the journeys");
    for (std::size_t c = 0; c < w.size(); ++c)
        if (!(w[c] >= 0) || !std::isfinite(w[c]))
            throw invalid_input(std::string(what) + ": the weight of channel " + std::to_string(c) +
                                " is " + detail::number_text(w[c]) +
                                "; weights must be finite and non-negative");
}

// Shares `total` between the row's channels in proportion to w (evenly when
// they all weigh zero).
JOURNEYLOOP_IMPL_INLINE void share_by(const std::vector<channel_id>& distinct,
                                      const std::vector<double>& w, double total,
                                      std::vector<double>& out) {
    if (total == 0) return;
    double sum = 0;
    for (const channel_id c : distinct) sum += w[c];
    if (sum > 0) {
        for (std::size_t i = 0; i < distinct.size(); ++i) out[i] = total * (w[distinct[i]] / sum);
    } else {
        for (auto& x : out) x = total / static_cast<double>(distinct.size());
    }
}

// The model's figures per channel of the journeys, by name. Throws
// unknown_channel for a channel of a crediting row that the model lacks.
JOURNEYLOOP_IMPL_INLINE std::pair<std::vector<double>, std::vector<double>> model_weights(
    const journey_set& js, const markov_model& model, const std::vector<double>& conv,
    const std::vector<double>& value) {
    const auto& names = model.counts().channels().names();
    std::vector<channel_id> missing;
    auto wc = weights_by_channel(js, names, conv, &missing);
    auto wv = weights_by_channel(js, names, value);
    if (!missing.empty()) {
        std::vector<bool> unknown(js.channels().size(), false);
        for (const channel_id c : missing) unknown[c] = true;
        for (std::size_t row = 0; row < js.size(); ++row) {
            if (!credits(js, row)) continue;
            for (const channel_id c : js.path(row))
                if (unknown[c])
                    throw unknown_channel("journeys row " + std::to_string(row) +
                                          " touches channel '" + js.channels().name(c) +
                                          "', which the model was not fitted on; fit the "
                                          "model on these journeys");
        }
    }
    // Rounding can leave a figure a hair below zero.
    for (auto* w : {&wc, &wv})
        for (auto& x : *w) x = std::max(0.0, x);
    return {std::move(wc), std::move(wv)};
}

} // JOURNEYLOOP_IMPL_NAMESPACE(journey_credit_1)

JOURNEYLOOP_IMPL_INLINE journey_credit heuristic_journey_credit(const journey_set& journeys,
                                                                heuristic h,
                                                                const heuristic_options& options,
                                                                std::size_t threads) {
    // Checks the options and finds the half-life as the aggregate form does.
    (void)touch_weights(h, 0, options);
    double by_time = 0;
    if (h == heuristic::time_decay && journeys.has_times() && !options.decay_by_steps) {
        if (options.time_half_life) {
            by_time = *options.time_half_life;
            if (!(by_time > 0) || !std::isfinite(by_time))
                throw invalid_input("time_half_life must be positive and finite, got " +
                                    detail::number_text(by_time));
        } else if (journeys.time_unit_seconds() > 0) {
            by_time = 7 * 86400.0 / journeys.time_unit_seconds();
        } else {
            throw invalid_input(
                "time decay on journeys with unitless times needs a half-life in those units "
                "(time_half_life), or decay by steps");
        }
    }
    // Weights by path length, cached: most rows are short.
    std::vector<std::vector<double>> by_length(64);
    for (std::size_t n = 1; n < by_length.size(); ++n) by_length[n] = touch_weights(h, n, options);
    return credit_rows(
        journeys, threads,
        [&, slots = slot_table(journeys.channels().size()),
         w = std::vector<double>()](std::size_t row, const std::vector<channel_id>& distinct,
                                    std::vector<double>& conv, std::vector<double>& value) mutable {
            const auto path = journeys.path(row);
            const std::vector<double>* weights = nullptr;
            if (by_time > 0) {
                const auto before = journeys.times_before_end(row);
                w.assign(before.size(), 0.0);
                const double latest = *std::min_element(before.begin(), before.end());
                double total = 0;
                for (std::size_t i = 0; i < w.size(); ++i) {
                    w[i] = std::exp2(-(before[i] - latest) / by_time);
                    total += w[i];
                }
                for (auto& x : w) x /= total;
                weights = &w;
            } else if (path.size() < by_length.size()) {
                weights = &by_length[path.size()];
            } else {
                w = touch_weights(h, path.size(), options);
                weights = &w;
            }
            slots.set(distinct);
            const double c = journeys.conversions(row), v = journeys.value(row);
            for (std::size_t i = 0; i < path.size(); ++i) {
                const auto s = slots.slot[path[i]];
                conv[s] += (*weights)[i] * c;
                value[s] += (*weights)[i] * v;
            }
        });
}

JOURNEYLOOP_IMPL_INLINE journey_credit
simplified_shapley_journey_credit(const journey_set& journeys, std::size_t threads) {
    return credit_rows(journeys, threads,
                       [&](std::size_t row, const std::vector<channel_id>& distinct,
                           std::vector<double>& conv, std::vector<double>& value) {
                           const double share = 1.0 / static_cast<double>(distinct.size());
                           for (std::size_t i = 0; i < distinct.size(); ++i) {
                               conv[i] = share * journeys.conversions(row);
                               value[i] = share * journeys.value(row);
                           }
                       });
}

JOURNEYLOOP_IMPL_INLINE journey_credit proportional_journey_credit(
    const journey_set& journeys, const std::vector<double>& conversion_weights,
    const std::vector<double>& value_weights, std::size_t threads) {
    check_weights(conversion_weights, journeys.channels().size(), "conversion_weights");
    check_weights(value_weights, journeys.channels().size(), "value_weights");
    return credit_rows(journeys, threads,
                       [&](std::size_t row, const std::vector<channel_id>& distinct,
                           std::vector<double>& conv, std::vector<double>& value) {
                           share_by(distinct, conversion_weights, journeys.conversions(row), conv);
                           share_by(distinct, value_weights, journeys.value(row), value);
                       });
}

JOURNEYLOOP_IMPL_INLINE journey_credit markov_journey_credit(const journey_set& journeys,
                                                             const markov_model& model,
                                                             const progress_callback& progress,
                                                             std::size_t threads) {
    const auto effects = removal_effects(model, progress);
    std::vector<double> conv(effects.size()), value(effects.size());
    for (std::size_t c = 0; c < effects.size(); ++c) {
        conv[c] = effects[c].conversions;
        value[c] = effects[c].value;
    }
    auto [wc, wv] = model_weights(journeys, model, conv, value);
    return proportional_journey_credit(journeys, wc, wv, threads);
}

JOURNEYLOOP_IMPL_INLINE journey_credit shapley_journey_credit(const journey_set& journeys,
                                                              const markov_model& model,
                                                              std::size_t threads) {
    const auto& names = model.counts().channels().names();
    std::vector<std::vector<channel_id>> players(names.size());
    for (std::size_t c = 0; c < names.size(); ++c) players[c] = {static_cast<channel_id>(c)};
    const auto a = shapley_attribution(model, names, players);
    auto [wc, wv] = model_weights(journeys, model, a.conversions(), a.value());
    return proportional_journey_credit(journeys, wc, wv, threads);
}

JOURNEYLOOP_IMPL_INLINE std::vector<double> weights_by_channel(
    const journey_set& journeys, const std::vector<std::string>& names,
    const std::vector<double>& weights, std::vector<channel_id>* missing) {
    if (names.size() != weights.size())
        throw invalid_input("weights_by_channel: " + std::to_string(names.size()) + " names and " +
                            std::to_string(weights.size()) + " weights");
    std::unordered_map<std::string, double> by_name;
    for (std::size_t i = 0; i < names.size(); ++i) by_name.emplace(names[i], weights[i]);
    const auto& ours = journeys.channels().names();
    std::vector<double> out(ours.size(), 0.0);
    for (std::size_t c = 0; c < ours.size(); ++c) {
        const auto it = by_name.find(ours[c]);
        if (it != by_name.end()) out[c] = it->second;
        else if (missing) missing->push_back(static_cast<channel_id>(c));
    }
    return out;
}

JOURNEYLOOP_IMPL_INLINE attribution total_credit(const journey_set& journeys,
                                                 const journey_credit& credit) {
    const auto& names = journeys.channels().names();
    std::vector<double> conv(names.size(), 0.0), value(names.size(), 0.0);
    for (std::size_t i = 0; i < credit.size(); ++i) {
        if (credit.channel[i] >= names.size())
            throw invalid_input("total_credit: entry " + std::to_string(i) + " has channel id " +
                                std::to_string(credit.channel[i]) + ", beyond the journeys' " +
                                std::to_string(names.size()) + " channels");
        conv[credit.channel[i]] += credit.conversions[i];
        value[credit.channel[i]] += credit.value[i];
    }
    return {names, std::move(conv), std::move(value)};
}

} // namespace journeyloop

#endif // JOURNEYLOOP_IMPL_JOURNEY_CREDIT_IPP
