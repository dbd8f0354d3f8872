/* gc_bench.c -- benchmarks of gc_plugin's garbage collector (the AMC,
 * AMS and AWL pool classes) against malloc/free and, for the tree
 * benchmark, the Boehm collector.
 *
 * Uses only the public headers (mps.h, mpsavm.h, mpscamc.h, mpscams.h,
 * mpscawl.h).  One measurement per process; bench/gc_bench.py builds the
 * program, runs the variants in turn, repeats them and takes medians.
 *
 *   gc_bench alloc <amc|amcdef|malloc> [allocs=5e7] [nursery_kb=4096]
 *   gc_bench trees <amc|ams|boehm|malloc> [min=16] [max=20] [stretch=max+1]
 *                  [longlived=max] [array=500000] [nursery_kb=0]
 *   gc_bench pause amc [live_mb=100] [collects=5]
 *   gc_bench weak <weak|strong|pruned> [entries=1e6] [cycles=5] [churn_pct=10]
 *
 * Each prints one line of "key=value" pairs (times in the unit their name
 * says).  A benchmark that finds its surviving objects damaged prints
 * "gc_bench: VERIFY FAILED ..." on stderr and exits with status 3.
 *
 * Build: cc -O2 -I native/include bench/gc_bench.c libgcp.a -lpthread -lm
 * (with -DWITH_BOEHM ... -lgc for the "boehm" variant; -DWITHOUT_MPS
 * leaves the AMC code out, so that a Boehm-only or malloc-only program can
 * be built without the core).
 *
 * The object format (every collected object, AMC pool, no in-band header
 * in the MPS sense): word 0 is a header
 *     bits 0-1 tag (1 object, 2 forwarding object, 3 padding),
 *     bits 2-7 a magic number (checked by the verification),
 *     bits 8-31 the number of reference slots, which follow the header,
 *     bits 32-63 the size of the whole block in bytes;
 * the reference slots are words 1..nrefs; data follows.  A forwarding
 * object keeps its size and holds the new address in word 1 (every object
 * has at least two words); padding is the header alone (any multiple of 8
 * bytes, as small as one word).
 *
 * Registration: the main thread is registered (mps_thread_reg) and its
 * stack and registers are an ambiguous root (mps_root_create_thread) whose
 * cold end is the address of a local of main(): the benchmark code keeps
 * pointers to objects in locals.  Every other reference lives in a global
 * table registered as an exact root (mps_root_create_area with
 * mps_scan_area).
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mps.h"
#include "mpsavm.h"
#include "mpscamc.h"
#include "mpscams.h"
#include "mpscawl.h"

#ifdef WITH_BOEHM
#define GC_THREADS /* declares GC_get_parallel; no thread is created */
#include <gc.h>
#endif

#if UINTPTR_MAX != 0xffffffffffffffffu
#error "gc_bench.c assumes 64-bit words"
#endif

#define NOINLINE   __attribute__((noinline))
#define ARENA_SIZE ((size_t)2 << 30)

typedef mps_word_t word;

static void usage(void);

static void die(const char *what, int res)
{
  fprintf(stderr, "gc_bench: %s failed (res=%d)\n", what, res);
  exit(2);
}

static void verify_failed(const char *fmt, unsigned long long a, unsigned long long b)
{
  fprintf(stderr, "gc_bench: VERIFY FAILED: ");
  fprintf(stderr, fmt, a, b);
  fprintf(stderr, "\n");
  exit(3);
}

static double now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double cpu_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* splitmix64: deterministic, the same sequence in every variant. */
static uint64_t rng_state;
static __attribute__((unused)) uint64_t rnd(void)
{
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static __attribute__((unused)) int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* ------------------------------------------------------------------ */
/* The object format                                                   */

#define TAG_MASK              ((word)3)
#define TAG_OBJ               ((word)1)
#define TAG_FWD               ((word)2)
#define TAG_PAD               ((word)3)
#define HDR_MAGIC             ((word)0x2c) /* bits 2-7 */
#define HDR(tag, size, nrefs) (((word)(size) << 32) | ((word)(nrefs) << 8) | HDR_MAGIC | (tag))
#define HDR_TAG(h)            ((h)&TAG_MASK)
#define HDR_SIZE(h)           ((size_t)((h) >> 32))
#define HDR_NREFS(h)          ((size_t)(((h) >> 8) & 0xffffff))
#define HDR_MAGIC_OK(h)       (((h)&0xfc) == HDR_MAGIC)

/* The 32-byte object of the allocation benchmark. */
typedef struct obj_s {
  word hdr;   /* HDR(TAG_OBJ, 32, 1) */
  void *ref;  /* the shared descriptor object */
  word index; /* allocation number */
  word check; /* index * CHECK_MUL */
} obj_s;
#define OBJ_HDR   HDR(TAG_OBJ, sizeof(obj_s), 1)
#define CHECK_MUL 0x9e3779b97f4a7c15ULL

/* A tree node: 32 bytes in every variant. */
typedef struct node_s {
  word hdr; /* HDR(TAG_OBJ, 32, 2) */
  struct node_s *left, *right;
  word height; /* 0 for a leaf */
} node_s;
#define NODE_HDR HDR(TAG_OBJ, sizeof(node_s), 2)

/* The long-lived array of doubles (no references). */
typedef struct darray_s {
  word hdr; /* HDR(TAG_OBJ, 8 + 8 * n, 0) */
  double a[];
} darray_s;

/* A node of the graph of the pause benchmark: 40 bytes. */
typedef struct gnode_s {
  word hdr;                     /* HDR(TAG_OBJ, 40, 3) */
  struct gnode_s *left, *right; /* complete binary tree in index order */
  struct gnode_s *cross;        /* a random node with a smaller index */
  word index;
} gnode_s;
#define GNODE_HDR HDR(TAG_OBJ, sizeof(gnode_s), 3)

#ifndef WITHOUT_MPS

static mps_res_t fmt_scan(mps_ss_t ss, mps_addr_t base, mps_addr_t limit)
{
  MPS_SCAN_BEGIN(ss)
  {
    word *p = base;
    while (p < (word *)limit) {
      word h = p[0];
      if (HDR_TAG(h) == TAG_OBJ) {
        size_t k, n = HDR_NREFS(h);
        for (k = 1; k <= n; ++k) {
          mps_addr_t ref = (mps_addr_t)p[k];
          if (MPS_FIX1(ss, ref)) {
            mps_res_t res = MPS_FIX2(ss, &ref);
            if (res != MPS_RES_OK) return res;
            p[k] = (word)ref;
          }
        }
      }
      p = (word *)((char *)p + HDR_SIZE(h));
    }
  }
  MPS_SCAN_END(ss);
  return MPS_RES_OK;
}

static mps_addr_t fmt_skip(mps_addr_t addr) { return (char *)addr + HDR_SIZE(*(word *)addr); }

static void fmt_fwd(mps_addr_t old, mps_addr_t new_addr)
{
  word *p = old;
  p[0] = HDR(TAG_FWD, HDR_SIZE(p[0]), 0);
  p[1] = (word)new_addr;
}

static mps_addr_t fmt_isfwd(mps_addr_t addr)
{
  word *p = addr;
  return HDR_TAG(p[0]) == TAG_FWD ? (mps_addr_t)p[1] : NULL;
}

static void fmt_pad(mps_addr_t addr, size_t size) { *(word *)addr = HDR(TAG_PAD, size, 0); }

/* ------------------------------------------------------------------ */
/* Arena, format, chain, pool, allocation point, thread and its root   */

static void *stack_cold; /* set by main() */

/* Counting collections.  mps_collections() counts only the collections
 * that moved something, so the benchmarks count GC messages
 * (mps_message_type_gc, enabled in gc_open) instead: the slow path of
 * MPS_RESERVE_BLOCK, where the collector's policy runs, goes through
 * counting_fill below (the macro names mps_ap_fill; this definition makes
 * its expansion call the wrapper), which takes the messages after every
 * buffer fill.  The collector keeps one GC message pending at a time, so
 * two collections in one fill would count as one. */
static mps_arena_t msg_arena;
static long gc_messages;             /* collections finished */
static double gc_condemned, gc_live; /* bytes, summed over them */
static double gc_last_live;          /* bytes preserved by the last one */
static long fills;                   /* calls of the reserve slow path */

static void drain_messages(void)
{
  mps_message_t m;
  while (mps_message_get(&m, msg_arena, mps_message_type_gc())) {
    ++gc_messages;
    gc_condemned += (double)mps_message_gc_condemned_size(msg_arena, m);
    gc_last_live = (double)mps_message_gc_live_size(msg_arena, m);
    gc_live += gc_last_live;
    mps_message_discard(msg_arena, m);
  }
}

static NOINLINE mps_res_t counting_fill(mps_addr_t *p_o, mps_ap_t ap, size_t size)
{
  mps_res_t res = (mps_ap_fill)(p_o, ap, size);
  ++fills;
  drain_messages();
  return res;
}
#define mps_ap_fill(p_o, ap, size) counting_fill(p_o, ap, size)

typedef struct gc_s {
  mps_arena_t arena;
  mps_fmt_t fmt;
  mps_chain_t chain; /* NULL: the arena's default chain */
  mps_pool_t pool;
  mps_ap_t ap;
  mps_thr_t thr;
  mps_root_t stack_root;
  mps_root_t table_root;
} gc_s;

/* The pool of gc_open: AMC (the default), or AMS for "trees ams". */
static mps_pool_class_t (*gc_pool_class)(void) = mps_class_amc;

/* nursery_kb == 0: the pool uses the arena's default chain; otherwise a
 * chain of two generations {nursery_kb, 0.9}, {4 * nursery_kb, 0.5} (for
 * AMC; an AMS pool, which never promotes, gets one generation
 * {nursery_kb, 0.5} and MPS_KEY_GEN 0). */
static void gc_open(gc_s *gc, size_t nursery_kb, void **table, size_t count)
{
  int ams = gc_pool_class == mps_class_ams;
  mps_res_t res;
  memset(gc, 0, sizeof *gc);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_ARENA_SIZE, ARENA_SIZE);
    res = mps_arena_create_k(&gc->arena, mps_arena_class_vm(), args);
  }
  MPS_ARGS_END(args);
  if (res != MPS_RES_OK) die("mps_arena_create_k", res);

  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FMT_ALIGN, (mps_align_t)sizeof(word));
    MPS_ARGS_ADD(args, MPS_KEY_FMT_SCAN, fmt_scan);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_SKIP, fmt_skip);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_FWD, fmt_fwd);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_ISFWD, fmt_isfwd);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_PAD, fmt_pad);
    res = mps_fmt_create_k(&gc->fmt, gc->arena, args);
  }
  MPS_ARGS_END(args);
  if (res != MPS_RES_OK) die("mps_fmt_create_k", res);

  if (nursery_kb > 0) {
    mps_gen_param_s gens[2];
    gens[0].mps_capacity = nursery_kb;
    gens[0].mps_mortality = 0.9;
    gens[1].mps_capacity = 4 * nursery_kb;
    gens[1].mps_mortality = 0.5;
    if (ams) gens[0].mps_mortality = 0.5;
    res = mps_chain_create(&gc->chain, gc->arena, ams ? 1 : 2, gens);
    if (res != MPS_RES_OK) die("mps_chain_create", res);
  }

  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, gc->fmt);
    if (gc->chain) MPS_ARGS_ADD(args, MPS_KEY_CHAIN, gc->chain);
    if (gc->chain && ams) MPS_ARGS_ADD(args, MPS_KEY_GEN, 0);
    res = mps_pool_create_k(&gc->pool, gc->arena, gc_pool_class(), args);
  }
  MPS_ARGS_END(args);
  if (res != MPS_RES_OK) die(ams ? "mps_pool_create_k(ams)" : "mps_pool_create_k(amc)", res);

  msg_arena = gc->arena;
  mps_message_type_enable(gc->arena, mps_message_type_gc());
  gc_messages = fills = 0;
  gc_condemned = gc_live = 0;

  res = mps_ap_create_k(&gc->ap, gc->pool, mps_args_none);
  if (res != MPS_RES_OK) die("mps_ap_create_k", res);

  res = mps_thread_reg(&gc->thr, gc->arena);
  if (res != MPS_RES_OK) die("mps_thread_reg", res);
  res = mps_root_create_thread(&gc->stack_root, gc->arena, gc->thr, stack_cold);
  if (res != MPS_RES_OK) die("mps_root_create_thread", res);

  /* The table must hold only null or valid references from now on. */
  memset(table, 0, count * sizeof *table);
  res = mps_root_create_area(&gc->table_root, gc->arena, mps_rank_exact(), 0, table, table + count,
                             mps_scan_area, NULL);
  if (res != MPS_RES_OK) die("mps_root_create_area", res);

  mps_arena_release(gc->arena); /* unclamped: the chain triggers collections */
}

static void gc_close(gc_s *gc)
{
  mps_arena_park(gc->arena);
  mps_root_destroy(gc->table_root);
  mps_root_destroy(gc->stack_root);
  mps_thread_dereg(gc->thr);
  mps_ap_destroy(gc->ap);
  mps_pool_destroy(gc->pool);
  if (gc->chain) mps_chain_destroy(gc->chain);
  mps_fmt_destroy(gc->fmt);
  mps_arena_destroy(gc->arena);
}

#endif /* WITHOUT_MPS */

/* ------------------------------------------------------------------ */
/* 1. Allocation rate                                                  */

#define RING 1024 /* live window; a power of two */
enum { R_DESC = RING, R_COUNT };
static void *ring[R_COUNT]; /* ring[0..RING-1] and the descriptor */

static void check_obj(const obj_s *o, word i, const void *desc)
{
  if (o == NULL || o->hdr != OBJ_HDR || o->ref != desc || o->index != i ||
      o->check != i * CHECK_MUL)
    verify_failed("object %llu of the ring is damaged (header %#llx)", (unsigned long long)i,
                  o ? (unsigned long long)o->hdr : 0ull);
}

/* The objects allocated last, i = n-RING .. n-1, are in slot i % RING. */
static void check_ring(word n)
{
  const obj_s *d = ring[R_DESC];
  word i;
  if (d == NULL || d->hdr != OBJ_HDR || d->ref != NULL || d->index != ~(word)0)
    verify_failed("the descriptor object is damaged (%#llx, %#llx)",
                  d ? (unsigned long long)d->hdr : 0ull, d ? (unsigned long long)d->index : 0ull);
  for (i = n >= RING ? n - RING : 0; i < n; ++i) check_obj(ring[i & (RING - 1)], i, d);
}

static void alloc_report(const char *impl, word n, double dt, double dcpu, size_t nursery_kb,
                         const char *extra)
{
  printf("bench=alloc impl=%s allocs=%lu nursery_kb=%lu ns_per_obj=%.3f "
         "seconds=%.4f cpu_seconds=%.4f%s verified=1\n",
         impl, (unsigned long)n, (unsigned long)nursery_kb, dt / (double)n, dt / 1e9, dcpu / 1e9,
         extra);
}

static NOINLINE int alloc_malloc(word n)
{
  obj_s *d = malloc(sizeof *d);
  double t0, t1, c0, c1;
  word i;
  if (!d) die("malloc", 0);
  d->hdr = OBJ_HDR;
  d->ref = NULL;
  d->index = ~(word)0;
  d->check = ~(word)0 * CHECK_MUL;
  memset(ring, 0, sizeof ring);
  ring[R_DESC] = d;
  t0 = now_ns();
  c0 = cpu_ns();
  for (i = 0; i < n; ++i) {
    obj_s *o;
    free(ring[i & (RING - 1)]);
    o = malloc(sizeof *o);
    if (!o) die("malloc", 0);
    o->hdr = OBJ_HDR;
    o->ref = ring[R_DESC];
    o->index = i;
    o->check = i * CHECK_MUL;
    ring[i & (RING - 1)] = o;
  }
  t1 = now_ns();
  c1 = cpu_ns();
  check_ring(n);
  for (i = 0; i < RING; ++i) free(ring[i]);
  free(d);
  alloc_report("malloc", n, t1 - t0, c1 - c0, 0, "");
  return 0;
}

#ifndef WITHOUT_MPS
static NOINLINE int alloc_amc(const char *impl, word n, size_t nursery_kb)
{
  gc_s gc;
  mps_ap_t ap;
  mps_word_t moved0;
  long checks = 0, retries = 0, seen, coll0, fills0;
  char extra[300];
  double t0, t1, c0, c1;
  word i;
  mps_res_t res;
  mps_addr_t p;

  gc_open(&gc, nursery_kb, ring, R_COUNT);
  ap = gc.ap;

  do { /* the descriptor */
    MPS_RESERVE_BLOCK(res, p, ap, sizeof(obj_s));
    if (res != MPS_RES_OK) die("mps_reserve", res);
    ((obj_s *)p)->hdr = OBJ_HDR;
    ((obj_s *)p)->ref = NULL;
    ((obj_s *)p)->index = ~(word)0;
    ((obj_s *)p)->check = ~(word)0 * CHECK_MUL;
  } while (!mps_commit(ap, p, sizeof(obj_s)));
  ring[R_DESC] = p;

  drain_messages();
  coll0 = seen = gc_messages;
  fills0 = fills;
  moved0 = mps_collections(gc.arena);
  t0 = now_ns();
  c0 = cpu_ns();
  for (i = 0; i < n; ++i) {
    for (;;) {
      MPS_RESERVE_BLOCK(res, p, ap, sizeof(obj_s));
      if (res != MPS_RES_OK) die("mps_reserve", res);
      ((obj_s *)p)->hdr = OBJ_HDR;
      ((obj_s *)p)->ref = ring[R_DESC];
      ((obj_s *)p)->index = i;
      ((obj_s *)p)->check = i * CHECK_MUL;
      if (mps_commit(ap, p, sizeof(obj_s))) break;
      ++retries;
    }
    ring[i & (RING - 1)] = p;
    /* Once per turn of the ring: if a collection finished since the last
     * look, check every object of the window (they all survived it). */
    if ((i & (RING - 1)) == RING - 1 && gc_messages != seen) {
      seen = gc_messages;
      check_ring(i + 1);
      ++checks;
    }
  }
  t1 = now_ns();
  c1 = cpu_ns();
  check_ring(n);
  snprintf(extra, sizeof extra,
           " collections=%ld moving_collections=%ld fills=%ld ring_checks=%ld "
           "commit_retries=%ld condemned_mb=%.1f survived_mb=%.3f committed_mb=%.1f",
           gc_messages - coll0, (long)(mps_collections(gc.arena) - moved0), fills - fills0,
           checks + 1, retries, gc_condemned / 1048576.0, gc_live / 1048576.0,
           (double)mps_arena_committed(gc.arena) / 1048576.0);
  alloc_report(impl, n, t1 - t0, c1 - c0, nursery_kb, extra);
  gc_close(&gc);
  return 0;
}
#endif

/* ------------------------------------------------------------------ */
#include "gc_bench_trees.c" /* 2. binary trees (GCBench-like) */
/* ------------------------------------------------------------------ */
/* 3. Pause time of a full collection                                  */

#ifndef WITHOUT_MPS
static void *groot[1]; /* exact root: the graph's node 0 */

/* Node i has children 2i+1 and 2i+2 (when < n) and a cross reference to
 * a random node j < i (node 0: none). */
static long check_graph(const gnode_s *g, word i, word n)
{
  long count = 1;
  if (g == NULL || g->hdr != GNODE_HDR || g->index != i)
    verify_failed("graph node %llu damaged (header %#llx)", (unsigned long long)i,
                  g ? (unsigned long long)g->hdr : 0ull);
  if (i == 0 ? g->cross != NULL
             : (g->cross == NULL || g->cross->hdr != GNODE_HDR || g->cross->index >= i))
    verify_failed("graph node %llu: bad cross reference (to %llu)", (unsigned long long)i,
                  g->cross ? (unsigned long long)g->cross->index : ~0ull);
  if ((g->left != NULL) != (2 * i + 1 < n) || (g->right != NULL) != (2 * i + 2 < n))
    verify_failed("graph node %llu: wrong children (n=%llu)", (unsigned long long)i,
                  (unsigned long long)n);
  if (g->left) count += check_graph(g->left, 2 * i + 1, n);
  if (g->right) count += check_graph(g->right, 2 * i + 2, n);
  return count;
}

static NOINLINE int pause_amc(double live_mb, int collects)
{
  gc_s gc;
  word n = (word)(live_mb * 1048576.0 / sizeof(gnode_s)), i;
  gnode_s **nodes;
  mps_root_t nodes_root;
  mps_res_t res;
  mps_addr_t p;
  double t0, c0, build_s, first_ms, *ms, *cms;
  mps_word_t moved0;
  size_t committed;
  long retries = 0, count;
  int k;

  if (n < 2 || collects < 1) die("pause: parameters out of range", 0);
  ms = calloc((size_t)collects, sizeof *ms);
  cms = calloc((size_t)collects, sizeof *cms);
  gc_open(&gc, 0, groot, 1);
  moved0 = mps_collections(gc.arena);
  /* The build keeps every node in a temporary exact root: a malloc'd
   * table, null-filled before it is registered. */
  nodes = calloc(n, sizeof *nodes);
  if (!nodes || !ms || !cms) die("calloc", 0);
  res = mps_root_create_area(&nodes_root, gc.arena, mps_rank_exact(), 0, nodes, nodes + n,
                             mps_scan_area, NULL);
  if (res != MPS_RES_OK) die("mps_root_create_area(nodes)", res);
  rng_state = 42;
  t0 = now_ns();
  for (i = 0; i < n; ++i) {
    word j = i ? (word)(rnd() % i) : 0;
    gnode_s *g;
    for (;;) {
      MPS_RESERVE_BLOCK(res, p, gc.ap, sizeof(gnode_s));
      if (res != MPS_RES_OK) die("mps_reserve", res);
      g = p;
      g->hdr = GNODE_HDR;
      g->left = g->right = NULL;
      g->cross = i ? nodes[j] : NULL; /* re-read on a retry: it may have moved */
      g->index = i;
      if (mps_commit(gc.ap, p, sizeof(gnode_s))) break;
      ++retries;
    }
    nodes[i] = g;
    if (i > 0) {
      gnode_s *parent = nodes[(i - 1) / 2];
      if (i & 1)
        parent->left = g;
      else
        parent->right = g;
    }
  }
  groot[0] = nodes[0];
  build_s = (now_ns() - t0) / 1e9;
  mps_root_destroy(nodes_root);
  free(nodes);
  nodes = NULL;

  /* A first full collection (timed and reported separately), then the
   * timed ones; the arena is parked before each. */
  mps_arena_park(gc.arena);
  t0 = now_ns();
  res = mps_arena_collect(gc.arena);
  first_ms = (now_ns() - t0) / 1e6;
  if (res != MPS_RES_OK) die("mps_arena_collect", res);
  for (k = 0; k < collects; ++k) {
    mps_arena_park(gc.arena);
    t0 = now_ns();
    c0 = cpu_ns();
    res = mps_arena_collect(gc.arena);
    ms[k] = (now_ns() - t0) / 1e6;
    cms[k] = (cpu_ns() - c0) / 1e6;
    if (res != MPS_RES_OK) die("mps_arena_collect", res);
    drain_messages();
  }
  committed = mps_arena_committed(gc.arena);
  drain_messages();
  count = check_graph(groot[0], 0, n);
  if ((word)count != n)
    verify_failed("graph has %llu nodes, expected %llu", (unsigned long long)count,
                  (unsigned long long)n);
  printf("bench=pause impl=amc live_mb=%.1f nodes=%lu live_bytes=%lu collects=%d "
         "first_ms=%.3f",
         live_mb, (unsigned long)n, (unsigned long)(n * sizeof(gnode_s)), collects, first_ms);
  for (k = 0; k < collects; ++k) printf(" ms%d=%.3f", k, ms[k]);
  qsort(ms, (size_t)collects, sizeof *ms, cmp_double);
  qsort(cms, (size_t)collects, sizeof *cms, cmp_double);
  printf(" pause_cpu_ms=%.3f",
         collects % 2 ? cms[collects / 2] : (cms[collects / 2 - 1] + cms[collects / 2]) / 2);
  printf(" pause_ms=%.3f pause_min_ms=%.3f pause_max_ms=%.3f build_s=%.4f "
         "collections=%ld moving_collections=%ld commit_retries=%ld committed_mb=%.1f "
         "last_live_mb=%.1f verified=1\n",
         collects % 2 ? ms[collects / 2] : (ms[collects / 2 - 1] + ms[collects / 2]) / 2, ms[0],
         ms[collects - 1], build_s, gc_messages, (long)(mps_collections(gc.arena) - moved0),
         retries, committed / 1048576.0, gc_last_live / 1048576.0);
  free(ms);
  free(cms);
  gc_close(&gc);
  return 0;
}
#endif

/* ------------------------------------------------------------------ */
#include "gc_bench_weak.c" /* 4. a weak-key table of 10^6 entries under churn */

/* ------------------------------------------------------------------ */

static void usage(void)
{
  fprintf(stderr,
          "usage: gc_bench alloc <amc|amcdef|malloc> [allocs=5e7] [nursery_kb=4096]\n"
          "       gc_bench trees <amc|ams|boehm|malloc> [min=16] [max=20] [stretch=max+1]\n"
          "                      [longlived=max] [array=500000] [nursery_kb=0]\n"
          "       gc_bench pause amc [live_mb=100] [collects=5]\n"
          "       gc_bench weak <weak|strong|pruned> [entries=1e6] [cycles=5] [churn_pct=10]\n");
  exit(1);
}

static long arg_long(int argc, char **argv, int i, long dflt)
{
  return argc > i ? (long)strtod(argv[i], NULL) : dflt;
}

static NOINLINE int run(int argc, char **argv)
{
  const char *impl;
  if (argc < 3) usage();
  impl = argv[2];
  if (!strcmp(argv[1], "alloc")) {
    word n = (word)arg_long(argc, argv, 3, 50000000L);
    size_t nursery = (size_t)arg_long(argc, argv, 4, 4096);
    if (!strcmp(impl, "malloc")) return alloc_malloc(n);
#ifndef WITHOUT_MPS
    if (!strcmp(impl, "amc")) return alloc_amc(impl, n, nursery);
    if (!strcmp(impl, "amcdef")) return alloc_amc(impl, n, 0);
#endif
    (void)nursery;
    usage();
  } else if (!strcmp(argv[1], "trees")) {
    trees_params tp;
    tp.min = (int)arg_long(argc, argv, 3, 16);
    tp.max = (int)arg_long(argc, argv, 4, 20);
    tp.stretch = (int)arg_long(argc, argv, 5, tp.max + 1);
    tp.longlived = (int)arg_long(argc, argv, 6, tp.max);
    tp.array = arg_long(argc, argv, 7, 500000);
    return trees(impl, &tp, (size_t)arg_long(argc, argv, 8, 0));
  } else if (!strcmp(argv[1], "pause")) {
#ifndef WITHOUT_MPS
    if (!strcmp(impl, "amc")) {
      double mb = argc > 3 ? strtod(argv[3], NULL) : 100.0;
      return pause_amc(mb, (int)arg_long(argc, argv, 4, 5));
    }
#endif
    usage();
  } else if (!strcmp(argv[1], "weak")) {
#ifndef WITHOUT_MPS
    return weak_bench(impl, arg_long(argc, argv, 3, 1000000L), (int)arg_long(argc, argv, 4, 5),
                      (int)arg_long(argc, argv, 5, 10));
#endif
    usage();
  }
  usage();
  return 1;
}

int main(int argc, char **argv)
{
  /* The cold end of the main thread's stack for the thread root: every
   * frame that holds references (run() and below) lies below it. */
  void *volatile cold = NULL;
#ifndef WITHOUT_MPS
  stack_cold = (void *)&cold;
#endif
  int rc;
  setvbuf(stdout, NULL, _IOLBF, 0);
  rc = run(argc, argv);
  (void)cold;
  return rc;
}
