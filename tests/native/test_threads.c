/* test_threads.c -- several threads sharing manual pools of one arena.
 * Phase 1, with two and then four threads: one MVFF and one MVT pool are
 * shared; each thread has its own allocation point on each, its own SAC
 * over the MVFF pool, and also calls mps_alloc/mps_free on the MVFF pool
 * and on a shared MFS pool.  Every block is tagged with its thread and a
 * serial number and its contents are checked before it is freed; blocks are
 * checked to lie in the right pool with mps_addr_pool.  Meanwhile the main
 * thread keeps calling gcp_arena_consistent (which takes the arena lock),
 * mps_arena_committed and the pool size functions.  At the end each thread
 * frees everything and destroys its APs and SAC, and every pool's free
 * size equals its total size.
 * Phase 2: four threads hammer one MFS pool with mps_alloc/mps_free.
 * Usage: test_threads [seed].  Design: docs/design/interface.md.
 * Build: cc -std=c11 -O1 -g -I native/include tests/native/test_threads.c
 *        native/build/<variety>/libgcp.a -lpthread -lm
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpscmfs.h"
#include "mpscmvff.h"
#include "mpscmvt.h"
#include "mpslib.h"
#include "gcp_ext.h"

static atomic_ulong checks, failures;
#define CHECK(cond)                                                            \
  do {                                                                         \
    atomic_fetch_add(&checks, 1);                                              \
    if (!(cond)) {                                                             \
      atomic_fetch_add(&failures, 1);                                          \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)
#define REQUIRE(cond)                                                                           \
  do {                                                                                          \
    int ok_ = (cond) ? 1 : 0;                                                                   \
    CHECK(ok_);                                                                                 \
    if (!ok_) {                                                                                 \
      fprintf(stderr, "%lu passed, %lu failed (stopped)\n", (unsigned long)(checks - failures), \
              (unsigned long)failures);                                                         \
      exit(1);                                                                                  \
    }                                                                                           \
  } while (0)

typedef struct {
  unsigned long long s;
} Rnd;
static unsigned long rnd(Rnd *r)
{
  r->s ^= r->s << 13;
  r->s ^= r->s >> 7;
  r->s ^= r->s << 17;
  return (unsigned long)r->s;
}

#define MFS_UNIT 48

/* ---- tagged blocks ------------------------------------------------------------ */

enum { KIND_MVFF_AP, KIND_MVT_AP, KIND_SAC, KIND_MVFF_ALLOC, KIND_MFS, KINDS };

typedef struct {
  unsigned char *p;
  size_t size;
  uint64_t tag; /* thread id << 40 | serial */
  int kind;
} Block;

static unsigned char pat(uint64_t tag, size_t i)
{
  return (unsigned char)((tag * 0x9E3779B97F4A7C15ull) >> 56) ^ (unsigned char)(i * 7u);
}
static void fillBlock(const Block *b)
{
  size_t i;
  memcpy(b->p, &b->tag, sizeof b->tag); /* every block is at least 8 bytes */
  for (i = sizeof b->tag; i < b->size; ++i) b->p[i] = pat(b->tag, i);
}
static int intact(const Block *b)
{
  uint64_t tag;
  size_t i;
  memcpy(&tag, b->p, sizeof tag);
  if (tag != b->tag) return 0;
  for (i = sizeof tag; i < b->size; ++i)
    if (b->p[i] != pat(b->tag, i)) return 0;
  return 1;
}

/* ---- shared state --------------------------------------------------------------- */

static mps_arena_t arena;
static mps_pool_t mvff, mvt, mfs;
static atomic_int running;

static const mps_sac_class_s sacClasses[4] = {
  { 16, 40, 4 }, { 64, 30, 3 }, { 256, 20, 2 }, { 1024, 8, 1 }
};

typedef struct {
  int id;
  long ops;
  int mfsOnly;
  Rnd rnd;
  unsigned long counts[KINDS];
  unsigned long failuresSeen;
} Worker;

#define NSLOTS 600

static mps_res_t apAlloc(Block *b, mps_ap_t ap, size_t size)
{
  mps_addr_t p;
  do {
    mps_res_t res = mps_reserve(&p, ap, size);
    if (res != MPS_RES_OK) return res;
    b->p = p;
    b->size = size;
    fillBlock(b);
  } while (!mps_commit(ap, p, size));
  return MPS_RES_OK;
}

static void *work(void *arg)
{
  Worker *w = arg;
  static _Thread_local Block blocks[NSLOTS];
  mps_ap_t apMVFF = NULL, apMVT = NULL;
  mps_sac_t sac = NULL;
  uint64_t serial = 0;
  long op;
  size_t i;
  int badContent = 0, badPool = 0;

  memset(blocks, 0, sizeof blocks);
  if (!w->mfsOnly) {
    REQUIRE(mps_ap_create_k(&apMVFF, mvff, mps_args_none) == MPS_RES_OK);
    REQUIRE(mps_ap_create_k(&apMVT, mvt, mps_args_none) == MPS_RES_OK);
    REQUIRE(mps_sac_create(&sac, mvff, 4, (mps_sac_class_s *)sacClasses) == MPS_RES_OK);
  }
  for (op = 0; op < w->ops; ++op) {
    Block *b = &blocks[rnd(&w->rnd) % NSLOTS];
    if (b->p == NULL) {
      int kind = w->mfsOnly ? KIND_MFS : (int)(rnd(&w->rnd) % KINDS);
      size_t size;
      mps_res_t res = MPS_RES_OK;
      void *p = NULL;
      b->tag = ((uint64_t)w->id << 40) | ++serial;
      b->kind = kind;
      switch (kind) {
      case KIND_MVFF_AP: res = apAlloc(b, apMVFF, 8 * (1 + rnd(&w->rnd) % 64)); break;
      case KIND_MVT_AP: res = apAlloc(b, apMVT, 8 * (1 + rnd(&w->rnd) % 128)); break;
      case KIND_SAC:
        size = rnd(&w->rnd) % 16 == 0 ? 1025 + rnd(&w->rnd) % 3000 : 8 + rnd(&w->rnd) % 1017;
        if (rnd(&w->rnd) % 2) {
          MPS_SAC_ALLOC_FAST(res, p, sac, size, 0);
        } else {
          res = mps_sac_alloc(&p, sac, size, 0);
        }
        b->p = p;
        b->size = size;
        break;
      case KIND_MVFF_ALLOC:
        size = 8 + rnd(&w->rnd) % 2000;
        res = mps_alloc(&p, mvff, size);
        b->p = p;
        b->size = size;
        break;
      default:
        res = mps_alloc(&p, mfs, MFS_UNIT);
        b->p = p;
        b->size = MFS_UNIT;
        break;
      }
      REQUIRE(res == MPS_RES_OK);
      if (kind != KIND_MVFF_AP && kind != KIND_MVT_AP) fillBlock(b);
      ++w->counts[kind];
      if (op % 16 == 0) {
        mps_pool_t owner = NULL;
        mps_pool_t want = kind == KIND_MVT_AP ? mvt : kind == KIND_MFS ? mfs : mvff;
        if (!badPool && !(mps_addr_pool(&owner, arena, b->p + b->size - 1) && owner == want)) {
          CHECK(!"block not in its pool");
          badPool = 1;
        }
      }
    } else {
      if (!intact(b) && !badContent) {
        fprintf(stderr, "  thread %d: block %p (kind %d, %zu bytes, tag %llx) damaged\n", w->id,
                (void *)b->p, b->kind, b->size, (unsigned long long)b->tag);
        CHECK(!"block contents intact");
        badContent = 1;
      }
      switch (b->kind) {
      case KIND_MVFF_AP:
      case KIND_MVFF_ALLOC: mps_free(mvff, b->p, b->size); break;
      case KIND_MVT_AP: mps_free(mvt, b->p, b->size); break;
      case KIND_SAC:
        if (rnd(&w->rnd) % 2) {
          MPS_SAC_FREE_FAST(sac, b->p, b->size);
        } else {
          mps_sac_free(sac, b->p, b->size);
        }
        break;
      default: mps_free(mfs, b->p, b->size); break;
      }
      b->p = NULL;
    }
    if (sac != NULL && rnd(&w->rnd) % 20000 == 0) mps_sac_flush(sac);
  }
  /* Free everything and tear down this thread's APs and cache. */
  for (i = 0; i < NSLOTS; ++i) {
    Block *b = &blocks[i];
    if (b->p == NULL) continue;
    if (!intact(b) && !badContent) {
      CHECK(!"block contents intact");
      badContent = 1;
    }
    switch (b->kind) {
    case KIND_MVFF_AP:
    case KIND_MVFF_ALLOC: mps_free(mvff, b->p, b->size); break;
    case KIND_MVT_AP: mps_free(mvt, b->p, b->size); break;
    case KIND_SAC: mps_sac_free(sac, b->p, b->size); break;
    default: mps_free(mfs, b->p, b->size); break;
    }
    b->p = NULL;
  }
  if (sac != NULL) {
    mps_sac_flush(sac);
    CHECK(gcp_sac_cached_size(sac) == 0);
    mps_sac_destroy(sac);
  }
  if (apMVFF != NULL) mps_ap_destroy(apMVFF);
  if (apMVT != NULL) mps_ap_destroy(apMVT);
  atomic_fetch_sub(&running, 1);
  return NULL;
}

static void sleepMs(long ms)
{
  struct timespec ts;
  ts.tv_sec = 0;
  ts.tv_nsec = ms * 1000000L;
  nanosleep(&ts, NULL);
}

/* Free size <= total size, while other threads allocate and free: the two
 * sizes are read by separate calls, so the pool may grow or shrink in
 * between; the check is made on a reading whose total did not change
 * across the free size's (retried until one is found). */
static int freeWithinTotal(size_t (*totalSize)(mps_pool_t), size_t (*freeSize)(mps_pool_t),
                           mps_pool_t pool)
{
  for (;;) {
    size_t t = totalSize(pool), f = freeSize(pool);
    if (totalSize(pool) == t) return f <= t;
  }
}

/* Run n workers; the main thread watches until they finish. */
static void phase(int n, long ops, int mfsOnly, unsigned long seed)
{
  pthread_t threads[8];
  Worker workers[8];
  unsigned long watches = 0;
  size_t maxCommitted = 0;
  int i;
  clock_t start = clock();

  atomic_store(&running, n);
  for (i = 0; i < n; ++i) {
    memset(&workers[i], 0, sizeof workers[i]);
    workers[i].id = i + 1;
    workers[i].ops = ops;
    workers[i].mfsOnly = mfsOnly;
    workers[i].rnd.s =
        (seed + 1) * 2654435761ull + (unsigned long long)(i + 1) * 0x9E3779B97F4A7C15ull;
    REQUIRE(pthread_create(&threads[i], NULL, work, &workers[i]) == 0);
  }
  while (atomic_load(&running) > 0) {
    size_t committed;
    CHECK(gcp_arena_consistent(arena));
    committed = mps_arena_committed(arena);
    CHECK(committed >= mps_arena_spare_committed(arena));
    if (committed > maxCommitted) maxCommitted = committed;
    CHECK(freeWithinTotal(mps_pool_total_size, mps_pool_free_size, mvff));
    CHECK(freeWithinTotal(mps_mvt_size, mps_mvt_free_size, mvt));
    CHECK(freeWithinTotal(mps_pool_total_size, mps_pool_free_size, mfs));
    ++watches;
    sleepMs(2);
  }
  for (i = 0; i < n; ++i) REQUIRE(pthread_join(threads[i], NULL) == 0);
  CHECK(gcp_arena_consistent(arena));
  CHECK(gcp_pool_consistent(mvff) && gcp_pool_consistent(mvt) && gcp_pool_consistent(mfs));
  CHECK(mps_pool_free_size(mvff) == mps_pool_total_size(mvff));
  CHECK(mps_pool_free_size(mvt) == mps_pool_total_size(mvt));
  CHECK(mps_pool_free_size(mfs) == mps_pool_total_size(mfs));
  printf("  %d threads%s, %ld ops each: %lu watches, max committed %zu, %.2f s cpu\n", n,
         mfsOnly ? " (MFS only)" : "", ops, watches, maxCommitted,
         (double)(clock() - start) / CLOCKS_PER_SEC);
  for (i = 0; i < n; ++i)
    printf("    thread %d: MVFF AP %lu, MVT AP %lu, SAC %lu, MVFF alloc %lu, MFS %lu\n",
           workers[i].id, workers[i].counts[0], workers[i].counts[1], workers[i].counts[2],
           workers[i].counts[3], workers[i].counts[4]);
}

int main(int argc, char **argv)
{
  unsigned long seed = argc > 1 ? strtoul(argv[1], NULL, 0) : (unsigned long)time(NULL);
  mps_ap_t firstAP;
  int cool;

  printf("seed %lu\n", seed);
  printf("variety %s\n", gcp_variety());
  cool = strcmp(gcp_variety(), "cool") == 0;
  REQUIRE(mps_arena_create_k(&arena, mps_arena_class_vm(), mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_pool_create_k(&mvff, arena, mps_class_mvff(), mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_pool_create_k(&mvt, arena, mps_class_mvt(), mps_args_none) == MPS_RES_OK);
  MPS_ARGS_BEGIN(a)
  {
    MPS_ARGS_ADD(a, MPS_KEY_MFS_UNIT_SIZE, MFS_UNIT);
    MPS_ARGS_ADD(a, MPS_KEY_EXTEND_BY, 8192);
    REQUIRE(mps_pool_create_k(&mfs, arena, mps_class_mfs(), a) == MPS_RES_OK);
  }
  MPS_ARGS_END(a);
  /* docs/design/mvff.md: the first AP on a pool exists before any mps_alloc on it. */
  REQUIRE(mps_ap_create_k(&firstAP, mvff, mps_args_none) == MPS_RES_OK);

  phase(2, cool ? 300000 : 600000, 0, seed);
  phase(4, cool ? 200000 : 400000, 0, seed + 1);
  phase(4, cool ? 300000 : 600000, 1, seed + 2);

  mps_ap_destroy(firstAP);
  mps_pool_destroy(mfs);
  mps_pool_destroy(mvt);
  mps_pool_destroy(mvff);
  CHECK(gcp_arena_pools_committed(arena) == 0);
  CHECK(gcp_arena_consistent(arena));
  mps_arena_destroy(arena);
  printf("%lu passed, %lu failed\n", (unsigned long)(checks - failures), (unsigned long)failures);
  return failures != 0;
}
