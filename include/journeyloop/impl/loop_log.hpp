// Internal: the loop counter's additions, logged per history, so that
// bootstrap replicates of loop histories reweight them instead of counting
// the histories again.
#ifndef JOURNEYLOOP_IMPL_LOOP_LOG_HPP
#define JOURNEYLOOP_IMPL_LOOP_LOG_HPP

#include <journeyloop/loop_histories.hpp>

#include <cstdint>
#include <vector>

namespace journeyloop::detail {

/// One addition of the loop counter for one customer of a history.
struct loop_op {
    enum kind_t : std::uint8_t {
        shared_edge,  ///< a channel state's transition (both views)
        first_start,  ///< a transition from START of the first view
        repeat_start, ///< a transition from START of the repeat view
        purchase,     ///< a purchase from state `from` (`first`: the customer's first)
    } kind = shared_edge;
    bool first = false;
    state_id from = 0, to = 0;
    double value = 0; ///< a purchase's value per customer
};

/// The additions of every history: history i made ops[offsets[i] ..
/// offsets[i + 1]) once per customer.
struct loop_log {
    std::vector<loop_op> ops;
    std::vector<std::size_t> offsets{0};
};

/// count_loop_transitions(), logging every history's additions into `log`.
loop_counts count_loop_transitions_logged(const loop_histories& histories,
                                          const counting_options& options, loop_log& log);

} // namespace journeyloop::detail

#endif // JOURNEYLOOP_IMPL_LOOP_LOG_HPP
