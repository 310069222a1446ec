# libFuzzer harnesses (fuzz/*.cpp, docs/fuzzing.md), included by the Makefile.
#
#   make fuzz                      build every harness, run each for FUZZ_SECONDS
#   make fuzz FUZZ_SECONDS=600     longer runs
#   make fuzz-build                build only
#
# Each harness is built with clang++ -fsanitize=fuzzer,address,undefined
# against the header-only library. Runs start from the seed corpus in
# fuzz/corpus/<harness>/ and write the inputs they find to
# $(FUZZ_BUILD)/corpus/<harness>/ and crashes to $(FUZZ_BUILD)/crashes/, never
# into the repository.

FUZZ_PKGS      := clang libclang-rt-dev
FUZZ_CXX       ?= clang++
FUZZ_BUILD     ?= build/fuzz
FUZZ_SECONDS   ?= 60
FUZZ_HARNESSES := fuzz_paths fuzz_events fuzz_files fuzz_json
# Inputs larger than this gain little coverage and cost speed.
FUZZ_MAX_LEN   ?= 1024
FUZZ_FLAGS     := -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined \
                  -fno-sanitize-recover=undefined -fno-omit-frame-pointer \
                  -DJOURNEYLOOP_HEADER_ONLY -Iinclude -isystem /usr/include/eigen3 -pthread
FUZZ_BINS      := $(addprefix $(FUZZ_BUILD)/,$(FUZZ_HARNESSES))

.PHONY: fuzz fuzz-build fuzz-deps

# Debian's clang; libFuzzer itself comes with the compiler runtime package.
fuzz-deps:
	$(call apt_install,$(FUZZ_PKGS))

$(FUZZ_BUILD)/%: fuzz/%.cpp fuzz/common.hpp $(wildcard include/journeyloop/*.hpp include/journeyloop/*/*.hpp include/journeyloop/impl/*.ipp include/journeyloop/impl/*/*.ipp) | fuzz-deps
	@mkdir -p $(FUZZ_BUILD)
	$(FUZZ_CXX) $(FUZZ_FLAGS) $< -o $@

fuzz-build: $(FUZZ_BINS)

# One harness at a time, each for FUZZ_SECONDS; the last line of each run
# gives its executions (stat::number_of_executed_units) and speed.
fuzz: fuzz-build
	@mkdir -p $(FUZZ_BUILD)/crashes
	@for h in $(FUZZ_HARNESSES); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$h; \
	  echo "== $$h: $(FUZZ_SECONDS) s"; \
	  $(FUZZ_BUILD)/$$h -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) \
	    -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/crashes/$$h- \
	    $(FUZZ_BUILD)/corpus/$$h fuzz/corpus/$$h 2>$(FUZZ_BUILD)/$$h.log || \
	    { tail -n 40 $(FUZZ_BUILD)/$$h.log; exit 1; }; \
	  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)' $(FUZZ_BUILD)/$$h.log; \
	done
