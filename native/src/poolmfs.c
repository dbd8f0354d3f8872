/* poolmfs.c -- MFS, Manual Fixed Small (docs/design/mfs.md): units of one size.
 *
 * Units come from extents (segments of EXTEND_BY bytes).  Free units form
 * a stack threaded through their first word; units never handed out are
 * taken by bumping through the newest extent, so a fresh extent is not
 * touched until it is used.  Each extent has a bit per unit saying it is
 * allocated, which makes double frees and pointers into the middle of a
 * unit detectable.  Memory is never returned to the arena before the pool
 * is destroyed.
 * Invariants: a unit is on the free stack iff its bit is reset and it lies
 * below its extent's bump point; allocated = units with bits set.
 * Design: docs/design/mfs.md.
 */
#include "pool.h"
#include "arg.h"
#include "mpscmfs.h"

typedef struct MFSSegStruct {
  SegStruct segStruct;
  Count units;
  BT allocTable;
} MFSSegStruct, *MFSSeg;

typedef struct MFSStruct {
  PoolStruct poolStruct;
  Size unitSize;          /* rounded up to the alignment */
  Shift unitShift;        /* log2 of unitSize if a power of two, else 0 */
  Size unroundedUnitSize; /* as the client gave it */
  Size extendBy;
  void *freeList;       /* units: link, then (if room) their extent */
  Addr bump, bumpLimit; /* never-used units of the newest extent */
  Seg bumpSeg;          /* that extent */
  Count allocated;
  Size total;
} MFSStruct, *MFS;

#define MFSOf(pool) PARENT(MFSStruct, poolStruct, pool)

static void mfsVarargs(ArgStruct *args, va_list varargs)
{
  args[0].key = MPS_KEY_EXTEND_BY;
  args[0].val.size = va_arg(varargs, size_t);
  args[1].key = MPS_KEY_MFS_UNIT_SIZE;
  args[1].val.size = va_arg(varargs, size_t);
  args[2].key = MPS_KEY_ARGS_END;
}

static Res mfsInit(Pool pool, ArgList args)
{
  MFS mfs = MFSOf(pool);
  ArgStruct arg;
  Size unit, extendBy = 65536;

  if (!ArgPick(&arg, args, MPS_KEY_MFS_UNIT_SIZE))
    return MISUSE("mps_pool_create_k: MFS needs MPS_KEY_MFS_UNIT_SIZE");
  unit = arg.val.size;
  if (unit == 0) return MISUSE("mps_pool_create_k: MPS_KEY_MFS_UNIT_SIZE is zero");
  if (unit > ((Size)1 << 30))
    return MISUSE("mps_pool_create_k: MPS_KEY_MFS_UNIT_SIZE %zu is too large", unit);
  if (ArgPick(&arg, args, MPS_KEY_EXTEND_BY)) {
    if (arg.val.size == 0 || arg.val.size > SIZE_LIMIT)
      return MISUSE("mps_pool_create_k: MFS MPS_KEY_EXTEND_BY %zu is zero or too large",
                    arg.val.size);
    extendBy = arg.val.size;
  }
  mfs->unroundedUnitSize = unit;
  if (unit < sizeof(void *)) unit = sizeof(void *);
  mfs->unitSize = SizeAlignUp(unit, PF_ALIGN);
  mfs->unitShift = SizeIsP2(mfs->unitSize) ? SizeLog2(mfs->unitSize) : 0;
  if (extendBy < mfs->unitSize) extendBy = mfs->unitSize;
  mfs->extendBy = extendBy;
  mfs->freeList = NULL;
  mfs->bump = mfs->bumpLimit = NULL;
  mfs->allocated = 0;
  mfs->total = 0;
  pool->alignment = PF_ALIGN;
  return RES_OK;
}

static void mfsFinish(Pool pool)
{
  Ring node, next;
  RING_FOR(node, &pool->segRing, next) {
    MFSSeg mseg = (MFSSeg)RING_ELT(SegStruct, poolRing, node);
    ControlFree(pool->arena, mseg->allocTable, BTSize(mseg->units));
    SegDestroy(&mseg->segStruct);
  }
}

static Res mfsExtend(MFS mfs)
{
  Pool pool = &mfs->poolStruct;
  Seg seg;
  MFSSeg mseg;
  void *bt;
  Count units;
  Size size = SizeAlignUp(mfs->extendBy, pool->arena->grainSize);
  Res res;

  units = size / mfs->unitSize;
  res = ControlAlloc(&bt, pool->arena, BTSize(units));
  if (res != RES_OK) return res;
  res = SegCreate(&seg, pool, size, sizeof(MFSSegStruct), FALSE);
  if (res != RES_OK) {
    ControlFree(pool->arena, bt, BTSize(units));
    return res;
  }
  mseg = (MFSSeg)seg;
  mseg->units = units;
  mseg->allocTable = bt;
  mfs->bump = seg->base;
  mfs->bumpSeg = seg;
  mfs->bumpLimit = AddrAdd(seg->base, units * mfs->unitSize);
  mfs->total += size;
  return RES_OK;
}

/* The unit index of a byte offset into an extent. */
static Index mfsUnitIndex(MFS mfs, Size offset)
{
  return mfs->unitShift != 0 ? offset >> mfs->unitShift : offset / mfs->unitSize;
}

/* Free units remember their extent in their second word when they have
 * one, so that allocation needs no page-table lookup. */
static Seg mfsUnitSeg(MFS mfs, Addr p)
{
  Seg seg = NULL;
  Bool found;
  if (mfs->unitSize >= 2 * sizeof(void *)) return ((Seg *)(void *)p)[1];
  found = ArenaSegOf(&seg, mfs->poolStruct.arena, p);
  AVER(found);
  UNUSED(found);
  return seg;
}

static Res mfsAlloc(Addr *pReturn, Pool pool, Size size)
{
  MFS mfs = MFSOf(pool);
  Addr p;
  Seg seg;
  if (size > mfs->unitSize)
    return MISUSE("mps_alloc: %zu bytes is larger than this MFS pool's unit size %zu", size,
                  mfs->unroundedUnitSize);
  if (mfs->freeList != NULL) {
    p = mfs->freeList;
    seg = mfsUnitSeg(mfs, p);
    mfs->freeList = *(void **)p;
  } else {
    if (mfs->bump == NULL || mfs->bump >= mfs->bumpLimit) {
      Res res = mfsExtend(mfs);
      if (res != RES_OK) return res;
    }
    p = mfs->bump;
    seg = mfs->bumpSeg;
    mfs->bump = AddrAdd(p, mfs->unitSize);
  }
  BTSet(((MFSSeg)seg)->allocTable, mfsUnitIndex(mfs, AddrOffset(seg->base, p)));
  ++mfs->allocated;
  *pReturn = p;
  return RES_OK;
}

static Res mfsFree(Pool pool, Seg seg, Addr old, Size size)
{
  MFS mfs = MFSOf(pool);
  MFSSeg mseg;
  Size offset;
  Index i;

  mseg = (MFSSeg)seg;
  if (size > mfs->unitSize)
    return MISUSE("mps_free: size %zu does not match this MFS pool's unit size %zu", size,
                  mfs->unroundedUnitSize);
  offset = AddrOffset(seg->base, old);
  i = mfsUnitIndex(mfs, offset);
  if (i * mfs->unitSize != offset || i >= mseg->units)
    return MISUSE("mps_free: %p is not the start of a unit of this MFS pool", (void *)old);
  if (!BTGet(mseg->allocTable, i))
    return MISUSE("mps_free: unit %p of this MFS pool is already free (double free)", (void *)old);
  BTRes(mseg->allocTable, i);
  if (mfs->unitSize >= 2 * sizeof(void *)) ((Seg *)(void *)old)[1] = seg;
  *(void **)old = mfs->freeList;
  mfs->freeList = old;
  --mfs->allocated;
  return RES_OK;
}

static Size mfsTotalSize(Pool pool) { return MFSOf(pool)->total; }

static Size mfsFreeSize(Pool pool)
{
  MFS mfs = MFSOf(pool);
  return mfs->total - mfs->allocated * mfs->unitSize;
}

static Bool mfsConsistent(Pool pool)
{
  MFS mfs = MFSOf(pool);
  Ring node, next;
  Count set = 0, free = 0, units = 0;
  Size total = 0;
  void *p;
  RING_FOR(node, &pool->segRing, next) {
    MFSSeg mseg = (MFSSeg)RING_ELT(SegStruct, poolRing, node);
    Seg seg = &mseg->segStruct;
    if (!SegCheck(seg) || seg->pool != pool) return FALSE;
    set += BTCountSet(mseg->allocTable, 0, mseg->units);
    total += SegSize(seg);
    if (mfs->bump >= seg->base && mfs->bump <= seg->limit)
      units += AddrOffset(seg->base, mfs->bump) / mfs->unitSize;
    else
      units += mseg->units;
  }
  for (p = mfs->freeList; p != NULL; p = *(void **)p) {
    Seg seg;
    if (!ArenaSegOf(&seg, pool->arena, p) || seg->pool != pool) return FALSE;
    if (BTGet(((MFSSeg)seg)->allocTable, AddrOffset(seg->base, p) / mfs->unitSize)) return FALSE;
    if (++free > units) return FALSE; /* a cycle */
  }
  return set == mfs->allocated && total == mfs->total && set + free == units;
}

static PoolClassStruct poolClassMFS = {
  .sig = PoolClassSig,
  .name = "MFS",
  .size = sizeof(MFSStruct),
  .attr = POOL_ATTR_ALLOC | POOL_ATTR_FREE | POOL_ATTR_SAC,
  .varargs = mfsVarargs,
  .init = mfsInit,
  .finish = mfsFinish,
  .alloc = mfsAlloc,
  .free = mfsFree,
  .totalSize = mfsTotalSize,
  .freeSize = mfsFreeSize,
  .consistent = mfsConsistent,
  .apRanks = RANK_SET(RANK_EXACT),
};

mps_pool_class_t mps_class_mfs(void) { return &poolClassMFS; }
