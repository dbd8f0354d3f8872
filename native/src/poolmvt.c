/* poolmvt.c -- MVT, Manual Variable Temporal (docs/design/mvt.md): variable-size
 * blocks allocated only through allocation points, freed with mps_free.
 * Design: docs/design/mvt.md.
 *
 * Free space is one CBS (cbs.c) of address-ordered, coalescing ranges.
 * The policy, for a buffer fill of `size` bytes (a multiple of the
 * alignment):
 *   fillSize   = max(MAX_SIZE, 16 * MEAN_SIZE), at most 64 KiB, aligned;
 *   extendSize = max(4 * fillSize, 64 KiB), rounded up to the arena grain;
 *   reserve    = RESERVE_DEPTH * MEAN_SIZE bytes of free space to keep;
 *   fragmented = free / total > FRAG_LIMIT.
 *   1. Large request (size > fillSize): the buffer is exactly `size`
 *      bytes, taken from the base of the lowest free range that holds
 *      it, else from the base of a new segment of its own (size rounded
 *      up to the grain; the tail is free space).
 *   2. Otherwise, if the largest free range has at least fillSize bytes,
 *      the buffer is its first fillSize bytes (temporal fit: consecutive
 *      fills of an AP walk up through large contiguous free space, and
 *      small fragments wait for their neighbours to be freed).
 *   3. Otherwise, if not fragmented, the buffer is the first fillSize
 *      bytes of a new segment of extendSize bytes.
 *   4. Otherwise (fragmented, or the new segment failed) first fit: the
 *      whole of the lowest free range of at least `size` bytes (it is
 *      smaller than fillSize, since step 2 failed).
 *   5. If still nothing: a new segment if step 3 was not tried, else the
 *      error from step 3.
 * Buffers always start at the base of a free range, so taking one never
 * splits a range and never needs a CBS node.  Free ranges (and so
 * buffers) may span adjacent segments of the pool.
 * Returning memory: after space is freed (mps_free or a buffer's unused
 * tail), every segment wholly inside the coalesced free range is given
 * back to the arena while free space stays at least `reserve` afterwards.
 * When a CBS node cannot be had (RES_MEMORY, RES_COMMIT_LIMIT) a freed
 * range goes on the pending list (pending.h); pending ranges count as
 * free, are never allocated, and are moved into the CBS at the start of
 * every fill, empty and free.
 * Invariants: free ranges and pending ranges are disjoint, aligned, lie
 * in the pool's segments and do not overlap any attached buffer's unused
 * part [init, limit); total = bytes of the pool's segments;
 * free size = CBS bytes + pending bytes <= total.
 */
#include "pool.h"
#include "buffer.h"
#include "cbs.h"
#include "pending.h"
#include "arg.h"
#include "mpscmvt.h"

#define MVT_FILL_MAX   ((Size)64 << 10)
#define MVT_EXTEND_MIN ((Size)64 << 10)

typedef struct MVTStruct {
  PoolStruct poolStruct;
  CBSStruct cbs; /* free ranges */
  Size minSize, meanSize, maxSize;
  Count reserveDepth;
  double fragLimit;
  Size fillSize;         /* ordinary buffer size */
  Size extendSize;       /* ordinary segment size */
  Size reserve;          /* free bytes kept rather than returned */
  Size total;            /* bytes in segments */
  PendingStruct pending; /* ranges waiting for a CBS node (pending.h) */
} MVTStruct, *MVT;

#define MVTOf(pool) PARENT(MVTStruct, poolStruct, pool)

static Size mvtFreeBytes(MVT mvt) { return mvt->cbs.size + mvt->pending.size; }

/* ---- creation ------------------------------------------------------------ */

static void mvtVarargs(ArgStruct *args, va_list varargs)
{
  args[0].key = MPS_KEY_MIN_SIZE;
  args[0].val.size = va_arg(varargs, size_t);
  args[1].key = MPS_KEY_MEAN_SIZE;
  args[1].val.size = va_arg(varargs, size_t);
  args[2].key = MPS_KEY_MAX_SIZE;
  args[2].val.size = va_arg(varargs, size_t);
  args[3].key = MPS_KEY_MVT_RESERVE_DEPTH;
  args[3].val.count = va_arg(varargs, mps_word_t);
  args[4].key = MPS_KEY_MVT_FRAG_LIMIT; /* legacy: a percentage */
  args[4].val.d = (double)va_arg(varargs, mps_word_t) / 100.0;
  args[5].key = MPS_KEY_ARGS_END;
}

static Res mvtInit(Pool pool, ArgList args)
{
  MVT mvt = MVTOf(pool);
  Arena arena = pool->arena;
  ArgStruct arg;
  Size align = PF_ALIGN, minSize = PF_ALIGN, meanSize = 32, maxSize = 8192, fill, extend;
  Bool haveMin = FALSE, haveMean = FALSE, haveMax = FALSE;
  Count depth = 1024;
  double fragLimit = 0.3;

  if (ArgPick(&arg, args, MPS_KEY_ALIGN)) {
    align = arg.val.align;
    if (!SizeIsP2(align) || align < sizeof(void *) || align > arena->grainSize)
      return MISUSE("mps_pool_create_k: MVT alignment %zu is not a power of two between "
                    "%zu and the arena grain %zu",
                    align, sizeof(void *), arena->grainSize);
  }
  if (ArgPick(&arg, args, MPS_KEY_MIN_SIZE)) {
    minSize = arg.val.size;
    haveMin = TRUE;
  }
  if (ArgPick(&arg, args, MPS_KEY_MEAN_SIZE)) {
    meanSize = arg.val.size;
    haveMean = TRUE;
  }
  if (ArgPick(&arg, args, MPS_KEY_MAX_SIZE)) {
    maxSize = arg.val.size;
    haveMax = TRUE;
  }
  if (ArgPick(&arg, args, MPS_KEY_MVT_RESERVE_DEPTH)) depth = arg.val.count;
  if (ArgPick(&arg, args, MPS_KEY_MVT_FRAG_LIMIT)) {
    fragLimit = arg.val.d;
    if (!(fragLimit > 0.0 && fragLimit <= 1.0))
      return MISUSE("mps_pool_create_k: MPS_KEY_MVT_FRAG_LIMIT %g is not in (0.0, 1.0]", fragLimit);
  }
  /* A default yields to the sizes the client did give. */
  if (!haveMean) {
    if (haveMax && meanSize > maxSize) meanSize = maxSize;
    if (haveMin && meanSize < minSize) meanSize = minSize;
  }
  if (!haveMin && minSize > meanSize) minSize = meanSize;
  if (!haveMax && maxSize < meanSize) maxSize = meanSize;
  if (minSize == 0) return MISUSE("mps_pool_create_k: MVT MPS_KEY_MIN_SIZE is zero");
  if (!(minSize <= meanSize && meanSize <= maxSize))
    return MISUSE("mps_pool_create_k: MVT sizes must satisfy min %zu <= mean %zu <= max %zu",
                  minSize, meanSize, maxSize);

  fill = meanSize > MVT_FILL_MAX / 16 ? MVT_FILL_MAX : 16 * meanSize;
  if (maxSize > fill) fill = maxSize;
  if (fill > MVT_FILL_MAX) fill = MVT_FILL_MAX;
  fill = SizeAlignUp(fill, align);
  extend = 4 * fill > MVT_EXTEND_MIN ? 4 * fill : MVT_EXTEND_MIN;

  pool->alignment = align;
  mvt->minSize = minSize;
  mvt->meanSize = meanSize;
  mvt->maxSize = maxSize;
  mvt->reserveDepth = depth;
  mvt->fragLimit = fragLimit;
  mvt->fillSize = fill;
  mvt->extendSize = SizeAlignUp(extend, arena->grainSize);
  mvt->reserve = depth != 0 && meanSize > SIZE_MAX / depth ? SIZE_MAX : depth * meanSize;
  mvt->total = 0;
  PendingInit(&mvt->pending);
  CBSInit(&mvt->cbs, arena, TRUE);
  return RES_OK;
}

static void mvtFinish(Pool pool)
{
  MVT mvt = MVTOf(pool);
  Ring node, next;
  CBSFinish(&mvt->cbs);
  RING_FOR(node, &pool->segRing, next) {
    SegDestroy(RING_ELT(SegStruct, poolRing, node));
  }
  mvt->total = 0;
}

/* ---- helpers ------------------------------------------------------------- */

/* Is [base, limit) covered by segments of this pool (possibly several
 * adjacent ones)? */
static Bool mvtRangeInPool(Pool pool, Addr base, Addr limit)
{
  Addr p = base;
  while (p < limit) {
    Seg seg;
    if (!ArenaSegOf(&seg, pool->arena, p) || seg->pool != pool) return FALSE;
    p = seg->limit;
  }
  return TRUE;
}

/* The attached buffer whose unused part [init, limit) overlaps [base,
 * limit), or NULL.  init is read atomically: its owner may be committing. */
static Buffer mvtBufferOverlapping(Pool pool, Addr base, Addr limit)
{
  Ring node, next;
  RING_FOR(node, &pool->bufferRing, next) {
    Buffer buf = RING_ELT(BufferStruct, poolRing, node);
    Addr init;
    if (buf->base == NULL) continue;
    init = (Addr)__atomic_load_n(&buf->ap.init, __ATOMIC_RELAXED);
    if (init < buf->poolLimit && base < buf->poolLimit && limit > init) return buf;
  }
  return NULL;
}

/* Give back to the arena the segments wholly inside the free range r,
 * while free space stays at least the reserve. */
static void mvtReturnSegments(MVT mvt, Range r)
{
  Pool pool = &mvt->poolStruct;
  Addr p = r->base;
  while (p < r->limit && mvt->cbs.size > mvt->reserve) {
    Seg seg = NULL;
    Bool found = ArenaSegOf(&seg, pool->arena, p);
    Size size;
    AVER(found && seg->pool == pool);
    if (!found) return;
    size = SegSize(seg);
    p = seg->limit;
    if (seg->base >= r->base && seg->limit <= r->limit && mvt->cbs.size >= size &&
        mvt->cbs.size - size >= mvt->reserve) {
      if (CBSDelete(&mvt->cbs, seg->base, seg->limit) != RES_OK) return; /* no node */
      mvt->total -= size;
      SegDestroy(seg);
    }
  }
}

/* Make [base, limit) free: into the CBS, or onto the pending list. */
static void mvtFreeRange(MVT mvt, Addr base, Addr limit)
{
  RangeStruct r;
  Res res = CBSInsert(&r, &mvt->cbs, base, limit);
  AVER(res != RES_FAIL); /* callers checked for overlap */
  if (res == RES_OK)
    mvtReturnSegments(mvt, &r);
  else
    PendingPush(&mvt->pending, base, limit);
}

/* ---- allocation ------------------------------------------------------------ */

/* Take [base, base + size) from the start of a free range. */
static Res mvtTake(Addr *baseReturn, Addr *limitReturn, MVT mvt, Addr base, Size size)
{
  Res res = CBSDelete(&mvt->cbs, base, AddrAdd(base, size));
  AVER(res == RES_OK); /* deleting from a range's base never needs a node */
  if (res != RES_OK) return res;
  *baseReturn = base;
  *limitReturn = AddrAdd(base, size);
  return RES_OK;
}

/* A new segment of at least segSize bytes; the buffer is its first `size`. */
static Res mvtExtend(Addr *baseReturn, Addr *limitReturn, MVT mvt, Size size, Size segSize)
{
  Pool pool = &mvt->poolStruct;
  Size grain = pool->arena->grainSize;
  Seg seg;
  Res res;
  if (segSize < size) segSize = size;
  if (SizeAddOverflows(segSize, grain)) return RES_RESOURCE;
  res = SegCreate(&seg, pool, SizeAlignUp(segSize, grain), sizeof(SegStruct), FALSE);
  if (res != RES_OK) return res;
  mvt->total += SegSize(seg);
  *baseReturn = seg->base;
  *limitReturn = AddrAdd(seg->base, size);
  if (*limitReturn < seg->limit) mvtFreeRange(mvt, *limitReturn, seg->limit);
  return RES_OK;
}

static Res mvtBufferFill(Addr *baseReturn, Addr *limitReturn, Pool pool, Buffer buffer, Size size)
{
  MVT mvt = MVTOf(pool);
  RangeStruct r;
  Res res = RES_RESOURCE;
  Bool fragmented, extended = FALSE;
  Size rsize;

  UNUSED(buffer);
  AVER(size > 0 && SizeAlignUp(size, pool->alignment) == size);
  PendingFlush(&mvt->pending, &mvt->cbs, NULL, NULL);
  if (size > mvt->fillSize) { /* 1 */
    if (CBSFindFirst(&r, &mvt->cbs, size))
      return mvtTake(baseReturn, limitReturn, mvt, r.base, size);
    return mvtExtend(baseReturn, limitReturn, mvt, size, size);
  }
  if (CBSFindLargest(&r, &mvt->cbs) && AddrOffset(r.base, r.limit) >= mvt->fillSize)
    return mvtTake(baseReturn, limitReturn, mvt, r.base, mvt->fillSize); /* 2 */
  fragmented = mvt->total > 0 && (double)mvtFreeBytes(mvt) > mvt->fragLimit * (double)mvt->total;
  if (!fragmented) { /* 3 */
    res = mvtExtend(baseReturn, limitReturn, mvt, mvt->fillSize, mvt->extendSize);
    if (res == RES_OK) return RES_OK;
    extended = TRUE;
  }
  if (CBSFindFirst(&r, &mvt->cbs, size)) { /* 4 */
    rsize = AddrOffset(r.base, r.limit);
    return mvtTake(baseReturn, limitReturn, mvt, r.base,
                   rsize < mvt->fillSize ? rsize : mvt->fillSize);
  }
  if (!extended) /* 5 */
    res = mvtExtend(baseReturn, limitReturn, mvt, mvt->fillSize, mvt->extendSize);
  return res;
}

static void mvtBufferEmpty(Pool pool, Buffer buffer, Addr init, Addr limit)
{
  MVT mvt = MVTOf(pool);
  UNUSED(buffer);
  AVER(init <= limit);
  PendingFlush(&mvt->pending, &mvt->cbs, NULL, NULL);
  if (init < limit) mvtFreeRange(mvt, init, limit);
}

/* ---- freeing ------------------------------------------------------------- */

static Res mvtFree(Pool pool, Seg seg, Addr old, Size size)
{
  MVT mvt = MVTOf(pool);
  Size align = pool->alignment;
  Addr limit;
  RangeStruct r;
  Buffer buf;

  UNUSED(seg);
  if (!AddrIsAligned(old, align))
    return MISUSE("mps_free: %p is misaligned for this MVT pool (alignment %zu): "
                  "not the start of a block",
                  (void *)old, align);
  if (SizeAddOverflows(size, align) || (Word)old + SizeAlignUp(size, align) < (Word)old)
    return MISUSE("mps_free: size %zu of block %p is impossibly large", size, (void *)old);
  size = SizeAlignUp(size, align);
  limit = AddrAdd(old, size);
  if (!mvtRangeInPool(pool, old, limit))
    return MISUSE("mps_free: block %p of %zu bytes runs past the end of this MVT pool's "
                  "memory (wrong size?)",
                  (void *)old, size);
  PendingFlush(&mvt->pending, &mvt->cbs, NULL, NULL);
  if (CBSOverlaps(&mvt->cbs, old, limit) || PendingOverlap(&r, &mvt->pending, old, limit)) {
    if (CBSFindContaining(&r, &mvt->cbs, old) ||
        PendingOverlap(&r, &mvt->pending, old, AddrAdd(old, 1)))
      return MISUSE("mps_free: block %p of %zu bytes is already free, in free range "
                    "[%p, %p) of this MVT pool (double free?)",
                    (void *)old, size, (void *)r.base, (void *)r.limit);
    return MISUSE("mps_free: block %p of %zu bytes runs into free space of this MVT pool "
                  "(wrong size: larger than was allocated?)",
                  (void *)old, size);
  }
  buf = mvtBufferOverlapping(pool, old, limit);
  if (buf != NULL)
    return MISUSE("mps_free: block %p of %zu bytes overlaps the unallocated part [%p, %p) "
                  "of an allocation point's buffer (never allocated, or wrong size?)",
                  (void *)old, size, buf->ap.init, (void *)buf->poolLimit);
  mvtFreeRange(mvt, old, limit);
  return RES_OK;
}

/* ---- sizes and checking -------------------------------------------------- */

static Size mvtTotalSize(Pool pool) { return MVTOf(pool)->total; }
static Size mvtFreeSize(Pool pool) { return mvtFreeBytes(MVTOf(pool)); }

/* A free or pending range is well-formed: aligned, non-empty, inside the
 * pool and clear of every attached buffer's unused part. */
static Bool mvtRangeOK(Pool pool, Addr base, Addr limit)
{
  return base < limit && AddrIsAligned(base, pool->alignment) &&
         AddrIsAligned(limit, pool->alignment) && mvtRangeInPool(pool, base, limit) &&
         mvtBufferOverlapping(pool, base, limit) == NULL;
}

static Bool mvtVisitRange(Addr base, Addr limit, void *closure)
{
  return mvtRangeOK(closure, base, limit);
}

static Bool mvtVisitPending(Addr base, Addr limit, void *closure)
{
  MVT mvt = closure;
  return mvtRangeOK(&mvt->poolStruct, base, limit) && !CBSOverlaps(&mvt->cbs, base, limit);
}

static Bool mvtConsistent(Pool pool)
{
  MVT mvt = MVTOf(pool);
  Ring node, next, node2, next2;
  Size total = 0;

  if (!CBSConsistent(&mvt->cbs)) return FALSE;
  if (!(mvt->fillSize > 0 && mvt->extendSize >= mvt->fillSize)) return FALSE;
  RING_FOR(node, &pool->segRing, next) {
    Seg seg = RING_ELT(SegStruct, poolRing, node), found;
    if (!SegCheck(seg) || seg->pool != pool) return FALSE;
    if (!ArenaSegOf(&found, pool->arena, seg->base) || found != seg) return FALSE;
    total += SegSize(seg);
  }
  if (total != mvt->total) return FALSE;
  if (!CBSIterate(&mvt->cbs, mvtVisitRange, pool)) return FALSE;
  if (!PendingIterate(&mvt->pending, mvtVisitPending, mvt)) return FALSE;
  /* Attached buffers' unused parts lie in the pool and are disjoint.  (The
   * used part [base, init) may have been freed and its segments returned.) */
  RING_FOR(node, &pool->bufferRing, next) {
    Buffer buf = RING_ELT(BufferStruct, poolRing, node);
    if (buf->base == NULL) continue;
    if (!mvtRangeInPool(pool, (Addr)buf->ap.init, buf->poolLimit)) return FALSE;
    RING_FOR(node2, &pool->bufferRing, next2) {
      Buffer other = RING_ELT(BufferStruct, poolRing, node2);
      if (other == buf || other->base == NULL) continue;
      if ((Addr)buf->ap.init < buf->poolLimit && (Addr)other->ap.init < other->poolLimit &&
          (Addr)buf->ap.init < other->poolLimit && buf->poolLimit > (Addr)other->ap.init)
        return FALSE;
    }
  }
  return mvtFreeBytes(mvt) <= mvt->total;
}

static PoolClassStruct poolClassMVT = {
  .sig = PoolClassSig,
  .name = "MVT",
  .size = sizeof(MVTStruct),
  .attr = POOL_ATTR_FREE | POOL_ATTR_AP,
  .varargs = mvtVarargs,
  .init = mvtInit,
  .finish = mvtFinish,
  .free = mvtFree,
  .bufferFill = mvtBufferFill,
  .bufferEmpty = mvtBufferEmpty,
  .totalSize = mvtTotalSize,
  .freeSize = mvtFreeSize,
  .consistent = mvtConsistent,
  .apRanks = RANK_SET(RANK_EXACT),
};

mps_pool_class_t mps_class_mvt(void) { return &poolClassMVT; }
