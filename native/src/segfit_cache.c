/* segfit_cache.c -- SEGFIT's thread caches and their lifecycle.
 *
 * Every small run belongs to one cache, and every cache to at most one
 * thread at a time (its owner), which allocates and frees in it without
 * locks.  Each thread remembers its caches of the last few pools it used,
 * by pool serial (never reused, so a stale entry can never match).  A
 * cache whose thread exits, or that is evicted from those slots, is left
 * ownerless and adopted whole by the next thread that needs one; in the
 * child of fork every other thread's cache is given up.  A thread-exit
 * destructor and the fork child handler do this; the registry of live
 * pools tells them which caches still exist.  Lock order: arena lock, then
 * the registry lock.  Design: docs/design/segfit.md, "Threads".
 */
#include "segfitint.h"
#include <pthread.h>

/* The calling thread's slots (declared in segfitint.h). */
INTERN_DATA __thread SFThreadSlot sfThreadSlots[SF_THREAD_SLOTS]
    __attribute__((tls_model("initial-exec")));

static pthread_mutex_t sfRegistryLock = PTHREAD_MUTEX_INITIALIZER;
static RingStruct sfRegistry = { &sfRegistry, &sfRegistry };
static pthread_once_t sfOnce = PTHREAD_ONCE_INIT;
static pthread_key_t sfThreadKey;
static Word sfSerialNext = 1;

static SF sfRegistered(Word serial)
{
  Ring node, next;
  RING_FOR(node, &sfRegistry, next) {
    SF sf = RING_ELT(SFStruct, registryRing, node);
    if (sf->serial == serial) return sf;
  }
  return NULL;
}

static void sfCacheDisown(SFCache c) { __atomic_store_n(&c->owner, NULL, __ATOMIC_RELEASE); }

static void sfThreadExit(void *unused)
{
  Index i;
  UNUSED(unused);
  (void)pthread_mutex_lock(&sfRegistryLock);
  for (i = 0; i < SF_THREAD_SLOTS; ++i) {
    if (sfThreadSlots[i].serial != 0 && sfRegistered(sfThreadSlots[i].serial) != NULL)
      sfCacheDisown(sfThreadSlots[i].cache);
    sfThreadSlots[i].serial = 0;
  }
  (void)pthread_mutex_unlock(&sfRegistryLock);
}

/* In the child of fork only the forking thread lives on: give up every
 * other thread's caches, and free arena locks their threads held. */
static void sfForkChild(void)
{
  Ring node, next, cn, cnext;
  (void)pthread_mutex_init(&sfRegistryLock, NULL);
  RING_FOR(node, &sfRegistry, next) {
    SF sf = RING_ELT(SFStruct, registryRing, node);
    Arena arena = sf->poolStruct.arena;
    if (LockIsHeld(&arena->lock) && !LockIsMine(&arena->lock)) LockInit(&arena->lock);
    RING_FOR(cn, &sf->caches, cnext) {
      SFCache c = RING_ELT(SFCacheStruct, sfRing, cn);
      if (c->owner != SF_SELF) sfCacheDisown(c);
    }
  }
}

static void sfOnceInit(void)
{
  (void)pthread_key_create(&sfThreadKey, sfThreadExit);
  (void)pthread_atfork(NULL, NULL, sfForkChild);
}

static void sfCacheInit(SFCache c, SF sf)
{
  Index k;
  c->sf = sf;
  c->owner = SF_SELF;
  c->remoteRuns = NULL;
  RingInit(&c->sfRing);
  for (k = 0; k < SF_CLASSES; ++k) {
    c->current[k] = NULL;
    RingInit(&c->partial[k]);
  }
  c->sig = SFCacheSig;
}

/* Find, adopt or make the thread's cache for sf and put it in slot 0. */
INTERN SFCache sfCacheAcquire(SF sf)
{
  Arena arena = sf->poolStruct.arena;
  SFCache c = sfThreadCache(sf), found = NULL;
  SFThreadSlot slot;
  Index i;
  Bool claimed;
  Ring node, next;

  (void)pthread_once(&sfOnce, sfOnceInit);
  if (c == NULL) {
    claimed = ArenaEnterRecursive(arena);
    RING_FOR(node, &sf->caches, next) {
      SFCache cand = RING_ELT(SFCacheStruct, sfRing, node);
      const void *expected = NULL;
      if (__atomic_compare_exchange_n(&cand->owner, &expected, SF_SELF, FALSE, __ATOMIC_ACQUIRE,
                                      __ATOMIC_RELAXED)) {
        found = cand;
        break;
      }
    }
    if (found == NULL) {
      void *p;
      if (ControlAlloc(&p, arena, sizeof(SFCacheStruct)) == RES_OK) {
        found = p;
        sfCacheInit(found, sf);
        RingAppend(&sf->caches, &found->sfRing);
      }
    }
    ArenaLeaveRecursive(arena, claimed);
    if (found == NULL) return NULL;
    c = found;
    /* the last slot makes room: its cache is given up for adoption */
    if (sfThreadSlots[SF_THREAD_SLOTS - 1].serial != 0) {
      (void)pthread_mutex_lock(&sfRegistryLock);
      if (sfRegistered(sfThreadSlots[SF_THREAD_SLOTS - 1].serial) != NULL)
        sfCacheDisown(sfThreadSlots[SF_THREAD_SLOTS - 1].cache);
      (void)pthread_mutex_unlock(&sfRegistryLock);
    }
    sfThreadSlots[SF_THREAD_SLOTS - 1].serial = sf->serial;
    sfThreadSlots[SF_THREAD_SLOTS - 1].cache = c;
    (void)pthread_setspecific(sfThreadKey, (void *)sfThreadSlots);
  }
  /* move this pool's slot to the front */
  for (i = 0; sfThreadSlots[i].serial != sf->serial; ++i)
    ;
  slot = sfThreadSlots[i];
  for (; i > 0; --i) sfThreadSlots[i] = sfThreadSlots[i - 1];
  sfThreadSlots[0] = slot;
  return c;
}

INTERN void sfRegister(SF sf)
{
  (void)pthread_once(&sfOnce, sfOnceInit);
  sf->serial = __atomic_fetch_add(&sfSerialNext, 1, __ATOMIC_RELAXED);
  (void)pthread_mutex_lock(&sfRegistryLock);
  RingAppend(&sfRegistry, &sf->registryRing);
  (void)pthread_mutex_unlock(&sfRegistryLock);
}

INTERN void sfDeregister(SF sf)
{
  (void)pthread_mutex_lock(&sfRegistryLock);
  RingRemove(&sf->registryRing);
  (void)pthread_mutex_unlock(&sfRegistryLock);
}

INTERN void sfCachesDestroy(SF sf)
{
  Ring node, next;
  RING_FOR(node, &sf->caches, next) {
    SFCache c = RING_ELT(SFCacheStruct, sfRing, node);
    c->sig = SigInvalid;
    ControlFree(sf->poolStruct.arena, c, sizeof(SFCacheStruct));
  }
}
