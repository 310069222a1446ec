#include "arrays.hpp"
#include "register.hpp"

#include <journeyloop/io.hpp>
#include <journeyloop/journey_set.hpp>
#include <journeyloop/loop_histories.hpp>
#include <journeyloop/teams.hpp>
#include <journeyloop/transition_counts.hpp>

#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace jl = journeyloop;

namespace {

using channel_pairs = std::optional<std::vector<std::pair<std::string, std::string>>>;

// to_bytes(teams=None, stages=None) and from_bytes(data) -> (rows, teams,
// stages) of journeys and loop histories: journeyloop's file format.
template <class Rows, class Stored, class Class>
void bind_bytes(Class& c, const char* kind, Stored (*read)(std::string_view),
                Rows Stored::*rows_of) {
    c.def(
         "to_bytes",
         [](const Rows& rows, const channel_pairs& teams, const channel_pairs& stages) {
             std::string out;
             {
                 py::gil_scoped_release release;
                 out = jl::to_bytes(rows, jl::model_metadata{teams, stages, std::nullopt});
             }
             return py::bytes(out);
         },
         py::arg("teams") = py::none(), py::arg("stages") = py::none(),
         (std::string("The ") + kind +
          " in journeyloop's file format, with the channel metadata given as (channel, group) "
          "pairs.")
             .c_str())
        .def_static(
            "from_bytes",
            [read, rows_of](const py::bytes& b) {
                const std::string s = b;
                std::optional<Stored> stored;
                {
                    py::gil_scoped_release release;
                    stored.emplace(read(s));
                }
                auto& meta = stored->metadata;
                return std::tuple<Rows, channel_pairs, channel_pairs>(
                    std::move((*stored).*rows_of), std::move(meta.teams), std::move(meta.stages));
            },
            py::arg("data"),
            (std::string("(") + kind +
             ", teams, stages) from journeyloop's file format; teams and stages are lists of "
             "(channel, group) pairs or None.")
                .c_str());
}

jl::path_options make_options(std::string separator, std::string path_column,
                              std::string conversions_column, std::string nulls_column,
                              std::string value_column, std::size_t threads) {
    jl::path_options o;
    o.separator = std::move(separator);
    o.path_column = std::move(path_column);
    o.conversions_column = std::move(conversions_column);
    o.nulls_column = std::move(nulls_column);
    o.value_column = std::move(value_column);
    o.threads = threads;
    return o;
}

jl::journey_set from_paths(const std::vector<std::string>& paths, const double_array& conversions,
                           const std::optional<double_array>& nulls,
                           const std::optional<double_array>& value,
                           const jl::path_options& options) {
    const std::vector<std::string_view> views(paths.begin(), paths.end());
    py::gil_scoped_release release;
    return jl::build_journeys({views, view_of(conversions), view_of(nulls), view_of(value)},
                              options);
}

// Appends rows whose paths are an Arrow string array: offsets (int32 or
// int64, length rows + 1, already shifted to the array's offset), the
// character buffer and an optional validity bitmap; the count columns are
// contiguous 1-d arrays of integers (8 to 64 bits) or floats.
void append_arrow(jl::journey_set& js, const py::array& offsets,
                  const py::array_t<std::uint8_t, py::array::c_style>& data,
                  const std::optional<py::array_t<std::uint8_t, py::array::c_style>>& validity,
                  std::size_t validity_offset, const py::array& conversions,
                  const std::optional<py::array>& nulls, const std::optional<py::array>& value,
                  const jl::path_options& options, std::size_t first_row) {
    // Count and value columns are read in place, integers included.
    const auto paths = strings_of(offsets, data, validity, validity_offset);
    const auto conv = numeric_of(conversions, "conversions");
    const auto nul = numeric_of(nulls, "nulls");
    const auto val = numeric_of(value, "value");
    py::gil_scoped_release release;
    jl::append_journeys(js, {paths, conv, nul, val}, options, first_row);
}

jl::journey_set from_token_lists(const std::vector<std::vector<std::string>>& paths,
                                 const double_array& conversions,
                                 const std::optional<double_array>& nulls,
                                 const std::optional<double_array>& value,
                                 const jl::path_options& options) {
    const auto n = paths.size();
    const auto conv = view_of(conversions), nul = view_of(nulls), val = view_of(value);
    if (conv.size() != n || (!nul.empty() && nul.size() != n) || (!val.empty() && val.size() != n))
        throw jl::invalid_input("paths and count columns differ in length");
    jl::journey_set out;
    std::vector<std::string_view> tokens;
    for (std::size_t row = 0; row < n; ++row) {
        tokens.assign(paths[row].begin(), paths[row].end());
        if (tokens.empty())
            throw jl::invalid_input(jl::detail::make_message(
                row, options.path_column,
                "empty path: give the row at least one channel, or drop it"));
        out.add(tokens, conv[row], nul.empty() ? 0.0 : nul[row], val.empty() ? 0.0 : val[row], row);
    }
    return out;
}

jl::loop_histories loop_from_paths(const std::vector<std::string>& paths,
                                   const double_array& customers,
                                   const std::optional<double_array>& value,
                                   const jl::path_options& options, const std::string& purchase) {
    const std::vector<std::string_view> views(paths.begin(), paths.end());
    py::gil_scoped_release release;
    return jl::build_loop_histories({views, view_of(customers), {}, view_of(value)}, options,
                                    purchase);
}

// What funnel journeys and loop histories share: channels, customers and
// touches, row after row.
template <class Rows, class Class>
void bind_rows(Class& c) {
    c.def("__len__", &Rows::size)
        .def_property_readonly("channels", [](const Rows& r) { return r.channels().names(); })
        .def_property_readonly("total_value", &Rows::total_value)
        .def_property_readonly("total_touches", &Rows::total_touches)
        .def_property_readonly("has_customers", &Rows::has_customers)
        .def(
            "customer_ids",
            [](const Rows& r) {
                std::vector<std::int64_t> out;
                if (!r.customer_ids().empty()) {
                    out.reserve(r.size());
                    for (std::size_t i = 0; i < r.size(); ++i)
                        out.push_back(r.customer_ids()[r.customer(i)]);
                }
                return to_numpy(out);
            },
            "The integer customer of every row (empty when customers are names).")
        .def(
            "customer_names",
            [](const Rows& r) {
                std::vector<std::string> out;
                if (!r.customer_names().empty()) {
                    out.reserve(r.size());
                    for (std::size_t i = 0; i < r.size(); ++i)
                        out.push_back(r.customer_names()[r.customer(i)]);
                }
                return out;
            },
            "The customer name of every row (empty when customers are integers).")
        .def(
            "touches",
            [](const Rows& r) {
                std::vector<std::int64_t> row, position;
                std::vector<std::uint32_t> ids;
                row.reserve(r.total_touches());
                position.reserve(r.total_touches());
                ids.reserve(r.total_touches());
                for (std::size_t i = 0; i < r.size(); ++i) {
                    std::int64_t k = 0;
                    for (auto c : r.path(i)) {
                        row.push_back(static_cast<std::int64_t>(i));
                        position.push_back(k++);
                        ids.push_back(c);
                    }
                }
                return py::make_tuple(to_numpy(row), to_numpy(position), to_numpy(ids));
            },
            "(row, position in the row, channel id) of every touch, row after row.")
        .def(
            "path_strings",
            [](const Rows& r, const std::string& sep) {
                std::vector<std::string> out;
                out.reserve(r.size());
                const auto& names = r.channels().names();
                for (std::size_t i = 0; i < r.size(); ++i) {
                    std::string s;
                    for (auto c : r.path(i)) {
                        if (!s.empty()) s += sep;
                        s += names[c];
                    }
                    out.push_back(std::move(s));
                }
                return out;
            },
            py::arg("separator") = " > ", "Every row's path as a string.");
}

// A column of every row, by the accessor's name.
template <class Rows>
py::array_t<double> column_of(const Rows& r, double (Rows::*get)(std::size_t) const) {
    std::vector<double> out(r.size());
    for (std::size_t i = 0; i < r.size(); ++i) out[i] = (r.*get)(i);
    return to_numpy(out);
}

// Team flows, relabelling and stage moves of funnel journeys or loop
// histories (overloads of one name).
template <class Rows>
void bind_teams(py::module_& m) {
    m.def(
        "analyze_teams",
        [](const Rows& rows, const std::vector<std::string>& team_of_channel) {
            jl::team_flows f;
            {
                py::gil_scoped_release release;
                f = jl::analyze_teams(rows, team_of_channel);
            }
            py::dict d;
            d["teams"] = f.teams;
            d["handoffs"] = to_numpy(f.handoffs);
            d["touches"] = to_numpy(f.touches);
            d["time"] = to_numpy(f.time);
            d["opener_closer"] = to_numpy(f.opener_closer);
            d["handoff_share"] = to_numpy(f.handoff_share);
            d["touch_share"] = to_numpy(f.touch_share);
            d["time_share"] = to_numpy(f.time_share);
            return d;
        },
        py::arg("journeys"), py::arg("team_of_channel"),
        "Handoffs between teams, touches and time per team, openers and closers.");
    m.def(
        "relabel_channels",
        [](const Rows& rows, const std::vector<std::string>& group_of_channel) {
            py::gil_scoped_release release;
            return jl::relabel_channels(rows, group_of_channel);
        },
        py::arg("journeys"), py::arg("group_of_channel"),
        "The journeys with every channel replaced by its group (stage, team).");
    m.def(
        "stage_moves",
        [](const Rows& rows, const std::vector<std::string>& stage_of_channel) {
            std::vector<jl::stage_move> moves;
            {
                py::gil_scoped_release release;
                moves = jl::stage_moves(rows, stage_of_channel);
            }
            std::vector<std::string> from, to, channel;
            std::vector<double> count, share;
            for (const auto& mv : moves) {
                from.push_back(mv.from);
                to.push_back(mv.to);
                channel.push_back(mv.channel);
                count.push_back(mv.count);
                share.push_back(mv.share);
            }
            py::dict d;
            d["from"] = from;
            d["to"] = to;
            d["channel"] = channel;
            d["count"] = to_numpy(count);
            d["share"] = to_numpy(share);
            return d;
        },
        py::arg("journeys"), py::arg("stage_of_channel"),
        "The channels that move customers between stages.");
}

} // namespace

void register_journeys(py::module_& m) {
    const jl::counting_options counting;
    m.attr("default_max_states") = counting.max_states;
    py::class_<jl::counting_options>(m, "counting_options",
                                     "How journeys are counted (C++ counting_options).")
        .def(py::init([](std::size_t order, bool collapse_repeats, bool padded,
                         std::size_t max_states, std::size_t threads) {
                 jl::counting_options o;
                 o.order = order;
                 o.collapse_repeats = collapse_repeats;
                 o.padded = padded;
                 o.max_states = max_states;
                 o.threads = threads;
                 return o;
             }),
             py::kw_only(), py::arg("order") = counting.order,
             py::arg("collapse_repeats") = counting.collapse_repeats,
             py::arg("padded") = counting.padded, py::arg("max_states") = counting.max_states,
             py::arg("threads") = counting.threads)
        .def_readwrite("order", &jl::counting_options::order)
        .def_readwrite("collapse_repeats", &jl::counting_options::collapse_repeats)
        .def_readwrite("padded", &jl::counting_options::padded)
        .def_readwrite("max_states", &jl::counting_options::max_states)
        .def_readwrite("threads", &jl::counting_options::threads);

    const jl::path_options defaults;
    py::class_<jl::path_options>(m, "path_options",
                                 "Column names and separator of a path table (C++ path_options).")
        .def(py::init(&make_options), py::kw_only(), py::arg("separator") = defaults.separator,
             py::arg("path_column") = defaults.path_column,
             py::arg("conversions_column") = defaults.conversions_column,
             py::arg("nulls_column") = defaults.nulls_column,
             py::arg("value_column") = defaults.value_column, py::arg("threads") = defaults.threads)
        .def_readwrite("separator", &jl::path_options::separator)
        .def_readwrite("path_column", &jl::path_options::path_column)
        .def_readwrite("conversions_column", &jl::path_options::conversions_column)
        .def_readwrite("nulls_column", &jl::path_options::nulls_column)
        .def_readwrite("value_column", &jl::path_options::value_column)
        .def_readwrite("threads", &jl::path_options::threads);

    py::class_<jl::journey_set> journeys(m, "journey_set");
    journeys.def(py::init<>())
        .def_static("from_paths", &from_paths, py::arg("paths"), py::arg("conversions"),
                    py::arg("nulls"), py::arg("value"), py::arg("options"),
                    "Journeys from path strings and count columns.")
        .def_static("from_token_lists", &from_token_lists, py::arg("paths"), py::arg("conversions"),
                    py::arg("nulls"), py::arg("value"), py::arg("options"),
                    "Journeys from lists of channel names.")
        .def("append_arrow", &append_arrow, py::arg("offsets"), py::arg("data"),
             py::arg("validity"), py::arg("validity_offset"), py::arg("conversions"),
             py::arg("nulls"), py::arg("value"), py::arg("options"), py::arg("first_row"),
             "Appends rows whose paths are an Arrow string array (zero-copy).")
        .def("reserve", &jl::journey_set::reserve, py::arg("rows"), py::arg("touches"),
             "Room for more rows and touches (a hint before several append_arrow calls).")
        .def_property_readonly("total_conversions", &jl::journey_set::total_conversions)
        .def_property_readonly("total_nulls", &jl::journey_set::total_nulls)
        .def_property_readonly("form", [](const jl::journey_set&) { return "funnel"; })
        .def_property_readonly("has_times", &jl::journey_set::has_times)
        .def_property_readonly("time_unit_seconds", &jl::journey_set::time_unit_seconds)
        .def(
            "times_before_end",
            [](const jl::journey_set& js) {
                std::vector<double> out;
                out.reserve(js.total_touches());
                for (std::size_t i = 0; i < js.size(); ++i)
                    for (double t : js.times_before_end(i)) out.push_back(t);
                return to_numpy(out);
            },
            "Every touch's time before the end of its journey, row after row.")
        .def(
            "column",
            [](const jl::journey_set& js, const std::string& name) {
                if (name == "conversions") return column_of(js, &jl::journey_set::conversions);
                if (name == "nulls") return column_of(js, &jl::journey_set::nulls);
                if (name == "value") return column_of(js, &jl::journey_set::value);
                throw jl::invalid_input("unknown column '" + name + "'");
            },
            py::arg("name"), "The conversions, nulls or value column.");
    bind_rows<jl::journey_set>(journeys);
    bind_bytes(journeys, "journeys", &jl::journeys_from_bytes, &jl::stored_journeys::journeys);

    py::class_<jl::loop_histories> histories(m, "loop_histories");
    histories
        .def_static("from_paths", &loop_from_paths, py::arg("paths"), py::arg("customers"),
                    py::arg("value"), py::arg("options"), py::arg("purchase"),
                    "Loop histories from path strings holding the purchase token.")
        .def_property_readonly("total_customers", &jl::loop_histories::total_customers)
        .def_property_readonly("total_purchases", &jl::loop_histories::total_purchases)
        .def_property_readonly("unattributed_purchases",
                               &jl::loop_histories::unattributed_purchases)
        .def_property_readonly("unattributed_value", &jl::loop_histories::unattributed_value)
        .def_property_readonly("form", [](const jl::loop_histories&) { return "loop"; })
        .def_property_readonly("has_times", &jl::loop_histories::has_times)
        .def_property_readonly("time_unit_seconds", &jl::loop_histories::time_unit_seconds)
        .def(
            "times_before_end",
            [](const jl::loop_histories& h) {
                std::vector<double> out;
                out.reserve(h.total_touches());
                for (std::size_t i = 0; i < h.size(); ++i)
                    for (double t : h.times_before_end(i)) out.push_back(t);
                return to_numpy(out);
            },
            "Every touch's and purchase marker's time before the end of its history, row "
            "after row.")
        .def_property_readonly(
            "purchase_name",
            [](const jl::loop_histories& h) { return h.channels().name(h.purchase_channel()); },
            "The name of the purchase marker.")
        .def(
            "column",
            [](const jl::loop_histories& h, const std::string& name) {
                if (name == "customers") return column_of(h, &jl::loop_histories::customers);
                if (name == "purchases") return column_of(h, &jl::loop_histories::purchases);
                if (name == "value") return column_of(h, &jl::loop_histories::value);
                throw jl::invalid_input("unknown column '" + name + "'");
            },
            py::arg("name"), "The customers, purchases or value column.");
    bind_rows<jl::loop_histories>(histories);
    bind_bytes(histories, "loop histories", &jl::histories_from_bytes,
               &jl::stored_histories::histories);

    bind_teams<jl::journey_set>(m);
    bind_teams<jl::loop_histories>(m);
}
