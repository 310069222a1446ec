// Journeys from event logs.
#include <journeyloop/detail/flat_map.hpp>
#include <journeyloop/errors.hpp>
#include <journeyloop/events.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace journeyloop {

namespace {

constexpr std::uint32_t no_id = std::numeric_limits<std::uint32_t>::max();

std::string number_text(double x) {
    std::ostringstream os;
    os << x;
    return os.str();
}

inline bool blank(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) noexcept {
    std::size_t b = 0, e = s.size();
    while (b < e && blank(s[b])) ++b;
    while (e > b && blank(s[e - 1])) --e;
    return s.substr(b, e - b);
}

// Integer customer ids to dense ids in order of first appearance.
class id_interner {
public:
    std::uint32_t intern(std::int64_t key, std::vector<std::int64_t>& keys) {
        const auto k = static_cast<std::uint64_t>(key);
        if (k == detail::flat_map64<std::uint32_t>::empty_key) {
            // The one key the map reserves.
            if (minus_one_ == no_id) {
                minus_one_ = static_cast<std::uint32_t>(keys.size());
                keys.push_back(key);
            }
            return minus_one_;
        }
        auto [slot, inserted] = map_.try_emplace(k, static_cast<std::uint32_t>(keys.size()));
        if (inserted) keys.push_back(key);
        return *slot;
    }

private:
    detail::flat_map64<std::uint32_t> map_{1024};
    std::uint32_t minus_one_ = no_id;
};

} // namespace

namespace detail {

class event_builder {
public:
    event_builder(const event_table& t, const event_options& o) : t_(t), o_(o) {}

    event_journeys run() {
        check_shape();
        if (n_ == 0) {
            event_journeys out;
            out.journeys.has_times_ = o_.form == journey_form::funnel;
            out.journeys.time_unit_seconds_ = o_.time_unit_seconds;
            out.journeys.form_ = o_.form;
            out.report.sorted_input = true;
            return out;
        }
        if (!t_.time.empty()) return run_with(t_.time);
        return run_with(t_.time_real);
    }

private:
    // ---- shape and options ----------------------------------------------
    void check_shape() {
        const std::size_t sizes[] = {t_.customer_ids.size(), t_.customer_names.size(),
                                     t_.time.size(),         t_.time_real.size(),
                                     t_.channel.size(),      t_.channel_codes.size()};
        n_ = *std::max_element(std::begin(sizes), std::end(sizes));
        check_options();
        if (n_ == 0) return;
        if (n_ >= no_id)
            throw invalid_input("an event log of " + std::to_string(n_) +
                                " rows is too large: at most " + std::to_string(no_id - 1) +
                                " rows per call (build journeys in parts and merge their counts)");
        auto one_of = [&](std::size_t a, std::size_t b, const std::string& what) {
            if ((a == 0) == (b == 0))
                throw invalid_input(a == 0 ? "no " + what + " column given"
                                           : "two " + what + " columns given; give one");
            const auto size = a + b;
            if (size != n_)
                throw invalid_input("column '" + column_of(what) + "' has " +
                                    std::to_string(size) + " rows, the event log has " +
                                    std::to_string(n_));
        };
        one_of(t_.customer_ids.size(), t_.customer_names.size(), "customer");
        one_of(t_.time.size(), t_.time_real.size(), "time");
        one_of(t_.channel.size(), t_.channel_codes.size(), "channel");
        auto optional = [&](std::size_t size, const std::string& name) {
            if (size != 0 && size != n_)
                throw invalid_input("column '" + name + "' has " + std::to_string(size) +
                                    " rows, the event log has " + std::to_string(n_));
        };
        if (!t_.customer_valid.empty() && t_.customer_ids.empty())
            throw invalid_input("a customer mask needs integer customer ids");
        if (!t_.time_valid.empty() && t_.time.empty())
            throw invalid_input("a time mask needs integer times");
        optional(t_.customer_valid.size(), o_.customer_column);
        optional(t_.time_valid.size(), o_.time_column);
        optional(t_.conversion.size(), o_.conversion_column);
        optional(t_.value.size(), o_.value_column);
        if (!t_.value.empty() && t_.conversion.empty())
            throw invalid_input("a value column needs a conversion column");
    }

    std::string column_of(const std::string& what) const {
        if (what == "customer") return o_.customer_column;
        if (what == "time") return o_.time_column;
        return o_.channel_column;
    }

    void check_options() const {
        auto positive = [](const std::optional<double>& x, const char* name) {
            if (x && !(*x > 0 && std::isfinite(*x)))
                throw invalid_input(std::string(name) + " must be positive and finite, got " +
                                    number_text(*x));
        };
        positive(o_.lookback, "lookback");
        positive(o_.inactivity, "inactivity");
        if (o_.form == journey_form::loop && (o_.lookback || o_.inactivity))
            throw invalid_input(
                "lookback and inactivity apply to funnel journeys; a loop history keeps every "
                "touch of a customer");
        if (!(o_.time_unit_seconds >= 0 && std::isfinite(o_.time_unit_seconds)))
            throw invalid_input("time_unit_seconds must be non-negative, got " +
                                number_text(o_.time_unit_seconds));
        if (o_.form == journey_form::loop && trim(o_.purchase).empty())
            throw invalid_input("the purchase marker name is empty");
    }

    // ---- one pass over the rows: reasons, channels, customers ------------
    template <class T>
    bool time_missing(const column_view<T>& time, std::size_t i, std::string& why) const {
        if constexpr (std::is_same_v<T, std::int64_t>) {
            if ((!t_.time_valid.empty() && t_.time_valid[i] == 0) ||
                time[i] == std::numeric_limits<std::int64_t>::min()) {
                why = "missing time (NaT)";
                return true;
            }
        } else {
            if (std::isnan(time[i])) {
                why = "missing time (NaN)";
                return true;
            }
            if (!std::isfinite(time[i])) {
                why = "time is infinite";
                return true;
            }
        }
        return false;
    }

    void reject(std::size_t& counter, std::size_t row, const std::string& column,
                const std::string& what) {
        if (o_.strict) throw invalid_input(detail::make_message(row, column, what));
        ++counter;
    }

    // The channel of row i as a string (strings or dictionary codes); sets
    // `present` to false for a missing one.
    std::string_view channel_name(std::size_t i, bool& present) const {
        if (!t_.channel.empty()) {
            if (t_.channel.is_null(i)) {
                present = false;
                return {};
            }
            const auto name = trim(t_.channel[i]);
            present = !name.empty();
            return name;
        }
        const auto code = t_.channel_codes[i];
        if (code < 0) {
            present = false;
            return {};
        }
        if (static_cast<std::size_t>(code) >= t_.channel_dictionary.size())
            throw invalid_input(detail::make_message(
                i, o_.channel_column,
                "dictionary code " + std::to_string(code) + " is out of range (the dictionary has " +
                    std::to_string(t_.channel_dictionary.size()) + " entries)"));
        if (t_.channel_dictionary.is_null(static_cast<std::size_t>(code))) {
            present = false;
            return {};
        }
        const auto name = trim(t_.channel_dictionary[static_cast<std::size_t>(code)]);
        present = !name.empty();
        return name;
    }

    channel_id channel_of(std::size_t i, bool& present) {
        if (t_.channel.empty()) {
            // Dictionary codes: intern each code once.
            const auto code = t_.channel_codes[i];
            if (code >= 0 && static_cast<std::size_t>(code) < code_ids_.size() &&
                code_ids_[static_cast<std::size_t>(code)] != no_id) {
                present = true;
                return code_ids_[static_cast<std::size_t>(code)];
            }
            const auto name = channel_name(i, present);
            if (!present) return no_id;
            if (code_ids_.empty()) code_ids_.assign(t_.channel_dictionary.size(), no_id);
            const auto id = intern_channel(name, i);
            code_ids_[static_cast<std::size_t>(code)] = id;
            return id;
        }
        const auto name = channel_name(i, present);
        if (!present) return no_id;
        return intern_channel(name, i);
    }

    channel_id intern_channel(std::string_view name, std::size_t row) {
        if (o_.form == journey_form::loop && name == trim(o_.purchase))
            throw invalid_input(detail::make_message(
                row, o_.channel_column,
                "channel '" + std::string(name) +
                    "' has the name of the purchase marker of loop histories; choose another "
                    "purchase name"));
        return out_.journeys.channels_.intern(name);
    }

    std::uint32_t customer_of(std::size_t i) {
        if (!t_.customer_ids.empty()) {
            const auto key = t_.customer_ids[i];
            if (have_prev_ && key == prev_key_) return prev_customer_;
            prev_key_ = key;
            have_prev_ = true;
            prev_customer_ = ids_.intern(key, out_.journeys.customer_ids_);
            return prev_customer_;
        }
        const auto name = t_.customer_names[i];
        if (have_prev_ && name == prev_name_) return prev_customer_;
        prev_name_ = name;
        have_prev_ = true;
        const auto before = names_.size();
        prev_customer_ = names_.intern(name);
        if (names_.size() != before) out_.journeys.customer_names_.emplace_back(name);
        return prev_customer_;
    }

    template <class T>
    void scan(const column_view<T>& time) {
        auto& r = out_.report;
        cust_.assign(n_, no_id);
        chan_.assign(n_, no_id);
        std::string why;
        bool sorted = true;
        std::uint32_t last_customer = 0;
        std::size_t last_row = 0;
        bool any = false;
        for (std::size_t i = 0; i < n_; ++i) {
            const bool customer_missing =
                !t_.customer_ids.empty()
                    ? (!t_.customer_valid.empty() && t_.customer_valid[i] == 0)
                    : t_.customer_names.is_null(i);
            if (customer_missing) {
                reject(r.null_customer, i, o_.customer_column, "missing customer");
                continue;
            }
            if (time_missing(time, i, why)) {
                reject(r.null_time, i, o_.time_column, why);
                continue;
            }
            const double conv = t_.conversion.empty() ? 0.0 : t_.conversion[i];
            if (!(conv >= 0 && std::isfinite(conv))) {
                reject(r.bad_conversion, i, o_.conversion_column,
                       std::isnan(conv) ? "missing conversion (NaN)"
                                        : "conversion " + number_text(conv) +
                                              " is not a non-negative count");
                continue;
            }
            const double value = t_.value.empty() ? 0.0 : t_.value[i];
            if (conv > 0 && !(value >= 0 && std::isfinite(value))) {
                reject(r.bad_value, i, o_.value_column,
                       std::isnan(value) ? "missing value (NaN) on a conversion row"
                                         : "value " + number_text(value) +
                                               " is negative or infinite");
                continue;
            }
            if (conv == 0 && (value < 0 || std::isinf(value))) {
                reject(r.bad_value, i, o_.value_column,
                       "value " + number_text(value) + " is negative or infinite");
                continue;
            }
            if (conv == 0 && value > 0) {
                reject(r.value_without_conversion, i, o_.value_column,
                       "value " + number_text(value) + " on a row that is not a conversion");
                continue;
            }
            bool present = false;
            const auto channel = channel_of(i, present);
            if (conv == 0 && !present) {
                reject(r.null_channel, i, o_.channel_column,
                       "missing channel on a row that is not a conversion");
                continue;
            }
            chan_[i] = channel;
            const auto c = customer_of(i);
            cust_[i] = c;
            if (any && sorted) {
                if (c < last_customer)
                    sorted = false;
                else if (c == last_customer && time[i] < time[last_row])
                    sorted = false;
            }
            last_customer = c;
            last_row = i;
            any = true;
        }
        r.sorted_input = sorted;
    }

    // ---- ordering ---------------------------------------------------------
    template <class T>
    void sort_rows(const column_view<T>& time) {
        const std::size_t customers = out_.journeys.customer_ids_.size() +
                                      out_.journeys.customer_names_.size();
        std::vector<std::uint32_t> start(customers + 1, 0);
        for (std::size_t i = 0; i < n_; ++i)
            if (cust_[i] != no_id) ++start[cust_[i] + 1];
        for (std::size_t c = 0; c < customers; ++c) start[c + 1] += start[c];
        order_.assign(start[customers], 0);
        {
            std::vector<std::uint32_t> next(start.begin(), start.end() - 1);
            for (std::size_t i = 0; i < n_; ++i)
                if (cust_[i] != no_id) order_[next[cust_[i]]++] = static_cast<std::uint32_t>(i);
        }
        // Rows of each customer are in row order; sort by time where needed.
        for (std::size_t c = 0; c < customers; ++c) {
            auto b = order_.begin() + start[c], e = order_.begin() + start[c + 1];
            auto later = [&](std::uint32_t x, std::uint32_t y) { return time[x] < time[y]; };
            if (!std::is_sorted(b, e, later)) std::stable_sort(b, e, later);
        }
    }

    // ---- journeys -----------------------------------------------------------
    struct touch {
        channel_id channel;
        std::uint32_t row;
    };

    template <class T>
    static double before(const column_view<T>& time, std::uint32_t end, std::uint32_t row) {
        if constexpr (std::is_same_v<T, std::int64_t>)
            // end >= row in time: the unsigned difference is exact.
            return static_cast<double>(static_cast<std::uint64_t>(time[end]) -
                                       static_cast<std::uint64_t>(time[row]));
        else
            return time[end] - time[row];
    }

    template <class T>
    void emit(const column_view<T>& time, std::uint32_t end_row, std::uint32_t customer,
              double conversions, double value) {
        auto& js = out_.journeys;
        auto& r = out_.report;
        std::size_t first = 0;
        if (o_.lookback) {
            while (first < pending_.size() &&
                   before(time, end_row, pending_[first].row) > *o_.lookback)
                ++first;
            r.outside_lookback += first;
        }
        for (std::size_t k = first; k < pending_.size(); ++k) {
            js.touches_.push_back(pending_[k].channel);
            js.touch_times_.push_back(before(time, end_row, pending_[k].row));
        }
        r.rows_used += pending_.size() - first;
        pending_.clear();
        js.offsets_.push_back(js.touches_.size());
        const double nulls = conversions > 0 ? 0.0 : 1.0;
        js.conversions_.push_back(conversions);
        js.nulls_.push_back(nulls);
        js.values_.push_back(value);
        js.total_conversions_ += conversions;
        js.total_nulls_ += nulls;
        js.total_value_ += value;
        js.row_customer_.push_back(customer);
        ++r.journeys;
        if (conversions > 0)
            ++r.converting_journeys;
        else
            ++r.non_converting_journeys;
        r.conversions += conversions;
        r.value += value;
    }

    // A conversion row closes the pending journey.
    template <class T>
    void close_funnel(const column_view<T>& time, std::uint32_t row, std::uint32_t customer,
                      double conv, double value, bool is_touch) {
        auto& r = out_.report;
        if (o_.lookback) {
            // Touches outside the window go first; is the journey left empty?
            std::size_t inside = 0;
            for (const auto& p : pending_)
                if (!(before(time, row, p.row) > *o_.lookback)) ++inside;
            if (inside == 0) {
                r.outside_lookback += pending_.size();
                pending_.clear();
            }
        }
        if (pending_.empty()) {
            // Nothing to attribute the conversion to: counted, not built.
            ++r.conversions_without_touch;
            r.unattributed_conversions += conv;
            r.unattributed_value += value;
            return;
        }
        if (!is_touch) ++r.rows_used; // the conversion row itself
        emit(time, row, customer, conv, value);
    }

    template <class T>
    void walk(const column_view<T>& time) {
        auto& r = out_.report;
        auto& js = out_.journeys;
        const bool sorted = r.sorted_input;
        const std::size_t steps = sorted ? n_ : order_.size();
        const bool funnel = o_.form == journey_form::funnel;
        std::uint32_t customer = no_id;
        std::uint32_t last_row = 0;
        // Loop form: the history being built.
        double purchases = 0, history_value = 0;
        std::size_t history_touches = 0;
        // Rows of the current customer at the current time (duplicates).
        std::vector<std::uint32_t> same_time;

        auto finish_customer = [&]() {
            if (customer == no_id) return;
            if (funnel) {
                if (!pending_.empty()) emit(time, pending_.back().row, customer, 0.0, 0.0);
            } else {
                js.offsets_.push_back(js.touches_.size());
                js.conversions_.push_back(purchases);
                js.nulls_.push_back(1.0);
                js.values_.push_back(history_value);
                js.total_conversions_ += purchases;
                js.total_nulls_ += 1.0;
                js.total_value_ += history_value;
                js.row_customer_.push_back(customer);
                ++r.journeys;
                if (purchases > 0)
                    ++r.converting_journeys;
                else
                    ++r.non_converting_journeys;
                r.conversions += purchases;
                r.value += history_value;
                r.rows_used += history_touches;
                purchases = history_value = 0;
                history_touches = 0;
            }
        };

        for (std::size_t k = 0; k < steps; ++k) {
            const auto row = sorted ? static_cast<std::uint32_t>(k) : order_[k];
            const auto c = cust_[row];
            if (c == no_id) continue;
            const bool new_customer = c != customer;
            if (new_customer) {
                finish_customer();
                customer = c;
                same_time.clear();
            } else if (time[row] != time[last_row]) {
                same_time.clear();
            }
            const double conv = t_.conversion.empty() ? 0.0 : t_.conversion[row];
            const auto channel = chan_[row];
            // Duplicates: same customer, time, channel and conversion count.
            bool duplicate = false;
            for (auto other : same_time)
                if (chan_[other] == channel &&
                    (t_.conversion.empty() ? 0.0 : t_.conversion[other]) == conv) {
                    duplicate = true;
                    ++r.duplicates_found;
                    if (o_.duplicates == duplicate_policy::drop)
                        reject(r.duplicate, row, o_.channel_column,
                               "duplicate of row " + std::to_string(other) +
                                   " (same customer, time, channel and conversion)");
                    break;
                }
            if (duplicate && o_.duplicates == duplicate_policy::drop) continue;
            same_time.push_back(row);

            const double value = conv > 0 && !t_.value.empty() ? t_.value[row] : 0.0;
            const bool is_touch = channel != no_id && (conv == 0 || o_.conversion_is_touch);
            if (funnel) {
                if (o_.inactivity && !new_customer && !pending_.empty() &&
                    before(time, row, last_row) > *o_.inactivity)
                    emit(time, pending_.back().row, customer, 0.0, 0.0);
                if (is_touch) pending_.push_back({channel, row});
                if (conv > 0) close_funnel(time, row, customer, conv, value, is_touch);
            } else {
                if (is_touch) js.touches_.push_back(channel);
                if (conv > 0) {
                    js.touches_.push_back(*js.purchase_channel_);
                    purchases += conv;
                    history_value += value;
                }
                ++history_touches;
            }
            last_row = row;
        }
        finish_customer();
    }

    template <class T>
    event_journeys run_with(const column_view<T>& time) {
        auto& js = out_.journeys;
        js.form_ = o_.form;
        js.has_times_ = o_.form == journey_form::funnel;
        js.time_unit_seconds_ = o_.time_unit_seconds;
        out_.report.rows_read = n_;
        scan(time);
        if (o_.form == journey_form::loop) js.purchase_channel_ = js.channels_.intern(trim(o_.purchase));
        if (!out_.report.sorted_input) sort_rows(time);
        js.touches_.reserve(n_);
        if (js.has_times_) js.touch_times_.reserve(n_);
        walk(time);
        cust_ = {};
        chan_ = {};
        order_ = {};
        out_.report.customers = js.customer_ids_.size() + js.customer_names_.size();
        return std::move(out_);
    }

    const event_table& t_;
    const event_options& o_;
    std::size_t n_ = 0;
    event_journeys out_;
    std::vector<std::uint32_t> cust_, chan_, order_, code_ids_;
    std::vector<touch> pending_;
    id_interner ids_;
    channel_dictionary names_;
    bool have_prev_ = false;
    std::int64_t prev_key_ = 0;
    std::string_view prev_name_;
    std::uint32_t prev_customer_ = 0;
};

} // namespace detail

event_journeys build_journeys(const event_table& events, const event_options& options) {
    return detail::event_builder(events, options).run();
}

} // namespace journeyloop
