/* test_segfit_threads.c -- the SEGFIT pool class (mpscsegfit.h) shared by
 * threads, through its public interface only (one thread: test_segfit.c).
 *
 *   remote    4 threads allocate; each passes half of its blocks to the next
 *             thread through a mutex-protected queue, which frees them
 *             (remote frees) after checking their contents and facts.
 *   release   one thread allocates blocks of the classes with big runs (never
 *             kept for reuse) and another frees every one of them, so that
 *             the owner keeps giving back runs whose last block was freed
 *             remotely a moment before (the run must outlive that free).
 *   pools     two threads each use more SEGFIT pools than a thread keeps
 *             caches for, so caches are given up and taken over all the time
 *             (and the arena lock is taken recursively from both).
 *   fork      the child of a fork, made while another thread owns a cache,
 *             frees that thread's blocks and a new thread in the child takes
 *             the cache over; the parent goes on as before.
 *   orphans   a thread exits owning blocks; the main thread frees some of
 *             them (into the orphaned cache); a new thread adopts the cache,
 *             reuses exactly the freed blocks and keeps allocating; then a
 *             series of short-lived threads, each leaving blocks behind.
 * After each: the model check of segfit_test.h, live() zero, free size equal
 * to total size, and no misuse reported.
 * Usage: test_segfit_threads [seed].
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include "segfit_test.h"

/* ---- threads: remote frees through queues ------------------------------------------------ */

/* A first-in first-out queue of blocks: items[head..n) are queued. */
typedef struct {
  pthread_mutex_t lock;
  Block *items;
  size_t head, n, cap;
} Queue;

static void queuePush(Queue *q, const Block *b)
{
  (void)pthread_mutex_lock(&q->lock);
  if (q->n == q->cap) {
    size_t cap = q->cap == 0 ? 256 : 2 * q->cap;
    Block *items = realloc(q->items, cap * sizeof *items);
    if (items == NULL) abort();
    q->items = items;
    q->cap = cap;
  }
  q->items[q->n++] = *b;
  (void)pthread_mutex_unlock(&q->lock);
}

static size_t queueLength(Queue *q)
{
  size_t n;
  (void)pthread_mutex_lock(&q->lock);
  n = q->n - q->head;
  (void)pthread_mutex_unlock(&q->lock);
  return n;
}

static int queuePop(Queue *q, Block *b)
{
  int got = 0;
  (void)pthread_mutex_lock(&q->lock);
  if (q->head < q->n) {
    *b = q->items[q->head++];
    got = 1;
    if (q->head == q->n) q->head = q->n = 0;
  }
  (void)pthread_mutex_unlock(&q->lock);
  return got;
}

#define NTHREADS    4
#define LOCAL_SLOTS 200

typedef struct {
  int id;
  mps_pool_t pool;
  long ops;
  Rnd rnd;
  Queue *in, *out;
  atomic_int *done;
  unsigned long errors, allocs, passed, remoteFrees, localFrees;
} Worker;

/* Check a block from another thread and free it here. */
static void freeForeign(Worker *w, Block *b)
{
  size_t size = 0;
  unsigned tag = 0;
  if (!intact(b) || (b->tag >> 12) == (unsigned)w->id) ++w->errors;
  if (!gcp_segfit_block(w->pool, b->p, &size, &tag) || size != b->size || tag != b->tag)
    ++w->errors;
  if (b->size > 0 && threadRnd(&w->rnd) % 2)
    mps_free(w->pool, b->p, b->size);
  else
    gcp_segfit_free(w->pool, b->p);
  ++w->remoteFrees;
}

static void *remoteWorker(void *arg)
{
  Worker *w = arg;
  Block local[LOCAL_SLOTS], b;
  long op;
  int i;

  memset(local, 0, sizeof local);
  for (op = 0; op < w->ops; ++op) {
    Block *slot = &local[threadRnd(&w->rnd) % LOCAL_SLOTS];
    if (slot->p != NULL) {
      if (!intact(slot)) ++w->errors;
      gcp_segfit_free(w->pool, slot->p);
      slot->p = NULL;
      ++w->localFrees;
    } else {
      mps_addr_t p;
      b.size = randomSize(threadRnd, &w->rnd);
      if (b.size > SMALL_MAX && threadRnd(&w->rnd) % 4 != 0) b.size %= 4000;
      b.tag = ((unsigned)w->id << 12) | (unsigned)(op & 0xFFF);
      if (gcp_segfit_alloc(&p, w->pool, b.size, b.tag) != MPS_RES_OK) {
        ++w->errors;
        break;
      }
      b.p = p;
      fill(&b);
      ++w->allocs;
      if (op % 2 == 0) {
        queuePush(w->out, &b);
        ++w->passed;
      } else {
        *slot = b;
      }
    }
    if (op % 8 == 0)
      for (i = 0; i < 8 && queuePop(w->in, &b); ++i) freeForeign(w, &b);
  }
  for (i = 0; i < LOCAL_SLOTS; ++i)
    if (local[i].p != NULL) {
      if (!intact(&local[i])) ++w->errors;
      gcp_segfit_free(w->pool, local[i].p);
      ++w->localFrees;
    }
  atomic_fetch_add(w->done, 1);
  for (;;) {
    if (queuePop(w->in, &b)) {
      freeForeign(w, &b);
    } else if (atomic_load(w->done) == NTHREADS) {
      /* every producer has finished pushing: one last look */
      while (queuePop(w->in, &b)) freeForeign(w, &b);
      break;
    } else {
      sched_yield();
    }
  }
  return NULL;
}

static void testRemote(long ops, unsigned long seed)
{
  mps_pool_t pool = makePool();
  pthread_t threads[NTHREADS];
  Worker workers[NTHREADS];
  Queue queues[NTHREADS];
  atomic_int done;
  unsigned long before = reports, remote = 0, passed = 0;
  size_t blocks = 1, bytes = 1;
  Walked walked;
  int i;

  atomic_init(&done, 0);
  for (i = 0; i < NTHREADS; ++i) {
    memset(&queues[i], 0, sizeof queues[i]);
    REQUIRE(pthread_mutex_init(&queues[i].lock, NULL) == 0);
  }
  for (i = 0; i < NTHREADS; ++i) {
    memset(&workers[i], 0, sizeof workers[i]);
    workers[i].id = i + 1;
    workers[i].pool = pool;
    workers[i].ops = ops;
    workers[i].rnd.s = (seed + 7) * 0x9E3779B97F4A7C15ull + (unsigned long long)i * 2654435761ull;
    workers[i].in = &queues[i];
    workers[i].out = &queues[(i + 1) % NTHREADS];
    workers[i].done = &done;
  }
  for (i = 0; i < NTHREADS; ++i)
    REQUIRE(pthread_create(&threads[i], NULL, remoteWorker, &workers[i]) == 0);
  for (i = 0; i < NTHREADS; ++i) REQUIRE(pthread_join(threads[i], NULL) == 0);
  for (i = 0; i < NTHREADS; ++i) {
    CHECK(workers[i].errors == 0);
    CHECK(queueLength(&queues[i]) == 0);
    remote += workers[i].remoteFrees;
    passed += workers[i].passed;
    free(queues[i].items);
    (void)pthread_mutex_destroy(&queues[i].lock);
  }
  CHECK(remote == passed && remote > 0);
  CHECK(reports == before);
  CHECK(gcp_pool_consistent(pool));
  gcp_segfit_live(pool, &blocks, &bytes);
  CHECK(blocks == 0 && bytes == 0);
  walked.recs = NULL;
  walked.cap = 0;
  walked.n = 0;
  gcp_segfit_walk(pool, collect, &walked);
  CHECK(walked.n == 0);
  printf("  remote: %d threads, %ld ops each, %lu remote frees\n", NTHREADS, ops, remote);
  for (i = 0; i < NTHREADS; ++i)
    printf("    thread %d: %lu allocations, %lu freed here, %lu passed on\n", workers[i].id,
           workers[i].allocs, workers[i].localFrees, workers[i].passed);
  destroyEmpty(pool);
}

/* ---- runs given back just after a remote free -------------------------------------------- */

typedef struct {
  mps_pool_t pool;
  Queue queue;
  atomic_int done;
  long ops;
  unsigned long errors, freed;
} Release;

static void *releaseOwner(void *arg)
{
  Release *r = arg;
  Rnd rnd;
  long op;
  rnd.s = 0x9E3779B97F4A7C15ull;
  for (op = 0; op < r->ops; ++op) {
    Block b;
    mps_addr_t p;
    /* classes 10240..16384 (big runs), now and then a small class */
    b.size = op % 8 == 0 ? 1 + threadRnd(&rnd) % 600 : 8193 + threadRnd(&rnd) % (SMALL_MAX - 8192);
    b.tag = (unsigned)(op & 0xFFFF);
    if (gcp_segfit_alloc(&p, r->pool, b.size, b.tag) != MPS_RES_OK) {
      ++r->errors;
      break;
    }
    b.p = p;
    b.p[0] = (unsigned char)b.tag;
    b.p[b.size > 0 ? b.size - 1 : 0] = (unsigned char)b.tag;
    queuePush(&r->queue, &b);
    while (queueLength(&r->queue) > 64) sched_yield();
  }
  atomic_store(&r->done, 1);
  return NULL;
}

static void *releaseFreer(void *arg)
{
  Release *r = arg;
  Block b;
  for (;;) {
    if (queuePop(&r->queue, &b)) {
      if (b.p[0] != (unsigned char)b.tag ||
          b.p[b.size > 0 ? b.size - 1 : 0] != (unsigned char)b.tag)
        ++r->errors;
      gcp_segfit_free(r->pool, b.p);
      ++r->freed;
    } else if (atomic_load(&r->done)) {
      while (queuePop(&r->queue, &b)) {
        gcp_segfit_free(r->pool, b.p);
        ++r->freed;
      }
      break;
    } else {
      sched_yield();
    }
  }
  return NULL;
}

static void testRelease(long ops)
{
  static Release r;
  pthread_t owner, freer;
  unsigned long before = reports;
  memset(&r, 0, sizeof r);
  r.pool = makePool();
  r.ops = ops;
  atomic_init(&r.done, 0);
  REQUIRE(pthread_mutex_init(&r.queue.lock, NULL) == 0);
  REQUIRE(pthread_create(&owner, NULL, releaseOwner, &r) == 0);
  REQUIRE(pthread_create(&freer, NULL, releaseFreer, &r) == 0);
  REQUIRE(pthread_join(owner, NULL) == 0);
  REQUIRE(pthread_join(freer, NULL) == 0);
  CHECK(r.errors == 0 && r.freed == (unsigned long)ops);
  CHECK(reports == before);
  free(r.queue.items);
  (void)pthread_mutex_destroy(&r.queue.lock);
  printf("  release: %ld blocks allocated by one thread, freed by another\n", ops);
  destroyEmpty(r.pool);
}

/* ---- more pools than a thread keeps caches for ---------------------------------------------- */

#define NPOOLS     7
#define POOL_SLOTS 150

typedef struct {
  mps_pool_t *pools;
  Rnd rnd;
  long ops;
  Block blocks[NPOOLS][POOL_SLOTS];
  unsigned long errors;
} PoolsWorker;

static void *poolsWorker(void *arg)
{
  PoolsWorker *w = arg;
  long op;
  for (op = 0; op < w->ops; ++op) {
    size_t k = threadRnd(&w->rnd) % NPOOLS;
    Block *b = &w->blocks[k][threadRnd(&w->rnd) % POOL_SLOTS];
    if (b->p == NULL) {
      mps_addr_t p;
      b->size = randomSize(threadRnd, &w->rnd) % 3000;
      b->tag = (unsigned)k;
      if (gcp_segfit_alloc(&p, w->pools[k], b->size, b->tag) != MPS_RES_OK) {
        ++w->errors;
        break;
      }
      b->p = p;
      fill(b);
    } else {
      if (!intact(b)) ++w->errors;
      gcp_segfit_free(w->pools[k], b->p);
      b->p = NULL;
    }
  }
  return NULL;
}

static void testManyPools(long ops, unsigned long seed)
{
  static PoolsWorker workers[2];
  static Block check[2 * POOL_SLOTS];
  mps_pool_t pools[NPOOLS];
  pthread_t threads[2];
  unsigned long before = reports;
  size_t k, i, n;
  int t;
  for (k = 0; k < NPOOLS; ++k) pools[k] = makePool();
  for (t = 0; t < 2; ++t) {
    memset(&workers[t], 0, sizeof workers[t]);
    workers[t].pools = pools;
    workers[t].ops = ops;
    workers[t].rnd.s = seed * 53 + (unsigned long long)t + 1;
    REQUIRE(pthread_create(&threads[t], NULL, poolsWorker, &workers[t]) == 0);
  }
  for (t = 0; t < 2; ++t) REQUIRE(pthread_join(threads[t], NULL) == 0);
  for (t = 0; t < 2; ++t) CHECK(workers[t].errors == 0);
  for (k = 0; k < NPOOLS; ++k) {
    n = gather(check, 0, workers[0].blocks[k], POOL_SLOTS);
    n = gather(check, n, workers[1].blocks[k], POOL_SLOTS);
    checkModel(pools[k], check, n);
  }
  /* the main thread frees the rest, in all pools at once */
  for (i = 0; i < POOL_SLOTS; ++i)
    for (k = 0; k < NPOOLS; ++k)
      for (t = 0; t < 2; ++t)
        if (workers[t].blocks[k][i].p != NULL) {
          REQUIRE(intact(&workers[t].blocks[k][i]));
          freeBlock(pools[k], &workers[t].blocks[k][i], (int)(i % 2));
        }
  CHECK(reports == before);
  for (k = 0; k < NPOOLS; ++k) destroyPool(pools[k], k == NPOOLS - 1);
}

/* ---- fork ------------------------------------------------------------------------------------ */

#define FORK_BLOCKS 200

typedef struct {
  mps_pool_t pool;
  Block blocks[FORK_BLOCKS];
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int stage; /* 1: blocks allocated; 2: may free them and exit */
  unsigned long errors, reused;
  const Block *adopt; /* in the child: blocks the new thread must reuse */
  size_t adoptCount;
} ForkState;

static void setStage(ForkState *f, int stage)
{
  (void)pthread_mutex_lock(&f->lock);
  f->stage = stage;
  (void)pthread_cond_broadcast(&f->cond);
  (void)pthread_mutex_unlock(&f->lock);
}

static void awaitStage(ForkState *f, int stage)
{
  (void)pthread_mutex_lock(&f->lock);
  while (f->stage < stage) (void)pthread_cond_wait(&f->cond, &f->lock);
  (void)pthread_mutex_unlock(&f->lock);
}

/* Allocate 48-byte blocks, then wait (owning them and the cache) until
 * allowed to free them. */
static void *forkHolder(void *arg)
{
  ForkState *f = arg;
  size_t i;
  for (i = 0; i < FORK_BLOCKS; ++i) {
    mps_addr_t p;
    if (gcp_segfit_alloc(&p, f->pool, 48, 3) != MPS_RES_OK) {
      ++f->errors;
      break;
    }
    f->blocks[i].p = p;
    f->blocks[i].size = 48;
    f->blocks[i].tag = 3;
    fill(&f->blocks[i]);
  }
  setStage(f, 1);
  awaitStage(f, 2);
  for (i = 0; i < FORK_BLOCKS; ++i) {
    if (f->blocks[i].p == NULL) continue;
    if (!intact(&f->blocks[i])) ++f->errors;
    gcp_segfit_free(f->pool, f->blocks[i].p);
  }
  return NULL;
}

/* In the child: a new thread takes over the holder's cache, given up by
 * the fork, and reuses exactly the blocks the child freed into it. */
static void *forkAdopter(void *arg)
{
  ForkState *f = arg;
  size_t i;
  for (i = 0; i < f->adoptCount; ++i) {
    mps_addr_t p;
    if (gcp_segfit_alloc(&p, f->pool, 48, 4) != MPS_RES_OK) {
      ++f->errors;
      break;
    }
    if (findBlock(f->adopt, f->adoptCount, p)) ++f->reused;
    gcp_segfit_free(f->pool, p); /* a local free: the next alloc takes it again */
  }
  return NULL;
}

static int forkChild(ForkState *f, const Block *mine, unsigned long failuresBefore)
{
  static Block freed[FORK_BLOCKS], check[FORK_BLOCKS + 1];
  pthread_t t;
  size_t i, n = 0;
  for (i = 0; i < FORK_BLOCKS; i += 2) {
    REQUIRE(intact(&f->blocks[i]));
    freed[n++] = f->blocks[i];
    gcp_segfit_free(f->pool, f->blocks[i].p); /* into the holder's cache */
    f->blocks[i].p = NULL;
  }
  qsort(freed, n, sizeof *freed, byAddress);
  f->adopt = freed;
  f->adoptCount = 1; /* the lowest free block must be one of them */
  REQUIRE(pthread_create(&t, NULL, forkAdopter, f) == 0);
  REQUIRE(pthread_join(t, NULL) == 0);
  REQUIRE(f->errors == 0 && f->reused == 1);
  n = gather(check, 0, f->blocks, FORK_BLOCKS);
  check[n++] = *mine;
  checkModel(f->pool, check, n);
  for (i = 0; i < FORK_BLOCKS; ++i)
    if (f->blocks[i].p != NULL) freeBlock(f->pool, &f->blocks[i], (int)(i % 3 == 0));
  check[0] = *mine;
  checkModel(f->pool, check, 1);
  return failures == failuresBefore ? 0 : 1;
}

static void testFork(void)
{
  static ForkState f;
  pthread_t holder;
  Block mine;
  mps_addr_t p;
  pid_t pid;
  int status = -1;
  unsigned long before = reports;

  memset(&f, 0, sizeof f);
  f.pool = makePool();
  REQUIRE(pthread_mutex_init(&f.lock, NULL) == 0);
  REQUIRE(pthread_cond_init(&f.cond, NULL) == 0);
  REQUIRE(gcp_segfit_alloc(&p, f.pool, 48, 0) == MPS_RES_OK);
  mine.p = p;
  mine.size = 48;
  mine.tag = 0;
  REQUIRE(pthread_create(&holder, NULL, forkHolder, &f) == 0);
  awaitStage(&f, 1);
  REQUIRE(f.errors == 0);
  fflush(stdout);
  pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) _exit(forkChild(&f, &mine, failures));
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  /* the parent is untouched: the holder still owns its blocks */
  setStage(&f, 2);
  REQUIRE(pthread_join(holder, NULL) == 0);
  CHECK(f.errors == 0);
  gcp_segfit_free(f.pool, mine.p);
  CHECK(reports == before);
  (void)pthread_cond_destroy(&f.cond);
  (void)pthread_mutex_destroy(&f.lock);
  destroyEmpty(f.pool);
}

/* ---- threads that exit owning blocks ----------------------------------------------------- */

static void runThread(void *(*fn)(void *), void *arg)
{
  pthread_t t;
  REQUIRE(pthread_create(&t, NULL, fn, arg) == 0);
  REQUIRE(pthread_join(t, NULL) == 0);
}

#define ORPHAN_SAME  300 /* blocks of one class, from one run */
#define ORPHAN_MIXED 200
#define ORPHAN_LARGE 3
#define ORPHANS      (ORPHAN_SAME + ORPHAN_MIXED + ORPHAN_LARGE)

typedef struct {
  mps_pool_t pool;
  Rnd rnd;
  Block blocks[ORPHANS];
  size_t count;       /* blocks this thread allocated */
  const Block *adopt; /* adopter: the freed blocks it must reuse first, */
  size_t adoptCount;
  Block *predecessor; /* and its predecessor's blocks, some to free */
  unsigned long errors, reused, predecessorFreed;
} Orphaner;

/* Allocate a run's worth of 48-byte blocks, some mixed sizes and some large
 * blocks, and exit owning them all.  An adopter first allocates as many
 * 48-byte blocks as were freed from its predecessor's run (they must be
 * exactly those blocks) and frees the odd ones of the predecessor's
 * remaining 48-byte blocks (a local free now that it owns their run). */
static void *orphanThread(void *arg)
{
  Orphaner *o = arg;
  size_t i;
  mps_addr_t p;
  while (o->count < ORPHANS) {
    Block *b = &o->blocks[o->count];
    size_t k = o->count;
    if (k < o->adoptCount || k < ORPHAN_SAME)
      b->size = 48;
    else if (k < ORPHAN_SAME + ORPHAN_MIXED)
      b->size = threadRnd(&o->rnd) % 3000;
    else
      b->size = SMALL_MAX + 1 + threadRnd(&o->rnd) % 100000;
    b->tag = (unsigned)(k & 0xFFFF);
    if (gcp_segfit_alloc(&p, o->pool, b->size, b->tag) != MPS_RES_OK) {
      ++o->errors;
      break;
    }
    b->p = p;
    if (k < o->adoptCount && findBlock(o->adopt, o->adoptCount, p)) ++o->reused;
    fill(b);
    ++o->count;
  }
  if (o->predecessor != NULL)
    for (i = 1; i < ORPHAN_SAME; i += 2) {
      Block *b = &o->predecessor[i];
      if (b->p == NULL) continue;
      if (!intact(b)) ++o->errors;
      gcp_segfit_free(o->pool, b->p);
      b->p = NULL;
      ++o->predecessorFreed;
    }
  return NULL;
}

static void testOrphans(unsigned long seed)
{
  static Orphaner first, second, later;
  static Block freed[ORPHAN_SAME], check[2 * ORPHANS + 1];
  mps_pool_t pool = makePool();
  Block mine;
  mps_addr_t p;
  size_t i, nfreed = 0, n, round;
  unsigned long before = reports;

  /* The main thread takes a cache of its own first, so that it never adopts. */
  REQUIRE(gcp_segfit_alloc(&p, pool, 48, 0) == MPS_RES_OK);
  mine.p = p;
  mine.size = 48;
  mine.tag = 0;

  memset(&first, 0, sizeof first);
  first.pool = pool;
  first.rnd.s = seed * 31 + 5;
  runThread(orphanThread, &first);
  REQUIRE(first.errors == 0 && first.count == ORPHANS);
  /* free every other 48-byte block and a third of the others: remote frees
   * into the orphaned cache */
  for (i = 0; i < ORPHANS; ++i) {
    Block *b = &first.blocks[i];
    REQUIRE(intact(b));
    if (i < ORPHAN_SAME ? i % 2 == 0 : i % 3 == 0) {
      if (i < ORPHAN_SAME) freed[nfreed++] = *b;
      freeBlock(pool, b, (int)(i % 4 == 0));
    }
  }
  n = gather(check, 0, first.blocks, ORPHANS);
  check[n++] = mine;
  checkModel(pool, check, n);
  qsort(freed, nfreed, sizeof *freed, byAddress);

  /* A new thread adopts the orphaned cache: it collects the remote frees
   * and takes the lowest free blocks of the run, which are exactly the
   * blocks freed above. */
  memset(&second, 0, sizeof second);
  second.pool = pool;
  second.rnd.s = seed * 37 + 11;
  second.adopt = freed;
  second.adoptCount = nfreed;
  second.predecessor = first.blocks;
  runThread(orphanThread, &second);
  REQUIRE(second.errors == 0 && second.count == ORPHANS);
  CHECK(second.reused == nfreed);
  CHECK(second.predecessorFreed == ORPHAN_SAME / 2);
  n = gather(check, 0, first.blocks, ORPHANS);
  n = gather(check, n, second.blocks, ORPHANS);
  check[n++] = mine;
  checkModel(pool, check, n);

  /* the main thread frees everything both threads left behind */
  for (i = 0; i < ORPHANS; ++i) {
    if (first.blocks[i].p != NULL) {
      REQUIRE(intact(&first.blocks[i]));
      freeBlock(pool, &first.blocks[i], 1);
    }
    REQUIRE(intact(&second.blocks[i]));
    freeBlock(pool, &second.blocks[i], 0);
  }
  check[0] = mine;
  checkModel(pool, check, 1);

  /* short-lived threads, one after another, each leaving all its blocks to
   * the main thread; each adopts the cache the last one left */
  for (round = 0; round < 12; ++round) {
    memset(&later, 0, sizeof later);
    later.pool = pool;
    later.rnd.s = seed * 41 + round + 1;
    runThread(orphanThread, &later);
    REQUIRE(later.errors == 0 && later.count == ORPHANS);
    for (i = 0; i < ORPHANS; ++i) {
      REQUIRE(intact(&later.blocks[i]));
      if ((i + round) % 2 == 0) freeBlock(pool, &later.blocks[i], (int)(i % 2));
    }
    if (round % 4 == 0) {
      n = gather(check, 0, later.blocks, ORPHANS);
      check[n++] = mine;
      checkModel(pool, check, n);
    }
    for (i = 0; i < ORPHANS; ++i)
      if (later.blocks[i].p != NULL) freeBlock(pool, &later.blocks[i], 0);
  }
  gcp_segfit_free(pool, mine.p);
  CHECK(reports == before);
  destroyEmpty(pool);
}

int main(int argc, char **argv)
{
  unsigned long seed = testSeed(argc, argv);
  (void)mps_lib_assert_fail_install(recordHandler);
  printf("variety %s\n", gcp_variety());
  cool = strcmp(gcp_variety(), "cool") == 0;
  REQUIRE(mps_arena_create_k(&arena, mps_arena_class_vm(), mps_args_none) == MPS_RES_OK);
  grain = gcp_arena_grain_size(arena);

  testRemote(cool ? 40000 : 100000, seed);
  testRelease(cool ? 20000 : 50000);
  testManyPools(cool ? 60000 : 150000, seed);
  testFork();
  testOrphans(seed);

  CHECK(gcp_arena_pools_committed(arena) == 0);
  mps_arena_destroy(arena);
  return testFinish();
}
