/* test_barrier_chain.c -- the write barrier's SIGSEGV handler and the
 * client's own handlers (prot_linux.c: faults not on a protected segment go
 * to the handler that was there before; SIGSEGV is taken back at each
 * collection if someone else installed a handler).
 *
 * Before the arena exists the program installs its own SA_SIGINFO handler
 * (h1), which fixes faults on three pages of its own: a PROT_NONE page, a
 * read-only page and an unmapped one (SEGV_MAPERR).  Then a generational
 * workload (chain of 64 and 256 KB, arena released) stores new objects into
 * old "holders" reachable only through anchors, checked against a model;
 * old holders are seen write-protected (read() into them fails with EFAULT)
 * and writes into them work.  Faults on the program's pages, from the main
 * thread and from another registered thread, must reach h1 exactly once
 * each.  Then a late handler h2 (like CPython's faulthandler.enable() after
 * start-up) is installed while the arena is clamped: writes into protected
 * holders still work (h2 chains to the previous handler).  At the next
 * collection the collector must take SIGSEGV back: the installed handler is
 * no longer h2 and barrier faults no longer reach it.  A fault on the
 * program's page must then still end in h1 (through h2, which chains to its
 * predecessor) without going round in circles.  Four registered threads
 * then write into the same old holders while the main thread collects.
 * alarm(30) turns a hang into a failure.
 * Usage: test_barrier_chain [seed].  Design: docs/design/amc.md, barrier.md, threads.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpscamc.h"
#include "testlib.h"
#include "wordfmt.h"

#define NOINLINE    __attribute__((noinline))
#define NANCHOR     6
#define HOLDERS_PER 32
#define NHOLD       (NANCHOR * HOLDERS_PER)
#define HSLOTS      16
#define NTHREADS    4
#define GARBAGE_ID  (~(mps_word_t)0)

static mps_arena_t arena;
static mps_pool_t pool;
static mps_word_t *anchors[NANCHOR];
static long model[NHOLD][HSLOTS]; /* id of each holder slot's object, -1 for NULL */

/* ---- the program's own pages and handlers ------------------------------------- */

static char *pages, *guard, *roPage, *hole;
static size_t pageSize;
static volatile sig_atomic_t h1Guard, h1RO, h1Hole, h1Code;
static volatile sig_atomic_t h2Calls, h2Guard, h2Cycle;
static __thread int h2Depth;
static struct sigaction h2Prev;

static int in(const char *a, const char *page) { return a >= page && a < page + pageSize; }

static void say(const char *msg)
{
  if (write(2, msg, strlen(msg)) < 0) _exit(6);
}

/* Make the program's page holding a accessible; 0 if a is not on one. */
static int fixPage(char *a)
{
  if (in(a, guard)) return mprotect(guard, pageSize, PROT_READ | PROT_WRITE) == 0;
  if (in(a, roPage)) return mprotect(roPage, pageSize, PROT_READ | PROT_WRITE) == 0;
  if (in(a, hole))
    return mmap(hole, pageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
                0) != MAP_FAILED;
  return 0;
}

static void h1(int sig, siginfo_t *info, void *ctx)
{
  char *a = info->si_addr;
  (void)sig;
  (void)ctx;
  h1Code = info->si_code;
  h1Guard += in(a, guard), h1RO += in(a, roPage), h1Hole += in(a, hole);
  if (!fixPage(a)) {
    /* A barrier fault or a real bug: either way not for us. */
    say("test_barrier_chain: a fault that is not on the program's pages reached its handler\n");
    _exit(4);
  }
}

/* The late handler: records, then chains to whatever it replaced. */
static void h2(int sig, siginfo_t *info, void *ctx)
{
  ++h2Calls;
  if (in(info->si_addr, guard)) ++h2Guard;
  if (++h2Depth > 3) {
    /* handed back to us by the handler we chain to: a cycle */
    ++h2Cycle;
    if (!fixPage(info->si_addr)) {
      say("test_barrier_chain: a fault goes round the handlers\n");
      _exit(5);
    }
  } else if (h2Prev.sa_flags & SA_SIGINFO) {
    h2Prev.sa_sigaction(sig, info, ctx);
  } else if (h2Prev.sa_handler != SIG_DFL && h2Prev.sa_handler != SIG_IGN) {
    h2Prev.sa_handler(sig);
  } else {
    say("test_barrier_chain: the late handler replaced the default action\n");
    _exit(5);
  }
  --h2Depth;
}

static void onAlarm(int sig)
{
  (void)sig;
  say("test_barrier_chain: timed out (a hang in a fault or a collection?)\n");
  _exit(3);
}

/* Fault on each of the program's pages; each must reach h1 once. */
static void touchPages(const char *when)
{
  sig_atomic_t g = h1Guard, r = h1RO, h = h1Hole;
  (void)mprotect(guard, pageSize, PROT_NONE);
  (void)mprotect(roPage, pageSize, PROT_READ);
  (void)munmap(hole, pageSize);
  ((volatile char *)guard)[5] = 42;
  CHECK(((volatile char *)guard)[5] == 42);
  if (h1Guard != g) CHECK(h1Code == SEGV_ACCERR);
  ((volatile char *)roPage)[7] = 43;
  CHECK(((volatile char *)roPage)[7] == 43);
  ((volatile char *)hole)[9] = 44;
  CHECK(((volatile char *)hole)[9] == 44);
  if (h1Hole != h) CHECK(h1Code == SEGV_MAPERR);
  if (h1Guard != g + 1 || h1RO != r + 1 || h1Hole != h + 1)
    fprintf(stderr, "%s: the program's handler saw %d, %d, %d faults (expected 1 each)\n", when,
            (int)(h1Guard - g), (int)(h1RO - r), (int)(h1Hole - h));
  CHECK(h1Guard == g + 1 && h1RO == r + 1 && h1Hole == h + 1);
}

static void *touchThread(void *arg)
{
  mps_thr_t thr;
  (void)arg;
  if (mps_thread_reg(&thr, arena) != MPS_RES_OK) return NULL;
  touchPages("in another thread");
  mps_thread_dereg(thr);
  return NULL;
}

/* ---- objects (wordfmt.h), with data words after the references ---------------- */

static mps_word_t dataWord(mps_word_t id, size_t k) { return ~id * 31 + k; }

static mps_word_t *allocObj(mps_ap_t ap, mps_word_t id, size_t nrefs, size_t ndata,
                            mps_word_t *const *refs)
{
  size_t size = WORD * (3 + nrefs + ndata), i;
  mps_addr_t p;
  do {
    mps_word_t *w;
    REQUIRE(mps_reserve(&p, ap, size) == MPS_RES_OK);
    w = p;
    w[0] = (mps_word_t)size | T_OBJ, w[1] = id, w[2] = nrefs;
    for (i = 0; i < nrefs; ++i) w[3 + i] = (mps_word_t)(refs != NULL ? refs[i] : NULL);
    for (i = 0; i < ndata; ++i) w[3 + nrefs + i] = dataWord(id, i);
  } while (!mps_commit(ap, p, size));
  return p;
}

static size_t leafData(long id) { return 1 + (size_t)id % 7; }

static mps_word_t *holder(unsigned h)
{
  return (mps_word_t *)anchors[h / HOLDERS_PER][3 + h % HOLDERS_PER];
}

static int leafOK(mps_word_t *p, long id)
{
  size_t k, n = leafData(id);
  mps_pool_t pl;
  if (p == NULL || !mps_addr_pool(&pl, arena, p) || pl != pool) return 0;
  if (p[0] != (WORD * (3 + n) | T_OBJ) || p[1] != (mps_word_t)id || p[2] != 0) return 0;
  for (k = 0; k < n; ++k)
    if (p[3 + k] != dataWord((mps_word_t)id, k)) return 0;
  return 1;
}

/* Every holder and the object in each of its slots against the model. */
static void verify(const char *when)
{
  unsigned h, j;
  unsigned long bad = 0;
  for (h = 0; h < NHOLD; ++h) {
    mps_word_t *p = holder(h);
    if (p == NULL || p[1] != 1000000 + h || p[2] != HSLOTS) {
      ++bad;
      continue;
    }
    for (j = 0; j < HSLOTS; ++j) {
      mps_word_t *q = (mps_word_t *)p[3 + j];
      if (model[h][j] < 0 ? q != NULL : !leafOK(q, model[h][j])) {
        if (bad++ < 5)
          fprintf(stderr, "%s: holder %u slot %u: expected object %ld, found %p\n", when, h, j,
                  model[h][j], (void *)q);
      }
    }
  }
  if (bad != 0) fprintf(stderr, "%s: %lu bad slots\n", when, bad);
  CHECK(bad == 0);
}

static unsigned protectedHolders(void)
{
  unsigned h, n = 0;
  for (h = 0; h < NHOLD; ++h) n += !writable(holder(h));
  return n;
}

/* ---- the workload ------------------------------------------------------------------ */

typedef struct {
  unsigned long long rs;
  unsigned index, stride; /* this mutator's slots: j % stride == index */
  long nextId;
  unsigned long ops;
  mps_ap_t ap;
  atomic_int *stop;
} Mut;

static unsigned long xr(Mut *m)
{
  m->rs ^= m->rs << 13;
  m->rs ^= m->rs >> 7;
  m->rs ^= m->rs << 17;
  return (unsigned long)m->rs;
}

/* One store into a slot of an old holder: a new object, another slot's
 * object (memcpy), NULL; then some garbage. */
static NOINLINE void op(Mut *m)
{
  unsigned h = (unsigned)(xr(m) % NHOLD), h2 = (unsigned)(xr(m) % NHOLD);
  unsigned j = m->index + m->stride * (unsigned)(xr(m) % (HSLOTS / m->stride));
  unsigned j2 = m->index + m->stride * (unsigned)(xr(m) % (HSLOTS / m->stride));
  unsigned long r = xr(m) % 10;
  ++m->ops;
  if (r < 6) {
    long id = m->nextId++;
    mps_word_t *n = allocObj(m->ap, (mps_word_t)id, 0, leafData(id), NULL);
    holder(h)[3 + j] = (mps_word_t)n;
    model[h][j] = id;
  } else if (r < 9) {
    memcpy(&holder(h)[3 + j], &holder(h2)[3 + j2], WORD);
    model[h][j] = model[h2][j2];
  } else {
    holder(h)[3 + j] = 0;
    model[h][j] = -1;
  }
  for (r = xr(m) % 4; r > 0; --r) (void)allocObj(m->ap, GARBAGE_ID, 0, xr(m) % 20, NULL);
}

static NOINLINE void work(Mut *m)
{
  while (!atomic_load(m->stop)) op(m);
}

static void *mutMain(void *arg)
{
  Mut *m = arg;
  void *marker = NULL;
  mps_thr_t thr;
  mps_root_t root;
  REQUIRE(mps_thread_reg(&thr, arena) == MPS_RES_OK);
  REQUIRE(mps_root_create_thread(&root, arena, thr, &marker) == MPS_RES_OK);
  REQUIRE(mps_ap_create_k(&m->ap, pool, mps_args_none) == MPS_RES_OK);
  work(m);
  mps_ap_destroy(m->ap);
  mps_root_destroy(root);
  mps_thread_dereg(thr);
  *(void *volatile *)&marker = NULL;
  return NULL;
}

static unsigned long partialGCs(void)
{
  mps_message_t msg;
  unsigned long n = 0;
  while (mps_message_get(&msg, arena, mps_message_type_gc())) {
    n += mps_message_gc_not_condemned_size(arena, msg) > 0;
    mps_message_discard(arena, msg);
  }
  return n;
}

static NOINLINE void scenario(mps_thr_t thr, void *coldEnd)
{
  mps_gen_param_s gens[2] = { { 64, 0.8 }, { 256, 0.5 } };
  mps_chain_t chain;
  mps_fmt_t fmt;
  mps_root_t tableRoot, stackRoot;
  struct sigaction sa, now;
  atomic_int stop;
  Mut m, ms[NTHREADS];
  pthread_t pt[NTHREADS];
  unsigned h, j, i, prot;
  unsigned long partial = 0, n;
  sig_atomic_t calls;
  mps_word_t *fresh[8];

  REQUIRE(mps_chain_create(&chain, arena, 2, gens) == MPS_RES_OK);
  makePool(&fmt, &pool, arena, chain);
  memset(&m, 0, sizeof m);
  m.rs = rnd() | 1, m.stride = 1, m.nextId = 1;
  atomic_store(&stop, 0);
  m.stop = &stop;
  REQUIRE(mps_ap_create_k(&m.ap, pool, mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_root_create_table(&tableRoot, arena, mps_rank_exact(), 0, (mps_addr_t *)anchors,
                                NANCHOR) == MPS_RES_OK);
  REQUIRE(mps_root_create_thread(&stackRoot, arena, thr, coldEnd) == MPS_RES_OK);

  /* holders, reachable only through the anchors, made old */
  mps_arena_park(arena);
  for (i = 0; i < NANCHOR; ++i) {
    mps_word_t *hs[HOLDERS_PER];
    for (j = 0; j < HOLDERS_PER; ++j)
      hs[j] = allocObj(m.ap, 1000000 + i * HOLDERS_PER + j, HSLOTS, 2, NULL);
    anchors[i] = allocObj(m.ap, 2000000 + i, HOLDERS_PER, 1, hs);
  }
  for (h = 0; h < NHOLD; ++h)
    for (j = 0; j < HSLOTS; ++j) model[h][j] = -1;
  CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  verify("after set-up");
  mps_arena_release(arena);

  /* the workload: collections by allocation, the barrier engages */
  for (prot = 0, i = 0; i < 10; ++i) {
    for (n = 0; n < 4000; ++n) op(&m);
    /* then only garbage: nursery collections protect the holders again */
    for (n = 0; n < 6000; ++n) (void)allocObj(m.ap, GARBAGE_ID, 0, 1 + n % 30, NULL);
    partial += partialGCs();
    mps_arena_park(arena);
    verify("during the workload");
    prot += protectedHolders();
    mps_arena_release(arena);
  }
  printf("workload: %lu ops, %lu partial collections, %u protected holders seen\n", m.ops, partial,
         prot);
  CHECK(partial > 0);
  CHECK(prot > 0);
  touchPages("with the barrier in use");
  {
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, touchThread, NULL) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
  }

  /* A late handler, installed while no collection can start: writes into
   * protected holders go through it to the barrier and must still work. */
  mps_arena_park(arena);
  CHECK(mps_arena_collect(arena) == MPS_RES_OK); /* everything protected again */
  mps_arena_clamp(arena);
  for (i = 0; i < 8; ++i)
    fresh[i] = allocObj(m.ap, (mps_word_t)m.nextId + i, 0, leafData(m.nextId + (long)i), NULL);
  prot = protectedHolders();
  CHECK(prot > 0);
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = h2;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  REQUIRE(sigaction(SIGSEGV, &sa, &h2Prev) == 0);
  CHECK((h2Prev.sa_flags & SA_SIGINFO) && h2Prev.sa_sigaction != h1); /* the barrier's */
  for (h = 0; h < NHOLD; h += 7) {
    j = (unsigned)(rnd() % HSLOTS);
    memcpy(&holder(h)[3 + j], &fresh[h % 8], WORD);
    model[h][j] = m.nextId + (long)(h % 8);
  }
  m.nextId += 8;
  printf("late handler before a collection: %d barrier faults reached it (%u holders protected)\n",
         (int)h2Calls, prot);
  verify("after writes through the late handler");

  /* the next collection takes SIGSEGV back */
  mps_arena_release(arena);
  CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  REQUIRE(sigaction(SIGSEGV, NULL, &now) == 0);
  CHECK(!(now.sa_flags & SA_SIGINFO) || now.sa_sigaction != h2);
  verify("after the collection");
  prot = protectedHolders();
  CHECK(prot > 0);
  mps_arena_release(arena);
  calls = h2Calls;
  for (n = 0; n < 3000; ++n) op(&m);
  CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  verify("after more writes");
  if (h2Calls != calls)
    fprintf(stderr, "%d barrier faults reached the late handler after SIGSEGV was taken back\n",
            (int)(h2Calls - calls));
  CHECK(h2Calls == calls);

  /* A fault on the program's page: the barrier hands it to h2, which
   * chains to what it replaced; it must end in h1, once. */
  calls = h2Calls;
  touchPages("after the late handler");
  if (h2Cycle != 0)
    fprintf(stderr,
            "%d fault(s) on the program's pages went round between the barrier's "
            "handler and the late one and never reached the first handler\n",
            (int)h2Cycle);
  CHECK(h2Cycle == 0);
  CHECK(h2Guard > 0);

  /* several threads write into the same old holders while the main thread
   * collects */
  atomic_store(&stop, 0);
  for (i = 0; i < NTHREADS; ++i) {
    memset(&ms[i], 0, sizeof ms[i]);
    ms[i].rs = rnd() | 1, ms[i].index = i, ms[i].stride = NTHREADS;
    ms[i].nextId = 10000000L * (i + 1), ms[i].stop = &stop;
    REQUIRE(pthread_create(&pt[i], NULL, mutMain, &ms[i]) == 0);
  }
  calls = h2Calls;
  for (i = 0; i < 40; ++i) {
    struct timespec pause = { 0, 2000000 };
    mps_arena_release(arena);
    nanosleep(&pause, NULL);
    CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  }
  atomic_store(&stop, 1);
  for (i = 0; i < NTHREADS; ++i) REQUIRE(pthread_join(pt[i], NULL) == 0);
  verify("after the threads");
  partial += partialGCs();
  printf("threads: %lu+%lu+%lu+%lu ops\n", ms[0].ops, ms[1].ops, ms[2].ops, ms[3].ops);
  for (i = 0; i < NTHREADS; ++i) CHECK(ms[i].ops > 0);
  CHECK(h2Calls == calls);

  mps_arena_park(arena);
  mps_root_destroy(stackRoot);
  mps_root_destroy(tableRoot);
  mps_ap_destroy(m.ap);
  mps_pool_destroy(pool);
  mps_fmt_destroy(fmt);
  mps_chain_destroy(chain);
}

int main(int argc, char **argv)
{
  struct sigaction sa;
  mps_thr_t thr;
  void *marker = NULL;

  testSeed(argc, argv);
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = onAlarm;
  sigemptyset(&sa.sa_mask);
  REQUIRE(sigaction(SIGALRM, &sa, NULL) == 0);
  alarm(30);
  REQUIRE(pipe(pipeFd) == 0);
  pageSize = (size_t)sysconf(_SC_PAGESIZE);
  pages = mmap(NULL, 3 * pageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(pages != MAP_FAILED);
  guard = pages, roPage = pages + pageSize, hole = pages + 2 * pageSize;

  /* the program's handler, before any arena */
  sa.sa_handler = NULL;
  sa.sa_sigaction = h1;
  sa.sa_flags = SA_SIGINFO;
  REQUIRE(sigaction(SIGSEGV, &sa, NULL) == 0);
  touchPages("before the arena");

  REQUIRE(mps_arena_create_k(&arena, mps_arena_class_vm(), mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_thread_reg(&thr, arena) == MPS_RES_OK);
  mps_message_type_enable(arena, mps_message_type_gc());
  scenario(thr, &marker);
  mps_thread_dereg(thr);
  mps_arena_destroy(arena);

  touchPages("after the arena is gone");
  CHECK(atomic_load(&badTags) == 0);
  alarm(0);
  *(void *volatile *)&marker = NULL;
  return testFinish();
}
