/* arena.h -- the arena: address space in chunks, a page table per chunk,
 * segments owned by pools, commit accounting, and the control allocator
 * for the core's own structures.
 *
 * Invariants (checked by ArenaCheck and ChunkCheck):
 *   - every chunk is grain-aligned and a whole number of grains;
 *   - a page is allocated iff its allocTable bit is set; an allocated page
 *     at or above allocBase has a page-table entry naming its segment, and
 *     an allocated page's page-table entry lies in committed memory;
 *   - allocated pages are committed; committed = the sizes of all pages
 *     whose committedTable bit is set, in all chunks;
 *   - spareCommitted = committed pages that are not allocated;
 *   - committed <= commitLimit, except transiently inside a call.
 * Design: docs/design/arena.md.
 */
#ifndef GCP_ARENA_H
#define GCP_ARENA_H

#include "core.h"
#include "check.h"
#include "ring.h"
#include "bt.h"
#include "lock.h"

/* A segment: a run of pages owned by one pool.  Pool classes that need
 * more per-segment state embed SegStruct as the first member of their own
 * descriptor.  The collector fields are here so that every class shares
 * them (used from the collector issue on). */
struct SegStruct {
  Sig sig;
  Pool pool;                    /* owner; NULL for arena control pages */
  Addr base, limit;             /* grain-aligned */
  RingStruct poolRing;          /* in the pool's list of segments */
  Size descSize;                /* bytes of this descriptor (for freeing) */
  Buffer buffer;                /* attached allocation point, if any */
  unsigned white, grey, nailed; /* collector state (gc.h) */
  unsigned protectedRO;         /* made read-only by the barrier (prot_linux.c) */
  int dirty;                    /* written since: set by the barrier's handler */
  Word summary;                 /* zones its references point into, when last scanned */
  unsigned rank;                /* of the references its objects hold (pool.h RANK_*):
                           the trace scans it in that rank's phase */
};

struct ChunkStruct {
  Sig sig;
  Arena arena;
  Addr base, limit;  /* the reserved address range */
  Count pages;       /* (limit - base) >> pageShift */
  Index ptBase;      /* first page of the page table */
  Index allocBase;   /* first page that may belong to a segment */
  Count allocated;   /* pages at or above allocBase in use */
  BT allocTable;     /* one bit per page: in use */
  BT committedTable; /* one bit per page: backed by memory */
  Seg *pageTable;    /* page index -> owning segment */
};

#define CONTROL_CLASSES 7 /* 16, 32, ..., 1024 bytes */

typedef struct ControlStruct {
  RingStruct partial[CONTROL_CLASSES]; /* slabs with a free slot */
  Count slabs;                         /* control slab pages */
  Size largeBytes;                     /* bytes in page-sized control blocks */
} ControlStruct, *Control;

#define ARENA_MAX_CHUNKS 256

typedef struct GCStruct GCStruct; /* the collector's state: gc.h */

struct mps_arena_s {
  Sig sig;
  LockStruct lock;
  Size grainSize;
  Shift grainShift;
  Chunk primary;                  /* holds this structure */
  Chunk chunks[ARENA_MAX_CHUNKS]; /* slots [0, chunkCount); NULL = hole */
  Count chunkCount;               /* high-water mark of used slots */
  Addr lowest, highest;           /* span of all chunks, for quick rejects */
  Size reserved, committed, commitLimit, spareCommitted;
  Size overheadCommitted; /* chunk heads and page tables */
  double spare;
  Bool purgeDeferred; /* inside a collection: purge once, at its end */
  Size growthDesired, growthMinimum;
  Bool growthSet;      /* mps_arena_vm_growth was called */
  Bool growthDisabled; /* never reserve another chunk */
  Bool client;         /* a client arena: chunks in the client's memory */
  Bool announced;      /* made: MPS_KEY_ARENA_EXTENDED saw the primary chunk */
  double pauseTime;
  mps_arena_extended_t extended;
  mps_arena_contracted_t contracted;
  RingStruct poolRing;
  RingStruct arenasRing; /* in the registry of live arenas (ArenasClaim) */
  ControlStruct control;
  SegStruct controlSeg; /* page-table owner of control pages */
  GCStruct *gc;         /* in control memory */
  mps_word_t epoch;     /* flips that may have moved objects */
  int state;            /* ARENA_UNCLAMPED etc. (interface.md §Arenas) */
};

enum { ARENA_UNCLAMPED, ARENA_CLAMPED, ARENA_PARKED, ARENA_POSTMORTEM };

/* The registry of live arenas, for code that must know all of the
 * plugin's memory (the leak finder leaves it out of the process's roots).
 * ArenasVisitChunks calls visit on each chunk of each live arena; call it
 * between ArenasClaim and ArenasRelease, which keep arenas from being
 * made or destroyed meanwhile. */
INTERN void ArenasClaim(void);
INTERN void ArenasRelease(void);
INTERN void ArenasVisitChunks(void (*visit)(Addr base, Addr limit, void *closure), void *closure);

/* `client`: a client arena, in the memory MPS_KEY_ARENA_CL_BASE names. */
INTERN Res ArenaCreate(Arena *arenaReturn, ArgList args, Bool client);
INTERN Res ArenaExtend(Arena arena, Addr base, Size size);
INTERN void ArenaAnnounce(Arena arena);
INTERN void ArenaDestroy(Arena arena);
INTERN Bool ArenaCheck(Arena arena);
INTERN Bool ArenaConsistent(Arena arena);

INTERN Bool ArenaCheck(Arena arena);
INLINE void ArenaEnter(Arena arena)
{
  LockClaim(&arena->lock);
  AVER_CRITICAL(ArenaCheck(arena));
}
INLINE void ArenaLeave(Arena arena) { LockRelease(&arena->lock); }
/* For the entry points callable with the lock held (docs/design/interface.md): claim the
 * lock unless this thread holds it; returns whether it was claimed. */
INLINE Bool ArenaEnterRecursive(Arena arena)
{
  if (LockIsMine(&arena->lock)) return FALSE;
  ArenaEnter(arena);
  return TRUE;
}
INLINE void ArenaLeaveRecursive(Arena arena, Bool claimed)
{
  if (claimed) ArenaLeave(arena);
}

/* Pages.  size is a multiple of the grain.  The pages are committed and
 * recorded as belonging to `owner`. */
INTERN Res ArenaAllocPages(Addr *baseReturn, Arena arena, Size size, Bool high, Seg owner);
INTERN void ArenaFreePages(Arena arena, Addr base, Size size);
INTERN void ArenaDeferPurge(Arena arena, Bool defer);
/* Zones: address stripes of 2^ARENA_ZONE_SHIFT bytes, numbered mod 64. */
#define ARENA_ZONE_SHIFT 20
INTERN Res ArenaAllocPagesZoned(Addr *baseReturn, Arena arena, Size size, Word zones, Seg owner);

INTERN Res ArenaSetCommitLimit(Arena arena, Size limit);
INTERN void ArenaSetSpare(Arena arena, double spare);
INTERN Res ArenaSetGrowth(Arena arena, Size desired, Size minimum);
/* Never reserve another chunk (the arena keeps the address space it has). */
INTERN void ArenaDisableGrowth(Arena arena);

/* The page tables of an arena's primary chunk, for a client that looks
 * pages up without the arena lock (the CPython hook, on every free): page
 * i of [allocBase, pages) belongs to a segment iff its allocTable bit is
 * set, and then pageTable[i] is that segment (stored before the bit is
 * set, arena.c).  Valid for as long as the arena: a primary chunk is never
 * released. */
typedef struct ArenaPagesStruct {
  Addr base, limit;
  Count pages;
  Index allocBase;
  Shift shift;
  BT allocTable, committedTable;
  Seg *pageTable;
} ArenaPagesStruct;
INTERN void ArenaPrimaryPages(ArenaPagesStruct *pagesReturn, Arena arena);

/* The chunk containing addr, or NULL.  Call with the arena lock held: a
 * chunk may be unmapped by another thread otherwise.  (A chunk is
 * published in its slot before any of its pages is used and a released
 * chunk leaves a hole rather than moving others, so a scan under the lock
 * never sees a half-made table.) */
INLINE Chunk ArenaChunkOf(Arena arena, Addr addr)
{
  Count i, n;
  if (addr < arena->lowest || addr >= arena->highest) return NULL;
  n = __atomic_load_n(&arena->chunkCount, __ATOMIC_ACQUIRE);
  for (i = 0; i < n; ++i) {
    Chunk c = __atomic_load_n(&arena->chunks[i], __ATOMIC_ACQUIRE);
    if (c != NULL && addr >= c->base && addr < c->limit) return c;
  }
  return NULL;
}

/* The segment containing addr, if any: a chunk scan, a shift and two loads. */
INLINE Bool ArenaSegOf(Seg *segReturn, Arena arena, Addr addr)
{
  Chunk chunk = ArenaChunkOf(arena, addr);
  Index i;
  Seg seg;
  if (chunk == NULL) return FALSE;
  i = (Index)(AddrOffset(chunk->base, addr) >> arena->grainShift);
  if (i < chunk->allocBase || !BTGet(chunk->allocTable, i)) return FALSE;
  seg = chunk->pageTable[i];
  if (seg == NULL || seg->pool == NULL) return FALSE;
  *segReturn = seg;
  return TRUE;
}

/* ArenaSegOf for the primary chunk only, without the lock: the primary
 * chunk is never unmapped, and the segment of a block that the caller
 * knows to be live cannot change under it.  (For an address that is not
 * live the answer may be stale; it is still memory-safe as long as the
 * page's table entry stays committed, which holds for allocated pages.) */
INLINE Bool ArenaPrimarySegOf(Seg *segReturn, Arena arena, Addr addr)
{
  Chunk chunk = arena->primary;
  Index i;
  Seg seg;
  if (addr < chunk->base || addr >= chunk->limit) return FALSE;
  i = (Index)(AddrOffset(chunk->base, addr) >> arena->grainShift);
  if (i < chunk->allocBase || !BTGet(chunk->allocTable, i)) return FALSE;
  seg = __atomic_load_n(&chunk->pageTable[i], __ATOMIC_ACQUIRE);
  if (seg == NULL || seg->pool == NULL) return FALSE;
  *segReturn = seg;
  return TRUE;
}

/* The control allocator: small blocks for the core's own structures
 * (pools, segment descriptors, tree nodes), carved from arena pages. */
INTERN void ControlInit(Arena arena);
INTERN void ControlFinish(Arena arena);
INTERN Res ControlAlloc(void **pReturn, Arena arena, Size size);
INTERN void ControlFree(Arena arena, void *p, Size size);
INTERN Size ControlCommitted(Arena arena);

/* Segments. */
INTERN Res SegCreate(Seg *segReturn, Pool pool, Size size, Size descSize, Bool high);
/* SegCreate placing the segment in `zones` where it can (low). */
INTERN Res SegCreateZoned(Seg *segReturn, Pool pool, Size size, Size descSize, Word zones);
INTERN void SegDestroy(Seg seg);
INTERN Bool SegCheck(Seg seg);
INLINE Size SegSize(Seg seg) { return AddrOffset(seg->base, seg->limit); }

#endif /* GCP_ARENA_H */
