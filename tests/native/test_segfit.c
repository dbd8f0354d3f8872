/* test_segfit.c -- the SEGFIT pool class (mpscsegfit.h) in one thread,
 * through its public interface only (threads: test_segfit_threads.c).
 *
 *   classes   gcp_segfit_usable_size: every small size maps to the least
 *             class that holds it; large sizes are their own.  Classes up to
 *             4 KiB take 64 KiB runs, larger ones 256 KiB runs, and every run
 *             holds at least 15 blocks.
 *   generic   mps_alloc / mps_free, mps_addr_pool, the class name and
 *             alignment, and what the generic interface refuses.
 *   zero      zero-size blocks are distinct, aligned and walked with size 0.
 *   large     blocks above GCP_SEGFIT_SMALL_MAX get pages of their own.
 *   misuse    double frees, interior and foreign pointers, wrong sizes, tags
 *             wider than 16 bits, a NULL visitor: reported, and the pool
 *             stays consistent and unchanged.
 *   churn     random gcp_segfit_alloc / mps_alloc and gcp_segfit_free /
 *             mps_free (exact size) with random sizes and tags; every block
 *             is filled with a pattern that is checked when it is freed; now
 *             and then the whole model is checked (segfit_test.h).
 * Usage: test_segfit [seed].
 */
#include "mpscmvff.h"
#include "segfit_test.h"

/* ---- classes --------------------------------------------------------------------- */

static void testClasses(void)
{
  size_t s, previous = 0;
  for (s = 0; s <= SMALL_MAX; ++s) {
    size_t u = gcp_segfit_usable_size(s);
    REQUIRE(u >= s && u >= ALIGN && u % ALIGN == 0 && u <= SMALL_MAX);
    REQUIRE(u >= previous);
    /* the least class: the class below (if any) does not hold s */
    if (u != previous && previous != 0) REQUIRE(previous < s);
    previous = u;
  }
  CHECK(gcp_segfit_usable_size(0) == ALIGN);
  CHECK(gcp_segfit_usable_size(SMALL_MAX) == SMALL_MAX);
  CHECK(gcp_segfit_usable_size(SMALL_MAX + 1) == SMALL_MAX + 1);
  CHECK(gcp_segfit_usable_size(1000000) == 1000000);
}

/* For every class: a fresh pool's first block takes one run of the class's
 * run size, and the run holds at least 15 blocks.  (The pools are destroyed
 * with their blocks live.) */
static void testRunSizes(void)
{
  size_t size;
  for (size = ALIGN; size <= SMALL_MAX; size = gcp_segfit_usable_size(size + 1)) {
    mps_pool_t pool = makePool();
    size_t run = alignUp(size <= 4096 ? (size_t)64 << 10 : (size_t)256 << 10, grain);
    size_t n = 0;
    mps_addr_t p;
    do {
      REQUIRE(gcp_segfit_alloc(&p, pool, size, 0) == MPS_RES_OK);
      ++n;
      if (n == 1) CHECK(mps_pool_total_size(pool) == run);
    } while (mps_pool_total_size(pool) == run && n <= 5000);
    --n; /* the last one took a second run */
    if (!(n >= 15)) fprintf(stderr, "  class %zu: %zu blocks a run\n", size, n);
    CHECK(n >= 15 && n * size <= run);
    mps_pool_destroy(pool);
  }
}

/* ---- churn in one thread ----------------------------------------------------------- */

#define NSLOTS 1500

static void testChurn(long ops)
{
  static Block blocks[NSLOTS], copy[NSLOTS];
  mps_pool_t pool = makePool();
  unsigned long before = reports;
  long op;
  size_t i, allocs = 0, large = 0, zero = 0;

  memset(blocks, 0, sizeof blocks);
  for (op = 0; op < ops; ++op) {
    Block *b = &blocks[rnd() % NSLOTS];
    if (b->p == NULL) {
      size_t size = randomSize(globalRnd, NULL);
      mps_addr_t p = NULL;
      if (size > 0 && rnd() % 4 == 0) {
        REQUIRE(mps_alloc(&p, pool, size) == MPS_RES_OK);
        b->tag = 0;
      } else {
        b->tag = (unsigned)(rnd() & 0xFFFF);
        REQUIRE(gcp_segfit_alloc(&p, pool, size, b->tag) == MPS_RES_OK);
      }
      b->p = p;
      b->size = size;
      REQUIRE(((uintptr_t)p & (ALIGN - 1)) == 0);
      fill(b);
      ++allocs;
      large += size > SMALL_MAX;
      zero += size == 0;
    } else {
      REQUIRE(intact(b));
      freeBlock(pool, b, (int)(rnd() % 2));
    }
    if (op % (cool ? 20000 : 10000) == 0) {
      memcpy(copy, blocks, sizeof copy);
      checkModel(pool, copy, NSLOTS);
    }
  }
  memcpy(copy, blocks, sizeof copy);
  checkModel(pool, copy, NSLOTS);
  for (i = 0; i < NSLOTS; ++i)
    if (blocks[i].p != NULL) {
      REQUIRE(intact(&blocks[i]));
      freeBlock(pool, &blocks[i], (int)(i % 2));
    }
  CHECK(reports == before);
  destroyEmpty(pool);
  printf("  churn: %ld ops, %zu allocations (%zu large, %zu of size 0)\n", ops, allocs, large,
         zero);
}

/* ---- the generic interface ----------------------------------------------------------- */

static void testGeneric(void)
{
  mps_pool_t pool = makePool(), owner = NULL;
  Block blocks[64];
  mps_addr_t p;
  unsigned long before;
  size_t i, n = sizeof blocks / sizeof blocks[0];

  CHECK(strcmp(gcp_pool_class_name(pool), "SEGFIT") == 0);
  CHECK(gcp_pool_alignment(pool) == ALIGN);
  CHECK(mps_pool_total_size(pool) == 0 && mps_pool_free_size(pool) == 0);
  for (i = 0; i < n; ++i) {
    size_t size = i < 48 ? 1 + i * 37 : SMALL_MAX - 100 + i * 1000;
    REQUIRE(mps_alloc(&p, pool, size) == MPS_RES_OK);
    blocks[i].p = p;
    blocks[i].size = size;
    blocks[i].tag = 0;
    fill(&blocks[i]);
    REQUIRE(mps_addr_pool(&owner, arena, (char *)p + size - 1) && owner == pool);
  }
  checkModel(pool, blocks, n);
  /* the generic interface refuses a zero size, as for every pool */
  before = reports;
  p = NULL;
  CHECK(mps_alloc(&p, pool, 0) != MPS_RES_OK && reported(before, "zero") && p == NULL);
  before = reports;
  mps_free(pool, blocks[0].p, 0);
  CHECK(reported(before, "zero"));
  for (i = 0; i < n; ++i) {
    REQUIRE(intact(&blocks[i]));
    mps_free(pool, blocks[i].p, blocks[i].size);
  }
  destroyEmpty(pool);
}

/* ---- zero-size and large blocks ------------------------------------------------------ */

#define NZERO 3000

static void testZero(void)
{
  static Block blocks[NZERO];
  mps_pool_t pool = makePool();
  size_t i;
  for (i = 0; i < NZERO; ++i) {
    mps_addr_t p;
    REQUIRE(gcp_segfit_alloc(&p, pool, 0, (unsigned)i) == MPS_RES_OK);
    blocks[i].p = p;
    blocks[i].size = 0;
    blocks[i].tag = (unsigned)i;
  }
  /* distinct, aligned, 16 bytes apart at least (checkModel sorts them) */
  checkModel(pool, blocks, NZERO);
  for (i = 1; i < NZERO; ++i) REQUIRE(blocks[i - 1].p < blocks[i].p);
  CHECK(mps_pool_total_size(pool) - mps_pool_free_size(pool) == NZERO * ALIGN);
  /* a zero-size block can be written in its 16 usable bytes */
  for (i = 0; i < NZERO; ++i) memset(blocks[i].p, 0xA5, ALIGN);
  checkModel(pool, blocks, NZERO);
  for (i = 0; i < NZERO; i += 2) freeBlock(pool, &blocks[i], 0);
  checkModel(pool, blocks, NZERO);
  for (i = 0; i < NZERO; ++i)
    if (blocks[i].p != NULL) freeBlock(pool, &blocks[i], 0);
  destroyEmpty(pool);
}

static void testLarge(void)
{
  static const size_t sizes[] = { SMALL_MAX + 1, 20000,   65536,         100000,
                                  200000,        1 << 20, (3 << 20) + 5, SMALL_MAX + 17 };
  enum { N = sizeof sizes / sizeof sizes[0] };
  Block blocks[2 * N];
  mps_pool_t pool = makePool();
  size_t i, total;
  for (i = 0; i < 2 * N; ++i) {
    mps_addr_t p;
    blocks[i].size = sizes[i % N];
    blocks[i].tag = 0xFFFF - (unsigned)i;
    REQUIRE(gcp_segfit_alloc(&p, pool, blocks[i].size, blocks[i].tag) == MPS_RES_OK);
    blocks[i].p = p;
    REQUIRE(((uintptr_t)p & (grain - 1)) == 0);
    fill(&blocks[i]);
  }
  checkModel(pool, blocks, 2 * N);
  total = mps_pool_total_size(pool);
  CHECK(total >= 2 * (SMALL_MAX + 1 + (3 << 20)));
  for (i = 0; i < 2 * N; ++i) {
    REQUIRE(intact(&blocks[i]));
    if (i % 3 == 0) freeBlock(pool, &blocks[i], (int)(i % 2));
  }
  checkModel(pool, blocks, 2 * N);
  CHECK(mps_pool_total_size(pool) < total); /* large blocks go back at once */
  for (i = 0; i < 2 * N; ++i)
    if (blocks[i].p != NULL) freeBlock(pool, &blocks[i], (int)(i % 2));
  CHECK(mps_pool_total_size(pool) == 0);
  destroyEmpty(pool);
}

/* ---- misuse ----------------------------------------------------------------------------- */

static void nothing(mps_addr_t p, size_t size, unsigned tag, void *closure)
{
  (void)p;
  (void)size;
  (void)tag;
  (void)closure;
}

/* After a refused call: nothing changed. */
static void unchanged(mps_pool_t pool, Block *live, size_t n, size_t total, size_t free)
{
  Block copy[8];
  REQUIRE(n <= 8);
  memcpy(copy, live, n * sizeof *live);
  checkModel(pool, copy, n);
  CHECK(mps_pool_total_size(pool) == total && mps_pool_free_size(pool) == free);
}

static void testMisuse(void)
{
  mps_pool_t pool = makePool(), mvff;
  Block live[4], gone, big;
  unsigned char stackBuf[64];
  mps_addr_t p, theirs;
  unsigned long before;
  size_t total, free, i;

  REQUIRE(mps_pool_create_k(&mvff, arena, mps_class_mvff(), mps_args_none) == MPS_RES_OK);
  memset(stackBuf, 0x5A, sizeof stackBuf);
  for (i = 0; i < 4; ++i) {
    REQUIRE(gcp_segfit_alloc(&p, pool, 40, 7) == MPS_RES_OK);
    live[i].p = p;
    live[i].size = 40;
    live[i].tag = 7;
    fill(&live[i]);
  }
  REQUIRE(gcp_segfit_alloc(&p, pool, 40, 7) == MPS_RES_OK);
  gone.p = p;
  gcp_segfit_free(pool, gone.p);
  REQUIRE(gcp_segfit_alloc(&p, pool, 100000, 9) == MPS_RES_OK);
  big.p = p;
  gcp_segfit_free(pool, big.p);
  REQUIRE(mps_alloc(&theirs, mvff, 64) == MPS_RES_OK);
  total = mps_pool_total_size(pool);
  free = mps_pool_free_size(pool);

  before = reports;
  gcp_segfit_free(pool, gone.p);
  CHECK(reported(before, "double free"));
  before = reports;
  mps_free(pool, gone.p, 40);
  CHECK(reported(before, "double free"));
  before = reports;
  gcp_segfit_free(pool, big.p); /* its pages are gone: foreign now */
  CHECK(reports == before + 1);
  before = reports;
  gcp_segfit_free(pool, live[1].p + 16);
  CHECK(reported(before, "not the start"));
  before = reports;
  gcp_segfit_free(pool, live[1].p + 1);
  CHECK(reported(before, "not the start"));
  before = reports;
  mps_free(pool, live[1].p + 16, 24);
  CHECK(reported(before, "not the start"));
  before = reports;
  mps_free(pool, live[2].p, 41);
  CHECK(reported(before, "does not match"));
  before = reports;
  mps_free(pool, live[2].p, 48); /* the class size is not the size */
  CHECK(reported(before, "does not match"));
  before = reports;
  gcp_segfit_free(pool, stackBuf + 16);
  CHECK(reported(before, "not in this SEGFIT pool"));
  before = reports;
  mps_free(pool, stackBuf + 16, 16);
  CHECK(reported(before, "foreign"));
  before = reports;
  gcp_segfit_free(pool, theirs);
  CHECK(reported(before, "not in this SEGFIT pool"));
  before = reports;
  mps_free(pool, theirs, 64);
  CHECK(reported(before, "another pool"));
  before = reports;
  CHECK(gcp_segfit_alloc(&p, pool, 16, 0x10000) != MPS_RES_OK);
  CHECK(reported(before, "16 bits"));
  before = reports;
  CHECK(gcp_segfit_alloc(&p, mvff, 16, 0) != MPS_RES_OK);
  CHECK(reported(before, "SEGFIT"));
  before = reports;
  gcp_segfit_walk(pool, NULL, NULL);
  CHECK(reported(before, "NULL"));
  before = reports;
  gcp_segfit_walk(pool, nothing, NULL);
  gcp_segfit_free(pool, NULL); /* like free(NULL): nothing */
  CHECK(!gcp_segfit_block(pool, gone.p, NULL, NULL));
  CHECK(!gcp_segfit_block(pool, live[0].p + 16, NULL, NULL));
  CHECK(!gcp_segfit_block(pool, stackBuf, NULL, NULL));
  CHECK(gcp_segfit_block(pool, live[0].p, NULL, NULL));
  CHECK(reports == before);

  for (i = 0; i < 4; ++i) CHECK(intact(&live[i]));
  unchanged(pool, live, 4, total, free);
  for (i = 0; i < sizeof stackBuf; ++i) CHECK(stackBuf[i] == 0x5A);
  mps_free(mvff, theirs, 64);
  for (i = 0; i < 4; ++i) freeBlock(pool, &live[i], (int)(i % 2));
  mps_pool_destroy(mvff);
  destroyEmpty(pool);
}

int main(int argc, char **argv)
{
  (void)testSeed(argc, argv);
  (void)mps_lib_assert_fail_install(recordHandler);
  printf("variety %s\n", gcp_variety());
  cool = strcmp(gcp_variety(), "cool") == 0;
  REQUIRE(mps_arena_create_k(&arena, mps_arena_class_vm(), mps_args_none) == MPS_RES_OK);
  grain = gcp_arena_grain_size(arena);

  testClasses();
  testRunSizes();
  testGeneric();
  testZero();
  testLarge();
  testMisuse();
  testChurn(cool ? 150000 : 400000);

  CHECK(gcp_arena_pools_committed(arena) == 0);
  mps_arena_destroy(arena);
  return testFinish();
}
