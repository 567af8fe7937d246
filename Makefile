# pinit: the usual entry points. See docs/qemu.md for the boot tool.
#
#   make build     release binaries for x86_64, aarch64, armv7, riscv64
#                  (musl, static; tools/cargo-target)
#   make run       boot the default board in QEMU, console on this terminal
#                  (ARCH=aarch64|armv7|riscv64; leave with Ctrl-A X)
#   make test      everything: setup, host tests, tool tests, packaging tests
#                  (install, man pages, dist + offline build, APKBUILD), QEMU tests
#   make test-debian  a Debian bookworm root booted with pinit as /sbin/init
#                  (x86_64, ext4 disk, checks over ssh; root cached in
#                  target/debian/; CI runs it after `make test`)
#   make bench     benchmarks under QEMU, all four arches: docs/bench/RESULTS.md
#                  (BENCH_ARGS="--arch x86_64 --boots 5"; see docs/bench/README.md)
#   make bench-systemd  the same plus systemd (x86_64, a Debian root)
#   make clippy    lints (warnings are errors)
#   make fmt       format the Rust code
#   make docs      rewrite docs/config.md's option list from src/table/options.rs
#   make install   the binary, its links, the man pages and an example
#                  /etc/pinit.conf (DESTDIR=, PREFIX=, ARCH=, BOARD=, BIN=,
#                  LINK_*=yes|no: see "install" below); make uninstall
#   make man       man/pinit.8 and man/pinit.conf.5 from docs/ (tools/mkman)
#   make dist      pinit-VERSION.tar.gz, crates vendored (builds offline)
#   make check-buildroot BUILDROOT=/path   Buildroot's check-package on buildroot/

ARCH ?= x86_64
TEST_ARCH ?= all
BOOT_ARGS ?=
BENCH_ARGS ?=
TARGETS := x86_64-unknown-linux-musl aarch64-unknown-linux-musl \
	armv7-unknown-linux-musleabihf riscv64gc-unknown-linux-musl
PROGS := tests/qemu/progs/Cargo.toml

.PHONY: all build run test setup test-host test-tools test-pkg test-qemu test-debian clippy fmt fmt-check clean-qemu clean-debian
VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' Cargo.toml | head -n 1)

all: build

build:
	for t in $(TARGETS); do tools/cargo-target $$t build --release || exit 1; done

run:
	tests/qemu/boot --arch $(ARCH) --interactive $(BOOT_ARGS)

test: setup test-host test-tools test-pkg test-qemu

setup:
	tests/qemu/setup
	tests/pkg/setup

test-host:
	cargo test

test-tools:
	python3 -m unittest discover -s tools -p 'test_*.py'
	python3 -m unittest discover -s tests/qemu -p 'test_*.py'
	python3 -m unittest discover -s tests/qemu/bench -p 'test_*.py'
	python3 -m unittest discover -s tests/qemu/debian -p 'test_*.py'

test-qemu:
	tests/qemu/run --arch $(TEST_ARCH)

# Packaging: make install/uninstall into a temporary root, the man pages
# (current, lint-clean, rendered), make dist built offline in a temporary
# directory, and the Alpine APKBUILD's functions run on that tarball.
test-pkg:
	tests/pkg/install
	tests/pkg/man
	tests/pkg/dist

# The Debian system test (docs/qemu.md, "The Debian system test"): as
# root; the first run builds the root with debootstrap (about 5 minutes),
# later runs take it from target/debian/ (about 2). DEBIAN_ARGS: checks
# to run, --pending, --keep.
DEBIAN_ARGS ?=
test-debian: setup
	tests/qemu/debian/setup
	tests/qemu/debian/run $(DEBIAN_ARGS)

# Benchmarks: the bench tool's host tests, then 84 boots over the four
# arches and three inits (the last run: 107 minutes on 2 cores, beside a
# make test); writes docs/bench/RESULTS.md.
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
	for t in $(TARGETS); do tools/cargo-target $$t clippy --release -- -D warnings || exit 1; done
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

# ---------------------------------------------------------------- install
#
# make install DESTDIR=/path/to/root installs, and nothing else:
#   $(SBINDIR)/pinit                the static binary (BIN=, else built for
#                                   ARCH with BOARD compiled in)
#   $(SBINDIR)/init -> pinit        LINK_INIT=yes
#   /init -> sbin/init              LINK_ROOT_INIT=no (initramfs images; to
#                                   sbin/pinit when LINK_INIT=no)
#   $(BINDIR)/pinit -> pinit         LINK_BIN=yes (the control client)
#   $(SBINDIR)/poweroff, reboot, halt -> pinit   LINK_POWEROFF, LINK_REBOOT,
#                                   LINK_HALT=yes (no: keep busybox's)
#   $(SBINDIR)/telinit -> pinit     LINK_TELINIT=yes
#   $(MANDIR)/man8/pinit.8, man5/pinit.conf.5    INSTALL_MAN=yes
#   $(SYSCONFDIR)/pinit.conf        CONF= (default the board's table; empty:
#                                   none), never over an existing file
# make uninstall (same variables) removes the binary, the links that
# still point to it, the man pages, and pinit.conf if it is unchanged.
DESTDIR ?=
PREFIX ?= /usr
SBINDIR ?= /sbin
BINDIR ?= /bin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
# armv7 and riscv64 have triples of their own; other ARCHes ARCH-unknown-linux-musl.
TRIPLE_armv7 := armv7-unknown-linux-musleabihf
TRIPLE_riscv64 := riscv64gc-unknown-linux-musl
TRIPLE ?= $(or $(TRIPLE_$(ARCH)),$(ARCH)-unknown-linux-musl)
BOARD ?= $(if $(wildcard board-configs/qemu-$(ARCH).conf),qemu-$(ARCH),qemu-x86_64)
BIN ?=
CONF ?= board-configs/$(BOARD).conf
LINK_INIT ?= yes
LINK_ROOT_INIT ?= no
LINK_BIN ?= yes
LINK_POWEROFF ?= yes
LINK_REBOOT ?= yes
LINK_HALT ?= yes
LINK_TELINIT ?= yes
INSTALL_MAN ?= yes

PINIT_BIN = $(or $(BIN),target/$(TRIPLE)/release/pinit)
# Relative links: right in DESTDIR and on the target alike.
SBIN_LINKS = $(if $(filter yes,$(LINK_INIT)),init) \
	$(if $(filter yes,$(LINK_POWEROFF)),poweroff) \
	$(if $(filter yes,$(LINK_REBOOT)),reboot) \
	$(if $(filter yes,$(LINK_HALT)),halt) \
	$(if $(filter yes,$(LINK_TELINIT)),telinit)
# /init runs what /sbin/init is (as a root file system would boot).
ROOT_INIT = $(patsubst /%,%,$(SBINDIR))/$(if $(filter yes,$(LINK_INIT)),init,pinit)
# From $(BINDIR) up to / and down to $(SBINDIR): ../sbin/pinit from /bin.
empty :=
space := $(empty) $(empty)
BIN_TO_SBIN = $(subst $(space),,$(foreach d,$(subst /, ,$(BINDIR)),../))$(patsubst /%,%,$(SBINDIR))/pinit
.PHONY: install uninstall install-build man dist check-buildroot

install: $(if $(BIN),,install-build)
	install -d $(DESTDIR)$(SBINDIR)
	install -m 0755 $(PINIT_BIN) $(DESTDIR)$(SBINDIR)/pinit
	for l in $(SBIN_LINKS); do ln -sfn pinit $(DESTDIR)$(SBINDIR)/$$l || exit 1; done
	if [ "$(LINK_ROOT_INIT)" = yes ]; then ln -sfn $(ROOT_INIT) $(DESTDIR)/init; fi
	if [ "$(LINK_BIN)" = yes ]; then \
		install -d $(DESTDIR)$(BINDIR) && ln -sfn $(BIN_TO_SBIN) $(DESTDIR)$(BINDIR)/pinit; fi
	if [ "$(INSTALL_MAN)" = yes ]; then \
		install -D -m 0644 man/pinit.8 $(DESTDIR)$(MANDIR)/man8/pinit.8 && \
		install -D -m 0644 man/pinit.conf.5 $(DESTDIR)$(MANDIR)/man5/pinit.conf.5; fi
	if [ -n "$(CONF)" ] && [ ! -e $(DESTDIR)$(SYSCONFDIR)/pinit.conf ] \
		&& [ ! -L $(DESTDIR)$(SYSCONFDIR)/pinit.conf ]; then \
		install -D -m 0644 $(CONF) $(DESTDIR)$(SYSCONFDIR)/pinit.conf; fi

# Built only when BIN= is not given; cargo rebuilds when BOARD changes.
# The four targets through tools/cargo-target (armv7 and riscv64 need it),
# any other (Alpine's, Buildroot's) with cargo.
install-build:
	PINIT_BOARD=$(BOARD) $(if $(filter $(TRIPLE),$(TARGETS)),tools/cargo-target $(TRIPLE) build,cargo build --target $(TRIPLE)) --release

uninstall:
	for l in init poweroff reboot halt telinit; do \
		f=$(DESTDIR)$(SBINDIR)/$$l; \
		if [ -L $$f ] && [ "$$(readlink $$f)" = pinit ]; then rm -f $$f; fi; done
	if [ -L $(DESTDIR)/init ] && [ "$$(readlink $(DESTDIR)/init)" = $(ROOT_INIT) ]; then \
		rm -f $(DESTDIR)/init; fi
	if [ -L $(DESTDIR)$(BINDIR)/pinit ] && [ "$$(readlink $(DESTDIR)$(BINDIR)/pinit)" = $(BIN_TO_SBIN) ]; then \
		rm -f $(DESTDIR)$(BINDIR)/pinit; fi
	rm -f $(DESTDIR)$(SBINDIR)/pinit $(DESTDIR)$(MANDIR)/man8/pinit.8 $(DESTDIR)$(MANDIR)/man5/pinit.conf.5
	if [ -n "$(CONF)" ] && cmp -s $(CONF) $(DESTDIR)$(SYSCONFDIR)/pinit.conf; then \
		rm -f $(DESTDIR)$(SYSCONFDIR)/pinit.conf; fi

# The man pages are generated from docs/pinit.8.md and docs/config.md
# and committed, so installing needs no tool (tests/pkg/man checks that
# they are current).
man:
	python3 tools/mkman

# pinit-$(VERSION).tar.gz: the tracked files (without the QEMU tests and
# the fuzz crate), the crates vendored, a .cargo/config.toml using them.
dist:
	tools/mkdist

# Buildroot's own checker on the external tree (BUILDROOT: its source;
# BR_PYTHON: a python3 with the magic module, Debian's python3-magic,
# and flake8 and shellcheck on PATH).
BR_PYTHON ?= python3
check-buildroot:
	@test -n "$(BUILDROOT)" || { echo "usage: make check-buildroot BUILDROOT=/path/to/buildroot" >&2; exit 2; }
	cd buildroot && $(BR_PYTHON) $(abspath $(BUILDROOT))/utils/check-package -b \
		$$(find . -type f ! -name '*.md' | sort)

# The Debian roots and the test's ssh key (built again on use).
clean-debian:
	rm -rf target/debian
