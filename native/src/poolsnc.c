/* poolsnc.c -- SNC, Stack No Checking (docs/design/snc.md): a manually
 * managed, scanned, non-moving pool whose space is given back only by
 * popping allocation frames.
 *
 * Each allocation point (AP) has a record here: its stack of segments
 * (linked downwards from the top one) and its stack of frames.  A segment
 * belongs to one AP; its objects lie contiguously from its base to its
 * end: the AP's init while the AP's buffer is attached to it, else the
 * end recorded when the buffer left it.  The unused tail is never
 * formatted and never scanned.  A fill takes the rest of the AP's top
 * segment if the request fits there, else pushes a new segment.  A frame
 * is the AP's position (top segment, end) at the push, named by a token
 * that no other frame of the process ever has; popping it frees the
 * segments above its segment (one standard-sized one is kept as a spare),
 * resets its segment's end (or the buffer's init) to the frame's address,
 * and drops it and every newer frame.  Any frame of the stack may be
 * popped; anything else is refused as misuse.  Objects are exact roots in
 * effect: every collection scans every segment (nothing here is ever
 * white, grey or protected).
 *
 * A record is made at the AP's first fill or frame push.  An AP destroyed
 * without popping leaves its objects alive until the pool is destroyed
 * (interface.md §The structure): the class's bufferFinish, called by BufferDestroy once the
 * buffer is detached, drops ("orphans") the AP's record and its frames,
 * and its segments stay as they are, owned by nobody.  So every record is
 * that of a live AP of the pool, and an AP created later at the same
 * address has no record until it allocates or pushes.
 *
 * Invariants (sncConsistent): total = the bytes of the segments; used =
 * the committed bytes of the segments with no buffer attached; every
 * segment is the spare (empty), orphaned, or on exactly one record's
 * stack; each record's AP is a distinct AP of the pool; an attached AP of
 * the pool has a record, and its buffer is on that record's top segment
 * and on no other; the frames of a record have increasing tokens and
 * non-decreasing positions, each on the record's segment stack and at or
 * below its top.
 * Design: docs/design/snc.md.
 */
#include "gc.h"
#include "arg.h"
#include "mpscsnc.h"

#define SNC_SEG_MIN    ((Size)16 << 10) /* standard segment size (rounded to grains) */
#define SNC_FRAMES_MIN 16

typedef struct SNCApStruct *SNCAp;

typedef struct SNCSegStruct {
  SegStruct segStruct;
  Addr end;                   /* end of the objects while no buffer is attached */
  struct SNCSegStruct *below; /* next segment down its owner's stack */
  SNCAp owner;                /* NULL: the spare, or orphaned */
} SNCSegStruct, *SNCSeg;

typedef struct SNCFrameStruct {
  Word token; /* the client's handle (odd: never an address) */
  SNCSeg seg; /* the AP's top segment at the push, or NULL */
  Addr addr;  /* the end of its objects at the push */
} SNCFrameStruct, *SNCFrame;

typedef struct SNCApStruct {
  RingStruct poolRing; /* in the pool's records */
  Buffer buf;          /* the AP: live (the record goes when it is destroyed) */
  SNCSeg top;          /* top of its segment stack, or NULL */
  SNCFrame frames;     /* frames[0 .. depth), oldest first */
  Count depth, cap;
} SNCApStruct;

typedef struct SNCStruct {
  PoolStruct poolStruct;
  RingStruct aps; /* SNCApStruct records */
  SNCSeg spare;   /* an empty standard segment, or NULL */
  Size segSize;   /* the standard segment size */
  Size total;     /* bytes of every segment, spare included */
  Size used;      /* committed bytes of segments with no buffer */
} SNCStruct, *SNC;

#define SNCOf(pool)   PARENT(SNCStruct, poolStruct, pool)
#define SNCSegOf(seg) ((SNCSeg)(void *)(seg))
#define SNCSegSeg(ss) (&(ss)->segStruct)

/* Frame tokens: odd, unique in the process. */
static Word sncTokens = 1;

static Word sncTokenNew(void) { return __atomic_add_fetch(&sncTokens, 2, __ATOMIC_RELAXED); }

static Addr sncSegEnd(SNCSeg ss)
{
  Buffer buf = SNCSegSeg(ss)->buffer;
  return buf != NULL ? (Addr)buf->ap.init : ss->end;
}

/* ---- allocation point records ----------------------------------------- */

static void sncFramesFree(Arena arena, SNCAp ap)
{
  if (ap->frames != NULL) ControlFree(arena, ap->frames, ap->cap * sizeof(SNCFrameStruct));
  ap->frames = NULL;
  ap->depth = ap->cap = 0;
}

/* Drop the record of an AP that is going; its objects stay until the pool goes. */
static void sncApOrphan(Pool pool, SNCAp ap)
{
  SNCSeg ss = ap->top;
  while (ss != NULL) {
    SNCSeg below = ss->below;
    AVER(SNCSegSeg(ss)->buffer == NULL);
    ss->owner = NULL;
    ss->below = NULL;
    ss = below;
  }
  sncFramesFree(pool->arena, ap);
  RingRemove(&ap->poolRing);
  ControlFree(pool->arena, ap, sizeof(SNCApStruct));
}

/* The record of an AP of the pool, or NULL if it has none yet. */
static SNCAp sncApFind(Pool pool, Buffer buf)
{
  Ring node, next;
  RING_FOR(node, &SNCOf(pool)->aps, next) {
    SNCAp ap = RING_ELT(SNCApStruct, poolRing, node);
    if (ap->buf == buf) return ap;
  }
  return NULL;
}

static Res sncApGet(SNCAp *apReturn, Pool pool, Buffer buf)
{
  SNCAp ap = sncApFind(pool, buf);
  void *p;
  Res res;
  if (ap == NULL) {
    res = ControlAlloc(&p, pool->arena, sizeof(SNCApStruct));
    if (res != RES_OK) return res;
    ap = p;
    RingInit(&ap->poolRing);
    RingAppend(&SNCOf(pool)->aps, &ap->poolRing);
    ap->buf = buf;
    ap->top = NULL;
    ap->frames = NULL;
    ap->depth = ap->cap = 0;
    AVER(buf->base == NULL);
  }
  AVER(buf->base == NULL || (ap->top != NULL && SNCSegSeg(ap->top)->buffer == buf));
  *apReturn = ap;
  return RES_OK;
}

/* ---- pool creation ----------------------------------------------------- */

static void sncVarargs(ArgStruct *args, va_list varargs)
{
  args[0].key = MPS_KEY_FORMAT;
  args[0].val.format = va_arg(varargs, mps_fmt_t);
  args[1].key = MPS_KEY_ARGS_END;
}

static Res sncInit(Pool pool, ArgList args)
{
  SNC snc = SNCOf(pool);
  Arena arena = pool->arena;
  ArgStruct arg;
  Format fmt;

  if (!ArgPick(&arg, args, MPS_KEY_FORMAT))
    return MISUSE("mps_pool_create_k: SNC pools need MPS_KEY_FORMAT");
  fmt = arg.val.format;
  if (fmt == NULL || fmt->sig != FormatSig || fmt->arena != arena)
    return MISUSE("mps_pool_create_k: %p is not a live format of this arena", (void *)fmt);
  if (fmt->scan == NULL || fmt->skip == NULL || fmt->pad == NULL)
    return MISUSE("mps_pool_create_k: SNC pools need a format with scan, skip and pad methods"
                  " (missing:%s%s%s)",
                  fmt->scan == NULL ? " scan" : "", fmt->skip == NULL ? " skip" : "",
                  fmt->pad == NULL ? " pad" : "");
  if (fmt->headerSize != 0)
    return MISUSE("mps_pool_create_k: SNC pools cannot use a format with in-band headers"
                  " (header size %zu)",
                  (size_t)fmt->headerSize);
  RingInit(&snc->aps);
  snc->spare = NULL;
  snc->segSize = SizeAlignUp(SNC_SEG_MIN, arena->grainSize);
  snc->total = snc->used = 0;
  pool->format = fmt;
  pool->chain = NULL;
  pool->alignment = fmt->alignment;
  ++fmt->poolCount;
  return RES_OK;
}

static void sncFinish(Pool pool)
{
  SNC snc = SNCOf(pool);
  Ring node, next;
  /* mps_pool_destroy refuses while APs remain, and each AP's record went
   * with it (sncBufferFinish). */
  AVER(RingIsSingle(&snc->aps));
  RING_FOR(node, &pool->segRing, next) SegDestroy(RING_ELT(SegStruct, poolRing, node));
  snc->spare = NULL;
  snc->total = snc->used = 0;
  --pool->format->poolCount;
}

/* ---- segments ---------------------------------------------------------- */

/* Push a segment of room for `size` bytes onto the AP's stack. */
static Res sncSegPush(SNCSeg *ssReturn, Pool pool, SNCAp ap, Size size)
{
  SNC snc = SNCOf(pool);
  SNCSeg ss;
  if (size <= snc->segSize && snc->spare != NULL) {
    ss = snc->spare;
    snc->spare = NULL;
  } else {
    Seg seg;
    Size segSize = size > snc->segSize ? SizeAlignUp(size, pool->arena->grainSize) : snc->segSize;
    Res res;
    if (size > SIZE_LIMIT) return RES_RESOURCE;
    res = SegCreate(&seg, pool, segSize, sizeof(SNCSegStruct), FALSE);
    if (res != RES_OK) return res;
    snc->total += SegSize(seg);
    ss = SNCSegOf(seg);
  }
  ss->end = SNCSegSeg(ss)->base;
  ss->below = ap->top;
  ss->owner = ap;
  ap->top = ss;
  *ssReturn = ss;
  return RES_OK;
}

/* Give back a segment popped off its AP's stack (no buffer attached). */
static void sncSegRelease(Pool pool, SNCSeg ss)
{
  SNC snc = SNCOf(pool);
  Seg seg = SNCSegSeg(ss);
  AVER(seg->buffer == NULL);
  snc->used -= AddrOffset(seg->base, ss->end);
  ss->owner = NULL;
  ss->below = NULL;
  ss->end = seg->base;
  if (snc->spare == NULL && SegSize(seg) == snc->segSize) {
    snc->spare = ss;
    return;
  }
  snc->total -= SegSize(seg);
  SegDestroy(seg);
}

/* ---- buffers ----------------------------------------------------------- */

static Res sncBufferFill(Addr *baseReturn, Addr *limitReturn, Pool pool, Buffer buf, Size size)
{
  SNC snc = SNCOf(pool);
  SNCAp ap;
  SNCSeg ss;
  Res res = sncApGet(&ap, pool, buf);
  if (res != RES_OK) return res;
  ss = ap->top;
  if (ss != NULL && AddrOffset(ss->end, SNCSegSeg(ss)->limit) >= size) {
    /* The rest of the top segment: its objects are now counted by init. */
    snc->used -= AddrOffset(SNCSegSeg(ss)->base, ss->end);
  } else {
    res = sncSegPush(&ss, pool, ap, size);
    if (res != RES_OK) return res;
  }
  SNCSegSeg(ss)->buffer = buf;
  *baseReturn = ss->end;
  *limitReturn = SNCSegSeg(ss)->limit;
  return RES_OK;
}

/* The unused tail [init, limit) stays unformatted: it is past the end. */
static void sncBufferEmpty(Pool pool, Buffer buf, Addr init, Addr limit)
{
  SNC snc = SNCOf(pool);
  Seg seg;
  SNCSeg ss;
  UNUSED(limit);
  if (!ArenaSegOf(&seg, pool->arena, buf->base)) {
    NOTREACHED;
    return;
  }
  ss = SNCSegOf(seg);
  AVER(seg->buffer == buf && ss->owner != NULL && ss->owner->buf == buf && ss->owner->top == ss);
  ss->end = init;
  seg->buffer = NULL;
  snc->used += AddrOffset(seg->base, init);
}

/* The AP is being destroyed, already detached (sncBufferEmpty has run). */
static void sncBufferFinish(Pool pool, Buffer buf)
{
  SNCAp ap = sncApFind(pool, buf);
  AVER(buf->base == NULL);
  if (ap != NULL) sncApOrphan(pool, ap);
}

static Size sncTotalSize(Pool pool) { return SNCOf(pool)->total; }

static Size sncFreeSize(Pool pool)
{
  SNC snc = SNCOf(pool);
  Size inBuffers = 0;
  Ring node, next;
  RING_FOR(node, &pool->bufferRing, next) {
    Buffer buf = RING_ELT(BufferStruct, poolRing, node);
    Seg seg;
    /* An attached buffer's unused part is allocated, as in every class. */
    if (buf->base != NULL && ArenaSegOf(&seg, pool->arena, buf->base))
      inBuffers += AddrOffset(seg->base, buf->poolLimit);
  }
  return snc->total - snc->used - inBuffers;
}

/* ---- frames ------------------------------------------------------------ */

static Res sncFramesGrow(Arena arena, SNCAp ap)
{
  Count cap = ap->cap == 0 ? SNC_FRAMES_MIN : ap->cap * 2;
  void *p;
  Res res;
  if (cap > SIZE_LIMIT / sizeof(SNCFrameStruct)) return RES_RESOURCE;
  res = ControlAlloc(&p, arena, cap * sizeof(SNCFrameStruct));
  if (res != RES_OK) return res;
  if (ap->frames != NULL) {
    memcpy(p, ap->frames, ap->depth * sizeof(SNCFrameStruct));
    ControlFree(arena, ap->frames, ap->cap * sizeof(SNCFrameStruct));
  }
  ap->frames = p;
  ap->cap = cap;
  return RES_OK;
}

static Res sncFramePush(mps_frame_t *frameReturn, Pool pool, Buffer buf)
{
  SNCAp ap;
  SNCFrame f;
  Res res = sncApGet(&ap, pool, buf);
  if (res != RES_OK) return res;
  if (ap->depth == ap->cap) {
    res = sncFramesGrow(pool->arena, ap);
    if (res != RES_OK) return res;
  }
  f = &ap->frames[ap->depth++];
  f->token = sncTokenNew();
  f->seg = ap->top;
  f->addr = ap->top != NULL ? sncSegEnd(ap->top) : NULL;
  *frameReturn = (mps_frame_t)f->token;
  return RES_OK;
}

/* The index of the frame with this token (tokens increase up the stack). */
static Bool sncFrameIndex(Index *iReturn, SNCAp ap, Word token)
{
  Index lo = 0, hi = ap->depth;
  while (lo < hi) {
    Index mid = lo + (hi - lo) / 2;
    if (ap->frames[mid].token == token) {
      *iReturn = mid;
      return TRUE;
    }
    if (ap->frames[mid].token < token)
      lo = mid + 1;
    else
      hi = mid;
  }
  return FALSE;
}

static Res sncFramePop(Pool pool, Buffer buf, mps_frame_t frame)
{
  SNC snc = SNCOf(pool);
  SNCAp ap = sncApFind(pool, buf);
  SNCSeg fseg;
  Addr addr;
  Index i;
  if (ap == NULL || !sncFrameIndex(&i, ap, (Word)frame))
    return MISUSE("mps_ap_frame_pop: %p is not a frame on this allocation point's stack"
                  " (popped already, pushed on another allocation point, or not a frame)",
                  (void *)frame);
  fseg = ap->frames[i].seg;
  addr = ap->frames[i].addr;
  ap->depth = i;
  while (ap->top != fseg) {
    SNCSeg ss = ap->top;
    AVER(ss != NULL);
    if (SNCSegSeg(ss)->buffer != NULL) BufferDetach(buf); /* sncBufferEmpty */
    ap->top = ss->below;
    sncSegRelease(pool, ss);
  }
  if (fseg != NULL) {
    if (SNCSegSeg(fseg)->buffer == buf) {
      /* Inside the attached buffer: reset it to the frame. */
      buf->ap.init = buf->ap.alloc = addr;
      if (addr < buf->base) buf->base = addr;
    } else {
      AVER(addr <= fseg->end);
      snc->used -= AddrOffset(addr, fseg->end);
      fseg->end = addr;
    }
  }
  return RES_OK;
}

/* ---- trace methods: nothing is ever white ---------------------------- */

static void sncWhiten(Pool pool) { UNUSED(pool); }

static Res sncFix(Pool pool, ScanState ss, Seg seg, Addr *refIO)
{
  UNUSED(pool);
  UNUSED(ss);
  UNUSED(seg);
  UNUSED(refIO);
  NOTREACHED; /* only white segments are fixed */
  return RES_OK;
}

static Res sncScanSeg(Pool pool, ScanState ss, Seg seg)
{
  Addr end = sncSegEnd(SNCSegOf(seg));
  Word summary = 0;
  Res res = RES_OK;
  if (seg->base < end) res = FormatScan(ss, pool->format, seg->base, end, &summary);
  seg->summary = summary;
  return res;
}

static Bool sncGrey(Res *resReturn, Pool pool, ScanState ss)
{
  UNUSED(resReturn);
  UNUSED(pool);
  UNUSED(ss);
  return FALSE;
}

static void sncReclaim(Pool pool) { UNUSED(pool); }

static Bool sncPreserved(Pool pool, Seg seg, Addr ref, Addr *newReturn)
{
  UNUSED(pool);
  UNUSED(seg);
  *newReturn = ref;
  return TRUE;
}

static Res sncWalk(Pool pool, PoolAreaVisitor visit, void *closure)
{
  Ring node, next;
  RING_FOR(node, &pool->segRing, next) {
    Seg seg = RING_ELT(SegStruct, poolRing, node);
    Addr end = sncSegEnd(SNCSegOf(seg));
    if (seg->base < end) {
      Res res = visit(pool, seg->base, end, closure);
      if (res != RES_OK) return res;
    }
  }
  return RES_OK;
}

static Res sncAddrObject(Addr *pReturn, Pool pool, Seg seg, Addr addr)
{
  Addr p, end = sncSegEnd(SNCSegOf(seg));
  if (addr >= end) return RES_FAIL;
  for (p = seg->base; p < end;) {
    Addr next = (Addr)pool->format->skip(p);
    if (addr < next) {
      *pReturn = p;
      return RES_OK;
    }
    p = next;
  }
  return RES_FAIL;
}

/* ---- consistency -------------------------------------------------------- */

/* Is ss on the AP's stack?  Its height (1 for the bottom) in *heightReturn. */
static Bool sncApHolds(Count *heightReturn, SNCAp ap, SNCSeg ss)
{
  Count n = 0, height = 0;
  SNCSeg s;
  for (s = ap->top; s != NULL; s = s->below) ++n;
  for (s = ap->top; s != NULL; s = s->below, --n)
    if (s == ss) height = n;
  *heightReturn = height;
  return ss == NULL || height != 0;
}

/* Is buf one of the pool's APs? */
static Bool sncPoolHasBuffer(Pool pool, Buffer buf)
{
  Ring node, next;
  RING_FOR(node, &pool->bufferRing, next)
    if (RING_ELT(BufferStruct, poolRing, node) == buf) return TRUE;
  return FALSE;
}

static Bool sncApConsistent(Pool pool, SNCAp ap, Count *ownedReturn)
{
  Count owned = 0, lastHeight = 0;
  Addr lastAddr = NULL;
  Word lastToken = 0;
  Index i;
  SNCSeg s;
  /* The record's AP is live and the pool's, and has no other record. */
  if (!sncPoolHasBuffer(pool, ap->buf) || !BufferCheck(ap->buf) || sncApFind(pool, ap->buf) != ap)
    return FALSE;
  for (s = ap->top; s != NULL; s = s->below) {
    Seg seg = SNCSegSeg(s);
    if (s->owner != ap) return FALSE;
    /* Only the top segment may have a buffer, and only the AP's. */
    if (seg->buffer != NULL && (s != ap->top || seg->buffer != ap->buf)) return FALSE;
    ++owned;
  }
  if (ap->buf->base != NULL && (ap->top == NULL || SNCSegSeg(ap->top)->buffer != ap->buf))
    return FALSE;
  if (ap->depth > ap->cap || (ap->cap != 0) != (ap->frames != NULL)) return FALSE;
  for (i = 0; i < ap->depth; ++i) {
    SNCFrame f = &ap->frames[i];
    Count height;
    if ((f->token & 1) == 0 || f->token <= lastToken) return FALSE;
    if (!sncApHolds(&height, ap, f->seg)) return FALSE;
    if (f->seg == NULL) {
      if (f->addr != NULL || lastHeight != 0) return FALSE;
    } else {
      if (f->addr < SNCSegSeg(f->seg)->base || f->addr > sncSegEnd(f->seg)) return FALSE;
      if (height < lastHeight || (height == lastHeight && f->addr < lastAddr)) return FALSE;
    }
    lastToken = f->token;
    lastHeight = height;
    lastAddr = f->addr;
  }
  *ownedReturn = owned;
  return TRUE;
}

static Bool sncConsistent(Pool pool)
{
  SNC snc = SNCOf(pool);
  Format fmt = pool->format;
  Ring node, next;
  Size total = 0, used = 0;
  Count owned = 0, ownedInStacks = 0;
  Bool spareSeen = FALSE;
  RING_FOR(node, &pool->segRing, next) {
    Seg seg = RING_ELT(SegStruct, poolRing, node);
    SNCSeg ss = SNCSegOf(seg);
    Addr p, end = sncSegEnd(ss);
    if (!SegCheck(seg) || seg->pool != pool || seg->white || seg->grey || seg->nailed ||
        seg->protectedRO || seg->rank != RANK_EXACT)
      return FALSE;
    if (end < seg->base || end > seg->limit || !AddrIsAligned(end, pool->alignment)) return FALSE;
    if (seg->buffer != NULL) {
      Buffer buf = seg->buffer;
      if (buf->pool != pool || buf->base < seg->base || buf->base > (Addr)buf->ap.init ||
          buf->poolLimit != seg->limit || ss->owner == NULL)
        return FALSE;
    } else {
      if (ss->end != end) return FALSE;
      used += AddrOffset(seg->base, end);
    }
    if (ss == snc->spare) {
      if (ss->owner != NULL || ss->below != NULL || end != seg->base ||
          SegSize(seg) != snc->segSize)
        return FALSE;
      spareSeen = TRUE;
    } else if (ss->owner == NULL) {
      if (ss->below != NULL) return FALSE; /* orphaned */
    } else {
      ++owned;
    }
    for (p = seg->base; p < end;) {
      Addr q = (Addr)fmt->skip(p);
      if (q <= p || q > end || !AddrIsAligned(q, pool->alignment)) return FALSE;
      p = q;
    }
    total += SegSize(seg);
  }
  if ((snc->spare != NULL) != spareSeen) return FALSE;
  /* Every attached AP of the pool has a record (its fill made one). */
  RING_FOR(node, &pool->bufferRing, next) {
    Buffer buf = RING_ELT(BufferStruct, poolRing, node);
    if (buf->base != NULL && sncApFind(pool, buf) == NULL) return FALSE;
  }
  RING_FOR(node, &snc->aps, next) {
    Count n;
    if (!sncApConsistent(pool, RING_ELT(SNCApStruct, poolRing, node), &n)) return FALSE;
    ownedInStacks += n;
  }
  return total == snc->total && used == snc->used && owned == ownedInStacks;
}

static PoolClassStruct poolClassSNC = {
  .sig = PoolClassSig,
  .name = "SNC",
  .size = sizeof(SNCStruct),
  .attr = POOL_ATTR_AP | POOL_ATTR_GC | POOL_ATTR_SCAN | POOL_ATTR_RANKED_APS,
  .varargs = sncVarargs,
  .init = sncInit,
  .finish = sncFinish,
  .bufferFill = sncBufferFill,
  .bufferEmpty = sncBufferEmpty,
  .totalSize = sncTotalSize,
  .freeSize = sncFreeSize,
  .consistent = sncConsistent,
  .whiten = sncWhiten,
  .fix = sncFix,
  .scanSeg = sncScanSeg,
  .grey = sncGrey,
  .reclaim = sncReclaim,
  .preserved = sncPreserved,
  .walk = sncWalk,
  .addrObject = sncAddrObject,
  .apRanks = RANK_SET(RANK_EXACT),
  .framePush = sncFramePush,
  .framePop = sncFramePop,
  .bufferFinish = sncBufferFinish,
};

mps_pool_class_t mps_class_snc(void) { return &poolClassSNC; }
