/*
 * Node masks sized for the running kernel. The kernel rejects a get_mempolicy mask shorter
 * than nr_node_ids (EINVAL), and kernels differ in that number (CONFIG_NODES_SHIFT), so the
 * size is derived from sysfs and confirmed by the kernel instead of assuming 64 nodes.
 */
#define _GNU_SOURCE
#include "probe.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define WORD_BITS (sizeof(unsigned long) * CHAR_BIT)
/* The kernel refuses masks longer than one page of bits (get_nodes), so never go past it. */
#define MAX_MASK_BITS (4096UL * CHAR_BIT)

static unsigned long round_to_words(unsigned long bits)
{
    if (bits == 0)
        bits = 1;
    return (bits + WORD_BITS - 1) / WORD_BITS * WORD_BITS;
}

/* Highest node number in a list like "0-3,5", or -1 when unreadable. */
static long highest_possible_node(void)
{
    FILE *f = fopen("/sys/devices/system/node/possible", "re");
    if (!f)
        return -1;
    char buf[4096];
    long highest = -1;
    if (fgets(buf, sizeof buf, f)) {
        char *p = buf;
        while (*p) {
            char *end;
            long n = strtol(p, &end, 10);
            if (end == p) {
                p++;
                continue;
            }
            if (n > highest)
                highest = n;
            p = end;
        }
    }
    fclose(f);
    return highest;
}

unsigned long probe_maxnode(void)
{
    static unsigned long cached;
    if (cached)
        return cached;
    unsigned long bits = round_to_words((unsigned long)(highest_possible_node() + 1));
    /* Confirm with the kernel: grow until get_mempolicy accepts the mask size. */
    for (; bits <= MAX_MASK_BITS; bits *= 2) {
        struct node_mask m;
        if (mask_alloc(&m, bits))
            break;
        int mode;
        long rc = syscall(SYS_get_mempolicy, &mode, m.words, m.bits, NULL, 0UL);
        int err = rc < 0 ? errno : 0;
        mask_free(&m);
        if (err != EINVAL)
            break;
    }
    cached = bits > MAX_MASK_BITS ? MAX_MASK_BITS : bits;
    return cached;
}

int mask_alloc(struct node_mask *m, unsigned long bits)
{
    m->bits = round_to_words(bits);
    m->words = calloc(m->bits / WORD_BITS, sizeof(unsigned long));
    return m->words ? 0 : ENOMEM;
}

int mask_from_nodes(struct node_mask *m, const int *nodes, size_t count)
{
    unsigned long bits = probe_maxnode();
    for (size_t i = 0; i < count; i++)
        if (nodes[i] >= 0 && (unsigned long)nodes[i] + 1 > bits)
            bits = (unsigned long)nodes[i] + 1;
    int err = mask_alloc(m, bits);
    if (err)
        return err;
    for (size_t i = 0; i < count; i++) {
        unsigned long n = (unsigned long)nodes[i];
        m->words[n / WORD_BITS] |= 1UL << (n % WORD_BITS);
    }
    return 0;
}

void mask_free(struct node_mask *m)
{
    free(m->words);
    m->words = NULL;
    m->bits = 0;
}

size_t mask_to_nodes(const struct node_mask *m, int *out, size_t cap)
{
    size_t count = 0;
    for (unsigned long n = 0; n < m->bits; n++)
        if (m->words[n / WORD_BITS] & (1UL << (n % WORD_BITS))) {
            if (count < cap)
                out[count] = (int)n;
            count++;
        }
    return count;
}
