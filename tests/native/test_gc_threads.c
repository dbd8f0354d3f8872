/* test_gc_threads.c -- mutator threads on a shared AMC pool while
 * collections happen.
 *
 * Two and then four threads, each registered (mps_thread_reg) with its
 * stack and registers as a root (mps_root_create_thread, cold end in its
 * start function) and its own allocation point on one shared AMC pool,
 * build singly linked lists whose head lives only in a local variable (an
 * ambiguous reference; the rest of each list is reachable only exactly, so
 * it may move) and check them: ids, data words and lengths, also of a few
 * older lists kept alive across many collections.  Meanwhile:
 * phase 1: the main thread calls mps_arena_collect repeatedly (releasing
 *          the arena in between);
 * phase 2: the main thread only waits; the pool's chain is small, so the
 *          threads' own mps_reserve slow paths must start collections.
 * Phase 3: a thread registers and exits without deregistering; later
 * collections must not hang (alarm(30) turns a hang into a failure) and
 * the remaining threads keep working.  Everything is deregistered and
 * destroyed at the end.
 * Usage: test_gc_threads [seed].  Design: docs/design/amc.md, interface.md,
 * collector-interface.md, threads.md.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpscamc.h"
#include "testlib.h"

#define NOINLINE   __attribute__((noinline))
#define WORD       ((size_t)sizeof(mps_word_t))
#define MAXTHREADS 4
#define NKEEP      3

enum { T_OBJ = 1, T_PAD = 2, T_FWD = 3, T_PAD1 = 4, T_FWD1 = 5 };
#define TYPE(w) ((unsigned)((w)&7))
#define SIZE(w) ((size_t)((w) & ~(mps_word_t)7))

static mps_arena_t arena;
static mps_pool_t pool;
static atomic_ulong badTags;
static atomic_uint finished; /* workers done with their lists */
static atomic_int stop;      /* the main thread has collected enough */

/* ---- the format: tag, id, next, data ------------------------------------------------ */

static mps_word_t dataWord(mps_word_t id, size_t k) { return ~id ^ (k << 32) ^ k; }

static mps_addr_t fmtSkip(mps_addr_t p)
{
  mps_word_t tag = *(mps_word_t *)p;
  switch (TYPE(tag)) {
  case T_PAD1:
  case T_FWD1: return (char *)p + WORD;
  case T_OBJ:
  case T_PAD:
  case T_FWD: return (char *)p + SIZE(tag);
  default: atomic_fetch_add(&badTags, 1); return (char *)p + WORD;
  }
}

static mps_addr_t fmtIsfwd(mps_addr_t p)
{
  mps_word_t *w = p;
  if (TYPE(w[0]) == T_FWD) return (mps_addr_t)w[1];
  if (TYPE(w[0]) == T_FWD1) return (mps_addr_t)SIZE(w[0]);
  return NULL;
}

static void fmtFwd(mps_addr_t old, mps_addr_t newp)
{
  mps_word_t *w = old;
  size_t size = (size_t)((char *)fmtSkip(old) - (char *)old);
  if (size == WORD) {
    w[0] = (mps_word_t)newp | T_FWD1;
  } else {
    w[0] = (mps_word_t)size | T_FWD;
    w[1] = (mps_word_t)newp;
  }
}

static void fmtPad(mps_addr_t p, size_t size)
{
  *(mps_word_t *)p = size == WORD ? (mps_word_t)T_PAD1 : ((mps_word_t)size | T_PAD);
}

static mps_res_t fmtScan(mps_ss_t ss, mps_addr_t base, mps_addr_t limit)
{
  MPS_SCAN_BEGIN(ss)
  {
    mps_addr_t p;
    for (p = base; p < limit; p = fmtSkip(p)) {
      mps_word_t *w = p;
      if (TYPE(w[0]) == T_OBJ) {
        mps_addr_t r = (mps_addr_t)w[2];
        if (MPS_FIX1(ss, r)) {
          mps_res_t res = MPS_FIX2(ss, &r);
          if (res != MPS_RES_OK) return res;
          w[2] = (mps_word_t)r;
        }
      }
    }
  }
  MPS_SCAN_END(ss);
  return MPS_RES_OK;
}

/* ---- the threads --------------------------------------------------------------------- */

typedef struct {
  unsigned index;
  unsigned long long rnd;
  unsigned lists; /* at least this many lists, then until told to stop */
  unsigned long errors, nodes;
  pthread_t pthread;
} Worker;

static unsigned long wrnd(Worker *w)
{
  w->rnd ^= w->rnd << 13;
  w->rnd ^= w->rnd >> 7;
  w->rnd ^= w->rnd << 17;
  return (unsigned long)w->rnd;
}

static mps_word_t nodeId(const Worker *w, unsigned list, unsigned k)
{
  return ((mps_word_t)(w->index + 1) << 48) | ((mps_word_t)list << 20) | k;
}

static mps_addr_t allocNode(mps_ap_t ap, mps_word_t id, mps_addr_t next, size_t ndata)
{
  size_t size = WORD * (3 + ndata), k;
  mps_addr_t p;
  do {
    mps_word_t *w;
    if (mps_reserve(&p, ap, size) != MPS_RES_OK) return NULL;
    w = p;
    w[0] = (mps_word_t)size | T_OBJ;
    w[1] = id;
    w[2] = (mps_word_t)next;
    for (k = 0; k < ndata; ++k) w[3 + k] = dataWord(id, k);
  } while (!mps_commit(ap, p, size));
  return p;
}

/* The list from head holds nodes len-1 .. 0 of list number `list`. */
static int listOK(const Worker *w, mps_addr_t head, unsigned list, unsigned len)
{
  mps_word_t *p = head;
  unsigned k = len;
  while (k-- > 0) {
    size_t ndata, i;
    if (p == NULL || TYPE(p[0]) != T_OBJ || p[1] != nodeId(w, list, k)) return 0;
    ndata = SIZE(p[0]) / WORD - 3;
    if (ndata > 16) return 0;
    for (i = 0; i < ndata; ++i)
      if (p[3 + i] != dataWord(p[1], i)) return 0;
    p = (mps_word_t *)p[2];
  }
  return p == NULL;
}

/* The heads are only in this frame (and registers): ambiguous references. */
static NOINLINE void work(Worker *w, mps_ap_t ap)
{
  mps_addr_t keep[NKEEP] = { NULL, NULL, NULL };
  unsigned keepList[NKEEP] = { 0, 0, 0 }, keepLen[NKEEP] = { 0, 0, 0 };
  unsigned list, j;
  for (list = 0; list < w->lists || !atomic_load(&stop); ++list) {
    mps_addr_t head = NULL;
    unsigned len = 5 + (unsigned)(wrnd(w) % 150), k;
    for (k = 0; k < len; ++k) {
      head = allocNode(ap, nodeId(w, list, k), head, (size_t)(wrnd(w) % 8));
      if (head == NULL) {
        ++w->errors;
        return;
      }
    }
    w->nodes += len;
    if (!listOK(w, head, list, len)) ++w->errors;
    for (j = 0; j < NKEEP; ++j)
      if (keep[j] != NULL && !listOK(w, keep[j], keepList[j], keepLen[j])) ++w->errors;
    if (wrnd(w) % 8 == 0) { /* keep this one for a while */
      j = (unsigned)(wrnd(w) % NKEEP);
      keep[j] = head;
      keepList[j] = list;
      keepLen[j] = len;
    }
  }
  for (j = 0; j < NKEEP; ++j)
    if (keep[j] != NULL && !listOK(w, keep[j], keepList[j], keepLen[j])) ++w->errors;
}

static void *workerMain(void *arg)
{
  Worker *w = arg;
  void *marker = NULL; /* the cold end */
  mps_thr_t thr;
  mps_root_t root;
  mps_ap_t ap;
  if (mps_thread_reg(&thr, arena) != MPS_RES_OK) {
    ++w->errors;
    return NULL;
  }
  if (mps_root_create_thread(&root, arena, thr, &marker) != MPS_RES_OK) {
    ++w->errors;
    mps_thread_dereg(thr);
    return NULL;
  }
  if (mps_ap_create_k(&ap, pool, mps_args_none) == MPS_RES_OK) {
    work(w, ap);
    mps_ap_destroy(ap);
  } else {
    ++w->errors;
  }
  atomic_fetch_add(&finished, 1);
  mps_root_destroy(root);
  mps_thread_dereg(thr);
  *(void *volatile *)&marker = NULL;
  return NULL;
}

static atomic_int registeredAndGone;
static mps_thr_t goneThr;

static void *exitWithoutDereg(void *arg)
{
  (void)arg;
  if (mps_thread_reg(&goneThr, arena) == MPS_RES_OK) atomic_store(&registeredAndGone, 1);
  return NULL;
}

static void onAlarm(int sig)
{
  static const char msg[] = "test_gc_threads: timed out (a collection hung?)\n";
  (void)sig;
  if (write(2, msg, sizeof msg - 1) < 0) _exit(3);
  _exit(3);
}

/* Takes the queued gc messages; returns how many collections ended. */
static unsigned long gcMessages(void)
{
  mps_message_t m;
  unsigned long n = 0;
  while (mps_message_get(&m, arena, mps_message_type_gc())) {
    ++n;
    mps_message_discard(arena, m);
  }
  return n;
}

/* Runs n workers; while they run, the main thread collects if `collect`. */
static void runWorkers(unsigned n, unsigned lists, int collect, const char *what)
{
  Worker w[MAXTHREADS];
  struct timespec pause = { 0, 1000000 };
  mps_word_t c0 = mps_collections(arena);
  unsigned i, collects = 0;
  unsigned long nodes = 0, gcs;
  (void)gcMessages();
  memset(w, 0, sizeof w);
  atomic_store(&finished, 0);
  atomic_store(&stop, !collect);
  for (i = 0; i < n; ++i) {
    w[i].index = i;
    w[i].rnd = rnd() | 1;
    w[i].lists = lists;
    REQUIRE(pthread_create(&w[i].pthread, NULL, workerMain, &w[i]) == 0);
  }
  while (collect && atomic_load(&finished) < n) {
    CHECK(mps_arena_collect(arena) == MPS_RES_OK);
    mps_arena_release(arena);
    if (++collects == 25) atomic_store(&stop, 1);
    nanosleep(&pause, NULL);
  }
  for (i = 0; i < n; ++i) {
    REQUIRE(pthread_join(w[i].pthread, NULL) == 0);
    if (w[i].errors != 0) fprintf(stderr, "%s: thread %u: %lu errors\n", what, i, w[i].errors);
    CHECK(w[i].errors == 0);
    nodes += w[i].nodes;
  }
  gcs = gcMessages();
  printf("%s, %u threads: %lu nodes, %u explicit collections, %lu collections (gc messages), "
         "mps_collections +%lu\n",
         what, n, nodes, collects, gcs, (unsigned long)(mps_collections(arena) - c0));
  CHECK(gcs > 0);
  if (gcs > 0 && mps_collections(arena) <= c0)
    fprintf(stderr, "%s: mps_collections did not grow in %lu collections\n", what, gcs);
  CHECK(mps_collections(arena) > c0);
  if (collect) CHECK(collects >= 25);
}

int main(int argc, char **argv)
{
  mps_gen_param_s gens[2] = { { 64, 0.9 }, { 128, 0.5 } };
  struct sigaction sa;
  mps_chain_t chain;
  mps_fmt_t fmt;
  mps_thr_t thr;
  pthread_t gone;

  testSeed(argc, argv);
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = onAlarm;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, NULL);
  alarm(120);
  REQUIRE(mps_arena_create_k(&arena, mps_arena_class_vm(), mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_thread_reg(&thr, arena) == MPS_RES_OK);
  mps_message_type_enable(arena, mps_message_type_gc());
  REQUIRE(mps_chain_create(&chain, arena, 2, gens) == MPS_RES_OK);
  MPS_ARGS_BEGIN(args)
  {
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

  /* phase 1: the main thread collects */
  runWorkers(2, 20, 1, "main collects");
  runWorkers(4, 20, 1, "main collects");
  /* phase 2: collections start in the threads' reserve slow paths */
  runWorkers(2, 300, 0, "chain only");
  runWorkers(4, 300, 0, "chain only");

  /* phase 3: a registered thread exits without deregistering */
  REQUIRE(pthread_create(&gone, NULL, exitWithoutDereg, NULL) == 0);
  REQUIRE(pthread_join(gone, NULL) == 0);
  REQUIRE(atomic_load(&registeredAndGone));
  alarm(30);
  (void)gcMessages();
  CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  CHECK(gcMessages() == 1);
  mps_arena_release(arena);
  runWorkers(2, 20, 1, "after a thread exited registered");
  alarm(120);
  mps_arena_park(arena);
  mps_thread_dereg(goneThr); /* its descriptor must still be removed */

  CHECK(atomic_load(&badTags) == 0);
  mps_message_type_disable(arena, mps_message_type_gc());
  mps_pool_destroy(pool);
  mps_fmt_destroy(fmt);
  mps_chain_destroy(chain);
  mps_thread_dereg(thr);
  mps_arena_destroy(arena);
  alarm(0);
  return testFinish();
}
