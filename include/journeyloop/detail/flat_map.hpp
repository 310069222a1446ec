// journeyloop detail: an open-addressing hash map from 64-bit keys.
//
// Counting transitions looks up two keys per touch; std::unordered_map's
// node allocations dominated that loop. Linear probing over a power-of-two
// table of (key, value) pairs keeps it in cache. Key ~0 is reserved (empty).
#ifndef JOURNEYLOOP_DETAIL_FLAT_MAP_HPP
#define JOURNEYLOOP_DETAIL_FLAT_MAP_HPP

#include <journeyloop/detail/mapped.hpp>

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace journeyloop::detail {

template <class Value>
class flat_map64 {
public:
    static constexpr std::uint64_t empty_key = ~std::uint64_t{0};
    /// The table's storage: mapped when large, so that a table grown on a
    /// worker thread gives its memory back when freed (detail/mapped.hpp).
    using entries = mapped_vector<std::pair<std::uint64_t, Value>>;

    explicit flat_map64(std::size_t expected = 16) { rehash(capacity_for(expected)); }

    /// The value of `key`, default-constructed and inserted if absent; the
    /// flag says whether it was inserted. `key` must not be empty_key.
    std::pair<Value*, bool> try_emplace(std::uint64_t key, Value init = Value{}) {
        if ((size_ + 1) * 4 > slots_.size() * 3) rehash(slots_.size() * 2);
        std::size_t i = slot(key);
        while (true) {
            auto& s = slots_[i];
            if (s.first == key) return {&s.second, false};
            if (s.first == empty_key) {
                s.first = key;
                s.second = init;
                ++size_;
                return {&s.second, true};
            }
            i = (i + 1) & mask_;
        }
    }

    std::size_t size() const noexcept { return size_; }

    /// Hints that `key` will be looked up soon.
    void prefetch(std::uint64_t key) const noexcept {
#if defined(__GNUC__) || defined(__clang__)
        __builtin_prefetch(&slots_[slot(key)]);
#else
        (void)key;
#endif
    }

    /// Calls f(key, value) for every entry, in table order.
    template <class F>
    void for_each(F&& f) const {
        for (const auto& s : slots_)
            if (s.first != empty_key) f(s.first, s.second);
    }

    /// The entries, in table order, in the table's own storage (moved to the
    /// front; no copy): the map is left empty. The vector keeps the table's
    /// capacity until it is freed.
    entries take_entries() {
        std::size_t live = 0;
        for (std::size_t i = 0; i < slots_.size(); ++i)
            if (slots_[i].first != empty_key) slots_[live++] = slots_[i];
        slots_.resize(live);
        auto out = std::move(slots_);
        slots_.clear();
        rehash(16);
        return out;
    }

private:
    static std::size_t capacity_for(std::size_t n) {
        std::size_t c = 16;
        while (c * 3 < n * 4) c *= 2;
        return c;
    }
    std::size_t slot(std::uint64_t key) const noexcept {
        // Fibonacci hashing spreads the packed keys over the table.
        return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
    }
    void rehash(std::size_t capacity) {
        entries old;
        old.swap(slots_);
        slots_.reserve(capacity);
        advise_huge_pages(slots_.data(), capacity * sizeof(typename entries::value_type));
        slots_.assign(capacity, {empty_key, Value{}});
        mask_ = capacity - 1;
        shift_ = 64;
        for (std::size_t c = capacity; c > 1; c >>= 1) --shift_;
        size_ = 0;
        for (const auto& s : old)
            if (s.first != empty_key) *try_emplace(s.first).first = s.second;
    }

    entries slots_;
    std::size_t mask_ = 0;
    unsigned shift_ = 64;
    std::size_t size_ = 0;
};

} // namespace journeyloop::detail

#endif
