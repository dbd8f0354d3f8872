/* test_mvff.c -- randomized test of MVFF and MVFF debug through the public
 * interface only: mps_alloc/mps_free with every placement key combination
 * and several alignments, an allocation point, a cache, block contents
 * checked against their addresses, the core's consistency check, and the
 * debug class's detection of fencepost and free-space damage.
 * Usage: test_mvff [seed].  Implements the tests of docs/design/mvff.md.
 * Every check is a REQUIRE: the program stops at the first failure, since
 * the checks that follow one (report counts, block contents) build on it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpscmvff.h"
#include "mpslib.h"
#include "gcp_ext.h"
#include "testlib.h"

typedef struct {
  unsigned char *p;
  size_t size;
} Block;
#define NBLOCKS 3000

static void fill(Block *b)
{
  size_t i;
  for (i = 0; i < b->size; ++i) b->p[i] = (unsigned char)(((size_t)b->p >> 3) + i * 7);
}
static int intact(const Block *b)
{
  size_t i;
  for (i = 0; i < b->size; ++i)
    if (b->p[i] != (unsigned char)(((size_t)b->p >> 3) + i * 7)) return 0;
  return 1;
}

static void churn(mps_arena_t arena, mps_pool_class_t cls, long ops, size_t align, int slotHigh,
                  int arenaHigh, int firstFit)
{
  static Block blocks[NBLOCKS];
  mps_pool_t pool;
  mps_res_t res;
  long i;

  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_ALIGN, align);
    MPS_ARGS_ADD(args, MPS_KEY_MVFF_SLOT_HIGH, slotHigh);
    MPS_ARGS_ADD(args, MPS_KEY_MVFF_ARENA_HIGH, arenaHigh);
    MPS_ARGS_ADD(args, MPS_KEY_MVFF_FIRST_FIT, firstFit);
    MPS_ARGS_ADD(args, MPS_KEY_EXTEND_BY, 16384);
    res = mps_pool_create_k(&pool, arena, cls, args);
  }
  MPS_ARGS_END(args);
  REQUIRE(res == MPS_RES_OK);
  memset(blocks, 0, sizeof blocks);
  for (i = 0; i < ops; ++i) {
    Block *b = &blocks[rnd() % NBLOCKS];
    if (b->p == NULL) {
      size_t size = 1 + rnd() % (rnd() % 32 == 0 ? 20000 : 300);
      void *p;
      res = mps_alloc(&p, pool, size);
      REQUIRE(res == MPS_RES_OK);
      REQUIRE(((size_t)p & (align - 1)) == 0);
      b->p = p;
      b->size = size;
      fill(b);
    } else {
      REQUIRE(intact(b));
      mps_free(pool, b->p, b->size);
      b->p = NULL;
    }
    if (i % 5000 == 0) {
      REQUIRE(gcp_pool_consistent(pool));
      REQUIRE(mps_pool_free_size(pool) <= mps_pool_total_size(pool));
    }
  }
  for (i = 0; i < NBLOCKS; ++i)
    if (blocks[i].p != NULL) {
      REQUIRE(intact(&blocks[i]));
      mps_free(pool, blocks[i].p, blocks[i].size);
    }
  REQUIRE(gcp_arena_consistent(arena));
  REQUIRE(mps_pool_free_size(pool) == mps_pool_total_size(pool));
  mps_pool_check_fenceposts(pool);
  mps_pool_check_free_space(pool);
  mps_pool_destroy(pool);
  REQUIRE(gcp_arena_pools_committed(arena) == 0);
  REQUIRE(gcp_arena_consistent(arena));
}

static void apAndCache(mps_arena_t arena)
{
  mps_pool_t pool;
  mps_ap_t ap;
  mps_sac_t sac;
  mps_sac_class_s classes[3] = { { 16, 50, 4 }, { 64, 50, 2 }, { 256, 20, 1 } };
  void *ps[1000];
  mps_res_t res;
  int i;

  res = mps_pool_create_k(&pool, arena, mps_class_mvff(), mps_args_none);
  REQUIRE(res == MPS_RES_OK);
  res = mps_ap_create_k(&ap, pool, mps_args_none);
  REQUIRE(res == MPS_RES_OK);
  for (i = 0; i < 1000; ++i) {
    mps_addr_t p;
    size_t size = 8 * (1 + rnd() % 40);
    do {
      res = mps_reserve(&p, ap, size);
      REQUIRE(res == MPS_RES_OK);
      memset(p, 0xAB, size);
    } while (!mps_commit(ap, p, size));
    ps[i] = p;
    *(size_t *)p = size;
  }
  REQUIRE(gcp_pool_consistent(pool));
  for (i = 0; i < 1000; ++i) {
    mps_free(pool, ps[i], *(size_t *)ps[i]);
    ps[i] = NULL;
  }
  mps_ap_destroy(ap);
  REQUIRE(mps_pool_free_size(pool) == mps_pool_total_size(pool));

  res = mps_sac_create(&sac, pool, 3, classes);
  REQUIRE(res == MPS_RES_OK);
  for (i = 0; i < 100000; ++i) {
    int k = (int)(rnd() % 1000);
    if (ps[k] == NULL) {
      size_t size = 1 + rnd() % 400;
      mps_addr_t p;
      MPS_SAC_ALLOC_FAST(res, p, sac, size, 0);
      REQUIRE(res == MPS_RES_OK);
      memset(p, 0x5A, size);
      ps[k] = p;
      ((size_t *)p)[0] = size;
    } else {
      size_t size = *(size_t *)ps[k];
      MPS_SAC_FREE_FAST(sac, ps[k], size);
      ps[k] = NULL;
    }
  }
  for (i = 0; i < 1000; ++i)
    if (ps[i] != NULL) {
      size_t s = *(size_t *)ps[i];
      mps_sac_free(sac, ps[i], s);
    }
  mps_sac_destroy(sac);
  REQUIRE(mps_pool_free_size(pool) == mps_pool_total_size(pool));
  REQUIRE(gcp_pool_consistent(pool));
  mps_pool_destroy(pool);
}

static void debugDamage(mps_arena_t arena)
{
  mps_pool_t pool, other;
  unsigned char *p, *q;
  mps_res_t res;
  mps_lib_assert_fail_t old = mps_lib_assert_fail_install(recordHandler);

  res = mps_pool_create_k(&pool, arena, mps_class_mvff_debug(), mps_args_none);
  REQUIRE(res == MPS_RES_OK);
  res = mps_pool_create_k(&other, arena, mps_class_mvff(), mps_args_none);
  REQUIRE(res == MPS_RES_OK);
  res = mps_alloc((mps_addr_t *)&p, pool, 24);
  REQUIRE(res == MPS_RES_OK);
  reports = 0;
  mps_pool_check_fenceposts(pool);
  REQUIRE(reports == 0);
  p[24] = 0; /* one byte past the end */
  mps_pool_check_fenceposts(pool);
  REQUIRE(reports == 1 && strstr(lastMessage, "fencepost after") != NULL);
  mps_free(pool, p, 24); /* refused: the fence is damaged */
  REQUIRE(reports == 2);
  p[24] = p[25]; /* can't restore by guessing: repair via pattern */
  p[-1] = 0;
  mps_pool_check_fenceposts(pool);
  REQUIRE(strstr(lastMessage, "fencepost before") != NULL);

  res = mps_alloc((mps_addr_t *)&q, pool, 40);
  REQUIRE(res == MPS_RES_OK);
  reports = 0;
  mps_free(pool, q, 48 + 8); /* wrong size */
  REQUIRE(reports == 1 && strstr(lastMessage, "does not match") != NULL);
  mps_free(pool, q + 8, 32); /* interior pointer */
  REQUIRE(reports == 2 && strstr(lastMessage, "middle of block") != NULL);
  mps_free(pool, q, 40);
  REQUIRE(reports == 2);
  mps_free(pool, q, 40); /* double free */
  REQUIRE(reports == 3);
  q[3] = 0; /* write after free */
  mps_pool_check_free_space(pool);
  REQUIRE(reports == 4 && strstr(lastMessage, "written after it was freed") != NULL);
  q[3] = (unsigned char)"FREE"[(size_t)(q + 3) % 4];
  reports = 0;
  mps_pool_check_free_space(pool);
  REQUIRE(reports == 0);

  { /* foreign and other-pool pointers */
    void *r, *keep;
    int local;
    res = mps_alloc(&r, other, 64);
    REQUIRE(res == MPS_RES_OK);
    res = mps_alloc(&keep, other, 64); /* keeps the segment in the pool */
    REQUIRE(res == MPS_RES_OK);
    mps_free(pool, r, 64);
    REQUIRE(reports == 1 && strstr(lastMessage, "another pool") != NULL);
    mps_free(pool, &local, 8);
    REQUIRE(reports == 2 && strstr(lastMessage, "foreign") != NULL);
    mps_free(other, r, 64);
    mps_free(other, r, 64);
    REQUIRE(reports == 3 && strstr(lastMessage, "double free") != NULL);
    mps_free(other, keep, 64);
  }
  REQUIRE(gcp_pool_consistent(pool) && gcp_pool_consistent(other));
  mps_pool_destroy(other);
  reports = 0;
  mps_pool_destroy(pool); /* the damaged block is reported again */
  REQUIRE(reports == 1);
  mps_lib_assert_fail_install(old);
}

int main(int argc, char **argv)
{
  mps_arena_t arena;
  mps_res_t res;
  size_t aligns[] = { 8, 16, 64, 4096 };
  int combo, a;

  testSeed(argc, argv);
  res = mps_arena_create_k(&arena, mps_arena_class_vm(), mps_args_none);
  REQUIRE(res == MPS_RES_OK);
  for (a = 0; a < 4; ++a)
    for (combo = 0; combo < 8; ++combo) {
      churn(arena, mps_class_mvff(), 40000, aligns[a], combo & 1, (combo >> 1) & 1,
            (combo >> 2) & 1);
      if (combo % 3 == 0)
        churn(arena, mps_class_mvff_debug(), 10000, aligns[a], combo & 1, (combo >> 1) & 1,
              (combo >> 2) & 1);
    }
  apAndCache(arena);
  debugDamage(arena);
  REQUIRE(gcp_arena_consistent(arena));
  mps_arena_destroy(arena);
  return testFinish();
}
