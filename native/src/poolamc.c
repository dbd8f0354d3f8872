/* poolamc.c -- AMC and AMCZ, Automatic Mostly-Copying (docs/design/amc.md).
 *
 * Objects are bump-allocated through allocation points into segments of
 * the chain's generation 0.  In a trace, a white object reached exactly is
 * copied into a to-space segment of the next generation and its old copy
 * becomes a forwarding object; a white object hit by an ambiguous
 * reference is pinned: its segment is "nailed" and keeps every object
 * marked in it where it is, padding the dead ones at reclaim.  Segments
 * with an allocation point attached at the flip, and segments of one large
 * object, are nailed from the start (their objects are preserved in place
 * rather than copied).  A white segment that is not nailed is freed whole
 * at reclaim.  AMCZ objects hold no references and are never scanned.
 *
 * Invariants: a segment's objects are the formatted objects from its base
 * to its end (or to its allocation point's init while one is attached);
 * outside a trace no forwarding object exists in the pool; to-space
 * segments are grey (seg->grey) exactly during the trace that made them.
 * Design: docs/design/amc.md.
 */
#include "fseg.h"
#include "arg.h"
#include "mpscamc.h"

#define AMC_SEG_MAX   ((Size)64 << 10) /* nursery and to-space segments, at most */
#define AMC_SEG_SHARE 128              /* ... and at most 1/128 of the arena */
#define AMC_GENS_MAX  65               /* 64 chain generations + the top */

typedef struct AMCStruct {
  PoolStruct poolStruct;
  Bool leaf;     /* AMCZ */
  Bool interior; /* ambiguous interior pointers pin */
  Size extendBy, largeSize;
  Size segSize;               /* nursery and to-space segments (amcInitCommon) */
  Size total, tails;          /* bytes of segments; unused tails of unbuffered ones */
  RingStruct stash;           /* empty nursery segments kept for reuse */
  Size stashed;               /* their bytes (in total, and free) */
  Bool finishing;             /* the pool is being destroyed: stash nothing */
  FSeg forward[AMC_GENS_MAX]; /* to-space segment per generation in a trace */
} AMCStruct, *AMC;

#define AMCOf(pool) PARENT(AMCStruct, poolStruct, pool)

static Addr amcSegEnd(FSeg fseg)
{
  Buffer buf = FSegSeg(fseg)->buffer;
  return buf != NULL ? (Addr)buf->ap.init : fseg->end;
}

/* A segment of one large object (at least MPS_KEY_LARGE_SIZE bytes): it is
 * kept in place rather than copied.  The object's size decides, not the
 * segment's: a nursery segment that happens to hold one small object
 * (its allocation point went away) is evacuated like any other. */
static Bool amcSegIsLarge(AMC amc, FSeg fseg)
{
  Seg seg = FSegSeg(fseg);
  return seg->buffer == NULL && AddrOffset(seg->base, fseg->end) >= amc->largeSize &&
         FSegNext(amc->poolStruct.format, seg->base) == fseg->end;
}

/* The generation that survivors of generation `gen` go to: the next one,
 * except that the top generation keeps its own and, while an allocation
 * point of the pool is in a ramp, so does the chain's last generation
 * (the ramp generation): what a ramp made then stays in the chain, to be
 * collected with it, rather than reaching the rarely collected top. */
static Index amcPromotion(Pool pool, Index gen)
{
  Count last = pool->chain->genCount - 1;
  if (gen > last || (gen == last && pool->ramps > 0)) return gen;
  return gen + 1;
}

static void amcVarargs(ArgStruct *args, va_list varargs)
{
  args[0].key = MPS_KEY_FORMAT;
  args[0].val.format = va_arg(varargs, mps_fmt_t);
  args[1].key = MPS_KEY_CHAIN;
  args[1].val.chain = va_arg(varargs, mps_chain_t);
  args[2].key = MPS_KEY_ARGS_END;
}

static Res amcInitCommon(Pool pool, ArgList args, Bool leaf)
{
  AMC amc = AMCOf(pool);
  Arena arena = pool->arena;
  ArgStruct arg;
  Format fmt;
  Chain chain = arena->gc->defaultChain;
  const char *name = leaf ? "AMCZ" : "AMC";

  if (!ArgPick(&arg, args, MPS_KEY_FORMAT))
    return MISUSE("mps_pool_create_k: %s pools need MPS_KEY_FORMAT", name);
  fmt = arg.val.format;
  if (fmt == NULL || fmt->sig != FormatSig || fmt->arena != arena)
    return MISUSE("mps_pool_create_k: %p is not a live format of this arena", (void *)fmt);
  if ((!leaf && fmt->scan == NULL) || fmt->skip == NULL || fmt->fwd == NULL || fmt->isfwd == NULL ||
      fmt->pad == NULL)
    return MISUSE(
        "mps_pool_create_k: %s pools need a format with %sskip, fwd, isfwd and pad methods", name,
        leaf ? "" : "scan, ");
  if (ArgPick(&arg, args, MPS_KEY_CHAIN)) {
    chain = arg.val.chain;
    if (chain == NULL || chain->sig != ChainSig || chain->arena != arena)
      return MISUSE("mps_pool_create_k: %p is not a live chain of this arena", (void *)chain);
  }
  amc->leaf = leaf;
  RingInit(&amc->stash);
  amc->stashed = 0;
  amc->finishing = FALSE;
  amc->interior = TRUE;
  amc->extendBy = 8192;
  amc->largeSize = 32768;
  /* Nursery and to-space segments: 64 KiB (fewer fills and segments), but
   * in a small arena (a client arena of a few MiB) smaller, so that the
   * whole-segment granularity of pinning and of to-space cannot hold most
   * of the arena's memory. */
  amc->segSize = AMC_SEG_MAX;
  while (amc->segSize > pool->arena->grainSize &&
         amc->segSize * AMC_SEG_SHARE > pool->arena->reserved)
    amc->segSize /= 2;
  if (ArgPick(&arg, args, MPS_KEY_INTERIOR)) amc->interior = arg.val.b != 0;
  if (ArgPick(&arg, args, MPS_KEY_EXTEND_BY)) {
    if (arg.val.size == 0 || arg.val.size > SIZE_LIMIT)
      return MISUSE("mps_pool_create_k: MPS_KEY_EXTEND_BY %zu is out of range", arg.val.size);
    amc->extendBy = arg.val.size;
  }
  if (ArgPick(&arg, args, MPS_KEY_LARGE_SIZE)) {
    if (arg.val.size == 0 || arg.val.size > SIZE_LIMIT)
      return MISUSE("mps_pool_create_k: MPS_KEY_LARGE_SIZE %zu is out of range", arg.val.size);
    amc->largeSize = arg.val.size;
  }
  if (amc->largeSize < amc->extendBy) amc->largeSize = amc->extendBy;
  pool->format = fmt;
  pool->chain = chain;
  pool->alignment = fmt->alignment;
  ++fmt->poolCount;
  ++chain->poolCount;
  return RES_OK;
}

static Res amcInit(Pool pool, ArgList args) { return amcInitCommon(pool, args, FALSE); }
static Res amczInit(Pool pool, ArgList args) { return amcInitCommon(pool, args, TRUE); }

/* The stash: a collection frees the nursery's segments and allocation
 * fills the nursery again at once, so up to the nursery's trigger of
 * empty nursery-sized segments in the nursery's zones are kept by the
 * pool (counted in its total and free sizes) instead of going back to the
 * arena, where the spare allowance could decommit them and the next fills
 * would fault fresh pages in.  A segment that cannot be made for want of
 * memory drains the stash first (amcStashDrain). */
#define AMC_STASH_MAX ((Size)64 << 20)

static Bool amcStashTake(FSeg *fsegReturn, AMC amc)
{
  Ring node = amc->stash.next;
  Seg seg;
  if (node == &amc->stash) return FALSE;
  seg = RING_ELT(SegStruct, poolRing, node);
  RingRemove(node);
  RingAppend(&amc->poolStruct.segRing, node);
  amc->stashed -= SegSize(seg);
  *fsegReturn = FSegOfSeg(seg);
  return TRUE;
}

static void amcSegFree(AMC amc, FSeg fseg)
{
  Pool pool = &amc->poolStruct;
  Seg seg = FSegSeg(fseg);
  Gen gen = ChainGen(pool->arena, pool->chain, fseg->gen);
  Gen nursery = ChainGen(pool->arena, pool->chain, 0);
  Size size = SegSize(seg);
  gen->size -= size;
  if (seg->buffer == NULL) amc->tails -= AddrOffset(fseg->end, seg->limit);
  ProtSet(seg, FALSE);
  FSegTablesFree(fseg);
  if (size == amc->segSize && (ZoneOf(seg->base) & ChainGenZones(pool->chain, 0)) != 0 &&
      amc->stashed + size <= nursery->trigger && amc->stashed + size <= AMC_STASH_MAX &&
      !amc->finishing) {
    RingRemove(&seg->poolRing);
    RingAppend(&amc->stash, &seg->poolRing);
    amc->stashed += size;
    return;
  }
  amc->total -= size;
  SegDestroy(seg);
}

/* Give every stashed segment back to the arena; TRUE if there were any.
 * When memory runs out (a segment cannot be made) the stash goes first. */
static Bool amcStashDrain(AMC amc)
{
  Ring node, next;
  Bool any = FALSE;
  RING_FOR(node, &amc->stash, next) {
    Seg seg = RING_ELT(SegStruct, poolRing, node);
    amc->total -= SegSize(seg);
    amc->stashed -= SegSize(seg);
    SegDestroy(seg);
    any = TRUE;
  }
  return any;
}

static void amcFinish(Pool pool)
{
  AMC amc = AMCOf(pool);
  Ring node, next;
  amc->finishing = TRUE;
  RING_FOR(node, &pool->segRing, next) {
    amcSegFree(amc, FSegOfSeg(RING_ELT(SegStruct, poolRing, node)));
  }
  (void)amcStashDrain(amc);
  --pool->format->poolCount;
  --pool->chain->poolCount;
}

static Res amcSegCreate(FSeg *fsegReturn, AMC amc, Size size, Index gen, Bool counted)
{
  Pool pool = &amc->poolStruct;
  Seg seg;
  FSeg fseg;
  if (gen == 0 && size == amc->segSize && amcStashTake(&fseg, amc)) {
    seg = FSegSeg(fseg);
    amc->total -= size; /* counted again below */
  } else {
    Res res = SegCreateZoned(&seg, pool, size, sizeof(FSegStruct), ChainGenZones(pool->chain, gen));
    if (res != RES_OK && amcStashDrain(amc)) /* the stash is only a cache */
      res = SegCreateZoned(&seg, pool, size, sizeof(FSegStruct), ChainGenZones(pool->chain, gen));
    if (res != RES_OK) return res;
    fseg = FSegOfSeg(seg);
  }
  seg->summary = 0;
  fseg->gen = gen;
  fseg->end = fseg->scanned = seg->base;
  fseg->marks = fseg->starts = NULL;
  fseg->padded = 0;
  fseg->all = FALSE;
  amc->total += SegSize(seg);
  ChainNoteAlloc(pool->chain, gen, SegSize(seg), counted);
  *fsegReturn = fseg;
  return RES_OK;
}

static Res amcBufferFill(Addr *baseReturn, Addr *limitReturn, Pool pool, Buffer buf, Size size)
{
  AMC amc = AMCOf(pool);
  Size segSize = size >= amc->largeSize ? size
                 : size > amc->segSize || amc->extendBy > amc->segSize
                     ? (size > amc->extendBy ? size : amc->extendBy)
                     : amc->segSize;
  FSeg fseg;
  Res res;
  if (segSize > SIZE_LIMIT) return RES_RESOURCE;
  res = amcSegCreate(&fseg, amc, SizeAlignUp(segSize, pool->arena->grainSize), 0, !buf->hashArrays);
  if (res != RES_OK) return res;
  FSegSeg(fseg)->buffer = buf;
  *baseReturn = FSegSeg(fseg)->base;
  *limitReturn = FSegSeg(fseg)->limit;
  return RES_OK;
}

static void amcBufferEmpty(Pool pool, Buffer buf, Addr init, Addr limit)
{
  AMC amc = AMCOf(pool);
  Seg seg;
  FSeg fseg;
  UNUSED(limit);
  if (!ArenaSegOf(&seg, pool->arena, buf->base)) {
    NOTREACHED;
    return;
  }
  fseg = FSegOfSeg(seg);
  fseg->end = init;
  seg->buffer = NULL;
  amc->tails += AddrOffset(init, seg->limit);
}

static Size amcTotalSize(Pool pool) { return AMCOf(pool)->total; }

static Size amcFreeSize(Pool pool)
{
  AMC amc = AMCOf(pool);
  Ring node, next;
  Size padded = 0;
  RING_FOR(node, &pool->segRing, next) {
    padded += FSegOfSeg(RING_ELT(SegStruct, poolRing, node))->padded;
  }
  return amc->tails + padded + amc->stashed;
}

/* ---- trace methods -------------------------------------------------- */

/* Scan the whole of a white segment with the to-space segments: when its
 * objects are all preserved (no mark table), or the grey stack is full.
 * Scanning its dead objects too only keeps more alive. */
static void amcGreyWhole(AMC amc, FSeg fseg)
{
  Seg seg = FSegSeg(fseg);
  if (amc->leaf || seg->grey) return;
  seg->grey = TRUE;
  fseg->scanned = seg->base;
}

static void amcWhiten(Pool pool)
{
  AMC amc = AMCOf(pool);
  Arena arena = pool->arena;
  Trace trace = &arena->gc->trace;
  Ring node, next;
  Index i;
  for (i = 0; i < AMC_GENS_MAX; ++i) amc->forward[i] = NULL;
  RING_FOR(node, &pool->segRing, next) {
    Seg seg = RING_ELT(SegStruct, poolRing, node);
    FSeg fseg = FSegOfSeg(seg);
    /* Padding counts as condemned: an ambiguous reference may hit a pad
     * and preserve it, and live size must not exceed condemned size. */
    Size used = AddrOffset(seg->base, amcSegEnd(fseg));
    if (!ChainGen(arena, pool->chain, fseg->gen)->condemned) {
      trace->notCondemned += used;
      continue;
    }
    seg->white = TRUE;
    ProtSet(seg, FALSE);
    trace->white |= ZoneSetOfRange(seg->base, seg->limit);
    trace->condemned += used;
    trace->mayMove = TRUE;
    /* Segments an allocation point is filling, and large objects, stay. */
    if (seg->buffer != NULL || amcSegIsLarge(amc, fseg)) {
      seg->nailed = TRUE;
      FSegMarksCreate(fseg, pool->alignment);
      if (fseg->all) amcGreyWhole(amc, fseg); /* kept whole: scanned whole */
    }
  }
}

/* Build the object-start table of a white segment (once per trace). */
static Bool amcStarts(Pool pool, FSeg fseg)
{
  Format fmt = pool->format;
  Addr p, end = amcSegEnd(fseg);
  void *t;
  if (fseg->starts != NULL) return TRUE;
  fseg->bits = SegSize(FSegSeg(fseg)) / pool->alignment;
  if (ControlAlloc(&t, pool->arena, BTSize(fseg->bits)) != RES_OK) return FALSE;
  fseg->starts = t;
  for (p = FSegSeg(fseg)->base; p < end; p = FSegNext(fmt, p))
    BTSet(fseg->starts, FSegIndex(fseg, p, pool->alignment));
  return TRUE;
}

/* The base of the object containing addr, if any. */
static Bool amcObjectOf(Addr *baseReturn, Pool pool, FSeg fseg, Addr addr)
{
  Seg seg = FSegSeg(fseg);
  Addr end = amcSegEnd(fseg), base;
  Index i;
  if (addr < seg->base || addr >= end) return FALSE;
  if (!amcStarts(pool, fseg)) {
    /* No memory for the table: walk. */
    for (base = seg->base; base < end; base = FSegNext(pool->format, base))
      if (addr < FSegNext(pool->format, base)) {
        *baseReturn = base;
        return TRUE;
      }
    return FALSE;
  }
  if (!BTFindPrevSet(&i, fseg->starts, FSegIndex(fseg, addr, pool->alignment))) return FALSE;
  base = AddrAdd(seg->base, i * pool->alignment);
  if (addr >= FSegNext(pool->format, base)) return FALSE;
  *baseReturn = base;
  return TRUE;
}

/* Preserve the object at base in place; grey it if it holds references. */
static void amcPreserveInPlace(AMC amc, FSeg fseg, Addr base)
{
  Pool pool = &amc->poolStruct;
  Trace trace = &pool->arena->gc->trace;
  Seg seg = FSegSeg(fseg);
  seg->nailed = TRUE;
  if (FSegMark(fseg, base, pool->alignment)) {
    trace->preserved += AddrOffset(base, FSegNext(pool->format, base));
    if (!amc->leaf && !TraceGreyPush(pool->arena, AddrAdd(base, pool->format->headerSize)))
      amcGreyWhole(amc, fseg);
  } else if (fseg->all) {
    amcGreyWhole(amc, fseg);
  }
}

/* The ambiguous heap pre-pass (trace.c): the segment keeps its objects in
 * place this collection, and nothing is preserved by it. */
static void amcNail(AMC amc, FSeg fseg)
{
  FSegSeg(fseg)->nailed = TRUE;
  FSegMarksCreate(fseg, amc->poolStruct.alignment);
  if (fseg->all) amcGreyWhole(amc, fseg);
}

static Res amcCopyAlloc(Addr *pReturn, AMC amc, Index gen, Size size)
{
  Pool pool = &amc->poolStruct;
  FSeg fseg = amc->forward[gen];
  Res res;
  if (fseg == NULL || AddrOffset(fseg->end, FSegSeg(fseg)->limit) < size) {
    Size segSize = size > amc->segSize ? size : amc->segSize;
    res = amcSegCreate(&fseg, amc, SizeAlignUp(segSize, pool->arena->grainSize), gen, TRUE);
    if (res != RES_OK) return res;
    FSegSeg(fseg)->grey = TRUE;
    if (amc->forward[gen] != NULL)
      amc->tails += AddrOffset(amc->forward[gen]->end, FSegSeg(amc->forward[gen])->limit);
    amc->forward[gen] = fseg;
  }
  *pReturn = fseg->end;
  fseg->end = AddrAdd(fseg->end, size);
  return RES_OK;
}

static Res amcFix(Pool pool, ScanState ss, Seg seg, Addr *refIO)
{
  AMC amc = AMCOf(pool);
  Format fmt = pool->format;
  Trace trace = &pool->arena->gc->trace;
  FSeg fseg = FSegOfSeg(seg);
  Addr ref = *refIO, base, moved, copy;
  Size size;
  Index gen;

  if (ss->rank == RANK_AMBIG) {
    if (!amcObjectOf(&base, pool, fseg, ref)) return RES_OK;
    if (!amc->interior && ref != AddrAdd(base, fmt->headerSize)) return RES_OK;
    if (ss->nailOnly)
      amcNail(amc, fseg);
    else
      amcPreserveInPlace(amc, fseg, base);
    return RES_OK;
  }
  moved = (Addr)fmt->isfwd(ref);
  if (moved != NULL) {
    *refIO = moved;
    return RES_OK;
  }
  base = AddrSub(ref, fmt->headerSize);
  if (seg->nailed) {
    if (FSegIsMarked(fseg, base, pool->alignment)) return RES_OK;
    if (ss->rank == RANK_WEAK) {
      *refIO = NULL;
      return RES_OK;
    }
    amcPreserveInPlace(amc, fseg, base);
    return RES_OK;
  }
  if (ss->rank == RANK_WEAK) {
    *refIO = NULL;
    return RES_OK;
  }
  size = AddrOffset(ref, (Addr)fmt->skip(ref));
  gen = amcPromotion(pool, fseg->gen);
  if (trace->emergency || amcCopyAlloc(&copy, amc, gen, size) != RES_OK) {
    trace->emergency = TRUE;
    amcPreserveInPlace(amc, fseg, base);
    return RES_OK;
  }
  memcpy(copy, base, size);
  fmt->fwd(ref, AddrAdd(copy, fmt->headerSize));
  *refIO = AddrAdd(copy, fmt->headerSize);
  trace->copied += size;
  trace->preserved += size;
  trace->moved |= ZoneOf(base) | ZoneOf(ref); /* clients add client pointers */
  return RES_OK;
}

static Bool amcPreserved(Pool pool, Seg seg, Addr ref, Addr *newReturn)
{
  Format fmt = pool->format;
  Addr moved = (Addr)fmt->isfwd(ref);
  if (moved != NULL) {
    *newReturn = moved;
    return TRUE;
  }
  *newReturn = ref;
  return seg->nailed &&
         FSegIsMarked(FSegOfSeg(seg), AddrSub(ref, fmt->headerSize), pool->alignment);
}

static Res amcScanRange(Pool pool, ScanState ss, Seg seg, Addr base, Addr limit)
{
  Word summary;
  Size h = pool->format->headerSize;
  Res res;
  if (base >= limit) return RES_OK;
  res = FormatScan(ss, pool->format, AddrAdd(base, h), AddrAdd(limit, h), &summary);
  seg->summary |= summary;
  return res;
}

static Res amcScanSeg(Pool pool, ScanState ss, Seg seg)
{
  seg->summary = 0;
  return amcScanRange(pool, ss, seg, seg->base, amcSegEnd(FSegOfSeg(seg)));
}

/* Scan the unscanned part of every grey segment (to-space, and segments
 * whose objects are all preserved for want of a mark table). */
static Bool amcGrey(Res *resReturn, Pool pool, ScanState ss)
{
  Ring node, next;
  Bool worked = FALSE;
  if (AMCOf(pool)->leaf) return FALSE;
  RING_FOR(node, &pool->segRing, next) {
    Seg seg = RING_ELT(SegStruct, poolRing, node);
    FSeg fseg = FSegOfSeg(seg);
    while (seg->grey && fseg->scanned < amcSegEnd(fseg)) {
      Addr from = fseg->scanned, to = amcSegEnd(fseg);
      fseg->scanned = to;
      worked = TRUE;
      *resReturn = amcScanRange(pool, ss, seg, from, to);
      if (*resReturn != RES_OK) return TRUE;
    }
  }
  return worked;
}

/* The barrier: segments older than the nursery, which nursery collections
 * do not condemn, become read-only once clean (prot_linux.c). */
static void amcProtectOld(AMC amc)
{
  Pool pool = &amc->poolStruct;
  Ring node, next;
  RING_FOR(node, &pool->segRing, next) {
    Seg seg = RING_ELT(SegStruct, poolRing, node);
    if (FSegOfSeg(seg)->gen == 0 || seg->buffer != NULL) continue;
    ProtSet(seg, TRUE);
  }
}

/* Pad the dead objects of a nailed segment, coalescing neighbours. */
static Size amcSweepNailed(Pool pool, FSeg fseg)
{
  Format fmt = pool->format;
  Addr p = FSegSeg(fseg)->base, end = amcSegEnd(fseg), dead = NULL;
  Size live = 0;
  fseg->padded = 0; /* recounted: earlier padding is dead space again */
  while (p < end) {
    Addr next = FSegNext(fmt, p);
    if (FSegIsMarked(fseg, p, pool->alignment)) {
      if (dead != NULL) {
        fmt->pad(dead, AddrOffset(dead, p));
        fseg->padded += AddrOffset(dead, p);
        dead = NULL;
      }
      live += AddrOffset(p, next);
    } else if (dead == NULL) {
      dead = p;
    }
    p = next;
  }
  if (dead != NULL) {
    fmt->pad(dead, AddrOffset(dead, end));
    fseg->padded += AddrOffset(dead, end);
  }
  return live;
}

static void amcReclaim(Pool pool)
{
  AMC amc = AMCOf(pool);
  Arena arena = pool->arena;
  Ring node, next;
  Index i;
  RING_FOR(node, &pool->segRing, next) {
    Seg seg = RING_ELT(SegStruct, poolRing, node);
    FSeg fseg = FSegOfSeg(seg);
    Bool toSpace = seg->grey && !seg->white;
    seg->grey = FALSE;
    if (toSpace || !seg->white) continue;
    seg->white = FALSE;
    if (!seg->nailed) {
      amcSegFree(amc, fseg);
      continue;
    }
    seg->nailed = FALSE;
    if (amcSweepNailed(pool, fseg) == 0 && seg->buffer == NULL) {
      amcSegFree(amc, fseg);
      continue;
    }
    FSegTablesFree(fseg);
    if (seg->buffer == NULL && amcPromotion(pool, fseg->gen) != fseg->gen) {
      /* Survivors are promoted with their segment. */
      Gen from = ChainGen(arena, pool->chain, fseg->gen);
      Gen to = ChainGen(arena, pool->chain, fseg->gen + 1);
      from->size -= SegSize(seg);
      to->size += SegSize(seg);
      to->newSize += SegSize(seg);
      ++fseg->gen;
    }
  }
  /* The last to-space segments' tails become free space. */
  for (i = 0; i < AMC_GENS_MAX; ++i) {
    FSeg f = amc->forward[i];
    if (f != NULL) amc->tails += AddrOffset(f->end, FSegSeg(f)->limit);
    amc->forward[i] = NULL;
  }
  if (!amc->leaf && arena->gc->barrier && arena->gc->barrierInUse) amcProtectOld(amc);
}

static Res amcWalk(Pool pool, PoolAreaVisitor visit, void *closure)
{
  Ring node, next;
  RING_FOR(node, &pool->segRing, next) {
    Seg seg = RING_ELT(SegStruct, poolRing, node);
    Addr end = amcSegEnd(FSegOfSeg(seg));
    if (seg->base < end) {
      Res res = visit(pool, seg->base, end, closure);
      if (res != RES_OK) return res;
    }
  }
  return RES_OK;
}

static Res amcAddrObject(Addr *pReturn, Pool pool, Seg seg, Addr addr)
{
  Addr base, end = amcSegEnd(FSegOfSeg(seg));
  for (base = seg->base; base < end; base = FSegNext(pool->format, base)) {
    if (addr < FSegNext(pool->format, base)) {
      if (pool->format->isfwd(AddrAdd(base, pool->format->headerSize)) != NULL) return RES_FAIL;
      *pReturn = AddrAdd(base, pool->format->headerSize);
      return RES_OK;
    }
  }
  return RES_FAIL;
}

static Bool amcConsistent(Pool pool)
{
  AMC amc = AMCOf(pool);
  Ring node, next;
  Size total = 0, tails = 0, stashed = 0;
  RING_FOR(node, &pool->segRing, next) {
    Seg seg = RING_ELT(SegStruct, poolRing, node);
    FSeg fseg = FSegOfSeg(seg);
    Addr p, end = amcSegEnd(fseg);
    if (!SegCheck(seg) || seg->pool != pool || seg->white || seg->nailed || seg->grey) return FALSE;
    if (seg->protectedRO && (amc->leaf || fseg->gen == 0)) return FALSE;
    if (end < seg->base || end > seg->limit || fseg->gen > pool->chain->genCount) return FALSE;
    if (fseg->marks != NULL || fseg->starts != NULL) return FALSE;
    for (p = seg->base; p < end; p = FSegNext(pool->format, p)) {
      Addr q = FSegNext(pool->format, p);
      if (q <= p || q > end || !AddrIsAligned(q, pool->alignment)) return FALSE;
      if (pool->format->isfwd(AddrAdd(p, pool->format->headerSize)) != NULL) return FALSE;
    }
    total += SegSize(seg);
    if (seg->buffer == NULL) tails += AddrOffset(fseg->end, seg->limit);
  }
  RING_FOR(node, &amc->stash, next) {
    Seg seg = RING_ELT(SegStruct, poolRing, node);
    if (!SegCheck(seg) || seg->white || seg->protectedRO || SegSize(seg) != amc->segSize)
      return FALSE;
    total += SegSize(seg);
    stashed += SegSize(seg);
  }
  return total == amc->total && tails == amc->tails && stashed == amc->stashed;
}

/* What AMC and AMCZ share: all but init, name and attributes. */
#define AMC_CLASS_METHODS                                                                 \
  .varargs = amcVarargs, .finish = amcFinish, .bufferFill = amcBufferFill,                \
  .bufferEmpty = amcBufferEmpty, .totalSize = amcTotalSize, .freeSize = amcFreeSize,      \
  .consistent = amcConsistent, .whiten = amcWhiten, .fix = amcFix, .scanSeg = amcScanSeg, \
  .grey = amcGrey, .reclaim = amcReclaim, .preserved = amcPreserved, .walk = amcWalk,     \
  .addrObject = amcAddrObject, .apRanks = RANK_SET(RANK_EXACT)

static PoolClassStruct poolClassAMC = {
  .sig = PoolClassSig,
  .name = "AMC",
  .size = sizeof(AMCStruct),
  .attr = POOL_ATTR_AP | POOL_ATTR_GC | POOL_ATTR_SCAN | POOL_ATTR_MOVES,
  .init = amcInit,
  AMC_CLASS_METHODS,
};

static PoolClassStruct poolClassAMCZ = {
  .sig = PoolClassSig,
  .name = "AMCZ",
  .size = sizeof(AMCStruct),
  .attr = POOL_ATTR_AP | POOL_ATTR_GC | POOL_ATTR_MOVES,
  .init = amczInit,
  AMC_CLASS_METHODS,
};

mps_pool_class_t mps_class_amc(void) { return &poolClassAMC; }
mps_pool_class_t mps_class_amcz(void) { return &poolClassAMCZ; }

static Res amcApplyVisit(Pool pool, Addr base, Addr limit, void *closure)
{
  void **c = closure;
  mps_amc_apply_stepper_t f = (mps_amc_apply_stepper_t)(mps_fun_t)c[0];
  Size h = pool->format->headerSize;
  Addr p;
  for (p = AddrAdd(base, h); p < AddrAdd(limit, h); p = (Addr)pool->format->skip(p))
    f(p, c[1], *(size_t *)c[2]);
  return RES_OK;
}

void mps_amc_apply(mps_pool_t pool, mps_amc_apply_stepper_t f, void *p, size_t s)
{
  void *closure[3];
  if (pool == NULL || pool->sig != PoolSig ||
      (pool->klass != &poolClassAMC && pool->klass != &poolClassAMCZ)) {
    (void)MISUSE("mps_amc_apply: %p is not a live AMC or AMCZ pool", (void *)pool);
    return;
  }
  if (f == NULL) {
    (void)MISUSE("mps_amc_apply: the stepper is NULL");
    return;
  }
  closure[0] = (void *)(mps_fun_t)f;
  closure[1] = p;
  closure[2] = &s;
  ArenaEnter(pool->arena);
  if (pool->arena->state != ARENA_PARKED)
    (void)MISUSE("mps_amc_apply: the arena must be parked");
  else
    (void)amcWalk(pool, amcApplyVisit, closure);
  ArenaLeave(pool->arena);
}
