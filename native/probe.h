/*
 * Shared declarations of the C probes. Every probe returns 0 or a positive errno:
 * a kernel refusal is data for the caller, never a crash or an exception.
 * The C layer takes raw kernel ABI numbers (modes, flags); names live in TypeScript.
 */
#ifndef CXL_PROBE_H
#define CXL_PROBE_H

#include <stddef.h>
#include <sys/types.h>

/* ---- nodes.c: node masks of whatever size the running kernel uses ---- */

/* A node mask as the kernel reads it: an array of unsigned long, `bits` bits long. */
struct node_mask {
    unsigned long *words;
    unsigned long bits;
};

/* Bits the kernel accepts in a mask (>= nr_node_ids), derived, never assumed. */
unsigned long probe_maxnode(void);
/* Allocate a mask big enough for maxnode and for every node in `nodes`. ENOMEM on failure. */
int mask_from_nodes(struct node_mask *m, const int *nodes, size_t count);
int mask_alloc(struct node_mask *m, unsigned long bits);
void mask_free(struct node_mask *m);
/* Write the set nodes into `out` (capacity `cap`); returns how many are set. */
size_t mask_to_nodes(const struct node_mask *m, int *out, size_t cap);

/* ---- mempolicy.c: set_mempolicy, get_mempolicy, mbind through raw syscalls ---- */

int mp_set(int mode_and_flags, const struct node_mask *mask);
/* `mode_out` receives the mode (or, with MPOL_F_NODE, a node number); `mask` is filled. */
int mp_get(int flags, void *addr, int *mode_out, struct node_mask *mask);
int mp_mbind(void *addr, size_t len, int mode_and_flags, const struct node_mask *mask, unsigned flags);

/* ---- placement.c: mappings to place, fault, locate and move pages ---- */

enum pm_backing { PM_ANON = 0, PM_SHMEM = 1, PM_FILE = 2 };
enum pm_content { PM_ZERO = 0, PM_PATTERN = 1, PM_RANDOM = 2 };

struct probe_map {
    unsigned char *addr;
    size_t npages;
    size_t page_size;
    int fd; /* -1 for anonymous memory */
};

int pm_map(struct probe_map *m, size_t npages, enum pm_backing backing, const char *dir);
void pm_unmap(struct probe_map *m);
/* Write every page (which faults it in) with contents derived from `seed`. */
void pm_fill(struct probe_map *m, enum pm_content fill, unsigned long long seed);
/* Same, with the calling thread's policy set for the faults only, then restored. */
int pm_fill_under_policy(struct probe_map *m, enum pm_content fill, unsigned long long seed,
                         int mode_and_flags, const struct node_mask *mask);
/*
 * Fill pages in order, stopping at the first one the kernel put on `node` (asked every `every`
 * pages with get_mempolicy(MPOL_F_NODE|MPOL_F_ADDR)): a hog that proves fallback to a node
 * without touching more of it than needed. Returns the pages written.
 */
size_t pm_fill_until_node(struct probe_map *m, enum pm_content fill, unsigned long long seed, int node,
                          size_t every);

/* Pages whose contents differ from what pm_fill wrote with the same seed. */
size_t pm_verify(const struct probe_map *m, enum pm_content fill, unsigned long long seed);
/* move_pages(0, ..., nodes=NULL) on the first `npages` pages: where each is (node, or -errno). */
int pm_locate(const struct probe_map *m, size_t npages, int *status);
/* move_pages(0, ..., nodes={node,...}) on the first `npages` pages: node or -errno per page. */
int pm_move(const struct probe_map *m, size_t npages, int node, int flags, int *status);
/* migrate_pages(pid, from, to): *not_migrated gets the syscall's non-negative return. */
int pm_migrate(pid_t pid, const struct node_mask *from, const struct node_mask *to, long *not_migrated);

/* ---- zswap.c: what the zswap probe needs beyond file I/O ---- */

/* madvise(MADV_PAGEOUT) on the whole mapping: reclaim it now (to swap, thus to zswap). */
int zs_pageout(struct probe_map *m);
int zs_swapon(const char *path, int flags);
int zs_swapoff(const char *path);
/* mount -t debugfs none /sys/kernel/debug, so zswap's counters become readable. */
int zs_mount_debugfs(const char *target);

#endif
