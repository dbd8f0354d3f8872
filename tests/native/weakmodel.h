/* weakmodel.h -- the model shared by test_awl_weak and test_weak_cache:
 * AMC, AMS, AWL and LO pools in a three-generation chain, objects of the
 * weakfmt.h format (plain objects, table objects and the keys and values
 * arrays of weak tables, whose splats the scan method logs), an exact root
 * table and two weak roots (mps_root_create_area with mps_scan_area, and
 * mps_root_create_table, both of rank weak), and the checks after every
 * collection (full ones by mps_arena_collect with the arena parked,
 * automatic ones while it is released, known by their gc messages)
 * against a model of what is strongly reachable or kept by finalization:
 * entries and weak-root slots of live objects intact and updated, of dead
 * ones splatted by a full collection and never dangling; nothing live
 * splatted, nothing splatted twice; finalization messages exactly for the
 * finalizable objects, at most one per registration; every reference to
 * an object the same address; non-moving pools' objects never move.
 * The tables themselves, as a client writes them, are in weaktables.h.
 * Header-only, like testlib.h (include that and weakfmt.h first).
 */
#ifndef WEAKMODEL_H
#define WEAKMODEL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpscamc.h"
#include "mpscams.h"
#include "mpscawl.h"
#include "mpsclo.h"

enum { P_AMC, P_AMS, P_AWL, P_LO, NPOOLS };
static const char *const poolName[NPOOLS] = { "AMC", "AMS", "AWL", "LO" };

static mps_arena_t arena;
static mps_fmt_t fmt;
static mps_chain_t chain;
static mps_pool_t pools[NPOOLS];
static mps_ap_t apAMC, apAMS, apLO, apWeak, apExact;

/* ---- the model ---------------------------------------------------------------- */

#define MAXOBJ    100000
#define MAXREFS   3
#define MAXENT    60000
#define MAXTAB    10
#define NROOTS    1500
#define SCRATCH   MAXTAB        /* root slots [SCRATCH, SCRATCH+3) */
#define FIRSTROOT (SCRATCH + 3) /* objects' root slots from here */
#define NWEAK     40

typedef struct {
  unsigned char pool, kind, dead, reg, fin, finCount;
  unsigned short nslots, ndata;
  int refs[MAXREFS]; /* plain objects and tables */
  int table;         /* arrays: their table (current or retired) */
  int keyOf;         /* weak-key entry whose key this is, or -1 */
  mps_addr_t addr;   /* client pointer, current after refresh() */
} Obj;

typedef struct {
  int weakKeys; /* 1: weak-key table; 0: weak-value cache */
  int live, objId, keysId, valsId;
  unsigned cap, used, tombs;
  int *slotEntry; /* entry in each slot, or -1 */
} Table;

typedef struct {
  int table, key, val;      /* key: object (weak-key tables); val: object or -1 */
  unsigned long ikey, ival; /* integer key (caches), integer value (val < 0) */
  int deleted;
} Entry;

static Obj obj[MAXOBJ];
static int nobj;
static Table tab[MAXTAB];
static Entry ent[MAXENT];
static int nent;
static unsigned long nextInt = 1; /* the next integer key of a cache */
static mps_addr_t rootTab[NROOTS];
static int rootId[NROOTS];
static mps_addr_t weakSlots[2][NWEAK]; /* an area root and a table root, both weak */
static int weakId[2][NWEAK];
static int released; /* the arena is released: collections may happen */

/* statistics and what must have happened by the end */
static unsigned long nLookups, nMissStale, nRehash, nDeleted, nWeakRootSplats, nFinal, nResurrect,
    nCollections, nAutoCollections, nGrow, nRefresh, nDeadArraySplats;
static unsigned long errors; /* detailed failures reported by refresh */

#define FAIL(...)                        \
  do {                                   \
    ++errors;                            \
    if (errors <= 30) {                  \
      fprintf(stderr, "  " __VA_ARGS__); \
      fputc('\n', stderr);               \
    }                                    \
  } while (0)

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

static unsigned char strongS[MAXOBJ], protS[MAXOBJ], candS[MAXOBJ], fromCand[MAXOBJ], seenS[MAXOBJ];
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

typedef struct {
  mps_addr_t p;
  int id;
} Visit;
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
    case K_WKEYS:
    case K_WVALS: {
      int v = obj[x].kind == K_WKEYS ? ent[e].key : ent[e].val;
      if (!IS_REF(w)) {
        FAIL("table %d slot %u (entry %d): weak slot holds %#lx but the entry was not "
             "logged as deleted",
             t, i, e, w);
      } else if (liveS(v)) {
        visit((mps_addr_t)w, v);
      } else if (full) {
        FAIL("table %d slot %u (entry %d): %s object %d is dead but was not splatted by a "
             "full collection",
             t, i, e, poolName[obj[v].pool], v);
      } else if (!intact((mps_addr_t)w, v)) {
        FAIL("table %d slot %u (entry %d): dangling weak reference %p to dead object %d", t, i, e,
             (void *)w, v);
      }
      break;
    }
    case K_SVALS:
      if (ent[e].val >= 0)
        visit((mps_addr_t)w, ent[e].val);
      else if (w != W_INT(ent[e].ival))
        FAIL("table %d slot %u: integer value %#lx, expected %#lx", t, i, w, W_INT(ent[e].ival));
      break;
    case K_SKEYS:
      if (w != W_INT(ent[e].ikey))
        FAIL("cache %d slot %u: integer key %#lx, expected %#lx", t, i, w, W_INT(ent[e].ikey));
      break;
    default: FAIL("object %d is not an array", x);
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
        FAIL("two references to %s object %d disagree: %p and %p", poolName[o->pool], v.id, o->addr,
             v.p);
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
        if (o->refs[k] >= 0)
          visit((mps_addr_t)s[k], o->refs[k]);
        else if (s[k] != 0)
          FAIL("object %d slot %d: %#lx, expected null", v.id, k, s[k]);
      }
    } else if (o->kind != K_LEAF && isCurrentArray(v.id)) {
      checkArray(v.id, full);
    }
  }
}

static struct {
  mps_message_t m;
  mps_addr_t ref;
  int id;
} msgs[1024];

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
          FAIL("weak root %d/%d: live %s object %d was splatted%s", j, r, poolName[obj[x].pool], x,
               strongS[x] ? "" : " (kept by finalization)");
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
static int newObj(int pl, mps_ap_t ap, unsigned kind, unsigned nslots, unsigned ndata, FillFn fill,
                  void *closure)
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

static int plainNodes; /* new objects refer to nothing */

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


static void registerFinal(int id)
{
  mps_addr_t ref = obj[id].addr;
  CHECK(mps_finalize(arena, &ref) == MPS_RES_OK);
  obj[id].reg = 1;
}

/* ---- the arena ----------------------------------------------------------------------------- */

static mps_root_t wmRoot, wmWeakArea, wmWeakTable;
static mps_thr_t wmThread;

/* A new arena and model for one scenario: the format's header size, and
 * the generations of the AWL and AMS pools in a three-generation chain
 * (AMC promotes through it).  Only the exact root table and the weak roots
 * exist (the thread is registered, its stack is no root). */
static void wmOpen(size_t header, unsigned awlGen, unsigned amsGen)
{
  mps_gen_param_s gens[3] = { { 64, 0.8 }, { 256, 0.5 }, { 2000, 0.3 } };
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
  REQUIRE(mps_thread_reg(&wmThread, arena) == MPS_RES_OK); /* it touches managed memory */
  mps_arena_park(arena);
  REQUIRE(wfFormat(&fmt, arena, fmtHdr) == MPS_RES_OK);
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
    MPS_ARGS_ADD(args, MPS_KEY_GEN, amsGen);
    REQUIRE(mps_pool_create_k(&pools[P_AMS], arena, mps_class_ams(), args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    MPS_ARGS_ADD(args, MPS_KEY_GEN, awlGen);
    MPS_ARGS_ADD(args, MPS_KEY_AWL_FIND_DEPENDENT, wfFindDependent);
    REQUIRE(mps_pool_create_k(&pools[P_AWL], arena, mps_class_awl(), args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    REQUIRE(mps_pool_create_k(&pools[P_LO], arena, mps_class_lo(), args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  REQUIRE(mps_ap_create_k(&apAMC, pools[P_AMC], mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_ap_create_k(&apAMS, pools[P_AMS], mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_ap_create_k(&apLO, pools[P_LO], mps_args_none) == MPS_RES_OK);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_RANK, mps_rank_weak());
    REQUIRE(mps_ap_create_k(&apWeak, pools[P_AWL], args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_RANK, mps_rank_exact());
    REQUIRE(mps_ap_create_k(&apExact, pools[P_AWL], args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  REQUIRE(mps_root_create_table(&wmRoot, arena, mps_rank_exact(), 0, rootTab, NROOTS) ==
          MPS_RES_OK);
  REQUIRE(mps_root_create_area(&wmWeakArea, arena, mps_rank_weak(), 0, weakSlots[0],
                               weakSlots[0] + NWEAK, mps_scan_area, NULL) == MPS_RES_OK);
  REQUIRE(mps_root_create_table(&wmWeakTable, arena, mps_rank_weak(), 0, weakSlots[1], NWEAK) ==
          MPS_RES_OK);
  mps_message_type_enable(arena, mps_message_type_finalization());
  mps_message_type_enable(arena, mps_message_type_gc());
}

/* The end of a scenario: what it made, then the arena goes. */
static void wmClose(size_t header, unsigned awlGen, unsigned amsGen)
{
  int j;

  printf("header %zu, AWL in generation %u, AMS in %u: %d objects, %d entries\n", header, awlGen,
         amsGen, nobj, nent);

  mps_message_type_disable(arena, mps_message_type_finalization());
  mps_message_type_disable(arena, mps_message_type_gc());
  mps_arena_park(arena);
  mps_root_destroy(wmWeakTable);
  mps_root_destroy(wmWeakArea);
  mps_root_destroy(wmRoot);
  mps_ap_destroy(apExact);
  mps_ap_destroy(apWeak);
  mps_ap_destroy(apLO);
  mps_ap_destroy(apAMS);
  mps_ap_destroy(apAMC);
  for (j = NPOOLS - 1; j >= 0; --j) mps_pool_destroy(pools[j]);
  mps_chain_destroy(chain);
  mps_fmt_destroy(fmt);
  mps_thread_dereg(wmThread);
  mps_arena_destroy(arena);
}

/* The statistics; the model's and the format's counts of what went wrong
 * are zero, and the run exercised what it checks (the tables). */
static void wmReport(void)
{
  int t;

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
  CHECK(nWeakRootSplats > 0);
  CHECK(nFinal > 0);
  CHECK(nGrow > 0);
  for (t = 0; t < MAXTAB; ++t) free(tab[t].slotEntry);
}

#endif /* WEAKMODEL_H */
