/* weakmodel.h -- the model shared by test_awl_weak and test_weak_cache:
 * AMC, AMS and LO pools of weakfmt.h objects and the weak tables of the
 * tests and benchmarks (tests/gcp_testing/weaktable.c, included here: its
 * arrays in an AWL pool of their own format, with the same in-band header
 * size) in a three-generation chain, an exact root table and two weak
 * roots (mps_root_create_area with mps_scan_area, and
 * mps_root_create_table, both of rank weak), and the checks after every
 * collection (full ones by mps_arena_collect with the arena parked,
 * automatic ones while it is released, known by their gc messages)
 * against a model of what is strongly reachable or kept by finalization:
 * entries and weak-root slots of live objects intact and updated, of dead
 * ones splatted by a full collection and never dangling; nothing live
 * splatted, nothing splatted twice, splats only in a table's current weak
 * array (the splat callback's log); the arrays in the AWL pool, their
 * words intact, never moving unless the table grew; finalization messages
 * exactly for the finalizable objects, at most one per registration;
 * every reference to an object the same address; non-moving pools'
 * objects never move.  The model of each table's slots is rebuilt from
 * gcp_wtable_slot after every call that may rehash or grow it (its keys
 * name their entries: key objects by the id in their header, integer keys
 * by their value).  The tables as a client uses them, the random
 * operations and the workload are in weakops.h, on top of this.
 * Header-only, like testlib.h (include that and weakfmt.h first).
 */
#ifndef WEAKMODEL_H
#define WEAKMODEL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpscamc.h"
#include "mpscams.h"
#include "mpscawl.h"
#include "mpsclo.h"

#include "../gcp_testing/weaktable.c"

enum { P_AMC, P_AMS, P_AWL, P_LO, NPOOLS };
static const char *const poolName[NPOOLS] = { "AMC", "AMS", "AWL", "LO" };

static mps_arena_t arena;
static mps_fmt_t fmt, wtFmt;
static mps_chain_t chain;
static mps_pool_t pools[NPOOLS];
static mps_ap_t apAMC, apAMS, apLO;

/* ---- the model ---------------------------------------------------------------- */

#define MAXOBJ    100000
#define MAXREFS   3
#define MAXENT    60000
#define MAXTAB    10
#define NROOTS    1500
#define SCRATCH   MAXTAB        /* root slots [SCRATCH, SCRATCH+3) */
#define FIRSTROOT (SCRATCH + 3) /* objects' root slots from here */
#define MAXINT    (MAXENT + 2)  /* integer keys are 1 .. MAXENT */
#define NWEAK     40

typedef struct {
  unsigned char pool, kind, dead, reg, fin, finCount;
  unsigned short nslots, ndata;
  int refs[MAXREFS]; /* plain objects */
  int keyOf;         /* weak-key entry whose key this is, or -1 */
  mps_addr_t addr;   /* client pointer, current after refresh() */
} Obj;

typedef struct {
  int weakKeys; /* 1: weak-key table; 0: weak-value cache */
  int live;
  gcp_wtable_t wt;
  mps_addr_t keysAddr, valsAddr; /* its arrays when last seen */
  size_t grown;                  /* its growths then */
  unsigned cap, expect;          /* slots; entries the model expects */
  int *slotEntry;                /* entry in each slot, or -1 */
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
static int entOfInt[MAXINT];      /* the entry of each integer key */
static int entStamp[MAXENT];      /* syncTable's marks */
static int stamp;
static mps_addr_t rootTab[NROOTS];
static int rootId[NROOTS];
static mps_addr_t weakSlots[2][NWEAK]; /* an area root and a table root, both weak */
static int weakId[2][NWEAK];
static int released; /* the arena is released: collections may happen */

/* statistics and what must have happened by the end */
static unsigned long nLookups, nMissStale, nRehash, nDeleted, nWeakRootSplats, nFinal, nResurrect,
    nCollections, nAutoCollections, nGrow, nRefresh, nSyncs, nGrowthSplats, nMovedInPut;

/* splats in the tables' arrays, in order (the splat callback) */
#define WM_LOGMAX 100000
static struct {
  int table, role;
  mps_addr_t array;
  size_t slot;
} wmLog[WM_LOGMAX];
static size_t wmLogN, wmLogLost;

static void onSplat(gcp_wtable_t wt, void *closure, mps_addr_t array, int role, size_t slot)
{
  (void)wt;
  if (wmLogN < WM_LOGMAX) {
    wmLog[wmLogN].table = (int)(intptr_t)closure;
    wmLog[wmLogN].role = role;
    wmLog[wmLogN].array = array;
    wmLog[wmLogN++].slot = slot;
  } else {
    ++wmLogLost;
  }
}
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
  for (k = 0; k < obj[id].ndata; ++k)
    if (f[3 + obj[id].nslots + k] != dataWord(id, k)) return 0;
  return 1;
}

/* ---- reachability in the model ---------------------------------------------------- */

static unsigned char strongS[MAXOBJ], protS[MAXOBJ], candS[MAXOBJ], fromCand[MAXOBJ], seenS[MAXOBJ];
static int markStack[MAXOBJ * MAXREFS + MAXENT + NROOTS + 64];

/* The model's strong edges of object x, to push(). */
static void forEdges(int x, void (*push)(int))
{
  int k;
  if (obj[x].kind == K_NODE)
    for (k = 0; k < obj[x].nslots; ++k)
      if (obj[x].refs[k] >= 0) push(obj[x].refs[k]);
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

/* Add everything reachable from the roots to set: the root table and the
 * values of live weak-key tables (a table is its own root). */
static void rootClosure(unsigned char *set)
{
  int r, t;
  unsigned i;
  for (r = 0; r < NROOTS; ++r)
    if (rootId[r] >= 0) closure(set, rootId[r]);
  for (t = 0; t < MAXTAB; ++t)
    if (tab[t].live && tab[t].weakKeys)
      for (i = 0; i < tab[t].cap; ++i) {
        int e = tab[t].slotEntry[i];
        if (e >= 0 && ent[e].val >= 0) closure(set, ent[e].val);
      }
}

/* strongS: reachable from the root table; candS: registered, not yet
 * finalized, not strongly reachable (finalizable); protS: reachable from
 * a candidate (kept by finalization); fromCand: reachable from some
 * candidate's references (such a candidate may wait for the next
 * collection to be finalized). */
static void computeSets(void)
{
  int x;
  memset(strongS, 0, (size_t)nobj);
  memset(protS, 0, (size_t)nobj);
  memset(candS, 0, (size_t)nobj);
  memset(fromCand, 0, (size_t)nobj);
  rootClosure(strongS);
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
    if (o->kind == K_NODE) {
      mps_word_t *s = slotsOf(v.id);
      for (k = 0; k < o->nslots; ++k) {
        if (o->refs[k] >= 0)
          visit((mps_addr_t)s[k], o->refs[k]);
        else if (s[k] != 0)
          FAIL("object %d slot %d: %#lx, expected null", v.id, k, s[k]);
      }
    }
  }
  (void)full;
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

/* ---- the tables in the model -------------------------------------------------------- */

/* The entry of table t whose key is the word kw, or -1. */
static int entryOfKey(int t, mps_word_t kw)
{
  int e;
  if (tab[t].weakKeys) {
    int id = IS_REF(kw) ? idOfRef((mps_addr_t)kw) : -1;
    e = id >= 0 ? obj[id].keyOf : -1;
  } else {
    unsigned long k = (unsigned long)(kw >> 3);
    e = kw == W_INT(k) && k < MAXINT ? entOfInt[k] : -1;
  }
  return e >= 0 && ent[e].table == t && !ent[e].deleted ? e : -1;
}

/* Rebuild the model of table t's slots from gcp_wtable_slot (after a put,
 * a lookup, a collection: anything that may grow or rehash it): every
 * slot free in both arrays alike or an entry of the table the model has
 * not deleted, each in one slot, all that the model expects; the arrays
 * the same unless the table grew. */
static void syncTable(int t)
{
  Table *T = &tab[t];
  mps_addr_t ka, va;
  gcp_wtable_stats_s st;
  unsigned i, cap, n = 0;
  int *map;
  gcp_wtable_arrays(T->wt, &ka, &va);
  gcp_wtable_stats(T->wt, &st);
  if ((ka != T->keysAddr || va != T->valsAddr) && st.grown == T->grown)
    FAIL("table %d: arrays %p/%p became %p/%p without a growth", t, T->keysAddr, T->valsAddr, ka,
         va);
  cap = (unsigned)gcp_wtable_length(T->wt);
  map = malloc(cap * sizeof(int));
  REQUIRE(map != NULL);
  ++stamp;
  ++nSyncs;
  for (i = 0; i < cap; ++i) {
    mps_word_t k, v;
    int e;
    map[i] = -1;
    gcp_wtable_slot(T->wt, i, &k, &v);
    if (k == 0 || k == GCP_WTABLE_DELETED) {
      if (v != k) FAIL("table %d slot %u: free slot holds %#lx, partner %#lx", t, i, k, v);
      continue;
    }
    e = entryOfKey(t, k);
    if (e < 0 || entStamp[e] == stamp) {
      FAIL("table %d slot %u holds %#lx/%#lx but the model has no entry for it (or it is in two "
           "slots)",
           t, i, k, v);
      continue;
    }
    entStamp[e] = stamp;
    map[i] = e;
    ++n;
  }
  if (n != T->expect)
    FAIL("table %d: %u entries in its slots, the model expects %u", t, n, T->expect);
  if (n != gcp_wtable_count(T->wt))
    FAIL("table %d: %u entries in its slots, gcp_wtable_count says %zu", t, n,
         gcp_wtable_count(T->wt));
  free(T->slotEntry);
  T->slotEntry = map;
  T->cap = cap;
  T->keysAddr = ka;
  T->valsAddr = va;
  T->grown = st.grown;
}

static void syncTables(void)
{
  int t;
  for (t = 0; t < MAXTAB; ++t)
    if (tab[t].live) syncTable(t);
}

/* An array of table t, role GCP_WTABLE_KEYS or _VALUES: an AWL object of
 * the table, its words intact. */
static void checkArrayWords(int t, mps_addr_t a, mps_addr_t partner, int role)
{
  mps_pool_t pl;
  mps_word_t *w = a;
  size_t h = fmtHdr / WORD, k;
  int ok = mps_addr_pool(&pl, arena, a) && pl == pools[P_AWL];
  ok = ok && w[0] == (WT_ARRAY | (mps_word_t)h << 1 | (mps_word_t)tab[t].cap << 8);
  ok = ok && w[1] == ((mps_word_t)partner | 1);
  ok = ok && w[2] == ((mps_word_t)tab[t].wt | (mps_word_t)role << 1 | 1);
  for (k = 1; ok && k <= h; ++k) ok = w[-(long)k] == WT_ARRAY;
  if (!ok) FAIL("table %d: its %s array %p is not intact", t, role ? "values" : "keys", a);
}

/* The arrays and slots of live table t, after a collection (full or not):
 * the weak word of every entry the model has intact and updated if its
 * object lives, splatted if it died in a full collection, never dangling;
 * the exact word the entry's value object (visited) or integer. */
static void checkTable(int t, int full)
{
  Table *T = &tab[t];
  unsigned i;
  checkArrayWords(t, T->keysAddr, T->valsAddr, GCP_WTABLE_KEYS);
  checkArrayWords(t, T->valsAddr, T->keysAddr, GCP_WTABLE_VALUES);
  for (i = 0; i < T->cap; ++i) {
    int e = T->slotEntry[i], victim;
    mps_word_t k, v, w;
    if (e < 0) continue;
    gcp_wtable_slot(T->wt, i, &k, &v);
    w = T->weakKeys ? k : v;
    victim = T->weakKeys ? ent[e].key : ent[e].val;
    if (!IS_REF(w)) {
      FAIL("table %d slot %u (entry %d): weak slot holds %#lx but the entry was not "
           "logged as deleted",
           t, i, e, w);
    } else if (liveS(victim)) {
      visit((mps_addr_t)w, victim);
    } else if (full) {
      FAIL("table %d slot %u (entry %d): %s object %d is dead but was not splatted by a "
           "full collection",
           t, i, e, poolName[obj[victim].pool], victim);
    } else if (!intact((mps_addr_t)w, victim)) {
      FAIL("table %d slot %u (entry %d): dangling weak reference %p to dead object %d", t, i, e,
           (void *)w, victim);
    }
    if (T->weakKeys) {
      if (ent[e].val >= 0)
        visit((mps_addr_t)v, ent[e].val);
      else if (v != W_INT(ent[e].ival))
        FAIL("table %d slot %u: integer value %#lx, expected %#lx", t, i, v, W_INT(ent[e].ival));
    } else if (k != W_INT(ent[e].ikey)) {
      FAIL("cache %d slot %u: integer key %#lx, expected %#lx", t, i, k, W_INT(ent[e].ikey));
    }
  }
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

  /* the splat log: each splat in the current weak array of a live table,
     of a slot that holds an entry the model has (before the call during
     which the collection happened: a growth leaves those arrays) */
  for (i = 0; i < wmLogN; ++i) {
    int e, victim, weakRole;
    size_t sl = wmLog[i].slot;
    Table *T;
    t = wmLog[i].table;
    if (t < 0 || t >= MAXTAB || !tab[t].live) {
      FAIL("splat logged for table %d, which is not live", t);
      continue;
    }
    T = &tab[t];
    weakRole = T->weakKeys ? GCP_WTABLE_KEYS : GCP_WTABLE_VALUES;
    if (wmLog[i].role != weakRole ||
        wmLog[i].array != (weakRole == GCP_WTABLE_KEYS ? T->keysAddr : T->valsAddr)) {
      FAIL("table %d: splat logged in array %p (role %d, slot %zu), which is not its weak array "
           "%p",
           t, wmLog[i].array, wmLog[i].role, sl,
           weakRole == GCP_WTABLE_KEYS ? T->keysAddr : T->valsAddr);
      continue;
    }
    e = sl < T->cap ? T->slotEntry[sl] : -1;
    if (e < 0) {
      FAIL("splat logged for table %d slot %zu, which holds no entry (deleted twice?)", t, sl);
      continue;
    }
    victim = T->weakKeys ? ent[e].key : ent[e].val;
    if (strongS[victim])
      FAIL("table %d entry %d: %s object %d was splatted while strongly reachable", t, e,
           poolName[obj[victim].pool], victim);
    else if (protS[victim])
      FAIL("table %d entry %d: %s object %d was splatted while kept by finalization%s", t, e,
           poolName[obj[victim].pool], victim,
           candS[victim] ? " (it is registered and its message was not discarded)" : "");
    if (++ent[e].deleted != 1) FAIL("entry %d deleted %d times", e, ent[e].deleted);
    {
      mps_addr_t ka, va;
      gcp_wtable_arrays(T->wt, &ka, &va);
      nGrowthSplats += ka != T->keysAddr; /* in arrays the table left since */
    }
    T->slotEntry[sl] = -1;
    --T->expect;
    ++nDeleted;
  }
  if (wmLogLost != 0) FAIL("%lu splats not logged (log full)", (unsigned long)wmLogLost);
  wmLogN = 0;
  syncTables();

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
  for (t = 0; t < MAXTAB; ++t)
    if (tab[t].live) checkTable(t, full);
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
  rootClosure(fromCand);
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
  if (n == 0 && wmLogN == 0) return;
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
  obj[id].keyOf = -1;
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
    for (k = 0; k < nslots; ++k) f[3 + k] = kind == K_NODE ? 0 : W_EMPTY;
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

/* Table t dies (its descriptor is its root: the client destroys it); its
 * counts go to the totals. */
static void dropTable(int t)
{
  gcp_wtable_stats_s st;
  gcp_wtable_stats(tab[t].wt, &st);
  nMissStale += st.rehashes;
  nRehash += st.rehashes + st.cleanups;
  nGrow += st.grown;
  gcp_wtable_destroy(tab[t].wt);
  tab[t].live = 0;
  tab[t].wt = NULL;
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
  memset(entOfInt, 0xff, sizeof entOfInt);
  wmLogN = wmLogLost = 0;
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
  REQUIRE(gcp_wtable_format_create(&wtFmt, arena, fmtHdr) == MPS_RES_OK);
  REQUIRE(gcp_wtable_pool_create(&pools[P_AWL], arena, wtFmt, chain, awlGen) == MPS_RES_OK);
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
  for (j = 0; j < MAXTAB; ++j)
    if (tab[j].live) dropTable(j);
  mps_root_destroy(wmWeakTable);
  mps_root_destroy(wmWeakArea);
  mps_root_destroy(wmRoot);
  mps_ap_destroy(apLO);
  mps_ap_destroy(apAMS);
  mps_ap_destroy(apAMC);
  for (j = NPOOLS - 1; j >= 0; --j) mps_pool_destroy(pools[j]);
  mps_chain_destroy(chain);
  mps_fmt_destroy(wtFmt);
  mps_fmt_destroy(fmt);
  mps_thread_dereg(wmThread);
  mps_arena_destroy(arena);
}

/* The statistics; the model's and the format's counts of what went wrong
 * are zero, and the run exercised what it checks (the tables). */
static void wmReport(void)
{
  int t;

  printf("%lu deleted by splats; %lu lookups, %lu stale rehashes, %lu rehashes, %lu grown; "
         "%lu weak root splats; %lu finalized (%lu resurrected); %lu collections "
         "(%lu automatic), %lu checks of the model, %lu of the tables' slots; %lu splats in "
         "arrays a growth left, %lu puts during which the entry moved\n",
         nDeleted, nLookups, nMissStale, nRehash, nGrow, nWeakRootSplats, nFinal, nResurrect,
         nCollections, nAutoCollections, nRefresh, nSyncs, nGrowthSplats, nMovedInPut);
  if (errors != 0) fprintf(stderr, "%lu failures found by the model checks\n", errors);
  CHECK(errors == 0);
  CHECK(wfBadTags == 0);
  CHECK(wfExactSplats == 0);
  CHECK(wfAmbigChanged == 0);
  /* the run exercised what it checks */
  CHECK(nDeleted > 0);
  CHECK(nWeakRootSplats > 0);
  CHECK(nFinal > 0);
  CHECK(nGrow > 0);
  for (t = 0; t < MAXTAB; ++t) free(tab[t].slotEntry);
}

#endif /* WEAKMODEL_H */
