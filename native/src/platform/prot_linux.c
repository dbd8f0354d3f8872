/* prot_linux.c -- the write barrier: old segments of scanning pools are
 * made read-only after a collection, and the first write to one faults
 * into a SIGSEGV handler that makes it writable again and marks it dirty.
 * A nursery collection then scans only the old segments that are dirty,
 * unprotected, or whose summary meets the white set, instead of all.
 *
 * The protocol, with `protectedRO` owned by the collector (changed only
 * with the arena lock held and the threads stopped) and `dirty` set by
 * the handler:
 *   handler:   mprotect(seg, read-write); then dirty = 1.
 *   collector: a segment may be skipped iff protectedRO && !dirty and its
 *              summary misses the white set; after a collection, a clean
 *              old segment whose memory may be writable is made
 *              read-only and gets protectedRO = 1, dirty = 0.
 * A thread stopped between the handler's two steps has not yet written;
 * its segment is skipped while still unwritten, is then writable with
 * dirty = 0, and becomes dirty before the retried write.
 *
 * The handler is installed at the first protection and reinstalled at a
 * collection if someone (CPython's faulthandler, say) took SIGSEGV over;
 * a fault that is not on a protected segment goes to the handler that was
 * there before ours (or to the default action).  The handler finds the
 * segment through a fixed table of arenas that use the barrier, reading
 * chunk and page tables without a lock: a protected segment's pages are
 * allocated, so their table entries are stable.
 * Set GCP_BARRIER=0 to run without it (every old segment scanned).
 * Design: docs/design/barrier.md.
 */
#include <signal.h>
#include <sys/mman.h>
#include "../gc.h"

#define PROT_ARENAS 64

static Arena volatile protArenas[PROT_ARENAS];
static struct sigaction protPrevious;
static LockStruct protLock;
static pthread_once_t protOnce = PTHREAD_ONCE_INIT;
static Bool protInstalled;

static void protHandler(int sig, siginfo_t *info, void *context);

static void protSetup(void) { LockInit(&protLock); }

/* (Re)install the handler unless it is the one in place. */
static void protInstall(void)
{
  struct sigaction now, sa;
  (void)sigaction(SIGSEGV, NULL, &now);
  if ((now.sa_flags & SA_SIGINFO) && now.sa_sigaction == protHandler) return;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = protHandler;
  sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGSEGV, &sa, &protPrevious) == 0) protInstalled = TRUE;
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

static void protHandler(int sig, siginfo_t *info, void *context)
{
  Seg seg;
  Addr addr = (Addr)info->si_addr;
  if (info->si_code == SEGV_ACCERR && protSegOf(&seg, addr)
      && __atomic_load_n(&seg->protectedRO, __ATOMIC_ACQUIRE)) {
    (void)mprotect(seg->base, SegSize(seg), PROT_READ | PROT_WRITE);
    __atomic_store_n(&seg->dirty, 1, __ATOMIC_RELEASE);
    return;
  }
  /* Not ours: whoever was there before. */
  if (protPrevious.sa_flags & SA_SIGINFO) {
    if (protPrevious.sa_sigaction != NULL) { protPrevious.sa_sigaction(sig, info, context); return; }
  } else if (protPrevious.sa_handler != SIG_DFL && protPrevious.sa_handler != SIG_IGN) {
    protPrevious.sa_handler(sig);
    return;
  }
  /* Default action: restore it and return, so the access faults again. */
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
    if (i < PROT_ARENAS) protArenas[i] = arena;
    else arena->gc->barrier = FALSE;   /* no room: run without */
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
    (void)mprotect(seg->base, SegSize(seg), PROT_READ);
    seg->dirty = 0;
    seg->protectedRO = 1;
  } else {
    if (!seg->protectedRO) return;
    seg->protectedRO = 0;
    (void)mprotect(seg->base, SegSize(seg), PROT_READ | PROT_WRITE);
    seg->dirty = 0;
  }
}

/* Must the collector scan this non-white segment? */
INTERN Bool ProtMustScan(Seg seg, Word white)
{
  return !seg->protectedRO || __atomic_load_n(&seg->dirty, __ATOMIC_ACQUIRE)
      || (seg->summary & white) != 0;
}
