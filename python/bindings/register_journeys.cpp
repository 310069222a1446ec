#include "arrays.hpp"
#include "register.hpp"

#include <journeyloop/journey_set.hpp>
#include <journeyloop/teams.hpp>

#include <pybind11/stl.h>

#include <string>
#include <string_view>
#include <vector>

namespace jl = journeyloop;

namespace {

jl::path_options make_options(std::string separator, std::string path_column,
                              std::string conversions_column, std::string nulls_column,
                              std::string value_column) {
    jl::path_options o;
    o.separator = std::move(separator);
    o.path_column = std::move(path_column);
    o.conversions_column = std::move(conversions_column);
    o.nulls_column = std::move(nulls_column);
    o.value_column = std::move(value_column);
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
            throw jl::invalid_input(jl::detail::make_message(row, options.path_column, "empty path"));
        out.add(tokens, conv[row], nul.empty() ? 0.0 : nul[row], val.empty() ? 0.0 : val[row],
                row);
    }
    return out;
}

} // namespace

void register_journeys(py::module_& m) {

    py::class_<jl::path_options>(m, "path_options")
        .def(py::init(&make_options), py::arg("separator") = ">", py::arg("path_column") = "path",
             py::arg("conversions_column") = "conversions", py::arg("nulls_column") = "nulls",
             py::arg("value_column") = "value")
        .def_readonly("separator", &jl::path_options::separator);

    py::class_<jl::journey_set>(m, "journey_set")
        .def(py::init<>())
        .def_static("from_paths", &from_paths, py::arg("paths"), py::arg("conversions"),
                    py::arg("nulls"), py::arg("value"), py::arg("options"),
                    "Journeys from path strings and count columns.")
        .def_static("from_token_lists", &from_token_lists, py::arg("paths"),
                    py::arg("conversions"), py::arg("nulls"), py::arg("value"),
                    py::arg("options"), "Journeys from lists of channel names.")
        .def("append_arrow", &append_arrow, py::arg("offsets"), py::arg("data"),
             py::arg("validity"), py::arg("validity_offset"), py::arg("conversions"),
             py::arg("nulls"), py::arg("value"), py::arg("options"), py::arg("first_row"),
             "Appends rows whose paths are an Arrow string array (zero-copy).")
        .def("reserve", &jl::journey_set::reserve, py::arg("rows"), py::arg("touches"),
             "Room for more rows and touches (a hint before several append_arrow calls).")
        .def("__len__", &jl::journey_set::size)
        .def_property_readonly("channels",
                               [](const jl::journey_set& js) { return js.channels().names(); })
        .def_property_readonly("total_conversions", &jl::journey_set::total_conversions)
        .def_property_readonly("total_nulls", &jl::journey_set::total_nulls)
        .def_property_readonly("total_value", &jl::journey_set::total_value)
        .def_property_readonly("total_touches", &jl::journey_set::total_touches)
        .def_property_readonly("form",
                               [](const jl::journey_set& js) {
                                   return js.form() == jl::journey_form::loop ? "loop" : "funnel";
                               })
        .def_property_readonly("has_times", &jl::journey_set::has_times)
        .def_property_readonly(
            "purchase_name",
            [](const jl::journey_set& js) -> std::string {
                const auto p = js.purchase_channel();
                return p ? js.channels().name(*p) : std::string();
            },
            "Loop form: the name of the purchase marker (empty otherwise).")
        .def_property_readonly("time_unit_seconds", &jl::journey_set::time_unit_seconds)
        .def_property_readonly("has_customers", &jl::journey_set::has_customers)
        .def(
            "customer_ids",
            [](const jl::journey_set& js) {
                std::vector<std::int64_t> out;
                if (!js.customer_ids().empty()) {
                    out.reserve(js.size());
                    for (std::size_t i = 0; i < js.size(); ++i)
                        out.push_back(js.customer_ids()[js.customer(i)]);
                }
                return to_numpy(out);
            },
            "The integer customer of every row (empty when customers are names).")
        .def(
            "customer_names",
            [](const jl::journey_set& js) {
                std::vector<std::string> out;
                if (!js.customer_names().empty()) {
                    out.reserve(js.size());
                    for (std::size_t i = 0; i < js.size(); ++i)
                        out.push_back(js.customer_names()[js.customer(i)]);
                }
                return out;
            },
            "The customer name of every row (empty when customers are integers).")
        .def(
            "flat_touches",
            [](const jl::journey_set& js) {
                std::vector<std::int64_t> offsets{0};
                std::vector<std::uint32_t> ids;
                ids.reserve(js.total_touches());
                for (std::size_t i = 0; i < js.size(); ++i) {
                    for (auto c : js.path(i)) ids.push_back(c);
                    offsets.push_back(static_cast<std::int64_t>(ids.size()));
                }
                return py::make_tuple(to_numpy(offsets), to_numpy(ids));
            },
            "(row offsets, channel ids) of every touch, row after row.")
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
            "path_strings",
            [](const jl::journey_set& js, const std::string& sep) {
                std::vector<std::string> out;
                out.reserve(js.size());
                const auto& names = js.channels().names();
                for (std::size_t i = 0; i < js.size(); ++i) {
                    std::string s;
                    for (auto c : js.path(i)) {
                        if (!s.empty()) s += sep;
                        s += names[c];
                    }
                    out.push_back(std::move(s));
                }
                return out;
            },
            py::arg("separator") = " > ", "Every row's path as a string.")
        .def(
            "column",
            [](const jl::journey_set& js, const std::string& name) {
                if (name != "conversions" && name != "nulls" && name != "value")
                    throw jl::invalid_input("unknown column '" + name + "'");
                std::vector<double> out(js.size());
                for (std::size_t i = 0; i < js.size(); ++i) {
                    if (name == "conversions") out[i] = js.conversions(i);
                    else if (name == "nulls") out[i] = js.nulls(i);
                    else out[i] = js.value(i);
                }
                return to_numpy(out);
            },
            py::arg("name"), "The conversions, nulls or value column.");
    m.def(
        "analyze_teams",
        [](const jl::journey_set& js, const std::vector<std::string>& team_of_channel) {
            jl::team_flows f;
            {
                py::gil_scoped_release release;
                f = jl::analyze_teams(js, team_of_channel);
            }
            py::dict d;
            d["teams"] = f.teams;
            d["handoffs"] = to_numpy(f.handoffs);
            d["touches"] = to_numpy(f.touches);
            d["time"] = to_numpy(f.time);
            d["opener_closer"] = to_numpy(f.opener_closer);
            return d;
        },
        py::arg("journeys"), py::arg("team_of_channel"),
        "Handoffs between teams, touches and time per team, openers and closers.");
    m.def("relabel_channels", &jl::relabel_channels, py::arg("journeys"),
          py::arg("group_of_channel"), py::call_guard<py::gil_scoped_release>(),
          "The journeys with every channel replaced by its group (stage, team).");
    m.def(
        "stage_moves",
        [](const jl::journey_set& js, const std::vector<std::string>& stage_of_channel) {
            std::vector<jl::stage_move> moves;
            {
                py::gil_scoped_release release;
                moves = jl::stage_moves(js, stage_of_channel);
            }
            std::vector<std::string> from, to, channel;
            std::vector<double> count;
            for (const auto& mv : moves) {
                from.push_back(mv.from);
                to.push_back(mv.to);
                channel.push_back(mv.channel);
                count.push_back(mv.count);
            }
            py::dict d;
            d["from"] = from;
            d["to"] = to;
            d["channel"] = channel;
            d["count"] = to_numpy(count);
            return d;
        },
        py::arg("journeys"), py::arg("stage_of_channel"),
        "The channels that move customers between stages.");
}
