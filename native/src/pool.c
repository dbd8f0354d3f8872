/* pool.c -- generic pool creation, destruction and checks.
 * Design: docs/design/pool.md.
 */
#include "pool.h"
#include "buffer.h"

INTERN Bool PoolClassCheck(PoolClass klass)
{
  return CHECKS(PoolClass, klass) && klass->size >= sizeof(PoolStruct) && klass->init != NULL &&
         klass->finish != NULL;
}

INTERN Bool PoolCheck(Pool pool)
{
  return CHECKS(Pool, pool) && CHECKS(Arena, pool->arena) && CHECKS(PoolClass, pool->klass) &&
         SizeIsP2(pool->alignment);
}

INTERN Res PoolCreate(Pool *poolReturn, Arena arena, PoolClass klass, ArgList args)
{
  void *p;
  Pool pool;
  Res res;

  res = ControlAlloc(&p, arena, klass->size);
  if (res != RES_OK) return res;
  pool = p;
  pool->arena = arena;
  pool->klass = klass;
  RingInit(&pool->arenaRing);
  RingInit(&pool->segRing);
  RingInit(&pool->bufferRing);
  pool->sacCount = 0;
  pool->alignment = PF_ALIGN;
  pool->sig = PoolSig;
  res = klass->init(pool, args);
  if (res != RES_OK) {
    pool->sig = SigInvalid;
    ControlFree(arena, pool, klass->size);
    return res;
  }
  RingAppend(&arena->poolRing, &pool->arenaRing);
  *poolReturn = pool;
  return RES_OK;
}

INTERN void PoolDestroy(Pool pool)
{
  Arena arena = pool->arena;
  PoolClass klass = pool->klass;
  Ring node, next;
  klass->finish(pool);
  /* Classes free their own segments; anything left is returned here. */
  RING_FOR(node, &pool->segRing, next) {
    SegDestroy(RING_ELT(SegStruct, poolRing, node));
  }
  RingRemove(&pool->arenaRing);
  pool->sig = SigInvalid;
  ControlFree(arena, pool, klass->size);
}

/* Free a block after checking that it lies in one of the pool's segments;
 * the class checks the rest (double frees, sizes). */
INTERN Res PoolFree(Pool pool, Addr old, Size size)
{
  Seg seg;
  AVER(size > 0 && size <= SIZE_LIMIT);
  if (!ArenaSegOf(&seg, pool->arena, old))
    return MISUSE("mps_free: block %p was not allocated from this %s pool (foreign pointer)",
                  (void *)old, pool->klass->name);
  if (seg->pool != pool)
    return MISUSE("mps_free: block %p belongs to another pool (%s), not to this %s pool",
                  (void *)old, seg->pool->klass->name, pool->klass->name);
  return pool->klass->free(pool, seg, old, size);
}
