#include "register.hpp"

#include <journeyloop/errors.hpp>
#include <journeyloop/interrupt.hpp>

namespace jl = journeyloop;

namespace {

// An exception class of the module with several bases: journeyloop's own
// base first, then the standard Python base that matches the C++ one.
py::handle new_exception(py::module_& m, const char* name, py::tuple bases, const char* doc) {
    const std::string qualified = std::string(py::str(m.attr("__name__"))) + "." + name;
    PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
    if (type == nullptr) throw py::error_already_set();
    m.add_object(name, py::handle(type));
    return py::handle(type); // the module's reference keeps it alive
}

} // namespace

void register_errors(py::module_& m) {
    static py::handle base = new_exception(
        m, "JourneyloopError", py::make_tuple(py::handle(PyExc_Exception)),
        "The base of every error journeyloop raises (each also keeps its standard base).");
    static py::handle invalid =
        new_exception(m, "InvalidInputError", py::make_tuple(base, py::handle(PyExc_ValueError)),
                      "Bad input data or arguments; the message names the row and column "
                      "or the option.");
    static py::handle unknown =
        new_exception(m, "UnknownChannelError", py::make_tuple(base, py::handle(PyExc_KeyError)),
                      "A channel name that the journeys or the model do not know.");
    static py::handle numerical =
        new_exception(m, "NumericalError", py::make_tuple(base, py::handle(PyExc_ArithmeticError)),
                      "A chain that cannot be solved; the message names the state.");
    static py::handle too_large = new_exception(
        m, "StateSpaceTooLargeError", py::make_tuple(base, py::handle(PyExc_MemoryError)),
        "An input whose state space or memory need exceeds the configured cap; "
        "``estimate`` and ``cap`` give the figures.");
    static py::handle memory =
        new_exception(m, "MemoryLimitError", py::make_tuple(base, py::handle(PyExc_MemoryError)),
                      "A stage of a call would need more memory than the cap of set_memory_limit; "
                      "``estimate`` and ``cap`` give the bytes.");
    // Class defaults, for an instance raised from Python without them.
    for (auto type : {too_large, memory}) {
        type.attr("estimate") = 0;
        type.attr("cap") = 0;
    }
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const jl::state_space_too_large& e) {
            py::object error = py::reinterpret_borrow<py::object>(too_large)(e.what());
            error.attr("estimate") = e.estimate();
            error.attr("cap") = e.cap();
            PyErr_SetObject(too_large.ptr(), error.ptr());
        } catch (const jl::memory_limit_exceeded& e) {
            py::object error = py::reinterpret_borrow<py::object>(memory)(e.what());
            error.attr("estimate") = e.estimate();
            error.attr("cap") = e.cap();
            PyErr_SetObject(memory.ptr(), error.ptr());
        } catch (const jl::invalid_input& e) {
            PyErr_SetString(invalid.ptr(), e.what());
        } catch (const jl::unknown_channel& e) {
            PyErr_SetString(unknown.ptr(), e.what());
        } catch (const jl::numerical_error& e) {
            PyErr_SetString(numerical.ptr(), e.what());
        } catch (const jl::interrupted& e) {
            // A stop on SIGINT (interrupt.hpp): Python's handler, run now,
            // raises what it raises on Ctrl-C (KeyboardInterrupt by default).
            if (PyErr_CheckSignals() != 0) return;
            PyErr_SetString(PyExc_KeyboardInterrupt, e.what());
        }
    });
}
