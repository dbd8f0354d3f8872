/* test_ams.c -- AMS and objects of ambiguous rank, through the public MPS
 * interface only, against a reachability model computed by the program
 * (amsmodel.h).  The AMS debug checks (fenceposts, free space) are in
 * test_ams_debug.c.
 *
 * Random object graphs over AMS (exact allocation point; ambiguous-rank
 * allocation point, whose objects' slots are scanned as ambiguous words),
 * a second AMS pool made by the legacy varargs mps_pool_create with
 * mps_ap_create(..., mps_rank_ambig()), AMS debug, AWL (exact), AMC and LO,
 * with an exact root table, collected with the arena parked.  After every
 * collection: every reachable object is intact; every reference to it
 * gives the same address; AMS, AWL and LO objects never move; AMC objects
 * referred to by reachable ambiguous-rank objects (by base or any interior
 * address) never move; ambiguous words are never changed; exact references
 * are updated; finalization messages come for registered objects that are
 * not reachable (exactly one each, and none for reachable ones);
 * mps_pool_walk and mps_arena_formatted_objects_walk see every reachable
 * object of the non-moving pools once and, when nothing ambiguous can keep
 * garbage, nothing else; with the allocation points destroyed, each
 * non-moving pool's total less free size is exactly the reachable bytes
 * (with fences in the debug pool): unreachable objects are reclaimed; the
 * debug pool reports nothing.  Every scenario runs with no in-band header
 * and with a header of one word.
 *
 * The hard case: an ambiguous-rank object A at the end of a 300-object
 * exact chain through AMC, AMS, AWL and AMS debug objects, reached late,
 * holds the only reference (ambiguous) to an AMC object B, and ambiguous
 * references to AMC objects that are also referred to exactly from a root
 * and from the head of the chain (fixed early): all stay put and intact.
 * Ambiguous words that merely look like pointers (into AMC objects, live
 * or dead, into free space, into the other pools, odd values): no crash,
 * no change to the words, reachable objects intact.  Objects held only on
 * the stack (a thread root) across collections stay put.
 * MPS_KEY_GEN: AMS pools in generations 0 and 2 of a three-generation
 * chain under automatic (nursery) collections: garbage in generation 0 is
 * reclaimed, in generation 2 only by a full collection, and an AMC object
 * referred to only ambiguously from the generation-2 pool (not condemned)
 * stays put; MPS_KEY_GEN beyond the chain is refused.
 * Usage: test_ams [seed].  Design: docs/design/ms.md, interface.md,
 * collector-interface.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpscamc.h"
#include "mpscams.h"
#include "mpscawl.h"
#include "mpsclo.h"
#include "mpslib.h"
#include "testlib.h"
#include "weakfmt.h"
#include "amsmodel.h"

#define NOINLINE __attribute__((noinline))

static void *coldEnd; /* the cold end of the main thread's stack */

/* ---- allocation ----------------------------------------------------------------------------- */

/* A random object of a random pool and kind. */
static int newRandom(int junk)
{
  static const int choice[] = { P_AMC, P_AMC, P_AMC, P_AMS1, P_AMS1, P_AMS2, P_AWL, P_LO, P_DBG };
  int pl = choice[rnd() % (sizeof choice / sizeof choice[0])];
  unsigned kind = pl == P_LO ? K_LEAF : K_NODE;
  if (pools[pl] == NULL) pl = P_AMC, kind = K_NODE;
  if (junk || (apA[pl] != NULL && rnd() % 3 == 0)) {
    pl = junk ? (int)(rnd() % 2 ? P_AMS1 : P_AMS2) : pl;
    kind = K_AMBIG;
  }
  return newObj(pl, kind, kind == K_LEAF ? 0 : (unsigned)(rnd() % (MAXREFS + 1)),
                rnd() % 150 == 0 ? 9000 + (unsigned)(rnd() % 4000) /* 70..100 KiB */
                                 : (unsigned)(rnd() % 12),
                junk);
}

static void garbage(unsigned count)
{
  while (count-- > 0) {
    static const int choice[] = { P_AMC, P_AMC, P_AMS1, P_AMS2, P_AWL, P_LO, P_DBG };
    int pl = choice[rnd() % (sizeof choice / sizeof choice[0])];
    unsigned n = pl == P_LO ? 0 : (unsigned)(rnd() % 3), ndata = (unsigned)(rnd() % 40), k;
    size_t size = wfSize(n, ndata);
    int ambig = apA[pl] != NULL && rnd() % 3 == 0;
    mps_ap_t ap = ambig ? apA[pl] : apE[pl];
    mps_addr_t p;
    if (ap == NULL) continue;
    do {
      mps_word_t *f;
      REQUIRE(mps_reserve(&p, ap, size) == MPS_RES_OK);
      *(mps_word_t *)p = (mps_word_t)size | T_OBJ;
      f = wfF((char *)p + fmtHdr);
      f[0] = INFO(GARBAGE_ID, ambig ? K_AMBIG : pl == P_LO ? K_LEAF : K_NODE);
      f[1] = W_EMPTY;
      f[2] = ((mps_word_t)n << 1) | 1;
      for (k = 0; k < n; ++k) { /* dead objects refer to live ones */
        int y = pickLive();
        f[3 + k] = y >= 0 ? (mps_word_t)obj[y].addr : 0;
      }
      for (k = 0; k < ndata; ++k) f[3 + n + k] = dataWord(GARBAGE_ID, k);
    } while (!mps_commit(ap, p, size));
  }
}

static void registerFinal(int id)
{
  mps_addr_t ref = obj[id].addr;
  CHECK(mps_finalize(arena, &ref) == MPS_RES_OK);
  obj[id].reg = 1;
}

/* ---- random graphs ------------------------------------------------------------------------- */

static void randomOp(int junk)
{
  unsigned op = (unsigned)(rnd() % 100);
  int r = (int)(rnd() % NROOTS), x, k;
  if (op < 35) {
    x = newRandom(junk && rnd() % 3 == 0);
    setRoot(r, x);
    if (rnd() % 10 == 0 && !obj[x].junk) registerFinal(x);
  } else if (op < 55) {
    setRoot(r, -1);
  } else if (op < 75) { /* rewire a slot */
    if ((x = pickLive()) >= 0 && obj[x].nslots > 0) {
      k = (int)(rnd() % obj[x].nslots);
      fillSlot(x, k, wfSlots(obj[x].addr), 0);
    }
  } else if (op < 85) {
    if ((x = pickLive()) >= 0) setRoot(r, x);
  } else if (op < 95) {
    garbage((unsigned)(1 + rnd() % 40));
  } else {
    if ((x = pickLive()) >= 0 && !obj[x].reg) registerFinal(x);
  }
}

/* Every allocation point of the non-moving pools. */
static void destroyAps(void)
{
  int pl;
  for (pl = 0; pl < NPOOLS; ++pl) {
    if (!nonMoving(pl)) continue;
    if (apE[pl] != NULL) mps_ap_destroy(apE[pl]);
    if (apA[pl] != NULL) mps_ap_destroy(apA[pl]);
  }
}

static void createAps(void)
{
  int pl;
  for (pl = 0; pl < NPOOLS; ++pl) {
    if (!nonMoving(pl) || pools[pl] == NULL) continue;
    if (pl == P_AMS2) { /* the legacy forms */
      REQUIRE(mps_ap_create(&apE[pl], pools[pl], mps_rank_exact()) == MPS_RES_OK);
      REQUIRE(mps_ap_create(&apA[pl], pools[pl], mps_rank_ambig()) == MPS_RES_OK);
      continue;
    }
    REQUIRE(mps_ap_create_k(&apE[pl], pools[pl], mps_args_none) == MPS_RES_OK);
    if (pl == P_AMS1 || pl == P_DBG) {
      MPS_ARGS_BEGIN(args)
      {
        MPS_ARGS_ADD(args, MPS_KEY_RANK, mps_rank_ambig());
        REQUIRE(mps_ap_create_k(&apA[pl], pools[pl], args) == MPS_RES_OK);
      }
      MPS_ARGS_END(args);
    }
  }
}

/* With no allocation point, each non-moving pool holds exactly the
 * surviving objects (and their fences). */
static void sizeCheck(const char *where)
{
  int pl, x;
  size_t want[NPOOLS] = { 0 };
  destroyAps();
  collect(where);
  for (x = 0; x < nobj; ++x)
    if (strongS[x] || protS[x]) want[obj[x].pool] += objSize(x) + 2 * fence[obj[x].pool];
  for (pl = 0; pl < NPOOLS; ++pl) {
    size_t total, free;
    if (pools[pl] == NULL || !nonMoving(pl)) continue;
    total = mps_pool_total_size(pools[pl]);
    free = mps_pool_free_size(pools[pl]);
    if (free > total || (!superset && total - free != want[pl]) ||
        (superset && total - free < want[pl]))
      FAIL("%s: %s pool: total %zu - free %zu = %zu bytes in use, the surviving objects take %zu",
           where, poolName[pl], total, free, total - free, want[pl]);
  }
  createAps();
}

/* ---- the hard case ------------------------------------------------------------------------- */

static void hardCase(int ambigPool, int rootBase)
{
  static const int chainPools[] = { P_AMC, P_AMS1, P_AWL, P_AMS2, P_DBG, P_AMC, P_AMC };
  int B, D, B2, B3, B4, E, A, c, prev, ids[5], round, head = -1;
  mps_word_t words[5];
  size_t offs[5], b3off, b4off;
  int none[1] = { -1 };

  E = newWith(P_AMC, K_NODE, 0, none, NULL, NULL); /* B's neighbour, fixed early */
  D = newWith(P_AMC, K_NODE, 0, none, NULL, NULL);
  ids[0] = D;
  B = newWith(P_AMC, K_NODE, 1, ids, NULL, NULL);   /* only A refers to B */
  B2 = newWith(P_AMC, K_NODE, 0, none, NULL, NULL); /* also from a root */
  B3 = newWith(P_AMC, K_NODE, 0, none, NULL, NULL); /* also from the chain's head */
  noRefs = 1;
  B4 = newObj(P_AMC, K_NODE, 0, 8000, 0); /* large: a segment of its own */
  noRefs = 0;
  b3off = objSize(B3) - fmtHdr - 3; /* an unaligned interior address */
  b4off = 20000 + WORD;
  ids[0] = B, words[0] = (mps_word_t)obj[B].addr, offs[0] = 0;
  ids[1] = B2, words[1] = (mps_word_t)obj[B2].addr, offs[1] = 0;
  ids[2] = B3, words[2] = (mps_word_t)obj[B3].addr + b3off, offs[2] = b3off;
  ids[3] = -1, words[3] = 0x12345678; /* not a reference */
  ids[4] = B4, words[4] = (mps_word_t)obj[B4].addr + b4off, offs[4] = b4off;
  A = newWith(ambigPool, K_AMBIG, 5, ids, words, offs);
  prev = A;
  for (c = 0; c < 300; ++c) { /* the chain, from its end */
    int pl = chainPools[c % (sizeof chainPools / sizeof chainPools[0])];
    ids[0] = prev;
    ids[1] = c == 299 ? B3 : -1;
    ids[2] = c == 299 ? E : -1;
    prev = newWith(pl, K_NODE, 3, ids, NULL, NULL);
    if (c % 7 == 0) garbage(5);
  }
  head = prev;
  setRoot(rootBase, head);
  setRoot(rootBase + 1, B2);
  for (round = 0; round < 3; ++round) {
    mps_addr_t a = obj[A].addr;
    mps_word_t *s;
    garbage(200);
    collect("the hard case");
    s = wfSlots(a);
    CHECK(obj[A].addr == a && intact(a, A));
    CHECK(s[0] == (mps_word_t)obj[B].addr && obj[B].addr == obj[B].prev && intact(obj[B].addr, B));
    CHECK(intact((mps_addr_t)wfSlots(obj[B].addr)[0], D));
    CHECK(s[1] == (mps_word_t)rootTab[rootBase + 1] && intact(rootTab[rootBase + 1], B2));
    CHECK(s[2] - b3off == wfSlots(obj[head].addr)[1] && intact(obj[B3].addr, B3));
    CHECK(s[3] == 0x12345678);
    CHECK(s[4] - b4off == (mps_word_t)obj[B4].addr && obj[B4].addr == obj[B4].prev &&
          intact(obj[B4].addr, B4));
  }
  setRoot(rootBase, -1);
  setRoot(rootBase + 1, -1);
}

/* ---- the stack ------------------------------------------------------------------------------ */

/* Objects held only in this frame's array (the thread's stack is an
 * ambiguous root); they stay put and keep what they refer to. */
static NOINLINE void stackPhase(void)
{
  volatile mps_word_t words[NHELD];
  mps_root_t stackRoot;
  int k, round;
  for (k = 0; k < NHELD; ++k) {
    static const int choice[] = { P_AMC, P_AMC, P_AMC, P_AMS1, P_AMS2, P_AWL, P_LO, P_DBG };
    int pl = choice[k % (sizeof choice / sizeof choice[0])];
    int x = newObj(pl, pl == P_LO ? K_LEAF : K_NODE, pl == P_LO ? 0 : 2, 4, 0);
    heldId[k] = x;
    heldOff[k] = pl == P_AMC && k % 2 == 1 ? objSize(x) - fmtHdr - WORD : 0;
    words[k] = heldWord[k] = (mps_word_t)obj[x].addr + heldOff[k];
  }
  held = superset = 1;
  REQUIRE(mps_root_create_thread(&stackRoot, arena, thread, coldEnd) == MPS_RES_OK);
  for (round = 0; round < 3; ++round) {
    garbage(100);
    collect("holding objects on the stack");
    for (k = 0; k < NHELD; ++k) {
      CHECK(words[k] == heldWord[k]);
      CHECK(obj[heldId[k]].addr == obj[heldId[k]].prev);
    }
  }
  mps_root_destroy(stackRoot);
  held = 0;
  for (k = 0; k < NHELD; ++k) heldId[k] = -1;
  collect("after the stack phase");
  superset = 0;
}

/* ---- scenarios ------------------------------------------------------------------------------ */

static void junkPhase(void)
{
  int i, r, round;
  superset = 1;
  for (round = 0; round < 6; ++round) {
    for (i = 0; i < 400; ++i) randomOp(1);
    collect("with junk words");
  }
  for (r = 0; r < NROOTS; ++r) /* the junk goes */
    if (rootId[r] >= 0 && obj[rootId[r]].junk) setRoot(r, -1);
  collect("dropping the junk");
  superset = 0;
  collect("after the junk");
}

static void scenario(size_t header)
{
  mps_gen_param_s gens[2] = { { 1024, 0.8 }, { 4096, 0.5 } };
  int pl, round, r, i, x;
  unsigned long fin0 = nFinal;

  fmtHdr = header;
  nobj = 0;
  for (r = 0; r < NROOTS; ++r) setRoot(r, -1);
  for (i = 0; i < NHELD; ++i) heldId[i] = -1;
  memset(pools, 0, sizeof pools);
  memset(apE, 0, sizeof apE);
  memset(apA, 0, sizeof apA);
  memset(fence, 0, sizeof fence);
  REQUIRE(wfFormat(&fmt, arena, fmtHdr) == MPS_RES_OK);
  REQUIRE(mps_chain_create(&chain, arena, 2, gens) == MPS_RES_OK);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    REQUIRE(mps_pool_create_k(&pools[P_AMC], arena, mps_class_amc(), args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    REQUIRE(mps_pool_create_k(&pools[P_LO], arena, mps_class_lo(), args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    REQUIRE(mps_pool_create_k(&pools[P_AWL], arena, mps_class_awl(), args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    MPS_ARGS_ADD(args, MPS_KEY_AMS_SUPPORT_AMBIGUOUS, 1);
    REQUIRE(mps_pool_create_k(&pools[P_AMS1], arena, mps_class_ams(), args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  REQUIRE(mps_pool_create(&pools[P_AMS2], arena, mps_class_ams(), fmt, chain, (mps_bool_t)1) ==
          MPS_RES_OK);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    MPS_ARGS_ADD(args, MPS_KEY_POOL_DEBUG_OPTIONS, &dbgOpt);
    REQUIRE(mps_pool_create_k(&pools[P_DBG], arena, mps_class_ams_debug(), args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  fence[P_DBG] = alignUp(dbgOpt.fence_size, WORD);
  REQUIRE(mps_ap_create_k(&apE[P_AMC], pools[P_AMC], mps_args_none) == MPS_RES_OK);
  createAps();

  /* random graphs; every few rounds the exact size check */
  for (round = 0; round < 50; ++round) {
    unsigned ops = 30 + (unsigned)(rnd() % 600);
    while (ops-- > 0) randomOp(0);
    if (round % 5 == 4)
      sizeCheck("random graphs, without allocation points");
    else
      collect("random graphs");
  }
  hardCase(P_AMS1, 0);
  hardCase(P_AMS2, 2);
  hardCase(P_DBG, 4);
  stackPhase();
  junkPhase();
  for (round = 0; round < 5; ++round) {
    unsigned ops = 30 + (unsigned)(rnd() % 300);
    while (ops-- > 0) randomOp(0);
    collect("random graphs after the junk");
  }
  sizeCheck("random graphs, without allocation points");

  /* everything dies: every registered object is finalized exactly once */
  for (round = 0; round < 12; ++round) {
    unsigned long f0 = nFinal;
    for (r = 0; r < NROOTS; ++r) setRoot(r, -1); /* resurrected ones too */
    collect("dropping everything");
    if (nFinal == f0 && round >= 2) break;
  }
  for (r = 0; r < NROOTS; ++r) setRoot(r, -1);
  sizeCheck("everything dropped");
  sizeCheck("everything dropped");
  for (x = 0; x < nobj; ++x) {
    if (obj[x].reg && obj[x].finCount != 1)
      FAIL("registered %s object %d: %u finalization messages", poolName[obj[x].pool], x,
           obj[x].finCount);
    if (!obj[x].reg && obj[x].finCount != 0) FAIL("unregistered object %d finalized", x);
  }
  for (pl = 0; pl < NPOOLS; ++pl)
    if (pools[pl] != NULL && nonMoving(pl) && pl != P_DBG)
      CHECK(mps_pool_total_size(pools[pl]) == mps_pool_free_size(pools[pl]));
  printf("header %zu: %d objects, %lu finalized\n", header, nobj, nFinal - fin0);

  mps_arena_park(arena);
  destroyAps();
  if (apE[P_AMC] != NULL) mps_ap_destroy(apE[P_AMC]);
  for (pl = NPOOLS - 1; pl >= 0; --pl)
    if (pools[pl] != NULL) mps_pool_destroy(pools[pl]);
  noNewReports("destroying the pools");
  memset(pools, 0, sizeof pools);
  mps_chain_destroy(chain);
  mps_fmt_destroy(fmt);
}

/* ---- MPS_KEY_GEN ------------------------------------------------------------------------------ */

static size_t inUse(int pl)
{
  return mps_pool_total_size(pools[pl]) - mps_pool_free_size(pools[pl]);
}

static void genPhase(void)
{
  mps_gen_param_s gens[3] = { { 64, 0.8 }, { 256, 0.5 }, { 100000, 0.3 } };
  mps_pool_t bad;
  mps_res_t res;
  int r, i, A, B, B1, D1, live[20], ids[3];
  mps_word_t words[3];
  size_t offs[3], g0Before, g2Before, g0Garbage = 0, g2Garbage = 0, liveBytes[2] = { 0, 0 };
  mps_message_t m;
  unsigned long autos = 0, bytes = 0;

  fmtHdr = 0;
  nobj = 0;
  for (r = 0; r < NROOTS; ++r) setRoot(r, -1);
  memset(pools, 0, sizeof pools);
  memset(apE, 0, sizeof apE);
  memset(apA, 0, sizeof apA);
  memset(fence, 0, sizeof fence);
  REQUIRE(wfFormat(&fmt, arena, 0) == MPS_RES_OK);
  REQUIRE(mps_chain_create(&chain, arena, 3, gens) == MPS_RES_OK);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    REQUIRE(mps_pool_create_k(&pools[P_AMC], arena, mps_class_amc(), args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    MPS_ARGS_ADD(args, MPS_KEY_GEN, 0);
    REQUIRE(mps_pool_create_k(&pools[P_AMS1], arena, mps_class_ams(), args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    MPS_ARGS_ADD(args, MPS_KEY_GEN, 2);
    REQUIRE(mps_pool_create_k(&pools[P_AMS2], arena, mps_class_ams(), args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  /* a generation beyond the chain is refused */
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    MPS_ARGS_ADD(args, MPS_KEY_GEN, 4);
    res = mps_pool_create_k(&bad, arena, mps_class_ams(), args);
  }
  MPS_ARGS_END(args);
  CHECK(res == MPS_RES_PARAM);
  (void)expectReports(1, "GEN", "MPS_KEY_GEN 4 with a three-generation chain");
  REQUIRE(mps_ap_create_k(&apE[P_AMC], pools[P_AMC], mps_args_none) == MPS_RES_OK);
  createAps();

  /* A (generation 2, ambiguous) holds B and B1 (AMC) ambiguously; B is also
     in a root, B1 is not, and only B1 refers to D1 */
  noRefs = 1;
  B = newObj(P_AMC, K_NODE, 0, 6, 0);
  D1 = newObj(P_AMC, K_NODE, 0, 3, 0);
  noRefs = 0;
  ids[0] = D1;
  B1 = newWith(P_AMC, K_NODE, 1, ids, NULL, NULL);
  ids[0] = B, words[0] = (mps_word_t)obj[B].addr, offs[0] = 0;
  ids[1] = -1, words[1] = W_INT(7), offs[1] = 0;
  ids[2] = B1, words[2] = (mps_word_t)obj[B1].addr + WORD, offs[2] = WORD;
  A = newWith(P_AMS2, K_AMBIG, 3, ids, words, offs);
  setRoot(0, A);
  setRoot(1, B);
  for (i = 0; i < 20; ++i) { /* live objects referring to AMC objects */
    int pl = i % 2 ? P_AMS2 : P_AMS1, y;
    noRefs = 1;
    y = newObj(P_AMC, K_NODE, 0, 2, 0);
    noRefs = 0;
    ids[0] = y;
    live[i] = newWith(pl, K_NODE, 1, ids, NULL, NULL);
    setRoot(2 + i, live[i]);
    liveBytes[i % 2] += objSize(live[i]);
  }
  while (g0Garbage < ((size_t)256 << 10)) { /* garbage in both AMS pools */
    int x = newObj(P_AMS1, K_NODE, 0, 30, 0), y = newObj(P_AMS2, K_NODE, 0, 30, 0);
    g0Garbage += objSize(x);
    g2Garbage += objSize(y);
  }
  destroyAps(); /* so that in-use is exactly the objects */
  createAps();
  g0Before = inUse(P_AMS1);
  g2Before = inUse(P_AMS2);
  CHECK(g0Before >= g0Garbage && g2Before >= g2Garbage);

  /* nursery collections on their own; nothing is held across allocations */
  while (mps_message_get(&m, arena, mps_message_type_gc())) mps_message_discard(arena, m);
  mps_arena_release(arena);
  while (autos < 6 && bytes < ((unsigned long)64 << 20)) {
    mps_addr_t p;
    size_t size = wfSize(0, 60);
    do {
      mps_word_t *f;
      REQUIRE(mps_reserve(&p, apE[P_AMC], size) == MPS_RES_OK);
      f = p;
      f[0] = size | T_OBJ;
      f[1] = INFO(GARBAGE_ID, K_NODE);
      f[2] = W_EMPTY;
      f[3] = 1;
      for (i = 0; i < 60; ++i) f[4 + i] = 1;
    } while (!mps_commit(apE[P_AMC], p, size));
    bytes += size;
    while (mps_message_get(&m, arena, mps_message_type_gc())) {
      mps_message_discard(arena, m);
      ++autos;
    }
  }
  mps_arena_park(arena);
  CHECK(autos >= 6);
  /* generation 0 was collected, generation 2 was not */
  if (!(inUse(P_AMS1) < g0Before - g0Garbage / 2) || !(inUse(P_AMS2) >= g2Before))
    FAIL("after %lu nursery collections: AMS in generation 0 uses %zu bytes (%zu before, "
         "%zu of garbage), in generation 2 %zu (%zu before)",
         autos, inUse(P_AMS1), g0Before, g0Garbage, inUse(P_AMS2), g2Before);
  /* B stayed where A's ambiguous word says, and the live objects' references were updated */
  CHECK(rootTab[1] == (mps_addr_t)wfSlots(obj[A].addr)[0]);
  CHECK(intact(rootTab[1], B));
  CHECK(intact(rootTab[0], A) && rootTab[0] == obj[A].addr);
  CHECK(wfSlots(obj[A].addr)[2] == (mps_word_t)obj[B1].addr + WORD);
  CHECK(intact(obj[B1].addr, B1));
  CHECK(intact((mps_addr_t)wfSlots(obj[B1].addr)[0], D1));
  for (i = 0; i < 20; ++i) {
    mps_addr_t y = (mps_addr_t)wfSlots(rootTab[2 + i])[0];
    CHECK(rootTab[2 + i] == obj[live[i]].addr && intact(rootTab[2 + i], live[i]));
    CHECK(intact(y, obj[live[i]].refs[0]));
  }
  CHECK(mps_arena_collect(arena) == MPS_RES_OK); /* now generation 2 goes too */
  if (!(inUse(P_AMS2) < g2Before - g2Garbage / 2))
    FAIL("after a full collection AMS in generation 2 uses %zu bytes (%zu before, %zu of "
         "garbage)",
         inUse(P_AMS2), g2Before, g2Garbage);
  CHECK(rootTab[1] == (mps_addr_t)wfSlots(obj[A].addr)[0] && intact(rootTab[1], B));
  CHECK(intact(obj[B1].addr, B1) && intact((mps_addr_t)wfSlots(obj[B1].addr)[0], D1));
  (void)liveBytes;
  while (mps_message_get(&m, arena, mps_message_type_gc())) mps_message_discard(arena, m);
  noNewReports("MPS_KEY_GEN");

  for (r = 0; r < NROOTS; ++r) setRoot(r, -1);
  mps_arena_park(arena);
  destroyAps();
  mps_ap_destroy(apE[P_AMC]);
  mps_pool_destroy(pools[P_AMS2]);
  mps_pool_destroy(pools[P_AMS1]);
  mps_pool_destroy(pools[P_AMC]);
  memset(pools, 0, sizeof pools);
  memset(apE, 0, sizeof apE);
  memset(apA, 0, sizeof apA);
  mps_chain_destroy(chain);
  mps_fmt_destroy(fmt);
}

int main(int argc, char **argv)
{
  void *marker = NULL;
  mps_lib_assert_fail_t old;

  testSeed(argc, argv);
  coldEnd = &marker;
  old = amsOpen();
  scenario(0);
  scenario(WORD);
  genPhase();
  printf("%lu collections, %lu finalized, %lu pinned objects checked, %lu walks, "
         "%lu junk words\n",
         nCollect, nFinal, nPinnedChecks, nWalked, nJunk);
  CHECK(nPinnedChecks > 0 && nFinal > 0 && nJunk > 0);
  amsClose(old);
  (void)marker;
  return testFinish();
}
