/* segfit_test.h -- what the SEGFIT test programs (test_segfit.c,
 * test_segfit_threads.c) share: blocks filled with a pattern that depends on
 * their address and tag, random sizes, a small random generator for
 * threads, and the model check of a pool against the blocks a test holds.
 * Header-only, like testlib.h.
 *
 * The model check: gcp_pool_consistent; gcp_segfit_walk visits exactly the
 * live blocks (address, requested size, tag) and gcp_segfit_live agrees;
 * blocks are 16-byte aligned and do not overlap; total - free size is the
 * sum of the blocks' extents (the class size, or for a large block its size
 * rounded up to the arena grain); gcp_segfit_block knows every block.
 */
#ifndef SEGFIT_TEST_H
#define SEGFIT_TEST_H

#include <stdint.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpscsegfit.h"
#include "mpslib.h"
#include "gcp_ext.h"
#include "testlib.h"

#define ALIGN     ((size_t)16)
#define SMALL_MAX GCP_SEGFIT_SMALL_MAX

/* Set by each program's main: the arena its pools live in, its grain, and
 * whether this is the cool variety (which runs shorter). */
static mps_arena_t arena;
static size_t grain;
static int cool;

typedef struct {
  unsigned char *p;
  size_t size;
  unsigned tag;
} Block;

/* ---- block contents ------------------------------------------------------- */

static inline unsigned char pat(const Block *b, size_t i)
{
  uintptr_t a = (uintptr_t)b->p;
  return (unsigned char)((a >> 4) * 131u + b->tag * 7u + i * 13u + (i >> 8));
}

static inline void fill(const Block *b)
{
  size_t i;
  for (i = 0; i < b->size; ++i) b->p[i] = pat(b, i);
}

static inline int intact(const Block *b)
{
  size_t i;
  for (i = 0; i < b->size; ++i)
    if (b->p[i] != pat(b, i)) return 0;
  return 1;
}

/* Bytes the pool sets aside for a block of `size` requested bytes. */
static inline size_t extentOf(size_t size)
{
  return size > SMALL_MAX ? alignUp(size, grain) : gcp_segfit_usable_size(size);
}

/* Mostly small, sometimes up to the largest class, now and then large. */
static inline size_t randomSize(unsigned long (*next)(void *), void *state)
{
  unsigned long r = next(state) % 100;
  if (r < 75) return next(state) % 601;
  if (r < 97) return next(state) % (SMALL_MAX + 1);
  return SMALL_MAX + 1 + next(state) % 200000;
}

static inline unsigned long globalRnd(void *unused)
{
  (void)unused;
  return rnd();
}

/* ---- the model check ------------------------------------------------------- */

typedef struct {
  Block *recs;
  size_t n, cap;
} Walked;

static inline void collect(mps_addr_t p, size_t size, unsigned tag, void *closure)
{
  Walked *w = closure;
  if (w->n < w->cap) {
    w->recs[w->n].p = p;
    w->recs[w->n].size = size;
    w->recs[w->n].tag = tag;
  }
  ++w->n;
}

static inline int byAddress(const void *a, const void *b)
{
  const Block *x = a, *y = b;
  return x->p < y->p ? -1 : x->p > y->p;
}

/* Check the pool against the n live blocks in `live` (in any order; the
 * array is sorted in place, empty slots (p == NULL) first). */
static inline void checkModel(mps_pool_t pool, Block *live, size_t n)
{
  Walked walked;
  size_t i, first = 0, count, bytes = 0, extents = 0, liveBlocks, liveBytes;

  REQUIRE(gcp_pool_consistent(pool));
  qsort(live, n, sizeof *live, byAddress);
  while (first < n && live[first].p == NULL) ++first;
  count = n - first;
  walked.cap = count + 1;
  walked.recs = malloc(walked.cap * sizeof *walked.recs);
  walked.n = 0;
  REQUIRE(walked.recs != NULL);
  gcp_segfit_walk(pool, collect, &walked);
  REQUIRE(walked.n == count);
  qsort(walked.recs, walked.n, sizeof *walked.recs, byAddress);
  for (i = first; i < n; ++i) {
    const Block *b = &live[i], *w = &walked.recs[i - first];
    size_t size = 0;
    unsigned tag = 0;
    REQUIRE(w->p == b->p && w->size == b->size && w->tag == b->tag);
    REQUIRE(((uintptr_t)b->p & (ALIGN - 1)) == 0);
    if (i > first) REQUIRE(live[i - 1].p + extentOf(live[i - 1].size) <= b->p);
    REQUIRE(gcp_segfit_block(pool, b->p, &size, &tag) && size == b->size && tag == b->tag);
    bytes += b->size;
    extents += extentOf(b->size);
  }
  gcp_segfit_live(pool, &liveBlocks, &liveBytes);
  REQUIRE(liveBlocks == count && liveBytes == bytes);
  REQUIRE(mps_pool_total_size(pool) - mps_pool_free_size(pool) == extents);
  free(walked.recs);
}

static inline mps_pool_t makePool(void)
{
  mps_pool_t pool;
  REQUIRE(mps_pool_create_k(&pool, arena, mps_class_segfit(), mps_args_none) == MPS_RES_OK);
  return pool;
}

/* Free b through gcp_segfit_free or (if it has a size) mps_free. */
static inline void freeBlock(mps_pool_t pool, Block *b, int generic)
{
  if (generic && b->size > 0)
    mps_free(pool, b->p, b->size);
  else
    gcp_segfit_free(pool, b->p);
  b->p = NULL;
}

/* Destroy a pool whose blocks are all freed; `last`: the arena's last pool. */
static inline void destroyPool(mps_pool_t pool, int last)
{
  size_t blocks = 1, bytes = 1;
  gcp_segfit_live(pool, &blocks, &bytes);
  CHECK(blocks == 0 && bytes == 0);
  CHECK(mps_pool_free_size(pool) == mps_pool_total_size(pool));
  CHECK(gcp_pool_consistent(pool));
  mps_pool_destroy(pool);
  CHECK(!last || gcp_arena_pools_committed(arena) == 0);
  CHECK(gcp_arena_consistent(arena));
}

static inline void destroyEmpty(mps_pool_t pool) { destroyPool(pool, 1); }

/* A random generator of one's own, for threads (rnd() is not thread-safe). */
typedef struct {
  unsigned long long s;
} Rnd;

static inline unsigned long threadRnd(void *state)
{
  Rnd *r = state;
  r->s ^= r->s << 13;
  r->s ^= r->s >> 7;
  r->s ^= r->s << 17;
  return (unsigned long)r->s;
}

/* Copy the live blocks of `from` to `to` (at n), returning the new count. */
static inline size_t gather(Block *to, size_t n, const Block *from, size_t count)
{
  size_t i;
  for (i = 0; i < count; ++i)
    if (from[i].p != NULL) to[n++] = from[i];
  return n;
}

static inline int findBlock(const Block *sorted, size_t n, const void *p)
{
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if ((const void *)sorted[mid].p < p)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < n && (const void *)sorted[lo].p == p;
}

#endif /* SEGFIT_TEST_H */
