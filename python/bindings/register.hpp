// One register_<concept>() per pipeline stage; module.cpp calls them in order.
#pragma once

#include <pybind11/pybind11.h>

namespace py = pybind11;

void register_errors(py::module_& m);
void register_journeys(py::module_& m);
void register_events(py::module_& m);
void register_attribution(py::module_& m);
void register_markov(py::module_& m);
void register_loop(py::module_& m);
void register_scenario(py::module_& m);
void register_score(py::module_& m);
void register_simulate(py::module_& m);
void register_uncertainty(py::module_& m);
void register_order(py::module_& m);
void register_credit(py::module_& m);
void register_shapley(py::module_& m);
