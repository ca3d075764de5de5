# SPDX-License-Identifier: GPL-2.0
# Shared settings of the trampfd scripts (sourced, not executed).

TRAMPFD_CACHE=${TRAMPFD_CACHE:-$HOME/.cache/trampfd}
TRAMPFD_TOOLS=$TRAMPFD_CACHE/tools
KPKG=linux-source-7.3
KSRC=$TRAMPFD_CACHE/src/$KPKG
BINDGEN_VERSION=0.72.1
# virtme-ng (scripts/vng, make check VM=vng), pinned, from PyPI into a venv.
VNG_VERSION=1.42
VNG_VENV=$TRAMPFD_CACHE/venv-vng
export LIBCLANG_PATH=${LIBCLANG_PATH:-/usr/lib/llvm-19/lib}
export PATH="$TRAMPFD_TOOLS/bin:$HOME/.cargo/bin:$PATH"

_lib_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# The target architecture, in the kernel's ARCH spelling: x86_64 (default),
# arm64 or riscv (riscv64). make passes ARCH= through as TRAMPFD_ARCH.
TRAMPFD_ARCH=${TRAMPFD_ARCH:-x86_64}
case "$TRAMPFD_ARCH" in
x86_64 | x86) TRAMPFD_ARCH=x86_64 ;;
arm64 | aarch64) TRAMPFD_ARCH=arm64 ;;
riscv | riscv64) TRAMPFD_ARCH=riscv ;;
*) echo "trampfd: unsupported ARCH=$TRAMPFD_ARCH (x86_64, arm64, riscv)" >&2; exit 2 ;;
esac
export TRAMPFD_ARCH

# The compiler for static guest binaries of $TRAMPFD_ARCH (Debian's cross
# gcc for the foreign architectures).
guest_cc() {
	case "$TRAMPFD_ARCH" in
	x86_64) echo "${CC:-gcc}" ;;
	arm64) echo aarch64-linux-gnu-gcc ;;
	riscv) echo riscv64-linux-gnu-gcc ;;
	esac
}

# The kernel image a build directory boots from.
kernel_image() {
	case "$TRAMPFD_ARCH" in
	x86_64) echo "$1/arch/x86/boot/bzImage" ;;
	*) echo "$1/arch/$TRAMPFD_ARCH/boot/Image" ;;
	esac
}

# The config fragments of the selected variant (TRAMPFD_DEBUG=1: debug).
config_fragments() {
	echo "$_lib_top/selftests/config"
	echo "$_lib_top/selftests/config.$TRAMPFD_ARCH"
	if [ "${TRAMPFD_DEBUG:-0}" = 1 ]; then
		echo "$_lib_top/selftests/config.debug"
	fi
}

# The kernel build directory for the current source, variant and fragments.
kernel_build_dir() {
	local key variant=$TRAMPFD_ARCH
	[ "${TRAMPFD_DEBUG:-0}" = 1 ] && variant=$variant-debug
	key=$( { cat "$KSRC/.trampfd-unpacked" 2>/dev/null || echo "$KPKG"
		config_fragments | xargs cat; echo "kbuild-v1"; } |
		sha256sum | cut -c1-12)
	echo "$TRAMPFD_CACHE/build/$variant-$key"
}

# The libffi source package whose testsuite runs through the trampfd
# drop-in (Debian 12's version; scripts/bootstrap fetches it).
FFIPKG=libffi
FFIVER=3.4.4-1
FFISRC=$TRAMPFD_CACHE/src/libffi-3.4.4
