#include "register.hpp"

#include <journeyloop/errors.hpp>

namespace jl = journeyloop;

void register_errors(py::module_& m) {
    py::register_exception<jl::invalid_input>(m, "InvalidInputError", PyExc_ValueError);
    py::register_exception<jl::unknown_channel>(m, "UnknownChannelError", PyExc_KeyError);
    py::register_exception<jl::numerical_error>(m, "NumericalError", PyExc_ArithmeticError);
    py::register_exception<jl::state_space_too_large>(m, "StateSpaceTooLargeError",
                                                      PyExc_MemoryError);
}
