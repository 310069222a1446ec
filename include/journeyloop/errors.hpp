// journeyloop: errors thrown by the public entry points.
//
// Every error derives from the closest standard exception, so that code which
// catches the standard type keeps working and the Python bindings map each one
// to the matching Python exception (`invalid_input` -> `ValueError`, ...).
#ifndef JOURNEYLOOP_ERRORS_HPP
#define JOURNEYLOOP_ERRORS_HPP

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace journeyloop {

/// The base every journeyloop error also derives from, beside its standard
/// base: `catch (const journeyloop::error&)` catches all of them and nothing
/// else. It is not a `std::exception` itself, so that `catch (const
/// std::exception&)` stays unambiguous; use `what()` of the standard base.
class error {
public:
    virtual ~error() = default;

protected:
    error() = default;
    error(const error&) = default;
    error& operator=(const error&) = default;
};

/// Bad input data or arguments: a malformed row, a NaN or negative count, an
/// empty path, an unknown option value. The message names the row (0-based
/// position in the input) and the column where there is one.
class invalid_input : public std::invalid_argument, public error {
public:
    using std::invalid_argument::invalid_argument;
};

/// A channel name that the journeys or the model do not know.
class unknown_channel : public std::out_of_range, public error {
public:
    using std::out_of_range::out_of_range;
};

/// A chain that cannot be solved: a state with no way to an absorbing state,
/// or a linear solve that failed. The message names the state.
class numerical_error : public std::runtime_error, public error {
public:
    using std::runtime_error::runtime_error;
};

/// The state space of a higher-order model would exceed the configured cap.
/// Thrown before anything large is allocated; the message gives the estimate
/// and the cap.
class state_space_too_large : public std::length_error, public error {
public:
    state_space_too_large(std::size_t estimate, std::size_t cap)
        : std::length_error("state space too large: about " + std::to_string(estimate) +
                            " states at this order, above the cap of " + std::to_string(cap) +
                            " (raise max_states or lower the order)"),
          estimate_(estimate), cap_(cap) {}

    /// Estimated number of states.
    std::size_t estimate() const noexcept { return estimate_; }
    /// The cap that was exceeded.
    std::size_t cap() const noexcept { return cap_; }

private:
    std::size_t estimate_;
    std::size_t cap_;
};

/// A stage of a call would need more memory than the cap set by
/// set_memory_limit() (limits.hpp). Thrown before the stage allocates; the
/// message names the stage and gives the estimate and the cap, in bytes.
class memory_limit_exceeded : public std::length_error, public error {
public:
    memory_limit_exceeded(std::size_t estimate, std::size_t cap, std::string_view stage)
        : std::length_error(std::string(stage) + " needs at least " + std::to_string(estimate) +
                            " bytes, above the memory limit of " + std::to_string(cap) +
                            " bytes (raise it with set_memory_limit, lower the order, or "
                            "split the input)"),
          estimate_(estimate), cap_(cap) {}
    /// The same with the remedies that fit the stage: the message ends "(raise
    /// it with set_memory_limit, <advice>)".
    memory_limit_exceeded(std::size_t estimate, std::size_t cap, std::string_view stage,
                          std::string_view advice)
        : std::length_error(std::string(stage) + " needs at least " + std::to_string(estimate) +
                            " bytes, above the memory limit of " + std::to_string(cap) +
                            " bytes (raise it with set_memory_limit, " + std::string(advice) + ")"),
          estimate_(estimate), cap_(cap) {}

    /// Estimated bytes the stage needs (a lower bound).
    std::size_t estimate() const noexcept { return estimate_; }
    /// The cap that was exceeded.
    std::size_t cap() const noexcept { return cap_; }

private:
    std::size_t estimate_;
    std::size_t cap_;
};

namespace detail {

/// One place that formats "row R, column 'C': what" so that messages stay
/// consistent and tests can match substrings.
inline std::string make_message(std::size_t row, std::string_view column, std::string_view what) {
    std::string out = "row " + std::to_string(row) + ", column '";
    out.append(column);
    out += "': ";
    out.append(what);
    return out;
}

} // namespace detail
} // namespace journeyloop

#endif // JOURNEYLOOP_ERRORS_HPP
