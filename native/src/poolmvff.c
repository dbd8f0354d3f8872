/* poolmvff.c -- MVFF, Manual Variable First Fit (docs/design/mvff.md).
 *
 * Free space is one coalescing block structure over all of the pool's
 * segments, so a free range may span two adjacent segments and a block
 * may too.  mps_alloc takes the lowest (FIRST_FIT) or highest range that
 * fits and cuts the block from its low or high end (SLOT_HIGH).
 * Allocation points are filled worst fit: the largest free range, whole.
 * When free space exceeds the spare share of the pool, segments lying
 * wholly inside the range just freed go back to the arena.
 *
 * Each segment has a bit per alignment unit saying "free", so a free is
 * checked against double frees and overlaps in a few word operations.
 * With the default placement, freed blocks of up to MVFF_QUICK_MAX bytes
 * go to exact-size quick lists first and are reused from there; a list
 * that reaches MVFF_QUICK_DEPTH blocks, and every list before the pool
 * grows or fills an allocation point, is flushed into the tree, where the
 * blocks coalesce.  Quick lists trade strict lowest-address placement of
 * small blocks for constant-time reuse.
 *
 * A free that cannot get a tree node goes on the pending list (pending.h).
 *
 * Invariants: free ranges lie in the pool's segments and outside every
 * allocation point's unused buffer; a unit's free bit is set iff it lies
 * in the tree, on a quick list or on the pending list; total = the sizes
 * of the segments; free space = tree + quick lists + pending list.
 * Design: docs/design/mvff.md.
 */
#include "poolmvff.h"
#include "buffer.h"
#include "arg.h"
#include "mpscmvff.h"

/* A range leaving the pending list had its first words overwritten by the
 * list; a debug pool lays its free pattern over it again. */
static void mvffPendingRestore(Addr base, Addr limit, void *closure)
{
  MVFF mvff = closure;
  if (mvff->fresh != NULL) mvff->fresh(mvff, base, limit);
}

/* ---- the free bit tables ---------------------------------------------------- */

/* Set or reset the free bits of [base, limit), which may span segments. */
static void mvffMark(MVFF mvff, Addr base, Addr limit, Bool free)
{
  Pool pool = &mvff->poolStruct;
  while (base < limit) {
    Seg seg = NULL;
    MVFFSeg mseg;
    Addr end;
    Bool found = ArenaSegOf(&seg, pool->arena, base);
    AVER(found && seg->pool == pool);
    UNUSED(found);
    mseg = (MVFFSeg)seg;
    end = limit < seg->limit ? limit : seg->limit;
    if (free)
      BTSetRange(mseg->freeTable, AddrOffset(seg->base, base) >> mvff->alignShift,
                 AddrOffset(seg->base, end) >> mvff->alignShift);
    else
      BTResRange(mseg->freeTable, AddrOffset(seg->base, base) >> mvff->alignShift,
                 AddrOffset(seg->base, end) >> mvff->alignShift);
    base = end;
  }
}

enum { MVFF_ALLOCATED, MVFF_START_FREE, MVFF_PART_FREE, MVFF_NOT_OURS };

/* Is every unit of [base, limit) allocated and in this pool? */
static int mvffState(MVFF mvff, Addr base, Addr limit)
{
  Pool pool = &mvff->poolStruct;
  Addr a = base;
  while (a < limit) {
    Seg seg;
    MVFFSeg mseg;
    Addr end;
    Index i;
    if (!ArenaSegOf(&seg, pool->arena, a) || seg->pool != pool) return MVFF_NOT_OURS;
    mseg = (MVFFSeg)seg;
    end = limit < seg->limit ? limit : seg->limit;
    i = AddrOffset(seg->base, a) >> mvff->alignShift;
    if (a == base && BTGet(mseg->freeTable, i)) return MVFF_START_FREE;
    if (!BTIsResRange(mseg->freeTable, i, AddrOffset(seg->base, end) >> mvff->alignShift))
      return MVFF_PART_FREE;
    a = end;
  }
  return MVFF_ALLOCATED;
}

/* ---- segments ------------------------------------------------------------ */

static void mvffSegDestroy(MVFF mvff, MVFFSeg mseg)
{
  ControlFree(mvff->poolStruct.arena, mseg->freeTable, BTSize(mseg->units));
  SegDestroy(&mseg->segStruct);
}

static Res mvffExtend(MVFF mvff, Size size)
{
  Pool pool = &mvff->poolStruct;
  Size segSize = size > mvff->extendBy ? size : mvff->extendBy;
  RangeStruct r = { NULL, NULL };
  Count units;
  void *bt;
  Seg seg;
  Res res;

  segSize = SizeAlignUp(segSize, pool->arena->grainSize);
  units = segSize >> mvff->alignShift;
  res = ControlAlloc(&bt, pool->arena, BTSize(units));
  if (res != RES_OK) return res;
  res = SegCreate(&seg, pool, segSize, sizeof(MVFFSegStruct), mvff->arenaHigh);
  if (res != RES_OK) {
    ControlFree(pool->arena, bt, BTSize(units));
    return res;
  }
  ((MVFFSeg)seg)->units = units;
  ((MVFFSeg)seg)->freeTable = bt;
  if (mvff->fresh != NULL) mvff->fresh(mvff, seg->base, seg->limit);
  res = CBSInsert(&r, &mvff->freeCBS, seg->base, seg->limit);
  if (res != RES_OK) {
    mvffSegDestroy(mvff, (MVFFSeg)seg);
    return res;
  }
  BTSetRange(bt, 0, units);
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
  while (a < r.limit && (double)mvff->freeCBS.size > mvff->spare * (double)mvff->total) {
    Seg seg;
    Addr next;
    if (!ArenaSegOf(&seg, arena, a) || seg->pool != pool) return;
    next = seg->limit;
    if (seg->base >= r.base && seg->limit <= r.limit &&
        CBSDelete(&mvff->freeCBS, seg->base, seg->limit) == RES_OK) {
      if (mvff->returning != NULL) mvff->returning(mvff, seg->base, seg->limit);
      mvff->total -= SegSize(seg);
      mvffSegDestroy(mvff, (MVFFSeg)seg);
    }
    a = next;
  }
}

/* ---- quick lists ----------------------------------------------------------- */

static void mvffInsertFree(MVFF mvff, Addr base, Addr limit);

static void mvffQuickFlushSlot(MVFF mvff, Index i)
{
  Size size = (Size)i << mvff->alignShift;
  while (mvff->quickList[i] != NULL) {
    Addr b = mvff->quickList[i];
    mvff->quickList[i] = *(void **)b;
    mvff->quickSize -= size;
    mvffInsertFree(mvff, b, AddrAdd(b, size));
  }
  mvff->quickCount[i] = 0;
}

static void mvffQuickFlush(MVFF mvff)
{
  Index i;
  for (i = 0; i < MVFF_QUICK_SLOTS && mvff->quickSize > 0; ++i)
    if (mvff->quickList[i] != NULL) mvffQuickFlushSlot(mvff, i);
}

/* ---- allocation ------------------------------------------------------------- */

static Bool mvffFind(Range r, MVFF mvff, Size size)
{
  return mvff->firstFit ? CBSFindFirst(r, &mvff->freeCBS, size)
                        : CBSFindLast(r, &mvff->freeCBS, size);
}

INTERN Res MVFFAllocRange(Addr *baseReturn, MVFF mvff, Size size)
{
  RangeStruct r = { NULL, NULL };
  Addr base;
  Res res;

  PendingFlush(&mvff->pending, &mvff->freeCBS, mvffPendingRestore, mvff);
  if (!mvffFind(&r, mvff, size)) {
    mvffQuickFlush(mvff);
    if (!mvffFind(&r, mvff, size)) {
      res = mvffExtend(mvff, size);
      if (res != RES_OK) return res;
      if (!mvffFind(&r, mvff, size)) return RES_FAIL;
    }
  }
  base = mvff->slotHigh ? AddrSub(r.limit, size) : r.base;
  /* cutting from an end of a range never needs a new node */
  res = CBSDelete(&mvff->freeCBS, base, AddrAdd(base, size));
  AVER(res == RES_OK);
  mvffMark(mvff, base, AddrAdd(base, size), FALSE);
  *baseReturn = base;
  return RES_OK;
}

/* Put free (already marked) space into the tree, or on the pending list
 * if no node can be had; then perhaps give segments back. */
static void mvffInsertFree(MVFF mvff, Addr base, Addr limit)
{
  RangeStruct r = { NULL, NULL };
  Res res = CBSInsert(&r, &mvff->freeCBS, base, limit);
  AVER(res != RES_FAIL); /* the free bits said it was allocated */
  if (res != RES_OK) {
    PendingPush(&mvff->pending, base, limit);
    return;
  }
  if ((double)mvff->freeCBS.size > mvff->spare * (double)mvff->total &&
      AddrOffset(r.base, r.limit) >= mvff->poolStruct.arena->grainSize)
    mvffReturnSegments(mvff, r);
}

INTERN void MVFFFreeRange(MVFF mvff, Addr base, Addr limit)
{
  AVER_CRITICAL(mvffState(mvff, base, limit) == MVFF_ALLOCATED);
  PendingFlush(&mvff->pending, &mvff->freeCBS, mvffPendingRestore, mvff);
  mvffMark(mvff, base, limit, TRUE);
  mvffInsertFree(mvff, base, limit);
}

INTERN Res MVFFCheckFreeable(MVFF mvff, Addr base, Size size)
{
  Pool pool = &mvff->poolStruct;
  Addr limit = AddrAdd(base, size);
  Ring node, next;

  if (!AddrIsAligned(base, pool->alignment))
    return MISUSE("mps_free: %p is not aligned to this %s pool's alignment %zu", (void *)base,
                  pool->klass->name, pool->alignment);
  if (limit < base)
    return MISUSE("mps_free: block %p of %zu bytes wraps around the address space", (void *)base,
                  size);
  switch (mvffState(mvff, base, limit)) {
  case MVFF_START_FREE:
    return MISUSE("mps_free: block %p is already free (double free)", (void *)base);
  case MVFF_PART_FREE:
    return MISUSE("mps_free: block %p of %zu bytes overlaps free space (wrong size, or "
                  "a neighbour was freed twice)",
                  (void *)base, size);
  case MVFF_NOT_OURS:
    return MISUSE("mps_free: block %p of %zu bytes runs past the end of this %s pool's "
                  "memory (wrong size?)",
                  (void *)base, size, pool->klass->name);
  default: break;
  }
  RING_FOR(node, &pool->bufferRing, next) {
    Buffer buf = RING_ELT(BufferStruct, poolRing, node);
    Addr init = (Addr)__atomic_load_n(&buf->ap.init, __ATOMIC_RELAXED);
    if (buf->base != NULL && init < buf->poolLimit && base < buf->poolLimit && limit > init)
      return MISUSE("mps_free: block %p of %zu bytes overlaps the unused part of an "
                    "allocation point's buffer (never allocated, or wrong size)",
                    (void *)base, size);
  }
  return RES_OK;
}

static Res mvffAlloc(Addr *pReturn, Pool pool, Size size)
{
  MVFF mvff = MVFFOf(pool);
  size = SizeAlignUp(size, pool->alignment);
  if (mvff->quick && size <= MVFF_QUICK_MAX) {
    Index i = size >> mvff->alignShift;
    Addr p = mvff->quickList[i];
    if (p != NULL) {
      Seg seg = size >= 2 * sizeof(void *) ? ((Seg *)(void *)p)[1] : NULL;
      mvff->quickList[i] = *(void **)p;
      --mvff->quickCount[i];
      mvff->quickSize -= size;
      if (seg != NULL) /* the block lies in this one segment */
        BTResRange(((MVFFSeg)seg)->freeTable, AddrOffset(seg->base, p) >> mvff->alignShift,
                   (AddrOffset(seg->base, p) + size) >> mvff->alignShift);
      else
        mvffMark(mvff, p, AddrAdd(p, size), FALSE);
      *pReturn = p;
      return RES_OK;
    }
  }
  return MVFFAllocRange(pReturn, mvff, size);
}

/* A quick-list block holds the link in its first word and, if it has a
 * second, the segment containing all of it (or NULL if it spans two), so
 * that reusing it needs no page-table lookup. */
static void mvffQuickPush(MVFF mvff, Seg seg, Addr p, Size size)
{
  Index i = size >> mvff->alignShift;
  if (size >= 2 * sizeof(void *))
    ((Seg *)(void *)p)[1] = seg != NULL && AddrAdd(p, size) <= seg->limit ? seg : NULL;
  *(void **)p = mvff->quickList[i];
  mvff->quickList[i] = p;
  mvff->quickSize += size;
  if (++mvff->quickCount[i] > MVFF_QUICK_DEPTH) mvffQuickFlushSlot(mvff, i);
}

static Res mvffFree(Pool pool, Seg seg, Addr old, Size size)
{
  MVFF mvff = MVFFOf(pool);
  Addr limit;
  Res res;
  size = SizeAlignUp(size, pool->alignment);
  limit = AddrAdd(old, size);
  /* The common case, decided on the one segment PoolFree found: a small
   * aligned block, wholly allocated, in a pool with no allocation point. */
  if (mvff->quick && size <= MVFF_QUICK_MAX && limit <= seg->limit &&
      AddrIsAligned(old, pool->alignment) && RingIsSingle(&pool->bufferRing)) {
    BT bt = ((MVFFSeg)seg)->freeTable;
    Index i = AddrOffset(seg->base, old) >> mvff->alignShift;
    Index l = AddrOffset(seg->base, limit) >> mvff->alignShift;
    if (BTIsResRange(bt, i, l)) {
      BTSetRange(bt, i, l);
      mvffQuickPush(mvff, seg, old, size);
      return RES_OK;
    }
  }
  res = MVFFCheckFreeable(mvff, old, size);
  if (res != RES_OK) return res;
  if (mvff->quick && size <= MVFF_QUICK_MAX) {
    mvffMark(mvff, old, limit, TRUE);
    mvffQuickPush(mvff, seg, old, size);
    return RES_OK;
  }
  MVFFFreeRange(mvff, old, limit);
  return RES_OK;
}

/* ---- allocation points: worst fit, the whole range ---------------------------- */

INTERN Res MVFFBufferFill(Addr *baseReturn, Addr *limitReturn, Pool pool, Buffer buffer, Size size)
{
  MVFF mvff = MVFFOf(pool);
  RangeStruct r = { NULL, NULL };
  Res res;
  UNUSED(buffer);
  PendingFlush(&mvff->pending, &mvff->freeCBS, mvffPendingRestore, mvff);
  if (!CBSFindLargest(&r, &mvff->freeCBS) || AddrOffset(r.base, r.limit) < size) {
    mvffQuickFlush(mvff);
    (void)CBSFindLargest(&r, &mvff->freeCBS);
  }
  if (r.base == NULL || AddrOffset(r.base, r.limit) < size) {
    res = mvffExtend(mvff, size);
    if (res != RES_OK) return res;
    (void)CBSFindLargest(&r, &mvff->freeCBS);
    AVER(AddrOffset(r.base, r.limit) >= size);
  }
  res = CBSDelete(&mvff->freeCBS, r.base, r.limit);
  AVER(res == RES_OK);
  mvffMark(mvff, r.base, r.limit, FALSE);
  *baseReturn = r.base;
  *limitReturn = r.limit;
  return RES_OK;
}

INTERN void MVFFBufferEmpty(Pool pool, Buffer buffer, Addr init, Addr limit)
{
  UNUSED(buffer);
  if (init < limit) {
    MVFF mvff = MVFFOf(pool);
    mvffMark(mvff, init, limit, TRUE);
    mvffInsertFree(mvff, init, limit);
  }
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
  mvff->spare = 0.75;
  mvff->arenaHigh = FALSE;
  mvff->slotHigh = FALSE;
  mvff->firstFit = TRUE;
  if (ArgPick(&arg, args, MPS_KEY_EXTEND_BY)) {
    if (arg.val.size == 0 || arg.val.size > SIZE_LIMIT)
      return MISUSE("mps_pool_create_k: MVFF MPS_KEY_EXTEND_BY %zu is zero or too large",
                    arg.val.size);
    mvff->extendBy = arg.val.size;
  }
  if (ArgPick(&arg, args, MPS_KEY_MEAN_SIZE)) {
    /* a hint this placement policy does not need; only checked */
    if (arg.val.size == 0) return MISUSE("mps_pool_create_k: MVFF MPS_KEY_MEAN_SIZE is zero");
  }
  if (ArgPick(&arg, args, MPS_KEY_ALIGN)) {
    align = arg.val.align;
    if (!SizeIsP2(align) || align < sizeof(void *) || align > arena->grainSize)
      return MISUSE("mps_pool_create_k: MVFF MPS_KEY_ALIGN %zu must be a power of two "
                    "between %zu and the arena grain %zu",
                    align, sizeof(void *), arena->grainSize);
  }
  if (ArgPick(&arg, args, MPS_KEY_SPARE)) {
    if (!(arg.val.d >= 0.0 && arg.val.d <= 1.0))
      return MISUSE("mps_pool_create_k: MVFF MPS_KEY_SPARE %g is not between 0 and 1", arg.val.d);
    mvff->spare = arg.val.d;
  }
  if (ArgPick(&arg, args, MPS_KEY_MVFF_ARENA_HIGH)) mvff->arenaHigh = arg.val.b != 0;
  if (ArgPick(&arg, args, MPS_KEY_MVFF_SLOT_HIGH)) mvff->slotHigh = arg.val.b != 0;
  if (ArgPick(&arg, args, MPS_KEY_MVFF_FIRST_FIT)) mvff->firstFit = arg.val.b != 0;
  pool->alignment = align;
  mvff->alignShift = SizeLog2(align);
  mvff->total = 0;
  PendingInit(&mvff->pending);
  mvff->fresh = mvff->returning = NULL;
  /* Quick lists serve the default placement only: a client that asks for
   * a particular placement gets exactly that. */
  mvff->quick =
      mvff->firstFit && !mvff->slotHigh && !mvff->arenaHigh && align <= MVFF_QUICK_MAX / 2;
  CBSInit(&mvff->freeCBS, arena, TRUE);
  return RES_OK;
}

INTERN void MVFFFinish(Pool pool)
{
  MVFF mvff = MVFFOf(pool);
  Ring node, next;
  CBSFinish(&mvff->freeCBS);
  RING_FOR(node, &pool->segRing, next) {
    mvffSegDestroy(mvff, (MVFFSeg)RING_ELT(SegStruct, poolRing, node));
  }
}

INTERN Size MVFFTotalSize(Pool pool) { return MVFFOf(pool)->total; }

INTERN Size MVFFFreeSize(Pool pool)
{
  MVFF mvff = MVFFOf(pool);
  return mvff->freeCBS.size + mvff->pending.size + mvff->quickSize;
}

typedef struct MVFFRangeCheckClosure {
  Pool pool;
  Bool ok;
} MVFFRangeCheckClosure;

/* Are all units of [base, limit) marked free? */
static Bool mvffAllFree(MVFF mvff, Addr base, Addr limit)
{
  Pool pool = &mvff->poolStruct;
  while (base < limit) {
    Seg seg;
    Addr end;
    if (!ArenaSegOf(&seg, pool->arena, base) || seg->pool != pool) return FALSE;
    end = limit < seg->limit ? limit : seg->limit;
    if (!BTIsSetRange(((MVFFSeg)seg)->freeTable, AddrOffset(seg->base, base) >> mvff->alignShift,
                      AddrOffset(seg->base, end) >> mvff->alignShift))
      return FALSE;
    base = end;
  }
  return TRUE;
}

static Bool mvffFreeRangeOK(Addr base, Addr limit, void *p)
{
  MVFFRangeCheckClosure *c = p;
  Seg seg;
  Ring node, next;
  if (!ArenaSegOf(&seg, c->pool->arena, base) || seg->pool != c->pool ||
      !ArenaSegOf(&seg, c->pool->arena, AddrSub(limit, 1)) || seg->pool != c->pool ||
      !AddrIsAligned(base, c->pool->alignment) || !AddrIsAligned(limit, c->pool->alignment) ||
      !mvffAllFree(MVFFOf(c->pool), base, limit)) {
    c->ok = FALSE;
    return FALSE;
  }
  RING_FOR(node, &c->pool->bufferRing, next) {
    Buffer buf = RING_ELT(BufferStruct, poolRing, node);
    Addr init = (Addr)__atomic_load_n(&buf->ap.init, __ATOMIC_RELAXED);
    if (buf->base != NULL && init < buf->poolLimit && base < buf->poolLimit && limit > init) {
      c->ok = FALSE;
      return FALSE;
    }
  }
  return TRUE;
}

static Bool mvffPendingRangeOK(Addr base, Addr limit, void *p)
{
  MVFF mvff = p;
  return mvffAllFree(mvff, base, limit) && !CBSOverlaps(&mvff->freeCBS, base, limit);
}

INTERN Bool MVFFConsistent(Pool pool)
{
  MVFF mvff = MVFFOf(pool);
  MVFFRangeCheckClosure c;
  Ring node, next;
  Size total = 0;
  Count freeUnits = 0, quickBytes = 0;
  Index i;
  if (!CBSConsistent(&mvff->freeCBS)) return FALSE;
  RING_FOR(node, &pool->segRing, next) {
    MVFFSeg mseg = (MVFFSeg)RING_ELT(SegStruct, poolRing, node);
    Seg seg = &mseg->segStruct;
    if (!SegCheck(seg) || seg->pool != pool) return FALSE;
    if (mseg->units != SegSize(seg) >> mvff->alignShift) return FALSE;
    total += SegSize(seg);
    freeUnits += BTCountSet(mseg->freeTable, 0, mseg->units);
  }
  if (total != mvff->total || MVFFFreeSize(pool) > total) return FALSE;
  /* the free bits describe exactly the tree, the quick and pending lists */
  if ((freeUnits << mvff->alignShift) != MVFFFreeSize(pool)) return FALSE;
  for (i = 0; i < MVFF_QUICK_SLOTS; ++i) {
    Size size = (Size)i << mvff->alignShift;
    Count n = 0;
    Addr b;
    for (b = mvff->quickList[i]; b != NULL; b = *(void **)b) {
      if (!mvffAllFree(mvff, b, AddrAdd(b, size)) ||
          CBSOverlaps(&mvff->freeCBS, b, AddrAdd(b, size)) || ++n > mvff->quickCount[i])
        return FALSE;
      quickBytes += size;
    }
    if (n != mvff->quickCount[i]) return FALSE;
  }
  if (quickBytes != mvff->quickSize) return FALSE;
  if (!PendingIterate(&mvff->pending, mvffPendingRangeOK, mvff)) return FALSE;
  c.pool = pool;
  c.ok = TRUE;
  (void)CBSIterate(&mvff->freeCBS, mvffFreeRangeOK, &c);
  return c.ok;
}

static PoolClassStruct poolClassMVFF = {
  .sig = PoolClassSig,
  .name = "MVFF",
  .size = sizeof(MVFFStruct),
  .attr = POOL_ATTR_ALLOC | POOL_ATTR_FREE | POOL_ATTR_AP | POOL_ATTR_SAC,
  .varargs = MVFFVarargs,
  .init = MVFFInit,
  .finish = MVFFFinish,
  .alloc = mvffAlloc,
  .free = mvffFree,
  .bufferFill = MVFFBufferFill,
  .bufferEmpty = MVFFBufferEmpty,
  .totalSize = MVFFTotalSize,
  .freeSize = MVFFFreeSize,
  .consistent = MVFFConsistent,
  .apRanks = RANK_SET(RANK_EXACT),
};

mps_pool_class_t mps_class_mvff(void) { return &poolClassMVFF; }
