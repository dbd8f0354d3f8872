/* test_snc.c -- the SNC pool (Stack No Checking: docs/design/snc.md, allocation
 * frames) against a model kept in plain C arrays.
 *
 * First a fixed scenario: pool and allocation point keys refused with a
 * message (no format, in-band headers, a missing scan or pad method, an
 * ambiguous rank), mps_alloc and mps_finalize refused; frames: popping an
 * older frame drops the newer ones, the next block goes exactly where the
 * popped ones began, a popped or invalidated frame, a frame of another
 * allocation point, a destroyed one's and garbage are refused with a
 * report naming the frame; push and pop fail while a block is reserved;
 * popping a frame frees the segments above it (total size falls back);
 * destroying an allocation point releases nothing: its objects stay
 * alive and scanned (they alone keep AMC objects alive and have their
 * references updated), and a new allocation point at the same address
 * does not inherit its frames or its position; mps_addr_object.
 *
 * Then a random state machine over three allocation points on one pool,
 * in two phases: parked (collections only where the program asks) and
 * released with a registered thread and a small chain (collections start
 * on their own during allocation).  Steps: allocate objects of random
 * sizes (some larger than a segment) carrying an id, data derived from it,
 * and up to three references to AMC objects that nothing else refers to
 * (exactly: there are no roots in the parked phase); push; pop at a random
 * depth; misuse; destroy and recreate an allocation point; collect.  The
 * model knows every live object and its referents' ids and checks, after
 * every collection and periodically: every object and every referent is
 * intact (so SNC scanning kept the AMC objects alive and updated the
 * references of those that moved, which must happen), the pool's
 * committed size (total - free) is exactly the model's, the pool is
 * consistent (gcp_pool_consistent), mps_pool_walk and
 * mps_arena_formatted_objects_walk see exactly the live objects, and
 * (parked) the AMC pool keeps exactly the objects live SNC objects refer
 * to, so nothing past a popped frame is scanned.  Blocks handed out after
 * a pop must land in the popped range at least sometimes.  A collection
 * between a reserve and its commit must not scan the reserved block and
 * must make the commit fail.
 * Usage: test_snc [seed].  Design: docs/design/snc.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpscamc.h"
#include "mpscsnc.h"
#include "mpslib.h"
#include "gcp_ext.h"
#include "testlib.h"
#include "wordfmt.h"

#define MAXREFS         3
#define NAPS            3
#define DEAD_MAX        64
#define STEPS           20000
#define MAX_OBJS_PER_AP 3000

/* ---- objects ---------------------------------------------------------------
 * wordfmt.h objects: [0] tag, [1] id, [2] nrefs, [3 .. 3+nrefs) references,
 * then data words derived from the id. */

static mps_word_t dataWord(mps_word_t id, size_t k)
{
  return (id * (mps_word_t)0x9E3779B97F4A7C15ull) ^ ((mps_word_t)k * 0xD6E8FEB86659FD93ull) ^
         0x5A5Au;
}

static void initObj(mps_addr_t p, size_t bytes, mps_word_t id, size_t nrefs, mps_addr_t *refs)
{
  mps_word_t *w = p;
  size_t k, words = bytes / WORD;
  w[0] = (mps_word_t)bytes | T_OBJ;
  w[1] = id;
  w[2] = nrefs;
  for (k = 0; k < nrefs; ++k) w[3 + k] = (mps_word_t)refs[k];
  for (k = 3 + nrefs; k < words; ++k) w[k] = dataWord(id, k);
}

static int intact(mps_addr_t p, size_t bytes, mps_word_t id, size_t nrefs)
{
  mps_word_t *w = p;
  size_t k;
  if (w[0] != ((mps_word_t)bytes | T_OBJ) || w[1] != id || w[2] != nrefs) return 0;
  for (k = 3 + nrefs; k < bytes / WORD; ++k)
    if (w[k] != dataWord(id, k)) return 0;
  return 1;
}

/* ---- the model ------------------------------------------------------------ */

typedef struct {
  mps_word_t *addr;
  size_t size; /* bytes */
  mps_word_t id;
  size_t nrefs;
  mps_word_t refId[MAXREFS];   /* the AMC referents' ids */
  mps_addr_t refSeen[MAXREFS]; /* where each was last seen (never followed) */
} SObj;

typedef struct {
  mps_frame_t handle;
  size_t nobj; /* objects of the AP below the frame */
} MFrame;

typedef struct {
  mps_ap_t ap;
  SObj *objs;
  size_t nobj, objCap;
  MFrame *frames;
  size_t depth, frameCap;
  char *reuseLo, *reuseHi; /* the range last popped, until the next block */
} MAp;

static mps_arena_t arena;
static mps_fmt_t fmt;
static mps_chain_t chain;
static mps_pool_t amcPool, sncPool;
static mps_ap_t amcAp;
static MAp aps[NAPS];

static SObj *orphans; /* objects of destroyed allocation points */
static size_t norphans, orphanCap;
static mps_frame_t deadFrames[DEAD_MAX]; /* popped or destroyed frames (a ring) */
static size_t ndead;
static mps_word_t nextSncId = 1, nextAmcId = (mps_word_t)1 << 40;
static size_t committed; /* bytes of live SNC objects */
static int parked;
static unsigned long reuseChances, reuseHits, movedRefs, apsRecreated, apsSameAddress;

/* The unused parts of allocation points' buffers are allocated, not free,
 * in every class (as in the MPS): total - free = the objects' bytes plus
 * limit - init of each attached buffer.  A buffer trapped by a flip shows
 * limit 0 until its next reserve, and its unused part cannot be seen. */
static size_t bufferUnused(mps_ap_t ap)
{
  return ap == NULL || ap->limit == NULL ? 0 : (size_t)((char *)ap->limit - (char *)ap->init);
}

static unsigned long exactSizeChecks; /* sizesAgree calls with no AP trapped */

/* The SNC pool's sizes agree with the model's committed bytes: exactly
 * when no allocation point is trapped, else as a lower bound. */
static int sizesAgree(void)
{
  size_t allocated = mps_pool_total_size(sncPool) - mps_pool_free_size(sncPool), unused = 0;
  int a, trapped = 0;
  for (a = 0; a < NAPS; ++a) {
    unused += bufferUnused(aps[a].ap);
    trapped |= aps[a].ap->limit == NULL && aps[a].ap->init != NULL;
  }
  if (trapped) return allocated >= committed + unused;
  ++exactSizeChecks;
  return allocated == committed + unused;
}

static void *grow(void *p, size_t *cap, size_t need, size_t elt)
{
  if (need > *cap) {
    *cap = need * 2 + 16;
    p = realloc(p, *cap * elt);
    REQUIRE(p != NULL);
  }
  return p;
}

static void addObj(SObj **objs, size_t *n, size_t *cap, const SObj *o)
{
  *objs = grow(*objs, cap, *n + 1, sizeof(SObj));
  (*objs)[(*n)++] = *o;
}

static void noteDead(mps_frame_t f) { deadFrames[ndead++ % DEAD_MAX] = f; }

/* ---- allocation --------------------------------------------------------- */

static mps_addr_t amcNew(mps_word_t *idReturn)
{
  size_t bytes = (4 + rnd() % 6) * WORD;
  mps_word_t id = nextAmcId++;
  mps_addr_t p;
  do {
    REQUIRE(mps_reserve(&p, amcAp, bytes) == MPS_RES_OK);
    initObj(p, bytes, id, 0, NULL);
  } while (!mps_commit(amcAp, p, bytes));
  *idReturn = id;
  return p;
}

static mps_addr_t sncNew(mps_ap_t ap, size_t bytes, mps_word_t id, size_t nrefs, mps_addr_t *refs)
{
  mps_addr_t p;
  do {
    REQUIRE(mps_reserve(&p, ap, bytes) == MPS_RES_OK);
    initObj(p, bytes, id, nrefs, refs);
  } while (!mps_commit(ap, p, bytes));
  return p;
}

/* A referent: a new AMC object, or one a live SNC object refers to. */
static mps_addr_t pickReferent(mps_word_t *idReturn)
{
  if (rnd() % 10 < 3) {
    MAp *m = &aps[rnd() % NAPS];
    if (m->nobj > 0) {
      SObj *o = &m->objs[rnd() % m->nobj];
      if (o->nrefs > 0) {
        size_t k = rnd() % o->nrefs;
        *idReturn = o->refId[k];
        return (mps_addr_t)o->addr[3 + k];
      }
    }
  }
  return amcNew(idReturn);
}

static void stepAlloc(MAp *m)
{
  SObj o;
  mps_addr_t refs[MAXREFS];
  size_t k, words;
  memset(&o, 0, sizeof o);
  o.nrefs = rnd() % (MAXREFS + 1);
  for (k = 0; k < o.nrefs; ++k) refs[k] = pickReferent(&o.refId[k]);
  words = 3 + o.nrefs + 1 + rnd() % 40;
  if (rnd() % 100 < 3) words += 1000 + rnd() % 5000; /* up to 48 KiB: beyond a segment */
  o.size = words * WORD;
  o.id = nextSncId++;
  o.addr = sncNew(m->ap, o.size, o.id, o.nrefs, refs);
  for (k = 0; k < o.nrefs; ++k) o.refSeen[k] = refs[k];
  if (m->reuseLo != NULL) {
    ++reuseChances;
    if ((char *)o.addr >= m->reuseLo && (char *)o.addr < m->reuseHi) ++reuseHits;
    m->reuseLo = m->reuseHi = NULL;
  }
  addObj(&m->objs, &m->nobj, &m->objCap, &o);
  committed += o.size;
}

static void stepPush(MAp *m)
{
  mps_frame_t f;
  REQUIRE(mps_ap_frame_push(&f, m->ap) == MPS_RES_OK);
  m->frames = grow(m->frames, &m->frameCap, m->depth + 1, sizeof(MFrame));
  m->frames[m->depth].handle = f;
  m->frames[m->depth].nobj = m->nobj;
  ++m->depth;
}

static void popTo(MAp *m, size_t j)
{
  size_t i, base = m->frames[j].nobj;
  char *lo = NULL, *hi = NULL;
  CHECK(mps_ap_frame_pop(m->ap, m->frames[j].handle) == MPS_RES_OK);
  for (i = base; i < m->nobj; ++i) {
    char *a = (char *)m->objs[i].addr;
    if (lo == NULL || a < lo) lo = a;
    if (hi == NULL || a + m->objs[i].size > hi) hi = a + m->objs[i].size;
    committed -= m->objs[i].size;
  }
  for (i = j; i < m->depth; ++i) noteDead(m->frames[i].handle);
  m->depth = j;
  m->nobj = base;
  m->reuseLo = lo;
  m->reuseHi = hi;
}

static void stepPop(MAp *m)
{
  if (m->depth == 0) return;
  popTo(m, rnd() % 10 < 6 ? m->depth - 1 : rnd() % m->depth);
}

/* ---- misuse --------------------------------------------------------------- */

static void expectPopRefused(mps_ap_t ap, mps_frame_t f, const char *what)
{
  unsigned long r0 = reports;
  mps_lib_assert_fail_t old = mps_lib_assert_fail_install(recordHandler);
  mps_res_t res = mps_ap_frame_pop(ap, f);
  mps_lib_assert_fail_install(old);
  if (res == MPS_RES_OK || reports != r0 + 1)
    fprintf(stderr, "  pop of %s was not refused\n", what);
  CHECK(res != MPS_RES_OK);
  CHECK(reported(r0, "frame"));
}

static void stepMisuse(MAp *m)
{
  switch (rnd() % 3) {
  case 0:
    if (ndead > 0)
      expectPopRefused(m->ap, deadFrames[rnd() % (ndead < DEAD_MAX ? ndead : DEAD_MAX)],
                       "a popped frame");
    break;
  case 1: {
    MAp *other = &aps[rnd() % NAPS];
    if (other != m && other->depth > 0)
      expectPopRefused(m->ap, other->frames[rnd() % other->depth].handle, "another AP's frame");
    break;
  }
  default:
    expectPopRefused(m->ap, (mps_frame_t)(uintptr_t)(rnd() & ~(unsigned long)7), "garbage");
    if (m->nobj > 0)
      expectPopRefused(m->ap, (mps_frame_t)m->objs[rnd() % m->nobj].addr, "an object");
    break;
  }
}

/* Push and pop fail while a block is reserved, and change nothing. */
static void stepReservedFrames(MAp *m)
{
  size_t bytes = 8 * WORD;
  mps_word_t id = nextSncId++;
  mps_addr_t p;
  mps_frame_t f = NULL;
  SObj o;
  REQUIRE(mps_reserve(&p, m->ap, bytes) == MPS_RES_OK);
  initObj(p, bytes, id, 0, NULL);
  CHECK(mps_ap_frame_push(&f, m->ap) == MPS_RES_FAIL);
  if (m->depth > 0) CHECK(mps_ap_frame_pop(m->ap, m->frames[0].handle) == MPS_RES_FAIL);
  REQUIRE(mps_commit(m->ap, p, bytes));
  memset(&o, 0, sizeof o);
  o.addr = p;
  o.size = bytes;
  o.id = id;
  addObj(&m->objs, &m->nobj, &m->objCap, &o);
  committed += bytes;
}

/* ---- checks ------------------------------------------------------------- */

static unsigned long badObjects;

static void verifyObj(SObj *o)
{
  size_t k;
  if (!intact(o->addr, o->size, o->id, o->nrefs)) {
    if (badObjects++ < 5)
      fprintf(stderr, "  SNC object %lu at %p is damaged\n", (unsigned long)o->id, (void *)o->addr);
    return;
  }
  for (k = 0; k < o->nrefs; ++k) {
    mps_word_t *r = (mps_word_t *)o->addr[3 + k];
    if (TYPE(r[0]) != T_OBJ || !intact(r, SIZE(r[0]), o->refId[k], 0)) {
      if (badObjects++ < 5)
        fprintf(stderr, "  AMC object %lu referred to by SNC object %lu at %p is damaged\n",
                (unsigned long)o->refId[k], (unsigned long)o->id, (void *)r);
      continue;
    }
    if ((mps_addr_t)r != o->refSeen[k]) ++movedRefs;
    o->refSeen[k] = r;
  }
}

typedef struct {
  size_t objects, bytes, others;
} WalkCount;

static mps_res_t countArea(mps_ss_t ss, void *base, void *limit, void *closure)
{
  WalkCount *c = closure;
  MPS_SCAN_BEGIN(ss)
  {
    mps_addr_t p;
    for (p = base; p < limit; p = fmtSkip(p)) {
      mps_word_t *w = p;
      size_t i;
      if (TYPE(w[0]) != T_OBJ) {
        ++c->others;
        continue;
      }
      ++c->objects;
      c->bytes += SIZE(w[0]);
      for (i = 0; i < w[2]; ++i) {
        mps_addr_t r = (mps_addr_t)w[3 + i];
        mps_res_t res = MPS_FIX12(ss, &r);
        if (res != MPS_RES_OK) return res;
        w[3 + i] = (mps_word_t)r;
      }
    }
  }
  MPS_SCAN_END(ss);
  return MPS_RES_OK;
}

static void countStep(mps_addr_t addr, mps_fmt_t f, mps_pool_t pool, void *p, size_t s)
{
  (void)f;
  (void)s;
  if (pool == sncPool && TYPE(*(mps_word_t *)addr) == T_OBJ) ++*(size_t *)p;
}

static int cmpWord(const void *a, const void *b)
{
  mps_word_t x = *(const mps_word_t *)a, y = *(const mps_word_t *)b;
  return x < y ? -1 : x > y;
}

/* Distinct AMC objects referred to by live SNC objects. */
static size_t referentCount(void)
{
  mps_word_t *ids = NULL;
  size_t n = 0, cap = 0, i, k, distinct = 0;
  int a;
  for (a = 0; a <= NAPS; ++a) {
    SObj *objs = a < NAPS ? aps[a].objs : orphans;
    size_t nobj = a < NAPS ? aps[a].nobj : norphans;
    for (i = 0; i < nobj; ++i)
      for (k = 0; k < objs[i].nrefs; ++k) {
        ids = grow(ids, &cap, n + 1, sizeof *ids);
        ids[n++] = objs[i].refId[k];
      }
  }
  if (n > 0) qsort(ids, n, sizeof *ids, cmpWord);
  for (i = 0; i < n; ++i) distinct += i == 0 || ids[i] != ids[i - 1];
  free(ids);
  return distinct;
}

static size_t liveCount(void)
{
  size_t n = norphans;
  int a;
  for (a = 0; a < NAPS; ++a) n += aps[a].nobj;
  return n;
}

static void verifyAll(void)
{
  size_t i;
  int a;
  badObjects = 0;
  for (a = 0; a < NAPS; ++a)
    for (i = 0; i < aps[a].nobj; ++i) verifyObj(&aps[a].objs[i]);
  for (i = 0; i < norphans; ++i) verifyObj(&orphans[i]);
  CHECK(badObjects == 0);
  CHECK(sizesAgree());
  CHECK(gcp_pool_consistent(sncPool));
  CHECK(atomic_load(&badTags) == 0);
}

/* Walks: the arena must be parked. */
static void verifyWalks(int exactAMC)
{
  WalkCount c = { 0, 0, 0 }, amc = { 0, 0, 0 };
  size_t stepped = 0, live = liveCount(), referents = referentCount();
  CHECK(mps_pool_walk(sncPool, countArea, &c) == MPS_RES_OK);
  CHECK(c.objects == live && c.bytes == committed);
  mps_arena_formatted_objects_walk(arena, countStep, &stepped, 0);
  CHECK(stepped == live);
  CHECK(mps_pool_walk(amcPool, countArea, &amc) == MPS_RES_OK);
  if (exactAMC ? amc.objects != referents : amc.objects < referents)
    fprintf(stderr, "  AMC keeps %zu objects, SNC objects refer to %zu\n", amc.objects, referents);
  CHECK(exactAMC ? amc.objects == referents : amc.objects >= referents);
}

static void collect(void)
{
  mps_word_t before = mps_collections(arena);
  CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  CHECK(mps_collections(arena) > before);
  verifyAll();
  verifyWalks(parked);
  if (!parked) mps_arena_release(arena);
}

/* A collection between reserve and commit: the reserved block (here not
 * even a valid object) is not scanned, and its commit fails. */
static void stepFlipInWindow(MAp *m)
{
  size_t bytes = 8 * WORD;
  unsigned long bad = atomic_load(&badTags);
  mps_addr_t p;
  REQUIRE(mps_reserve(&p, m->ap, bytes) == MPS_RES_OK);
  memset(p, 0xff, bytes); /* type 7: the format methods count it */
  CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  CHECK(atomic_load(&badTags) == bad);
  initObj(p, bytes, nextSncId++, 0, NULL);
  CHECK(!mps_commit(m->ap, p, bytes));
  verifyAll();
}

static void stepRecreate(MAp *m)
{
  mps_ap_t old = m->ap;
  size_t i;
  for (i = 0; i < m->nobj; ++i) addObj(&orphans, &norphans, &orphanCap, &m->objs[i]);
  for (i = 0; i < m->depth; ++i) noteDead(m->frames[i].handle);
  mps_ap_destroy(m->ap);
  REQUIRE(mps_ap_create_k(&m->ap, sncPool, mps_args_none) == MPS_RES_OK);
  ++apsRecreated;
  apsSameAddress += m->ap == old;
  if (m->depth > 0)
    expectPopRefused(m->ap, m->frames[m->depth - 1].handle, "a destroyed AP's frame");
  m->nobj = m->depth = 0;
  m->reuseLo = m->reuseHi = NULL;
  CHECK(sizesAgree());
}

static void runSteps(unsigned long steps)
{
  unsigned long s;
  for (s = 0; s < steps; ++s) {
    MAp *m = &aps[rnd() % NAPS];
    unsigned r = (unsigned)(rnd() % 1000);
    if (m->nobj > MAX_OBJS_PER_AP && m->depth > 0) popTo(m, 0);
    if (r < 140 || (m->depth == 0 && r < 400))
      stepPush(m);
    else if (r < 270)
      stepPop(m);
    else if (r < 290)
      stepMisuse(m);
    else if (r < 297)
      stepReservedFrames(m);
    else if (r < 299 && parked)
      stepFlipInWindow(m);
    else if (r < 304)
      collect();
    else if (r < 306)
      stepRecreate(m);
    else if (m->nobj <= MAX_OBJS_PER_AP)
      stepAlloc(m);
    if (s % 250 == 0) verifyAll();
  }
  verifyAll();
}

/* ---- the fixed scenario --------------------------------------------------- */

static void expectCreateRefused(mps_arg_s *args, const char *word)
{
  mps_pool_t pool = NULL;
  unsigned long r0 = reports;
  mps_lib_assert_fail_t old = mps_lib_assert_fail_install(recordHandler);
  mps_res_t res = mps_pool_create_k(&pool, arena, mps_class_snc(), args);
  mps_lib_assert_fail_install(old);
  CHECK(res != MPS_RES_OK);
  CHECK(reported(r0, word));
}

static void makeFormat(mps_fmt_t *f, size_t header, int withScan, int withPad)
{
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FMT_ALIGN, WORD);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_HEADER_SIZE, header);
    if (withScan) MPS_ARGS_ADD(args, MPS_KEY_FMT_SCAN, fmtScan);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_SKIP, fmtSkip);
    if (withPad) MPS_ARGS_ADD(args, MPS_KEY_FMT_PAD, fmtPad);
    REQUIRE(mps_fmt_create_k(f, arena, args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
}

static void scenarioKeys(void)
{
  mps_fmt_t hdr, noPad, noScan;
  mps_pool_t pool;
  mps_ap_t ap;
  mps_addr_t p;
  unsigned long r0;
  mps_lib_assert_fail_t old;
  makeFormat(&hdr, WORD, 1, 1);
  makeFormat(&noPad, 0, 1, 0);
  makeFormat(&noScan, 0, 0, 1);
  expectCreateRefused(mps_args_none, "MPS_KEY_FORMAT");
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, hdr);
    expectCreateRefused(args, "header");
  }
  MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, noPad);
    expectCreateRefused(args, "pad");
  }
  MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, noScan);
    expectCreateRefused(args, "scan");
  }
  MPS_ARGS_END(args);
  mps_fmt_destroy(hdr);
  mps_fmt_destroy(noPad);
  mps_fmt_destroy(noScan);

  REQUIRE(mps_pool_create(&pool, arena, mps_class_snc(), fmt) == MPS_RES_OK); /* legacy form */
  old = mps_lib_assert_fail_install(recordHandler);
  r0 = reports;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_RANK, mps_rank_ambig());
    CHECK(mps_ap_create_k(&ap, pool, args) != MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  CHECK(reported(r0, "rank"));
  r0 = reports;
  CHECK(mps_alloc(&p, pool, 64) != MPS_RES_OK);
  CHECK(reported(r0, "mps_alloc"));
  mps_lib_assert_fail_install(old);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_RANK, mps_rank_exact());
    REQUIRE(mps_ap_create_k(&ap, pool, args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  mps_ap_destroy(ap);
  REQUIRE(mps_ap_create(&ap, pool, mps_rank_exact()) == MPS_RES_OK); /* legacy form */
  p = sncNew(ap, 4 * WORD, 1, 0, NULL);
  old = mps_lib_assert_fail_install(recordHandler);
  r0 = reports;
  CHECK(mps_finalize(arena, &p) != MPS_RES_OK);
  CHECK(reported(r0, "collected"));
  mps_lib_assert_fail_install(old);
  mps_ap_destroy(ap);
  mps_pool_destroy(pool);
}

#define SMALL (8 * WORD)

/* Bytes of objects in `pool`: allocated less the unused buffers of its
 * live allocation points (liveA and liveB in scenarioFrames). */
static size_t inUseAB(mps_pool_t pool, mps_ap_t a, mps_ap_t b)
{
  return mps_pool_total_size(pool) - mps_pool_free_size(pool) - bufferUnused(a) - bufferUnused(b);
}
#define inUse(pool) inUseAB(pool, liveA, liveB)

static void scenarioFrames(void)
{
  mps_pool_t pool;
  mps_ap_t a, b, a2, liveA, liveB;
  mps_frame_t fa0, fa1, fa2, fa3, fb, fd;
  mps_addr_t x, y, z, w, q, big;
  size_t before, peak, used = 0, i;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    REQUIRE(mps_pool_create_k(&pool, arena, mps_class_snc(), args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  REQUIRE(mps_ap_create_k(&a, pool, mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_ap_create_k(&b, pool, mps_args_none) == MPS_RES_OK);
  liveA = a;
  liveB = b;
  CHECK(mps_pool_total_size(pool) == 0 && mps_pool_free_size(pool) == 0);

  /* Popping an older frame drops the newer; the space is reused at once. */
  REQUIRE(mps_ap_frame_push(&fa0, a) == MPS_RES_OK); /* before any block */
  x = sncNew(a, SMALL, 100, 0, NULL);
  REQUIRE(mps_ap_frame_push(&fa1, a) == MPS_RES_OK);
  y = sncNew(a, SMALL, 101, 0, NULL);
  REQUIRE(mps_ap_frame_push(&fa2, a) == MPS_RES_OK);
  z = sncNew(a, SMALL, 102, 0, NULL);
  CHECK(inUse(pool) == 3 * SMALL);
  CHECK(mps_ap_frame_pop(a, fa1) == MPS_RES_OK);
  CHECK(inUse(pool) == SMALL);
  w = sncNew(a, SMALL, 103, 0, NULL);
  CHECK(w == y);
  CHECK(intact(x, SMALL, 100, 0) && intact(w, SMALL, 103, 0));
  expectPopRefused(a, fa2, "an invalidated frame");
  expectPopRefused(a, fa1, "a popped frame");
  {
    mps_addr_t o = NULL;
    CHECK(mps_addr_object(&o, arena, (char *)x + WORD) == MPS_RES_OK && o == x);
    CHECK(mps_addr_object(&o, arena, z) != MPS_RES_OK); /* popped space */
  }

  /* Frames belong to their allocation point. */
  REQUIRE(mps_ap_frame_push(&fb, b) == MPS_RES_OK);
  q = sncNew(b, SMALL, 104, 0, NULL);
  expectPopRefused(a, fb, "another AP's frame");
  expectPopRefused(b, fa0, "another AP's frame");
  expectPopRefused(a, (mps_frame_t)NULL, "NULL");
  expectPopRefused(a, (mps_frame_t)x, "an object's address");
  CHECK(inUse(pool) == 3 * SMALL);

  /* Segments above a popped frame go back. */
  before = mps_pool_total_size(pool);
  REQUIRE(mps_ap_frame_push(&fa3, a) == MPS_RES_OK);
  for (i = 0; i < 40; ++i) (void)sncNew(a, 512 * WORD, 200 + i, 0, NULL);
  big = sncNew(a, 16384 * WORD, 300, 0, NULL); /* 128 KiB */
  peak = mps_pool_total_size(pool);
  CHECK(inUse(pool) == 3 * SMALL + 40 * 512 * WORD + 16384 * WORD);
  CHECK(gcp_pool_consistent(pool));
  CHECK(mps_ap_frame_pop(a, fa3) == MPS_RES_OK);
  CHECK(inUse(pool) == 3 * SMALL);
  CHECK(mps_pool_total_size(pool) < peak);
  CHECK(mps_pool_total_size(pool) <= before + ((size_t)64 << 10)); /* at most a spare */
  CHECK(gcp_pool_consistent(pool));
  (void)big;

  /* Push and pop fail while a block is reserved. */
  {
    mps_addr_t p;
    mps_frame_t f = NULL;
    REQUIRE(mps_reserve(&p, a, SMALL) == MPS_RES_OK);
    initObj(p, SMALL, 105, 0, NULL);
    CHECK(mps_ap_frame_push(&f, a) == MPS_RES_FAIL);
    CHECK(mps_ap_frame_pop(a, fa0) == MPS_RES_FAIL);
    CHECK(mps_commit(a, p, SMALL));
  }
  CHECK(inUse(pool) == 4 * SMALL);
  CHECK(mps_ap_frame_pop(a, fa0) == MPS_RES_OK); /* everything on a */
  CHECK(inUse(pool) == SMALL);
  CHECK(intact(q, SMALL, 104, 0));
  CHECK(mps_ap_frame_pop(b, fb) == MPS_RES_OK);
  CHECK(inUse(pool) == 0);
  CHECK(mps_pool_total_size(pool) <= ((size_t)64 << 10));

  /* Blocks allocated without a frame live until the pool goes, also when
   * their allocation point is destroyed (here with its buffer attached),
   * and they are still scanned: they alone keep their AMC referents alive
   * (the arena is parked and there are no roots) and have their references
   * updated when those move.  A new allocation point at the same address
   * (made sure of by creating more until one lands there) does not inherit
   * the old one's frames or its position. */
  {
    mps_word_t idx, idy;
    mps_addr_t rx, ry;
    mps_ap_t extra[16];
    size_t nextra = 0;
    mps_frame_t fz;
    mps_word_t *wx, *wy;
    rx = amcNew(&idx);
    x = sncNew(a, SMALL, 106, 1, &rx);
    REQUIRE(mps_ap_frame_push(&fd, a) == MPS_RES_OK);
    ry = amcNew(&idy);
    y = sncNew(a, SMALL, 107, 1, &ry);
    used = 2 * SMALL;
    mps_ap_destroy(a);
    liveA = NULL;
    CHECK(inUse(pool) == used);
    CHECK(gcp_pool_consistent(pool));
    REQUIRE(mps_ap_create_k(&a2, pool, mps_args_none) == MPS_RES_OK);
    while (a2 != a && nextra < sizeof extra / sizeof extra[0]) {
      extra[nextra++] = a2;
      REQUIRE(mps_ap_create_k(&a2, pool, mps_args_none) == MPS_RES_OK);
    }
    printf("recreated allocation point %s (%zu others created first)\n",
           a2 == a ? "at the same address" : "elsewhere", nextra);
    CHECK(a2 == a);
    while (nextra > 0) mps_ap_destroy(extra[--nextra]);
    liveA = a2;
    expectPopRefused(a2, fd, "a destroyed AP's frame");
    CHECK(gcp_pool_consistent(pool));
    REQUIRE(mps_ap_frame_push(&fz, a2) == MPS_RES_OK);
    expectPopRefused(a2, fd, "a destroyed AP's frame");
    z = sncNew(a2, SMALL, 108, 0, NULL);
    CHECK(z != x && z != y && (char *)z != (char *)y + SMALL); /* not the old AP's next place */
    CHECK(inUse(pool) == used + SMALL);
    CHECK(mps_ap_frame_pop(a2, fz) == MPS_RES_OK);
    CHECK(inUse(pool) == used);
    expectPopRefused(a2, fd, "a destroyed AP's frame");
    z = sncNew(a2, SMALL, 108, 0, NULL);
    used += SMALL;
    /* Detach the AMC allocation point, so that its segment (with the two
     * referents) is not kept in place as a buffered one. */
    mps_ap_destroy(amcAp);
    REQUIRE(mps_ap_create_k(&amcAp, amcPool, mps_args_none) == MPS_RES_OK);
    CHECK(mps_arena_collect(arena) == MPS_RES_OK);
    CHECK(intact(x, SMALL, 106, 1) && intact(y, SMALL, 107, 1) && intact(z, SMALL, 108, 0));
    wx = (mps_word_t *)((mps_word_t *)x)[3];
    wy = (mps_word_t *)((mps_word_t *)y)[3];
    CHECK(TYPE(wx[0]) == T_OBJ && intact(wx, SIZE(wx[0]), idx, 0));
    CHECK(TYPE(wy[0]) == T_OBJ && intact(wy, SIZE(wy[0]), idy, 0));
    CHECK((mps_addr_t)wx != rx && (mps_addr_t)wy != ry); /* moved: fixed by the scan */
    /* The flip trapped both buffers: their unused parts, still allocated,
     * are out of sight until the allocation points go (below). */
    CHECK(a2->limit == NULL && b->limit == NULL);
    CHECK(inUse(pool) > used);
    CHECK(gcp_pool_consistent(pool));
  }
  mps_ap_destroy(a2);
  mps_ap_destroy(b);
  liveA = liveB = NULL;
  CHECK(inUse(pool) == used);
  mps_pool_destroy(pool);
}

/* ---- main ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
  mps_gen_param_s gens[2] = { { 64, 0.8 }, { 128, 0.5 } };
  mps_thr_t thr;
  mps_root_t stackRoot;
  void *marker = NULL;
  int a;
  size_t i;

  testSeed(argc, argv);
  REQUIRE(mps_arena_create_k(&arena, mps_arena_class_vm(), mps_args_none) == MPS_RES_OK);
  mps_arena_park(arena);
  REQUIRE(mps_chain_create(&chain, arena, 2, gens) == MPS_RES_OK);
  makePool(&fmt, &amcPool, arena, chain);
  REQUIRE(mps_ap_create_k(&amcAp, amcPool, mps_args_none) == MPS_RES_OK);

  scenarioKeys();
  scenarioFrames();

  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    REQUIRE(mps_pool_create_k(&sncPool, arena, mps_class_snc(), args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  for (a = 0; a < NAPS; ++a)
    REQUIRE(mps_ap_create_k(&aps[a].ap, sncPool, mps_args_none) == MPS_RES_OK);

  /* Phase 1: parked; the SNC objects are the only roots. */
  parked = 1;
  runSteps(STEPS);
  collect();
  CHECK(movedRefs > 0);
  printf("parked: %lu references moved, %zu live objects, %zu bytes\n", movedRefs, liveCount(),
         committed);

  /* Phase 2: released, with the stack as an ambiguous root. */
  {
    mps_word_t before = mps_collections(arena);
    REQUIRE(mps_thread_reg(&thr, arena) == MPS_RES_OK);
    REQUIRE(mps_root_create_thread(&stackRoot, arena, thr, &marker) == MPS_RES_OK);
    parked = 0;
    mps_arena_release(arena);
    runSteps(STEPS);
    mps_arena_park(arena);
    parked = 1;
    printf("released: %lu collections\n", (unsigned long)(mps_collections(arena) - before));
    CHECK(mps_collections(arena) - before > 3);
    mps_root_destroy(stackRoot);
    mps_thread_dereg(thr);
  }
  collect();

  printf(
      "reuse after pops: %lu of %lu; allocation points recreated: %lu (%lu at the same address)\n",
      reuseHits, reuseChances, apsRecreated, apsSameAddress);
  CHECK(reuseChances > 0 && reuseHits > 0);
  printf("pool sizes checked exactly %lu times\n", exactSizeChecks);
  CHECK(exactSizeChecks > 0);

  /* Pop every allocation point to its bottom frame, then destroy them:
   * that releases nothing. */
  for (a = 0; a < NAPS; ++a)
    if (aps[a].depth > 0) popTo(&aps[a], 0);
  verifyAll();
  for (a = 0; a < NAPS; ++a) {
    for (i = 0; i < aps[a].nobj; ++i) addObj(&orphans, &norphans, &orphanCap, &aps[a].objs[i]);
    aps[a].nobj = aps[a].depth = 0;
    mps_ap_destroy(aps[a].ap);
  }
  collect();

  for (a = 0; a < NAPS; ++a) {
    free(aps[a].objs);
    free(aps[a].frames);
  }
  free(orphans);
  mps_ap_destroy(amcAp);
  mps_pool_destroy(sncPool);
  mps_pool_destroy(amcPool);
  mps_fmt_destroy(fmt);
  mps_chain_destroy(chain);
  mps_arena_destroy(arena);
  (void)marker;
  return testFinish();
}
