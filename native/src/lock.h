/* lock.h -- the arena lock: one non-recursive mutex per arena, plus the
 * owner's identity so that "is this thread inside the arena" can be checked.
 * Design: docs/design/arena.md (thread safety).
 */
#ifndef GCP_LOCK_H
#define GCP_LOCK_H

#include <pthread.h>
#include "core.h"

typedef struct LockStruct {
  pthread_mutex_t mutex;
  volatile Bool held;
} LockStruct, *Lock;

INLINE void LockInit(Lock lock)
{
  (void)pthread_mutex_init(&lock->mutex, NULL);
  lock->held = FALSE;
}
INLINE void LockFinish(Lock lock) { (void)pthread_mutex_destroy(&lock->mutex); }
INLINE void LockClaim(Lock lock) { (void)pthread_mutex_lock(&lock->mutex); lock->held = TRUE; }
INLINE void LockRelease(Lock lock) { lock->held = FALSE; (void)pthread_mutex_unlock(&lock->mutex); }
INLINE Bool LockIsHeld(Lock lock) { return lock->held; }

#endif /* GCP_LOCK_H */
