/* buffer.c -- allocation points: creation, the slow paths of reserve
 * (fill) and commit (trip), and detaching.  Design: docs/design/buffer.md.
 */
#include "gc.h"
#include "arg.h"

INTERN Bool BufferCheck(Buffer buf)
{
  if (!CHECKS(Buffer, buf) || !CHECKS(Pool, buf->pool)) return FALSE;
  if (buf->base == NULL) return buf->ap.init == NULL && buf->ap.alloc == NULL;
  return buf->base <= (Addr)buf->ap.init && buf->ap.init <= buf->ap.alloc &&
         (Addr)buf->ap.alloc <= buf->poolLimit &&
         (buf->ap.limit == NULL || (Addr)buf->ap.limit == buf->poolLimit);
}

INTERN Res BufferCreate(Buffer *bufReturn, Pool pool, ArgList args)
{
  Arena arena = pool->arena;
  ArgStruct arg;
  Buffer buf;
  void *p;
  Res res;
  mps_rank_t rank = mps_rank_exact();
  Bool hashArrays;

  if (ArgPick(&arg, args, MPS_KEY_RANK)) {
    rank = arg.val.rank;
    if (rank > RANK_WEAK || rank == RANK_FINAL || !(pool->klass->attr & POOL_ATTR_AP) ||
        !(pool->klass->apRanks & RANK_SET(rank)))
      return MISUSE("mps_ap_create_k: allocation points of %s pools cannot have rank %u",
                    pool->klass->name, (unsigned)rank);
  }
  hashArrays = ArgPick(&arg, args, MPS_KEY_AP_HASH_ARRAYS) && arg.val.b;
  res = ControlAlloc(&p, arena, sizeof(BufferStruct));
  if (res != RES_OK) return res;
  buf = p;
  buf->ap.init = buf->ap.alloc = buf->ap.limit = NULL;
  buf->pool = pool;
  buf->base = buf->poolLimit = buf->initAtFlip = NULL;
  buf->flipped = FALSE;
  buf->rank = rank;
  buf->rampDepth = buf->rampCollectAllDepth = 0;
  buf->hashArrays = hashArrays;
  RingInit(&buf->poolRing);
  RingAppend(&pool->bufferRing, &buf->poolRing);
  buf->sig = BufferSig;
  *bufReturn = buf;
  return RES_OK;
}

INTERN void BufferDetach(Buffer buf)
{
  Pool pool = buf->pool;
  if (buf->base != NULL) pool->klass->bufferEmpty(pool, buf, (Addr)buf->ap.init, buf->poolLimit);
  buf->base = buf->poolLimit = NULL;
  buf->ap.init = buf->ap.alloc = buf->ap.limit = NULL;
  buf->flipped = FALSE;
}

INTERN void BufferSetRamps(Buffer buf, Count rampDepth, Count collectAllDepth)
{
  Pool pool = buf->pool;
  Bool was = buf->rampDepth + buf->rampCollectAllDepth > 0;
  Bool is = rampDepth + collectAllDepth > 0;
  if (was && !is) {
    AVER(pool->ramps > 0);
    --pool->ramps;
  }
  if (is && !was) ++pool->ramps;
  if (buf->rampCollectAllDepth > 0 && collectAllDepth == 0 && (pool->klass->attr & POOL_ATTR_GC))
    pool->arena->gc->fullWanted = TRUE;
  buf->rampDepth = rampDepth;
  buf->rampCollectAllDepth = collectAllDepth;
}

INTERN void BufferDestroy(Buffer buf)
{
  Arena arena = buf->pool->arena;
  BufferSetRamps(buf, 0, 0); /* its ramps end with it */
  BufferDetach(buf);
  if (buf->pool->klass->bufferFinish != NULL) buf->pool->klass->bufferFinish(buf->pool, buf);
  RingRemove(&buf->poolRing);
  buf->sig = SigInvalid;
  ControlFree(arena, buf, sizeof(BufferStruct));
}

/* May a fill that ran out of memory collect and retry?  In a collected
 * pool of an unclamped arena, when no collection is under way. */
static Bool bufferMayCollect(Pool pool)
{
  Arena arena = pool->arena;
  return (pool->klass->attr & POOL_ATTR_GC) && arena->state == ARENA_UNCLAMPED &&
         !arena->gc->trace.busy;
}

INTERN Res BufferFill(Addr *pReturn, Buffer buf, Size size)
{
  Pool pool = buf->pool;
  Addr base, limit, alloc = (Addr)buf->ap.alloc;
  Res res;

  AVER(buf->ap.init == buf->ap.alloc);
  /* Trapped but with room: untrap and reserve in place. */
  if (buf->base != NULL && alloc + size > alloc && alloc + size <= buf->poolLimit &&
      !(pool->klass->attr & POOL_ATTR_EXACT_BUFFERS)) {
    buf->ap.limit = buf->poolLimit;
    buf->flipped = FALSE;
    buf->ap.alloc = alloc + size;
    *pReturn = alloc;
    return RES_OK;
  }
  BufferDetach(buf);
  if (pool->klass->attr & POOL_ATTR_GC) (void)TracePoll(pool->arena);
  res = pool->klass->bufferFill(&base, &limit, pool, buf, size);
  if (res != RES_OK && bufferMayCollect(pool)) {
    /* Out of memory (address space, the commit limit, a client arena's
     * memory): what a full collection frees may be enough.  Once. */
    if (TraceCollect(pool->arena, TRUE, "Out of memory: full collection.") == RES_OK)
      res = pool->klass->bufferFill(&base, &limit, pool, buf, size);
  }
  if (res != RES_OK) return res;
  AVER(AddrAdd(base, size) <= limit);
  buf->base = base;
  buf->poolLimit = limit;
  buf->ap.init = base;
  buf->ap.limit = limit;
  buf->ap.alloc = AddrAdd(base, size);
  *pReturn = base;
  return RES_OK;
}

INTERN Bool BufferTrip(Buffer buf, Addr p, Size size)
{
  UNUSED(size);
  if (buf->flipped && (Addr)buf->ap.init != buf->initAtFlip) {
    /* The object was committed after a flip: it was not scanned.  Its
     * space may be reserved again, inline; not in a buffer that holds one
     * object only, which stays trapped so that the retry refills. */
    buf->ap.init = buf->ap.alloc = p;
    buf->ap.limit = (buf->pool->klass->attr & POOL_ATTR_EXACT_BUFFERS) ? NULL : buf->poolLimit;
    buf->flipped = FALSE;
    return FALSE;
  }
  buf->flipped = FALSE;
  if (buf->base != NULL) buf->ap.limit = buf->poolLimit;
  return TRUE;
}
