#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The guest half of scripts/check-install (TAP). The guest booted with the
# `make install DESTDIR=...` staging root copied over its initramfs root
# (scripts/vm --no-module --root-overlay), plus /test: this script,
# udev_lite.awk and the programs built with pkg-config. Users: root, "user"
# (uid 1000, in the zpoline group), "other" (uid 1001, not in it).
#
# What it checks, as a distribution would use the installed files:
# modules-load.d's modules load with `modprobe` from the installed
# modules.dep, with modprobe.d's options; the udev rule's MODE/GROUP, applied
# by udev_lite.awk (no udevd here), give the nodes their modes and groups;
# ldconfig finds the libraries under PREFIX; the pkg-config-built programs
# allocate closures as an unprivileged user, and hook syscalls as a member
# of the zpoline group. Exits with the number of failures.

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n $1"; }
check() {
	_test=$1
	shift
	if "$@"; then ok "$_test"; else not_ok "$_test"; fi
}

echo "TAP version 13"
echo "1..13"
rel=$(uname -r)
# Only the installed module: not the harness's own copy.
rm -f /mod/trampfd.ko

mods=$(cat /etc/modules-load.d/*.conf 2>/dev/null | sed 's/#.*//' | tr -s ' \t' '\n' | grep .)
check "modules-load.d names trampfd" [ "$mods" = trampfd ]
echo "# modules.dep: $(cat "/lib/modules/$rel/modules.dep")"
load_mods() {
	for m in $mods; do modprobe "$m" || return 1; done
	[ -d /sys/module/trampfd ]
}
check "modprobe (each modules-load.d entry) loads lib/modules/$rel/updates/trampfd.ko" load_mods

# The module's parameters have no sysfs files (Rust module parameters in
# 7.3): zpoline_gid shows in what it allows. Without it only CAP_SYS_RAWIO
# installs; with it "user" (a zpoline member) does and "other" does not.
gid=$(awk -F: '$1 == "zpoline" { print $3 }' /etc/group)
echo "# zpoline group gid $gid; $(grep -h '^options' /etc/modprobe.d/*.conf)"
zp_install() {
	out=$(su -s /bin/sh user -c /test/zpoline_install)
	rc=$?
	echo "# user: $out"
	[ $rc = 0 ] || return 1
	# The udev rule is not applied yet: "other" opens the node (the
	# module's mode 0666) and the ioctl refuses, EPERM (1).
	out=$(su -s /bin/sh other -c /test/zpoline_install)
	rc=$?
	echo "# other: $out"
	[ $rc = 1 ]
}
check "modprobe.d applied: zpoline_gid=$gid lets group zpoline install zpoline pages, not others" zp_install

# The udev rule, interpreted: match KERNEL (and SUBSYSTEM against
# /sys/class), then apply OWNER, GROUP and MODE as udevd would.
apply_rules() {
	awk -f /test/udev_lite.awk /etc/udev/rules.d/*.rules >/tmp/rules || return 1
	while read -r name subsys mode group owner; do
		[ "$subsys" = - ] || [ -e "/sys/class/$subsys/$name" ] || continue
		[ -e "/dev/$name" ] || continue
		echo "# /dev/$name: mode $mode group $group owner $owner"
		[ "$owner" = - ] || chown "$owner" "/dev/$name" || return 1
		[ "$group" = - ] || chgrp "$group" "/dev/$name" || return 1
		[ "$mode" = - ] || chmod "$mode" "/dev/$name" || return 1
	done </tmp/rules
}
check "udev rule parses (udev_lite.awk) and applies" apply_rules
node() { stat -c '%a %U %G' "$1"; }
echo "# /dev/trampfd: $(node /dev/trampfd); /dev/zpoline: $(node /dev/zpoline)"
check "/dev/trampfd is 0666 root:root" [ "$(node /dev/trampfd)" = "666 root root" ]
check "/dev/zpoline is 0660 root:zpoline" [ "$(node /dev/zpoline)" = "660 root zpoline" ]
check "a zpoline member opens /dev/zpoline, others may not" \
	sh -c "su -s /bin/sh user -c ': </dev/zpoline' &&
		! su -s /bin/sh other -c ': </dev/zpoline' 2>/dev/null"

# PREFIX=/usr/local: found through ld.so.conf after ldconfig, as on Debian.
check "ldconfig finds libtrampfd.so.1 under PREFIX" \
	sh -c 'ldconfig && ldconfig -p | grep -q "libtrampfd.so.1 .*=> /usr/local/lib/libtrampfd.so.1"'
check "pkg-config-built program (libtrampfd.so.1) allocates a closure as an unprivileged user" \
	su -s /bin/sh other -c /test/pc_closure
check "pkg-config --static program allocates a closure as an unprivileged user" \
	su -s /bin/sh other -c /test/pc_closure_static
# The hook library: its API, linked through libsyscallhook.pc. A zpoline
# member gets the page and the callback answers getppid(); anyone else runs
# unhooked.
check "ldconfig finds libsyscallhook.so.1 under PREFIX" \
	sh -c 'ldconfig -p | grep -q "libsyscallhook.so.1 .*=> /usr/local/lib/libsyscallhook.so.1"'
hook_pc() {
	out=$(su -s /bin/sh user -c '/test/hook_pc active')
	rc=$?
	echo "# user: $out"
	[ $rc = 0 ] || return 1
	out=$(su -s /bin/sh other -c '/test/hook_pc inactive' 2>&1)
	rc=$?
	echo "# other: $out" | tr '\n' ' '
	echo
	[ $rc = 0 ]
}
check "pkg-config-built hook program: hooked in group zpoline, unhooked outside it" hook_pc
check "modprobe -r trampfd unloads it" sh -c 'modprobe -r trampfd && [ ! -d /sys/module/trampfd ]'
exit $failed
