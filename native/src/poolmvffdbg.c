/* poolmvffdbg.c -- the MVFF debug class (docs/design/mvff.md): fenceposts around
 * every block and free-space splatting, over the MVFF machinery.
 *
 * A block of n bytes allocated with mps_alloc occupies
 *   [fence][n bytes for the client][slack up to the alignment][fence]
 * and the fence pattern covers both fences and the slack, so overruns
 * into the slack are caught too.  Patterns are laid by address: the byte
 * at address a is template[a mod length], which stays true when free
 * ranges coalesce or split.  Live blocks are tagged in a non-coalescing
 * CBS (client base, requested size), which gives exact size checks on
 * free and lets mps_pool_check_fenceposts visit every block.
 *
 * Free space is splatted when it becomes free (segments when they join the
 * pool, blocks when freed, buffer tails when an allocation point lets
 * them go) and verified when it is reused, when a segment goes back to
 * the arena, and by mps_pool_check_free_space.
 *
 * Blocks committed through allocation points carry no fences or tags (the
 * inline commit never reaches the pool).  mps_free of an untagged block is
 * accepted when it lies outside free space and outside every tagged block.
 * Design: docs/design/mvff.md (debug class).
 */
#include "poolmvff.h"
#include "debugpat.h"
#include "mpscmvff.h"

typedef struct MVFFDebugStruct {
  MVFFStruct mvffStruct;
  DebugPatternsStruct pat;
  Size fenceSize; /* bytes of each fence: length rounded to alignment */
  CBSStruct tags; /* live blocks: [client, client + requested size) */
} MVFFDebugStruct, *MVFFDebug;

#define DebugOf(pool) PARENT(MVFFDebugStruct, mvffStruct, MVFFOf(pool))

static void debugSplat(MVFFDebug d, Addr base, Addr limit)
{
  if (d->pat.freeLength > 0) DebugPatternWrite(d->pat.free, d->pat.freeLength, base, limit);
}

/* Verify free space; report the first damaged byte. */
static Bool debugFreeIntact(MVFFDebug d, Addr base, Addr limit, const char *when)
{
  Addr bad;
  if (d->pat.freeLength == 0) return TRUE;
  bad = DebugPatternCheck(d->pat.free, d->pat.freeLength, base, limit);
  if (bad == limit) return TRUE;
  (void)MISUSE("%s: free space at %p (in free range %p..%p) was written after it was "
               "freed",
               when, (void *)bad, (void *)base, (void *)limit);
  return FALSE;
}

static void debugHookFresh(MVFF mvff, Addr base, Addr limit)
{
  debugSplat(PARENT(MVFFDebugStruct, mvffStruct, mvff), base, limit);
}

static void debugHookReturning(MVFF mvff, Addr base, Addr limit)
{
  (void)debugFreeIntact(PARENT(MVFFDebugStruct, mvffStruct, mvff), base, limit,
                        "returning memory to the arena");
}

/* Span of the whole internal block for a client block of `size` bytes. */
static Size debugBlockSpan(MVFFDebug d, Size size)
{
  return d->fenceSize + SizeAlignUp(size, d->mvffStruct.poolStruct.alignment) + d->fenceSize;
}

/* Check both fences of a tagged block; report which one is damaged. */
static Bool debugFencesIntact(MVFFDebug d, Addr client, Size size, const char *when)
{
  Addr base = AddrSub(client, d->fenceSize), end = AddrAdd(base, debugBlockSpan(d, size));
  if (d->pat.fenceLength == 0) return TRUE;
  if (DebugPatternCheck(d->pat.fence, d->pat.fenceLength, base, client) != client) {
    (void)MISUSE("%s: the fencepost before block %p (%zu bytes) is damaged: something "
                 "wrote below the start of the block",
                 when, (void *)client, size);
    return FALSE;
  }
  if (DebugPatternCheck(d->pat.fence, d->pat.fenceLength, AddrAdd(client, size), end) != end) {
    (void)MISUSE("%s: the fencepost after block %p (%zu bytes) is damaged: something "
                 "wrote past the end of the block",
                 when, (void *)client, size);
    return FALSE;
  }
  return TRUE;
}

static void debugVarargs(ArgStruct *args, va_list varargs)
{
  args[0].key = MPS_KEY_POOL_DEBUG_OPTIONS;
  args[0].val.pool_debug_options = va_arg(varargs, mps_pool_debug_option_s *);
  MVFFVarargs(args + 1, varargs);
}

static Res debugInit(Pool pool, ArgList args)
{
  MVFFDebug d = DebugOf(pool);
  const mps_pool_debug_option_s *opt;
  Res res = DebugOptionsCheck(&opt, args);
  if (res != RES_OK) return res;
  res = MVFFInit(pool, args);
  if (res != RES_OK) return res;
  DebugPatternsInit(&d->pat, opt);
  d->fenceSize = d->pat.fenceLength == 0 ? 0 : SizeAlignUp(d->pat.fenceLength, pool->alignment);
  d->mvffStruct.quick = FALSE; /* every free must be checked and splatted */
  d->mvffStruct.fresh = debugHookFresh;
  d->mvffStruct.returning = debugHookReturning;
  CBSInit(&d->tags, pool->arena, FALSE);
  return RES_OK;
}

typedef struct DebugFenceClosure {
  MVFFDebug d;
  const char *when;
} DebugFenceClosure;

static Bool debugVisitTag(Addr base, Addr limit, void *p)
{
  DebugFenceClosure *c = p;
  return debugFencesIntact(c->d, base, AddrOffset(base, limit), c->when);
}

static void debugCheckFenceposts(Pool pool)
{
  DebugFenceClosure c;
  c.d = DebugOf(pool);
  c.when = "mps_pool_check_fenceposts";
  (void)CBSIterate(&c.d->tags, debugVisitTag, &c);
}

static Bool debugVisitFree(Addr base, Addr limit, void *p)
{
  return debugFreeIntact(p, base, limit, "mps_pool_check_free_space");
}

static void debugCheckFreeSpace(Pool pool)
{
  MVFFDebug d = DebugOf(pool);
  (void)CBSIterate(&d->mvffStruct.freeCBS, debugVisitFree, d);
}

static void debugFinish(Pool pool)
{
  DebugFenceClosure c;
  c.d = DebugOf(pool);
  c.when = "mps_pool_destroy";
  (void)CBSIterate(&c.d->tags, debugVisitTag, &c);
  CBSFinish(&c.d->tags);
  MVFFFinish(pool);
}

static Res debugAlloc(Addr *pReturn, Pool pool, Size size)
{
  MVFFDebug d = DebugOf(pool);
  Size span = debugBlockSpan(d, size);
  Addr base, client;
  RangeStruct r = { NULL, NULL };
  Res res;

  res = MVFFAllocRange(&base, &d->mvffStruct, span);
  if (res != RES_OK) return res;
  (void)debugFreeIntact(d, base, AddrAdd(base, span), "mps_alloc");
  client = AddrAdd(base, d->fenceSize);
  res = CBSInsert(&r, &d->tags, client, AddrAdd(client, size));
  if (res != RES_OK) {
    debugSplat(d, base, AddrAdd(base, span));
    MVFFFreeRange(&d->mvffStruct, base, AddrAdd(base, span));
    return res;
  }
  if (d->pat.fenceLength > 0) {
    DebugPatternWrite(d->pat.fence, d->pat.fenceLength, base, client);
    DebugPatternWrite(d->pat.fence, d->pat.fenceLength, AddrAdd(client, size), AddrAdd(base, span));
  }
  *pReturn = client;
  return RES_OK;
}

static Res debugFree(Pool pool, Seg seg, Addr old, Size size)
{
  MVFFDebug d = DebugOf(pool);
  RangeStruct tag = { NULL, NULL };
  Size tagSize, span;
  Addr base;
  Res res;
  UNUSED(seg);

  if (!CBSFindContaining(&tag, &d->tags, old)) {
    /* Not an mps_alloc block: perhaps one committed through an allocation
     * point, which the plain MVFF checks apply to. */
    Size aligned = SizeAlignUp(size, pool->alignment);
    Addr end = AddrAdd(old, aligned);
    RangeStruct below = { NULL, NULL };
    /* Fenced extents of tagged blocks are disjoint and ordered, so only the
     * last one starting before end can reach into [old, end). */
    if (CBSFindBelow(&below, &d->tags, AddrAdd(end, d->fenceSize)) &&
        AddrSub(below.base, d->fenceSize) < end &&
        AddrAdd(AddrSub(below.base, d->fenceSize),
                debugBlockSpan(d, AddrOffset(below.base, below.limit))) > old)
      return MISUSE("mps_free: block %p of %zu bytes overlaps allocated block %p or its "
                    "fenceposts (wrong address or size)",
                    (void *)old, size, (void *)below.base);
    res = MVFFCheckFreeable(&d->mvffStruct, old, aligned);
    if (res != RES_OK) return res;
    if (CBSOverlaps(&d->mvffStruct.freeCBS, old, AddrAdd(old, aligned)))
      return MISUSE("mps_free: block %p is not allocated in this MVFF debug pool (double "
                    "free?)",
                    (void *)old);
    debugSplat(d, old, AddrAdd(old, aligned));
    MVFFFreeRange(&d->mvffStruct, old, AddrAdd(old, aligned));
    return RES_OK;
  }
  if (tag.base != old)
    return MISUSE("mps_free: %p points into the middle of block %p, not at its start", (void *)old,
                  (void *)tag.base);
  tagSize = AddrOffset(tag.base, tag.limit);
  if (SizeAlignUp(size, pool->alignment) != SizeAlignUp(tagSize, pool->alignment))
    return MISUSE("mps_free: size %zu does not match the %zu bytes allocated at %p", size, tagSize,
                  (void *)old);
  if (!debugFencesIntact(d, old, tagSize, "mps_free")) return RES_PARAM;
  res = CBSDelete(&d->tags, tag.base, tag.limit); /* a whole node: no new node needed */
  AVER(res == RES_OK);
  span = debugBlockSpan(d, tagSize);
  base = AddrSub(old, d->fenceSize);
  debugSplat(d, base, AddrAdd(base, span));
  MVFFFreeRange(&d->mvffStruct, base, AddrAdd(base, span));
  return RES_OK;
}

static Res debugBufferFill(Addr *baseReturn, Addr *limitReturn, Pool pool, Buffer buffer, Size size)
{
  MVFFDebug d = DebugOf(pool);
  Res res = MVFFBufferFill(baseReturn, limitReturn, pool, buffer, size);
  if (res == RES_OK) (void)debugFreeIntact(d, *baseReturn, *limitReturn, "mps_reserve");
  return res;
}

static void debugBufferEmpty(Pool pool, Buffer buffer, Addr init, Addr limit)
{
  debugSplat(DebugOf(pool), init, limit);
  MVFFBufferEmpty(pool, buffer, init, limit);
}

static Bool debugConsistent(Pool pool)
{
  MVFFDebug d = DebugOf(pool);
  return MVFFConsistent(pool) && CBSConsistent(&d->tags);
}

static PoolClassStruct poolClassMVFFDebug = {
  .sig = PoolClassSig,
  .name = "MVFF debug",
  .size = sizeof(MVFFDebugStruct),
  .attr = POOL_ATTR_ALLOC | POOL_ATTR_FREE | POOL_ATTR_AP | POOL_ATTR_SAC,
  .varargs = debugVarargs,
  .init = debugInit,
  .finish = debugFinish,
  .alloc = debugAlloc,
  .free = debugFree,
  .bufferFill = debugBufferFill,
  .bufferEmpty = debugBufferEmpty,
  .totalSize = MVFFTotalSize,
  .freeSize = MVFFFreeSize,
  .consistent = debugConsistent,
  .checkFenceposts = debugCheckFenceposts,
  .checkFreeSpace = debugCheckFreeSpace,
  .apRanks = RANK_SET(RANK_EXACT),
};

mps_pool_class_t mps_class_mvff_debug(void) { return &poolClassMVFFDebug; }
