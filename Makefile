# pinit: the usual entry points. See docs/qemu.md for the boot tool.
#
#   make build     release binaries for x86_64 and aarch64 (musl, static)
#   make run       boot the default board in QEMU, console on this terminal
#                  (ARCH=aarch64 for the other arch; leave with Ctrl-A X)
#   make test      everything: setup, host tests, tool tests, QEMU tests
#   make test-debian  a Debian bookworm root booted with pinit as /sbin/init
#                  (x86_64, ext4 disk, checks over ssh; root cached in
#                  target/debian/; CI runs it after `make test`)
#   make bench     benchmarks under QEMU, both arches: docs/bench/RESULTS.md
#                  (BENCH_ARGS="--arch x86_64 --boots 5"; see docs/bench/README.md)
#   make bench-systemd  the same plus systemd (x86_64, a Debian root)
#   make clippy    lints (warnings are errors)
#   make fmt       format the Rust code

ARCH ?= x86_64
TEST_ARCH ?= all
BOOT_ARGS ?=
BENCH_ARGS ?=
TARGETS := x86_64-unknown-linux-musl aarch64-unknown-linux-musl
PROGS := tests/qemu/progs/Cargo.toml

.PHONY: all build run test setup test-host test-tools test-qemu test-debian clippy fmt fmt-check clean-qemu clean-debian

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
	python3 -m unittest discover -s tests/qemu/debian -p 'test_*.py'

test-qemu:
	tests/qemu/run --arch $(TEST_ARCH)

# The Debian system test (docs/qemu.md, "The Debian system test"): as
# root; the first run builds the root with debootstrap (about 5 minutes),
# later runs take it from target/debian/ (about 2). DEBIAN_ARGS: checks
# to run, --pending, --keep.
DEBIAN_ARGS ?=
test-debian: setup
	tests/qemu/debian/setup
	tests/qemu/debian/run $(DEBIAN_ARGS)

# Benchmarks: the bench tool's host tests, then 24 boots (about 6
# minutes on 2 cores); writes docs/bench/RESULTS.md.
.PHONY: bench
bench: setup
	tests/qemu/bench/setup
	python3 -m unittest discover -s tests/qemu/bench -p 'test_*.py'
	python3 -m unittest discover -s tests/qemu/debian -p 'test_*.py'
	tests/qemu/bench/run $(BENCH_ARGS)

# The same with systemd as a peer of pinit (x86_64 only): its Debian root
# comes from debootstrap (installed by tests/qemu/bench/setup), built
# once into target/bench/systemd/. Writes docs/bench/RESULTS.md with
# every init.
.PHONY: bench-systemd
bench-systemd: setup
	tests/qemu/bench/setup
	python3 -m unittest discover -s tests/qemu/bench -p 'test_*.py'
	python3 -m unittest discover -s tests/qemu/debian -p 'test_*.py'
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

fmt-check:
	cargo fmt --check
	cargo fmt --check --manifest-path $(PROGS)

# Kernels, busybox, images and logs of the QEMU tests (fetched again on use).
clean-qemu:
	rm -rf target/qemu

# The Debian roots and the test's ssh key (built again on use).
clean-debian:
	rm -rf target/debian
