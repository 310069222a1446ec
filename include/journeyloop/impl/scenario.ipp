// What-if scenarios applied to a fitted chain, and sensitivities.
#ifndef JOURNEYLOOP_IMPL_SCENARIO_IPP
#define JOURNEYLOOP_IMPL_SCENARIO_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/impl/chain_solver.hpp>
#include <journeyloop/impl/counts_access.hpp>

#include <journeyloop/errors.hpp>
#include <journeyloop/scenario.hpp>
#include <journeyloop/threads.hpp>

#include <algorithm>
#include <atomic>
#include <optional>
#include <cmath>
#include <exception>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace journeyloop {

JOURNEYLOOP_IMPL_INLINE const char* scenario_change_name(scenario_change_kind kind) noexcept {
    switch (kind) {
    case scenario_change_kind::remove: return "remove";
    case scenario_change_kind::scale: return "scale";
    case scenario_change_kind::set: return "set";
    case scenario_change_kind::redirect: return "redirect";
    case scenario_change_kind::add_channel: return "add_channel";
    case scenario_change_kind::scale_value: return "scale_value";
    case scenario_change_kind::set_value: return "set_value";
    }
    return "unknown";
}

JOURNEYLOOP_IMPL_INLINE scenario& scenario::add(scenario_change change) {
    changes_.push_back(std::move(change));
    return *this;
}

JOURNEYLOOP_IMPL_INLINE scenario& scenario::remove(std::vector<std::string> names) {
    scenario_change c;
    c.kind = scenario_change_kind::remove;
    c.names = std::move(names);
    return add(std::move(c));
}

JOURNEYLOOP_IMPL_INLINE scenario& scenario::scale(std::string from, std::string to, double factor) {
    scenario_change c;
    c.kind = scenario_change_kind::scale;
    c.from = std::move(from);
    c.to = std::move(to);
    c.amount = factor;
    return add(std::move(c));
}

JOURNEYLOOP_IMPL_INLINE scenario& scenario::set(std::string from, std::string to,
                                                double probability) {
    scenario_change c;
    c.kind = scenario_change_kind::set;
    c.from = std::move(from);
    c.to = std::move(to);
    c.amount = probability;
    return add(std::move(c));
}

JOURNEYLOOP_IMPL_INLINE scenario& scenario::redirect(std::string from, std::string to,
                                                     double share) {
    scenario_change c;
    c.kind = scenario_change_kind::redirect;
    c.from = std::move(from);
    c.to = std::move(to);
    c.amount = share;
    return add(std::move(c));
}

JOURNEYLOOP_IMPL_INLINE scenario& scenario::add_channel(
    std::string name, std::vector<std::pair<std::string, double>> inbound,
    std::vector<std::pair<std::string, double>> outbound, double value_per_conversion) {
    scenario_change c;
    c.kind = scenario_change_kind::add_channel;
    c.from = std::move(name);
    c.inbound = std::move(inbound);
    c.outbound = std::move(outbound);
    c.amount = value_per_conversion;
    return add(std::move(c));
}

JOURNEYLOOP_IMPL_INLINE scenario& scenario::scale_value(double factor, std::string channel) {
    scenario_change c;
    c.kind = scenario_change_kind::scale_value;
    c.from = std::move(channel);
    c.amount = factor;
    return add(std::move(c));
}

JOURNEYLOOP_IMPL_INLINE scenario& scenario::set_value(double value, std::string channel) {
    scenario_change c;
    c.kind = scenario_change_kind::set_value;
    c.from = std::move(channel);
    c.amount = value;
    return add(std::move(c));
}

JOURNEYLOOP_IMPL_INLINE scenario operator+(scenario a, const scenario& b) {
    if (a.name_.empty()) a.name_ = b.name_;
    a.changes_.insert(a.changes_.end(), b.changes_.begin(), b.changes_.end());
    return a;
}

JOURNEYLOOP_IMPL_NAMESPACE(scenario_1) {

using tc = transition_counts;
using row_t = std::vector<std::pair<state_id, double>>;

// The chain a scenario changes, by state id: START 0, CONVERSION (PURCHASE) 1,
// NULL (END) 2, then the channel states. Row 1 is PURCHASE's row in the loop,
// empty in the funnel; row 2 is always empty. Rows are sorted by target.
struct editable_chain {
    bool loop = false;
    std::size_t order = 1;
    bool collapse_repeats = true;
    bool padded = false;
    channel_dictionary channels;
    std::vector<std::vector<channel_id>> tuples; // by state id (empty for 0, 1, 2)
    std::vector<row_t> rows;
    std::vector<double> mean_value; // value per conversion leaving each state
    double default_value = 0;       // the model's mean value per conversion
    double journeys = 0;            // J: journeys (funnel) or customers (loop)
    std::vector<std::pair<std::string, std::string>> teams;

    std::string label(state_id s) const {
        if (s == tc::start) return "START";
        if (s == tc::conversion) return loop ? "PURCHASE" : "CONVERSION";
        if (s == tc::null) return loop ? "END" : "NULL";
        std::string out;
        for (auto c : tuples[s]) {
            if (!out.empty()) out += " > ";
            out += c == tc::padding ? std::string("(start)") : channels.name(c);
        }
        return out;
    }
};

// The change being applied, for messages.
struct change_context {
    const scenario* s;
    std::size_t index;
    const scenario_change* change;
    [[noreturn]] void fail(const std::string& why) const {
        std::string name = s->name().empty() ? "" : "scenario '" + s->name() + "', ";
        throw invalid_input(name + "change " + std::to_string(index) + " (" +
                            scenario_change_name(change->kind) + "): " + why);
    }
};

JOURNEYLOOP_IMPL_INLINE void fill_from_counts(editable_chain& e, const transition_counts& c) {
    e.order = c.order();
    e.collapse_repeats = c.collapse_repeats();
    e.padded = c.padded();
    e.channels = c.channels();
    e.tuples.resize(c.num_states());
    for (state_id s = tc::first_channel_state; s < c.num_states(); ++s) {
        const auto t = c.state(s);
        e.tuples[s].assign(t.begin(), t.end());
    }
    e.rows.assign(c.num_states(), {});
    e.mean_value.assign(c.num_states(), 0.0);
}

// A state whose baseline row has no conversion gets the model's mean value
// per conversion: the value of conversions a scenario adds there (its
// baseline mean value, 0, weighs nothing in the model's figures).
JOURNEYLOOP_IMPL_INLINE void default_values(editable_chain& e) {
    for (std::size_t s = 0; s < e.rows.size(); ++s) {
        bool converts = false;
        for (const auto& [t, p] : e.rows[s])
            if (t == tc::conversion && p > 0) converts = true;
        if (!converts) e.mean_value[s] = e.default_value;
    }
}

JOURNEYLOOP_IMPL_INLINE editable_chain editable(const markov_model& m) {
    editable_chain e;
    const auto& c = m.counts();
    fill_from_counts(e, c);
    const auto& P = m.transitions();
    for (state_id s = 0; s < c.num_states(); ++s) {
        for (transition_matrix::InnerIterator it(P, static_cast<long>(s)); it; ++it)
            if (it.value() > 0) e.rows[s].emplace_back(static_cast<state_id>(it.col()), it.value());
        e.mean_value[s] = m.mean_conversion_value(s);
    }
    e.journeys = c.total_conversions() + c.total_nulls();
    e.default_value = c.total_conversions() > 0 ? c.total_value() / c.total_conversions() : 0.0;
    default_values(e);
    return e;
}

JOURNEYLOOP_IMPL_INLINE editable_chain editable(const loop_model& m) {
    editable_chain e;
    e.loop = true;
    fill_from_counts(e, m.first().counts());
    for (const auto& t : m.transitions())
        if (t.probability > 0) e.rows[t.from].emplace_back(t.to, t.probability);
    for (state_id s = 0; s < m.num_states(); ++s)
        if (s != tc::conversion) e.mean_value[s] = m.first().mean_conversion_value(s);
    e.mean_value[tc::conversion] = m.repeat() ? m.repeat()->mean_conversion_value(tc::start) : 0.0;
    e.journeys = m.customers();
    e.default_value = m.purchases() > 0 ? m.value() / m.purchases() : 0.0;
    default_values(e);
    return e;
}

// The states a name stands for: as a source (START, PURCHASE in the loop, a
// channel: the states whose last channel it is, or an exact label) or as a
// target (the outcomes, a channel, a label). Empty when unknown.
JOURNEYLOOP_IMPL_INLINE std::vector<state_id> states_named(const editable_chain& e,
                                                           const std::string& name,
                                                           bool as_source) {
    const std::string goal = e.loop ? "PURCHASE" : "CONVERSION";
    const std::string stop = e.loop ? "END" : "NULL";
    if (name == "START")
        return as_source ? std::vector<state_id>{tc::start} : std::vector<state_id>{};
    if (name == goal) {
        if (as_source && !e.loop) return {};
        return {tc::conversion};
    }
    if (name == stop) return as_source ? std::vector<state_id>{} : std::vector<state_id>{tc::null};
    std::vector<state_id> out;
    if (const auto c = e.channels.find(name)) {
        for (state_id s = tc::first_channel_state; s < e.tuples.size(); ++s)
            if (!e.tuples[s].empty() && e.tuples[s].back() == *c) out.push_back(s);
        return out;
    }
    for (state_id s = tc::first_channel_state; s < e.tuples.size(); ++s)
        if (e.label(s) == name) out.push_back(s);
    return out;
}

JOURNEYLOOP_IMPL_INLINE std::vector<state_id> need_states(const editable_chain& e,
                                                          const change_context& ctx,
                                                          const std::string& name, bool as_source,
                                                          const char* role) {
    auto out = states_named(e, name, as_source);
    if (out.empty()) {
        const std::string goal = e.loop ? "PURCHASE" : "CONVERSION";
        const std::string stop = e.loop ? "END" : "NULL";
        ctx.fail(std::string(role) + " '" + name + "' is no channel or state of the model" +
                 (as_source ? " that a transition leaves (a channel, a state label such as "
                              "'a > b', or START" +
                                  (e.loop ? std::string(" or PURCHASE") : std::string()) + ")"
                            : " that a transition enters (a channel, a state label such as "
                              "'a > b', " +
                                  goal + " or " + stop + ")"));
    }
    return out;
}

JOURNEYLOOP_IMPL_INLINE double probability_of(const row_t& row, state_id t) {
    for (const auto& [u, p] : row)
        if (u == t) return p;
    return 0.0;
}

JOURNEYLOOP_IMPL_INLINE void put(row_t& row, state_id t, double p) {
    for (auto& [u, q] : row)
        if (u == t) {
            q = p;
            return;
        }
    row.emplace_back(t, p);
    std::sort(row.begin(), row.end());
}

JOURNEYLOOP_IMPL_INLINE void drop_zeros(row_t& row) {
    row.erase(std::remove_if(row.begin(), row.end(), [](const auto& e) { return !(e.second > 0); }),
              row.end());
}

// Sets the total probability of the entries `matched` of row s to p_new (each
// scaled by p_new / p, or the one `create` target given p_new when none has
// any), the rest of the row multiplied by (1 - p_new) / (1 - p).
JOURNEYLOOP_IMPL_INLINE void set_share(editable_chain& e, const change_context& ctx, state_id s,
                                       const std::vector<char>& matched, double p_new,
                                       state_id create) {
    auto& row = e.rows[s];
    double p = 0, rest = 0;
    for (const auto& [t, q] : row) (matched[t] ? p : rest) += q;
    if (p_new > 1 + 1e-12)
        ctx.fail("the probability of the transitions from '" + e.label(s) + "' would be " +
                 std::to_string(p_new) + ", more than 1");
    p_new = std::min(p_new, 1.0);
    if (rest <= 0 && p_new < 1)
        ctx.fail("the row of '" + e.label(s) +
                 "' cannot be renormalised: the changed transitions are all it has (probability "
                 "1), so the rest of the row has nothing to take up the difference");
    const double keep = rest > 0 ? (1 - p_new) / rest : 0.0;
    for (auto& [t, q] : row) q = matched[t] ? (p > 0 ? q * p_new / p : q) : q * keep;
    if (!(p > 0) && p_new > 0) put(row, create, p_new);
    drop_zeros(row);
}

JOURNEYLOOP_IMPL_INLINE std::vector<char> mask_of(const editable_chain& e,
                                                  const std::vector<state_id>& states) {
    std::vector<char> m(e.rows.size(), 0);
    for (auto s : states) m[s] = 1;
    return m;
}

JOURNEYLOOP_IMPL_INLINE void check_probability(const change_context& ctx, double p,
                                               const std::string& what) {
    if (!(p >= 0 && p <= 1))
        ctx.fail(what + " must be a probability in [0, 1], got " + std::to_string(p));
}

JOURNEYLOOP_IMPL_INLINE void apply_remove(editable_chain& e, const change_context& ctx) {
    if (ctx.change->names.empty()) ctx.fail("no channel or team to remove");
    std::vector<char> removed_channel(e.channels.size(), 0);
    for (const auto& name : ctx.change->names) {
        if (const auto c = e.channels.find(name)) {
            removed_channel[*c] = 1;
            continue;
        }
        bool team = false;
        for (const auto& [channel, t] : e.teams)
            if (t == name) {
                team = true;
                if (const auto c = e.channels.find(channel)) removed_channel[*c] = 1;
            }
        if (!team)
            ctx.fail("'" + name + "' is no channel of the model" +
                     (e.teams.empty() ? std::string(" (give teams= to remove a team)")
                                      : std::string(" and no team of the teams given")));
    }
    std::vector<char> gone(e.rows.size(), 0);
    for (state_id s = tc::first_channel_state; s < e.rows.size(); ++s)
        for (auto c : e.tuples[s])
            if (c != tc::padding && removed_channel[c]) gone[s] = 1;
    for (auto& row : e.rows) {
        double moved = 0;
        for (auto& [t, q] : row)
            if (gone[t]) {
                moved += q;
                q = 0;
            }
        if (moved > 0) {
            drop_zeros(row);
            put(row, tc::null, probability_of(row, tc::null) + moved);
        }
    }
}

JOURNEYLOOP_IMPL_INLINE void apply_scale_or_set(editable_chain& e, const change_context& ctx) {
    const auto& ch = *ctx.change;
    const bool scale = ch.kind == scenario_change_kind::scale;
    if (scale) {
        if (!(ch.amount >= 0) || !std::isfinite(ch.amount))
            ctx.fail("the factor must be a finite number >= 0, got " + std::to_string(ch.amount));
    } else {
        check_probability(ctx, ch.amount, "the probability");
    }
    const auto from = need_states(e, ctx, ch.from, true, "from");
    const auto to = need_states(e, ctx, ch.to, false, "to");
    const auto matched = mask_of(e, to);
    bool changed = false;
    for (auto s : from) {
        if (e.collapse_repeats && matched[s] && s >= tc::first_channel_state)
            ctx.fail("'" + e.label(s) + "' -> '" + e.label(s) +
                     "' is a self-loop, which a model whose repeats are collapsed has none of");
        double p = 0;
        for (const auto& [t, q] : e.rows[s])
            if (matched[t]) p += q;
        if (scale) {
            if (!(p > 0)) continue;
            set_share(e, ctx, s, matched, ch.amount * p, 0);
            changed = true;
            continue;
        }
        // A transition the row does not have is made only when its target is
        // one state: an outcome, or at order 1 the channel's state.
        state_id create = 0;
        if (!(p > 0)) {
            std::vector<state_id> fits;
            for (auto t : to)
                if (t < tc::first_channel_state || e.order == 1) fits.push_back(t);
            if (fits.size() != 1 ||
                (e.collapse_repeats && fits[0] == s && s >= tc::first_channel_state))
                continue;
            create = fits[0];
            if (!(ch.amount > 0)) {
                changed = true;
                continue;
            }
        }
        set_share(e, ctx, s, matched, ch.amount, create);
        changed = true;
    }
    if (!changed)
        ctx.fail("the model has no transition from '" + ch.from + "' to '" + ch.to + "'" +
                 (scale ? std::string(" to scale")
                        : std::string(" that can be set at order ") + std::to_string(e.order)));
}

// The states whose last channel is `c`, by their tuple.
JOURNEYLOOP_IMPL_INLINE std::map<std::vector<channel_id>, state_id> states_ending_in(
    const editable_chain& e, channel_id c) {
    std::map<std::vector<channel_id>, state_id> out;
    for (state_id s = tc::first_channel_state; s < e.tuples.size(); ++s)
        if (!e.tuples[s].empty() && e.tuples[s].back() == c) out.emplace(e.tuples[s], s);
    return out;
}

JOURNEYLOOP_IMPL_INLINE void apply_redirect(editable_chain& e, const change_context& ctx) {
    const auto& ch = *ctx.change;
    check_probability(ctx, ch.amount, "the share");
    const auto a = e.channels.find(ch.from);
    if (!a) ctx.fail("from '" + ch.from + "' is no channel of the model");
    if (ch.from == ch.to) ctx.fail("from and to are the same channel '" + ch.from + "'");
    const auto b = e.channels.find(ch.to);
    const auto outcome = states_named(e, ch.to, false);
    if (!b && (outcome.size() != 1 || outcome[0] >= tc::first_channel_state))
        ctx.fail("to '" + ch.to + "' is no channel of the model nor " +
                 (e.loop ? std::string("PURCHASE or END") : std::string("CONVERSION or NULL")));
    // Where the traffic into each state whose last channel is `from` goes.
    std::vector<state_id> target(e.rows.size(), 0);
    const auto into_b = b ? states_ending_in(e, *b) : std::map<std::vector<channel_id>, state_id>{};
    bool any = false;
    for (state_id t = tc::first_channel_state; t < e.rows.size(); ++t) {
        if (e.tuples[t].empty() || e.tuples[t].back() != *a) continue;
        any = true;
        if (!b) {
            target[t] = outcome[0];
            continue;
        }
        auto tuple = e.tuples[t];
        tuple.back() = *b;
        const auto found = into_b.find(tuple);
        if (found == into_b.end())
            ctx.fail("the model has no state '" + e.label(t).substr(0, e.label(t).rfind(ch.from)) +
                     ch.to + "' to redirect the traffic into '" + e.label(t) +
                     "' to (at order k, only to states the model has)");
        target[t] = found->second;
    }
    if (!any) ctx.fail("no state of the model ends in channel '" + ch.from + "'");
    if (ch.amount == 0) return;
    for (state_id s = 0; s < e.rows.size(); ++s) {
        auto& row = e.rows[s];
        std::vector<std::pair<state_id, double>> moves;
        for (auto& [t, q] : row)
            if (t >= tc::first_channel_state && target[t] != 0) {
                moves.emplace_back(target[t], q * ch.amount);
                q -= q * ch.amount;
            }
        if (moves.empty()) continue;
        double dropped = 0;
        for (const auto& [t, q] : moves) {
            // Repeats collapsed: staying on s is no move; the row is
            // conditioned on leaving s instead (the same absorption).
            if (e.collapse_repeats && t == s) dropped += q;
            else put(row, t, probability_of(row, t) + q);
        }
        drop_zeros(row);
        if (dropped > 0) {
            double rest = 0;
            for (const auto& entry : row) rest += entry.second;
            if (!(rest > 0))
                ctx.fail("the row of '" + e.label(s) +
                         "' cannot be renormalised: all of it would go back to itself");
            for (auto& entry : row) entry.second /= rest;
        }
    }
}

JOURNEYLOOP_IMPL_INLINE void apply_add_channel(editable_chain& e, const change_context& ctx) {
    const auto& ch = *ctx.change;
    if (e.order != 1 || e.padded)
        ctx.fail("a channel can be added to an order-1 model only (this one has order " +
                 std::to_string(e.order) + (e.padded ? ", padded" : "") + ")");
    if (ch.from.empty() || e.channels.find(ch.from) || detail::state_name(ch.from) ||
        detail::loop_state_name(ch.from))
        ctx.fail("the new channel's name '" + ch.from +
                 "' is empty, a channel the model has, or the name of a state");
    if (ch.outbound.empty())
        ctx.fail("the new channel '" + ch.from + "' needs outbound transitions (its row)");
    if (!std::isnan(ch.amount) && !(ch.amount >= 0 && std::isfinite(ch.amount)))
        ctx.fail("the value per conversion must be a finite number >= 0, got " +
                 std::to_string(ch.amount));
    // Resolve every name before the chain changes.
    row_t out_row;
    double sum = 0;
    for (const auto& [to, p] : ch.outbound) {
        check_probability(ctx, p, "outbound probability to '" + to + "'");
        const auto t = need_states(e, ctx, to, false, "outbound to");
        put(out_row, t[0], probability_of(out_row, t[0]) + p);
        sum += p;
    }
    if (std::abs(sum - 1) > 1e-9)
        ctx.fail("the new channel's outbound probabilities sum to " + std::to_string(sum) +
                 ", not 1");
    for (auto& entry : out_row) entry.second /= sum;
    drop_zeros(out_row);
    std::vector<std::pair<std::vector<state_id>, double>> in;
    for (const auto& [from, p] : ch.inbound) {
        check_probability(ctx, p, "inbound probability from '" + from + "'");
        in.emplace_back(need_states(e, ctx, from, true, "inbound from"), p);
    }
    const auto c = e.channels.intern(ch.from);
    const auto s = static_cast<state_id>(e.rows.size());
    e.tuples.push_back({c});
    e.rows.push_back(std::move(out_row));
    e.mean_value.push_back(std::isnan(ch.amount) ? e.default_value : ch.amount);
    std::vector<char> matched(e.rows.size(), 0);
    matched[s] = 1;
    for (const auto& [from, p] : in)
        for (auto f : from) set_share(e, ctx, f, matched, p, s);
}

JOURNEYLOOP_IMPL_INLINE void apply_value(editable_chain& e, const change_context& ctx) {
    const auto& ch = *ctx.change;
    if (!(ch.amount >= 0) || !std::isfinite(ch.amount))
        ctx.fail(
            std::string(ch.kind == scenario_change_kind::scale_value ? "the factor" : "the value") +
            " must be a finite number >= 0, got " + std::to_string(ch.amount));
    std::vector<state_id> which;
    if (ch.from.empty()) {
        for (state_id s = 0; s < e.rows.size(); ++s) which.push_back(s);
    } else {
        if (!e.channels.find(ch.from)) ctx.fail("'" + ch.from + "' is no channel of the model");
        which = states_named(e, ch.from, true);
    }
    for (auto s : which)
        e.mean_value[s] =
            ch.kind == scenario_change_kind::scale_value ? e.mean_value[s] * ch.amount : ch.amount;
    if (ch.from.empty())
        e.default_value =
            ch.kind == scenario_change_kind::scale_value ? e.default_value * ch.amount : ch.amount;
}

JOURNEYLOOP_IMPL_INLINE void apply_changes(editable_chain& e, const scenario& s) {
    for (std::size_t i = 0; i < s.changes().size(); ++i) {
        const change_context ctx{&s, i, &s.changes()[i]};
        switch (s.changes()[i].kind) {
        case scenario_change_kind::remove: apply_remove(e, ctx); break;
        case scenario_change_kind::scale:
        case scenario_change_kind::set: apply_scale_or_set(e, ctx); break;
        case scenario_change_kind::redirect: apply_redirect(e, ctx); break;
        case scenario_change_kind::add_channel: apply_add_channel(e, ctx); break;
        case scenario_change_kind::scale_value:
        case scenario_change_kind::set_value: apply_value(e, ctx); break;
        default: ctx.fail("unknown kind of change");
        }
    }
}

// The states the changed chain reaches from START (through PURCHASE's row in
// the loop), each of which must reach an outcome.
JOURNEYLOOP_IMPL_INLINE std::vector<char> reachable(const editable_chain& e) {
    const auto n = e.rows.size();
    std::vector<char> seen(n, 0);
    std::vector<state_id> stack{tc::start};
    seen[tc::start] = 1;
    while (!stack.empty()) {
        const auto s = stack.back();
        stack.pop_back();
        for (const auto& [t, p] : e.rows[s])
            if (!seen[t]) {
                seen[t] = 1;
                stack.push_back(t);
            }
    }
    // Backwards from the outcomes, through every row but PURCHASE's (a
    // view's walk stops at PURCHASE).
    std::vector<std::vector<state_id>> preds(n);
    for (state_id s = 0; s < n; ++s)
        if (s != tc::conversion)
            for (const auto& [t, p] : e.rows[s]) preds[t].push_back(s);
    std::vector<char> ends(n, 0);
    std::vector<state_id> queue{tc::conversion, tc::null};
    ends[tc::conversion] = ends[tc::null] = 1;
    for (std::size_t head = 0; head < queue.size(); ++head)
        for (auto u : preds[queue[head]])
            if (!ends[u]) {
                ends[u] = 1;
                queue.push_back(u);
            }
    if (e.loop && seen[tc::conversion]) {
        bool ok = false;
        for (const auto& [t, p] : e.rows[tc::conversion]) ok = ok || ends[t];
        if (!ok) ends[tc::conversion] = 0;
    }
    for (state_id s = 0; s < n; ++s)
        if (seen[s] && !ends[s] && s != tc::null)
            throw invalid_input("after the scenario, state '" + e.label(s) + "' cannot reach " +
                                (e.loop ? "PURCHASE or END" : "CONVERSION or NULL") +
                                ": the changes closed a loop with no way out");
    return seen;
}

// The solution of one view of the changed chain from `start_row`: the goal's
// probability and value from its start, and the expected visits by new id.
struct view_solution {
    double x_start = 0, value_start = 0;
    std::vector<double> x;      // by new id (channel states; START)
    std::vector<double> visits; // by new id
};

JOURNEYLOOP_IMPL_INLINE view_solution solve_view(const editable_chain& e, const row_t& start_row,
                                                 double start_mean_value,
                                                 const std::vector<state_id>& new_id,
                                                 std::size_t n_new) {
    const std::size_t n_transient = n_new - 2;
    auto index = [](state_id id) -> std::uint32_t { return id == tc::start ? 0 : id - 2; };
    std::vector<std::pair<std::uint64_t, double>> q;
    std::vector<double> r(n_transient, 0.0), r_value(n_transient, 0.0);
    for (state_id s = 0; s < e.rows.size(); ++s) {
        if (s == tc::conversion || s == tc::null || (new_id[s] == 0 && s != tc::start)) continue;
        const auto& row = s == tc::start ? start_row : e.rows[s];
        const double mean_value = s == tc::start ? start_mean_value : e.mean_value[s];
        const auto from = index(new_id[s]);
        for (const auto& [t, p] : row) {
            if (t == tc::conversion) {
                r[from] += p;
                r_value[from] += p * mean_value;
            } else if (t != tc::null) {
                q.emplace_back((std::uint64_t{from} << 32) | index(new_id[t]), p);
            }
        }
    }
    const auto chain =
        detail::build_chain(n_transient, std::move(q), std::move(r), std::move(r_value));
    view_solution out;
    out.x_start = chain.x[chain.start];
    out.value_start = chain.x_value[chain.start];
    out.x.assign(n_new, 0.0);
    out.visits.assign(n_new, 0.0);
    for (std::size_t id = 0; id < n_new; ++id) {
        if (id == tc::conversion || id == tc::null) continue;
        const auto row = chain.row_of[index(static_cast<state_id>(id))];
        out.x[id] = chain.x[row];
        out.visits[id] = chain.visits[row];
    }
    return out;
}

// The parts of counts holding the channel rows weighted by `weight` (by new
// id) and the START row `start_row` weighted by `start_weight`, with the
// conversions and value of the ends.
JOURNEYLOOP_IMPL_INLINE detail::counts_parts counts_of(const editable_chain& e,
                                                       const std::vector<state_id>& new_id,
                                                       std::size_t n_new,
                                                       const std::vector<double>& weight,
                                                       const row_t& start_row, double start_weight,
                                                       double start_mean_value, bool pooled) {
    detail::counts_parts parts;
    parts.order = e.order;
    parts.collapse_repeats = e.collapse_repeats;
    parts.padded = e.padded;
    parts.pooled = pooled;
    parts.channels = e.channels;
    parts.states.resize(n_new - tc::first_channel_state);
    parts.end_conversions.assign(n_new, 0.0);
    parts.end_value.assign(n_new, 0.0);
    auto add_row = [&](state_id id, const row_t& row, double w, double mean_value) {
        for (const auto& [t, p] : row) {
            const double count = w * p;
            if (!(count > 0)) continue;
            const auto to = new_id[t];
            parts.edges.emplace_back((std::uint64_t{id} << 32) | to, count);
            if (to == tc::conversion) {
                parts.end_conversions[id] += count;
                parts.end_value[id] += count * mean_value;
            }
        }
    };
    add_row(tc::start, start_row, start_weight, start_mean_value);
    for (state_id s = tc::first_channel_state; s < e.rows.size(); ++s) {
        const auto id = new_id[s];
        if (id == 0) continue;
        parts.states[id - tc::first_channel_state] = e.tuples[s];
        add_row(id, e.rows[s], weight[id], e.mean_value[s]);
    }
    for (const auto& [code, w] : parts.edges) {
        const auto to = code & 0xffffffffu;
        if (to == tc::conversion) parts.total_conversions += w;
        if (to == tc::null) parts.total_nulls += w;
    }
    for (std::size_t id = 0; id < n_new; ++id) parts.total_value += parts.end_value[id];
    return parts;
}

// New ids: START, the outcomes, then the reachable channel states in order.
JOURNEYLOOP_IMPL_INLINE std::size_t renumber(const editable_chain& e, const std::vector<char>& seen,
                                             std::vector<state_id>& new_id) {
    new_id.assign(e.rows.size(), 0);
    new_id[tc::conversion] = tc::conversion;
    new_id[tc::null] = tc::null;
    state_id next = tc::first_channel_state;
    for (state_id s = tc::first_channel_state; s < e.rows.size(); ++s)
        if (seen[s]) new_id[s] = next++;
    return next;
}

JOURNEYLOOP_IMPL_INLINE markov_model solve_funnel(const editable_chain& e) {
    const auto seen = reachable(e);
    std::vector<state_id> new_id;
    const auto n_new = renumber(e, seen, new_id);
    const auto v = solve_view(e, e.rows[tc::start], e.mean_value[tc::start], new_id, n_new);
    std::vector<double> weight(n_new);
    for (std::size_t id = 0; id < n_new; ++id) weight[id] = e.journeys * v.visits[id];
    auto parts = counts_of(e, new_id, n_new, weight, e.rows[tc::start], e.journeys,
                           e.mean_value[tc::start], false);
    return fit_markov(detail::counts_access::assemble(std::move(parts)), markov_options{});
}

JOURNEYLOOP_IMPL_INLINE loop_model solve_loop(const editable_chain& e) {
    const auto seen = reachable(e);
    std::vector<state_id> new_id;
    const auto n_new = renumber(e, seen, new_id);
    const auto first = solve_view(e, e.rows[tc::start], e.mean_value[tc::start], new_id, n_new);
    const double h = first.x_start;
    double r = 0, v_repeat = 0;
    view_solution repeat;
    if (seen[tc::conversion]) {
        repeat = solve_view(e, e.rows[tc::conversion], e.mean_value[tc::conversion], new_id, n_new);
        r = repeat.x_start;
        v_repeat = repeat.value_start;
    }
    if (!(r < 1))
        throw numerical_error("after the scenario, the repeat probability is 1: every purchase "
                              "is followed by another, so the expected purchases are infinite");
    const double purchases = h / (1 - r);
    const double J = e.journeys;
    std::vector<double> weight(n_new, 0.0);
    for (std::size_t id = tc::first_channel_state; id < n_new; ++id)
        weight[id] =
            J * (first.visits[id] + (repeat.visits.empty() ? 0.0 : purchases * repeat.visits[id]));
    loop_counts counts;
    auto first_parts =
        counts_of(e, new_id, n_new, weight, e.rows[tc::start], J, e.mean_value[tc::start], true);
    first_parts.total_conversions = J * h;
    first_parts.total_nulls = J * (1 - h);
    first_parts.total_value = J * first.value_start;
    counts.customers = J;
    counts.buyers = J * h;
    counts.purchases = J * purchases;
    counts.repeat_purchases = counts.purchases - counts.buyers;
    counts.value = first_parts.total_value;
    counts.first = detail::counts_access::assemble(std::move(first_parts));
    if (h > 0) {
        auto repeat_parts = counts_of(e, new_id, n_new, weight, e.rows[tc::conversion],
                                      J * purchases, e.mean_value[tc::conversion], true);
        repeat_parts.total_conversions = counts.repeat_purchases;
        repeat_parts.total_nulls = counts.buyers;
        repeat_parts.total_value = J * h * v_repeat / (1 - r);
        counts.value += repeat_parts.total_value;
        counts.repeat = detail::counts_access::assemble(std::move(repeat_parts));
    }
    return fit_loop(counts, markov_options{});
}

template <class Model>
std::vector<Model> apply_all(const Model& model, const std::vector<scenario>& scenarios,
                             const scenario_options& options) {
    const std::size_t n = scenarios.size();
    std::vector<std::optional<Model>> out(n);
    std::vector<std::exception_ptr> errors(n);
    std::size_t threads = options.threads == 0 ? detail::stage_threads(2) : options.threads;
    threads = std::max<std::size_t>(1, std::min(threads, n));
    std::atomic<std::size_t> next{0};
    auto work = [&] {
        for (std::size_t i; (i = next.fetch_add(1)) < n;) {
            try {
                out[i] = apply_scenario(model, scenarios[i], options);
            } catch (...) {
                errors[i] = std::current_exception();
            }
        }
    };
    std::vector<std::thread> workers;
    for (std::size_t t = 1; t < threads; ++t) workers.emplace_back(work);
    work();
    for (auto& w : workers) w.join();
    // The first failing scenario's error, whatever thread met it first.
    for (const auto& e : errors)
        if (e) std::rethrow_exception(e);
    std::vector<Model> models;
    models.reserve(n);
    for (auto& m : out) models.push_back(std::move(*m));
    return models;
}

JOURNEYLOOP_IMPL_INLINE double elasticity(double sensitivity, double p, double goal) {
    return goal > 0 ? sensitivity * p / goal : 0.0;
}

} // JOURNEYLOOP_IMPL_NAMESPACE(scenario_1)

JOURNEYLOOP_IMPL_INLINE markov_model apply_scenario(const markov_model& model, const scenario& s,
                                                    const scenario_options& options) {
    auto e = editable(model);
    e.teams = options.teams;
    apply_changes(e, s);
    return solve_funnel(e);
}

JOURNEYLOOP_IMPL_INLINE loop_model apply_scenario(const loop_model& model, const scenario& s,
                                                  const scenario_options& options) {
    auto e = editable(model);
    e.teams = options.teams;
    apply_changes(e, s);
    return solve_loop(e);
}

JOURNEYLOOP_IMPL_INLINE std::vector<markov_model> apply_scenarios(
    const markov_model& model, const std::vector<scenario>& scenarios,
    const scenario_options& options) {
    return apply_all(model, scenarios, options);
}

JOURNEYLOOP_IMPL_INLINE std::vector<loop_model> apply_scenarios(
    const loop_model& model, const std::vector<scenario>& scenarios,
    const scenario_options& options) {
    return apply_all(model, scenarios, options);
}

JOURNEYLOOP_IMPL_INLINE std::vector<transition_sensitivity> sensitivities(
    const markov_model& model) {
    const auto x = model.conversion_probabilities();
    const auto y = model.expected_visits();
    const double p = model.conversion_rate();
    const auto& P = model.transitions();
    std::vector<transition_sensitivity> out;
    for (long s = 0; s < P.outerSize(); ++s)
        for (transition_matrix::InnerIterator it(P, s); it; ++it) {
            const double q = it.value();
            if (!(q > 0)) continue;
            transition_sensitivity t;
            t.from = static_cast<state_id>(s);
            t.to = static_cast<state_id>(it.col());
            t.probability = q;
            t.sensitivity = q < 1 ? y[s] * (x[it.col()] - x[s]) / (1 - q) : 0.0;
            t.elasticity = elasticity(t.sensitivity, q, p);
            out.push_back(t);
        }
    return out;
}

JOURNEYLOOP_IMPL_INLINE std::vector<transition_sensitivity> sensitivities(const loop_model& model) {
    const auto summary = summarize(model);
    const double E = summary.expected_purchases;
    const double r = summary.repeat_probability;
    const auto y = model.expected_visits();
    // w(u) = F[u, PURCHASE] = P(reach PURCHASE from u) F[PURCHASE, PURCHASE].
    auto w = model.purchase_probabilities();
    for (auto& v : w) v /= 1 - r;
    w[transition_counts::conversion] = 1 / (1 - r);
    w[transition_counts::null] = 0;
    std::vector<transition_sensitivity> out;
    for (const auto& tr : model.transitions()) {
        const double q = tr.probability;
        if (!(q > 0)) continue;
        transition_sensitivity t;
        t.from = tr.from;
        t.to = tr.to;
        t.probability = q;
        const double own = tr.from == transition_counts::conversion ? 1.0 : 0.0;
        t.sensitivity = q < 1 ? y[tr.from] * (w[tr.to] - w[tr.from] + own) / (1 - q) : 0.0;
        t.elasticity = elasticity(t.sensitivity, q, E);
        out.push_back(t);
    }
    return out;
}

} // namespace journeyloop

#endif // JOURNEYLOOP_IMPL_SCENARIO_IPP
