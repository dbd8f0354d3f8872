/* test_regressions.c -- one check per defect found in review of the core,
 * each written as the smallest client that showed it, so that none comes
 * back: the commit limit exceeded by a purge of the run being allocated;
 * oversized free sizes and EXTEND_BY values; growth sizes that wrapped;
 * a debug-pool free into another block's fencepost; and mps_addr_pool /
 * mps_arena_has_addr racing with a thread whose frees release chunks.
 * Usage: test_regressions [seed].
 */
#include <pthread.h>
#include <stdatomic.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpscmfs.h"
#include "mpscmvff.h"
#include "mpslib.h"
#include "gcp_ext.h"
#include "testlib.h"

static mps_arena_t newArena(size_t size, double spare)
{
  mps_arena_t arena;
  mps_res_t res;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_ARENA_SIZE, size);
    MPS_ARGS_ADD(args, MPS_KEY_SPARE, spare);
    res = mps_arena_create_k(&arena, mps_arena_class_vm(), args);
  }
  MPS_ARGS_END(args);
  REQUIRE(res == MPS_RES_OK);
  return arena;
}

static mps_pool_t newMVFF(mps_arena_t arena, mps_pool_class_t cls, size_t extendBy, double spare)
{
  mps_pool_t pool;
  mps_res_t res;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_EXTEND_BY, extendBy);
    MPS_ARGS_ADD(args, MPS_KEY_SPARE, spare);
    res = mps_pool_create_k(&pool, arena, cls, args);
  }
  MPS_ARGS_END(args);
  REQUIRE(res == MPS_RES_OK);
  return pool;
}

/* Spare pages inside the run chosen for an allocation must not be purged
 * to make room for the rest of it: committed would pass the limit. */
static void commitLimitHeld(void)
{
  mps_arena_t arena = newArena((size_t)1 << 24, 0.75);
  size_t grain = gcp_arena_grain_size(arena);
  mps_pool_t pool = newMVFF(arena, mps_class_mvff(), grain, 0.0);
  void *keep, *x, *y;
  mps_res_t res;

  REQUIRE(mps_alloc(&keep, pool, 8) == MPS_RES_OK);
  REQUIRE(mps_alloc(&x, pool, 3 * grain) == MPS_RES_OK);
  mps_free(pool, x, 3 * grain); /* three spare pages */
  REQUIRE(mps_arena_commit_limit_set(arena, mps_arena_committed(arena)) == MPS_RES_OK);
  res = mps_alloc(&y, pool, 4 * grain);
  CHECK(res == MPS_RES_COMMIT_LIMIT);
  CHECK(mps_arena_committed(arena) <= mps_arena_commit_limit(arena));
  CHECK(gcp_arena_consistent(arena));
  REQUIRE(mps_arena_commit_limit_set(arena, (size_t)-1) == MPS_RES_OK);
  res = mps_alloc(&y, pool, 4 * grain);
  CHECK(res == MPS_RES_OK);
  if (res == MPS_RES_OK) mps_free(pool, y, 4 * grain);
  mps_free(pool, keep, 8);
  mps_pool_destroy(pool);
  mps_arena_destroy(arena);
}

/* Sizes that round past SIZE_MAX, and extension sizes too big to align. */
static void oversizedArguments(void)
{
  mps_arena_t arena = newArena((size_t)1 << 24, 0.75);
  mps_pool_t pool = newMVFF(arena, mps_class_mvff(), 65536, 0.75), bad;
  unsigned long before;
  mps_res_t res;
  char *x;

  REQUIRE(mps_alloc((void **)&x, pool, 64) == MPS_RES_OK);
  memset(x, 0x5A, 64);
  before = reports;
  mps_free(pool, x, (size_t)-1);
  CHECK(reported(before, "larger than any block"));
  CHECK(x[0] == 0x5A && x[63] == 0x5A); /* the live block is untouched */
  CHECK(gcp_pool_consistent(pool));
  mps_free(pool, x, 64);
  CHECK(mps_pool_free_size(pool) == mps_pool_total_size(pool));

  before = reports;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_EXTEND_BY, (size_t)-100);
    res = mps_pool_create_k(&bad, arena, mps_class_mvff(), args);
  }
  MPS_ARGS_END(args);
  CHECK(res == MPS_RES_PARAM && reported(before, "EXTEND_BY"));
  before = reports;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_MFS_UNIT_SIZE, 32);
    MPS_ARGS_ADD(args, MPS_KEY_EXTEND_BY, (size_t)-100);
    res = mps_pool_create_k(&bad, arena, mps_class_mfs(), args);
  }
  MPS_ARGS_END(args);
  CHECK(res == MPS_RES_PARAM && reported(before, "EXTEND_BY"));
  res = mps_alloc((void **)&x, pool, (size_t)-1);
  CHECK(res == MPS_RES_RESOURCE);
  CHECK(gcp_arena_consistent(arena));
  mps_pool_destroy(pool);
  mps_arena_destroy(arena);
}

/* mps_arena_vm_growth with sizes that wrapped when aligned stopped growth. */
static void growthClamped(void)
{
  mps_arena_t arena = newArena((size_t)1 << 20, 0.75);
  mps_pool_t pool = newMVFF(arena, mps_class_mvff(), 65536, 0.75);
  void *x;
  CHECK(mps_arena_vm_growth(arena, (size_t)-1, 0) == MPS_RES_OK);
  CHECK(mps_alloc(&x, pool, (size_t)2 << 20) == MPS_RES_OK);
  CHECK(gcp_arena_chunk_count(arena) > 1);
  mps_free(pool, x, (size_t)2 << 20);
  mps_pool_destroy(pool);
  mps_arena_destroy(arena);
}

/* Freeing the middle of a debug block's trailing fencepost. */
static void fencepostNotFreeable(void)
{
  mps_arena_t arena = newArena((size_t)1 << 24, 0.75);
  mps_pool_debug_option_s options = { "POST", 4, NULL, 0 }; /* fences, no splatting */
  mps_pool_t pool;
  unsigned long before;
  char *a, *b;
  mps_res_t res;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_POOL_DEBUG_OPTIONS, &options);
    res = mps_pool_create_k(&pool, arena, mps_class_mvff_debug(), args);
  }
  MPS_ARGS_END(args);
  REQUIRE(res == MPS_RES_OK);
  REQUIRE(mps_alloc((void **)&a, pool, 8) == MPS_RES_OK);
  REQUIRE(mps_alloc((void **)&b, pool, 8) == MPS_RES_OK);
  before = reports;
  mps_free(pool, a + 8, 8);
  CHECK(reported(before, "fenceposts"));
  before = reports;
  mps_free(pool, a, 8);
  mps_free(pool, b, 8);
  CHECK(reports == before);
  CHECK(gcp_pool_consistent(pool));
  CHECK(mps_pool_free_size(pool) == mps_pool_total_size(pool));
  mps_pool_destroy(pool);
  mps_arena_destroy(arena);
}

/* Address queries racing with frees that give whole chunks back. */
static mps_arena_t raceArena;
static void *raceProbe;
static atomic_int raceStop;
static atomic_ulong raceQueries;

static void *raceReader(void *unused)
{
  mps_pool_t owner;
  (void)unused;
  while (!atomic_load(&raceStop)) {
    (void)mps_addr_pool(&owner, raceArena, raceProbe);
    (void)mps_arena_has_addr(raceArena, raceProbe);
    atomic_fetch_add(&raceQueries, 1);
  }
  return NULL;
}

static void addressQueriesRaceWithRelease(void)
{
  mps_pool_t pool;
  pthread_t reader;
  size_t big = (size_t)4 << 20;
  void *x;
  int i;
  raceArena = newArena((size_t)1 << 20, 0.0);
  pool = newMVFF(raceArena, mps_class_mvff(), 65536, 0.0);
  REQUIRE(mps_alloc(&x, pool, big) == MPS_RES_OK);
  raceProbe = (char *)x + 8192;
  mps_free(pool, x, big);
  REQUIRE(pthread_create(&reader, NULL, raceReader, NULL) == 0);
  {
    /* a second of chunk churn at most (the cool variety is slow at it) */
    time_t start = time(NULL);
    for (i = 0; i < 3000 && time(NULL) - start < 2; ++i) {
      REQUIRE(mps_alloc(&x, pool, big) == MPS_RES_OK);
      mps_free(pool, x, big);
    }
    CHECK(i > 0);
  }
  atomic_store(&raceStop, 1);
  REQUIRE(pthread_join(reader, NULL) == 0);
  CHECK(atomic_load(&raceQueries) > 0);
  CHECK(gcp_arena_consistent(raceArena));
  mps_pool_destroy(pool);
  mps_arena_destroy(raceArena);
}

int main(int argc, char **argv)
{
  (void)testSeed(argc, argv); /* deterministic, but say so like the others */
  mps_lib_assert_fail_install(recordHandler);
  commitLimitHeld();
  oversizedArguments();
  growthClamped();
  fencepostNotFreeable();
  addressQueriesRaceWithRelease();
  return testFinish();
}
