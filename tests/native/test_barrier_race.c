/* test_barrier_race.c -- a write by one thread into an old segment while
 * another thread is inside the barrier's handler for the same segment.
 *
 * The handler (prot_linux.c) makes the segment writable and marks it
 * dirty.  If a collection could run while the faulting thread is inside
 * the handler, a second registered thread could write into the segment
 * (writable by then) without faulting, the collection could see it clean
 * and skip it, and the second thread's reference to a new object would
 * not be updated when that object moves.  The handler runs with the
 * suspend signal blocked, so no collection completes while a thread is in
 * it.
 *
 * The program widens the window deterministically: it defines mprotect
 * itself (the library's calls bind to it; it makes the system call and
 * returns the same result), and when the faulting thread T's handler makes
 * the segment writable, the wrapper waits there (up to 300 ms, or until
 * thread U is done) while U stores new objects into the old object (held
 * also by an exact root) and allocates until a nursery collection ran.
 * No collection may complete while T waits in the handler; afterwards
 * every slot of the old object must equal the root's (updated) reference.
 * A control round runs the same steps with T's write finished before U
 * writes.
 * alarm(30) turns a hang into a failure.
 * Usage: test_barrier_race [seed].  Design: docs/design/amc.md, barrier.md, threads.md.
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
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpscamc.h"
#include "testlib.h"
#include "wordfmt.h"

#define NOINLINE __attribute__((noinline))
#define NSLOTS   32
#define NROOTS   (1 + NSLOTS)

static mps_arena_t arena;
static mps_pool_t pool;
static mps_word_t *roots[NROOTS];   /* [0] the old object, [1..] the new ones */
static atomic_int phase;            /* 0 idle, 1 T in the window, 2 U done */
static __thread volatile int armed; /* this thread's next unprotection waits */
static atomic_ulong windows;

/* ---- mprotect, as the library sees it --------------------------------------------- */

static mps_word_t collectionsWhileHeld;

int mprotect(void *addr, size_t len, int prot)
{
  int r = (int)syscall(SYS_mprotect, addr, len, prot);
  if (r == 0 && prot == (PROT_READ | PROT_WRITE) && armed) {
    struct timespec pause = { 0, 200000 };
    mps_word_t c0 = mps_collections(arena);
    int waited;
    armed = 0;
    atomic_fetch_add(&windows, 1);
    atomic_store(&phase, 1);
    for (waited = 0; waited < 1500 && atomic_load(&phase) != 2; ++waited) nanosleep(&pause, NULL);
    collectionsWhileHeld = mps_collections(arena) - c0;
  }
  return r;
}

static mps_word_t *allocObj(mps_ap_t ap, mps_word_t id, size_t nrefs, size_t ndata)
{
  size_t size = WORD * (3 + nrefs + ndata), i;
  mps_addr_t p;
  do {
    mps_word_t *w;
    REQUIRE(mps_reserve(&p, ap, size) == MPS_RES_OK);
    w = p;
    w[0] = (mps_word_t)size | T_OBJ, w[1] = id, w[2] = nrefs;
    for (i = 0; i < nrefs + ndata; ++i) w[3 + i] = i < nrefs ? 0 : id + i;
  } while (!mps_commit(ap, p, size));
  return p;
}

/* ---- the two threads ------------------------------------------------------------------ */

typedef struct {
  int race;
  unsigned long collections;
  int ok;
} Round;

/* T: one write into the old object (a data word), which faults. */
static void *threadT(void *arg)
{
  Round *round = arg;
  mps_thr_t thr;
  REQUIRE(mps_thread_reg(&thr, arena) == MPS_RES_OK);
  armed = round->race;
  ((volatile mps_word_t *)roots[0])[3 + NSLOTS] = 12345;
  armed = 0;
  if (!round->race) atomic_store(&phase, 1);
  mps_thread_dereg(thr);
  return NULL;
}

/* U's stores: new objects into the old object and into the roots.  No
 * allocation between an allocation and its stores, and no stack root: the
 * new objects are held exactly only, so they move. */
static NOINLINE void storeNew(mps_ap_t ap)
{
  unsigned i;
  for (i = 0; i < NSLOTS; ++i) {
    mps_word_t *n = allocObj(ap, 1000 + i, 0, 2);
    roots[1 + i] = n;
    roots[0][3 + i] = (mps_word_t)n;
  }
}

static void *threadU(void *arg)
{
  Round *round = arg;
  struct timespec pause = { 0, 200000 };
  mps_thr_t thr;
  mps_ap_t ap;
  mps_word_t c0;
  unsigned long n;
  REQUIRE(mps_thread_reg(&thr, arena) == MPS_RES_OK);
  while (atomic_load(&phase) != 1) nanosleep(&pause, NULL);
  REQUIRE(mps_ap_create_k(&ap, pool, mps_args_none) == MPS_RES_OK);
  storeNew(ap);
  mps_ap_destroy(ap); /* their segment may be evacuated */
  REQUIRE(mps_ap_create_k(&ap, pool, mps_args_none) == MPS_RES_OK);
  c0 = mps_collections(arena);
  for (n = 0; n < 200000 && mps_collections(arena) == c0; ++n) (void)allocObj(ap, 7, 0, 10);
  round->collections = (unsigned long)(mps_collections(arena) - c0);
  mps_ap_destroy(ap);
  atomic_store(&phase, 2);
  mps_thread_dereg(thr);
  return NULL;
}

static void onAlarm(int sig)
{
  static const char msg[] = "test_barrier_race: timed out\n";
  (void)sig;
  if (write(2, msg, sizeof msg - 1) < 0) _exit(3);
  _exit(3);
}

/* ---- one round ------------------------------------------------------------------------- */

static void runRound(Round *round)
{
  pthread_t t, u;
  mps_message_t msg;
  unsigned i, stale = 0, partial = 0;
  mps_word_t *old;
  mps_ap_t ap;

  /* the old object: its slots NULL, made old by full collections, then
   * protected; nothing else refers to the nursery */
  mps_arena_park(arena);
  for (i = 0; i < NROOTS; ++i) roots[i] = NULL;
  REQUIRE(mps_ap_create_k(&ap, pool, mps_args_none) == MPS_RES_OK);
  roots[0] = allocObj(ap, 1, NSLOTS, 1);
  mps_ap_destroy(ap); /* its segment may be evacuated */
  for (i = 0; i < 3; ++i) CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  while (mps_message_get(&msg, arena, mps_message_type_gc())) mps_message_discard(arena, msg);
  old = roots[0];
  atomic_store(&phase, 0);
  mps_arena_release(arena);

  REQUIRE(pthread_create(&u, NULL, threadU, round) == 0);
  REQUIRE(pthread_create(&t, NULL, threadT, round) == 0);
  REQUIRE(pthread_join(t, NULL) == 0);
  REQUIRE(pthread_join(u, NULL) == 0);

  mps_arena_park(arena);
  while (mps_message_get(&msg, arena, mps_message_type_gc())) {
    partial += mps_message_gc_not_condemned_size(arena, msg) > 0;
    mps_message_discard(arena, msg);
  }
  CHECK(round->collections > 0);
  CHECK(roots[0][3 + NSLOTS] == 12345);
  for (i = 0; i < NSLOTS; ++i) {
    mps_word_t *n = roots[1 + i];
    CHECK(n != NULL && n[1] == 1000 + i);
    stale += roots[0][3 + i] != (mps_word_t)n;
  }
  printf("%s round: %lu collection(s) (%u partial) %s; %u of %d slots of the old object "
         "stale; old object %s\n",
         round->race ? "race" : "control", round->collections, partial,
         round->race ? "with T held in the handler after its mprotect" : "after T's write", stale,
         NSLOTS, roots[0] == old ? "in place" : "moved");
  if (stale != 0)
    fprintf(stderr,
            "%s round: %u slots of the old object were written by a second thread while "
            "the first was between the handler's mprotect and its dirty mark; the collection "
            "skipped the segment and did not update them\n",
            round->race ? "race" : "control", stale);
  CHECK(stale == 0);
  round->ok = stale == 0;
}

int main(int argc, char **argv)
{
  mps_gen_param_s gens[2] = { { 64, 0.8 }, { 256, 0.5 } };
  struct sigaction sa;
  mps_chain_t chain;
  mps_fmt_t fmt;
  mps_root_t root;
  mps_thr_t thr;
  Round control = { 0, 0, 0 }, race = { 1, 0, 0 };

  testSeed(argc, argv);
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = onAlarm;
  sigemptyset(&sa.sa_mask);
  REQUIRE(sigaction(SIGALRM, &sa, NULL) == 0);
  alarm(30);
  unsetenv("GCP_BARRIER");
  REQUIRE(mps_arena_create_k(&arena, mps_arena_class_vm(), mps_args_none) == MPS_RES_OK);
  mps_message_type_enable(arena, mps_message_type_gc());
  REQUIRE(mps_chain_create(&chain, arena, 2, gens) == MPS_RES_OK);
  makePool(&fmt, &pool, arena, chain);
  REQUIRE(mps_thread_reg(&thr, arena) == MPS_RES_OK);
  REQUIRE(mps_root_create_table(&root, arena, mps_rank_exact(), 0, (mps_addr_t *)roots, NROOTS) ==
          MPS_RES_OK);

  runRound(&control);
  runRound(&race);
  CHECK(atomic_load(&windows) == 1); /* the race round's fault went through mprotect */
  CHECK(collectionsWhileHeld == 0);  /* no collection while T was in the handler */

  mps_arena_park(arena);
  mps_root_destroy(root);
  mps_thread_dereg(thr);
  mps_pool_destroy(pool);
  mps_fmt_destroy(fmt);
  mps_chain_destroy(chain);
  mps_arena_destroy(arena);
  alarm(0);
  CHECK(atomic_load(&badTags) == 0);
  return testFinish();
}
