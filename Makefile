# pinit: the usual entry points. See docs/qemu.md for the boot tool.
#
#   make build     release binaries for x86_64 and aarch64 (musl, static)
#   make run       boot the default board in QEMU, console on this terminal
#                  (ARCH=aarch64 for the other arch; leave with Ctrl-A X)
#   make test      everything: setup, host tests, tool tests, QEMU tests
#   make bench     benchmarks under QEMU, both arches: docs/bench/RESULTS.md
#                  (BENCH_ARGS="--arch x86_64 --boots 5"; see docs/bench/README.md)
#   make bench-systemd  the same plus systemd (x86_64, a Debian root)
#   make clippy    lints (warnings are errors)
#   make fmt       format the Rust code
#   make docs      rewrite docs/config.md's option list from src/table/options.rs

ARCH ?= x86_64
TEST_ARCH ?= all
BOOT_ARGS ?=
BENCH_ARGS ?=
TARGETS := x86_64-unknown-linux-musl aarch64-unknown-linux-musl
PROGS := tests/qemu/progs/Cargo.toml

.PHONY: all build run test setup test-host test-tools test-qemu clippy fmt fmt-check clean-qemu

all: build

build:
	for t in $(TARGETS); do cargo build --release --target $$t || exit 1; done

run:
	tests/qemu/boot --arch $(ARCH) --interactive $(BOOT_ARGS)

test: setup test-host test-tools test-qemu

setup:
	tests/qemu/setup

test-host:
	cargo test

test-tools:
	python3 -m unittest discover -s tests/qemu -p 'test_*.py'
	python3 -m unittest discover -s tests/qemu/bench -p 'test_*.py'

test-qemu:
	tests/qemu/run --arch $(TEST_ARCH)

# Benchmarks: the bench tool's host tests, then 24 boots (about 6
# minutes on 2 cores); writes docs/bench/RESULTS.md.
.PHONY: bench
bench: setup
	tests/qemu/bench/setup
	python3 -m unittest discover -s tests/qemu/bench -p 'test_*.py'
	tests/qemu/bench/run $(BENCH_ARGS)

# The same with systemd as a peer of pinit (x86_64 only): its Debian root
# comes from debootstrap (installed by tests/qemu/bench/setup), built
# once into target/bench/systemd/. Writes docs/bench/RESULTS.md with
# every init.
.PHONY: bench-systemd
bench-systemd: setup
	tests/qemu/bench/setup
	python3 -m unittest discover -s tests/qemu/bench -p 'test_*.py'
	tests/qemu/bench/run --all $(BENCH_ARGS)

# The bin target is no_std with its own panic handler: lint it per
# musl target, and the library with its tests on the host.
clippy:
	cargo clippy --lib --tests -- -D warnings
	for t in $(TARGETS); do cargo clippy --release --target $$t -- -D warnings || exit 1; done
	cargo clippy --manifest-path $(PROGS) -- -D warnings

fmt:
	cargo fmt
	cargo fmt --manifest-path $(PROGS)

# docs/config.md's option list is generated from the option table;
# `cargo test` fails when it is out of date.
.PHONY: docs
docs:
	cargo test --lib -- --ignored --exact table::docs::write_docs

fmt-check:
	cargo fmt --check
	cargo fmt --check --manifest-path $(PROGS)

# Kernels, busybox, images and logs of the QEMU tests (fetched again on use).
clean-qemu:
	rm -rf target/qemu
