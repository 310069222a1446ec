// Journeys from event logs.
#ifndef JOURNEYLOOP_IMPL_EVENTS_IPP
#define JOURNEYLOOP_IMPL_EVENTS_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/detail/flat_map.hpp>
#include <journeyloop/errors.hpp>
#include <journeyloop/events.hpp>
#include <journeyloop/threads.hpp>

#include <journeyloop/impl/journey_set_builder.hpp>
#include <journeyloop/impl/loop_histories_builder.hpp>
#include <journeyloop/impl/text.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <exception>
#include <thread>
#include <limits>

namespace journeyloop {

JOURNEYLOOP_IMPL_NAMESPACE(events_1) {

constexpr std::uint32_t no_id = std::numeric_limits<std::uint32_t>::max();

using detail::number_text;
using detail::trim;

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

    void prefetch(std::int64_t key) const noexcept {
        map_.prefetch(static_cast<std::uint64_t>(key));
    }

private:
    detail::flat_map64<std::uint32_t> map_{1024};
    std::uint32_t minus_one_ = no_id;
};

} // JOURNEYLOOP_IMPL_NAMESPACE(events_1)

namespace detail {

class event_builder {
public:
    /// `loop`: loop histories (one row per customer, purchases inside);
    /// else funnel journeys.
    event_builder(const event_table& t, const event_options& o, bool loop)
        : t_(t), o_(o), loop_(loop) {}

    event_journeys run() {
        check_shape();
        if (n_ == 0) {
            setup();
            out_.report.sorted_input = true;
            return std::move(out_);
        }
        if (!t_.time.empty()) return run_with(t_.time);
        return run_with(t_.time_real);
    }

    /// Loop histories: the rows run() built, with their purchases.
    loop_histories histories(journey_set rows) {
        return loop_histories::builder::assemble(
            std::move(rows), purchase_, std::move(purchase_values_), std::move(purchase_offsets_));
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
        constexpr std::size_t max_rows = 0x7FFFFFFF;
        if (n_ > max_rows)
            throw invalid_input("an event log of " + std::to_string(n_) +
                                " rows is too large: at most " + std::to_string(max_rows) +
                                " rows per call (build journeys in parts and merge their counts)");
        auto one_of = [&](std::size_t a, std::size_t b, const std::string& what) {
            if ((a == 0) == (b == 0))
                throw invalid_input(a == 0 ? "no " + what + " column given"
                                           : "two " + what + " columns given; give one");
            const auto size = a + b;
            if (size != n_)
                throw invalid_input("column '" + column_of(what) + "' has " + std::to_string(size) +
                                    " rows, the event log has " + std::to_string(n_));
        };
        one_of(t_.customer_ids.size(), t_.customer_names.size(), "customer");
        one_of(t_.time.size(), t_.time_real.size(), "time");
        one_of(t_.channel.size(), t_.channel_codes.size(), "channel");
        if (!t_.channel_codes.empty() && t_.channel_codes.is_floating())
            throw invalid_input("column '" + o_.channel_column +
                                "': dictionary codes must be integers");
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
            throw invalid_input("a value column needs a conversion column: give the conversion "
                                "column too");
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
        if (loop_ && (o_.lookback || o_.inactivity))
            throw invalid_input(
                "lookback and inactivity apply to funnel journeys; a loop history keeps every "
                "touch of a customer");
        if (!(o_.time_unit_seconds >= 0 && std::isfinite(o_.time_unit_seconds)))
            throw invalid_input("time_unit_seconds must be non-negative, got " +
                                number_text(o_.time_unit_seconds));
        if (loop_ && trim(o_.purchase).empty())
            throw invalid_input("purchase: the name of the purchase marker is empty; give a "
                                "name (such as \"purchase\")");
    }

    // ---- one row: reasons, channel, customer ------------------------------
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

    // A kept row with a value set aside: counted, or refused when strict.
    void note(std::size_t& counter, std::size_t row, const std::string& column,
              const std::string& what) {
        if (o_.strict) throw invalid_input(detail::make_message(row, column, what));
        ++counter;
    }

    // The channel of row i as a string (strings or dictionary codes); sets
    // `present` to false for a missing one.
    std::string_view channel_name(std::size_t i, std::int64_t code, bool& present) const {
        if (!t_.channel.empty()) {
            if (t_.channel.is_null(i)) {
                present = false;
                return {};
            }
            const auto name = trim(t_.channel[i]);
            present = !name.empty();
            return name;
        }
        if (code < 0) {
            present = false;
            return {};
        }
        if (static_cast<std::size_t>(code) >= t_.channel_dictionary.size())
            throw invalid_input(detail::make_message(
                i, o_.channel_column,
                "dictionary code " + std::to_string(code) +
                    " is out of range (the dictionary has " +
                    std::to_string(t_.channel_dictionary.size()) + " entries)"));
        if (t_.channel_dictionary.is_null(static_cast<std::size_t>(code))) {
            present = false;
            return {};
        }
        const auto name = trim(t_.channel_dictionary[static_cast<std::size_t>(code)]);
        present = !name.empty();
        return name;
    }

    JOURNEYLOOP_INLINE channel_id channel_of(std::size_t i, bool& present) {
        if (t_.channel.empty()) {
            // Dictionary codes already seen.
            const auto code = t_.channel_codes.integer(i);
            if (code >= 0 && static_cast<std::size_t>(code) < code_ids_.size() &&
                code_ids_[static_cast<std::size_t>(code)] != no_id) {
                present = true;
                return code_ids_[static_cast<std::size_t>(code)];
            }
        }
        return new_channel_of(i, present);
    }

    // A channel not seen yet (or a missing one); channel_of() has looked up
    // the codes already seen.
    channel_id new_channel_of(std::size_t i, bool& present) {
        if (t_.channel.empty()) {
            // Dictionary codes: intern each code once.
            const auto code = t_.channel_codes.integer(i);
            const auto name = channel_name(i, code, present);
            if (!present) return no_id;
            if (code_ids_.empty()) code_ids_.assign(t_.channel_dictionary.size(), no_id);
            const auto id = intern_channel(name, i);
            code_ids_[static_cast<std::size_t>(code)] = id;
            return id;
        }
        const auto name = channel_name(i, 0, present);
        if (!present) return no_id;
        return intern_channel(name, i);
    }

    channel_id intern_channel(std::string_view name, std::size_t row) {
        if (loop_ && name == trim(o_.purchase))
            throw invalid_input(detail::make_message(
                row, o_.channel_column,
                "channel '" + std::string(name) +
                    "' has the name of the purchase marker of loop histories; choose another "
                    "purchase name"));
        return jb_.intern(name);
    }

    JOURNEYLOOP_INLINE std::uint32_t customer_of(std::size_t i) {
        // Rows of one customer usually follow each other.
        if (!t_.customer_ids.empty()) {
            const auto key = t_.customer_ids[i];
            if (have_prev_ && key == prev_key_) return prev_customer_;
            if (sequential_) {
                // One pass over sorted input: a new key is a new customer;
                // customers_unique() checks that afterwards. A customer seen
                // among the last few stops the pass at once (time-ordered
                // logs).
                for (std::size_t k = 0; k < std::min(recent_next_, recent_ids_.size()); ++k)
                    if (recent_ids_[k] == key) back_again_ = true;
                recent_ids_[recent_next_++ % recent_ids_.size()] = key;
                prev_key_ = key;
                have_prev_ = true;
                prev_customer_ = static_cast<std::uint32_t>(jb_.customer_ids().size());
                jb_.customer_ids().push_back(key);
                return prev_customer_;
            }
        }
        return new_customer_of(i);
    }

    // Whether no customer got two ids (sequential mode).
    bool customers_unique() const {
        if (!t_.customer_ids.empty()) {
            auto keys = out_.journeys.customer_ids();
            std::sort(keys.begin(), keys.end());
            return std::adjacent_find(keys.begin(), keys.end()) == keys.end();
        }
        std::vector<std::string_view> keys(out_.journeys.customer_names().begin(),
                                           out_.journeys.customer_names().end());
        std::sort(keys.begin(), keys.end());
        return std::adjacent_find(keys.begin(), keys.end()) == keys.end();
    }

    // The customer of row i: for integer ids customer_of() has found that it
    // is not the previous row's; names are compared here.
    std::uint32_t new_customer_of(std::size_t i) {
        if (!t_.customer_ids.empty()) {
            const auto key = t_.customer_ids[i];
            prev_key_ = key;
            have_prev_ = true;
            prev_customer_ = ids_.intern(key, jb_.customer_ids());
            return prev_customer_;
        }
        const auto name = t_.customer_names[i];
        if (have_prev_ && name == prev_name_) return prev_customer_;
        prev_name_ = name;
        have_prev_ = true;
        if (sequential_) {
            for (std::size_t k = 0; k < std::min(recent_next_, recent_names_.size()); ++k)
                if (recent_names_[k] == name) back_again_ = true;
            recent_names_[recent_next_++ % recent_names_.size()] = name;
            prev_customer_ = static_cast<std::uint32_t>(jb_.customer_names().size());
            jb_.customer_names().emplace_back(name);
            return prev_customer_;
        }
        const auto before = names_.size();
        prev_customer_ = names_.intern(name);
        if (names_.size() != before) jb_.customer_names().emplace_back(name);
        return prev_customer_;
    }

    // Checks row i; returns false (after counting or throwing) if it is
    // rejected, else sets its customer and channel.
    template <class T>
    JOURNEYLOOP_INLINE bool classify(const column_view<T>& time, std::size_t i,
                                     std::uint32_t& customer, channel_id& channel) {
        auto& r = out_.report;
        const bool customer_missing =
            !t_.customer_ids.empty() ? (!t_.customer_valid.empty() && t_.customer_valid[i] == 0)
                                     : t_.customer_names.is_null(i);
        if (customer_missing) {
            reject(r.null_customer, i, o_.customer_column, "missing customer");
            return false;
        }
        if (time_missing(time, i, why_)) {
            reject(r.null_time, i, o_.time_column, why_);
            return false;
        }
        const double conv = t_.conversion.empty() ? 0.0 : t_.conversion[i];
        if (!(conv >= 0 && std::isfinite(conv))) {
            reject(r.bad_conversion, i, o_.conversion_column,
                   std::isnan(conv)
                       ? "missing conversion (NaN)"
                       : "conversion " + number_text(conv) + " is not a non-negative count");
            return false;
        }
        bool present = false;
        channel = channel_of(i, present);
        if (conv == 0 && !present) {
            reject(r.null_channel, i, o_.channel_column,
                   "missing channel on a row that is not a conversion");
            return false;
        }
        // The row is kept; a value it cannot use is set aside and counted
        // (strict: the row is refused).
        if (!t_.value.empty()) {
            const double value = t_.value[i];
            if (conv > 0 && !(value >= 0 && std::isfinite(value)))
                note(r.bad_value, i, o_.value_column,
                     std::isnan(value)
                         ? std::string("missing value (NaN) on a conversion row; give its "
                                       "value (without strict the conversion is kept with "
                                       "value 0)")
                         : "value " + number_text(value) +
                               " is negative or infinite; give a non-negative value (without "
                               "strict the conversion is kept with value 0)");
            else if (conv == 0 && (value < 0 || value > 0))
                note(r.value_without_conversion, i, o_.value_column,
                     "value " + number_text(value) +
                         " on a row that is not a conversion; give 0 or a missing value "
                         "(without strict the touch is kept and the value ignored)");
        }
        customer = customer_of(i);
        return true;
    }

    bool converts(std::size_t i) const { return !t_.conversion.empty() && t_.conversion[i] > 0; }

    // ---- the journeys ---------------------------------------------------------
    template <class T>
    struct event {
        T time;
        std::uint32_t row_and_flag; // row (31 bits), and whether it is a conversion
        channel_id channel;

        event(T t, std::size_t row, channel_id c, bool conversion)
            : time(t),
              row_and_flag(static_cast<std::uint32_t>(row) | (conversion ? conversion_bit : 0u)),
              channel(c) {}
        event() = default;
        std::uint32_t row() const noexcept { return row_and_flag & ~conversion_bit; }
        bool converts() const noexcept { return (row_and_flag & conversion_bit) != 0; }
    };
    static constexpr std::uint32_t conversion_bit = 0x80000000u;
    template <class T>
    using event_vector = std::vector<event<T>, uninitialized_allocator<event<T>>>;
    using row_ids = std::vector<std::uint32_t, uninitialized_allocator<std::uint32_t>>;
    static_assert(std::is_same_v<channel_id, std::uint32_t>, "row_ids holds channel ids too");

    // Conversions of an event (0 for a touch), read from the column only for
    // conversions (rare; random access in the sorted path).
    template <class T>
    double conversions_of(const event<T>& e) const {
        return e.converts() ? t_.conversion[e.row()] : 0.0;
    }

    template <class T>
    static double before(T end, T t) {
        if constexpr (std::is_same_v<T, std::int64_t>)
            // end >= t: the unsigned difference is exact.
            return static_cast<double>(static_cast<std::uint64_t>(end) -
                                       static_cast<std::uint64_t>(t));
        else return end - t;
    }

    // The state of the customer being walked, for times of type T.
    template <class T>
    struct walker {
        std::vector<event<T>> pending;   // funnel: touches of the open journey
        std::vector<event<T>> same_time; // events of the customer at the current time
        std::uint32_t customer = no_id;
        T last_time{};
        double purchases = 0, history_value = 0; // loop form
        std::size_t history_rows = 0, history_touches = 0;
        // Loop form: the history's first touch (its index in the output and
        // its time) and its last event; times are written from the first
        // touch and turned into times before the end when the customer ends.
        std::size_t history_begin = 0;
        T history_start{}, history_end{};
    };

    template <class T>
    void emit(walker<T>& w, T end_time, double conversions, double value) {
        auto& r = out_.report;
        std::size_t first = 0;
        if (o_.lookback) {
            while (first < w.pending.size() &&
                   before(end_time, w.pending[first].time) > *o_.lookback)
                ++first;
            r.outside_lookback += first;
        }
        for (std::size_t k = first; k < w.pending.size(); ++k)
            put_touch(w.pending[k].channel, before(end_time, w.pending[k].time));
        r.rows_used += w.pending.size() - first;
        w.pending.clear();
        push_journey(w.customer, conversions, conversions > 0 ? 0.0 : 1.0, value);
    }

    void push_journey(std::uint32_t customer, double conversions, double nulls, double value) {
        auto& r = out_.report;
        jb_.end_row_at(touch_n_, conversions, nulls, value);
        jb_.add_row_customer(customer);
        ++r.journeys;
        if (conversions > 0) ++r.converting_journeys;
        else ++r.non_converting_journeys;
        r.conversions += conversions;
        r.value += value;
    }

    // A loop history's times are written as they come and turned into times
    // before its end when the customer ends: real times as they are (so that
    // the time before the end is the difference of the two, as before()
    // gives it), integer times from the history's first touch (exact in
    // uint64, and small enough for a double).
    template <class T>
    static double history_time(const walker<T>& w, T t) {
        if constexpr (std::is_same_v<T, std::int64_t>) return before(t, w.history_start);
        else return t;
    }

    template <class T>
    void finish_customer(walker<T>& w) {
        if (w.customer == no_id) return;
        if (!loop_) {
            if (!w.pending.empty()) emit(w, w.pending.back().time, 0.0, 0.0);
        } else {
            // A customer whose rows were all purchases without a touch has no
            // history (they are counted in conversions_without_touch).
            if (w.history_rows > 0) {
                if (time_out_ && w.history_touches > 0) {
                    const double end = history_time(w, w.history_end);
                    for (std::size_t k = w.history_begin; k < touch_n_; ++k)
                        time_out_[k] = end - time_out_[k];
                }
                push_journey(w.customer, w.purchases, 1.0, w.history_value);
                purchase_offsets_.push_back(purchase_values_.size());
                out_.report.rows_used += w.history_rows;
            }
            w.purchases = w.history_value = 0;
            w.history_rows = w.history_touches = 0;
        }
        w.customer = no_id;
    }

    // One valid event, in (customer, time) order.
    template <class T>
    void feed(walker<T>& w, const event<T>& e, std::uint32_t customer) {
        auto& r = out_.report;
        const bool new_customer = customer != w.customer;
        if (new_customer) {
            finish_customer(w);
            w.customer = customer;
            w.same_time.clear();
        } else if (e.time != w.last_time) {
            w.same_time.clear();
        }
        const double conv = conversions_of(e);
        // Duplicates: same customer, time, channel and conversion count.
        for (const auto& other : w.same_time)
            if (other.channel == e.channel && other.converts() == e.converts() &&
                conversions_of(other) == conv) {
                ++r.duplicates_found;
                if (o_.duplicates == duplicate_policy::drop) {
                    reject(r.duplicate, e.row(), o_.channel_column,
                           "duplicate of row " + std::to_string(other.row()) +
                               " (same customer, time, channel and conversion)");
                    return;
                }
                break;
            }
        w.same_time.push_back(e);

        // A conversion's value that is missing, negative or infinite counts
        // as 0 (classify() has counted it in bad_value).
        double value = conv > 0 && !t_.value.empty() ? t_.value[e.row()] : 0.0;
        if (!(value >= 0 && std::isfinite(value))) value = 0.0;
        const bool is_touch = e.channel != no_id && (conv == 0 || o_.conversion_is_touch);
        if (!loop_) {
            if (o_.inactivity && !new_customer && !w.pending.empty() &&
                before(e.time, w.last_time) > *o_.inactivity)
                emit(w, w.pending.back().time, 0.0, 0.0);
            if (is_touch) w.pending.push_back(e);
            if (conv > 0) close_funnel(w, e, conv, value, is_touch);
        } else {
            if (is_touch) {
                if (w.history_touches == 0) {
                    w.history_begin = touch_n_;
                    w.history_start = e.time;
                }
                put_touch(e.channel, history_time(w, e.time));
                w.history_end = e.time;
                ++w.history_touches;
            }
            if (conv > 0 && w.history_touches == 0) {
                // A purchase before any touch: nothing to credit, as in
                // funnel form (and as leading purchases of a loop path table).
                ++r.conversions_without_touch;
                r.unattributed_conversions += 1;
                r.unattributed_value += value;
                w.last_time = e.time;
                return;
            }
            if (conv > 0) {
                // One purchase per conversion row.
                put_touch(purchase_, history_time(w, e.time));
                w.history_end = e.time;
                purchase_values_.push_back(value);
                w.purchases += 1;
                w.history_value += value;
            }
            ++w.history_rows;
        }
        w.last_time = e.time;
    }

    // A conversion row closes the open journey.
    template <class T>
    void close_funnel(walker<T>& w, const event<T>& e, double conv, double value, bool is_touch) {
        auto& r = out_.report;
        if (o_.lookback) {
            std::size_t inside = 0;
            for (const auto& p : w.pending)
                if (!(before(e.time, p.time) > *o_.lookback)) ++inside;
            if (inside == 0) {
                r.outside_lookback += w.pending.size();
                w.pending.clear();
            }
        }
        if (w.pending.empty()) {
            // Nothing to credit the conversion to: counted, not built.
            ++r.conversions_without_touch;
            r.unattributed_conversions += conv;
            r.unattributed_value += value;
            return;
        }
        if (!is_touch) ++r.rows_used; // the conversion row itself
        emit(w, e.time, conv, value);
    }

    // ---- parts ------------------------------------------------------------------
    // Large logs are built in two parts on two threads: each part has its own
    // dictionaries and output, and parts are merged in row order, which keeps
    // the first-appearance numbering of channels and customers of one pass.

    void setup() {
        jb_.set_times(o_.time_unit_seconds);
        if (loop_) {
            // Interned first: the marker has id 0 in every part.
            purchase_ = jb_.intern(trim(o_.purchase));
            purchase_offsets_.assign(1, 0);
        }
    }

    // ---- touch output ---------------------------------------------------------
    // Touches (and their times) are written in place, at touch_out_[0 ..
    // touch_n_): a region of the final journey set's arrays, sized for the
    // most touches the rows can give (one per row, two in loop form with
    // purchases) but not initialized, so that pages are only touched as they
    // fill. The second part of a two-thread build writes into the first
    // part's arrays, after the first part's region, and is moved down (if
    // the first part left a gap) instead of copied from arrays of its own:
    // writing fresh memory the first time costs far more than writing mapped
    // memory (bench/first_touch.py measures both), so the copy's destination
    // was the cost.
    static std::size_t touches_per_row(bool loop) { return loop ? 2 : 1; }

    // This builder's own output, for `rows` rows.
    void own_output(std::size_t rows) {
        touch_cap_ = rows * touches_per_row(loop_);
        touch_out_ = jb_.size_touches(touch_cap_);
        time_out_ = jb_.touch_times();
        touch_n_ = 0;
    }

    // Output into `owner`'s arrays, from row `first_row` of its capacity, for
    // `rows` rows.
    void share_output(const event_builder& owner, std::size_t first_row, std::size_t rows) {
        const auto per_row = touches_per_row(loop_);
        if ((first_row + rows) * per_row > owner.touch_cap_)
            throw numerical_error("internal error: shared touch output too small");
        touch_out_ = owner.touch_out_ + first_row * per_row;
        time_out_ = owner.time_out_ ? owner.time_out_ + first_row * per_row : nullptr;
        touch_cap_ = rows * per_row;
        touch_n_ = 0;
    }

    void put_touch(channel_id c, double time) {
        if (touch_n_ == touch_cap_) throw numerical_error("internal error: touch output full");
        touch_out_[touch_n_] = c;
        if (time_out_) time_out_[touch_n_] = time;
        ++touch_n_;
    }

    // Sizes the journey set's arrays to the touches written.
    void finish_output() { jb_.size_touches(touch_n_); }

    std::size_t customers() const {
        return out_.journeys.customer_ids().size() + out_.journeys.customer_names().size();
    }

    static void add_counts(event_report& to, const event_report& from) {
        to.rows_used += from.rows_used;
        to.null_customer += from.null_customer;
        to.null_time += from.null_time;
        to.null_channel += from.null_channel;
        to.bad_conversion += from.bad_conversion;
        to.bad_value += from.bad_value;
        to.value_without_conversion += from.value_without_conversion;
        to.duplicate += from.duplicate;
        to.duplicates_found += from.duplicates_found;
        to.outside_lookback += from.outside_lookback;
        to.conversions_without_touch += from.conversions_without_touch;
        to.unattributed_conversions += from.unattributed_conversions;
        to.unattributed_value += from.unattributed_value;
        to.journeys += from.journeys;
        to.converting_journeys += from.converting_journeys;
        to.non_converting_journeys += from.non_converting_journeys;
        to.conversions += from.conversions;
        to.value += from.value;
    }

    // Local channel ids of `other` to this builder's ids.
    std::vector<channel_id> merge_channels(const event_builder& other) {
        std::vector<channel_id> remap;
        remap.reserve(other.out_.journeys.channels().size());
        for (const auto& name : other.out_.journeys.channels().names())
            remap.push_back(jb_.intern(name));
        return remap;
    }

    // Local customer ids of `other` to this builder's ids; `fresh` is set to
    // false if a customer of `other` is already known here.
    std::vector<std::uint32_t> merge_customers(const event_builder& other, bool& fresh) {
        std::vector<std::uint32_t> remap;
        fresh = true;
        if (!t_.customer_ids.empty()) {
            auto& ids = jb_.customer_ids();
            for (auto key : other.out_.journeys.customer_ids()) {
                const auto before = ids.size();
                remap.push_back(ids_.intern(key, ids));
                fresh = fresh && ids.size() != before;
            }
        } else {
            for (const auto& name : other.out_.journeys.customer_names()) {
                const auto before = names_.size();
                remap.push_back(names_.intern(name));
                if (names_.size() != before) jb_.customer_names().push_back(name);
                else fresh = false;
            }
        }
        return remap;
    }

    // Appends the journeys of `other`, whose touches were written into this
    // builder's arrays (share_output), with its channel and customer ids
    // mapped (empty maps: ids are already this builder's).
    void append_journeys_of(const event_builder& other, const std::vector<channel_id>& channels,
                            const std::vector<std::uint32_t>& customers) {
        const auto& o = other.out_.journeys;
        const auto base = touch_n_;
        if (other.touch_out_ < touch_out_ + base ||
            other.touch_out_ + other.touch_n_ > touch_out_ + touch_cap_)
            throw numerical_error("internal error: parts' touches out of place");
        if (other.touch_out_ != touch_out_ + base) {
            std::memmove(touch_out_ + base, other.touch_out_, other.touch_n_ * sizeof(channel_id));
            if (time_out_)
                std::memmove(time_out_ + base, other.time_out_, other.touch_n_ * sizeof(double));
        }
        if (!channels.empty())
            for (std::size_t i = base; i < base + other.touch_n_; ++i)
                touch_out_[i] = channels[touch_out_[i]];
        touch_n_ += other.touch_n_;
        if (loop_) {
            const auto purchase_base = purchase_values_.size();
            purchase_values_.insert(purchase_values_.end(), other.purchase_values_.begin(),
                                    other.purchase_values_.end());
            for (std::size_t r = 1; r < other.purchase_offsets_.size(); ++r)
                purchase_offsets_.push_back(purchase_base + other.purchase_offsets_[r]);
        }
        jb_.append_rows(o, base, customers);
        add_counts(out_.report, other.out_.report);
    }

    // Runs f(part) for parts 0 and 1 on two threads; rethrows the error of
    // the lowest part.
    template <class F>
    static void in_parallel(event_builder& a, event_builder& b, F&& f) {
        std::exception_ptr error_b;
        std::thread worker([&] {
            try {
                f(b);
            } catch (...) {
                error_b = std::current_exception();
            }
        });
        std::exception_ptr error_a;
        try {
            f(a);
        } catch (...) {
            error_a = std::current_exception();
        }
        worker.join();
        if (error_a) std::rethrow_exception(error_a);
        if (error_b) std::rethrow_exception(error_b);
    }

    // ---- sorted input: one pass -------------------------------------------------
    // Checks, interns and walks rows [begin, end) in one pass. Returns false
    // at the first row out of (customer, time) order.
    template <class T>
    bool one_pass(const column_view<T>& time, std::size_t begin, std::size_t end) {
        walker<T> w;
        std::uint32_t last_customer = 0;
        bool any = false;
        // The common row of a sorted log with integer customers and coded
        // channels: a plain touch of the same customer, later than the last
        // event. It is taken without the general checks; anything else goes
        // through classify() and feed().
        const bool fast = !t_.customer_ids.empty() && t_.customer_valid.empty() &&
                          t_.channel.empty() && !loop_ && !o_.inactivity &&
                          (!std::is_same_v<T, std::int64_t> || t_.time_valid.empty());
        for (std::size_t i = begin; i < end; ++i) {
            bool later = time[i] > w.last_time;
            if constexpr (!std::is_same_v<T, std::int64_t>) later = later && std::isfinite(time[i]);
            if (fast && any && t_.customer_ids[i] == prev_key_ && later) {
                const auto code = t_.channel_codes.integer(i);
                const double conv = t_.conversion.empty() ? 0.0 : t_.conversion[i];
                const double value = t_.value.empty() ? 0.0 : t_.value[i];
                // A missing or zero value only (NaN fails both comparisons).
                if (conv == 0 && !(value < 0 || value > 0) && code >= 0 &&
                    static_cast<std::size_t>(code) < code_ids_.size() &&
                    code_ids_[static_cast<std::size_t>(code)] != no_id) {
                    const event<T> e(time[i], i, code_ids_[static_cast<std::size_t>(code)], false);
                    w.same_time.clear();
                    w.same_time.push_back(e);
                    w.pending.push_back(e);
                    w.last_time = e.time;
                    continue;
                }
            }
            std::uint32_t customer;
            channel_id channel;
            if (!classify(time, i, customer, channel)) continue;
            if (back_again_) return false;
            if (any &&
                (customer < last_customer || (customer == last_customer && time[i] < w.last_time)))
                return false;
            any = true;
            last_customer = customer;
            feed(w, event<T>(time[i], i, channel, converts(i)), customer);
        }
        finish_customer(w);
        return true;
    }

    bool same_customer(std::size_t i, std::size_t j) const {
        if (!t_.customer_ids.empty()) return t_.customer_ids[i] == t_.customer_ids[j];
        return t_.customer_names[i] == t_.customer_names[j];
    }

    // Both parts of sorted input; false if the input is not sorted.
    template <class T>
    bool one_pass_in_parts(const column_view<T>& time) {
        // Split where the customer changes, near the middle.
        std::size_t split = n_ / 2;
        while (split < n_ && same_customer(split - 1, split)) ++split;
        if (split == n_) {
            own_output(n_);
            return one_pass(time, 0, n_) && customers_unique();
        }
        event_builder second(t_, o_, loop_);
        second.n_ = n_;
        second.sequential_ = true;
        second.setup();
        own_output(n_); // the second part writes after the first's rows
        second.share_output(*this, split, n_ - split);
        bool ok[2] = {false, false};
        try {
            in_parallel(*this, second, [&](event_builder& part) {
                const bool first = &part == this;
                ok[first ? 0 : 1] =
                    first ? part.one_pass(time, 0, split) : part.one_pass(time, split, n_);
            });
        } catch (const invalid_input&) {
            // The first part may have stopped early (unsorted): the general
            // path classifies every row and reports the first bad one in row
            // order.
            return false;
        }
        if (!ok[0] || !ok[1]) return false;
        const auto channels = merge_channels(second);
        std::vector<std::uint32_t> customers(second.customers());
        for (std::size_t c = 0; c < customers.size(); ++c)
            customers[c] = static_cast<std::uint32_t>(this->customers() + c);
        const auto& other = second.out_.journeys;
        jb_.customer_ids().insert(jb_.customer_ids().end(), other.customer_ids().begin(),
                                  other.customer_ids().end());
        jb_.customer_names().insert(jb_.customer_names().end(), other.customer_names().begin(),
                                    other.customer_names().end());
        append_journeys_of(second, channels, customers);
        return customers_unique(); // else a customer comes back later: not sorted
    }

    // ---- any input: group by customer, sort each customer's events ---------------
    template <class T>
    void classify_rows(const column_view<T>& time, std::size_t begin, std::size_t end,
                       row_ids& cust, row_ids& chan) {
        for (std::size_t i = begin; i < end; ++i) {
            // Unsorted customers are random lookups: fetch a few rows ahead.
            if (!t_.customer_ids.empty() && i + 16 < end) ids_.prefetch(t_.customer_ids[i + 16]);
            std::uint32_t customer;
            channel_id channel;
            if (classify(time, i, customer, channel)) {
                cust[i] = customer;
                chan[i] = channel;
            } else {
                cust[i] = no_id;
            }
        }
    }

    template <class T>
    void walk_customers(event_vector<T>& events, const std::vector<std::uint32_t>& start,
                        std::size_t first, std::size_t last) {
        walker<T> w;
        auto earlier = [](const event<T>& x, const event<T>& y) {
            return x.time < y.time || (x.time == y.time && x.row() < y.row());
        };
        for (std::size_t c = first; c < last; ++c) {
            const auto b = events.begin() + start[c], e = events.begin() + start[c + 1];
            if (!std::is_sorted(b, e, earlier)) std::sort(b, e, earlier);
            for (auto it = b; it != e; ++it) feed(w, *it, static_cast<std::uint32_t>(c));
        }
        finish_customer(w);
    }

    template <class T>
    void sorted_pass(const column_view<T>& time, bool parallel) {
        // Not initialized: classify_rows writes every row's customer (no_id
        // for a rejected row) and the channel of every accepted row, each
        // part its own rows.
        row_ids cust(n_), chan(n_);
        if (!parallel) {
            classify_rows(time, 0, n_, cust, chan);
        } else {
            const std::size_t split = n_ / 2;
            event_builder second(t_, o_, loop_);
            second.n_ = n_;
            second.setup();
            in_parallel(*this, second, [&](event_builder& part) {
                if (&part == this) part.classify_rows(time, 0, split, cust, chan);
                else part.classify_rows(time, split, n_, cust, chan);
            });
            const auto channels = merge_channels(second);
            bool fresh = true;
            const auto customers = merge_customers(second, fresh);
            for (std::size_t i = split; i < n_; ++i)
                if (cust[i] != no_id) {
                    cust[i] = customers[cust[i]];
                    if (chan[i] != no_id) chan[i] = channels[chan[i]];
                }
            add_counts(out_.report, second.out_.report);
        }
        const std::size_t count = customers();
        std::vector<std::uint32_t> start(count + 1, 0);
        for (std::size_t i = 0; i < n_; ++i)
            if (cust[i] != no_id) ++start[cust[i] + 1];
        for (std::size_t c = 0; c < count; ++c) start[c + 1] += start[c];
        event_vector<T> events(start[count]); // every slot is written by scatter
        std::vector<std::uint32_t> next(start.begin(), start.end() - 1);
        // Rows of customers [first, last) to their places, by customer.
        auto scatter = [&](std::size_t first, std::size_t last) {
            for (std::size_t i = 0; i < n_; ++i) {
                const auto c = cust[i];
                if (c != no_id && c >= first && c < last)
                    events[next[c]++] = event<T>(time[i], i, chan[i], converts(i));
            }
        };
        if (!parallel) {
            scatter(0, count);
            cust = {};
            chan = {};
            own_output(events.size());
            walk_customers(events, start, 0, count);
            return;
        }
        // Customers split by event count; each half is placed, sorted and
        // walked on its own thread, the second half with this builder's ids,
        // and appended.
        const auto half = events.size() / 2;
        const std::size_t split = static_cast<std::size_t>(
            std::upper_bound(start.begin(), start.end(), half) - start.begin() - 1);
        event_builder second(t_, o_, loop_);
        second.n_ = n_;
        second.setup();
        // Both parts interned the purchase marker first: the same id.
        if (second.purchase_ != purchase_)
            throw numerical_error("internal error: the parts' purchase markers differ");
        own_output(events.size());
        second.share_output(*this, start[split], events.size() - start[split]);
        in_parallel(*this, second, [&](event_builder& part) {
            const bool first = &part == this;
            if (first) scatter(0, split);
            else scatter(split, count);
            if (first) part.walk_customers(events, start, 0, split);
            else part.walk_customers(events, start, split, count);
        });
        cust = {};
        chan = {};
        append_journeys_of(second, {}, {});
    }

    void reset() {
        out_ = event_journeys{};
        purchase_values_.clear();
        purchase_offsets_.clear();
        code_ids_.clear();
        ids_ = id_interner{};
        names_ = channel_dictionary{};
        have_prev_ = false;
        back_again_ = false;
        recent_next_ = 0;
        touch_out_ = nullptr;
        time_out_ = nullptr;
        touch_n_ = touch_cap_ = 0;
    }

    template <class T>
    event_journeys run_with(const column_view<T>& time) {
        // Two threads from 200,000 rows (and where the machine has two).
        const bool parallel =
            o_.threads != 1 && n_ >= 200000 && (o_.threads > 1 || detail::stage_threads(2) > 1);
        setup();
        sequential_ = true;
        bool sorted = false;
        if (parallel) {
            sorted = one_pass_in_parts(time);
        } else {
            own_output(n_);
            sorted = one_pass(time, 0, n_) && customers_unique();
        }
        if (!sorted) {
            reset();
            sequential_ = false;
            setup();
            sorted_pass(time, parallel);
        }
        finish_output();
        out_.report.rows_read = n_;
        out_.report.sorted_input = sorted;
        out_.report.customers = customers();
        return std::move(out_);
    }

    const event_table& t_;
    const event_options& o_;
    const bool loop_;
    // Loop histories: the marker's id, and the value of each purchase with
    // the offsets of the rows into them.
    channel_id purchase_ = 0;
    std::vector<double> purchase_values_;
    std::vector<std::size_t> purchase_offsets_;
    std::size_t n_ = 0;
    event_journeys out_;
    // The writer of out_.journeys (the builder never moves: parts are
    // built in place).
    journey_set::builder jb_{out_.journeys};
    std::vector<std::uint32_t> code_ids_;
    std::string why_;
    id_interner ids_;
    channel_dictionary names_;
    bool have_prev_ = false;
    bool sequential_ = false;
    bool back_again_ = false;
    // The last customers seen in sequential mode (the first recent_next_
    // entries are filled).
    std::array<std::int64_t, 16> recent_ids_{};
    std::array<std::string_view, 16> recent_names_{};
    std::size_t recent_next_ = 0;
    std::int64_t prev_key_ = 0;
    std::string_view prev_name_;
    std::uint32_t prev_customer_ = 0;
    // Touch output (own_output, share_output).
    channel_id* touch_out_ = nullptr;
    double* time_out_ = nullptr;
    std::size_t touch_n_ = 0, touch_cap_ = 0;
};

} // namespace detail

JOURNEYLOOP_IMPL_INLINE const std::vector<event_report_field>& event_report_fields() {
    using r = event_report;
    auto count = [](const char* name, const char* description, std::size_t r::*member,
                    bool rejection = false) {
        event_report_field f{name, description};
        f.count = member;
        f.rejection = rejection;
        return f;
    };
    auto amount = [](const char* name, const char* description, double r::*member) {
        event_report_field f{name, description};
        f.amount = member;
        return f;
    };
    event_report_field sorted{"sorted_input",
                              "whether the rows were already in (customer, time) order"};
    sorted.flag = &r::sorted_input;
    static const std::vector<event_report_field> fields{
        count("rows_read", "rows in the input", &r::rows_read),
        count("rows_used", "rows that are a touch or a conversion of a built journey",
              &r::rows_used),
        count("null_customer", "rows rejected: a missing customer", &r::null_customer, true),
        count("null_time", "rows rejected: a missing time (NaT or NaN)", &r::null_time, true),
        count("null_channel", "rows rejected: no channel on a row that is not a conversion",
              &r::null_channel, true),
        count("bad_conversion",
              "rows rejected: a conversion count that is missing, negative or infinite",
              &r::bad_conversion, true),
        count("duplicate", "rows rejected: a duplicate dropped (duplicates=drop)", &r::duplicate,
              true),
        count("duplicates_found",
              "duplicate events (same customer, time, channel and conversion), dropped or kept",
              &r::duplicates_found),
        count("bad_value",
              "conversion rows kept with their value missing, negative or infinite (taken as 0)",
              &r::bad_value),
        count("value_without_conversion",
              "touch rows kept with a value other than 0 or missing (the value is ignored)",
              &r::value_without_conversion),
        count("outside_lookback", "touches dropped by the lookback window", &r::outside_lookback),
        count("conversions_without_touch",
              "conversion rows left with no touch to credit (no channel of their own and no "
              "touch before them, or none within the window)",
              &r::conversions_without_touch),
        amount("unattributed_conversions", "the conversions of those rows",
               &r::unattributed_conversions),
        amount("unattributed_value", "the value of those rows", &r::unattributed_value),
        count("customers", "customers built", &r::customers),
        count("journeys", "journeys (histories, in loop form) built", &r::journeys),
        count("converting_journeys", "journeys that end in a conversion", &r::converting_journeys),
        count("non_converting_journeys", "journeys that do not", &r::non_converting_journeys),
        amount("conversions", "conversions (purchases, in loop form) in the journeys",
               &r::conversions),
        amount("value", "value in the journeys", &r::value),
        sorted,
    };
    return fields;
}

JOURNEYLOOP_IMPL_NAMESPACE(events_totals_1) {
// Conversions or values that add up past the largest double (each finite on
// its own row) are refused, as in path tables: an infinite total in the
// report, or in the journeys, would turn every share into NaN.
JOURNEYLOOP_IMPL_INLINE void check_totals(const event_report& r, const event_options& options) {
    const bool conversions =
        !std::isfinite(r.conversions) || !std::isfinite(r.unattributed_conversions);
    const bool value = !std::isfinite(r.value) || !std::isfinite(r.unattributed_value);
    if (!conversions && !value) return;
    throw invalid_input("column '" +
                        (conversions ? options.conversion_column : options.value_column) +
                        "': the event log's total passes the largest number a double holds "
                        "(about 1.8e308); scale the column down");
}
} // JOURNEYLOOP_IMPL_NAMESPACE(events_totals_1)

JOURNEYLOOP_IMPL_INLINE event_journeys build_journeys(const event_table& events,
                                                      const event_options& options) {
    auto built = detail::event_builder(events, options, false).run();
    check_totals(built.report, options);
    return built;
}

JOURNEYLOOP_IMPL_INLINE event_histories build_loop_histories(const event_table& events,
                                                             const event_options& options) {
    detail::event_builder builder(events, options, true);
    auto built = builder.run();
    check_totals(built.report, options);
    return {builder.histories(std::move(built.journeys)), built.report};
}

} // namespace journeyloop

#endif // JOURNEYLOOP_IMPL_EVENTS_IPP
