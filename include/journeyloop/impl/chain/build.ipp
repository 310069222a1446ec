// Building the chain: its condensation into strongly connected components,
// the order its rows are stored and swept in, and its full solution.
#ifndef JOURNEYLOOP_IMPL_CHAIN_BUILD_IPP
#define JOURNEYLOOP_IMPL_CHAIN_BUILD_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/impl/chain/component.hpp>
#include <journeyloop/impl/chain/rows.hpp>

#include <journeyloop/detail/mapped.hpp>
#include <journeyloop/errors.hpp>
#include <journeyloop/interrupt.hpp>
#include <journeyloop/threads.hpp>

#include <algorithm>
#include <exception>
#include <limits>
#include <thread>

namespace journeyloop::detail {

JOURNEYLOOP_IMPL_NAMESPACE(chain_build_1) {

// Rows of the edges (sorted by code: source << 32 | target).
JOURNEYLOOP_IMPL_INLINE csr make_csr(std::size_t n,
                                     const std::vector<std::pair<std::uint64_t, double>>& edges) {
    csr out;
    out.ptr.assign(n + 1, 0);
    for (const auto& [code, w] : edges) ++out.ptr[(code >> 32) + 1];
    for (std::size_t i = 0; i < n; ++i) out.ptr[i + 1] += out.ptr[i];
    out.idx.resize(edges.size());
    out.val.resize(edges.size());
    for (std::size_t k = 0; k < edges.size(); ++k) {
        out.idx[k] = static_cast<std::uint32_t>(edges[k].first & 0xffffffffu);
        out.val[k] = edges[k].second;
    }
    return out;
}

// The chain's strongly connected components and the order it is stored and
// swept in, from one depth-first search of Q's graph (Tarjan's algorithm):
//
// - comp: the component of every state. Tarjan numbers a component after
//   every component it reaches, so edges go to lower or equal numbers;
//   checked, since every solve relies on it.
// - rank: the order the rows are laid out in, each state numbered when it
//   finishes (after every state it reaches that was not already on the
//   search's path). The search starts from START, then from every state not
//   yet seen, and follows the heavier successors first. Gauss-Seidel in that
//   order reads fresh values along every edge of the search tree and every
//   cross edge, so within a large component most of the transitions' weight;
//   and a state's row lies just after the rows of its heaviest successors,
//   which it reads. On the large components of higher orders it takes about
//   half the sweeps of an order by channel tuple (bench/HISTORY.md, the run
//   that introduced the finishing order).
//
// One search instead of Boost.Graph's strong_components and a second search:
// Boost's copies the graph and its edge list first (about 12 bytes an edge,
// at the peak of a fit), and the finishing order needs the same search.
struct chain_search {
    std::vector<std::uint32_t> comp;
    mapped_vector<std::uint32_t> rank;
};

JOURNEYLOOP_IMPL_INLINE chain_search search_chain(const csr& q) {
    const std::size_t n = q.ptr.size() - 1;
    // Each row's targets, heaviest first (ties by target).
    mapped_vector<std::uint32_t> heavy(q.idx.size());
    for (std::size_t u = 0; u < n; ++u) {
        const auto b = q.ptr[u], e = q.ptr[u + 1];
        for (auto k = b; k < e; ++k) heavy[k] = static_cast<std::uint32_t>(k - b);
        std::sort(heavy.begin() + long(b), heavy.begin() + long(e),
                  [&q, b](std::uint32_t x, std::uint32_t y) {
                      const double wx = q.val[b + x], wy = q.val[b + y];
                      return wx != wy ? wx > wy : x < y;
                  });
        for (auto k = b; k < e; ++k) heavy[k] = q.idx[b + heavy[k]];
    }
    constexpr std::uint32_t unseen = std::numeric_limits<std::uint32_t>::max();
    chain_search out;
    out.comp.assign(n, 0);
    out.rank.assign(n, 0);
    // Tarjan's discovery index and low link of every state, and whether it
    // is on the stack of states not yet in a component.
    mapped_vector<std::uint32_t> index(n, unseen), low(n, 0);
    std::vector<char> open(n, 0);
    std::vector<std::uint32_t> pending;
    std::vector<std::pair<std::uint32_t, std::size_t>> path; // (state, next edge)
    std::uint32_t next_index = 0, next_rank = 0, next_comp = 0;
    auto enter = [&](std::uint32_t v) {
        index[v] = low[v] = next_index++;
        pending.push_back(v);
        open[v] = 1;
        path.emplace_back(v, q.ptr[v]);
    };
    auto search = [&](std::uint32_t root) {
        if (index[root] != unseen) return;
        enter(root);
        while (!path.empty()) {
            const auto u = path.back().first;
            auto& e = path.back().second;
            if (e < q.ptr[u + 1]) {
                const auto v = heavy[e++];
                if (index[v] == unseen) enter(v);
                else if (open[v]) low[u] = std::min(low[u], index[v]);
                continue;
            }
            out.rank[u] = next_rank++;
            if (low[u] == index[u]) {
                std::uint32_t w;
                do {
                    w = pending.back();
                    pending.pop_back();
                    open[w] = 0;
                    out.comp[w] = next_comp;
                } while (w != u);
                ++next_comp;
            }
            path.pop_back();
            if (!path.empty()) low[path.back().first] = std::min(low[path.back().first], low[u]);
        }
    };
    if (n > 0) search(0); // START
    for (std::uint32_t u = 0; u < n; ++u) search(u);
    for (std::size_t u = 0; u < n; ++u)
        for (auto k = q.ptr[u]; k < q.ptr[u + 1]; ++k)
            if (out.comp[q.idx[k]] > out.comp[u])
                throw numerical_error("internal error: components are not in topological order");
    return out;
}

// Within each component of at least greedy_order_min_states states, the
// rank order is replaced by a greedy order for Gauss-Seidel (Eades, Lin and
// Smyth's heuristic for a small feedback arc set, weighted by the transition
// probabilities). Gauss-Seidel reads stale values along the edges to rows
// after the one it updates; in the finishing order those were a quarter of
// a large component's weight at order 3, in this order a small part, and
// the removals take fewer sweeps (docs/markov.md, "Speed at higher orders").
// The component keeps the rank values it had, handed out in the new order.
constexpr std::size_t greedy_order_min_states = 1000;

// A component's edges among its own states (no self-loops), by index in
// `members` (local[t]: the index of state t), forward and backward.
JOURNEYLOOP_IMPL_INLINE local_edges component_edges(const csr& q,
                                                    const std::vector<std::uint32_t>& comp,
                                                    const std::uint32_t* members, std::size_t m,
                                                    const std::vector<std::uint32_t>& local) {
    local_edges g;
    g.out.ptr.assign(m + 1, 0);
    g.in.ptr.assign(m + 1, 0);
    const auto k = comp[members[0]];
    auto inside = [&](std::uint32_t from, std::uint32_t to) { return to != from && comp[to] == k; };
    for (std::uint32_t i = 0; i < m; ++i)
        for (auto e = q.ptr[members[i]]; e < q.ptr[members[i] + 1]; ++e)
            if (inside(members[i], q.idx[e])) {
                ++g.out.ptr[i + 1];
                ++g.in.ptr[local[q.idx[e]] + 1];
            }
    for (std::size_t i = 0; i < m; ++i) {
        g.out.ptr[i + 1] += g.out.ptr[i];
        g.in.ptr[i + 1] += g.in.ptr[i];
    }
    for (csr* c : {&g.out, &g.in}) {
        c->idx.resize(c->ptr[m]);
        c->val.resize(c->ptr[m]);
    }
    std::vector<std::size_t> fo(g.out.ptr.begin(), g.out.ptr.end() - 1),
        fi(g.in.ptr.begin(), g.in.ptr.end() - 1);
    for (std::uint32_t i = 0; i < m; ++i)
        for (auto e = q.ptr[members[i]]; e < q.ptr[members[i] + 1]; ++e) {
            if (!inside(members[i], q.idx[e])) continue;
            const auto j = local[q.idx[e]];
            g.out.idx[fo[i]] = j;
            g.out.val[fo[i]++] = q.val[e];
            g.in.idx[fi[j]] = i;
            g.in.val[fi[j]++] = q.val[e];
        }
    return g;
}

JOURNEYLOOP_IMPL_INLINE void greedy_component_order(const csr& q, chain_search& s) {
    const std::size_t n = q.ptr.size() - 1;
    std::size_t components = 0;
    for (auto k : s.comp) components = std::max<std::size_t>(components, std::size_t{k} + 1);
    std::vector<std::uint32_t> size(components, 0);
    for (auto k : s.comp) ++size[k];
    // The states of the large components, by component.
    std::vector<std::size_t> start(components + 1, 0);
    for (std::size_t k = 0; k < components; ++k)
        start[k + 1] = start[k] + (size[k] >= greedy_order_min_states ? size[k] : 0);
    if (start[components] == 0) return;
    std::vector<std::uint32_t> members(start[components]);
    {
        std::vector<std::size_t> fill(start.begin(), start.end() - 1);
        for (std::uint32_t t = 0; t < n; ++t)
            if (size[s.comp[t]] >= greedy_order_min_states) members[fill[s.comp[t]]++] = t;
    }
    std::vector<std::uint32_t> local(n, 0);
    for (std::size_t k = 0; k < components; ++k) {
        const std::size_t m = start[k + 1] - start[k];
        if (m == 0) continue;
        const std::uint32_t* mem = members.data() + start[k];
        for (std::uint32_t i = 0; i < m; ++i) local[mem[i]] = i;
        const auto order = greedy_sequence(component_edges(q, s.comp, mem, m, local));
        std::vector<std::uint32_t> ranks(m);
        for (std::uint32_t i = 0; i < m; ++i) ranks[i] = s.rank[mem[i]];
        std::sort(ranks.begin(), ranks.end());
        for (std::uint32_t p = 0; p < m; ++p) s.rank[mem[order[p]]] = ranks[p];
    }
}

// The transient state of every row: the terminal states (no transient
// successor), then the other components sinks first, each in `rank` order.
// Terminal states are sinks, so the order is still topological; the batched
// removals keep no solutions for them. Sets c.row_of, c.live_begin and
// c.component_end.
JOURNEYLOOP_IMPL_INLINE mapped_vector<std::uint32_t> row_order(
    chain& c, const csr& forward, const std::vector<std::uint32_t>& comp,
    const mapped_vector<std::uint32_t>& rank) {
    const std::size_t n = c.n;
    auto terminal = [&forward](std::uint32_t t) { return forward.ptr[t + 1] == forward.ptr[t]; };
    // A counting sort, stable over the states in rank order (rank is a
    // permutation): the terminal states in rank order, then the others by
    // component, each in rank order.
    mapped_vector<std::uint32_t> by(n);
    {
        mapped_vector<std::uint32_t> ranked(n);
        for (std::uint32_t t = 0; t < n; ++t) ranked[rank[t]] = t;
        std::size_t components = 0;
        for (std::uint32_t t = 0; t < n; ++t)
            components = std::max<std::size_t>(components, std::size_t{comp[t]} + 1);
        // Slot 0: the terminal states; slot k + 1: component k's others.
        std::vector<std::size_t> slot(components + 2, 0);
        for (std::uint32_t t = 0; t < n; ++t) ++slot[terminal(t) ? 1 : std::size_t{comp[t]} + 2];
        for (std::size_t k = 1; k < slot.size(); ++k) slot[k] += slot[k - 1];
        for (std::uint32_t i = 0; i < n; ++i) {
            const auto t = ranked[i];
            by[slot[terminal(t) ? 0 : std::size_t{comp[t]} + 1]++] = t;
        }
    }
    while (c.live_begin < n && terminal(by[c.live_begin])) ++c.live_begin;
    c.row_of.assign(n, 0);
    for (std::uint32_t i = 0; i < n; ++i) c.row_of[by[i]] = i;
    for (std::size_t begin = 0; begin < n;) {
        std::size_t end = begin + 1;
        while (begin >= c.live_begin && end < n && comp[by[end]] == comp[by[begin]]) ++end;
        c.component_end.push_back(end);
        begin = end;
    }
    return by;
}

// Q, r and r_value by row, the rows in the order `by`; the edges of each
// row by ascending row, the self-loops apart (diag, kept only for chains
// that have one).
JOURNEYLOOP_IMPL_INLINE void copy_rows(chain& c, const csr& forward,
                                       const mapped_vector<std::uint32_t>& by,
                                       const std::vector<double>& r,
                                       const std::vector<double>& r_value) {
    const std::size_t n = c.n;
    bool self_loops = false;
    for (std::size_t u = 0; u < n && !self_loops; ++u)
        for (auto e = forward.ptr[u]; e < forward.ptr[u + 1]; ++e)
            if (forward.idx[e] == u) self_loops = true;
    if (self_loops) c.diag.assign(n, 0.0);
    c.base.assign(2 * n, 0.0);
    c.ptr.reserve(n + 1);
    c.ptr.push_back(0);
    c.idx.reserve(forward.idx.size());
    c.val.reserve(forward.idx.size());
    std::vector<std::pair<std::uint32_t, double>> edges;
    for (std::uint32_t p = 0; p < n; ++p) {
        const auto u = by[p];
        edges.clear();
        for (auto e = forward.ptr[u]; e < forward.ptr[u + 1]; ++e) {
            const auto v = forward.idx[e];
            if (v == u) c.diag[p] += forward.val[e];
            else edges.emplace_back(c.row_of[v], forward.val[e]);
        }
        std::sort(edges.begin(), edges.end()); // ascending rows: mostly one run
        for (const auto& [row, w] : edges) {
            c.idx.push_back(row);
            c.val.push_back(w);
        }
        c.ptr.push_back(c.idx.size());
        c.base[p] = r[u];
        c.base[n + p] = r_value[u];
    }
}

// The transpose of Q by row, self-loops included, the sources ascending in
// each row.
JOURNEYLOOP_IMPL_INLINE csr transpose(const chain& c) {
    const std::size_t n = c.n;
    csr backward;
    backward.ptr.assign(n + 1, 0);
    for (std::uint32_t p = 0; p < n; ++p) {
        for (auto e = c.ptr[p]; e < c.ptr[p + 1]; ++e) ++backward.ptr[c.idx[e] + 1];
        if (!c.diag.empty() && c.diag[p] != 0) ++backward.ptr[p + 1];
    }
    for (std::size_t i = 0; i < n; ++i) backward.ptr[i + 1] += backward.ptr[i];
    backward.idx.resize(backward.ptr[n]);
    backward.val.resize(backward.ptr[n]);
    std::vector<std::size_t> fill(backward.ptr.begin(), backward.ptr.end() - 1);
    // By rows, then the self-loop in place.
    for (std::uint32_t u = 0; u < n; ++u) {
        for (auto e = c.ptr[u]; e < c.ptr[u + 1]; ++e) {
            const auto k = fill[c.idx[e]]++;
            backward.idx[k] = u;
            backward.val[k] = c.val[e];
        }
        if (!c.diag.empty() && c.diag[u] != 0) {
            const auto k = fill[u]++;
            backward.idx[k] = u;
            backward.val[k] = c.diag[u];
        }
    }
    return backward;
}

// Runs `first` and `second` at once, `second` on a thread of its own, and
// rethrows the first's error, else the second's.
template <class First, class Second>
void run_both(First&& first, Second&& second) {
    std::exception_ptr error;
    std::thread other([&] {
        try {
            second();
        } catch (...) {
            error = std::current_exception();
        }
    });
    try {
        first();
    } catch (...) {
        other.join();
        throw;
    }
    other.join();
    if (error) std::rethrow_exception(error);
}

// The full solution: absorption forward (sinks first), visits backward
// (sources first), over the transpose of Q, which is freed after: no later
// solve needs it (solve_without finds ancestors from the forward rows and
// the component order). The two are independent: on large chains, visits
// on a second thread.
// With `warm`, the solves start from the solutions c holds already.
JOURNEYLOOP_IMPL_INLINE void solve_full(
    chain& c, const std::function<void(std::size_t, std::size_t)>* progress, bool warm = false) {
    const std::size_t n = c.n, num = c.components();
    const csr backward = transpose(c);
    const std::vector<char> none(n, 0);
    if (!warm) {
        c.x.assign(n, 0.0);
        c.x_value.assign(n, 0.0);
        c.visits.assign(n, 0.0);
    }
    auto absorption = [&c, &none, n, num, progress] {
        component_workspace ws(n);
        double* ys[2] = {c.x.data(), c.x_value.data()};
        const block_system sys{forward_of(c), none, ys, 2, c.base.data(), 1, n};
        // Components are solved in order, each a range of states ending at
        // component_end[k]: the states solved so far. Reported at most every
        // 4,096 states (and at the end), so that chains of many one-state
        // components do not call back once a state.
        std::size_t reported = 0;
        for (std::size_t k = 0; k < num; ++k) {
            solve_component(sys, c.component_begin(k), c.component_end[k], ws);
            const std::size_t solved = c.component_end[k];
            if (progress && *progress && (solved - reported >= 4096 || k + 1 == num)) {
                (*progress)(solved, n);
                reported = solved;
            }
        }
    };
    // The visits' scratch is allocated here, on the calling thread, though
    // the visits may run on a second one: blocks a worker thread allocates
    // can stay resident after they are freed (detail/mapped.hpp).
    std::size_t largest = 0;
    for (std::size_t k = 0; k < num; ++k)
        largest = std::max<std::size_t>(largest, c.component_end[k] - c.component_begin(k));
    component_workspace visits_ws(n, largest);
    std::vector<double> start(n, 0.0);
    start[c.start] = 1.0;
    auto visits = [&c, &backward, &none, &visits_ws, &start, num] {
        double* ys[1] = {c.visits.data()};
        const adjacency a{backward.ptr.data(), backward.idx.data(), backward.val.data(), nullptr};
        const block_system sys{a, none, ys, 1, start.data(), 1, 0};
        for (std::size_t k = num; k-- > 0;)
            solve_component(sys, c.component_begin(k), c.component_end[k], visits_ws, true);
    };
    if (n < 20000 || stage_threads(2) < 2) {
        absorption();
        visits();
    } else {
        run_both(absorption, visits);
    }
}

} // JOURNEYLOOP_IMPL_NAMESPACE(chain_build_1)

// States are placed from both ends. A state whose successors are all placed
// goes next at the front (it reads only fresh values); one that no unplaced
// state reads goes next at the back; otherwise the state that the unplaced
// states read most, less what it reads of them, goes to the front.
JOURNEYLOOP_IMPL_INLINE std::vector<std::uint32_t> greedy_sequence(const local_edges& g) {
    const std::size_t m = g.out.ptr.size() - 1;
    const csr& out = g.out;
    const csr& in = g.in;
    std::vector<double> read_by(m, 0.0), reads(m, 0.0); // by unplaced states
    std::vector<std::uint32_t> outd(m), ind(m);
    for (std::uint32_t i = 0; i < m; ++i) {
        outd[i] = static_cast<std::uint32_t>(out.ptr[i + 1] - out.ptr[i]);
        ind[i] = static_cast<std::uint32_t>(in.ptr[i + 1] - in.ptr[i]);
        for (auto e = out.ptr[i]; e < out.ptr[i + 1]; ++e) reads[i] += out.val[e];
        for (auto e = in.ptr[i]; e < in.ptr[i + 1]; ++e) read_by[i] += in.val[e];
    }
    auto key = [&](std::uint32_t i) { return read_by[i] - reads[i]; };
    std::vector<char> placed(m, 0);
    std::vector<std::uint32_t> front, back, sinks, sources;
    front.reserve(m);
    // The unplaced states by key: a heap with stale entries, rebuilt from
    // the unplaced states when it holds more than twice as many entries.
    std::vector<std::pair<double, std::uint32_t>> best;
    auto push = [&best](double k, std::uint32_t i) {
        best.emplace_back(k, i);
        std::push_heap(best.begin(), best.end());
    };
    for (std::uint32_t i = 0; i < m; ++i) {
        if (outd[i] == 0) sinks.push_back(i);
        if (ind[i] == 0) sources.push_back(i);
        best.emplace_back(key(i), i);
    }
    std::make_heap(best.begin(), best.end());
    auto place = [&](std::uint32_t i) {
        placed[i] = 1;
        // A state's key falls when a state that reads it is placed: its entry
        // is then too high and is renewed when it comes up. It rises when a
        // state it reads is placed: pushed again.
        for (auto e = out.ptr[i]; e < out.ptr[i + 1]; ++e) {
            const auto j = out.idx[e];
            if (placed[j]) continue;
            read_by[j] -= out.val[e];
            if (--ind[j] == 0) sources.push_back(j);
        }
        for (auto e = in.ptr[i]; e < in.ptr[i + 1]; ++e) {
            const auto j = in.idx[e];
            if (placed[j]) continue;
            reads[j] -= in.val[e];
            if (--outd[j] == 0) sinks.push_back(j);
            push(key(j), j);
        }
    };
    // Places every state of `list` not yet placed at the front or back.
    auto drain = [&](std::vector<std::uint32_t>& list, std::vector<std::uint32_t>& to) {
        std::size_t done = 0;
        while (!list.empty()) {
            const auto i = list.back();
            list.pop_back();
            if (placed[i]) continue;
            place(i);
            to.push_back(i);
            ++done;
        }
        return done;
    };
    for (std::size_t left = m; left > 0;) {
        const std::size_t ends = drain(sinks, front) + drain(sources, back);
        left -= ends;
        if (ends > 0 || left == 0) continue;
        if (best.size() > 2 * left + 1024) {
            best.clear();
            for (std::uint32_t i = 0; i < m; ++i)
                if (!placed[i]) best.emplace_back(key(i), i);
            std::make_heap(best.begin(), best.end());
        }
        while (!best.empty()) {
            std::pop_heap(best.begin(), best.end());
            const auto [k, i] = best.back();
            best.pop_back();
            if (placed[i]) continue;
            if (k != key(i)) { // fallen since it was pushed
                push(key(i), i);
                continue;
            }
            place(i);
            front.push_back(i);
            --left;
            break;
        }
    }
    front.insert(front.end(), back.rbegin(), back.rend());
    return front;
}

JOURNEYLOOP_IMPL_INLINE chain build_chain(
    std::size_t n, std::vector<std::pair<std::uint64_t, double>> q_edges, std::vector<double> r,
    std::vector<double> r_value, const std::function<void(std::size_t, std::size_t)>* progress) {
    detail::stop_point();
    std::sort(q_edges.begin(), q_edges.end());
    // Q by transient index, until the chain is laid out.
    csr forward = make_csr(n, q_edges);
    // Freed before the component search allocates (it is the peak of a fit).
    std::vector<std::pair<std::uint64_t, double>>().swap(q_edges);
    auto found = search_chain(forward);
    greedy_component_order(forward, found);
    auto& comp = found.comp;
    auto& rank = found.rank;
    chain c;
    c.n = n;
    {
        // Mapped: freed, it leaves no resident pages under the solutions.
        const auto by = row_order(c, forward, comp, rank);
        std::vector<std::uint32_t>().swap(comp);
        copy_rows(c, forward, by, r, r_value);
    }
    forward = csr();
    std::vector<double>().swap(r);
    std::vector<double>().swap(r_value);
    c.start = c.row_of[0];
    c.start_component = static_cast<std::size_t>(
        std::upper_bound(c.component_end.begin(), c.component_end.end(), std::size_t{c.start}) -
        c.component_end.begin());
    solve_full(c, progress);
    return c;
}

JOURNEYLOOP_IMPL_INLINE std::optional<chain> relayout_chain(
    const chain& old, const std::vector<std::uint32_t>& old_row,
    const std::vector<std::pair<std::uint64_t, double>>& q_edges, const std::vector<double>& r,
    const std::vector<double>& r_value,
    const std::function<void(std::size_t, std::size_t)>* progress) {
    detail::stop_point();
    const std::size_t n = old_row.size();
    constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();
    // The new row of every old row (none: no state takes it), in the old
    // rows' order.
    std::vector<std::uint32_t> new_row(old.n, none);
    for (const auto u : old_row) {
        if (u >= old.n || new_row[u] != none) return std::nullopt;
        new_row[u] = 0;
    }
    chain c;
    c.n = n;
    {
        std::uint32_t next = 0;
        for (std::size_t u = 0; u < old.n; ++u) {
            if (u == old.live_begin) c.live_begin = next;
            if (new_row[u] != none) new_row[u] = next++;
        }
        if (old.live_begin == old.n) c.live_begin = next;
    }
    // Components: the old ones, without the rows no state takes.
    std::vector<std::uint32_t> kept_old(n); // new row -> old row
    for (std::size_t k = 0, kept = 0; k < old.components(); ++k) {
        for (auto u = old.component_begin(k); u < old.component_end[k]; ++u)
            if (new_row[u] != none) kept_old[kept++] = static_cast<std::uint32_t>(u);
        if (kept > (c.component_end.empty() ? 0 : c.component_end.back()))
            c.component_end.push_back(kept);
    }
    c.row_of.resize(n);
    for (std::uint32_t t = 0; t < n; ++t) c.row_of[t] = new_row[old_row[t]];
    // The edges, read in the order of q_edges (by state) and written by
    // row: first each row's count, then the edges in place.
    c.ptr.assign(n + 1, 0);
    bool self_loops = false;
    for (const auto& [code, w] : q_edges) {
        const auto t = static_cast<std::uint32_t>(code >> 32),
                   v = static_cast<std::uint32_t>(code & 0xffffffffu);
        if (w == 0) continue;
        if (v == t) self_loops = true;
        else ++c.ptr[c.row_of[t] + 1];
    }
    for (std::size_t p = 0; p < n; ++p) c.ptr[p + 1] += c.ptr[p];
    c.idx.resize(c.ptr[n]);
    c.val.resize(c.ptr[n]);
    if (self_loops) c.diag.assign(n, 0.0);
    c.base.assign(2 * n, 0.0);
    {
        std::vector<std::size_t> fill(c.ptr.begin(), c.ptr.end() - 1);
        for (const auto& [code, w] : q_edges) {
            const auto t = static_cast<std::uint32_t>(code >> 32),
                       v = static_cast<std::uint32_t>(code & 0xffffffffu);
            if (w == 0) continue;
            const auto p = c.row_of[t];
            if (v == t) {
                c.diag[p] += w;
                continue;
            }
            const auto k = fill[p]++;
            c.idx[k] = c.row_of[v];
            c.val[k] = w;
        }
    }
    for (std::uint32_t t = 0; t < n; ++t) {
        c.base[c.row_of[t]] = r[t];
        c.base[n + c.row_of[t]] = r_value[t];
    }
    // Each row's edges by ascending row, and among the old row's edges (so
    // the layout holds: no edge leaves a terminal row, every edge goes to an
    // equal or lower component). The rows keep their order, so a merge of
    // the two ascending lists.
    std::vector<std::pair<std::uint32_t, double>> edges;
    for (std::uint32_t p = 0; p < n; ++p) {
        const auto b = c.ptr[p], e = c.ptr[p + 1];
        const auto u = kept_old[p];
        if (self_loops && c.diag[p] != 0 && (old.diag.empty() || old.diag[u] == 0))
            return std::nullopt;
        if (b == e) continue;
        edges.clear();
        for (auto k = b; k < e; ++k) edges.emplace_back(c.idx[k], c.val[k]);
        std::sort(edges.begin(), edges.end());
        auto o = old.ptr[u];
        const auto o_end = old.ptr[u + 1];
        for (std::size_t i = 0; i < edges.size(); ++i) {
            const auto target = kept_old[edges[i].first];
            while (o < o_end && old.idx[o] < target) ++o;
            if (o == o_end || old.idx[o] != target) return std::nullopt;
            c.idx[b + i] = edges[i].first;
            c.val[b + i] = edges[i].second;
        }
    }
    c.start = c.row_of[0];
    c.start_component = static_cast<std::size_t>(
        std::upper_bound(c.component_end.begin(), c.component_end.end(), std::size_t{c.start}) -
        c.component_end.begin());
    c.x.resize(n);
    c.x_value.resize(n);
    c.visits.resize(n);
    for (std::uint32_t p = 0; p < n; ++p) {
        const auto u = kept_old[p];
        c.x[p] = old.x[u];
        c.x_value[p] = old.x_value[u];
        c.visits[p] = old.visits[u];
    }
    solve_full(c, progress, true);
    return c;
}

} // namespace journeyloop::detail

#endif // JOURNEYLOOP_IMPL_CHAIN_BUILD_IPP
