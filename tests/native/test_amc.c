/* test_amc.c -- random object graphs in an AMC pool, checked after every
 * collection against a shadow graph kept in plain C arrays.
 *
 * The format: a tag word (type and size) at the base of every block, then
 * for objects an id word, a reference count, the references (client
 * pointers) and data words derived from the id; padding objects of one
 * word and of many words, forwarding objects of one word and of many
 * words.  Every scenario runs with no in-band header and with headers of 8
 * and 16 bytes (MPS_KEY_FMT_HEADER_SIZE; then the tag lives in the header).
 *
 * Exact roots: a table root (mps_root_create_table) and an area root
 * (mps_root_create_area with mps_scan_area).  While the arena is parked the
 * program rewires the graph at random, collects at random points and then
 * checks that every reachable object is present with intact data and
 * references to the right ids, that some objects moved, that mps_collections
 * grew, and (mps_pool_walk, mps_amc_apply, pool sizes) that unreachable
 * objects were reclaimed.  Also: objects held only ambiguously on the stack
 * of a registered thread (mps_root_create_thread) stay put and keep their
 * exact children; interior pointers keep objects alive, also into large
 * (>= 32 KiB) objects; mps_addr_object; park/release/clamp/step/
 * start_collect; ramps; and a chain of two small generations that triggers
 * collections on its own while the arena is released.
 * Usage: test_amc [seed].  Design: docs/design/amc.md, interface.md,
 * collector-interface.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpscamc.h"
#include "testlib.h"

#define NOINLINE   __attribute__((noinline))
#define WORD       ((size_t)sizeof(mps_word_t))
#define MAXOBJ     8000
#define MAXREFS    4
#define NTABLE     24 /* slots of the table root */
#define NAREA      24 /* slots of the area root */
#define NROOTS     (NTABLE + NAREA)
#define LARGE_MIN  ((size_t)40 << 10) /* "large" objects: 40..64 KiB */
#define GARBAGE_ID ((mps_word_t)0xdeadbeefUL)
#define NHELD      6

enum { T_OBJ = 1, T_PAD = 2, T_FWD = 3, T_PAD1 = 4, T_FWD1 = 5 };
#define TYPE(w)   ((unsigned)((w)&7))
#define SIZE(w)   ((size_t)((w) & ~(mps_word_t)7))
#define HDR_MAGIC ((mps_word_t)0x4844524d41474943ull)

static mps_arena_t arena;
static mps_pool_t pool;
static size_t hdr;      /* in-band header of the current scenario */
static size_t fieldOff; /* base to id word: the header, or the tag word */
static unsigned long fwdCalls, pad1Calls, padCalls, badTags;

/* ---- the format ------------------------------------------------------------ */

static mps_word_t *baseOf(mps_addr_t c) { return (mps_word_t *)((char *)c - hdr); }
/* fields: [0] id, [1] nrefs, [2 .. 2+nrefs) references, then data words */
static mps_word_t *fieldsOf(mps_addr_t c) { return (mps_word_t *)((char *)baseOf(c) + fieldOff); }
static size_t objSize(size_t nrefs, size_t ndata) { return fieldOff + WORD * (2 + nrefs + ndata); }
static mps_word_t dataWord(mps_word_t id, size_t k)
{
  return (id * 0x9E3779B97F4A7C15ull) ^ (k * 0x100000001b3ull) ^ 0x5a5a5a5a;
}

static mps_addr_t fmtSkip(mps_addr_t c)
{
  mps_word_t tag = *baseOf(c);
  switch (TYPE(tag)) {
  case T_PAD1:
  case T_FWD1: return (char *)c + WORD;
  case T_OBJ:
  case T_PAD:
  case T_FWD: return (char *)c + SIZE(tag);
  default: ++badTags; return (char *)c + WORD;
  }
}

static mps_addr_t fmtIsfwd(mps_addr_t c)
{
  mps_word_t *b = baseOf(c);
  if (TYPE(b[0]) == T_FWD) return (mps_addr_t)b[1];
  if (TYPE(b[0]) == T_FWD1) return (mps_addr_t)SIZE(b[0]);
  return NULL;
}

static void fmtFwd(mps_addr_t old, mps_addr_t newc)
{
  mps_word_t *b = baseOf(old);
  size_t size = (size_t)((char *)fmtSkip(old) - (char *)old);
  ++fwdCalls;
  if (size == WORD) {
    b[0] = (mps_word_t)newc | T_FWD1;
  } else {
    b[0] = (mps_word_t)size | T_FWD;
    b[1] = (mps_word_t)newc;
  }
}

static void fmtPad(mps_addr_t base, size_t size)
{
  mps_word_t *b = base;
  if (size == WORD) {
    ++pad1Calls;
    b[0] = T_PAD1;
  } else {
    ++padCalls;
    b[0] = (mps_word_t)size | T_PAD;
  }
}

static mps_res_t fmtScan(mps_ss_t ss, mps_addr_t base, mps_addr_t limit)
{
  MPS_SCAN_BEGIN(ss)
  {
    mps_addr_t c;
    for (c = base; c < limit; c = fmtSkip(c)) {
      mps_word_t *f;
      size_t i;
      if (TYPE(*baseOf(c)) != T_OBJ) continue;
      f = fieldsOf(c);
      for (i = 0; i < f[1]; ++i) {
        mps_addr_t r = (mps_addr_t)f[2 + i];
        if (MPS_FIX1(ss, r)) {
          mps_res_t res = MPS_FIX2(ss, &r);
          if (res != MPS_RES_OK) return res;
          f[2 + i] = (mps_word_t)r;
        }
      }
    }
  }
  MPS_SCAN_END(ss);
  return MPS_RES_OK;
}

/* Reserve, initialise, commit; retries when commit says a flip intervened.
 * Returns the client pointer. */
static mps_addr_t allocObj(mps_ap_t ap, mps_word_t id, size_t nrefs, size_t ndata, mps_addr_t *refs)
{
  size_t size = objSize(nrefs, ndata), i;
  mps_addr_t p;
  do {
    mps_word_t *b, *f;
    REQUIRE(mps_reserve(&p, ap, size) == MPS_RES_OK);
    b = p;
    b[0] = (mps_word_t)size | T_OBJ;
    if (hdr == 16) b[1] = HDR_MAGIC;
    f = (mps_word_t *)((char *)p + fieldOff);
    f[0] = id;
    f[1] = nrefs;
    for (i = 0; i < nrefs; ++i) f[2 + i] = (mps_word_t)refs[i];
    for (i = 0; i < ndata; ++i) f[2 + nrefs + i] = dataWord(id, i);
  } while (!mps_commit(ap, p, size));
  return (char *)p + hdr;
}

/* ---- the shadow graph -------------------------------------------------------- */

typedef struct {
  unsigned nrefs;
  size_t ndata;
  int refs[MAXREFS]; /* ids, or -1 for null */
  mps_addr_t addr;   /* last known client pointer */
} Shadow;

static Shadow sh[MAXOBJ];
static unsigned nobj;
static int rootId[NROOTS];
static mps_addr_t rootTable[NTABLE], rootArea[NAREA];
static unsigned char reach[MAXOBJ], seen[MAXOBJ], walkSeen[MAXOBJ], applySeen[MAXOBJ];
static mps_addr_t cur[MAXOBJ];
static int cand[MAXOBJ];
static unsigned ncand;
static unsigned long moved, largeCount, badAddrObject;
static mps_word_t collectionsBefore; /* before the last collect() */
static mps_addr_t objectBase;
static unsigned long flatCollections, flatWithoutMoves;

static mps_addr_t *slot(int i) { return i < NTABLE ? &rootTable[i] : &rootArea[i - NTABLE]; }

/* The model: which ids the roots reach; returns their bytes. */
static size_t modelReach(void)
{
  static int stack[MAXOBJ * (MAXREFS + 1) + NROOTS];
  size_t sp = 0, bytes = 0;
  int i;
  memset(reach, 0, sizeof reach);
  for (i = 0; i < NROOTS; ++i)
    if (rootId[i] >= 0) stack[sp++] = rootId[i];
  while (sp > 0) {
    int id = stack[--sp];
    unsigned j;
    if (reach[id]) continue;
    reach[id] = 1;
    bytes += objSize(sh[id].nrefs, sh[id].ndata);
    for (j = 0; j < sh[id].nrefs; ++j)
      if (sh[id].refs[j] >= 0) stack[sp++] = sh[id].refs[j];
  }
  return bytes;
}

/* Is the object at client pointer c, in the pool, the intact object id? */
static int objOK(mps_addr_t c, int id)
{
  mps_pool_t p;
  mps_word_t *b, *f;
  size_t k;
  if (c == NULL || ((mps_word_t)c & (WORD - 1)) != 0) return 0;
  if (!mps_addr_pool(&p, arena, c) || p != pool) return 0;
  b = baseOf(c);
  f = fieldsOf(c);
  if (b[0] != (objSize(sh[id].nrefs, sh[id].ndata) | T_OBJ)) return 0;
  if (hdr == 16 && b[1] != HDR_MAGIC) return 0;
  if (f[0] != (mps_word_t)id || f[1] != sh[id].nrefs) return 0;
  for (k = 0; k < sh[id].ndata; ++k)
    if (f[2 + sh[id].nrefs + k] != dataWord((mps_word_t)id, k)) return 0;
  return 1;
}

/* ---- walks ------------------------------------------------------------------- */

static size_t walkObjBytes, walkPadBytes;
static unsigned long walkBad, walkFwd, walkUnknown, walkRefs;

/* mps_pool_walk areas are base pointers (docs/design/collector-interface.md §In-band headers). */
static mps_res_t walkArea(mps_ss_t ss, void *base, void *limit, void *closure)
{
  char *p = base;
  (void)closure;
  MPS_SCAN_BEGIN(ss)
  {
    while (p < (char *)limit) {
      mps_word_t tag = *(mps_word_t *)p;
      size_t size = TYPE(tag) == T_PAD1 || TYPE(tag) == T_FWD1 ? WORD : SIZE(tag);
      if (size == 0 || size > (size_t)((char *)limit - p) ||
          (TYPE(tag) == T_OBJ && (((mps_word_t *)(p + fieldOff))[1] > MAXREFS ||
                                  objSize(((mps_word_t *)(p + fieldOff))[1], 0) > size))) {
        ++walkBad; /* not an object: stop parsing */
        break;
      }
      if (TYPE(tag) == T_PAD1 || TYPE(tag) == T_PAD) {
        walkPadBytes += size;
      } else if (TYPE(tag) == T_OBJ) {
        mps_word_t *f = (mps_word_t *)(p + fieldOff);
        size_t i;
        if (f[0] < nobj)
          ++walkSeen[f[0]];
        else
          ++walkUnknown;
        walkObjBytes += size;
        for (i = 0; i < f[1]; ++i) {
          mps_addr_t r = (mps_addr_t)f[2 + i];
          if (r != NULL) ++walkRefs;
          if (MPS_FIX1(ss, r)) {
            mps_res_t res = MPS_FIX2(ss, &r);
            if (res != MPS_RES_OK) return res;
            f[2 + i] = (mps_word_t)r;
          }
        }
      } else if (TYPE(tag) == T_FWD || TYPE(tag) == T_FWD1) {
        ++walkFwd;
      } else {
        ++walkBad;
        break;
      }
      p += size;
    }
    if (p != (char *)limit) ++walkBad;
  }
  MPS_SCAN_END(ss);
  return MPS_RES_OK;
}

/* mps_amc_apply passes client pointers, like the format methods. */
static void applyStep(mps_addr_t c, void *p, size_t s)
{
  mps_word_t tag = *baseOf(c);
  (void)p;
  (void)s;
  if (TYPE(tag) == T_OBJ && fieldsOf(c)[0] < nobj && applySeen[fieldsOf(c)[0]] < 255)
    ++applySeen[fieldsOf(c)[0]];
  else if (TYPE(tag) != T_OBJ && TYPE(tag) != T_PAD && TYPE(tag) != T_PAD1)
    ++walkBad;
}

/* ---- verification after a collection (arena parked) ------------------------- */

/* Traverses the real heap from the roots following the model; updates the
 * known addresses; then, if strict, the walks must see exactly the
 * reachable objects (no ambiguous roots exist, so nothing dead may stay). */
static void verify(const char *when, int strict)
{
  unsigned long moved0 = moved;
  static struct {
    mps_addr_t c;
    int id;
  } stack[MAXOBJ * (MAXREFS + 1) + NROOTS];
  size_t sp = 0, liveBytes = modelReach(), used;
  unsigned long bad = 0, deadSeen = 0, liveMissing = 0, applyMissing = 0, refs = 0;
  int i;
  unsigned id;
  memset(seen, 0, sizeof seen);
  for (i = 0; i < NROOTS; ++i) {
    if (rootId[i] < 0) {
      bad += *slot(i) != NULL;
      continue;
    }
    stack[sp].c = *slot(i), stack[sp++].id = rootId[i];
  }
  while (sp > 0) {
    mps_addr_t c = stack[--sp].c;
    int oid = stack[sp].id;
    unsigned j;
    mps_word_t *f;
    if (seen[oid]) {
      if (cur[oid] != c) ++bad;
      continue;
    }
    if (!objOK(c, oid)) {
      ++bad;
      continue;
    }
    seen[oid] = 1;
    cur[oid] = c;
    f = fieldsOf(c);
    for (j = 0; j < sh[oid].nrefs; ++j) {
      mps_addr_t r = (mps_addr_t)f[2 + j];
      if (sh[oid].refs[j] < 0) {
        bad += r != NULL;
        continue;
      }
      ++refs;
      stack[sp].c = r, stack[sp++].id = sh[oid].refs[j];
    }
    /* sample mps_addr_object on the base and on an interior pointer */
    if (rnd() % 8 == 0 || sh[oid].ndata * WORD >= LARGE_MIN) {
      size_t size = objSize(sh[oid].nrefs, sh[oid].ndata);
      char *inner = (char *)baseOf(c) + (rnd() % (size / WORD)) * WORD;
      /* like the reference, mps_addr_object gives the client pointer */
      if (mps_addr_object(&objectBase, arena, c) != MPS_RES_OK || objectBase != c) ++badAddrObject;
      if (mps_addr_object(&objectBase, arena, inner) != MPS_RES_OK || objectBase != c)
        ++badAddrObject;
    }
  }
  for (id = 0; id < nobj; ++id) {
    if (reach[id] && !seen[id]) ++liveMissing;
    if (seen[id]) {
      if (cur[id] != sh[id].addr) ++moved;
      sh[id].addr = cur[id];
    }
  }
  if (bad != 0 || liveMissing != 0)
    fprintf(stderr, "%s (header %zu): %lu bad objects or references, %lu reachable missing\n", when,
            hdr, bad, liveMissing);
  CHECK(bad == 0);
  CHECK(liveMissing == 0);
  CHECK(badAddrObject == 0);
  if (moved > moved0)
    CHECK(mps_collections(arena) > collectionsBefore); /* objects moved */
  else if (mps_collections(arena) <= collectionsBefore)
    ++flatWithoutMoves;
  badAddrObject = 0;

  /* the walks */
  memset(walkSeen, 0, sizeof walkSeen);
  memset(applySeen, 0, sizeof applySeen);
  walkObjBytes = walkPadBytes = 0;
  walkBad = walkFwd = walkUnknown = walkRefs = 0;
  CHECK(mps_pool_walk(pool, walkArea, NULL) == MPS_RES_OK);
  mps_amc_apply(pool, applyStep, NULL, 0);
  CHECK(walkBad == 0);
  CHECK(walkFwd == 0);
  for (id = 0; id < nobj; ++id) {
    if (reach[id])
      liveMissing += walkSeen[id] != 1, applyMissing += applySeen[id] != 1;
    else
      deadSeen += walkSeen[id] != 0;
  }
  CHECK(liveMissing == 0);
  CHECK(applyMissing == 0);
  if (liveMissing != 0 || applyMissing != 0)
    fprintf(stderr, "%s (header %zu): walk misses %lu live objects, amc_apply misses %lu\n", when,
            hdr, liveMissing, applyMissing);
  used = mps_pool_total_size(pool) - mps_pool_free_size(pool);
  if (used < liveBytes || used > mps_pool_total_size(pool))
    fprintf(stderr, "%s (header %zu): pool total %zu - free %zu < live %zu\n", when, hdr,
            mps_pool_total_size(pool), mps_pool_free_size(pool), liveBytes);
  CHECK(mps_pool_free_size(pool) <= mps_pool_total_size(pool));
  CHECK(used >= liveBytes);
  CHECK(walkObjBytes + walkPadBytes <= mps_pool_total_size(pool));
  if (strict) {
    if (deadSeen != 0 || walkUnknown != 0 || walkObjBytes != liveBytes || walkRefs != refs)
      fprintf(stderr,
              "%s (header %zu): walk saw %lu dead objects, %lu garbage objects, "
              "%zu object bytes (live %zu), %lu refs (live %lu)\n",
              when, hdr, deadSeen, walkUnknown, walkObjBytes, liveBytes, walkRefs, refs);
    CHECK(deadSeen == 0);
    CHECK(walkUnknown == 0);
    CHECK(walkObjBytes == liveBytes);
    CHECK(walkRefs == refs);
  }
}

/* A full collection from a parked arena; leaves it parked.  Every full
 * collection of an AMC pool holding objects is a flip in which objects
 * might move, so mps_collections must count it (docs/design/interface.md, arena states); the
 * collections it did not count are reported once per scenario. */
static unsigned long gcMessages(void) /* collections ended since the last call */
{
  mps_message_t m;
  unsigned long n = 0;
  for (; mps_message_get(&m, arena, mps_message_type_gc()); ++n) mps_message_discard(arena, m);
  return n;
}

static void collect(void)
{
  collectionsBefore = mps_collections(arena);
  CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  if (mps_collections(arena) <= collectionsBefore) ++flatCollections;
}

/* ---- mutation while parked ------------------------------------------------------ */

static int randomTarget(void) /* an id with a valid address, or -1 */
{
  if (ncand == 0 || rnd() % 6 == 0) return -1;
  return cand[rnd() % ncand];
}

static mps_addr_t addrOf(int id) { return id < 0 ? NULL : sh[id].addr; }

static int newObject(mps_ap_t ap)
{
  mps_addr_t refs[MAXREFS];
  unsigned j;
  int id;
  if (nobj >= MAXOBJ) return -1;
  id = (int)nobj++;
  sh[id].nrefs = (unsigned)(rnd() % (MAXREFS + 1));
  sh[id].ndata = rnd() % 8;
  if (rnd() % 40 == 0 && largeCount < 40) {
    sh[id].ndata = (LARGE_MIN + rnd() % (24u << 10)) / WORD;
    ++largeCount;
  }
  for (j = 0; j < sh[id].nrefs; ++j) {
    sh[id].refs[j] = randomTarget();
    refs[j] = addrOf(sh[id].refs[j]);
  }
  sh[id].addr = allocObj(ap, (mps_word_t)id, sh[id].nrefs, sh[id].ndata, refs);
  cand[ncand++] = id;
  return id;
}

static void mutate(mps_ap_t ap, unsigned steps)
{
  unsigned s, id;
  ncand = 0; /* candidate targets: what the roots reach now */
  modelReach();
  for (id = 0; id < nobj; ++id)
    if (reach[id]) cand[ncand++] = (int)id;
  for (s = 0; s < steps; ++s) {
    unsigned op = (unsigned)(rnd() % 8);
    int r = (int)(rnd() % NROOTS), n, t;
    if (op <= 2) { /* a new object, rooted or linked */
      n = newObject(ap);
      if (n < 0) return;
      if (op == 2 && ncand > 1) {
        t = cand[rnd() % ncand];
        if (sh[t].nrefs > 0) {
          unsigned j = (unsigned)(rnd() % sh[t].nrefs);
          sh[t].refs[j] = n;
          fieldsOf(sh[t].addr)[2 + j] = (mps_word_t)sh[n].addr;
          continue;
        }
      }
      rootId[r] = n;
      *slot(r) = sh[n].addr;
    } else if (op <= 4) { /* a root to another object */
      rootId[r] = randomTarget();
      *slot(r) = addrOf(rootId[r]);
    } else if (op <= 6 && ncand > 0) { /* a reference to another object */
      t = cand[rnd() % ncand];
      if (sh[t].nrefs > 0) {
        unsigned j = (unsigned)(rnd() % sh[t].nrefs);
        sh[t].refs[j] = randomTarget();
        fieldsOf(sh[t].addr)[2 + j] = (mps_word_t)addrOf(sh[t].refs[j]);
      }
    } else { /* swap two roots */
      int q = (int)(rnd() % NROOTS), tmp = rootId[r];
      mps_addr_t a = *slot(r);
      rootId[r] = rootId[q];
      *slot(r) = *slot(q);
      rootId[q] = tmp;
      *slot(q) = a;
    }
  }
}

/* ---- ambiguous roots ---------------------------------------------------------- */

static void *coldEnd;
static mps_addr_t heldAddr[NHELD], heldAt[NHELD]; /* static data is not scanned */
static int heldId[NHELD], childId[NHELD][2];

/* Objects held only in this frame's array; their children only exactly. */
static NOINLINE void ambiguousPhase(mps_ap_t ap)
{
  volatile mps_addr_t held[NHELD];
  int k, round;
  for (k = 0; k < NHELD; ++k) {
    mps_addr_t kids[2];
    int c;
    for (c = 0; c < 2; ++c) {
      int id = childId[k][c] = (int)nobj++;
      sh[id].nrefs = 0, sh[id].ndata = 3;
      kids[c] = allocObj(ap, (mps_word_t)id, 0, 3, NULL);
    }
    heldId[k] = (int)nobj++;
    sh[heldId[k]].nrefs = 2;
    sh[heldId[k]].refs[0] = childId[k][0], sh[heldId[k]].refs[1] = childId[k][1];
    sh[heldId[k]].ndata = k == NHELD - 1 ? LARGE_MIN / WORD : 6;
    heldAddr[k] = allocObj(ap, (mps_word_t)heldId[k], 2, sh[heldId[k]].ndata, kids);
    /* the last two are held by interior pointers only (one into a large
       object, more than a page beyond its start) */
    held[k] = (char *)heldAddr[k] + (k == NHELD - 2   ? 4 * WORD
                                     : k == NHELD - 1 ? LARGE_MIN / 2
                                                      : 0);
    heldAt[k] = held[k];
  }
  for (round = 0; round < 2; ++round) {
    collect();
    for (k = 0; k < NHELD; ++k) {
      mps_word_t *f = fieldsOf(heldAddr[k]);
      int c;
      CHECK(objOK(heldAddr[k], heldId[k])); /* did not move, intact */
      if (!objOK(heldAddr[k], heldId[k])) continue;
      for (c = 0; c < 2; ++c) {
        mps_addr_t kid = (mps_addr_t)f[2 + c];
        CHECK(objOK(kid, childId[k][c])); /* kept, possibly moved */
        if (kid != sh[childId[k][c]].addr) ++moved;
        sh[childId[k][c]].addr = kid;
      }
      CHECK(mps_addr_object(&objectBase, arena, held[k]) == MPS_RES_OK);
      CHECK(objectBase == heldAddr[k]);
    }
  }
  for (k = 0; k < NHELD; ++k) CHECK(held[k] == heldAt[k]); /* live throughout */
}

/* ---- arena states, ramps, chain ------------------------------------------------ */

static void garbage(mps_ap_t ap, size_t bytes)
{
  size_t done = 0;
  while (done < bytes) {
    size_t ndata = rnd() % 16 == 0 ? (LARGE_MIN / WORD) : rnd() % 30;
    (void)allocObj(ap, GARBAGE_ID, 0, ndata, NULL);
    done += objSize(0, ndata);
  }
}

static void arenaStates(mps_ap_t ap)
{
  mps_word_t c0, c1;
  unsigned n;
  mps_arena_clamp(arena); /* no new collection may start */
  c0 = mps_collections(arena);
  (void)gcMessages();
  garbage(ap, (size_t)3 << 20);
  CHECK(mps_collections(arena) == c0 && gcMessages() == 0);
  CHECK(mps_arena_start_collect(arena) == MPS_RES_OK);
  mps_arena_park(arena); /* finishes it */
  CHECK(mps_collections(arena) > c0);
  verify("after start_collect and park", 1);

  (void)mps_arena_step(arena, 0.0, 0.0); /* a parked arena is clamped after a step */
  c1 = mps_collections(arena);
  (void)gcMessages();
  garbage(ap, (size_t)3 << 20);
  CHECK(mps_collections(arena) == c1 && gcMessages() == 0);
  mps_arena_release(arena);
  garbage(ap, (size_t)1 << 20);
  for (n = 0; n < 2000 && mps_arena_step(arena, 0.01, 100.0); ++n) {}
  CHECK(n < 2000); /* the work runs out */
  mps_arena_park(arena);
  collect();
  verify("after steps", 1);

  /* ramps: end without begin fails; nesting; reset */
  CHECK(mps_ap_alloc_pattern_end(ap, mps_alloc_pattern_ramp()) == MPS_RES_FAIL);
  CHECK(mps_ap_alloc_pattern_begin(ap, mps_alloc_pattern_ramp()) == MPS_RES_OK);
  CHECK(mps_ap_alloc_pattern_begin(ap, mps_alloc_pattern_ramp_collect_all()) == MPS_RES_OK);
  garbage(ap, (size_t)256 << 10);
  CHECK(mps_ap_alloc_pattern_end(ap, mps_alloc_pattern_ramp_collect_all()) == MPS_RES_OK);
  CHECK(mps_ap_alloc_pattern_end(ap, mps_alloc_pattern_ramp()) == MPS_RES_OK);
  CHECK(mps_ap_alloc_pattern_end(ap, mps_alloc_pattern_ramp()) == MPS_RES_FAIL);
  CHECK(mps_ap_alloc_pattern_begin(ap, mps_alloc_pattern_ramp()) == MPS_RES_OK);
  CHECK(mps_ap_alloc_pattern_begin(ap, mps_alloc_pattern_ramp()) == MPS_RES_OK);
  CHECK(mps_ap_alloc_pattern_reset(ap) == MPS_RES_OK);
  CHECK(mps_ap_alloc_pattern_end(ap, mps_alloc_pattern_ramp()) == MPS_RES_FAIL);
}

/* Released arena, main thread's stack an ambiguous root: allocation alone
 * must trigger collections (small chain), inside and outside a ramp. */
static NOINLINE void chainPhase(mps_ap_t ap)
{
  mps_word_t c0 = mps_collections(arena);
  size_t bytes = 0;
  int inRamp = 0;
  (void)gcMessages();
  mps_arena_release(arena);
  while (bytes < ((size_t)8 << 20)) {
    if (bytes > ((size_t)3 << 20) && !inRamp++)
      CHECK(mps_ap_alloc_pattern_begin(ap, mps_alloc_pattern_ramp()) == MPS_RES_OK);
    if (rnd() % 4 == 0 && nobj < MAXOBJ) {
      /* a rooted object whose references are read from the roots now */
      mps_addr_t refs[2];
      int id = (int)nobj++, r = (int)(rnd() % NROOTS), j, q;
      sh[id].nrefs = 2, sh[id].ndata = rnd() % 6;
      for (j = 0; j < 2; ++j)
        q = (int)(rnd() % NROOTS), sh[id].refs[j] = rootId[q], refs[j] = *slot(q);
      *slot(r) = allocObj(ap, (mps_word_t)id, 2, sh[id].ndata, refs);
      rootId[r] = id;
      bytes += objSize(2, sh[id].ndata);
    } else {
      size_t ndata = rnd() % 64 == 0 ? LARGE_MIN / WORD : rnd() % 20;
      (void)allocObj(ap, GARBAGE_ID, 0, ndata, NULL);
      bytes += objSize(0, ndata);
    }
  }
  CHECK(mps_ap_alloc_pattern_end(ap, mps_alloc_pattern_ramp()) == MPS_RES_OK);
  mps_arena_park(arena);
  CHECK(gcMessages() > 0); /* collections happened on their own */
  CHECK(mps_collections(arena) > c0);
}

/* ---- one scenario per header size ---------------------------------------------- */

static void scenario(mps_chain_t chain, mps_thr_t thr, size_t header)
{
  mps_fmt_t fmt;
  mps_ap_t ap;
  mps_root_t tableRoot, areaRoot, stackRoot;
  int i, round;
  unsigned long fwd0 = fwdCalls;

  hdr = header;
  fieldOff = hdr != 0 ? hdr : WORD;
  nobj = 0;
  moved = largeCount = flatCollections = flatWithoutMoves = 0;
  for (i = 0; i < NROOTS; ++i) {
    rootId[i] = -1;
    *slot(i) = NULL;
  }
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FMT_ALIGN, WORD);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_HEADER_SIZE, hdr);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_SCAN, fmtScan);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_SKIP, fmtSkip);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_FWD, fmtFwd);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_ISFWD, fmtIsfwd);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_PAD, fmtPad);
    REQUIRE(mps_fmt_create_k(&fmt, arena, args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    REQUIRE(mps_pool_create_k(&pool, arena, mps_class_amc(), args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  REQUIRE(mps_ap_create_k(&ap, pool, mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_root_create_table(&tableRoot, arena, mps_rank_exact(), 0, rootTable, NTABLE) ==
          MPS_RES_OK);
  REQUIRE(mps_root_create_area(&areaRoot, arena, mps_rank_exact(), 0, rootArea, rootArea + NAREA,
                               mps_scan_area, NULL) == MPS_RES_OK);
  mps_arena_park(arena);

  /* random graphs, collections at random points */
  for (round = 0; round < 14; ++round) {
    mutate(ap, 20 + (unsigned)(rnd() % 250));
    collect();
    if (rnd() % 4 == 0) collect();
    verify("after a collection", 1);
  }
  CHECK(moved > 0);
  CHECK(fwdCalls > fwd0);

  /* ambiguous roots on the main thread's stack */
  REQUIRE(mps_root_create_thread(&stackRoot, arena, thr, coldEnd) == MPS_RES_OK);
  ambiguousPhase(ap);
  verify("after the ambiguous phase", 0);
  mps_root_destroy(stackRoot);
  CHECK(mps_addr_object(&objectBase, arena, &objectBase) == MPS_RES_FAIL); /* unmanaged */
  collect(); /* the held objects are now garbage */
  verify("after dropping the ambiguous roots", 1);

  arenaStates(ap);
  verify("after the ramps", 0);

  REQUIRE(mps_root_create_thread(&stackRoot, arena, thr, coldEnd) == MPS_RES_OK);
  chainPhase(ap);
  mps_root_destroy(stackRoot);
  verify("after the chain phase", 0);
  collect();
  verify("at the end", 1);

  if (flatCollections != 0)
    fprintf(stderr,
            "header %zu: mps_collections did not grow in %lu full collections (%lu "
            "moved nothing the program saw)\n",
            hdr, flatCollections, flatWithoutMoves);
  CHECK(flatCollections == 0);
  printf("header %2zu: %u objects (%lu large), %lu moves seen, %lu fwd, %lu 1-word pads, "
         "%lu pads\n",
         hdr, nobj, largeCount, moved, fwdCalls - fwd0, pad1Calls, padCalls);
  mps_arena_park(arena);
  mps_root_destroy(areaRoot);
  mps_root_destroy(tableRoot);
  mps_ap_destroy(ap);
  mps_pool_destroy(pool);
  mps_fmt_destroy(fmt);
}

int main(int argc, char **argv)
{
  mps_gen_param_s gens[2] = { { 96, 0.8 }, { 256, 0.4 } };
  mps_chain_t chain;
  mps_thr_t thr;
  void *marker = NULL;
  size_t headers[3] = { 0, 8, 16 };
  int i;

  testSeed(argc, argv);
  coldEnd = &marker;
  REQUIRE(mps_arena_create_k(&arena, mps_arena_class_vm(), mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_thread_reg(&thr, arena) == MPS_RES_OK);
  mps_message_type_enable(arena, mps_message_type_gc());
  REQUIRE(mps_chain_create(&chain, arena, 2, gens) == MPS_RES_OK);
  for (i = 0; i < 3; ++i) scenario(chain, thr, headers[i]);
  CHECK(badTags == 0);
  mps_message_type_disable(arena, mps_message_type_gc());
  mps_arena_park(arena);
  mps_chain_destroy(chain);
  mps_thread_dereg(thr);
  mps_arena_destroy(arena);
  (void)marker;
  return testFinish();
}
