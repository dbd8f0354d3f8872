/* segfitint.h -- the SEGFIT pool's internal header: its structures, the
 * inline helpers and fast paths of allocation and free, and the functions
 * its files share.  Only the SEGFIT files include it; the rest of the core
 * and the CPython integration use segfit.h and mpscsegfit.h.
 *
 * The files (docs/design/segfit.md, "Files"):
 *   segfit_cache.c  thread caches: the registry of pools, thread exit, fork,
 *                   finding, adopting or making a thread's cache;
 *   segfit_alloc.c  runs: laying out, getting and giving back; the slow
 *                   paths of small allocation, and large blocks;
 *   segfit_free.c   the slow paths of free: refused and large frees, remote
 *                   frees and their collection by the owner;
 *   poolsegfit.c    the pool class, its consistency check, and the internal
 *                   (segfit.h) and public (mpscsegfit.h) interfaces.
 * The fast paths (sfAlloc, sfFreeBlock) are here, inline, so that every
 * entry point gets them without a call.
 *
 * A run starts with its metadata, in-band:
 *   freeBits[words + 1]  a set bit per free block (owner's view); the extra
 *                        word is always zero so the fast path needs no
 *                        bounds test;
 *   remoteBits[words]    blocks freed by other threads, not yet collected;
 *   facts[capacity]      per block: 0 when free, else SF_LIVE | requested
 *                        size | tag << 16;
 * then the blocks, 16-byte aligned.  Larger blocks get a segment each,
 * with their facts in the descriptor.
 *
 * Invariants (checked by sfConsistent, when no thread is mutating):
 *   - a block is live iff its facts word has SF_LIVE, iff neither its
 *     freeBits nor its remoteBits bit is set; no bit beyond capacity is set;
 *   - run->used = capacity - popcount(freeBits);
 *   - a run owned by a cache is its current run for its class, or on its
 *     partial ring (with a free block), or full (no free bit);
 *   - stashed runs are empty and ownerless; total = sizes of all segments.
 * Design: docs/design/segfit.md.
 */
#ifndef GCP_SEGFITINT_H
#define GCP_SEGFITINT_H

#include "segfit.h"

#define SF_CLASSES      36
#define SF_SMALL_MAX    GCP_SEGFIT_SMALL_MAX
#define SF_RUN_SIZE     ((Size)64 << 10)
#define SF_BIG_RUN_SIZE ((Size)256 << 10)
#define SF_BIG_CLASS    28 /* classes from here (5120 B) use big runs */
#define SF_BLOCK_ALIGN  ((Size)16)
#define SF_MAGIC_SHIFT  48
#define SF_LIVE         0x8000u
#define SF_SIZE_MASK    0x7FFFu
#define SF_LARGE        0xFFFFu
#define SF_STASH_MAX    8
#define SF_THREAD_SLOTS 4
#define SFCacheSig      ((Sig)0x5195FCAEUL)

enum { SF_RUN_CURRENT = 1, SF_RUN_PARTIAL, SF_RUN_FULL, SF_RUN_STASHED, SF_RUN_LARGE };

/* The size of class cls: 16-128 B in steps of 16, then four a doubling. */
INLINE Size sfClassSize(unsigned cls)
{
  static const uint16_t size[SF_CLASSES] = { 16,    32,    48,    64,   80,   96,   112,  128,
                                             160,   192,   224,   256,  320,  384,  448,  512,
                                             640,   768,   896,   1024, 1280, 1536, 1792, 2048,
                                             2560,  3072,  3584,  4096, 5120, 6144, 7168, 8192,
                                             10240, 12288, 14336, 16384 };
  return size[cls];
}

typedef struct SFStruct *SF;
typedef struct SFRunStruct *SFRun;
typedef struct SFCacheStruct *SFCache;

typedef struct SFRunStruct {
  SegStruct segStruct;
  SFCache cache;  /* owner of a small run; NULL if stashed or large */
  Addr blocks;    /* first block */
  Size blockSize; /* class size, or the segment size when large */
  uint64_t magic; /* ceil(2^SF_MAGIC_SHIFT / blockSize) */
  Count capacity, used, words;
  Index cursor; /* lowest freeBits word that may be nonzero */
  Word *freeBits, *remoteBits;
  uint32_t *facts;
  uint32_t *sites;      /* per block, if formatted while tracking sites */
  unsigned cls;         /* or SF_LARGE */
  int state;            /* SF_RUN_* */
  RingStruct cacheRing; /* on its cache's partial ring, or the stash */
  SFRun remoteNext;     /* in the owner cache's remote stack */
  int remoteQueued;     /* pushed (or being pushed) on that stack */
  int remoteBusy;       /* remote frees still using the run */
  Size largeSize;       /* a large block's requested size, */
  unsigned largeTag;    /* tag, */
  uint32_t largeSite;   /* site */
  Bool largeLive;       /* and whether it is live */
} SFRunStruct;

typedef struct SFCacheStruct {
  Sig sig;
  SF sf;
  const void *owner; /* SF_SELF of the owning thread, or NULL */
  SFRun remoteRuns;  /* stack of runs with remote frees */
  RingStruct sfRing; /* in the pool's list of caches */
  SFRun current[SF_CLASSES];
  RingStruct partial[SF_CLASSES];
} SFCacheStruct;

typedef struct SFStruct {
  PoolStruct poolStruct;
  Word serial; /* unique for the life of the process */
  RingStruct caches;
  RingStruct stash; /* empty small runs kept for reuse */
  Count stashCount;
  Size runSize, bigRunSize;
  Size total;
  RingStruct registryRing;
  Bool trackSites; /* runs formatted from now on get a sites array */
} SFStruct;

#define SFOf(pool) PARENT(SFStruct, poolStruct, pool)

/* ---- threads (segfit_cache.c) -------------------------------------------
 * Each thread remembers its caches of the last few pools it used, by pool
 * serial; the slots' address is the thread's identity as an owner.  The
 * fast paths read the slots inline; segfit_cache.c owns them (core.h,
 * INTERN_DATA). */
typedef struct SFThreadSlot {
  Word serial;
  SFCache cache;
} SFThreadSlot;
INTERN_DATA __thread SFThreadSlot sfThreadSlots[SF_THREAD_SLOTS]
    __attribute__((tls_model("initial-exec")));
#define SF_SELF ((const void *)sfThreadSlots)

/* The calling thread's cache for sf, or NULL if it has none. */
INLINE SFCache sfThreadCache(SF sf)
{
  Index i;
  if (LIKELY(sfThreadSlots[0].serial == sf->serial)) return sfThreadSlots[0].cache;
  for (i = 1; i < SF_THREAD_SLOTS; ++i)
    if (sfThreadSlots[i].serial == sf->serial) return sfThreadSlots[i].cache;
  return NULL;
}

/* Find, adopt or make the thread's cache for sf and put it in slot 0;
 * NULL if there is no memory for a new one. */
INTERN SFCache sfCacheAcquire(SF sf);
/* Give sf a serial number and enter it in the registry of live pools that
 * thread exit and fork consult; sfDeregister takes it out. */
INTERN void sfRegister(SF sf);
INTERN void sfDeregister(SF sf);
/* Free the caches of sf (when the pool is destroyed). */
INTERN void sfCachesDestroy(SF sf);

/* ---- size classes and blocks ------------------------------------------- */

INLINE unsigned sfClassOf(Size size)
{
  Size s;
  unsigned b;
  if (size <= 128) return size == 0 ? 0 : (unsigned)((size - 1) >> 4);
  s = size - 1;
  b = (unsigned)(WORD_WIDTH - 1) - (unsigned)__builtin_clzl((unsigned long)s);
  return 8 + (b - 7) * 4 + (unsigned)((s >> (b - 2)) & 3);
}

INLINE Index sfIndexOf(SFRun run, Size offset)
{
  return (Index)(((unsigned __int128)offset * run->magic) >> SF_MAGIC_SHIFT);
}

INLINE uint32_t sfFact(Size size, unsigned tag)
{
  return SF_LIVE | (uint32_t)size | ((uint32_t)(tag & 0xFFFFu) << 16);
}

INLINE uint32_t sfFactLoad(SFRun run, Index i)
{
  return __atomic_load_n(&run->facts[i], __ATOMIC_RELAXED);
}

/* ---- runs and allocation (segfit_alloc.c) ------------------------------ */

/* The slow path of small allocation: collect remote frees, take another
 * run; and large blocks (room beyond size lets a growing block be
 * reallocated in place). */
INTERN NOINLINE Res sfAllocSmallSlow(Addr *pReturn, SF sf, SFCache c, unsigned cls, uint32_t fact);
INTERN NOINLINE Res sfAllocLarge(Addr *pReturn, SF sf, Size size, Size room, unsigned tag);
/* Give back an empty run that its cache owns and that is not its current
 * run (unless a remote thread may still be pushing it). */
INTERN void sfRunRelease(SF sf, SFRun run);

/* Allocate: the fast path takes the lowest free block of the thread's
 * current run for the class, with no lock and no atomic RMW. */
static inline __attribute__((always_inline)) Res sfAlloc(Addr *pReturn, SF sf, Size size,
                                                         unsigned tag)
{
  SFCache c;
  SFRun run;
  unsigned cls;
  if (UNLIKELY(size > SF_SMALL_MAX)) return sfAllocLarge(pReturn, sf, size, size, tag);
  cls = sfClassOf(size);
  c = sfThreadCache(sf);
  if (LIKELY(c != NULL) && LIKELY((run = c->current[cls]) != NULL)) {
    Word *wp = &run->freeBits[run->cursor];
    Word bits = *wp;
    if (LIKELY(bits != 0)) {
      Index i = run->cursor * WORD_WIDTH + (Index)__builtin_ctzl((unsigned long)bits);
      *wp = bits & (bits - 1);
      ++run->used;
      __atomic_store_n(&run->facts[i], sfFact(size, tag), __ATOMIC_RELAXED);
      *pReturn = AddrAdd(run->blocks, i * run->blockSize);
      return RES_OK;
    }
  }
  return sfAllocSmallSlow(pReturn, sf, c, cls, sfFact(size, tag));
}

/* ---- freeing (segfit_free.c) ------------------------------------------- */

/* The block of run at p, if p is the start of a live block: its index and
 * facts.  Reports nothing. */
static inline __attribute__((always_inline)) Bool sfBlockAt(Index *iReturn, uint32_t *factReturn,
                                                            SFRun run, Addr p)
{
  Size off;
  Index i;
  uint32_t f;
  if (run->cls == SF_LARGE) {
    if (p != run->blocks || !run->largeLive) return FALSE;
    *iReturn = 0;
    *factReturn = SF_LIVE;
    return TRUE;
  }
  if (p < run->blocks) return FALSE;
  off = AddrOffset(run->blocks, p);
  i = sfIndexOf(run, off);
  if (i >= run->capacity || i * run->blockSize != off) return FALSE;
  f = sfFactLoad(run, i);
  if (!(f & SF_LIVE)) return FALSE;
  *iReturn = i;
  *factReturn = f;
  return TRUE;
}

INLINE Size sfRequested(SFRun run, uint32_t fact)
{
  return run->cls == SF_LARGE ? run->largeSize : (Size)(fact & SF_SIZE_MASK);
}

/* Report why p, which lies in run, cannot be freed. */
INTERN NOINLINE Res sfFreeRefused(SFRun run, Addr p);
/* Free a large block: its segment goes back to the arena. */
INTERN NOINLINE Res sfFreeLarge(SF sf, SFRun run);
/* Free block w * WORD_WIDTH + log2(bit) of run, from a thread that does
 * not own the run. */
INTERN NOINLINE Res sfFreeRemote(SFRun run, Index w, Word bit);
/* The owner has freed blocks into run: fix its place among c's runs. */
INTERN NOINLINE void sfRunFreed(SF sf, SFCache c, SFRun run);
/* Move the remote frees of c's queued runs into their free bits. */
INTERN void sfDrainRemote(SF sf, SFCache c);

/* Free p, which lies in run; checkSize is the client's size or 0 for none. */
static inline __attribute__((always_inline)) Res sfFreeBlock(SF sf, SFRun run, Addr p,
                                                             Size checkSize)
{
  Index i, w;
  Word bit;
  uint32_t fact;
  SFCache c;

  if (UNLIKELY(!sfBlockAt(&i, &fact, run, p))) return sfFreeRefused(run, p);
  if (checkSize != 0 && checkSize != sfRequested(run, fact))
    return MISUSE("mps_free: size %zu does not match the %zu bytes block %p was allocated with",
                  checkSize, sfRequested(run, fact), (void *)p);
  if (UNLIKELY(run->cls == SF_LARGE)) return sfFreeLarge(sf, run);
  __atomic_store_n(&run->facts[i], 0, __ATOMIC_RELAXED);
  w = i / WORD_WIDTH;
  bit = (Word)1 << (i % WORD_WIDTH);
  c = sfThreadCache(sf);
  if (LIKELY(run->cache == c)) {
    run->freeBits[w] |= bit;
    if (w < run->cursor) run->cursor = w;
    --run->used;
    if (UNLIKELY(run->state == SF_RUN_FULL || run->used == 0)) sfRunFreed(sf, c, run);
    return RES_OK;
  }
  return sfFreeRemote(run, w, bit);
}

#endif /* GCP_SEGFITINT_H */
