/* poolsegfit.c -- SEGFIT: a manual segregated-fit pool for small,
 * short-lived blocks shared by many threads (mpscsegfit.h).
 *
 * The pool class, its consistency check, and the two interfaces: the
 * internal one the CPython allocator hook uses (segfit.h) and the public
 * one (mpscsegfit.h).  Thread caches are in segfit_cache.c, runs and
 * allocation in segfit_alloc.c, free in segfit_free.c, the structures and
 * fast paths in segfitint.h.
 * Design: docs/design/segfit.md.
 */
#include "segfitint.h"

/* The run holding p, without the arena lock where that is safe: in the
 * primary chunk, which is never unmapped, a live block's page-table entry
 * cannot change under us.  Other chunks are looked up under the lock. */
static SFRun sfRunOf(SF sf, Addr p)
{
  Pool pool = &sf->poolStruct;
  Arena arena = pool->arena;
  Seg seg = NULL;
  if (!ArenaPrimarySegOf(&seg, arena, p)) {
    Bool claimed = ArenaEnterRecursive(arena);
    if (!ArenaSegOf(&seg, arena, p)) seg = NULL;
    ArenaLeaveRecursive(arena, claimed);
  }
  if (seg == NULL || seg->pool != pool) return NULL;
  return (SFRun)seg;
}

/* ---- the pool class ---------------------------------------------------- */

static void sfVarargs(ArgStruct *args, va_list varargs)
{
  UNUSED(varargs);
  args[0].key = MPS_KEY_ARGS_END;
}

static Res sfInit(Pool pool, ArgList args)
{
  SF sf = SFOf(pool);
  Size grain = pool->arena->grainSize;
  UNUSED(args);
  RingInit(&sf->caches);
  RingInit(&sf->stash);
  sf->stashCount = 0;
  sf->runSize = SizeAlignUp(SF_RUN_SIZE, grain);
  sf->bigRunSize = SizeAlignUp(SF_BIG_RUN_SIZE, grain);
  sf->total = 0;
  pool->alignment = SF_BLOCK_ALIGN;
  sfRegister(sf);
  return RES_OK;
}

static void sfFinish(Pool pool)
{
  SF sf = SFOf(pool);
  Ring node, next;
  sfDeregister(sf);
  sfCachesDestroy(sf);
  RING_FOR(node, &pool->segRing, next) SegDestroy(RING_ELT(SegStruct, poolRing, node));
}

static Res sfClassAlloc(Addr *pReturn, Pool pool, Size size)
{
  return sfAlloc(pReturn, SFOf(pool), size, 0);
}

static Res sfClassFree(Pool pool, Seg seg, Addr old, Size size)
{
  return sfFreeBlock(SFOf(pool), (SFRun)seg, old, size);
}

static Size sfTotalSize(Pool pool) { return SFOf(pool)->total; }

static Count sfBitsSet(Word *bits, Count words)
{
  Count n = 0;
  Index w;
  for (w = 0; w < words; ++w) n += (Count)__builtin_popcountl((unsigned long)bits[w]);
  return n;
}

/* Bytes of blocks neither free nor freed remotely, by class size. */
static Size sfAllocatedSize(SF sf)
{
  Ring node, next;
  Size allocated = 0;
  RING_FOR(node, &sf->poolStruct.segRing, next) {
    SFRun run = (SFRun)RING_ELT(SegStruct, poolRing, node);
    if (run->state == SF_RUN_LARGE) {
      allocated += run->blockSize;
    } else if (run->state != SF_RUN_STASHED) {
      Count busy = run->capacity - sfBitsSet(run->freeBits, run->words) -
                   sfBitsSet(run->remoteBits, run->words);
      allocated += busy * run->blockSize;
    }
  }
  return allocated;
}

static Size sfFreeSize(Pool pool)
{
  SF sf = SFOf(pool);
  return sf->total - sfAllocatedSize(sf);
}

static Bool sfRunConsistent(SFRun run)
{
  Index i;
  Count busy = 0;
  if (run->capacity == 0 || run->blocks < run->segStruct.base ||
      AddrAdd(run->blocks, run->capacity * run->blockSize) > run->segStruct.limit)
    return FALSE;
  if (run->freeBits[run->words] != 0) return FALSE;
  for (i = 0; i < run->words * WORD_WIDTH; ++i) {
    Word bit = (Word)1 << (i % WORD_WIDTH);
    Bool isFree = (run->freeBits[i / WORD_WIDTH] & bit) != 0;
    Bool isRemote = (run->remoteBits[i / WORD_WIDTH] & bit) != 0;
    if (i >= run->capacity) {
      if (isFree || isRemote) return FALSE;
      continue;
    }
    if (isFree && isRemote) return FALSE;
    if (((sfFactLoad(run, i) & SF_LIVE) != 0) != (!isFree && !isRemote)) return FALSE;
    if ((sfFactLoad(run, i) & SF_LIVE) && (sfFactLoad(run, i) & SF_SIZE_MASK) > run->blockSize)
      return FALSE;
    if (!isFree) ++busy;
    if (isFree && i / WORD_WIDTH < run->cursor) return FALSE;
  }
  if (run->used != busy) return FALSE;
  if (run->state == SF_RUN_FULL && busy != run->capacity) return FALSE;
  return TRUE;
}

static Bool sfConsistent(Pool pool)
{
  SF sf = SFOf(pool);
  Ring node, next, rn, rnext;
  Size total = 0;
  Count owned = 0, listed = 0, stashed = 0;
  Index k;

  RING_FOR(node, &pool->segRing, next) {
    SFRun run = (SFRun)RING_ELT(SegStruct, poolRing, node);
    if (!SegCheck(&run->segStruct) || run->segStruct.pool != pool) return FALSE;
    total += SegSize(&run->segStruct);
    switch (run->state) {
    case SF_RUN_LARGE:
      if (run->cls != SF_LARGE || !run->largeLive || run->blocks != run->segStruct.base ||
          run->largeSize > run->blockSize || run->largeSize <= SF_SMALL_MAX)
        return FALSE;
      break;
    case SF_RUN_STASHED:
      if (run->cache != NULL || run->used != 0 || !sfRunConsistent(run)) return FALSE;
      ++stashed;
      break;
    case SF_RUN_CURRENT:
    case SF_RUN_PARTIAL:
    case SF_RUN_FULL:
      if (run->cls >= SF_CLASSES || run->blockSize != sfClassSize(run->cls) ||
          !CHECKS(SFCache, run->cache) || run->cache->sf != sf || !sfRunConsistent(run))
        return FALSE;
      if (run->state == SF_RUN_CURRENT && run->cache->current[run->cls] != run) return FALSE;
      ++owned;
      break;
    default: return FALSE;
    }
  }
  RING_FOR(node, &sf->caches, next) {
    SFCache c = RING_ELT(SFCacheStruct, sfRing, node);
    if (!CHECKS(SFCache, c) || c->sf != sf) return FALSE;
    for (k = 0; k < SF_CLASSES; ++k) {
      SFRun cur = c->current[k];
      if (cur != NULL && (cur->state != SF_RUN_CURRENT || cur->cache != c || cur->cls != k))
        return FALSE;
      RING_FOR(rn, &c->partial[k], rnext) {
        SFRun run = RING_ELT(SFRunStruct, cacheRing, rn);
        if (run->state != SF_RUN_PARTIAL || run->cache != c || run->cls != k) return FALSE;
        ++listed;
      }
    }
  }
  RING_FOR(rn, &sf->stash, rnext) {
    SFRun run = RING_ELT(SFRunStruct, cacheRing, rn);
    if (run->state != SF_RUN_STASHED) return FALSE;
  }
  UNUSED(owned);
  UNUSED(listed);
  return total == sf->total && stashed == sf->stashCount && RingLength(&sf->stash) == stashed;
}

static PoolClassStruct poolClassSEGFIT = {
  .sig = PoolClassSig,
  .name = "SEGFIT",
  .size = sizeof(SFStruct),
  .attr = POOL_ATTR_ALLOC | POOL_ATTR_FREE,
  .varargs = sfVarargs,
  .init = sfInit,
  .finish = sfFinish,
  .alloc = sfClassAlloc,
  .free = sfClassFree,
  .totalSize = sfTotalSize,
  .freeSize = sfFreeSize,
  .consistent = sfConsistent,
  .apRanks = RANK_SET(RANK_EXACT),
};

/* ---- internal interface (the CPython allocator hook: segfit.h) ---------- */

INTERN Res SegfitAlloc(Addr *pReturn, Pool pool, Size size, unsigned tag)
{
  return sfAlloc(pReturn, SFOf(pool), size, tag);
}

/* Allocate for a block that is growing: a large block gets a quarter more
 * room, so that the next few reallocations fit in place. */
INTERN Res SegfitAllocGrowing(Addr *pReturn, Pool pool, Size size, unsigned tag)
{
  if (size <= SF_SMALL_MAX) return sfAlloc(pReturn, SFOf(pool), size, tag);
  return sfAllocLarge(pReturn, SFOf(pool), size, size + size / 4, tag);
}

/* Free p given that it lies in seg, a segment of pool. */
INTERN Res SegfitFreeInSeg(Pool pool, Seg seg, Addr p)
{
  return sfFreeBlock(SFOf(pool), (SFRun)seg, p, 0);
}

/* The requested size and tag of the live block at p in seg. */
INTERN Bool SegfitBlockInSeg(Size *sizeReturn, unsigned *tagReturn, Seg seg, Addr p)
{
  SFRun run = (SFRun)seg;
  Index i;
  uint32_t fact;
  if (!sfBlockAt(&i, &fact, run, p)) return FALSE;
  if (sizeReturn != NULL) *sizeReturn = sfRequested(run, fact);
  if (tagReturn != NULL) *tagReturn = run->cls == SF_LARGE ? run->largeTag : fact >> 16;
  return TRUE;
}

/* Give the live block at p in seg a new requested size and tag if it
 * fits where it is (same class, or the same pages for a large block). */
INTERN Bool SegfitResizeInSeg(Seg seg, Addr p, Size size, unsigned tag)
{
  SFRun run = (SFRun)seg;
  Index i;
  uint32_t fact;
  if (!sfBlockAt(&i, &fact, run, p)) return FALSE;
  if (run->cls == SF_LARGE) {
    if (size <= SF_SMALL_MAX || size > run->blockSize || size <= run->blockSize / 2) return FALSE;
    run->largeSize = size;
    run->largeTag = tag & 0xFFFFu;
    return TRUE;
  }
  if (size > SF_SMALL_MAX || sfClassOf(size) != run->cls) return FALSE;
  __atomic_store_n(&run->facts[i], sfFact(size, tag), __ATOMIC_RELAXED);
  return TRUE;
}

/* Sites: from now on (on), runs are formatted with a site per block. */
INTERN void SegfitTrackSites(Pool pool, Bool on)
{
  __atomic_store_n(&SFOf(pool)->trackSites, on, __ATOMIC_RELAXED);
}

/* Record the site of the live block at p in seg, which the calling thread
 * has just allocated (so it owns the run); nothing if the run has no
 * sites (formatted before tracking began). */
INTERN void SegfitSetSite(Seg seg, Addr p, uint32_t site)
{
  SFRun run = (SFRun)seg;
  if (run->cls == SF_LARGE) {
    run->largeSite = site;
  } else if (run->sites != NULL) {
    Index i = sfIndexOf(run, AddrOffset(run->blocks, p));
    AVER(i < run->capacity);
    run->sites[i] = site;
  }
}

/* Walk the live blocks with their sites (0: unknown); the caller holds the
 * arena lock. */
INTERN void SegfitWalkSites(Pool pool, SegfitSiteVisit visit, void *closure)
{
  Ring node, next;
  RING_FOR(node, &pool->segRing, next) {
    SFRun run = (SFRun)RING_ELT(SegStruct, poolRing, node);
    Index i;
    if (run->state == SF_RUN_STASHED) continue;
    if (run->state == SF_RUN_LARGE) {
      if (run->largeLive)
        visit(run->blocks, run->largeSize, run->largeTag, run->largeSite, closure);
      continue;
    }
    for (i = 0; i < run->capacity; ++i) {
      uint32_t f = sfFactLoad(run, i);
      if (f & SF_LIVE)
        visit(AddrAdd(run->blocks, i * run->blockSize), f & SF_SIZE_MASK, f >> 16,
              run->sites != NULL ? run->sites[i] : 0, closure);
    }
  }
}

typedef struct SFWalkAdapter {
  gcp_segfit_visit_t visit;
  void *closure;
} SFWalkAdapter;

static void sfWalkAdapt(Addr block, Size size, unsigned tag, uint32_t site, void *closure)
{
  SFWalkAdapter *a = closure;
  UNUSED(site);
  a->visit(block, size, tag, a->closure);
}

/* Walk the live blocks; the caller holds the arena lock. */
INTERN void SegfitWalk(Pool pool, gcp_segfit_visit_t visit, void *closure)
{
  SFWalkAdapter a = { visit, closure };
  SegfitWalkSites(pool, sfWalkAdapt, &a);
}

/* ---- public interface (mpscsegfit.h) ------------------------------------ */

static Bool sfPoolOK(Pool pool, const char *fn)
{
  if (pool != NULL && pool->sig == PoolSig && pool->klass == &poolClassSEGFIT) return TRUE;
  (void)MISUSE("%s: %p is not a live SEGFIT pool", fn, (void *)pool);
  return FALSE;
}

mps_pool_class_t mps_class_segfit(void) { return &poolClassSEGFIT; }

mps_res_t gcp_segfit_alloc(mps_addr_t *p_o, mps_pool_t pool, size_t size, unsigned tag)
{
  Addr p;
  Res res;
  if (p_o == NULL) return MISUSE("gcp_segfit_alloc: p_o is NULL");
  if (!sfPoolOK(pool, "gcp_segfit_alloc")) return RES_PARAM;
  if (tag > 0xFFFFu) return MISUSE("gcp_segfit_alloc: tag %u does not fit in 16 bits", tag);
  res = sfAlloc(&p, SFOf(pool), size, tag);
  if (res == RES_OK) *p_o = p;
  return res;
}

void gcp_segfit_free(mps_pool_t pool, mps_addr_t p)
{
  SFRun run;
  if (!sfPoolOK(pool, "gcp_segfit_free")) return;
  if (p == NULL) return;
  run = sfRunOf(SFOf(pool), p);
  if (run == NULL) {
    (void)MISUSE("gcp_segfit_free: %p is not in this SEGFIT pool", p);
    return;
  }
  (void)sfFreeBlock(SFOf(pool), run, p, 0);
}

mps_bool_t gcp_segfit_block(mps_pool_t pool, mps_addr_t p, size_t *size_o, unsigned *tag_o)
{
  SFRun run;
  if (!sfPoolOK(pool, "gcp_segfit_block")) return FALSE;
  run = sfRunOf(SFOf(pool), p);
  return run != NULL && SegfitBlockInSeg(size_o, tag_o, &run->segStruct, p);
}

size_t gcp_segfit_usable_size(size_t size)
{
  return size > SF_SMALL_MAX ? size : sfClassSize(sfClassOf(size));
}

void gcp_segfit_walk(mps_pool_t pool, gcp_segfit_visit_t visit, void *closure)
{
  Bool claimed;
  if (!sfPoolOK(pool, "gcp_segfit_walk")) return;
  if (visit == NULL) {
    (void)MISUSE("gcp_segfit_walk: visit is NULL");
    return;
  }
  claimed = ArenaEnterRecursive(pool->arena);
  SegfitWalk(pool, visit, closure);
  ArenaLeaveRecursive(pool->arena, claimed);
}

static void sfCountVisit(mps_addr_t block, size_t size, unsigned tag, void *closure)
{
  size_t *counts = closure;
  UNUSED(block);
  UNUSED(tag);
  counts[0] += 1;
  counts[1] += size;
}

void gcp_segfit_live(mps_pool_t pool, size_t *blocks_o, size_t *bytes_o)
{
  size_t counts[2] = { 0, 0 };
  gcp_segfit_walk(pool, sfCountVisit, counts);
  if (blocks_o != NULL) *blocks_o = counts[0];
  if (bytes_o != NULL) *bytes_o = counts[1];
}
