#!/usr/bin/env perl
# SPDX-License-Identifier: GPL-2.0
#
# uapi-lint.pl HEADER...: the rules of include/uapi/linux/*.h that a
# compiler does not enforce (scripts/check-uapi compiles them too):
#   - no C++ "//" comments (C89);
#   - no C type names, no stdint or libc types, no unprefixed kernel types
#     (u32, s64, ...): types are __u8/__u16/__u32/__u64 (or __s*) only, and
#     every struct member is declared with one of them;
#   - every ioctl number (a macro named *_IOC_* other than *_IOC_MAGIC) is
#     built with _IO, _IOR, _IOW or _IOWR;
#   - includes are <linux/...> or <asm/...> only (no C library headers);
#   - an include guard _UAPI_LINUX_<NAME>_H around everything.
# Prints "FILE:LINE: problem" per finding; exits 1 if there is any.
use strict;
use warnings;
use File::Basename;

my $ret = 0;
sub complain {
	my ($f, $n, $msg) = @_;
	print "$f:$n: $msg\n";
	$ret = 1;
}

my $types = qr/\b(?:u?int(?:8|16|32|64|ptr|max)_t|u?int_(?:least|fast)\d+_t|size_t|ssize_t|off_t|
	pid_t|uid_t|gid_t|time_t|bool|_Bool|u8|u16|u32|u64|s8|s16|s32|s64|char|short|int|long|
	unsigned|signed|float|double|void|__int128)\b/x;

foreach my $file (@ARGV) {
	open(my $fh, '<', $file) or die "$file: $!\n";
	my @raw = <$fh>;
	close $fh;
	# The code without /* */ comments, newlines kept (line numbers).
	my $text = join('', @raw);
	$text =~ s{/\*.*?\*/}{ my $c = $&; $c =~ s/[^\n]//g; $c }gse;
	my @code = split(/\n/, $text, -1);
	my $guard = uc(basename($file));
	$guard =~ s/\W/_/g;
	$guard = "_UAPI_LINUX_$guard";
	my ($in_struct, $first, $last) = (0, '', '');
	for my $i (0 .. $#code) {
		my $l = $code[$i];
		my $n = $i + 1;
		next if $l =~ /^\s*$/;
		$first = $l if $first eq '';
		$last = $l;
		complain($file, $n, "C++ comment") if $l =~ m{//};
		if ($l =~ /^\s*#\s*include\s*(\S+)/) {
			complain($file, $n, "include of $1: only <linux/...> or <asm/...>")
				unless $1 =~ m{^<(?:linux|asm)/[\w/.-]+\.h>$};
			next;
		}
		while ($l =~ /($types)/g) {
			complain($file, $n, "type '$1': use __u8/__u16/__u32/__u64 or __s*");
		}
		if ($l =~ /^\s*#\s*define\s+(\w*_IOC_\w+)\s+(.*)/ && $1 !~ /_IOC_MAGIC$/) {
			complain($file, $n, "ioctl number $1 not built with _IO/_IOR/_IOW/_IOWR")
				unless $2 =~ /^_IO(?:R|W|WR)?\(/;
		}
		$in_struct = 1 if $l =~ /^\s*struct\s+\w+\s*\{/;
		if ($in_struct && $l =~ /^\s*\};/) {
			$in_struct = 0;
		} elsif ($in_struct && $l !~ /\{/) {
			complain($file, $n, "struct member not declared as __u*/__s* NAME;")
				unless $l =~ /^\s*__[us](?:8|16|32|64)\s+\w+(?:\[\w+\])?;\s*$/;
		}
	}
	my $guards = join("\n", grep { !/^\s*$/ } @code);
	complain($file, 1, "no include guard $guard")
		unless $guards =~ /\A#ifndef $guard\n#define $guard\n/ && $last =~ /^#endif/;
}
exit $ret;
