#include "interrupt.hpp"
#include "progress.hpp"
#include "arrays.hpp"
#include "model_helpers.hpp"
#include "register.hpp"

#include <journeyloop/detail/grouping.hpp>
#include <journeyloop/io.hpp>
#include <journeyloop/journey_graph.hpp>
#include <journeyloop/markov_model.hpp>
#include <journeyloop/model_io.hpp>

#include <pybind11/stl.h>

#include <sstream>

namespace jl = journeyloop;

namespace {

using pairs = std::vector<std::pair<std::string, std::string>>;

// (from, to, count) of every stored transition, as numpy arrays.
py::tuple edges(const jl::transition_counts& c) {
    std::vector<jl::state_id> from, to;
    std::vector<double> w;
    for (jl::state_id s = 0; s < c.num_states(); ++s) {
        const auto t = c.targets(s);
        const auto ws = c.weights(s);
        for (std::size_t i = 0; i < t.size(); ++i) {
            from.push_back(s);
            to.push_back(t[i]);
            w.push_back(ws[i]);
        }
    }
    return py::make_tuple(to_numpy(from), to_numpy(to), to_numpy(w));
}

py::tuple effect_tuple(const jl::removal_effect& e) {
    return py::make_tuple(e.conversions, e.value);
}

// (conversions, value) arrays of several removal effects.
py::tuple effects_tuple(const std::vector<jl::removal_effect>& effects) {
    std::vector<double> conv, value;
    for (const auto& e : effects) {
        conv.push_back(e.conversions);
        value.push_back(e.value);
    }
    return py::make_tuple(to_numpy(conv), to_numpy(value));
}

} // namespace

py::tuple top_paths_tuple(const jl::top_paths_result& found) {
    py::list out;
    for (const auto& p : found.paths) out.append(py::make_tuple(p.states, p.probability));
    return py::make_tuple(out, found.stopped);
}

py::dict metadata_dict(const jl::model_metadata& meta) {
    py::dict out;
    out["teams"] = meta.teams ? py::cast(*meta.teams) : py::none();
    out["stages"] = meta.stages ? py::cast(*meta.stages) : py::none();
    out["max_states"] = meta.max_states ? py::cast(*meta.max_states) : py::none();
    return out;
}

namespace {

template <class T>
py::array_t<double> eigen_to_numpy(const T& v) {
    return py::array_t<double>(static_cast<py::ssize_t>(v.size()), v.data());
}

} // namespace

void register_markov(py::module_& m) {
    m.attr("max_shapley_players") = jl::max_shapley_players;
    m.attr("top_paths_max_expanded") = jl::top_paths_max_expanded;
    m.attr("top_paths_max_length") = jl::top_paths_max_length;
    // The id of the first channel state (START, CONVERSION and NULL come first).
    m.attr("first_channel_state") = jl::transition_counts::first_channel_state;

    py::class_<jl::markov_options>(m, "markov_options")
        .def(py::init([](double smoothing) {
                 jl::markov_options o;
                 o.smoothing = smoothing;
                 return o;
             }),
             py::kw_only(), py::arg("smoothing") = jl::markov_options{}.smoothing)
        .def_readwrite("smoothing", &jl::markov_options::smoothing)
        .def("__repr__", [](const jl::markov_options& o) {
            return "markov_options(smoothing=" +
                   py::repr(py::float_(o.smoothing)).cast<std::string>() + ")";
        });

    m.def(
        "group_members",
        [](const std::vector<std::string>& group_of_item, const std::vector<std::string>& extra) {
            const auto g = jl::detail::make_grouping(group_of_item, extra);
            std::vector<std::vector<jl::channel_id>> members(g.names.size());
            for (std::size_t i = 0; i < g.group_of_item.size(); ++i)
                members[g.group_of_item[i]].push_back(static_cast<jl::channel_id>(i));
            return py::make_tuple(g.names, members);
        },
        py::arg("group_of_item"), py::arg("extra_groups") = std::vector<std::string>{},
        "(group names in order of first appearance, then the extra groups not seen; the item "
        "indices of each group).");

    py::class_<jl::transition_counts>(m, "transition_counts")
        .def_property_readonly("order", &jl::transition_counts::order)
        .def_property_readonly("collapse_repeats", &jl::transition_counts::collapse_repeats)
        .def_property_readonly("padded", &jl::transition_counts::padded)
        .def_property_readonly("num_states", &jl::transition_counts::num_states)
        .def_property_readonly("num_transitions", &jl::transition_counts::num_transitions)
        .def_property_readonly("total_conversions", &jl::transition_counts::total_conversions)
        .def_property_readonly("total_nulls", &jl::transition_counts::total_nulls)
        .def_property_readonly("total_value", &jl::transition_counts::total_value)
        .def_property_readonly("channels",
                               [](const jl::transition_counts& c) { return c.channels().names(); })
        .def("state_label", &jl::transition_counts::state_label, py::arg("state"))
        .def(
            "state_labels",
            [](const jl::transition_counts& c) {
                std::vector<std::string> out;
                for (jl::state_id s = 0; s < c.num_states(); ++s) out.push_back(c.state_label(s));
                return out;
            },
            "Labels of every state, by id.")
        .def("edges", &edges, "(from, to, count) arrays of the stored transitions.")
        .def(
            "__eq__",
            [](const jl::transition_counts& a, const jl::transition_counts& b) { return a == b; },
            py::is_operator())
        .def(
            "to_bytes",
            [](const jl::transition_counts& c) {
                std::string out;
                {
                    py::gil_scoped_release release;
                    out = jl::to_bytes(c);
                }
                return py::bytes(out);
            },
            "The counts in journeyloop's file format.")
        .def_static(
            "from_bytes",
            [](const py::bytes& b) {
                const std::string s = b;
                py::gil_scoped_release release;
                return jl::counts_from_bytes(s);
            },
            py::arg("data"), "Counts from journeyloop's file format (validated).");

    m.def(
        "count_transitions",
        [](const jl::journey_set& js, const jl::counting_options& options,
           const std::optional<py::function>& progress) {
            const sigint_scope interruptible;
            const auto callback = progress_of(progress);
            py::gil_scoped_release release;
            return jl::count_transitions(js, options, callback);
        },
        py::arg("journeys"), py::arg("options"), py::arg("progress") = py::none(),
        "Order-k transition counts; progress(rows counted, rows).");
    m.def("merge",
          static_cast<jl::transition_counts (*)(const jl::transition_counts&,
                                                const jl::transition_counts&)>(&jl::merge),
          py::arg("a"), py::arg("b"), py::call_guard<sigint_scope, py::gil_scoped_release>(),
          "Counts of the union of two data sets.");
    m.def(
        "merge_all",
        [](const py::list& parts) {
            std::vector<const jl::transition_counts*> all;
            for (const auto& part : parts)
                all.push_back(&part.cast<const jl::transition_counts&>());
            const sigint_scope interruptible;
            py::gil_scoped_release release;
            return jl::merge(all);
        },
        py::arg("parts"), "Counts of the union of every part's data sets, in one pass.");

    py::class_<jl::markov_model>(m, "markov_model")
        .def_property_readonly("counts", &jl::markov_model::counts,
                               py::return_value_policy::reference_internal)
        .def_property_readonly(
            "smoothing", [](const jl::markov_model& model) { return model.options().smoothing; })
        .def_property_readonly("options", &jl::markov_model::options)
        .def_property_readonly("conversion_rate", &jl::markov_model::conversion_rate)
        .def_property_readonly("value_per_journey", &jl::markov_model::value_per_journey)
        .def_property_readonly("expected_touches", &jl::markov_model::expected_touches)
        .def_property_readonly("expected_touches_converting",
                               &jl::markov_model::expected_touches_converting)
        .def(
            "conversion_probabilities",
            [](const jl::markov_model& model) {
                return eigen_to_numpy(model.conversion_probabilities());
            },
            "P(CONVERSION) from every state, by state id.")
        .def(
            "expected_visits",
            [](const jl::markov_model& model) { return eigen_to_numpy(model.expected_visits()); },
            "Expected visits of a journey from START, by state id.")
        .def(
            "probabilities",
            [](const jl::markov_model& model) {
                std::vector<double> p;
                {
                    // The first call builds P: without the GIL.
                    py::gil_scoped_release release;
                    const auto& P = model.transitions();
                    p.reserve(static_cast<std::size_t>(P.nonZeros()));
                    // Row-major storage walks rows in the order of counts.edges().
                    for (long s = 0; s < P.outerSize(); ++s)
                        for (jl::transition_matrix::InnerIterator it(P, s); it; ++it)
                            p.push_back(it.value());
                }
                return to_numpy(p);
            },
            "Transition probabilities aligned with counts.edges() (no smoothing).")
        .def(
            "transitions",
            [](const jl::markov_model& model) {
                std::vector<jl::state_id> from, to;
                std::vector<double> p;
                {
                    py::gil_scoped_release release;
                    const auto& P = model.transitions();
                    for (long s = 0; s < P.outerSize(); ++s)
                        for (jl::transition_matrix::InnerIterator it(P, s); it; ++it) {
                            from.push_back(static_cast<jl::state_id>(s));
                            to.push_back(static_cast<jl::state_id>(it.col()));
                            p.push_back(it.value());
                        }
                }
                return py::make_tuple(to_numpy(from), to_numpy(to), to_numpy(p));
            },
            "(from, to, probability) arrays of every nonzero transition probability.")
        .def("to_bytes", &model_bytes<jl::markov_model, jl::holding_times>,
             py::arg("teams") = py::none(), py::arg("stages") = py::none(),
             py::arg("max_states") = py::none(), py::arg("holding") = nullptr,
             "The model in journeyloop's file format, with the metadata given (channel -> team "
             "and channel -> stage pairs, the state cap).")
        .def_static(
            "from_bytes",
            [](const py::bytes& b) {
                const std::string s = b;
                py::gil_scoped_release release;
                return jl::model_from_bytes(s);
            },
            py::arg("data"), "A model from journeyloop's file format (validated, solved).")
        .def_static(
            "from_bytes_with_metadata",
            [](const py::bytes& b) {
                const std::string s = b;
                std::optional<jl::stored_model> stored;
                {
                    py::gil_scoped_release release;
                    stored.emplace(jl::stored_model_from_bytes(s));
                }
                return stored_tuple(std::move(*stored));
            },
            py::arg("data"),
            "(model, metadata) from journeyloop's file format: metadata holds 'teams', "
            "'stages' (lists of pairs), 'max_states' and 'holding' (the holding times), each "
            "None where the file has none.");

    m.def(
        "fit_markov",
        [](jl::transition_counts counts, const jl::markov_options& options,
           const std::optional<py::function>& progress) {
            const sigint_scope interruptible;
            const auto callback = progress_of(progress);
            py::gil_scoped_release release;
            return jl::fit_markov(std::move(counts), options, callback);
        },
        py::arg("counts"), py::arg("options") = jl::markov_options{},
        py::arg("progress") = py::none(),
        "Estimates and solves the Markov model; progress(states solved, transient states).");
    m.def(
        "fit_markov_taking",
        [](jl::transition_counts& counts, const jl::markov_options& options,
           const std::optional<py::function>& progress) {
            const sigint_scope interruptible;
            const auto callback = progress_of(progress);
            jl::transition_counts taken = std::move(counts);
            counts = jl::transition_counts{}; // a valid empty count set, fit or not
            py::gil_scoped_release release;
            return jl::fit_markov(std::move(taken), options, callback);
        },
        py::arg("counts"), py::arg("options") = jl::markov_options{},
        py::arg("progress") = py::none(),
        "fit_markov without a copy of the counts: they move into the model and the argument is "
        "left an empty count set (for counts no one else holds).");
    m.def(
        "refit_markov",
        [](const jl::markov_model& fitted, jl::transition_counts counts,
           const std::optional<py::function>& progress) {
            const sigint_scope interruptible;
            const auto callback = progress_of(progress);
            py::gil_scoped_release release;
            return jl::refit_markov(fitted, std::move(counts), callback);
        },
        py::arg("fitted"), py::arg("counts"), py::arg("progress") = py::none(),
        "Fits counts of the chain `fitted` was fitted on (its states or some of them, "
        "transitions among its own, new weights), reusing its structure and starting from its "
        "solution; other counts are fitted from scratch.");
    m.def(
        "removal_effects",
        [](const jl::markov_model& model, const std::optional<py::function>& progress) {
            std::vector<jl::removal_effect> re;
            const sigint_scope interruptible;
            const auto callback = progress_of(progress);
            {
                py::gil_scoped_release release;
                re = jl::removal_effects(model, callback);
            }
            return effects_tuple(re);
        },
        py::arg("model"), py::arg("progress") = py::none(),
        "(conversions, value) removal effects per channel; progress(done, total) after each step.");
    m.def(
        "group_removal_effect",
        [](const jl::markov_model& model, const std::vector<jl::channel_id>& group) {
            jl::removal_effect e;
            {
                py::gil_scoped_release release;
                e = jl::group_removal_effect(model, group);
            }
            return effect_tuple(e);
        },
        py::arg("model"), py::arg("group"),
        "(conversions, value) removal effect of channels removed at once.");
    m.def(
        "group_removal_effects",
        [](const jl::markov_model& model, const std::vector<std::vector<jl::channel_id>>& groups,
           const std::optional<py::function>& progress) {
            std::vector<jl::removal_effect> re;
            const sigint_scope interruptible;
            const auto callback = progress_of(progress);
            {
                py::gil_scoped_release release;
                re = jl::group_removal_effects(model, groups, callback);
            }
            return effects_tuple(re);
        },
        py::arg("model"), py::arg("groups"), py::arg("progress") = py::none(),
        "(conversions, value) removal effects of several groups, each removed on its own "
        "(solved together); progress(done, total) after each step.");
    m.def(
        "state_removal_effect",
        [](const jl::markov_model& model, jl::state_id state) {
            jl::removal_effect e;
            {
                py::gil_scoped_release release;
                e = jl::state_removal_effect(model, state);
            }
            return effect_tuple(e);
        },
        py::arg("model"), py::arg("state"), "(conversions, value) removal effect of one state.");
    m.def(
        "state_removal_effects",
        [](const jl::markov_model& model, const std::vector<jl::state_id>& states,
           const std::optional<py::function>& progress) {
            std::vector<jl::removal_effect> re;
            const sigint_scope interruptible;
            const auto callback = progress_of(progress);
            {
                py::gil_scoped_release release;
                re = jl::state_removal_effects(model, states, callback);
            }
            return effects_tuple(re);
        },
        py::arg("model"), py::arg("states"), py::arg("progress") = py::none(),
        "(conversions, value) removal effects of several states, each removed on its own "
        "(solved together); progress(done, total) after each step.");
    m.def(
        "markov_attribution",
        [](const jl::markov_model& model,
           const std::optional<std::vector<std::string>>& group_of_channel,
           const std::vector<std::string>& extra_groups,
           const std::optional<py::function>& progress) {
            const sigint_scope interruptible;
            const auto callback = progress_of(progress);
            py::gil_scoped_release release;
            return group_of_channel
                       ? jl::markov_attribution(model, *group_of_channel, extra_groups, callback)
                       : jl::markov_attribution(model, callback);
        },
        py::arg("model"), py::arg("group_of_channel") = py::none(),
        py::arg("extra_groups") = std::vector<std::string>{}, py::arg("progress") = py::none(),
        "Markov attribution; progress(done, total) after each step.");
    m.def(
        "group_markov_attribution",
        [](const jl::markov_model& model, const std::vector<std::string>& names,
           const std::vector<std::vector<jl::channel_id>>& groups,
           const std::optional<py::function>& progress) {
            const sigint_scope interruptible;
            const auto callback = progress_of(progress);
            py::gil_scoped_release release;
            return jl::group_markov_attribution(model, names, groups, callback);
        },
        py::arg("model"), py::arg("names"), py::arg("groups"), py::arg("progress") = py::none(),
        "Markov attribution between (possibly overlapping) groups of channels; "
        "progress(done, total) after each step.");
    m.def(
        "state_markov_attribution",
        [](const jl::markov_model& model, const std::vector<jl::state_id>& states,
           const std::optional<py::function>& progress) {
            const sigint_scope interruptible;
            const auto callback = progress_of(progress);
            py::gil_scoped_release release;
            return jl::state_markov_attribution(model, states, callback);
        },
        py::arg("model"), py::arg("states"), py::arg("progress") = py::none(),
        "Markov attribution between sequences (states), each removed on its own; "
        "progress(done, total) after each step.");
    def_graph_functions<jl::markov_model>(
        m, {"Exact Shapley attribution over players (groups of channels).",
            "The journey graph in DOT.", "The journey graph in GraphML.",
            "The n most probable complete paths: ([(state ids, probability)], whether the search "
            "stopped at max_expanded walks first)."});
}
