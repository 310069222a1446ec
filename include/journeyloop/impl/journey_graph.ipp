// The journey graph view, its exports, loops and most probable paths.
#ifndef JOURNEYLOOP_IMPL_JOURNEY_GRAPH_IPP
#define JOURNEYLOOP_IMPL_JOURNEY_GRAPH_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/impl/model_access.hpp>

#include <journeyloop/errors.hpp>
#include <journeyloop/journey_graph.hpp>

#include <boost/graph/strong_components.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <queue>

namespace journeyloop {

JOURNEYLOOP_IMPL_INLINE journey_graph make_journey_graph(const markov_model& model) {
    const auto& counts = model.counts();
    const auto n = counts.num_states();
    journey_graph g(n);
    const auto x = model.conversion_probabilities();
    const auto visits = model.expected_visits();
    for (state_id s = 0; s < n; ++s) {
        auto& v = g[s];
        v.state = s;
        v.label = counts.state_label(s);
        v.conversion_probability = x[s];
        v.expected_visits = visits[s];
    }
    const auto& P = model.transitions();
    for (state_id s = 0; s < n; ++s) {
        const auto targets = counts.targets(s);
        const auto weights = counts.weights(s);
        for (std::size_t i = 0; i < targets.size(); ++i)
            boost::add_edge(s, targets[i], {weights[i], P.coeff(s, targets[i])}, g);
    }
    return g;
}

JOURNEYLOOP_IMPL_INLINE journey_graph make_journey_graph(const loop_model& model) {
    const auto n = model.num_states();
    journey_graph g(n);
    const auto x = model.purchase_probabilities();
    const auto visits = model.expected_visits();
    for (state_id s = 0; s < n; ++s) {
        auto& v = g[s];
        v.state = s;
        v.label = model.state_label(s);
        v.conversion_probability = x[s];
        v.expected_visits = visits[s];
    }
    for (const auto& t : model.transitions())
        boost::add_edge(t.from, t.to, {t.count, t.probability}, g);
    return g;
}

JOURNEYLOOP_IMPL_NAMESPACE(journey_graph_1) {

// XML 1.0 text cannot hold control characters other than tab, newline and
// carriage return, nor U+FFFE and U+FFFF, even as references.
JOURNEYLOOP_IMPL_INLINE std::string xml_escape(const std::string& s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        const bool control = c < 0x20 && c != '\t' && c != '\n' && c != '\r';
        const bool nonchar = c == 0xEF && i + 2 < s.size() &&
                             static_cast<unsigned char>(s[i + 1]) == 0xBF &&
                             (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xBE;
        if (control || nonchar) {
            char code[8];
            std::snprintf(code, sizeof code, "%04X",
                          control ? unsigned(c) : 0xFFFEu + (s[i + 2] & 1));
            throw invalid_input("cannot write GraphML: the label '" + s + "' holds U+" + code +
                                ", which XML cannot hold; rename the channel");
        }
    }
    std::string out;
    for (const char c : s) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        default: out += c;
        }
    }
    return out;
}

JOURNEYLOOP_IMPL_INLINE std::string dot_escape(const std::string& s) {
    std::string out;
    for (const char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

JOURNEYLOOP_IMPL_INLINE std::string number(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", x);
    return buf;
}

} // JOURNEYLOOP_IMPL_NAMESPACE(journey_graph_1)

JOURNEYLOOP_IMPL_INLINE void write_dot(std::ostream& out, const journey_graph& g) {
    out << "digraph journey {\n  rankdir=LR;\n";
    for (auto v : boost::make_iterator_range(boost::vertices(g))) {
        const auto& p = g[v];
        // The absorbing states (CONVERSION and NULL, or a loop model's END)
        // have no way out.
        const char* shape = p.state == transition_counts::start ? "circle"
                            : boost::out_degree(v, g) == 0      ? "doublecircle"
                                                                : "box";
        out << "  " << v << " [label=\"" << dot_escape(p.label) << "\", shape=" << shape << "];\n";
    }
    for (auto e : boost::make_iterator_range(boost::edges(g))) {
        char prob[32];
        std::snprintf(prob, sizeof prob, "%.3f", g[e].probability);
        out << "  " << boost::source(e, g) << " -> " << boost::target(e, g) << " [label=\"" << prob
            << "\", weight=" << number(g[e].count) << "];\n";
    }
    out << "}\n";
}

JOURNEYLOOP_IMPL_INLINE void write_graphml(std::ostream& out, const journey_graph& g) {
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
           "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n"
           "  <key id=\"label\" for=\"node\" attr.name=\"label\" attr.type=\"string\"/>\n"
           "  <key id=\"conversion_probability\" for=\"node\" "
           "attr.name=\"conversion_probability\" attr.type=\"double\"/>\n"
           "  <key id=\"expected_visits\" for=\"node\" attr.name=\"expected_visits\" "
           "attr.type=\"double\"/>\n"
           "  <key id=\"count\" for=\"edge\" attr.name=\"count\" attr.type=\"double\"/>\n"
           "  <key id=\"probability\" for=\"edge\" attr.name=\"probability\" "
           "attr.type=\"double\"/>\n"
           "  <graph id=\"journey\" edgedefault=\"directed\">\n";
    for (auto v : boost::make_iterator_range(boost::vertices(g))) {
        const auto& p = g[v];
        out << "    <node id=\"n" << v << "\"><data key=\"label\">" << xml_escape(p.label)
            << "</data><data key=\"conversion_probability\">" << number(p.conversion_probability)
            << "</data><data key=\"expected_visits\">" << number(p.expected_visits)
            << "</data></node>\n";
    }
    std::size_t i = 0;
    for (auto e : boost::make_iterator_range(boost::edges(g))) {
        out << "    <edge id=\"e" << i++ << "\" source=\"n" << boost::source(e, g)
            << "\" target=\"n" << boost::target(e, g) << "\"><data key=\"count\">"
            << number(g[e].count) << "</data><data key=\"probability\">" << number(g[e].probability)
            << "</data></edge>\n";
    }
    out << "  </graph>\n</graphml>\n";
}

JOURNEYLOOP_IMPL_INLINE std::vector<std::vector<state_id>> journey_loops(
    const markov_model& model) {
    const auto& c = detail::chain_of(model);
    std::vector<std::uint32_t> transient_of(c.n); // row -> transient index
    for (std::uint32_t t = 0; t < c.n; ++t) transient_of[c.row_of[t]] = t;
    auto state_of = [&](std::uint32_t row) {
        const auto t = transient_of[row];
        return t == 0 ? state_id{0} : state_id(t + 2);
    };
    std::vector<std::vector<state_id>> out;
    for (std::size_t k = 0; k < c.components(); ++k) {
        const auto begin = c.component_begin(k), end = c.component_end[k];
        const bool cyclic = end - begin > 1 || c.self_loop(static_cast<std::uint32_t>(begin)) > 0;
        if (!cyclic) continue;
        std::vector<state_id> states;
        for (auto u = begin; u < end; ++u)
            states.push_back(state_of(static_cast<std::uint32_t>(u)));
        std::sort(states.begin(), states.end());
        out.push_back(std::move(states));
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const auto& a, const auto& b) { return a.size() > b.size(); });
    return out;
}

JOURNEYLOOP_IMPL_INLINE std::vector<std::vector<state_id>> journey_loops(const loop_model& model) {
    // The transient states (all but END) and the transitions among them
    // that a customer can take.
    using graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
    const auto n = model.num_states();
    graph g(n);
    std::vector<char> self_loop(n, 0);
    for (const auto& t : model.transitions()) {
        if (t.from == transition_counts::null || t.to == transition_counts::null ||
            !(t.probability > 0))
            continue;
        boost::add_edge(t.from, t.to, g);
        if (t.from == t.to) self_loop[t.from] = 1;
    }
    std::vector<std::size_t> component(n);
    // An explicit property map: a raw pointer as a map relies on overloads
    // that are visible only under some orders of Boost's headers.
    const auto count = boost::strong_components(
        g, boost::make_iterator_property_map(component.begin(), get(boost::vertex_index, g)));
    std::vector<std::vector<state_id>> members(count);
    for (state_id s = 0; s < n; ++s)
        if (s != transition_counts::null) members[component[s]].push_back(s);
    std::vector<std::vector<state_id>> out;
    for (auto& m : members)
        if (m.size() > 1 || (m.size() == 1 && self_loop[m[0]])) out.push_back(std::move(m));
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        return a.size() != b.size() ? a.size() > b.size() : a.front() < b.front();
    });
    return out;
}

JOURNEYLOOP_IMPL_INLINE top_paths_result top_paths(const loop_model& model, std::size_t n,
                                                   std::size_t max_length,
                                                   std::size_t max_expanded) {
    // The paths to the first purchase are the first view's paths to its
    // CONVERSION, with the same state ids.
    return top_paths(model.first(), n, max_length, max_expanded);
}

JOURNEYLOOP_IMPL_INLINE top_paths_result top_paths(const markov_model& model, std::size_t n,
                                                   std::size_t max_length,
                                                   std::size_t max_expanded) {
    if (n == 0 || max_length == 0 || max_expanded == 0)
        throw invalid_input("top_paths: n, max_length and max_expanded must be >= 1");
    top_paths_result result;
    const auto& P = model.transitions();
    // Best-first search over walks: a walk is popped in order of increasing
    // -log p, so the walks that reach CONVERSION come out most probable first.
    struct node {
        state_id state;
        long parent;
        std::size_t length;
    };
    std::vector<node> arena{{transition_counts::start, -1, 0}};
    using item = std::pair<double, long>; // (-log p, arena index)
    std::priority_queue<item, std::vector<item>, std::greater<>> queue;
    queue.emplace(0.0, 0);
    auto& out = result.paths;
    // Bounded on chains where most walks end in NULL.
    std::size_t expanded = 0;
    while (!queue.empty() && out.size() < n) {
        const auto [cost, index] = queue.top();
        queue.pop();
        const auto current = arena[static_cast<std::size_t>(index)];
        if (current.state == transition_counts::conversion) {
            scored_path p;
            for (long i = index; i >= 0; i = arena[static_cast<std::size_t>(i)].parent)
                p.states.push_back(arena[static_cast<std::size_t>(i)].state);
            std::reverse(p.states.begin(), p.states.end());
            p.probability = std::exp(-cost);
            out.push_back(std::move(p));
            continue;
        }
        if (current.length >= max_length) continue;
        // Complete walks still come out above; only expansions are bounded.
        if (expanded == max_expanded) {
            result.stopped = true;
            break;
        }
        ++expanded;
        for (transition_matrix::InnerIterator it(P, current.state); it; ++it) {
            const auto target = static_cast<state_id>(it.col());
            if (target == transition_counts::null || !(it.value() > 0)) continue;
            arena.push_back({target, index, current.length + 1});
            queue.emplace(cost - std::log(it.value()), static_cast<long>(arena.size() - 1));
        }
    }
    return result;
}

} // namespace journeyloop

#endif // JOURNEYLOOP_IMPL_JOURNEY_GRAPH_IPP
