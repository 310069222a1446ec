// Internal: the one writer of loop_histories. Installed for header-only mode,
// not part of the public API.
#ifndef JOURNEYLOOP_SRC_LOOP_HISTORIES_BUILDER_HPP
#define JOURNEYLOOP_SRC_LOOP_HISTORIES_BUILDER_HPP

#include <journeyloop/loop_histories.hpp>

#include <cstddef>
#include <vector>

namespace journeyloop {

class loop_histories::builder {
public:
    /**
     * Histories from their rows (conversions: purchases, nulls: customers),
     * the id of the purchase marker and the value of each purchase per
     * customer (`offsets`: rows + 1 entries into `values`). Throws
     * numerical_error if the parts do not fit together (an internal error).
     */
    static loop_histories assemble(journey_set rows, channel_id purchase,
                                   std::vector<double> values, std::vector<std::size_t> offsets);

    /// Records the purchases left out before the first touch of a history.
    static void set_unattributed(loop_histories& histories, double purchases,
                                 double value) noexcept {
        histories.unattributed_purchases_ = purchases;
        histories.unattributed_value_ = value;
    }

    /// The rows of `histories` as a journey set (see assemble()).
    static const journey_set& rows(const loop_histories& histories) noexcept {
        return histories.rows_;
    }
    /// Every purchase value and the offsets of the rows into them.
    static const std::vector<double>& values(const loop_histories& histories) noexcept {
        return histories.purchase_values_;
    }
    static const std::vector<std::size_t>& offsets(const loop_histories& histories) noexcept {
        return histories.purchase_offsets_;
    }
};

} // namespace journeyloop

#endif // JOURNEYLOOP_SRC_LOOP_HISTORIES_BUILDER_HPP
