/* test_mvt.c -- randomized test of the MVT pool class through the public
 * interface only: reserve/commit through two allocation points with many
 * pool configurations, block contents checked against their addresses,
 * mps_free, the core's consistency check, memory returned to the arena,
 * the legacy varargs creation, bad keys, detection of double frees,
 * wrong sizes, foreign and misaligned pointers and frees into an
 * allocation point's unallocated space, and frees that must wait for
 * control memory under a commit limit.
 * Usage: test_mvt [seed].  Implements the tests of docs/design/mvt.md.
 * Build: cc -std=c11 -I native/include tests/native/test_mvt.c
 *        native/build/<variety>/libgcp.a -lpthread -lm
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpscmvt.h"
#include "mpslib.h"
#include "gcp_ext.h"
#include "testlib.h"

/* ---- blocks with address-derived contents -------------------------------- */

typedef struct {
  uintptr_t *p;
  size_t size;
} Block;

static uintptr_t pattern(const uintptr_t *p, size_t i)
{
  return ((uintptr_t)p * 2654435761u) ^ (i * 0x9E3779B97F4A7C15ull);
}
static void fillBlock(Block *b)
{
  size_t i;
  for (i = 0; i < b->size / sizeof(uintptr_t); ++i) b->p[i] = pattern(b->p, i);
}
static int intact(const Block *b)
{
  size_t i;
  for (i = 0; i < b->size / sizeof(uintptr_t); ++i)
    if (b->p[i] != pattern(b->p, i)) return 0;
  return 1;
}

/* Reserve, fill and commit a block; 0 on failure. */
static int allocate(Block *b, mps_ap_t ap, size_t size)
{
  mps_addr_t p;
  do {
    mps_res_t res = mps_reserve(&p, ap, size);
    if (res != MPS_RES_OK) {
      fprintf(stderr, "  reserve %zu: result %d\n", size, res);
      return 0;
    }
    b->p = p;
    b->size = size;
    fillBlock(b);
  } while (!mps_commit(ap, p, size));
  return 1;
}

/* ---- randomized churn ----------------------------------------------------- */

typedef struct {
  size_t align, mean, max;
  unsigned long depth;
  double frag;
} Config;

#define NBLOCKS 4000
#define NOPS    60000

static void churn(mps_arena_t arena, const Config *c)
{
  static Block blocks[NBLOCKS];
  size_t live = 0, i, contiguous = 0, smallAllocs = 0;
  mps_pool_t pool;
  mps_ap_t ap[2];
  uintptr_t *next[2] = { NULL, NULL };
  size_t before;
  unsigned long reportsBefore = reports;
  long op;
  mps_res_t res;

  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_ALIGN, c->align);
    MPS_ARGS_ADD(args, MPS_KEY_MIN_SIZE, c->align);
    MPS_ARGS_ADD(args, MPS_KEY_MEAN_SIZE, c->mean);
    MPS_ARGS_ADD(args, MPS_KEY_MAX_SIZE, c->max);
    MPS_ARGS_ADD(args, MPS_KEY_MVT_RESERVE_DEPTH, c->depth);
    MPS_ARGS_ADD(args, MPS_KEY_MVT_FRAG_LIMIT, c->frag);
    res = mps_pool_create_k(&pool, arena, mps_class_mvt(), args);
  }
  MPS_ARGS_END(args);
  REQUIRE(res == MPS_RES_OK);
  CHECK(gcp_pool_alignment(pool) == c->align);
  CHECK(strcmp(gcp_pool_class_name(pool), "MVT") == 0);
  REQUIRE(mps_ap_create_k(&ap[0], pool, mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_ap_create_k(&ap[1], pool, mps_args_none) == MPS_RES_OK);

  for (op = 0; op < NOPS; ++op) {
    int doAlloc = live == 0 || (live < NBLOCKS && rnd() % 100 < (op < NOPS / 2 ? 60u : 45u));
    if (doAlloc) {
      unsigned long r = rnd() % 1000, k = rnd() & 1;
      size_t size;
      if (r < 850)
        size = 1 + rnd() % (2 * c->mean); /* around the mean */
      else if (r < 995)
        size = 1 + rnd() % c->max; /* up to the max */
      else
        size = c->max + 1 + rnd() % (256 * 1024); /* large */
      size = alignUp(size, c->align);
      REQUIRE(allocate(&blocks[live], ap[k], size));
      if (size <= 2 * c->mean) {
        ++smallAllocs;
        contiguous += blocks[live].p == next[k];
      }
      next[k] = (uintptr_t *)((char *)blocks[live].p + size);
      ++live;
    } else {
      size_t j = rnd() % live;
      Block b = blocks[j];
      REQUIRE(intact(&b));
      /* Clients may pass the unrounded size; usually they pass it rounded. */
      mps_free(pool, b.p, (rnd() & 3) == 0 && b.size > c->align ? b.size - c->align + 1 : b.size);
      blocks[j] = blocks[--live];
    }
    if (op % 500 == 0) {
      CHECK(gcp_pool_consistent(pool));
      CHECK(mps_pool_free_size(pool) <= mps_pool_total_size(pool));
    }
  }
  CHECK(gcp_arena_consistent(arena));
  for (i = 0; i < live; ++i) CHECK(intact(&blocks[i]));
  /* Temporal fit: small allocations on one AP mostly follow each other
   * (typically 75-97% here, depending on the configuration). */
  CHECK(smallAllocs > 0 && contiguous * 2 > smallAllocs);
  while (live > 0) {
    Block b = blocks[--live];
    REQUIRE(intact(&b));
    mps_free(pool, b.p, b.size);
  }
  CHECK(gcp_pool_consistent(pool));
  mps_ap_destroy(ap[0]);
  mps_ap_destroy(ap[1]);
  CHECK(gcp_pool_consistent(pool));
  CHECK(mps_pool_free_size(pool) == mps_pool_total_size(pool));
  if (c->depth == 0) CHECK(mps_pool_total_size(pool) == 0);
  CHECK(reports == reportsBefore);
  before = mps_arena_committed(arena);
  mps_pool_destroy(pool);
  CHECK(mps_arena_committed(arena) < before || c->depth == 0); /* depth 0: none was left */
  CHECK(gcp_arena_consistent(arena));
  printf("  align %zu mean %zu max %zu depth %lu frag %.2f: %zu/%zu small allocations "
         "contiguous\n",
         c->align, c->mean, c->max, c->depth, c->frag, contiguous, smallAllocs);
}

/* ---- creation: legacy varargs and bad keys -------------------------------- */

static void legacyAndKeys(mps_arena_t arena)
{
  mps_pool_t pool;
  mps_ap_t ap;
  Block b;
  unsigned long before;
  mps_res_t res;

  res = mps_pool_create(&pool, arena, mps_class_mvt(), (size_t)8, (size_t)32, (size_t)1024,
                        (mps_word_t)16, (mps_word_t)50);
  REQUIRE(res == MPS_RES_OK);
  REQUIRE(mps_ap_create(&ap, pool) == MPS_RES_OK);
  REQUIRE(allocate(&b, ap, 64));
  CHECK(mps_pool_total_size(pool) > 0);
  CHECK(gcp_pool_consistent(pool));
  CHECK(intact(&b));
  mps_free(pool, b.p, 64);
  mps_ap_destroy(ap);
  CHECK(mps_pool_free_size(pool) == mps_pool_total_size(pool));
  mps_pool_destroy(pool);

  /* Defaults give way to the sizes given. */
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_MAX_SIZE, 16);
    res = mps_pool_create_k(&pool, arena, mps_class_mvt(), args);
  }
  MPS_ARGS_END(args);
  CHECK(res == MPS_RES_OK);
  if (res == MPS_RES_OK) mps_pool_destroy(pool);
  CHECK(mps_pool_create_k(&pool, arena, mps_class_mvt(), mps_args_none) == MPS_RES_OK);
  CHECK(gcp_pool_alignment(pool) == 8);
  mps_pool_destroy(pool);

#define BAD_KEY(key, field, value, word)                            \
  do {                                                              \
    before = reports;                                               \
    MPS_ARGS_BEGIN(args)                                            \
    {                                                               \
      MPS_ARGS_ADD_FIELD(args, key, field, value);                  \
      res = mps_pool_create_k(&pool, arena, mps_class_mvt(), args); \
    }                                                               \
    MPS_ARGS_END(args);                                             \
    CHECK(res == MPS_RES_PARAM);                                    \
    CHECK(reported(before, word));                                  \
  } while (0)
  BAD_KEY(MPS_KEY_MVT_FRAG_LIMIT, d, 0.0, "FRAG_LIMIT");
  BAD_KEY(MPS_KEY_MVT_FRAG_LIMIT, d, 1.5, "FRAG_LIMIT");
  BAD_KEY(MPS_KEY_MVT_FRAG_LIMIT, d, -0.1, "FRAG_LIMIT");
  BAD_KEY(MPS_KEY_ALIGN, align, 3, "alignment");
  BAD_KEY(MPS_KEY_ALIGN, align, 4, "alignment");
  BAD_KEY(MPS_KEY_ALIGN, align, gcp_arena_grain_size(arena) * 2, "alignment");
  BAD_KEY(MPS_KEY_MIN_SIZE, size, 0, "MIN_SIZE");
  before = reports;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_MIN_SIZE, 64);
    MPS_ARGS_ADD(args, MPS_KEY_MEAN_SIZE, 32);
    MPS_ARGS_ADD(args, MPS_KEY_MAX_SIZE, 1024);
    res = mps_pool_create_k(&pool, arena, mps_class_mvt(), args);
  }
  MPS_ARGS_END(args);
  CHECK(res == MPS_RES_PARAM);
  CHECK(reported(before, "min"));
  /* Legacy frag limit 0% is as bad as 0.0. */
  before = reports;
  res = mps_pool_create(&pool, arena, mps_class_mvt(), (size_t)8, (size_t)32, (size_t)1024,
                        (mps_word_t)16, (mps_word_t)0);
  CHECK(res == MPS_RES_PARAM);
  CHECK(reported(before, "FRAG_LIMIT"));
  /* No mps_alloc on MVT. */
  CHECK(mps_pool_create_k(&pool, arena, mps_class_mvt(), mps_args_none) == MPS_RES_OK);
  {
    mps_addr_t p;
    before = reports;
    CHECK(mps_alloc(&p, pool, 16) == MPS_RES_PARAM);
    CHECK(reported(before, "mps_alloc"));
  }
  mps_pool_destroy(pool);
  CHECK(gcp_arena_consistent(arena));
}

/* ---- misuse of mps_free ---------------------------------------------------- */

static void misuse(mps_arena_t arena)
{
  mps_pool_t pool, other;
  mps_ap_t ap, otherAp;
  Block a, b, c, d, o;
  unsigned long before;
  size_t freeSize;
  void *foreign = malloc(64);

  REQUIRE(mps_pool_create_k(&pool, arena, mps_class_mvt(), mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_pool_create_k(&other, arena, mps_class_mvt(), mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_ap_create_k(&ap, pool, mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_ap_create_k(&otherAp, other, mps_args_none) == MPS_RES_OK);
  REQUIRE(allocate(&a, ap, 32));
  REQUIRE(allocate(&b, ap, 48));
  REQUIRE(allocate(&c, ap, 64));
  REQUIRE(allocate(&d, ap, 16));
  REQUIRE(allocate(&o, otherAp, 32));
  CHECK((char *)b.p == (char *)a.p + 32 && (char *)c.p == (char *)b.p + 48);

  mps_free(pool, b.p, b.size);
  freeSize = mps_pool_free_size(pool);

#define MISUSE_CASE(call, word)                  \
  do {                                           \
    before = reports;                            \
    call;                                        \
    CHECK(reported(before, word));               \
    CHECK(gcp_pool_consistent(pool));            \
    CHECK(mps_pool_free_size(pool) == freeSize); \
  } while (0)
  MISUSE_CASE(mps_free(pool, b.p, b.size), "double free");
  MISUSE_CASE(mps_free(pool, (char *)b.p + 16, 16), "double free");
  MISUSE_CASE(mps_free(pool, a.p, 64), "wrong size"); /* a runs into b */
  MISUSE_CASE(mps_free(pool, foreign, 64), "foreign");
  MISUSE_CASE(mps_free(pool, o.p, o.size), "another pool");
  MISUSE_CASE(mps_free(pool, (char *)c.p + 4, 16), "misaligned");
  MISUSE_CASE(mps_free(pool, c.p, (size_t)1 << 30), "runs past the end");
  /* Above d is the AP's unallocated buffer space. */
  MISUSE_CASE(mps_free(pool, (char *)d.p + 16, 16), "unallocated part");
  MISUSE_CASE(mps_free(pool, d.p, 32), "unallocated part");
  CHECK(intact(&a) && intact(&c) && intact(&d) && intact(&o));

  /* The pool still works: correct frees succeed silently. */
  before = reports;
  mps_free(pool, a.p, a.size);
  mps_free(pool, c.p, c.size);
  mps_free(pool, d.p, d.size);
  mps_free(other, o.p, o.size);
  CHECK(reports == before);
  /* A large block fills its exact-size buffer: the AP's unused part is
   * empty, and free space around its end is not "inside" it. */
  REQUIRE(allocate(&o, otherAp, 100000));
  CHECK(gcp_pool_consistent(other));
  mps_free(other, o.p, o.size);
  CHECK(reports == before);
  CHECK(gcp_pool_consistent(other));
  mps_ap_destroy(ap);
  mps_ap_destroy(otherAp);
  CHECK(gcp_pool_consistent(pool) && gcp_pool_consistent(other));
  CHECK(mps_pool_free_size(pool) == mps_pool_total_size(pool));
  CHECK(mps_pool_free_size(other) == mps_pool_total_size(other));
  mps_pool_destroy(pool);
  mps_pool_destroy(other);
  free(foreign);
}

/* ---- frees that cannot get control memory --------------------------------- */

#define NPEND 4000

static void pendingUnderLimit(mps_arena_t arena)
{
  static Block blocks[NPEND];
  mps_pool_t pool;
  mps_ap_t ap;
  size_t i, freeSize, control, limit;
  unsigned long before = reports;

  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_MEAN_SIZE, 16);
    MPS_ARGS_ADD(args, MPS_KEY_MVT_RESERVE_DEPTH, 0);
    REQUIRE(mps_pool_create_k(&pool, arena, mps_class_mvt(), args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  REQUIRE(mps_ap_create_k(&ap, pool, mps_args_none) == MPS_RES_OK);
  for (i = 0; i < NPEND; ++i)
    REQUIRE(allocate(&blocks[i], ap, i % 2 == 0 ? 8 : 16)); /* one-word blocks too */
  mps_ap_destroy(ap);
  CHECK(gcp_pool_consistent(pool));
  freeSize = mps_pool_free_size(pool);

  /* Freeing every other block needs a CBS node per block: thousands of
   * nodes, far more than the control memory the limit leaves room for. */
  limit = mps_arena_committed(arena);
  REQUIRE(mps_arena_commit_limit_set(arena, limit) == MPS_RES_OK);
  control = gcp_arena_control_committed(arena);
  for (i = 0; i < NPEND; i += 2) {
    CHECK(intact(&blocks[i]));
    mps_free(pool, blocks[i].p, blocks[i].size);
    freeSize += blocks[i].size;
  }
  CHECK(mps_arena_committed(arena) <= limit);
  CHECK(gcp_arena_control_committed(arena) <= control);
  CHECK(mps_pool_free_size(pool) == freeSize); /* nothing lost */
  CHECK(gcp_pool_consistent(pool));
  CHECK(reports == before);
  for (i = 1; i < NPEND; i += 2) CHECK(intact(&blocks[i])); /* neighbours untouched */
  /* A double free of a block that is waiting is still detected. */
  mps_free(pool, blocks[NPEND - 2].p, blocks[NPEND - 2].size);
  CHECK(reported(before, "double free"));
  CHECK(mps_pool_free_size(pool) == freeSize);
  CHECK(gcp_pool_consistent(pool));

  REQUIRE(mps_arena_commit_limit_set(arena, (size_t)-1) == MPS_RES_OK);
  before = reports;
  for (i = 1; i < NPEND; i += 2) {
    CHECK(intact(&blocks[i]));
    mps_free(pool, blocks[i].p, blocks[i].size);
    if (i % 501 == 0) CHECK(gcp_pool_consistent(pool));
  }
  CHECK(reports == before);
  CHECK(gcp_pool_consistent(pool));
  CHECK(mps_pool_free_size(pool) == mps_pool_total_size(pool));
  CHECK(mps_pool_total_size(pool) == 0); /* depth 0: every segment went back */
  mps_pool_destroy(pool);
}

int main(int argc, char **argv)
{
  static const Config configs[] = {
    { 8, 32, 8192, 1024, 0.3 }, { 8, 32, 8192, 0, 0.3 },    { 16, 64, 1024, 16, 0.05 },
    { 8, 24, 400, 0, 1.0 },     { 64, 128, 16384, 4, 0.5 }, { 8, 4096, 65536, 2, 0.3 },
  };
  unsigned long seed;
  mps_arena_t arena;
  size_t i;

  seed = testSeed(argc, argv);
  printf("variety %s\n", gcp_variety());
  fflush(stdout);
  rndSeed(seed * 2862933555777941757ull + 3037000493ull); /* this program's own mixing */
  mps_lib_assert_fail_install(recordHandler);

  REQUIRE(mps_arena_create_k(&arena, mps_arena_class_vm(), mps_args_none) == MPS_RES_OK);
  mps_arena_spare_set(arena, 0.0); /* so that returned memory shows */
  for (i = 0; i < sizeof configs / sizeof configs[0]; ++i) churn(arena, &configs[i]);
  legacyAndKeys(arena);
  misuse(arena);
  pendingUnderLimit(arena);
  CHECK(gcp_arena_consistent(arena));
  mps_arena_destroy(arena);
  return testFinish();
}
