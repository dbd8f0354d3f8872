/* test_gc_messages.c -- messages, finalization, location dependency and
 * walks over AMC, AMCZ and LO pools.
 *
 * Messages: nothing is posted for disabled types; gc_start messages carry a
 * non-empty reason, gc messages plausible live/condemned/not-condemned
 * sizes (live <= condemned, live at least what the program keeps,
 * condemned at least what it allocated since the previous collection), the
 * two come in pairs with ordered clocks; mps_message_poll, queue_type,
 * type, clock; disabling a type discards its queued messages.
 * Finalization: objects of all three pools registered with mps_finalize,
 * some kept, some dropped, one registered twice, one definalized
 * (mps_definalize OK once, then FAIL): exactly one message per
 * registration of a dead object (one or two for the double one), none for
 * live ones; the message's reference gives the object (possibly moved)
 * intact; a message keeps its object alive; a resurrected object survives;
 * after the messages are discarded the objects are reclaimed.
 * Location dependency: mps_ld_reset/add/merge/isstale/isstale_any around
 * collections that move an AMC object; LO objects are added but their
 * answer is not asserted.  Walks: mps_arena_formatted_objects_walk,
 * mps_arena_roots_walk and mps_pool_walk against the program's model.
 * Only an exact table root exists (the stack is not a root), the arena is
 * parked throughout.
 * Usage: test_gc_messages [seed].  Design: docs/design/collector-interface.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpscamc.h"
#include "mpsclo.h"
#include "testlib.h"
#include "wordfmt.h"

#define MAXOBJ  4000
#define MAXREFS 3
#define NROOTS  64

enum { AMC, AMCZ, LO, NPOOLS };
static const char *const poolName[NPOOLS] = { "AMC", "AMCZ", "LO" };

static mps_arena_t arena;
static mps_pool_t pools[NPOOLS];
static mps_ap_t aps[NPOOLS];
static mps_fmt_t fmtOf[NPOOLS];
static mps_root_t root;

/* ---- data words (the format is wordfmt.h: tag, id, nrefs, refs, data) ---------- */

static mps_word_t dataWord(mps_word_t id, size_t k) { return (id * 0x9E3779B97F4A7C15ull) + k; }

/* ---- objects and the model ---------------------------------------------------------- */

typedef struct {
  int pool;
  unsigned nrefs;
  size_t ndata;
  int refs[MAXREFS];
  mps_addr_t addr;
} Obj;

static Obj obj[MAXOBJ];
static unsigned nobj;
static mps_addr_t rootTab[NROOTS];
static int rootId[NROOTS];
static unsigned char reach[MAXOBJ];
static size_t allocatedSince; /* bytes allocated since the last collection */

static size_t objSize(unsigned nrefs, size_t ndata) { return WORD * (3 + nrefs + ndata); }

/* A new object in pool pl referring to the objects refs (ids, -1 null). */
static int newObj(int pl, unsigned nrefs, const int *refs, size_t ndata)
{
  int id = (int)nobj++;
  size_t size = objSize(nrefs, ndata), k;
  mps_addr_t p;
  REQUIRE(nobj <= MAXOBJ);
  obj[id].pool = pl;
  obj[id].nrefs = nrefs;
  obj[id].ndata = ndata;
  for (k = 0; k < nrefs; ++k) obj[id].refs[k] = refs[k];
  do {
    mps_word_t *w;
    REQUIRE(mps_reserve(&p, aps[pl], size) == MPS_RES_OK);
    w = p;
    w[0] = (mps_word_t)size | T_OBJ;
    w[1] = (mps_word_t)id;
    w[2] = nrefs;
    for (k = 0; k < nrefs; ++k) w[3 + k] = refs[k] < 0 ? 0 : (mps_word_t)obj[refs[k]].addr;
    for (k = 0; k < ndata; ++k) w[3 + nrefs + k] = dataWord((mps_word_t)id, k);
  } while (!mps_commit(aps[pl], p, size));
  obj[id].addr = p;
  allocatedSince += size;
  return id;
}

static int intact(mps_addr_t p, int id)
{
  mps_pool_t pool;
  mps_word_t *w = p;
  size_t k;
  if (p == NULL || id < 0 || (unsigned)id >= nobj) return 0;
  if (!mps_addr_pool(&pool, arena, p) || pool != pools[obj[id].pool]) return 0;
  if (w[0] != (objSize(obj[id].nrefs, obj[id].ndata) | T_OBJ) || w[1] != (mps_word_t)id ||
      w[2] != obj[id].nrefs)
    return 0;
  for (k = 0; k < obj[id].ndata; ++k)
    if (w[3 + obj[id].nrefs + k] != dataWord((mps_word_t)id, k)) return 0;
  return 1;
}

static void setRoot(int r, int id)
{
  rootId[r] = id;
  rootTab[r] = id < 0 ? NULL : obj[id].addr;
}

/* Traverse from the roots: everything reachable intact; addresses updated.
 * Returns the bytes reachable. */
static size_t traverse(void)
{
  static struct {
    mps_addr_t p;
    int id;
  } stack[MAXOBJ * (MAXREFS + 1) + NROOTS];
  size_t sp = 0, bytes = 0;
  unsigned long bad = 0;
  int r;
  memset(reach, 0, sizeof reach);
  for (r = 0; r < NROOTS; ++r) {
    if (rootId[r] < 0) continue;
    stack[sp].p = rootTab[r];
    stack[sp++].id = rootId[r];
  }
  while (sp > 0) {
    mps_addr_t p = stack[--sp].p;
    int id = stack[sp].id;
    unsigned j;
    if (reach[id]) {
      if (obj[id].addr != p) ++bad;
      continue;
    }
    if (!intact(p, id)) {
      ++bad;
      continue;
    }
    reach[id] = 1;
    obj[id].addr = p;
    bytes += objSize(obj[id].nrefs, obj[id].ndata);
    for (j = 0; j < obj[id].nrefs; ++j) {
      mps_addr_t q = (mps_addr_t)((mps_word_t *)p)[3 + j];
      if (obj[id].refs[j] < 0) {
        if (q != NULL) ++bad;
        continue;
      }
      stack[sp].p = q;
      stack[sp++].id = obj[id].refs[j];
    }
  }
  CHECK(bad == 0);
  return bytes;
}

/* mps_collections must count every full collection of the AMC and AMCZ
 * pools (flips in which objects might move, docs/design/interface.md):
 * checked at the end. */
static unsigned long nCollect, flatCollections;

static void collect(void)
{
  mps_word_t before = mps_collections(arena);
  CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  ++nCollect;
  if (mps_collections(arena) <= before) ++flatCollections;
  allocatedSince = 0;
}

/* ---- messages ------------------------------------------------------------------------ */

#define MAXGC 64
static struct {
  mps_clock_t clock;
  size_t live, condemned, notCondemned;
} gcs[MAXGC];
static mps_clock_t starts[MAXGC];
static unsigned nGc, nStart;
static unsigned char finCount[MAXOBJ];
static unsigned long badFinal;
static int keepId = -1; /* keep the message for this object */
static mps_message_t kept;

/* Takes every queued message, by the type at the head of the queue. */
static void drain(void)
{
  mps_message_type_t type;
  while (mps_message_queue_type(&type, arena)) {
    mps_message_t m;
    CHECK(mps_message_poll(arena));
    REQUIRE(mps_message_get(&m, arena, type));
    CHECK(mps_message_type(arena, m) == type);
    if (type == mps_message_type_gc_start()) {
      const char *why = mps_message_gc_start_why(arena, m);
      CHECK(why != NULL && strlen(why) > 0);
      if (nStart < MAXGC) starts[nStart] = mps_message_clock(arena, m);
      ++nStart;
    } else if (type == mps_message_type_gc()) {
      if (nGc < MAXGC) {
        gcs[nGc].clock = mps_message_clock(arena, m);
        gcs[nGc].live = mps_message_gc_live_size(arena, m);
        gcs[nGc].condemned = mps_message_gc_condemned_size(arena, m);
        gcs[nGc].notCondemned = mps_message_gc_not_condemned_size(arena, m);
      }
      ++nGc;
    } else if (type == mps_message_type_finalization()) {
      mps_addr_t ref = NULL;
      mps_word_t id;
      mps_message_finalization_ref(&ref, arena, m);
      CHECK(mps_message_clock(arena, m) == 0);
      id = ref != NULL ? ((mps_word_t *)ref)[1] : (mps_word_t)-1;
      if (id < nobj && intact(ref, (int)id)) {
        obj[id].addr = ref;
        if (finCount[id] < 255) ++finCount[id];
        if ((int)id == keepId && kept == NULL) {
          kept = m;
          continue;
        }
      } else {
        ++badFinal;
      }
    } else {
      CHECK(0 && "unknown message type");
    }
    mps_message_discard(arena, m);
  }
  CHECK(!mps_message_poll(arena));
}

static size_t poolsTotal(void)
{
  size_t t = 0;
  int pl;
  for (pl = 0; pl < NPOOLS; ++pl) t += mps_pool_total_size(pools[pl]);
  return t;
}

static void gcMessages(void)
{
  mps_message_t m;
  size_t live, garbageBytes = 0;
  unsigned i, first;
  int r;
  CHECK(!mps_message_poll(arena)); /* nothing enabled yet */
  for (r = 0; r < 20; ++r) {
    int pl = r % NPOOLS, ref = r >= 3 && pl == AMC ? rootId[r - 3] : -1;
    setRoot(r, newObj(pl, pl == AMC ? 1 : 0, &ref, (size_t)(rnd() % 40)));
  }
  collect();
  CHECK(!mps_message_poll(arena));
  mps_message_type_enable(arena, mps_message_type_gc());
  mps_message_type_enable(arena, mps_message_type_gc_start());
  mps_message_type_enable(arena, mps_message_type_gc()); /* no effect */
  live = traverse();
  while (garbageBytes < ((size_t)1 << 20)) {
    int pl = (int)(rnd() % NPOOLS);
    size_t ndata = rnd() % 100;
    (void)newObj(pl, 0, NULL, ndata);
    garbageBytes += objSize(0, ndata);
  }
  first = nGc;
  for (i = 0; i < 3; ++i) {
    size_t since = allocatedSince, totalBefore = poolsTotal();
    collect();
    drain();
    CHECK(nGc == nStart);
    CHECK(nGc == first + i + 1);
    if (nGc == first + i + 1 && nGc <= MAXGC) {
      unsigned g = nGc - 1;
      if (gcs[g].live < live || gcs[g].condemned < live + since || gcs[g].live > gcs[g].condemned ||
          gcs[g].condemned > totalBefore + ((size_t)1 << 20) ||
          gcs[g].notCondemned > totalBefore + ((size_t)1 << 20))
        fprintf(stderr,
                "gc message: live %zu, condemned %zu, not condemned %zu; the "
                "program keeps %zu and allocated %zu since; the pools' total was %zu\n",
                gcs[g].live, gcs[g].condemned, gcs[g].notCondemned, live, since, totalBefore);
      CHECK(gcs[g].live <= gcs[g].condemned);
      CHECK(gcs[g].live >= live);
      CHECK(gcs[g].condemned >= live + since);
      CHECK(gcs[g].condemned <= totalBefore + ((size_t)1 << 20));
      CHECK(gcs[g].notCondemned <= totalBefore + ((size_t)1 << 20));
      CHECK(starts[g] <= gcs[g].clock);
      CHECK(g == 0 || gcs[g - 1].clock <= starts[g]);
    }
  }
  /* disabling a type discards its queued messages */
  collect();
  CHECK(mps_message_poll(arena));
  mps_message_type_disable(arena, mps_message_type_gc());
  CHECK(!mps_message_get(&m, arena, mps_message_type_gc()));
  CHECK(mps_message_get(&m, arena, mps_message_type_gc_start()));
  mps_message_discard(arena, m);
  CHECK(!mps_message_poll(arena));
  mps_message_type_disable(arena, mps_message_type_gc_start());
  mps_message_type_disable(arena, mps_message_type_gc_start()); /* no effect */
  collect();
  CHECK(!mps_message_poll(arena));
  mps_message_type_enable(arena, mps_message_type_gc());
  mps_message_type_enable(arena, mps_message_type_gc_start());
  nGc = nStart = 0;
}

/* ---- finalization ------------------------------------------------------------------- */

static void finalization(void)
{
  int liveReg[NPOOLS], dead[NPOOLS][4], twice[NPOOLS], definal[NPOOLS], plain[NPOOLS];
  int pl, k, r = 30, round;
  unsigned long missing = 0, extra = 0, id;
  mps_addr_t ref;
  mps_message_type_enable(arena, mps_message_type_finalization());
  for (pl = 0; pl < NPOOLS; ++pl) {
    int self = -1;
    liveReg[pl] = newObj(pl, 0, NULL, 5);
    plain[pl] = newObj(pl, 0, NULL, 5);
    setRoot(r++, liveReg[pl]);
    setRoot(r++, plain[pl]);
    ref = obj[liveReg[pl]].addr;
    CHECK(mps_finalize(arena, &ref) == MPS_RES_OK);
    for (k = 0; k < 4; ++k) {
      /* dead AMC objects refer to a dead leaf, which must stay intact until
         the AMC object is finalized */
      int leaf = pl == AMC ? newObj(AMCZ + k % 2, 0, NULL, 3) : -1;
      dead[pl][k] = newObj(pl, pl == AMC ? 1 : 0, &leaf, 1 + (size_t)k * 30);
      ref = obj[dead[pl][k]].addr;
      CHECK(mps_finalize(arena, &ref) == MPS_RES_OK);
    }
    twice[pl] = newObj(pl, 0, NULL, 2);
    ref = obj[twice[pl]].addr;
    CHECK(mps_finalize(arena, &ref) == MPS_RES_OK);
    CHECK(mps_finalize(arena, &ref) == MPS_RES_OK);
    definal[pl] = newObj(pl, pl == AMC ? 1 : 0, &self, 4);
    ref = obj[definal[pl]].addr;
    CHECK(mps_finalize(arena, &ref) == MPS_RES_OK);
    CHECK(mps_definalize(arena, &ref) == MPS_RES_OK);
    CHECK(mps_definalize(arena, &ref) == MPS_RES_FAIL);
  }
  keepId = dead[AMC][0];
  for (round = 0; round < 3; ++round) {
    collect();
    drain();
    CHECK(badFinal == 0);
    traverse();
  }
  for (pl = 0; pl < NPOOLS; ++pl) {
    for (k = 0; k < 4; ++k)
      if (finCount[dead[pl][k]] != 1) ++missing;
    if (finCount[twice[pl]] < 1 || finCount[twice[pl]] > 2) ++missing;
    if (finCount[liveReg[pl]] != 0 || finCount[plain[pl]] != 0 || finCount[definal[pl]] != 0)
      ++extra;
  }
  if (missing != 0 || extra != 0)
    for (id = 0; id < nobj; ++id)
      if (finCount[id] != 0)
        fprintf(stderr, "object %lu (%s): %u finalization messages\n", id, poolName[obj[id].pool],
                finCount[id]);
  CHECK(missing == 0);
  CHECK(extra == 0);

  /* the kept message keeps its object (and what it refers to) alive */
  REQUIRE(kept != NULL);
  collect();
  drain();
  mps_message_finalization_ref(&ref, arena, kept);
  CHECK(intact(ref, keepId));
  CHECK(intact((mps_addr_t)((mps_word_t *)ref)[3], obj[keepId].refs[0]));
  mps_message_discard(arena, kept);
  kept = NULL;
  /* resurrect it through a root; then drop it with the rest */
  obj[keepId].addr = ref;
  setRoot(r, keepId);
  collect();
  drain();
  traverse();
  CHECK(reach[keepId]);
  setRoot(r, -1);
  for (pl = 0; pl < NPOOLS; ++pl) { /* the live registered ones die now */
    setRoot(30 + 2 * pl, -1);
    collect();
    drain();
    CHECK(finCount[liveReg[pl]] == 1);
  }
  CHECK(finCount[keepId] == 1); /* registered once: no second message */
  collect();
  drain();
  CHECK(badFinal == 0);
}

/* ---- location dependency ------------------------------------------------------------ */

static void locationDependency(void)
{
  mps_ld_s ld, ld2, ld3, ldLo, empty;
  int x = newObj(AMC, 0, NULL, 8), y = newObj(LO, 0, NULL, 8), round, movedSeen = 0;
  setRoot(40, x);
  setRoot(41, y);
  while (allocatedSince < ((size_t)256 << 10)) /* the AP leaves x's segment */
    (void)newObj(AMC, 0, NULL, 60);
  mps_ld_reset(&empty, arena);
  for (round = 0; round < 5; ++round) {
    mps_addr_t before = rootTab[40], loBefore = rootTab[41];
    mps_ld_reset(&ld, arena);
    CHECK(!mps_ld_isstale(&ld, arena, before)); /* nothing added yet */
    CHECK(!mps_ld_isstale_any(&ld, arena));
    mps_ld_add(&ld, arena, before);
    mps_ld_reset(&ld2, arena);
    mps_ld_add(&ld2, arena, before);
    mps_ld_reset(&ldLo, arena);
    mps_ld_add(&ldLo, arena, loBefore);
    collect();
    CHECK(rootTab[41] == loBefore);               /* LO never moves */
    (void)mps_ld_isstale(&ldLo, arena, loBefore); /* either answer */
    mps_ld_reset(&ld3, arena);
    CHECK(!mps_ld_isstale(&ld3, arena, rootTab[40]));
    CHECK(!mps_ld_isstale_any(&ld3, arena));
    mps_ld_merge(&ld3, arena, &empty);
    CHECK(!mps_ld_isstale_any(&ld3, arena));
    if (rootTab[40] != before) {
      movedSeen = 1;
      CHECK(mps_ld_isstale(&ld, arena, before));
      CHECK(mps_ld_isstale_any(&ld, arena));
      mps_ld_merge(&ld3, arena, &ld2); /* keeps the older epoch */
      CHECK(mps_ld_isstale_any(&ld3, arena));
      CHECK(mps_ld_isstale(&ld3, arena, before));
    }
    obj[x].addr = rootTab[40];
    CHECK(intact(rootTab[40], x));
  }
  CHECK(movedSeen);
  setRoot(40, -1);
  setRoot(41, -1);
}

/* ---- walks ---------------------------------------------------------------------------- */

static unsigned char walkSeen[MAXOBJ];
static unsigned long walkBad, rootRefs, walkRefs;

static void objectStep(mps_addr_t p, mps_fmt_t fmt, mps_pool_t pool, void *cl, size_t s)
{
  mps_word_t tag = *(mps_word_t *)p, id;
  if (cl != &walkSeen || s != 42) {
    ++walkBad;
    return;
  }
  if (TYPE(tag) == T_PAD || TYPE(tag) == T_PAD1) return;
  id = ((mps_word_t *)p)[1];
  if (TYPE(tag) != T_OBJ || id >= nobj || pool != pools[obj[id].pool] ||
      fmt != fmtOf[obj[id].pool]) {
    ++walkBad;
    return;
  }
  if (walkSeen[id] < 255) ++walkSeen[id];
}

static unsigned long rootBad;

static unsigned char rootMatched[NROOTS];

/* For a table root `ref` may point at a copy (the reference's area
 * scanners fix a local): match the value against the unmatched slots. */
static void rootStep(mps_addr_t *ref, mps_root_t r, void *cl, size_t s)
{
  int i;
  if (cl != &rootRefs || s != 7 || r != root || ref == NULL || *ref == NULL) {
    ++rootBad;
    return;
  }
  for (i = 0; i < NROOTS; ++i)
    if (!rootMatched[i] && rootTab[i] == *ref) {
      rootMatched[i] = 1;
      ++rootRefs;
      return;
    }
  ++rootBad;
}

static mps_res_t walkArea(mps_ss_t ss, void *base, void *limit, void *closure)
{
  char *p = base;
  if (closure != &walkRefs) ++walkBad;
  MPS_SCAN_BEGIN(ss)
  {
    while (p < (char *)limit) {
      mps_word_t *w = (mps_word_t *)p, tag = w[0];
      size_t size = TYPE(tag) == T_PAD1 || TYPE(tag) == T_FWD1 ? WORD : SIZE(tag), i;
      if (TYPE(tag) == T_OBJ) {
        if (w[1] < nobj && walkSeen[w[1]] < 255)
          ++walkSeen[w[1]];
        else
          ++walkBad;
        for (i = 0; i < w[2]; ++i) {
          mps_addr_t r = (mps_addr_t)w[3 + i];
          if (r == NULL) continue;
          ++walkRefs;
          if (MPS_FIX1(ss, r)) {
            mps_res_t res = MPS_FIX2(ss, &r);
            if (res != MPS_RES_OK) return res;
            w[3 + i] = (mps_word_t)r;
          }
        }
      } else if (TYPE(tag) != T_PAD && TYPE(tag) != T_PAD1) {
        ++walkBad;
        break;
      }
      if (size == 0) {
        ++walkBad;
        break;
      }
      p += size;
    }
  }
  MPS_SCAN_END(ss);
  return MPS_RES_OK;
}

static void walks(void)
{
  unsigned long wrong = 0, refs = 0, nonNull = 0;
  unsigned id, i;
  int r;
  traverse();                 /* current addresses */
  for (i = 0; i < 300; ++i) { /* a random graph over the three pools */
    int pl = (int)(rnd() % NPOOLS), refIds[MAXREFS];
    unsigned n = pl == AMC ? (unsigned)(rnd() % (MAXREFS + 1)) : 0, j;
    for (j = 0; j < n; ++j) {
      int t = rootId[rnd() % NROOTS];
      refIds[j] = t >= 0 && rnd() % 4 != 0 ? t : -1;
    }
    setRoot((int)(rnd() % NROOTS), newObj(pl, n, refIds, (size_t)(rnd() % 20)));
  }
  collect();
  drain();
  traverse();
  for (r = 0; r < NROOTS; ++r)
    if (rootTab[r] != NULL) ++nonNull;

  memset(walkSeen, 0, sizeof walkSeen);
  walkBad = 0;
  mps_arena_formatted_objects_walk(arena, objectStep, &walkSeen, 42);
  for (id = 0; id < nobj; ++id)
    if (walkSeen[id] != reach[id]) ++wrong;
  if (wrong != 0 || walkBad != 0)
    fprintf(stderr, "formatted objects walk: %lu objects wrong, %lu bad steps\n", wrong, walkBad);
  CHECK(wrong == 0);
  CHECK(walkBad == 0);

  rootRefs = rootBad = 0;
  memset(rootMatched, 0, sizeof rootMatched);
  mps_arena_roots_walk(arena, rootStep, &rootRefs, 7);
  if (rootBad != 0 || rootRefs != nonNull)
    fprintf(stderr,
            "roots walk: %lu references as expected, %lu unexpected; the root holds "
            "%lu\n",
            rootRefs, rootBad, nonNull);
  CHECK(rootBad == 0);
  CHECK(rootRefs == nonNull);

  memset(walkSeen, 0, sizeof walkSeen);
  walkRefs = 0;
  CHECK(mps_pool_walk(pools[AMC], walkArea, &walkRefs) == MPS_RES_OK);
  wrong = 0;
  for (id = 0; id < nobj; ++id) {
    if (walkSeen[id] != (reach[id] && obj[id].pool == AMC)) ++wrong;
    if (reach[id] && obj[id].pool == AMC)
      for (i = 0; i < obj[id].nrefs; ++i) refs += obj[id].refs[i] >= 0;
  }
  if (wrong != 0 || walkBad != 0 || walkRefs != refs)
    fprintf(stderr, "pool walk: %lu objects wrong, %lu bad, %lu references (expected %lu)\n", wrong,
            walkBad, walkRefs, refs);
  CHECK(wrong == 0);
  CHECK(walkBad == 0);
  CHECK(walkRefs == refs);
  traverse(); /* the walk changed nothing */
}

int main(int argc, char **argv)
{
  mps_fmt_t nodeFmt, leafFmt;
  mps_thr_t thr;
  mps_pool_class_t classes[NPOOLS];
  int pl, r;

  testSeed(argc, argv);
  classes[AMC] = mps_class_amc();
  classes[AMCZ] = mps_class_amcz();
  classes[LO] = mps_class_lo();
  REQUIRE(mps_arena_create_k(&arena, mps_arena_class_vm(), mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_thread_reg(&thr, arena) == MPS_RES_OK);
  mps_arena_park(arena);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FMT_SCAN, fmtScan);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_SKIP, fmtSkip);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_FWD, fmtFwd);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_ISFWD, fmtIsfwd);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_PAD, fmtPad);
    REQUIRE(mps_fmt_create_k(&nodeFmt, arena, args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FMT_SKIP, fmtSkip);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_FWD, fmtFwd);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_ISFWD, fmtIsfwd);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_PAD, fmtPad);
    REQUIRE(mps_fmt_create_k(&leafFmt, arena, args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  fmtOf[AMC] = nodeFmt;
  fmtOf[AMCZ] = fmtOf[LO] = leafFmt;
  for (pl = 0; pl < NPOOLS; ++pl) {
    MPS_ARGS_BEGIN(args)
    {
      MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmtOf[pl]);
      REQUIRE(mps_pool_create_k(&pools[pl], arena, classes[pl], args) == MPS_RES_OK);
    }
    MPS_ARGS_END(args);
    REQUIRE(mps_ap_create_k(&aps[pl], pools[pl], mps_args_none) == MPS_RES_OK);
  }
  for (r = 0; r < NROOTS; ++r) setRoot(r, -1);
  REQUIRE(mps_root_create_table(&root, arena, mps_rank_exact(), 0, rootTab, NROOTS) == MPS_RES_OK);

  gcMessages();
  finalization();
  locationDependency();
  walks();
  printf("%u objects, %lu collections\n", nobj, (unsigned long)mps_collections(arena));
  CHECK(badTags == 0);
  CHECK(nGc == nStart);
  if (flatCollections != 0)
    fprintf(stderr, "mps_collections did not grow in %lu of %lu full collections\n",
            flatCollections, nCollect);
  CHECK(flatCollections == 0);

  mps_message_type_disable(arena, mps_message_type_finalization());
  mps_message_type_disable(arena, mps_message_type_gc());
  mps_message_type_disable(arena, mps_message_type_gc_start());
  mps_arena_park(arena);
  mps_root_destroy(root);
  for (pl = 0; pl < NPOOLS; ++pl) {
    mps_ap_destroy(aps[pl]);
    mps_pool_destroy(pools[pl]);
  }
  mps_fmt_destroy(leafFmt);
  mps_fmt_destroy(nodeFmt);
  mps_thread_dereg(thr);
  mps_arena_destroy(arena);
  return testFinish();
}
