#include "register.hpp"

#include <journeyloop/errors.hpp>

namespace jl = journeyloop;

void register_errors(py::module_& m) {
    py::register_exception<jl::invalid_input>(m, "InvalidInputError", PyExc_ValueError);
    py::register_exception<jl::unknown_channel>(m, "UnknownChannelError", PyExc_KeyError);
    py::register_exception<jl::numerical_error>(m, "NumericalError", PyExc_ArithmeticError);
    // The estimate and the cap also as attributes of the Python exception.
    static py::handle too_large = py::register_exception<jl::state_space_too_large>(
                                      m, "StateSpaceTooLargeError", PyExc_MemoryError)
                                      .release();
    // Class defaults, for an instance raised from Python without them.
    too_large.attr("estimate") = 0;
    too_large.attr("cap") = 0;
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const jl::state_space_too_large& e) {
            py::object error = py::reinterpret_borrow<py::object>(too_large)(e.what());
            error.attr("estimate") = e.estimate();
            error.attr("cap") = e.cap();
            PyErr_SetObject(too_large.ptr(), error.ptr());
        }
    });
}
