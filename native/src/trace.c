/* trace.c -- the collector: one collection ("trace") from condemn to
 * reclaim, run atomically with the arena lock held and every registered
 * thread stopped, and _mps_fix2, through which every reference reaches it.
 *
 * The phases, in order:
 *   1. condemn: the policy (chain.c) picks generations; each collected
 *      pool whitens the segments in them and the white zone set is formed;
 *   2. flip: registered threads are stopped and every allocation point of
 *      a collected pool is trapped, recording init-at-flip (buffer.h);
 *   3. ambiguous rank: ambiguous roots (thread stacks and registers
 *      included) are scanned; what they hit in white segments is pinned;
 *      Then every object of ambiguous rank (AMS) nails the white segments
 *      of moving pools it refers into (the ambiguous heap pre-pass), and
 *      the non-white segments of ambiguous rank are scanned;
 *   4. exact rank: exact roots, the non-white exact segments of scanning
 *      pools (those the write barrier cannot prove clean), the references
 *      held by queued finalization messages; then the grey work of every
 *      pool (copied objects, marked objects, ambiguous-rank objects
 *      scanned as ambiguous) until none is left;
 *   5. final rank: finalization registrations whose objects are still
 *      unpreserved are preserved, and a message is posted for each; the
 *      grey work again;
 *   6. weak rank: weak roots, the non-white weak segments and the
 *      preserved objects of weak rank (AWL): references to unpreserved
 *      objects become 0, to moved ones are updated;
 *   7. reclaim: pools free or sweep what is still white;
 *   8. threads are resumed; the epoch advances if anything moved.
 * Design: docs/design/trace.md.
 */
#include "gc.h"
#include "vm.h"
#include <stdlib.h>

/* ---- the grey stack: pinned or marked objects waiting to be scanned --- */

/* The grey stack's memory: fresh mappings in a VM arena (outside the
 * commit limit: a collection must not fail for want of it); arena pages
 * in a client arena, which must not use memory the client did not give. */
static Res greyMemAlloc(Addr *baseReturn, Arena arena, Size size)
{
  Res res;
  if (arena->client) return ControlAlloc((void **)baseReturn, arena, size);
  res = VMReserve(baseReturn, size, VMPageSize());
  if (res != RES_OK) return res;
  res = VMCommit(*baseReturn, AddrAdd(*baseReturn, size));
  if (res != RES_OK) VMRelease(*baseReturn, size);
  return res;
}

static void greyMemFree(Arena arena, Addr base, Size size)
{
  if (arena->client)
    ControlFree(arena, base, size);
  else
    VMRelease(base, size);
}

static Size greySize(Count max) { return SizeAlignUp(max * sizeof(Addr), VMPageSize()); }

static Res greyGrow(Arena arena, Trace trace)
{
  Count max = trace->greyMax == 0 ? 4096 : trace->greyMax * 2;
  Size size = greySize(max);
  Addr base;
  Res res = greyMemAlloc(&base, arena, size);
  if (res != RES_OK) return res;
  if (trace->grey != NULL) {
    memcpy(base, trace->grey, trace->greyTop * sizeof(Addr));
    greyMemFree(arena, (Addr)trace->grey, greySize(trace->greyMax));
  }
  trace->grey = (Addr *)(void *)base;
  trace->greyMax = size / sizeof(Addr);
  return RES_OK;
}

/* FALSE if the stack cannot grow: the caller must grey the object some
 * other way (AMC greys its whole segment). */
INTERN Bool TraceGreyPush(Arena arena, Addr client)
{
  Trace trace = &arena->gc->trace;
  if (trace->greyTop == trace->greyMax && greyGrow(arena, trace) != RES_OK) {
    trace->emergency = TRUE;
    return FALSE;
  }
  trace->grey[trace->greyTop++] = client;
  return TRUE;
}

/* ---- _mps_fix2 ------------------------------------------------------ */

mps_res_t _mps_fix2(mps_ss_t mss, mps_addr_t *ref_io)
{
  ScanState ss = ScanStateOf(mss);
  Arena arena = ss->arena;
  Seg seg;
  AVER_CRITICAL(ss->sig == ScanStateSig);
  if (UNLIKELY(ss->rootsWalk != NULL)) {
    RootsWalkReport(ss, (Addr *)ref_io);
    return MPS_RES_OK;
  }
  if (!ArenaSegOf(&seg, arena, (Addr)*ref_io)) return MPS_RES_OK;
  if (!seg->white) return MPS_RES_OK;
  if (UNLIKELY(ss->transform != NULL) && TransformReplace(ss, (Addr *)ref_io)) {
    /* now a reference to the old object's replacement: fix that instead */
    ss->fixed |= ZoneOf((Addr)*ref_io);
    if (!ArenaSegOf(&seg, arena, (Addr)*ref_io) || !seg->white) return MPS_RES_OK;
  }
  if (UNLIKELY(ss->nailOnly) && !(seg->pool->klass->attr & POOL_ATTR_MOVES)) return MPS_RES_OK;
  {
    Addr old = (Addr)*ref_io;
    Res res = seg->pool->klass->fix(seg->pool, ss, seg, (Addr *)ref_io);
    if ((Addr)*ref_io != old) ss->fixed |= ZoneOf((Addr)*ref_io);
    return res;
  }
}

INTERN Bool TraceIsPreserved(Arena arena, Addr ref, Addr *newReturn)
{
  Seg seg;
  *newReturn = ref;
  if (!ArenaSegOf(&seg, arena, ref) || !seg->white) return TRUE;
  return seg->pool->klass->preserved(seg->pool, seg, ref, newReturn);
}

/* ---- phases --------------------------------------------------------- */

#define POOLS_FOR(pool, arena, node, next) \
  RING_FOR(node, &(arena)->poolRing, next) \
    if (((pool) = RING_ELT(PoolStruct, arenaRing, node))->klass->attr & POOL_ATTR_GC)

static void traceFlipBuffers(Arena arena)
{
  Ring node, next, bnode, bnext;
  Pool pool;
  POOLS_FOR(pool, arena, node, next) {
    RING_FOR(bnode, &pool->bufferRing, bnext) {
      Buffer buf = RING_ELT(BufferStruct, poolRing, bnode);
      if (buf->base == NULL) continue;
      buf->initAtFlip = (Addr)buf->ap.init;
      buf->flipped = TRUE;
      buf->ap.limit = NULL;
    }
  }
}

INTERN void ScanStateInit(ScanState ss, Arena arena, Word white, unsigned rank)
{
  ss->ss._zs = ZONE_SHIFT;
  ss->ss._w = white;
  ss->ss._ufs = 0;
  ss->arena = arena;
  ss->rank = rank;
  ss->rootsWalk = NULL;
  ss->fixed = 0;
  ss->nailOnly = FALSE;
  ss->transform = arena->gc->transform;
  ss->sig = ScanStateSig;
}

/* Scan the segments of `rank` that are neither white nor grey: they may
 * refer to white objects. */
static Res traceScanNonWhite(Arena arena, ScanState ss, unsigned rank)
{
  Ring node, next, snode, snext;
  Pool pool;
  ss->rank = rank;
  POOLS_FOR(pool, arena, node, next) {
    if (!(pool->klass->attr & POOL_ATTR_SCAN) || !(pool->klass->apRanks & RANK_SET(rank))) continue;
    RING_FOR(snode, &pool->segRing, snext) {
      Seg seg = RING_ELT(SegStruct, poolRing, snode);
      if (!seg->white && !seg->grey && seg->rank == rank) {
        Res res;
        /* The barrier: a clean, read-only segment whose references all
         * miss the white set cannot refer to anything white. */
        if (arena->gc->barrier && !ProtMustScan(seg, arena->gc->trace.white)) continue;
        ProtSet(seg, FALSE);
        res = pool->klass->scanSeg(pool, ss, seg);
        if (res != RES_OK) return res;
      }
    }
  }
  return RES_OK;
}

/* The ambiguous heap pre-pass: before anything moves, every object of
 * ambiguous rank (live or not: which are live is not known yet) nails the
 * white segments of moving pools it refers into, so that no object one of
 * them may turn out to refer to is moved.  Nothing is preserved here: the
 * objects are scanned again, as ambiguous, if they are reached.  During a
 * transform the same pass is where their references to old objects are
 * met, while nothing has been replaced yet (transform.c). */
static Res traceNailFromAmbiguousObjects(Arena arena, ScanState ss)
{
  Ring node, next, snode, snext;
  Pool pool;
  Res res = RES_OK;
  /* Also for a transform: an ambiguous-rank object referring to an old
   * object must abort it before any exact reference is replaced. */
  if (!arena->gc->trace.mayMove && arena->gc->transform == NULL) return RES_OK;
  ss->rank = RANK_AMBIG;
  ss->nailOnly = TRUE;
  POOLS_FOR(pool, arena, node, next) {
    if (!(pool->klass->attr & POOL_ATTR_SCAN) || !(pool->klass->apRanks & RANK_SET(RANK_AMBIG)))
      continue;
    RING_FOR(snode, &pool->segRing, snext) {
      Seg seg = RING_ELT(SegStruct, poolRing, snode);
      if (seg->rank != RANK_AMBIG) continue;
      res = pool->klass->scanSeg(pool, ss, seg);
      if (res != RES_OK) goto done;
    }
  }
done:
  ss->nailOnly = FALSE;
  return res;
}

/* Scan the objects on the grey stack (preserved in place; exact). */
static Res traceScanGreyStack(Arena arena, ScanState ss)
{
  Trace trace = &arena->gc->trace;
  ss->rank = RANK_EXACT;
  while (trace->greyTop > 0) {
    Addr client = trace->grey[--trace->greyTop];
    Seg seg;
    Format fmt;
    Word summary;
    Res res;
    if (!ArenaSegOf(&seg, arena, client)) {
      NOTREACHED;
      continue;
    }
    fmt = seg->pool->format;
    res = FormatScan(ss, fmt, client, (Addr)fmt->skip(client), &summary);
    seg->summary |= summary;
    if (res != RES_OK) return res;
  }
  return RES_OK;
}

/* Scan until no pool has grey work left of the ranks in `ranks`
 * (ambiguous and exact in the strong phase; weak in the weak phase, where
 * nothing new is preserved).  A pool's grey method scans what it made
 * grey in segments of ss->rank. */
static Res traceDrain(Arena arena, ScanState ss, unsigned ranks)
{
  Trace trace = &arena->gc->trace;
  Bool worked;
  do {
    Ring node, next;
    Pool pool;
    unsigned rank;
    Res res = RES_OK;
    if (ranks & RANK_SET(RANK_EXACT)) {
      res = traceScanGreyStack(arena, ss);
      if (res != RES_OK) return res;
    }
    worked = FALSE;
    for (rank = RANK_AMBIG; rank <= RANK_WEAK; ++rank) {
      if (!(ranks & RANK_SET(rank))) continue;
      ss->rank = rank;
      POOLS_FOR(pool, arena, node, next) {
        if (!(pool->klass->apRanks & RANK_SET(rank))) continue;
        if (pool->klass->grey(&res, pool, ss)) worked = TRUE;
        if (res != RES_OK) return res;
      }
    }
    worked |= trace->greyTop > 0;
  } while (worked);
  return RES_OK;
}

#define STRONG_RANKS (RANK_SET(RANK_AMBIG) | RANK_SET(RANK_EXACT))

static void traceReset(Trace trace, const char *why)
{
  trace->busy = TRUE;
  trace->white = 0;
  trace->moved = 0;
  trace->mayMove = FALSE;
  trace->condemned = trace->notCondemned = trace->preserved = trace->copied = 0;
  trace->greyTop = 0;
  trace->emergency = FALSE;
  trace->why = why;
}

/* Run one whole collection.  `full` condemns everything; otherwise the
 * policy's choice (nothing happens if it chooses nothing). */
INTERN Res TraceCollect(Arena arena, Bool full, const char *why)
{
  GCStruct *gc = arena->gc;
  Trace trace = &gc->trace;
  ScanStateStruct ss;
  Ring node, next;
  Pool pool;
  const char *policyWhy = NULL;
  Res res;

  AVER(!trace->busy);
  if (!full && arena->gc->fullWanted && ChainCondemnWanted(arena, NULL)) {
    full = TRUE;
    if (why == NULL) why = "A ramp-collect-all ended: full collection.";
  }
  if (!ChainCondemn(arena, full, &policyWhy)) return RES_OK;
  traceReset(trace, why != NULL ? why : policyWhy);

  /* The barrier's lock is never taken while threads are stopped (one of
   * them might hold it). */
  if (gc->barrier && !gc->barrierInUse) {
    ProtArenaUse(arena, TRUE);
    gc->barrierInUse = gc->barrier;
  } else if (gc->barrierInUse) {
    ProtRefresh();
  }
  res = ThreadsSuspend(arena);
  if (res != RES_OK) {
    trace->busy = FALSE;
    return res;
  } /* as if never started */
  /* It starts: only now is a full collection no longer wanted, and the
   * start announced (a refused one posts nothing). */
  if (full) gc->fullWanted = FALSE;
  MessagesTraceStart(arena, trace->why);
  ArenaDeferPurge(arena, TRUE);
  __atomic_add_fetch(&gc->collections, 1, __ATOMIC_RELEASE);
  traceFlipBuffers(arena);
  POOLS_FOR(pool, arena, node, next) pool->klass->whiten(pool);

  ScanStateInit(&ss, arena, trace->white, RANK_AMBIG);

  /* Ambiguous references first: every pin is known before anything moves. */
  res = RootsScan(arena, &ss, RANK_AMBIG);
  if (res == RES_OK) {
    ss.rank = RANK_AMBIG;
    res = ThreadsScanAnonymous(arena, &ss);
  }
  if (res == RES_OK) res = traceNailFromAmbiguousObjects(arena, &ss);
  if (res == RES_OK) res = traceScanNonWhite(arena, &ss, RANK_AMBIG);
  if (res == RES_OK) res = RootsScan(arena, &ss, RANK_EXACT);
  if (res == RES_OK) res = traceScanNonWhite(arena, &ss, RANK_EXACT);
  if (res == RES_OK) {
    ss.rank = RANK_EXACT;
    res = MessagesScan(arena, &ss);
  }
  if (res == RES_OK) res = traceDrain(arena, &ss, STRONG_RANKS);
  if (res == RES_OK) res = FinalsProcess(arena, &ss);
  if (res == RES_OK) res = traceDrain(arena, &ss, STRONG_RANKS);
  /* Weak: everything that will survive is preserved by now. */
  if (res == RES_OK) res = RootsScan(arena, &ss, RANK_WEAK);
  if (res == RES_OK) res = traceScanNonWhite(arena, &ss, RANK_WEAK);
  if (res == RES_OK) res = traceDrain(arena, &ss, RANK_SET(RANK_WEAK));
  /* A failure here is a client scan method's error or memory exhausted in
   * the grey stack and emergency pinning alike; the heap is still
   * consistent (nothing is reclaimed that a scan did not clear), but the
   * objects past the failure may be reclaimed while referenced.  The
   * reference implementation has the same contract: scan methods must
   * not fail except through MPS_FIX2, which never fails here. */
  AVER(res == RES_OK);

  POOLS_FOR(pool, arena, node, next) pool->klass->reclaim(pool);
  ArenaDeferPurge(arena, FALSE);
  ss.sig = SigInvalid;

  /* The epoch counts collections in which objects might have moved. */
  if (trace->mayMove) {
    LDNoteMoved(arena, trace->moved);
    __atomic_store_n(&arena->epoch, arena->epoch + 1, __ATOMIC_RELEASE);
  }
  ThreadsResume(arena);
  ChainTraceDone(arena, trace->condemned, trace->preserved);
  MessagesTraceDone(arena, trace->preserved, trace->condemned, trace->notCondemned);
  trace->busy = FALSE;
  return res;
}

/* Collect if the policy wants to and the arena state allows it. */
INTERN Bool TracePoll(Arena arena)
{
  if (arena->state != ARENA_UNCLAMPED || arena->gc->trace.busy) return FALSE;
  if (!ChainCondemnWanted(arena, NULL)) return FALSE;
  (void)TraceCollect(arena, FALSE, NULL);
  return TRUE;
}

/* ---- set-up ---------------------------------------------------------- */

INTERN Res GCInit(Arena arena)
{
  GCStruct *gc;
  void *p;
  Res res = ControlAlloc(&p, arena, sizeof(GCStruct));
  if (res != RES_OK) return res;
  gc = p;
  arena->gc = gc;
  RingInit(&gc->formatRing);
  RingInit(&gc->chainRing);
  RingInit(&gc->rootRing);
  RingInit(&gc->threadRing);
  RingInit(&gc->messageQueue);
  gc->topGen.capacity = 0;
  {
    const char *env = getenv("GCP_BARRIER");
    gc->barrier = env == NULL || strcmp(env, "0") != 0;
  }
  res = MessagesInit(arena);
  if (res == RES_OK) res = ChainCreateDefault(arena);
  if (res != RES_OK) {
    MessagesFinish(arena);
    ControlFree(arena, gc, sizeof(GCStruct));
    arena->gc = NULL;
  }
  return res;
}

INTERN void GCFinish(Arena arena)
{
  GCStruct *gc = arena->gc;
  Trace trace;
  if (gc == NULL) return;
  trace = &gc->trace;
  if (gc->barrierInUse) ProtArenaUse(arena, FALSE);
  MessagesFinish(arena);
  if (gc->anon != NULL) {
    Index t;
    for (t = 0; t < gc->anonMade; ++t) ControlFree(arena, gc->anon[t], sizeof(ThreadStruct));
    ControlFree(arena, gc->anon, gc->anonMax * sizeof(Thread));
  }
  if (gc->defaultChain != NULL) ChainDestroy(gc->defaultChain);
  if (trace->grey != NULL) greyMemFree(arena, (Addr)trace->grey, greySize(trace->greyMax));
  ControlFree(arena, gc, sizeof(GCStruct));
  arena->gc = NULL;
}
