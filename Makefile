# SPDX-License-Identifier: GPL-2.0
#
# trampfd: out-of-tree Rust kernel module, its tests, samples and benchmarks.
#
#   make             build trampfd.ko (bootstraps the toolchain and kernel first)
#   make demo        boot a guest, load the module, run the closure sample
#   make check       every test: host unit tests, build, lints, guest selftests
#   make vm          interactive shell in the guest with the module loaded
#   make CLIPPY=1    build with clippy
#   make rustfmt-check | rust-analyzer | selftests | samples | clean
#
# KDIR=/path/to/kernel/build uses your own Rust-enabled kernel tree instead of
# the one scripts/bootstrap builds into ~/.cache/trampfd.

LLVM ?= -19
KDIR ?=
export KDIR

# Resolve the kernel build directory at recipe time (bootstraps if needed).
KDIR_SH = kdir="$(KDIR)"; [ -n "$$kdir" ] || kdir=$$(bash scripts/bootstrap --print-kdir | tail -1)

.PHONY: all modules demo check vm clean rustfmt-check rustfmt rust-analyzer \
	hosttest selftests samples bench

all: modules

modules:
	@$(KDIR_SH); $(MAKE) -C "$$kdir" M=$(CURDIR) LLVM=$(LLVM) $(if $(CLIPPY),CLIPPY=1) modules

selftests:
	@$(KDIR_SH); bash scripts/build-userspace "$$kdir" selftests

samples:
	@$(KDIR_SH); bash scripts/build-userspace "$$kdir" samples

hosttest:
	cd rust/hosttest && cargo test

rustfmt-check:
	rustfmt --check --config-path .rustfmt.toml $$(git ls-files 'rust/*.rs' 'bench/*.rs' 'samples/*.rs')

rustfmt:
	rustfmt --config-path .rustfmt.toml $$(git ls-files 'rust/*.rs' 'bench/*.rs' 'samples/*.rs')

rust-analyzer:
	@$(KDIR_SH); $(MAKE) -C "$$kdir" M=$(CURDIR) LLVM=$(LLVM) rust-analyzer

demo: modules samples
	bash scripts/demo

check:
	bash scripts/check

vm: modules selftests samples
	bash scripts/vm --shell

clean:
	@$(KDIR_SH) 2>/dev/null; [ ! -d "$$kdir" ] || $(MAKE) -C "$$kdir" M=$(CURDIR) LLVM=$(LLVM) clean
	rm -rf build selftests/out samples/out bench/out rust/hosttest/target
