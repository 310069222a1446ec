// journeyloop: how the library is built, compiled or header-only.
//
// By default the definitions are compiled once into the journeyloop library
// (the journeyloop::journeyloop target). Defining JOURNEYLOOP_HEADER_ONLY
// (the journeyloop::header_only target does) makes <journeyloop/journeyloop.hpp>
// pull the definitions in from include/journeyloop/impl/ as inline functions,
// so that nothing needs to be built or linked; every translation unit that
// includes it then compiles the whole library, which costs build time.
#ifndef JOURNEYLOOP_CONFIG_HPP
#define JOURNEYLOOP_CONFIG_HPP

#if defined(JOURNEYLOOP_HEADER_ONLY)
// Definitions are in every translation unit that includes them: inline, and
// helpers in named inline namespaces (an anonymous namespace in a header would
// give every translation unit its own copy of a helper used by an inline
// function, which the one-definition rule forbids).
#define JOURNEYLOOP_IMPL_INLINE inline
#define JOURNEYLOOP_IMPL_NAMESPACE(name) inline namespace name
#elif defined(JOURNEYLOOP_SCAN_DEFINITIONS)
// Tooling only: helpers get external linkage so that a symbol table lists every
// definition that header-only mode has to make inline.
#define JOURNEYLOOP_IMPL_INLINE
#define JOURNEYLOOP_IMPL_NAMESPACE(name) inline namespace name
#else
// Compiled once: helpers keep internal linkage.
#define JOURNEYLOOP_IMPL_INLINE
#define JOURNEYLOOP_IMPL_NAMESPACE(name) namespace
#endif

#endif // JOURNEYLOOP_CONFIG_HPP
