#include "arrays.hpp"
#include "register.hpp"

#include <journeyloop/events.hpp>

#include <pybind11/stl.h>

#include <string>
#include <tuple>
#include <vector>

namespace jl = journeyloop;

namespace {

template <class T>
using opt_array = std::optional<py::array_t<T, py::array::c_style>>;

// An Arrow string array passed as (offsets, characters, validity, bit offset).
jl::string_column_view strings(const std::optional<py::tuple>& t) {
    if (!t) return {};
    if (t->size() != 4) throw jl::invalid_input("a string column is 4 buffers");
    const auto validity = (*t)[2].is_none() ? std::optional<byte_array>{}
                                            : std::optional<byte_array>((*t)[2].cast<byte_array>());
    return strings_of((*t)[0].cast<py::array>(), (*t)[1].cast<byte_array>(), validity,
                      (*t)[3].cast<std::size_t>());
}

jl::duplicate_policy duplicates_of(const std::string& s) {
    if (s == "keep") return jl::duplicate_policy::keep;
    if (s == "drop") return jl::duplicate_policy::drop;
    throw jl::invalid_input("duplicates must be \"keep\" or \"drop\", got \"" + s + "\"");
}

// The report as a dict, field by field from the one list of its fields.
py::dict report_dict(const jl::event_report& r) {
    py::dict d;
    for (const auto& f : jl::event_report_fields()) {
        if (f.count) d[f.name] = r.*f.count;
        else if (f.amount) d[f.name] = r.*f.amount;
        else d[f.name] = r.*f.flag;
    }
    d["rows_rejected"] = r.rows_rejected();
    return d;
}

// Every column is a keyword; the Python layer passes exactly the ones it has
// (dtypes already exact, so nothing is converted or copied here).
py::tuple build_events(
    const opt_array<std::int64_t>& customer_ids, const opt_array<std::uint8_t>& customer_valid,
    const std::optional<py::tuple>& customer_names, const opt_array<std::int64_t>& time,
    const opt_array<std::uint8_t>& time_valid, const opt_array<double>& time_real,
    const std::optional<py::tuple>& channel, const std::optional<py::array>& channel_codes,
    const std::optional<py::tuple>& channel_dictionary, const std::optional<py::array>& conversion,
    const std::optional<py::array>& value, const jl::event_options& options,
    const std::string& form) {
    if (form != "funnel" && form != "loop")
        throw jl::invalid_input("form must be \"funnel\" or \"loop\", got \"" + form + "\"");
    jl::event_table t;
    t.customer_ids = view_of(customer_ids);
    t.customer_valid = view_of(customer_valid);
    t.customer_names = strings(customer_names);
    t.time = view_of(time);
    t.time_valid = view_of(time_valid);
    t.time_real = view_of(time_real);
    t.channel = strings(channel);
    t.channel_codes = numeric_of(channel_codes, "channel codes");
    t.channel_dictionary = strings(channel_dictionary);
    t.conversion = numeric_of(conversion, "conversion");
    t.value = numeric_of(value, "value");
    if (form == "loop") {
        jl::event_histories built;
        {
            py::gil_scoped_release release;
            built = jl::build_loop_histories(t, options);
        }
        auto report = report_dict(built.report);
        return py::make_tuple(std::move(built.histories), report);
    }
    jl::event_journeys built;
    {
        py::gil_scoped_release release;
        built = jl::build_journeys(t, options);
    }
    auto report = report_dict(built.report);
    return py::make_tuple(std::move(built.journeys), report);
}

std::string duplicates_name(jl::duplicate_policy p) {
    return p == jl::duplicate_policy::drop ? "drop" : "keep";
}

} // namespace

void register_events(py::module_& m) {
    m.def(
        "event_report_fields",
        [] {
            std::vector<std::tuple<std::string, std::string, std::string>> out;
            for (const auto& f : jl::event_report_fields())
                out.emplace_back(f.name, f.description,
                                 f.rejection ? "rejection"
                                 : f.count   ? "count"
                                 : f.amount  ? "amount"
                                             : "flag");
            return out;
        },
        "The event report's fields in order: (name, description, kind), kind one of "
        "\"count\", \"rejection\" (a count of rejected rows), \"amount\", \"flag\".");
    const jl::event_options defaults;
    py::class_<jl::event_options>(m, "event_options",
                                  "How events become journeys (C++ event_options).")
        .def(py::init([](std::optional<double> lookback, std::optional<double> inactivity,
                         bool conversion_is_touch, const std::string& duplicates, bool strict,
                         double time_unit_seconds, std::size_t threads, std::string purchase,
                         std::string customer_column, std::string time_column,
                         std::string channel_column, std::string conversion_column,
                         std::string value_column) {
                 jl::event_options o;
                 o.lookback = lookback;
                 o.inactivity = inactivity;
                 o.conversion_is_touch = conversion_is_touch;
                 o.duplicates = duplicates_of(duplicates);
                 o.strict = strict;
                 o.time_unit_seconds = time_unit_seconds;
                 o.threads = threads;
                 o.purchase = std::move(purchase);
                 o.customer_column = std::move(customer_column);
                 o.time_column = std::move(time_column);
                 o.channel_column = std::move(channel_column);
                 o.conversion_column = std::move(conversion_column);
                 o.value_column = std::move(value_column);
                 return o;
             }),
             py::kw_only(), py::arg("lookback") = py::none(), py::arg("inactivity") = py::none(),
             py::arg("conversion_is_touch") = defaults.conversion_is_touch,
             py::arg("duplicates") = duplicates_name(defaults.duplicates),
             py::arg("strict") = defaults.strict,
             py::arg("time_unit_seconds") = defaults.time_unit_seconds,
             py::arg("threads") = defaults.threads, py::arg("purchase") = defaults.purchase,
             py::arg("customer_column") = defaults.customer_column,
             py::arg("time_column") = defaults.time_column,
             py::arg("channel_column") = defaults.channel_column,
             py::arg("conversion_column") = defaults.conversion_column,
             py::arg("value_column") = defaults.value_column)
        .def_readwrite("lookback", &jl::event_options::lookback)
        .def_readwrite("inactivity", &jl::event_options::inactivity)
        .def_readwrite("conversion_is_touch", &jl::event_options::conversion_is_touch)
        .def_property(
            "duplicates", [](const jl::event_options& o) { return duplicates_name(o.duplicates); },
            [](jl::event_options& o, const std::string& d) { o.duplicates = duplicates_of(d); },
            "\"keep\" or \"drop\".")
        .def_readwrite("strict", &jl::event_options::strict)
        .def_readwrite("time_unit_seconds", &jl::event_options::time_unit_seconds)
        .def_readwrite("threads", &jl::event_options::threads)
        .def_readwrite("purchase", &jl::event_options::purchase)
        .def_readwrite("customer_column", &jl::event_options::customer_column)
        .def_readwrite("time_column", &jl::event_options::time_column)
        .def_readwrite("channel_column", &jl::event_options::channel_column)
        .def_readwrite("conversion_column", &jl::event_options::conversion_column)
        .def_readwrite("value_column", &jl::event_options::value_column);

    m.def("build_events", &build_events, py::kw_only(), py::arg("customer_ids") = py::none(),
          py::arg("customer_valid") = py::none(), py::arg("customer_names") = py::none(),
          py::arg("time") = py::none(), py::arg("time_valid") = py::none(),
          py::arg("time_real") = py::none(), py::arg("channel") = py::none(),
          py::arg("channel_codes") = py::none(), py::arg("channel_dictionary") = py::none(),
          py::arg("conversion") = py::none(), py::arg("value") = py::none(),
          py::arg("options") = jl::event_options{}, py::arg("form") = "funnel",
          "Journeys (form=\"funnel\") or loop histories (form=\"loop\") from an event log: "
          "(journey_set or loop_histories, report dict).");
}
