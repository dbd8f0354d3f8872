/* arena.c -- the virtual-memory arena: chunks of reserved address space,
 * per-chunk page tables and bit tables, commit on demand, the spare
 * allowance and the commit limit.  Design: docs/design/arena.md.
 *
 * Chunk layout, in grains:
 *   [0, ptBase)            head: ChunkStruct (and, in the primary chunk,
 *                          the ArenaStruct), allocTable, committedTable;
 *                          committed when the chunk is created
 *   [ptBase, allocBase)    the page table, committed a page at a time as
 *                          the pages it describes are first allocated
 *   [allocBase, pages)     pages for segments and control blocks
 * All head and page-table pages are marked allocated so that the page
 * allocator never hands them out.
 *
 * A client arena (mps_arena_class_cl) lays its chunks the same way in
 * memory the client gave (at creation and by mps_arena_extend) instead of
 * reserved address space: nothing is reserved, mapped or unmapped there;
 * "committing" a page zeroes it (pools may rely on fresh pages reading as
 * zero, as mmap gives them), "decommitting" only counts; the arena never
 * grows by itself and keeps its chunks until it is destroyed.
 */
#include "arena.h"
#include "arg.h"
#include "vm.h"
#include "mpsacl.h"
#include <math.h>

#define ARENA_DEFAULT_SIZE ((Size)1 << 28)
#define ARENA_MAX_SIZE     SIZE_LIMIT
/* Growth never reserves more than this at once unless a single request
 * needs it: a chunk's bit tables are committed with it (1/16384 of it). */
#define ARENA_GROWTH_MAX ((Size)1 << 40)

/* ---- chunks ---------------------------------------------------------- */

typedef struct ChunkLayout {
  Size extraOffset; /* where the caller's extra structure goes */
  Size allocOffset, committedOffset;
  Count pages;
  Index ptBase, allocBase;
} ChunkLayout;

/* ---- the registry of live arenas ----------------------------------------- */

static LockStruct arenasLock; /* zero: a free lock */
static RingStruct arenasRing; /* next == NULL until first used */

INTERN void ArenasClaim(void)
{
  LockClaim(&arenasLock);
  if (arenasRing.next == NULL) RingInit(&arenasRing);
}

INTERN void ArenasRelease(void) { LockRelease(&arenasLock); }

INTERN void ArenasVisitChunks(void (*visit)(Addr base, Addr limit, void *closure), void *closure)
{
  Ring node, next;
  AVER(LockIsMine(&arenasLock));
  RING_FOR(node, &arenasRing, next) {
    Arena arena = RING_ELT(ArenaStruct, arenasRing, node);
    Index i;
    for (i = 0; i < arena->chunkCount; ++i) {
      Chunk c = arena->chunks[i];
      if (c != NULL) visit(c->base, c->limit, closure);
    }
  }
}

static Bool chunkLayout(ChunkLayout *l, Size size, Shift shift, Size extra)
{
  Size grain = (Size)1 << shift, off;
  l->pages = size >> shift;
  off = SizeAlignUp(sizeof(ChunkStruct), 16);
  l->extraOffset = off;
  off = SizeAlignUp(off + extra, sizeof(Word));
  l->allocOffset = off;
  off += BTSize(l->pages);
  l->committedOffset = off;
  off += BTSize(l->pages);
  l->ptBase = SizeAlignUp(off, grain) >> shift;
  l->allocBase = l->ptBase + (SizeAlignUp(l->pages * sizeof(Seg), grain) >> shift);
  return l->allocBase < l->pages;
}

/* Make [base, limit) usable and zero: mapped in a VM arena, cleared in a
 * client arena (whose memory is usable already). */
static Res memCommit(Bool client, Addr base, Addr limit)
{
  if (!client) return VMCommit(base, limit);
  memset(base, 0, AddrOffset(base, limit));
  return RES_OK;
}

static void memDecommit(Bool client, Addr base, Addr limit)
{
  if (!client) VMDecommit(base, limit);
}

/* Set up a chunk of `size` bytes: in address space reserved here, or at
 * `clientBase` (grain-aligned) in a client arena.  `extra` bytes after the
 * ChunkStruct are committed for the caller (the primary chunk keeps the
 * arena there); *committedReturn receives the bytes committed. */
static Res chunkCreate(Chunk *chunkReturn, Addr clientBase, Size size, Shift shift, Size extra,
                       Size *committedReturn)
{
  ChunkLayout l;
  Addr base = clientBase;
  Bool client = clientBase != NULL;
  Chunk chunk;
  Size headBytes;
  Res res;

  if (!chunkLayout(&l, size, shift, extra)) return client ? RES_MEMORY : RES_RESOURCE;
  if (!client) {
    res = VMReserve(&base, size, (Size)1 << shift);
    if (res != RES_OK) return res;
  }
  headBytes = l.ptBase << shift;
  res = memCommit(client, base, AddrAdd(base, headBytes));
  if (res != RES_OK) {
    VMRelease(base, size);
    return res;
  }
  chunk = (Chunk)base;
  chunk->arena = NULL;
  chunk->base = base;
  chunk->limit = AddrAdd(base, size);
  chunk->pages = l.pages;
  chunk->ptBase = l.ptBase;
  chunk->allocBase = l.allocBase;
  chunk->allocated = 0;
  chunk->allocTable = (BT)(void *)AddrAdd(base, l.allocOffset);
  chunk->committedTable = (BT)(void *)AddrAdd(base, l.committedOffset);
  chunk->pageTable = (Seg *)(void *)AddrAdd(base, l.ptBase << shift);
  /* The head is fresh zero memory: both tables start all-reset. */
  BTSetRange(chunk->allocTable, 0, l.allocBase);
  BTSetRange(chunk->committedTable, 0, l.ptBase);
  chunk->sig = ChunkSig;
  *chunkReturn = chunk;
  *committedReturn = headBytes;
  return RES_OK;
}

static Bool ChunkCheck(Chunk chunk)
{
  if (!CHECKS(Chunk, chunk)) return FALSE;
  if (chunk->base != (Addr)chunk || chunk->limit <= chunk->base) return FALSE;
  if (chunk->allocBase <= chunk->ptBase || chunk->allocBase >= chunk->pages) return FALSE;
  return TRUE;
}

static void chunkPublish(Arena arena, Chunk chunk)
{
  Index i;
  chunk->arena = arena;
  for (i = 0; i < arena->chunkCount && arena->chunks[i] != NULL; ++i)
    ;
  AVER(i < ARENA_MAX_CHUNKS);
  if (arena->lowest == NULL || chunk->base < arena->lowest) arena->lowest = chunk->base;
  if (chunk->limit > arena->highest) arena->highest = chunk->limit;
  __atomic_store_n(&arena->chunks[i], chunk, __ATOMIC_RELEASE);
  if (i == arena->chunkCount) __atomic_store_n(&arena->chunkCount, i + 1, __ATOMIC_RELEASE);
  arena->reserved += AddrOffset(chunk->base, chunk->limit);
  /* The primary chunk is announced once the arena is made (ArenaAnnounce). */
  if (arena->extended != NULL && chunk != arena->primary)
    arena->extended(arena, chunk->base, AddrOffset(chunk->base, chunk->limit));
}

/* The arena is made: tell the client of its first chunk.  Until then a
 * failed creation calls neither MPS_KEY_ARENA_EXTENDED nor _CONTRACTED. */
INTERN void ArenaAnnounce(Arena arena)
{
  Chunk primary = arena->primary;
  arena->announced = TRUE;
  if (arena->extended != NULL)
    arena->extended(arena, primary->base, AddrOffset(primary->base, primary->limit));
}

static void chunkRelease(Arena arena, Chunk chunk)
{
  Index i;
  Size size = AddrOffset(chunk->base, chunk->limit);
  Size committed = BTCountSet(chunk->committedTable, 0, chunk->pages) << arena->grainShift;
  Size spare =
      (BTCountSet(chunk->committedTable, chunk->allocBase, chunk->pages) - chunk->allocated)
      << arena->grainShift;
  AVER(chunk != arena->primary);
  AVER(chunk->allocated == 0);
  for (i = 0; i < arena->chunkCount; ++i)
    if (arena->chunks[i] == chunk) __atomic_store_n(&arena->chunks[i], NULL, __ATOMIC_RELEASE);
  arena->committed -= committed;
  arena->overheadCommitted -= committed - spare - (chunk->allocated << arena->grainShift);
  arena->spareCommitted -= spare;
  arena->reserved -= size;
  if (arena->contracted != NULL) arena->contracted(arena, chunk->base, size);
  chunk->sig = SigInvalid;
  if (!arena->client) VMRelease(chunk->base, size);
}

/* ---- creation and destruction ----------------------------------------- */

INTERN Res ArenaCreate(Arena *arenaReturn, ArgList args, Bool client)
{
  Addr clientBase = NULL;
  ArgStruct arg;
  Size size = ARENA_DEFAULT_SIZE, grain = VMPageSize();
  Size commitLimit = (Size)-1, committed;
  double spare = 0.75, pauseTime = 0.1;
  Bool spareGiven = FALSE, spareLimitGiven = FALSE, sizeGiven;
  Size spareCommitLimit = 0;
  mps_arena_extended_t extended = NULL;
  mps_arena_contracted_t contracted = NULL;
  Chunk chunk;
  Arena arena;
  Shift shift;
  Res res;

  if (ArgPick(&arg, args, MPS_KEY_ARENA_GRAIN_SIZE)) {
    if (!SizeIsP2(arg.val.size))
      return MISUSE("mps_arena_create_k: MPS_KEY_ARENA_GRAIN_SIZE %zu is not a power of two",
                    arg.val.size);
    if (arg.val.size > ((Size)1 << 30))
      return MISUSE("mps_arena_create_k: MPS_KEY_ARENA_GRAIN_SIZE %zu is too large", arg.val.size);
    if (arg.val.size > grain) grain = arg.val.size;
  }
  shift = SizeLog2(grain);
  sizeGiven = ArgPick(&arg, args, MPS_KEY_ARENA_SIZE);
  if (sizeGiven) size = arg.val.size;
  if (ArgPick(&arg, args, MPS_KEY_COMMIT_LIMIT)) commitLimit = arg.val.size;
  if (ArgPick(&arg, args, MPS_KEY_SPARE)) {
    if (!(arg.val.d >= 0.0 && arg.val.d <= 1.0))
      return MISUSE("mps_arena_create_k: MPS_KEY_SPARE %g is not between 0 and 1", arg.val.d);
    spare = arg.val.d;
    spareGiven = TRUE;
  }
  if (ArgPick(&arg, args, MPS_KEY_SPARE_COMMIT_LIMIT)) {
    spareCommitLimit = arg.val.size;
    spareLimitGiven = TRUE;
  }
  if (ArgPick(&arg, args, MPS_KEY_PAUSE_TIME)) {
    if (!(arg.val.d >= 0.0))
      return MISUSE("mps_arena_create_k: MPS_KEY_PAUSE_TIME %g is negative", arg.val.d);
    pauseTime = arg.val.d;
  }
  if (ArgPick(&arg, args, MPS_KEY_ARENA_EXTENDED)) extended = (mps_arena_extended_t)arg.val.fun;
  if (ArgPick(&arg, args, MPS_KEY_ARENA_CONTRACTED))
    contracted = (mps_arena_contracted_t)arg.val.fun;
  (void)ArgPick(&arg, args, MPS_KEY_ARENA_ZONED); /* accepted; placement is not zoned */
  (void)ArgPick(&arg, args, MPS_KEY_VMW3_TOP_DOWN);

  if (client) {
    /* The client's memory: its grain-aligned part holds the arena. */
    Addr base;
    if (!sizeGiven) return MISUSE("mps_arena_create_k: a client arena needs MPS_KEY_ARENA_SIZE");
    if (!ArgPick(&arg, args, MPS_KEY_ARENA_CL_BASE) || arg.val.addr == NULL)
      return MISUSE("mps_arena_create_k: a client arena needs MPS_KEY_ARENA_CL_BASE");
    base = AddrAlignUp(arg.val.addr, grain);
    if (AddrOffset(arg.val.addr, base) >= size) return RES_MEMORY;
    size = SizeAlignDown(size - AddrOffset(arg.val.addr, base), grain);
    clientBase = base;
  } else {
    if (size > ARENA_MAX_SIZE) return RES_RESOURCE;
    if (size < grain * WORD_WIDTH) size = grain * WORD_WIDTH;
    size = SizeAlignUp(size, grain);
  }

  res = chunkCreate(&chunk, clientBase, size, shift, sizeof(ArenaStruct), &committed);
  if (res != RES_OK) return res;
  arena = (Arena)PointerAdd(chunk, SizeAlignUp(sizeof(ChunkStruct), 16));
  memset(arena, 0, sizeof *arena);
  LockInit(&arena->lock);
  arena->grainSize = grain;
  arena->grainShift = shift;
  arena->client = client;
  arena->growthDisabled = client; /* a client arena grows only by mps_arena_extend */
  arena->primary = chunk;
  arena->commitLimit = commitLimit;
  arena->spare = spare;
  if (spareLimitGiven && !spareGiven) {
    double f = commitLimit == (Size)-1 ? 1.0 : (double)spareCommitLimit / (double)commitLimit;
    arena->spare = f > 1.0 ? 1.0 : f;
  }
  arena->growthDesired = size;
  arena->growthMinimum = 0;
  arena->pauseTime = pauseTime;
  arena->extended = extended;
  arena->contracted = contracted;
  RingInit(&arena->poolRing);
  arena->controlSeg.sig = SegSig;
  arena->controlSeg.pool = NULL;
  RingInit(&arena->controlSeg.poolRing);
  arena->committed = committed;
  arena->overheadCommitted = committed;
  arena->sig = ArenaSig;
  chunkPublish(arena, chunk);
  ControlInit(arena);
  ArenasClaim();
  RingAppend(&arenasRing, &arena->arenasRing);
  ArenasRelease();
  *arenaReturn = arena;
  return RES_OK;
}

INTERN void ArenaDestroy(Arena arena)
{
  Index i;
  Chunk primary = arena->primary;
  Size size = AddrOffset(primary->base, primary->limit);
  mps_arena_contracted_t contracted = arena->contracted;

  ArenasClaim();
  RingRemove(&arena->arenasRing);
  ArenasRelease();
  ControlFinish(arena);
  for (i = 0; i < arena->chunkCount; ++i) {
    Chunk c = arena->chunks[i];
    if (c != NULL && c != primary) chunkRelease(arena, c);
  }
  arena->sig = SigInvalid;
  LockFinish(&arena->lock);
  if (contracted != NULL && arena->announced) contracted(arena, primary->base, size);
  primary->sig = SigInvalid;
  if (!arena->client) VMRelease(primary->base, size);
}

/* Add the grain-aligned part of [base, base + size), memory the client
 * gives, to a client arena as a new chunk. */
INTERN Res ArenaExtend(Arena arena, Addr base, Size size)
{
  Addr aligned = AddrAlignUp(base, arena->grainSize);
  Size committed;
  Chunk chunk;
  Index i;
  Res res;
  if (!arena->client) return RES_UNIMPL; /* as in the MPS: VM arenas grow by themselves */
  if (base == NULL) return MISUSE("mps_arena_extend: base is NULL");
  if (AddrOffset(base, aligned) >= size) return RES_MEMORY;
  size = SizeAlignDown(size - AddrOffset(base, aligned), arena->grainSize);
  for (i = 0; i < arena->chunkCount; ++i) {
    Chunk c = arena->chunks[i];
    if (c != NULL && aligned < c->limit && c->base < AddrAdd(aligned, size))
      return MISUSE("mps_arena_extend: [%p, %p) overlaps the arena's memory", (void *)base,
                    (void *)AddrAdd(aligned, size));
  }
  for (i = 0; i < arena->chunkCount && arena->chunks[i] != NULL; ++i)
    ;
  if (i >= ARENA_MAX_CHUNKS) return RES_RESOURCE;
  res = chunkCreate(&chunk, aligned, size, arena->grainShift, 0, &committed);
  if (res != RES_OK) return res;
  arena->committed += committed;
  arena->overheadCommitted += committed;
  chunkPublish(arena, chunk);
  return RES_OK;
}

INTERN Bool ArenaCheck(Arena arena)
{
  if (!CHECKS(Arena, arena)) return FALSE;
  if (!SizeIsP2(arena->grainSize) || ((Size)1 << arena->grainShift) != arena->grainSize)
    return FALSE;
  if (arena->spareCommitted > arena->committed) return FALSE;
  if (!(arena->spare >= 0.0 && arena->spare <= 1.0)) return FALSE;
  return TRUE;
}

/* The expensive check: recount every chunk's tables. */
INTERN Bool ArenaConsistent(Arena arena)
{
  Index i;
  Size committed = 0, spare = 0, reserved = 0;
  if (!ArenaCheck(arena)) return FALSE;
  for (i = 0; i < arena->chunkCount; ++i) {
    Chunk c = arena->chunks[i];
    Index p;
    Count alloc;
    if (c == NULL) continue;
    if (!ChunkCheck(c) || c->arena != arena) return FALSE;
    reserved += AddrOffset(c->base, c->limit);
    committed += BTCountSet(c->committedTable, 0, c->pages) << arena->grainShift;
    alloc = BTCountSet(c->allocTable, c->allocBase, c->pages);
    if (alloc != c->allocated) return FALSE;
    /* Walk committed runs only: outside them nothing may be allocated, and
     * a chunk may be terabytes of untouched reservation. */
    p = c->allocBase;
    while (p < c->pages) {
      Index runBase = BTFindNext(c->committedTable, p, c->pages, TRUE), runLimit;
      if (!BTIsResRange(c->allocTable, p, runBase)) return FALSE; /* allocated, uncommitted */
      if (runBase >= c->pages) break;
      runLimit = BTFindNext(c->committedTable, runBase, c->pages, FALSE);
      for (p = runBase; p < runLimit; ++p) {
        if (!BTGet(c->allocTable, p)) {
          spare += arena->grainSize;
        } else {
          Index ptPage = c->ptBase + ((p * sizeof(Seg)) >> arena->grainShift);
          Seg seg;
          if (!BTGet(c->committedTable, ptPage)) return FALSE;
          seg = c->pageTable[p];
          if (seg == NULL || seg->sig != SegSig) return FALSE;
          if (seg != &arena->controlSeg) {
            Addr a0 = AddrAdd(c->base, p << arena->grainShift);
            if (a0 < seg->base || a0 >= seg->limit) return FALSE;
          }
        }
      }
    }
  }
  {
    Size inPages = 0;
    for (i = 0; i < arena->chunkCount; ++i)
      if (arena->chunks[i] != NULL) inPages += arena->chunks[i]->allocated << arena->grainShift;
    if (committed != arena->spareCommitted + arena->overheadCommitted + inPages) return FALSE;
  }
  return committed == arena->committed && spare == arena->spareCommitted &&
         reserved == arena->reserved;
}

/* ---- committing and purging ------------------------------------------ */

/* Decommit spare pages, highest first (allocation takes the lowest free
 * pages, so the spare it will reuse soonest stays), until at most
 * `target` spare bytes remain.  Chunks stay (an allocation may be about to
 * use one); arenaReleaseEmpty gives back the ones that hold nothing. */
/* A run of pages that a purge must leave alone (the run an allocation is
 * about to use); chunk NULL for none. */
typedef struct PurgeExclusion {
  Chunk chunk;
  Index base, limit;
} PurgeExclusion;
static const PurgeExclusion purgeNothing = { NULL, 0, 0 };

/* The highest run of spare (committed, unallocated) pages outside `ex`,
 * in the last chunk that has one. */
static Bool arenaHighestSpare(Chunk *cReturn, Index *sReturn, Index *eReturn, Arena arena,
                              PurgeExclusion ex)
{
  Index ci;
  Bool found = FALSE;
  for (ci = 0; ci < arena->chunkCount; ++ci) {
    Chunk c = arena->chunks[ci];
    Index i;
    if (c == NULL) continue;
    i = c->allocBase;
    while (i < c->pages) {
      Index s = BTFindNext(c->committedTable, i, c->pages, TRUE), e, e2;
      if (s >= c->pages) break;
      if (BTGet(c->allocTable, s)) {
        i = BTFindNext(c->allocTable, s, c->pages, FALSE);
        continue;
      }
      if (c == ex.chunk && s >= ex.base && s < ex.limit) {
        i = ex.limit;
        continue;
      }
      e = BTFindNext(c->committedTable, s, c->pages, FALSE);
      e2 = BTFindNext(c->allocTable, s, e, TRUE);
      e = e2 < e ? e2 : e;
      if (c == ex.chunk && s < ex.base && e > ex.base) e = ex.base;
      *cReturn = c;
      *sReturn = s;
      *eReturn = e;
      found = TRUE;
      i = e;
    }
  }
  return found;
}

static void arenaPurge(Arena arena, Size target, PurgeExclusion ex)
{
  Shift shift = arena->grainShift;
  Chunk c;
  Index s, e;
  while (arena->spareCommitted > target && arenaHighestSpare(&c, &s, &e, arena, ex)) {
    Count want = (Count)((arena->spareCommitted - target + arena->grainSize - 1) >> shift);
    if (e - s > want) s = e - want;
    memDecommit(arena->client, AddrAdd(c->base, s << shift), AddrAdd(c->base, e << shift));
    BTResRange(c->committedTable, s, e);
    arena->spareCommitted -= (e - s) << shift;
    arena->committed -= (e - s) << shift;
  }
}

static void arenaReleaseEmpty(Arena arena)
{
  Index ci;
  for (ci = 0; ci < arena->chunkCount; ++ci) {
    Chunk c = arena->chunks[ci];
    if (c != NULL && c != arena->primary && !arena->client && c->allocated == 0 &&
        BTIsResRange(c->committedTable, c->allocBase, c->pages))
      chunkRelease(arena, c);
  }
}

/* Purge until spare <= spare fraction × committed.  Decommitting x bytes
 * lowers both sides, so the target solves S - x <= f (C - x). */
static void arenaPurgeToAllowance(Arena arena)
{
  double f = arena->spare;
  int round;
  for (round = 0; round < 4; ++round) {
    double over = (double)arena->spareCommitted - f * (double)arena->committed;
    Size x, keep;
    if (over <= 0.0) break;
    x = f >= 1.0 ? 0 : (Size)(over / (1.0 - f)) + 1;
    if (x == 0) break;
    keep = arena->spareCommitted > x ? arena->spareCommitted - x : 0;
    arenaPurge(arena, keep, purgeNothing);
    arenaReleaseEmpty(arena);
  }
  arenaReleaseEmpty(arena);
}

/* Make sure `need` more bytes may be committed, purging spare if that
 * helps. */
static Res arenaMayCommit(Arena arena, Size need, PurgeExclusion ex)
{
  if (need <= arena->commitLimit && arena->committed <= arena->commitLimit - need) return RES_OK;
  if (arena->spareCommitted > 0) {
    Size over = arena->committed + need - arena->commitLimit;
    arenaPurge(arena, arena->spareCommitted > over ? arena->spareCommitted - over : 0, ex);
  }
  if (need <= arena->commitLimit && arena->committed <= arena->commitLimit - need) return RES_OK;
  return RES_COMMIT_LIMIT;
}

/* Commit every uncommitted page in [base, limit) of the chunk.  Counts the
 * pages as committed (and not spare). */
static Res chunkCommit(Arena arena, Chunk c, Index base, Index limit)
{
  Shift shift = arena->grainShift;
  Index i = base;
  while (i < limit) {
    Index s = BTFindNext(c->committedTable, i, limit, FALSE), e;
    Res res;
    if (s >= limit) break;
    e = BTFindNext(c->committedTable, s, limit, TRUE);
    res = memCommit(arena->client, AddrAdd(c->base, s << shift), AddrAdd(c->base, e << shift));
    if (res != RES_OK) return res;
    BTSetRange(c->committedTable, s, e);
    arena->committed += (e - s) << shift;
    i = e;
  }
  return RES_OK;
}

/* Pages of the page table that describe pages [base, limit). */
static void ptPages(Index *ptLo, Index *ptHi, Arena arena, Chunk c, Index base, Index limit)
{
  *ptLo = c->ptBase + ((base * sizeof(Seg)) >> arena->grainShift);
  *ptHi = c->ptBase + (((limit * sizeof(Seg)) - 1) >> arena->grainShift) + 1;
}

/* ---- page allocation ----------------------------------------------- */

static Res chunkAllocPages(Addr *baseReturn, Arena arena, Chunk c, Index i, Count n, Seg owner)
{
  Shift shift = arena->grainShift;
  Index ptLo, ptHi, p;
  Count spareUsed = BTCountSet(c->committedTable, i, i + n);
  Size need;
  Res res;

  ptPages(&ptLo, &ptHi, arena, c, i, i + n);
  need = ((n - spareUsed) + (ptHi - ptLo) - BTCountSet(c->committedTable, ptLo, ptHi)) << shift;
  {
    /* the purge must not decommit the spare pages this run is counted on */
    PurgeExclusion ex;
    ex.chunk = c;
    ex.base = i;
    ex.limit = i + n;
    res = arenaMayCommit(arena, need, ex);
  }
  if (res != RES_OK) return res;
  AVER(BTCountSet(c->committedTable, i, i + n) == spareUsed);
  {
    Size before = arena->committed;
    res = chunkCommit(arena, c, ptLo, ptHi);
    arena->overheadCommitted += arena->committed - before;
    if (res != RES_OK) return res;
  }
  res = chunkCommit(arena, c, i, i + n);
  if (res != RES_OK) {
    /* pages committed so far in [i, i+n) are now spare */
    arena->spareCommitted += (BTCountSet(c->committedTable, i, i + n) - spareUsed) << shift;
    return res;
  }
  arena->spareCommitted -= spareUsed << shift;
  for (p = i; p < i + n; ++p) c->pageTable[p] = owner;
  __atomic_thread_fence(__ATOMIC_RELEASE);
  BTSetRange(c->allocTable, i, i + n);
  c->allocated += n;
  *baseReturn = AddrAdd(c->base, i << shift);
  return RES_OK;
}

/* Reserve a new chunk big enough for n pages. */
static Res arenaGrow(Arena arena, Count n)
{
  Shift shift = arena->grainShift;
  Size need = n << shift, size, minimum;
  Chunk chunk;
  Size committed;
  Res res = RES_RESOURCE;
  ChunkLayout l;

  if (arena->growthDisabled) return RES_RESOURCE;
  if (arena->chunkCount >= ARENA_MAX_CHUNKS) {
    Index i;
    for (i = 0; i < arena->chunkCount && arena->chunks[i] != NULL; ++i)
      ;
    if (i == arena->chunkCount) return RES_RESOURCE;
  }
  /* smallest size whose allocatable part holds n pages */
  if (need > ARENA_MAX_SIZE) return RES_RESOURCE;
  /* Smallest chunk whose allocatable part holds n pages: start from the
   * overhead estimate (a page-table word and two bits a page, plus the
   * head) and step up the few grains rounding may need. */
  minimum =
      SizeAlignUp(need + n * sizeof(Seg) + 2 * BTSize(n) + sizeof(ChunkStruct), arena->grainSize);
  for (;;) {
    (void)chunkLayout(&l, minimum, shift, 0);
    if (l.pages > l.allocBase && l.pages - l.allocBase >= n) break;
    minimum += arena->grainSize;
  }
  if (minimum < arena->growthMinimum) minimum = SizeAlignUp(arena->growthMinimum, arena->grainSize);
  size = arena->growthDesired;
  /* Unless the client chose the growth, grow geometrically: a new chunk
   * at least as big as all the address space so far, so the number of
   * chunks stays logarithmic in the heap. */
  if (!arena->growthSet && size < arena->reserved) size = arena->reserved;
  if (size > ARENA_GROWTH_MAX) size = ARENA_GROWTH_MAX;
  size = size > minimum ? SizeAlignUp(size, arena->grainSize) : minimum;
  if (size > ARENA_MAX_SIZE) size = minimum;
  for (;;) {
    Size head;
    (void)chunkLayout(&l, size, shift, 0);
    head = l.ptBase << shift;
    res = arenaMayCommit(arena, head, purgeNothing);
    if (res != RES_OK) return res;
    res = chunkCreate(&chunk, NULL, size, shift, 0, &committed);
    if (res == RES_OK) break;
    if (size <= minimum) return res;
    size = SizeAlignUp(size / 2, arena->grainSize);
    if (size < minimum) size = minimum;
  }
  arena->committed += committed;
  arena->overheadCommitted += committed;
  chunkPublish(arena, chunk);
  return RES_OK;
}

INTERN Res ArenaAllocPages(Addr *baseReturn, Arena arena, Size size, Bool high, Seg owner)
{
  Count n = size >> arena->grainShift;
  Index ci, i;
  Res res;
  int attempt;

  AVER(size > 0 && (size & (arena->grainSize - 1)) == 0);
  for (attempt = 0; attempt < 2; ++attempt) {
    Count k;
    for (k = 0; k < arena->chunkCount; ++k) {
      Chunk c;
      ci = high ? arena->chunkCount - 1 - k : k;
      c = arena->chunks[ci];
      if (c == NULL) continue;
      if (BTFindResRange(&i, c->allocTable, c->allocBase, c->pages, n, high))
        return chunkAllocPages(baseReturn, arena, c, i, n, owner);
    }
    if (attempt == 0) {
      res = arenaGrow(arena, n);
      if (res != RES_OK) return res;
    }
  }
  return RES_RESOURCE;
}

/* As ArenaAllocPages (low), but from pages in the given zones (docs/design/collector-interface.md
 * §The scan state and zones: zone = (address >> ARENA_ZONE_SHIFT) mod 64) when a run that fits
 * in one zone stripe is free there; otherwise anywhere.  The collector
 * keeps generations in different zones so that a segment's zone summary
 * can tell it refers to no younger generation. */
INTERN Res ArenaAllocPagesZoned(Addr *baseReturn, Arena arena, Size size, Word zones, Seg owner)
{
  Size stripe = (Size)1 << ARENA_ZONE_SHIFT;
  Shift shift = arena->grainShift;
  Index ci;
  if (zones != ~(Word)0 && size <= stripe && stripe >= arena->grainSize) {
    for (ci = 0; ci < arena->chunkCount; ++ci) {
      Chunk c = arena->chunks[ci];
      Addr a, first;
      if (c == NULL) continue;
      first = AddrAdd(c->base, c->allocBase << shift);
      for (a = AddrAlignDown(first, stripe); a < c->limit; a = AddrAdd(a, stripe)) {
        Addr lo = a < first ? first : a, hi = AddrAdd(a, stripe);
        Index i;
        if (!((zones >> (((Word)a >> ARENA_ZONE_SHIFT) & (WORD_WIDTH - 1))) & 1)) continue;
        if (hi > c->limit) hi = c->limit;
        if (BTFindResRange(&i, c->allocTable, AddrOffset(c->base, lo) >> shift,
                           AddrOffset(c->base, hi) >> shift, size >> shift, FALSE))
          return chunkAllocPages(baseReturn, arena, c, i, size >> shift, owner);
      }
    }
  }
  return ArenaAllocPages(baseReturn, arena, size, FALSE, owner);
}

INTERN void ArenaFreePages(Arena arena, Addr base, Size size)
{
  Chunk c = ArenaChunkOf(arena, base);
  Count n = size >> arena->grainShift;
  Index i, p;
  AVER(c != NULL);
  i = AddrOffset(c->base, base) >> arena->grainShift;
  AVER(i >= c->allocBase && i + n <= c->pages);
  AVER(BTIsSetRange(c->allocTable, i, i + n));
  BTResRange(c->allocTable, i, i + n);
  for (p = i; p < i + n; ++p) c->pageTable[p] = NULL;
  c->allocated -= n;
  arena->spareCommitted += size;
  if (!arena->purgeDeferred) arenaPurgeToAllowance(arena);
}

/* A collection frees and allocates many segments: purging after each free
 * would give back pages the next allocation faults in again.  The spare
 * allowance is enforced once the collection is over. */
INTERN void ArenaDeferPurge(Arena arena, Bool defer)
{
  arena->purgeDeferred = defer;
  if (!defer) arenaPurgeToAllowance(arena);
}

/* ---- limits ------------------------------------------------------------ */

INTERN Res ArenaSetCommitLimit(Arena arena, Size limit)
{
  if (limit < arena->committed) {
    Size over = arena->committed - limit;
    if (over > arena->spareCommitted) return RES_FAIL;
    arenaPurge(arena, arena->spareCommitted - over, purgeNothing);
    arenaReleaseEmpty(arena);
    if (arena->committed > limit) return RES_FAIL;
  }
  arena->commitLimit = limit;
  return RES_OK;
}

INTERN void ArenaSetSpare(Arena arena, double spare)
{
  arena->spare = spare;
  arenaPurgeToAllowance(arena);
}

INTERN void ArenaDisableGrowth(Arena arena) { arena->growthDisabled = TRUE; }

INTERN void ArenaPrimaryPages(ArenaPagesStruct *pagesReturn, Arena arena)
{
  Chunk c = arena->primary;
  pagesReturn->base = c->base;
  pagesReturn->limit = c->limit;
  pagesReturn->pages = c->pages;
  pagesReturn->allocBase = c->allocBase;
  pagesReturn->shift = arena->grainShift;
  pagesReturn->allocTable = c->allocTable;
  pagesReturn->committedTable = c->committedTable;
  pagesReturn->pageTable = c->pageTable;
}

INTERN Res ArenaSetGrowth(Arena arena, Size desired, Size minimum)
{
  if (desired < minimum) return RES_PARAM;
  arena->growthDesired = desired;
  arena->growthMinimum = minimum;
  arena->growthSet = TRUE;
  return RES_OK;
}
