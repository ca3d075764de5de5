# SPDX-License-Identifier: GPL-2.0
#
# A tiny interpreter for the subset of udev rules that dist/udev/60-trampfd.rules
# uses, for the install test (the busybox guest has no udevd; busybox mdev
# does not read udev rules). Strict: a line with any other key or operator,
# an unquoted value or a malformed MODE is an error (exit 1), so the rule
# file cannot drift into syntax this test does not understand.
#
#   awk -f udev_lite.awk FILE...
#
# Prints one line per rule: NAME SUBSYSTEM MODE GROUP OWNER ("-" where the
# rule sets nothing); install_test.sh applies them to /dev/NAME.
function fail(msg) {
	printf "udev_lite: %s:%d: %s: %s\n", FILENAME, FNR, msg, $0 > "/dev/stderr"
	bad = 1
	exit 1
}
/^[ \t]*(#|$)/ { next }
{
	kernel = ""; subsys = "-"; mode = "-"; group = "-"; owner = "-"
	n = split($0, parts, /,/)
	for (i = 1; i <= n; i++) {
		p = parts[i]
		gsub(/^[ \t]+|[ \t]+$/, "", p)
		if (p !~ /^[A-Z]+(==|=)"[^"]*"$/)
			fail("not KEY==\"value\" or KEY=\"value\": " p)
		key = p; sub(/[=].*$/, "", key)
		op = (p ~ /^[A-Z]+==/) ? "==" : "="
		val = p; sub(/^[^"]*"/, "", val); sub(/"$/, "", val)
		if (key == "KERNEL" && op == "==" && val ~ /^[a-z0-9_]+$/)
			kernel = val
		else if (key == "SUBSYSTEM" && op == "==")
			subsys = val
		else if (key == "MODE" && op == "=" && val ~ /^0[0-7][0-7][0-7]$/)
			mode = val
		else if (key == "GROUP" && op == "=" && val ~ /^[A-Za-z0-9_.-]+$/)
			group = val
		else if (key == "OWNER" && op == "=" && val ~ /^[A-Za-z0-9_.-]+$/)
			owner = val
		else
			fail("unsupported " key op "\"" val "\"")
	}
	if (kernel == "")
		fail("no KERNEL== match")
	print kernel, subsys, mode, group, owner
	rules++
}
END {
	if (!bad && !rules) {
		print "udev_lite: no rules" > "/dev/stderr"
		exit 1
	}
}
