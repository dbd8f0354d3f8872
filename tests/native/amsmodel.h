/* amsmodel.h -- the model shared by test_ams and test_ams_debug: the pools
 * (AMC, LO, AWL, AMS with exact and ambiguous-rank allocation points, the
 * legacy AMS, three AMS debug pools), objects of the weakfmt.h format
 * allocated on them, an exact root table, and after every collection the
 * checks against a reachability model computed by the program: every
 * reachable object intact and every reference to it the same address;
 * AMS, AWL and LO objects never move; AMC objects referred to by reachable
 * ambiguous-rank objects (or the stack) never move; ambiguous words never
 * change; finalization messages exactly for the finalizable objects; both
 * walks see each surviving object of the non-moving pools once; the debug
 * pools report nothing unless a report is expected.  Header-only, like
 * testlib.h (include that and weakfmt.h first).
 */
#ifndef AMSMODEL_H
#define AMSMODEL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpslib.h"

enum { P_AMC, P_LO, P_AWL, P_AMS1, P_AMS2, P_DBG, P_DBG2, P_DBG3, NPOOLS };
static const char *const poolName[NPOOLS] = { "AMC",
                                              "LO",
                                              "AWL",
                                              "AMS",
                                              "AMS (legacy)",
                                              "AMS debug",
                                              "AMS debug (defaults)",
                                              "AMS debug (legacy)" };

static mps_arena_t arena;
static mps_thr_t thread;
static mps_fmt_t fmt;
static mps_chain_t chain;
static mps_pool_t pools[NPOOLS];
static mps_ap_t apE[NPOOLS], apA[NPOOLS]; /* exact (or LO's) and ambiguous APs */
static size_t fence[NPOOLS];              /* bytes of each fence (debug pools) */
static mps_root_t root;

/* the debug options of P_DBG and P_DBG3 */
static const char fenceT[] = "fence-post!", freeT[] = "xyz";
static mps_pool_debug_option_s dbgOpt = { fenceT, sizeof fenceT - 1, freeT, sizeof freeT - 1 };

/* ---- the model --------------------------------------------------------------------- */

#define MAXOBJ  40000
#define MAXREFS 5
#define NROOTS  400
#define NHELD   12

typedef struct {
  unsigned char pool, kind, dead, reg, fin, finCount, junk;
  unsigned short nslots, ndata;
  int refs[MAXREFS];        /* -1: null (exact) or not a reference (ambiguous) */
  size_t off[MAXREFS];      /* ambiguous references: offset into the target */
  mps_word_t word[MAXREFS]; /* ambiguous objects: the words as written */
  mps_addr_t addr, prev;    /* client pointer now; before the collection */
} Obj;

static Obj obj[MAXOBJ];
static int nobj;
static mps_addr_t rootTab[NROOTS];
static int rootId[NROOTS];
static int held; /* the stack phase: stack words are roots */
static int heldId[NHELD];
static size_t heldOff[NHELD];
static mps_word_t heldWord[NHELD];
static int superset; /* something ambiguous may keep garbage */

static unsigned long errors, lastReports, nCollect, nFinal, nPinnedChecks, nWalked, nJunk;

#define FAIL(...)                        \
  do {                                   \
    ++errors;                            \
    if (errors <= 40) {                  \
      fprintf(stderr, "  " __VA_ARGS__); \
      fputc('\n', stderr);               \
    }                                    \
  } while (0)

static int nonMoving(int pl) { return pl != P_AMC; }
static size_t objSize(int id) { return wfSize(obj[id].nslots, obj[id].ndata); }

/* Reports through the plinth since the last call that expected none. */
static void noNewReports(const char *where)
{
  if (reports != lastReports) {
    FAIL("%s: %lu unexpected report(s), the last: %s", where, reports - lastReports, lastMessage);
    lastReports = reports;
  }
}

/* Exactly n reports naming `word` since the last call; then none pending. */
static int expectReports(unsigned long n, const char *word, const char *what)
{
  int ok = reports == lastReports + n && (n == 0 || strstr(lastMessage, word) != NULL);
  if (!ok)
    FAIL("%s: expected %lu report(s) naming \"%s\", got %lu (last: %s)", what, n, word,
         reports - lastReports, reports != lastReports ? lastMessage : "-");
  lastReports = reports;
  return ok;
}

static int intact(mps_addr_t c, int id)
{
  mps_pool_t pl;
  mps_word_t *f;
  size_t k;
  if (c == NULL || id < 0 || id >= nobj || ((mps_word_t)c & (WORD - 1)) != 0) return 0;
  if (!mps_addr_pool(&pl, arena, c) || pl != pools[obj[id].pool]) return 0;
  if (*wfTag(c) != (objSize(id) | T_OBJ)) return 0;
  f = wfF(c);
  if (f[0] != INFO(id, obj[id].kind) || f[1] != W_EMPTY ||
      f[2] != (((mps_word_t)obj[id].nslots << 1) | 1))
    return 0;
  for (k = 0; k < obj[id].ndata; ++k)
    if (f[3 + obj[id].nslots + k] != dataWord(id, k)) return 0;
  return 1;
}

/* ---- reachability --------------------------------------------------------------------- */

static unsigned char strongS[MAXOBJ], protS[MAXOBJ], candS[MAXOBJ], fromCand[MAXOBJ], pinS[MAXOBJ],
    seenS[MAXOBJ], msgS[MAXOBJ];
static int markStack[MAXOBJ * MAXREFS + NROOTS + NHELD + 64];
static size_t msp;

static void closure(unsigned char *set, int from, int skipFirst)
{
  msp = 0;
  markStack[msp++] = from;
  while (msp > 0) {
    int x = markStack[--msp], k;
    if (!skipFirst) {
      if (set[x]) continue;
      set[x] = 1;
    }
    skipFirst = 0;
    for (k = 0; k < obj[x].nslots; ++k)
      if (obj[x].refs[k] >= 0) markStack[msp++] = obj[x].refs[k];
  }
}

/* Before a collection: strongly reachable, finalizable, kept by
 * finalization, pinned (AMC objects referred to by preserved ambiguous-rank
 * objects or the stack); where everything is now. */
static void prepare(void)
{
  int r, x, k;
  memset(strongS, 0, (size_t)nobj);
  memset(protS, 0, (size_t)nobj);
  memset(candS, 0, (size_t)nobj);
  memset(fromCand, 0, (size_t)nobj);
  memset(pinS, 0, (size_t)nobj);
  for (r = 0; r < NROOTS; ++r)
    if (rootId[r] >= 0) closure(strongS, rootId[r], 0);
  if (held)
    for (k = 0; k < NHELD; ++k)
      if (heldId[k] >= 0) {
        closure(strongS, heldId[k], 0);
        pinS[heldId[k]] = 1;
      }
  for (x = 0; x < nobj; ++x)
    if (obj[x].reg && !obj[x].fin && !strongS[x]) candS[x] = 1;
  for (x = 0; x < nobj; ++x)
    if (candS[x]) {
      closure(protS, x, 0);
      closure(fromCand, x, 1);
    }
  for (x = 0; x < nobj; ++x) {
    if (!(strongS[x] || protS[x]) || obj[x].kind != K_AMBIG) continue;
    for (k = 0; k < obj[x].nslots; ++k)
      if (obj[x].refs[k] >= 0 && obj[x].refs[k] < nobj) pinS[obj[x].refs[k]] = 1;
  }
  for (x = 0; x < nobj; ++x) obj[x].prev = obj[x].addr;
}

/* ---- the traversal ---------------------------------------------------------------------- */

/* A reference to check: from object `from`'s slot (or root slot, from
 * FROM_ROOT; stack word, FROM_STACK; message, FROM_MESSAGE). */
enum { FROM_ROOT = -1, FROM_STACK = -2, FROM_MESSAGE = -3 };
typedef struct {
  mps_addr_t p;
  int id, from, slot;
} Visit;
static Visit visits[MAXOBJ * MAXREFS + NROOTS + NHELD + 1024];
static size_t nvisits;
static int firstFrom[MAXOBJ], firstSlot[MAXOBJ]; /* how each object was first reached */
static const char *where = "";

static void visit(mps_addr_t p, int id, int from, int slot)
{
  REQUIRE(nvisits < sizeof visits / sizeof visits[0]);
  visits[nvisits].p = p;
  visits[nvisits].id = id;
  visits[nvisits].from = from;
  visits[nvisits++].slot = slot;
}

static const char *describe(int from, int slot)
{
  static char buf[2][120];
  static int which;
  char *b = buf[which ^= 1];
  if (from == FROM_ROOT)
    snprintf(b, 120, "root slot %d", slot);
  else if (from == FROM_STACK)
    snprintf(b, 120, "stack word %d", slot);
  else if (from == FROM_MESSAGE)
    snprintf(b, 120, "a finalization message");
  else
    snprintf(b, 120, "%s %s object %d slot %d", poolName[obj[from].pool],
             obj[from].kind == K_AMBIG ? "ambiguous" : "exact", from, slot);
  return b;
}

static void drainVisits(void)
{
  while (nvisits > 0) {
    Visit v = visits[--nvisits];
    Obj *o = &obj[v.id];
    mps_word_t *s;
    int k;
    if (seenS[v.id]) {
      if (o->addr != v.p)
        FAIL("%s: two references to %s object %d (at %p before) disagree: %p from %s, %p "
             "from %s",
             where, poolName[o->pool], v.id, o->prev, o->addr,
             describe(firstFrom[v.id], firstSlot[v.id]), v.p, describe(v.from, v.slot));
      continue;
    }
    if (!intact(v.p, v.id)) {
      FAIL("%s: reference %p from %s to %s object %d (kind %u%s) does not lead to it intact "
           "(it was at %p)",
           where, v.p, describe(v.from, v.slot), poolName[o->pool], v.id, o->kind,
           pinS[v.id] ? ", pinned" : "", o->prev);
      continue;
    }
    seenS[v.id] = 1;
    firstFrom[v.id] = v.from;
    firstSlot[v.id] = v.slot;
    o->addr = v.p;
    s = wfSlots(v.p);
    for (k = 0; k < o->nslots; ++k) {
      if (o->kind == K_AMBIG) {
        if (s[k] != o->word[k]) {
          FAIL("ambiguous slot %d of %s object %d changed from %#lx to %#lx", k, poolName[o->pool],
               v.id, o->word[k], s[k]);
        } else if (o->refs[k] >= 0) {
          visit((mps_addr_t)(o->word[k] - o->off[k]), o->refs[k], v.id, k);
        }
      } else if (o->refs[k] >= 0) {
        visit((mps_addr_t)s[k], o->refs[k], v.id, k);
      } else if (s[k] != 0) {
        FAIL("%s object %d slot %d holds %#lx, expected null", poolName[o->pool], v.id, k, s[k]);
      }
    }
  }
}

/* ---- walks ------------------------------------------------------------------------------- */

static unsigned char walkCount[MAXOBJ];
static unsigned long walkGarbage, walkBad, walkDead;

static void walkSaw(mps_addr_t c, mps_pool_t pool)
{
  mps_word_t *f = wfF(c);
  int id = INFO_ID(f[0]);
  if (id == GARBAGE_ID) {
    ++walkGarbage;
    return;
  }
  if (id < 0 || id >= nobj || pools[obj[id].pool] != pool || !intact(c, id)) {
    ++walkBad;
    return;
  }
  if (obj[id].addr != c) ++walkBad;
  if (walkCount[id] < 255) ++walkCount[id];
}

/* mps_pool_walk's area scanner: areas of base pointers. */
static mps_res_t walkArea(mps_ss_t ss, void *base, void *limit, void *closure)
{
  char *p = base;
  mps_pool_t pool = closure;
  MPS_SCAN_BEGIN(ss)
  {
    while (p < (char *)limit) {
      mps_word_t tag = *(mps_word_t *)p;
      mps_addr_t c = p + fmtHdr;
      size_t size = TYPE(tag) == T_PAD1 ? WORD : SIZE(tag), k, n;
      if (TYPE(tag) == T_OBJ) {
        mps_word_t *f = wfF(c);
        walkSaw(c, pool);
        n = wfSlotCount(c);
        if (INFO_KIND(f[0]) == K_NODE)
          for (k = 0; k < n; ++k) {
            mps_addr_t r = (mps_addr_t)f[3 + k];
            if (r != NULL && MPS_FIX1(ss, r)) {
              mps_res_t res = MPS_FIX2(ss, &r);
              if (res != MPS_RES_OK) return res;
              if ((mps_word_t)r != f[3 + k]) ++walkBad; /* nothing is white */
            }
          }
      } else if (TYPE(tag) != T_PAD) {
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

static void objectStep(mps_addr_t c, mps_fmt_t f, mps_pool_t pool, void *p, size_t s)
{
  int pl;
  if (p != &walkCount || s != 17 || f != fmt) {
    ++walkBad;
    return;
  }
  if (pool == pools[P_AMC]) return; /* may include dead objects */
  for (pl = 0; pl < NPOOLS; ++pl)
    if (pools[pl] == pool) break;
  if (pl == NPOOLS) {
    ++walkBad;
    return;
  }
  if (TYPE(*wfTag(c)) == T_OBJ)
    walkSaw(c, pool);
  else if (TYPE(*wfTag(c)) != T_PAD && TYPE(*wfTag(c)) != T_PAD1)
    ++walkBad;
}

/* Both walks see each surviving object of the non-moving pools once, and
 * (unless something ambiguous may keep garbage) nothing else. */
static void checkWalks(void)
{
  int pass, pl, x;
  for (pass = 0; pass < 2; ++pass) {
    unsigned long missing = 0, extra = 0, twice = 0;
    memset(walkCount, 0, (size_t)nobj);
    walkGarbage = walkBad = 0;
    if (pass == 0) {
      for (pl = 0; pl < NPOOLS; ++pl)
        if (pools[pl] != NULL && nonMoving(pl))
          CHECK(mps_pool_walk(pools[pl], walkArea, pools[pl]) == MPS_RES_OK);
    } else {
      mps_arena_formatted_objects_walk(arena, objectStep, &walkCount, 17);
    }
    for (x = 0; x < nobj; ++x) {
      int want = (strongS[x] || protS[x]) && nonMoving(obj[x].pool);
      if (!nonMoving(obj[x].pool)) continue;
      if (want && walkCount[x] == 0) ++missing;
      if (walkCount[x] > 1) ++twice;
      if (!want && walkCount[x] != 0) ++extra;
    }
    if (superset) extra = walkGarbage = 0;
    if (missing || twice || extra || walkGarbage || walkBad)
      FAIL("%s: %lu surviving objects missing, %lu seen twice, %lu dead objects and %lu "
           "garbage objects seen, %lu bad",
           pass == 0 ? "mps_pool_walk" : "mps_arena_formatted_objects_walk", missing, twice, extra,
           walkGarbage, walkBad);
    walkDead += extra;
  }
  ++nWalked;
}

/* The debug pools find nothing wrong. */
static void checkDebugPools(const char *where)
{
  int pl;
  for (pl = 0; pl < NPOOLS; ++pl)
    if (pools[pl] != NULL) {
      mps_pool_check_fenceposts(pools[pl]);
      mps_pool_check_free_space(pools[pl]);
    }
  noNewReports(where);
}

/* ---- collections ----------------------------------------------------------------------- */

static struct {
  mps_message_t m;
  mps_addr_t ref;
  int id;
} msgs[2048];

/* A full collection, expecting n reports naming `word` during it, and
 * every check after it. */
static void collectR(const char *whereNow, unsigned long n, const char *word)
{
  size_t nmsg = 0, i;
  int x, r, k;
  mps_message_type_t type;

  where = whereNow;
  prepare();
  noNewReports(where);
  CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  ++nCollect;
  (void)expectReports(n, word, where);

  memset(msgS, 0, (size_t)nobj);
  while (mps_message_queue_type(&type, arena)) {
    mps_message_t m;
    REQUIRE(mps_message_get(&m, arena, type));
    if (type == mps_message_type_finalization()) {
      mps_addr_t ref = NULL;
      mps_pool_t owner;
      int id = -1;
      mps_message_finalization_ref(&ref, arena, m);
      if (ref != NULL && mps_addr_pool(&owner, arena, ref) && TYPE(*wfTag(ref)) == T_OBJ)
        id = INFO_ID(wfF(ref)[0]);
      if (id < 0 || id >= nobj || !intact(ref, id)) {
        FAIL("%s: finalization message with reference %p to no object of the program", where, ref);
        id = -1;
      } else if (!obj[id].reg || obj[id].fin) {
        FAIL("%s: finalization message for %s object %d, which is not registered (or was "
             "finalized)",
             where, poolName[obj[id].pool], id);
      } else if (strongS[id]) {
        FAIL("%s: finalization message for %s object %d, which is reachable", where,
             poolName[obj[id].pool], id);
      } else {
        msgS[id] = 1;
      }
      REQUIRE(nmsg < sizeof msgs / sizeof msgs[0]);
      msgs[nmsg].m = m;
      msgs[nmsg].ref = ref;
      msgs[nmsg++].id = id;
      continue;
    }
    mps_message_discard(arena, m);
  }

  memset(seenS, 0, (size_t)nobj);
  nvisits = 0;
  for (r = 0; r < NROOTS; ++r)
    if (rootId[r] >= 0) visit(rootTab[r], rootId[r], FROM_ROOT, r);
  if (held)
    for (k = 0; k < NHELD; ++k)
      if (heldId[k] >= 0) visit((mps_addr_t)(heldWord[k] - heldOff[k]), heldId[k], FROM_STACK, k);
  for (i = 0; i < nmsg; ++i)
    if (msgs[i].id >= 0) visit(msgs[i].ref, msgs[i].id, FROM_MESSAGE, (int)i);
  drainVisits();
  for (x = 0; x < nobj; ++x) {
    if (strongS[x] && !seenS[x])
      FAIL("%s: reachable %s object %d was not reached", where, poolName[obj[x].pool], x);
    if (!seenS[x]) continue;
    if (nonMoving(obj[x].pool) && obj[x].addr != obj[x].prev)
      FAIL("%s: %s object %d moved from %p to %p", where, poolName[obj[x].pool], x, obj[x].prev,
           obj[x].addr);
    if (!nonMoving(obj[x].pool) && pinS[x]) {
      ++nPinnedChecks;
      if (obj[x].addr != obj[x].prev)
        FAIL("%s: AMC object %d, referred to ambiguously, moved from %p to %p", where, x,
             obj[x].prev, obj[x].addr);
    }
  }

  /* finalization: one message for every finalizable object (unless another
     finalizable object refers to it, or something ambiguous may keep it) */
  for (x = 0; x < nobj; ++x) {
    if (!superset && candS[x] && !fromCand[x] && !msgS[x])
      FAIL("%s: %s object %d is finalizable but no message came", where, poolName[obj[x].pool], x);
    if (msgS[x]) {
      obj[x].fin = 1;
      ++obj[x].finCount;
      ++nFinal;
    }
  }
  checkWalks();
  checkDebugPools(where);
  for (i = 0; i < nmsg; ++i) {
    /* resurrect some */
    x = msgs[i].id;
    if (x >= 0 && rnd() % 4 == 0) {
      for (r = 0; r < 20; ++r) {
        int q = (int)(rnd() % NROOTS);
        if (rootId[q] < 0) {
          rootTab[q] = msgs[i].ref;
          rootId[q] = x;
          break;
        }
      }
    }
    mps_message_discard(arena, msgs[i].m);
  }
  /* only what was reached has a known address: the rest is never used
     again (finalizable objects kept by junk words get no message and are
     not reached; their messages may bring them back) */
  for (x = 0; x < nobj; ++x) {
    if (obj[x].finCount > 1) FAIL("%s: object %d finalized %u times", where, x, obj[x].finCount);
    obj[x].dead = !seenS[x];
  }
}

static void collect(const char *where) { collectR(where, 0, ""); }

/* ---- allocation --------------------------------------------------------------------------- */

static int noRefs; /* new objects refer to nothing */

/* A random object that is not dead (and holds no junk), or -1. */
static int pickLive(void)
{
  int tries;
  for (tries = 0; tries < 30 && nobj > 0; ++tries) {
    int x;
    if (rnd() % 2 == 0) {
      int r = (int)(rnd() % NROOTS);
      x = rootId[r];
    } else {
      x = (int)(rnd() % (unsigned)nobj);
    }
    if (x >= 0 && !obj[x].dead && !obj[x].junk) return x;
  }
  return -1;
}

/* An ambiguous word that refers to y: its client pointer, or for AMC any
 * address inside it. */
static mps_word_t ambigRef(int y, size_t *offReturn)
{
  size_t off = 0;
  if (obj[y].pool == P_AMC && rnd() % 3 == 0) off = rnd() % (objSize(y) - fmtHdr);
  *offReturn = off;
  return (mps_word_t)obj[y].addr + off;
}

/* The address range of a pool's objects seen so far (for junk words). */
static mps_word_t junkWord(void)
{
  int x = (int)(rnd() % (unsigned)(nobj > 0 ? nobj : 1));
  switch (rnd() % 8) {
  case 0: return (mps_word_t)(rnd() % 5000);
  case 1: return ~(mps_word_t)0 - (rnd() % 64);
  case 2: return (mps_word_t)&rootTab[rnd() % NROOTS] + rnd() % 8;
  case 3: return (mps_word_t)rnd() | 1;
  default: /* near any object ever allocated, dead or alive */
    if (nobj == 0) return 0x1234;
    return (mps_word_t)obj[x].addr + (rnd() % 2 ? rnd() % (objSize(x) + 64) : 0) -
           (rnd() % 4 == 0 ? rnd() % 64 : 0);
  }
}

static void fillSlot(int id, int k, mps_word_t *s, int junk)
{
  Obj *o = &obj[id];
  int y = noRefs || rnd() % 5 == 0 ? -1 : pickLive();
  o->refs[k] = -1;
  o->off[k] = 0;
  if (o->kind == K_AMBIG) {
    if (junk && rnd() % 2 == 0) {
      o->word[k] = junkWord();
      ++nJunk;
    } else if (y >= 0) {
      o->refs[k] = y;
      o->word[k] = ambigRef(y, &o->off[k]);
    } else {
      o->word[k] = (mps_word_t)(rnd() % 3 == 0 ? 0 : W_INT(rnd() % 1000));
    }
    s[k] = o->word[k];
  } else {
    o->refs[k] = y;
    s[k] = y >= 0 ? (mps_word_t)obj[y].addr : 0;
  }
}

/* A new object in pool pl (kind K_AMBIG on the pool's ambiguous AP). */
static int newObj(int pl, unsigned kind, unsigned nslots, unsigned ndata, int junk)
{
  int id = nobj;
  size_t size = wfSize(nslots, ndata), k;
  mps_ap_t ap = kind == K_AMBIG ? apA[pl] : apE[pl];
  mps_addr_t p;
  REQUIRE(nobj < MAXOBJ && ap != NULL);
  memset(&obj[id], 0, sizeof obj[id]);
  obj[id].pool = (unsigned char)pl;
  obj[id].kind = (unsigned char)kind;
  obj[id].nslots = (unsigned short)nslots;
  obj[id].ndata = (unsigned short)ndata;
  obj[id].junk = (unsigned char)junk;
  for (k = 0; k < MAXREFS; ++k) obj[id].refs[k] = -1;
  do {
    mps_word_t *f;
    REQUIRE(mps_reserve(&p, ap, size) == MPS_RES_OK);
    *(mps_word_t *)p = (mps_word_t)size | T_OBJ;
    f = wfF((char *)p + fmtHdr);
    f[0] = INFO(id, kind);
    f[1] = W_EMPTY;
    f[2] = ((mps_word_t)nslots << 1) | 1;
    for (k = 0; k < nslots; ++k) fillSlot(id, (int)k, f + 3, junk);
    for (k = 0; k < ndata; ++k) f[3 + nslots + k] = dataWord(id, k);
  } while (!mps_commit(ap, p, size));
  obj[id].addr = obj[id].prev = (char *)p + fmtHdr;
  ++nobj;
  return id;
}

static void setRoot(int r, int id)
{
  rootId[r] = id;
  rootTab[r] = id < 0 ? NULL : obj[id].addr;
}


/* An object with given slots (exact ids, or for K_AMBIG words). */
static int newWith(int pl, unsigned kind, unsigned n, const int *ids, const mps_word_t *words,
                   const size_t *offs)
{
  int id, k;
  noRefs = 1;
  id = newObj(pl, kind, n, 3, 0);
  noRefs = 0;
  for (k = 0; k < (int)n; ++k) {
    mps_word_t *s = wfSlots(obj[id].addr);
    obj[id].refs[k] = ids[k];
    if (kind == K_AMBIG) {
      obj[id].word[k] = words[k];
      obj[id].off[k] = offs[k];
      s[k] = words[k];
    } else {
      s[k] = ids[k] >= 0 ? (mps_word_t)obj[ids[k]].addr : 0;
    }
  }
  return id;
}


/* ---- the arena -------------------------------------------------------------------------- */

/* Reports through the plinth are recorded, not fatal; a parked arena with
 * the thread registered, the exact root table, and finalization and gc
 * messages.  Gives the assertion handler to put back. */
static mps_lib_assert_fail_t amsOpen(void)
{
  mps_lib_assert_fail_t old = mps_lib_assert_fail_install(recordHandler);
  int r;
  REQUIRE(mps_arena_create_k(&arena, mps_arena_class_vm(), mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_thread_reg(&thread, arena) == MPS_RES_OK);
  mps_arena_park(arena);
  for (r = 0; r < NROOTS; ++r) rootId[r] = -1;
  REQUIRE(mps_root_create_table(&root, arena, mps_rank_exact(), 0, rootTab, NROOTS) == MPS_RES_OK);
  mps_message_type_enable(arena, mps_message_type_finalization());
  mps_message_type_enable(arena, mps_message_type_gc());
  return old;
}

/* The model's and the format's counts of what went wrong are zero; the
 * arena goes with no report. */
static void amsClose(mps_lib_assert_fail_t old)
{
  if (errors != 0) fprintf(stderr, "%lu failures found by the model checks\n", errors);
  CHECK(errors == 0);
  CHECK(wfBadTags == 0);
  CHECK(wfExactSplats == 0);
  CHECK(wfAmbigChanged == 0);
  mps_message_type_disable(arena, mps_message_type_finalization());
  mps_message_type_disable(arena, mps_message_type_gc());
  mps_arena_park(arena);
  mps_root_destroy(root);
  mps_thread_dereg(thread);
  mps_arena_destroy(arena);
  noNewReports("the end");
  CHECK(reports == lastReports);
  mps_lib_assert_fail_install(old);
}

#endif /* AMSMODEL_H */
