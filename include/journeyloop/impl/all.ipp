// journeyloop: every definition of the library, for header-only mode
// (JOURNEYLOOP_HEADER_ONLY; <journeyloop/journeyloop.hpp> includes this file).
#ifndef JOURNEYLOOP_IMPL_ALL_IPP
#define JOURNEYLOOP_IMPL_ALL_IPP

#include <journeyloop/impl/attribution.ipp>
#include <journeyloop/impl/chain/batch.ipp>
#include <journeyloop/impl/chain/batched.ipp>
#include <journeyloop/impl/chain/build.ipp>
#include <journeyloop/impl/chain/component.ipp>
#include <journeyloop/impl/chain/removal.ipp>
#include <journeyloop/impl/chain/sweep.ipp>
#include <journeyloop/impl/chain/workspace.ipp>
#include <journeyloop/impl/events.ipp>
#include <journeyloop/impl/io.ipp>
#include <journeyloop/impl/journey_graph.ipp>
#include <journeyloop/impl/journey_set.ipp>
#include <journeyloop/impl/json.ipp>
#include <journeyloop/impl/limits.ipp>
#include <journeyloop/impl/loop_histories.ipp>
#include <journeyloop/impl/loop_model.ipp>
#include <journeyloop/impl/markov_model.ipp>
#include <journeyloop/impl/scenario.ipp>
#include <journeyloop/impl/shapley.ipp>
#include <journeyloop/impl/memory.ipp>
#include <journeyloop/impl/order_selection.ipp>
#include <journeyloop/impl/score.ipp>
#include <journeyloop/impl/uncertainty.ipp>
#include <journeyloop/impl/simulate.ipp>
#include <journeyloop/impl/teams.ipp>
#include <journeyloop/impl/threads.ipp>
#include <journeyloop/impl/transition_counts.ipp>
#include <journeyloop/impl/journey_credit.ipp>
#include <journeyloop/impl/calibration.ipp>

#endif // JOURNEYLOOP_IMPL_ALL_IPP
