/* test_gc_regressions.c -- one check per collector defect fixed after the
 * review (b23f293), each of which failed with the old core: (1) a grey stack
 * that cannot grow, (2) mprotect failing for the barrier, (3) mps_thread_dereg
 * from another thread, all-threads mode (4) with threads started during a
 * collection and (5) without file descriptors (the refused collection posts
 * no GC-start message), (6) location dependency with an in-band header, the
 * program's SIGSEGV handlers (7) left with siglongjmp or (8) run on an
 * alternate stack, (9) fork, (10) a spare fraction of 0,
 * (11) a registered thread blocking the suspend signal and (12) no memory for
 * a mark table.  Each runs in a child process of its own (limits, signal
 * handlers and the map count stay there; a crash, or a hang by its alarm,
 * fails that check only); the slow ones run alongside the rest.
 * Usage: test_gc_regressions [seed].
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpscamc.h"
#include "gcp_ext.h"
#include "testlib.h"

#define NOINLINE __attribute__((noinline))
#define WORD     ((size_t)sizeof(mps_word_t))

static mps_word_t idBase; /* ids are idBase + n (from the seed) */
static mps_arena_t arena; /* the check's own: one check per process */
static mps_fmt_t fmt;

/* ---- the format ------------------------------------------------------------------
 * An in-band header of one word holds the tag (size | type); the client
 * pointer c is base + 8: c[0] id, c[1] nrefs, c[2 ..] references, then data
 * words.  A forwarding object keeps the new client pointer in c[0]. */
enum { T_OBJ = 1, T_PAD = 2, T_FWD = 3 };
#define TYPE(w) ((unsigned)((w)&7))
#define SIZE(w) ((size_t)((w) & ~(mps_word_t)7))

static mps_word_t *tagOf(mps_addr_t c) { return (mps_word_t *)c - 1; }
static mps_word_t *fieldsOf(mps_addr_t c) { return c; }
static mps_word_t idOf(mps_addr_t c) { return fieldsOf(c)[0]; }
static mps_addr_t refOf(mps_addr_t c, size_t i) { return (mps_addr_t)fieldsOf(c)[2 + i]; }
static void setRef(mps_addr_t c, size_t i, mps_addr_t r) { fieldsOf(c)[2 + i] = (mps_word_t)r; }
static mps_addr_t fmtSkip(mps_addr_t c) { return (char *)c + SIZE(*tagOf(c)); }
static mps_addr_t fmtIsfwd(mps_addr_t c)
{
  return TYPE(*tagOf(c)) == T_FWD ? (mps_addr_t)idOf(c) : NULL;
}
static void fmtPad(mps_addr_t base, size_t size) { *(mps_word_t *)base = (mps_word_t)size | T_PAD; }

static void fmtFwd(mps_addr_t old, mps_addr_t newc) /* the new address in the id's place */
{
  *tagOf(old) = SIZE(*tagOf(old)) | T_FWD, fieldsOf(old)[0] = (mps_word_t)newc;
}

static mps_res_t fmtScan(mps_ss_t ss, mps_addr_t base, mps_addr_t limit)
{
  MPS_SCAN_BEGIN(ss)
  {
    mps_addr_t c;
    for (c = base; c < limit; c = fmtSkip(c)) {
      mps_word_t *f = fieldsOf(c);
      size_t i;
      if (TYPE(*tagOf(c)) != T_OBJ) continue;
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

static void newArena(void)
{
  mps_res_t res;
  REQUIRE(mps_arena_create_k(&arena, mps_arena_class_vm(), mps_args_none) == MPS_RES_OK);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FMT_ALIGN, WORD);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_HEADER_SIZE, WORD);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_SCAN, fmtScan);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_SKIP, fmtSkip);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_FWD, fmtFwd);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_ISFWD, fmtIsfwd);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_PAD, fmtPad);
    res = mps_fmt_create_k(&fmt, arena, args);
  }
  MPS_ARGS_END(args);
  REQUIRE(res == MPS_RES_OK);
}

/* An AMC pool; chain NULL for the arena's default, extendBy 0 for the default. */
static mps_pool_t newPool(mps_chain_t chain, size_t extendBy)
{
  mps_pool_t pool;
  mps_res_t res;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    if (chain != NULL) MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    if (extendBy != 0) MPS_ARGS_ADD(args, MPS_KEY_EXTEND_BY, extendBy);
    res = mps_pool_create_k(&pool, arena, mps_class_amc(), args);
  }
  MPS_ARGS_END(args);
  REQUIRE(res == MPS_RES_OK);
  return pool;
}

static mps_ap_t newAp(mps_pool_t pool)
{
  mps_ap_t ap;
  REQUIRE(mps_ap_create_k(&ap, pool, mps_args_none) == MPS_RES_OK);
  return ap;
}

/* A nursery of nurseryKb, then a big generation. */
static mps_chain_t newChain(size_t nurseryKb)
{
  mps_gen_param_s gens[2] = { { nurseryKb, 0.9 }, { 1000000, 0.5 } };
  mps_chain_t chain;
  REQUIRE(mps_chain_create(&chain, arena, 2, gens) == MPS_RES_OK);
  return chain;
}

static void areaRoot(mps_addr_t *base, size_t n, mps_rank_t rank)
{
  mps_root_t root;
  REQUIRE(mps_root_create_area(&root, arena, rank, 0, base, base + n, mps_scan_area, NULL) == 0);
}

/* An object with nrefs NULL references and ndata zero words; the client pointer. */
static mps_addr_t alloc(mps_ap_t ap, size_t nrefs, size_t ndata, mps_word_t id)
{
  size_t size = WORD * (3 + nrefs + ndata);
  mps_addr_t p;
  do {
    mps_word_t *b;
    if (mps_reserve(&p, ap, size) != MPS_RES_OK) REQUIRE(!"mps_reserve failed");
    b = memset(p, 0, size);
    b[0] = (mps_word_t)size | T_OBJ, b[1] = id, b[2] = nrefs;
  } while (!mps_commit(ap, p, size));
  return (char *)p + WORD;
}

/* seen[k]: the object of the heap (not padding, not freed) with id seenLo + k. */
#define NPARENTS 8000
static mps_addr_t seen[NPARENTS];
static mps_word_t seenLo;

static void seenStep(mps_addr_t c, mps_fmt_t f, mps_pool_t pool, void *p, size_t s)
{
  (void)f;
  (void)pool;
  (void)p;
  (void)s;
  if (TYPE(*tagOf(c)) == T_OBJ && idOf(c) - seenLo < NPARENTS) seen[idOf(c) - seenLo] = c;
}

static void walkIds(mps_word_t lo)
{
  seenLo = lo;
  memset(seen, 0, sizeof seen);
  mps_arena_formatted_objects_walk(arena, seenStep, NULL, 0);
}

/* 1 if c is an object of the heap with this id. */
static int alive(mps_addr_t c, mps_word_t id)
{
  walkIds(id);
  return seen[0] == c;
}

/* An object held only on this thread's stack, below the cold end of its
 * thread root, survives a collection. */
static NOINLINE int heldOnStack(mps_pool_t pool, mps_word_t id)
{
  mps_ap_t ap = newAp(pool), ap2 = newAp(pool);
  volatile mps_addr_t x = alloc(ap, 0, 1, id);
  (void)alloc(ap2, 0, 1, 1);
  mps_ap_destroy(ap); /* x's segment is not kept for a buffer */
  CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  return alive(x, id);
}

/* (1) 8000 parents held ambiguously (pinned), each the only holder of a
 * child, collected with 40 KB of address space to spare: the grey stack
 * cannot grow past its first 32 KB.  Every child must survive. */
static void greyStackFull(void)
{
  static mps_addr_t parents[NPARENTS];
  FILE *f = fopen("/proc/self/status", "r");
  struct rlimit old, lim;
  size_t i, lost = 0;
  char line[256];
  long kb = -1;
  mps_ap_t ap;
  newArena();
  ap = newAp(newPool(NULL, 0));
  for (i = 0; i < NPARENTS; ++i) {
    mps_addr_t child = alloc(ap, 0, 1, idBase + NPARENTS + i);
    parents[i] = alloc(ap, 1, 1, idBase + i);
    setRef(parents[i], 0, child);
  }
  areaRoot(parents, NPARENTS, mps_rank_ambig());
  while (f != NULL && fgets(line, sizeof line, f))
    if (sscanf(line, "VmSize: %ld kB", &kb) == 1) break;
  REQUIRE(f != NULL && kb > 0);
  fclose(f);
  REQUIRE(getrlimit(RLIMIT_AS, &old) == 0);
  lim = old;
  lim.rlim_cur = (rlim_t)(kb + 40) * 1024;
  REQUIRE(setrlimit(RLIMIT_AS, &lim) == 0);
  CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  REQUIRE(setrlimit(RLIMIT_AS, &old) == 0);
  walkIds(idBase + NPARENTS);
  for (i = 0; i < NPARENTS; ++i) lost += seen[i] != refOf(parents[i], 0);
  if (lost != 0) fprintf(stderr, "grey stack full: %zu of %d children lost\n", lost, NPARENTS);
  CHECK(lost == 0);
}

/* (2) The map count is filled (every other page of one reservation made
 * readable, then single pages) while a collection promotes O: its segment
 * cannot be made read-only.  A young object then stored into O must
 * survive a nursery collection. */
static void mprotectFails(void)
{
  static mps_addr_t roots[1];
  size_t page = (size_t)sysconf(_SC_PAGESIZE), npages, k;
  mps_ap_t ap, ap2, apO;
  mps_pool_t pool;
  void *extra[8];
  char *region;
  int nextra = 0;
  newArena();
  pool = newPool(newChain(1), 0);
  ap = newAp(pool), ap2 = newAp(pool), apO = newAp(pool);
  areaRoot(roots, 1, mps_rank_exact());
  roots[0] = alloc(apO, 1, 1, idBase + 1);
  mps_ap_destroy(apO);
  (void)alloc(ap, 0, 1, 0); /* commit the pages used later */
  (void)alloc(ap2, 0, 1, 0);
  npages = (size_t)1 << 18;
  region = mmap(NULL, npages * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  REQUIRE(region != MAP_FAILED);
  for (k = 1; k + 1 < npages; k += 2) /* each split adds two mappings */
    if (mprotect(region + k * page, page, PROT_READ) != 0) break;
  if (k + 1 >= npages) {
    printf("mprotect failure: map count unlimited, skipped\n");
    return;
  }
  while (nextra < 8) { /* then one at a time */
    void *m =
        mmap(NULL, page, nextra & 1 ? PROT_READ : PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) break;
    extra[nextra++] = m;
  }
  REQUIRE(nextra < 8);                           /* the map count is full */
  CHECK(mps_arena_collect(arena) == MPS_RES_OK); /* O to generation 1 */
  REQUIRE(munmap(region, npages * page) == 0);
  while (nextra > 0) REQUIRE(munmap(extra[--nextra], page) == 0);
  mps_arena_release(arena);
  setRef(roots[0], 0, alloc(ap, 0, 1, idBase + 777));
  (void)alloc(ap2, 0, 9000, 5);    /* a new nursery segment */
  mps_arena_step(arena, 1.0, 1.0); /* a nursery collection */
  CHECK(alive(refOf(roots[0], 0), idBase + 777));
}

static mps_thr_t drWorkerThr;
static atomic_int drRegistered, drGo;

static void *drWorker(void *arg)
{
  REQUIRE(mps_thread_reg(&drWorkerThr, arena) == MPS_RES_OK);
  atomic_store(&drRegistered, 1);
  while (!atomic_load(&drGo)) sched_yield();
  return arg; /* exits, deregistered by main */
}

/* (3) A worker registers; main deregisters it and registers itself (reusing
 * the descriptor); the worker exits.  Main's stack must still be scanned. */
static NOINLINE void deregOther(void)
{
  void *cold = NULL; /* the cold end: in this outer frame */
  mps_thr_t thrM, old;
  mps_root_t root;
  mps_pool_t pool;
  pthread_t th;
  newArena();
  pool = newPool(NULL, 0);
  REQUIRE(pthread_create(&th, NULL, drWorker, NULL) == 0);
  while (!atomic_load(&drRegistered)) sched_yield();
  old = drWorkerThr;
  mps_thread_dereg(drWorkerThr);
  REQUIRE(mps_thread_reg(&thrM, arena) == MPS_RES_OK);
  if (thrM != old) printf("dereg from another thread: note: the descriptor was not reused\n");
  atomic_store(&drGo, 1);
  REQUIRE(pthread_join(th, NULL) == 0);
  REQUIRE(mps_root_create_thread(&root, arena, thrM, &cold) == MPS_RES_OK);
  CHECK(heldOnStack(pool, idBase + 99));
}

#define AT_MAX 32
static atomic_ulong atTicks;
static atomic_int atReady, atUp, atDone;
static int atN; /* threads the spawner starts */
static pthread_t atKids[AT_MAX];
static unsigned long atViolations, atScans;

/* A root, scanned while every thread is stopped: no thread may tick meanwhile. */
static mps_res_t atProbe(mps_ss_t ss, void *p, size_t s)
{
  unsigned long before = atomic_load(&atTicks);
  struct timespec ts = { 0, 3 * 1000 * 1000 };
  (void)ss;
  (void)p;
  (void)s;
  nanosleep(&ts, NULL);
  ++atScans;
  if (atomic_load(&atTicks) != before) ++atViolations;
  return MPS_RES_OK;
}

static void *atKid(void *arg)
{
  struct timespec ts = { 0, 100 * 1000 };
  sigset_t none;
  sigemptyset(&none);
  pthread_sigmask(SIG_SETMASK, &none, NULL); /* the spawner's mask blocked everything */
  atomic_fetch_add(&atUp, 1);
  while (!atomic_load(&atDone)) atomic_fetch_add(&atTicks, 1), nanosleep(&ts, NULL);
  return arg;
}

/* Holds the suspend signal off until the collector has listed the threads
 * and signalled this one, then starts atN threads and lets itself stop. */
static void *atSpawner(void *arg)
{
  struct timespec ts = { 0, 100 * 1000 };
  sigset_t all, pending;
  int i, s, signalled = 0;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  atomic_store(&atReady, 1);
  while (!signalled) {
    nanosleep(&ts, NULL);
    sigpending(&pending);
    for (s = SIGRTMIN; s <= SIGRTMAX; ++s) signalled |= sigismember(&pending, s);
  }
  for (i = 0; i < atN; ++i) REQUIRE(pthread_create(&atKids[i], NULL, atKid, NULL) == 0);
  while (atomic_load(&atUp) < atN) nanosleep(&ts, NULL);
  pthread_sigmask(SIG_UNBLOCK, &all, NULL);           /* stops here */
  while (!atomic_load(&atDone)) nanosleep(&ts, NULL); /* lives on, like a pool thread */
  return arg;
}

/* (4) Threads started (by a thread not stopped yet) after the collector
 * listed the threads are stopped too: the probe root sees no tick.  With 4
 * threads, and with 24 (more than the collector's first table of 16). */
static void allThreadsSpawn(void)
{
  mps_root_t root;
  pthread_t spawner;
  mps_res_t res;
  int i;
  REQUIRE(atN <= AT_MAX);
  REQUIRE(mps_arena_create_k(&arena, mps_arena_class_vm(), mps_args_none) == MPS_RES_OK);
  gcp_arena_all_threads(arena, 1);
  REQUIRE(mps_root_create(&root, arena, mps_rank_ambig(), 0, atProbe, NULL, 0) == MPS_RES_OK);
  REQUIRE(pthread_create(&spawner, NULL, atSpawner, NULL) == 0);
  while (!atomic_load(&atReady)) sched_yield();
  res = mps_arena_collect(arena);
  atomic_store(&atDone, 1);
  for (i = 0; i < atN; ++i) REQUIRE(pthread_join(atKids[i], NULL) == 0);
  REQUIRE(pthread_join(spawner, NULL) == 0);
  CHECK(res == MPS_RES_OK);
  CHECK(atScans >= 1);
  if (atViolations != 0) fprintf(stderr, "all threads, %d started mid-collection: ran\n", atN);
  CHECK(atViolations == 0);
  CHECK(gcp_arena_unstoppable_threads(arena) == 0);
}

static void allThreadsSpawnFew(void)
{
  atN = 4;
  allThreadsSpawn();
}
static void allThreadsSpawnMany(void)
{
  atN = 24;
  allThreadsSpawn();
}

/* (5) All-threads mode, out of file descriptors: the collection is refused;
 * with them back it runs and scans the collecting thread's stack. */
static void allThreadsNoFds(void)
{
  struct rlimit old, lim;
  int fds[256], n = 0;
  mps_pool_t pool;
  mps_res_t res;
  newArena();
  pool = newPool(NULL, 0);
  gcp_arena_all_threads(arena, 1);
  (void)alloc(newAp(pool), 0, 1, 1);
  REQUIRE(getrlimit(RLIMIT_NOFILE, &old) == 0);
  lim = old;
  lim.rlim_cur = old.rlim_max < 64 ? old.rlim_max : 64;
  REQUIRE(setrlimit(RLIMIT_NOFILE, &lim) == 0);
  while (n < 256 && (fds[n] = open("/dev/null", O_RDONLY)) >= 0) ++n;
  REQUIRE(n < 256 && errno == EMFILE);
  mps_message_type_enable(arena, mps_message_type_gc_start());
  mps_message_type_enable(arena, mps_message_type_gc());
  res = mps_arena_collect(arena); /* /proc cannot be read */
  while (n > 0) close(fds[--n]);
  REQUIRE(setrlimit(RLIMIT_NOFILE, &old) == 0);
  CHECK(res != MPS_RES_OK);
  {
    /* A refused collection never started: it announces nothing. */
    mps_message_type_t type;
    CHECK(!mps_message_queue_type(&type, arena));
  }
  CHECK(heldOnStack(pool, idBase + 31337));
}

/* (6) An object whose base is just below a 1 MB zone stripe and whose
 * client pointer is on it moves: mps_ld_isstale must say so. */
static void ldHeader(void)
{
  static mps_addr_t roots[1];
  const mps_word_t stripe = (mps_word_t)1 << 20;
  mps_addr_t x = NULL, old;
  mps_ap_t ap;
  mps_ld_s ld;
  long i;
  newArena();
  ap = newAp(newPool(NULL, (size_t)2 << 20)); /* segments span stripes */
  areaRoot(roots, 1, mps_rank_exact());
  for (i = 0; i < 400000 && x == NULL; ++i) {
    /* d: from the next block's base to one word below the next stripe */
    mps_word_t next = (mps_word_t)ap->init, target = ((next + WORD) | (stripe - 1)) + 1 - WORD;
    size_t d = (size_t)(target - next), size = d >= 3 * WORD && d < 6 * WORD ? d : 3 * WORD;
    mps_addr_t c = alloc(ap, 0, size / WORD - 3, idBase + 5);
    if (((mps_word_t)c & (stripe - 1)) == 0) x = c;
  }
  REQUIRE(x != NULL);
  roots[0] = old = x;
  x = NULL;
  mps_ap_destroy(ap);
  mps_ld_reset(&ld, arena);
  mps_ld_add(&ld, arena, old);
  CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  REQUIRE(roots[0] != old); /* it moved */
  CHECK(mps_ld_isstale(&ld, arena, old));
  CHECK(alive(roots[0], idBase + 5));
}

/* A small object alone in a nursery segment (its allocation point went
 * away) moves like any other: it used to be taken for a large object,
 * which the segment's size (not the object's) had decided. */
static void loneSmallObject(void)
{
  static mps_addr_t roots[1];
  mps_addr_t old;
  mps_ap_t ap;
  newArena();
  ap = newAp(newPool(NULL, 0));
  areaRoot(roots, 1, mps_rank_exact());
  roots[0] = old = alloc(ap, 0, 2, idBase + 6);
  mps_ap_destroy(ap);
  CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  CHECK(roots[0] != old); /* it moved */
  CHECK(alive(roots[0], idBase + 6));
}

/* 1 if the word is write-protected: read() into it fails with EFAULT
 * instead of faulting.  The word keeps its value. */
static int writeProtected(mps_word_t *p)
{
  mps_word_t w = *p;
  int fd[2];
  ssize_t n;
  REQUIRE(pipe(fd) == 0 && write(fd[1], &w, WORD) == (ssize_t)WORD);
  n = read(fd[0], p, WORD);
  close(fd[0]), close(fd[1]);
  return n < 0 && errno == EFAULT;
}

static mps_addr_t bRoots[2];

/* Two objects held by an exact root, promoted by a collection: their
 * segment is write-protected (unless GCP_BARRIER=0: then 0). */
static int barrierSetup(void)
{
  mps_ap_t ap;
  newArena();
  ap = newAp(newPool(NULL, 0));
  areaRoot(bRoots, 2, mps_rank_exact());
  bRoots[0] = alloc(ap, 1, 0, idBase + 10);
  bRoots[1] = alloc(ap, 1, 0, idBase + 11);
  mps_ap_destroy(ap);
  CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  mps_arena_release(arena);
  if (writeProtected(fieldsOf(bRoots[0]))) return 1;
  printf("SIGSEGV handlers: no write barrier (GCP_BARRIER=0?), check skipped\n");
  return 0;
}

static void onSegv(void (*handler)(int), int flags)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  REQUIRE(sigaction(SIGSEGV, &sa, NULL) == 0);
}

static sigjmp_buf probeEnv;
static void probeHandler(int sig)
{
  (void)sig;
  siglongjmp(probeEnv, 1);
}

/* 1 if reading *p faulted and the program's handler recovered. */
static NOINLINE int probeFaults(volatile char *p)
{
  if (sigsetjmp(probeEnv, 1)) return 1;
  (void)*p;
  return 0;
}

/* (7) The program's handler, installed first, recovers with siglongjmp:
 * three probes of an unmapped address, each after a barrier fault, return. */
static void segvLongjmp(void)
{
  int i, recovered = 0;
  onSegv(probeHandler, 0);
  if (!barrierSetup()) return;
  for (i = 0; i < 3; ++i) {
    if (i > 0) CHECK(mps_arena_collect(arena) == MPS_RES_OK); /* protected again */
    mps_arena_release(arena);
    CHECK(writeProtected(fieldsOf(bRoots[i & 1])));
    setRef(bRoots[i & 1], 0, bRoots[(i + 1) & 1]); /* a barrier fault */
    CHECK(!writeProtected(fieldsOf(bRoots[i & 1])));
    recovered += probeFaults((volatile char *)16);
  }
  CHECK(recovered == 3);
  CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  CHECK(refOf(bRoots[0], 0) == bRoots[1] && refOf(bRoots[1], 0) == bRoots[0]);
}

static void overflowReporter(int sig)
{
  (void)sig;
  _exit(7);
}

static NOINLINE int recurse(volatile char *p)
{
  volatile char buf[1024];
  if (p == NULL) return 0;
  buf[0] = *p;
  return recurse(buf) + buf[1];
}

static void *overflowThread(void *arg)
{
  stack_t ss = { malloc((size_t)1 << 17), 0, (size_t)1 << 17 };
  REQUIRE(ss.ss_sp != NULL && sigaltstack(&ss, NULL) == 0);
  return (void *)(intptr_t)recurse(arg);
}

/* (8) A handler on an alternate signal stack, installed first, gets the
 * SIGSEGV of a stack overflow (on a 256 KB thread stack) and exits with 7. */
static void segvOnstack(void)
{
  static volatile char start;
  pthread_attr_t attr;
  pthread_t th;
  onSegv(overflowReporter, SA_ONSTACK | SA_NODEFER); /* as faulthandler's */
  if (!barrierSetup()) _exit(7);
  setRef(bRoots[0], 0, bRoots[1]); /* a barrier fault first */
  REQUIRE(pthread_attr_init(&attr) == 0);
  REQUIRE(pthread_attr_setstacksize(&attr, (size_t)256 << 10) == 0);
  REQUIRE(pthread_create(&th, &attr, overflowThread, (void *)&start) == 0);
  pthread_join(th, NULL);
  CHECK(!"the stack overflow came back");
}

/* (9) The registered thread forks; in the child its registration is still
 * its own: an object on its stack survives a collection there. */
static NOINLINE void forkRegistered(void)
{
  void *cold = NULL; /* the cold end: in this outer frame */
  mps_pool_t pool;
  mps_thr_t thr;
  mps_root_t root;
  pid_t pid;
  int st;
  newArena();
  pool = newPool(NULL, 0);
  REQUIRE(mps_thread_reg(&thr, arena) == MPS_RES_OK);
  REQUIRE(mps_root_create_thread(&root, arena, thr, &cold) == MPS_RES_OK);
  fflush(stdout), fflush(stderr);
  REQUIRE((pid = fork()) >= 0);
  if (pid == 0) _exit(heldOnStack(pool, idBase + 4711) && failures == 0 ? 0 : 1);
  REQUIRE(waitpid(pid, &st, 0) == pid);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* (10) After collections, a spare fraction of 0 leaves no spare memory,
 * and neither does destroying the pool. */
static void spareZero(void)
{
  mps_pool_t pool;
  mps_ap_t ap;
  int round, i;
  newArena();
  pool = newPool(NULL, 0);
  ap = newAp(pool);
  for (round = 0; round < 2; ++round) {
    for (i = 0; i < 10000; ++i) (void)alloc(ap, 0, 125, idBase + (mps_word_t)i); /* 10 MB */
    CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  }
  mps_arena_spare_set(arena, 0.0);
  CHECK(mps_arena_spare_committed(arena) == 0);
  mps_ap_destroy(ap);
  mps_pool_destroy(pool);
  CHECK(mps_arena_spare_committed(arena) == 0);
}

#define BLOCK_MS 2300 /* longer than the old 2 s patience */
static mps_pool_t btPool;
static atomic_int btReady, btCollected;
static int btAlive;

static NOINLINE int btInner(void)
{
  mps_ap_t ap = newAp(btPool);
  volatile mps_addr_t x = alloc(ap, 0, 1, idBase + 4242); /* below the cold end */
  struct timespec ts = { BLOCK_MS / 1000, (BLOCK_MS % 1000) * 1000000L };
  sigset_t rt;
  int s;
  mps_ap_destroy(ap);
  sigemptyset(&rt);
  for (s = SIGRTMIN; s <= SIGRTMAX; ++s) sigaddset(&rt, s);
  REQUIRE(pthread_sigmask(SIG_BLOCK, &rt, NULL) == 0);
  atomic_store(&btReady, 1);
  nanosleep(&ts, NULL);
  REQUIRE(pthread_sigmask(SIG_UNBLOCK, &rt, NULL) == 0); /* stops here */
  while (!atomic_load(&btCollected)) sched_yield();
  return alive(x, idBase + 4242);
}

static NOINLINE void *btThread(void *arg)
{
  void *cold = NULL; /* the cold end: in this outer frame */
  mps_thr_t thr;
  mps_root_t root;
  REQUIRE(mps_thread_reg(&thr, arena) == MPS_RES_OK);
  REQUIRE(mps_root_create_thread(&root, arena, thr, &cold) == MPS_RES_OK);
  btAlive = btInner();
  return arg;
}

/* (11) A registered thread blocks the real-time signals for 2.3 s: the
 * collection waits for it, then scans its stack. */
static void blockedThread(void)
{
  struct timespec t0, t1;
  pthread_t th;
  mps_res_t res;
  double took;
  newArena();
  btPool = newPool(NULL, 0);
  REQUIRE(pthread_create(&th, NULL, btThread, NULL) == 0);
  while (!atomic_load(&btReady)) sched_yield();
  clock_gettime(CLOCK_MONOTONIC, &t0);
  res = mps_arena_collect(arena);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  atomic_store(&btCollected, 1);
  REQUIRE(pthread_join(th, NULL) == 0);
  took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  CHECK(res == MPS_RES_OK);
  if (took < (BLOCK_MS - 100) / 1000.0)
    fprintf(stderr, "blocked thread: collected in %.2f s\n", took);
  CHECK(took >= (BLOCK_MS - 100) / 1000.0);
  CHECK(btAlive);
}

/* (12) A (garbage, in a segment nailed for its allocation point) refers to
 * B (garbage, elsewhere); the collection runs at the commit limit, so the
 * nailed segment gets no mark table, and A is kept.  After B's memory could
 * have been reused and chain 2 collected (A's segment scanned as a root),
 * A must still refer to B, not to whatever took its place. */
static void marksOom(void)
{
  static volatile mps_word_t hideA; /* not a reference */
  mps_chain_t c1, c2;
  mps_pool_t p1, p2;
  mps_ap_t ap1, ap2, ap3;
  mps_addr_t A;
  int i;
  newArena();
  c1 = newChain(100000), c2 = newChain(64);
  p1 = newPool(c1, 0), p2 = newPool(c2, 0);
  (void)newPool(c1, 0); /* uses up the control memory committed so far */
  ap1 = newAp(p1), ap3 = newAp(p1), ap2 = newAp(p2);
  A = alloc(ap1, 1, 1, idBase + 1);           /* ap1 stays: A's segment is nailed */
  setRef(A, 0, alloc(ap3, 0, 1, idBase + 2)); /* B */
  (void)alloc(ap3, 0, 1, idBase + 3);
  mps_ap_destroy(ap3);
  hideA = (mps_word_t)A ^ 0x5555;
  A = NULL;
  REQUIRE(mps_arena_commit_limit_set(arena, mps_arena_committed(arena) -
                                                mps_arena_spare_committed(arena)) == MPS_RES_OK);
  (void)mps_arena_collect(arena); /* no memory for A's segment's mark table */
  REQUIRE(mps_arena_commit_limit_set(arena, (size_t)-1) == MPS_RES_OK);
  mps_arena_release(arena);
  A = (mps_addr_t)(hideA ^ 0x5555);
  for (i = 0; i < 20000; ++i) (void)alloc(ap2, 0, 3, idBase + 1000 + (mps_word_t)i);
  mps_arena_step(arena, 1.0, 1.0); /* a collection of chain 2 */
  CHECK(alive(refOf(A, 0), idBase + 2));
}

/* ---- running them ------------------------------------------------------------------- */

/* Each check, the child's exit status when it passes, its alarm, and
 * whether it is slow (started first, to run alongside the rest). */
static const struct {
  void (*fn)(void);
  const char *what;
  int status, seconds, early;
} table[] = {
  { blockedThread, "registered thread blocking the suspend signal", 0, 10, 1 },
  { allThreadsSpawnFew, "all threads: 4 started during a collection", 0, 5, 1 },
  { allThreadsSpawnMany, "all threads: 24 started during a collection", 0, 3, 1 },
  { greyStackFull, "grey stack cannot grow", 0, 10, 0 },
  { mprotectFails, "mprotect fails", 0, 10, 0 },
  { deregOther, "mps_thread_dereg from another thread", 0, 10, 0 },
  { allThreadsNoFds, "all threads without file descriptors", 0, 10, 0 },
  { ldHeader, "location dependency, in-band header", 0, 10, 0 },
  { loneSmallObject, "a lone small object in a nursery segment moves", 0, 10, 0 },
  { segvLongjmp, "siglongjmp out of the program's SIGSEGV handler", 0, 10, 0 },
  { segvOnstack, "stack overflow reaches an SA_ONSTACK handler", 7, 10, 0 },
  { forkRegistered, "fork: the forking thread's stack in the child", 0, 10, 0 },
  { spareZero, "spare fraction 0", 0, 10, 0 },
  { marksOom, "no memory for a mark table", 0, 10, 0 },
};
#define NCHECKS (sizeof table / sizeof table[0])

static pid_t start(size_t i)
{
  pid_t pid;
  fflush(stdout), fflush(stderr);
  REQUIRE((pid = fork()) >= 0);
  if (pid == 0) {
    checks = failures = 0;
    alarm(table[i].seconds);
    table[i].fn();
    fflush(stdout), fflush(stderr);
    _exit(failures != 0);
  }
  return pid;
}

/* One check: the child exited with the status it should. */
static void finish(size_t i, pid_t pid)
{
  char msg[300];
  int st, ok;
  REQUIRE(waitpid(pid, &st, 0) == pid);
  ok = WIFEXITED(st) && WEXITSTATUS(st) == table[i].status;
  if (ok || !WIFSIGNALED(st))
    snprintf(msg, sizeof msg, "%s: exit status %d", table[i].what, WEXITSTATUS(st));
  else
    snprintf(msg, sizeof msg, "%s: killed by signal %d%s", table[i].what, WTERMSIG(st),
             WTERMSIG(st) == SIGALRM ? " (alarm: it hung)" : "");
  testCheck(ok, __FILE__, __LINE__, msg);
}

int main(int argc, char **argv)
{
  pid_t pids[NCHECKS];
  size_t i;
  testSeed(argc, argv);
  idBase = (mps_word_t)(rnd() & 0xffff) << 24;
  alarm(60);
  for (i = 0; i < NCHECKS; ++i)
    if (table[i].early) pids[i] = start(i);
  for (i = 0; i < NCHECKS; ++i)
    if (!table[i].early) finish(i, start(i));
  for (i = 0; i < NCHECKS; ++i)
    if (table[i].early) finish(i, pids[i]);
  alarm(0);
  return testFinish();
}
