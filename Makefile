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

.PHONY: all demo test deps system-deps browser-deps venv install cpp cpp-test package-test \
        pytest lint format format-check tidy clean \
        test-sanitize asan-test tsan-test asan-pytest spark-deps spark-test

all: cpp install

demo: install
	$(VPY) -m journeyloop.demo

test: cpp-test package-test pytest lint

deps: system-deps venv

# Debian packages: $(call apt_install,PACKAGES) installs those that are missing,
# and nothing when all are there.
define apt_install
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
endef

system-deps:
	$(call apt_install,$(APT_PKGS))

$(VPY):
	$(PYTHON) -m venv $(VENV)

# Build requirements live in the venv so that pip builds without isolation
# (faster, and the build directory is reused between runs).
$(VENV)/.deps-stamp: pyproject.toml | $(VPY)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q "scikit-build-core>=0.10" "pybind11>=2.12" cmake ninja \
	  "numpy>=1.23" "pandas>=1.5" "pytest>=7" "hypothesis>=6" "pyarrow>=12" "networkx>=3" \
	  "channelattribution==2.2.5" matplotlib "mypy==2.4.1" "ruff==0.17.6" "pandas-stubs==3.1.0.261029" \
	  nbclient nbformat ipykernel "dask[distributed]>=2024.12" scipy
	touch $@

venv: $(VENV)/.deps-stamp

# The extension's build takes JOBS like the C++ build.
install: deps
	CMAKE_BUILD_PARALLEL_LEVEL=$(JOBS) $(VPY) -m pip install -q --no-build-isolation ".[test]"

# The C++ library, its unit tests, examples and C++ benchmark, with warnings as errors.
cpp: system-deps venv
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DJOURNEYLOOP_WERROR=ON \
	  -DCMAKE_INSTALL_PREFIX=$(abspath $(PREFIX)) -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
	cmake --build $(BUILD) -j $(JOBS)
	cmake --build $(BUILD) -j $(JOBS) --target journeyloop_solver_choice # benchmark: built, not run

cpp-test: cpp
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# A consumer project built against the *installed* package (linked, and
# header-only), then linked against the build tree (its exported targets,
# -Djourneyloop_DIR=<build dir>; the header-only target is the same headers
# there, not compiled a second time).
package-test: cpp
	rm -rf $(PREFIX) build/package build/package-tree
	cmake --install $(BUILD)
	cmake -S tests/package -B build/package -G Ninja -DCMAKE_PREFIX_PATH=$(abspath $(PREFIX))
	cmake --build build/package
	./build/package/consumer
	./build/package/consumer_header_only
	cmake -S tests/package -B build/package-tree -G Ninja -Djourneyloop_DIR=$(abspath $(BUILD))
	cmake --build build/package-tree --target consumer
	./build/package-tree/consumer

# The HTML report's test opens it in a real browser; the journey graph is laid out by
# Graphviz's dot when it is installed (its tests cover both layouts).
browser-deps:
	$(call apt_install,chromium graphviz)

# PYTEST_ARGS: more pytest options, such as --durations=30 or -k NAME.
pytest: install browser-deps spark-deps
	cd tests/python && JOURNEYLOOP_CPP_BUILD=$(abspath $(BUILD)) ../../$(VPY) -m pytest -c ../../pyproject.toml --rootdir=../.. -q $(PYTEST_ARGS)

# The Spark engine's tests (journeyloop.spark) need Java and pyspark: spark-deps
# installs Debian's headless JRE when there is no `java`, and pyspark into the
# venv when it is missing; `make pytest` installs them and runs test_spark.py
# with the others. Without them test_spark.py skips, and fails instead under
# JOURNEYLOOP_REQUIRE_SPARK=1 (.ci/run sets it). spark-test runs it alone.
spark-deps: venv
	$(if $(shell command -v java),,$(call apt_install,default-jre-headless))
	@$(VPY) -c "import pyspark" 2>/dev/null || $(VPY) -m pip install -q "pyspark>=3.5"

spark-test: spark-deps install
	cd tests/python && JOURNEYLOOP_REQUIRE_SPARK=1 ../../$(VPY) -m pytest -c ../../pyproject.toml --rootdir=../.. -q \
	  test_spark.py $(PYTEST_ARGS)

lint: venv format-check
	$(VPY) -m ruff check python tests/python examples/python examples/notebooks bench
	$(VPY) -m ruff format --check python tests/python examples/python examples/notebooks bench
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

# Sanitizers (.ci/run runs all three after `make test`), each step in
# a build directory of its own, never the normal build or the .venv install:
# - asan-test: the C++ tests under AddressSanitizer and UndefinedBehaviorSanitizer
#   (build/asan). Optimised (-O1) so that the suite runs in reasonable time;
#   asserts stay on (Debug), and the first report ends the run. The three
#   builds keep line tables only (-g1: a report names functions, files and
#   lines), which compiles the template-heavy tests much faster than -g. The
#   header-only test is left out: it compiles the same definitions again.
# - tsan-test: the tests that start threads (every Catch2 test whose name says
#   "thread", and the [large] removals, solved in batches on two threads) under
#   ThreadSanitizer (build/tsan).
# - asan-pytest: the Python extension built with ASan+UBSan by pip into
#   build/asan-python (its CMake build in build/python-asan), and the Python
#   test suite run against it with the .venv interpreter: the package is found
#   first on PYTHONPATH, and the ASan runtime comes first through LD_PRELOAD
#   (an uninstrumented python cannot load an instrumented module otherwise).
#   Leak detection is off there since CPython keeps memory until exit by design.
#   Six files are left to make test: their time goes to other programs (the
#   ChannelAttribution package, the benchmark scripts, the notebooks' kernels,
#   the browser, the Dask workers, Spark's JVM and Python workers), whose every
#   allocation the preloaded ASan runtime would slow, and the library calls
#   they make are those the other files test (the merge of loop counts:
#   tests/cpp and test_counts_io.py).
# The sanitizer builds drop -Werror: instrumentation changes what GCC's flow
# analysis warns about, and the normal build already holds the warnings.
ASAN_BUILD  ?= build/asan
TSAN_BUILD  ?= build/tsan
ASAN_PY     ?= build/asan-python
ASAN_PYTEST_SKIP := test_channelattribution.py test_scripts.py test_notebooks.py test_report.py \
                    test_dask.py test_spark.py
SAN_FLAGS   := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_ENV     := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1 \
               UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
LIBASAN      = $(shell $${CXX:-g++} -print-file-name=libasan.so)
# Preloaded after libasan: python itself does not link libstdc++, so without it
# ASan's __cxa_throw interceptor finds no real function and the first C++
# exception aborts the interpreter.
LIBSTDCXX    = $(shell $${CXX:-g++} -print-file-name=libstdc++.so)

test-sanitize: asan-test tsan-test asan-pytest

asan-test: system-deps
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
	  -DCMAKE_CXX_FLAGS="$(SAN_FLAGS)" -DCMAKE_EXE_LINKER_FLAGS="$(SAN_FLAGS)" \
	  -DCMAKE_SHARED_LINKER_FLAGS="$(SAN_FLAGS)" -DJOURNEYLOOP_BUILD_EXAMPLES=OFF
	cmake --build $(ASAN_BUILD) -j $(JOBS) --target journeyloop_tests
	cd $(ASAN_BUILD) && $(SAN_ENV) ctest --output-on-failure -R cpp_unit

tsan-test: system-deps
	cmake -S . -B $(TSAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
	  -DCMAKE_CXX_FLAGS="-fsanitize=thread" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" \
	  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" -DJOURNEYLOOP_BUILD_EXAMPLES=OFF
	cmake --build $(TSAN_BUILD) -j $(JOBS) --target journeyloop_tests
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 $(TSAN_BUILD)/tests/journeyloop_tests \
	  '*thread*,[large]'

asan-pytest: venv
	rm -rf $(ASAN_PY)
	CMAKE_BUILD_PARALLEL_LEVEL=$(JOBS) \
	  $(VPY) -m pip install -q --no-build-isolation --no-deps --target $(ASAN_PY) \
	  -C build-dir=build/python-asan -C cmake.build-type=Debug \
	  -C cmake.define.CMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
	  -C cmake.define.CMAKE_CXX_FLAGS="$(SAN_FLAGS)" \
	  -C cmake.define.CMAKE_SHARED_LINKER_FLAGS="$(SAN_FLAGS)" .
	cd tests/python && PYTHONPATH=$(abspath $(ASAN_PY)) LD_PRELOAD="$(LIBASAN) $(LIBSTDCXX)" \
	  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  JOURNEYLOOP_CPP_BUILD=$(abspath $(BUILD)) ../../$(VPY) -m pytest -c ../../pyproject.toml --rootdir=../.. -q \
	  $(ASAN_PYTEST_SKIP:%=--ignore=%) $(PYTEST_ARGS)
include fuzz/fuzz.mk

clean:
	rm -rf build $(VENV)
