/* test_ms_regressions.c -- one check per defect of the non-moving engine
 * (poolms.c, the AMS debug class in poolams.c) fixed after its review
 * (25d0d31), each of which failed with the old code except the last, which
 * was only slow:
 * (1) AMS debug: a commit that fails at a flip, then smaller objects
 *     committed inline in the rewound buffer: they lost their trailing
 *     fence, the next object's fences were laid over them, and a collection
 *     reported damage and splatted a live object;
 * (2) AMS debug: free space written while free was not checked when its
 *     segment went back to the arena;
 * (3) no memory for a segment's object-start table at a collection: the
 *     segment was kept but never scanned, so an LO object that only it
 *     refers to was reclaimed (exact), or a weak slot was left dangling
 *     (weak AWL);
 * (4) a 200,000-object list whose links point to lower addresses (the old
 *     grey pass rescanned the segment per object): every object survives.
 * Each runs in a child process of its own (a crash, or a hang by its
 * alarm, fails that check only).  Usage: test_ms_regressions [seed].
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpscams.h"
#include "mpscawl.h"
#include "mpsclo.h"
#include "mpslib.h"
#include "gcp_ext.h"
#include "testlib.h"
#include "wordfmt.h"

static mps_word_t idBase;       /* ids are idBase + n (from the seed) */
static mps_word_t fillB, fillC; /* data words of the objects of (1) */
static mps_arena_t arena;       /* the check's own: one check per process */
static mps_fmt_t fmt;

/* An arena (spare fraction 0: committed memory is what the pools hold) and
 * the word format. */
static void newArena(void)
{
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_SPARE, 0.0);
    REQUIRE(mps_arena_create_k(&arena, mps_arena_class_vm(), args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FMT_ALIGN, WORD);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_SCAN, fmtScan);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_SKIP, fmtSkip);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_FWD, fmtFwd);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_ISFWD, fmtIsfwd);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_PAD, fmtPad);
    REQUIRE(mps_fmt_create_k(&fmt, arena, args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
}

static mps_pool_t newPool(mps_pool_class_t cls)
{
  mps_pool_t pool;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    REQUIRE(mps_pool_create_k(&pool, arena, cls, args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  return pool;
}

static mps_ap_t newAp(mps_pool_t pool, mps_rank_t rank)
{
  mps_ap_t ap;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_RANK, rank);
    REQUIRE(mps_ap_create_k(&ap, pool, args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  return ap;
}

static void areaRoot(void *base, size_t n, mps_rank_t rank)
{
  mps_root_t root;
  mps_word_t *b = base;
  REQUIRE(mps_root_create_area(&root, arena, rank, 0, b, b + n, mps_scan_area, NULL) == MPS_RES_OK);
}

/* An object of size bytes at p: nrefs NULL references, then data words. */
static void initObj(mps_addr_t p, size_t size, mps_word_t id, size_t nrefs, mps_word_t fill)
{
  mps_word_t *w = p;
  size_t i;
  w[0] = (mps_word_t)size | T_OBJ, w[1] = id, w[2] = nrefs;
  for (i = 3; i < 3 + nrefs; ++i) w[i] = 0;
  for (; i < size / WORD; ++i) w[i] = fill;
}

static mps_addr_t alloc(mps_ap_t ap, size_t size, mps_word_t id, size_t nrefs, mps_word_t fill)
{
  mps_addr_t p;
  do {
    REQUIRE(mps_reserve(&p, ap, size) == MPS_RES_OK);
    initObj(p, size, id, nrefs, fill);
  } while (!mps_commit(ap, p, size));
  return p;
}

/* 1 if the object at p has this size, id and nrefs and every data word is fill. */
static int intact(mps_addr_t p, size_t size, mps_word_t id, size_t nrefs, mps_word_t fill)
{
  mps_word_t *w = p;
  size_t i;
  if (w[0] != ((mps_word_t)size | T_OBJ) || w[1] != id || w[2] != nrefs) return 0;
  for (i = 3 + nrefs; i < size / WORD; ++i)
    if (w[i] != fill) return 0;
  return 1;
}

/* ---- finding objects in the heap -------------------------------------------------- */

typedef struct {
  mps_addr_t addr;
  mps_word_t id;
  int found;
} Probe;

static void probeStep(mps_addr_t p, mps_fmt_t f, mps_pool_t pool, void *closure, size_t s)
{
  Probe *pr = closure;
  (void)f;
  (void)pool;
  (void)s;
  if (p == pr->addr && TYPE(*(mps_word_t *)p) == T_OBJ && ((mps_word_t *)p)[1] == pr->id)
    pr->found = 1;
}

/* 1 if the heap (a walk of the parked arena) has an object at p with this id. */
static int alive(mps_addr_t p, mps_word_t id)
{
  Probe pr;
  pr.addr = p, pr.id = id, pr.found = 0;
  mps_arena_formatted_objects_walk(arena, probeStep, &pr, 0);
  return pr.found;
}

static size_t inUse(mps_pool_t pool)
{
  return mps_pool_total_size(pool) - mps_pool_free_size(pool);
}

/* ---- (1) AMS debug: smaller objects committed inline after a failed commit ---------- */

/* A 128-byte reservation; a collection flips before its commit, which
 * fails; the client reserves again, smaller: B (32 bytes, kept by a root),
 * then C (32 bytes, dies).  At 25d0d31 both went inline into the rewound
 * buffer, back to back without fences, and C's sweep took B's tail for its
 * fence.  Now the rewound buffer stays trapped and each retry gets its own
 * fenced buffer.  Nothing is damaged until the end, so there must be no
 * report; the fences after B and C must be there; B must come through the
 * collection whole. */
static void debugRereserve(void)
{
  static mps_addr_t roots[2];
  mps_pool_t pool;
  mps_ap_t ap;
  mps_addr_t p, b, c;
  unsigned long before;
  char *q, saved;
  newArena();
  pool = newPool(mps_class_ams_debug());
  ap = newAp(pool, mps_rank_exact());
  areaRoot(roots, 2, mps_rank_exact());
  mps_arena_park(arena);

  REQUIRE(mps_reserve(&p, ap, 128) == MPS_RES_OK);
  initObj(p, 128, idBase + 1, 0, 0);
  CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  REQUIRE(!mps_commit(ap, p, 128)); /* the flip came between reserve and commit */
  REQUIRE(mps_reserve(&b, ap, 32) == MPS_RES_OK);
  initObj(b, 32, idBase + 2, 0, fillB);
  REQUIRE(mps_commit(ap, b, 32));
  roots[0] = b;
  REQUIRE(mps_reserve(&c, ap, 32) == MPS_RES_OK);
  initObj(c, 32, idBase + 3, 0, fillC);
  REQUIRE(mps_commit(ap, c, 32));
  CHECK((char *)c != (char *)b + 32); /* not back to back: a fence between */
  mps_ap_destroy(ap);                 /* the buffer goes back: its unused part is freed */
  before = reports;
  mps_pool_check_fenceposts(pool);
  CHECK(reports == before); /* nothing is damaged */
  CHECK(gcp_pool_consistent(pool));

  /* The bytes just past B and just past C are fences. */
  q = (char *)b + 32;
  saved = *q;
  *q = (char)~saved;
  before = reports;
  mps_pool_check_fenceposts(pool);
  CHECK(reported(before, "fencepost"));
  *q = saved;
  q = (char *)c + 32;
  saved = *q;
  *q = (char)~saved;
  before = reports;
  mps_pool_check_fenceposts(pool);
  CHECK(reported(before, "fencepost"));
  *q = saved;

  before = reports;
  CHECK(mps_arena_collect(arena) == MPS_RES_OK); /* C dies, B lives */
  if (reports != before) fprintf(stderr, "inline objects: collection reported: %s\n", lastMessage);
  CHECK(reports == before); /* no fence or free space was damaged */
  CHECK(roots[0] == b);
  CHECK(intact(b, 32, idBase + 2, 0, fillB));
  CHECK(alive(b, idBase + 2));
  CHECK(!alive(c, idBase + 3));
  CHECK(gcp_pool_consistent(pool));
  before = reports;
  mps_pool_check_fenceposts(pool);
  mps_pool_check_free_space(pool);
  CHECK(reports == before);

  /* B kept its fence after C died: damage just past B is still a
   * fencepost's, and only that. */
  q = (char *)b + 32;
  saved = *q;
  *q = (char)~saved;
  before = reports;
  mps_pool_check_fenceposts(pool);
  CHECK(reported(before, "fencepost"));
  before = reports;
  mps_pool_check_free_space(pool);
  CHECK(reports == before);
  *q = saved;

  before = reports;
  roots[0] = NULL;
  mps_pool_destroy(pool);
  CHECK(reports == before);
}

/* ---- (2) AMS debug: free space checked when its segment goes back --------------- */

/* A dies and its space is splatted; the program writes into it; then B,
 * the segment's last object, dies and the segment goes back to the arena:
 * one report, naming free space, at that collection. */
static void debugSegmentFree(void)
{
  static mps_addr_t roots[1];
  mps_pool_t pool;
  mps_ap_t ap;
  mps_addr_t a;
  unsigned long before;
  newArena();
  pool = newPool(mps_class_ams_debug());
  ap = newAp(pool, mps_rank_exact());
  areaRoot(roots, 1, mps_rank_exact());
  mps_arena_park(arena);
  a = alloc(ap, 64, idBase + 1, 0, 0);
  roots[0] = alloc(ap, 64, idBase + 2, 0, 0);
  mps_ap_destroy(ap);
  before = reports;
  CHECK(mps_arena_collect(arena) == MPS_RES_OK); /* A dies */
  CHECK(reports == before);
  CHECK(!alive(a, idBase + 1));
  REQUIRE(mps_pool_total_size(pool) > 0);
  memset((char *)a + 8, 0x55, 16); /* use after free */
  roots[0] = NULL;
  CHECK(mps_arena_collect(arena) == MPS_RES_OK); /* B dies: the segment goes back */
  CHECK(mps_pool_total_size(pool) == 0);
  CHECK(reported(before, "free space"));
  before = reports;
  mps_pool_destroy(pool);
  CHECK(reports == before); /* reported once, at the collection */
}

/* ---- (3) no memory for an object-start table ------------------------------------- */

/* X, big (in a segment of its own but for Z), is reached only through an
 * ambiguous root, which needs the object-start table of X's segment; X
 * holds the only reference to Y, an LO object.  Z, dead, shares X's
 * segment: if it is still there after the collection, the segment was kept
 * whole because one of its trace tables could not be had.  The collection
 * runs with the commit limit `extra` grains above what is committed
 * (extra < 0: no limit).  X's reference is exact, or weak (an AWL object
 * of weak rank). */
typedef struct {
  int done; /* the child got to the end */
  int res;  /* mps_arena_collect's result */
  int zKept, yAlive, yIntact, slotIsY, slotIsNull;
} StartsRun;

static void startsFailRun(StartsRun *r, int weak, long extra)
{
  static mps_word_t ambig[2];
  size_t grain, big;
  mps_pool_t lo, pool;
  mps_ap_t loAp, xAp, zAp;
  mps_addr_t x, y, z;
  mps_rank_t rank = weak ? mps_rank_weak() : mps_rank_exact();
  mps_word_t fillY = (mps_word_t)0x7777777777777777ull ^ idBase;
  newArena();
  grain = gcp_arena_grain_size(arena);
  big = alignUp((size_t)200 << 10, grain) + grain / 2; /* room after X in its segment */
  lo = newPool(mps_class_lo());
  pool = newPool(weak ? mps_class_awl() : mps_class_ams());
  loAp = newAp(lo, mps_rank_exact());
  xAp = newAp(pool, rank);
  areaRoot(ambig, 2, mps_rank_ambig());
  mps_arena_park(arena);
  y = alloc(loAp, 64, idBase + 7, 0, fillY);
  x = alloc(xAp, big, idBase + 1, 1, 0);
  ((mps_word_t *)x)[3] = (mps_word_t)y;
  ambig[0] = (mps_word_t)x;
  mps_ap_destroy(xAp);
  zAp = newAp(pool, rank);
  z = alloc(zAp, 64, idBase + 9, 0, 0);
  REQUIRE((char *)z == (char *)x + big); /* Z shares X's segment */
  mps_ap_destroy(zAp);
  mps_ap_destroy(loAp);
  if (extra >= 0)
    REQUIRE(mps_arena_commit_limit_set(arena, mps_arena_committed(arena) + (size_t)extra * grain) ==
            MPS_RES_OK);
  r->res = mps_arena_collect(arena);
  REQUIRE(mps_arena_commit_limit_set(arena, (size_t)-1) == MPS_RES_OK);
  r->zKept = alive(z, idBase + 9);
  r->yAlive = alive(y, idBase + 7);
  r->yIntact = r->yAlive && intact(y, 64, idBase + 7, 0, fillY);
  r->slotIsY = ((mps_word_t *)x)[3] == (mps_word_t)y;
  r->slotIsNull = ((mps_word_t *)x)[3] == 0;
  CHECK(alive(x, idBase + 1));
  r->done = failures == 0;
}

/* One run in a child process; 0 if the child crashed or failed a check. */
static int startsFailChild(StartsRun *r, int weak, long extra)
{
  pid_t pid;
  int st;
  memset(r, 0, sizeof *r);
  fflush(stdout), fflush(stderr);
  REQUIRE((pid = fork()) >= 0);
  if (pid == 0) {
    checks = failures = 0;
    startsFailRun(r, weak, extra);
    fflush(stdout), fflush(stderr);
    _exit(0);
  }
  REQUIRE(waitpid(pid, &st, 0) == pid);
  if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0 && r->done)) {
    fprintf(stderr, "start table (%s), %ld grains: the run %s\n", weak ? "weak" : "exact", extra,
            WIFSIGNALED(st) ? "crashed" : "failed");
    return 0;
  }
  return 1;
}

/* What each run must show: the exact reference still leads to Y, whole;
 * the weak one leads to Y alive or is NULL with Y gone, never to memory
 * that was reclaimed. */
static int startsFailSound(const StartsRun *r, int weak, long extra)
{
  int ok = weak ? (r->slotIsNull && !r->yAlive) || (r->slotIsY && r->yAlive)
                : r->slotIsY && r->yAlive && r->yIntact;
  if (!ok)
    fprintf(stderr, "start table (%s), %ld grains: slot %s, Y %s%s\n", weak ? "weak" : "exact",
            extra,
            r->slotIsY      ? "still Y"
            : r->slotIsNull ? "NULL"
                            : "changed",
            r->yAlive ? "alive" : "reclaimed", r->yAlive && !r->yIntact ? " but damaged" : "");
  return ok;
}

/* The collection at every commit limit from the one at committed memory
 * up to the first that leaves X's segment its tables (Z reclaimed): the
 * last limit below that lacks only the last table the trace asks for, the
 * object-start table.  Every run must be sound; some must keep X's segment
 * whole (so the failure path was taken), and a run without a limit must
 * reclaim Z (so that Z tells). */
static void startsFail(int weak)
{
  const long maxExtra = 24;
  StartsRun *r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  long extra, kept = 0, boundary = -1;
  REQUIRE(r != MAP_FAILED);
  if (startsFailChild(r, weak, -1)) {
    CHECK(r->res == MPS_RES_OK);
    CHECK(!r->zKept);
    CHECK(startsFailSound(r, weak, -1));
    CHECK(weak ? r->slotIsNull : r->slotIsY);
  } else
    CHECK(!"the run without a limit");
  for (extra = 0; extra <= maxExtra && boundary < 0; ++extra) {
    if (!startsFailChild(r, weak, extra)) {
      CHECK(!"a run at the commit limit");
      continue;
    }
    CHECK(startsFailSound(r, weak, extra));
    if (r->zKept)
      ++kept;
    else
      boundary = extra;
  }
  if (boundary > 0)
    printf("start table (%s): X's segment kept whole at %ld of the limits below %ld grains "
           "(the last: no object-start table)\n",
           weak ? "weak" : "exact", kept, boundary);
  CHECK(boundary >= 0);            /* enough memory for everything within reach */
  CHECK(boundary > 0 && kept > 0); /* and the tables did fail below it */
  munmap(r, sizeof *r);
}

static void startsFailExact(void) { startsFail(0); }
static void startsFailWeak(void) { startsFail(1); }

/* ---- (4) a long list pointing downwards -------------------------------------------- */

#define LIST_N 200000
static unsigned char listSeen[LIST_N];
static mps_pool_t listPool;
static size_t listObjects, listStrays;

static void listStep(mps_addr_t p, mps_fmt_t f, mps_pool_t pool, void *closure, size_t s)
{
  mps_word_t *w = p, k = w[1] - idBase;
  (void)f;
  (void)closure;
  (void)s;
  if (pool != listPool || TYPE(w[0]) != T_OBJ) return;
  if (k < LIST_N && !listSeen[k])
    listSeen[k] = 1, ++listObjects;
  else
    ++listStrays;
}

/* 200,000 objects of 32 bytes, each referring to the one allocated before
 * it (at a lower address, mostly), held by the last: one collection keeps
 * them all. */
static void longList(void)
{
  static mps_addr_t roots[1];
  mps_ap_t ap;
  mps_addr_t prev = NULL, p;
  size_t i, down = 0, before, n = 0;
  newArena();
  listPool = newPool(mps_class_ams());
  ap = newAp(listPool, mps_rank_exact());
  areaRoot(roots, 1, mps_rank_exact());
  mps_arena_park(arena);
  for (i = 0; i < LIST_N; ++i) {
    p = alloc(ap, 32, idBase + i, 1, 0);
    ((mps_word_t *)p)[3] = (mps_word_t)prev;
    down += prev != NULL && (char *)prev < (char *)p;
    roots[0] = prev = p;
  }
  mps_ap_destroy(ap);
  REQUIRE(down >= LIST_N - LIST_N / 100); /* the pathological order */
  before = inUse(listPool);
  CHECK(before == (size_t)LIST_N * 32);
  CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  CHECK(inUse(listPool) == before); /* nothing reclaimed */
  mps_arena_formatted_objects_walk(arena, listStep, NULL, 0);
  if (listObjects != LIST_N)
    fprintf(stderr, "long list: %zu of %d objects left\n", listObjects, LIST_N);
  CHECK(listObjects == LIST_N && listStrays == 0);
  for (p = roots[0], i = LIST_N; p != NULL && i > 0 && ((mps_word_t *)p)[1] == idBase + i - 1; --i)
    p = (mps_addr_t)((mps_word_t *)p)[3], ++n;
  CHECK(n == LIST_N && p == NULL); /* the list, whole and in order */
  CHECK(gcp_pool_consistent(listPool));
}

/* ---- running them ------------------------------------------------------------------- */

static const struct {
  void (*fn)(void);
  const char *what;
  int seconds;
} table[] = {
  { debugRereserve, "(1) AMS debug: smaller objects committed inline after a failed commit", 10 },
  { debugSegmentFree, "(2) AMS debug: free space checked when its segment goes back", 10 },
  { startsFailExact, "(3) no object-start table: an exact reference from a kept segment", 20 },
  { startsFailWeak, "(3w) no object-start table: a weak reference from a kept segment", 20 },
  { longList, "(4) 200,000-object list pointing downwards", 60 },
};
#define NCHECKS (sizeof table / sizeof table[0])

int main(int argc, char **argv)
{
  size_t i;
  testSeed(argc, argv);
  idBase = (mps_word_t)(rnd() & 0xffff) << 24;
  fillB = (mps_word_t)rnd() << 1 | 1, fillC = (mps_word_t)rnd() << 1 | 1;
  mps_lib_assert_fail_install(recordHandler);
  for (i = 0; i < NCHECKS; ++i) {
    char msg[300];
    pid_t pid;
    int st, ok;
    fflush(stdout), fflush(stderr);
    REQUIRE((pid = fork()) >= 0);
    if (pid == 0) {
      checks = failures = 0;
      alarm(table[i].seconds);
      table[i].fn();
      if (failures != 0 && reports != 0) fprintf(stderr, "  last report: %s\n", lastMessage);
      fflush(stdout), fflush(stderr);
      _exit(failures != 0);
    }
    REQUIRE(waitpid(pid, &st, 0) == pid);
    ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (ok || !WIFSIGNALED(st))
      snprintf(msg, sizeof msg, "%s: exit status %d", table[i].what, WEXITSTATUS(st));
    else
      snprintf(msg, sizeof msg, "%s: killed by signal %d%s", table[i].what, WTERMSIG(st),
               WTERMSIG(st) == SIGALRM ? " (alarm: it hung)" : "");
    testCheck(ok, __FILE__, __LINE__, msg);
  }
  return testFinish();
}
