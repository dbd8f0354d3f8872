/* test_ams_debug.c -- AMS debug (mps_class_ams_debug), through the public
 * MPS interface only, its objects checked after every collection against
 * the reachability model of amsmodel.h (shared with test_ams.c, where an
 * AMS debug pool also takes part in the random graphs).
 *
 * Three AMS debug pools, made with MPS_KEY_POOL_DEBUG_OPTIONS, with the
 * defaults, and by the legacy varargs mps_pool_create (exact and
 * ambiguous-rank allocation points), their objects referring to AMC
 * objects: a byte written just past the end or just before the start of
 * an object is reported by mps_pool_check_fenceposts (through the
 * plinth's assertion handler), also when the object dies in a collection
 * and at mps_pool_destroy; writing into the space of a reclaimed object is
 * reported by mps_pool_check_free_space, and when its segment goes back to
 * the arena; clean pools report nothing; the fences and the free space are
 * the templates.  Every damage is reported exactly once and, once
 * repaired, no more.
 * Usage: test_ams_debug [seed].  Design: docs/design/ms.md, interface.md,
 * collector-interface.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpscamc.h"
#include "mpscams.h"
#include "mpslib.h"
#include "testlib.h"
#include "weakfmt.h"
#include "amsmodel.h"

/* the debug options of P_DBG3 (P_DBG's are in amsmodel.h) */
static const char fenceT3[] = "<<<<<<<<FENCE3>>>>>>>>!!", freeT3[] = "gone";
static mps_pool_debug_option_s dbgOpt3 = { fenceT3, sizeof fenceT3 - 1, freeT3, sizeof freeT3 - 1 };

/* ---- AMS debug ---------------------------------------------------------------------------------- */

/* Every byte of [p, p+n) is one of the template's. */
static int inTemplate(const unsigned char *p, size_t n, const char *t, size_t len)
{
  size_t i;
  for (i = 0; i < n; ++i)
    if (memchr(t, p[i], len) == NULL) return 0;
  return 1;
}

static unsigned char *baseOf(int id) { return (unsigned char *)obj[id].addr - fmtHdr; }

/* Flip the byte at p, run check, expect one report naming `word`, restore. */
static void damage(unsigned char *p, void (*check)(mps_pool_t), mps_pool_t pool, const char *word,
                   const char *what)
{
  unsigned char old = *p;
  *p = (unsigned char)(old ^ 0x5A);
  noNewReports(what);
  check(pool);
  (void)expectReports(1, word, what);
  *p = old;
  check(pool);
  (void)expectReports(0, "", what);
}

static void debugPool(int pl, const char *fenceTpl, size_t fenceLen, const char *freeTpl,
                      size_t freeLen)
{
  mps_pool_t pool = pools[pl];
  int x[24], k, r;
  size_t f = fence[pl], freeBefore;
  char what[160];

  for (k = 0; k < 24; ++k) { /* referring to the AMC objects only */
    int ids[2], j;
    mps_word_t words[2];
    size_t offs[2];
    unsigned kind = k % 5 == 4 && apA[pl] != NULL ? K_AMBIG : K_NODE;
    for (j = 0; j < 2; ++j) {
      ids[j] = rootId[300 + (int)(rnd() % 30)];
      words[j] = (mps_word_t)obj[ids[j]].addr;
      offs[j] = 0;
    }
    x[k] = newWith(pl, kind, (unsigned)(k % 3), ids, words, offs);
    setRoot(100 + k, x[k]);
  }
  collect("a debug pool, clean");
  snprintf(what, sizeof what, "%s: the fences are the template", poolName[pl]);
  for (k = 0; k < 24; ++k) {
    unsigned char *b = baseOf(x[k]);
    if (!inTemplate(b - f, f, fenceTpl, fenceLen) ||
        !inTemplate(b + objSize(x[k]), f, fenceTpl, fenceLen))
      FAIL("%s (object %d)", what, x[k]);
  }
  /* one byte past the end; one byte before the start */
  snprintf(what, sizeof what, "%s: a byte written past the end of an object", poolName[pl]);
  damage(baseOf(x[3]) + objSize(x[3]), mps_pool_check_fenceposts, pool, "fencepost", what);
  damage(baseOf(x[6]) + objSize(x[6]) + f - 1, mps_pool_check_fenceposts, pool, "fencepost", what);
  snprintf(what, sizeof what, "%s: a byte written before the start of an object", poolName[pl]);
  damage(baseOf(x[5]) - 1, mps_pool_check_fenceposts, pool, "fencepost", what);
  damage(baseOf(x[5]) - f, mps_pool_check_fenceposts, pool, "fencepost", what);
  mps_pool_check_free_space(pool);
  (void)expectReports(0, "", "damaged and repaired fences, then the free space");

  /* a reclaimed object's space is splatted; writing there is reported */
  freeBefore = mps_pool_free_size(pool);
  setRoot(100 + 8, -1);
  setRoot(100 + 9, -1);
  collect("a debug pool, two objects die");
  CHECK(mps_pool_free_size(pool) >= freeBefore + objSize(x[8]) + objSize(x[9]) + 4 * f);
  {
    mps_pool_t owner = NULL;
    unsigned char *b = baseOf(x[8]);
    if (mps_addr_pool(&owner, arena, b) && owner == pool) {
      snprintf(what, sizeof what, "%s: the free space is the template", poolName[pl]);
      if (!inTemplate(b - f, objSize(x[8]) + 2 * f, freeTpl, freeLen)) FAIL("%s", what);
      snprintf(what, sizeof what, "%s: a byte written into a reclaimed object", poolName[pl]);
      damage(b + 2, mps_pool_check_free_space, pool, "free", what);
      damage(b - f, mps_pool_check_free_space, pool, "free", what);
      mps_pool_check_fenceposts(pool);
      (void)expectReports(0, "", "damaged and repaired free space, then the fences");
    } else {
      FAIL("%s: the reclaimed object's segment left the pool while its neighbours live",
           poolName[pl]);
    }
  }

  /* damage is reported when the damaged object dies */
  snprintf(what, sizeof what, "%s: an object dies with a byte written past its end", poolName[pl]);
  baseOf(x[10])[objSize(x[10])] ^= 0x33;
  setRoot(100 + 10, -1);
  collectR(what, 1, "fencepost");
  snprintf(what, sizeof what, "%s: an object dies with a byte written before its start",
           poolName[pl]);
  baseOf(x[11])[-1] ^= 0x33;
  setRoot(100 + 11, -1);
  collectR(what, 1, "fencepost");
  collect("after the damaged objects died"); /* nothing left to report */

  /* damage at destruction: one damaged fence */
  snprintf(what, sizeof what, "%s: destroyed with a damaged fence", poolName[pl]);
  for (r = 0; r < NROOTS; ++r) setRoot(r, -1);
  collect("a debug pool, everything dropped but one");
  k = newObj(pl, K_NODE, 0, 5, 0);
  setRoot(100, k);
  baseOf(k)[objSize(k) + 1] ^= 0x44;
  mps_arena_park(arena);
  if (apE[pl] != NULL) mps_ap_destroy(apE[pl]);
  if (apA[pl] != NULL) mps_ap_destroy(apA[pl]);
  apE[pl] = apA[pl] = NULL;
  setRoot(100, -1);
  mps_pool_destroy(pool);
  pools[pl] = NULL;
  for (r = 0; r < nobj; ++r)
    if (obj[r].pool == pl) obj[r].dead = 1;
  (void)expectReports(1, "fencepost", what);
}

/* Free space written, then its segment goes back to the arena. */
static void debugSegmentFree(int pl)
{
  mps_pool_t pool = pools[pl], owner = NULL;
  int x[8], k;
  unsigned char *b;
  char what[160];
  for (k = 0; k < 8; ++k) {
    x[k] = newObj(pl, K_NODE, 0, 8, 0);
    setRoot(200 + k, x[k]);
  }
  setRoot(200 + 3, -1);
  collect("a debug pool, one object dies");
  b = baseOf(x[3]);
  REQUIRE(mps_addr_pool(&owner, arena, b) && owner == pool);
  b[5] ^= 0x21; /* written after it was reclaimed */
  for (k = 0; k < 8; ++k) setRoot(200 + k, -1);
  if (apE[pl] != NULL) mps_ap_destroy(apE[pl]);
  if (apA[pl] != NULL) mps_ap_destroy(apA[pl]);
  apE[pl] = apA[pl] = NULL;
  snprintf(what, sizeof what,
           "%s: free space written, then its segment goes back to the "
           "arena",
           poolName[pl]);
  collectR(what, 1, "free");
  if (mps_addr_pool(&owner, arena, b) && owner == pool) {
    FAIL("%s: the empty segment stayed in the pool", what);
    mps_pool_check_free_space(pool);
    lastReports = reports;
  }
  REQUIRE(mps_ap_create_k(&apE[pl], pool, mps_args_none) == MPS_RES_OK);
}

static void debugPhase(void)
{
  mps_gen_param_s gens[2] = { { 1024, 0.8 }, { 4096, 0.5 } };
  int r, pl;
  fmtHdr = 0;
  nobj = 0;
  for (r = 0; r < NROOTS; ++r) setRoot(r, -1);
  memset(pools, 0, sizeof pools);
  memset(apE, 0, sizeof apE);
  memset(apA, 0, sizeof apA);
  memset(fence, 0, sizeof fence);
  REQUIRE(wfFormat(&fmt, arena, 0) == MPS_RES_OK);
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
    MPS_ARGS_ADD(args, MPS_KEY_POOL_DEBUG_OPTIONS, &dbgOpt);
    REQUIRE(mps_pool_create_k(&pools[P_DBG], arena, mps_class_ams_debug(), args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    REQUIRE(mps_pool_create_k(&pools[P_DBG2], arena, mps_class_ams_debug(), args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  REQUIRE(mps_pool_create(&pools[P_DBG3], arena, mps_class_ams_debug(), &dbgOpt3, fmt, chain,
                          (mps_bool_t)1) == MPS_RES_OK);
  fence[P_DBG] = alignUp(dbgOpt.fence_size, WORD);
  fence[P_DBG2] = alignUp(4, WORD);
  fence[P_DBG3] = alignUp(dbgOpt3.fence_size, WORD);
  REQUIRE(mps_ap_create_k(&apE[P_AMC], pools[P_AMC], mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_ap_create_k(&apE[P_DBG], pools[P_DBG], mps_args_none) == MPS_RES_OK);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_RANK, mps_rank_ambig());
    REQUIRE(mps_ap_create_k(&apA[P_DBG], pools[P_DBG], args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  REQUIRE(mps_ap_create_k(&apE[P_DBG2], pools[P_DBG2], mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_ap_create(&apE[P_DBG3], pools[P_DBG3], mps_rank_exact()) == MPS_RES_OK);
  REQUIRE(mps_ap_create(&apA[P_DBG3], pools[P_DBG3], mps_rank_ambig()) == MPS_RES_OK);
  /* some AMC objects for the debug objects to refer to */
  for (r = 0; r < 30; ++r) setRoot(300 + r, newObj(P_AMC, K_NODE, 1, 4, 0));
  collect("debug pools, clean");

  debugSegmentFree(P_DBG2);
  debugPool(P_DBG, fenceT, sizeof fenceT - 1, freeT, sizeof freeT - 1);
  for (r = 0; r < 30; ++r) setRoot(300 + r, newObj(P_AMC, K_NODE, 1, 4, 0));
  debugPool(P_DBG2, "POST", 4, "FREE", 4);
  for (r = 0; r < 30; ++r) setRoot(300 + r, newObj(P_AMC, K_NODE, 1, 4, 0));
  debugPool(P_DBG3, fenceT3, sizeof fenceT3 - 1, freeT3, sizeof freeT3 - 1);

  for (r = 0; r < NROOTS; ++r) setRoot(r, -1);
  mps_arena_park(arena);
  mps_ap_destroy(apE[P_AMC]);
  for (pl = 0; pl < NPOOLS; ++pl)
    if (pools[pl] != NULL) mps_pool_destroy(pools[pl]);
  noNewReports("destroying the debug pools");
  memset(pools, 0, sizeof pools);
  memset(apE, 0, sizeof apE);
  memset(apA, 0, sizeof apA);
  mps_chain_destroy(chain);
  mps_fmt_destroy(fmt);
}

int main(int argc, char **argv)
{
  mps_lib_assert_fail_t old;

  testSeed(argc, argv);
  old = amsOpen();
  debugPhase();
  printf("%lu collections, %lu pinned objects checked, %lu walks\n", nCollect, nPinnedChecks,
         nWalked);
  amsClose(old);
  return testFinish();
}
