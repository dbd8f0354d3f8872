/* thread_linux.c -- registered threads (docs/design/threads.md): stopping them with a
 * signal, capturing their registers and stack pointer, scanning their
 * stacks, and spilling the collecting thread's own registers.
 *
 * Stopping: the collector takes the process-wide suspension lock (two
 * arenas never stop threads at once), then for each registered thread
 * other than itself sends the suspend signal with tgkill (retried while
 * the kernel's signal queue is full).  The handler copies the interrupted
 * context's integer registers and stack pointer into the thread's
 * descriptor, sets `suspended`, and sleeps on a futex until the resume
 * generation changes.  The vector and FP registers are not copied: the
 * kernel saved them in the signal frame, below the interrupted stack
 * pointer's red zone, and that record is scanned where it lies while the
 * thread sleeps (an asynchronously stopped thread can be caught with a
 * reference only in a vector register, e.g. inside memcpy, which loads a
 * run of words into xmm/ymm/zmm registers before storing any of them).
 * A thread registered more than once (the MPS's amcssth registers each
 * of its threads twice) is signalled once, for its first registration;
 * the others share that stop (stoppedAs).
 * The collector waits for every registered thread
 * for as long as it takes (it is not safe to go on while one runs); a
 * thread is taken to have exited without deregistering only when the
 * kernel says it no longer exists (ESRCH), and is then never signalled
 * or scanned again.  Registrations are also kept on a process-wide list,
 * so that in a fork child the forking thread's registrations get its new
 * thread id.
 *
 * The signal is a real-time signal (default SIGRTMIN + 6), chosen at the
 * first registration from GCP_SUSPEND_SIGNAL if set; it is installed with
 * SA_RESTART so interrupted system calls resume.
 *
 * Every thread: an arena may be told to treat every thread of the process
 * as registered (gcp_arena_all_threads; the CPython integration does, so
 * that any Python or foreign thread's C stack is an ambiguous root).  At
 * each flip the threads are listed from /proc/self/task; those not
 * registered get a transient descriptor, are stopped the same way, and
 * are scanned from their stack pointer to the end of the mapping that
 * holds it (/proc/self/maps), registers included.  A thread that blocks
 * the signal cannot be stopped: after STOP_PATIENCE it is left running and
 * unscanned (counted in gc->unstoppable).  The task list is read again
 * after the stops until it shows no thread that is not stopped, so that
 * threads started meanwhile are caught; if /proc cannot be read the
 * collection is refused rather than run with threads unaccounted for.
 *
 * Own registers: the collecting thread stores its callee-saved registers
 * (rbx, rbp, r12-r15 on x86-64; x19-x29 and d8-d15 on AArch64) into an array with
 * inline assembly -- not setjmp, whose saved rbp is mangled -- and that
 * array is scanned with the stack.
 * Design: docs/design/threads.md.
 */
#include "../gc.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <ucontext.h>
#include <unistd.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sys/syscall.h>

static int suspendSignal;
static pthread_once_t suspendOnce = PTHREAD_ONCE_INIT;
static LockStruct suspendLock; /* one stopper at a time */
static Thread suspendTarget;   /* the thread being stopped (atomic) */
static volatile int resumeGeneration;
static LockStruct registryLock; /* guards registry */
static RingStruct registry;     /* every registration, all arenas */
static int forkingThread;       /* tid of the thread calling fork */

static long futexWait(volatile int *addr, int val)
{
  return syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futexWakeAll(volatile int *addr)
{
  (void)syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

static int threadId(void) { return (int)syscall(SYS_gettid); }

/* x86-64: the FP/vector state the kernel saves is an FXSAVE area (512
 * bytes: x87, xmm0-15) which, when the kernel used XSAVE, goes on with the
 * extended components (ymm upper halves, zmm, ...).  The kernel says which
 * in the FXSAVE area's software-reserved bytes (Linux uapi
 * asm/sigcontext.h, struct _fpx_sw_bytes at offset 464: magic1, then
 * extended_size, xfeatures, and xstate_size at offset 16). */
#define FXSAVE_SIZE            512
#define FPX_SW_OFFSET          464
#define FPX_XSTATE_SIZE_OFFSET 16
#define FP_XSTATE_MAGIC        0x46505853U
#define VECTOR_STATE_MAX       ((Size)1 << 16)

static void contextSave(Thread thr, ucontext_t *uc)
{
#if defined(__x86_64__)
  Index i;
  const unsigned char *fp = (const unsigned char *)uc->uc_mcontext.fpregs;
  for (i = 0; i < NGREG && i < THREAD_REGS; ++i) thr->regs[i] = (Word)uc->uc_mcontext.gregs[i];
  thr->nregs = i;
  thr->sp = (Addr)uc->uc_mcontext.gregs[REG_RSP];
  thr->vecBase = (Addr)fp;
  thr->vecSize = 0;
  if (fp != NULL) {
    uint32_t magic, size;
    memcpy(&magic, fp + FPX_SW_OFFSET, sizeof magic);
    memcpy(&size, fp + FPX_SW_OFFSET + FPX_XSTATE_SIZE_OFFSET, sizeof size);
    thr->vecSize = magic == FP_XSTATE_MAGIC && size > FXSAVE_SIZE && size <= VECTOR_STATE_MAX
                       ? size
                       : FXSAVE_SIZE;
  }
#elif defined(__aarch64__)
  Index i;
  for (i = 0; i < 31 && i < THREAD_REGS; ++i) thr->regs[i] = (Word)uc->uc_mcontext.regs[i];
  thr->nregs = i;
  thr->sp = (Addr)uc->uc_mcontext.sp;
  /* the FP/SIMD (and SVE) records are inline in the context's reserved area */
  thr->vecBase = (Addr)&uc->uc_mcontext;
  thr->vecSize = sizeof uc->uc_mcontext;
#else
#error "thread_linux.c: unsupported processor"
#endif
}

static void suspendHandler(int sig, siginfo_t *info, void *context)
{
  int savedErrno = errno;
  Thread thr = __atomic_load_n(&suspendTarget, __ATOMIC_ACQUIRE);
  int gen;
  UNUSED(sig);
  UNUSED(info);
  if (thr == NULL || thr->tid != threadId()) {
    errno = savedErrno;
    return;
  }
  gen = __atomic_load_n(&resumeGeneration, __ATOMIC_ACQUIRE);
  contextSave(thr, context);
  __atomic_store_n(&thr->suspended, 1, __ATOMIC_RELEASE);
  futexWakeAll(&thr->suspended);
  while (__atomic_load_n(&resumeGeneration, __ATOMIC_ACQUIRE) == gen)
    (void)futexWait(&resumeGeneration, gen);
  __atomic_store_n(&thr->suspended, 0, __ATOMIC_RELEASE);
  errno = savedErrno;
}

/* fork: the child's only thread is the one that forked, with a new id;
 * the locks may have been held by threads that do not exist there. */
static void threadForkPrepare(void) { forkingThread = threadId(); }

static void threadForkChild(void)
{
  Ring node, next;
  int self = threadId();
  LockInit(&registryLock);
  LockInit(&suspendLock);
  RING_FOR(node, &registry, next) {
    Thread thr = RING_ELT(ThreadStruct, registryRing, node);
    if (thr->tid == forkingThread) thr->tid = self;
  }
}

static void suspendSetup(void)
{
  struct sigaction sa;
  const char *env = getenv("GCP_SUSPEND_SIGNAL");
  suspendSignal = SIGRTMIN + 6;
  if (env != NULL) {
    int s = atoi(env);
    if (s >= SIGRTMIN && s <= SIGRTMAX) suspendSignal = s;
  }
  LockInit(&suspendLock);
  LockInit(&registryLock);
  RingInit(&registry);
  (void)pthread_atfork(threadForkPrepare, NULL, threadForkChild);
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = suspendHandler;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigfillset(&sa.sa_mask);
  (void)sigaction(suspendSignal, &sa, NULL);
}

/* The signal that stops threads (chosen once, at first use). */
INTERN int ThreadSuspendSignal(void)
{
  (void)pthread_once(&suspendOnce, suspendSetup);
  return suspendSignal;
}

INTERN Res ThreadRegister(Thread *thrReturn, Arena arena)
{
  Thread thr;
  void *p;
  Res res;
  (void)pthread_once(&suspendOnce, suspendSetup);
  res = ControlAlloc(&p, arena, sizeof(ThreadStruct));
  if (res != RES_OK) return res;
  thr = p;
  thr->arena = arena;
  thr->tid = threadId();
  thr->exited = 0;
  thr->suspended = 0;
  thr->stoppedAs = NULL;
  RingInit(&thr->registryRing);
  LockClaim(&registryLock);
  RingAppend(&registry, &thr->registryRing);
  LockRelease(&registryLock);
  RingInit(&thr->arenaRing);
  RingAppend(&arena->gc->threadRing, &thr->arenaRing);
  thr->sig = ThreadSig;
  *thrReturn = thr;
  return RES_OK;
}

INTERN void ThreadDeregister(Thread thr)
{
  Arena arena = thr->arena;
  LockClaim(&registryLock);
  RingRemove(&thr->registryRing);
  LockRelease(&registryLock);
  RingRemove(&thr->arenaRing);
  thr->sig = SigInvalid;
  ControlFree(arena, thr, sizeof(ThreadStruct));
}

static Bool threadIsCurrent(Thread thr) { return thr->tid == threadId(); }

/* While waiting for a thread to answer, the stopper checks that it still
 * exists (signal 0).  Under ThreadSanitizer it sends the suspend signal
 * again instead: TSan defers asynchronous signals to the thread's next
 * intercepted call and was seen to lose one (docs/design/threads.md). */
#if defined(__SANITIZE_THREAD__)
#define RESEND_SIGNAL suspendSignal
#else
#define RESEND_SIGNAL 0
#endif
#define STOP_PATIENCE_MS 2000 /* for threads that are not registered */
#define THREAD_STACK_MAX ((Size)1 << 33)

/* Stop one thread: TRUE once its handler has saved its context; FALSE if
 * the thread does not exist, or (only when `patient` is FALSE) does not
 * answer within STOP_PATIENCE_MS. */
static Bool threadStop(Thread thr, pid_t pid, Bool patient)
{
  int waited = 0;
  __atomic_store_n(&suspendTarget, thr, __ATOMIC_RELEASE);
  while (syscall(SYS_tgkill, pid, thr->tid, suspendSignal) != 0) {
    if (errno != EAGAIN) return FALSE;
    sched_yield(); /* the real-time signal queue is full */
  }
  while (!__atomic_load_n(&thr->suspended, __ATOMIC_ACQUIRE)) {
    struct timespec ts = { 0, 10 * 1000 * 1000 };
    (void)syscall(SYS_futex, &thr->suspended, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
    if (__atomic_load_n(&thr->suspended, __ATOMIC_ACQUIRE)) break;
    if (syscall(SYS_tgkill, pid, thr->tid, RESEND_SIGNAL) != 0 && errno == ESRCH) return FALSE;
    if (!patient && (waited += 10) >= STOP_PATIENCE_MS) return FALSE;
  }
  return TRUE;
}

static Bool threadIsRegistered(Arena arena, int tid)
{
  Ring node, next;
  RING_FOR(node, &arena->gc->threadRing, next) {
    Thread thr = RING_ELT(ThreadStruct, arenaRing, node);
    if (thr->tid == tid && !thr->exited) return TRUE;
  }
  return FALSE;
}

static Bool threadIsAnonymous(Arena arena, int tid)
{
  Index t;
  for (t = 0; t < arena->gc->anonCount; ++t)
    if (arena->gc->anon[t]->tid == tid) return TRUE;
  return FALSE;
}

/* Add the process's unregistered threads not yet in gc->anon to it;
 * *addedReturn counts them.  FALSE if the task list cannot be read. */
static Bool threadsListAnonymous(Count *addedReturn, Arena arena)
{
  GCStruct *gc = arena->gc;
  char buf[4096];
  int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int self = threadId();
  long n;
  Bool ok = TRUE;
  *addedReturn = 0;
  if (fd < 0) return FALSE;
  while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
    long off = 0;
    while (off < n) {
      unsigned short reclen = *(unsigned short *)(void *)(buf + off + 16);
      const char *name = buf + off + 19;
      int tid = atoi(name);
      off += reclen;
      if (tid <= 0 || tid == self || threadIsRegistered(arena, tid) ||
          threadIsAnonymous(arena, tid))
        continue;
      /* Descriptors never move (a stopped thread's handler holds one);
       * only the table of pointers to them grows. */
      if (gc->anonCount == gc->anonMax) {
        Count max = gc->anonMax == 0 ? 16 : gc->anonMax * 2;
        void *p;
        if (ControlAlloc(&p, arena, max * sizeof(Thread)) != RES_OK) {
          ok = FALSE;
          break;
        }
        if (gc->anon != NULL) {
          memcpy(p, gc->anon, gc->anonMade * sizeof(Thread));
          ControlFree(arena, gc->anon, gc->anonMax * sizeof(Thread));
        }
        gc->anon = p;
        gc->anonMax = max;
      }
      if (gc->anonCount == gc->anonMade) {
        void *p;
        if (ControlAlloc(&p, arena, sizeof(ThreadStruct)) != RES_OK) {
          ok = FALSE;
          break;
        }
        gc->anon[gc->anonMade++] = p;
      }
      {
        Thread thr = gc->anon[gc->anonCount++];
        memset(thr, 0, sizeof(ThreadStruct));
        thr->tid = tid;
        thr->sig = ThreadSig;
      }
      ++*addedReturn;
    }
  }
  if (n < 0) ok = FALSE;
  close(fd);
  return ok;
}

/* Set each stopped anonymous thread's cold end (and *selfCold for the
 * calling thread) to the end of the mapping holding its stack pointer. */
static Bool threadsFindStacks(Arena arena, Addr selfSp, Addr *selfCold)
{
  GCStruct *gc = arena->gc;
  char buf[4096], line[256];
  Count len = 0;
  long n;
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  *selfCold = NULL;
  if (fd < 0) return FALSE;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    long k;
    for (k = 0; k < n; ++k) {
      if (buf[k] != '\n') {
        if (len < sizeof line - 1) line[len++] = buf[k];
        continue;
      }
      line[len] = '\0';
      len = 0;
      {
        char *dash;
        Addr lo = (Addr)strtoul(line, &dash, 16), hi = (Addr)strtoul(dash + 1, NULL, 16);
        Index t;
        if (selfSp >= lo && selfSp < hi) *selfCold = hi;
        for (t = 0; t < gc->anonCount; ++t) {
          Thread thr = gc->anon[t];
          if (thr->suspended && thr->sp >= lo && thr->sp < hi) thr->cold = hi;
        }
      }
    }
  }
  close(fd);
  return n == 0 && *selfCold != NULL;
}

/* The registration of `thr`'s thread that this stop has already stopped,
 * if any (the ring is visited in order, so only those before `thr`). */
static Thread threadStoppedEarlier(GCStruct *gc, Thread thr)
{
  Ring node, next;
  RING_FOR(node, &gc->threadRing, next) {
    Thread other = RING_ELT(ThreadStruct, arenaRing, node);
    if (other == thr) break;
    if (other->tid == thr->tid && other->stoppedAs != NULL) return other->stoppedAs;
  }
  return NULL;
}

INTERN Res ThreadsSuspend(Arena arena)
{
  GCStruct *gc = arena->gc;
  Ring node, next;
  pid_t pid = getpid();
  (void)pthread_once(&suspendOnce, suspendSetup);
  LockClaim(&suspendLock);
  RING_FOR(node, &gc->threadRing, next) {
    Thread thr = RING_ELT(ThreadStruct, arenaRing, node);
    thr->stoppedAs = NULL;
    if (thr->exited || threadIsCurrent(thr)) continue;
    /* A thread registered more than once is stopped once: a second signal
     * would stay pending in its handler (which blocks every signal) and
     * the stop would wait for it forever. */
    thr->stoppedAs = threadStoppedEarlier(gc, thr);
    if (thr->stoppedAs != NULL) continue;
    if (threadStop(thr, pid, TRUE))
      thr->stoppedAs = thr;
    else
      thr->exited = 1; /* gone without deregistering */
  }
  gc->anonCount = 0;
  if (gc->allThreads) {
    Addr sp = (Addr)&pid;
    Index t = 0, round;
    Count added = 0;
    Bool ok = TRUE;
    /* Until a listing shows no thread that is not stopped yet. */
    for (round = 0; ok && round < 1000; ++round) {
      ok = threadsListAnonymous(&added, arena);
      if (!ok || added == 0) break;
      for (; t < gc->anonCount; ++t)
        if (!threadStop(gc->anon[t], pid, FALSE) && !gc->anon[t]->suspended &&
            syscall(SYS_tgkill, pid, gc->anon[t]->tid, 0) == 0)
          ++gc->unstoppable;
    }
    if (ok) ok = threadsFindStacks(arena, sp, &gc->selfCold);
    if (!ok) {
      __atomic_store_n(&suspendTarget, NULL, __ATOMIC_RELEASE);
      ThreadsResume(arena);
      return RES_RESOURCE;
    }
  }
  __atomic_store_n(&suspendTarget, NULL, __ATOMIC_RELEASE);
  return RES_OK;
}

INTERN void ThreadsResume(Arena arena)
{
  GCStruct *gc = arena->gc;
  Ring node, next;
  Index t;
  __atomic_add_fetch(&resumeGeneration, 1, __ATOMIC_RELEASE);
  futexWakeAll(&resumeGeneration);
  /* Wait until every stopped thread has left the handler, so that its
   * descriptor may be reused by the next stop. */
  RING_FOR(node, &gc->threadRing, next) {
    Thread thr = RING_ELT(ThreadStruct, arenaRing, node);
    while (__atomic_load_n(&thr->suspended, __ATOMIC_ACQUIRE) &&
           syscall(SYS_tgkill, getpid(), thr->tid, 0) == 0)
      sched_yield();
  }
  for (t = 0; t < gc->anonCount; ++t)
    while (__atomic_load_n(&gc->anon[t]->suspended, __ATOMIC_ACQUIRE) &&
           syscall(SYS_tgkill, getpid(), gc->anon[t]->tid, 0) == 0)
      sched_yield();
  gc->anonCount = 0;
  LockRelease(&suspendLock);
}

/* Scan the stack of `thr` from its stack pointer (less the red zone that
 * leaf functions may use below it) to `cold`, and its registers. */
CONSERVATIVE_READS NOINLINE static Res threadScanStopped(ScanState ss, Thread thr, Addr cold,
                                                         mps_area_scan_t scan, void *closure)
{
  Addr hot = AddrAlignDown(AddrSub(thr->sp, 128), sizeof(Word));
  Res res;
  /* A stack pointer far from the cold end is not this registration's
   * thread (a reused thread id): scan only its registers. */
  if (hot < cold && AddrOffset(hot, cold) <= THREAD_STACK_MAX) {
    res = scan(&ss->ss, hot, cold, closure);
    if (res != RES_OK) return res;
  }
  if (thr->vecSize > 0) {
    Addr base = AddrAlignUp(thr->vecBase, sizeof(Word));
    Addr limit = AddrAlignDown(AddrAdd(thr->vecBase, thr->vecSize), sizeof(Word));
    if (base < limit) {
      res = scan(&ss->ss, base, limit, closure);
      if (res != RES_OK) return res;
    }
  }
  return scan(&ss->ss, thr->regs, thr->regs + thr->nregs, closure);
}

/* The collecting thread: spill the callee-saved registers into `regs`
 * first, then scan them and the stack above this frame. */
CONSERVATIVE_READS NOINLINE static Res threadScanCurrent(ScanState ss, Addr cold,
                                                         mps_area_scan_t scan, void *closure)
{
  Word regs[20]; /* x86-64: 7 used; AArch64: x19-x29, sp, d8-d15 */
  Addr hot;
  Res res;
  memset(regs, 0, sizeof regs);
#if defined(__x86_64__)
  __asm__ __volatile__("movq %%rbx, 0(%0)\n\t"
                       "movq %%rbp, 8(%0)\n\t"
                       "movq %%r12, 16(%0)\n\t"
                       "movq %%r13, 24(%0)\n\t"
                       "movq %%r14, 32(%0)\n\t"
                       "movq %%r15, 40(%0)\n\t"
                       "movq %%rsp, 48(%0)\n\t"
                       :
                       : "r"(regs)
                       : "memory");
  hot = (Addr)regs[6];
#elif defined(__aarch64__)
  __asm__ __volatile__("stp x19, x20, [%0, #0]\n\t"
                       "stp x21, x22, [%0, #16]\n\t"
                       "stp x23, x24, [%0, #32]\n\t"
                       "stp x25, x26, [%0, #48]\n\t"
                       "stp x27, x28, [%0, #64]\n\t"
                       "str x29, [%0, #80]\n\t"
                       "mov x9, sp\n\t"
                       "str x9, [%0, #88]\n\t"
                       "stp d8, d9, [%0, #96]\n\t"
                       "stp d10, d11, [%0, #112]\n\t"
                       "stp d12, d13, [%0, #128]\n\t"
                       "stp d14, d15, [%0, #144]\n\t"
                       :
                       : "r"(regs)
                       : "x9", "memory");
  hot = (Addr)regs[11];
#endif
  hot = AddrAlignDown(hot, sizeof(Word));
  res = scan(&ss->ss, regs, regs + NELEMS(regs), closure);
  if (res != RES_OK) return res;
  if (hot < cold) res = scan(&ss->ss, hot, cold, closure);
  return res;
}

/* In all-threads mode: the unregistered threads and the calling one. */
INTERN Res ThreadsScanAnonymousWith(Arena arena, ScanState ss, mps_area_scan_t scan, void *closure)
{
  GCStruct *gc = arena->gc;
  Index t;
  Res res;
  if (!gc->allThreads) return RES_OK;
  ss->ss._ufs = 0;
  for (t = 0; t < gc->anonCount; ++t) {
    Thread thr = gc->anon[t];
    if (!thr->suspended || thr->cold == NULL) continue;
    res = threadScanStopped(ss, thr, thr->cold, scan, closure);
    if (res != RES_OK) return res;
  }
  if (gc->selfCold != NULL) return threadScanCurrent(ss, gc->selfCold, scan, closure);
  return RES_OK;
}

INTERN Res ThreadsScanAnonymous(Arena arena, ScanState ss)
{
  return ThreadsScanAnonymousWith(arena, ss, mps_scan_area, NULL);
}

INTERN Res ThreadScan(ScanState ss, Thread thr, Addr cold, mps_area_scan_t scan, void *closure)
{
  ss->ss._ufs = 0;
  if (thr->exited) return RES_OK;
  if (threadIsCurrent(thr)) return threadScanCurrent(ss, cold, scan, closure);
  /* not stopped: it exited meanwhile */
  if (thr->stoppedAs == NULL || !thr->stoppedAs->suspended) return RES_OK;
  return threadScanStopped(ss, thr->stoppedAs, cold, scan, closure);
}
