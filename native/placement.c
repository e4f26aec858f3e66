/*
 * Placement: map pages of a chosen backing, fault them with chosen contents, ask the kernel
 * where each page is (move_pages with nodes=NULL), and move them (move_pages, migrate_pages).
 * Contents matter: zero pages never reach zswap (the swap core takes them first) and random
 * pages do not compress, so fills are deterministic from a seed and can be verified later.
 */
#define _GNU_SOURCE
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* get_mempolicy flags (linux/mempolicy.h): the node of the page at addr. */
#define MPOL_F_NODE_ADDR (1 | 2)

/* An unlinked regular file in `dir`, so its pages are page cache (or tmpfs) for this mapping only. */
static int open_private_file(const char *dir)
{
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
        return fd;
    /* Filesystems without O_TMPFILE: create and unlink at once. */
    size_t n = strlen(dir);
    char *path = malloc(n + sizeof "/cxl-probe-XXXXXX");
    if (!path)
        return -1;
    memcpy(path, dir, n);
    memcpy(path + n, "/cxl-probe-XXXXXX", sizeof "/cxl-probe-XXXXXX");
    fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0)
        unlink(path);
    free(path);
    return fd;
}

int pm_map(struct probe_map *m, size_t npages, enum pm_backing backing, const char *dir)
{
    m->page_size = (size_t)sysconf(_SC_PAGESIZE);
    m->npages = npages;
    m->fd = -1;
    m->addr = NULL;
    size_t len = npages * m->page_size;
    int flags = MAP_SHARED;
    if (backing == PM_ANON) {
        flags = MAP_PRIVATE | MAP_ANONYMOUS;
    } else {
        m->fd = backing == PM_SHMEM ? memfd_create("cxl-probe", MFD_CLOEXEC) : open_private_file(dir);
        if (m->fd < 0)
            return errno;
        if (ftruncate(m->fd, (off_t)len) < 0) {
            int err = errno;
            pm_unmap(m);
            return err;
        }
    }
    void *addr = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, m->fd, 0);
    if (addr == MAP_FAILED) {
        int err = errno;
        pm_unmap(m);
        return err;
    }
    m->addr = addr;
    return 0;
}

void pm_unmap(struct probe_map *m)
{
    if (m->addr)
        munmap(m->addr, m->npages * m->page_size);
    if (m->fd >= 0)
        close(m->fd);
    m->addr = NULL;
    m->fd = -1;
}

/* xorshift64*: cheap, deterministic and incompressible enough for zswap's compressors. */
static uint64_t next_random(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545F4914F6CDD1DULL;
}

/* The contents of page `index`, written into `page`. */
static void page_contents(unsigned char *page, size_t size, size_t index, enum pm_content fill,
                          unsigned long long seed)
{
    uint64_t *words = (uint64_t *)page;
    size_t count = size / sizeof(uint64_t);
    if (fill == PM_ZERO) {
        memset(page, 0, size);
    } else if (fill == PM_PATTERN) {
        /* Compressible but not same-filled, so zswap stores it compressed. */
        for (size_t i = 0; i < count; i++)
            words[i] = (seed + index) * 0x100000001ULL + (i % 16);
    } else {
        /* Distinct per (seed, page); xorshift needs a non-zero state. */
        uint64_t state = (seed + 1) * 0x9E3779B97F4A7C15ULL + index * 0xBF58476D1CE4E5B9ULL;
        if (state == 0)
            state = 1;
        for (size_t i = 0; i < count; i++)
            words[i] = next_random(&state);
    }
}

void pm_fill(struct probe_map *m, enum pm_content fill, unsigned long long seed)
{
    for (size_t i = 0; i < m->npages; i++)
        page_contents(m->addr + i * m->page_size, m->page_size, i, fill, seed);
}

int pm_fill_under_policy(struct probe_map *m, enum pm_content fill, unsigned long long seed,
                         int mode_and_flags, const struct node_mask *mask)
{
    struct node_mask old;
    int old_mode = 0;
    int err = mask_alloc(&old, probe_maxnode());
    if (err)
        return err;
    err = mp_get(0, NULL, &old_mode, &old);
    if (!err)
        err = mp_set(mode_and_flags, mask);
    if (!err) {
        pm_fill(m, fill, seed);
        /* Restore, so the caller's later allocations are not bound by the probe's policy. */
        mp_set(old_mode, &old);
    }
    mask_free(&old);
    return err;
}

size_t pm_fill_until_node(struct probe_map *m, enum pm_content fill, unsigned long long seed, int node,
                          size_t every)
{
    if (every == 0)
        every = 1;
    for (size_t i = 0; i < m->npages; i++) {
        unsigned char *page = m->addr + i * m->page_size;
        page_contents(page, m->page_size, i, fill, seed);
        if ((i + 1) % every != 0 && i + 1 != m->npages)
            continue;
        /* The page just written is resident: asking where it is faults nothing in. */
        int where = -1;
        if (mp_get(MPOL_F_NODE_ADDR, page, &where, NULL) == 0 && where == node)
            return i + 1;
    }
    return m->npages;
}

size_t pm_verify(const struct probe_map *m, enum pm_content fill, unsigned long long seed)
{
    unsigned char *expected = malloc(m->page_size);
    if (!expected)
        return m->npages;
    size_t bad = 0;
    for (size_t i = 0; i < m->npages; i++) {
        page_contents(expected, m->page_size, i, fill, seed);
        if (memcmp(expected, m->addr + i * m->page_size, m->page_size) != 0)
            bad++;
    }
    free(expected);
    return bad;
}

static void **page_pointers(const struct probe_map *m, size_t npages)
{
    void **pages = malloc(npages * sizeof(void *));
    if (pages)
        for (size_t i = 0; i < npages; i++)
            pages[i] = m->addr + i * m->page_size;
    return pages;
}

int pm_locate(const struct probe_map *m, size_t npages, int *status)
{
    return pm_move(m, npages, -1, 0, status);
}

/* node < 0 means "only report": move_pages with a NULL nodes array. */
int pm_move(const struct probe_map *m, size_t npages, int node, int flags, int *status)
{
    if (npages > m->npages)
        npages = m->npages;
    void **pages = page_pointers(m, npages);
    int *nodes = node >= 0 ? malloc(npages * sizeof(int)) : NULL;
    int err = 0;
    if (!pages || (node >= 0 && !nodes)) {
        err = ENOMEM;
    } else {
        for (size_t i = 0; nodes && i < npages; i++)
            nodes[i] = node;
        long rc = syscall(SYS_move_pages, 0, (unsigned long)npages, pages, nodes, status, flags);
        err = rc < 0 ? errno : 0;
    }
    free(pages);
    free(nodes);
    return err;
}

int pm_migrate(pid_t pid, const struct node_mask *from, const struct node_mask *to, long *not_migrated)
{
    /* Both masks must have the same length: the syscall takes one maxnode for both. */
    unsigned long bits = from->bits > to->bits ? from->bits : to->bits;
    struct node_mask a, b;
    int err = mask_alloc(&a, bits);
    if (err)
        return err;
    err = mask_alloc(&b, bits);
    if (err) {
        mask_free(&a);
        return err;
    }
    memcpy(a.words, from->words, from->bits / 8);
    memcpy(b.words, to->words, to->bits / 8);
    long rc = syscall(SYS_migrate_pages, pid, bits + 1, a.words, b.words);
    err = rc < 0 ? errno : 0;
    *not_migrated = rc < 0 ? 0 : rc;
    mask_free(&a);
    mask_free(&b);
    return err;
}
