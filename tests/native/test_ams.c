/* test_ams.c -- AMS, AMS debug and objects of ambiguous rank, through the
 * public MPS interface only, against a reachability model computed by the
 * program.
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
 * AMS debug (with MPS_KEY_POOL_DEBUG_OPTIONS, with the defaults, and by
 * the legacy varargs): a byte written just past the end or just before the
 * start of an object is reported by mps_pool_check_fenceposts (through the
 * plinth's assertion handler), also when the object dies in a collection
 * and at mps_pool_destroy; writing into the space of a reclaimed object is
 * reported by mps_pool_check_free_space, and when its segment goes back to
 * the arena; clean pools report nothing; the patterns are the templates.
 * Usage: test_ams [seed].  Spec: mps-interface.md §3.5, §3.12, §4, §6, §7,
 * §8, §10, §12, §14.
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

#define NOINLINE __attribute__((noinline))

enum { P_AMC, P_LO, P_AWL, P_AMS1, P_AMS2, P_DBG, P_DBG2, P_DBG3, NPOOLS };
static const char *const poolName[NPOOLS] = {
  "AMC", "LO", "AWL", "AMS", "AMS (legacy)", "AMS debug", "AMS debug (defaults)",
  "AMS debug (legacy)"
};

static mps_arena_t arena;
static mps_thr_t thread;
static void *coldEnd;
static mps_fmt_t fmt;
static mps_chain_t chain;
static mps_pool_t pools[NPOOLS];
static mps_ap_t apE[NPOOLS], apA[NPOOLS];     /* exact (or LO's) and ambiguous APs */
static size_t fence[NPOOLS];                   /* bytes of each fence (debug pools) */
static mps_root_t root;

/* the debug options of P_DBG and P_DBG3 */
static const char fenceT[] = "fence-post!", freeT[] = "xyz";
static const char fenceT3[] = "<<<<<<<<FENCE3>>>>>>>>!!", freeT3[] = "gone";
static mps_pool_debug_option_s dbgOpt = {fenceT, sizeof fenceT - 1, freeT, sizeof freeT - 1};
static mps_pool_debug_option_s dbgOpt3 = {fenceT3, sizeof fenceT3 - 1, freeT3, sizeof freeT3 - 1};

/* ---- the model --------------------------------------------------------------------- */

#define MAXOBJ 40000
#define MAXREFS 5
#define NROOTS 400
#define NHELD 12

typedef struct {
  unsigned char pool, kind, dead, reg, fin, finCount, junk;
  unsigned short nslots, ndata;
  int refs[MAXREFS];                    /* -1: null (exact) or not a reference (ambiguous) */
  size_t off[MAXREFS];                  /* ambiguous references: offset into the target */
  mps_word_t word[MAXREFS];             /* ambiguous objects: the words as written */
  mps_addr_t addr, prev;                /* client pointer now; before the collection */
} Obj;

static Obj obj[MAXOBJ];
static int nobj;
static mps_addr_t rootTab[NROOTS];
static int rootId[NROOTS];
static int held;                        /* the stack phase: stack words are roots */
static int heldId[NHELD];
static size_t heldOff[NHELD];
static mps_word_t heldWord[NHELD];
static int superset;                    /* something ambiguous may keep garbage */

static unsigned long errors, lastReports, nCollect, nFinal, nPinnedChecks, nWalked, nJunk;

#define FAIL(...) do { ++errors; if (errors <= 40) { fprintf(stderr, "  " __VA_ARGS__); \
  fputc('\n', stderr); } } while (0)

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
  if (f[0] != INFO(id, obj[id].kind) || f[1] != W_EMPTY
      || f[2] != (((mps_word_t)obj[id].nslots << 1) | 1)) return 0;
  for (k = 0; k < obj[id].ndata; ++k)
    if (f[3 + obj[id].nslots + k] != dataWord(id, k)) return 0;
  return 1;
}

/* ---- reachability --------------------------------------------------------------------- */

static unsigned char strongS[MAXOBJ], protS[MAXOBJ], candS[MAXOBJ], fromCand[MAXOBJ],
    pinS[MAXOBJ], seenS[MAXOBJ], msgS[MAXOBJ];
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
typedef struct { mps_addr_t p; int id, from, slot; } Visit;
static Visit visits[MAXOBJ * MAXREFS + NROOTS + NHELD + 1024];
static size_t nvisits;
static int firstFrom[MAXOBJ], firstSlot[MAXOBJ];   /* how each object was first reached */
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
  if (from == FROM_ROOT) snprintf(b, 120, "root slot %d", slot);
  else if (from == FROM_STACK) snprintf(b, 120, "stack word %d", slot);
  else if (from == FROM_MESSAGE) snprintf(b, 120, "a finalization message");
  else snprintf(b, 120, "%s %s object %d slot %d", poolName[obj[from].pool],
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
             "from %s", where, poolName[o->pool], v.id, o->prev, o->addr,
             describe(firstFrom[v.id], firstSlot[v.id]), v.p, describe(v.from, v.slot));
      continue;
    }
    if (!intact(v.p, v.id)) {
      FAIL("%s: reference %p from %s to %s object %d (kind %u%s) does not lead to it intact "
           "(it was at %p)", where, v.p, describe(v.from, v.slot), poolName[o->pool], v.id,
           o->kind, pinS[v.id] ? ", pinned" : "", o->prev);
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
          FAIL("ambiguous slot %d of %s object %d changed from %#lx to %#lx", k,
               poolName[o->pool], v.id, o->word[k], s[k]);
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
  if (id == GARBAGE_ID) { ++walkGarbage; return; }
  if (id < 0 || id >= nobj || pools[obj[id].pool] != pool || !intact(c, id)) { ++walkBad; return; }
  if (obj[id].addr != c) ++walkBad;
  if (walkCount[id] < 255) ++walkCount[id];
}

/* mps_pool_walk's area scanner: areas of base pointers. */
static mps_res_t walkArea(mps_ss_t ss, void *base, void *limit, void *closure)
{
  char *p = base;
  mps_pool_t pool = closure;
  MPS_SCAN_BEGIN(ss) {
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
              if ((mps_word_t)r != f[3 + k]) ++walkBad;   /* nothing is white */
            }
          }
      } else if (TYPE(tag) != T_PAD) {
        ++walkBad;
        break;
      }
      if (size == 0) { ++walkBad; break; }
      p += size;
    }
  } MPS_SCAN_END(ss);
  return MPS_RES_OK;
}

static void objectStep(mps_addr_t c, mps_fmt_t f, mps_pool_t pool, void *p, size_t s)
{
  int pl;
  if (p != &walkCount || s != 17 || f != fmt) { ++walkBad; return; }
  if (pool == pools[P_AMC]) return;             /* may include dead objects */
  for (pl = 0; pl < NPOOLS; ++pl)
    if (pools[pl] == pool) break;
  if (pl == NPOOLS) { ++walkBad; return; }
  if (TYPE(*wfTag(c)) == T_OBJ) walkSaw(c, pool);
  else if (TYPE(*wfTag(c)) != T_PAD && TYPE(*wfTag(c)) != T_PAD1) ++walkBad;
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
           "garbage objects seen, %lu bad", pass == 0 ? "mps_pool_walk"
           : "mps_arena_formatted_objects_walk", missing, twice, extra, walkGarbage, walkBad);
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

static struct { mps_message_t m; mps_addr_t ref; int id; } msgs[2048];

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
             "finalized)", where, poolName[obj[id].pool], id);
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
      if (heldId[k] >= 0)
        visit((mps_addr_t)(heldWord[k] - heldOff[k]), heldId[k], FROM_STACK, k);
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
      FAIL("%s: %s object %d is finalizable but no message came", where,
           poolName[obj[x].pool], x);
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
        if (rootId[q] < 0) { rootTab[q] = msgs[i].ref; rootId[q] = x; break; }
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

static int noRefs;                      /* new objects refer to nothing */

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
  default:                                 /* near any object ever allocated, dead or alive */
    if (nobj == 0) return 0x1234;
    return (mps_word_t)obj[x].addr + (rnd() % 2 ? rnd() % (objSize(x) + 64) : 0)
           - (rnd() % 4 == 0 ? rnd() % 64 : 0);
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

/* A random object of a random pool and kind. */
static int newRandom(int junk)
{
  static const int choice[] = {P_AMC, P_AMC, P_AMC, P_AMS1, P_AMS1, P_AMS2, P_AWL, P_LO, P_DBG};
  int pl = choice[rnd() % (sizeof choice / sizeof choice[0])];
  unsigned kind = pl == P_LO ? K_LEAF : K_NODE;
  if (pools[pl] == NULL) pl = P_AMC, kind = K_NODE;
  if (junk || (apA[pl] != NULL && rnd() % 3 == 0)) {
    pl = junk ? (int)(rnd() % 2 ? P_AMS1 : P_AMS2) : pl;
    kind = K_AMBIG;
  }
  return newObj(pl, kind, kind == K_LEAF ? 0 : (unsigned)(rnd() % (MAXREFS + 1)),
                rnd() % 150 == 0 ? 9000 + (unsigned)(rnd() % 4000)   /* 70..100 KiB */
                : (unsigned)(rnd() % 12), junk);
}

static void garbage(unsigned count)
{
  while (count-- > 0) {
    static const int choice[] = {P_AMC, P_AMC, P_AMS1, P_AMS2, P_AWL, P_LO, P_DBG};
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
      for (k = 0; k < n; ++k) {       /* dead objects refer to live ones */
        int y = pickLive();
        f[3 + k] = y >= 0 ? (mps_word_t)obj[y].addr : 0;
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
  } else if (op < 75) {                                 /* rewire a slot */
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
    if (pl == P_AMS2) {                                  /* the legacy forms */
      REQUIRE(mps_ap_create(&apE[pl], pools[pl], mps_rank_exact()) == MPS_RES_OK);
      REQUIRE(mps_ap_create(&apA[pl], pools[pl], mps_rank_ambig()) == MPS_RES_OK);
      continue;
    }
    REQUIRE(mps_ap_create_k(&apE[pl], pools[pl], mps_args_none) == MPS_RES_OK);
    if (pl == P_AMS1 || pl == P_DBG) {
      MPS_ARGS_BEGIN(args) {
        MPS_ARGS_ADD(args, MPS_KEY_RANK, mps_rank_ambig());
        REQUIRE(mps_ap_create_k(&apA[pl], pools[pl], args) == MPS_RES_OK);
      } MPS_ARGS_END(args);
    }
  }
}

/* With no allocation point, each non-moving pool holds exactly the
 * surviving objects (and their fences). */
static void sizeCheck(const char *where)
{
  int pl, x;
  size_t want[NPOOLS] = {0};
  destroyAps();
  collect(where);
  for (x = 0; x < nobj; ++x)
    if (strongS[x] || protS[x]) want[obj[x].pool] += objSize(x) + 2 * fence[obj[x].pool];
  for (pl = 0; pl < NPOOLS; ++pl) {
    size_t total, free;
    if (pools[pl] == NULL || !nonMoving(pl)) continue;
    total = mps_pool_total_size(pools[pl]);
    free = mps_pool_free_size(pools[pl]);
    if (free > total || (!superset && total - free != want[pl]) || (superset && total - free < want[pl]))
      FAIL("%s: %s pool: total %zu - free %zu = %zu bytes in use, the surviving objects take %zu",
           where, poolName[pl], total, free, total - free, want[pl]);
  }
  createAps();
}

/* ---- the hard case ------------------------------------------------------------------------- */

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

static void hardCase(int ambigPool, int rootBase)
{
  static const int chainPools[] = {P_AMC, P_AMS1, P_AWL, P_AMS2, P_DBG, P_AMC, P_AMC};
  int B, D, B2, B3, B4, E, A, c, prev, ids[5], round, head = -1;
  mps_word_t words[5];
  size_t offs[5], b3off, b4off;
  int none[1] = {-1};

  E = newWith(P_AMC, K_NODE, 0, none, NULL, NULL);     /* B's neighbour, fixed early */
  D = newWith(P_AMC, K_NODE, 0, none, NULL, NULL);
  ids[0] = D;
  B = newWith(P_AMC, K_NODE, 1, ids, NULL, NULL);      /* only A refers to B */
  B2 = newWith(P_AMC, K_NODE, 0, none, NULL, NULL);    /* also from a root */
  B3 = newWith(P_AMC, K_NODE, 0, none, NULL, NULL);    /* also from the chain's head */
  noRefs = 1;
  B4 = newObj(P_AMC, K_NODE, 0, 8000, 0);              /* large: a segment of its own */
  noRefs = 0;
  b3off = objSize(B3) - fmtHdr - 3;                    /* an unaligned interior address */
  b4off = 20000 + WORD;
  ids[0] = B, words[0] = (mps_word_t)obj[B].addr, offs[0] = 0;
  ids[1] = B2, words[1] = (mps_word_t)obj[B2].addr, offs[1] = 0;
  ids[2] = B3, words[2] = (mps_word_t)obj[B3].addr + b3off, offs[2] = b3off;
  ids[3] = -1, words[3] = 0x12345678;                  /* not a reference */
  ids[4] = B4, words[4] = (mps_word_t)obj[B4].addr + b4off, offs[4] = b4off;
  A = newWith(ambigPool, K_AMBIG, 5, ids, words, offs);
  prev = A;
  for (c = 0; c < 300; ++c) {                          /* the chain, from its end */
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
    CHECK(s[4] - b4off == (mps_word_t)obj[B4].addr && obj[B4].addr == obj[B4].prev
          && intact(obj[B4].addr, B4));
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
    static const int choice[] = {P_AMC, P_AMC, P_AMC, P_AMS1, P_AMS2, P_AWL, P_LO, P_DBG};
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
  for (r = 0; r < NROOTS; ++r)                  /* the junk goes */
    if (rootId[r] >= 0 && obj[rootId[r]].junk) setRoot(r, -1);
  collect("dropping the junk");
  superset = 0;
  collect("after the junk");
}

static void scenario(size_t header)
{
  mps_gen_param_s gens[2] = {{1024, 0.8}, {4096, 0.5}};
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
  MPS_ARGS_BEGIN(args) {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    REQUIRE(mps_pool_create_k(&pools[P_AMC], arena, mps_class_amc(), args) == MPS_RES_OK);
  } MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args) {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    REQUIRE(mps_pool_create_k(&pools[P_LO], arena, mps_class_lo(), args) == MPS_RES_OK);
  } MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args) {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    REQUIRE(mps_pool_create_k(&pools[P_AWL], arena, mps_class_awl(), args) == MPS_RES_OK);
  } MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args) {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    MPS_ARGS_ADD(args, MPS_KEY_AMS_SUPPORT_AMBIGUOUS, 1);
    REQUIRE(mps_pool_create_k(&pools[P_AMS1], arena, mps_class_ams(), args) == MPS_RES_OK);
  } MPS_ARGS_END(args);
  REQUIRE(mps_pool_create(&pools[P_AMS2], arena, mps_class_ams(), fmt, chain, (mps_bool_t)1)
          == MPS_RES_OK);
  MPS_ARGS_BEGIN(args) {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    MPS_ARGS_ADD(args, MPS_KEY_POOL_DEBUG_OPTIONS, &dbgOpt);
    REQUIRE(mps_pool_create_k(&pools[P_DBG], arena, mps_class_ams_debug(), args) == MPS_RES_OK);
  } MPS_ARGS_END(args);
  fence[P_DBG] = alignUp(dbgOpt.fence_size, WORD);
  REQUIRE(mps_ap_create_k(&apE[P_AMC], pools[P_AMC], mps_args_none) == MPS_RES_OK);
  createAps();

  /* random graphs; every few rounds the exact size check */
  for (round = 0; round < 50; ++round) {
    unsigned ops = 30 + (unsigned)(rnd() % 600);
    while (ops-- > 0) randomOp(0);
    if (round % 5 == 4) sizeCheck("random graphs, without allocation points");
    else collect("random graphs");
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
    for (r = 0; r < NROOTS; ++r) setRoot(r, -1);     /* resurrected ones too */
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

static size_t inUse(int pl) { return mps_pool_total_size(pools[pl]) - mps_pool_free_size(pools[pl]); }

static void genPhase(void)
{
  mps_gen_param_s gens[3] = {{64, 0.8}, {256, 0.5}, {100000, 0.3}};
  mps_pool_t bad;
  mps_res_t res;
  int r, i, A, B, B1, D1, live[20], ids[3];
  mps_word_t words[3];
  size_t offs[3], g0Before, g2Before, g0Garbage = 0, g2Garbage = 0, liveBytes[2] = {0, 0};
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
  MPS_ARGS_BEGIN(args) {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    REQUIRE(mps_pool_create_k(&pools[P_AMC], arena, mps_class_amc(), args) == MPS_RES_OK);
  } MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args) {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    MPS_ARGS_ADD(args, MPS_KEY_GEN, 0);
    REQUIRE(mps_pool_create_k(&pools[P_AMS1], arena, mps_class_ams(), args) == MPS_RES_OK);
  } MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args) {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    MPS_ARGS_ADD(args, MPS_KEY_GEN, 2);
    REQUIRE(mps_pool_create_k(&pools[P_AMS2], arena, mps_class_ams(), args) == MPS_RES_OK);
  } MPS_ARGS_END(args);
  /* a generation beyond the chain is refused */
  MPS_ARGS_BEGIN(args) {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    MPS_ARGS_ADD(args, MPS_KEY_GEN, 4);
    res = mps_pool_create_k(&bad, arena, mps_class_ams(), args);
  } MPS_ARGS_END(args);
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
  for (i = 0; i < 20; ++i) {                    /* live objects referring to AMC objects */
    int pl = i % 2 ? P_AMS2 : P_AMS1, y;
    noRefs = 1;
    y = newObj(P_AMC, K_NODE, 0, 2, 0);
    noRefs = 0;
    ids[0] = y;
    live[i] = newWith(pl, K_NODE, 1, ids, NULL, NULL);
    setRoot(2 + i, live[i]);
    liveBytes[i % 2] += objSize(live[i]);
  }
  while (g0Garbage < ((size_t)256 << 10)) {     /* garbage in both AMS pools */
    int x = newObj(P_AMS1, K_NODE, 0, 30, 0), y = newObj(P_AMS2, K_NODE, 0, 30, 0);
    g0Garbage += objSize(x);
    g2Garbage += objSize(y);
  }
  destroyAps();                                 /* so that in-use is exactly the objects */
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
         "%zu of garbage), in generation 2 %zu (%zu before)", autos, inUse(P_AMS1), g0Before,
         g0Garbage, inUse(P_AMS2), g2Before);
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
  CHECK(mps_arena_collect(arena) == MPS_RES_OK);       /* now generation 2 goes too */
  if (!(inUse(P_AMS2) < g2Before - g2Garbage / 2))
    FAIL("after a full collection AMS in generation 2 uses %zu bytes (%zu before, %zu of "
         "garbage)", inUse(P_AMS2), g2Before, g2Garbage);
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
static void damage(unsigned char *p, void (*check)(mps_pool_t), mps_pool_t pool,
                   const char *word, const char *what)
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

  for (k = 0; k < 24; ++k) {                   /* referring to the AMC objects only */
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
    if (!inTemplate(b - f, f, fenceTpl, fenceLen) || !inTemplate(b + objSize(x[k]), f, fenceTpl, fenceLen))
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
  snprintf(what, sizeof what, "%s: an object dies with a byte written past its end",
           poolName[pl]);
  baseOf(x[10])[objSize(x[10])] ^= 0x33;
  setRoot(100 + 10, -1);
  collectR(what, 1, "fencepost");
  snprintf(what, sizeof what, "%s: an object dies with a byte written before its start",
           poolName[pl]);
  baseOf(x[11])[-1] ^= 0x33;
  setRoot(100 + 11, -1);
  collectR(what, 1, "fencepost");
  collect("after the damaged objects died");     /* nothing left to report */

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
  b[5] ^= 0x21;                                 /* written after it was reclaimed */
  for (k = 0; k < 8; ++k) setRoot(200 + k, -1);
  if (apE[pl] != NULL) mps_ap_destroy(apE[pl]);
  if (apA[pl] != NULL) mps_ap_destroy(apA[pl]);
  apE[pl] = apA[pl] = NULL;
  snprintf(what, sizeof what, "%s: free space written, then its segment goes back to the "
           "arena", poolName[pl]);
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
  mps_gen_param_s gens[2] = {{1024, 0.8}, {4096, 0.5}};
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
  MPS_ARGS_BEGIN(args) {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    REQUIRE(mps_pool_create_k(&pools[P_AMC], arena, mps_class_amc(), args) == MPS_RES_OK);
  } MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args) {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    MPS_ARGS_ADD(args, MPS_KEY_POOL_DEBUG_OPTIONS, &dbgOpt);
    REQUIRE(mps_pool_create_k(&pools[P_DBG], arena, mps_class_ams_debug(), args) == MPS_RES_OK);
  } MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args) {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    REQUIRE(mps_pool_create_k(&pools[P_DBG2], arena, mps_class_ams_debug(), args) == MPS_RES_OK);
  } MPS_ARGS_END(args);
  REQUIRE(mps_pool_create(&pools[P_DBG3], arena, mps_class_ams_debug(), &dbgOpt3, fmt, chain,
                          (mps_bool_t)1) == MPS_RES_OK);
  fence[P_DBG] = alignUp(dbgOpt.fence_size, WORD);
  fence[P_DBG2] = alignUp(4, WORD);
  fence[P_DBG3] = alignUp(dbgOpt3.fence_size, WORD);
  REQUIRE(mps_ap_create_k(&apE[P_AMC], pools[P_AMC], mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_ap_create_k(&apE[P_DBG], pools[P_DBG], mps_args_none) == MPS_RES_OK);
  MPS_ARGS_BEGIN(args) {
    MPS_ARGS_ADD(args, MPS_KEY_RANK, mps_rank_ambig());
    REQUIRE(mps_ap_create_k(&apA[P_DBG], pools[P_DBG], args) == MPS_RES_OK);
  } MPS_ARGS_END(args);
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
  void *marker = NULL;
  mps_lib_assert_fail_t old;
  int r;

  testSeed(argc, argv);
  coldEnd = &marker;
  old = mps_lib_assert_fail_install(recordHandler);   /* reports are checked, not fatal */
  REQUIRE(mps_arena_create_k(&arena, mps_arena_class_vm(), mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_thread_reg(&thread, arena) == MPS_RES_OK);
  mps_arena_park(arena);
  for (r = 0; r < NROOTS; ++r) rootId[r] = -1;
  REQUIRE(mps_root_create_table(&root, arena, mps_rank_exact(), 0, rootTab, NROOTS) == MPS_RES_OK);
  mps_message_type_enable(arena, mps_message_type_finalization());
  mps_message_type_enable(arena, mps_message_type_gc());

  scenario(0);
  scenario(WORD);
  genPhase();
  debugPhase();

  printf("%lu collections, %lu finalized, %lu pinned objects checked, %lu walks, "
         "%lu junk words\n", nCollect, nFinal, nPinnedChecks, nWalked, nJunk);
  if (errors != 0) fprintf(stderr, "%lu failures found by the model checks\n", errors);
  CHECK(errors == 0);
  CHECK(wfBadTags == 0);
  CHECK(wfExactSplats == 0);
  CHECK(wfAmbigChanged == 0);
  CHECK(nPinnedChecks > 0 && nFinal > 0 && nJunk > 0);

  mps_message_type_disable(arena, mps_message_type_finalization());
  mps_message_type_disable(arena, mps_message_type_gc());
  mps_arena_park(arena);
  mps_root_destroy(root);
  mps_thread_dereg(thread);
  mps_arena_destroy(arena);
  noNewReports("the end");
  CHECK(reports == lastReports);
  mps_lib_assert_fail_install(old);
  (void)marker;
  return testFinish();
}
