# SPDX-License-Identifier: GPL-2.0
#
# trampfd: out-of-tree Rust kernel module, its tests, samples and benchmarks.
#
#   make             build trampfd.ko (bootstraps the toolchain and kernel first)
#   make demo        boot a guest, load the module, run the closure sample
#   make check       every test: host unit tests, build, lints, guest selftests
#   make vm          interactive shell in the guest with the module loaded
#   make CLIPPY=1    build with clippy
#   make modules KUNIT=1   the KUnit test build, build/kunit/trampfd.ko
#   make kunit       boot a guest, load the test build, print its KTAP results
#   make check VM=vng      the guest selftests booted with virtme-ng instead
#   make vng CMD='./trampfd_test'   one command in a virtme-ng guest
#   make check ARCH=arm64 | ARCH=riscv   the same on another architecture
#   make check-all-arches                x86-64, arm64 and riscv64 in turn
#   make rustfmt-check | rust-analyzer | selftests | samples | clean
#
# KDIR=/path/to/kernel/build uses your own Rust-enabled kernel tree instead of
# the one scripts/bootstrap builds into ~/.cache/trampfd.
#
#   make install     install-module + install-config + install-lib (README,
#                    "Use it on your own kernel"); as root for the real system
#   make install-module   trampfd.ko for the kernel of KDIR: the kernel's
#                    modules_install (INSTALL_MOD_PATH, INSTALL_MOD_DIR: default
#                    updates/), then depmod
#   make install-config   udev rule (/dev/trampfd 0666, /dev/zpoline group
#                    zpoline 0660), modules-load.d entry, modprobe.d options
#                    (zpoline_gid = gid of the zpoline group, if it exists)
#   make install-lib libtrampfd and libtrampfd-ffi: headers, .so, .a and
#                    libtrampfd.pc under PREFIX (default /usr/local); on
#                    x86-64 also libsyscallhook.so, syscallhook.h and
#                    libsyscallhook.pc
#   Staging: DESTDIR=/tmp/root puts everything under /tmp/root (the module
#   too, unless INSTALL_MOD_PATH says otherwise). Also UDEVRULESDIR,
#   MODULESLOADDIR, MODPROBEDIR, ZPOLINE_GROUP, ZPOLINE_GID, LIBDIR,
#   INCLUDEDIR (see scripts/install-config, tools/lib/*/Makefile).

KDIR ?=
export KDIR
# The compiler follows the kernel's own .config (scripts/kbuild-args): LLVM
# for a clang-built kernel (LLVM=-19 for the one scripts/bootstrap builds),
# GCC for a GCC-built one such as Debian's; the kernel's rustc must be the
# one on PATH (or RUSTC=). LLVM=... on the command line overrides.
# ARCH=arm64 or ARCH=riscv: cross-build the module, the kernel (cached
# separately) and the trampfd selftests, and run them in QEMU (TCG).
ARCH ?= $(or $(TRAMPFD_ARCH),x86_64)
export TRAMPFD_ARCH := $(ARCH)
# KUNIT=1: build the module with its KUnit suites (rust/kunit.rs) in
# build/kunit/, a copy of Kbuild and rust/ (Kbuild's MO= refuses a source
# tree that has in-tree build products), so that trampfd.ko stays test-free.
KUNIT ?= 0
# TRAMPFD_ZPOLINE=n (x86-64): the module without /dev/zpoline (what
# CONFIG_TRAMPFD_ZPOLINE=n is in tree), in build/nozpoline/, a copy as for
# KUNIT=1, so that trampfd.ko keeps it.
TRAMPFD_ZPOLINE ?=
MODDIR = $(if $(filter 1,$(KUNIT)),$(CURDIR)/build/kunit,$(if \
	$(filter n,$(TRAMPFD_ZPOLINE)),$(CURDIR)/build/nozpoline,$(CURDIR)))
# VM=vng: make check runs the guest selftests under virtme-ng (scripts/vng).
VM ?=
export TRAMPFD_VM := $(VM)
# DEBUG=1: the debug kernel variant (KASAN, KFENCE, lockdep, kmemleak, ...).
DEBUG ?= 0
export TRAMPFD_DEBUG := $(DEBUG)

# Resolve the kernel build directory at recipe time (bootstraps if needed).
KDIR_SH = kdir="$(KDIR)"; [ -n "$$kdir" ] || kdir=$$(bash scripts/bootstrap --print-kdir | tail -1)
# ... and the toolchain arguments for it (after KDIR_SH; fails with one
# message when the kernel and the toolchain do not fit).
KARGS_SH = kargs=$$(bash scripts/kbuild-args "$$kdir" \
	$(if $(filter command line environment,$(origin LLVM)),--llvm '$(LLVM)')) || exit 1

.PHONY: all modules kunit vng demo check vm clean rustfmt-check rustfmt rust-analyzer \
	hosttest selftests samples bench stress fuzz check-all-arches \
	install install-module install-config install-lib dkms-src dkms-install check-distro

# make install: where things go (DESTDIR stages into a directory).
DESTDIR ?=
INSTALL_MOD_PATH ?= $(DESTDIR)
INSTALL_MOD_DIR ?=
UDEVRULESDIR ?= /etc/udev/rules.d
MODULESLOADDIR ?= /etc/modules-load.d
MODPROBEDIR ?= /etc/modprobe.d
ZPOLINE_GROUP ?= zpoline
ZPOLINE_GID ?=

all: modules

modules:
ifneq ($(MODDIR),$(CURDIR))
	@mkdir -p $(MODDIR)/rust && cp -p Kbuild $(MODDIR)/ && \
		rsync -a --delete --exclude=/hosttest --include='*/' --include='*.rs' \
		--include='*.c' --include='*.h' --exclude='*' rust/ $(MODDIR)/rust/
endif
	@$(KDIR_SH); $(KARGS_SH); $(MAKE) -C "$$kdir" M=$(MODDIR) $$kargs ARCH=$(ARCH) \
		$(if $(filter 1,$(KUNIT)),TRAMPFD_KUNIT=1) $(if $(CLIPPY),CLIPPY=1) modules

# The KUnit suites in a guest (x86-64): KTAP of every trampfd suite.
kunit:
	$(MAKE) --no-print-directory modules KUNIT=1
	bash scripts/vm --name vm-kunit --module build/kunit/trampfd.ko -- \
		'cat /sys/kernel/debug/kunit/trampfd_*/results'

# One command (CMD, default: the trampfd selftest) in a virtme-ng guest
# booting the cached kernel, run from this directory with the module loaded.
CMD ?= ./selftests/out/trampfd_test
vng: modules selftests
	bash scripts/vng -- '$(CMD)'

selftests:
	@$(KDIR_SH); bash scripts/build-userspace "$$kdir" selftests

samples:
	@$(KDIR_SH); bash scripts/build-userspace "$$kdir" samples

hosttest:
	cd rust/hosttest && cargo test

rustfmt-check:
	rustfmt --check --config-path .rustfmt.toml $$(git ls-files 'rust/*.rs' 'bench/*.rs' 'samples/*.rs' 'tools/*.rs')

rustfmt:
	rustfmt --config-path .rustfmt.toml $$(git ls-files 'rust/*.rs' 'bench/*.rs' 'samples/*.rs' 'tools/*.rs')

rust-analyzer:
	@$(KDIR_SH); $(KARGS_SH); $(MAKE) -C "$$kdir" M=$(CURDIR) $$kargs ARCH=$(ARCH) rust-analyzer

demo: modules samples
	bash scripts/demo

check:
	bash scripts/check

# trampfd on a distribution's shipped kernel, as its users get it (x86-64):
# a cached Debian trixie root, DKMS with Debian's own rustc, Debian's signed
# vmlinuz booted with that userland (scripts/check-distro; part of check).
DISTRO ?= debian
check-distro: selftests
	bash scripts/check-distro $(DISTRO)

# Every architecture in turn; fails if any of them fails.
check-all-arches:
	rc=0; for a in x86_64 arm64 riscv; do \
		echo "===== make check ARCH=$$a"; \
		$(MAKE) --no-print-directory check ARCH=$$a || rc=1; \
	done; exit $$rc

# Full-size stress run (hardening): N threads x STRESS_ITERS cycles.
STRESS_ITERS ?= 100000
STRESS_THREADS ?= 4
stress: modules selftests
	bash scripts/vm --timeout 7200 -- 'STRESS_ITERS=$(STRESS_ITERS) STRESS_THREADS=$(STRESS_THREADS) STRESS_PROCS=2000 ./stress_test'

# Fuzz for SECONDS (default 300) in the guest; crashes are kept in the guest's
# /tmp/fuzz-crashes and printed.
SECONDS ?= 300
fuzz: modules selftests
	bash scripts/vm --timeout $$(( $(SECONDS) + 600 )) -- './fuzz $(SECONDS); rc=$$?; cat /tmp/fuzz-crashes/* 2>/dev/null; exit $$rc'

# Benchmarks (not tests): host closure call cost and syscall hooks, guest
# paths through the module and real programs hooked; writes bench/results/.
bench: modules
	@$(KDIR_SH); bash scripts/build-userspace "$$kdir" bench && \
		bash scripts/build-userspace "$$kdir" hook
	bash scripts/bench

install: install-module install-config install-lib

# DKMS (README, "Use it on your own kernel"): the module's sources, dkms.conf
# and the scripts its MAKE step runs, in $(DESTDIR)/usr/src/trampfd-VERSION,
# ready for `dkms add trampfd/VERSION`; dkms-install also runs add, build
# and install for KERNELVER (default: the running kernel).
DKMS_VERSION = $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' dkms.conf)
DKMS_SRC = $(DESTDIR)/usr/src/trampfd-$(DKMS_VERSION)
KERNELVER ?= $(shell uname -r)
dkms-src:
	@rm -rf "$(DKMS_SRC)" && mkdir -p "$(DKMS_SRC)/scripts" && \
	cp -p dkms.conf Kbuild Makefile "$(DKMS_SRC)/" && \
	cp -p scripts/dkms-make scripts/kernel-rust-meta scripts/kbuild-args "$(DKMS_SRC)/scripts/" && \
	cp -a include "$(DKMS_SRC)/" && \
	mkdir -p "$(DKMS_SRC)/rust" && cd rust && find . -path ./hosttest -prune -o -type f \
		\( -name '*.rs' -o -name '*.c' -o -name '*.h' \) -exec cp --parents {} "$(DKMS_SRC)/rust/" \; && \
	echo "  DKMS    $(DKMS_SRC)"

dkms-install: dkms-src
	dkms add trampfd/$(DKMS_VERSION)
	dkms build trampfd/$(DKMS_VERSION) -k $(KERNELVER)
	dkms install trampfd/$(DKMS_VERSION) -k $(KERNELVER)

# The kernel's modules_install puts trampfd.ko into
# $(INSTALL_MOD_PATH)/lib/modules/<KDIR's release>/$(INSTALL_MOD_DIR) and runs
# depmod only if KDIR has a System.map; distribution header packages have
# none, and then depmod runs here (with -b for a staging root).
install-module: modules
	@$(KDIR_SH); \
	rel=$$(cat "$$kdir/include/config/kernel.release" 2>/dev/null || \
		$(MAKE) -s -C "$$kdir" kernelrelease) && \
	$(KARGS_SH) && $(MAKE) -C "$$kdir" M=$(CURDIR) $$kargs ARCH=$(ARCH) \
		$(if $(INSTALL_MOD_PATH),INSTALL_MOD_PATH=$(abspath $(INSTALL_MOD_PATH))) \
		$(if $(INSTALL_MOD_DIR),INSTALL_MOD_DIR=$(INSTALL_MOD_DIR)) modules_install && \
	{ [ -r "$$kdir/System.map" ] || { \
		echo "  DEPMOD  $(abspath $(INSTALL_MOD_PATH))/lib/modules/$$rel (no System.map in KDIR)" && \
		PATH="$$PATH:/usr/sbin:/sbin" depmod -a \
			$(if $(INSTALL_MOD_PATH),-b $(abspath $(INSTALL_MOD_PATH))) "$$rel"; }; }

install-config:
	@DESTDIR="$(abspath $(DESTDIR))" UDEVRULESDIR="$(UDEVRULESDIR)" \
		MODULESLOADDIR="$(MODULESLOADDIR)" MODPROBEDIR="$(MODPROBEDIR)" \
		ZPOLINE_GROUP="$(ZPOLINE_GROUP)" ZPOLINE_GID="$(ZPOLINE_GID)" \
		bash scripts/install-config

# PREFIX, LIBDIR and INCLUDEDIR reach tools/lib/trampfd's (and, on x86-64,
# tools/lib/syscallhook's) Makefile as they are given; ldconfig only for a
# real (not staged) install as root.
install-lib:
	@$(MAKE) -s -C tools/lib/trampfd O=$(CURDIR)/build/$(ARCH)/libtrampfd \
		$(if $(DESTDIR),DESTDIR=$(abspath $(DESTDIR))) install
	@$(if $(filter x86_64,$(ARCH)),$(MAKE) -s -C tools/lib/syscallhook \
		O=$(CURDIR)/build/$(ARCH)/libsyscallhook \
		$(if $(DESTDIR),DESTDIR=$(abspath $(DESTDIR))) install,:)
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then \
		ldconfig; fi

vm: modules selftests samples
	bash scripts/vm --shell

clean:
	@$(KDIR_SH) 2>/dev/null; [ ! -d "$$kdir" ] || { $(KARGS_SH); $(MAKE) -C "$$kdir" M=$(CURDIR) $$kargs ARCH=$(ARCH) clean; }
	rm -rf build selftests/out samples/out bench/out rust/hosttest/target
