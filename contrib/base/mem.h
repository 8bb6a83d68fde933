/* mem.h — advice to the kernel about large blocks of memory that a load or build writes in
 * full right after asking (a zone's text, the builder's arrays, a version's arena).
 *
 * Both calls are advice: on a kernel without them (EINVAL), on a block too small to gain, or
 * when the kernel has no huge page to give, nothing changes but the time. Neither reads nor
 * writes the bytes. Any thread; never on the query path (each is a system call). */
#pragma once

#include <stddef.h>

/* Ask for transparent huge pages (MADV_HUGEPAGE) on the 2 MiB-aligned ranges wholly inside
 * [p, p + len), when there is at least one. In the THP mode "madvise" (this machine's) memory
 * gets huge pages only when asked. A block written in full right after gains: one fault per 2 MiB
 * instead of 512 (in a VM each fault costs microseconds), and fewer TLB misses while it is
 * written and read. The memory is the same: a block written in full is resident either way,
 * and only whole aligned 2 MiB inside it are asked for. Call it before the first write. */
void sd_mem_huge(void *p, size_t len);

/* Fault in [p, p + len), memory the caller writes in full next: one madvise
 * (MADV_POPULATE_WRITE, Linux 5.14) instead of one page fault per page, after sd_mem_huge
 * (so the pages made are huge where they can be). Pages already there stay as they are. Small
 * blocks (under 1 MiB) are left to the faults. */
void sd_mem_prefault(void *p, size_t len);
