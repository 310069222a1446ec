// journeyloop: version macros.
#ifndef JOURNEYLOOP_VERSION_HPP
#define JOURNEYLOOP_VERSION_HPP

#define JOURNEYLOOP_VERSION_MAJOR 0
#define JOURNEYLOOP_VERSION_MINOR 1
#define JOURNEYLOOP_VERSION_PATCH 0
/// Version as one number: major * 10000 + minor * 100 + patch.
#define JOURNEYLOOP_VERSION 100

#endif // JOURNEYLOOP_VERSION_HPP
