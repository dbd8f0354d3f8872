/* test_generations.c -- the write barrier and generational collection of
 * AMC, checked against a shadow graph kept in plain C.
 *
 * A chain of three small generations (64, 128, 256 KB): allocation alone
 * (arena released) runs many nursery and older collections.  A few exact
 * roots hold "anchors"; everything else is reachable only through slots of
 * heap objects.  Mutators walk the heap from the roots (checking ids; no
 * address is kept across a collection) and store new objects (pairs, and
 * some of 40 KB) into slots of old ones, overwrite old slots with other old
 * objects, copy runs of slots with memcpy/memmove, clear them with memset,
 * bump version words (memcpy or stores), and allocate garbage.  A second
 * registered thread does the same on its own part of the graph while the
 * main thread allocates.  Every VERIFY_OPS operations and after explicit
 * mps_arena_collect (arena parked) the reachable graph is compared with the
 * model; old objects are probed for write protection (read() into a
 * read-only page fails with EFAULT) and one is then written by memcpy and
 * must be writable.  Sampled new objects are registered for finalization:
 * messages only for objects the model says are dead, and at the end (no
 * ambiguous roots) for all of them; then mps_amc_apply must find exactly
 * the reachable objects.  GC messages with not_condemned_size > 0 count
 * partial collections.  The run is repeated in a second arena created with
 * GCP_BARRIER=0 set, where no object may ever be write-protected.
 * Usage: test_generations [seed].  Design: docs/design/amc.md, collector-interface.md.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpscamc.h"
#include "testlib.h"
#include "wordfmt.h"

#define NOINLINE      __attribute__((noinline))
#define MAXREFS       12
#define MAXOBJ        (1u << 18)
#define T2BASE        (1u << 17) /* ids of the second thread's objects */
#define NANCHOR       6          /* root slots 0..5: the main thread's anchors */
#define T2SLOT        NANCHOR    /* root slot 6: the second thread's anchor */
#define NROOTS        (NANCHOR + 1)
#define LARGE_NDATA   5000 /* 40 KB: a segment of its own */
#define GARBAGE_ID    (~(mps_word_t)0)
#define MAIN_OPS      120000
#define VERIFY_OPS    3000
#define LIVE_SOFT_MAX 12000

/* An object: [0] tag, [1] id, [2] nrefs, [3 .. 3+nrefs) references,
 * [3+nrefs] version, then ndata-1 words dataWord(id, k). */
static mps_arena_t arena;
static mps_pool_t pool;
static void *coldEnd;

static mps_word_t dataWord(mps_word_t id, size_t k)
{
  return (id * 0x9E3779B97F4A7C15ull) ^ (k * 0x100000001b3ull) ^ 0xa5a5;
}
static size_t objSize(size_t nrefs, size_t ndata) { return WORD * (3 + nrefs + ndata); }

static mps_word_t *allocObj(mps_ap_t ap, mps_word_t id, size_t nrefs, size_t ndata,
                            mps_word_t version, mps_word_t *const *refs)
{
  size_t size = objSize(nrefs, ndata), i;
  mps_addr_t p;
  do {
    mps_word_t *w;
    REQUIRE(mps_reserve(&p, ap, size) == MPS_RES_OK);
    w = p;
    w[0] = (mps_word_t)size | T_OBJ;
    w[1] = id;
    w[2] = nrefs;
    for (i = 0; i < nrefs; ++i) w[3 + i] = (mps_word_t)(refs != NULL ? refs[i] : NULL);
    w[3 + nrefs] = version;
    for (i = 1; i < ndata; ++i) w[3 + nrefs + i] = dataWord(id, i);
  } while (!mps_commit(ap, p, size));
  return p;
}

/* ---- the model ------------------------------------------------------------------ */

typedef struct {
  unsigned char nrefs, fin; /* fin: 0 no, 1 registered, 2 message taken */
  unsigned short ndata;
  int refs[MAXREFS]; /* ids, -1 for NULL */
  mps_word_t version;
} Shadow;

static Shadow *sh;
static int rootId[NROOTS];
static mps_word_t *rootTable[NROOTS];

/* One mutator's state: its id range, roots, generator and counters. */
typedef struct {
  unsigned long long rs;
  mps_ap_t ap;
  unsigned nextId, limitId;
  int firstRoot, nRoots;
  int finalize;
  unsigned long ops, errors, made, large, memcpys;
  atomic_int *stop;
  pthread_t pthread;
} Mut;

static unsigned long xr(Mut *m)
{
  m->rs ^= m->rs << 13;
  m->rs ^= m->rs >> 7;
  m->rs ^= m->rs << 17;
  return (unsigned long)m->rs;
}

static void mutError(Mut *m, const char *what, int id, unsigned j)
{
  if (m->errors++ < 5)
    fprintf(stderr, "mutator (ids from %u): %s at object %d slot %u\n",
            m->firstRoot == T2SLOT ? T2BASE : 0u, what, id, j);
}

typedef struct {
  mps_word_t *p;
  int id;
} Ref;

static int isAnchor(int id)
{
  int r, is = 0;
  for (r = 0; r < NROOTS; ++r) is |= rootId[r] == id;
  return is;
}

/* Follow up to depth non-NULL slots from one of m's roots; every object
 * met must carry the id the model gives it. */
static int walk(Mut *m, unsigned depth, Ref *out)
{
  int r = m->firstRoot + (int)(xr(m) % (unsigned)m->nRoots), id = rootId[r];
  mps_word_t *p = rootTable[r];
  mps_pool_t pl;
  if (id < 0 || p == NULL) return 0;
  while (depth-- > 0 && sh[id].nrefs > 0) {
    unsigned j = (unsigned)(xr(m) % sh[id].nrefs);
    mps_word_t *q;
    if (sh[id].refs[j] < 0) break;
    q = (mps_word_t *)p[3 + j];
    if (q == NULL || !mps_addr_pool(&pl, arena, q) || pl != pool ||
        q[1] != (mps_word_t)sh[id].refs[j]) {
      mutError(m, "walk met a wrong reference", id, j);
      return 0;
    }
    p = q;
    id = sh[id].refs[j];
  }
  out->p = p;
  out->id = id;
  return 1;
}

/* A walk ending at an object with slots below the anchors (which keep
 * their holders). */
static int source(Mut *m, Ref *s, unsigned minDepth)
{
  int tries;
  for (tries = 0; tries < 4; ++tries) {
    unsigned depth = minDepth + (unsigned)(xr(m) % 3);
    if (walk(m, depth, s) && sh[s->id].nrefs > 0 && !isAnchor(s->id)) return 1;
  }
  return 0;
}

/* The first empty slot of object id from slot j on (cyclically), or -1. */
static int emptySlot(int id, unsigned j)
{
  unsigned i, n = sh[id].nrefs;
  for (i = 0; i < n; ++i)
    if (sh[id].refs[(j + i) % n] < 0) return (int)((j + i) % n);
  return -1;
}

/* A source and a slot in *j: an empty one if wanted and a few tries find
 * one (deeper each time), else any. */
static int pickSlot(Mut *m, Ref *s, unsigned *j, int wantEmpty)
{
  Ref c;
  int tries, e, have = 0;
  for (tries = 0; tries < 6; ++tries) {
    if (!source(m, &c, 1 + (unsigned)tries / 2)) continue;
    if (!have) {
      *s = c, *j = (unsigned)(xr(m) % sh[c.id].nrefs), have = 1;
      if (!wantEmpty) return 1;
    }
    if ((e = emptySlot(c.id, (unsigned)(xr(m) % sh[c.id].nrefs))) >= 0) {
      *s = c, *j = (unsigned)e;
      return 1;
    }
  }
  return have;
}

static int newId(Mut *m) { return m->nextId < m->limitId ? (int)m->nextId++ : -1; }

static void storeRef(Mut *m, Ref *s, unsigned j, mps_word_t *target)
{
  if (xr(m) % 3 == 0) {
    memcpy(&s->p[3 + j], &target, WORD);
    ++m->memcpys;
  } else
    s->p[3 + j] = (mps_word_t)target;
}

/* New object(s) stored into a slot of an (old) object. */
static NOINLINE void opStoreNew(Mut *m)
{
  Ref s, t[MAXREFS];
  mps_word_t *refs[MAXREFS], *n, *n2 = NULL;
  size_t nrefs = xr(m) % 5, ndata = 1 + xr(m) % 6, i;
  int id = newId(m), id2 = -1;
  unsigned j;
  if (id < 0 || !pickSlot(m, &s, &j, xr(m) % 8 != 0)) return;
  if (m->large < 8 && xr(m) % 400 == 0) {
    nrefs = MAXREFS;
    ndata = LARGE_NDATA;
    ++m->large;
  }
  for (i = 0; i < nrefs; ++i) {
    refs[i] = NULL, t[i].id = -1;
    if (xr(m) % 3 != 0 && walk(m, (unsigned)(xr(m) % 4), &t[i])) refs[i] = t[i].p;
  }
  if (nrefs > 0 && xr(m) % 3 == 0 && (id2 = newId(m)) >= 0) {
    /* a pair: only the first refers to the second */
    mps_word_t *pair[2];
    pair[0] = refs[0], pair[1] = nrefs > 1 ? refs[1] : NULL;
    n2 = allocObj(m->ap, (mps_word_t)id2, 2, 2, 0, pair);
    sh[id2].nrefs = 2, sh[id2].ndata = 2, sh[id2].version = 0, sh[id2].fin = 0;
    for (i = 0; i < MAXREFS; ++i) sh[id2].refs[i] = i < 2 && pair[i] != NULL ? t[i].id : -1;
    refs[0] = n2, t[0].id = id2;
  }
  n = allocObj(m->ap, (mps_word_t)id, nrefs, ndata, (mps_word_t)id, refs);
  sh[id].nrefs = (unsigned char)nrefs, sh[id].ndata = (unsigned short)ndata;
  sh[id].version = (mps_word_t)id, sh[id].fin = 0;
  for (i = 0; i < MAXREFS; ++i) sh[id].refs[i] = i < nrefs && refs[i] != NULL ? t[i].id : -1;
  if (m->finalize && xr(m) % 25 == 0) {
    mps_addr_t a = n;
    CHECK(mps_finalize(arena, &a) == MPS_RES_OK);
    sh[id].fin = 1;
  }
  storeRef(m, &s, j, n);
  sh[s.id].refs[j] = id;
  m->made += 1 + (id2 >= 0);
}

/* Overwrite a slot with another old object, or clear it. */
static NOINLINE void opOverwrite(Mut *m)
{
  Ref s, t;
  unsigned j;
  if (!source(m, &s, 3)) return;
  j = (unsigned)(xr(m) % sh[s.id].nrefs);
  if (xr(m) % 5 == 0 || !walk(m, (unsigned)(xr(m) % 4), &t)) {
    storeRef(m, &s, j, NULL);
    sh[s.id].refs[j] = -1;
  } else {
    storeRef(m, &s, j, t.p);
    sh[s.id].refs[j] = t.id;
  }
}

/* Copy a run of slots between two objects (memcpy) or within one (memmove),
 * or clear a run (memset). */
static NOINLINE void opBulk(Mut *m)
{
  Ref a, b;
  int tmp[MAXREFS];
  unsigned na, nb, k, i, from, to;
  if (!source(m, &a, 1) || !source(m, &b, 3)) return;
  na = sh[a.id].nrefs, nb = sh[b.id].nrefs;
  k = 1 + (unsigned)(xr(m) % (na < nb ? na : nb));
  from = (unsigned)(xr(m) % (na - k + 1)), to = (unsigned)(xr(m) % (nb - k + 1));
  if (xr(m) % 6 == 0) {
    memset(&b.p[3 + to], 0, k * WORD);
    for (i = 0; i < k; ++i) sh[b.id].refs[to + i] = -1;
    return;
  }
  for (i = 0; i < k; ++i) tmp[i] = sh[a.id].refs[from + i];
  if (a.p == b.p)
    memmove(&b.p[3 + to], &a.p[3 + from], k * WORD);
  else
    memcpy(&b.p[3 + to], &a.p[3 + from], k * WORD);
  for (i = 0; i < k; ++i) sh[b.id].refs[to + i] = tmp[i];
  ++m->memcpys;
}

/* A new version word for an (old) object. */
static NOINLINE void opVersion(Mut *m)
{
  Ref s;
  mps_word_t v;
  if (!walk(m, (unsigned)(xr(m) % 3), &s)) return;
  v = ++sh[s.id].version;
  if (xr(m) % 2)
    memcpy(&s.p[3 + sh[s.id].nrefs], &v, WORD), ++m->memcpys;
  else
    s.p[3 + sh[s.id].nrefs] = v;
}

/* Garbage that refers to live objects. */
static NOINLINE void opGarbage(Mut *m, unsigned count)
{
  Ref t;
  mps_word_t *refs[1];
  while (count-- > 0) {
    int has = xr(m) % 2 == 0 && walk(m, 2, &t);
    refs[0] = has ? t.p : NULL;
    (void)allocObj(m->ap, GARBAGE_ID, 1, 1 + xr(m) % 24, 0, refs);
  }
}

static void oneOp(Mut *m, int dropMore)
{
  unsigned long r = xr(m) % 100;
  ++m->ops;
  /* while the live set is small it grows: fewer overwrites and copies */
  if (r < 45)
    opStoreNew(m);
  else if (r < (dropMore ? 65u : 49u))
    opOverwrite(m);
  else if (r < (dropMore ? 72u : 53u))
    opBulk(m);
  else if (r < 75)
    opVersion(m);
  else
    opGarbage(m, 1 + (unsigned)(xr(m) % 8));
}

/* ---- the second thread ------------------------------------------------------------ */

static atomic_ulong mainOps;

static NOINLINE void t2Work(Mut *m)
{
  struct timespec pause = { 0, 50000 };
  while (!atomic_load(m->stop)) {
    if (m->ops > atomic_load(&mainOps) * 3 / 2) {
      nanosleep(&pause, NULL);
      continue;
    }
    oneOp(m, (m->ops >> 12) & 1); /* grow, shrink, ... */
  }
}

static void *t2Main(void *arg)
{
  Mut *m = arg;
  void *marker = NULL;
  mps_thr_t thr;
  mps_root_t root;
  REQUIRE(mps_thread_reg(&thr, arena) == MPS_RES_OK);
  REQUIRE(mps_root_create_thread(&root, arena, thr, &marker) == MPS_RES_OK);
  REQUIRE(mps_ap_create_k(&m->ap, pool, mps_args_none) == MPS_RES_OK);
  t2Work(m);
  mps_ap_destroy(m->ap);
  mps_root_destroy(root);
  mps_thread_dereg(thr);
  *(void *volatile *)&marker = NULL;
  return NULL;
}

/* ---- checking (arena parked) ------------------------------------------------------ */

static unsigned char *reach;
static mps_word_t **cur;
static unsigned long gcs, partial, roSeen, roProbes, reclaimBad;

static int objOK(mps_word_t *p, int id)
{
  mps_pool_t pl;
  size_t k, n = sh[id].nrefs;
  if (p == NULL || ((mps_word_t)p & (WORD - 1)) != 0) return 0;
  if (!mps_addr_pool(&pl, arena, p) || pl != pool) return 0;
  if (p[0] != (objSize(n, sh[id].ndata) | T_OBJ) || p[1] != (mps_word_t)id || p[2] != n) return 0;
  if (p[3 + n] != sh[id].version) return 0;
  for (k = 1; k < sh[id].ndata; ++k)
    if (p[3 + n + k] != dataWord((mps_word_t)id, k)) return 0;
  return 1;
}

/* Compare the graph reachable from root slots [0, nroots) with the model;
 * returns the number of objects reached (their bytes in *bytes). */
static unsigned long verify(const char *when, int nroots, size_t *bytes, int probe)
{
  static struct {
    mps_word_t *p;
    int id;
  } * stack;
  static size_t stackMax;
  size_t sp = 0;
  unsigned long n = 0, bad = 0, badRefs = 0;
  mps_word_t *roPage = NULL;
  int i;
  memset(reach, 0, MAXOBJ);
  *bytes = 0;
  if (stack == NULL) REQUIRE((stack = malloc(sizeof *stack * (stackMax = 4096))) != NULL);
  for (i = 0; i < nroots; ++i)
    if (rootId[i] >= 0) stack[sp].p = rootTable[i], stack[sp++].id = rootId[i];
  while (sp > 0) {
    mps_word_t *p = stack[--sp].p;
    int id = stack[sp].id;
    unsigned j;
    if (sp + MAXREFS >= stackMax) {
      stackMax *= 2;
      REQUIRE((stack = realloc(stack, sizeof *stack * stackMax)) != NULL);
    }
    if (reach[id]) {
      bad += cur[id] != p;
      continue;
    }
    if (!objOK(p, id)) {
      if (bad++ < 5) fprintf(stderr, "%s: object %d at %p is not intact\n", when, id, (void *)p);
      continue;
    }
    reach[id] = 1, cur[id] = p, ++n;
    *bytes += objSize(sh[id].nrefs, sh[id].ndata);
    for (j = 0; j < sh[id].nrefs; ++j) {
      mps_word_t *r = (mps_word_t *)p[3 + j];
      if (sh[id].refs[j] >= 0)
        stack[sp].p = r, stack[sp++].id = sh[id].refs[j];
      else
        badRefs += r != NULL;
    }
    if (probe && id % 16 == 0) {
      ++roProbes;
      if (!writable(p)) {
        ++roSeen;
        roPage = p;
      }
    }
  }
  if (roPage != NULL) {
    /* a libc write into a protected object faults and is let through */
    void *(*volatile copy)(void *, const void *, size_t) = memcpy;
    mps_word_t tag = roPage[0];
    copy(roPage, &tag, WORD);
    CHECK(writable(roPage));
  }
  if (bad + badRefs != 0)
    fprintf(stderr, "%s: %lu bad objects or references, %lu slots not NULL\n", when, bad, badRefs);
  CHECK(bad == 0 && badRefs == 0);
  return n;
}

static void takeGC(void)
{
  mps_message_t msg;
  while (mps_message_get(&msg, arena, mps_message_type_gc())) {
    ++gcs;
    partial += mps_message_gc_not_condemned_size(arena, msg) > 0;
    CHECK(mps_message_gc_live_size(arena, msg) <= mps_message_gc_condemned_size(arena, msg));
    mps_message_discard(arena, msg);
  }
}

/* Finalization messages: only for objects the model (reach, just computed
 * from every root that can reach finalizable objects) says are dead. */
static unsigned long takeFinal(const char *when)
{
  mps_message_t msg;
  unsigned long n = 0;
  for (; mps_message_get(&msg, arena, mps_message_type_finalization()); ++n) {
    mps_addr_t ref;
    mps_word_t id;
    mps_message_finalization_ref(&ref, arena, msg);
    id = ((mps_word_t *)ref)[1];
    if (id >= T2BASE || sh[id].fin != 1 || reach[id] || !objOK(ref, (int)id))
      fprintf(stderr,
              "%s: finalization message for object %lu, which is not a dead "
              "registered object\n",
              when, (unsigned long)id);
    else
      sh[id].fin = 2;
    CHECK(id < T2BASE && sh[id].fin == 2);
    mps_message_discard(arena, msg);
  }
  return n;
}

static unsigned long amcCount, amcBytes;
static void countStep(mps_addr_t addr, void *p, size_t s)
{
  mps_word_t *w = addr;
  (void)p;
  (void)s;
  if (TYPE(w[0]) != T_OBJ) return;
  ++amcCount, amcBytes += SIZE(w[0]);
  if (w[1] >= MAXOBJ || !reach[w[1]] || cur[w[1]] != w) ++reclaimBad;
}

/* ---- one run ------------------------------------------------------------------------ */

static mps_word_t *anchor(mps_ap_t ap, unsigned *nextId, int slot, unsigned holders)
{
  mps_word_t *a, *h[MAXREFS];
  int id = (int)(*nextId)++;
  unsigned i, j;
  for (i = 0; i < holders; ++i) {
    int hid = (int)(*nextId)++;
    h[i] = allocObj(ap, (mps_word_t)hid, MAXREFS, 3, (mps_word_t)hid, NULL);
    sh[hid].nrefs = MAXREFS, sh[hid].ndata = 3, sh[hid].version = (mps_word_t)hid;
    for (j = 0; j < MAXREFS; ++j) sh[hid].refs[j] = -1;
  }
  a = allocObj(ap, (mps_word_t)id, holders, 2, (mps_word_t)id, h);
  sh[id].nrefs = (unsigned char)holders, sh[id].ndata = 2, sh[id].version = (mps_word_t)id;
  for (j = 0; j < MAXREFS; ++j) sh[id].refs[j] = j < holders ? id + 1 + (int)j : -1;
  rootTable[slot] = a, rootId[slot] = id;
  return a;
}

static NOINLINE void run(int barrier)
{
  mps_gen_param_s gens[3] = { { 64, 0.8 }, { 128, 0.6 }, { 256, 0.4 } };
  mps_chain_t chain;
  mps_fmt_t fmt;
  mps_thr_t thr;
  mps_root_t tableRoot, stackRoot;
  atomic_int stop;
  Mut m, m2;
  unsigned long op, live = 0, collects = 0, final = 0, liveFinal = 0;
  size_t bytes;
  unsigned i;
  int round;
  const char *name = barrier ? "barrier" : "GCP_BARRIER=0";

  gcs = partial = roSeen = roProbes = reclaimBad = 0;
  memset(sh, 0, sizeof *sh * MAXOBJ);
  memset(&m, 0, sizeof m), memset(&m2, 0, sizeof m2);
  REQUIRE(mps_arena_create_k(&arena, mps_arena_class_vm(), mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_thread_reg(&thr, arena) == MPS_RES_OK);
  mps_message_type_enable(arena, mps_message_type_gc());
  mps_message_type_enable(arena, mps_message_type_finalization());
  REQUIRE(mps_chain_create(&chain, arena, 3, gens) == MPS_RES_OK);
  makePool(&fmt, &pool, arena, chain);
  REQUIRE(mps_ap_create_k(&m.ap, pool, mps_args_none) == MPS_RES_OK);
  for (i = 0; i < NROOTS; ++i) rootTable[i] = NULL, rootId[i] = -1;
  REQUIRE(mps_root_create_table(&tableRoot, arena, mps_rank_exact(), 0, (mps_addr_t *)rootTable,
                                NROOTS) == MPS_RES_OK);
  REQUIRE(mps_root_create_thread(&stackRoot, arena, thr, coldEnd) == MPS_RES_OK);

  /* anchors and holders, made old by two collections */
  mps_arena_park(arena);
  m.nextId = 0, m.limitId = T2BASE, m.firstRoot = 0, m.nRoots = NANCHOR, m.finalize = 1;
  m2.nextId = T2BASE, m2.limitId = MAXOBJ, m2.firstRoot = T2SLOT, m2.nRoots = 1;
  m.rs = rnd() | 1, m2.rs = rnd() | 1;
  for (i = 0; i < NANCHOR; ++i) (void)anchor(m.ap, &m.nextId, (int)i, 8);
  (void)anchor(m.ap, &m2.nextId, T2SLOT, MAXREFS);
  for (op = 0; op < 600; ++op) oneOp(&m, 0);
  CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  live = verify("after set-up", NROOTS, &bytes, 0);
  takeGC();
  atomic_store(&stop, 0);
  m2.stop = &stop;
  REQUIRE(pthread_create(&m2.pthread, NULL, t2Main, &m2) == 0);
  mps_arena_release(arena);

  for (op = 1; op <= MAIN_OPS; ++op) {
    oneOp(&m, live > LIVE_SOFT_MAX);
    atomic_store(&mainOps, m.ops);
    if (op % 100 == 0) takeGC();
    if (op % VERIFY_OPS == 0) {
      mps_arena_park(arena);
      live = verify("while running", NANCHOR, &bytes, 1);
      takeFinal("while running");
      if (op % (2 * VERIFY_OPS) == 0) {
        CHECK(mps_arena_collect(arena) == MPS_RES_OK);
        ++collects;
        live = verify("after mps_arena_collect", NANCHOR, &bytes, 1);
        takeFinal("after mps_arena_collect");
      }
      mps_arena_release(arena);
    }
  }
  atomic_store(&stop, 1);
  REQUIRE(pthread_join(m2.pthread, NULL) == 0);

  /* everything, then with no ambiguous root: the dead are finalized and
   * reclaimed */
  mps_arena_park(arena);
  live = verify("after the threads", NROOTS, &bytes, 1);
  takeFinal("after the threads");
  mps_root_destroy(stackRoot);
  for (round = 0; round < 6; ++round) {
    CHECK(mps_arena_collect(arena) == MPS_RES_OK);
    live = verify("at the end", NROOTS, &bytes, 0);
    if (takeFinal("at the end") == 0) break;
  }
  for (i = 0; i < T2BASE; ++i) final += sh[i].fin == 2, liveFinal += sh[i].fin == 1 && !reach[i];
  amcCount = amcBytes = 0;
  mps_amc_apply(pool, countStep, NULL, 0);
  takeGC();
  printf("%s: %lu+%lu ops, %lu+%lu objects made (%lu+%lu large), %lu+%lu memcpy/memmove, "
         "%lu live, %lu collections (%lu partial), %lu explicit, %lu of %lu probes "
         "write-protected, %lu finalized\n",
         name, m.ops, m2.ops, m.made, m2.made, m.large, m2.large, m.memcpys, m2.memcpys, live, gcs,
         partial, collects, roSeen, roProbes, final);
  if (liveFinal != 0)
    fprintf(stderr, "%s: %lu dead registered objects got no message\n", name, liveFinal);
  if (amcCount != live || amcBytes != bytes || reclaimBad != 0)
    fprintf(stderr,
            "%s: the pool holds %lu objects (%lu bytes), %lu of them dead or "
            "misplaced; %lu (%zu bytes) reachable\n",
            name, amcCount, amcBytes, reclaimBad, live, bytes);
  if (m.errors + m2.errors != 0)
    fprintf(stderr, "%s: %lu + %lu mutator errors\n", name, m.errors, m2.errors);
  CHECK(liveFinal == 0 && final > 0);
  CHECK(amcCount == live && amcBytes == bytes && reclaimBad == 0);
  CHECK(m.errors == 0 && m2.errors == 0);
  CHECK(m2.ops > 100 && gcs > 20);
  CHECK(partial > 10);                       /* the generations engaged */
  CHECK(barrier ? roSeen > 0 : roSeen == 0); /* the barrier engaged, or not */

  mps_root_destroy(tableRoot);
  mps_ap_destroy(m.ap);
  mps_pool_destroy(pool);
  mps_fmt_destroy(fmt);
  mps_chain_destroy(chain);
  mps_thread_dereg(thr);
  mps_arena_destroy(arena);
}

int main(int argc, char **argv)
{
  void *marker = NULL;
  testSeed(argc, argv);
  coldEnd = &marker;
  REQUIRE(pipe(pipeFd) == 0);
  REQUIRE((sh = malloc(sizeof *sh * MAXOBJ)) != NULL);
  REQUIRE((reach = malloc(MAXOBJ)) != NULL);
  REQUIRE((cur = malloc(sizeof *cur * MAXOBJ)) != NULL);
  unsetenv("GCP_BARRIER");
  run(1);
  setenv("GCP_BARRIER", "0", 1);
  run(0);
  CHECK(atomic_load(&badTags) == 0);
  *(void *volatile *)&marker = NULL;
  return testFinish();
}
