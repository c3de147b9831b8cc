# A thin front door over CMake (as Neovim has): `make run` and `make test`
# are the README's two commands.  Everything real lives in CMakeLists.txt.

BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
BUILD_VG   ?= build-vg
CMAKE_ARGS ?=
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

# cmake --build runs make too; keep its output to what is being built.
MAKEFLAGS  += --no-print-directory
CONFIG     ?= conf/vitals.ini

.PHONY: all deps test-deps build run test sanitize fuzz valgrind clean

all: build

deps:
	@scripts/install-deps.sh

test-deps:
	@scripts/install-deps.sh --test

build: deps
	@cmake -S . -B $(BUILD) -DVITALS_BUILD_TESTS=OFF $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# Builds, then runs the host with the default config and the bundled plugins,
# and the demo application beside it (DEMO=0 for the host alone).
run: build
	@scripts/run.sh $(BUILD) $(CONFIG)

# Builds with -Werror and runs every test suite.
test: test-deps
	@cmake -S . -B $(BUILD) -DVITALS_BUILD_TESTS=ON -DVITALS_WERROR=ON $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Builds (tests on: the benchmarks use the test suite's node modules), then
# runs every benchmark of DESIGN.md section 5 (bench/run; BENCH=quick for a
# short pass).  Figures and how to read them: docs/benchmarks.md.
.PHONY: bench
bench: test-deps
	@cmake -S . -B $(BUILD) -DVITALS_BUILD_TESTS=ON $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@BUILD=$(BUILD) bench/run $(BENCH)

# The same suites under AddressSanitizer and UndefinedBehaviorSanitizer.
sanitize: test-deps
	@cmake -S . -B $(BUILD_ASAN) -DVITALS_BUILD_TESTS=ON -DVITALS_WERROR=ON -DVITALS_SANITIZE=ON \
		-DCMAKE_BUILD_TYPE=Debug $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD_ASAN) -j $(JOBS)
	@cd $(BUILD_ASAN) && ctest --output-on-failure -j $(JOBS)

# libFuzzer (clang) on the parsers that take outside input, each target for
# FUZZ_SECONDS from the seed corpus in tests/fuzz/corpus (tests/fuzz/).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= ws_codec statsd ingest_json config
fuzz: test-deps
	@cmake -S tests/fuzz -B $(BUILD_FUZZ) -DCMAKE_C_COMPILER=clang -DVITALS_FUZZ=ON >/dev/null
	@cmake --build $(BUILD_FUZZ) -j $(JOBS)
	@tests/fuzz/run.sh $(BUILD_FUZZ) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The integration suites with every host under valgrind (memcheck): any
# error or definitely lost block fails the test (VITALS_HOST_WRAPPER in
# tests/integration/host.mjs reads each host's log).  Its own build, without
# sanitizers.  Left out: install (builds and runs an installed tree, not a
# host started by the harness), prometheus (scrapes with a real Prometheus
# server on its own clock, which a 20x slower host cannot meet) and tls
# (GnuTLS under memcheck, and 170 MB of WebSocket traffic through the host).
VALGRIND_SCALE   ?= 8
VALGRIND_EXCLUDE ?= integration\.(install|prometheus|tls)$$
VALGRIND_LOGS     = $(abspath $(BUILD_VG))/valgrind
VALGRIND         ?= valgrind --leak-check=full --errors-for-leak-kinds=definite \
	--show-leak-kinds=definite --error-exitcode=99 --num-callers=30 \
	--log-file=$(VALGRIND_LOGS)/%p.log
valgrind: test-deps
	@cmake -S . -B $(BUILD_VG) -DVITALS_BUILD_TESTS=ON -DVITALS_WERROR=ON \
		-DVITALS_INTEGRATION_TIMEOUT=1200 $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD_VG) -j $(JOBS)
	@rm -rf $(VALGRIND_LOGS) && mkdir -p $(VALGRIND_LOGS)
	@cd $(BUILD_VG) && VITALS_HOST_WRAPPER="$(VALGRIND)" VITALS_TEST_TIME_SCALE=$(VALGRIND_SCALE) \
		ctest --output-on-failure -j $(JOBS) -L integration -E '$(VALGRIND_EXCLUDE)'

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ) $(BUILD_VG)
