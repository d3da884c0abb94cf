# The two commands a newcomer needs: `make demo` and `make test`. Both install what is missing, build,
# and start a local Kafka; both are safe to run again.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
SUITE ?= examples/demo/suite.yaml

.PHONY: all bootstrap build kafka-up kafka-down demo test unit test-asan test-tsan format tidy clean

all: build

bootstrap:
	@scripts/bootstrap.sh

build: bootstrap
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

kafka-up: bootstrap
	@scripts/kafka.sh start

kafka-down:
	@scripts/kafka.sh stop

demo: build kafka-up
	@scripts/demo.sh $(BUILD) $(SUITE)

test: build kafka-up
	@cd $(BUILD) && ctest --output-on-failure --timeout 900 -j 2

unit: build
	@cd $(BUILD) && ctest --output-on-failure -L unit

# Sanitizer stages (CI runs both after `make test`): each builds, in its own folder, only what its labels need, at
# -O1 -g1 to keep the build short. The stage runner is built without sanitizers (see CMakeLists.txt).
SANITIZER_CMAKE = -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" $(CMAKE_FLAGS)
SANITIZER_TARGETS = --target unit_tests testfleet-worker testfleet-stage-runner

# ASan + UBSan: the unit tests and the hostile programs through the real sandbox (no broker).
test-asan: bootstrap
	@cmake -S . -B $(BUILD)-asan $(SANITIZER_CMAKE) -DTESTFLEET_ASAN=ON >/dev/null
	@cmake --build $(BUILD)-asan -j $(JOBS) $(SANITIZER_TARGETS)
	@cd $(BUILD)-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure --timeout 900 -j 2 -L 'unit|sandbox'

# TSan: the unit tests (their threads: the HTTP servers, the job loop's pieces, the stores), with tests/tsan.supp
# for third-party code. Left out: the test that bounds the aggregator's resident memory during uploads (TSan's
# shadow memory counts in it) and the one that times /healthz against a 1 s bound (TSan runs code 5-15x slower).
test-tsan: bootstrap
	@cmake -S . -B $(BUILD)-tsan $(SANITIZER_CMAKE) -DTESTFLEET_TSAN=ON >/dev/null
	@cmake --build $(BUILD)-tsan -j $(JOBS) --target unit_tests testfleet-stage-runner
	@cd $(BUILD)-tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$(CURDIR)/tests/tsan.supp \
	  ctest --output-on-failure --timeout 900 -j 2 -L unit -E 'memory stays bounded|answers within 1 s'

# Applies .clang-format to the project's C++ (CI checks it: the format_check test).
format:
	@scripts/format.sh

# clang-tidy with the root .clang-tidy over the parts' sources (CI runs it: the tidy_check test).
tidy: build
	@scripts/tidy.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-tsan
