// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers of the trampfd module: kernel functions that are static inline
 * (so kernel::bindings cannot call them) or whose use is simpler in C.
 */
#include <linux/fs.h>
#include <linux/file.h>
#include <linux/cred.h>
#include <linux/mm.h>
#include <linux/sched.h>

#include "helpers.h"

/* Take one more reference on @page, for the page table entry of a fault. */
void trampfd_get_page(struct page *page)
{
	get_page(page);
}

/* First address above the user address space. */
unsigned long trampfd_task_size_max(void)
{
	return TASK_SIZE_MAX;
}

/*
 * Open @file's device node again, without a path lookup, and install the new
 * file in a new fd.  Anon-inode files cannot be used for this: they live on
 * a SB_I_NOEXEC pseudo filesystem, so mmap(PROT_EXEC) of them fails with
 * EPERM.  The new file gets @file's access mode; @cloexec sets O_CLOEXEC.
 * Returns the fd or a negative errno.
 */
int trampfd_reopen(struct file *file, bool cloexec)
{
	struct file *new;
	int fd;

	fd = get_unused_fd_flags(cloexec ? O_CLOEXEC : 0);
	if (fd < 0)
		return fd;
	new = dentry_open(&file->f_path, file->f_flags & O_ACCMODE,
			  current_cred());
	if (IS_ERR(new)) {
		put_unused_fd(fd);
		return PTR_ERR(new);
	}
	fd_install(fd, new);
	return fd;
}
