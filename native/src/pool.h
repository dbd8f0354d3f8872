/* pool.h -- the pool class protocol.
 *
 * A pool class is a table of methods; a pool is an instance whose
 * descriptor embeds PoolStruct as its first member.  Every method runs
 * with the arena lock held.  Methods that detect client misuse report it
 * with MISUSE (which names the problem) and return its result without
 * changing anything, so a handler that returns leaves a working pool.
 * Design: docs/design/pool.md.
 */
#ifndef GCP_POOL_H
#define GCP_POOL_H

#include <stdarg.h>
#include "arena.h"

/* Class attributes: which generic operations the class supports. */
enum {
  POOL_ATTR_ALLOC = 1 << 0,   /* mps_alloc */
  POOL_ATTR_FREE = 1 << 1,    /* mps_free */
  POOL_ATTR_AP = 1 << 2,      /* allocation points */
  POOL_ATTR_SAC = 1 << 3      /* segregated allocation caches */
};

typedef Res (*PoolInitMethod)(Pool pool, ArgList args);
typedef void (*PoolFinishMethod)(Pool pool);
typedef Res (*PoolAllocMethod)(Addr *pReturn, Pool pool, Size size);
/* seg is the pool's segment containing old (PoolFree found it). */
typedef Res (*PoolFreeMethod)(Pool pool, Seg seg, Addr old, Size size);
typedef Res (*PoolBufferFillMethod)(Addr *baseReturn, Addr *limitReturn,
                                     Pool pool, Buffer buffer, Size size);
typedef void (*PoolBufferEmptyMethod)(Pool pool, Buffer buffer, Addr init, Addr limit);
typedef Size (*PoolSizeMethod)(Pool pool);
typedef Bool (*PoolConsistentMethod)(Pool pool);
typedef void (*PoolDebugCheckMethod)(Pool pool);
/* Convert the legacy variadic arguments of mps_pool_create_v into keys;
 * args has room for MPS_ARGS_MAX entries. */
typedef void (*PoolVarargsMethod)(ArgStruct *args, va_list varargs);

struct mps_pool_class_s {
  Sig sig;
  const char *name;
  Size size;                    /* bytes of the pool descriptor */
  unsigned attr;
  PoolVarargsMethod varargs;
  PoolInitMethod init;          /* after PoolInit has filled the generic part */
  PoolFinishMethod finish;      /* before the generic part is finished */
  PoolAllocMethod alloc;
  PoolFreeMethod free;
  PoolBufferFillMethod bufferFill;
  PoolBufferEmptyMethod bufferEmpty;
  PoolSizeMethod totalSize, freeSize;
  PoolConsistentMethod consistent;  /* the expensive structural check */
  PoolDebugCheckMethod checkFenceposts, checkFreeSpace;
};

struct mps_pool_s {
  Sig sig;
  Arena arena;
  PoolClass klass;
  RingStruct arenaRing;   /* in the arena's pool ring */
  RingStruct segRing;     /* this pool's segments */
  RingStruct bufferRing;  /* this pool's allocation points */
  Count sacCount;         /* live segregated allocation caches */
  Size alignment;         /* of every block handed out */
};

INTERN Res PoolCreate(Pool *poolReturn, Arena arena, PoolClass klass, ArgList args);
INTERN void PoolDestroy(Pool pool);
INTERN Bool PoolCheck(Pool pool);
INTERN Bool PoolClassCheck(PoolClass klass);
INTERN Res PoolFree(Pool pool, Addr old, Size size);

#endif /* GCP_POOL_H */
