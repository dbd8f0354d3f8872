/* test_policy.c -- the collection policy and pool accounting, where the
 * MPS's own test programs (amcss, finaltest, walkt0) found gc_plugin
 * apart from the MPS.
 *
 * 1. Ramps (amcss): an allocation point inside a ramp pattern
 *    (mps_alloc_pattern_ramp, or _ramp_collect_all) allocates 192 MB of
 *    mostly short-lived objects.  Collections must go on (an earlier
 *    version counted nothing a ramp allocated and never collected: the
 *    process grew without bound) and committed memory stay small; the
 *    survivors stay intact.  The end of a ramp-collect-all makes the next
 *    collection a full one (its GC-start message says why), the end of a
 *    plain ramp does not; an end without a begin fails; reset ends every
 *    ramp.
 * 2. Release (finaltest): trees are made and registered for finalization
 *    in a parked arena, their roots dropped, the arena released; then the
 *    client only polls for messages, allocating nothing.  The release
 *    itself must start the collection that the parked allocation called
 *    for, and every object's finalization message must arrive.
 * 3. Accounting (walkt0): for every collected class (AMC, AMCZ, AMS, AWL,
 *    LO, SNC) total - free = the walked objects + padding + the unused
 *    part of the attached allocation point's buffer, which is allocated,
 *    not free (SNC counted it as free).
 * Usage: test_policy [seed].  Design: docs/design/trace.md (policy),
 * docs/design/amc.md (ramps), docs/design/snc.md (sizes).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpscamc.h"
#include "mpscams.h"
#include "mpscawl.h"
#include "mpsclo.h"
#include "mpscsnc.h"
#include "testlib.h"
#include "wordfmt.h"

#define MB   ((size_t)1 << 20)
#define LIVE 512

static mps_addr_t live[LIVE]; /* an exact root table */

/* An object of `ndata` data words and `nrefs` references (NULL). */
static mps_addr_t makeObj(mps_ap_t ap, mps_word_t id, size_t nrefs, size_t ndata)
{
  size_t size = (3 + nrefs + ndata) * WORD, i;
  mps_addr_t p;
  do {
    mps_word_t *w;
    REQUIRE(mps_reserve(&p, ap, size) == MPS_RES_OK);
    w = p;
    w[0] = (mps_word_t)size | T_OBJ;
    w[1] = id;
    w[2] = nrefs;
    for (i = 0; i < nrefs; ++i) w[3 + i] = 0;
    for (i = 0; i < ndata; ++i) w[3 + nrefs + i] = id ^ i;
  } while (!mps_commit(ap, p, size));
  return p;
}

static int intact(const mps_word_t *w)
{
  size_t i, nrefs = w[2], ndata = SIZE(w[0]) / WORD - 3 - nrefs;
  if (TYPE(w[0]) != T_OBJ) return 0;
  for (i = 0; i < ndata; ++i)
    if (w[3 + nrefs + i] != (w[1] ^ i)) return 0;
  return 1;
}

typedef struct Arena {
  mps_arena_t arena;
  mps_chain_t chain;
  mps_fmt_t fmt;
  mps_pool_t pool;
  mps_root_t root;
  mps_ap_t ap;
} Arena;

static void arenaMake(Arena *a)
{
  mps_gen_param_s gens[2] = { { 1024, 0.85 }, { 2048, 0.45 } };
  memset(live, 0, sizeof live);
  REQUIRE(mps_arena_create_k(&a->arena, mps_arena_class_vm(), mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_chain_create(&a->chain, a->arena, 2, gens) == MPS_RES_OK);
  makePool(&a->fmt, &a->pool, a->arena, a->chain);
  REQUIRE(mps_root_create_table(&a->root, a->arena, mps_rank_exact(), 0, live, LIVE) == MPS_RES_OK);
  REQUIRE(mps_ap_create(&a->ap, a->pool, mps_rank_exact()) == MPS_RES_OK);
  mps_message_type_enable(a->arena, mps_message_type_gc_start());
  mps_message_type_enable(a->arena, mps_message_type_gc());
  mps_message_type_enable(a->arena, mps_message_type_finalization());
}

static void arenaDestroy(Arena *a)
{
  mps_message_t m;
  mps_message_type_t type;
  mps_arena_park(a->arena);
  while (mps_message_queue_type(&type, a->arena))
    if (mps_message_get(&m, a->arena, type)) mps_message_discard(a->arena, m);
  mps_ap_destroy(a->ap);
  mps_root_destroy(a->root);
  mps_pool_destroy(a->pool);
  mps_fmt_destroy(a->fmt);
  mps_chain_destroy(a->chain);
  mps_arena_destroy(a->arena);
}

/* Discard the messages of the collections since the last call; the number
 * of collections, and in *rampReturn how many of them were the full
 * collections the end of a ramp-collect-all asks for (by their reason). */
static size_t gcMessages(mps_arena_t arena, size_t *rampReturn)
{
  mps_message_t m;
  size_t n = 0;
  *rampReturn = 0;
  while (mps_message_get(&m, arena, mps_message_type_gc_start())) {
    ++n;
    if (strstr(mps_message_gc_start_why(arena, m), "ramp-collect-all") != NULL) ++*rampReturn;
    mps_message_discard(arena, m);
  }
  while (mps_message_get(&m, arena, mps_message_type_gc())) mps_message_discard(arena, m);
  return n;
}

/* ---- 1. ramps ------------------------------------------------------------------ */

static void testRamp(mps_alloc_pattern_t pattern, const char *name)
{
  Arena a;
  size_t allocated = 0, maxCommitted = 0, rampFull, i;
  mps_word_t id = 0, collections;
  arenaMake(&a);
  REQUIRE(mps_ap_alloc_pattern_begin(a.ap, pattern) == MPS_RES_OK);
  while (allocated < 192 * MB) {
    size_t ndata = rnd() % 12;
    mps_addr_t p = makeObj(a.ap, ++id, 0, ndata);
    allocated += (3 + ndata) * WORD;
    if (rnd() % 64 == 0) live[rnd() % LIVE] = p;
    if ((id & 4095) == 0 && mps_arena_committed(a.arena) > maxCommitted)
      maxCommitted = mps_arena_committed(a.arena);
  }
  collections = mps_collections(a.arena);
  printf("%s: %lu collections, committed at most %zu KiB for %zu MiB allocated\n", name,
         (unsigned long)collections, maxCommitted >> 10, allocated / MB);
  CHECK(collections >= 20);
  CHECK(maxCommitted < 48 * MB);
  for (i = 0; i < LIVE; ++i) CHECK(live[i] == NULL || intact(live[i]));
  (void)gcMessages(a.arena, &rampFull);
  /* The end of a ramp-collect-all makes the next collection full. */
  REQUIRE(mps_ap_alloc_pattern_end(a.ap, pattern) == MPS_RES_OK);
  while (mps_collections(a.arena) == collections) (void)makeObj(a.ap, ++id, 0, 4);
  (void)gcMessages(a.arena, &rampFull);
  CHECK(rampFull == (pattern == mps_alloc_pattern_ramp_collect_all()));
  CHECK(mps_ap_alloc_pattern_end(a.ap, pattern) == MPS_RES_FAIL); /* none left */
  arenaDestroy(&a);
}

static void testRampNesting(void)
{
  Arena a;
  arenaMake(&a);
  CHECK(mps_ap_alloc_pattern_end(a.ap, mps_alloc_pattern_ramp()) == MPS_RES_FAIL);
  CHECK(mps_ap_alloc_pattern_begin(a.ap, mps_alloc_pattern_ramp()) == MPS_RES_OK);
  CHECK(mps_ap_alloc_pattern_begin(a.ap, mps_alloc_pattern_ramp()) == MPS_RES_OK);
  CHECK(mps_ap_alloc_pattern_begin(a.ap, mps_alloc_pattern_ramp_collect_all()) == MPS_RES_OK);
  CHECK(mps_ap_alloc_pattern_end(a.ap, mps_alloc_pattern_ramp()) == MPS_RES_OK);
  CHECK(mps_ap_alloc_pattern_end(a.ap, mps_alloc_pattern_ramp()) == MPS_RES_OK);
  CHECK(mps_ap_alloc_pattern_end(a.ap, mps_alloc_pattern_ramp()) == MPS_RES_FAIL);
  CHECK(mps_ap_alloc_pattern_begin(a.ap, mps_alloc_pattern_ramp()) == MPS_RES_OK);
  CHECK(mps_ap_alloc_pattern_reset(a.ap) == MPS_RES_OK); /* ends both */
  CHECK(mps_ap_alloc_pattern_end(a.ap, mps_alloc_pattern_ramp()) == MPS_RES_FAIL);
  CHECK(mps_ap_alloc_pattern_end(a.ap, mps_alloc_pattern_ramp_collect_all()) == MPS_RES_FAIL);
  /* An allocation point destroyed inside a ramp ends it. */
  CHECK(mps_ap_alloc_pattern_begin(a.ap, mps_alloc_pattern_ramp()) == MPS_RES_OK);
  mps_ap_destroy(a.ap);
  REQUIRE(mps_ap_create(&a.ap, a.pool, mps_rank_exact()) == MPS_RES_OK);
  CHECK(mps_ap_alloc_pattern_end(a.ap, mps_alloc_pattern_ramp()) == MPS_RES_FAIL);
  arenaDestroy(&a);
}

/* ---- 2. release ------------------------------------------------------------------ */

/* A binary tree of `depth` levels; each node registered for finalization. */
static mps_addr_t makeTree(Arena *a, unsigned depth, size_t *count)
{
  mps_addr_t node = makeObj(a->ap, ++*count, 2, 2);
  if (depth > 1) {
    mps_word_t *w = node;
    mps_addr_t left = makeTree(a, depth - 1, count);
    mps_addr_t right;
    w = node;
    w[3] = (mps_word_t)left;
    right = makeTree(a, depth - 1, count);
    w[4] = (mps_word_t)right;
  }
  REQUIRE(mps_finalize(a->arena, &node) == MPS_RES_OK);
  return node;
}

static void testRelease(void)
{
  Arena a;
  size_t count = 0, finalized = 0, polls = 0, i, full;
  mps_word_t before;
  mps_message_t m;
  arenaMake(&a);
  mps_arena_park(a.arena);
  for (i = 0; i < 40; ++i) live[i] = makeTree(&a, 9, &count); /* 40 x 511 nodes */
  memset(live, 0, sizeof live);
  before = mps_collections(a.arena);
  mps_arena_release(a.arena);
  CHECK(mps_collections(a.arena) > before); /* the release collected */
  while (polls < 1000 && finalized < count) {
    ++polls;
    if (!mps_message_poll(a.arena)) continue;
    while (mps_message_get(&m, a.arena, mps_message_type_finalization())) {
      ++finalized;
      mps_message_discard(a.arena, m);
    }
    (void)gcMessages(a.arena, &full);
  }
  printf("release: %zu of %zu objects finalized after %zu polls, no allocation\n", finalized, count,
         polls);
  CHECK(finalized == count);
  arenaDestroy(&a);
}

/* ---- 3. accounting ------------------------------------------------------------- */

typedef struct Walked {
  size_t objects, objSize, padSize;
} Walked;

static mps_res_t walkArea(mps_ss_t ss, void *base, void *limit, void *closure)
{
  Walked *w = closure;
  mps_addr_t p;
  (void)ss;
  for (p = base; p < limit; p = fmtSkip(p)) {
    size_t size = (size_t)((char *)fmtSkip(p) - (char *)p);
    if (TYPE(*(mps_word_t *)p) == T_OBJ) {
      ++w->objects;
      w->objSize += size;
    } else {
      w->padSize += size;
    }
  }
  return MPS_RES_OK;
}

static void testAccounting(const char *name, mps_pool_class_t klass, int leaf)
{
  Arena a;
  mps_pool_t pool;
  mps_ap_t ap;
  Walked w = { 0, 0, 0 };
  size_t i, total, freeSize, buffered;
  arenaMake(&a);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, a.fmt);
    if (klass != mps_class_snc()) MPS_ARGS_ADD(args, MPS_KEY_CHAIN, a.chain);
    REQUIRE(mps_pool_create_k(&pool, a.arena, klass, args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  REQUIRE(mps_ap_create(&ap, pool, mps_rank_exact()) == MPS_RES_OK);
  /* Enough to fill several segments and start collections; a root keeps
   * some alive (SNC keeps everything: it is manually managed). */
  for (i = 0; i < 40000; ++i) {
    mps_addr_t p = makeObj(ap, i + 1, leaf ? 0 : 1, rnd() % 9);
    if (rnd() % 16 == 0) live[rnd() % LIVE] = p;
  }
  mps_arena_park(a.arena);
  (void)makeObj(ap, 1000000, 0, 1); /* refills a buffer a flip trapped */
  REQUIRE(ap->limit != NULL);
  REQUIRE(mps_pool_walk(pool, walkArea, &w) == MPS_RES_OK);
  total = mps_pool_total_size(pool);
  freeSize = mps_pool_free_size(pool);
  buffered = (size_t)((char *)ap->limit - (char *)ap->init);
  printf("%-5s objects %zu: obj=%zu pad=%zu buffer=%zu total=%zu free=%zu\n", name, w.objects,
         w.objSize, w.padSize, buffered, total, freeSize);
  CHECK(freeSize <= total);
  CHECK(w.objSize + w.padSize + buffered == total - freeSize);
  mps_ap_destroy(ap);
  memset(live, 0, sizeof live);
  mps_pool_destroy(pool);
  arenaDestroy(&a);
}

int main(int argc, char **argv)
{
  (void)testSeed(argc, argv);
  testRampNesting();
  testRamp(mps_alloc_pattern_ramp(), "ramp");
  testRamp(mps_alloc_pattern_ramp_collect_all(), "ramp collect all");
  testRelease();
  testAccounting("AMC", mps_class_amc(), 0);
  testAccounting("AMCZ", mps_class_amcz(), 1);
  testAccounting("AMS", mps_class_ams(), 0);
  testAccounting("AWL", mps_class_awl(), 0);
  testAccounting("LO", mps_class_lo(), 1);
  testAccounting("SNC", mps_class_snc(), 0);
  CHECK(atomic_load(&badTags) == 0);
  return testFinish();
}
