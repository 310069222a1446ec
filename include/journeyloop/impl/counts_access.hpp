// Internal: builds transition_counts from parts (merge, file loading).
#ifndef JOURNEYLOOP_SRC_COUNTS_ACCESS_HPP
#define JOURNEYLOOP_SRC_COUNTS_ACCESS_HPP

#include <journeyloop/detail/mapped.hpp>
#include <journeyloop/transition_counts.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace journeyloop::detail {

/// Whether `name` is the label of one of the chain's own states (START,
/// CONVERSION, NULL), which a channel may not take.
inline bool state_name(const std::string& name) {
    return name == "START" || name == "CONVERSION" || name == "NULL";
}

/// Whether `name` is the label of one of the loop chain's own states besides
/// START (PURCHASE, END), which a channel of a loop history may not take.
inline bool loop_state_name(const std::string& name) { return name == "PURCHASE" || name == "END"; }

/// Throws invalid_input naming the first row that uses a channel named as a
/// state (state_name, and loop_state_name for loop histories): the states'
/// labels would be ambiguous.
void check_channel_names(const journey_set& journeys, bool loop = false);

/// Throws invalid_input unless 1 <= order <= max_order.
void check_order(std::size_t order);

/// The parts of a transition_counts, in a plain form.
struct counts_parts {
    std::size_t order = 1;
    bool collapse_repeats = true;
    bool padded = false;
    bool pooled = false; ///< see transition_counts::pooled()
    channel_dictionary channels;
    /// Channel tuples of the states from first_channel_state on.
    std::vector<std::vector<channel_id>> states;
    /// Further states after `states`, flat: state i holds
    /// flat_states[flat_offsets[i] .. flat_offsets[i + 1]) (used when
    /// flat_offsets has more than one entry).
    /// (Counting moves its tables here; they are mapped when large, see
    /// detail/mapped.hpp.)
    mapped_vector<channel_id> flat_states;
    mapped_vector<std::size_t> flat_offsets;
    /// (from << 32 | to) -> weight; any order, no duplicates.
    mapped_vector<std::pair<std::uint64_t, double>> edges;
    /// Per state id (all states): conversions and value of journeys ending there.
    mapped_vector<double> end_conversions, end_value;
    double total_conversions = 0, total_nulls = 0, total_value = 0;
};

struct counts_access {
    static transition_counts assemble(counts_parts parts);
    static counts_parts disassemble(const transition_counts& c);
};

} // namespace journeyloop::detail

#endif
