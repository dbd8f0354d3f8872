/* segfit_alloc.c -- SEGFIT's runs and the slow paths of allocation.
 *
 * Blocks up to SF_SMALL_MAX bytes are rounded up to one of SF_CLASSES size
 * classes and carved from runs: segments of SF_RUN_SIZE (or
 * SF_BIG_RUN_SIZE) bytes holding one class, with their metadata in-band
 * (segfitint.h).  Here runs are laid out, taken from the stash or the
 * arena, and given back; the slow path of small allocation collects the
 * thread's remote frees and finds another run; larger blocks get a
 * segment each.  The fast path is sfAlloc (segfitint.h).  The arena lock
 * is taken only to get or give back segments.
 * Design: docs/design/segfit.md, "Size classes and runs" and "Threads".
 */
#include "segfitint.h"
#include <sched.h>

/* The in-band header: free and remote bits, the facts, and (tracking
 * sites) the sites. */
static Size sfHeaderSize(Count capacity, Count words, Bool sites)
{
  Count perBlock = sites ? 2 : 1;
  return SizeAlignUp((2 * words + 1) * sizeof(Word) + perBlock * capacity * sizeof(uint32_t),
                     SF_BLOCK_ALIGN);
}

/* Lay out an empty run for class cls and give it to cache c as current. */
static void sfRunFormat(SF sf, SFRun run, unsigned cls, SFCache c)
{
  Seg seg = &run->segStruct;
  Size runBytes = SegSize(seg), size = sfClassSize(cls), header;
  Count n = runBytes / size, words, i;
  Bool sites = __atomic_load_n(&sf->trackSites, __ATOMIC_RELAXED);

  for (;;) {
    words = (n + WORD_WIDTH - 1) / WORD_WIDTH;
    header = sfHeaderSize(n, words, sites);
    if (header + n * size <= runBytes) break;
    --n;
  }
  run->freeBits = (Word *)(void *)seg->base;
  run->remoteBits = run->freeBits + words + 1;
  run->facts = (uint32_t *)(void *)(run->remoteBits + words);
  run->sites = sites ? run->facts + n : NULL;
  run->blocks = AddrAdd(seg->base, header);
  run->blockSize = size;
  run->magic = (uint64_t)((((unsigned __int128)1 << SF_MAGIC_SHIFT) + size - 1) / size);
  run->capacity = n;
  run->words = words;
  run->used = 0;
  run->cursor = 0;
  memset(seg->base, 0, header);
  for (i = 0; i < n / WORD_WIDTH; ++i) run->freeBits[i] = ~(Word)0;
  if (n % WORD_WIDTH != 0) run->freeBits[n / WORD_WIDTH] = ((Word)1 << (n % WORD_WIDTH)) - 1;
  run->cls = cls;
  run->cache = c;
  run->state = SF_RUN_CURRENT;
  RingInit(&run->cacheRing);
  run->remoteNext = NULL;
  run->remoteQueued = 0;
  run->remoteBusy = 0;
  run->largeLive = FALSE;
}

/* An empty run for class cls owned by c: from the stash or the arena. */
static Res sfRunGet(SFRun *runReturn, SF sf, SFCache c, unsigned cls)
{
  Pool pool = &sf->poolStruct;
  Size runSize = cls >= SF_BIG_CLASS ? sf->bigRunSize : sf->runSize;
  Bool claimed = ArenaEnterRecursive(pool->arena);
  SFRun run = NULL;
  Seg seg;
  Res res = RES_OK;

  if (runSize == sf->runSize && sf->stashCount > 0) {
    run = RING_ELT(SFRunStruct, cacheRing, sf->stash.next);
    RingRemove(&run->cacheRing);
    --sf->stashCount;
  } else {
    res = SegCreate(&seg, pool, runSize, sizeof(SFRunStruct), FALSE);
    if (res == RES_OK) {
      run = (SFRun)seg;
      sf->total += SegSize(seg);
    }
  }
  if (run != NULL) sfRunFormat(sf, run, cls, c);
  ArenaLeaveRecursive(pool->arena, claimed);
  *runReturn = run;
  return res;
}

/* Give back an empty run that c owns and that is not its current run.
 * Fails (keeping the run) if a remote thread may still be pushing it. */
INTERN void sfRunRelease(SF sf, SFRun run)
{
  Pool pool = &sf->poolStruct;
  Bool claimed;
  AVER(run->used == 0 && run->state != SF_RUN_CURRENT);
  if (__atomic_exchange_n(&run->remoteQueued, 1, __ATOMIC_SEQ_CST) != 0) return;
  /* A remote free whose bit was collected may not be done with the run:
   * wait for it (a few instructions, needing nothing we hold). */
  while (__atomic_load_n(&run->remoteBusy, __ATOMIC_ACQUIRE) != 0) (void)sched_yield();
  RingRemove(&run->cacheRing);
  claimed = ArenaEnterRecursive(pool->arena);
  run->cache = NULL;
  run->state = SF_RUN_STASHED;
  if (SegSize(&run->segStruct) == sf->runSize && sf->stashCount < SF_STASH_MAX) {
    RingAppend(&sf->stash, &run->cacheRing);
    ++sf->stashCount;
  } else {
    sf->total -= SegSize(&run->segStruct);
    SegDestroy(&run->segStruct);
  }
  ArenaLeaveRecursive(pool->arena, claimed);
}

/* Take the lowest free block of run at or after its cursor. */
static Bool sfRunTake(Index *iReturn, SFRun run)
{
  Index w;
  for (w = run->cursor; w < run->words; ++w) {
    Word bits = run->freeBits[w];
    if (bits != 0) {
      run->freeBits[w] = bits & (bits - 1);
      run->cursor = w;
      *iReturn = w * WORD_WIDTH + (Index)__builtin_ctzl((unsigned long)bits);
      return TRUE;
    }
  }
  run->cursor = run->words;
  return FALSE;
}

INTERN NOINLINE Res sfAllocSmallSlow(Addr *pReturn, SF sf, SFCache c, unsigned cls, uint32_t fact)
{
  SFRun run;
  Index i;
  Res res;

  if (c == NULL) {
    c = sfCacheAcquire(sf);
    if (c == NULL) return RES_MEMORY;
  }
  sfDrainRemote(sf, c);
  for (;;) {
    run = c->current[cls];
    if (run != NULL) {
      if (sfRunTake(&i, run)) break;
      run->state = SF_RUN_FULL;
      c->current[cls] = NULL;
    }
    if (!RingIsSingle(&c->partial[cls])) {
      run = RING_ELT(SFRunStruct, cacheRing, c->partial[cls].next);
      RingRemove(&run->cacheRing);
      run->state = SF_RUN_CURRENT;
      c->current[cls] = run;
      continue;
    }
    res = sfRunGet(&run, sf, c, cls);
    if (res != RES_OK) return res;
    c->current[cls] = run;
  }
  ++run->used;
  __atomic_store_n(&run->facts[i], fact, __ATOMIC_RELAXED);
  *pReturn = AddrAdd(run->blocks, i * run->blockSize);
  return RES_OK;
}

/* A large block of size bytes in a segment of at least room bytes (room
 * beyond size lets a growing block be reallocated in place). */
INTERN NOINLINE Res sfAllocLarge(Addr *pReturn, SF sf, Size size, Size room, unsigned tag)
{
  Pool pool = &sf->poolStruct;
  Bool claimed = ArenaEnterRecursive(pool->arena);
  Seg seg;
  SFRun run;
  Res res = RES_RESOURCE;

  if (room < size) room = size;
  if (room <= SIZE_LIMIT)
    res = SegCreate(&seg, pool, SizeAlignUp(room, pool->arena->grainSize), sizeof(SFRunStruct),
                    FALSE);
  if (res == RES_OK) {
    run = (SFRun)seg;
    run->cache = NULL;
    run->blocks = seg->base;
    run->blockSize = SegSize(seg);
    run->capacity = 1;
    run->cls = SF_LARGE;
    run->state = SF_RUN_LARGE;
    RingInit(&run->cacheRing);
    run->largeSize = size;
    run->largeTag = tag & 0xFFFFu;
    run->largeSite = 0;
    run->sites = NULL;
    run->largeLive = TRUE;
    sf->total += SegSize(seg);
    *pReturn = seg->base;
  }
  ArenaLeaveRecursive(pool->arena, claimed);
  return res;
}
