/* test_mfs_sac.c -- MFS pools and segregated allocation caches through the
 * public interface.  MFS: several unit sizes and extent sizes under random
 * alloc/free churn with contents checked, the free-size arithmetic, unit
 * alignment, memory never returned before destruction, misuse (double free,
 * interior, foreign and other-pool pointers, wrong size) reported with a
 * message that names it while the pool stays consistent, and the legacy
 * varargs creation.  SACs over MFS and MVFF: the public structure laid out
 * as docs/design/sac.md says for several class arrays and frequency profiles, random
 * churn through the fast macros, the legacy macros and the functions with
 * sizes in every class and overlarge, counts never above their maximum,
 * cached bytes and pool free size in exact agreement, flushing, more than
 * MPS_SAC_CLASS_LIMIT classes, and invalid class arrays.
 * Usage: test_mfs_sac [seed].  Design: docs/design/mfs.md, mvff.md, sac.md.
 * Build: cc -std=c11 -O1 -g -I native/include tests/native/test_mfs_sac.c
 *        native/build/<variety>/libgcp.a -lpthread -lm
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpscmfs.h"
#include "mpscmvff.h"
#include "mpslib.h"
#include "mpstd.h"
#include "gcp_ext.h"
#include "testlib.h"

/* A check inside a loop: counted once per failure, stops the loop's noise. */
#define CHECK_ONCE(cond, flag)                                                        \
  do {                                                                                \
    if (!(flag) && !testCheck((cond) ? 1 : 0, __FILE__, __LINE__, #cond)) (flag) = 1; \
  } while (0)

/* ---- blocks with address-derived contents ---------------------------------- */

typedef struct {
  unsigned char *p;
  size_t size, charged;
} Block;

static unsigned char pat(const unsigned char *p, size_t i)
{
  return (unsigned char)((((uintptr_t)p >> 3) * 131u) + i * 7u + 1u);
}
static void fillBlock(const Block *b)
{
  size_t i;
  for (i = 0; i < b->size; ++i) b->p[i] = pat(b->p, i);
}
static int intact(const Block *b)
{
  size_t i;
  for (i = 0; i < b->size; ++i)
    if (b->p[i] != pat(b->p, i)) return 0;
  return 1;
}

/* ---- MFS -------------------------------------------------------------------- */

#define NMFS 2500

static size_t mfsRounded(size_t unit)
{
  return alignUp(unit < sizeof(void *) ? sizeof(void *) : unit, MPS_PF_ALIGN);
}

static void mfsChurn(mps_arena_t arena, size_t unit, size_t extendBy, long ops)
{
  static Block blocks[NMFS];
  mps_pool_t pool;
  size_t rounded = mfsRounded(unit), live = 0, total = 0, i, committedBefore;
  int bad = 0, badFree = 0, badTotal = 0, badAlign = 0, badContent = 0;
  long op;
  mps_res_t res;

  MPS_ARGS_BEGIN(a)
  {
    MPS_ARGS_ADD(a, MPS_KEY_MFS_UNIT_SIZE, unit);
    if (extendBy != 0) MPS_ARGS_ADD(a, MPS_KEY_EXTEND_BY, extendBy);
    res = mps_pool_create_k(&pool, arena, mps_class_mfs(), a);
    CHECK(a[0].key == MPS_KEY_ARGS_END);
  }
  MPS_ARGS_END(a);
  REQUIRE(res == MPS_RES_OK);
  CHECK(mps_pool_total_size(pool) == 0 && mps_pool_free_size(pool) == 0);
  memset(blocks, 0, sizeof blocks);
  for (op = 0; op < ops; ++op) {
    Block *b = &blocks[rnd() % NMFS];
    size_t t;
    if (b->p == NULL) {
      void *p;
      res = mps_alloc(&p, pool, unit);
      REQUIRE(res == MPS_RES_OK);
      b->p = p;
      b->size = unit;
      CHECK_ONCE(((uintptr_t)p & (MPS_PF_ALIGN - 1)) == 0, badAlign);
      fillBlock(b);
      ++live;
    } else {
      CHECK_ONCE(intact(b), badContent);
      mps_free(pool, b->p, unit);
      b->p = NULL;
      --live;
    }
    t = mps_pool_total_size(pool);
    CHECK_ONCE(t >= total, badTotal); /* never shrinks */
    total = t;
    CHECK_ONCE(mps_pool_free_size(pool) == total - live * rounded, badFree);
    if (op % 4000 == 0) CHECK_ONCE(gcp_pool_consistent(pool), bad);
  }
  CHECK(total % MPS_PF_ALIGN == 0 && total >= live * rounded);
  CHECK(gcp_pool_consistent(pool));
  CHECK(gcp_arena_consistent(arena));
  committedBefore = gcp_arena_pools_committed(arena);
  for (i = 0; i < NMFS; ++i)
    if (blocks[i].p != NULL) {
      CHECK_ONCE(intact(&blocks[i]), badContent);
      mps_free(pool, blocks[i].p, unit);
      blocks[i].p = NULL;
    }
  /* Everything free, nothing given back. */
  CHECK(mps_pool_total_size(pool) == total);
  CHECK(mps_pool_free_size(pool) == total);
  CHECK(gcp_arena_pools_committed(arena) == committedBefore);
  CHECK(gcp_pool_consistent(pool));
  /* The free units are reused: allocating again does not grow the pool. */
  for (i = 0; i < 100 && i < total / rounded; ++i) {
    void *p;
    REQUIRE(mps_alloc(&p, pool, unit) == MPS_RES_OK);
    blocks[i].p = p;
  }
  CHECK(mps_pool_total_size(pool) == total);
  for (i = 0; i < 100 && i < total / rounded; ++i) {
    mps_free(pool, blocks[i].p, unit);
    blocks[i].p = NULL;
  }
  mps_pool_destroy(pool);
  CHECK(gcp_arena_pools_committed(arena) == 0);
  CHECK(gcp_arena_consistent(arena));
  printf("  MFS unit %zu extend %zu: total %zu\n", unit, extendBy, total);
}

static void mfsMisuse(mps_arena_t arena)
{
  mps_pool_t pool, other;
  void *a, *b, *c, *o;
  int local;
  unsigned long r0;
  mps_res_t res;
  mps_lib_assert_fail_t old = mps_lib_assert_fail_install(recordHandler);
  const size_t unit = 40;

  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_MFS_UNIT_SIZE, unit);
    REQUIRE(mps_pool_create_k(&pool, arena, mps_class_mfs(), args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_MFS_UNIT_SIZE, unit);
    REQUIRE(mps_pool_create_k(&other, arena, mps_class_mfs(), args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  REQUIRE(mps_alloc(&a, pool, unit) == MPS_RES_OK);
  REQUIRE(mps_alloc(&b, pool, unit) == MPS_RES_OK);
  REQUIRE(mps_alloc(&c, pool, unit) == MPS_RES_OK);
  REQUIRE(mps_alloc(&o, other, unit) == MPS_RES_OK);
  memset(b, 0xBB, unit);

  mps_free(pool, a, unit);
  r0 = reports;
  mps_free(pool, a, unit); /* double free */
  CHECK(reported(r0, "double free"));
  CHECK(gcp_pool_consistent(pool));
  r0 = reports;
  mps_free(pool, (char *)b + 8, unit); /* interior pointer */
  CHECK(reported(r0, "start of a unit"));
  CHECK(gcp_pool_consistent(pool));
  r0 = reports;
  mps_free(pool, &local, unit); /* foreign pointer */
  CHECK(reported(r0, "foreign"));
  r0 = reports;
  mps_free(pool, o, unit); /* another pool's unit */
  CHECK(reported(r0, "another pool"));
  r0 = reports;
  mps_free(pool, b, 4096); /* wrong size */
  CHECK(reported(r0, "does not match"));
  CHECK(gcp_pool_consistent(pool) && gcp_pool_consistent(other));
  CHECK(mps_pool_free_size(pool) == mps_pool_total_size(pool) - 2 * mfsRounded(unit));
  { /* b was not disturbed */
    size_t i;
    int ok = 1;
    for (i = 0; i < unit; ++i) ok &= ((unsigned char *)b)[i] == 0xBB;
    CHECK(ok);
  }
  r0 = reports;
  res = mps_alloc(&a, pool, unit + 100); /* bigger than a unit */
  CHECK(res != MPS_RES_OK);
  CHECK(reported(r0, "unit size"));
  r0 = reports;
  {
    mps_ap_t ap;
    CHECK(mps_ap_create_k(&ap, pool, mps_args_none) != MPS_RES_OK);
    CHECK(reported(r0, "allocation point"));
  }
  /* Creation without the required key, or with a zero unit. */
  {
    mps_pool_t bad = NULL;
    r0 = reports;
    CHECK(mps_pool_create_k(&bad, arena, mps_class_mfs(), mps_args_none) == MPS_RES_PARAM);
    CHECK(reported(r0, "MFS_UNIT_SIZE"));
    CHECK(bad == NULL);
    r0 = reports;
    MPS_ARGS_BEGIN(args)
    {
      MPS_ARGS_ADD(args, MPS_KEY_MFS_UNIT_SIZE, 0);
      CHECK(mps_pool_create_k(&bad, arena, mps_class_mfs(), args) == MPS_RES_PARAM);
    }
    MPS_ARGS_END(args);
    CHECK(reported(r0, "MFS_UNIT_SIZE"));
    CHECK(bad == NULL);
  }
  mps_free(pool, b, unit);
  mps_free(pool, c, unit);
  mps_free(other, o, unit);
  CHECK(mps_pool_free_size(pool) == mps_pool_total_size(pool));
  CHECK(gcp_pool_consistent(pool));
  mps_pool_destroy(other);
  mps_pool_destroy(pool);
  CHECK(gcp_arena_consistent(arena));
  mps_lib_assert_fail_install(old);
}

static void mfsLegacy(mps_arena_t arena)
{
  mps_pool_t pool;
  void *p[3];
  int i;
  REQUIRE(mps_pool_create(&pool, arena, mps_class_mfs(), (size_t)8192, (size_t)24) == MPS_RES_OK);
  for (i = 0; i < 3; ++i) {
    REQUIRE(mps_alloc(&p[i], pool, 24) == MPS_RES_OK);
    memset(p[i], i, 24);
  }
  CHECK(mps_pool_total_size(pool) >= 8192);
  CHECK(mps_pool_free_size(pool) == mps_pool_total_size(pool) - 3 * 24);
  CHECK(p[0] != p[1] && p[1] != p[2] && p[0] != p[2]);
  for (i = 0; i < 3; ++i) mps_free(pool, p[i], 24);
  CHECK(mps_pool_free_size(pool) == mps_pool_total_size(pool));
  CHECK(gcp_pool_consistent(pool));
  mps_pool_destroy(pool);
}

/* ---- SAC layout (docs/design/sac.md) ------------------------------------------ */

/* The middle class index, or n if _middle names no class. */
static size_t middleOf(mps_sac_t sac, const mps_sac_class_s *cl, size_t n)
{
  size_t m;
  for (m = 0; m < n; ++m)
    if (cl[m].mps_block_size == sac->_middle) return m;
  return n;
}

static int layoutOK(mps_sac_t sac, const mps_sac_class_s *cl, size_t n)
{
  const _mps_sac_freelist_block_s *fl = sac->_freelists;
  size_t m = middleOf(sac, cl, n), k, total = 0, below = 0;
  int ok = 1;
#define LAYOUT(cond)                                                            \
  do {                                                                          \
    if (!(cond)) {                                                              \
      fprintf(stderr, "  layout: %s fails (n %zu, middle %zu)\n", #cond, n, m); \
      ok = 0;                                                                   \
    }                                                                           \
  } while (0)

  LAYOUT(m < n);
  if (m >= n) return 0;
  LAYOUT(sac->_trapped == 0);
  /* About half of the requests fall at or below the middle class. */
  for (k = 0; k < n; ++k) total += cl[k].mps_frequency;
  for (k = 0; k < m; ++k) below += cl[k].mps_frequency;
  LAYOUT(2 * (below + cl[m].mps_frequency) >= total);
  LAYOUT(2 * below <= total);
  /* Even slots: the classes above the middle, ascending, then the sentinel. */
  for (k = 0; m + 1 + k < n; ++k) {
    LAYOUT(fl[2 * k]._size == cl[m + 1 + k].mps_block_size);
    LAYOUT(fl[2 * k]._count == 0);
    LAYOUT(fl[2 * k]._count_max == cl[m + 1 + k].mps_cached_count);
    LAYOUT(fl[2 * k]._blocks == NULL);
  }
  LAYOUT(fl[2 * k]._size == SIZE_MAX);
  LAYOUT(fl[2 * k]._count == 0 && fl[2 * k]._count_max == 0 && fl[2 * k]._blocks == NULL);
  /* Odd slots: the middle and below, descending, each holding the next
   * smaller class's size; the smallest holds 0. */
  for (k = 0; k <= m; ++k) {
    const _mps_sac_freelist_block_s *s = &fl[2 * k + 1];
    LAYOUT(s->_size == (k == m ? 0 : cl[m - k - 1].mps_block_size));
    LAYOUT(s->_count == 0);
    LAYOUT(s->_count_max == cl[m - k].mps_cached_count);
    LAYOUT(s->_blocks == NULL);
  }
#undef LAYOUT
  return ok;
}

/* Block size of the class serving `size`, or 0 if overlarge. */
static size_t classSize(const mps_sac_class_s *cl, size_t n, size_t size)
{
  size_t k;
  for (k = 0; k < n; ++k)
    if (size <= cl[k].mps_block_size) return cl[k].mps_block_size;
  return 0;
}

/* Walk the free lists: every count within its maximum, every list as long
 * as its count, every cached block inside the pool; return cached bytes
 * as the pool sees them (`unit` nonzero: an MFS unit per block). */
static int listsOK(mps_sac_t sac, const mps_sac_class_s *cl, size_t n, mps_arena_t arena,
                   mps_pool_t pool, size_t unit, size_t *cachedReturn, size_t *poolBytesReturn)
{
  const _mps_sac_freelist_block_s *fl = sac->_freelists;
  size_t m = middleOf(sac, cl, n), k, cached = 0, poolBytes = 0;
  int ok = 1;
  if (m >= n) return 0;
  for (k = 0; k < 2 * n + 2; ++k) {
    size_t slot = k, bsize, count = 0;
    void *b;
    if (slot % 2 == 0) {
      if (slot / 2 > n - 1 - m) continue;
      bsize = slot / 2 == n - 1 - m ? 0 : cl[m + 1 + slot / 2].mps_block_size;
    } else {
      if (slot / 2 > m) continue;
      bsize = cl[m - slot / 2].mps_block_size;
    }
    if (fl[slot]._count > fl[slot]._count_max) {
      fprintf(stderr, "  slot %zu: count %zu > max %zu\n", slot, fl[slot]._count,
              fl[slot]._count_max);
      ok = 0;
    }
    for (b = fl[slot]._blocks; b != NULL && count <= fl[slot]._count; b = *(void **)b) {
      mps_pool_t owner = NULL;
      if (!mps_addr_pool(&owner, arena, b) || owner != pool) {
        ok = 0;
        break;
      }
      ++count;
    }
    if (count != fl[slot]._count) {
      fprintf(stderr, "  slot %zu: list length %zu, count %zu\n", slot, count, fl[slot]._count);
      ok = 0;
    }
    cached += fl[slot]._count * bsize;
    poolBytes += fl[slot]._count * (unit != 0 ? unit : bsize);
  }
  *cachedReturn = cached;
  *poolBytesReturn = poolBytes;
  return ok;
}

/* ---- SAC churn -------------------------------------------------------------- */

#define NSAC 1500

typedef struct {
  const char *name;
  size_t n;
  mps_sac_class_s cl[16];
} ClassSet;

/* unit != 0: the pool is MFS with that rounded unit size; overlarge
 * requests are then not made (a unit is the largest block). */
static void sacChurn(mps_arena_t arena, mps_pool_t pool, const ClassSet *cs, size_t unit,
                     size_t align, long ops)
{
  static Block blocks[NSAC];
  mps_sac_t sac;
  size_t maxClass = cs->cl[cs->n - 1].mps_block_size, liveBytes = 0, i;
  size_t cached = 0, poolCached = 0, middle;
  int badLists = 0, badContent = 0, badAlign = 0, badSizes = 0, badFlush = 0;
  long op, flushes = 0;
  mps_res_t res;

  res = mps_sac_create(&sac, pool, cs->n, (mps_sac_class_s *)cs->cl);
  if (res == MPS_RES_LIMIT && cs->n > MPS_SAC_CLASS_LIMIT) {
    printf("  SAC %s: %zu classes refused with MPS_RES_LIMIT\n", cs->name, cs->n);
    return;
  }
  REQUIRE(res == MPS_RES_OK);
  middle = sac->_middle;
  CHECK(layoutOK(sac, cs->cl, cs->n));
  CHECK(gcp_sac_cached_size(sac) == 0);
  memset(blocks, 0, sizeof blocks);
  for (op = 0; op < ops; ++op) {
    Block *b = &blocks[rnd() % NSAC];
    unsigned long how = rnd() % 3;
    if (b->p == NULL) {
      size_t size;
      mps_addr_t p = NULL;
      if (unit == 0 && rnd() % 10 == 0)
        size = maxClass + 1 + rnd() % (3 * maxClass); /* overlarge */
      else
        size = 1 + rnd() % maxClass;
      if (how == 0) {
        MPS_SAC_ALLOC_FAST(res, p, sac, size, 0);
      } else if (how == 1) {
        res = mps_sac_alloc(&p, sac, size, 0);
      } else {
        MPS_SAC_ALLOC(res, p, sac, size, 0);
      }
      REQUIRE(res == MPS_RES_OK);
      b->p = p;
      b->size = size;
      b->charged = classSize(cs->cl, cs->n, size);
      if (b->charged == 0) b->charged = alignUp(size, align);
      if (unit != 0) b->charged = unit;
      liveBytes += b->charged;
      CHECK_ONCE(((uintptr_t)p & (align - 1)) == 0, badAlign);
      fillBlock(b);
    } else {
      CHECK_ONCE(intact(b), badContent);
      if (how == 0) {
        MPS_SAC_FREE_FAST(sac, b->p, b->size);
      } else if (how == 1) {
        mps_sac_free(sac, b->p, b->size);
      } else {
        MPS_SAC_FREE(sac, b->p, b->size);
      }
      liveBytes -= b->charged;
      b->p = NULL;
    }
    if (op % 64 == 0 || ops < 5000) {
      CHECK_ONCE(listsOK(sac, cs->cl, cs->n, arena, pool, unit, &cached, &poolCached), badLists);
      CHECK_ONCE(gcp_sac_cached_size(sac) == cached, badSizes);
      CHECK_ONCE(mps_pool_free_size(pool) == mps_pool_total_size(pool) - liveBytes - poolCached,
                 badSizes);
    }
    if (rnd() % 5000 == 0) {
      mps_sac_flush(sac);
      ++flushes;
      CHECK_ONCE(gcp_sac_cached_size(sac) == 0, badFlush);
      CHECK_ONCE(mps_pool_free_size(pool) == mps_pool_total_size(pool) - liveBytes, badFlush);
    }
  }
  CHECK(gcp_pool_consistent(pool));
  CHECK(gcp_arena_consistent(arena));
  for (i = 0; i < NSAC; ++i)
    if (blocks[i].p != NULL) {
      CHECK_ONCE(intact(&blocks[i]), badContent);
      mps_sac_free(sac, blocks[i].p, blocks[i].size);
      liveBytes -= blocks[i].charged;
      blocks[i].p = NULL;
    }
  CHECK(liveBytes == 0);
  CHECK(listsOK(sac, cs->cl, cs->n, arena, pool, unit, &cached, &poolCached));
  CHECK(gcp_sac_cached_size(sac) == cached);
  CHECK(mps_pool_free_size(pool) == mps_pool_total_size(pool) - poolCached);
  mps_sac_flush(sac);
  CHECK(gcp_sac_cached_size(sac) == 0);
  CHECK(mps_pool_free_size(pool) == mps_pool_total_size(pool));
  CHECK(listsOK(sac, cs->cl, cs->n, arena, pool, unit, &cached, &poolCached) && cached == 0);
  CHECK(layoutOK(sac, cs->cl, cs->n)); /* flushed: back to the initial layout */
  /* Destroying a cache that holds blocks returns them too. */
  {
    void *p;
    size_t s = cs->cl[0].mps_block_size;
    MPS_SAC_ALLOC_FAST(res, p, sac, s, 0);
    REQUIRE(res == MPS_RES_OK);
    MPS_SAC_FREE_FAST(sac, p, s);
  }
  mps_sac_destroy(sac);
  CHECK(mps_pool_free_size(pool) == mps_pool_total_size(pool));
  CHECK(gcp_pool_consistent(pool));
  printf("  SAC %s over %s: %zu classes, middle %zu, %ld flushes\n", cs->name,
         gcp_pool_class_name(pool), cs->n, middle, flushes);
}

static const ClassSet mvffSets[] = {
  { "eight-even",
    8,
    { { 8, 16, 1 },
      { 16, 16, 1 },
      { 32, 16, 1 },
      { 64, 16, 1 },
      { 128, 8, 1 },
      { 256, 8, 1 },
      { 512, 4, 1 },
      { 1024, 4, 1 } } },
  { "small-heavy", 3, { { 16, 100, 100 }, { 48, 10, 1 }, { 200, 10, 1 } } },
  { "large-heavy", 5, { { 24, 5, 1 }, { 40, 5, 1 }, { 72, 5, 1 }, { 136, 5, 1 }, { 264, 5, 50 } } },
  { "single", 1, { { 64, 20, 1 } } },
  { "uncached", 3, { { 16, 0, 1 }, { 32, 10, 1 }, { 64, 0, 1 } } },
  { "no-frequencies", 4, { { 8, 3, 0 }, { 16, 3, 0 }, { 24, 3, 0 }, { 4096, 2, 0 } } },
  { "middle-skewed",
    6,
    { { 8, 6, 1 }, { 16, 6, 1 }, { 24, 6, 1 }, { 32, 6, 1 }, { 40, 6, 1 }, { 48, 6, 10 } } },
  { "twelve",
    12,
    { { 16, 4, 1 },
      { 32, 4, 1 },
      { 48, 4, 1 },
      { 64, 4, 1 },
      { 80, 4, 1 },
      { 96, 4, 1 },
      { 112, 4, 1 },
      { 128, 4, 1 },
      { 144, 4, 1 },
      { 160, 4, 1 },
      { 176, 4, 1 },
      { 192, 4, 9 } } },
};

static void sacs(mps_arena_t arena)
{
  mps_pool_t pool;
  size_t k;
  mps_res_t res;

  /* Over MVFF (alignment 8), each class set. */
  REQUIRE(mps_pool_create_k(&pool, arena, mps_class_mvff(), mps_args_none) == MPS_RES_OK);
  for (k = 0; k < sizeof mvffSets / sizeof mvffSets[0]; ++k)
    sacChurn(arena, pool, &mvffSets[k], 0, 8, 30000);
  CHECK(mps_pool_free_size(pool) == mps_pool_total_size(pool));
  mps_pool_destroy(pool);

  /* Over MVFF with alignment 32. */
  MPS_ARGS_BEGIN(a)
  {
    MPS_ARGS_ADD(a, MPS_KEY_ALIGN, 32);
    REQUIRE(mps_pool_create_k(&pool, arena, mps_class_mvff(), a) == MPS_RES_OK);
  }
  MPS_ARGS_END(a);
  {
    static const ClassSet aligned = {
      "align-32", 4, { { 32, 10, 4 }, { 64, 10, 3 }, { 96, 10, 2 }, { 512, 5, 1 } }
    };
    sacChurn(arena, pool, &aligned, 0, 32, 20000);
  }
  mps_pool_destroy(pool);

  /* Over MFS: classes up to the unit size. */
  MPS_ARGS_BEGIN(a)
  {
    MPS_ARGS_ADD(a, MPS_KEY_MFS_UNIT_SIZE, 64);
    MPS_ARGS_ADD(a, MPS_KEY_EXTEND_BY, 16384);
    REQUIRE(mps_pool_create_k(&pool, arena, mps_class_mfs(), a) == MPS_RES_OK);
  }
  MPS_ARGS_END(a);
  {
    static const ClassSet one = { "mfs-unit", 1, { { 64, 30, 1 } } };
    static const ClassSet three = { "mfs-three",
                                    3,
                                    { { 16, 10, 3 }, { 32, 10, 2 }, { 64, 10, 1 } } };
    sacChurn(arena, pool, &one, mfsRounded(64), MPS_PF_ALIGN, 30000);
    sacChurn(arena, pool, &three, mfsRounded(64), MPS_PF_ALIGN, 30000);
  }
  CHECK(mps_pool_free_size(pool) == mps_pool_total_size(pool));
  mps_pool_destroy(pool);

  /* Very many classes: accepted or MPS_RES_LIMIT. */
  REQUIRE(mps_pool_create_k(&pool, arena, mps_class_mvff(), mps_args_none) == MPS_RES_OK);
  {
    static mps_sac_class_s many[100];
    mps_sac_t sac;
    for (k = 0; k < 100; ++k) {
      many[k].mps_block_size = 8 * (k + 1);
      many[k].mps_cached_count = 2;
      many[k].mps_frequency = (unsigned)(k % 7);
    }
    res = mps_sac_create(&sac, pool, 100, many);
    CHECK(res == MPS_RES_OK || res == MPS_RES_LIMIT);
    if (res == MPS_RES_OK) {
      void *p;
      CHECK(layoutOK(sac, many, 100));
      for (k = 1; k <= 900; k += 7) {
        MPS_SAC_ALLOC_FAST(res, p, sac, k, 0);
        REQUIRE(res == MPS_RES_OK);
        memset(p, 1, k);
        MPS_SAC_FREE_FAST(sac, p, k);
      }
      mps_sac_destroy(sac);
    }
    printf("  SAC with 100 classes: result %d\n", res);
  }
  CHECK(mps_pool_free_size(pool) == mps_pool_total_size(pool));

  /* Invalid class arrays: MPS_RES_PARAM and a message naming the problem. */
  {
    mps_lib_assert_fail_t old = mps_lib_assert_fail_install(recordHandler);
    mps_sac_t sac = NULL;
    mps_sac_classes_s unsorted[3] = { { 16, 1, 1 }, { 64, 1, 1 }, { 32, 1, 1 } };
    mps_sac_class_s equal[2] = { { 16, 1, 1 }, { 16, 1, 1 } };
    mps_sac_class_s unaligned[2] = { { 16, 1, 1 }, { 44, 1, 1 } };
    mps_sac_class_s tiny[2] = { { 4, 1, 1 }, { 16, 1, 1 } };
    mps_sac_class_s zero[1] = { { 0, 1, 1 } };
    unsigned long r0;

    r0 = reports;
    CHECK(mps_sac_create(&sac, pool, 3, unsorted) == MPS_RES_PARAM);
    CHECK(reported(r0, "increasing"));
    r0 = reports;
    CHECK(mps_sac_create(&sac, pool, 2, equal) == MPS_RES_PARAM);
    CHECK(reported(r0, "increasing"));
    r0 = reports;
    CHECK(mps_sac_create(&sac, pool, 2, unaligned) == MPS_RES_PARAM);
    CHECK(reported(r0, "alignment"));
    r0 = reports;
    CHECK(mps_sac_create(&sac, pool, 2, tiny) == MPS_RES_PARAM);
    CHECK(reported(r0, "pointer"));
    r0 = reports;
    CHECK(mps_sac_create(&sac, pool, 1, zero) == MPS_RES_PARAM);
    CHECK(reported(r0, "block size"));
    r0 = reports;
    CHECK(mps_sac_create(&sac, pool, 0, unsorted) == MPS_RES_PARAM);
    CHECK(reported(r0, "class"));
    CHECK(sac == NULL);
    mps_lib_assert_fail_install(old);
  }
  CHECK(gcp_pool_consistent(pool));
  mps_pool_destroy(pool);

  /* Over MVFF with alignment 32, a class of 48 is not aligned. */
  MPS_ARGS_BEGIN(a)
  {
    MPS_ARGS_ADD(a, MPS_KEY_ALIGN, 32);
    REQUIRE(mps_pool_create_k(&pool, arena, mps_class_mvff(), a) == MPS_RES_OK);
  }
  MPS_ARGS_END(a);
  {
    mps_lib_assert_fail_t old = mps_lib_assert_fail_install(recordHandler);
    mps_sac_t sac = NULL;
    mps_sac_class_s cl[2] = { { 32, 1, 1 }, { 48, 1, 1 } };
    unsigned long r0 = reports;
    CHECK(mps_sac_create(&sac, pool, 2, cl) == MPS_RES_PARAM);
    CHECK(reported(r0, "alignment"));
    CHECK(sac == NULL);
    mps_lib_assert_fail_install(old);
  }
  mps_pool_destroy(pool);
  CHECK(gcp_arena_pools_committed(arena) == 0);
  CHECK(gcp_arena_consistent(arena));
}

/* A cache under the commit limit: a fill that cannot get even one block
 * fails with MPS_RES_COMMIT_LIMIT, leaves the output alone and the cache
 * intact; with the limit raised the same request succeeds. */
static void sacCommitLimit(mps_arena_t arena)
{
  mps_pool_t pool;
  mps_sac_t sac;
  mps_sac_class_s cl[2] = { { 64, 30, 1 }, { 4096, 30, 1 } };
  size_t cached, poolCached;
  void *p, *q;
  mps_res_t res;

  MPS_ARGS_BEGIN(a)
  {
    MPS_ARGS_ADD(a, MPS_KEY_SPARE, 0.0);
    MPS_ARGS_ADD(a, MPS_KEY_EXTEND_BY, 4096);
    REQUIRE(mps_pool_create_k(&pool, arena, mps_class_mvff(), a) == MPS_RES_OK);
  }
  MPS_ARGS_END(a);
  REQUIRE(mps_sac_create(&sac, pool, 2, cl) == MPS_RES_OK);
  MPS_SAC_ALLOC_FAST(res, q, sac, 64, 0); /* something in the pool */
  REQUIRE(res == MPS_RES_OK);
  mps_arena_spare_set(arena, 0.0);
  REQUIRE(mps_arena_commit_limit_set(arena, mps_arena_committed(arena)) == MPS_RES_OK);
  p = (void *)&p;
  MPS_SAC_ALLOC_FAST(res, p, sac, 100 * 1024, 0); /* overlarge: needs new memory */
  CHECK(res == MPS_RES_COMMIT_LIMIT);
  CHECK(p == (void *)&p);
  res = mps_sac_alloc(&p, sac, 3000, 0);
  CHECK(res == MPS_RES_COMMIT_LIMIT || res == MPS_RES_OK); /* OK if a 4096 block fits */
  if (res == MPS_RES_OK) mps_sac_free(sac, p, 3000);
  CHECK(listsOK(sac, cl, 2, arena, pool, 0, &cached, &poolCached));
  CHECK(gcp_pool_consistent(pool));
  CHECK(mps_arena_committed(arena) <= mps_arena_commit_limit(arena));
  REQUIRE(mps_arena_commit_limit_set(arena, (size_t)-1) == MPS_RES_OK);
  MPS_SAC_ALLOC_FAST(res, p, sac, 100 * 1024, 0);
  CHECK(res == MPS_RES_OK);
  if (res == MPS_RES_OK) {
    memset(p, 9, 100 * 1024);
    MPS_SAC_FREE_FAST(sac, p, 100 * 1024);
  }
  MPS_SAC_FREE_FAST(sac, q, 64);
  mps_sac_destroy(sac);
  CHECK(mps_pool_free_size(pool) == mps_pool_total_size(pool));
  mps_pool_destroy(pool);
  mps_arena_spare_set(arena, 0.75);
}

/* The slot the fast macros pick, against the search docs/design/sac.md states as a
 * loop, for class arrays of 1 to 30 classes with random sizes and
 * frequencies (so both sides of the middle hold from 0 to 29 classes). */
static size_t specSlot(mps_sac_t sac, size_t s)
{
  size_t i;
  if (s > sac->_middle) {
    for (i = 0; s > sac->_freelists[i]._size; i += 2) {}
  } else {
    for (i = 1; s <= sac->_freelists[i]._size; i += 2) {}
  }
  return i;
}

static void sacSearchAgreesWithSpec(mps_arena_t arena)
{
  mps_pool_t pool;
  int round;
  REQUIRE(mps_pool_create_k(&pool, arena, mps_class_mvff(), mps_args_none) == MPS_RES_OK);
  for (round = 0; round < 200; ++round) {
    mps_sac_class_s classes[30];
    size_t n = 1 + rnd() % 30, k, size = 0, s;
    mps_sac_t sac;
    mps_res_t res;
    int failed = 0;
    for (k = 0; k < n; ++k) {
      size += 8 * (1 + rnd() % 16);
      classes[k].mps_block_size = size;
      classes[k].mps_cached_count = rnd() % 4;
      classes[k].mps_frequency = (unsigned)(rnd() % 5);
    }
    res = mps_sac_create(&sac, pool, n, classes);
    REQUIRE(res == MPS_RES_OK);
    for (s = 1; s <= size + 64; ++s) {
      size_t i = 0;
      MPS_SAC_SEARCH_(sac, s, i)
      CHECK_ONCE(i == specSlot(sac, s), failed);
    }
    mps_sac_destroy(sac);
  }
  mps_pool_destroy(pool);
}

int main(int argc, char **argv)
{
  mps_arena_t arena;
  static const size_t units[] = { 1, 8, 13, 24, 100, 1000, 4096, 5000 };
  static const size_t extends[] = { 0, 4096, 100000 };
  size_t u;

  testSeed(argc, argv);
  printf("variety %s\n", gcp_variety());
  REQUIRE(mps_arena_create_k(&arena, mps_arena_class_vm(), mps_args_none) == MPS_RES_OK);
  for (u = 0; u < sizeof units / sizeof units[0]; ++u)
    mfsChurn(arena, units[u], extends[(u + rnd()) % 3], 40000);
  mfsChurn(arena, 16, 16, 20000); /* extents smaller than a grain */
  mfsMisuse(arena);
  mfsLegacy(arena);
  sacs(arena);
  sacSearchAgreesWithSpec(arena);
  sacCommitLimit(arena);
  CHECK(gcp_arena_pools_committed(arena) == 0);
  CHECK(gcp_arena_consistent(arena));
  mps_arena_destroy(arena);
  return testFinish();
}
