/* lock.h -- the arena lock: one non-recursive lock per arena.
 *
 * On Linux it is a futex word (0 free, 1 held, 2 held with waiters): an
 * uncontended claim is one compare-and-swap and a release one atomic
 * decrement, a fraction of a pthread mutex's cost, which matters because
 * every mps_alloc and mps_free takes it.  Elsewhere a pthread mutex.
 * The owner is recorded so that the entry points the MPS interface lets a client
 * call with the lock held (from a scan function, say) can claim it only
 * when the calling thread does not hold it already.
 * Design: docs/design/arena.md (thread safety).
 */
#ifndef GCP_LOCK_H
#define GCP_LOCK_H

#include "core.h"

#if defined(__linux__)

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* A thread's identity for owner checks: the address of a thread-local
 * byte, cheaper to get than pthread_self(). */
static _Thread_local char lockThreadToken;
#define LOCK_SELF ((const void *)&lockThreadToken)

typedef struct LockStruct {
  int state;
  const void *owner; /* LOCK_SELF of the holder, NULL when free; read by
                           other threads (LockIsMine) while it changes */
} LockStruct, *Lock;

INLINE void LockInit(Lock lock)
{
  lock->state = 0;
  lock->owner = NULL;
}
INLINE void LockFinish(Lock lock) { UNUSED(lock); }

/* Wait while the lock is held with waiters (state 2).  ThreadSanitizer
 * runs an asynchronous signal's handler only inside a call it intercepts
 * as blocking, and a raw futex wait is not one: a thread waiting here for
 * the arena lock, which a collecting thread holds, would never answer the
 * suspend signal.  Under it, the wait is a short sleep instead. */
INLINE void lockWait(Lock lock)
{
#if defined(__SANITIZE_THREAD__)
  struct timespec pause = { 0, 50 * 1000 };
  UNUSED(lock);
  (void)nanosleep(&pause, NULL);
#else
  (void)syscall(SYS_futex, &lock->state, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
#endif
}

static NOINLINE void LockClaimSlow(Lock lock)
{
  int c = __atomic_exchange_n(&lock->state, 2, __ATOMIC_ACQUIRE);
  while (c != 0) {
    lockWait(lock);
    c = __atomic_exchange_n(&lock->state, 2, __ATOMIC_ACQUIRE);
  }
}

INLINE void LockClaim(Lock lock)
{
  int expected = 0;
  if (!__atomic_compare_exchange_n(&lock->state, &expected, 1, FALSE, __ATOMIC_ACQUIRE,
                                   __ATOMIC_RELAXED))
    LockClaimSlow(lock);
  __atomic_store_n(&lock->owner, LOCK_SELF, __ATOMIC_RELAXED);
}

/* The owner is cleared before the lock is given up: otherwise, between
 * another thread's claim and its setting the owner, the last holder would
 * still find its own token there and take the lock for its own. */
INLINE void LockRelease(Lock lock)
{
  __atomic_store_n(&lock->owner, NULL, __ATOMIC_RELAXED);
  if (__atomic_fetch_sub(&lock->state, 1, __ATOMIC_RELEASE) != 1) {
    __atomic_store_n(&lock->state, 0, __ATOMIC_RELEASE);
    (void)syscall(SYS_futex, &lock->state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
  }
}

INLINE Bool LockIsHeld(Lock lock) { return __atomic_load_n(&lock->state, __ATOMIC_RELAXED) != 0; }
/* Only meaningful to the calling thread: is it the one holding the lock? */
INLINE Bool LockIsMine(Lock lock)
{
  return LockIsHeld(lock) && __atomic_load_n(&lock->owner, __ATOMIC_RELAXED) == LOCK_SELF;
}

#else

#include <pthread.h>

typedef struct LockStruct {
  pthread_mutex_t mutex;
  volatile Bool held;
  pthread_t owner;
} LockStruct, *Lock;

INLINE void LockInit(Lock lock)
{
  (void)pthread_mutex_init(&lock->mutex, NULL);
  lock->held = FALSE;
}
INLINE void LockFinish(Lock lock) { (void)pthread_mutex_destroy(&lock->mutex); }
INLINE void LockClaim(Lock lock)
{
  (void)pthread_mutex_lock(&lock->mutex);
  lock->owner = pthread_self();
  lock->held = TRUE;
}
INLINE void LockRelease(Lock lock)
{
  lock->held = FALSE;
  (void)pthread_mutex_unlock(&lock->mutex);
}
INLINE Bool LockIsHeld(Lock lock) { return lock->held; }
INLINE Bool LockIsMine(Lock lock)
{
  return lock->held && pthread_equal(lock->owner, pthread_self());
}

#endif

#endif /* GCP_LOCK_H */
