/* poolmvff.c -- MVFF, Manual Variable First Fit (spec §3.9).
 *
 * Free space is one coalescing block structure over all of the pool's
 * segments, so a free range may span two adjacent segments and a block
 * may too.  mps_alloc takes the lowest (FIRST_FIT) or highest range that
 * fits and cuts the block from its low or high end (SLOT_HIGH).
 * Allocation points are filled worst fit: the largest free range, whole.
 * When free space exceeds the spare share of the pool, segments lying
 * wholly inside the range just freed go back to the arena.
 *
 * Invariants: free ranges lie in the pool's segments and outside every
 * allocation point's unused buffer; total = the sizes of the segments;
 * free space = the CBS plus the pending list.
 * Design: docs/design/mvff.md.
 */
#include "poolmvff.h"
#include "buffer.h"
#include "arg.h"
#include "mpscmvff.h"

/* ---- the pending list -----------------------------------------------------
 * A free that cannot get a tree node (commit limit) keeps the block here,
 * written in the block itself: the first word links to the next entry;
 * its low bit set means the block is exactly one alignment unit, otherwise
 * the second word holds the size.  Entries are retried on every
 * operation. */

static void mvffPendingPush(MVFF mvff, Addr base, Size size)
{
  Size align = mvff->poolStruct.alignment;
  Word link = (Word)mvff->pending;
  if (size == align) link |= 1;
  else ((Size *)(void *)base)[1] = size;
  *(Word *)(void *)base = link;
  mvff->pending = base;
  mvff->pendingSize += size;
}

static void mvffPendingFlush(MVFF mvff)
{
  Size align = mvff->poolStruct.alignment;
  while (mvff->pending != NULL) {
    Addr base = mvff->pending;
    Word link = *(Word *)(void *)base;
    Size size = (link & 1) ? align : ((Size *)(void *)base)[1];
    RangeStruct r;
    if (CBSInsert(&r, &mvff->freeCBS, base, AddrAdd(base, size)) != RES_OK) return;
    mvff->pending = (void *)(link & ~(Word)1);
    mvff->pendingSize -= size;
  }
}

/* ---- segments ------------------------------------------------------------ */

static Res mvffExtend(MVFF mvff, Size size)
{
  Pool pool = &mvff->poolStruct;
  Size segSize = size > mvff->extendBy ? size : mvff->extendBy;
  RangeStruct r = {NULL, NULL};
  Seg seg;
  Res res;

  segSize = SizeAlignUp(segSize, pool->arena->grainSize);
  res = SegCreate(&seg, pool, segSize, sizeof(SegStruct), mvff->arenaHigh);
  if (res != RES_OK) return res;
  if (mvff->fresh != NULL) mvff->fresh(mvff, seg->base, seg->limit);
  res = CBSInsert(&r, &mvff->freeCBS, seg->base, seg->limit);
  if (res != RES_OK) { SegDestroy(seg); return res; }
  mvff->total += segSize;
  return RES_OK;
}

/* Give back segments lying wholly inside the free range r while free
 * space exceeds the spare share. */
static void mvffReturnSegments(MVFF mvff, RangeStruct r)
{
  Pool pool = &mvff->poolStruct;
  Arena arena = pool->arena;
  Addr a = AddrAlignUp(r.base, arena->grainSize);
  while (a < r.limit
         && (double)mvff->freeCBS.size > mvff->spare * (double)mvff->total) {
    Seg seg;
    Addr next;
    if (!ArenaSegOf(&seg, arena, a) || seg->pool != pool) return;
    next = seg->limit;
    if (seg->base >= r.base && seg->limit <= r.limit
        && CBSDelete(&mvff->freeCBS, seg->base, seg->limit) == RES_OK) {
      if (mvff->returning != NULL) mvff->returning(mvff, seg->base, seg->limit);
      mvff->total -= SegSize(seg);
      SegDestroy(seg);
    }
    a = next;
  }
}

/* ---- allocation ------------------------------------------------------------- */

INTERN Res MVFFAllocRange(Addr *baseReturn, MVFF mvff, Size size)
{
  RangeStruct r = {NULL, NULL};
  Addr base;
  Bool found;
  Res res;

  mvffPendingFlush(mvff);
  found = mvff->firstFit ? CBSFindFirst(&r, &mvff->freeCBS, size)
                         : CBSFindLast(&r, &mvff->freeCBS, size);
  if (!found) {
    res = mvffExtend(mvff, size);
    if (res != RES_OK) return res;
    found = mvff->firstFit ? CBSFindFirst(&r, &mvff->freeCBS, size)
                           : CBSFindLast(&r, &mvff->freeCBS, size);
    AVER(found);
  }
  base = mvff->slotHigh ? AddrSub(r.limit, size) : r.base;
  /* cutting from an end of a range never needs a new node */
  res = CBSDelete(&mvff->freeCBS, base, AddrAdd(base, size));
  AVER(res == RES_OK);
  *baseReturn = base;
  return RES_OK;
}

INTERN Res MVFFFreeRange(MVFF mvff, Addr base, Addr limit)
{
  RangeStruct r = {NULL, NULL};
  Res res;
  mvffPendingFlush(mvff);
  res = CBSInsert(&r, &mvff->freeCBS, base, limit);
  if (res == RES_FAIL) return res;
  if (res != RES_OK) {
    mvffPendingPush(mvff, base, AddrOffset(base, limit));
    return RES_OK;
  }
  if ((double)mvff->freeCBS.size > mvff->spare * (double)mvff->total
      && AddrOffset(r.base, r.limit) >= mvff->poolStruct.arena->grainSize)
    mvffReturnSegments(mvff, r);
  return RES_OK;
}

INTERN Res MVFFCheckFreeable(MVFF mvff, Addr base, Size size)
{
  Pool pool = &mvff->poolStruct;
  Addr limit = AddrAdd(base, size);
  Ring node, next;
  Seg seg;

  if (!AddrIsAligned(base, pool->alignment))
    return MISUSE("mps_free: %p is not aligned to this %s pool's alignment %zu",
                  (void *)base, pool->klass->name, pool->alignment);
  if (limit < base || !ArenaSegOf(&seg, pool->arena, AddrSub(limit, 1)) || seg->pool != pool)
    return MISUSE("mps_free: block %p of %zu bytes runs past the end of this %s pool's "
                  "memory (wrong size?)", (void *)base, size, pool->klass->name);
  RING_FOR(node, &pool->bufferRing, next) {
    Buffer buf = RING_ELT(BufferStruct, poolRing, node);
    if (buf->base != NULL && base < buf->poolLimit && limit > (Addr)buf->ap.init)
      return MISUSE("mps_free: block %p of %zu bytes overlaps the unused part of an "
                    "allocation point's buffer (never allocated, or wrong size)",
                    (void *)base, size);
  }
  return RES_OK;
}

static Res mvffAlloc(Addr *pReturn, Pool pool, Size size)
{
  return MVFFAllocRange(pReturn, MVFFOf(pool), SizeAlignUp(size, pool->alignment));
}

static Res mvffFree(Pool pool, Addr old, Size size)
{
  MVFF mvff = MVFFOf(pool);
  RangeStruct r = {NULL, NULL};
  Res res;
  size = SizeAlignUp(size, pool->alignment);
  res = MVFFCheckFreeable(mvff, old, size);
  if (res != RES_OK) return res;
  res = MVFFFreeRange(mvff, old, AddrAdd(old, size));
  if (res == RES_FAIL) {
    if (CBSFindContaining(&r, &mvff->freeCBS, old))
      return MISUSE("mps_free: block %p is already free (double free)", (void *)old);
    return MISUSE("mps_free: block %p of %zu bytes overlaps free space (wrong size, or "
                  "a neighbour was freed twice)", (void *)old, size);
  }
  return res;
}

/* ---- allocation points: worst fit, the whole range ---------------------------- */

INTERN Res MVFFBufferFill(Addr *baseReturn, Addr *limitReturn, Pool pool, Buffer buffer, Size size)
{
  MVFF mvff = MVFFOf(pool);
  RangeStruct r = {NULL, NULL};
  Res res;
  UNUSED(buffer);
  mvffPendingFlush(mvff);
  if (!CBSFindLargest(&r, &mvff->freeCBS) || AddrOffset(r.base, r.limit) < size) {
    res = mvffExtend(mvff, size);
    if (res != RES_OK) return res;
    (void)CBSFindLargest(&r, &mvff->freeCBS);
    AVER(AddrOffset(r.base, r.limit) >= size);
  }
  res = CBSDelete(&mvff->freeCBS, r.base, r.limit);
  AVER(res == RES_OK);
  *baseReturn = r.base;
  *limitReturn = r.limit;
  return RES_OK;
}

INTERN void MVFFBufferEmpty(Pool pool, Buffer buffer, Addr init, Addr limit)
{
  UNUSED(buffer);
  if (init < limit) (void)MVFFFreeRange(MVFFOf(pool), init, limit);
}

/* ---- creation, sizes, checks --------------------------------------------------- */

INTERN void MVFFVarargs(ArgStruct *args, va_list varargs)
{
  args[0].key = MPS_KEY_EXTEND_BY;
  args[0].val.size = va_arg(varargs, size_t);
  args[1].key = MPS_KEY_MEAN_SIZE;
  args[1].val.size = va_arg(varargs, size_t);
  args[2].key = MPS_KEY_ALIGN;
  args[2].val.align = va_arg(varargs, mps_align_t);
  args[3].key = MPS_KEY_MVFF_SLOT_HIGH;
  args[3].val.b = va_arg(varargs, mps_bool_t);
  args[4].key = MPS_KEY_MVFF_ARENA_HIGH;
  args[4].val.b = va_arg(varargs, mps_bool_t);
  args[5].key = MPS_KEY_MVFF_FIRST_FIT;
  args[5].val.b = va_arg(varargs, mps_bool_t);
  args[6].key = MPS_KEY_ARGS_END;
}

INTERN Res MVFFInit(Pool pool, ArgList args)
{
  MVFF mvff = MVFFOf(pool);
  Arena arena = pool->arena;
  ArgStruct arg;
  Size align = PF_ALIGN;

  mvff->extendBy = 65536;
  mvff->meanSize = 32;
  mvff->spare = 0.75;
  mvff->arenaHigh = FALSE;
  mvff->slotHigh = FALSE;
  mvff->firstFit = TRUE;
  if (ArgPick(&arg, args, MPS_KEY_EXTEND_BY)) {
    if (arg.val.size == 0) return MISUSE("mps_pool_create_k: MVFF MPS_KEY_EXTEND_BY is zero");
    mvff->extendBy = arg.val.size;
  }
  if (ArgPick(&arg, args, MPS_KEY_MEAN_SIZE)) {
    if (arg.val.size == 0) return MISUSE("mps_pool_create_k: MVFF MPS_KEY_MEAN_SIZE is zero");
    mvff->meanSize = arg.val.size;
  }
  if (ArgPick(&arg, args, MPS_KEY_ALIGN)) {
    align = arg.val.align;
    if (!SizeIsP2(align) || align < sizeof(void *) || align > arena->grainSize)
      return MISUSE("mps_pool_create_k: MVFF MPS_KEY_ALIGN %zu must be a power of two "
                    "between %zu and the arena grain %zu", align, sizeof(void *),
                    arena->grainSize);
  }
  if (ArgPick(&arg, args, MPS_KEY_SPARE)) {
    if (!(arg.val.d >= 0.0 && arg.val.d <= 1.0))
      return MISUSE("mps_pool_create_k: MVFF MPS_KEY_SPARE %g is not between 0 and 1",
                    arg.val.d);
    mvff->spare = arg.val.d;
  }
  if (ArgPick(&arg, args, MPS_KEY_MVFF_ARENA_HIGH)) mvff->arenaHigh = arg.val.b != 0;
  if (ArgPick(&arg, args, MPS_KEY_MVFF_SLOT_HIGH)) mvff->slotHigh = arg.val.b != 0;
  if (ArgPick(&arg, args, MPS_KEY_MVFF_FIRST_FIT)) mvff->firstFit = arg.val.b != 0;
  pool->alignment = align;
  mvff->total = 0;
  mvff->pending = NULL;
  mvff->pendingSize = 0;
  mvff->fresh = mvff->returning = NULL;
  CBSInit(&mvff->freeCBS, arena, TRUE);
  return RES_OK;
}

INTERN void MVFFFinish(Pool pool)
{
  CBSFinish(&MVFFOf(pool)->freeCBS);
  /* PoolDestroy returns the segments */
}

INTERN Size MVFFTotalSize(Pool pool) { return MVFFOf(pool)->total; }

INTERN Size MVFFFreeSize(Pool pool)
{
  MVFF mvff = MVFFOf(pool);
  return mvff->freeCBS.size + mvff->pendingSize;
}

typedef struct MVFFRangeCheckClosure { Pool pool; Bool ok; } MVFFRangeCheckClosure;

static Bool mvffFreeRangeOK(Addr base, Addr limit, void *p)
{
  MVFFRangeCheckClosure *c = p;
  Seg seg;
  Ring node, next;
  if (!ArenaSegOf(&seg, c->pool->arena, base) || seg->pool != c->pool
      || !ArenaSegOf(&seg, c->pool->arena, AddrSub(limit, 1)) || seg->pool != c->pool
      || !AddrIsAligned(base, c->pool->alignment) || !AddrIsAligned(limit, c->pool->alignment)) {
    c->ok = FALSE;
    return FALSE;
  }
  RING_FOR(node, &c->pool->bufferRing, next) {
    Buffer buf = RING_ELT(BufferStruct, poolRing, node);
    if (buf->base != NULL && base < buf->poolLimit && limit > (Addr)buf->ap.init) {
      c->ok = FALSE;
      return FALSE;
    }
  }
  return TRUE;
}

INTERN Bool MVFFConsistent(Pool pool)
{
  MVFF mvff = MVFFOf(pool);
  MVFFRangeCheckClosure c;
  Ring node, next;
  Size total = 0;
  if (!CBSConsistent(&mvff->freeCBS)) return FALSE;
  RING_FOR(node, &pool->segRing, next) {
    Seg seg = RING_ELT(SegStruct, poolRing, node);
    if (!SegCheck(seg) || seg->pool != pool) return FALSE;
    total += SegSize(seg);
  }
  if (total != mvff->total || MVFFFreeSize(pool) > total) return FALSE;
  c.pool = pool;
  c.ok = TRUE;
  (void)CBSIterate(&mvff->freeCBS, mvffFreeRangeOK, &c);
  return c.ok;
}

static PoolClassStruct poolClassMVFF = {
  PoolClassSig, "MVFF", sizeof(MVFFStruct),
  POOL_ATTR_ALLOC | POOL_ATTR_FREE | POOL_ATTR_AP | POOL_ATTR_SAC,
  MVFFVarargs, MVFFInit, MVFFFinish, mvffAlloc, mvffFree, MVFFBufferFill, MVFFBufferEmpty,
  MVFFTotalSize, MVFFFreeSize, MVFFConsistent, NULL, NULL
};

mps_pool_class_t mps_class_mvff(void) { return &poolClassMVFF; }
