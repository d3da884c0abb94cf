# The two commands a newcomer needs: `make demo` and `make test`. Both install what is missing, build,
# and start a local Kafka; both are safe to run again.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
SUITE ?= examples/demo/suite.yaml

.PHONY: all bootstrap build kafka-up kafka-down demo test unit clean

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

clean:
	rm -rf $(BUILD)
