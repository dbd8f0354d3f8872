/* test_awl_weak.c -- weak-key hash tables built in AWL exactly as MPS
 * clients build them, through the public MPS interface, with finalization
 * of their keys, checked after every collection against a model of what
 * is strongly reachable (weakmodel.h; weak-value caches and misuse are in
 * test_weak_cache.c).
 *
 * The tables are the weak tables of the tests and benchmarks
 * (tests/gcp_testing/weaktable.c, GCP_WTABLE_WEAK_KEYS): a keys array of
 * rank weak and a values array of rank exact, AWL objects that name each
 * other as dependent (MPS_KEY_AWL_FIND_DEPENDENT), the location
 * dependency in the table's descriptor (a table dies: the client destroys
 * it); keys are AMC and AMS objects hashed by address (mps_ld_add on
 * insert, mps_ld_isstale on a lookup miss, then rehash), values objects or
 * tagged integers.  The scan method deletes an entry whose key was
 * splatted and tells the splat callback, which logs it.  Tables grow into
 * new arrays and rehash in place.  Random operations (inserts,
 * lookups, dropped and rewired objects, garbage, weak-root slots,
 * finalization registrations, tables dying), first with the arena parked,
 * then released (automatic collections, known by their gc messages, and
 * steps).  Everything runs twice: no in-band header, AWL in generation 0
 * and AMS keys in generation 1 of a three-generation chain; then a
 * one-word header, AWL in generation 1 (so that nursery collections scan
 * the weak arrays as segments that are not condemned) and AMS in
 * generation 0.
 *
 * Checks, after every collection:
 *  - every entry whose key is strongly reachable, or is protected by
 *    finalization (registered and not yet finalized, or reachable from
 *    such an object), keeps key and value intact, with AMC objects'
 *    addresses updated, and is found by lookup (after an LD-driven rehash
 *    if needed); a key that is in no table is not found;
 *  - nothing reachable or protected is ever splatted, no slot is splatted
 *    twice, an entry is deleted exactly once, key and value together,
 *    only in the table's current keys array (or, during a growth, the one
 *    it leaves); the arrays stay in the AWL pool, intact, and never move
 *    unless the table grew; every slot (gcp_wtable_slot) is free in both
 *    arrays alike or an entry the model has, once;
 *  - after a full collection every entry whose key died is deleted; after
 *    an automatic one a not-yet-deleted dead entry still refers to its
 *    intact object (no dangling weak reference);
 *  - weak roots (an area and a table root of rank weak): slots of dead
 *    objects become NULL (after a full collection: all of them), live ones
 *    are updated when AMC moves their objects;
 *  - finalization: a message only for a registered object that is not
 *    strongly reachable, at most one per registration, one for every
 *    finalizable object at a full collection; a registered key is not
 *    splatted until its message has been received and discarded and a
 *    later collection finds it dead; resurrected keys stay;
 *  - references agree: every reference to an object (roots, objects,
 *    arrays, weak roots, messages) gives the same address; non-moving
 *    pools' objects never move; no exact reference is ever splatted; the
 *    format methods meet only well-formed objects; stale LDs were seen.
 * A short deterministic acceptance sequence runs first.  Failures name
 * the table, slot, entry and object.
 * Usage: test_awl_weak [seed].  Design: docs/design/ms.md, interface.md,
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

/* Insert a new key object (rooted in slot r) with a new value. */
static int insertWeakKey(int t, int keyPool, int valKind, int r)
{
  int key, val = -1, e;
  unsigned long ival = 0;
  key = newNode(keyPool, r);
  if (valKind == 0)
    ival = rnd() % 1000000;
  else
    val = newNode(valKind == 1 ? P_AMC : P_AMS, SCRATCH);
  e = newEntry(t, key, val, 0, ival);
  /* no allocation since the objects were made: their addresses are current */
  putEntry(t, e, (mps_word_t)obj[key].addr, val >= 0 ? (mps_word_t)obj[val].addr : W_INT(ival));
  setRoot(SCRATCH, -1);
  return e;
}

/* ---- the acceptance sequence ---------------------------------------------------------------- */

static void acceptance(void)
{
  int t = 0, e[6], k, r[6];
  for (k = 0; k < 6; ++k) r[k] = FIRSTROOT + k;
  plainNodes = 1;
  newTable(t, 1);
  e[0] = insertWeakKey(t, P_AMC, 1, r[0]); /* kept */
  e[1] = insertWeakKey(t, P_AMC, 1, r[1]); /* dropped */
  e[2] = insertWeakKey(t, P_AMS, 2, r[2]); /* kept */
  e[3] = insertWeakKey(t, P_AMS, 1, r[3]); /* dropped */
  e[4] = insertWeakKey(t, P_AMC, 0, r[4]); /* dropped, registered for finalization */
  e[5] = insertWeakKey(t, P_AMS, 2, r[5]); /* dropped, registered for finalization */
  registerFinal(ent[e[4]].key);
  registerFinal(ent[e[5]].key);
  weakSlots[0][0] = obj[ent[e[0]].key].addr, weakId[0][0] = ent[e[0]].key;
  weakSlots[0][1] = obj[ent[e[1]].key].addr, weakId[0][1] = ent[e[1]].key;
  weakSlots[1][0] = obj[ent[e[4]].key].addr, weakId[1][0] = ent[e[4]].key;
  setRoot(r[1], -1);
  setRoot(r[3], -1);
  setRoot(r[4], -1);
  setRoot(r[5], -1);
  plainNodes = 0;
  collect();
  checkAllLookups();
  CHECK(ent[e[0]].deleted == 0 && ent[e[2]].deleted == 0);
  CHECK(ent[e[1]].deleted == 1 && ent[e[3]].deleted == 1);
  CHECK(ent[e[4]].deleted == 0 && ent[e[5]].deleted == 0); /* finalized now, not splatted */
  CHECK(obj[ent[e[4]].key].finCount == 1 && obj[ent[e[5]].key].finCount == 1);
  CHECK(weakSlots[0][0] == rootTab[r[0]] && weakSlots[0][1] == NULL);
  CHECK(weakSlots[1][0] != NULL); /* kept by finalization */
  /* unless resurrected, the finalized keys go at the next collection */
  collect();
  checkAllLookups();
  for (k = 4; k < 6; ++k) {
    int key = ent[e[k]].key, resurrected = 0, q;
    for (q = 0; q < NROOTS; ++q) resurrected |= rootId[q] == key;
    CHECK(ent[e[k]].deleted == !resurrected);
    CHECK(obj[key].finCount == 1);
  }
  CHECK(errors == 0);
}

/* ---- the program ---------------------------------------------------------------------------- */

/* A new key object (AMC or AMS, rooted in slot r) with a new value; some
 * keys are registered for finalization. */
static void insertKey(int t, int r)
{
  int e = insertWeakKey(t, rnd() % 4 == 0 ? P_AMS : P_AMC, (int)(rnd() % 3), r);
  if (rnd() % 6 == 0) registerFinal(ent[e].key);
}

static void scenario(size_t header, unsigned awlGen, unsigned amsGen)
{
  int t;
  wmOpen(header, awlGen, amsGen);
  acceptance();
  for (t = 1; t < MAXTAB; ++t) newTable(t, 1);
  collect();
  checkAllLookups();
  workload(1, insertKey);
  wmClose(header, awlGen, amsGen);
}

int main(int argc, char **argv)
{
  testSeed(argc, argv);
  scenario(0, 0, 1);
  scenario(WORD, 1, 0);
  wmReport();
  CHECK(nMissStale > 0);
  return testFinish();
}
