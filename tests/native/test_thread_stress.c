/* test_thread_stress.c -- threads that register (twice), create and
 * destroy allocation points and allocate while collections start on any
 * of them: the pattern of the MPS's amcssth, which once deadlocked.
 *
 * The deadlock: a kid thread registered twice (mps_thread_reg for two
 * thread descriptors, as amcssth does) was sent the suspend signal once
 * per registration; the second signal stayed pending in the handler of
 * the first (which blocks every signal), and the collecting thread waited
 * for it forever.  Each registration of a thread is now stopped once.
 *
 * Workers come and go in waves (WAVES x WORKERS threads in all).  Each
 * registers once or twice (order and count vary), makes its stack and
 * registers a root through one of them, and in a loop: builds
 * lists on the shared AMC pool through one of its allocation points, whose
 * heads live only on its stack (the rest is reachable only exactly, so it
 * moves), checks older lists, now and then destroys and re-creates an
 * allocation point, or deregisters and re-registers its spare registration.
 * The pool's generation is small, so allocation on any thread starts
 * collections.  The main thread meanwhile creates and destroys allocation
 * points, registers and deregisters itself, parks and releases the arena,
 * and collects.  A hang becomes a failure (alarm).
 * Usage: test_thread_stress [seed].  Design: docs/design/threads.md.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpscamc.h"
#include "testlib.h"
#include "wordfmt.h"

#define NOINLINE     __attribute__((noinline))
#define WORKERS      6 /* at once */
#define WAVES        6
#define LISTS        4 /* live lists per worker */
#define ROUNDS       300
#define HANG_SECONDS 60

static mps_arena_t arena;
static mps_pool_t pool;
static atomic_ulong badObjects, workerFailures, objectsMade;
static atomic_int workersLeft;

typedef struct Worker {
  pthread_t thread;
  unsigned long seed;
  mps_addr_t cold;
} Worker;

static unsigned long next(unsigned long *s)
{
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static mps_word_t dataWord(mps_word_t id, size_t k) { return ~id ^ (k << 32) ^ k; }

/* One object: tag, id, nrefs = 1, next, then `ndata` data words. */
static mps_word_t *makeObject(mps_ap_t ap, mps_word_t id, mps_word_t *next, size_t ndata)
{
  size_t size = (4 + ndata) * WORD;
  mps_addr_t p;
  size_t k;
  do {
    if (mps_reserve(&p, ap, size) != MPS_RES_OK) return NULL;
    mps_word_t *w = p;
    w[0] = (mps_word_t)size | T_OBJ;
    w[1] = id;
    w[2] = 1;
    w[3] = (mps_word_t)next;
    for (k = 0; k < ndata; ++k) w[4 + k] = dataWord(id, k);
  } while (!mps_commit(ap, p, size));
  atomic_fetch_add(&objectsMade, 1);
  return p;
}

/* A list of `length` objects with ids base+length-1 .. base; its head. */
static NOINLINE mps_word_t *makeList(mps_ap_t ap, mps_word_t base, size_t length)
{
  mps_word_t *head = NULL;
  size_t i;
  for (i = 0; i < length; ++i) {
    head = makeObject(ap, base + i, head, i % 7);
    if (head == NULL) return NULL;
  }
  return head;
}

/* 1 if the list from `head` is intact: ids descend to `base`, data words right. */
static NOINLINE int checkList(const mps_word_t *head, mps_word_t base, size_t length)
{
  size_t i = length, k;
  const mps_word_t *w;
  for (w = head; w != NULL; w = (const mps_word_t *)w[3]) {
    if (i == 0 || TYPE(w[0]) != T_OBJ || w[1] != base + i - 1 || w[2] != 1) return 0;
    for (k = 0; k < (i - 1) % 7; ++k)
      if (w[4 + k] != dataWord(w[1], k)) return 0;
    --i;
  }
  return i == 0;
}

static mps_res_t registerTwice(mps_thr_t thr[2], int twice)
{
  mps_res_t res = mps_thread_reg(&thr[0], arena);
  thr[1] = NULL;
  if (res == MPS_RES_OK && twice) res = mps_thread_reg(&thr[1], arena);
  return res;
}

static NOINLINE void workerLoop(Worker *wk, mps_thr_t *spare, mps_ap_t ap[2])
{
  mps_word_t *heads[LISTS] = { 0 };
  mps_word_t bases[LISTS] = { 0 };
  size_t lengths[LISTS] = { 0 };
  unsigned long s = wk->seed;
  int round;
  for (round = 0; round < ROUNDS; ++round) {
    int slot = (int)(next(&s) % LISTS), which = (int)(next(&s) % 2), l;
    size_t length = 50 + next(&s) % 400;
    mps_word_t base = (mps_word_t)(next(&s) & 0xffffff) << 20;
    heads[slot] = makeList(ap[which], base, length);
    if (heads[slot] == NULL) {
      atomic_fetch_add(&workerFailures, 1);
      return;
    }
    bases[slot] = base;
    lengths[slot] = length;
    for (l = 0; l < LISTS; ++l)
      if (heads[l] != NULL && !checkList(heads[l], bases[l], lengths[l]))
        atomic_fetch_add(&badObjects, 1);
    switch (next(&s) % 8) {
    case 0: /* a fresh allocation point */
      mps_ap_destroy(ap[which]);
      if (mps_ap_create(&ap[which], pool, mps_rank_exact()) != MPS_RES_OK) {
        atomic_fetch_add(&workerFailures, 1);
        ap[which] = NULL;
        return;
      }
      break;
    case 1: /* the spare registration comes and goes */
      if (*spare != NULL) {
        mps_thread_dereg(*spare);
        *spare = NULL;
      } else if (mps_thread_reg(spare, arena) != MPS_RES_OK) {
        atomic_fetch_add(&workerFailures, 1);
      }
      break;
    default: break;
    }
  }
}

static void *workerMain(void *arg)
{
  Worker *wk = arg;
  mps_thr_t thr[2];
  mps_root_t root;
  mps_ap_t ap[2] = { NULL, NULL };
  unsigned long s = wk->seed;
  int twice = (int)(next(&s) % 4) != 0; /* mostly registered twice */
  int rootOn = twice ? (int)(next(&s) % 2) : 0;
  wk->cold = &arg;
  if (registerTwice(thr, twice) != MPS_RES_OK ||
      mps_root_create_thread(&root, arena, thr[rootOn], wk->cold) != MPS_RES_OK ||
      mps_ap_create(&ap[0], pool, mps_rank_exact()) != MPS_RES_OK ||
      mps_ap_create(&ap[1], pool, mps_rank_exact()) != MPS_RES_OK) {
    atomic_fetch_add(&workerFailures, 1);
    atomic_fetch_sub(&workersLeft, 1);
    return NULL;
  }
  workerLoop(wk, &thr[1 - rootOn], ap);
  if (ap[0] != NULL) mps_ap_destroy(ap[0]);
  if (ap[1] != NULL) mps_ap_destroy(ap[1]);
  mps_root_destroy(root);
  /* the root's registration goes last; the other may be gone already */
  if (thr[1 - rootOn] != NULL) mps_thread_dereg(thr[1 - rootOn]);
  mps_thread_dereg(thr[rootOn]);
  atomic_fetch_sub(&workersLeft, 1);
  return NULL;
}

static void onAlarm(int sig)
{
  static const char msg[] = "test_thread_stress: no progress for a long time (deadlock?)\n";
  (void)sig;
  (void)!write(2, msg, sizeof msg - 1);
  _exit(3);
}

/* The main thread's share, as in amcssth: allocation points and
 * registrations come and go, the arena is parked and released, and now
 * and then it collects, until the wave's workers are done. */
static NOINLINE void mainLoop(unsigned long *s, mps_ap_t *ap)
{
  while (atomic_load(&workersLeft) > 0) {
    mps_thr_t extra;
    mps_word_t *head;
    switch (next(s) % 6) {
    case 0:
      mps_ap_destroy(*ap);
      REQUIRE(mps_ap_create(ap, pool, mps_rank_exact()) == MPS_RES_OK);
      break;
    case 1:
      REQUIRE(mps_thread_reg(&extra, arena) == MPS_RES_OK);
      mps_thread_dereg(extra);
      break;
    case 2:
      mps_arena_park(arena);
      mps_arena_release(arena);
      break;
    case 3:
      if (next(s) % 8 == 0) mps_arena_collect(arena), mps_arena_release(arena);
      break;
    default: break;
    }
    head = makeList(*ap, 7u << 20, 100);
    REQUIRE(head != NULL);
    CHECK(checkList(head, 7u << 20, 100));
  }
}

int main(int argc, char **argv)
{
  unsigned long seed = testSeed(argc, argv), s = seed | 1;
  mps_thr_t mainThr[2];
  mps_root_t mainRoot;
  mps_fmt_t fmt;
  mps_chain_t chain;
  mps_ap_t ap;
  mps_gen_param_s gen = { 256, 0.85 }; /* KiB: allocation soon starts collections */
  Worker workers[WORKERS];
  int wave, i;
  size_t collections;

  signal(SIGALRM, onAlarm);
  REQUIRE(mps_arena_create_k(&arena, mps_arena_class_vm(), mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_chain_create(&chain, arena, 1, &gen) == MPS_RES_OK);
  makePool(&fmt, &pool, arena, chain);
  REQUIRE(registerTwice(mainThr, 1) == MPS_RES_OK);
  REQUIRE(mps_root_create_thread(&mainRoot, arena, mainThr[1], (mps_addr_t)&seed) == MPS_RES_OK);
  REQUIRE(mps_ap_create(&ap, pool, mps_rank_exact()) == MPS_RES_OK);

  for (wave = 0; wave < WAVES; ++wave) {
    alarm(HANG_SECONDS);
    atomic_store(&workersLeft, WORKERS);
    for (i = 0; i < WORKERS; ++i) {
      workers[i].seed = next(&s) | 1;
      REQUIRE(pthread_create(&workers[i].thread, NULL, workerMain, &workers[i]) == 0);
    }
    mainLoop(&s, &ap);
    for (i = 0; i < WORKERS; ++i) REQUIRE(pthread_join(workers[i].thread, NULL) == 0);
  }
  alarm(0);

  collections = mps_collections(arena);
  printf("%zu collections, %lu objects\n", collections, atomic_load(&objectsMade));
  CHECK(atomic_load(&workerFailures) == 0);
  CHECK(atomic_load(&badObjects) == 0);
  CHECK(atomic_load(&badTags) == 0);
  CHECK(collections >= WAVES);

  mps_ap_destroy(ap);
  mps_root_destroy(mainRoot);
  mps_thread_dereg(mainThr[1]);
  mps_thread_dereg(mainThr[0]);
  mps_arena_park(arena);
  mps_pool_destroy(pool);
  mps_fmt_destroy(fmt);
  mps_chain_destroy(chain);
  mps_arena_destroy(arena);
  return testFinish();
}
