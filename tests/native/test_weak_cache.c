/* test_weak_cache.c -- weak-value caches built in AWL exactly as MPS
 * clients build them, through the public MPS interface, with weak roots
 * and finalization of their values, checked after every collection
 * against a model of what is strongly reachable (weakmodel.h; weak-key
 * tables are in test_awl_weak.c); and misuse of the weak and ambiguous
 * ranks.
 *
 * The caches are the weak tables of the tests and benchmarks
 * (tests/gcp_testing/weaktable.c, GCP_WTABLE_WEAK_VALUES): a keys array of
 * rank exact (tagged integers) and a values array of rank weak (AMC, AMS
 * and LO objects), AWL objects that name each other as dependent
 * (MPS_KEY_AWL_FIND_DEPENDENT).  The scan method deletes an entry whose
 * value was splatted and tells the splat callback, which logs it.  Open
 * addressing; caches grow into new arrays.  One cache grows to 32768
 * slots (arrays of 256 KiB, each in a segment of its own), its values a
 * few hundred rooted objects.  Random operations (inserts of new
 * values, rooted or kept only by the cache, and of rooted ones; lookups,
 * dropped and rewired objects, garbage, weak-root slots (an area root
 * with mps_scan_area and a table root, both of rank weak), finalization
 * registrations, caches dying), first with the arena parked, then
 * released (automatic collections, known by their gc messages, and
 * steps).  Everything runs twice: no in-band header, AWL in generation 0
 * and AMS in generation 1 of a three-generation chain; then a one-word
 * header, AWL in generation 1 (nursery collections scan the weak arrays
 * as segments that are not condemned) and AMS in generation 0.
 *
 * Checks, after every collection: every entry whose value is strongly
 * reachable or protected by finalization keeps key and value intact (AMC
 * addresses updated) and is found by lookup; nothing reachable or
 * protected is splatted, no slot twice, an entry is deleted exactly once,
 * key and value together, only in the cache's current values array (or
 * the one a growth leaves), whose arrays stay intact in the AWL pool,
 * unmoved unless grown; after a full collection every entry whose value
 * died is deleted, after an automatic one none dangles; weak-root slots of
 * dead objects become NULL (after a full collection all of them), live
 * ones are updated; finalization messages only for registered objects
 * that are not strongly reachable, at most one each, one for every
 * finalizable object at a full collection, and a registered value is not
 * splatted before its message is discarded; every reference to an object
 * gives the same address; non-moving pools' objects never move; no exact
 * reference is splatted; the format methods meet only well-formed
 * objects.  Misuse: mps_ap_create_k of rank weak on AMS, rank ambiguous
 * on AWL (keyword and varargs forms) fail with MPS_RES_PARAM and a
 * report, without crashing; the right ranks still work.  Failures name
 * the cache, slot, entry and object.
 * Usage: test_weak_cache [seed].  Design: docs/design/ms.md, interface.md,
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
#include "weakmodel.h"
#include "weakops.h"

/* Insert an integer key with a value: a new object (kept in root slot r,
 * or only by the cache when r < 0) or an existing rooted one. */
static int insertCache(int t, int val, int valPool, int r)
{
  int e;
  unsigned long k = nextInt++;
  if (val < 0) {
    val = newNode(valPool, r >= 0 ? r : SCRATCH);
  }
  e = newEntry(t, -1, val, k, 0);
  putEntry(t, e, W_INT(k), (mps_word_t)obj[val].addr);
  setRoot(SCRATCH, -1);
  return e;
}

/* ---- misuse ------------------------------------------------------------------------------- */

static void misuse(void)
{
  mps_lib_assert_fail_t old = mps_lib_assert_fail_install(recordHandler);
  mps_ap_t ap = NULL;
  unsigned long r0;
  mps_res_t res;
  r0 = reports;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_RANK, mps_rank_weak());
    res = mps_ap_create_k(&ap, pools[P_AMS], args);
  }
  MPS_ARGS_END(args);
  CHECK(res == MPS_RES_PARAM && ap == NULL);
  CHECK(reported(r0, "rank"));
  r0 = reports;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_RANK, mps_rank_ambig());
    res = mps_ap_create_k(&ap, pools[P_AWL], args);
  }
  MPS_ARGS_END(args);
  CHECK(res == MPS_RES_PARAM && ap == NULL);
  CHECK(reported(r0, "rank"));
  r0 = reports;
  res = mps_ap_create(&ap, pools[P_AWL], mps_rank_ambig());
  CHECK(res == MPS_RES_PARAM && ap == NULL);
  CHECK(reported(r0, "rank"));
  r0 = reports;
  res = mps_ap_create(&ap, pools[P_AMS], mps_rank_weak());
  CHECK(res == MPS_RES_PARAM && ap == NULL);
  CHECK(reported(r0, "rank"));
  /* the right ranks still work */
  r0 = reports;
  CHECK(mps_ap_create(&ap, pools[P_AWL], mps_rank_weak()) == MPS_RES_OK);
  if (ap != NULL) mps_ap_destroy(ap);
  ap = NULL;
  CHECK(mps_ap_create(&ap, pools[P_AMS], mps_rank_ambig()) == MPS_RES_OK);
  if (ap != NULL) mps_ap_destroy(ap);
  CHECK(reports == r0);
  mps_lib_assert_fail_install(old);
}

/* ---- the program ---------------------------------------------------------------------------- */

/* A new value object (AMC, AMS or LO; rooted in slot r or kept only by the
 * cache) or a rooted one, under a new integer key; some new values are
 * registered for finalization. */
static void insertValue(int t, int r)
{
  int val = rnd() % 4 == 0 ? rootedNode(NULL) : -1, e;
  e = insertCache(t, val,
                  (int)(rnd() % 3 == 0 ? P_LO
                        : rnd() % 2    ? P_AMS
                                       : P_AMC),
                  rnd() % 2 ? r : -1);
  if (val < 0 && rnd() % 8 == 0 && !obj[ent[e].val].dead) registerFinal(ent[e].val);
}

static void scenario(size_t header, unsigned awlGen, unsigned amsGen)
{
  int t, i;
  wmOpen(header, awlGen, amsGen);
  for (t = 0; t < MAXTAB; ++t) newTable(t, 0);
  /* the big cache */
  for (i = 0; i < 300; ++i) {
    int r = freeRoot();
    if (r >= 0) (void)newNode(rnd() % 2 ? P_AMC : P_AMS, r);
  }
  for (i = 0; i < 7000; ++i) {
    int v = rootedNode(NULL);
    if (v >= 0) (void)insertCache(2, v, P_AMC, -1);
  }
  collect();
  checkAllLookups();
  workload(0, insertValue);
  misuse();
  wmClose(header, awlGen, amsGen);
}

int main(int argc, char **argv)
{
  testSeed(argc, argv);
  scenario(0, 0, 1);
  scenario(WORD, 1, 0);
  wmReport();
  return testFinish();
}
