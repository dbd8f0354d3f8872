/* poollo.c -- LO, Leaf Only (spec §3.7): a collected pool of objects
 * without references, never moved, never scanned, never protected.
 *
 * Each segment has an in-use table with one bit per alignment unit: set
 * for every unit of an allocated object and of an attached buffer.  A
 * buffer is filled from the lowest free run that holds the request
 * (extended up to LO_FILL_MAX), else from a new segment.  Objects are
 * found by walking: from a free unit to the next set one, over a buffer's
 * unused part [init, limit) to its limit, else by the format's skip.  A
 * trace marks what it reaches; reclaim clears the units of every unmarked
 * object, and gives back segments left empty.
 * Invariants: in-use bits are set exactly for allocated objects and the
 * buffers attached; free size = the units not in use.
 * Design: docs/design/lo.md.
 */
#include "fseg.h"
#include "arg.h"
#include "mpsclo.h"

#define LO_SEG_MIN ((Size)64 << 10)
#define LO_FILL_MAX ((Size)64 << 10)

typedef struct LOSegStruct {
  FSegStruct fsegStruct;
  BT inUse;
  Count inUseCount;       /* set bits */
} LOSegStruct, *LOSeg;

typedef struct LOStruct {
  PoolStruct poolStruct;
  Index gen;
  Size total, free;
} LOStruct, *LO;

#define LOOf(pool) PARENT(LOStruct, poolStruct, pool)
#define LOSegOfSeg(seg) ((LOSeg)(void *)(seg))

static Count loUnits(Pool pool, Size size) { return size / pool->alignment; }
static Index loIndex(Pool pool, Seg seg, Addr a) { return AddrOffset(seg->base, a) / pool->alignment; }
static Addr loAddr(Pool pool, Seg seg, Index i) { return AddrAdd(seg->base, i * pool->alignment); }

static void loVarargs(ArgStruct *args, va_list varargs)
{
  args[0].key = MPS_KEY_FORMAT;
  args[0].val.format = va_arg(varargs, mps_fmt_t);
  args[1].key = MPS_KEY_ARGS_END;
}

static Res loInit(Pool pool, ArgList args)
{
  LO lo = LOOf(pool);
  Arena arena = pool->arena;
  ArgStruct arg;
  Format fmt;
  Chain chain = arena->gc->defaultChain;
  Bool chainGiven = FALSE;
  unsigned gen;

  if (!ArgPick(&arg, args, MPS_KEY_FORMAT))
    return MISUSE("mps_pool_create_k: LO pools need MPS_KEY_FORMAT");
  fmt = arg.val.format;
  if (fmt == NULL || fmt->sig != FormatSig || fmt->arena != arena)
    return MISUSE("mps_pool_create_k: %p is not a live format of this arena", (void *)fmt);
  if (fmt->skip == NULL) return MISUSE("mps_pool_create_k: LO pools need a format with a skip method");
  if (ArgPick(&arg, args, MPS_KEY_CHAIN)) {
    chain = arg.val.chain;
    chainGiven = TRUE;
    if (chain == NULL || chain->sig != ChainSig || chain->arena != arena)
      return MISUSE("mps_pool_create_k: %p is not a live chain of this arena", (void *)chain);
  }
  gen = chainGiven ? 0 : 1;
  if (ArgPick(&arg, args, MPS_KEY_GEN)) gen = arg.val.u;
  if (gen > chain->genCount)
    return MISUSE("mps_pool_create_k: MPS_KEY_GEN %u is beyond the chain's %zu generations",
                  gen, (size_t)chain->genCount);
  lo->gen = gen;
  lo->total = lo->free = 0;
  pool->format = fmt;
  pool->chain = chain;
  pool->alignment = fmt->alignment;
  ++fmt->poolCount;
  ++chain->poolCount;
  return RES_OK;
}

static void loSegFree(LO lo, LOSeg ls)
{
  Pool pool = &lo->poolStruct;
  Seg seg = FSegSeg(&ls->fsegStruct);
  Size size = SegSize(seg);
  ChainGen(pool->arena, pool->chain, lo->gen)->size -= size;
  lo->total -= size;
  lo->free -= size - ls->inUseCount * pool->alignment;
  ControlFree(pool->arena, ls->inUse, BTSize(loUnits(pool, size)));
  FSegTablesFree(&ls->fsegStruct);
  SegDestroy(seg);
}

static void loFinish(Pool pool)
{
  LO lo = LOOf(pool);
  Ring node, next;
  RING_FOR(node, &pool->segRing, next) {
    loSegFree(lo, LOSegOfSeg(RING_ELT(SegStruct, poolRing, node)));
  }
  --pool->format->poolCount;
  --pool->chain->poolCount;
}

static Res loSegCreate(LOSeg *lsReturn, LO lo, Size size)
{
  Pool pool = &lo->poolStruct;
  Seg seg;
  LOSeg ls;
  void *p;
  Res res = SegCreate(&seg, pool, size, sizeof(LOSegStruct), FALSE);
  if (res != RES_OK) return res;
  res = ControlAlloc(&p, pool->arena, BTSize(loUnits(pool, SegSize(seg))));
  if (res != RES_OK) { SegDestroy(seg); return res; }
  ls = LOSegOfSeg(seg);
  ls->inUse = p;
  ls->inUseCount = 0;
  ls->fsegStruct.gen = lo->gen;
  ls->fsegStruct.end = seg->limit;
  lo->total += SegSize(seg);
  lo->free += SegSize(seg);
  ChainNoteAlloc(pool->chain, lo->gen, SegSize(seg), TRUE);
  *lsReturn = ls;
  return RES_OK;
}

static void loSetInUse(Pool pool, LOSeg ls, Addr base, Addr limit, Bool inUse)
{
  Seg seg = FSegSeg(&ls->fsegStruct);
  Index i = loIndex(pool, seg, base), j = loIndex(pool, seg, limit);
  if (inUse) { BTSetRange(ls->inUse, i, j); ls->inUseCount += j - i; LOOf(pool)->free -= AddrOffset(base, limit); }
  else { BTResRange(ls->inUse, i, j); ls->inUseCount -= j - i; LOOf(pool)->free += AddrOffset(base, limit); }
}

static Res loBufferFill(Addr *baseReturn, Addr *limitReturn, Pool pool, Buffer buf, Size size)
{
  LO lo = LOOf(pool);
  Ring node, next;
  Count want = loUnits(pool, size);
  LOSeg ls = NULL;
  Index i = 0, j;
  Res res;
  RING_FOR(node, &pool->segRing, next) {
    Seg seg = RING_ELT(SegStruct, poolRing, node);
    LOSeg cand = LOSegOfSeg(seg);
    Count units = loUnits(pool, SegSize(seg));
    if (seg->buffer == NULL && units - cand->inUseCount >= want
        && BTFindResRange(&i, cand->inUse, 0, units, want, FALSE)) { ls = cand; break; }
  }
  if (ls == NULL) {
    Size segSize = size > LO_SEG_MIN ? size : LO_SEG_MIN;
    if (segSize > SIZE_LIMIT) return RES_RESOURCE;
    res = loSegCreate(&ls, lo, SizeAlignUp(segSize, pool->arena->grainSize));
    if (res != RES_OK) return res;
    i = 0;
  }
  {
    Seg seg = FSegSeg(&ls->fsegStruct);
    Count units = loUnits(pool, SegSize(seg)), cap = loUnits(pool, LO_FILL_MAX);
    j = BTFindNext(ls->inUse, i, units, TRUE);
    if (j - i > cap && cap >= want) j = i + cap;
    *baseReturn = loAddr(pool, seg, i);
    *limitReturn = loAddr(pool, seg, j);
    loSetInUse(pool, ls, *baseReturn, *limitReturn, TRUE);
    seg->buffer = buf;
  }
  return RES_OK;
}

static void loBufferEmpty(Pool pool, Buffer buf, Addr init, Addr limit)
{
  Seg seg;
  if (!ArenaSegOf(&seg, pool->arena, buf->base)) { AVER(0); return; }
  if (init < limit) loSetInUse(pool, LOSegOfSeg(seg), init, limit, FALSE);
  seg->buffer = NULL;
}

static Size loTotalSize(Pool pool) { return LOOf(pool)->total; }
static Size loFreeSize(Pool pool) { return LOOf(pool)->free; }

/* Visit each allocated object's base in a segment (see the banner). */
typedef Bool (*LOObjectVisitor)(Pool pool, LOSeg ls, Addr base, Addr next, void *closure);

static Bool loObjectsWalk(Pool pool, LOSeg ls, LOObjectVisitor visit, void *closure)
{
  Seg seg = FSegSeg(&ls->fsegStruct);
  Buffer buf = seg->buffer;
  Count units = loUnits(pool, SegSize(seg));
  Addr p = seg->base;
  while (p < seg->limit) {
    Index i = loIndex(pool, seg, p);
    Addr next;
    if (!BTGet(ls->inUse, i)) {
      p = loAddr(pool, seg, BTFindNext(ls->inUse, i, units, TRUE));
      continue;
    }
    if (buf != NULL && p == (Addr)buf->ap.init && p < buf->poolLimit) { p = buf->poolLimit; continue; }
    next = FSegNext(pool->format, p);
    if (!visit(pool, ls, p, next, closure)) return FALSE;
    p = next;
  }
  return TRUE;
}

/* ---- trace methods -------------------------------------------------- */

static void loWhiten(Pool pool)
{
  LO lo = LOOf(pool);
  Trace trace = &pool->arena->gc->trace;
  Ring node, next;
  Bool condemned = ChainGen(pool->arena, pool->chain, lo->gen)->condemned;
  RING_FOR(node, &pool->segRing, next) {
    Seg seg = RING_ELT(SegStruct, poolRing, node);
    LOSeg ls = LOSegOfSeg(seg);
    Size used = ls->inUseCount * pool->alignment;
    if (!condemned) { trace->notCondemned += used; continue; }
    seg->white = TRUE;
    trace->white |= ZoneSetOfRange(seg->base, seg->limit);
    trace->condemned += used;
    FSegMarksCreate(&ls->fsegStruct, pool->alignment);
  }
}

static Bool loRecordStart(Pool pool, LOSeg ls, Addr base, Addr next, void *closure)
{
  UNUSED(next); UNUSED(closure);
  BTSet(ls->fsegStruct.starts, FSegIndex(&ls->fsegStruct, base, pool->alignment));
  return TRUE;
}

static Bool loObjectOf(Addr *baseReturn, Pool pool, LOSeg ls, Addr addr)
{
  FSeg fseg = &ls->fsegStruct;
  Seg seg = FSegSeg(fseg);
  Buffer buf = seg->buffer;
  Index i;
  Addr base;
  if (!BTGet(ls->inUse, loIndex(pool, seg, addr))) return FALSE;
  if (buf != NULL && addr >= (Addr)buf->ap.init && addr < buf->poolLimit) return FALSE;
  if (fseg->starts == NULL) {
    void *t;
    if (ControlAlloc(&t, pool->arena, BTSize(fseg->bits)) != RES_OK) {
      fseg->all = TRUE;   /* cannot find objects: keep them all */
      return FALSE;
    }
    fseg->starts = t;
    (void)loObjectsWalk(pool, ls, loRecordStart, NULL);
  }
  if (!BTFindPrevSet(&i, fseg->starts, FSegIndex(fseg, addr, pool->alignment))) return FALSE;
  base = loAddr(pool, seg, i);
  if (addr >= FSegNext(pool->format, base)) return FALSE;
  *baseReturn = base;
  return TRUE;
}

static Res loFix(Pool pool, ScanState ss, Seg seg, Addr *refIO)
{
  LOSeg ls = LOSegOfSeg(seg);
  Format fmt = pool->format;
  Addr ref = *refIO, base;
  if (ss->rank == RANK_AMBIG) {
    if (!loObjectOf(&base, pool, ls, ref)) return RES_OK;
  } else {
    base = AddrSub(ref, fmt->headerSize);
    if (FSegIsMarked(&ls->fsegStruct, base, pool->alignment)) return RES_OK;
    if (ss->rank == RANK_WEAK) { *refIO = NULL; return RES_OK; }
  }
  if (FSegMark(&ls->fsegStruct, base, pool->alignment))
    pool->arena->gc->trace.preserved += AddrOffset(base, FSegNext(fmt, base));
  return RES_OK;
}

static Bool loPreserved(Pool pool, Seg seg, Addr ref, Addr *newReturn)
{
  *newReturn = ref;
  return FSegIsMarked(&LOSegOfSeg(seg)->fsegStruct, AddrSub(ref, pool->format->headerSize),
                      pool->alignment);
}

static Res loScanSeg(Pool pool, ScanState ss, Seg seg)
{
  UNUSED(pool); UNUSED(ss); UNUSED(seg);
  return RES_OK;
}

static Bool loGrey(Res *resReturn, Pool pool, ScanState ss)
{
  UNUSED(resReturn); UNUSED(pool); UNUSED(ss);
  return FALSE;
}

static Bool loSweepObject(Pool pool, LOSeg ls, Addr base, Addr next, void *closure)
{
  UNUSED(closure);
  if (!FSegIsMarked(&ls->fsegStruct, base, pool->alignment))
    loSetInUse(pool, ls, base, next, FALSE);
  return TRUE;
}

static void loReclaim(Pool pool)
{
  LO lo = LOOf(pool);
  Ring node, next;
  RING_FOR(node, &pool->segRing, next) {
    Seg seg = RING_ELT(SegStruct, poolRing, node);
    LOSeg ls = LOSegOfSeg(seg);
    if (!seg->white) continue;
    seg->white = FALSE;
    (void)loObjectsWalk(pool, ls, loSweepObject, NULL);
    FSegTablesFree(&ls->fsegStruct);
    if (ls->inUseCount == 0 && seg->buffer == NULL) loSegFree(lo, ls);
  }
}

typedef struct LOWalkClosure {
  PoolAreaVisitor visit;
  void *closure;
  Res res;
} LOWalkClosure;

static Bool loWalkObject(Pool pool, LOSeg ls, Addr base, Addr next, void *closure)
{
  LOWalkClosure *c = closure;
  UNUSED(ls);
  c->res = c->visit(pool, base, next, c->closure);
  return c->res == RES_OK;
}

static Res loWalk(Pool pool, PoolAreaVisitor visit, void *closure)
{
  Ring node, next;
  LOWalkClosure c;
  c.visit = visit;
  c.closure = closure;
  c.res = RES_OK;
  RING_FOR(node, &pool->segRing, next) {
    if (!loObjectsWalk(pool, LOSegOfSeg(RING_ELT(SegStruct, poolRing, node)), loWalkObject, &c))
      return c.res;
  }
  return RES_OK;
}

static Res loAddrObject(Addr *pReturn, Pool pool, Seg seg, Addr addr)
{
  UNUSED(pReturn); UNUSED(pool); UNUSED(seg); UNUSED(addr);
  return RES_UNIMPL;
}

static Bool loConsistent(Pool pool)
{
  LO lo = LOOf(pool);
  Ring node, next;
  Size total = 0, free = 0;
  RING_FOR(node, &pool->segRing, next) {
    Seg seg = RING_ELT(SegStruct, poolRing, node);
    LOSeg ls = LOSegOfSeg(seg);
    Count units = loUnits(pool, SegSize(seg));
    if (!SegCheck(seg) || seg->white || ls->fsegStruct.marks != NULL) return FALSE;
    if (BTCountSet(ls->inUse, 0, units) != ls->inUseCount) return FALSE;
    total += SegSize(seg);
    free += SegSize(seg) - ls->inUseCount * pool->alignment;
  }
  return total == lo->total && free == lo->free;
}

static PoolClassStruct poolClassLO = {
  PoolClassSig, "LO", sizeof(LOStruct), POOL_ATTR_AP | POOL_ATTR_GC,
  loVarargs, loInit, loFinish, NULL, NULL, loBufferFill, loBufferEmpty,
  loTotalSize, loFreeSize, loConsistent, NULL, NULL,
  loWhiten, loFix, loScanSeg, loGrey, loReclaim, loPreserved, loWalk, loAddrObject,
  RANK_SET(RANK_EXACT), NULL, NULL
};

mps_pool_class_t mps_class_lo(void) { return &poolClassLO; }
