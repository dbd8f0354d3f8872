/* test_awl_weak.c -- weak references through the public MPS interface:
 * weak-key hash tables and weak-value caches built in AWL exactly as MPS
 * clients build them, weak roots, and finalization, checked after every
 * collection against a model of what is strongly reachable.
 *
 * Tables.  A table object (AMC or AMS; it holds the table's mps_ld_s in
 * two data words) refers to a keys array and a values array, both AWL
 * objects that name each other as dependent (MPS_KEY_AWL_FIND_DEPENDENT).
 * Weak-key tables: keys array from an allocation point of rank weak,
 * values array of rank exact; keys are AMC and AMS objects hashed by
 * address (mps_ld_add on insert, mps_ld_isstale on a lookup miss, then
 * rehash); values are objects or tagged integers.  Weak-value caches:
 * keys array exact (tagged integers), values array weak (AMC, AMS and LO
 * objects).  The scan method (weakfmt.h) turns a splatted slot and the
 * same slot of the dependent array into a tombstone and logs it.
 * Open addressing; tables grow into new arrays; rehash in place.  One
 * cache grows to 16384 slots (arrays of 128 KiB).  Everything runs twice:
 * no in-band header, AWL in generation 0 and AMS keys in generation 1 of a
 * three-generation chain; then a one-word header, AWL in generation 1 (so
 * that nursery collections scan the weak arrays as segments that are not
 * condemned) and AMS in generation 0.
 *
 * Checks, after every collection (full collections by mps_arena_collect
 * with the arena parked, and automatic ones while it is released, which
 * are only known to have happened by their gc messages):
 *  - every entry whose key (value, for caches) is strongly reachable, or
 *    is protected by finalization (registered and not yet finalized, or
 *    reachable from such an object), keeps key and value intact, with
 *    AMC objects' addresses updated, and is found by lookup (after an
 *    LD-driven rehash if needed);
 *  - nothing reachable or protected is ever splatted, no slot is splatted
 *    twice, an entry is deleted exactly once, key and value together;
 *  - after a full collection every entry whose key died is deleted; after
 *    an automatic one a not-yet-deleted dead entry still refers to its
 *    intact object (no dangling weak reference);
 *  - weak roots (mps_root_create_area with mps_scan_area, and
 *    mps_root_create_table, both of rank weak): slots of dead objects
 *    become NULL (after a full collection: all of them), live ones are
 *    updated when AMC moves their objects;
 *  - finalization: a message only for a registered object that is not
 *    strongly reachable, at most one per registration, one for every
 *    finalizable object at a full collection; a registered key is not
 *    splatted until its message has been received and discarded and a
 *    later collection finds it dead; resurrected keys stay;
 *  - references agree: every reference to an object (roots, objects,
 *    arrays, weak roots, messages) gives the same address; non-moving
 *    pools' objects never move; no exact reference is ever splatted; the
 *    format methods meet only well-formed objects.
 * A short deterministic acceptance sequence runs first.  Misuse:
 * mps_ap_create_k of rank weak on AMS, rank ambiguous on AWL (keyword and
 * varargs forms) fail with MPS_RES_PARAM and a report, without crashing.
 * Only an exact root table and the weak roots exist (the thread is
 * registered, its stack is no root).  Failures name the table, slot,
 * entry and object.
 * Usage: test_awl_weak [seed].  Spec: mps-interface.md §3.5, §3.6, §4,
 * §6, §7, §8, §11, §12, §13.
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

enum { P_AMC, P_AMS, P_AWL, P_LO, NPOOLS };
static const char *const poolName[NPOOLS] = {"AMC", "AMS", "AWL", "LO"};

static mps_arena_t arena;
static mps_fmt_t fmt;
static mps_chain_t chain;
static mps_pool_t pools[NPOOLS];
static mps_ap_t apAMC, apAMS, apLO, apWeak, apExact;

/* ---- the model ---------------------------------------------------------------- */

#define MAXOBJ 100000
#define MAXREFS 3
#define MAXENT 60000
#define MAXTAB 10
#define NROOTS 1500
#define SCRATCH MAXTAB                  /* root slots [SCRATCH, SCRATCH+3) */
#define FIRSTROOT (SCRATCH + 3)         /* objects' root slots from here */
#define NWEAK 40

typedef struct {
  unsigned char pool, kind, dead, reg, fin, finCount;
  unsigned short nslots, ndata;
  int refs[MAXREFS];                    /* plain objects and tables */
  int table;                            /* arrays: their table (current or retired) */
  int keyOf;                            /* weak-key entry whose key this is, or -1 */
  mps_addr_t addr;                      /* client pointer, current after refresh() */
} Obj;

typedef struct {
  int weakKeys;                         /* 1: weak-key table; 0: weak-value cache */
  int live, objId, keysId, valsId;
  unsigned cap, used, tombs;
  int *slotEntry;                       /* entry in each slot, or -1 */
} Table;

typedef struct {
  int table, key, val;                  /* key: object (weak-key tables); val: object or -1 */
  unsigned long ikey, ival;             /* integer key (caches), integer value (val < 0) */
  int deleted;
} Entry;

static Obj obj[MAXOBJ];
static int nobj;
static Table tab[MAXTAB];
static Entry ent[MAXENT];
static int nent;
static mps_addr_t rootTab[NROOTS];
static int rootId[NROOTS];
static mps_addr_t weakSlots[2][NWEAK];  /* an area root and a table root, both weak */
static int weakId[2][NWEAK];
static int released;                    /* the arena is released: collections may happen */

/* statistics and what must have happened by the end */
static unsigned long nLookups, nMissStale, nRehash, nDeleted, nWeakRootSplats, nFinal,
    nResurrect, nCollections, nAutoCollections, nGrow, nRefresh, nDeadArraySplats;
static unsigned long errors;            /* detailed failures reported by refresh */

#define FAIL(...) do { ++errors; if (errors <= 30) { fprintf(stderr, "  " __VA_ARGS__); \
  fputc('\n', stderr); } } while (0)

static mps_word_t *slotsOf(int id) { return wfSlots(obj[id].addr); }
static mps_ld_t ldOf(int t) { return (mps_ld_t)(void *)(wfSlots(obj[tab[t].objId].addr) + 2); }
static int isCurrentArray(int id)
{
  int t = obj[id].table;
  return t >= 0 && tab[t].live && (tab[t].keysId == id || tab[t].valsId == id);
}

static int intact(mps_addr_t c, int id)
{
  mps_pool_t pl;
  mps_word_t *f;
  size_t k;
  if (c == NULL || id < 0 || id >= nobj || ((mps_word_t)c & (WORD - 1)) != 0) return 0;
  if (!mps_addr_pool(&pl, arena, c) || pl != pools[obj[id].pool]) return 0;
  if (*wfTag(c) != (wfSize(obj[id].nslots, obj[id].ndata) | T_OBJ)) return 0;
  f = wfF(c);
  if (f[0] != INFO(id, obj[id].kind) || f[2] != (((mps_word_t)obj[id].nslots << 1) | 1)) return 0;
  for (k = obj[id].kind == K_TABLE ? 2 : 0; k < obj[id].ndata; ++k)
    if (f[3 + obj[id].nslots + k] != dataWord(id, k)) return 0;
  return 1;
}

/* ---- reachability in the model ---------------------------------------------------- */

static unsigned char strongS[MAXOBJ], protS[MAXOBJ], candS[MAXOBJ], fromCand[MAXOBJ],
    seenS[MAXOBJ];
static int markStack[MAXOBJ * MAXREFS + MAXENT + NROOTS + 64];

/* The model's strong edges of object x, to push(). */
static void forEdges(int x, void (*push)(int))
{
  int k, t;
  unsigned i;
  if (obj[x].kind == K_NODE || obj[x].kind == K_TABLE) {
    for (k = 0; k < obj[x].nslots; ++k)
      if (obj[x].refs[k] >= 0) push(obj[x].refs[k]);
  } else if (obj[x].kind == K_SVALS && isCurrentArray(x)) {
    t = obj[x].table;
    for (i = 0; i < tab[t].cap; ++i) {
      int e = tab[t].slotEntry[i];
      if (e >= 0 && ent[e].val >= 0) push(ent[e].val);
    }
  }
}

static size_t msp;
static void msPush(int y) { markStack[msp++] = y; }

/* Add everything reachable from `from` to set. */
static void closure(unsigned char *set, int from)
{
  msp = 0;
  msPush(from);
  while (msp > 0) {
    int x = markStack[--msp];
    if (set[x]) continue;
    set[x] = 1;
    forEdges(x, msPush);
  }
}

/* strongS: reachable from the root table; candS: registered, not yet
 * finalized, not strongly reachable (finalizable); protS: reachable from
 * a candidate (kept by finalization); fromCand: reachable from some
 * candidate's references (such a candidate may wait for the next
 * collection to be finalized). */
static void computeSets(void)
{
  int r, x;
  memset(strongS, 0, (size_t)nobj);
  memset(protS, 0, (size_t)nobj);
  memset(candS, 0, (size_t)nobj);
  memset(fromCand, 0, (size_t)nobj);
  for (r = 0; r < NROOTS; ++r)
    if (rootId[r] >= 0) closure(strongS, rootId[r]);
  for (x = 0; x < nobj; ++x)
    if (obj[x].reg && !obj[x].fin && !strongS[x]) candS[x] = 1;
  for (x = 0; x < nobj; ++x) {
    if (!candS[x]) continue;
    closure(protS, x);
    msp = 0;
    forEdges(x, msPush);
    while (msp > 0) {
      int y = markStack[--msp];
      if (fromCand[y]) continue;
      fromCand[y] = 1;
      forEdges(y, msPush);
    }
  }
}

static int liveS(int id) { return strongS[id] || protS[id]; }

/* ---- checking after collections ------------------------------------------------------ */

typedef struct { mps_addr_t p; int id; } Visit;
static Visit visits[MAXOBJ * MAXREFS + 2 * MAXENT + 4 * NROOTS + 2 * NWEAK + 1024];
static size_t nvisits;

static void visit(mps_addr_t p, int id)
{
  REQUIRE(nvisits < sizeof visits / sizeof visits[0]);
  visits[nvisits].p = p;
  visits[nvisits++].id = id;
}

/* The slots of a current array of table t, and its partner's. */
static void checkArray(int x, int full)
{
  int t = obj[x].table;
  Table *T = &tab[t];
  mps_word_t *s = slotsOf(x);
  unsigned i;
  for (i = 0; i < T->cap; ++i) {
    int e = T->slotEntry[i];
    mps_word_t w = s[i];
    if (e < 0) {
      mps_word_t other = slotsOf(x == T->keysId ? T->valsId : T->keysId)[i];
      if ((w != W_EMPTY && w != W_TOMB) || w != other)
        FAIL("table %d slot %u: free slot holds %#lx, partner %#lx", t, i, w, other);
      continue;
    }
    switch (obj[x].kind) {
    case K_WKEYS: case K_WVALS: {
      int v = obj[x].kind == K_WKEYS ? ent[e].key : ent[e].val;
      if (!IS_REF(w)) {
        FAIL("table %d slot %u (entry %d): weak slot holds %#lx but the entry was not "
             "logged as deleted", t, i, e, w);
      } else if (liveS(v)) {
        visit((mps_addr_t)w, v);
      } else if (full) {
        FAIL("table %d slot %u (entry %d): %s object %d is dead but was not splatted by a "
             "full collection", t, i, e, poolName[obj[v].pool], v);
      } else if (!intact((mps_addr_t)w, v)) {
        FAIL("table %d slot %u (entry %d): dangling weak reference %p to dead object %d",
             t, i, e, (void *)w, v);
      }
      break;
    }
    case K_SVALS:
      if (ent[e].val >= 0) visit((mps_addr_t)w, ent[e].val);
      else if (w != W_INT(ent[e].ival))
        FAIL("table %d slot %u: integer value %#lx, expected %#lx", t, i, w, W_INT(ent[e].ival));
      break;
    case K_SKEYS:
      if (w != W_INT(ent[e].ikey))
        FAIL("cache %d slot %u: integer key %#lx, expected %#lx", t, i, w, W_INT(ent[e].ikey));
      break;
    default:
      FAIL("object %d is not an array", x);
    }
  }
}

/* Visit everything reachable from the pending visits, reading the heap:
 * every object intact, every reference to it the same address. */
static void drainVisits(int full)
{
  while (nvisits > 0) {
    Visit v = visits[--nvisits];
    Obj *o = &obj[v.id];
    int k;
    if (seenS[v.id]) {
      if (o->addr != v.p)
        FAIL("two references to %s object %d disagree: %p and %p", poolName[o->pool], v.id,
             o->addr, v.p);
      continue;
    }
    if (!intact(v.p, v.id)) {
      FAIL("reference %p to %s object %d (kind %u) does not lead to it intact", v.p,
           poolName[o->pool], v.id, o->kind);
      continue;
    }
    seenS[v.id] = 1;
    if (o->pool != P_AMC && o->addr != v.p)
      FAIL("%s object %d moved from %p to %p", poolName[o->pool], v.id, o->addr, v.p);
    o->addr = v.p;
    if (o->kind == K_NODE || o->kind == K_TABLE) {
      mps_word_t *s = slotsOf(v.id);
      for (k = 0; k < o->nslots; ++k) {
        if (o->refs[k] >= 0) visit((mps_addr_t)s[k], o->refs[k]);
        else if (s[k] != 0) FAIL("object %d slot %d: %#lx, expected null", v.id, k, s[k]);
      }
    } else if (o->kind != K_LEAF && isCurrentArray(v.id)) {
      checkArray(v.id, full);
    }
  }
}

static struct { mps_message_t m; mps_addr_t ref; int id; } msgs[1024];

static int idOfRef(mps_addr_t ref)
{
  mps_pool_t pl;
  int id;
  if (ref == NULL || !mps_addr_pool(&pl, arena, ref) || TYPE(*wfTag(ref)) != T_OBJ) return -1;
  id = INFO_ID(wfF(ref)[0]);
  return id >= 0 && id < nobj && intact(ref, id) ? id : -1;
}

static int freeRoot(void);

/* After a collection (full: mps_arena_collect, parked; otherwise an
 * automatic one that happened in an allocation or a step): messages, the
 * splat log, the traversal, weak roots; then the model moves on. */
static void refresh(int full)
{
  size_t nmsg = 0, i;
  int x, r, j, t;
  mps_message_type_t type;

  ++nRefresh;
  computeSets();

  /* messages: finalization ones are kept until the end */
  while (mps_message_queue_type(&type, arena)) {
    mps_message_t m;
    REQUIRE(mps_message_get(&m, arena, type));
    if (type == mps_message_type_finalization()) {
      mps_addr_t ref = NULL;
      int id;
      mps_message_finalization_ref(&ref, arena, m);
      id = idOfRef(ref);
      if (id < 0) {
        FAIL("finalization message with reference %p to no object of the program", ref);
      } else if (!obj[id].reg || obj[id].fin) {
        FAIL("finalization message for object %d, which is not registered (or was finalized)", id);
      } else if (strongS[id]) {
        FAIL("finalization message for %s object %d, which is strongly reachable",
             poolName[obj[id].pool], id);
      }
      REQUIRE(nmsg < sizeof msgs / sizeof msgs[0]);
      msgs[nmsg].m = m;
      msgs[nmsg].ref = ref;
      msgs[nmsg++].id = id;
      continue;
    }
    if (type == mps_message_type_gc()) ++nCollections;
    mps_message_discard(arena, m);
  }

  /* the splat log */
  for (i = 0; i < wfLogN; ++i) {
    int a = wfLog[i].arr, e, victim;
    unsigned s = wfLog[i].slot;
    if (a < 0 || a >= nobj || (obj[a].kind != K_WKEYS && obj[a].kind != K_WVALS)) {
      FAIL("splat logged for object %d, which is not a weak array", a);
      continue;
    }
    if (!isCurrentArray(a)) {
      /* an array the program dropped: scanned only when not condemned */
      if (full) FAIL("splat logged in dead array %d (slot %u) by a full collection", a, s);
      ++nDeadArraySplats;
      continue;
    }
    t = obj[a].table;
    e = s < tab[t].cap ? tab[t].slotEntry[s] : -1;
    if (e < 0) {
      FAIL("splat logged for table %d slot %u, which holds no entry (deleted twice?)", t, s);
      continue;
    }
    victim = tab[t].weakKeys ? ent[e].key : ent[e].val;
    if (strongS[victim])
      FAIL("table %d entry %d: %s object %d was splatted while strongly reachable", t, e,
           poolName[obj[victim].pool], victim);
    else if (protS[victim])
      FAIL("table %d entry %d: %s object %d was splatted while kept by finalization%s", t, e,
           poolName[obj[victim].pool], victim,
           candS[victim] ? " (it is registered and its message was not discarded)" : "");
    if (++ent[e].deleted != 1) FAIL("entry %d deleted %d times", e, ent[e].deleted);
    tab[t].slotEntry[s] = -1;
    --tab[t].used;
    ++tab[t].tombs;
    ++nDeleted;
  }
  if (wfLogLost != 0) FAIL("%lu splats not logged (log full)", (unsigned long)wfLogLost);
  wfLogN = 0;

  /* each finalizable object gets its message at a full collection (unless
     another finalizable object refers to it) */
  if (full)
    for (x = 0; x < nobj; ++x) {
      int got = 0;
      for (i = 0; i < nmsg; ++i) got |= msgs[i].id == x;
      if (candS[x] && !fromCand[x] && !got)
        FAIL("%s object %d is finalizable but no message came", poolName[obj[x].pool], x);
    }

  /* the traversal: roots, message references, weak roots */
  memset(seenS, 0, (size_t)nobj);
  nvisits = 0;
  for (r = 0; r < NROOTS; ++r)
    if (rootId[r] >= 0) visit(rootTab[r], rootId[r]);
  for (i = 0; i < nmsg; ++i)
    if (msgs[i].id >= 0) visit(msgs[i].ref, msgs[i].id);
  for (j = 0; j < 2; ++j)
    for (r = 0; r < NWEAK; ++r) {
      mps_addr_t p = weakSlots[j][r];
      x = weakId[j][r];
      if (x < 0) {
        if (p != NULL) FAIL("weak root %d/%d: %p appeared in an empty slot", j, r, p);
      } else if (p == NULL) {
        if (liveS(x))
          FAIL("weak root %d/%d: live %s object %d was splatted%s", j, r, poolName[obj[x].pool],
               x, strongS[x] ? "" : " (kept by finalization)");
        weakId[j][r] = -1;
        ++nWeakRootSplats;
      } else if (liveS(x)) {
        visit(p, x);
      } else if (full) {
        FAIL("weak root %d/%d: dead %s object %d not splatted by a full collection", j, r,
             poolName[obj[x].pool], x);
      } else if (!intact(p, x)) {
        FAIL("weak root %d/%d: dangling reference %p to dead object %d", j, r, p, x);
      }
    }
  drainVisits(full);
  /* everything still strongly reachable (now that deleted entries no
     longer hold their values) was reached */
  memset(fromCand, 0, (size_t)nobj);
  for (r = 0; r < NROOTS; ++r)
    if (rootId[r] >= 0) closure(fromCand, rootId[r]);
  for (x = 0; x < nobj; ++x)
    if (fromCand[x] && !seenS[x])
      FAIL("strongly reachable %s object %d was not reached", poolName[obj[x].pool], x);

  /* finalization bookkeeping */
  for (i = 0; i < nmsg; ++i) {
    x = msgs[i].id;
    if (x >= 0) {
      obj[x].fin = 1;
      ++obj[x].finCount;
      ++nFinal;
    }
  }
  for (i = 0; i < nmsg; ++i) {
    x = msgs[i].id;
    /* resurrect some (only when parked: the model must not change in the middle of an
       allocation) */
    if (x >= 0 && !released && rnd() % 3 == 0 && (r = freeRoot()) >= 0) {
      rootTab[r] = msgs[i].ref;
      rootId[r] = x;
      ++nResurrect;
    }
    mps_message_discard(arena, msgs[i].m);
  }
  for (x = 0; x < nobj; ++x) {
    if (obj[x].finCount > 1) FAIL("object %d finalized %u times", x, obj[x].finCount);
    if (!liveS(x)) obj[x].dead = 1;
  }
  (void)t;
}

/* Called after every call that may collect. */
static void afterCall(void)
{
  mps_message_t m;
  unsigned long n = 0;
  if (!released) return;
  while (mps_message_get(&m, arena, mps_message_type_gc())) {
    mps_message_discard(arena, m);
    ++n;
  }
  if (n == 0 && wfLogN == 0) return;
  nCollections += n;
  nAutoCollections += n;
  refresh(0);
}

static void collect(void)
{
  REQUIRE(!released);
  CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  refresh(1);
}

/* ---- allocation ------------------------------------------------------------------------- */

typedef void (*FillFn)(int id, mps_word_t *slots, void *closure);

/* A new object; `fill` writes its slots after the reservation (so that it
 * reads addresses that are current) and sets the model's references. */
static int newObj(int pl, mps_ap_t ap, unsigned kind, unsigned nslots, unsigned ndata,
                  FillFn fill, void *closure)
{
  int id = nobj;
  size_t size = wfSize(nslots, ndata), k;
  mps_addr_t p;
  REQUIRE(nobj < MAXOBJ);
  memset(&obj[id], 0, sizeof obj[id]);
  obj[id].pool = (unsigned char)pl;
  obj[id].kind = (unsigned char)kind;
  obj[id].nslots = (unsigned short)nslots;
  obj[id].ndata = (unsigned short)ndata;
  obj[id].table = obj[id].keyOf = -1;
  for (k = 0; k < MAXREFS; ++k) obj[id].refs[k] = -1;
  do {
    mps_word_t *f;
    REQUIRE(mps_reserve(&p, ap, size) == MPS_RES_OK);
    afterCall();
    *(mps_word_t *)p = (mps_word_t)size | T_OBJ;
    f = wfF((char *)p + fmtHdr);
    f[0] = INFO(id, kind);
    f[1] = W_EMPTY;
    f[2] = ((mps_word_t)nslots << 1) | 1;
    for (k = 0; k < nslots; ++k) f[3 + k] = kind == K_NODE || kind == K_TABLE ? 0 : W_EMPTY;
    if (fill != NULL) fill(id, f + 3, closure);
    for (k = 0; k < ndata; ++k) f[3 + nslots + k] = dataWord(id, k);
  } while (!mps_commit(ap, p, size));
  obj[id].addr = (char *)p + fmtHdr;
  ++nobj;
  return id;
}

/* Unmodelled objects (no id), dead at once, referring to live ones. */
static void garbage(unsigned count)
{
  while (count-- > 0) {
    int pl = rnd() % 4 == 0 ? P_AMS : P_AMC;
    unsigned n = (unsigned)(rnd() % 3), ndata = (unsigned)(rnd() % 24), k;
    size_t size = wfSize(n, ndata);
    mps_ap_t ap = pl == P_AMC ? apAMC : apAMS;
    mps_addr_t p;
    do {
      mps_word_t *f;
      REQUIRE(mps_reserve(&p, ap, size) == MPS_RES_OK);
      afterCall();
      *(mps_word_t *)p = (mps_word_t)size | T_OBJ;
      f = wfF((char *)p + fmtHdr);
      f[0] = INFO(GARBAGE_ID, K_NODE);
      f[1] = W_EMPTY;
      f[2] = ((mps_word_t)n << 1) | 1;
      for (k = 0; k < n; ++k) {
        int r = FIRSTROOT + (int)(rnd() % (NROOTS - FIRSTROOT));
        f[3 + k] = rootId[r] >= 0 && obj[rootId[r]].kind == K_NODE ? (mps_word_t)rootTab[r] : 0;
      }
      for (k = 0; k < ndata; ++k) f[3 + n + k] = dataWord(GARBAGE_ID, k);
    } while (!mps_commit(ap, p, size));
  }
}

static void setRoot(int r, int id)
{
  rootId[r] = id;
  rootTab[r] = id < 0 ? NULL : obj[id].addr;
}

static int freeRoot(void)
{
  int tries;
  for (tries = 0; tries < 20; ++tries) {
    int r = FIRSTROOT + (int)(rnd() % (NROOTS - FIRSTROOT));
    if (rootId[r] < 0) return r;
  }
  return -1;
}

/* A random rooted plain object, or -1. */
static int rootedNode(int *slotReturn)
{
  int tries;
  for (tries = 0; tries < 20; ++tries) {
    int r = FIRSTROOT + (int)(rnd() % (NROOTS - FIRSTROOT));
    if (rootId[r] >= 0 && obj[rootId[r]].kind == K_NODE) {
      if (slotReturn != NULL) *slotReturn = r;
      return rootId[r];
    }
  }
  return -1;
}

static int plainNodes;                  /* new objects refer to nothing */

static void fillNode(int id, mps_word_t *s, void *closure)
{
  int k;
  (void)closure;
  for (k = 0; k < obj[id].nslots; ++k) {
    int r, t = !plainNodes && rnd() % 4 != 0 ? rootedNode(&r) : -1;
    obj[id].refs[k] = t;
    s[k] = t >= 0 ? (mps_word_t)rootTab[r] : 0;
  }
}

/* A plain object in pool pl referring to rooted ones, rooted in slot r. */
static int newNode(int pl, int r)
{
  mps_ap_t ap = pl == P_AMC ? apAMC : pl == P_AMS ? apAMS : apLO;
  unsigned n = pl == P_LO ? 0 : (unsigned)(rnd() % (MAXREFS + 1));
  int id = newObj(pl, ap, pl == P_LO ? K_LEAF : K_NODE, n, (unsigned)(1 + rnd() % 8),
                  pl == P_LO ? NULL : fillNode, NULL);
  setRoot(r, id);
  return id;
}

/* ---- the tables, as a client writes them ------------------------------------------------ */

static unsigned hashWord(mps_word_t w, unsigned cap)
{
  return (unsigned)(((w >> 3) * 0x9E3779B97F4A7C15ull) >> 40) & (cap - 1);
}

static int find(int t, mps_word_t kw)
{
  mps_word_t *K = slotsOf(tab[t].keysId);
  unsigned cap = tab[t].cap, i = hashWord(kw, cap), n;
  for (n = 0; n < cap; ++n, i = (i + 1) & (cap - 1)) {
    if (K[i] == W_EMPTY) return -1;
    if (K[i] == kw) return (int)i;
  }
  return -1;
}

/* Put an entry in a free slot (no allocation). */
static void place(int t, mps_word_t kw, mps_word_t vw, int e)
{
  Table *T = &tab[t];
  mps_word_t *K = slotsOf(T->keysId), *V = slotsOf(T->valsId);
  unsigned i, n;
  if (T->weakKeys) mps_ld_add(ldOf(t), arena, (mps_addr_t)kw);
  i = hashWord(kw, T->cap);
  for (n = 0; n < T->cap; ++n, i = (i + 1) & (T->cap - 1))
    if (K[i] == W_EMPTY || K[i] == W_TOMB) break;
  REQUIRE(n < T->cap);
  if (K[i] == W_TOMB) --T->tombs;
  K[i] = kw;
  V[i] = vw;
  T->slotEntry[i] = e;
  ++T->used;
}

typedef struct { mps_word_t k, v; int e; } Gathered;
static Gathered gathered[MAXENT];

/* Take the entries out of the current arrays (as a client would: by their
 * contents; the model's slot map must agree). */
static unsigned gather(int t)
{
  Table *T = &tab[t];
  mps_word_t *K = slotsOf(T->keysId), *V = slotsOf(T->valsId);
  unsigned i, n = 0;
  for (i = 0; i < T->cap; ++i) {
    int occupied = T->weakKeys ? IS_REF(K[i]) : K[i] != W_EMPTY && K[i] != W_TOMB;
    if (occupied != (T->slotEntry[i] >= 0))
      FAIL("table %d slot %u holds %#lx/%#lx but the model has entry %d", t, i, K[i], V[i],
           T->slotEntry[i]);
    if (T->slotEntry[i] < 0) continue;
    REQUIRE(n < sizeof gathered / sizeof gathered[0]);
    gathered[n].k = K[i];
    gathered[n].v = V[i];
    gathered[n++].e = T->slotEntry[i];
  }
  return n;
}

static void rehash(int t)
{
  Table *T = &tab[t];
  mps_word_t *K = slotsOf(T->keysId), *V = slotsOf(T->valsId);
  unsigned n = gather(t), i;
  for (i = 0; i < T->cap; ++i) {
    K[i] = V[i] = W_EMPTY;
    T->slotEntry[i] = -1;
  }
  T->used = T->tombs = 0;
  if (T->weakKeys) mps_ld_reset(ldOf(t), arena);
  for (i = 0; i < n; ++i) place(t, gathered[i].k, gathered[i].v, gathered[i].e);
  ++nRehash;
}

/* Lookup by key word: on a miss a stale dependency means a rehash. */
static int lookup(int t, mps_word_t kw)
{
  int i = find(t, kw);
  ++nLookups;
  if (i >= 0 || !tab[t].weakKeys) return i;
  if (mps_ld_isstale(ldOf(t), arena, (mps_addr_t)kw)) {
    ++nMissStale;
    rehash(t);
    i = find(t, kw);
  }
  return i;
}

static void fillArrayDep(int id, mps_word_t *s, void *closure)
{
  (void)id; (void)s; (void)closure;
}

static int newArray(int t, unsigned kind, unsigned cap, int r)
{
  int weak = kind == K_WKEYS || kind == K_WVALS;
  int id = newObj(P_AWL, weak ? apWeak : apExact, kind, cap, 1, fillArrayDep, NULL);
  obj[id].table = t;
  setRoot(r, id);
  return id;
}

/* New arrays of capacity cap, the entries moved into them. */
static void grow(int t, unsigned cap)
{
  Table *T = &tab[t];
  unsigned kk = T->weakKeys ? K_WKEYS : K_SKEYS, vk = T->weakKeys ? K_SVALS : K_WVALS;
  int ka = newArray(t, kk, cap, SCRATCH + 1), va = newArray(t, vk, cap, SCRATCH + 2);
  unsigned n, i;
  mps_word_t *ts;
  /* no allocation from here on */
  wfF(obj[ka].addr)[1] = (mps_word_t)obj[va].addr;
  wfF(obj[va].addr)[1] = (mps_word_t)obj[ka].addr;
  n = T->keysId >= 0 ? gather(t) : 0;
  T->keysId = ka;
  T->valsId = va;
  T->cap = cap;
  free(T->slotEntry);
  T->slotEntry = malloc(cap * sizeof(int));
  REQUIRE(T->slotEntry != NULL);
  for (i = 0; i < cap; ++i) T->slotEntry[i] = -1;
  T->used = T->tombs = 0;
  ts = slotsOf(T->objId);
  ts[0] = (mps_word_t)obj[ka].addr;
  ts[1] = (mps_word_t)obj[va].addr;
  obj[T->objId].refs[0] = ka;
  obj[T->objId].refs[1] = va;
  if (T->weakKeys) mps_ld_reset(ldOf(t), arena);
  for (i = 0; i < n; ++i) place(t, gathered[i].k, gathered[i].v, gathered[i].e);
  setRoot(SCRATCH + 1, -1);
  setRoot(SCRATCH + 2, -1);
  ++nGrow;
}

static void ensureRoom(int t)
{
  Table *T = &tab[t];
  if ((T->used + T->tombs + 1) * 4 > T->cap * 3)
    grow(t, (T->used + 1) * 2 > T->cap ? T->cap * 2 : T->cap);
}

static void fillTable(int id, mps_word_t *s, void *closure)
{
  int t = *(int *)closure;
  s[0] = (mps_word_t)rootTab[SCRATCH + 1];
  s[1] = (mps_word_t)rootTab[SCRATCH + 2];
  obj[id].refs[0] = rootId[SCRATCH + 1];
  obj[id].refs[1] = rootId[SCRATCH + 2];
  (void)t;
}

/* Table t (root slot t): its object in AMC or AMS, its arrays of capacity 8. */
static void newTable(int t, int weakKeys)
{
  Table *T = &tab[t];
  unsigned kk = weakKeys ? K_WKEYS : K_SKEYS, vk = weakKeys ? K_SVALS : K_WVALS;
  int ka, va, pl = rnd() % 3 == 0 ? P_AMS : P_AMC;
  free(T->slotEntry);
  memset(T, 0, sizeof *T);
  T->weakKeys = weakKeys;
  T->keysId = T->valsId = -1;
  ka = newArray(t, kk, 8, SCRATCH + 1);
  va = newArray(t, vk, 8, SCRATCH + 2);
  T->objId = newObj(pl, pl == P_AMC ? apAMC : apAMS, K_TABLE, 2, 3, fillTable, &t);
  setRoot(t, T->objId);
  obj[T->objId].table = t;
  T->live = 1;
  wfF(obj[ka].addr)[1] = (mps_word_t)obj[va].addr;
  wfF(obj[va].addr)[1] = (mps_word_t)obj[ka].addr;
  T->keysId = ka;
  T->valsId = va;
  T->cap = 8;
  T->slotEntry = malloc(8 * sizeof(int));
  REQUIRE(T->slotEntry != NULL);
  memset(T->slotEntry, 0xff, 8 * sizeof(int));
  if (weakKeys) mps_ld_reset(ldOf(t), arena);
  setRoot(SCRATCH + 1, -1);
  setRoot(SCRATCH + 2, -1);
}

static int newEntry(int t, int key, int val, unsigned long ikey, unsigned long ival)
{
  int e = nent++;
  REQUIRE(nent <= MAXENT);
  ent[e].table = t;
  ent[e].key = key;
  ent[e].val = val;
  ent[e].ikey = ikey;
  ent[e].ival = ival;
  ent[e].deleted = 0;
  return e;
}

static void registerFinal(int id)
{
  mps_addr_t ref = obj[id].addr;
  CHECK(mps_finalize(arena, &ref) == MPS_RES_OK);
  obj[id].reg = 1;
}

/* Insert a new key object (rooted in slot r) with a new value. */
static int insertWeakKey(int t, int keyPool, int valKind, int r)
{
  int key, val = -1, e;
  unsigned long ival = 0;
  key = newNode(keyPool, r);
  if (valKind == 0) ival = rnd() % 1000000;
  else val = newNode(valKind == 1 ? P_AMC : P_AMS, SCRATCH);
  ensureRoom(t);
  /* no allocation from here on: addresses are current */
  e = newEntry(t, key, val, 0, ival);
  place(t, (mps_word_t)obj[key].addr, val >= 0 ? (mps_word_t)obj[val].addr : W_INT(ival), e);
  obj[key].keyOf = e;
  setRoot(SCRATCH, -1);
  return e;
}

static unsigned long nextInt = 1;

/* Insert an integer key with a value: a new object (kept in root slot r,
 * or only by the cache when r < 0) or an existing rooted one. */
static int insertCache(int t, int val, int valPool, int r)
{
  int e;
  unsigned long k = nextInt++;
  if (val < 0) {
    val = newNode(valPool, r >= 0 ? r : SCRATCH);
  }
  ensureRoom(t);
  e = newEntry(t, -1, val, k, 0);
  place(t, W_INT(k), (mps_word_t)obj[val].addr, e);
  setRoot(SCRATCH, -1);
  return e;
}

/* The entry's current slot, or -1 (model). */
static int slotOfEntry(int e)
{
  int t = ent[e].table;
  unsigned i;
  for (i = 0; i < tab[t].cap; ++i)
    if (tab[t].slotEntry[i] == e) return (int)i;
  return -1;
}

/* Look up a live entry by its key as a client does, and check its value. */
static void checkLookup(int e)
{
  int t = ent[e].table, i;
  mps_word_t kw, want;
  if (tab[t].weakKeys) {
    if (obj[ent[e].key].dead) return;
    kw = (mps_word_t)obj[ent[e].key].addr;
  } else {
    kw = W_INT(ent[e].ikey);
  }
  i = lookup(t, kw);
  if (i < 0) {
    FAIL("table %d: lookup of entry %d (key %#lx) failed%s", t, e, kw,
         tab[t].weakKeys ? " even after the LD check" : "");
    return;
  }
  if (i != slotOfEntry(e)) {
    FAIL("table %d: lookup of entry %d found slot %d, the model has %d", t, e, i, slotOfEntry(e));
    return;
  }
  want = ent[e].val >= 0 ? (mps_word_t)obj[ent[e].val].addr : W_INT(ent[e].ival);
  if (slotsOf(tab[t].valsId)[i] != want)
    FAIL("table %d: entry %d has value %#lx, expected %#lx", t, e, slotsOf(tab[t].valsId)[i], want);
  else if (ent[e].val >= 0 && !intact((mps_addr_t)want, ent[e].val))
    FAIL("table %d: entry %d's value object %d is not intact", t, e, ent[e].val);
}

/* Every live entry of every table is found (after refresh). */
static void checkAllLookups(void)
{
  int t;
  unsigned i;
  for (t = 0; t < MAXTAB; ++t) {
    if (!tab[t].live) continue;
    for (i = 0; i < tab[t].cap; ++i) {
      int e = tab[t].slotEntry[i];
      int v;
      if (e < 0) continue;
      v = tab[t].weakKeys ? ent[e].key : ent[e].val;
      if (!obj[v].dead) checkLookup(e);
    }
  }
  /* a key that is in no table is not found */
  {
    int r, x = rootedNode(&r);
    if (x >= 0 && obj[x].keyOf < 0)
      for (t = 0; t < MAXTAB; ++t)
        if (tab[t].live && tab[t].weakKeys && lookup(t, (mps_word_t)rootTab[r]) >= 0)
          FAIL("table %d: object %d, which is no key, was found", t, x);
  }
}

/* ---- the acceptance sequence ---------------------------------------------------------------- */

static void acceptance(void)
{
  int t = 0, e[6], k, r[6];
  for (k = 0; k < 6; ++k) r[k] = FIRSTROOT + k;
  plainNodes = 1;
  newTable(t, 1);
  e[0] = insertWeakKey(t, P_AMC, 1, r[0]);   /* kept */
  e[1] = insertWeakKey(t, P_AMC, 1, r[1]);   /* dropped */
  e[2] = insertWeakKey(t, P_AMS, 2, r[2]);   /* kept */
  e[3] = insertWeakKey(t, P_AMS, 1, r[3]);   /* dropped */
  e[4] = insertWeakKey(t, P_AMC, 0, r[4]);   /* dropped, registered for finalization */
  e[5] = insertWeakKey(t, P_AMS, 2, r[5]);   /* dropped, registered for finalization */
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
  CHECK(ent[e[4]].deleted == 0 && ent[e[5]].deleted == 0);   /* finalized now, not splatted */
  CHECK(obj[ent[e[4]].key].finCount == 1 && obj[ent[e[5]].key].finCount == 1);
  CHECK(weakSlots[0][0] == rootTab[r[0]] && weakSlots[0][1] == NULL);
  CHECK(weakSlots[1][0] != NULL);                            /* kept by finalization */
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

/* ---- random operations ----------------------------------------------------------------------- */

static void randomOp(void)
{
  unsigned op = (unsigned)(rnd() % 100);
  int t = (int)(rnd() % MAXTAB), r, x, y, j, s;
  if (op < 30) {                                         /* insert */
    if (!tab[t].live) { newTable(t, t % 3 != 2); return; }
    if ((r = freeRoot()) < 0) r = FIRSTROOT + (int)(rnd() % (NROOTS - FIRSTROOT));
    if (tab[t].weakKeys) {
      int e = insertWeakKey(t, rnd() % 4 == 0 ? P_AMS : P_AMC, (int)(rnd() % 3), r);
      if (rnd() % 6 == 0) registerFinal(ent[e].key);
    } else {
      int val = rnd() % 4 == 0 ? rootedNode(NULL) : -1, e;
      e = insertCache(t, val, (int)(rnd() % 3 == 0 ? P_LO : rnd() % 2 ? P_AMS : P_AMC),
                      rnd() % 2 ? r : -1);
      if (val < 0 && rnd() % 8 == 0 && !obj[ent[e].val].dead) registerFinal(ent[e].val);
    }
  } else if (op < 45) {                                  /* lookups */
    for (j = 0; j < 8; ++j) {
      int e = nent > 0 ? (int)(rnd() % (unsigned)nent) : -1;
      if (e < 0 || ent[e].deleted || !tab[ent[e].table].live || slotOfEntry(e) < 0) continue;
      if (!obj[tab[ent[e].table].weakKeys ? ent[e].key : ent[e].val].dead) checkLookup(e);
    }
  } else if (op < 65) {                                  /* drop */
    r = FIRSTROOT + (int)(rnd() % (NROOTS - FIRSTROOT));
    setRoot(r, -1);
  } else if (op < 75) {                                  /* rewire */
    if ((x = rootedNode(&r)) >= 0 && obj[x].nslots > 0) {
      int k = (int)(rnd() % obj[x].nslots);
      y = rnd() % 3 != 0 ? rootedNode(&s) : -1;
      slotsOf(x)[k] = y >= 0 ? (mps_word_t)rootTab[s] : 0;
      obj[x].refs[k] = y;
    }
  } else if (op < 85) {                                  /* garbage */
    garbage((unsigned)(1 + rnd() % 30));
  } else if (op < 93) {                                  /* weak roots */
    j = (int)(rnd() % 2);
    s = (int)(rnd() % NWEAK);
    x = rnd() % 5 != 0 ? rootedNode(&r) : -1;
    weakSlots[j][s] = x >= 0 ? rootTab[r] : NULL;
    weakId[j][s] = x;
  } else if (op < 96) {                                  /* register */
    if ((x = rootedNode(NULL)) >= 0 && !obj[x].reg) registerFinal(x);
  } else if (op < 97) {                                  /* a table dies */
    if (t > 0 && tab[t].live) {
      tab[t].live = 0;
      setRoot(t, -1);
    }
  } else if (released) {
    (void)mps_arena_step(arena, 0.01, 1.0);
    afterCall();
  }
}

/* ---- misuse ------------------------------------------------------------------------------- */

static void misuse(void)
{
  mps_lib_assert_fail_t old = mps_lib_assert_fail_install(recordHandler);
  mps_ap_t ap = NULL;
  unsigned long r0;
  mps_res_t res;
  r0 = reports;
  MPS_ARGS_BEGIN(args) {
    MPS_ARGS_ADD(args, MPS_KEY_RANK, mps_rank_weak());
    res = mps_ap_create_k(&ap, pools[P_AMS], args);
  } MPS_ARGS_END(args);
  CHECK(res == MPS_RES_PARAM && ap == NULL);
  CHECK(reported(r0, "rank"));
  r0 = reports;
  MPS_ARGS_BEGIN(args) {
    MPS_ARGS_ADD(args, MPS_KEY_RANK, mps_rank_ambig());
    res = mps_ap_create_k(&ap, pools[P_AWL], args);
  } MPS_ARGS_END(args);
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

/* ---- main ----------------------------------------------------------------------------------- */

static void run(void)
{
  int round, i, t;
  mps_word_t c0;

  acceptance();
  for (t = 1; t < MAXTAB; ++t) newTable(t, t % 3 != 2);
  /* a big cache: arrays of more than 64 KiB (16384 slots), each in a
     segment of its own; its values are a few hundred rooted objects */
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

  /* parked: collections only when the program asks */
  for (round = 0; round < 60; ++round) {
    unsigned ops = 40 + (unsigned)(rnd() % 400);
    while (ops-- > 0) randomOp();
    collect();
    if (rnd() % 4 == 0) collect();
    checkAllLookups();
  }

  /* released: collections start on their own (small chain) and by steps */
  c0 = mps_collections(arena);
  released = 1;
  mps_arena_release(arena);
  for (i = 0; i < 20000; ++i) {
    randomOp();
    if (rnd() % 2 == 0) garbage(12);
    if (i % 1000 == 999) checkAllLookups();
  }
  mps_arena_park(arena);
  afterCall();
  released = 0;
  CHECK(nAutoCollections > 0);
  CHECK(mps_collections(arena) > c0);
  collect();
  checkAllLookups();
  collect();
  checkAllLookups();
}

/* One scenario: the format's header size, and the generations of the AWL
 * and AMS pools in a three-generation chain (AMC promotes through it). */
static void scenario(size_t header, unsigned awlGen, unsigned amsGen)
{
  mps_gen_param_s gens[3] = {{64, 0.8}, {256, 0.5}, {2000, 0.3}};
  mps_root_t root, weakArea, weakTable;
  mps_thr_t thread;
  int r, j;

  fmtHdr = header;
  nobj = nent = 0;
  nextInt = 1;
  wfLogN = 0;
  released = 0;
  for (j = 0; j < MAXTAB; ++j) {
    free(tab[j].slotEntry);
    memset(&tab[j], 0, sizeof tab[j]);
  }
  for (r = 0; r < NROOTS; ++r) setRoot(r, -1);
  for (j = 0; j < 2; ++j)
    for (r = 0; r < NWEAK; ++r) weakId[j][r] = -1, weakSlots[j][r] = NULL;
  REQUIRE(mps_arena_create_k(&arena, mps_arena_class_vm(), mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_thread_reg(&thread, arena) == MPS_RES_OK);   /* it touches managed memory */
  mps_arena_park(arena);
  REQUIRE(wfFormat(&fmt, arena, fmtHdr) == MPS_RES_OK);
  REQUIRE(mps_chain_create(&chain, arena, 3, gens) == MPS_RES_OK);
  MPS_ARGS_BEGIN(args) {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    REQUIRE(mps_pool_create_k(&pools[P_AMC], arena, mps_class_amc(), args) == MPS_RES_OK);
  } MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args) {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    MPS_ARGS_ADD(args, MPS_KEY_GEN, amsGen);
    REQUIRE(mps_pool_create_k(&pools[P_AMS], arena, mps_class_ams(), args) == MPS_RES_OK);
  } MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args) {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    MPS_ARGS_ADD(args, MPS_KEY_GEN, awlGen);
    MPS_ARGS_ADD(args, MPS_KEY_AWL_FIND_DEPENDENT, wfFindDependent);
    REQUIRE(mps_pool_create_k(&pools[P_AWL], arena, mps_class_awl(), args) == MPS_RES_OK);
  } MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args) {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    REQUIRE(mps_pool_create_k(&pools[P_LO], arena, mps_class_lo(), args) == MPS_RES_OK);
  } MPS_ARGS_END(args);
  REQUIRE(mps_ap_create_k(&apAMC, pools[P_AMC], mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_ap_create_k(&apAMS, pools[P_AMS], mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_ap_create_k(&apLO, pools[P_LO], mps_args_none) == MPS_RES_OK);
  MPS_ARGS_BEGIN(args) {
    MPS_ARGS_ADD(args, MPS_KEY_RANK, mps_rank_weak());
    REQUIRE(mps_ap_create_k(&apWeak, pools[P_AWL], args) == MPS_RES_OK);
  } MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args) {
    MPS_ARGS_ADD(args, MPS_KEY_RANK, mps_rank_exact());
    REQUIRE(mps_ap_create_k(&apExact, pools[P_AWL], args) == MPS_RES_OK);
  } MPS_ARGS_END(args);
  REQUIRE(mps_root_create_table(&root, arena, mps_rank_exact(), 0, rootTab, NROOTS) == MPS_RES_OK);
  REQUIRE(mps_root_create_area(&weakArea, arena, mps_rank_weak(), 0, weakSlots[0],
                               weakSlots[0] + NWEAK, mps_scan_area, NULL) == MPS_RES_OK);
  REQUIRE(mps_root_create_table(&weakTable, arena, mps_rank_weak(), 0, weakSlots[1], NWEAK)
          == MPS_RES_OK);
  mps_message_type_enable(arena, mps_message_type_finalization());
  mps_message_type_enable(arena, mps_message_type_gc());

  run();
  misuse();
  printf("header %zu, AWL in generation %u, AMS in %u: %d objects, %d entries\n", header,
         awlGen, amsGen, nobj, nent);

  mps_message_type_disable(arena, mps_message_type_finalization());
  mps_message_type_disable(arena, mps_message_type_gc());
  mps_arena_park(arena);
  mps_root_destroy(weakTable);
  mps_root_destroy(weakArea);
  mps_root_destroy(root);
  mps_ap_destroy(apExact);
  mps_ap_destroy(apWeak);
  mps_ap_destroy(apLO);
  mps_ap_destroy(apAMS);
  mps_ap_destroy(apAMC);
  for (j = NPOOLS - 1; j >= 0; --j) mps_pool_destroy(pools[j]);
  mps_chain_destroy(chain);
  mps_fmt_destroy(fmt);
  mps_thread_dereg(thread);
  mps_arena_destroy(arena);
}

int main(int argc, char **argv)
{
  int t;
  testSeed(argc, argv);
  scenario(0, 0, 1);
  scenario(WORD, 1, 0);
  printf("%lu deleted by splats; %lu lookups, %lu stale misses, %lu rehashes, %lu grown; "
         "%lu weak root splats; %lu finalized (%lu resurrected); %lu collections "
         "(%lu automatic), %lu checks of the model; %lu splats in dropped arrays that were "
         "not condemned\n",
         nDeleted, nLookups, nMissStale, nRehash, nGrow, nWeakRootSplats, nFinal, nResurrect,
         nCollections, nAutoCollections, nRefresh, nDeadArraySplats);
  if (errors != 0) fprintf(stderr, "%lu failures found by the model checks\n", errors);
  CHECK(errors == 0);
  CHECK(wfBadTags == 0);
  CHECK(wfExactSplats == 0);
  CHECK(wfBadDependent == 0);
  CHECK(wfAmbigChanged == 0);
  /* the run exercised what it checks */
  CHECK(nDeleted > 0);
  CHECK(nMissStale > 0);
  CHECK(nWeakRootSplats > 0);
  CHECK(nFinal > 0);
  CHECK(nGrow > 0);
  for (t = 0; t < MAXTAB; ++t) free(tab[t].slotEntry);
  return testFinish();
}
