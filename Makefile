# Thin wrapper around CMake.  `make run` and `make test` first make sure the
# Debian packages Postern builds and tests with are installed.

BUILD    ?= build
SANITIZE ?=
CMAKE_FLAGS ?=

DEB_PACKAGES = build-essential cmake pkg-config libevent-dev libssl-dev \
	liblmdb-dev libcap-dev libc-ares-dev libcrypt-dev libseccomp-dev \
	libcmocka-dev python3 python3-pytest swaks curl openssl clang

.PHONY: all build deps run test test-asan fuzz clean

all: build

build:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DPOSTERN_SANITIZE=$(SANITIZE) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $$(nproc)

deps:
	@sh tests/install-deps.sh $(DEB_PACKAGES)

run: deps build
	$(BUILD)/bin/postern dev ./run

test: deps build
	cd $(BUILD) && ctest --output-on-failure --timeout 900

test-asan:
	$(MAKE) test BUILD=build-asan SANITIZE=address,undefined

# Each libFuzzer target for FUZZ_SECONDS (default 60); 600 for the long run.
FUZZ_SECONDS ?= 60
fuzz: deps
	@cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DPOSTERN_FUZZ=ON \
		-DPOSTERN_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build-fuzz -j $$(nproc)
	FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh build-fuzz

clean:
	rm -rf build build-asan build-fuzz
