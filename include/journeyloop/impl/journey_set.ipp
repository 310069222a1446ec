// Journeys from path tables and CSV files.
#ifndef JOURNEYLOOP_IMPL_JOURNEY_SET_IPP
#define JOURNEYLOOP_IMPL_JOURNEY_SET_IPP

#include <journeyloop/config.hpp>
#include <journeyloop/journey_set.hpp>
#include <journeyloop/threads.hpp>

#include <journeyloop/impl/journey_set_builder.hpp>
#include <journeyloop/impl/text.hpp>

#include <algorithm>
#include <atomic>
#include <array>
#include <cfloat>
#include <memory>
#include <cerrno>
#include <exception>
#include <functional>
#include <limits>
#include <thread>
#include <cstring>
#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#endif
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace journeyloop {

using detail::number_text;
using detail::trim;

JOURNEYLOOP_IMPL_NAMESPACE(journey_set_1) {
// Channel names are short: hash them 8 bytes at a time (a multiply-xorshift
// mix per word), which took the hash out of the parsing profile.
JOURNEYLOOP_IMPL_INLINE std::uint64_t hash_name(std::string_view s) noexcept {
    std::uint64_t h = 0x9E3779B97F4A7C15ull ^ s.size();
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
        std::uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
        h ^= h >> 31;
    }
    std::uint64_t w = 0;
    std::memcpy(&w, s.data() + i, s.size() - i);
    h = (h ^ w) * 0x94D049BB133111EBull;
    return h ^ (h >> 29);
}
} // JOURNEYLOOP_IMPL_NAMESPACE(journey_set_1)

JOURNEYLOOP_IMPL_INLINE std::size_t channel_dictionary::slot_of(
    std::string_view name) const noexcept {
    // Linear probing; the table is never more than half full.
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = static_cast<std::size_t>(hash_name(name)) & mask;
    while (slots_[i] != 0 && names_[slots_[i] - 1] != name) i = (i + 1) & mask;
    return i;
}

JOURNEYLOOP_IMPL_INLINE void channel_dictionary::grow() {
    std::vector<channel_id> old;
    old.swap(slots_);
    std::size_t capacity = old.empty() ? 64 : old.size() * 2;
    while (capacity < 2 * names_.size() + 2) capacity *= 2;
    slots_.assign(capacity, 0);
    for (std::size_t id = 0; id < names_.size(); ++id)
        slots_[slot_of(names_[id])] = static_cast<channel_id>(id + 1);
}

JOURNEYLOOP_IMPL_INLINE channel_id channel_dictionary::intern(std::string_view name) {
    if (slots_.empty()) grow();
    auto i = slot_of(name);
    if (slots_[i] != 0) return slots_[i] - 1;
    const auto id = static_cast<channel_id>(names_.size());
    names_.emplace_back(name);
    slots_[i] = id + 1;
    if (names_.size() * 2 > slots_.size()) grow();
    return id;
}

JOURNEYLOOP_IMPL_INLINE std::optional<channel_id> channel_dictionary::find(
    std::string_view name) const {
    if (slots_.empty()) return std::nullopt;
    const auto i = slot_of(name);
    if (slots_[i] == 0) return std::nullopt;
    return slots_[i] - 1;
}

JOURNEYLOOP_IMPL_INLINE channel_id channel_dictionary::at(std::string_view name) const {
    if (auto id = find(name)) return *id;
    throw unknown_channel("unknown channel '" + std::string(name) + "'");
}

JOURNEYLOOP_IMPL_NAMESPACE(journey_set_2) {

JOURNEYLOOP_IMPL_INLINE void check_count(double x, std::size_t row, const char* what,
                                         std::string_view column) {
    // What to do, said once for the three cases: the row is not guessed at.
    constexpr const char* fix = " (counts and values are finite numbers >= 0: fix or drop the row)";
    if (std::isnan(x))
        throw invalid_input(detail::make_message(row, column, std::string(what) + " is NaN" + fix));
    if (!std::isfinite(x))
        throw invalid_input(
            detail::make_message(row, column, std::string(what) + " is infinite" + fix));
    if (x < 0)
        throw invalid_input(detail::make_message(
            row, column, "negative " + std::string(what) + " " + number_text(x) + fix));
}

JOURNEYLOOP_IMPL_INLINE void check_counts(double conversions, double nulls, double value,
                                          std::size_t row) {
    // add() has no column names; build_journeys() checks with the real names
    // first, so these defaults only show for direct callers of add().
    check_count(conversions, row, "conversions", "conversions");
    check_count(nulls, row, "nulls", "nulls");
    check_count(value, row, "value", "value");
    if (value > 0 && conversions == 0)
        throw invalid_input(detail::make_message(
            row, "value", "value " + number_text(value) + " on a row without conversions"));
}

} // JOURNEYLOOP_IMPL_NAMESPACE(journey_set_2)

JOURNEYLOOP_IMPL_INLINE void journey_set::builder::check_appendable() const {
    if (js_.has_times_ || js_.has_customers())
        throw invalid_input(
            "rows cannot be added to journeys built from events (they carry times and "
            "customers); build a new journey set");
}

JOURNEYLOOP_IMPL_INLINE void journey_set::builder::add_ids(column_view<channel_id> path,
                                                           double conversions, double nulls,
                                                           double value, std::size_t row) {
    check_appendable();
    if (path.empty())
        throw invalid_input(detail::make_message(
            row, "path", "empty path: give the row at least one channel, or drop it"));
    for (auto id : path)
        if (id >= js_.channels_.size())
            throw unknown_channel("row " + std::to_string(row) + ": unknown channel id " +
                                  std::to_string(id));
    check_counts(conversions, nulls, value, row);
    check_touches(js_.touches_.size() + path.size()); // before anything changes
    js_.order1_.reset();                              // rows added one at a time are not gathered
    js_.touches_.insert(js_.touches_.end(), path.begin(), path.end());
    end_row_at(js_.touches_.size(), conversions, nulls, value);
}

JOURNEYLOOP_IMPL_INLINE void journey_set::add_ids(column_view<channel_id> path, double conversions,
                                                  double nulls, double value, std::size_t row) {
    builder{*this}.add_ids(path, conversions, nulls, value, row);
}

JOURNEYLOOP_IMPL_INLINE void detail::order1_sums::widen(std::size_t channels) {
    const std::size_t wide = channels + 1;
    if (wide <= stride) return;
    std::vector<double> next(wide * wide, 0.0);
    for (std::size_t a = 0; a < stride; ++a)
        std::copy(cells.begin() + long(a * stride), cells.begin() + long((a + 1) * stride),
                  next.begin() + long(a * wide));
    cells.swap(next);
    for (auto* v : {&conv_at, &nulls_at, &value_at}) v->resize(wide, 0.0);
    stride = wide;
}

JOURNEYLOOP_IMPL_NAMESPACE(journey_set_3) {
JOURNEYLOOP_IMPL_INLINE std::atomic<std::size_t> touch_limit{journey_set::max_touches};
} // JOURNEYLOOP_IMPL_NAMESPACE(journey_set_3)

JOURNEYLOOP_IMPL_INLINE void detail::set_touch_limit(std::size_t limit) noexcept {
    touch_limit.store(limit == 0 ? journey_set::max_touches
                                 : std::min(limit, journey_set::max_touches),
                      std::memory_order_relaxed);
}

JOURNEYLOOP_IMPL_INLINE void journey_set::check_touches(std::size_t touches) {
    const std::size_t limit = touch_limit.load(std::memory_order_relaxed);
    if (touches > limit)
        throw invalid_input("more than " + std::to_string(limit) +
                            " touches in one set of journeys: build the journeys in parts and "
                            "merge their transition counts");
}

JOURNEYLOOP_IMPL_INLINE void journey_set::builder::end_row_at(std::size_t end, double conversions,
                                                              double nulls, double value) {
    check_touches(end);
    js_.offsets_.push_back(static_cast<std::uint32_t>(end));
    js_.conversions_.push_back(conversions);
    js_.nulls_.push_back(nulls);
    js_.values_.push_back(value);
    js_.total_conversions_ += conversions;
    js_.total_nulls_ += nulls;
    js_.total_value_ += value;
    // Rows built one at a time (events, loop histories) keep the same rule as
    // path tables: an infinite total is refused.
    if (!std::isfinite(js_.total_conversions_) || !std::isfinite(js_.total_nulls_) ||
        !std::isfinite(js_.total_value_))
        throw invalid_input(
            std::string("journey ") + std::to_string(js_.conversions_.size() - 1) + ": the " +
            (!std::isfinite(js_.total_conversions_) ? "conversions"
             : !std::isfinite(js_.total_nulls_)     ? "nulls"
                                                    : "values") +
            " add up past the largest number a double holds (about 1.8e308); scale them down");
}

JOURNEYLOOP_IMPL_INLINE void journey_set::builder::add_totals(double conversions, double nulls,
                                                              double value) {
    js_.total_conversions_ += conversions;
    js_.total_nulls_ += nulls;
    js_.total_value_ += value;
    if (!std::isfinite(js_.total_conversions_) || !std::isfinite(js_.total_nulls_) ||
        !std::isfinite(js_.total_value_))
        throw invalid_input(
            std::string("the ") +
            (!std::isfinite(js_.total_conversions_) ? "conversions"
             : !std::isfinite(js_.total_nulls_)     ? "nulls"
                                                    : "values") +
            " of the journeys add up past the largest number a double holds (about 1.8e308); "
            "scale them down");
}

JOURNEYLOOP_IMPL_INLINE void journey_set::builder::append_rows(
    const journey_set& part, std::size_t base, const std::vector<std::uint32_t>& customers) {
    // The part's touches were written in place (its own touch array may be
    // empty): its last row's end is its number of touches.
    check_touches(base + part.offsets_.back());
    for (std::size_t r = 1; r < part.offsets_.size(); ++r)
        js_.offsets_.push_back(static_cast<std::uint32_t>(base + part.offsets_[r]));
    js_.conversions_.insert(js_.conversions_.end(), part.conversions_.begin(),
                            part.conversions_.end());
    js_.nulls_.insert(js_.nulls_.end(), part.nulls_.begin(), part.nulls_.end());
    js_.values_.insert(js_.values_.end(), part.values_.begin(), part.values_.end());
    if (customers.empty())
        js_.row_customer_.insert(js_.row_customer_.end(), part.row_customer_.begin(),
                                 part.row_customer_.end());
    else
        for (auto c : part.row_customer_) js_.row_customer_.push_back(customers[c]);
    js_.total_conversions_ += part.total_conversions_;
    js_.total_nulls_ += part.total_nulls_;
    js_.total_value_ += part.total_value_;
}

JOURNEYLOOP_IMPL_INLINE void journey_set::builder::replace_channels(
    channel_dictionary channels, const std::vector<channel_id>& remap) {
    js_.order1_.reset(); // in the old channels' ids
    js_.channels_ = std::move(channels);
    for (auto& c : js_.touches_) c = remap[c];
}

JOURNEYLOOP_IMPL_INLINE void journey_set::add(column_view<std::string_view> path,
                                              double conversions, double nulls, double value,
                                              std::size_t row) {
    builder{*this}.add(path, conversions, nulls, value, row);
}

JOURNEYLOOP_IMPL_INLINE void journey_set::builder::add(column_view<std::string_view> path,
                                                       double conversions, double nulls,
                                                       double value, std::size_t row) {
    check_appendable();
    if (path.empty())
        throw invalid_input(detail::make_message(
            row, "path", "empty path: give the row at least one channel, or drop it"));
    for (auto name : path)
        if (trim(name).empty())
            throw invalid_input(detail::make_message(row, "path", "empty channel name"));
    check_counts(conversions, nulls, value, row);
    check_touches(js_.touches_.size() + path.size()); // before the names are interned
    std::vector<channel_id> ids;
    ids.reserve(path.size());
    for (auto name : path) ids.push_back(js_.channels_.intern(trim(name)));
    add_ids(ids, conversions, nulls, value, row);
}

JOURNEYLOOP_IMPL_NAMESPACE(journey_set_4) {

// Rows [begin, end) of a path table parsed on their own, with channel ids of
// a local dictionary (so that parts can be parsed on separate threads),
// straight into their place in the journeys' arrays.
struct parsed_part {
    std::size_t begin = 0, end = 0;
    std::size_t tokens = 0;           ///< touches of the part (from the separators)
    std::size_t base = 0;             ///< index of its first touch in the output
    channel_id* touches = nullptr;    ///< where its touches go
    std::uint32_t* offsets = nullptr; ///< where its rows' end offsets go
    double* conversions = nullptr;    ///< where its rows' counts and values go
    double* nulls = nullptr;
    double* values = nullptr;
    channel_dictionary channels;
    bool gather = false;      ///< gather order-1 sums (local channel ids)
    detail::order1_sums sums; ///< in the part's local channel ids
    std::exception_ptr error;
};

// Whether the first byte in memory is the low byte of a word (the word
// lookups below rely on it; elsewhere they read byte by byte).
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
constexpr bool little_endian = true;
#elif defined(_WIN32)
constexpr bool little_endian = true;
#else
constexpr bool little_endian = false;
#endif

// Channel names of at most 8 bytes (the usual case) are looked up by their
// bytes as one word in a small direct-mapped cache in front of the
// dictionary: no hashing of the string and no string comparison.
class short_name_cache {
public:
    explicit short_name_cache(channel_dictionary& dictionary) : dictionary_(dictionary) {}

    /// `readable`: at least 8 bytes can be read from name.data().
    channel_id intern(std::string_view name, bool readable) {
        if (name.size() > 8) return dictionary_.intern(name);
        std::uint64_t word = 0;
        if (readable && little_endian) {
            std::memcpy(&word, name.data(), 8);
            if (name.size() < 8) word &= (std::uint64_t{1} << (8 * name.size())) - 1;
        } else {
            for (std::size_t i = 0; i < name.size(); ++i)
                word |= std::uint64_t{static_cast<unsigned char>(name[i])} << (8 * i);
        }
        const std::uint64_t key = word ^ (std::uint64_t{name.size()} << 59);
        auto& slot = slots_[(key * 0x9E3779B97F4A7C15ull) >> (64 - bits)];
        if (slot.used && slot.word == word && slot.size == name.size()) return slot.id;
        const auto id = dictionary_.intern(name);
        slot = {word, static_cast<std::uint32_t>(name.size()), id, true};
        return id;
    }

private:
    static constexpr int bits = 10;
    struct entry {
        std::uint64_t word = 0;
        std::uint32_t size = 0;
        channel_id id = 0;
        bool used = false;
    };
    channel_dictionary& dictionary_;
    std::array<entry, std::size_t{1} << bits> slots_{};
};

// A token of 1 to 7 bytes as it stands between two separators (blanks
// included) is looked up by its bytes and length, packed in one word, in a
// direct-mapped cache in front of the dictionary: one load finds both the
// token and the next separator (the word has the separator's byte where it
// ends), and a hit needs no trim, hash of the string or string comparison.
class raw_token_cache {
public:
    /// The key of the `len` (1 to 7) first bytes of `word`.
    static std::uint64_t key(std::uint64_t word, std::size_t len) noexcept {
        return (word & ((std::uint64_t{1} << (8 * len)) - 1)) | (std::uint64_t{len} << 56);
    }
    /// The id of `key`, or -1 when it is not cached.
    std::int64_t find(std::uint64_t key) const noexcept {
        const auto& e = slots_[slot(key)];
        return e.key == key ? std::int64_t{e.id} : -1;
    }
    void put(std::uint64_t key, channel_id id) noexcept { slots_[slot(key)] = {key, id}; }

private:
    static constexpr int bits = 12;
    static std::size_t slot(std::uint64_t key) noexcept {
        return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> (64 - bits));
    }
    struct entry {
        std::uint64_t key = 0; ///< 0: empty (a key has a length of at least 1)
        channel_id id = 0;
    };
    std::array<entry, std::size_t{1} << bits> slots_{};
};

#if defined(__SSE2__) || defined(_M_X64)
constexpr bool have_separator_mask = true;
// Bit i set where p[i] == sep, for the 64 bytes from p.
inline std::uint64_t separator_mask(const char* p, char sep) noexcept {
    const __m128i s = _mm_set1_epi8(sep);
    std::uint64_t m = 0;
    for (int i = 0; i < 4; ++i) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
        m |= std::uint64_t{static_cast<std::uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, s)))}
             << (16 * i);
    }
    return m;
}
#else
constexpr bool have_separator_mask = false;
inline std::uint64_t separator_mask(const char*, char) noexcept { return 0; }
#endif

// Index of the lowest set bit (x != 0).
inline unsigned lowest_bit(std::uint64_t x) noexcept {
#if defined(__GNUC__) || defined(__clang__)
    return static_cast<unsigned>(__builtin_ctzll(x));
#else
    unsigned i = 0;
    while ((x & 1) == 0) {
        x >>= 1;
        ++i;
    }
    return i;
#endif
}

// Number of touches of rows [begin, end): separators plus one per row (a
// row with an empty token fails when it is parsed).
JOURNEYLOOP_IMPL_INLINE void count_tokens(const path_table& table, std::string_view sep,
                                          parsed_part& part) noexcept {
    std::size_t tokens = 0;
    if (sep.size() == 1) {
        // Rows are usually contiguous (Arrow): count over runs of rows.
        const char c = sep[0];
        auto count = [c](const char* p, const char* e) {
            std::size_t k = 0;
#if defined(__SSE2__) || defined(_M_X64)
            // 16 bytes at a time: each lane of acc counts its matches (at
            // most 255 before the lanes are summed).
            const __m128i s = _mm_set1_epi8(c), zero = _mm_setzero_si128();
            while (e - p >= 16) {
                __m128i acc = zero;
                for (int i = 0; i < 255 && e - p >= 16; ++i, p += 16)
                    acc = _mm_sub_epi8(
                        acc,
                        _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), s));
                const __m128i sums = _mm_sad_epu8(acc, zero);
                k += static_cast<std::size_t>(_mm_cvtsi128_si32(sums)) +
                     static_cast<std::size_t>(_mm_cvtsi128_si32(_mm_unpackhi_epi64(sums, sums)));
            }
#endif
            for (; p != e; ++p) k += *p == c;
            return k;
        };
        const char* run = nullptr;
        const char* run_end = nullptr;
        for (std::size_t i = part.begin; i < part.end; ++i) {
            const auto path = table.path[i];
            if (path.data() != run_end || run == nullptr) {
                if (run != nullptr) tokens += count(run, run_end);
                run = path.data();
            }
            run_end = path.data() + path.size();
        }
        if (run != nullptr) tokens += count(run, run_end);
        part.tokens = tokens + (part.end - part.begin);
        return;
    }
    for (std::size_t i = part.begin; i < part.end; ++i) {
        const auto path = table.path[i];
        ++tokens;
        for (auto at = path.find(sep); at != std::string_view::npos;
             at = path.find(sep, at + sep.size()))
            ++tokens;
    }
    part.tokens = tokens;
}

// The part's order-1 sums, gathered touch by touch as each id is found
// (no second pass over the row): the transition into channel s adds the
// row's weight to cell (prev, s), a repeat adds 0 to the diagonal instead of
// branching (as order1_sums::add_row). A row of weight 0 adds zeros, which
// change no sum. Past order1_sums_max_channels channels the part stops
// gathering: stride_ is then 0, so the bound check that guards every add
// leads to the flag, and a part that no longer gathers pays a compare and a
// load per touch.
class order1_gatherer {
public:
    explicit order1_gatherer(parsed_part& part) noexcept : part_(part) {
        if (part_.gather) refresh();
    }
    void start_row(double weight) noexcept {
        add_[0] = weight;
        prev_ = 0;
    }
    void touch(channel_id id) {
        const std::size_t s = std::size_t{id} + 1;
        // A part that does not gather (more channels) stops here, without a call.
        if (s >= stride_ && (!part_.gather || !widen(s))) return;
        cell_[prev_ * stride_ + s] += add_[s == prev_];
        prev_ = s;
    }
    void end_row(double conv, double nulls, double value) noexcept {
        if (stride_ == 0) return;
        auto& sums = part_.sums;
        sums.conv_at[prev_] += conv;
        sums.nulls_at[prev_] += nulls;
        sums.value_at[prev_] += value;
    }

private:
    void refresh() noexcept {
        stride_ = part_.sums.stride;
        cell_ = part_.sums.cells.data();
    }
    // Room for channel s - 1 (all the part's channels); false when the part
    // does not (or no longer) gather.
    bool widen(std::size_t s) {
        if (!part_.gather) return false;
        const std::size_t channels = part_.channels.size();
        if (channels > detail::order1_sums_max_channels) {
            part_.gather = false;
            part_.sums = detail::order1_sums{};
            stride_ = 0;
            cell_ = nullptr;
            return false;
        }
        auto& sums = part_.sums;
        sums.widen(std::max({channels, s, 2 * sums.stride - 1}));
        refresh();
        return true;
    }

    parsed_part& part_;
    double* cell_ = nullptr;
    std::size_t stride_ = 0;
    std::size_t prev_ = 0;
    double add_[2] = {0.0, 0.0};
};

JOURNEYLOOP_IMPL_INLINE void parse_part(const path_table& table, const path_options& options,
                                        std::size_t first_row, parsed_part& part) noexcept {
    try {
        const std::string_view sep = options.separator;
        const bool single = sep.size() == 1;
        auto cache = std::make_unique<short_name_cache>(part.channels);
        // Separator masks and token words: a single-byte separator, SSE2,
        // a little-endian machine.
        const bool masks = single && have_separator_mask && little_endian;
        auto raw = std::make_unique<raw_token_cache>();
        auto empty_name = [&options](std::size_t row, std::string_view path) {
            throw invalid_input(detail::make_message(
                row, options.path_column, "empty channel name in '" + std::string(path) + "'"));
        };
        const char* const readable_end = table.path.characters_end();
        channel_id* out = part.touches;
        std::size_t written = 0;
        order1_gatherer order1(part);
        // Every touch goes through here: its id stored and its transition
        // gathered.
        auto add_touch = [&](channel_id id) {
            out[written++] = id;
            order1.touch(id);
        };
        for (std::size_t i = part.begin; i < part.end; ++i) {
            const std::size_t row = first_row + i;
            const double conv = table.conversions[i];
            const double nulls = table.nulls.empty() ? 0.0 : table.nulls[i];
            const double value = table.value.empty() ? 0.0 : table.value[i];
            if (!(conv >= 0 && nulls >= 0 && value >= 0 && conv <= DBL_MAX && nulls <= DBL_MAX &&
                  value <= DBL_MAX)) {
                check_count(conv, row, "count", options.conversions_column);
                check_count(nulls, row, "count", options.nulls_column);
                check_count(value, row, "value", options.value_column);
            }
            if (value > 0 && conv == 0)
                throw invalid_input(detail::make_message(row, options.value_column,
                                                         "value " + number_text(value) +
                                                             " on a row without conversions"));
            if (table.path.is_null(i))
                throw invalid_input(
                    detail::make_message(row, options.path_column,
                                         "missing path (null): give the row a path, or drop it"));
            const std::string_view path = table.path[i];
            if (trim(path).empty())
                throw invalid_input(detail::make_message(
                    row, options.path_column,
                    "empty path: give the row at least one channel, or drop it"));
            order1.start_row(conv + nulls);
            const char* p = path.data();
            const char* const end = p + path.size();
            if (masks) {
                // The separators of 64 bytes at a time as a bit mask; each
                // token then is the gap between two set bits, so finding one
                // does not wait for the one before.
                const std::size_t n = path.size();
                // 8 (64) bytes can be read from q while q + 8 (64) <= safe.
                const char* const safe = readable_end != nullptr ? readable_end : end;
                auto emit = [&](std::size_t start, std::size_t len) {
                    const char* t = p + start;
                    if (len - 1 < 7) {
                        std::uint64_t w = 0;
                        if (safe - t >= 8) std::memcpy(&w, t, 8);
                        else std::memcpy(&w, t, len);
                        const auto k = raw_token_cache::key(w, len);
                        auto id = raw->find(k);
                        if (id < 0) {
                            const auto name = trim(std::string_view(t, len));
                            if (name.empty()) empty_name(row, path);
                            id = part.channels.intern(name);
                            raw->put(k, static_cast<channel_id>(id));
                        }
                        add_touch(static_cast<channel_id>(id));
                        return;
                    }
                    const auto name = trim(std::string_view(t, len));
                    if (name.empty()) empty_name(row, path);
                    add_touch(cache->intern(name, end - name.data() >= 8));
                };
                std::size_t start = 0;
                for (std::size_t off = 0;; off += 64) {
                    const std::size_t left = n - off;
                    std::uint64_t m;
                    if (safe - (p + off) >= 64) {
                        m = separator_mask(p + off, sep[0]);
                    } else {
                        char buf[64] = {};
                        std::memcpy(buf, p + off, left < 64 ? left : 64);
                        m = separator_mask(buf, sep[0]);
                    }
                    // A select, not a branch: whether a row ends within
                    // these 64 bytes is data.
                    m &= left >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << left) - 1;
                    while (m != 0) {
                        const std::size_t at = off + lowest_bit(m);
                        m &= m - 1;
                        emit(start, at - start);
                        start = at + 1;
                    }
                    if (left <= 64) break;
                }
                emit(start, n - start);
            } else
                while (true) {
                    // One token: [p, next), then trimmed.
                    const char* next;
                    if (single) {
                        // Tokens are short: a plain scan beats a memchr call per token.
                        next = p;
                        while (next != end && *next != sep[0]) ++next;
                    } else {
                        const auto at = path.find(sep, static_cast<std::size_t>(p - path.data()));
                        next = at == std::string_view::npos ? end : path.data() + at;
                    }
                    const char* a = p;
                    const char* b = next;
                    while (a != b && detail::blank(*a)) ++a;
                    while (b != a && detail::blank(b[-1])) --b;
                    if (a == b) empty_name(row, path);
                    add_touch(cache->intern(std::string_view(a, std::size_t(b - a)), end - a >= 8));
                    if (next == end) break;
                    p = next + sep.size();
                }
            if (conv + nulls != 0) order1.end_row(conv, nulls, value);
            part.offsets[i - part.begin] = static_cast<std::uint32_t>(part.base + written);
            part.conversions[i - part.begin] = conv;
            part.nulls[i - part.begin] = nulls;
            part.values[i - part.begin] = value;
        }
    } catch (...) {
        part.error = std::current_exception();
    }
}

// Room for `extra` more elements, growing geometrically: a table appended in
// many chunks (one call per Arrow chunk) then copies each element a bounded
// number of times, not once per later chunk.
template <class V>
void reserve_more(V& v, std::size_t extra) {
    const auto need = v.size() + extra;
    if (need > v.capacity()) v.reserve(std::max(need, 2 * v.capacity()));
}

// Whether a part's local channel ids are the journeys' ids.
JOURNEYLOOP_IMPL_INLINE bool identity_map(const std::vector<channel_id>& to_global) noexcept {
    for (std::size_t id = 0; id < to_global.size(); ++id)
        if (to_global[id] != id) return false;
    return true;
}

// Maps a part's local channel ids to the journeys' ids, in place.
JOURNEYLOOP_IMPL_INLINE void map_touches(const parsed_part& part,
                                         const std::vector<channel_id>& to_global) noexcept {
    if (identity_map(to_global)) return;
    for (std::size_t k = 0; k < part.tokens; ++k) part.touches[k] = to_global[part.touches[k]];
}

} // JOURNEYLOOP_IMPL_NAMESPACE(journey_set_4)

JOURNEYLOOP_IMPL_INLINE void journey_set::builder::reserve(std::size_t rows, std::size_t touches) {
    js_.offsets_.reserve(js_.offsets_.size() + rows);
    js_.conversions_.reserve(js_.conversions_.size() + rows);
    js_.nulls_.reserve(js_.nulls_.size() + rows);
    js_.values_.reserve(js_.values_.size() + rows);
    js_.touches_.reserve(js_.touches_.size() + touches);
}

JOURNEYLOOP_IMPL_INLINE void journey_set::reserve(std::size_t rows, std::size_t touches) {
    builder{*this}.reserve(rows, touches);
}

JOURNEYLOOP_IMPL_INLINE void append_journeys(journey_set& journeys, const path_table& table,
                                             const path_options& options, std::size_t first_row) {
    journey_set::builder{journeys}.append(table, options, first_row);
}

JOURNEYLOOP_IMPL_INLINE void journey_set::builder::append(const path_table& table,
                                                          const path_options& options,
                                                          std::size_t first_row) {
    check_appendable();
    const auto n = table.path.size();
    auto check_length = [&](const numeric_column_view& col, const std::string& name,
                            bool required) {
        if ((required || !col.empty()) && col.size() != n)
            throw invalid_input("column '" + name + "' has " + std::to_string(col.size()) +
                                " rows, column '" + options.path_column + "' has " +
                                std::to_string(n));
    };
    check_length(table.conversions, options.conversions_column, true);
    check_length(table.nulls, options.nulls_column, false);
    check_length(table.value, options.value_column, false);
    if (options.separator.empty())
        throw invalid_input("sep: the path separator is empty; give one, such as '>'");

    // Large tables are parsed in parts on several threads: the parts first
    // count their touches (so every part knows where its touches go), then
    // parse into place with their own channel dictionaries. On a bad row
    // the journeys are cut back to what they were; the first bad row (lowest
    // part) is the one reported.
    std::size_t threads = options.threads;
    if (threads == 0) threads = detail::stage_threads(std::numeric_limits<std::size_t>::max());
    threads = std::min(threads, std::max<std::size_t>(1, n / 20000));
    std::vector<parsed_part> parts(threads);
    // Order-1 sums are gathered for a set built from path tables only.
    const bool gather = js_.order1_ != nullptr || (js_.empty() && js_.touches_.empty());
    for (std::size_t t = 0; t < threads; ++t) {
        parts[t].begin = n * t / threads;
        parts[t].end = n * (t + 1) / threads;
        parts[t].gather = gather;
        // The channels met so far keep their ids in every part: the touches
        // of a table appended after another (an Arrow chunk after the first)
        // then need no mapping to the set's ids unless they hold new channels.
        parts[t].channels = js_.channels_;
    }
    auto run = [&](auto&& work) {
        std::vector<std::thread> workers;
        for (std::size_t t = 1; t < threads; ++t) workers.emplace_back(work, t);
        work(std::size_t{0});
        for (auto& w : workers) w.join();
    };
    run([&](std::size_t t) { count_tokens(table, options.separator, parts[t]); });

    auto& out = js_;
    const auto old_rows = out.offsets_.size(), old_touches = out.touches_.size();
    std::size_t total = old_touches;
    for (auto& part : parts) {
        part.base = total;
        total += part.tokens;
    }
    journey_set::check_touches(total); // before anything changes: the set stays as it was
    out.touches_.resize(total);
    out.offsets_.resize(old_rows + n);
    // One entry a row in conversions_, nulls_ and values_ (offsets_ has one more).
    const auto old_size = out.conversions_.size();
    for (auto* v : {&out.conversions_, &out.nulls_, &out.values_}) {
        reserve_more(*v, n);
        v->resize(old_size + n);
    }
    for (auto& part : parts) {
        part.touches = out.touches_.data() + part.base;
        part.offsets = out.offsets_.data() + old_rows + part.begin;
        part.conversions = out.conversions_.data() + old_size + part.begin;
        part.nulls = out.nulls_.data() + old_size + part.begin;
        part.values = out.values_.data() + old_size + part.begin;
    }
    run([&](std::size_t t) { parse_part(table, options, first_row, parts[t]); });
    for (const auto& part : parts)
        if (part.error) {
            out.touches_.resize(old_touches);
            out.offsets_.resize(old_rows);
            for (auto* v : {&out.conversions_, &out.nulls_, &out.values_}) v->resize(old_size);
            std::rethrow_exception(part.error);
        }
    // Counts or values that add up past the largest double are refused at
    // the row where their total overflows: an infinite total would turn
    // every share computed from it into NaN. The sums, in row order as one
    // row at a time would add them, are the set's new totals.
    double conversions = out.total_conversions_, nulls = out.total_nulls_, value = out.total_value_;
    for (std::size_t i = 0; i < n; ++i) {
        conversions += out.conversions_[old_size + i];
        nulls += out.nulls_[old_size + i];
        value += out.values_[old_size + i];
        const std::string* column = !std::isfinite(conversions) ? &options.conversions_column
                                    : !std::isfinite(nulls)     ? &options.nulls_column
                                    : !std::isfinite(value)     ? &options.value_column
                                                                : nullptr;
        if (column == nullptr) continue;
        out.touches_.resize(old_touches);
        out.offsets_.resize(old_rows);
        for (auto* w : {&out.conversions_, &out.nulls_, &out.values_}) w->resize(old_size);
        throw invalid_input(detail::make_message(
            first_row + i, *column,
            "the column's total passes the largest number a double holds (about 1.8e308); "
            "scale the column down"));
    }

    // Local channel ids to the journeys' ids, part by part: this keeps the
    // order of first appearance over the whole table.
    std::vector<std::vector<channel_id>> to_global(threads);
    for (std::size_t t = 0; t < threads; ++t)
        for (const auto& name : parts[t].channels.names())
            to_global[t].push_back(out.channels_.intern(name));
    if (!std::all_of(to_global.begin(), to_global.end(), identity_map))
        run([&](std::size_t t) { map_touches(parts[t], to_global[t]); });

    // The parts' order-1 sums, in part order, into the journeys' (global ids).
    bool gathered = gather;
    for (const auto& part : parts) gathered = gathered && part.gather;
    if (gathered && out.channels_.size() <= detail::order1_sums_max_channels) {
        auto next = out.order1_ ? std::make_shared<detail::order1_sums>(*out.order1_)
                                : std::make_shared<detail::order1_sums>();
        auto& sums = *next;
        sums.widen(out.channels_.size());
        const std::size_t wide = sums.stride;
        for (std::size_t t = 0; t < threads; ++t) {
            const auto& local = parts[t].sums;
            std::vector<std::size_t> g(local.stride, 0); // local index -> global index
            for (std::size_t a = 1; a < local.stride && a - 1 < to_global[t].size(); ++a)
                g[a] = std::size_t{to_global[t][a - 1]} + 1;
            for (std::size_t a = 0; a < local.stride; ++a) {
                for (std::size_t b = 1; b < local.stride; ++b)
                    if (local.cells[a * local.stride + b] != 0)
                        sums.cells[g[a] * wide + g[b]] += local.cells[a * local.stride + b];
                sums.conv_at[g[a]] += local.conv_at[a];
                sums.nulls_at[g[a]] += local.nulls_at[a];
                sums.value_at[g[a]] += local.value_at[a];
            }
        }
        out.order1_ = std::move(next);
    } else {
        out.order1_.reset();
    }

    out.total_conversions_ = conversions;
    out.total_nulls_ = nulls;
    out.total_value_ = value;
}

JOURNEYLOOP_IMPL_INLINE journey_set build_journeys(const path_table& table,
                                                   const path_options& options) {
    journey_set out;
    append_journeys(out, table, options, 0);
    return out;
}

JOURNEYLOOP_IMPL_NAMESPACE(journey_set_5) {

// Splits one CSV line into fields; supports double quotes with "" escapes.
JOURNEYLOOP_IMPL_INLINE std::vector<std::string> split_csv_line(const std::string& line,
                                                                char delim) {
    std::vector<std::string> fields(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char ch = line[i];
        if (quoted) {
            if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                fields.back() += '"';
                ++i;
            } else if (ch == '"') {
                quoted = false;
            } else {
                fields.back() += ch;
            }
        } else if (ch == '"') {
            quoted = true;
        } else if (ch == delim) {
            fields.emplace_back();
        } else if (ch != '\r') {
            fields.back() += ch;
        }
    }
    return fields;
}

JOURNEYLOOP_IMPL_INLINE double parse_number(const std::string& text, std::size_t row,
                                            const std::string& column) {
    const auto t = trim(text);
    const std::string s(t);
    char* end = nullptr;
    errno = 0;
    const double x = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || errno == ERANGE)
        throw invalid_input(detail::make_message(row, column, "not a number: '" + s + "'"));
    return x;
}

} // JOURNEYLOOP_IMPL_NAMESPACE(journey_set_5)

JOURNEYLOOP_IMPL_INLINE journey_set read_path_csv(const std::string& filename,
                                                  const csv_options& options) {
    std::ifstream in(filename);
    if (!in) throw invalid_input("cannot open '" + filename + "'");
    std::string line;
    if (!std::getline(in, line)) throw invalid_input("'" + filename + "' is empty");
    const auto header = split_csv_line(line, options.delimiter);
    auto column_index = [&](const std::string& name) -> long {
        if (name.empty()) return -1;
        for (std::size_t i = 0; i < header.size(); ++i)
            if (trim(header[i]) == name) return static_cast<long>(i);
        throw invalid_input("'" + filename + "' has no column '" + name + "'");
    };
    const auto& cols = options.columns;
    const long ip = column_index(cols.path_column);
    const long ic = column_index(cols.conversions_column);
    const long in_ = column_index(cols.nulls_column);
    const long iv = column_index(cols.value_column);

    std::vector<std::string> paths;
    std::vector<double> conv, nulls, value;
    std::size_t row = 0;
    while (std::getline(in, line)) {
        if (trim(line).empty()) continue;
        const auto f = split_csv_line(line, options.delimiter);
        if (f.size() != header.size())
            throw invalid_input("row " + std::to_string(row) + ": " + std::to_string(f.size()) +
                                " fields, the header has " + std::to_string(header.size()));
        paths.push_back(f[ip]);
        conv.push_back(parse_number(f[ic], row, cols.conversions_column));
        if (in_ >= 0) nulls.push_back(parse_number(f[in_], row, cols.nulls_column));
        if (iv >= 0) value.push_back(parse_number(f[iv], row, cols.value_column));
        ++row;
    }
    const std::vector<std::string_view> views(paths.begin(), paths.end());
    return build_journeys({views, conv, nulls, value}, cols);
}

} // namespace journeyloop

#endif // JOURNEYLOOP_IMPL_JOURNEY_SET_IPP
