/* prot_linux.c -- the write barrier: old segments of scanning pools are
 * made read-only after a collection, and the first write to one faults
 * into a SIGSEGV handler that makes it writable again and marks it dirty.
 * A nursery collection then scans only the old segments that are dirty,
 * unprotected, or whose summary meets the white set, instead of all.
 *
 * The protocol, with `protectedRO` owned by the collector (changed only
 * with the arena lock held and the threads stopped) and `dirty` set by
 * the handler:
 *   handler:   dirty = 1; mprotect(seg, read-write); dirty = 1.
 *   collector: a segment may be skipped iff protectedRO && !dirty and its
 *              summary misses the white set; after a collection, a clean
 *              old segment whose memory may be writable is made
 *              read-only and gets protectedRO = 1, dirty = 0.
 * The handler runs with the suspend signal blocked, so no thread is ever
 * stopped inside it: a collection sees either the segment before the
 * handler started (read-only, and the write not done) or after it (dirty
 * and writable).  dirty is set before the mprotect as well, so the
 * segment is never writable and clean even while the handler runs.  If
 * an mprotect fails (the kernel's map count, say), a segment that could
 * not be made read-only stays unprotected (scanned every time), and one
 * that cannot be made writable again is a fatal error, reported.
 *
 * The handler is installed at the first protection and reinstalled at a
 * collection if someone (CPython's faulthandler, say) took SIGSEGV over.
 * Every handler ours displaced is kept, oldest first.  A fault that is not
 * on a protected segment goes to the newest displaced handler; if that
 * one chains back to ours, the re-entered handler passes it to the next
 * older one (a per-thread depth counts the re-entries), and past the
 * oldest comes the default action.  The handler finds the
 * segment through a fixed table of arenas that use the barrier, reading
 * chunk and page tables without a lock: a protected segment's pages are
 * allocated, so their table entries are stable.
 * Set GCP_BARRIER=0 to run without it (every old segment scanned).
 * Design: docs/design/barrier.md.
 */
#include "../gc.h"
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define PROT_ARENAS 64

#define PROT_DISPLACED 8

static Arena volatile protArenas[PROT_ARENAS];
static struct sigaction protDisplaced[PROT_DISPLACED]; /* oldest first */
static volatile int protDisplacedCount;
/* Per thread that is forwarding a fault: how many displaced handlers are
 * running (each deeper than the last) and the stack address at which the
 * innermost was called, so that one left with siglongjmp is recognised
 * (the next fault's handler runs at or above that address) and forgotten.
 * Kept in a small table keyed by thread id, not in thread-local storage:
 * the extension module's static TLS is nearly full, and dynamic TLS is not
 * async-signal-safe. */
#define PROT_FORWARDERS 64
typedef struct ProtForwarder {
  int tid;
  int level;
  Addr sp;
} ProtForwarder;
static ProtForwarder protForwarders[PROT_FORWARDERS];

static ProtForwarder *protForwarderOf(int tid)
{
  Index i;
  for (i = 0; i < PROT_FORWARDERS; ++i)
    if (__atomic_load_n(&protForwarders[i].tid, __ATOMIC_ACQUIRE) == tid) return &protForwarders[i];
  for (i = 0; i < PROT_FORWARDERS; ++i) {
    int free = 0;
    if (__atomic_compare_exchange_n(&protForwarders[i].tid, &free, tid, FALSE, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE)) {
      protForwarders[i].level = 0;
      protForwarders[i].sp = NULL;
      return &protForwarders[i];
    }
  }
  return NULL; /* table full: forward without tracking */
}
static LockStruct protLock;
static pthread_once_t protOnce = PTHREAD_ONCE_INIT;

static void protHandler(int sig, siginfo_t *info, void *context);

static void protSetup(void) { LockInit(&protLock); }

/* (Re)install the handler unless it is the one in place. */
static Bool protIsOurs(const struct sigaction *sa)
{
  return (sa->sa_flags & SA_SIGINFO) && sa->sa_sigaction == protHandler;
}

static Bool protSameHandler(const struct sigaction *a, const struct sigaction *b)
{
  return (a->sa_flags & SA_SIGINFO) == (b->sa_flags & SA_SIGINFO) &&
         ((a->sa_flags & SA_SIGINFO) ? a->sa_sigaction == b->sa_sigaction
                                     : a->sa_handler == b->sa_handler);
}

static void protInstall(void)
{
  struct sigaction now, sa;
  int i;
  (void)sigaction(SIGSEGV, NULL, &now);
  if (protIsOurs(&now)) return;
  /* Remember the handler we displace (once, and never the default). */
  for (i = 0; i < protDisplacedCount && !protSameHandler(&protDisplaced[i], &now); ++i)
    ;
  if (i == protDisplacedCount && protDisplacedCount < PROT_DISPLACED &&
      ((now.sa_flags & SA_SIGINFO) || now.sa_handler != SIG_DFL)) {
    protDisplaced[protDisplacedCount] = now;
    __atomic_store_n(&protDisplacedCount, protDisplacedCount + 1, __ATOMIC_RELEASE);
  }
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = protHandler;
  sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NODEFER | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, ThreadSuspendSignal());
  (void)sigaction(SIGSEGV, &sa, NULL);
}

static Bool protSegOf(Seg *segReturn, Addr addr)
{
  Index i;
  for (i = 0; i < PROT_ARENAS; ++i) {
    Arena arena = protArenas[i];
    if (arena != NULL && ArenaSegOf(segReturn, arena, addr)) return TRUE;
  }
  return FALSE;
}

static void protFatal(const char *what)
{
  static const char head[] = "gc_plugin: the write barrier cannot ";
  (void)!write(2, head, sizeof head - 1);
  (void)!write(2, what, strlen(what));
  (void)!write(2, "\n", 1);
  abort();
}

static void protHandler(int sig, siginfo_t *info, void *context)
{
  Seg seg;
  Addr addr = (Addr)info->si_addr, here = (Addr)&seg;
  ProtForwarder *fwd;
  int level, index;
  if (info->si_code == SEGV_ACCERR && protSegOf(&seg, addr) &&
      __atomic_load_n(&seg->protectedRO, __ATOMIC_ACQUIRE)) {
    __atomic_store_n(&seg->dirty, 1, __ATOMIC_RELEASE);
    if (mprotect(seg->base, SegSize(seg), PROT_READ | PROT_WRITE) != 0)
      protFatal("make a written segment writable again (mprotect failed)");
    __atomic_store_n(&seg->dirty, 1, __ATOMIC_RELEASE);
    return;
  }
  /* Not ours: the newest displaced handler, or the next older one if this
   * is that handler chaining back to us (it runs deeper, below where it
   * was called); a fault met at or above that point means the handlers
   * were left by siglongjmp, and forwarding starts afresh. */
  fwd = protForwarderOf((int)syscall(SYS_gettid));
  level = fwd == NULL || here >= fwd->sp ? 0 : fwd->level;
  index = __atomic_load_n(&protDisplacedCount, __ATOMIC_ACQUIRE) - 1 - level;
  if (index >= 0) {
    struct sigaction *next = &protDisplaced[index];
    Addr outerSp = fwd != NULL ? fwd->sp : NULL;
    if (fwd != NULL) {
      fwd->level = level + 1;
      fwd->sp = here;
    }
    if (next->sa_flags & SA_SIGINFO) {
      if (next->sa_sigaction != NULL) next->sa_sigaction(sig, info, context);
    } else if (next->sa_handler != SIG_IGN && next->sa_handler != SIG_DFL) {
      next->sa_handler(sig);
    }
    if (fwd != NULL) {
      fwd->level = level;
      fwd->sp = level == 0 ? NULL : outerSp;
      if (level == 0) __atomic_store_n(&fwd->tid, 0, __ATOMIC_RELEASE);
    }
    return;
  }
  /* Past the oldest: the default action, when the access faults again. */
  if (fwd != NULL) __atomic_store_n(&fwd->tid, 0, __ATOMIC_RELEASE);
  signal(SIGSEGV, SIG_DFL);
}

/* The arena starts or stops using the barrier. */
INTERN void ProtArenaUse(Arena arena, Bool use)
{
  Index i;
  (void)pthread_once(&protOnce, protSetup);
  LockClaim(&protLock);
  for (i = 0; i < PROT_ARENAS; ++i)
    if (protArenas[i] == arena) protArenas[i] = NULL;
  if (use) {
    for (i = 0; i < PROT_ARENAS && protArenas[i] != NULL; ++i)
      ;
    if (i < PROT_ARENAS)
      protArenas[i] = arena;
    else
      arena->gc->barrier = FALSE; /* no room: run without */
    protInstall();
  }
  LockRelease(&protLock);
}

/* At each collection: take SIGSEGV back if another handler replaced ours. */
INTERN void ProtRefresh(void)
{
  LockClaim(&protLock);
  protInstall();
  LockRelease(&protLock);
}

/* Make a segment read-only (clean) or read-write. */
INTERN void ProtSet(Seg seg, Bool readOnly)
{
  if (readOnly) {
    if (seg->protectedRO && !seg->dirty) return;
    if (mprotect(seg->base, SegSize(seg), PROT_READ) != 0) {
      /* Could not protect: it stays writable and is scanned every time. */
      (void)mprotect(seg->base, SegSize(seg), PROT_READ | PROT_WRITE);
      seg->protectedRO = 0;
      return;
    }
    seg->dirty = 0;
    seg->protectedRO = 1;
  } else {
    if (!seg->protectedRO) return;
    if (mprotect(seg->base, SegSize(seg), PROT_READ | PROT_WRITE) != 0)
      protFatal("make a segment writable (mprotect failed)");
    seg->protectedRO = 0;
    seg->dirty = 0;
  }
}

/* Must the collector scan this non-white segment? */
INTERN Bool ProtMustScan(Seg seg, Word white)
{
  return !seg->protectedRO || __atomic_load_n(&seg->dirty, __ATOMIC_ACQUIRE) ||
         (seg->summary & white) != 0;
}
