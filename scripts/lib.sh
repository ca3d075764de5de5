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
# The second libffi (selftests/libffi/README, "Other libffi builds"):
# Debian 13's source package, unpacked with its Debian patches into
# FFISRC2, and its upstream tarball (libffi_3.4.8.orig.tar.gz, upstream's
# release tarball) unpatched into FFISRC2UP.
FFISUITE2=trixie
FFIVER2=3.4.8-2
FFISRC2=$TRAMPFD_CACHE/src/libffi-3.4.8
FFISRC2UP=$TRAMPFD_CACHE/src/libffi-3.4.8-upstream

# Progress of the long steps of scripts/bootstrap and scripts/build-libffi
# (package installs, the bindgen and kernel builds, downloads): which step
# runs, for how long, and what it has done so far. The lines go to file
# descriptor $TRAMPFD_PROGRESS_FD when the caller opens one (scripts/check:
# its console, while bootstrap's stderr, the full log, goes to a file) and
# to stderr as well; without one, to stderr only. If that descriptor is a
# terminal and stderr is not, the step's line is rewritten in place every
# 2 s; otherwise (CI logs, pipes, files) a new line comes every
# $TRAMPFD_PROGRESS_INTERVAL seconds (60), without carriage returns.
_progress_fd=2
if [[ ${TRAMPFD_PROGRESS_FD:-} =~ ^[0-9]+$ ]] && [ "$TRAMPFD_PROGRESS_FD" != 2 ] &&
	{ true >&"$TRAMPFD_PROGRESS_FD"; } 2>/dev/null; then
	_progress_fd=$TRAMPFD_PROGRESS_FD
fi
_progress_tty=0
if [ "$_progress_fd" != 2 ] && [ -t "$_progress_fd" ] && [ ! -t 2 ]; then
	_progress_tty=1
fi
# Set once a step ran under progress_run (a script then says its total).
PROGRESS_USED=

# A duration in seconds as 7s, 3m20s or 1h02m05s.
progress_time() {
	local s=$1
	if [ "$s" -ge 3600 ]; then
		printf '%dh%02dm%02ds' $((s / 3600)) $((s % 3600 / 60)) $((s % 60))
	elif [ "$s" -ge 60 ]; then
		printf '%dm%02ds' $((s / 60)) $((s % 60))
	else
		printf '%ds' "$s"
	fi
}

# Write "[script] $2" as a progress line of kind $1: "line" (a finished
# line, also in the log), "open" (a step's first line: left open on a
# terminal for the ticker to rewrite; a plain line elsewhere) or "tick" (the
# ticker's update; in the log only where it is a line of its own).
_progress_out() {
	local kind=$1 line="[${0##*/}] $2" cols
	if [ "$_progress_tty" = 1 ]; then
		# Cut to the terminal's width (a wrapped line is not rewritten).
		cols=$(stty size <&"$_progress_fd" 2>/dev/null) || cols=
		cols=${cols#* }
		[[ $cols =~ ^[0-9]+$ ]] && [ "$cols" -ge 20 ] || cols=1000
		if [ "$kind" = line ]; then
			printf '\r\033[K%s\n' "$line" >&"$_progress_fd"
		else
			printf '\r\033[K%s' "${line:0:cols-1}" >&"$_progress_fd"
		fi
		[ "$kind" = tick ] || printf '%s\n' "$line" >&2
	else
		printf '%s\n' "$line" >&"$_progress_fd"
		[ "$_progress_fd" = 2 ] || printf '%s\n' "$line" >&2
	fi
}

# A line for the user (console and log), e.g. a script's total time.
progress_say() { _progress_out line "$*"; }

# The ticker of progress_run (in the background): every interval the label,
# the time since $3 and the output of the status command $2 (if any), until
# it is killed or the script that started it is gone.
_progress_ticker() {
	local label=$1 status=$2 t0=$3 every=${TRAMPFD_PROGRESS_INTERVAL:-60}
	local next extra sl=
	[ "$_progress_tty" = 1 ] && every=2
	trap '[ -z "$sl" ] || kill "$sl" 2>/dev/null; exit 0' TERM
	next=$((t0 + every))
	while kill -0 $$ 2>/dev/null; do
		sleep 1 >/dev/null 2>&1 &
		sl=$!
		wait "$sl" || true
		sl=
		[ "$EPOCHSECONDS" -ge "$next" ] || continue
		while [ "$next" -le "$EPOCHSECONDS" ]; do next=$((next + every)); done
		extra=
		[ -z "$status" ] || extra=$($status 2>/dev/null) || true
		_progress_out tick "$label: $(progress_time $((EPOCHSECONDS - t0)))${extra:+, $extra}"
	done
}

# Stop the ticker of the running progress_run, if any.
_progress_kill() {
	[ -n "${_progress_tick:-}" ] || return 0
	kill "$_progress_tick" 2>/dev/null || true
	wait "$_progress_tick" 2>/dev/null || true
	_progress_tick=
}

# The EXIT trap while a step runs (Ctrl-C, a kill): stop the ticker, close
# the step's line.
_progress_abort() {
	_progress_kill
	local dt=$((EPOCHSECONDS - _progress_t0))
	_progress_out line "$_progress_label: interrupted after $(progress_time "$dt")"
}

# progress_run LABEL [--about TEXT] [--status CMD] [--log FILE] -- COMMAND...
# Run COMMAND (an external command: errexit does not reach into a shell
# function run here) with its output where it goes today (or in FILE), and
# show its progress: "LABEL (TEXT)" when it starts, "LABEL: 3m20s, STATUS"
# while it runs (STATUS: the output of CMD, a command or function run in the
# ticker with the caller's variables, e.g. objects built so far), "LABEL:
# done in 9m12s, STATUS" or "LABEL: failed (exit N) after 1m03s, STATUS" at
# the end (CMD run once more with PROGRESS_FINAL=1).
# Returns COMMAND's exit status.
progress_run() {
	local label=$1 about= status= log= rc=0 old
	shift
	while [ $# -gt 0 ]; do
		case "$1" in
		--about) about=$2; shift 2 ;;
		--status) status=$2; shift 2 ;;
		--log) log=$2; shift 2 ;;
		--) shift; break ;;
		*) break ;;
		esac
	done
	_progress_label=$label
	_progress_t0=$EPOCHSECONDS
	_progress_out open "$label${about:+ ($about)}"
	_progress_ticker "$label" "$status" "$_progress_t0" </dev/null >/dev/null &
	_progress_tick=$!
	old=$(trap -p EXIT)
	trap _progress_abort EXIT
	if [ -n "$log" ]; then
		"$@" >"$log" 2>&1 || rc=$?
	else
		"$@" || rc=$?
	fi
	_progress_kill
	eval "${old:-trap - EXIT}"
	local dt extra=
	dt=$(progress_time $((EPOCHSECONDS - _progress_t0)))
	[ -z "$status" ] || extra=$(PROGRESS_FINAL=1 $status 2>/dev/null) || true
	if [ $rc -eq 0 ]; then
		_progress_out line "$label: done in $dt${extra:+, $extra}"
	else
		_progress_out line "$label: failed (exit $rc) after $dt${extra:+, $extra}"
	fi
	PROGRESS_USED=1
	return $rc
}
