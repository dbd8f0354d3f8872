/* control.c -- the control allocator: memory for the core's own structures
 * (pool and allocation point descriptors, segment descriptors, tree
 * nodes), carved from arena pages so that it is counted in the arena's
 * committed memory and obeys the commit limit.
 *
 * Requests up to 1024 bytes come from slabs: one grain per slab, all slots
 * of one power-of-two size class, a header at the start of the page.  A
 * slab that becomes empty is given back unless it is the only one with
 * free slots in its class and lies in the primary chunk.  Larger requests take whole pages.  Callers
 * pass the size back when freeing, so no per-block header is needed.
 * Design: docs/design/arena.md (control memory).
 */
#include "arena.h"

#define CONTROL_MIN_SHIFT 4 /* 16 bytes */

typedef struct SlabStruct {
  RingStruct ring; /* in the class's partial ring while it has a free slot */
  Count used, capacity;
  Index cls;
  void *free;       /* free slots, linked through their first word */
  Addr bump, limit; /* never-used slots */
} SlabStruct, *Slab;

static Index controlSizeClass(Size size)
{
  Index cls = 0;
  Size s = (Size)1 << CONTROL_MIN_SHIFT;
  while (s < size) {
    s <<= 1;
    ++cls;
  }
  return cls;
}

static Size controlClassSize(Index cls) { return (Size)1 << (cls + CONTROL_MIN_SHIFT); }

INTERN void ControlInit(Arena arena)
{
  Index i;
  for (i = 0; i < CONTROL_CLASSES; ++i) RingInit(&arena->control.partial[i]);
  arena->control.slabs = 0;
  arena->control.largeBytes = 0;
}

INTERN void ControlFinish(Arena arena)
{
  Index i;
  /* Everything should have been freed; give back the cached empty slabs. */
  for (i = 0; i < CONTROL_CLASSES; ++i) {
    Ring node, next;
    RING_FOR(node, &arena->control.partial[i], next) {
      Slab slab = RING_ELT(SlabStruct, ring, node);
      if (slab->used == 0) {
        RingRemove(&slab->ring);
        ArenaFreePages(arena, (Addr)slab, arena->grainSize);
        --arena->control.slabs;
      }
    }
  }
}

INTERN Size ControlCommitted(Arena arena)
{
  return (arena->control.slabs << arena->grainShift) + arena->control.largeBytes;
}

INTERN Res ControlAlloc(void **pReturn, Arena arena, Size size)
{
  Index cls;
  Ring head;
  Slab slab;
  void *p;
  Res res;

  AVER(size > 0);
  if (size > controlClassSize(CONTROL_CLASSES - 1)) {
    Addr base;
    size = SizeAlignUp(size, arena->grainSize);
    res = ArenaAllocPages(&base, arena, size, FALSE, &arena->controlSeg);
    if (res != RES_OK) return res;
    arena->control.largeBytes += size;
    memset(base, 0, size);
    *pReturn = base;
    return RES_OK;
  }
  cls = controlSizeClass(size);
  head = &arena->control.partial[cls];
  if (RingIsSingle(head)) {
    Addr base;
    res = ArenaAllocPages(&base, arena, arena->grainSize, FALSE, &arena->controlSeg);
    if (res != RES_OK) return res;
    slab = (Slab)base;
    RingInit(&slab->ring);
    slab->cls = cls;
    slab->used = 0;
    slab->free = NULL;
    slab->bump = AddrAlignUp(AddrAdd(base, sizeof(SlabStruct)),
                             controlClassSize(cls) < 64 ? controlClassSize(cls) : 64);
    slab->limit = AddrAdd(base, arena->grainSize);
    slab->capacity = AddrOffset(slab->bump, slab->limit) / controlClassSize(cls);
    RingAppend(head, &slab->ring);
    ++arena->control.slabs;
  }
  slab = RING_ELT(SlabStruct, ring, head->next);
  if (slab->free != NULL) {
    p = slab->free;
    slab->free = *(void **)p;
  } else {
    AVER(AddrAdd(slab->bump, controlClassSize(cls)) <= slab->limit);
    p = slab->bump;
    slab->bump = AddrAdd(slab->bump, controlClassSize(cls));
  }
  ++slab->used;
  if (slab->used == slab->capacity) RingRemove(&slab->ring);
  memset(p, 0, controlClassSize(cls));
  *pReturn = p;
  return RES_OK;
}

INTERN void ControlFree(Arena arena, void *p, Size size)
{
  Slab slab;
  Ring head;
  AVER(p != NULL);
  if (size > controlClassSize(CONTROL_CLASSES - 1)) {
    size = SizeAlignUp(size, arena->grainSize);
    arena->control.largeBytes -= size;
    ArenaFreePages(arena, (Addr)p, size);
    return;
  }
  slab = (Slab)AddrAlignDown((Addr)p, arena->grainSize);
  AVER(slab->cls == controlSizeClass(size));
  AVER(slab->used > 0);
  head = &arena->control.partial[slab->cls];
  if (slab->used == slab->capacity) RingAppend(head, &slab->ring);
  *(void **)p = slab->free;
  slab->free = p;
  --slab->used;
  /* An empty slab is kept only as its class's one partial slab, and only
   * in the primary chunk, so that control memory never pins a chunk. */
  if (slab->used == 0 && (!(head->next == &slab->ring && head->prev == &slab->ring) ||
                          ArenaChunkOf(arena, (Addr)slab) != arena->primary)) {
    RingRemove(&slab->ring);
    --arena->control.slabs;
    ArenaFreePages(arena, (Addr)slab, arena->grainSize);
  }
}
