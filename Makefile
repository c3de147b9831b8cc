# A thin front door over CMake (as Neovim has): `make run` and `make test`
# are the README's two commands.  Everything real lives in CMakeLists.txt.

BUILD      ?= build
BUILD_ASAN ?= build-asan
CMAKE_ARGS ?=
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

# cmake --build runs make too; keep its output to what is being built.
MAKEFLAGS  += --no-print-directory
CONFIG     ?= conf/vitals.ini

.PHONY: all deps test-deps build run test sanitize clean

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

# The same suites under AddressSanitizer and UndefinedBehaviorSanitizer.
sanitize: test-deps
	@cmake -S . -B $(BUILD_ASAN) -DVITALS_BUILD_TESTS=ON -DVITALS_WERROR=ON -DVITALS_SANITIZE=ON \
		-DCMAKE_BUILD_TYPE=Debug $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD_ASAN) -j $(JOBS)
	@cd $(BUILD_ASAN) && ctest --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
