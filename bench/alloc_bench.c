/* alloc_bench.c -- micro-benchmarks of gc_plugin's manual allocation paths
 * (MVFF, MFS, SACs, allocation points) against glibc malloc/free.
 *
 * Uses only the public headers.  One measurement per process, so every
 * allocator starts from a fresh heap; bench/run.py runs the variants in
 * turn, repeats them and takes medians.
 *
 *   alloc_bench churn <impl> [ops] [live] [cached]  impl: none sac mvff mfs malloc
 *                                             malloc64 sac64
 *   alloc_bench ap    <impl> [allocs] [round] impl: apcommit bump malloc
 *   alloc_bench frag  <impl> [blocks]         impl: mvff malloc
 *
 * Prints one line of "key=value" pairs (times in ns, sizes in bytes).
 *
 * churn: `live` slots (default 10 000) each hold a block; every operation
 *   frees the block of a random slot and allocates a new block into it
 *   (sizes uniform 16..256 B, or 64 B for mfs/malloc64) and writes one word
 *   into it (sac64: the SAC with every request 64 B, which isolates the
 *   cost of the macros' class search on random sizes).  The random slot/size sequence is precomputed from a fixed seed
 *   (identical for every impl) so the RNG is not timed; "none" runs the same
 *   loop without allocating (loop and memory-touch overhead).
 * ap: `allocs` allocations of 16,32,48,64 B (cycling), one word written into
 *   each, in rounds of `round` allocations; between rounds (untimed) the AP
 *   and pool are destroyed and recreated (malloc: every block freed; bump:
 *   the pointer is reset).  The first round is an untimed warm-up.
 * frag: `blocks` (default 10^6) blocks of 16..128 B, free a random 90 %
 *   (random order), then allocate blocks of 16..512 B until the live
 *   requested bytes are back to the phase-1 total; report the memory held
 *   divided by the live requested bytes.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mps.h"
#include "mpsavm.h"
#include "mpscmfs.h"
#include "mpscmvff.h"
#include "gcp_ext.h"

#define ARENA_SIZE ((size_t)1 << 30)

static void die(const char *what, int res)
{
  fprintf(stderr, "alloc_bench: %s failed (res=%d)\n", what, res);
  exit(2);
}

static double now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* splitmix64: deterministic, identical sequence for every impl. */
static uint64_t rng_state;
static uint64_t rnd(void)
{
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
static size_t rnd_range(size_t lo, size_t hi) /* inclusive */
{
  return lo + (size_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static mps_arena_t make_arena(double spare)
{
  mps_arena_t arena;
  mps_res_t res;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_ARENA_SIZE, ARENA_SIZE);
    if (spare >= 0) MPS_ARGS_ADD(args, MPS_KEY_SPARE, spare);
    res = mps_arena_create_k(&arena, mps_arena_class_vm(), args);
  }
  MPS_ARGS_END(args);
  if (res != MPS_RES_OK) die("mps_arena_create_k", res);
  return arena;
}

static mps_pool_t make_mvff(mps_arena_t arena)
{
  mps_pool_t pool;
  mps_res_t res = mps_pool_create_k(&pool, arena, mps_class_mvff(), mps_args_none);
  if (res != MPS_RES_OK) die("mps_pool_create_k(mvff)", res);
  return pool;
}

static mps_pool_t make_mfs(mps_arena_t arena, size_t unit)
{
  mps_pool_t pool;
  mps_res_t res;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_MFS_UNIT_SIZE, unit);
    res = mps_pool_create_k(&pool, arena, mps_class_mfs(), args);
  }
  MPS_ARGS_END(args);
  if (res != MPS_RES_OK) die("mps_pool_create_k(mfs)", res);
  return pool;
}

/* ------------------------------------------------------------------ */
/* 1. Random-replacement churn                                         */

#define SAC_CLASSES 8

static int churn(const char *impl, long ops, long live, size_t cached)
{
  uint16_t *slot = malloc((size_t)ops * sizeof *slot);
  uint8_t *szx = malloc((size_t)ops);
  void **blk = calloc((size_t)live, sizeof *blk);
  uint16_t *bsz = calloc((size_t)live, sizeof *bsz);
  int fixed = !strcmp(impl, "mfs") || !strcmp(impl, "malloc64") || !strcmp(impl, "sac64");
  mps_arena_t arena = NULL;
  mps_pool_t pool = NULL;
  mps_sac_t sac = NULL;
  mps_res_t res;
  double t0, t1;
  long i;

  if (!slot || !szx || !blk || !bsz || live > 65535 || live < 1) die("setup", 0);
  rng_state = 12345;
  for (i = 0; i < ops; ++i) {
    slot[i] = (uint16_t)(rnd() % (uint64_t)live);
    szx[i] = (uint8_t)(rnd() % 241); /* size = 16 + szx: 16..256 */
  }
  int use_sac = !strcmp(impl, "sac") || !strcmp(impl, "sac64");
  if (use_sac || !strcmp(impl, "mvff") || !strcmp(impl, "mfs")) {
    arena = make_arena(-1);
    pool = !strcmp(impl, "mfs") ? make_mfs(arena, 64) : make_mvff(arena);
  }
  if (use_sac) {
    mps_sac_class_s classes[SAC_CLASSES];
    int k;
    for (k = 0; k < SAC_CLASSES; ++k) {
      classes[k].mps_block_size = (size_t)(32 * (k + 1)); /* 32..256 */
      classes[k].mps_cached_count = cached;
      classes[k].mps_frequency = 1;
    }
    res = mps_sac_create(&sac, pool, SAC_CLASSES, classes);
    if (res != MPS_RES_OK) die("mps_sac_create", res);
  }

  /* Initial population (untimed). */
  for (i = 0; i < live; ++i) {
    size_t size = fixed ? 64 : rnd_range(16, 256);
    void *p;
    if (pool) {
      if (sac) {
        MPS_SAC_ALLOC_FAST(res, p, sac, size, 0);
      } else
        res = mps_alloc(&p, pool, size);
      if (res != MPS_RES_OK) die("initial alloc", res);
    } else {
      p = malloc(size);
      if (!p) die("malloc", 0);
    }
    *(size_t *)p = (size_t)i;
    blk[i] = p;
    bsz[i] = (uint16_t)size;
  }

  /* The timed loops: one per impl so that no dispatch is timed. */
#define CHURN_LOOP(SIZE_EXPR, FREE_STMT, ALLOC_STMT) \
  t0 = now_ns();                                     \
  for (i = 0; i < ops; ++i) {                        \
    size_t s_ = slot[i];                             \
    void *p;                                         \
    size_t size = (SIZE_EXPR);                       \
    void *old = blk[s_];                             \
    size_t oldsize = bsz[s_];                        \
    (void)oldsize;                                   \
    (void)old;                                       \
    FREE_STMT;                                       \
    ALLOC_STMT;                                      \
    *(size_t *)p = (size_t)i;                        \
    blk[s_] = p;                                     \
    bsz[s_] = (uint16_t)size;                        \
  }                                                  \
  t1 = now_ns();

  if (!strcmp(impl, "none")) {
    /* malloc'd initial blocks; just touch the slot's block again. */
    CHURN_LOOP(16u + szx[i], (void)0, p = old)
  } else if (!strcmp(impl, "malloc")) {
    CHURN_LOOP(16u + szx[i], free(old), p = malloc(size); if (!p) die("malloc", 0))
  } else if (!strcmp(impl, "malloc64")) {
    CHURN_LOOP(64u, free(old), p = malloc(size); if (!p) die("malloc", 0))
  } else if (!strcmp(impl, "mvff")) {
    CHURN_LOOP(16u + szx[i], mps_free(pool, old, oldsize), res = mps_alloc(&p, pool, size);
               if (res != MPS_RES_OK) die("mps_alloc", res))
  } else if (!strcmp(impl, "mfs")) {
    CHURN_LOOP(64u, mps_free(pool, old, 64), res = mps_alloc(&p, pool, 64);
               if (res != MPS_RES_OK) die("mps_alloc", res))
  } else if (!strcmp(impl, "sac")) {
    CHURN_LOOP(16u + szx[i], MPS_SAC_FREE_FAST(sac, old, oldsize),
               MPS_SAC_ALLOC_FAST(res, p, sac, size, 0);
               if (res != MPS_RES_OK) die("sac alloc", res))
  } else if (!strcmp(impl, "sac64")) {
    CHURN_LOOP(64u, MPS_SAC_FREE_FAST(sac, old, oldsize), MPS_SAC_ALLOC_FAST(res, p, sac, size, 0);
               if (res != MPS_RES_OK) die("sac alloc", res))
  } else {
    fprintf(stderr, "unknown churn impl %s\n", impl);
    return 1;
  }
#undef CHURN_LOOP

  printf("test=churn impl=%s ops=%ld live=%ld ns_per_op=%.3f", impl, ops, live,
         (t1 - t0) / (double)ops);
  if (arena)
    printf(" committed=%zu pools_committed=%zu", mps_arena_committed(arena),
           gcp_arena_pools_committed(arena));
  printf("\n");

  /* Teardown (untimed). */
  for (i = 0; i < live; ++i) {
    if (sac)
      MPS_SAC_FREE_FAST(sac, blk[i], bsz[i]);
    else if (pool)
      mps_free(pool, blk[i], bsz[i]);
    else
      free(blk[i]);
  }
  if (sac) mps_sac_destroy(sac);
  if (pool) mps_pool_destroy(pool);
  if (arena) mps_arena_destroy(arena);
  free(slot);
  free(szx);
  free(blk);
  free(bsz);
  return 0;
}

/* ------------------------------------------------------------------ */
/* 2. Allocation-point reserve/commit                                  */

static int ap_bench(const char *impl, long allocs, long round)
{
  long rounds = (allocs + round - 1) / round, r, j;
  double total = 0, t0;
  unsigned long sink = 0;
  size_t arena_c = 0;

  if (!strcmp(impl, "apcommit")) {
    /* Spare 1.0 keeps the destroyed pool's pages committed, so rounds
     * after the warm-up reuse memory instead of faulting fresh pages
     * (as the bump and malloc loops do). */
    mps_arena_t arena = make_arena(1.0);
    for (r = 0; r <= rounds; ++r) {
      mps_pool_t pool = make_mvff(arena);
      mps_ap_t ap;
      mps_res_t res = mps_ap_create_k(&ap, pool, mps_args_none);
      if (res != MPS_RES_OK) die("mps_ap_create_k", res);
      t0 = now_ns();
      for (j = 0; j < round; ++j) {
        size_t size = 16 + (((size_t)j & 3) << 4);
        mps_addr_t p;
        do {
          if (mps_reserve(&p, ap, size) != MPS_RES_OK) die("mps_reserve", 0);
          *(mps_word_t *)p = (mps_word_t)j;
        } while (!mps_commit(ap, p, size));
      }
      if (r > 0) total += now_ns() - t0;
      arena_c = mps_arena_committed(arena);
      mps_ap_destroy(ap);
      mps_pool_destroy(pool);
    }
    mps_arena_destroy(arena);
  } else if (!strcmp(impl, "bump")) {
    size_t cap = (size_t)round * 64 + 64;
    char *buf = malloc(cap);
    if (!buf) die("malloc", 0);
    memset(buf, 0, cap);
    for (r = 0; r <= rounds; ++r) {
      char *volatile vbuf = buf; /* hide the buffer from the optimiser */
      char *cur = vbuf, *limit = vbuf + cap;
      t0 = now_ns();
      for (j = 0; j < round; ++j) {
        size_t size = 16 + (((size_t)j & 3) << 4);
        char *p = cur, *next = cur + size;
        if (next > limit) die("bump overflow", 0);
        cur = next;
        *(mps_word_t *)p = (mps_word_t)j;
      }
      if (r > 0) total += now_ns() - t0;
      sink += (unsigned long)(cur - buf);
    }
    free(buf);
  } else if (!strcmp(impl, "malloc")) {
    void **ptrs = malloc((size_t)round * sizeof *ptrs);
    if (!ptrs) die("malloc", 0);
    for (r = 0; r <= rounds; ++r) {
      t0 = now_ns();
      for (j = 0; j < round; ++j) {
        size_t size = 16 + (((size_t)j & 3) << 4);
        void *p = malloc(size);
        if (!p) die("malloc", 0);
        *(mps_word_t *)p = (mps_word_t)j;
        ptrs[j] = p;
      }
      if (r > 0) total += now_ns() - t0;
      for (j = 0; j < round; ++j) free(ptrs[j]);
    }
    free(ptrs);
  } else {
    fprintf(stderr, "unknown ap impl %s\n", impl);
    return 1;
  }
  printf("test=ap impl=%s allocs=%ld round=%ld ns_per_alloc=%.3f", impl, rounds * round, round,
         total / (double)(rounds * round));
  if (arena_c) printf(" arena_committed=%zu", arena_c);
  if (sink == 1) printf(" sink");
  printf("\n");
  return 0;
}

/* ------------------------------------------------------------------ */
/* 3. Fragmentation                                                    */

static size_t rss_bytes(void)
{
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    fclose(f);
  }
  return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

static size_t glibc_held(void)
{
  struct mallinfo2 mi = mallinfo2();
  return mi.arena + mi.hblkhd;
}

/* Bookkeeping arrays of the frag test come straight from mmap and are
 * touched before the baseline is taken, so that neither mallinfo2 nor the
 * RSS delta counts them against glibc. */
static void *book_alloc(size_t size)
{
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) die("mmap", 0);
  memset(p, 0, size);
  return p;
}

static int frag(const char *impl, long n)
{
  int mvff = !strcmp(impl, "mvff");
  long cap = n * 2, count = 0, i, k;
  void **blk = book_alloc((size_t)cap * sizeof *blk);
  uint32_t *bsz = book_alloc((size_t)cap * sizeof *bsz);
  long *perm = book_alloc((size_t)n * sizeof *perm);
  size_t live = 0, target, held1 = 0, held = 0, rss0, extra1 = 0, ctl1 = 0, ctl2 = 0;
  mps_arena_t arena = NULL;
  mps_pool_t pool = NULL;
  double t0, t_alloc1, t_free, t_alloc3;

  if (!mvff && strcmp(impl, "malloc")) {
    fprintf(stderr, "unknown frag impl %s\n", impl);
    return 1;
  }
  if (!blk || !bsz || !perm) die("setup", 0);
  for (i = 0; i < n; ++i) perm[i] = i;
  rng_state = 777;
  rss0 = rss_bytes();
  if (mvff) {
    arena = make_arena(-1);
    pool = make_mvff(arena);
  }

#define FRAG_ALLOC(P, SIZE)                           \
  do {                                                \
    if (mvff) {                                       \
      mps_res_t res_ = mps_alloc(&(P), pool, (SIZE)); \
      if (res_ != MPS_RES_OK) die("mps_alloc", res_); \
    } else {                                          \
      (P) = malloc(SIZE);                             \
      if (!(P)) die("malloc", 0);                     \
    }                                                 \
    *(size_t *)(P) = (SIZE);                          \
  } while (0)

  /* Phase 1: n blocks of 16..128 B. */
  t0 = now_ns();
  for (i = 0; i < n; ++i) {
    size_t size = rnd_range(16, 128);
    void *p;
    FRAG_ALLOC(p, size);
    blk[count] = p;
    bsz[count] = (uint32_t)size;
    ++count;
    live += size;
  }
  t_alloc1 = now_ns() - t0;
  target = live;
  if (mvff) {
    ctl1 = gcp_arena_control_committed(arena);
    held1 = gcp_arena_pools_committed(arena) + ctl1;
  } else {
    held1 = glibc_held();
    extra1 = rss_bytes() - rss0;
  }

  /* Phase 2: free a random 90 % in random order (Fisher-Yates prefix). */
  t0 = now_ns();
  for (k = 0; k < n * 9 / 10; ++k) {
    long j = k + (long)(rnd() % (uint64_t)(n - k)), idx;
    long tmp = perm[k];
    perm[k] = perm[j];
    perm[j] = tmp;
    idx = perm[k];
    if (mvff)
      mps_free(pool, blk[idx], bsz[idx]);
    else
      free(blk[idx]);
    live -= bsz[idx];
    blk[idx] = NULL;
  }
  t_free = now_ns() - t0;
  if (mvff) ctl2 = gcp_arena_control_committed(arena);

  /* Phase 3: 16..512 B blocks until live is back to the phase-1 total. */
  t0 = now_ns();
  while (live < target) {
    size_t size = rnd_range(16, 512);
    void *p;
    if (count == cap) die("frag capacity", 0);
    FRAG_ALLOC(p, size);
    blk[count] = p;
    bsz[count] = (uint32_t)size;
    ++count;
    live += size;
  }
  t_alloc3 = now_ns() - t0;
#undef FRAG_ALLOC

  printf("test=frag impl=%s blocks=%ld live=%zu", impl, n, live);
  if (mvff) {
    size_t pc = gcp_arena_pools_committed(arena), cc = gcp_arena_control_committed(arena);
    size_t ac = mps_arena_committed(arena);
    held = pc + cc;
    printf(" pools_committed=%zu control_committed=%zu arena_committed=%zu"
           " spare_committed=%zu pool_total=%zu pool_free=%zu"
           " control_after_phase1=%zu control_after_phase2=%zu"
           " ratio=%.4f ratio_arena_committed=%.4f",
           pc, cc, ac, mps_arena_spare_committed(arena), mps_pool_total_size(pool),
           mps_pool_free_size(pool), ctl1, ctl2, (double)held / (double)live,
           (double)ac / (double)live);
  } else {
    struct mallinfo2 mi = mallinfo2();
    size_t rss = rss_bytes() - rss0;
    held = mi.arena + mi.hblkhd;
    printf(" mallinfo_arena=%zu mallinfo_hblkhd=%zu mallinfo_uordblks=%zu rss_delta=%zu"
           " ratio=%.4f ratio_rss=%.4f phase1_ratio_rss=%.4f",
           (size_t)mi.arena, (size_t)mi.hblkhd, (size_t)mi.uordblks, rss,
           (double)held / (double)live, (double)rss / (double)live,
           (double)extra1 / (double)target);
  }
  printf(" phase1_ratio=%.4f blocks_phase3=%ld ns_alloc1=%.1f ns_free=%.1f ns_alloc3=%.1f\n",
         (double)held1 / (double)target, count - n, t_alloc1 / (double)n,
         t_free / (double)(n * 9 / 10), t_alloc3 / (double)(count - n));

  if (mvff) {
    for (i = 0; i < count; ++i)
      if (blk[i]) mps_free(pool, blk[i], bsz[i]);
    mps_pool_destroy(pool);
    mps_arena_destroy(arena);
  } else {
    for (i = 0; i < count; ++i) free(blk[i]);
  }
  munmap(blk, (size_t)cap * sizeof *blk);
  munmap(bsz, (size_t)cap * sizeof *bsz);
  munmap(perm, (size_t)n * sizeof *perm);
  return 0;
}

int main(int argc, char **argv)
{
  if (argc < 3) {
    fprintf(stderr,
            "usage: %s churn <none|sac|mvff|mfs|malloc|malloc64|sac64> [ops] [live] "
            "[sac_cached_count]\n"
            "       %s ap <apcommit|bump|malloc> [allocs] [round]\n"
            "       %s frag <mvff|malloc> [blocks]\n",
            argv[0], argv[0], argv[0]);
    return 1;
  }
  if (!strcmp(argv[1], "churn"))
    return churn(argv[2], argc > 3 ? atol(argv[3]) : 10000000L, argc > 4 ? atol(argv[4]) : 10000L,
                 argc > 5 ? (size_t)atol(argv[5]) : 64);
  if (!strcmp(argv[1], "ap"))
    return ap_bench(argv[2], argc > 3 ? atol(argv[3]) : 100000000L,
                    argc > 4 ? atol(argv[4]) : 1L << 20);
  if (!strcmp(argv[1], "frag")) return frag(argv[2], argc > 3 ? atol(argv[3]) : 1000000L);
  fprintf(stderr, "unknown test %s\n", argv[1]);
  return 1;
}
