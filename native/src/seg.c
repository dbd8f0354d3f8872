/* seg.c -- segments: runs of arena pages owned by a pool, each described
 * by a descriptor in control memory that the page table points at.
 * Design: docs/design/arena.md (segments).
 */
#include "arena.h"
#include "pool.h"

INTERN Bool SegCheck(Seg seg) { return CHECKS(Seg, seg) && seg->base < seg->limit; }

static Res segCreate(Seg *segReturn, Pool pool, Size size, Size descSize, Bool high, Word zones)
{
  Arena arena = pool->arena;
  Seg seg;
  Addr base;
  void *p;
  Res res;

  AVER(descSize >= sizeof(SegStruct));
  size = SizeAlignUp(size, arena->grainSize);
  res = ControlAlloc(&p, arena, descSize);
  if (res != RES_OK) return res;
  seg = p;
  seg->pool = pool;
  seg->descSize = descSize;
  seg->rank = RANK_EXACT;
  RingInit(&seg->poolRing);
  seg->sig = SegSig;
  res = zones == ~(Word)0 ? ArenaAllocPages(&base, arena, size, high, seg)
                          : ArenaAllocPagesZoned(&base, arena, size, zones, seg);
  if (res != RES_OK) {
    seg->sig = SigInvalid;
    ControlFree(arena, seg, descSize);
    return res;
  }
  seg->base = base;
  seg->limit = AddrAdd(base, size);
  RingAppend(&pool->segRing, &seg->poolRing);
  *segReturn = seg;
  return RES_OK;
}

INTERN Res SegCreate(Seg *segReturn, Pool pool, Size size, Size descSize, Bool high)
{
  return segCreate(segReturn, pool, size, descSize, high, ~(Word)0);
}

INTERN Res SegCreateZoned(Seg *segReturn, Pool pool, Size size, Size descSize, Word zones)
{
  return segCreate(segReturn, pool, size, descSize, FALSE, zones);
}

INTERN void SegDestroy(Seg seg)
{
  Arena arena = seg->pool->arena;
  AVER(SegCheck(seg));
  RingRemove(&seg->poolRing);
  ArenaFreePages(arena, seg->base, SegSize(seg));
  seg->sig = SigInvalid;
  ControlFree(arena, seg, seg->descSize);
}
