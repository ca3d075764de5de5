# SPDX-License-Identifier: GPL-2.0
# Shared settings of the trampfd scripts (sourced, not executed).

TRAMPFD_CACHE=${TRAMPFD_CACHE:-$HOME/.cache/trampfd}
TRAMPFD_TOOLS=$TRAMPFD_CACHE/tools
KPKG=linux-source-7.3
KSRC=$TRAMPFD_CACHE/src/$KPKG
BINDGEN_VERSION=0.72.1
export LIBCLANG_PATH=${LIBCLANG_PATH:-/usr/lib/llvm-19/lib}
export PATH="$TRAMPFD_TOOLS/bin:$HOME/.cargo/bin:$PATH"

_lib_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# The config fragments of the selected variant (TRAMPFD_DEBUG=1: debug).
config_fragments() {
	echo "$_lib_top/selftests/config"
	if [ "${TRAMPFD_DEBUG:-0}" = 1 ]; then
		echo "$_lib_top/selftests/config.debug"
	fi
}

# The kernel build directory for the current source, variant and fragments.
kernel_build_dir() {
	local key variant=x86_64
	[ "${TRAMPFD_DEBUG:-0}" = 1 ] && variant=x86_64-debug
	key=$( { cat "$KSRC/.trampfd-unpacked" 2>/dev/null || echo "$KPKG"
		config_fragments | xargs cat; echo "kbuild-v1"; } |
		sha256sum | cut -c1-12)
	echo "$TRAMPFD_CACHE/build/$variant-$key"
}
