/* test_arena.c -- the VM arena through the public interface: every creation
 * key (and that the keys it uses are taken out of the caller's array while
 * unknown ones stay), the legacy creation functions, the extension and
 * contraction callbacks matched one-to-one against chunks, the memory
 * accounting functions (committed, reserved, spare, commit limit) and the
 * rules of docs/design/interface.md (memory accounting and limits), the
 * commit limit as seen by mps_alloc on MVFF and
 * MFS, address-space exhaustion, growth into new chunks and their return,
 * mps_arena_vm_growth, mps_arena_has_addr and mps_addr_pool, the collection
 * control entry points (which have no collection to do yet), and misuse
 * reported through the plinth assertion handler.
 * Usage: test_arena [seed].  Design: docs/design/interface.md, arena.md.
 * Build: cc -std=c11 -O1 -g -I native/include tests/native/test_arena.c
 *        native/build/<variety>/libgcp.a -lpthread -lm
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpscmfs.h"
#include "mpscmvff.h"
#include "mpslib.h"
#include "gcp_ext.h"
#include "testlib.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

/* ---- extension callbacks: a log of chunks ---------------------------------- */

typedef struct {
  mps_arena_t arena;
  char *base;
  size_t size;
  int live;
} ChunkRec;
#define MAX_CHUNK_RECS 4096
static ChunkRec chunkLog[MAX_CHUNK_RECS];
static size_t chunkLogN;
static unsigned long extendedCalls, contractedCalls, callbackErrors;

static void extendedCB(mps_arena_t arena, void *base, size_t size)
{
  size_t i;
  ++extendedCalls;
  if (base == NULL || size == 0 || chunkLogN == MAX_CHUNK_RECS) {
    ++callbackErrors;
    return;
  }
  for (i = 0; i < chunkLogN; ++i) /* no live chunk of any arena may overlap */
    if (chunkLog[i].live && (char *)base < chunkLog[i].base + chunkLog[i].size &&
        chunkLog[i].base < (char *)base + size)
      ++callbackErrors;
  chunkLog[chunkLogN].arena = arena;
  chunkLog[chunkLogN].base = base;
  chunkLog[chunkLogN].size = size;
  chunkLog[chunkLogN].live = 1;
  ++chunkLogN;
}

static void contractedCB(mps_arena_t arena, void *base, size_t size)
{
  size_t i;
  ++contractedCalls;
  for (i = 0; i < chunkLogN; ++i)
    if (chunkLog[i].live && chunkLog[i].arena == arena && chunkLog[i].base == (char *)base &&
        chunkLog[i].size == size) {
      chunkLog[i].live = 0;
      return;
    }
  ++callbackErrors; /* a contraction that matches no extension */
}

static size_t liveChunks(mps_arena_t arena, size_t *bytes)
{
  size_t i, n = 0, b = 0;
  for (i = 0; i < chunkLogN; ++i)
    if (chunkLog[i].live && chunkLog[i].arena == arena) {
      ++n;
      b += chunkLog[i].size;
    }
  if (bytes != NULL) *bytes = b;
  return n;
}

/* The chunk log agrees with the arena's own view. */
static int chunksAgree(mps_arena_t arena)
{
  size_t bytes, n = liveChunks(arena, &bytes);
  if (n != gcp_arena_chunk_count(arena) || bytes != mps_arena_reserved(arena)) {
    fprintf(stderr, "  chunk log: %zu chunks of %zu bytes; arena: %zu chunks, %zu reserved\n", n,
            bytes, gcp_arena_chunk_count(arena), mps_arena_reserved(arena));
    return 0;
  }
  return callbackErrors == 0;
}

/* spare_committed <= spare * committed, allowing for rounding of the product. */
static int spareRespected(mps_arena_t arena)
{
  size_t spareCommitted = mps_arena_spare_committed(arena);
  double allowed = mps_arena_spare(arena) * (double)mps_arena_committed(arena);
  if ((double)spareCommitted > allowed + 1.0) {
    fprintf(stderr, "  spare committed %zu exceeds spare %.3f x committed %zu = %.0f\n",
            spareCommitted, mps_arena_spare(arena), mps_arena_committed(arena), allowed);
    return 0;
  }
  return 1;
}

static size_t pageSize; /* the default grain: the OS page size */

/* ---- creation keys -------------------------------------------------------- */

static void keys(void)
{
  mps_arena_t arena;
  mps_arg_s args[16];
  mps_res_t res;
  size_t grain = 2 * pageSize;
  size_t bytes;
  unsigned long ext0 = extendedCalls, con0 = contractedCalls;

  /* Every VM key, plus two keys the arena does not use, by hand. */
  args[0].key = MPS_KEY_MFS_UNIT_SIZE;
  args[0].val.size = 1234;
  args[1].key = MPS_KEY_ARENA_SIZE;
  args[1].val.size = 4 * MiB;
  args[2].key = MPS_KEY_ARENA_GRAIN_SIZE;
  args[2].val.size = grain;
  args[3].key = MPS_KEY_COMMIT_LIMIT;
  args[3].val.size = 64 * MiB;
  args[4].key = MPS_KEY_SPARE;
  args[4].val.d = 0.5;
  args[5].key = MPS_KEY_MEAN_SIZE;
  args[5].val.size = 77;
  args[6].key = MPS_KEY_PAUSE_TIME;
  args[6].val.d = 0.25;
  args[7].key = MPS_KEY_ARENA_EXTENDED;
  args[7].val.fun = (mps_fun_t)extendedCB;
  args[8].key = MPS_KEY_ARENA_CONTRACTED;
  args[8].val.fun = (mps_fun_t)contractedCB;
  args[9].key = MPS_KEY_ARGS_END;
  res = mps_arena_create_k(&arena, mps_arena_class_vm(), args);
  REQUIRE(res == MPS_RES_OK);
  /* Used keys are gone; the unknown ones remain, in order, terminated. */
  CHECK(args[0].key == MPS_KEY_MFS_UNIT_SIZE && args[0].val.size == 1234);
  CHECK(args[1].key == MPS_KEY_MEAN_SIZE && args[1].val.size == 77);
  CHECK(args[2].key == MPS_KEY_ARGS_END);
  CHECK(gcp_arena_grain_size(arena) == grain);
  CHECK(mps_arena_reserved(arena) >= 4 * MiB);
  CHECK(mps_arena_reserved(arena) % grain == 0);
  CHECK(mps_arena_commit_limit(arena) == 64 * MiB);
  CHECK(mps_arena_spare(arena) == 0.5);
  CHECK(mps_arena_pause_time(arena) == 0.25);
  CHECK(mps_arena_committed(arena) > 0);
  CHECK(mps_arena_committed(arena) <= mps_arena_commit_limit(arena));
  CHECK(mps_arena_spare_committed(arena) <= mps_arena_committed(arena));
  /* The extension callback ran once, for the initial chunk, with this arena. */
  CHECK(extendedCalls == ext0 + 1 && contractedCalls == con0);
  CHECK(liveChunks(arena, &bytes) == 1 && bytes == mps_arena_reserved(arena));
  CHECK(chunksAgree(arena));
  CHECK(mps_arena_has_addr(arena, (void *)arena)); /* the arena lives in its own chunk */
  CHECK(gcp_arena_consistent(arena));
  mps_arena_destroy(arena);
  CHECK(contractedCalls == con0 + 1);
  CHECK(liveChunks(arena, NULL) == 0 && callbackErrors == 0);

  /* The same through the keyword macros, nested inside another list. */
  MPS_ARGS_BEGIN(outer)
  {
    MPS_ARGS_ADD(outer, MPS_KEY_ARENA_SIZE, 8 * MiB);
    MPS_ARGS_BEGIN(inner)
    {
      MPS_ARGS_ADD(inner, MPS_KEY_SPARE, 0.125);
      MPS_ARGS_ADD(inner, MPS_KEY_PAUSE_TIME, 0.0);
      MPS_ARGS_ADD(outer, MPS_KEY_SPARE, inner[0].val.d);
      MPS_ARGS_ADD(outer, MPS_KEY_PAUSE_TIME, inner[1].val.d);
    }
    MPS_ARGS_END(inner);
    MPS_ARGS_ADD(outer, MPS_KEY_ARENA_ZONED, 1);
    MPS_ARGS_ADD(outer, MPS_KEY_VMW3_TOP_DOWN, 1); /* ignored off Windows */
    MPS_ARGS_ADD(outer, MPS_KEY_EXTEND_BY, 4096);  /* not an arena key */
    res = mps_arena_create_k(&arena, mps_arena_class_vm(), outer);
    CHECK(outer[0].key == MPS_KEY_EXTEND_BY && outer[1].key == MPS_KEY_ARGS_END);
  }
  MPS_ARGS_END(outer);
  REQUIRE(res == MPS_RES_OK);
  CHECK(mps_arena_spare(arena) == 0.125);
  CHECK(mps_arena_pause_time(arena) == 0.0);
  CHECK(mps_arena_reserved(arena) >= 8 * MiB);
  CHECK(gcp_arena_grain_size(arena) == pageSize);
  mps_arena_pause_time_set(arena, 1e300 * 1e300); /* infinity is allowed */
  CHECK(mps_arena_pause_time(arena) > 1e300);
  mps_arena_destroy(arena);

  /* Defaults: 256 MiB reserved, page grain, no commit limit, spare 0.75, 0.1 s. */
  res = mps_arena_create_k(&arena, mps_arena_class_vm(), mps_args_none);
  REQUIRE(res == MPS_RES_OK);
  CHECK(mps_args_none[0].key == MPS_KEY_ARGS_END);
  CHECK(mps_arena_reserved(arena) >= ((size_t)1 << 28));
  CHECK(mps_arena_commit_limit(arena) == (size_t)-1);
  CHECK(mps_arena_spare(arena) == 0.75);
  CHECK(mps_arena_pause_time(arena) == 0.1);
  CHECK(gcp_arena_chunk_count(arena) == 1);
  mps_arena_destroy(arena);

  /* A grain below the page is raised to the page; a tiny arena is raised
   * to grain x word width. */
  MPS_ARGS_BEGIN(a)
  {
    MPS_ARGS_ADD(a, MPS_KEY_ARENA_GRAIN_SIZE, 512);
    MPS_ARGS_ADD(a, MPS_KEY_ARENA_SIZE, 1);
    res = mps_arena_create_k(&arena, mps_arena_class_vm(), a);
  }
  MPS_ARGS_END(a);
  REQUIRE(res == MPS_RES_OK);
  CHECK(gcp_arena_grain_size(arena) == pageSize);
  CHECK(mps_arena_reserved(arena) >= pageSize * sizeof(void *) * 8);
  CHECK(gcp_arena_consistent(arena));
  mps_arena_destroy(arena);

  /* A large grain (16 pages): pools still work, and segments are grains. */
  MPS_ARGS_BEGIN(a)
  {
    MPS_ARGS_ADD(a, MPS_KEY_ARENA_GRAIN_SIZE, 16 * pageSize);
    res = mps_arena_create_k(&arena, mps_arena_class_vm(), a);
  }
  MPS_ARGS_END(a);
  REQUIRE(res == MPS_RES_OK);
  CHECK(gcp_arena_grain_size(arena) == 16 * pageSize);
  {
    mps_pool_t pool;
    void *p;
    REQUIRE(mps_pool_create_k(&pool, arena, mps_class_mvff(), mps_args_none) == MPS_RES_OK);
    CHECK(mps_alloc(&p, pool, 100) == MPS_RES_OK);
    CHECK(mps_pool_total_size(pool) % (16 * pageSize) == 0);
    memset(p, 1, 100);
    mps_free(pool, p, 100);
    CHECK(gcp_arena_consistent(arena));
    mps_pool_destroy(pool);
    CHECK(gcp_arena_pools_committed(arena) == 0);
  }
  mps_arena_destroy(arena);

  /* Legacy SPARE_COMMIT_LIMIT: bytes relative to the commit limit. */
  MPS_ARGS_BEGIN(a)
  {
    MPS_ARGS_ADD(a, MPS_KEY_COMMIT_LIMIT, 100 * MiB);
    MPS_ARGS_ADD(a, MPS_KEY_SPARE_COMMIT_LIMIT, 25 * MiB);
    res = mps_arena_create_k(&arena, mps_arena_class_vm(), a);
    CHECK(a[0].key == MPS_KEY_ARGS_END);
  }
  MPS_ARGS_END(a);
  REQUIRE(res == MPS_RES_OK);
  CHECK(mps_arena_spare(arena) > 0.2499 && mps_arena_spare(arena) < 0.2501);
  mps_arena_destroy(arena);
  MPS_ARGS_BEGIN(a)
  { /* capped at 1.0 */
    MPS_ARGS_ADD(a, MPS_KEY_COMMIT_LIMIT, 10 * MiB);
    MPS_ARGS_ADD(a, MPS_KEY_SPARE_COMMIT_LIMIT, 50 * MiB);
    res = mps_arena_create_k(&arena, mps_arena_class_vm(), a);
  }
  MPS_ARGS_END(a);
  REQUIRE(res == MPS_RES_OK);
  CHECK(mps_arena_spare(arena) == 1.0);
  mps_arena_destroy(arena);
  MPS_ARGS_BEGIN(a)
  { /* SPARE overrides it, whatever the order */
    MPS_ARGS_ADD(a, MPS_KEY_SPARE, 0.375);
    MPS_ARGS_ADD(a, MPS_KEY_COMMIT_LIMIT, 100 * MiB);
    MPS_ARGS_ADD(a, MPS_KEY_SPARE_COMMIT_LIMIT, 25 * MiB);
    res = mps_arena_create_k(&arena, mps_arena_class_vm(), a);
  }
  MPS_ARGS_END(a);
  REQUIRE(res == MPS_RES_OK);
  CHECK(mps_arena_spare(arena) == 0.375);
  mps_arena_destroy(arena);

  /* Address space that cannot be had. */
  MPS_ARGS_BEGIN(a)
  {
    MPS_ARGS_ADD(a, MPS_KEY_ARENA_SIZE, (size_t)1 << 60);
    res = mps_arena_create_k(&arena, mps_arena_class_vm(), a);
  }
  MPS_ARGS_END(a);
  CHECK(res == MPS_RES_RESOURCE || res == MPS_RES_MEMORY);
}

/* ---- legacy creation --------------------------------------------------------- */

static mps_res_t createViaV(mps_arena_t *arena_o, mps_arena_class_t cls, ...)
{
  va_list ap;
  mps_res_t res;
  va_start(ap, cls);
  res = mps_arena_create_v(arena_o, cls, ap);
  va_end(ap);
  return res;
}

static void legacy(void)
{
  mps_arena_t arena = NULL, before;
  mps_res_t res;

  res = mps_arena_create(&arena, mps_arena_class_vm(), (size_t)(8 * MiB));
  REQUIRE(res == MPS_RES_OK);
  CHECK(mps_arena_reserved(arena) >= 8 * MiB && mps_arena_reserved(arena) < 64 * MiB);
  CHECK(gcp_arena_consistent(arena));
  mps_arena_destroy(arena);
  res = createViaV(&arena, mps_arena_class_vm(), (size_t)(16 * MiB));
  REQUIRE(res == MPS_RES_OK);
  CHECK(mps_arena_reserved(arena) >= 16 * MiB && mps_arena_reserved(arena) < 64 * MiB);
  mps_arena_destroy(arena);
  /* A failed creation leaves the out parameter alone. */
  before = arena = (mps_arena_t)&arena;
  res = mps_arena_create(&arena, mps_arena_class_vm(), (size_t)1 << 60);
  CHECK(res != MPS_RES_OK && arena == before);
}

/* ---- accounting: committed, spare, commit limit ------------------------------- */

#define NACC 256

static void accounting(void)
{
  mps_arena_t arena;
  mps_pool_t mvff, mfs;
  static void *blocks[NACC];
  size_t committed, spare, limit, grain, i, freed = 0;
  void *p;
  mps_res_t res;

  MPS_ARGS_BEGIN(a)
  {
    MPS_ARGS_ADD(a, MPS_KEY_SPARE, 1.0); /* keep every free page for now */
    res = mps_arena_create_k(&arena, mps_arena_class_vm(), a);
  }
  MPS_ARGS_END(a);
  REQUIRE(res == MPS_RES_OK);
  grain = gcp_arena_grain_size(arena);
  MPS_ARGS_BEGIN(a)
  {
    MPS_ARGS_ADD(a, MPS_KEY_SPARE, 0.0); /* the pool hands free segments back at once */
    MPS_ARGS_ADD(a, MPS_KEY_EXTEND_BY, 64 * KiB);
    res = mps_pool_create_k(&mvff, arena, mps_class_mvff(), a);
  }
  MPS_ARGS_END(a);
  REQUIRE(res == MPS_RES_OK);

  committed = mps_arena_committed(arena);
  for (i = 0; i < NACC; ++i) {
    size_t size = 64 * KiB;
    REQUIRE(mps_alloc(&blocks[i], mvff, size) == MPS_RES_OK);
    memset(blocks[i], (int)i, size);
  }
  CHECK(mps_arena_committed(arena) >= committed + NACC * 64 * KiB);
  CHECK(gcp_arena_pools_committed(arena) >= NACC * 64 * KiB);
  CHECK(mps_arena_committed(arena) ==
        mps_arena_spare_committed(arena) + gcp_arena_overhead_committed(arena) +
            gcp_arena_control_committed(arena) + gcp_arena_pools_committed(arena));
  CHECK(gcp_arena_consistent(arena));

  /* Free a random half: the pages become spare (spare fraction 1.0). */
  for (i = 0; i < NACC; ++i)
    if (rnd() % 2 == 0) {
      mps_free(mvff, blocks[i], 64 * KiB);
      blocks[i] = NULL;
      ++freed;
    }
  CHECK(mps_arena_spare_committed(arena) > 0 || freed == 0);
  CHECK(spareRespected(arena));
  CHECK(gcp_arena_consistent(arena));

  /* Raising the limit above committed always succeeds. */
  committed = mps_arena_committed(arena);
  CHECK(mps_arena_commit_limit_set(arena, committed + MiB) == MPS_RES_OK);
  CHECK(mps_arena_commit_limit(arena) == committed + MiB);
  CHECK(mps_arena_committed(arena) == committed);
  CHECK(mps_arena_commit_limit_set(arena, committed) == MPS_RES_OK);
  CHECK(mps_arena_commit_limit(arena) == committed);

  /* Below committed: fine if giving back spare memory is enough... */
  spare = mps_arena_spare_committed(arena);
  if (spare >= 2 * grain) {
    limit = committed - (spare / 2 / grain) * grain;
    CHECK(mps_arena_commit_limit_set(arena, limit) == MPS_RES_OK);
    CHECK(mps_arena_commit_limit(arena) == limit);
    CHECK(mps_arena_committed(arena) <= limit);
    CHECK(mps_arena_spare_committed(arena) < spare);
    CHECK(gcp_arena_consistent(arena));
  }
  /* ...and otherwise fails and changes nothing. */
  committed = mps_arena_committed(arena);
  spare = mps_arena_spare_committed(arena);
  limit = mps_arena_commit_limit(arena);
  CHECK(mps_arena_commit_limit_set(arena, committed - spare - grain) == MPS_RES_FAIL);
  CHECK(mps_arena_commit_limit(arena) == limit);
  CHECK(mps_arena_committed(arena) == committed);
  CHECK(mps_arena_commit_limit_set(arena, 0) == MPS_RES_FAIL);
  CHECK(mps_arena_commit_limit(arena) == limit);
  CHECK(mps_arena_commit_limit_set(arena, (size_t)-1) == MPS_RES_OK);
  CHECK(mps_arena_commit_limit(arena) == (size_t)-1);

  /* The legacy spare limit in bytes. */
  mps_arena_spare_set(arena, 0.5);
  CHECK(mps_arena_spare(arena) == 0.5);
  CHECK(spareRespected(arena));
  committed = mps_arena_committed(arena);
  {
    size_t scl = mps_arena_spare_commit_limit(arena);
    CHECK(scl + 1 >= committed / 2 && scl <= committed / 2 + 1);
  }
  mps_arena_spare_commit_limit_set(arena, mps_arena_committed(arena) / 4);
  CHECK(mps_arena_spare(arena) > 0.2 && mps_arena_spare(arena) <= 0.25 + 1e-9);
  CHECK(spareRespected(arena));
  mps_arena_spare_commit_limit_set(arena, (size_t)-1);
  CHECK(mps_arena_spare(arena) == 1.0);

  /* Spare fraction respected after frees, at several fractions. */
  {
    static const double fractions[] = { 0.75, 0.5, 0.25, 0.1 };
    size_t k;
    for (k = 0; k < sizeof fractions / sizeof fractions[0]; ++k) {
      mps_arena_spare_set(arena, fractions[k]);
      CHECK(spareRespected(arena));
      for (i = 0; i < NACC; ++i) /* refill, then free some */
        if (blocks[i] == NULL) REQUIRE(mps_alloc(&blocks[i], mvff, 64 * KiB) == MPS_RES_OK);
      for (i = 0; i < NACC; ++i)
        if (rnd() % 3 == 0) {
          mps_free(mvff, blocks[i], 64 * KiB);
          blocks[i] = NULL;
          if (!spareRespected(arena)) {
            CHECK(spareRespected(arena));
            break;
          }
        }
      CHECK(spareRespected(arena));
      CHECK(gcp_arena_consistent(arena));
    }
  }

  /* spare_set(0) gives back every spare page. */
  mps_arena_spare_set(arena, 0.0);
  CHECK(mps_arena_spare(arena) == 0.0);
  CHECK(mps_arena_spare_committed(arena) == 0);
  for (i = 0; i < NACC; ++i)
    if (blocks[i] != NULL) {
      mps_free(mvff, blocks[i], 64 * KiB);
      blocks[i] = NULL;
    }
  CHECK(mps_arena_spare_committed(arena) == 0);
  CHECK(mps_pool_free_size(mvff) == mps_pool_total_size(mvff));
  CHECK(gcp_arena_consistent(arena));

  /* Out-of-range spare is misuse and changes nothing. */
  {
    mps_lib_assert_fail_t old = mps_lib_assert_fail_install(recordHandler);
    unsigned long r0 = reports;
    mps_arena_spare_set(arena, 1.5);
    CHECK(reported(r0, "spare"));
    CHECK(mps_arena_spare(arena) == 0.0);
    r0 = reports;
    mps_arena_pause_time_set(arena, -1.0);
    CHECK(reported(r0, "negative"));
    CHECK(mps_arena_pause_time(arena) == 0.1);
    mps_lib_assert_fail_install(old);
  }

  /* The commit limit as mps_alloc sees it: MVFF and MFS. */
  MPS_ARGS_BEGIN(a)
  {
    MPS_ARGS_ADD(a, MPS_KEY_MFS_UNIT_SIZE, 64);
    MPS_ARGS_ADD(a, MPS_KEY_EXTEND_BY, MiB);
    res = mps_pool_create_k(&mfs, arena, mps_class_mfs(), a);
  }
  MPS_ARGS_END(a);
  REQUIRE(res == MPS_RES_OK);
  committed = mps_arena_committed(arena);
  CHECK(mps_arena_commit_limit_set(arena, committed + 2 * grain) == MPS_RES_OK);
  p = (void *)&p;
  res = mps_alloc(&p, mvff, 2 * MiB);
  CHECK(res == MPS_RES_COMMIT_LIMIT);
  CHECK(p == (void *)&p); /* not written on failure */
  res = mps_alloc(&p, mfs, 64);
  CHECK(res == MPS_RES_COMMIT_LIMIT);
  CHECK(mps_arena_committed(arena) <= committed + 2 * grain);
  CHECK(gcp_pool_consistent(mvff) && gcp_pool_consistent(mfs));
  CHECK(gcp_arena_consistent(arena));
  CHECK(mps_pool_total_size(mfs) == 0);
  /* Raising the limit makes the very same requests succeed. */
  CHECK(mps_arena_commit_limit_set(arena, committed + 8 * MiB) == MPS_RES_OK);
  res = mps_alloc(&p, mvff, 2 * MiB);
  CHECK(res == MPS_RES_OK);
  if (res == MPS_RES_OK) {
    memset(p, 7, 2 * MiB);
    mps_free(mvff, p, 2 * MiB);
  }
  res = mps_alloc(&p, mfs, 64);
  CHECK(res == MPS_RES_OK);
  if (res == MPS_RES_OK) {
    memset(p, 7, 64);
    mps_free(mfs, p, 64);
  }
  CHECK(mps_arena_committed(arena) <= committed + 8 * MiB);
  CHECK(gcp_arena_consistent(arena));
  CHECK(mps_arena_commit_limit_set(arena, (size_t)-1) == MPS_RES_OK);

  mps_pool_destroy(mfs);
  mps_pool_destroy(mvff);
  CHECK(gcp_arena_pools_committed(arena) == 0);
  CHECK(mps_arena_spare_committed(arena) == 0);
  CHECK(gcp_arena_consistent(arena));
  mps_arena_destroy(arena);

  /* A commit limit given at creation. */
  MPS_ARGS_BEGIN(a)
  {
    MPS_ARGS_ADD(a, MPS_KEY_COMMIT_LIMIT, 8 * MiB);
    res = mps_arena_create_k(&arena, mps_arena_class_vm(), a);
  }
  MPS_ARGS_END(a);
  REQUIRE(res == MPS_RES_OK);
  REQUIRE(mps_pool_create_k(&mvff, arena, mps_class_mvff(), mps_args_none) == MPS_RES_OK);
  CHECK(mps_alloc(&p, mvff, 16 * MiB) == MPS_RES_COMMIT_LIMIT);
  CHECK(mps_alloc(&p, mvff, 4 * MiB) == MPS_RES_OK);
  CHECK(mps_arena_committed(arena) <= 8 * MiB);
  mps_free(mvff, p, 4 * MiB);
  CHECK(gcp_arena_consistent(arena));
  mps_pool_destroy(mvff);
  mps_arena_destroy(arena);
}

/* ---- growth into new chunks, and their return --------------------------------- */

#define NGROW 2048

static void growth(void)
{
  static struct {
    char *p;
    size_t size;
  } blocks[NGROW];
  mps_arena_t arena;
  mps_pool_t pool;
  size_t total = 0, n = 0, i, reserved0, chunks;
  unsigned long ext0 = extendedCalls, con0, conAfterFree;
  mps_res_t res = MPS_RES_OK;

  MPS_ARGS_BEGIN(a)
  {
    MPS_ARGS_ADD(a, MPS_KEY_ARENA_SIZE, MiB);
    MPS_ARGS_ADD(a, MPS_KEY_ARENA_EXTENDED, (mps_fun_t)extendedCB);
    MPS_ARGS_ADD(a, MPS_KEY_ARENA_CONTRACTED, (mps_fun_t)contractedCB);
    res = mps_arena_create_k(&arena, mps_arena_class_vm(), a);
  }
  MPS_ARGS_END(a);
  REQUIRE(res == MPS_RES_OK);
  reserved0 = mps_arena_reserved(arena);
  CHECK(reserved0 >= MiB && reserved0 < 2 * MiB);
  CHECK(extendedCalls == ext0 + 1);
  con0 = contractedCalls;
  MPS_ARGS_BEGIN(a)
  {
    MPS_ARGS_ADD(a, MPS_KEY_SPARE, 0.0);
    res = mps_pool_create_k(&pool, arena, mps_class_mvff(), a);
  }
  MPS_ARGS_END(a);
  REQUIRE(res == MPS_RES_OK);

  /* 64 MiB in blocks of 1 KiB to 256 KiB, and one block of 8 MiB, bigger
   * than the whole initial arena. */
  while (total < 64 * MiB && n < NGROW) {
    size_t size = n == 17 ? 8 * MiB : KiB * (1 + rnd() % 256);
    void *p;
    res = mps_alloc(&p, pool, size);
    if (res != MPS_RES_OK) {
      fprintf(stderr,
              "  growth: mps_alloc of %zu bytes failed with %d after %zu bytes in "
              "%zu blocks; %zu chunks, %zu reserved\n",
              size, res, total, n, gcp_arena_chunk_count(arena), mps_arena_reserved(arena));
      break;
    }
    blocks[n].p = p;
    blocks[n].size = size;
    memset(p, (int)(n & 0xFF), 64);
    memset((char *)p + size - 64, (int)(n & 0xFF), 64);
    total += size;
    ++n;
  }
  CHECK(res == MPS_RES_OK);
  CHECK(total >= 64 * MiB);
  chunks = gcp_arena_chunk_count(arena);
  CHECK(chunks > 1);
  CHECK(mps_arena_reserved(arena) > reserved0);
  CHECK(mps_arena_reserved(arena) >= total);
  CHECK(extendedCalls - ext0 == chunks + (contractedCalls - con0));
  CHECK(chunksAgree(arena));
  CHECK(gcp_arena_consistent(arena));
  printf("  growth: %zu blocks, %zu bytes, %zu chunks, %zu reserved\n", n, total, chunks,
         mps_arena_reserved(arena));
  for (i = 0; i < n; ++i) { /* every block is intact and in the pool */
    mps_pool_t owner = NULL;
    char *p = blocks[i].p;
    CHECK(mps_arena_has_addr(arena, p) && mps_arena_has_addr(arena, p + blocks[i].size - 1));
    CHECK(mps_addr_pool(&owner, arena, p + blocks[i].size / 2) && owner == pool);
    CHECK(p[0] == (char)(i & 0xFF) && p[blocks[i].size - 1] == (char)(i & 0xFF));
  }

  /* Free everything in random order: chunks that empty go back. */
  for (i = n; i > 1; --i) {
    size_t j = rnd() % i;
    char *p = blocks[j].p;
    size_t s = blocks[j].size;
    blocks[j] = blocks[i - 1];
    blocks[i - 1].p = p;
    blocks[i - 1].size = s;
  }
  for (i = 0; i < n; ++i) {
    mps_free(pool, blocks[i].p, blocks[i].size);
    if (i % 128 == 0) {
      CHECK(spareRespected(arena));
      CHECK(chunksAgree(arena));
    }
  }
  CHECK(mps_pool_free_size(pool) == mps_pool_total_size(pool));
  mps_pool_destroy(pool);
  CHECK(gcp_arena_pools_committed(arena) == 0);
  CHECK(spareRespected(arena));
  conAfterFree = contractedCalls - con0;
  CHECK(conAfterFree > 0);
  CHECK(chunksAgree(arena));
  CHECK(gcp_arena_consistent(arena));
  /* With no spare allowed every extra chunk goes. */
  mps_arena_spare_set(arena, 0.0);
  CHECK(mps_arena_spare_committed(arena) == 0);
  if (gcp_arena_chunk_count(arena) != 1)
    fprintf(stderr,
            "  growth: %zu chunks remain, %zu reserved, control %zu, overhead %zu, "
            "committed %zu\n",
            gcp_arena_chunk_count(arena), mps_arena_reserved(arena),
            gcp_arena_control_committed(arena), gcp_arena_overhead_committed(arena),
            mps_arena_committed(arena));
  CHECK(gcp_arena_chunk_count(arena) == 1);
  CHECK(mps_arena_reserved(arena) == reserved0);
  CHECK(contractedCalls - con0 == extendedCalls - ext0 - 1);
  CHECK(chunksAgree(arena));
  CHECK(gcp_arena_consistent(arena));
  printf("  growth: %lu chunks returned after the frees, %lu after spare 0\n", conAfterFree,
         contractedCalls - con0);

  /* mps_arena_vm_growth: the next chunk is the desired size. */
  {
    void *p;
    size_t before = chunkLogN;
    CHECK(mps_arena_vm_growth(arena, 16 * MiB, 4 * MiB) == MPS_RES_OK);
    CHECK(mps_arena_vm_growth(arena, 4 * MiB, 4 * MiB) == MPS_RES_OK);
    CHECK(mps_arena_vm_growth(arena, 16 * MiB, 0) == MPS_RES_OK);
    REQUIRE(mps_pool_create_k(&pool, arena, mps_class_mvff(), mps_args_none) == MPS_RES_OK);
    REQUIRE(mps_alloc(&p, pool, 2 * MiB) == MPS_RES_OK);
    CHECK(chunkLogN == before + 1);
    CHECK(chunkLogN > before && chunkLog[chunkLogN - 1].size >= 16 * MiB);
    CHECK(mps_arena_reserved(arena) >= reserved0 + 16 * MiB);
    CHECK(chunksAgree(arena));
    mps_free(pool, p, 2 * MiB);
    /* Bigger than the desired size: the chunk is big enough anyway. */
    REQUIRE(mps_alloc(&p, pool, 40 * MiB) == MPS_RES_OK);
    CHECK(chunkLog[chunkLogN - 1].size >= 40 * MiB);
    memset(p, 3, 40 * MiB);
    mps_free(pool, p, 40 * MiB);
    mps_pool_destroy(pool);
    { /* desired < minimum is misuse */
      mps_lib_assert_fail_t old = mps_lib_assert_fail_install(recordHandler);
      unsigned long r0 = reports;
      CHECK(mps_arena_vm_growth(arena, MiB, 2 * MiB) != MPS_RES_OK);
      CHECK(reported(r0, "minimum"));
      mps_lib_assert_fail_install(old);
    }
  }
  CHECK(gcp_arena_pools_committed(arena) == 0);
  CHECK(gcp_arena_consistent(arena));
  mps_arena_destroy(arena);
  CHECK(liveChunks(arena, NULL) == 0);
  CHECK(extendedCalls - ext0 == contractedCalls - con0); /* the initial chunk too */
  CHECK(callbackErrors == 0);
}

/* A small arena keeps growing for as long as address space lasts: 96
 * blocks of 1 MiB from a 1 MiB arena, each needing a chunk of its own.  The
 * memory is committed but never touched. */
static void growthMany(void)
{
  static void *blocks[96];
  mps_arena_t arena;
  mps_pool_t pool;
  size_t i, n = 0;
  mps_res_t res = MPS_RES_OK;

  MPS_ARGS_BEGIN(a)
  {
    MPS_ARGS_ADD(a, MPS_KEY_ARENA_SIZE, MiB);
    MPS_ARGS_ADD(a, MPS_KEY_ARENA_EXTENDED, (mps_fun_t)extendedCB);
    MPS_ARGS_ADD(a, MPS_KEY_ARENA_CONTRACTED, (mps_fun_t)contractedCB);
    res = mps_arena_create_k(&arena, mps_arena_class_vm(), a);
  }
  MPS_ARGS_END(a);
  REQUIRE(res == MPS_RES_OK);
  REQUIRE(mps_pool_create_k(&pool, arena, mps_class_mvff(), mps_args_none) == MPS_RES_OK);
  for (n = 0; n < 96; ++n) {
    res = mps_alloc(&blocks[n], pool, MiB);
    if (res != MPS_RES_OK) {
      fprintf(stderr,
              "  growthMany: mps_alloc of 1 MiB failed with %d after %zu blocks; "
              "%zu chunks, %zu reserved\n",
              res, n, gcp_arena_chunk_count(arena), mps_arena_reserved(arena));
      break;
    }
  }
  CHECK(res == MPS_RES_OK && n == 96);
  CHECK(mps_arena_reserved(arena) >= 96 * MiB || res != MPS_RES_OK);
  CHECK(chunksAgree(arena));
  CHECK(gcp_arena_consistent(arena));
  for (i = 0; i < n; ++i) mps_free(pool, blocks[i], MiB);
  mps_pool_destroy(pool);
  mps_arena_spare_set(arena, 0.0);
  CHECK(chunksAgree(arena));
  mps_arena_destroy(arena);
  CHECK(liveChunks(arena, NULL) == 0 && callbackErrors == 0);
}

/* ---- addresses ---------------------------------------------------------------- */

static void addresses(void)
{
  mps_arena_t arena, other;
  mps_pool_t mvff, mfs, otherPool, found;
  void *p, *q, *r;
  int local = 0;
  char *heap = malloc(64);

  REQUIRE(heap != NULL);
  REQUIRE(mps_arena_create_k(&arena, mps_arena_class_vm(), mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_arena_create_k(&other, mps_arena_class_vm(), mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_pool_create_k(&mvff, arena, mps_class_mvff(), mps_args_none) == MPS_RES_OK);
  MPS_ARGS_BEGIN(a)
  {
    MPS_ARGS_ADD(a, MPS_KEY_MFS_UNIT_SIZE, 48);
    REQUIRE(mps_pool_create_k(&mfs, arena, mps_class_mfs(), a) == MPS_RES_OK);
  }
  MPS_ARGS_END(a);
  REQUIRE(mps_pool_create_k(&otherPool, other, mps_class_mvff(), mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_alloc(&p, mvff, 1000) == MPS_RES_OK);
  REQUIRE(mps_alloc(&q, mfs, 48) == MPS_RES_OK);
  REQUIRE(mps_alloc(&r, otherPool, 100) == MPS_RES_OK);
  mps_arena_park(arena);

  /* Pool blocks: base, interior and last byte. */
  CHECK(mps_arena_has_addr(arena, p));
  CHECK(mps_arena_has_addr(arena, (char *)p + 999));
  found = NULL;
  CHECK(mps_addr_pool(&found, arena, p) && found == mvff);
  found = NULL;
  CHECK(mps_addr_pool(&found, arena, (char *)p + 500) && found == mvff);
  found = NULL;
  CHECK(mps_addr_pool(&found, arena, q) && found == mfs);
  found = NULL;
  CHECK(mps_addr_pool(&found, arena, (char *)q + 47) && found == mfs);

  /* Another arena's blocks are not this arena's. */
  CHECK(!mps_arena_has_addr(arena, r));
  found = (mps_pool_t)&local;
  CHECK(!mps_addr_pool(&found, arena, r));
  CHECK(found == (mps_pool_t)&local); /* out parameter untouched */
  found = NULL;
  CHECK(mps_addr_pool(&found, other, r) && found == otherPool);
  CHECK(!mps_arena_has_addr(other, p));

  /* Stack, C heap, static data, NULL. */
  found = (mps_pool_t)&local;
  CHECK(!mps_arena_has_addr(arena, &local));
  CHECK(!mps_addr_pool(&found, arena, &local));
  CHECK(!mps_arena_has_addr(arena, heap));
  CHECK(!mps_addr_pool(&found, arena, heap));
  CHECK(!mps_arena_has_addr(arena, &checks));
  CHECK(!mps_addr_pool(&found, arena, &checks));
  CHECK(!mps_arena_has_addr(arena, NULL));
  CHECK(!mps_addr_pool(&found, arena, NULL));
  CHECK(found == (mps_pool_t)&local);

  /* Arena control memory (the arena, pool and AP descriptors) is in the
   * arena's address space but is no pool's block: mps_addr_pool may say
   * either, but if it names a pool it must be a live pool of the arena. */
  {
    mps_ap_t ap;
    REQUIRE(mps_ap_create_k(&ap, mvff, mps_args_none) == MPS_RES_OK);
    CHECK(mps_arena_has_addr(arena, (void *)arena));
    CHECK(mps_arena_has_addr(arena, (void *)mvff));
    CHECK(mps_arena_has_addr(arena, (void *)mfs));
    CHECK(mps_arena_has_addr(arena, (void *)ap));
    CHECK(!mps_arena_has_addr(other, (void *)mvff));
    found = NULL;
    if (mps_addr_pool(&found, arena, (void *)mvff)) CHECK(found == mvff || found == mfs);
    found = NULL;
    if (mps_addr_pool(&found, arena, (void *)ap)) CHECK(found == mvff || found == mfs);
    mps_ap_destroy(ap);
  }

  mps_arena_release(arena);
  mps_free(mvff, p, 1000);
  mps_free(mfs, q, 48);
  mps_free(otherPool, r, 100);
  mps_pool_destroy(mvff);
  mps_pool_destroy(mfs);
  mps_pool_destroy(otherPool);
  CHECK(gcp_arena_pools_committed(arena) == 0);
  CHECK(gcp_arena_pools_committed(other) == 0);
  CHECK(gcp_arena_consistent(arena) && gcp_arena_consistent(other));
  mps_arena_destroy(other);
  mps_arena_destroy(arena);
  free(heap);
}

/* ---- misuse and collection control ------------------------------------------- */

static int local_dummy_class; /* not an arena class */

static void misuseAndControl(void)
{
  mps_arena_t arena;
  mps_pool_t pool;
  mps_ap_t ap;
  mps_sac_t sac;
  mps_sac_class_s classes[1] = { { 64, 8, 1 } };
  mps_lib_assert_fail_t old;
  unsigned long r0;
  void *p;
  mps_res_t res;

  REQUIRE(mps_arena_create_k(&arena, mps_arena_class_vm(), mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_pool_create_k(&pool, arena, mps_class_mvff(), mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_alloc(&p, pool, 128) == MPS_RES_OK);

  old = mps_lib_assert_fail_install(recordHandler);
  /* Destroying an arena that still has a pool: reported, nothing happens. */
  r0 = reports;
  mps_arena_destroy(arena);
  CHECK(reported(r0, "pool"));
  CHECK(gcp_destroy_refused());  /* the core says it kept the arena */
  CHECK(!gcp_destroy_refused()); /* reading it cleared it */
  CHECK(gcp_arena_consistent(arena));
  CHECK(gcp_arena_chunk_count(arena) == 1);
  memset(p, 0x11, 128);
  mps_free(pool, p, 128);
  REQUIRE(mps_alloc(&p, pool, 256) == MPS_RES_OK);
  memset(p, 0x22, 256);

  /* Destroying a pool that still has an AP or a SAC. */
  REQUIRE(mps_ap_create_k(&ap, pool, mps_args_none) == MPS_RES_OK);
  r0 = reports;
  mps_pool_destroy(pool);
  CHECK(reported(r0, "allocation point"));
  CHECK(gcp_destroy_refused());
  CHECK(gcp_pool_consistent(pool));
  mps_ap_destroy(ap);
  CHECK(!gcp_destroy_refused()); /* done: not refused */
  /* a handle that is not live is misuse, but nothing was kept */
  r0 = reports;
  mps_ap_destroy(ap);
  CHECK(reported(r0, "mps_ap_destroy"));
  CHECK(!gcp_destroy_refused());
  REQUIRE(mps_sac_create(&sac, pool, 1, classes) == MPS_RES_OK);
  r0 = reports;
  mps_pool_destroy(pool);
  CHECK(reported(r0, "cache"));
  CHECK(gcp_destroy_refused());
  CHECK(gcp_pool_consistent(pool));
  mps_sac_destroy(sac);
  CHECK(!gcp_destroy_refused());

  /* Bad creation keys: the result is PARAM and the message names the key. */
  {
    mps_arena_t bad = NULL;
    r0 = reports;
    MPS_ARGS_BEGIN(a)
    {
      MPS_ARGS_ADD(a, MPS_KEY_ARENA_GRAIN_SIZE, 3 * 4096);
      res = mps_arena_create_k(&bad, mps_arena_class_vm(), a);
    }
    MPS_ARGS_END(a);
    CHECK(res == MPS_RES_PARAM && bad == NULL);
    CHECK(reported(r0, "GRAIN_SIZE"));
    r0 = reports;
    MPS_ARGS_BEGIN(a)
    {
      MPS_ARGS_ADD(a, MPS_KEY_SPARE, 2.0);
      res = mps_arena_create_k(&bad, mps_arena_class_vm(), a);
    }
    MPS_ARGS_END(a);
    CHECK(res == MPS_RES_PARAM && bad == NULL);
    CHECK(reported(r0, "SPARE"));
    r0 = reports;
    MPS_ARGS_BEGIN(a)
    {
      MPS_ARGS_ADD(a, MPS_KEY_PAUSE_TIME, -0.5);
      res = mps_arena_create_k(&bad, mps_arena_class_vm(), a);
    }
    MPS_ARGS_END(a);
    CHECK(res == MPS_RES_PARAM && bad == NULL);
    CHECK(reported(r0, "PAUSE_TIME"));
    r0 = reports;
    CHECK(mps_arena_create_k(&bad, (mps_arena_class_t)&local_dummy_class, mps_args_none) !=
          MPS_RES_OK);
    CHECK(reported(r0, "arena class"));
    CHECK(bad == NULL);
  }
  mps_lib_assert_fail_install(old);

  /* Collection control: callable in every order.  mps_collections counts
   * every collection, also those of an arena with nothing to collect. */
  CHECK(mps_collections(arena) == 0);
  mps_arena_clamp(arena);
  CHECK(mps_collections(arena) == 0);
  mps_arena_park(arena);
  mps_arena_release(arena); /* nothing due: no collection */
  CHECK(mps_collections(arena) == 0);
  CHECK(mps_arena_collect(arena) == MPS_RES_OK); /* leaves it parked */
  CHECK(mps_collections(arena) == 1);
  CHECK(mps_arena_step(arena, 0.0, 0.0) == 0); /* nothing pending */
  CHECK(mps_arena_step(arena, 0.01, 10.0) == 0);
  mps_arena_release(arena);
  CHECK(mps_arena_step(arena, 0.0, 1.0) == 0);
  CHECK(mps_collections(arena) == 1);
  res = mps_arena_start_collect(arena);
  CHECK(mps_collections(arena) == (res == MPS_RES_OK ? 2u : 1u));
  mps_arena_park(arena);
  mps_arena_clamp(arena);
  mps_arena_release(arena);
  CHECK(mps_collections(arena) == (res == MPS_RES_OK ? 2u : 1u));
  CHECK(!mps_arena_busy(arena));
  CHECK(mps_arena_extend(arena, p, 4096) != MPS_RES_OK); /* client arenas only */
  /* Allocation still works after all that, and so does the pool. */
  {
    void *q;
    REQUIRE(mps_alloc(&q, pool, 4096) == MPS_RES_OK);
    memset(q, 0x33, 4096);
    mps_free(pool, q, 4096);
  }
  CHECK(((unsigned char *)p)[255] == 0x22);
  mps_free(pool, p, 256);
  CHECK(mps_pool_free_size(pool) == mps_pool_total_size(pool));
  mps_arena_park(arena);
  mps_pool_destroy(pool);
  CHECK(gcp_arena_pools_committed(arena) == 0);
  CHECK(gcp_arena_consistent(arena));
  mps_arena_destroy(arena);
}

int main(int argc, char **argv)
{
  mps_arena_t arena;

  testSeed(argc, argv);
  printf("variety %s\n", gcp_variety());
  REQUIRE(mps_arena_create_k(&arena, mps_arena_class_vm(), mps_args_none) == MPS_RES_OK);
  pageSize = gcp_arena_grain_size(arena);
  REQUIRE(pageSize >= 4096 && (pageSize & (pageSize - 1)) == 0);
  mps_arena_destroy(arena);

  keys();
  printf("keys done\n");
  legacy();
  accounting();
  printf("accounting done\n");
  growth();
  growthMany();
  printf("growth done\n");
  addresses();
  misuseAndControl();
  CHECK(callbackErrors == 0);
  return testFinish();
}
