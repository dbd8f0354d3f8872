/* poolsegfit.c -- SEGFIT: a manual segregated-fit pool for small,
 * short-lived blocks shared by many threads (mpscsegfit.h).
 *
 * Blocks up to SF_SMALL_MAX bytes are rounded up to one of SF_CLASSES size
 * classes and carved from runs: segments of SF_RUN_SIZE (or SF_BIG_RUN_SIZE)
 * bytes holding one class.  A run starts with its metadata, in-band:
 *   freeBits[words + 1]  a set bit per free block (owner's view); the extra
 *                        word is always zero so the fast path needs no
 *                        bounds test;
 *   remoteBits[words]    blocks freed by other threads, not yet collected;
 *   facts[capacity]      per block: 0 when free, else SF_LIVE | requested
 *                        size | tag << 16;
 * then the blocks, 16-byte aligned.  Larger blocks get a segment each,
 * with their facts in the descriptor.
 *
 * Every small run belongs to one cache, and every cache to at most one
 * thread at a time (its owner).  The owner allocates from its current run
 * per class and frees into its runs without locks or atomic
 * read-modify-writes.  Another thread frees by setting the block's bit in
 * remoteBits and, once per batch, pushing the run onto the owner cache's
 * lock-free stack of runs to collect; the owner collects them when it runs
 * out of blocks.  A cache whose thread exits is left ownerless and adopted
 * whole by the next thread that needs one.  The arena lock is taken only
 * to get or give back segments and to adopt or create caches.
 *
 * Invariants (checked by sfConsistent, when no thread is mutating):
 *   - a block is live iff its facts word has SF_LIVE, iff neither its
 *     freeBits nor its remoteBits bit is set; no bit beyond capacity is set;
 *   - run->used = capacity - popcount(freeBits);
 *   - a run owned by a cache is its current run for its class, or on its
 *     partial ring (with a free block), or full (no free bit);
 *   - stashed runs are empty and ownerless; total = sizes of all segments.
 * A run is given back only when empty, after its owner has won
 * remoteQueued, so no remote thread can still be pushing it, and once no
 * remote free is still between setting its bit and its last look at the
 * run (remoteBusy).
 * Design: docs/design/segfit.md.
 */
#include "segfit.h"
#include <pthread.h>
#include <sched.h>

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

static const uint16_t sfClassSize[SF_CLASSES] = { 16,    32,    48,    64,   80,   96,   112,  128,
                                                  160,   192,   224,   256,  320,  384,  448,  512,
                                                  640,   768,   896,   1024, 1280, 1536, 1792, 2048,
                                                  2560,  3072,  3584,  4096, 5120, 6144, 7168, 8192,
                                                  10240, 12288, 14336, 16384 };

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
  unsigned cls;         /* or SF_LARGE */
  int state;            /* SF_RUN_* */
  RingStruct cacheRing; /* on its cache's partial ring, or the stash */
  SFRun remoteNext;     /* in the owner cache's remote stack */
  int remoteQueued;     /* pushed (or being pushed) on that stack */
  int remoteBusy;       /* remote frees still using the run */
  Size largeSize;       /* a large block's requested size, */
  unsigned largeTag;    /* tag */
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
} SFStruct;

#define SFOf(pool) PARENT(SFStruct, poolStruct, pool)

/* ---- threads ------------------------------------------------------------
 * Each thread remembers its caches of the last few pools it used, by pool
 * serial (never reused, so a stale entry can never match).  The slots'
 * address is the thread's identity as an owner.  A thread-exit destructor
 * and the fork child handler give caches up; the registry of live pools
 * tells them which caches still exist.  Lock order: arena lock, then the
 * registry lock. */
typedef struct SFThreadSlot {
  Word serial;
  SFCache cache;
} SFThreadSlot;
static __thread SFThreadSlot sfThreadSlots[SF_THREAD_SLOTS]
    __attribute__((tls_model("initial-exec")));
#define SF_SELF ((const void *)sfThreadSlots)

static pthread_mutex_t sfRegistryLock = PTHREAD_MUTEX_INITIALIZER;
static RingStruct sfRegistry = { &sfRegistry, &sfRegistry };
static pthread_once_t sfOnce = PTHREAD_ONCE_INIT;
static pthread_key_t sfThreadKey;
static Word sfSerialNext = 1;

static SF sfRegistered(Word serial)
{
  Ring node, next;
  RING_FOR(node, &sfRegistry, next) {
    SF sf = RING_ELT(SFStruct, registryRing, node);
    if (sf->serial == serial) return sf;
  }
  return NULL;
}

static void sfCacheDisown(SFCache c) { __atomic_store_n(&c->owner, NULL, __ATOMIC_RELEASE); }

static void sfThreadExit(void *unused)
{
  Index i;
  UNUSED(unused);
  (void)pthread_mutex_lock(&sfRegistryLock);
  for (i = 0; i < SF_THREAD_SLOTS; ++i) {
    if (sfThreadSlots[i].serial != 0 && sfRegistered(sfThreadSlots[i].serial) != NULL)
      sfCacheDisown(sfThreadSlots[i].cache);
    sfThreadSlots[i].serial = 0;
  }
  (void)pthread_mutex_unlock(&sfRegistryLock);
}

/* In the child of fork only the forking thread lives on: give up every
 * other thread's caches, and free arena locks their threads held. */
static void sfForkChild(void)
{
  Ring node, next, cn, cnext;
  (void)pthread_mutex_init(&sfRegistryLock, NULL);
  RING_FOR(node, &sfRegistry, next) {
    SF sf = RING_ELT(SFStruct, registryRing, node);
    Arena arena = sf->poolStruct.arena;
    if (LockIsHeld(&arena->lock) && !LockIsMine(&arena->lock)) LockInit(&arena->lock);
    RING_FOR(cn, &sf->caches, cnext) {
      SFCache c = RING_ELT(SFCacheStruct, sfRing, cn);
      if (c->owner != SF_SELF) sfCacheDisown(c);
    }
  }
}

static void sfOnceInit(void)
{
  (void)pthread_key_create(&sfThreadKey, sfThreadExit);
  (void)pthread_atfork(NULL, NULL, sfForkChild);
}

/* The calling thread's cache for sf, or NULL if it has none. */
INLINE SFCache sfThreadCache(SF sf)
{
  Index i;
  if (LIKELY(sfThreadSlots[0].serial == sf->serial)) return sfThreadSlots[0].cache;
  for (i = 1; i < SF_THREAD_SLOTS; ++i)
    if (sfThreadSlots[i].serial == sf->serial) return sfThreadSlots[i].cache;
  return NULL;
}

static void sfCacheInit(SFCache c, SF sf)
{
  Index k;
  c->sf = sf;
  c->owner = SF_SELF;
  c->remoteRuns = NULL;
  RingInit(&c->sfRing);
  for (k = 0; k < SF_CLASSES; ++k) {
    c->current[k] = NULL;
    RingInit(&c->partial[k]);
  }
  c->sig = SFCacheSig;
}

/* Find, adopt or make the thread's cache for sf and put it in slot 0. */
static SFCache sfCacheAcquire(SF sf)
{
  Arena arena = sf->poolStruct.arena;
  SFCache c = sfThreadCache(sf), found = NULL;
  SFThreadSlot slot;
  Index i;
  Bool claimed;
  Ring node, next;

  (void)pthread_once(&sfOnce, sfOnceInit);
  if (c == NULL) {
    claimed = ArenaEnterRecursive(arena);
    RING_FOR(node, &sf->caches, next) {
      SFCache cand = RING_ELT(SFCacheStruct, sfRing, node);
      const void *expected = NULL;
      if (__atomic_compare_exchange_n(&cand->owner, &expected, SF_SELF, FALSE, __ATOMIC_ACQUIRE,
                                      __ATOMIC_RELAXED)) {
        found = cand;
        break;
      }
    }
    if (found == NULL) {
      void *p;
      if (ControlAlloc(&p, arena, sizeof(SFCacheStruct)) == RES_OK) {
        found = p;
        sfCacheInit(found, sf);
        RingAppend(&sf->caches, &found->sfRing);
      }
    }
    ArenaLeaveRecursive(arena, claimed);
    if (found == NULL) return NULL;
    c = found;
    /* the last slot makes room: its cache is given up for adoption */
    if (sfThreadSlots[SF_THREAD_SLOTS - 1].serial != 0) {
      (void)pthread_mutex_lock(&sfRegistryLock);
      if (sfRegistered(sfThreadSlots[SF_THREAD_SLOTS - 1].serial) != NULL)
        sfCacheDisown(sfThreadSlots[SF_THREAD_SLOTS - 1].cache);
      (void)pthread_mutex_unlock(&sfRegistryLock);
    }
    sfThreadSlots[SF_THREAD_SLOTS - 1].serial = sf->serial;
    sfThreadSlots[SF_THREAD_SLOTS - 1].cache = c;
    (void)pthread_setspecific(sfThreadKey, (void *)sfThreadSlots);
  }
  /* move this pool's slot to the front */
  for (i = 0; sfThreadSlots[i].serial != sf->serial; ++i)
    ;
  slot = sfThreadSlots[i];
  for (; i > 0; --i) sfThreadSlots[i] = sfThreadSlots[i - 1];
  sfThreadSlots[0] = slot;
  return c;
}

/* ---- size classes and runs ------------------------------------------- */

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

static Size sfHeaderSize(Count capacity, Count words)
{
  return SizeAlignUp((2 * words + 1) * sizeof(Word) + capacity * sizeof(uint32_t), SF_BLOCK_ALIGN);
}

/* Lay out an empty run for class cls and give it to cache c as current. */
static void sfRunFormat(SFRun run, unsigned cls, SFCache c)
{
  Seg seg = &run->segStruct;
  Size runBytes = SegSize(seg), size = sfClassSize[cls], header;
  Count n = runBytes / size, words, i;

  for (;;) {
    words = (n + WORD_WIDTH - 1) / WORD_WIDTH;
    header = sfHeaderSize(n, words);
    if (header + n * size <= runBytes) break;
    --n;
  }
  run->freeBits = (Word *)(void *)seg->base;
  run->remoteBits = run->freeBits + words + 1;
  run->facts = (uint32_t *)(void *)(run->remoteBits + words);
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
  if (run != NULL) sfRunFormat(run, cls, c);
  ArenaLeaveRecursive(pool->arena, claimed);
  *runReturn = run;
  return res;
}

/* Give back an empty run that c owns and that is not its current run.
 * Fails (keeping the run) if a remote thread may still be pushing it. */
static void sfRunRelease(SF sf, SFRun run)
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

/* The owner has freed blocks into run: fix its place among c's runs. */
static NOINLINE void sfRunFreed(SF sf, SFCache c, SFRun run)
{
  if (run->state == SF_RUN_FULL) {
    run->state = SF_RUN_PARTIAL;
    RingAppend(&c->partial[run->cls], &run->cacheRing);
  }
  if (run->used == 0 && run->state == SF_RUN_PARTIAL) sfRunRelease(sf, run);
}

/* Move the remote frees of c's queued runs into their free bits. */
static void sfDrainRemote(SF sf, SFCache c)
{
  SFRun run = __atomic_exchange_n(&c->remoteRuns, NULL, __ATOMIC_ACQUIRE);
  while (run != NULL) {
    SFRun next = run->remoteNext;
    Index w;
    __atomic_store_n(&run->remoteQueued, 0, __ATOMIC_SEQ_CST);
    for (w = 0; w < run->words; ++w) {
      Word bits;
      if (__atomic_load_n(&run->remoteBits[w], __ATOMIC_RELAXED) == 0) continue;
      bits = __atomic_exchange_n(&run->remoteBits[w], 0, __ATOMIC_SEQ_CST);
      run->freeBits[w] |= bits;
      run->used -= (Count)__builtin_popcountl((unsigned long)bits);
      if (w < run->cursor) run->cursor = w;
    }
    sfRunFreed(sf, c, run);
    run = next;
  }
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

static NOINLINE Res sfAllocSmallSlow(Addr *pReturn, SF sf, SFCache c, unsigned cls, uint32_t fact)
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
static NOINLINE Res sfAllocLarge(Addr *pReturn, SF sf, Size size, Size room, unsigned tag)
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
    run->largeLive = TRUE;
    sf->total += SegSize(seg);
    *pReturn = seg->base;
  }
  ArenaLeaveRecursive(pool->arena, claimed);
  return res;
}

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

/* ---- freeing ------------------------------------------------------------ */

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

static Size sfRequested(SFRun run, uint32_t fact)
{
  return run->cls == SF_LARGE ? run->largeSize : (Size)(fact & SF_SIZE_MASK);
}

/* Report why p, which lies in run, cannot be freed. */
static NOINLINE Res sfFreeRefused(SFRun run, Addr p)
{
  Size off = p >= run->blocks ? AddrOffset(run->blocks, p) : 0;
  if (run->cls != SF_LARGE && p >= run->blocks && off % run->blockSize == 0 &&
      off / run->blockSize < run->capacity)
    return MISUSE("free: block %p of this SEGFIT pool is already free (double free)", (void *)p);
  if (run->cls == SF_LARGE && p == run->blocks)
    return MISUSE("free: block %p of this SEGFIT pool is already free (double free)", (void *)p);
  return MISUSE("free: %p is not the start of a block of this SEGFIT pool", (void *)p);
}

/* Free a large block: its segment goes back to the arena. */
static NOINLINE Res sfFreeLarge(SF sf, SFRun run)
{
  Pool pool = &sf->poolStruct;
  Bool claimed = ArenaEnterRecursive(pool->arena);
  run->largeLive = FALSE;
  sf->total -= SegSize(&run->segStruct);
  SegDestroy(&run->segStruct);
  ArenaLeaveRecursive(pool->arena, claimed);
  return RES_OK;
}

/* Free block w * WORD_WIDTH + log2(bit) of run, from a thread that does
 * not own the run. */
static NOINLINE Res sfFreeRemote(SFRun run, Index w, Word bit)
{
  /* Once the bit is set the owner may collect the block, find the run
   * empty and give it back: remoteBusy keeps it until we are done. */
  (void)__atomic_fetch_add(&run->remoteBusy, 1, __ATOMIC_SEQ_CST);
  (void)__atomic_fetch_or(&run->remoteBits[w], bit, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&run->remoteQueued, __ATOMIC_SEQ_CST) == 0 &&
      __atomic_exchange_n(&run->remoteQueued, 1, __ATOMIC_SEQ_CST) == 0) {
    SFCache owner = run->cache;
    SFRun head = __atomic_load_n(&owner->remoteRuns, __ATOMIC_RELAXED);
    do {
      run->remoteNext = head;
    } while (!__atomic_compare_exchange_n(&owner->remoteRuns, &head, run, TRUE, __ATOMIC_RELEASE,
                                          __ATOMIC_RELAXED));
  }
  (void)__atomic_fetch_sub(&run->remoteBusy, 1, __ATOMIC_RELEASE);
  return RES_OK;
}

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
  (void)pthread_once(&sfOnce, sfOnceInit);
  sf->serial = __atomic_fetch_add(&sfSerialNext, 1, __ATOMIC_RELAXED);
  RingInit(&sf->caches);
  RingInit(&sf->stash);
  sf->stashCount = 0;
  sf->runSize = SizeAlignUp(SF_RUN_SIZE, grain);
  sf->bigRunSize = SizeAlignUp(SF_BIG_RUN_SIZE, grain);
  sf->total = 0;
  pool->alignment = SF_BLOCK_ALIGN;
  (void)pthread_mutex_lock(&sfRegistryLock);
  RingAppend(&sfRegistry, &sf->registryRing);
  (void)pthread_mutex_unlock(&sfRegistryLock);
  return RES_OK;
}

static void sfFinish(Pool pool)
{
  SF sf = SFOf(pool);
  Ring node, next;
  (void)pthread_mutex_lock(&sfRegistryLock);
  RingRemove(&sf->registryRing);
  (void)pthread_mutex_unlock(&sfRegistryLock);
  RING_FOR(node, &sf->caches, next) {
    SFCache c = RING_ELT(SFCacheStruct, sfRing, node);
    c->sig = SigInvalid;
    ControlFree(pool->arena, c, sizeof(SFCacheStruct));
  }
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
      if (run->cls >= SF_CLASSES || run->blockSize != sfClassSize[run->cls] ||
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

/* Walk the live blocks; the caller holds the arena lock. */
INTERN void SegfitWalk(Pool pool, gcp_segfit_visit_t visit, void *closure)
{
  Ring node, next;
  RING_FOR(node, &pool->segRing, next) {
    SFRun run = (SFRun)RING_ELT(SegStruct, poolRing, node);
    Index i;
    if (run->state == SF_RUN_STASHED) continue;
    if (run->state == SF_RUN_LARGE) {
      if (run->largeLive) visit(run->blocks, run->largeSize, run->largeTag, closure);
      continue;
    }
    for (i = 0; i < run->capacity; ++i) {
      uint32_t f = sfFactLoad(run, i);
      if (f & SF_LIVE)
        visit(AddrAdd(run->blocks, i * run->blockSize), f & SF_SIZE_MASK, f >> 16, closure);
    }
  }
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
  return size > SF_SMALL_MAX ? size : sfClassSize[sfClassOf(size)];
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
