/* test_wtable.c -- the weak table of the tests and benchmarks
 * (tests/gcp_testing/weaktable.c, included here) compiled against mps.h
 * and the static library, as bench/gc_bench.c compiles it (the Python
 * tests compile it through gc_plugin.h: tests/unit/test_weak_table.py).
 * Keys and values are leaf objects in AMC, which moves them in every full
 * collection (mps_arena_collect, the arena parked); some keys (or values)
 * are held by an exact root table.  Checks, for each kind of table:
 *  - weak keys: a full collection deletes exactly the entries of the keys
 *    nothing else holds, the others keep their values and are found
 *    after the keys moved (a stale location dependency: a rehash);
 *  - weak values: the same for the values;
 *  - strong: the collector deletes nothing; gcp_wtable_prune deletes what
 *    the predicate rejects;
 *  - the counts (gcp_wtable_stats: splatted, removed, rehashes, cleanups,
 *    grown, references and slots scanned), gcp_wtable_refresh, growth past
 *    the capacity, in-place clean-up of deleted slots, and every slot
 *    (gcp_wtable_slot) empty, deleted or an entry in both arrays alike.
 * Usage: test_wtable [seed].  Design: docs/design/ms.md (weak tables).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpscamc.h"
#include "testlib.h"

#include "../gcp_testing/weaktable.c"

/* Leaf objects: [0] size << 2 | tag, [1] id << 1 | 1 (or the new address) */
enum { T_OBJ = 1, T_FWD = 2, T_PAD = 3 };
#define N 2000

static mps_word_t *tagOf(mps_addr_t p) { return (mps_word_t *)p; }
static mps_addr_t lfSkip(mps_addr_t p) { return (char *)p + (*tagOf(p) >> 2); }
static mps_res_t lfScan(mps_ss_t ss, mps_addr_t base, mps_addr_t limit)
{
  (void)ss, (void)base, (void)limit; /* no references */
  return MPS_RES_OK;
}
static mps_addr_t lfIsfwd(mps_addr_t p)
{
  return (*tagOf(p) & 3) == T_FWD ? (mps_addr_t)tagOf(p)[1] : NULL;
}
static void lfFwd(mps_addr_t old, mps_addr_t new)
{
  mps_word_t *w = old;
  w[0] = (w[0] & ~(mps_word_t)3) | T_FWD;
  w[1] = (mps_word_t) new;
}
static void lfPad(mps_addr_t p, size_t size) { *tagOf(p) = (mps_word_t)size << 2 | T_PAD; }

static mps_arena_t arena;
static mps_ap_t ap;
static mps_addr_t held[2 * N]; /* exact root */
static mps_addr_t before[2 * N];
static mps_word_t nextId = 1;
static size_t nMoved; /* scenarios whose survivors moved (so that lookups rehashed) */

static mps_addr_t newLeaf(void)
{
  mps_addr_t p;
  do {
    REQUIRE(mps_reserve(&p, ap, 16) == MPS_RES_OK);
    tagOf(p)[0] = 16 << 2 | T_OBJ;
    tagOf(p)[1] = nextId << 1 | 1;
  } while (!mps_commit(ap, p, 16));
  ++nextId;
  return p;
}
static mps_word_t idOf(mps_addr_t p) { return tagOf(p)[1] >> 1; }

/* Every slot: both words empty, both deleted, or both references; the
 * references count the table's entries. */
static void checkSlots(gcp_wtable_t t)
{
  size_t i, live = 0, bad = 0;
  for (i = 0; i < gcp_wtable_length(t); ++i) {
    mps_word_t k, v;
    gcp_wtable_slot(t, i, &k, &v);
    if (k == 0 || k == GCP_WTABLE_DELETED)
      bad += v != k;
    else if (wtIsRef(k) && wtIsRef(v) && idOf((mps_addr_t)k) + 1 == idOf((mps_addr_t)v))
      ++live;
    else
      ++bad;
  }
  CHECK(bad == 0);
  CHECK(live == gcp_wtable_count(t));
}

static int keepHeld(mps_addr_t key, mps_addr_t value, void *closure)
{
  size_t i;
  (void)value, (void)closure;
  for (i = 0; i < N; ++i)
    if (held[i] == key) return 1;
  return 0;
}

/* N entries (key id k, value id k + 1); entry i's key (weak keys, strong)
 * or value (weak values) held in held[i] when i is even. */
static void scenario(mps_pool_t pool, int kind)
{
  gcp_wtable_t t;
  gcp_wtable_stats_s st;
  size_t i, heldN = 0, moved = 0;
  REQUIRE(gcp_wtable_create(&t, arena, pool, 0, kind, 64) == MPS_RES_OK);
  for (i = 0; i < N; ++i) {
    mps_addr_t k = newLeaf(), v = newLeaf();
    CHECK(gcp_wtable_put(t, k, v) == MPS_RES_OK);
    held[i] = i % 2 == 0 ? (kind == GCP_WTABLE_WEAK_VALUES ? v : k) : NULL;
    held[N + i] = kind == GCP_WTABLE_WEAK_VALUES ? k : NULL; /* the keys stay */
    heldN += i % 2 == 0;
  }
  CHECK(gcp_wtable_count(t) == N);
  CHECK(gcp_wtable_put(t, NULL, held[0]) == MPS_RES_PARAM);
  gcp_wtable_stats(t, &st);
  CHECK(st.grown > 0 && st.splatted == 0 && st.key_refs == 0);
  checkSlots(t);
  memcpy(before, held, sizeof held);
  CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  for (i = 0; i < 2 * N; ++i) moved += held[i] != before[i];
  gcp_wtable_stats(t, &st);
  CHECK(st.slots_scanned >= 2 * gcp_wtable_length(t));
  CHECK(st.key_refs == N && st.value_refs == N);
  CHECK(st.splatted == (kind == GCP_WTABLE_STRONG ? 0 : N - heldN));
  CHECK(gcp_wtable_count(t) == (kind == GCP_WTABLE_STRONG ? N : heldN));
  checkSlots(t);
  /* the survivors that moved are found after one rehash */
  for (i = 0; i < N; i += 2) {
    mps_addr_t k = kind == GCP_WTABLE_WEAK_VALUES ? held[N + i] : held[i];
    mps_addr_t v = gcp_wtable_get(t, k);
    CHECK(v != NULL && idOf(v) == idOf(k) + 1);
  }
  CHECK(gcp_wtable_rehashes(t) == (moved > 0));
  CHECK(gcp_wtable_refresh(t) == 0);
  checkSlots(t);
  if (kind == GCP_WTABLE_STRONG) {
    CHECK(gcp_wtable_prune(t, keepHeld, NULL) == N - heldN);
    gcp_wtable_stats(t, &st);
    CHECK(st.removed == N - heldN && gcp_wtable_count(t) == heldN);
    checkSlots(t);
  }
  CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  i = (size_t)gcp_wtable_refresh(t);
  CHECK(gcp_wtable_rehashes(t) == (moved > 0) + i && gcp_wtable_refresh(t) == 0);
  /* removals, then insertions: the deleted slots are cleaned up in place */
  for (i = 0; i < N; i += 4) {
    mps_addr_t k = kind == GCP_WTABLE_WEAK_VALUES ? held[N + i] : held[i];
    CHECK(gcp_wtable_remove(t, k) == 1);
    CHECK(gcp_wtable_remove(t, k) == 0 && gcp_wtable_get(t, k) == NULL);
  }
  for (i = 0; i < 4 * N; ++i) {
    mps_addr_t k = newLeaf(), v = newLeaf(), e;
    CHECK(gcp_wtable_put(t, k, v) == MPS_RES_OK);
    e = k; /* only the latest entry is held: remove it again */
    CHECK(gcp_wtable_remove(t, e) == 1);
  }
  gcp_wtable_stats(t, &st);
  CHECK(st.cleanups > 0 && st.removed >= 4 * N);
  CHECK(gcp_wtable_count(t) == heldN - (heldN + 1) / 2);
  checkSlots(t);
  nMoved += moved > 0;
  printf("kind %d: %zu moved, %zu slots, %zu splatted, %zu removed, %zu rehashes, %zu cleanups, "
         "%zu grown\n",
         kind, moved, gcp_wtable_length(t), st.splatted, st.removed, st.rehashes, st.cleanups,
         st.grown);
  gcp_wtable_destroy(t);
  memset(held, 0, sizeof held);
}

int main(int argc, char **argv)
{
  mps_fmt_t fmt, wfmt;
  mps_pool_t amc, awl;
  mps_root_t root;
  mps_thr_t thr;
  testSeed(argc, argv);
  REQUIRE(mps_arena_create_k(&arena, mps_arena_class_vm(), mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_thread_reg(&thr, arena) == MPS_RES_OK);
  mps_arena_park(arena);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FMT_ALIGN, sizeof(mps_word_t));
    MPS_ARGS_ADD(args, MPS_KEY_FMT_SCAN, lfScan);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_SKIP, lfSkip);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_FWD, lfFwd);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_ISFWD, lfIsfwd);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_PAD, lfPad);
    REQUIRE(mps_fmt_create_k(&fmt, arena, args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    REQUIRE(mps_pool_create_k(&amc, arena, mps_class_amc(), args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  REQUIRE(mps_ap_create_k(&ap, amc, mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_root_create_table(&root, arena, mps_rank_exact(), 0, held, 2 * N) == MPS_RES_OK);
  REQUIRE(gcp_wtable_format_create(&wfmt, arena, 0) == MPS_RES_OK);
  REQUIRE(gcp_wtable_pool_create(&awl, arena, wfmt, NULL, 0) == MPS_RES_OK);
  scenario(awl, GCP_WTABLE_WEAK_KEYS);
  scenario(awl, GCP_WTABLE_WEAK_VALUES);
  scenario(awl, GCP_WTABLE_STRONG);
  CHECK(nMoved > 0);
  mps_pool_destroy(awl);
  mps_fmt_destroy(wfmt);
  mps_root_destroy(root);
  mps_ap_destroy(ap);
  mps_pool_destroy(amc);
  mps_fmt_destroy(fmt);
  mps_thread_dereg(thr);
  mps_arena_destroy(arena);
  return testFinish();
}
