/* transform.c -- transforms (mps_transform_*): replace every reference to
 * some "old" objects by a reference to their "new" counterparts, in one
 * full collection.
 *
 * A transform is a table from old to new client pointers (open addressing,
 * in control memory).  Applying it runs a full collection with the table
 * installed (gc->transform, copied into each scan state): _mps_fix2 hands
 * every reference into a white segment to TransformReplace first.  A reference of ambiguous rank to an
 * old object cannot be updated, so it aborts the transform; ambiguous
 * references are all fixed before any exact one (the trace's rank order),
 * so when that happens nothing has been replaced yet, and the rest of the
 * collection is an ordinary one: all of the transform is applied or none.
 * Exact and weak references to an old object are replaced, then fixed as
 * references to the new one.  The old objects themselves are then
 * unreferenced and are reclaimed like any other garbage.
 *
 * Invariants: an old pointer appears at most once; old pointers are in
 * segments of collected pools; the table is at most half full.  A
 * transform applies only in the parked arena it was made in, with no
 * collection since it was made, and only once.
 * Design: docs/design/trace.md (transforms).
 */
#include "gc.h"

#define TRANSFORM_MIN_SLOTS 64

struct mps_transform_s {
  Sig sig;
  Arena arena;
  Count collections; /* gc->collections when it was made */
  Addr *table;       /* slot i: old at [2i], new at [2i + 1]; old NULL = empty */
  Count slots, count;
  Bool aborted; /* an ambiguous reference to an old object was met */
  Bool applied;
};

#define TransformSig ((Sig)0x5197A45FUL)

static Index transformHash(Addr old, Count slots)
{
  Word w = (Word)old >> 3;
  return (Index)((w * (Word)0x9E3779B97F4A7C15ULL) >> 17) & (slots - 1);
}

/* The slot holding `old`, or the empty slot where it would go. */
static Index transformFind(Transform t, Addr old)
{
  Index i = transformHash(old, t->slots);
  while (t->table[2 * i] != NULL && t->table[2 * i] != old) i = (i + 1) & (t->slots - 1);
  return i;
}

static Res transformGrow(Transform t)
{
  Count slots = t->slots == 0 ? TRANSFORM_MIN_SLOTS : t->slots * 2;
  Addr *old = t->table;
  Count oldSlots = t->slots;
  void *p;
  Index i;
  Res res;
  if (slots > SIZE_LIMIT / (2 * sizeof(Addr))) return RES_RESOURCE;
  res = ControlAlloc(&p, t->arena, slots * 2 * sizeof(Addr));
  if (res != RES_OK) return res;
  memset(p, 0, slots * 2 * sizeof(Addr));
  t->table = p;
  t->slots = slots;
  for (i = 0; i < oldSlots; ++i) {
    if (old[2 * i] != NULL) {
      Index j = transformFind(t, old[2 * i]);
      t->table[2 * j] = old[2 * i];
      t->table[2 * j + 1] = old[2 * i + 1];
    }
  }
  if (old != NULL) ControlFree(t->arena, old, oldSlots * 2 * sizeof(Addr));
  return RES_OK;
}

INTERN Bool TransformCheck(Transform t) { return CHECKS(Transform, t) && t->count * 2 <= t->slots; }

INTERN Arena TransformArena(Transform t) { return t->arena; }

INTERN Res TransformCreate(Transform *tReturn, Arena arena)
{
  Transform t;
  void *p;
  Res res = ControlAlloc(&p, arena, sizeof(struct mps_transform_s));
  if (res != RES_OK) return res;
  t = p;
  memset(t, 0, sizeof *t);
  t->arena = arena;
  t->collections = arena->gc->collections;
  res = transformGrow(t);
  if (res != RES_OK) {
    ControlFree(arena, t, sizeof *t);
    return res;
  }
  t->sig = TransformSig;
  *tReturn = t;
  return RES_OK;
}

INTERN void TransformDestroy(Transform t)
{
  Arena arena = t->arena;
  AVER(arena->gc->transform != t);
  t->sig = SigInvalid;
  ControlFree(arena, t->table, t->slots * 2 * sizeof(Addr));
  ControlFree(arena, t, sizeof *t);
}

/* Add count old -> new pairs.  An old pointer that is not in a collected
 * pool, or that was added already, is misuse: the pairs before it stay
 * added, it and those after it are not. */
INTERN Res TransformAdd(Transform t, Addr *oldArray, Addr *newArray, Count count)
{
  Index k;
  for (k = 0; k < count; ++k) {
    Seg seg;
    Index i;
    if (!ArenaSegOf(&seg, t->arena, oldArray[k]) || seg->pool == NULL ||
        !(seg->pool->klass->attr & POOL_ATTR_GC))
      return MISUSE("mps_transform_add_oldnew: old reference %p is not in an automatically "
                    "managed pool of the arena",
                    (void *)oldArray[k]);
    if (t->table[2 * transformFind(t, oldArray[k])] != NULL)
      return MISUSE("mps_transform_add_oldnew: old reference %p was added already",
                    (void *)oldArray[k]);
    if ((t->count + 1) * 2 > t->slots) {
      Res res = transformGrow(t);
      if (res != RES_OK) return res;
    }
    i = transformFind(t, oldArray[k]);
    t->table[2 * i] = oldArray[k];
    t->table[2 * i + 1] = newArray[k];
    ++t->count;
  }
  return RES_OK;
}

/* Run the transform's collection.  RES_LIMIT unless the arena is parked,
 * RES_PARAM if a collection happened since the transform was made or it
 * was applied already; else *appliedReturn says whether references were
 * replaced (FALSE: an ambiguous reference to an old object was met). */
INTERN Res TransformApply(Bool *appliedReturn, Transform t)
{
  Arena arena = t->arena;
  GCStruct *gc = arena->gc;
  Res res;
  if (arena->state != ARENA_PARKED) return RES_LIMIT;
  if (t->applied || gc->collections != t->collections) return RES_PARAM;
  t->aborted = FALSE;
  gc->transform = t;
  res = TraceCollect(arena, TRUE, "Client requests: transform.");
  gc->transform = NULL;
  if (res != RES_OK) return res;
  t->applied = TRUE;
  *appliedReturn = !t->aborted;
  return RES_OK;
}

/* From _mps_fix2 while a transform is installed: TRUE if *refIO was a
 * reference to an old object and now refers to the new one. */
INTERN Bool TransformReplace(ScanState ss, Addr *refIO)
{
  Transform t = ss->transform;
  Index i;
  if (t->aborted) return FALSE;
  i = transformFind(t, *refIO);
  if (t->table[2 * i] == NULL) return FALSE;
  if (ss->rank == RANK_AMBIG) {
    t->aborted = TRUE; /* nothing was replaced yet: ambiguous ranks come first */
    return FALSE;
  }
  *refIO = t->table[2 * i + 1];
  return TRUE;
}
