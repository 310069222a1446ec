# journeyloop: the two commands are `make demo` and `make test`. Both set up
# everything they need on a fresh Debian machine (apt packages, a virtual
# environment with the Python dependencies) and are idempotent.

PYTHON      ?= python3
VENV        ?= .venv
BUILD       ?= build/cpp
PREFIX      ?= build/prefix
JOBS        ?= 2
VPY         := $(VENV)/bin/python
APT_PKGS    := libboost-graph-dev libeigen3-dev catch2 cmake ninja-build g++ clang-format
# The C++ sources clang-format owns (make format / make format-check).
FORMAT_DIRS := include src python/bindings tests/cpp tests/package examples bench/cpp fuzz
FORMAT_SRCS  = $(shell find $(FORMAT_DIRS) -name '*.hpp' -o -name '*.cpp' -o -name '*.ipp')
SUDO        := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all demo test deps system-deps venv install cpp cpp-test package-test \
        pytest lint format format-check tidy clean

all: cpp install

demo: install
	$(VPY) -m journeyloop.demo

test: cpp-test package-test pytest lint

deps: system-deps venv

# Debian packages: installed only when one is missing.
system-deps:
	@missing=""; for p in $(APT_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

$(VPY):
	$(PYTHON) -m venv $(VENV)

# Build requirements live in the venv so that pip builds without isolation
# (faster, and the build directory is reused between runs).
$(VENV)/.deps-stamp: pyproject.toml | $(VPY)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q "scikit-build-core>=0.10" "pybind11>=2.12" cmake ninja \
	  "numpy>=1.23" "pandas>=1.5" "pytest>=7" "hypothesis>=6" "pyarrow>=12" "networkx>=3" \
	  "channelattribution==2.2.5" matplotlib "mypy==2.4.1" "ruff==0.17.6" "pandas-stubs==3.1.0.261029"
	touch $@

venv: $(VENV)/.deps-stamp

install: deps
	$(VPY) -m pip install -q --no-build-isolation ".[test]"

# The C++ library, its unit tests, examples and C++ benchmark, with warnings as errors.
cpp: system-deps venv
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DJOURNEYLOOP_WERROR=ON \
	  -DCMAKE_INSTALL_PREFIX=$(abspath $(PREFIX)) -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
	cmake --build $(BUILD) -j $(JOBS)
	cmake --build $(BUILD) -j $(JOBS) --target journeyloop_solver_choice # benchmark: built, not run

cpp-test: cpp
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# A consumer project built against the *installed* package, then against
# the build tree (its exported targets, -Djourneyloop_DIR=<build dir>).
package-test: cpp
	rm -rf $(PREFIX) build/package build/package-tree
	cmake --install $(BUILD)
	cmake -S tests/package -B build/package -G Ninja -DCMAKE_PREFIX_PATH=$(abspath $(PREFIX))
	cmake --build build/package
	./build/package/consumer
	./build/package/consumer_header_only
	cmake -S tests/package -B build/package-tree -G Ninja -Djourneyloop_DIR=$(abspath $(BUILD))
	cmake --build build/package-tree
	./build/package-tree/consumer
	./build/package-tree/consumer_header_only

pytest: install
	cd tests/python && JOURNEYLOOP_CPP_BUILD=$(abspath $(BUILD)) ../../$(VPY) -m pytest -c ../../pyproject.toml --rootdir=../.. -q

lint: venv format-check
	$(VPY) -m ruff check python tests/python examples/python bench
	$(VPY) -m ruff format --check python tests/python examples/python bench
	$(VPY) -m mypy

# C++ formatting (.clang-format): `format` rewrites the sources, `format-check`
# (part of `lint`) fails on any difference.
format: system-deps
	clang-format -i $(FORMAT_SRCS)

format-check: system-deps
	clang-format --dry-run --Werror $(FORMAT_SRCS)

# clang-tidy's checks (.clang-tidy) over the library's sources: the one-line
# src/*.cpp files compile the definitions in include/journeyloop/impl/*.ipp
# (reported through HeaderFilterRegex), from the compile commands of the C++
# build. Not part of `test`.
tidy: cpp
	@command -v clang-tidy >/dev/null || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq clang-tidy; }
	clang-tidy -p $(BUILD) --quiet --extra-arg=-std=c++17 $(wildcard src/*.cpp src/chain/*.cpp)

include fuzz/fuzz.mk

clean:
	rm -rf build $(VENV)
