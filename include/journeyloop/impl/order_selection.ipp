// Choosing the Markov order: folds, held-out likelihood and AUC, and
// ChannelAttribution's penalised AUC.
#ifndef JOURNEYLOOP_IMPL_ORDER_SELECTION_IPP
#define JOURNEYLOOP_IMPL_ORDER_SELECTION_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/impl/counts_access.hpp>

#include <journeyloop/errors.hpp>
#include <journeyloop/interrupt.hpp>
#include <journeyloop/order_selection.hpp>
#include <journeyloop/threads.hpp>
#include <journeyloop/transition_counts.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace journeyloop {

JOURNEYLOOP_IMPL_NAMESPACE(order_selection_1) {

// The room each fold has left, in a Fenwick tree, so that a unit goes to a
// fold with probability proportional to its room in O(log folds): with
// leave-one-out there are as many folds as journeys.
class fold_room {
public:
    fold_room(std::size_t folds, std::uint64_t units) : tree_(folds + 1, 0), total_(units) {
        const std::uint64_t base = units / folds, extra = units % folds;
        for (std::size_t f = 0; f < folds; ++f)
            add(f, static_cast<std::int64_t>(base + (f < extra)));
        top_ = 1;
        while (top_ * 2 <= folds) top_ *= 2;
    }

    std::uint64_t total() const noexcept { return total_; }

    // Takes one unit of room from the fold that holds position `u` (0 <= u <
    // total()) of the rooms laid end to end, in fold order.
    std::size_t take(std::uint64_t u) {
        std::size_t pos = 0;
        for (std::size_t step = top_; step != 0; step /= 2) {
            if (pos + step < tree_.size() && static_cast<std::uint64_t>(tree_[pos + step]) <= u) {
                pos += step;
                u -= static_cast<std::uint64_t>(tree_[pos]);
            }
        }
        add(pos, -1);
        --total_;
        return pos;
    }

private:
    void add(std::size_t f, std::int64_t d) {
        for (std::size_t i = f + 1; i < tree_.size(); i += i & (~i + 1)) tree_[i] += d;
    }

    std::vector<std::int64_t> tree_;
    std::uint64_t total_;
    std::size_t top_ = 1;
};

// A uniform integer in [0, n), n >= 1, from the engine's 64 bits (the
// engine's output is fixed by the standard; the distributions of <random>
// are not, so they would change the split between standard libraries).
JOURNEYLOOP_IMPL_INLINE std::uint64_t below(std::mt19937_64& rng, std::uint64_t n) {
    // Rejection of the lowest 2^64 mod n outputs leaves every residue equally likely.
    const std::uint64_t reject = (~n + 1) % n;
    std::uint64_t r = rng();
    while (r < reject) r = rng();
    return r % n;
}

JOURNEYLOOP_IMPL_INLINE void check_folds(std::size_t folds, std::uint64_t units, bool customers) {
    if (folds < 2) throw invalid_input("folds must be at least 2, got " + std::to_string(folds));
    if (folds > 0xFFFFFFFEu)
        throw invalid_input("folds must be below 2**32 - 1, got " + std::to_string(folds));
    if (folds > units)
        throw invalid_input("folds (" + std::to_string(folds) + ") exceeds the " +
                            std::to_string(units) + (customers ? " customers" : " journeys") +
                            " to split between them: give at most " + std::to_string(units) +
                            " folds");
}

// Runs task(i) for i in [0, n) on up to `threads` threads; the first
// exception is rethrown once all have stopped.
template <class F>
void run_tasks(std::size_t n, std::size_t threads, F&& task) {
    threads = std::max<std::size_t>(1, std::min(threads, n));
    if (threads == 1) {
        for (std::size_t i = 0; i < n; ++i) task(i);
        return;
    }
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    std::vector<std::exception_ptr> errors(threads);
    std::vector<std::thread> pool;
    for (std::size_t t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            try {
                for (std::size_t i = next++; i < n && !failed; i = next++) task(i);
            } catch (...) {
                errors[t] = std::current_exception();
                failed = true;
            }
        });
    }
    for (auto& th : pool) th.join();
    for (auto& e : errors)
        if (e) std::rethrow_exception(e);
}

// The counts of one order q, by symbol: a context is what the order-q chain
// knows before a symbol (the whole prefix while it is shorter than q, the
// last q channels after), a symbol is a channel, CONVERSION or NULL.
struct order_counts {
    std::unordered_map<std::string, std::uint32_t> context_ids;
    std::vector<double> context_total;
    std::unordered_map<std::uint64_t, std::uint32_t> pair_ids; // context * symbols + symbol
    std::vector<double> pair_total;
    // The folds' own counts of each context and pair (context * folds +
    // fold): in arrays for a few folds, in hash maps for many (leave-one-out).
    std::vector<double> context_fold_dense, pair_fold_dense;
    std::unordered_map<std::uint64_t, double> context_fold, pair_fold;
    // The context before every position of every row (see
    // selection::first_position_), or `absent`.
    std::vector<std::uint32_t> at;
    std::size_t states = 0;
};

// No context: a position of a row without journeys, or a context that no
// counted position has.
constexpr std::uint32_t absent = std::numeric_limits<std::uint32_t>::max();
// Up to this many folds their counts are kept in arrays.
constexpr std::size_t dense_folds = 64;

// The key of the order-q context before position p of `path`: a flag byte
// (1: the prefix, shorter than q; 0: the last q channels) and the channels.
JOURNEYLOOP_IMPL_INLINE void context_key(const column_view<channel_id>& path, std::size_t p,
                                         std::size_t q, std::string& key) {
    const bool head = p < q;
    const std::size_t begin = head ? 0 : p - q;
    key.assign(1, head ? '\1' : '\0');
    key.append(reinterpret_cast<const char*>(path.data() + begin),
               (p - begin) * sizeof(channel_id));
}

// Whether the order-q chain collapses the touch at position p (its window
// equals the previous one: q + 1 identical channels end at p).
JOURNEYLOOP_IMPL_INLINE bool collapsed(const column_view<channel_id>& path, std::size_t p,
                                       std::size_t q, bool collapse) {
    if (!collapse || p >= path.size() || p < q) return false;
    for (std::size_t i = p - q; i < p; ++i)
        if (path[i] != path[p]) return false;
    return true;
}

class selection {
public:
    selection(const journey_set& journeys, const fold_split& split,
              const order_selection_options& options)
        : js_(journeys), split_(split), options_(options), folds_(split.folds),
          channels_(journeys.channels().size()), symbols_(channels_ + 2),
          dense_(split.folds <= dense_folds), first_position_(journeys.size() + 1, 0) {
        // Row i's positions (before each touch, and before the outcome) are
        // first_position_[i] .. first_position_[i + 1).
        for (std::size_t i = 0; i < journeys.size(); ++i)
            first_position_[i + 1] = first_position_[i] + journeys.path(i).size() + 1;
    }

    // Fold `fold`'s own count of entry `id` (a context or a pair).
    double fold_count(const std::vector<double>& dense,
                      const std::unordered_map<std::uint64_t, double>& sparse, std::uint32_t id,
                      std::uint32_t fold) const {
        const std::uint64_t at = std::uint64_t{id} * folds_ + fold;
        if (dense_) return dense[at];
        const auto it = sparse.find(at);
        return it == sparse.end() ? 0.0 : it->second;
    }

    void add_fold(std::vector<double>& dense, std::unordered_map<std::uint64_t, double>& sparse,
                  std::uint32_t id, std::uint32_t fold, double w) const {
        const std::uint64_t at = std::uint64_t{id} * folds_ + fold;
        if (dense_) {
            if (dense.size() <= at) dense.resize((std::uint64_t{id} + 1) * folds_, 0.0);
            dense[at] += w;
        } else {
            sparse[at] += w;
        }
    }

    // Counts every row at order q.
    void count(std::size_t q, order_counts& oc) const {
        std::string key;
        std::unordered_set<std::string> states;
        const auto add = [&](std::uint32_t ctx, std::uint64_t symbol, std::uint32_t fold,
                             double w) {
            if (w == 0) return;
            const std::uint64_t pk = std::uint64_t{ctx} * symbols_ + symbol;
            auto [it, fresh] =
                oc.pair_ids.try_emplace(pk, static_cast<std::uint32_t>(oc.pair_total.size()));
            if (fresh) oc.pair_total.push_back(0);
            oc.pair_total[it->second] += w;
            add_fold(oc.pair_fold_dense, oc.pair_fold, it->second, fold, w);
        };
        oc.at.assign(first_position_.back(), absent);
        bool pending = false; // collapsed positions: their contexts are looked up after
        for (std::size_t row = 0; row < js_.size(); ++row) {
            const std::size_t b = split_.offsets[row], e = split_.offsets[row + 1];
            if (b == e) continue;
            const auto path = js_.path(row);
            const std::size_t n = path.size();
            for (std::size_t p = 0; p <= n; ++p) {
                if (collapsed(path, p, q, options_.collapse_repeats)) {
                    pending = true;
                    continue;
                }
                context_key(path, p, q, key);
                auto [it, fresh] = oc.context_ids.try_emplace(
                    key, static_cast<std::uint32_t>(oc.context_total.size()));
                if (fresh) oc.context_total.push_back(0);
                const std::uint32_t ctx = it->second;
                oc.at[first_position_[row] + p] = ctx;
                for (std::size_t j = b; j < e; ++j) {
                    const double w = split_.conversions[j] + split_.nulls[j];
                    oc.context_total[ctx] += w;
                    add_fold(oc.context_fold_dense, oc.context_fold, ctx, split_.fold[j], w);
                    if (p < n) {
                        add(ctx, path[p], split_.fold[j], w);
                    } else {
                        add(ctx, channels_, split_.fold[j], split_.conversions[j]);
                        add(ctx, channels_ + 1, split_.fold[j], split_.nulls[j]);
                    }
                }
            }
            // The chain's states: the windows of q channels, or the whole
            // path when it is shorter.
            const std::size_t windows = n >= q ? n - q + 1 : 1, len = std::min(n, q);
            for (std::size_t i = 0; i < windows; ++i)
                states.emplace(reinterpret_cast<const char*>(path.data() + i),
                               len * sizeof(channel_id));
        }
        oc.states = states.size();
        // A position this order collapses may still have a context that
        // other positions counted (a higher order predicts its symbol and
        // smooths towards this order's prediction there).
        if (pending) {
            for (std::size_t row = 0; row < js_.size(); ++row) {
                if (split_.offsets[row] == split_.offsets[row + 1]) continue;
                const auto path = js_.path(row);
                for (std::size_t p = 0; p < path.size(); ++p) {
                    if (!collapsed(path, p, q, options_.collapse_repeats)) continue;
                    context_key(path, p, q, key);
                    const auto it = oc.context_ids.find(key);
                    if (it != oc.context_ids.end()) oc.at[first_position_[row] + p] = it->second;
                }
            }
        }
    }

    // The figures of order k from the counts of orders 1..k.
    order_score evaluate(std::size_t k, const std::vector<order_counts>& counts) const {
        order_score out;
        out.order = k;
        const double prior = options_.prior;
        std::vector<double> fold_ll(folds_, 0.0), fold_symbols(folds_, 0.0);
        double ll = 0, symbols = 0, unseen = 0, unseen_states = 0;
        // (prediction, conversions, nulls) of the held-out journeys.
        std::vector<std::pair<double, std::pair<double, double>>> held_out;
        std::string key;
        std::vector<std::uint32_t> ctx(k);
        // The smoothed probability of `symbol` in fold `fold`'s training
        // counts, and whether the order-k transition and context were seen.
        struct prediction {
            double probability;
            bool pair_seen, context_seen;
        };
        const auto predict = [&](std::uint64_t symbol, std::uint32_t fold) {
            prediction pr{1.0 / static_cast<double>(symbols_), false, false};
            for (std::size_t q = 1; q <= k; ++q) {
                const auto& oc = counts[q - 1];
                const std::uint32_t c = ctx[q - 1];
                if (c == absent) continue; // no counts: the prior alone
                const double nc = oc.context_total[c] -
                                  fold_count(oc.context_fold_dense, oc.context_fold, c, fold);
                double np = 0;
                const auto it = oc.pair_ids.find(std::uint64_t{c} * symbols_ + symbol);
                if (it != oc.pair_ids.end())
                    np = oc.pair_total[it->second] -
                         fold_count(oc.pair_fold_dense, oc.pair_fold, it->second, fold);
                pr.probability = (np + prior * pr.probability) / (nc + prior);
                if (q == k) {
                    pr.pair_seen = np > 0;
                    pr.context_seen = nc > 0;
                }
            }
            return pr;
        };
        const auto score = [&](const prediction& pr, double w, std::uint32_t fold) {
            if (w == 0) return;
            const double l = w * std::log(pr.probability);
            ll += l;
            fold_ll[fold] += l;
            if (!pr.pair_seen) unseen += w;
            if (!pr.context_seen) unseen_states += w;
        };
        // ChannelAttribution's in-sample prediction of every row.
        std::vector<double> ca_prediction(js_.size(), 0.0);
        const auto& own = counts[k - 1];
        for (std::size_t row = 0; row < js_.size(); ++row) {
            const auto path = js_.path(row);
            const std::size_t n = path.size();
            const std::size_t b = split_.offsets[row], e = split_.offsets[row + 1];
            // The last context at order k, for ChannelAttribution's figure.
            context_key(path, n, k, key);
            const auto last = own.context_ids.find(key);
            if (last != own.context_ids.end()) {
                double conv = 0, nulls = 0;
                const std::uint64_t base = std::uint64_t{last->second} * symbols_;
                if (auto it = own.pair_ids.find(base + channels_); it != own.pair_ids.end())
                    conv = own.pair_total[it->second];
                if (auto it = own.pair_ids.find(base + channels_ + 1); it != own.pair_ids.end())
                    nulls = own.pair_total[it->second];
                const double sum = conv + nulls;
                ca_prediction[row] = sum > 0 ? conv / sum : 0.0;
            }
            if (b == e) continue;
            for (std::size_t j = b; j < e; ++j) {
                const double w = split_.conversions[j] + split_.nulls[j];
                symbols += w * static_cast<double>(n + 1);
                fold_symbols[split_.fold[j]] += w * static_cast<double>(n + 1);
            }
            for (std::size_t p = 0; p <= n; ++p) {
                if (collapsed(path, p, k, options_.collapse_repeats)) continue;
                for (std::size_t q = 1; q <= k; ++q)
                    ctx[q - 1] = counts[q - 1].at[first_position_[row] + p];
                for (std::size_t j = b; j < e; ++j) {
                    const std::uint32_t fold = split_.fold[j];
                    const double conv = split_.conversions[j], nulls = split_.nulls[j];
                    if (p < n) {
                        score(predict(path[p], fold), conv + nulls, fold);
                    } else {
                        const auto pc = predict(channels_, fold);
                        const auto pn = predict(channels_ + 1, fold);
                        score(pc, conv, fold);
                        score(pn, nulls, fold);
                        held_out.push_back(
                            {pc.probability / (pc.probability + pn.probability), {conv, nulls}});
                    }
                }
            }
        }
        out.symbols = symbols;
        out.log_likelihood = ll / symbols;
        out.unseen_transitions = unseen;
        out.unseen_states = unseen_states;
        out.log_likelihood_se = fold_se(fold_ll, fold_symbols);
        out.auc = weighted_auc(held_out);
        out.states = own.states;
        ca_figures(k, ca_prediction, out);
        return out;
    }

private:
    static double fold_se(const std::vector<double>& ll, const std::vector<double>& symbols) {
        const std::size_t f = ll.size();
        std::vector<double> per(f);
        double mean = 0;
        for (std::size_t i = 0; i < f; ++i) {
            per[i] = ll[i] / symbols[i];
            mean += per[i];
        }
        mean /= static_cast<double>(f);
        double ss = 0;
        for (double x : per) ss += (x - mean) * (x - mean);
        return std::sqrt(ss / static_cast<double>(f - 1)) / std::sqrt(static_cast<double>(f));
    }

    // The probability that a converting journey gets a higher prediction
    // than a non-converting one (ties half), each weighted by its count.
    static double weighted_auc(std::vector<std::pair<double, std::pair<double, double>>>& v) {
        std::sort(v.begin(), v.end(),
                  [](const auto& a, const auto& b) { return a.first < b.first; });
        double below = 0, pairs = 0, conv = 0;
        for (std::size_t i = 0; i < v.size();) {
            std::size_t j = i;
            double c = 0, n = 0;
            for (; j < v.size() && v[j].first == v[i].first; ++j) {
                c += v[j].second.first;
                n += v[j].second.second;
            }
            pairs += c * (below + n / 2);
            below += n;
            conv += c;
            i = j;
        }
        return pairs / (conv * below);
    }

    // ChannelAttribution's choose_order, from the in-sample predictions.
    void ca_figures(std::size_t k, const std::vector<double>& prediction, order_score& out) const {
        const double m = static_cast<double>(channels_);
        // C(m + k - 1, k) as a product: std::lgamma writes the global signgam, a data
        // race when orders are scored on several threads.
        long double nodes = 1;
        for (std::size_t i = 1; i <= k; ++i)
            nodes = nodes * (static_cast<long double>(m) - 1 + static_cast<long double>(i)) /
                    static_cast<long double>(i);
        out.ca_nodes = static_cast<double>(nodes);
        double journeys = 0, total_conv = 0, total_nulls = 0;
        for (std::size_t row = 0; row < js_.size(); ++row) {
            total_conv += js_.conversions(row);
            total_nulls += js_.nulls(row);
        }
        journeys = total_conv + total_nulls;
        const double nan = std::numeric_limits<double>::quiet_NaN();
        if (!(out.ca_nodes < journeys)) {
            out.ca_auc = out.ca_pauc = nan;
            return;
        }
        // Rows by prediction, with the conversions and nulls at or above each.
        std::vector<std::size_t> order(js_.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            return prediction[a] < prediction[b];
        });
        std::vector<double> sorted(order.size()), conv_above(order.size() + 1, 0.0),
            nulls_above(order.size() + 1, 0.0);
        for (std::size_t i = 0; i < order.size(); ++i) sorted[i] = prediction[order[i]];
        for (std::size_t i = order.size(); i-- > 0;) {
            conv_above[i] = conv_above[i + 1] + js_.conversions(order[i]);
            nulls_above[i] = nulls_above[i + 1] + js_.nulls(order[i]);
        }
        const double lo = *std::min_element(prediction.begin(), prediction.end());
        const double hi = *std::max_element(prediction.begin(), prediction.end());
        const std::size_t points = options_.roc_points;
        double auc = 0, tpr_old = 0, fpr_old = 0;
        for (std::size_t t = points; t-- > 0;) {
            const double th =
                lo + (static_cast<double>(t) * (hi - lo) / static_cast<double>(points - 1));
            const std::size_t at = static_cast<std::size_t>(
                std::lower_bound(sorted.begin(), sorted.end(), th) - sorted.begin());
            const double tp = conv_above[at], fp = nulls_above[at];
            const double tpr = tp / total_conv, fpr = fp / total_nulls;
            auc = auc + ((fpr - fpr_old) * tpr_old) + (((fpr - fpr_old) * (tpr - tpr_old)) / 2);
            tpr_old = tpr;
            fpr_old = fpr;
        }
        auc = auc + ((1 - fpr_old) * tpr_old) + (((1 - fpr_old) * (1 - tpr_old)) / 2);
        double pauc = 1 - ((1 - auc) * ((journeys - 1) / (journeys - out.ca_nodes - 1)));
        if (pauc < 0 || pauc > 1) pauc = 0;
        out.ca_auc = auc;
        out.ca_pauc = pauc;
    }

    const journey_set& js_;
    const fold_split& split_;
    const order_selection_options& options_;
    std::size_t folds_, channels_, symbols_;
    bool dense_;
    std::vector<std::size_t> first_position_;
};

} // JOURNEYLOOP_IMPL_NAMESPACE(order_selection_1)

JOURNEYLOOP_IMPL_INLINE fold_split split_folds(const journey_set& journeys, std::size_t folds,
                                               std::uint64_t seed) {
    fold_split out;
    out.folds = folds;
    out.by_customer = journeys.has_customers();
    const std::size_t rows = journeys.size();
    out.offsets.reserve(rows + 1);
    out.offsets.push_back(0);
    std::mt19937_64 rng(seed);
    if (out.by_customer) {
        std::size_t customers = 0;
        for (std::size_t i = 0; i < rows; ++i)
            customers = std::max(customers, journeys.customer(i) + 1);
        std::vector<char> present(customers, 0);
        // A customer whose rows hold no journey is no unit: it would leave
        // its fold empty.
        for (std::size_t i = 0; i < rows; ++i)
            if (journeys.conversions(i) + journeys.nulls(i) > 0) present[journeys.customer(i)] = 1;
        std::uint64_t units = 0;
        for (char p : present) units += p ? 1 : 0;
        check_folds(folds, units, true);
        out.units = static_cast<std::size_t>(units);
        fold_room room(folds, units);
        std::vector<std::uint32_t> fold_of(customers, 0);
        for (std::size_t c = 0; c < customers; ++c)
            if (present[c])
                fold_of[c] = static_cast<std::uint32_t>(room.take(below(rng, room.total())));
        for (std::size_t i = 0; i < rows; ++i) {
            if (journeys.conversions(i) + journeys.nulls(i) > 0) {
                out.fold.push_back(fold_of[journeys.customer(i)]);
                out.conversions.push_back(journeys.conversions(i));
                out.nulls.push_back(journeys.nulls(i));
            }
            out.offsets.push_back(out.fold.size());
        }
        return out;
    }
    std::uint64_t units = 0;
    for (std::size_t i = 0; i < rows; ++i) {
        const double c = journeys.conversions(i), n = journeys.nulls(i);
        for (const auto& [x, column] : {std::pair<double, const char*>{c, "conversions"},
                                        std::pair<double, const char*>{n, "nulls"}}) {
            if (std::floor(x) != x || x > 9007199254740992.0)
                throw invalid_input("row " + std::to_string(i) + ", column " + column + ": " +
                                    std::to_string(x) +
                                    " is not a whole number of journeys; folds split journeys, "
                                    "so give whole counts");
        }
        units += static_cast<std::uint64_t>(c) + static_cast<std::uint64_t>(n);
    }
    check_folds(folds, units, false);
    out.units = static_cast<std::size_t>(units);
    fold_room room(folds, units);
    std::vector<double> conv(folds, 0.0), nulls(folds, 0.0);
    std::vector<std::uint32_t> touched;
    for (std::size_t i = 0; i < rows; ++i) {
        const auto deal = [&](std::uint64_t count, std::vector<double>& into) {
            for (std::uint64_t u = 0; u < count; ++u) {
                const auto f = static_cast<std::uint32_t>(room.take(below(rng, room.total())));
                if (conv[f] == 0 && nulls[f] == 0) touched.push_back(f);
                into[f] += 1;
            }
        };
        deal(static_cast<std::uint64_t>(journeys.conversions(i)), conv);
        deal(static_cast<std::uint64_t>(journeys.nulls(i)), nulls);
        std::sort(touched.begin(), touched.end());
        for (auto f : touched) {
            out.fold.push_back(f);
            out.conversions.push_back(conv[f]);
            out.nulls.push_back(nulls[f]);
            conv[f] = nulls[f] = 0;
        }
        touched.clear();
        out.offsets.push_back(out.fold.size());
    }
    return out;
}

JOURNEYLOOP_IMPL_INLINE order_selection select_order(const journey_set& journeys,
                                                     const order_selection_options& options,
                                                     const progress_callback& progress) {
    if (options.orders.empty())
        throw invalid_input("orders is empty: give at least one Markov order (>= 1)");
    std::size_t top = 0;
    for (std::size_t i = 0; i < options.orders.size(); ++i) {
        const std::size_t k = options.orders[i];
        if (k < 1 || k > max_order)
            throw invalid_input("orders: every order must be in [1, " + std::to_string(max_order) +
                                "], got " + std::to_string(k));
        for (std::size_t j = 0; j < i; ++j)
            if (options.orders[j] == k)
                throw invalid_input("orders: order " + std::to_string(k) +
                                    " is given twice; give each order once");
        top = std::max(top, k);
    }
    if (!(options.prior > 0) || !std::isfinite(options.prior))
        throw invalid_input("prior must be a finite number > 0, got " +
                            std::to_string(options.prior));
    if (options.roc_points < 2)
        throw invalid_input("roc_points must be at least 2, got " +
                            std::to_string(options.roc_points));
    if (journeys.empty()) throw invalid_input("journeys is empty: give at least one journey");
    if (!(journeys.total_conversions() > 0) || !(journeys.total_nulls() > 0))
        throw invalid_input(
            "journeys: order selection needs converting and non-converting journeys (the AUC "
            "compares them), got " +
            std::to_string(journeys.total_conversions()) + " conversions and " +
            std::to_string(journeys.total_nulls()) + " nulls");
    if (options.folds < 2)
        throw invalid_input("folds must be at least 2, got " + std::to_string(options.folds));

    const fold_split split = split_folds(journeys, options.folds, options.seed);
    const selection sel(journeys, split, options);
    const std::size_t threads = options.threads != 0 ? options.threads : detail::stage_threads(2);

    std::mutex progress_mutex;
    std::size_t done = 0;
    const std::size_t total = options.orders.size() + 1;
    const auto step = [&] {
        detail::stop_point();
        if (!progress) return;
        std::lock_guard<std::mutex> lock(progress_mutex);
        ++done;
        progress(done, total);
    };

    std::vector<order_counts> counts(top);
    run_tasks(top, threads, [&](std::size_t i) { sel.count(i + 1, counts[i]); });
    step();

    order_selection out;
    out.folds = options.folds;
    out.units = split.units;
    out.by_customer = split.by_customer;
    for (std::size_t i = 0; i < journeys.size(); ++i)
        if (split.offsets[i] == split.offsets[i + 1]) ++out.rows_without_journeys;
    out.scores.resize(options.orders.size());
    run_tasks(options.orders.size(), threads, [&](std::size_t i) {
        out.scores[i] = sel.evaluate(options.orders[i], counts);
        step();
    });

    // The best held-out likelihood, then the smallest order within one
    // standard error of it: a higher order must earn its states.
    std::size_t best = 0;
    for (std::size_t i = 1; i < out.scores.size(); ++i) {
        const auto& a = out.scores[i];
        const auto& b = out.scores[best];
        if (a.log_likelihood > b.log_likelihood ||
            (a.log_likelihood == b.log_likelihood && a.order < b.order))
            best = i;
    }
    out.best = out.scores[best].order;
    const double bar = out.scores[best].log_likelihood - out.scores[best].log_likelihood_se;
    out.recommended = out.best;
    for (const auto& s : out.scores)
        if (s.log_likelihood >= bar && s.order < out.recommended) out.recommended = s.order;
    double best_pauc = -1;
    for (const auto& s : out.scores) {
        if (std::isnan(s.ca_pauc)) continue;
        if (s.ca_pauc > best_pauc || (s.ca_pauc == best_pauc && s.order < out.ca_suggested)) {
            best_pauc = s.ca_pauc;
            out.ca_suggested = s.order;
        }
    }
    return out;
}

JOURNEYLOOP_IMPL_INLINE transition_counts back_off(const transition_counts& counts,
                                                   std::size_t min_count) {
    if (min_count < 1)
        throw invalid_input("min_count must be at least 1, got " + std::to_string(min_count));
    if (counts.padded())
        throw invalid_input("min_count: back-off needs unpadded counts (padded=false)");
    if (counts.pooled())
        throw invalid_input("min_count: back-off applies to funnel counts, not to loop views");
    using tuple = std::vector<channel_id>;
    const std::size_t n = counts.num_states();
    constexpr state_id first = transition_counts::first_channel_state;
    // The nodes by tuple: each with its weight and, once decided, the node
    // it backs off to (itself when it stays).
    struct node {
        double weight = 0;
        std::size_t target = 0;
    };
    std::map<tuple, std::size_t> index;
    std::vector<tuple> tuples;
    std::vector<node> nodes;
    const auto node_of = [&](const tuple& t) {
        const auto [it, fresh] = index.emplace(t, nodes.size());
        if (fresh) {
            tuples.push_back(t);
            nodes.push_back({0.0, nodes.size()});
        }
        return it->second;
    };
    std::vector<std::size_t> state_node(n, 0);
    std::size_t longest = 0;
    for (state_id s = first; s < n; ++s) {
        const auto st = counts.state(s);
        const std::size_t i = node_of(tuple(st.begin(), st.end()));
        nodes[i].weight += counts.out_weight(s);
        state_node[s] = i;
        longest = std::max(longest, st.size());
    }
    // Longest tuples first: a node's weight is complete once every longer
    // node that backs off into it has been decided.
    for (std::size_t len = longest; len >= 2; --len) {
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            if (tuples[i].size() != len || !(nodes[i].weight < static_cast<double>(min_count)))
                continue;
            const std::size_t j = node_of(tuple(tuples[i].begin() + 1, tuples[i].end()));
            nodes[j].weight += nodes[i].weight;
            nodes[i].target = j;
        }
    }
    // Every node's final node, and the final nodes numbered in the order of
    // the states they come from.
    const auto final_of = [&](std::size_t i) {
        while (nodes[i].target != i) i = nodes[i].target;
        return i;
    };
    detail::counts_parts parts;
    parts.order = counts.order();
    parts.collapse_repeats = counts.collapse_repeats();
    parts.padded = false;
    parts.channels = counts.channels();
    std::vector<state_id> new_id(nodes.size(), 0);
    std::vector<char> numbered(nodes.size(), 0);
    std::vector<state_id> map(n, 0);
    for (state_id s = 0; s < first; ++s) map[s] = s;
    for (state_id s = first; s < n; ++s) {
        const std::size_t f = final_of(state_node[s]);
        if (!numbered[f]) {
            numbered[f] = 1;
            new_id[f] = static_cast<state_id>(first + parts.states.size());
            parts.states.push_back(tuples[f]);
        }
        map[s] = new_id[f];
    }
    const std::size_t m = first + parts.states.size();
    std::unordered_map<std::uint64_t, double> edges;
    for (state_id s = 0; s < n; ++s) {
        const auto targets = counts.targets(s);
        const auto weights = counts.weights(s);
        for (std::size_t e = 0; e < targets.size(); ++e) {
            const state_id a = map[s], b = map[targets[e]];
            if (a == b && counts.collapse_repeats() && s != targets[e]) continue;
            edges[(std::uint64_t{a} << 32) | b] += weights[e];
        }
    }
    parts.edges.reserve(edges.size());
    for (const auto& [code, w] : edges) parts.edges.emplace_back(code, w);
    parts.end_conversions.assign(m, 0.0);
    parts.end_value.assign(m, 0.0);
    for (state_id s = 0; s < n; ++s) {
        parts.end_conversions[map[s]] += counts.conversions_from(s);
        parts.end_value[map[s]] += counts.value_from(s);
    }
    parts.total_conversions = counts.total_conversions();
    parts.total_nulls = counts.total_nulls();
    parts.total_value = counts.total_value();
    return detail::counts_access::assemble(std::move(parts));
}

} // namespace journeyloop

#endif // JOURNEYLOOP_IMPL_ORDER_SELECTION_IPP
