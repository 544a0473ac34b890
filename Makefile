# tcplab build. Sources are found by wildcard, so a new file in stack/, http/, tools/tcplab/
# or tests/ joins the build without editing this file.
#   make            build/tcplab, unit and scenario test binaries
#   sudo make run   start the server in the current namespace (your own VM only)
#   sudo make test  install test dependencies, build, run every test, print "N passed, N failed"
#   make fuzz       run every libFuzzer target for FUZZ_SECONDS each
#   make bench      benchmarks (side-by-side ratios)

CXX      ?= g++
CLANGXX  ?= clang++
# The sanitizer build uses clang where there is one (the fuzzers need it anyway): g++ with
# ASan and UBSan takes about twice as long on these files (15 s against 8 s for
# http/session.cpp), which made the sanitizer build most of a fresh `make test`.
ifeq ($(origin SANXX),undefined)
SANXX    := $(shell command -v $(CLANGXX) >/dev/null 2>&1 && echo $(CLANGXX) || echo $(CXX))
endif
BUILD    := build
WARN     := -Wall -Wextra -Werror
BASE     := -std=c++20 $(WARN) -I. -MMD -MP
REL_FLAGS:= -O2 -g
SAN_FLAGS:= -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_FLAGS := -std=c++20 $(WARN) -I. -MMD -MP -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_SECONDS ?= 60
# Test code (the unit and scenario test files, not the library they test) is compiled without
# optimisation in both builds: those files are most of the compile time of a fresh `make test`
# (doctest's assertions expand into much code), and -O0 compiles them two to four times faster.
# The library keeps -O2 (-O1 with the sanitizers), so the tests still exercise optimised code.
TEST_OPT := -O0

LIB_SRCS   := $(sort $(shell find stack http -name '*.cpp' 2>/dev/null))
TOOL_SRCS  := $(sort $(wildcard tools/tcplab/*.cpp))
UNIT_SRCS  := $(sort $(wildcard tests/unit/*.cpp))
SCEN_SRCS  := $(sort $(wildcard tests/scenarios/*.cpp))
CLIENT_SRCS:= $(sort $(wildcard tests/clients/*.cpp))
FUZZ_SRCS  := $(sort $(wildcard tests/fuzz/*_fuzz.cpp))

rel_obj = $(patsubst %.cpp,$(BUILD)/rel/%.o,$(1))
ifeq ($(notdir $(SANXX)),$(notdir $(CLANGXX)))
# With clang, one sanitizer build of the library serves the unit and scenario tests and the
# fuzzers: the same flags plus the fuzzers' coverage hooks, which the tests never use. A fresh
# `make test` then compiles the library twice instead of three times (a clean-clone run on a
# two-core VM took 23 min 52 s instead of 26 min 40 s; the sanitizer unit tests take some 13 s
# longer with the hooks).
SAN_FLAGS += -fsanitize=fuzzer-no-link
SAN_OBJ  := $(BUILD)/san/obj-$(notdir $(SANXX))-fuzzable
FUZZ_OBJ := $(SAN_OBJ)
else
# Per compiler, so that a checkout built before with another one never links the two together.
SAN_OBJ  := $(BUILD)/san/obj-$(notdir $(SANXX))
FUZZ_OBJ := $(BUILD)/fuzzobj
endif
san_obj = $(patsubst %.cpp,$(SAN_OBJ)/%.o,$(1))
fuzz_obj = $(patsubst %.cpp,$(FUZZ_OBJ)/%.o,$(1))

TCPLAB      := $(BUILD)/tcplab
UNIT        := $(BUILD)/unit-tests
SCEN        := $(BUILD)/scenario-tests
SAN_UNIT    := $(BUILD)/san/unit-tests
SAN_SCEN    := $(BUILD)/san/scenario-tests
CLIENTS     := $(patsubst tests/clients/%.cpp,$(BUILD)/clients/%,$(CLIENT_SRCS))
FUZZERS     := $(patsubst tests/fuzz/%.cpp,$(BUILD)/fuzz/%,$(FUZZ_SRCS))

.PHONY: all run test unit scenarios sanitize integration fuzz fuzz-smoke bench clean format
all: $(TCPLAB) $(UNIT) $(SCEN) $(CLIENTS)

$(BUILD)/rel/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(BASE) $(REL_FLAGS) $(OPT_OVERRIDE) -c $< -o $@

$(SAN_OBJ)/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(SANXX) $(BASE) $(SAN_FLAGS) $(OPT_OVERRIDE) -c $< -o $@

# The last -O on the command line wins, so this overrides the build's own level for test files.
$(call rel_obj,$(UNIT_SRCS) $(SCEN_SRCS)) $(call san_obj,$(UNIT_SRCS) $(SCEN_SRCS)): OPT_OVERRIDE := $(TEST_OPT)

$(BUILD)/fuzzobj/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CLANGXX) $(FUZZ_FLAGS) -c $< -o $@

$(TCPLAB): $(call rel_obj,$(LIB_SRCS) $(TOOL_SRCS))
	$(CXX) $(REL_FLAGS) -o $@ $^

$(UNIT): $(call rel_obj,$(LIB_SRCS) $(UNIT_SRCS))
	$(CXX) $(REL_FLAGS) -o $@ $^

$(SCEN): $(call rel_obj,$(LIB_SRCS) $(SCEN_SRCS))
	$(CXX) $(REL_FLAGS) -o $@ $^

$(SAN_UNIT): $(call san_obj,$(LIB_SRCS) $(UNIT_SRCS))
	$(SANXX) $(SAN_FLAGS) -o $@ $^

$(SAN_SCEN): $(call san_obj,$(LIB_SRCS) $(SCEN_SRCS))
	$(SANXX) $(SAN_FLAGS) -o $@ $^

# Small kernel-socket clients the integration tests drive (one file, one program).
$(BUILD)/clients/%: tests/clients/%.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(BASE) $(REL_FLAGS) -o $@ $<

$(BUILD)/fuzz/%: $(call fuzz_obj,$(LIB_SRCS) tests/fuzz/%.cpp)
	@mkdir -p $(dir $@)
	$(CLANGXX) -fsanitize=fuzzer,address,undefined -o $@ $^
# Keep the fuzz objects: they are only prerequisites of a pattern rule, which would make GNU
# make treat them as intermediate and delete them, rebuilding the library on every fuzz run.
.SECONDARY: $(call fuzz_obj,$(LIB_SRCS) $(FUZZ_SRCS))

sanitize: $(SAN_UNIT) $(SAN_SCEN)

unit: $(UNIT)
	$(UNIT)

scenarios: $(SCEN)
	$(SCEN) tests/scenarios

run: $(TCPLAB)
	$(TCPLAB) serve $(ARGS)

# The one command that runs everything (README, CI). It installs what it needs first.
test:
	bash tests/run-all.sh

integration: all
	bash tests/integration/run.sh

fuzz: $(FUZZERS)
	FUZZ_BUILD_DIR=$(BUILD)/fuzz bash tests/fuzz/run.sh $(FUZZ_SECONDS)

fuzz-smoke: $(FUZZERS)
	FUZZ_BUILD_DIR=$(BUILD)/fuzz bash tests/fuzz/run.sh 5

# Installs what it needs (nginx, wrk, ab) like make test, then measures. BENCH=quick: a short run.
bench: all
	bash tests/setup.sh
	bash tests/bench/run.sh

format:
	clang-format -i $$(find stack http tools tests -name '*.cpp' -o -name '*.hpp')

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
