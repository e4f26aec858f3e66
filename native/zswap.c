/*
 * The parts of the zswap probe that are syscalls rather than file I/O: reclaiming a buffer on
 * demand (MADV_PAGEOUT sends it to swap, hence through zswap, without needing a memcg limit),
 * and turning swap on or off without util-linux in the guest.
 */
#define _GNU_SOURCE
#include "probe.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/swap.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

int zs_pageout(struct probe_map *m)
{
    return madvise(m->addr, m->npages * m->page_size, MADV_PAGEOUT) < 0 ? errno : 0;
}

int zs_swapon(const char *path, int flags)
{
    return swapon(path, flags) < 0 ? errno : 0;
}

int zs_swapoff(const char *path)
{
    return swapoff(path) < 0 ? errno : 0;
}

int zs_mount_debugfs(const char *target)
{
    return mount("debugfs", target, "debugfs", 0, NULL) < 0 ? errno : 0;
}
