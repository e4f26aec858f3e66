/*
 * Memory policy syscalls, raw: libnuma is not on the build host and the guest must not need
 * -dev packages. Note the kernel's historical off-by-one: set_mempolicy and mbind read
 * maxnode - 1 bits (get_nodes decrements it), get_mempolicy writes exactly maxnode bits.
 */
#define _GNU_SOURCE
#include "probe.h"

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

int mp_set(int mode_and_flags, const struct node_mask *mask)
{
    long rc = syscall(SYS_set_mempolicy, mode_and_flags, mask ? mask->words : NULL,
                      mask ? mask->bits + 1 : 0UL);
    return rc < 0 ? errno : 0;
}

int mp_get(int flags, void *addr, int *mode_out, struct node_mask *mask)
{
    long rc = syscall(SYS_get_mempolicy, mode_out, mask ? mask->words : NULL,
                      mask ? mask->bits : 0UL, addr, (unsigned long)flags);
    return rc < 0 ? errno : 0;
}

int mp_mbind(void *addr, size_t len, int mode_and_flags, const struct node_mask *mask, unsigned flags)
{
    long rc = syscall(SYS_mbind, addr, len, (unsigned long)mode_and_flags, mask ? mask->words : NULL,
                      mask ? mask->bits + 1 : 0UL, flags);
    return rc < 0 ? errno : 0;
}
