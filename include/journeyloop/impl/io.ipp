// The journeyloop file format (see io.hpp).
#ifndef JOURNEYLOOP_IMPL_IO_IPP
#define JOURNEYLOOP_IMPL_IO_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/impl/counts_access.hpp>
#include <journeyloop/impl/journey_set_builder.hpp>
#include <journeyloop/impl/json.hpp>
#include <journeyloop/impl/holding_times_builder.hpp>
#include <journeyloop/impl/loop_histories_builder.hpp>

#include <journeyloop/errors.hpp>
#include <journeyloop/io.hpp>
#include <journeyloop/model_io.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#if defined(_WIN32)
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace journeyloop {

JOURNEYLOOP_IMPL_NAMESPACE(io_1) {

namespace json = detail::json;
constexpr const char* format_name = "journeyloop";

JOURNEYLOOP_IMPL_INLINE void write_counts_body(std::string& out, const transition_counts& c) {
    const auto p = detail::counts_access::disassemble(c);
    out += "{\"order\":" + std::to_string(p.order);
    out += std::string(",\"collapse_repeats\":") + (p.collapse_repeats ? "true" : "false");
    out += std::string(",\"padded\":") + (p.padded ? "true" : "false");
    if (p.pooled) out += ",\"pooled\":true"; // absent: false (files before it)
    out += ",\"channels\":[";
    for (std::size_t i = 0; i < p.channels.size(); ++i) {
        if (i) out += ',';
        json::write_string(out, p.channels.name(static_cast<channel_id>(i)));
    }
    out += "],\"states\":[";
    for (std::size_t i = 0; i < p.states.size(); ++i) {
        out += i ? ",[" : "[";
        for (std::size_t j = 0; j < p.states[i].size(); ++j) {
            if (j) out += ',';
            const auto ch = p.states[i][j];
            out += ch == transition_counts::padding ? std::string("-1") : std::to_string(ch);
        }
        out += ']';
    }
    out += "],\"edges\":[";
    for (std::size_t i = 0; i < p.edges.size(); ++i) {
        out += i ? ",[" : "[";
        out += std::to_string(p.edges[i].first >> 32) + ',' +
               std::to_string(p.edges[i].first & 0xffffffffu) + ',';
        json::write_number(out, p.edges[i].second);
        out += ']';
    }
    out += "],\"ends\":[";
    bool first = true;
    for (std::size_t s = 0; s < p.end_conversions.size(); ++s) {
        if (p.end_conversions[s] == 0 && p.end_value[s] == 0) continue;
        out += first ? "[" : ",[";
        first = false;
        out += std::to_string(s) + ',';
        json::write_number(out, p.end_conversions[s]);
        out += ',';
        json::write_number(out, p.end_value[s]);
        out += ']';
    }
    out += "],\"totals\":[";
    json::write_number(out, p.total_conversions);
    out += ',';
    json::write_number(out, p.total_nulls);
    out += ',';
    json::write_number(out, p.total_value);
    out += "]}";
}

JOURNEYLOOP_IMPL_INLINE double non_negative(const json::value& v, const std::string& where) {
    const double x = v.as_number(where);
    if (!(x >= 0)) throw invalid_input("invalid file: " + where + ": negative number");
    return x;
}

JOURNEYLOOP_IMPL_INLINE std::string exact_number_text(double x) {
    std::ostringstream ss;
    ss.precision(17);
    ss << x;
    return ss.str();
}

// The transitions of counts of order k follow the sliding windows: a
// channel state moves only to a state that continues it (its first k - 1
// channels are the other's last k - 1), never to itself when repeats are
// collapsed; a tuple shorter than k is the one state of a short path (in
// from START, out to CONVERSION or NULL only); padded paths begin at a
// state of k - 1 paddings and a channel.
JOURNEYLOOP_IMPL_INLINE void check_windows(const transition_counts& c) {
    const auto k = c.order();
    const auto n = c.num_states();
    auto fail = [&c](state_id s, state_id t, const std::string& why) {
        throw invalid_input("invalid file: transition '" + c.state_label(s) + "' -> '" +
                            c.state_label(t) + "': " + why + " (order " +
                            std::to_string(c.order()) + ")");
    };
    for (state_id s = 0; s < n; ++s)
        for (auto t : c.targets(s)) {
            if (t < transition_counts::first_channel_state) continue;
            const auto to = c.state(t);
            if (s == transition_counts::start) {
                if (c.padded())
                    for (std::size_t i = 0; i + 1 < k; ++i)
                        if (to[i] != transition_counts::padding)
                            fail(s, t, "a padded path begins with k - 1 paddings");
                continue;
            }
            const auto from = c.state(s);
            if (s == t && c.collapse_repeats())
                fail(s, t, "a self-loop, but repeats are collapsed");
            if (from.size() != k || to.size() != k)
                fail(s, t, "a state shorter than the order is a whole path, with no successor");
            for (std::size_t i = 0; i + 1 < k; ++i)
                if (to[i] != from[i + 1])
                    fail(s, t, "the second state does not continue the first");
        }
}

// Counts of journeys keep these sums, whatever the order and options: every
// journey that enters a state leaves it; the transitions into CONVERSION and
// NULL add up to the totals, those out of START to the journeys, and those into
// CONVERSION from a state to its ends. A file edited (and re-signed) against
// them is refused, rather than loaded as a different model. The pooled views of
// loop counts share their channel rows (and ends) with the other view, so of
// these sums only START's and each state's own hold exactly; the rest become
// bounds: a view's totals are at most what the shared rows hold, and a channel
// state's journeys in (from this view's START) at most those out. Sums of the
// same weights in another order round differently, and totals of long tables
// carry the rounding of one long chain of additions: equal means within 1e-6,
// relative, far below any edit worth catching.
JOURNEYLOOP_IMPL_INLINE void check_consistent(const transition_counts& c) {
    const auto n = c.num_states();
    std::vector<double> in(n, 0.0);
    for (state_id s = 0; s < n; ++s) {
        const auto targets = c.targets(s);
        const auto weights = c.weights(s);
        for (std::size_t i = 0; i < targets.size(); ++i) in[targets[i]] += weights[i];
    }
    auto tolerance = [](double a, double b) {
        return 1e-6 * std::max({1.0, std::abs(a), std::abs(b)});
    };
    auto equal = [&](double a, double b) { return std::abs(a - b) <= tolerance(a, b); };
    auto at_most = [&](double a, double b) { return a <= b + tolerance(a, b); };
    auto fail = [](const std::string& what) {
        throw invalid_input("invalid file: inconsistent counts: " + what);
    };
    auto into_conversion = [&c](state_id s) {
        const auto targets = c.targets(s);
        const auto weights = c.weights(s);
        for (std::size_t i = 0; i < targets.size(); ++i)
            if (targets[i] == transition_counts::conversion) return weights[i];
        return 0.0;
    };
    for (state_id s = 0; s < n; ++s)
        if (!equal(into_conversion(s), c.conversions_from(s)))
            fail("state '" + c.state_label(s) + "': ends with " +
                 exact_number_text(c.conversions_from(s)) +
                 " conversions, its transitions into CONVERSION sum to " +
                 exact_number_text(into_conversion(s)));
    check_windows(c);
    const bool pooled = c.pooled();
    // A total against the sum of the rows that hold it: equal, or for a pooled
    // view at most that sum.
    auto check_total = [&](const std::string& sum_is, double sum, const std::string& total_is,
                           double total) {
        if (pooled ? at_most(total, sum) : equal(sum, total)) return;
        fail(sum_is + " " + exact_number_text(sum) + ", " + total_is + " " +
             exact_number_text(total) +
             (pooled ? " (more than the rows that both views share hold)" : ""));
    };
    check_total("the transitions into CONVERSION sum to", in[transition_counts::conversion],
                "the total conversions are", c.total_conversions());
    check_total("the transitions into NULL sum to", in[transition_counts::null],
                "the total nulls are", c.total_nulls());
    const double journeys = c.total_conversions() + c.total_nulls();
    if (!equal(c.out_weight(transition_counts::start), journeys))
        fail("the transitions out of START sum to " +
             exact_number_text(c.out_weight(transition_counts::start)) +
             ", the journeys (conversions + nulls) to " + exact_number_text(journeys));
    double value = 0;
    for (state_id s = 0; s < n; ++s) {
        value += c.value_from(s);
        if (s < transition_counts::first_channel_state) continue;
        if (pooled ? !at_most(in[s], c.out_weight(s)) : !equal(in[s], c.out_weight(s)))
            fail("state '" + c.state_label(s) + "': transitions in sum to " +
                 exact_number_text(in[s]) + ", out to " + exact_number_text(c.out_weight(s)) +
                 (pooled ? " (a view's journeys into a state are at most those out of it)"
                         : " (every journey that enters a state leaves it)"));
    }
    check_total("the value of the ends sums to", value, "the total value is", c.total_value());
}

JOURNEYLOOP_IMPL_INLINE transition_counts read_counts_body(const json::value& body) {
    detail::counts_parts p;
    p.order = static_cast<std::size_t>(
        body.at("order", "body").as_integer("order", 1, static_cast<std::int64_t>(max_order)));
    p.collapse_repeats = body.at("collapse_repeats", "body").as_bool("collapse_repeats");
    p.padded = body.at("padded", "body").as_bool("padded");
    if (body.object.count("pooled") != 0) p.pooled = body.at("pooled", "body").as_bool("pooled");
    for (const auto& ch : body.at("channels", "body").as_array("channels")) {
        const auto& name = ch.as_string("channels");
        if (name.empty()) throw invalid_input("invalid file: channels: empty channel name");
        if (p.channels.find(name))
            throw invalid_input("invalid file: channels: duplicate channel '" + name + "'");
        p.channels.intern(name);
    }
    const auto n_channels = static_cast<std::int64_t>(p.channels.size());
    std::set<std::vector<channel_id>> seen_states;
    for (const auto& st : body.at("states", "body").as_array("states")) {
        const auto where = "states[" + std::to_string(p.states.size()) + "]";
        const auto& items = st.as_array(where);
        if (items.empty() || items.size() > p.order || (p.padded && items.size() != p.order))
            throw invalid_input("invalid file: " + where + ": wrong tuple length");
        std::vector<channel_id> tuple;
        bool real_seen = false;
        for (const auto& item : items) {
            const auto id = item.as_integer(where, -1, n_channels - 1);
            if (id < 0) {
                if (!p.padded || real_seen)
                    throw invalid_input("invalid file: " + where + ": misplaced padding");
                tuple.push_back(transition_counts::padding);
            } else {
                real_seen = true;
                tuple.push_back(static_cast<channel_id>(id));
            }
        }
        if (!real_seen) throw invalid_input("invalid file: " + where + ": no channel");
        for (auto id : tuple)
            if (id != transition_counts::padding) {
                const auto& name = p.channels.name(id);
                if (detail::state_name(name))
                    throw invalid_input("invalid file: " + where + ": channel '" + name +
                                        "' has the name of a state");
            }
        if (!seen_states.insert(tuple).second)
            throw invalid_input("invalid file: " + where + ": duplicate state");
        p.states.push_back(std::move(tuple));
    }
    const auto n_states =
        static_cast<std::int64_t>(p.states.size() + transition_counts::first_channel_state);
    std::set<std::uint64_t> seen_edges;
    for (const auto& e : body.at("edges", "body").as_array("edges")) {
        const auto where = "edges[" + std::to_string(p.edges.size()) + "]";
        const auto& items = e.as_array(where);
        if (items.size() != 3) throw invalid_input("invalid file: " + where + ": expected 3 items");
        const auto from = items[0].as_integer(where, 0, n_states - 1);
        const auto to = items[1].as_integer(where, 1, n_states - 1);
        if (from == transition_counts::conversion || from == transition_counts::null)
            throw invalid_input("invalid file: " + where +
                                ": transition out of an absorbing state");
        const double w = non_negative(items[2], where);
        const auto code = (std::uint64_t(from) << 32) | std::uint64_t(to);
        if (!seen_edges.insert(code).second)
            throw invalid_input("invalid file: " + where + ": duplicate transition");
        p.edges.emplace_back(code, w);
    }
    p.end_conversions.assign(static_cast<std::size_t>(n_states), 0.0);
    p.end_value.assign(static_cast<std::size_t>(n_states), 0.0);
    for (const auto& e : body.at("ends", "body").as_array("ends")) {
        const auto& items = e.as_array("ends");
        if (items.size() != 3) throw invalid_input("invalid file: ends: expected 3 items");
        const auto s = static_cast<std::size_t>(items[0].as_integer("ends", 0, n_states - 1));
        if (s == transition_counts::conversion || s == transition_counts::null)
            throw invalid_input("invalid file: ends: a path cannot end in an absorbing state");
        p.end_conversions[s] = non_negative(items[1], "ends");
        p.end_value[s] = non_negative(items[2], "ends");
    }
    const auto& totals = body.at("totals", "body").as_array("totals");
    if (totals.size() != 3) throw invalid_input("invalid file: totals: expected 3 numbers");
    p.total_conversions = non_negative(totals[0], "totals");
    p.total_nulls = non_negative(totals[1], "totals");
    p.total_value = non_negative(totals[2], "totals");
    auto counts = detail::counts_access::assemble(std::move(p));
    check_consistent(counts);
    return counts;
}

JOURNEYLOOP_IMPL_INLINE std::string wrap(const std::string& kind, const std::string& body) {
    std::string out = "{\"format\":\"" + std::string(format_name) + "\",\"kind\":\"" + kind +
                      "\",\"version\":" + std::to_string(file_format_version) +
                      ",\"body_bytes\":" + std::to_string(body.size()) +
                      ",\"checksum\":\"fnv1a64:" + json::fnv1a64(body) + "\"}\n";
    return out + body;
}

JOURNEYLOOP_IMPL_INLINE json::value unwrap(std::string_view bytes, const std::string& kind) {
    // Messages quote the file's text: it must be text first.
    if (const auto bad = json::invalid_utf8(bytes); bad != std::string_view::npos)
        throw invalid_input("invalid file: not UTF-8 text (byte " + std::to_string(bad) + ")");
    const auto eol = bytes.find('\n');
    if (eol == std::string_view::npos)
        throw invalid_input("invalid file: not a journeyloop file (no header line)");
    const auto header = json::parse(bytes.substr(0, eol));
    if (header.type != json::value::kind::object || !header.object.count("format") ||
        header.at("format", "header").type != json::value::kind::string ||
        header.at("format", "header").string != format_name)
        throw invalid_input("invalid file: not a journeyloop file");
    const auto version = header.at("version", "header").as_integer("version", 1, 1 << 30);
    if (version > file_format_version)
        throw invalid_input("invalid file: format version " + std::to_string(version) +
                            " is newer than this library's (" +
                            std::to_string(file_format_version) + ")");
    const auto& found = header.at("kind", "header").as_string("kind");
    if (found != kind)
        throw invalid_input("invalid file: holds a " + found + ", expected a " + kind);
    const auto body = bytes.substr(eol + 1);
    const auto size = header.at("body_bytes", "header").as_integer("body_bytes", 0, INT64_MAX / 2);
    if (static_cast<std::int64_t>(body.size()) != size)
        throw invalid_input("invalid file: the body has " + std::to_string(body.size()) +
                            " bytes, the header says " + std::to_string(size) +
                            " (truncated or modified)");
    if (header.at("checksum", "header").as_string("checksum") != "fnv1a64:" + json::fnv1a64(body))
        throw invalid_input("invalid file: checksum mismatch (the file was modified or corrupted)");
    return json::parse(body);
}

JOURNEYLOOP_IMPL_INLINE std::string read_file(const std::string& filename) {
    std::ifstream in(filename, std::ios::binary);
    if (!in) throw invalid_input("cannot open '" + filename + "'");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A name for the temporary file of a save: in the target's folder (a rename
// within one file system replaces the target in one step), hidden, and
// unique among the saves of this process and of others.
JOURNEYLOOP_IMPL_INLINE std::string temporary_name(const std::string& filename) {
    static std::atomic<unsigned long> counter{0};
    const auto slash = filename.find_last_of("/\\");
    const std::size_t base = slash == std::string::npos ? 0 : slash + 1;
#if defined(_WIN32)
    const unsigned long pid = GetCurrentProcessId();
#else
    const auto pid = static_cast<unsigned long>(getpid());
#endif
    return filename.substr(0, base) + "." + filename.substr(base) + ".tmp-" + std::to_string(pid) +
           "-" + std::to_string(counter.fetch_add(1));
}

// Writes `bytes` to a temporary file beside `filename`, flushes it to the
// disk and renames it over `filename`: a reader (or a later load after a
// crash) sees the old file or the whole new one, never a part. On an error
// the temporary file is removed and the old file is left as it was.
JOURNEYLOOP_IMPL_INLINE void write_file(const std::string& filename, const std::string& bytes) {
    const std::string temp = temporary_name(filename);
    auto fail = [&](const std::string& what, int err) {
        std::remove(temp.c_str());
        throw invalid_input("cannot write '" + filename + "': " + what +
                            (err ? std::string(" (") + std::strerror(err) + ")" : std::string()));
    };
#if defined(_WIN32)
    {
        std::ofstream out(temp, std::ios::binary | std::ios::trunc);
        if (!out) fail("cannot create a file in its folder", errno);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        out.flush();
        if (!out) fail("error while writing", errno);
    }
    if (!MoveFileExA(temp.c_str(), filename.c_str(),
                     MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
        fail("cannot replace the file", 0);
#else
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) fail("cannot create a file in its folder", errno);
    std::size_t done = 0;
    while (done < bytes.size()) {
        const auto n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int err = n < 0 ? errno : ENOSPC;
            ::close(fd);
            fail("error while writing", err);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
        const int err = errno;
        ::close(fd);
        fail("cannot flush the file to the disk", err);
    }
    if (::close(fd) != 0) fail("error while closing", errno);
    if (::rename(temp.c_str(), filename.c_str()) != 0) fail("cannot replace the file", errno);
    // The rename itself is made durable by flushing the folder (best effort:
    // some file systems refuse to open a folder for it).
    const auto slash = filename.find_last_of('/');
    const std::string folder = slash == std::string::npos ? "." : filename.substr(0, slash + 1);
    const int dir = ::open(folder.c_str(), O_RDONLY | O_CLOEXEC);
    if (dir >= 0) {
        (void)::fsync(dir);
        ::close(dir);
    }
#endif
}

} // JOURNEYLOOP_IMPL_NAMESPACE(io_1)

JOURNEYLOOP_IMPL_INLINE std::string to_bytes(const transition_counts& counts) {
    std::string body;
    write_counts_body(body, counts);
    return wrap("transition_counts", body);
}

JOURNEYLOOP_IMPL_INLINE std::string to_bytes(const markov_model& model) {
    return to_bytes(model, model_metadata{});
}

JOURNEYLOOP_IMPL_NAMESPACE(io_2) {

// `,"metadata":{...}` when any part is set (absent from files before it).
JOURNEYLOOP_IMPL_INLINE void write_metadata(std::string& body, const model_metadata& metadata) {
    if (!(metadata.teams || metadata.stages || metadata.max_states)) return;
    body += ",\"metadata\":{";
    bool first = true;
    auto member = [&](const char* key) {
        body += first ? "\"" : ",\"";
        first = false;
        body += key;
        body += "\":";
    };
    if (metadata.max_states) {
        if (*metadata.max_states == 0)
            throw invalid_input("cannot save the model: max_states must be at least 1");
        member("max_states");
        body += std::to_string(*metadata.max_states);
    }
    auto write_pairs = [&](const char* key,
                           const std::vector<std::pair<std::string, std::string>>& pairs) {
        member(key);
        body += '[';
        std::set<std::string_view> seen;
        for (std::size_t i = 0; i < pairs.size(); ++i) {
            const auto& [channel, group] = pairs[i];
            if (channel.empty() || !seen.insert(channel).second)
                throw invalid_input(std::string("cannot save the model: ") + key + ": " +
                                    (channel.empty() ? "an empty channel name"
                                                     : "channel '" + channel + "' twice"));
            body += i ? ",[" : "[";
            json::write_string(body, channel);
            body += ',';
            json::write_string(body, group);
            body += ']';
        }
        body += ']';
    };
    if (metadata.teams) write_pairs("teams", *metadata.teams);
    if (metadata.stages) write_pairs("stages", *metadata.stages);
    body += '}';
}

JOURNEYLOOP_IMPL_INLINE model_metadata read_metadata(const json::value& body) {
    model_metadata meta;
    if (body.object.count("metadata") == 0) return meta;
    const auto& m = body.at("metadata", "body");
    if (m.type != json::value::kind::object)
        throw invalid_input("invalid file: metadata: expected an object");
    for (const auto& [key, item] : m.object) {
        if (key == "max_states") {
            meta.max_states =
                static_cast<std::size_t>(item.as_integer("metadata.max_states", 1, INT64_MAX / 2));
            continue;
        }
        if (key != "teams" && key != "stages")
            throw invalid_input("invalid file: metadata: unknown member '" + key + "'");
        std::vector<std::pair<std::string, std::string>> pairs;
        std::set<std::string> seen;
        const auto where = "metadata." + key;
        for (const auto& pair : item.as_array(where)) {
            const auto at = where + "[" + std::to_string(pairs.size()) + "]";
            const auto& two = pair.as_array(at);
            if (two.size() != 2)
                throw invalid_input("invalid file: " + at + ": expected [channel, " +
                                    (key == "teams" ? "team" : "stage") + "]");
            const auto& channel = two[0].as_string(at);
            if (channel.empty())
                throw invalid_input("invalid file: " + at + ": empty channel name");
            if (!seen.insert(channel).second)
                throw invalid_input("invalid file: " + at + ": channel '" + channel + "' twice");
            pairs.emplace_back(channel, two[1].as_string(at));
        }
        (key == "teams" ? meta.teams : meta.stages) = std::move(pairs);
    }
    return meta;
}

template <class Numbers>
JOURNEYLOOP_IMPL_INLINE void write_numbers(std::string& out, const char* key, const Numbers& xs) {
    out += ",\"";
    out += key;
    out += "\":[";
    bool first = true;
    for (const double x : xs) {
        if (!first) out += ',';
        first = false;
        json::write_number(out, x);
    }
    out += ']';
}

// `{"means":[...],"weights":[...],...}`: the holding times of a model whose
// matrix they fit (checked).
JOURNEYLOOP_IMPL_INLINE void write_holding(std::string& body, const markov_model& model,
                                           const holding_times& h) {
    const transition_matrix& p = model.transitions();
    if (h.num_states() != static_cast<std::size_t>(p.rows()) ||
        h.means().size() != static_cast<std::size_t>(p.nonZeros()))
        throw invalid_input("cannot save the model: its holding times were fitted for another "
                            "model");
    for (Eigen::Index s = 0; s < p.outerSize(); ++s) {
        std::size_t at = h.row_offset(static_cast<state_id>(s));
        for (transition_matrix::InnerIterator it(p, s); it; ++it, ++at)
            if (at >= h.row_offset(static_cast<state_id>(s + 1)) ||
                h.targets()[at] != static_cast<state_id>(it.col()))
                throw invalid_input("cannot save the model: its holding times were fitted for "
                                    "another model");
    }
    const auto parts = holding_times::builder::summary_of(h);
    body += "{\"unit_seconds\":";
    json::write_number(body, parts.unit_seconds);
    body += ",\"overall_mean\":";
    json::write_number(body, parts.overall_mean);
    body += ",\"fallbacks\":[" + std::to_string(parts.own) + ',' + std::to_string(parts.by_state) +
            ',' + std::to_string(parts.overall) + ',' + std::to_string(parts.skipped) + ']';
    write_numbers(body, "means", h.means());
    std::vector<double> weights;
    weights.reserve(h.means().size());
    for (std::size_t s = 0; s < h.num_states(); ++s)
        for (std::size_t at = h.row_offset(static_cast<state_id>(s));
             at < h.row_offset(static_cast<state_id>(s + 1)); ++at)
            weights.push_back(h.weight(static_cast<state_id>(s), h.targets()[at]));
    write_numbers(body, "weights", weights);
    body += '}';
}

JOURNEYLOOP_IMPL_INLINE holding_times read_holding(const json::value& item,
                                                   const markov_model& model,
                                                   const std::string& where) {
    if (item.type != json::value::kind::object)
        throw invalid_input("invalid file: " + where + ": expected an object");
    for (const auto& [key, value] : item.object)
        if (key != "unit_seconds" && key != "overall_mean" && key != "fallbacks" &&
            key != "means" && key != "weights")
            throw invalid_input("invalid file: " + where + ": unknown member '" + key + "'");
    holding_times::builder::summary parts;
    parts.unit_seconds = item.at("unit_seconds", where).as_number(where + ".unit_seconds");
    parts.overall_mean = item.at("overall_mean", where).as_number(where + ".overall_mean");
    const auto& fallbacks = item.at("fallbacks", where).as_array(where + ".fallbacks");
    if (fallbacks.size() != 4)
        throw invalid_input("invalid file: " + where + ".fallbacks: expected 4 counts");
    std::size_t* counts[] = {&parts.own, &parts.by_state, &parts.overall, &parts.skipped};
    for (std::size_t i = 0; i < 4; ++i)
        *counts[i] = static_cast<std::size_t>(
            fallbacks[i].as_integer(where + ".fallbacks", 0, INT64_MAX / 2));
    auto numbers = [&](const char* key) {
        std::vector<double> out;
        const auto at = where + "." + key;
        for (const auto& x : item.at(key, where).as_array(at)) out.push_back(x.as_number(at));
        return out;
    };
    return holding_times::builder::from_parts(model, numbers("means"), numbers("weights"), parts,
                                              where);
}

JOURNEYLOOP_IMPL_INLINE markov_options read_options(const json::value& body) {
    markov_options options;
    options.smoothing = non_negative(body.at("smoothing", "body"), "smoothing");
    return options;
}

} // JOURNEYLOOP_IMPL_NAMESPACE(io_2)

JOURNEYLOOP_IMPL_INLINE std::string to_bytes(const markov_model& model,
                                             const model_metadata& metadata) {
    std::string body = "{\"smoothing\":";
    json::write_number(body, model.options().smoothing);
    write_metadata(body, metadata);
    body += ",\"counts\":";
    write_counts_body(body, model.counts());
    body += '}';
    return wrap("markov_model", body);
}

JOURNEYLOOP_IMPL_INLINE std::string to_bytes(const markov_model& model,
                                             const model_metadata& metadata,
                                             const holding_times& holding) {
    std::string body = "{\"smoothing\":";
    json::write_number(body, model.options().smoothing);
    write_metadata(body, metadata);
    body += ",\"counts\":";
    write_counts_body(body, model.counts());
    body += ",\"holding\":";
    write_holding(body, model, holding);
    body += '}';
    return wrap("markov_model", body);
}

JOURNEYLOOP_IMPL_NAMESPACE(io_5) {
// A loop model's body without its closing brace.
JOURNEYLOOP_IMPL_INLINE std::string loop_model_body(const loop_model& model,
                                                    const model_metadata& metadata) {
    std::string body = "{\"smoothing\":";
    json::write_number(body, model.options().smoothing);
    write_metadata(body, metadata);
    body += ",\"totals\":[";
    const double totals[] = {model.customers(), model.purchases(), model.value(), model.buyers(),
                             model.repeat_purchases()};
    for (std::size_t i = 0; i < 5; ++i) {
        if (i) body += ',';
        json::write_number(body, totals[i]);
    }
    body += "],\"first\":";
    write_counts_body(body, model.first().counts());
    body += ",\"repeat\":";
    if (model.repeat()) write_counts_body(body, model.repeat()->counts());
    else body += "null";
    return body;
}
} // JOURNEYLOOP_IMPL_NAMESPACE(io_5)

JOURNEYLOOP_IMPL_INLINE std::string to_bytes(const loop_model& model,
                                             const model_metadata& metadata) {
    return wrap("loop_model", loop_model_body(model, metadata) + '}');
}

JOURNEYLOOP_IMPL_INLINE std::string to_bytes(const loop_model& model,
                                             const model_metadata& metadata,
                                             const loop_holding_times& holding) {
    if (model.repeat().has_value() != holding.repeat.has_value())
        throw invalid_input("cannot save the model: its holding times were fitted for another "
                            "model");
    std::string body = loop_model_body(model, metadata);
    body += ",\"holding\":{\"first\":";
    write_holding(body, model.first(), holding.first);
    body += ",\"repeat\":";
    if (holding.repeat) write_holding(body, *model.repeat(), *holding.repeat);
    else body += "null";
    body += "}}";
    return wrap("loop_model", body);
}

JOURNEYLOOP_IMPL_INLINE transition_counts counts_from_bytes(std::string_view bytes) {
    return read_counts_body(unwrap(bytes, "transition_counts"));
}

JOURNEYLOOP_IMPL_INLINE markov_model model_from_bytes(std::string_view bytes) {
    return std::move(stored_model_from_bytes(bytes).model);
}

JOURNEYLOOP_IMPL_INLINE stored_model stored_model_from_bytes(std::string_view bytes) {
    const auto body = unwrap(bytes, "markov_model");
    const auto options = read_options(body);
    auto meta = read_metadata(body);
    stored_model out{fit_markov(read_counts_body(body.at("counts", "body")), options),
                     std::move(meta), std::nullopt};
    if (body.object.count("holding"))
        out.holding = read_holding(body.at("holding", "body"), out.model, "holding");
    return out;
}

JOURNEYLOOP_IMPL_INLINE stored_loop_model loop_model_from_bytes(std::string_view bytes) {
    const auto body = unwrap(bytes, "loop_model");
    const auto options = read_options(body);
    auto meta = read_metadata(body);
    const auto& totals = body.at("totals", "body").as_array("totals");
    if (totals.size() != 5) throw invalid_input("invalid file: totals: expected 5 numbers");
    loop_counts counts;
    counts.customers = non_negative(totals[0], "totals");
    counts.purchases = non_negative(totals[1], "totals");
    counts.value = non_negative(totals[2], "totals");
    counts.buyers = non_negative(totals[3], "totals");
    counts.repeat_purchases = non_negative(totals[4], "totals");
    counts.first = read_counts_body(body.at("first", "body"));
    const auto& repeat = body.at("repeat", "body");
    if (repeat.type != json::value::kind::null) counts.repeat = read_counts_body(repeat);
    // fit_loop checks the views and totals against each other, for files and
    // for counts built by hand alike.
    std::optional<stored_loop_model> out;
    try {
        out.emplace(stored_loop_model{fit_loop(counts, options), std::move(meta), std::nullopt});
    } catch (const invalid_input& e) {
        throw invalid_input(std::string("invalid file: ") + e.what());
    }
    if (body.object.count("holding")) {
        const auto& h = body.at("holding", "body");
        if (h.type != json::value::kind::object)
            throw invalid_input("invalid file: holding: expected an object");
        for (const auto& [key, value] : h.object)
            if (key != "first" && key != "repeat")
                throw invalid_input("invalid file: holding: unknown member '" + key + "'");
        loop_holding_times times{
            read_holding(h.at("first", "holding"), out->model.first(), "holding.first"),
            std::nullopt};
        const auto& r = h.at("repeat", "holding");
        if ((r.type == json::value::kind::null) == out->model.repeat().has_value())
            throw invalid_input("invalid file: holding.repeat: expected " +
                                std::string(out->model.repeat() ? "the repeat view's holding "
                                                                  "times"
                                                                : "null (the model has no "
                                                                  "repeat view)"));
        if (out->model.repeat())
            times.repeat = read_holding(r, *out->model.repeat(), "holding.repeat");
        out->holding = std::move(times);
    }
    return std::move(*out);
}

JOURNEYLOOP_IMPL_NAMESPACE(io_3) {

template <class Integers>
JOURNEYLOOP_IMPL_INLINE void write_integers(std::string& out, const char* key, const Integers& xs) {
    out += ",\"";
    out += key;
    out += "\":[";
    bool first = true;
    for (const auto x : xs) {
        if (!first) out += ',';
        first = false;
        out += std::to_string(x);
    }
    out += ']';
}

// The body of a journeys record (also the rows of a loop_histories record):
// columns of the journey set as it is held (CSR paths and per-row figures).
JOURNEYLOOP_IMPL_INLINE void write_journeys_body(std::string& out, const journey_set& js,
                                                 const model_metadata& metadata) {
    out += "{\"channels\":[";
    for (std::size_t i = 0; i < js.channels().size(); ++i) {
        if (i) out += ',';
        json::write_string(out, js.channels().name(static_cast<channel_id>(i)));
    }
    out += ']';
    std::vector<std::size_t> offsets{0};
    std::vector<channel_id> touches;
    std::vector<double> conversions, nulls, values, times;
    offsets.reserve(js.size() + 1);
    touches.reserve(js.total_touches());
    for (std::size_t r = 0; r < js.size(); ++r) {
        const auto path = js.path(r);
        touches.insert(touches.end(), path.begin(), path.end());
        offsets.push_back(touches.size());
        conversions.push_back(js.conversions(r));
        nulls.push_back(js.nulls(r));
        values.push_back(js.value(r));
        if (js.has_times()) {
            const auto t = js.times_before_end(r);
            times.insert(times.end(), t.begin(), t.end());
        }
    }
    write_integers(out, "offsets", offsets);
    write_integers(out, "touches", touches);
    write_numbers(out, "conversions", conversions);
    write_numbers(out, "nulls", nulls);
    write_numbers(out, "values", values);
    if (js.has_times()) {
        out += ",\"times\":{\"unit_seconds\":";
        json::write_number(out, js.time_unit_seconds());
        write_numbers(out, "before_end", times);
        out += '}';
    }
    if (js.has_customers()) {
        out += ",\"customers\":{";
        std::vector<std::size_t> rows;
        rows.reserve(js.size());
        for (std::size_t r = 0; r < js.size(); ++r) rows.push_back(js.customer(r));
        out += "\"kind\":";
        if (!js.customer_ids().empty()) {
            // As text: a JSON number is a double, exact only below 2**53.
            out += "\"integer\",\"ids\":[";
            for (std::size_t i = 0; i < js.customer_ids().size(); ++i) {
                out += i ? ",\"" : "\"";
                out += std::to_string(js.customer_ids()[i]) + '"';
            }
        } else {
            out += "\"name\",\"ids\":[";
            for (std::size_t i = 0; i < js.customer_names().size(); ++i) {
                if (i) out += ',';
                json::write_string(out, js.customer_names()[i]);
            }
        }
        out += ']';
        write_integers(out, "rows", rows);
        out += '}';
    }
    write_metadata(out, metadata);
    out += '}';
}

JOURNEYLOOP_IMPL_INLINE double finite_non_negative(const json::value& v, const std::string& where) {
    const double x = non_negative(v, where);
    if (!std::isfinite(x)) throw invalid_input("invalid file: " + where + ": not finite");
    return x;
}

JOURNEYLOOP_IMPL_INLINE journey_set read_journeys_body(const json::value& body) {
    if (body.type != json::value::kind::object)
        throw invalid_input("invalid file: the body is not an object");
    journey_set js;
    journey_set::builder b{js};
    const auto& channels = body.at("channels", "body").as_array("channels");
    for (std::size_t i = 0; i < channels.size(); ++i) {
        const auto where = "channels[" + std::to_string(i) + "]";
        const auto& name = channels[i].as_string(where);
        if (name.empty()) throw invalid_input("invalid file: " + where + ": empty channel name");
        if (b.intern(name) != i)
            throw invalid_input("invalid file: " + where + ": channel '" + name + "' twice");
    }
    const auto& offsets = body.at("offsets", "body").as_array("offsets");
    const auto& touches = body.at("touches", "body").as_array("touches");
    if (offsets.empty()) throw invalid_input("invalid file: offsets: empty (expected rows + 1)");
    const std::size_t rows = offsets.size() - 1;
    const auto column = [&](const char* key) -> const std::vector<json::value>& {
        const auto& xs = body.at(key, "body").as_array(key);
        if (xs.size() != rows)
            throw invalid_input(std::string("invalid file: ") + key + ": " +
                                std::to_string(xs.size()) + " items, the offsets give " +
                                std::to_string(rows) + " rows");
        return xs;
    };
    const auto& conversions = column("conversions");
    const auto& nulls = column("nulls");
    const auto& values = column("values");
    journey_set::check_touches(touches.size());
    const json::value* times = nullptr;
    if (body.object.count("times")) {
        const auto& t = body.at("times", "body");
        if (t.type != json::value::kind::object)
            throw invalid_input("invalid file: times: expected an object");
        b.set_times(finite_non_negative(t.at("unit_seconds", "times"), "times.unit_seconds"));
        times = &t.at("before_end", "times");
        if (times->as_array("times.before_end").size() != touches.size())
            throw invalid_input(
                "invalid file: times.before_end: " + std::to_string(times->array.size()) +
                " items for " + std::to_string(touches.size()) + " touches");
    }
    channel_id* out = b.size_touches(touches.size());
    double* out_times = b.touch_times();
    const auto n_channels = static_cast<std::int64_t>(channels.size());
    for (std::size_t i = 0; i < touches.size(); ++i) {
        const auto where = "touches[" + std::to_string(i) + "]";
        out[i] = static_cast<channel_id>(touches[i].as_integer(where, 0, n_channels - 1));
        if (times) {
            const auto at = "times.before_end[" + std::to_string(i) + "]";
            out_times[i] = times->array[i].as_number(at);
            if (!std::isfinite(out_times[i]))
                throw invalid_input("invalid file: " + at + ": not finite");
        }
    }
    if (offsets[0].as_integer("offsets[0]", 0, 0) != 0)
        throw invalid_input("invalid file: offsets[0]: expected 0");
    std::int64_t last = 0;
    const auto n_touches = static_cast<std::int64_t>(touches.size());
    for (std::size_t r = 0; r < rows; ++r) {
        const auto where = "offsets[" + std::to_string(r + 1) + "]";
        const auto end = offsets[r + 1].as_integer(where, 0, n_touches);
        if (end <= last)
            throw invalid_input("invalid file: " + where + ": row " + std::to_string(r) +
                                " has no touch (offsets must increase)");
        last = end;
        const auto at = [r](const char* key) {
            return std::string(key) + "[" + std::to_string(r) + "]";
        };
        b.end_row_at(static_cast<std::size_t>(end),
                     finite_non_negative(conversions[r], at("conversions")),
                     finite_non_negative(nulls[r], at("nulls")),
                     finite_non_negative(values[r], at("values")));
    }
    if (last != n_touches)
        throw invalid_input("invalid file: offsets: the rows end at touch " + std::to_string(last) +
                            ", there are " + std::to_string(n_touches) + " touches");
    if (body.object.count("customers")) {
        const auto& c = body.at("customers", "body");
        if (c.type != json::value::kind::object)
            throw invalid_input("invalid file: customers: expected an object");
        const auto& kind = c.at("kind", "customers").as_string("customers.kind");
        const auto& ids = c.at("ids", "customers").as_array("customers.ids");
        if (kind == "integer") {
            for (std::size_t i = 0; i < ids.size(); ++i) {
                const auto where = "customers.ids[" + std::to_string(i) + "]";
                const auto& text = ids[i].as_string(where);
                std::int64_t id = 0;
                const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), id);
                if (err != std::errc() || end != text.data() + text.size())
                    throw invalid_input("invalid file: " + where + ": not a 64-bit integer");
                b.customer_ids().push_back(id);
            }
        } else if (kind == "name") {
            for (std::size_t i = 0; i < ids.size(); ++i)
                b.customer_names().push_back(
                    ids[i].as_string("customers.ids[" + std::to_string(i) + "]"));
        } else {
            throw invalid_input("invalid file: customers.kind: expected \"integer\" or \"name\"");
        }
        const auto& of_row = c.at("rows", "customers").as_array("customers.rows");
        if (of_row.size() != rows)
            throw invalid_input("invalid file: customers.rows: " + std::to_string(of_row.size()) +
                                " items for " + std::to_string(rows) + " rows");
        const auto n_ids =
            static_cast<std::int64_t>(std::min<std::size_t>(ids.size(), 0xFFFFFFFFu));
        for (std::size_t r = 0; r < rows; ++r)
            b.add_row_customer(static_cast<std::uint32_t>(
                of_row[r].as_integer("customers.rows[" + std::to_string(r) + "]", 0, n_ids - 1)));
    }
    return js;
}

} // JOURNEYLOOP_IMPL_NAMESPACE(io_3)

JOURNEYLOOP_IMPL_INLINE std::string to_bytes(const journey_set& journeys,
                                             const model_metadata& metadata) {
    std::string body;
    write_journeys_body(body, journeys, metadata);
    return wrap("journeys", body);
}

JOURNEYLOOP_IMPL_INLINE std::string to_bytes(const loop_histories& histories,
                                             const model_metadata& metadata) {
    std::string body = "{\"purchase\":" + std::to_string(histories.purchase_channel());
    write_integers(body, "purchase_offsets", loop_histories::builder::offsets(histories));
    write_numbers(body, "purchase_values", loop_histories::builder::values(histories));
    // Purchases left out before any touch: written only when there are some,
    // so that files without them read as before.
    if (histories.unattributed_purchases() != 0 || histories.unattributed_value() != 0) {
        body += ",\"unattributed_purchases\":";
        json::write_number(body, histories.unattributed_purchases());
        body += ",\"unattributed_value\":";
        json::write_number(body, histories.unattributed_value());
    }
    write_metadata(body, metadata);
    body += ",\"rows\":";
    write_journeys_body(body, loop_histories::builder::rows(histories), {});
    body += '}';
    return wrap("loop_histories", body);
}

JOURNEYLOOP_IMPL_INLINE stored_journeys journeys_from_bytes(std::string_view bytes) {
    const auto body = unwrap(bytes, "journeys");
    auto meta = read_metadata(body);
    if (meta.max_states) throw invalid_input("invalid file: metadata: journeys have no max_states");
    return {read_journeys_body(body), std::move(meta)};
}

JOURNEYLOOP_IMPL_INLINE stored_histories histories_from_bytes(std::string_view bytes) {
    const auto body = unwrap(bytes, "loop_histories");
    auto meta = read_metadata(body);
    if (meta.max_states)
        throw invalid_input("invalid file: metadata: loop histories have no max_states");
    const auto& rows_body = body.at("rows", "body");
    auto rows = read_journeys_body(rows_body);
    if (rows_body.object.count("metadata"))
        throw invalid_input("invalid file: rows: unexpected metadata");
    const auto purchase = static_cast<channel_id>(
        body.at("purchase", "body")
            .as_integer("purchase", 0, static_cast<std::int64_t>(rows.channels().size()) - 1));
    const auto& offsets = body.at("purchase_offsets", "body").as_array("purchase_offsets");
    const auto& values = body.at("purchase_values", "body").as_array("purchase_values");
    if (offsets.size() != rows.size() + 1)
        throw invalid_input("invalid file: purchase_offsets: " + std::to_string(offsets.size()) +
                            " items for " + std::to_string(rows.size()) +
                            " rows (expected rows + 1)");
    std::vector<std::size_t> offs{0};
    std::vector<double> vals;
    vals.reserve(values.size());
    for (std::size_t i = 0; i < values.size(); ++i)
        vals.push_back(
            finite_non_negative(values[i], "purchase_values[" + std::to_string(i) + "]"));
    if (offsets[0].as_integer("purchase_offsets[0]", 0, 0) != 0)
        throw invalid_input("invalid file: purchase_offsets[0]: expected 0");
    for (std::size_t r = 0; r < rows.size(); ++r) {
        const auto where = "purchase_offsets[" + std::to_string(r + 1) + "]";
        const auto end = static_cast<std::size_t>(offsets[r + 1].as_integer(
            where, static_cast<std::int64_t>(offs.back()), static_cast<std::int64_t>(vals.size())));
        const auto path = rows.path(r);
        const auto markers =
            static_cast<std::size_t>(std::count(path.begin(), path.end(), purchase));
        if (end - offs.back() != markers)
            throw invalid_input("invalid file: " + where + ": row " + std::to_string(r) + " has " +
                                std::to_string(markers) + " purchases and " +
                                std::to_string(end - offs.back()) + " purchase values");
        offs.push_back(end);
    }
    if (offs.back() != vals.size())
        throw invalid_input("invalid file: purchase_offsets: the rows end at value " +
                            std::to_string(offs.back()) + ", there are " +
                            std::to_string(vals.size()) + " values");
    auto histories = loop_histories::builder::assemble(std::move(rows), purchase, std::move(vals),
                                                       std::move(offs));
    const bool has_purchases = body.object.count("unattributed_purchases") != 0;
    if (has_purchases != (body.object.count("unattributed_value") != 0))
        throw invalid_input(
            "invalid file: unattributed_purchases and unattributed_value come together");
    if (has_purchases)
        loop_histories::builder::set_unattributed(
            histories,
            finite_non_negative(body.at("unattributed_purchases", "body"),
                                "unattributed_purchases"),
            finite_non_negative(body.at("unattributed_value", "body"), "unattributed_value"));
    return {std::move(histories), std::move(meta)};
}

JOURNEYLOOP_IMPL_INLINE void save(const journey_set& journeys, const std::string& filename,
                                  const model_metadata& metadata) {
    write_file(filename, to_bytes(journeys, metadata));
}
JOURNEYLOOP_IMPL_INLINE void save(const loop_histories& histories, const std::string& filename,
                                  const model_metadata& metadata) {
    write_file(filename, to_bytes(histories, metadata));
}
JOURNEYLOOP_IMPL_INLINE stored_journeys load_journeys(const std::string& filename) {
    return journeys_from_bytes(read_file(filename));
}
JOURNEYLOOP_IMPL_INLINE stored_histories load_histories(const std::string& filename) {
    return histories_from_bytes(read_file(filename));
}

JOURNEYLOOP_IMPL_INLINE void save(const transition_counts& counts, const std::string& filename) {
    write_file(filename, to_bytes(counts));
}
JOURNEYLOOP_IMPL_INLINE void save(const markov_model& model, const std::string& filename) {
    write_file(filename, to_bytes(model));
}
JOURNEYLOOP_IMPL_INLINE void save(const markov_model& model, const std::string& filename,
                                  const model_metadata& metadata) {
    write_file(filename, to_bytes(model, metadata));
}
JOURNEYLOOP_IMPL_INLINE transition_counts load_counts(const std::string& filename) {
    return counts_from_bytes(read_file(filename));
}
JOURNEYLOOP_IMPL_INLINE markov_model load_model(const std::string& filename) {
    return model_from_bytes(read_file(filename));
}
JOURNEYLOOP_IMPL_INLINE stored_model load_stored_model(const std::string& filename) {
    return stored_model_from_bytes(read_file(filename));
}
JOURNEYLOOP_IMPL_INLINE void save(const loop_model& model, const std::string& filename,
                                  const model_metadata& metadata) {
    write_file(filename, to_bytes(model, metadata));
}
JOURNEYLOOP_IMPL_INLINE stored_loop_model load_loop_model(const std::string& filename) {
    return loop_model_from_bytes(read_file(filename));
}

} // namespace journeyloop

#endif // JOURNEYLOOP_IMPL_IO_IPP
