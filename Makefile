# SPDX-License-Identifier: MIT
# Thin wrapper over CMake, CTest and tools/copra-qemu.
#   make [build]   install missing packages, configure, build
#   make run       boot the default image in QEMU: Debian's Linux kernel to a
#                  busybox shell (`poweroff -f` or Ctrl-A X ends it)
#   make run-demo  boot the demo guest instead
#   make test      run every test: unit, qemu, fuzz, lint (CTEST_ARGS="-L unit" etc.);
#                  benchmarks are not tests and run only with `make bench`
#   make bench     run the benchmarks (tests labelled "bench")
#   make fuzz-long fuzz for FUZZ_MINUTES (default 30): hostile guests, the syscall
#                  fuzzer (>= 1M calls), the libFuzzer targets; not part of `make test`
#   make clean     remove the build directory

BUILD_DIR ?= build
CTEST_ARGS ?=
NPROC := $(shell nproc 2>/dev/null || echo 2)

.PHONY: all build deps run run-demo test bench fuzz-long clean

all: build

deps:
	tools/install-deps

build: deps
	cmake -S . -B $(BUILD_DIR)
	cmake --build $(BUILD_DIR) -j$(NPROC)

run: build
	tools/copra-qemu --kernel $(BUILD_DIR)/copra.elf --initrd $(BUILD_DIR)/initrd.cpio \
		--mem 512M --smp 2 --timeout 0 --append "init=vmm"

run-demo: build
	tools/copra-qemu --kernel $(BUILD_DIR)/copra.elf --initrd $(BUILD_DIR)/initrd.cpio \
		--append "init=vmm -- demo.conf"

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j2 -LE bench $(CTEST_ARGS)

bench: build
	ctest --test-dir $(BUILD_DIR) -L bench -V $(CTEST_ARGS) | tee $(BUILD_DIR)/bench.log
	@tests/bench/summarize < $(BUILD_DIR)/bench.log

fuzz-long: build
	BUILD_DIR=$(BUILD_DIR) tests/fuzz-long

clean:
	@case "$(BUILD_DIR)" in ""|.|..|/|./|../) echo "refusing to remove '$(BUILD_DIR)'" >&2; exit 1;; esac
	rm -rf -- $(BUILD_DIR)
