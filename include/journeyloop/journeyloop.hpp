// journeyloop: umbrella header, the whole pipeline.
//
//   events -> journey_set -> transition_counts -> markov_model -> attribution
//   (journey_graph: a Boost.Graph view of a model; io: files)
#ifndef JOURNEYLOOP_JOURNEYLOOP_HPP
#define JOURNEYLOOP_JOURNEYLOOP_HPP

#include <journeyloop/attribution.hpp>
#include <journeyloop/column_view.hpp>
#include <journeyloop/errors.hpp>
#include <journeyloop/events.hpp>
#include <journeyloop/fwd.hpp>
#include <journeyloop/io.hpp>
#include <journeyloop/journey_graph.hpp>
#include <journeyloop/journey_set.hpp>
#include <journeyloop/loop_histories.hpp>
#include <journeyloop/loop_model.hpp>
#include <journeyloop/markov_model.hpp>
#include <journeyloop/model_io.hpp>
#include <journeyloop/order_selection.hpp>
#include <journeyloop/scenario.hpp>
#include <journeyloop/score.hpp>
#include <journeyloop/uncertainty.hpp>
#include <journeyloop/shapley.hpp>
#include <journeyloop/simulate.hpp>
#include <journeyloop/teams.hpp>
#include <journeyloop/limits.hpp>
#include <journeyloop/threads.hpp>
#include <journeyloop/transition_counts.hpp>
#include <journeyloop/version.hpp>
#include <journeyloop/journey_credit.hpp>
#include <journeyloop/calibration.hpp>
#include <journeyloop/interrupt.hpp>
#include <journeyloop/progress.hpp>

// Header-only mode: the definitions too (see <journeyloop/config.hpp>).
#if defined(JOURNEYLOOP_HEADER_ONLY)
#include <journeyloop/impl/all.ipp>
#endif

#endif // JOURNEYLOOP_JOURNEYLOOP_HPP
