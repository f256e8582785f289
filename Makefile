# The two commands a newcomer needs: `make run` and `make test`. Both install what is
# missing (scripts/install-deps.sh), build, and then run the server or every test.
JOBS        ?= $(shell nproc)
BUILD       ?= build
ASAN_BUILD  ?= build-asan
FUZZ_BUILD  ?= build-fuzz
FUZZ_SECONDS ?= 60
CMAKE_GEN   := -G Ninja
CONFIG      ?=
ARGS        ?=

.PHONY: all deps build build-asan run test unit-asan bench fuzz format format-check clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DSB_SANITIZE=ON -DSB_BENCH=OFF

build-asan: deps $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# Starts the platform on its embedded defaults (SQLite in ./data). CONFIG=FILE and
# ARGS="--set key=value" pass through.
run: build
	./$(BUILD)/switchboard serve $(if $(CONFIG),--config $(CONFIG)) $(ARGS)

# Every test through CTest: the Release build runs all of them; the unit tests run again
# under AddressSanitizer and UndefinedBehaviorSanitizer.
test: build build-asan
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) -L unit
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: build
	bash bench/run.sh

# libFuzzer over the parsers, FUZZ_SECONDS per target (make fuzz FUZZ_SECONDS=600).
fuzz: deps
	cmake -S . -B $(FUZZ_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_COMPILER=clang++ -DSB_FUZZ=ON -DSB_TESTS=OFF -DSB_BENCH=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	bash fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

format:
	find src tests bench fuzz -name '*.h' -o -name '*.cc' | xargs clang-format -i

format-check:
	find src tests bench fuzz -name '*.h' -o -name '*.cc' | xargs clang-format --dry-run -Werror

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
