// SPDX-License-Identifier: GPL-2.0
/*
 * ZPOLINE_IOC_INSTALL as the calling user (install_test.sh runs it through
 * su): exit 0 if the page was installed, else the errno. The module's
 * parameters have no sysfs files (Rust module parameters in 7.3), so this is
 * how the install test sees modprobe.d's zpoline_gid: without it, nobody
 * but CAP_SYS_RAWIO may install.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/zpoline.h>

static void hook(void)
{
}

int main(void)
{
	struct zpoline_cfg cfg = { .hook = (uintptr_t)hook };
	int fd = open("/dev/zpoline", O_RDONLY);

	if (fd < 0) {
		printf("open /dev/zpoline: %s\n", strerror(errno));
		return errno;
	}
	if (ioctl(fd, ZPOLINE_IOC_INSTALL, &cfg)) {
		printf("ZPOLINE_IOC_INSTALL: %s\n", strerror(errno));
		return errno;
	}
	printf("ZPOLINE_IOC_INSTALL: installed (uid %d, gid %d)\n", (int)getuid(), (int)getgid());
	return 0;
}
