/* poolms.c -- the non-moving mark-sweep engine of LO, AMS and AWL (see
 * poolms.h for the model).
 *
 * Allocation: a buffer is filled from the lowest free run of a segment of
 * the allocation point's rank that holds the request (extended while free
 * up to MS_FILL_MAX), else from a new segment.  The debug class instead
 * gives each buffer exactly one object between two fences:
 *   [fence][object, aligned][fence]
 * all in use, the fences' first units recorded in the segment's fence
 * table (objects walks step over them; they are not formatted).
 *
 * Tracing: fixes mark; a newly marked object of a scanning class makes its
 * segment grey, and the class's grey method (called by the trace for each
 * rank in turn) scans the grey objects (marked, not yet scanned: a grey
 * table) of the grey segments of that rank until none is left.  Weak-rank objects are therefore scanned
 * only in the weak phase, ambiguous-rank ones as ambiguous.  Before an AWL
 * object is scanned its dependent object is made writable.  Reclaim frees
 * the units of every unmarked object (and its fences) and gives back
 * segments left empty.
 * Invariants (MSConsistent): in-use bits are set exactly for allocated
 * objects, fences and attached buffers; free = units not in use; outside a
 * trace no segment is white or grey or has trace tables; every segment's
 * rank is one the class's allocation points accept.
 * Design: docs/design/ms.md.
 */
#include "poolms.h"
#include "arg.h"

#define MS_SEG_MIN  ((Size)64 << 10)
#define MS_FILL_MAX ((Size)64 << 10)

static Count msUnits(Pool pool, Size size) { return size / pool->alignment; }
static Index msIndex(Pool pool, Seg seg, Addr a)
{
  return AddrOffset(seg->base, a) / pool->alignment;
}
static Addr msAddr(Pool pool, Seg seg, Index i) { return AddrAdd(seg->base, i * pool->alignment); }
static Seg msSeg(MSSeg mseg) { return FSegSeg(&mseg->fsegStruct); }
/* Bytes of each fence: 0 unless the debug class lays fences. */
static Size msFence(MS ms) { return ms->debug != NULL ? ms->debug->fenceSize : 0; }

INTERN void MSVarargs(ArgStruct *args, va_list varargs)
{
  args[0].key = MPS_KEY_FORMAT;
  args[0].val.format = va_arg(varargs, mps_fmt_t);
  args[1].key = MPS_KEY_ARGS_END;
}

INTERN Res MSInit(MS ms, ArgList args, const char *className, Bool needScan)
{
  Pool pool = &ms->poolStruct;
  Arena arena = pool->arena;
  ArgStruct arg;
  Format fmt;
  Chain chain = arena->gc->defaultChain;
  Bool chainGiven = FALSE;
  unsigned gen;

  if (!ArgPick(&arg, args, MPS_KEY_FORMAT))
    return MISUSE("mps_pool_create_k: %s pools need MPS_KEY_FORMAT", className);
  fmt = arg.val.format;
  if (fmt == NULL || fmt->sig != FormatSig || fmt->arena != arena)
    return MISUSE("mps_pool_create_k: %p is not a live format of this arena", (void *)fmt);
  if (fmt->skip == NULL)
    return MISUSE("mps_pool_create_k: %s pools need a format with a skip method", className);
  if (needScan && fmt->scan == NULL)
    return MISUSE("mps_pool_create_k: %s pools need a format with a scan method", className);
  if (ArgPick(&arg, args, MPS_KEY_CHAIN)) {
    chain = arg.val.chain;
    chainGiven = TRUE;
    if (chain == NULL || chain->sig != ChainSig || chain->arena != arena)
      return MISUSE("mps_pool_create_k: %p is not a live chain of this arena", (void *)chain);
  }
  gen = chainGiven ? 0 : 1;
  if (ArgPick(&arg, args, MPS_KEY_GEN)) gen = arg.val.u;
  if (gen > chain->genCount)
    return MISUSE("mps_pool_create_k: MPS_KEY_GEN %u is beyond the chain's %zu generations", gen,
                  (size_t)chain->genCount);
  ms->gen = gen;
  ms->total = ms->free = 0;
  ms->scans = needScan;
  ms->interior = FALSE;
  ms->findDependent = NULL;
  ms->debug = NULL;
  ms->fillHint = NULL;
  pool->format = fmt;
  pool->chain = chain;
  pool->alignment = fmt->alignment;
  ++fmt->poolCount;
  ++chain->poolCount;
  return RES_OK;
}

/* ---- segments ----------------------------------------------------------- */

static void msSegFree(MS ms, MSSeg mseg)
{
  Pool pool = &ms->poolStruct;
  Seg seg = msSeg(mseg);
  Size size = SegSize(seg);
  Count units = msUnits(pool, size);
  ChainGen(pool->arena, pool->chain, ms->gen)->size -= size;
  if (ms->fillHint == mseg) ms->fillHint = NULL;
  ms->total -= size;
  ms->free -= size - mseg->inUseCount * pool->alignment;
  ControlFree(pool->arena, mseg->inUse, BTSize(units));
  if (mseg->fences != NULL) ControlFree(pool->arena, mseg->fences, BTSize(units));
  if (mseg->greyBits != NULL) ControlFree(pool->arena, mseg->greyBits, BTSize(units));
  FSegTablesFree(&mseg->fsegStruct);
  SegDestroy(seg);
}

INTERN void MSFinish(Pool pool)
{
  MS ms = MSOf(pool);
  Ring node, next;
  RING_FOR(node, &pool->segRing, next)
    msSegFree(ms, MSSegOfSeg(RING_ELT(SegStruct, poolRing, node)));
  --pool->format->poolCount;
  --pool->chain->poolCount;
}

static Res msSegCreate(MSSeg *msegReturn, MS ms, Size size, unsigned rank)
{
  Pool pool = &ms->poolStruct;
  Seg seg;
  MSSeg mseg;
  void *p, *f = NULL;
  Count units;
  Res res = SegCreate(&seg, pool, size, sizeof(MSSegStruct), FALSE);
  if (res != RES_OK) return res;
  units = msUnits(pool, SegSize(seg));
  res = ControlAlloc(&p, pool->arena, BTSize(units));
  if (res == RES_OK && msFence(ms) > 0) {
    res = ControlAlloc(&f, pool->arena, BTSize(units));
    if (res != RES_OK) ControlFree(pool->arena, p, BTSize(units));
  }
  if (res != RES_OK) {
    SegDestroy(seg);
    return res;
  }
  mseg = MSSegOfSeg(seg);
  mseg->inUse = p;
  mseg->inUseCount = 0;
  mseg->fences = f;
  mseg->greyBits = NULL;
  mseg->fsegStruct.gen = ms->gen;
  mseg->fsegStruct.end = seg->limit;
  seg->rank = rank;
  ms->total += SegSize(seg);
  ms->free += SegSize(seg);
  ChainNoteAlloc(pool->chain, ms->gen, SegSize(seg), FALSE); /* counted per fill */
  if (ms->debug != NULL) ms->debug->splat(ms, seg->base, seg->limit);
  *msegReturn = mseg;
  return RES_OK;
}

static void msSetInUse(MS ms, MSSeg mseg, Addr base, Addr limit, Bool inUse)
{
  Pool pool = &ms->poolStruct;
  Index i = msIndex(pool, msSeg(mseg), base), j = msIndex(pool, msSeg(mseg), limit);
  if (inUse) {
    BTSetRange(mseg->inUse, i, j);
    mseg->inUseCount += j - i;
    ms->free -= AddrOffset(base, limit);
  } else {
    BTResRange(mseg->inUse, i, j);
    mseg->inUseCount -= j - i;
    ms->free += AddrOffset(base, limit);
    if (ms->debug != NULL) ms->debug->splat(ms, base, limit);
  }
}

/* ---- allocation ------------------------------------------------------------ */

/* Objects never leave their generation here, so what makes it due for
 * collection is allocation: the bytes of every buffer filled, less what
 * comes back unused (space reused after a sweep counts again). */
static void msNoteNew(MS ms, Size size, Bool add)
{
  Gen gen = ChainGen(ms->poolStruct.arena, ms->poolStruct.chain, ms->gen);
  if (add)
    gen->newSize += size;
  else
    gen->newSize -= size < gen->newSize ? size : gen->newSize;
}

/* A segment of rank `rank` with a free run of `want` units (*iReturn),
 * starting with the hint: the segment the last fill used. */
static MSSeg msSegWithRoom(Index *iReturn, MS ms, unsigned rank, Count want)
{
  Pool pool = &ms->poolStruct;
  Ring node, next;
  MSSeg hint = ms->fillHint;
  if (hint != NULL) {
    Seg seg = msSeg(hint);
    Count units = msUnits(pool, SegSize(seg));
    if (seg->buffer == NULL && seg->rank == rank && units - hint->inUseCount >= want &&
        BTFindResRange(iReturn, hint->inUse, 0, units, want, FALSE))
      return hint;
  }
  RING_FOR(node, &pool->segRing, next) {
    Seg seg = RING_ELT(SegStruct, poolRing, node);
    MSSeg cand = MSSegOfSeg(seg);
    Count units = msUnits(pool, SegSize(seg));
    if (seg->buffer == NULL && seg->rank == rank && units - cand->inUseCount >= want &&
        BTFindResRange(iReturn, cand->inUse, 0, units, want, FALSE))
      return cand;
  }
  return NULL;
}

INTERN Res MSBufferFill(Addr *baseReturn, Addr *limitReturn, Pool pool, Buffer buf, Size size)
{
  MS ms = MSOf(pool);
  Size fence = msFence(ms), span = size + 2 * fence;
  Count want = msUnits(pool, span);
  MSSeg mseg;
  Index i = 0, j;
  Res res;
  mseg = msSegWithRoom(&i, ms, buf->rank, want);
  if (mseg == NULL) {
    Size segSize = span > MS_SEG_MIN ? span : MS_SEG_MIN;
    if (span < size || segSize > SIZE_LIMIT) return RES_RESOURCE;
    res = msSegCreate(&mseg, ms, SizeAlignUp(segSize, pool->arena->grainSize), buf->rank);
    if (res != RES_OK) return res;
    i = 0;
  }
  {
    Seg seg = msSeg(mseg);
    Count units = msUnits(pool, SegSize(seg)), cap = msUnits(pool, MS_FILL_MAX);
    Addr base = msAddr(pool, seg, i);
    if (fence > 0) {
      j = i + want;
      BTSet(mseg->fences, i);
      BTSet(mseg->fences, msIndex(pool, seg, AddrAdd(base, fence + size)));
    } else {
      j = BTFindNext(mseg->inUse, i, units, TRUE);
      if (j - i > cap && cap >= want) j = i + cap;
    }
    if (ms->debug != NULL)
      (void)ms->debug->freeIntact(ms, base, msAddr(pool, seg, j), "reusing free space");
    if (fence > 0) {
      ms->debug->fenceWrite(ms, base);
      ms->debug->fenceWrite(ms, AddrAdd(base, fence + size));
    }
    msSetInUse(ms, mseg, base, msAddr(pool, seg, j), TRUE);
    msNoteNew(ms, AddrOffset(base, msAddr(pool, seg, j)), TRUE);
    ms->fillHint = mseg;
    *baseReturn = AddrAdd(base, fence);
    *limitReturn = fence > 0 ? AddrAdd(base, fence + size) : msAddr(pool, seg, j);
    seg->buffer = buf;
  }
  return RES_OK;
}

INTERN void MSBufferEmpty(Pool pool, Buffer buf, Addr init, Addr limit)
{
  MS ms = MSOf(pool);
  Seg seg;
  if (!ArenaSegOf(&seg, pool->arena, buf->base)) {
    NOTREACHED;
    return;
  }
  if (init < limit) {
    MSSeg mseg = MSSegOfSeg(seg);
    Size fence = msFence(ms);
    if (fence > 0 && init == buf->base) {
      /* the debug buffer's one object was never committed: its fences go too */
      BTRes(mseg->fences, msIndex(pool, seg, AddrSub(init, fence)));
      BTRes(mseg->fences, msIndex(pool, seg, limit));
      init = AddrSub(init, fence);
      limit = AddrAdd(limit, fence);
    }
    msSetInUse(ms, mseg, init, limit, FALSE);
    msNoteNew(ms, AddrOffset(init, limit), FALSE);
  }
  seg->buffer = NULL;
}

INTERN Size MSTotalSize(Pool pool) { return MSOf(pool)->total; }
INTERN Size MSFreeSize(Pool pool) { return MSOf(pool)->free; }

/* ---- finding objects ----------------------------------------------------- */

/* Visit each allocated object's base in a segment (see the banner). */
typedef Bool (*MSObjectVisitor)(MS ms, MSSeg mseg, Addr base, Addr next, void *closure);

static Bool msObjectsWalk(MS ms, MSSeg mseg, MSObjectVisitor visit, void *closure)
{
  Pool pool = &ms->poolStruct;
  Seg seg = msSeg(mseg);
  Buffer buf = seg->buffer;
  Count units = msUnits(pool, SegSize(seg));
  Addr p = seg->base;
  while (p < seg->limit) {
    Index i = msIndex(pool, seg, p);
    Addr next;
    if (!BTGet(mseg->inUse, i)) {
      p = msAddr(pool, seg, BTFindNext(mseg->inUse, i, units, TRUE));
      continue;
    }
    if (buf != NULL && p == (Addr)buf->ap.init && p < buf->poolLimit) {
      p = buf->poolLimit;
      continue;
    }
    if (mseg->fences != NULL && BTGet(mseg->fences, i)) {
      p = AddrAdd(p, msFence(ms));
      continue;
    }
    next = FSegNext(pool->format, p);
    if (!visit(ms, mseg, p, next, closure)) return FALSE;
    p = next;
  }
  return TRUE;
}

static Bool msRecordStart(MS ms, MSSeg mseg, Addr base, Addr next, void *closure)
{
  UNUSED(next);
  UNUSED(closure);
  BTSet(mseg->fsegStruct.starts, FSegIndex(&mseg->fsegStruct, base, ms->poolStruct.alignment));
  return TRUE;
}

/* Keep every object of a white segment (its trace tables could not be
 * had): scanning classes then scan it whole, once, in its rank's phase. */
static void msKeepAll(MS ms, MSSeg mseg)
{
  Pool pool = &ms->poolStruct;
  FSeg fseg = &mseg->fsegStruct;
  if (mseg->greyBits != NULL) ControlFree(pool->arena, mseg->greyBits, BTSize(fseg->bits));
  mseg->greyBits = NULL;
  if (fseg->marks != NULL) ControlFree(pool->arena, fseg->marks, BTSize(fseg->bits));
  fseg->marks = NULL;
  fseg->all = TRUE;
  if (ms->scans) msSeg(mseg)->grey = TRUE;
}

/* The object an ambiguous reference points into (its base), through an
 * object-start table built by one walk the first time it is needed. */
static Bool msObjectOf(Addr *baseReturn, MS ms, MSSeg mseg, Addr addr)
{
  Pool pool = &ms->poolStruct;
  FSeg fseg = &mseg->fsegStruct;
  Seg seg = msSeg(mseg);
  Buffer buf = seg->buffer;
  Index i;
  Addr base;
  if (!BTGet(mseg->inUse, msIndex(pool, seg, addr))) return FALSE;
  if (buf != NULL && addr >= (Addr)buf->ap.init && addr < buf->poolLimit) return FALSE;
  if (fseg->starts == NULL) {
    void *t;
    if (ControlAlloc(&t, pool->arena, BTSize(fseg->bits)) != RES_OK) {
      msKeepAll(ms, mseg); /* cannot find objects: keep them all */
      return FALSE;
    }
    fseg->starts = t;
    (void)msObjectsWalk(ms, mseg, msRecordStart, NULL);
  }
  if (!BTFindPrevSet(&i, fseg->starts, FSegIndex(fseg, addr, pool->alignment))) return FALSE;
  base = msAddr(pool, seg, i);
  if (addr >= FSegNext(pool->format, base)) return FALSE;
  *baseReturn = base;
  return TRUE;
}

/* ---- scanning -------------------------------------------------------------- */

/* An AWL object's dependent must be writable while it is scanned. */
static void msExposeDependent(MS ms, Addr client)
{
  Addr dep = (Addr)ms->findDependent(client);
  Seg seg;
  if (dep != NULL && ArenaSegOf(&seg, ms->poolStruct.arena, dep)) ProtSet(seg, FALSE);
}

static Res msScanObject(MS ms, ScanState ss, Seg seg, Addr base, Addr next)
{
  Pool pool = &ms->poolStruct;
  Size h = pool->format->headerSize;
  Word summary;
  Res res;
  if (ms->findDependent != NULL) msExposeDependent(ms, AddrAdd(base, h));
  res = FormatScan(ss, pool->format, AddrAdd(base, h), AddrAdd(next, h), &summary);
  seg->summary |= summary;
  return res;
}

typedef struct MSScanClosure {
  ScanState ss;
  Res res;
} MSScanClosure;

static Bool msScanVisit(MS ms, MSSeg mseg, Addr base, Addr next, void *closure)
{
  MSScanClosure *c = closure;
  c->res = msScanObject(ms, c->ss, msSeg(mseg), base, next);
  return c->res == RES_OK;
}

/* Every object of a segment that is not white (or, in the ambiguous
 * pre-pass, of any segment of ambiguous rank). */
INTERN Res MSScanSeg(Pool pool, ScanState ss, Seg seg)
{
  MS ms = MSOf(pool);
  MSScanClosure c;
  if (!ms->scans) return RES_OK;
  c.ss = ss;
  c.res = RES_OK;
  if (!seg->white) seg->summary = 0;
  (void)msObjectsWalk(ms, MSSegOfSeg(seg), msScanVisit, &c);
  return c.res;
}

INTERN Bool MSGrey(Res *resReturn, Pool pool, ScanState ss)
{
  MS ms = MSOf(pool);
  Ring node, next;
  Bool worked = FALSE;
  *resReturn = RES_OK;
  if (!ms->scans) return FALSE;
  RING_FOR(node, &pool->segRing, next) {
    Seg seg = RING_ELT(SegStruct, poolRing, node);
    MSSeg mseg = MSSegOfSeg(seg);
    if (!seg->white || seg->rank != ss->rank) continue;
    while (seg->grey) {
      FSeg fseg = &mseg->fsegStruct;
      Res res = RES_OK;
      seg->grey = FALSE;
      worked = TRUE;
      if (fseg->all) { /* no tables: everything is preserved */
        MSScanClosure c;
        c.ss = ss;
        c.res = RES_OK;
        (void)msObjectsWalk(ms, mseg, msScanVisit, &c);
        res = c.res;
      } else {
        /* objects greyed meanwhile above i are met in this pass; below it
         * they turn the segment grey again */
        Index i = 0;
        while (res == RES_OK &&
               (i = BTFindNext(mseg->greyBits, i, fseg->bits, TRUE)) < fseg->bits) {
          Addr base = msAddr(pool, seg, i);
          BTRes(mseg->greyBits, i);
          res = msScanObject(ms, ss, seg, base, FSegNext(pool->format, base));
          ++i;
        }
      }
      if (res != RES_OK) {
        *resReturn = res;
        return TRUE;
      }
    }
  }
  return worked;
}

/* ---- tracing ------------------------------------------------------------------ */

INTERN void MSWhiten(Pool pool)
{
  MS ms = MSOf(pool);
  Trace trace = &pool->arena->gc->trace;
  Ring node, next;
  Bool condemned = ChainGen(pool->arena, pool->chain, ms->gen)->condemned;
  RING_FOR(node, &pool->segRing, next) {
    Seg seg = RING_ELT(SegStruct, poolRing, node);
    MSSeg mseg = MSSegOfSeg(seg);
    FSeg fseg = &mseg->fsegStruct;
    Size used = mseg->inUseCount * pool->alignment;
    if (!condemned) {
      trace->notCondemned += used;
      continue;
    }
    seg->white = TRUE;
    trace->white |= ZoneSetOfRange(seg->base, seg->limit);
    trace->condemned += used;
    FSegMarksCreate(fseg, pool->alignment);
    if (ms->scans && !fseg->all) {
      void *p;
      if (ControlAlloc(&p, pool->arena, BTSize(fseg->bits)) == RES_OK) {
        mseg->greyBits = p;
        BTResRange(mseg->greyBits, 0, fseg->bits);
      }
    }
    if (fseg->all || (ms->scans && mseg->greyBits == NULL)) msKeepAll(ms, mseg);
  }
}

INTERN Res MSFix(Pool pool, ScanState ss, Seg seg, Addr *refIO)
{
  MS ms = MSOf(pool);
  MSSeg mseg = MSSegOfSeg(seg);
  FSeg fseg = &mseg->fsegStruct;
  Format fmt = pool->format;
  Addr ref = *refIO, base;
  if (ss->rank == RANK_AMBIG) {
    if (!msObjectOf(&base, ms, mseg, ref)) return RES_OK;
    if (!ms->interior && ref != AddrAdd(base, fmt->headerSize)) return RES_OK;
  } else {
    base = AddrSub(ref, fmt->headerSize);
    if (FSegIsMarked(fseg, base, pool->alignment)) return RES_OK;
    if (ss->rank == RANK_WEAK) {
      *refIO = NULL;
      return RES_OK;
    }
  }
  if (FSegMark(fseg, base, pool->alignment)) {
    pool->arena->gc->trace.preserved += AddrOffset(base, FSegNext(fmt, base));
    if (ms->scans) {
      BTSet(mseg->greyBits, FSegIndex(fseg, base, pool->alignment));
      seg->grey = TRUE;
    }
  }
  return RES_OK;
}

INTERN Bool MSPreserved(Pool pool, Seg seg, Addr ref, Addr *newReturn)
{
  *newReturn = ref;
  return FSegIsMarked(&MSSegOfSeg(seg)->fsegStruct, AddrSub(ref, pool->format->headerSize),
                      pool->alignment);
}

/* Free an unmarked object, and with the debug class its fences (checked
 * first: damage to them is reported when the object dies). */
static Bool msSweepObject(MS ms, MSSeg mseg, Addr base, Addr next, void *closure)
{
  Pool pool = &ms->poolStruct;
  Seg seg = msSeg(mseg);
  Size fence = msFence(ms);
  UNUSED(closure);
  if (FSegIsMarked(&mseg->fsegStruct, base, pool->alignment)) return TRUE;
  if (fence > 0) {
    /* [fence][object][fence]: both go with the object (the buffer held it
     * alone, POOL_ATTR_EXACT_BUFFERS); each is checked first. */
    if (AddrOffset(seg->base, base) >= fence &&
        BTGet(mseg->fences, msIndex(pool, seg, AddrSub(base, fence)))) {
      base = AddrSub(base, fence);
      (void)ms->debug->fenceIntact(ms, base, AddrAdd(base, fence), "reclaiming a dead object");
      BTRes(mseg->fences, msIndex(pool, seg, base));
    }
    if (next < seg->limit && BTGet(mseg->fences, msIndex(pool, seg, next))) {
      (void)ms->debug->fenceIntact(ms, next, base, "reclaiming a dead object");
      BTRes(mseg->fences, msIndex(pool, seg, next));
      next = AddrAdd(next, fence);
    }
  }
  msSetInUse(ms, mseg, base, next, FALSE);
  return TRUE;
}

/* Free every in-use unit of [base, limit) outside an attached buffer's
 * unused part: the dead objects between two live ones. */
static void msFreeBetween(MS ms, MSSeg mseg, Addr base, Addr limit)
{
  Pool pool = &ms->poolStruct;
  Seg seg = msSeg(mseg);
  Buffer buf = seg->buffer;
  if (buf != NULL && base < buf->poolLimit && (Addr)buf->ap.init < limit) {
    Addr init = (Addr)buf->ap.init;
    if (base < init) msFreeBetween(ms, mseg, base, init);
    if (buf->poolLimit < limit) msFreeBetween(ms, mseg, buf->poolLimit, limit);
    return;
  }
  while (base < limit) {
    Index i = msIndex(pool, seg, base), j = msIndex(pool, seg, limit);
    Index from = BTFindNext(mseg->inUse, i, j, TRUE), to;
    if (from >= j) return;
    to = BTFindNext(mseg->inUse, from, j, FALSE);
    msSetInUse(ms, mseg, msAddr(pool, seg, from), msAddr(pool, seg, to), FALSE);
    base = msAddr(pool, seg, to);
  }
}

/* The sweep without fences: from one marked object to the next, everything
 * in use is dead (visits live objects only). */
static void msSweepByMarks(MS ms, MSSeg mseg)
{
  Pool pool = &ms->poolStruct;
  Seg seg = msSeg(mseg);
  FSeg fseg = &mseg->fsegStruct;
  Addr p = seg->base;
  Index i = 0;
  for (;;) {
    Index j = BTFindNext(fseg->marks, i, fseg->bits, TRUE);
    Addr live = j < fseg->bits ? msAddr(pool, seg, j) : seg->limit;
    msFreeBetween(ms, mseg, p, live);
    if (j >= fseg->bits) return;
    p = FSegNext(pool->format, live);
    i = msIndex(pool, seg, p);
  }
}

INTERN void MSReclaim(Pool pool)
{
  MS ms = MSOf(pool);
  Ring node, next;
  RING_FOR(node, &pool->segRing, next) {
    Seg seg = RING_ELT(SegStruct, poolRing, node);
    MSSeg mseg = MSSegOfSeg(seg);
    if (!seg->white) continue;
    seg->white = FALSE;
    seg->grey = FALSE;
    if (mseg->fsegStruct.all) { /* everything was kept */
    } else if (msFence(ms) > 0)
      (void)msObjectsWalk(ms, mseg, msSweepObject, NULL);
    else
      msSweepByMarks(ms, mseg);
    if (mseg->greyBits != NULL)
      ControlFree(pool->arena, mseg->greyBits, BTSize(mseg->fsegStruct.bits));
    mseg->greyBits = NULL;
    FSegTablesFree(&mseg->fsegStruct);
    if (mseg->inUseCount == 0 && seg->buffer == NULL) {
      if (ms->debug != NULL)
        (void)ms->debug->freeIntact(ms, seg->base, seg->limit, "returning memory to the arena");
      msSegFree(ms, mseg);
    }
  }
}

/* ---- walks and checks ------------------------------------------------------------- */

typedef struct MSWalkClosure {
  PoolAreaVisitor visit;
  void *closure;
  Res res;
} MSWalkClosure;

static Bool msWalkObject(MS ms, MSSeg mseg, Addr base, Addr next, void *closure)
{
  MSWalkClosure *c = closure;
  UNUSED(mseg);
  c->res = c->visit(&ms->poolStruct, base, next, c->closure);
  return c->res == RES_OK;
}

INTERN Res MSWalk(Pool pool, PoolAreaVisitor visit, void *closure)
{
  MS ms = MSOf(pool);
  Ring node, next;
  MSWalkClosure c;
  c.visit = visit;
  c.closure = closure;
  c.res = RES_OK;
  RING_FOR(node, &pool->segRing, next) {
    if (!msObjectsWalk(ms, MSSegOfSeg(RING_ELT(SegStruct, poolRing, node)), msWalkObject, &c))
      return c.res;
  }
  return RES_OK;
}

typedef struct MSFindClosure {
  Addr addr, found;
} MSFindClosure;

static Bool msFindObject(MS ms, MSSeg mseg, Addr base, Addr next, void *closure)
{
  MSFindClosure *c = closure;
  UNUSED(ms);
  UNUSED(mseg);
  if (c->addr < base) return FALSE;
  if (c->addr < next) {
    c->found = base;
    return FALSE;
  }
  return TRUE;
}

/* The client pointer of the object containing addr (as AMC answers). */
INTERN Res MSAddrObject(Addr *pReturn, Pool pool, Seg seg, Addr addr)
{
  MSFindClosure c;
  c.addr = addr;
  c.found = NULL;
  (void)msObjectsWalk(MSOf(pool), MSSegOfSeg(seg), msFindObject, &c);
  if (c.found == NULL) return RES_FAIL;
  *pReturn = AddrAdd(c.found, pool->format->headerSize);
  return RES_OK;
}

INTERN Bool MSFencesWalk(MS ms, MSFenceVisitor visit, void *closure)
{
  Pool pool = &ms->poolStruct;
  Ring node, next;
  RING_FOR(node, &pool->segRing, next) {
    Seg seg = RING_ELT(SegStruct, poolRing, node);
    MSSeg mseg = MSSegOfSeg(seg);
    Count units = msUnits(pool, SegSize(seg));
    Index i = 0;
    if (mseg->fences == NULL) continue;
    while ((i = BTFindNext(mseg->fences, i, units, TRUE)) < units) {
      if (!visit(ms, msAddr(pool, seg, i), closure)) return FALSE;
      ++i;
    }
  }
  return TRUE;
}

INTERN Bool MSFreeWalk(MS ms, MSFreeVisitor visit, void *closure)
{
  Pool pool = &ms->poolStruct;
  Ring node, next;
  RING_FOR(node, &pool->segRing, next) {
    Seg seg = RING_ELT(SegStruct, poolRing, node);
    MSSeg mseg = MSSegOfSeg(seg);
    Count units = msUnits(pool, SegSize(seg));
    Index i = 0, j;
    while ((i = BTFindNext(mseg->inUse, i, units, FALSE)) < units) {
      j = BTFindNext(mseg->inUse, i, units, TRUE);
      if (!visit(ms, msAddr(pool, seg, i), msAddr(pool, seg, j), closure)) return FALSE;
      i = j;
    }
  }
  return TRUE;
}

INTERN Bool MSConsistent(Pool pool)
{
  MS ms = MSOf(pool);
  Ring node, next;
  Size total = 0, free = 0;
  RING_FOR(node, &pool->segRing, next) {
    Seg seg = RING_ELT(SegStruct, poolRing, node);
    MSSeg mseg = MSSegOfSeg(seg);
    Count units = msUnits(pool, SegSize(seg));
    if (!SegCheck(seg) || seg->pool != pool || seg->white || seg->grey) return FALSE;
    if (mseg->fsegStruct.marks != NULL || mseg->fsegStruct.starts != NULL || mseg->greyBits != NULL)
      return FALSE;
    if (!(pool->klass->apRanks & RANK_SET(seg->rank))) return FALSE;
    if (BTCountSet(mseg->inUse, 0, units) != mseg->inUseCount) return FALSE;
    if (mseg->fences != NULL) {
      Index i = 0;
      /* every fence lies in use */
      while ((i = BTFindNext(mseg->fences, i, units, TRUE)) < units)
        if (!BTGet(mseg->inUse, i++)) return FALSE;
    }
    total += SegSize(seg);
    free += SegSize(seg) - mseg->inUseCount * pool->alignment;
  }
  return total == ms->total && free == ms->free;
}
