/* fseg.h -- formatted segments: what the collected pool classes (AMC,
 * AMCZ, LO) share about segments that hold a client's formatted objects:
 * the generation, mark bits for objects preserved in place, and an
 * object-start table built on demand to find the object an ambiguous
 * reference points into.
 *
 * Mark and start bits are per alignment unit of the segment, indexed by
 * an object's base (not client) address.  Both tables exist only during a
 * trace, in control memory.
 * Design: docs/design/trace.md (formatted segments).
 */
#ifndef GCP_FSEG_H
#define GCP_FSEG_H

#include "gc.h"

typedef struct FSegStruct {
  SegStruct segStruct;
  Index gen;        /* in the pool's chain; genCount = the top generation */
  Addr end;         /* end of the objects (AMC: bump end; LO: limit) */
  Addr scanned;     /* to-space: objects below this have been scanned */
  BT marks, starts; /* during a trace, or NULL */
  Count bits;       /* entries in marks and starts */
  Size padded;      /* dead bytes padded in place (counted free) */
  Bool all;         /* every object preserved (no marks could be had) */
} FSegStruct, *FSeg;

#define FSegOfSeg(seg) ((FSeg)(void *)(seg))
#define FSegSeg(fseg)  (&(fseg)->segStruct)

INLINE Index FSegIndex(FSeg fseg, Addr base, Size align)
{
  return AddrOffset(FSegSeg(fseg)->base, base) / align;
}

/* Allocate the mark table (all clear).  On failure the segment's objects
 * are all treated as preserved. */
INLINE void FSegMarksCreate(FSeg fseg, Size align)
{
  Arena arena = FSegSeg(fseg)->pool->arena;
  void *p;
  if (fseg->marks != NULL || fseg->all) return;
  fseg->bits = SegSize(FSegSeg(fseg)) / align;
  if (ControlAlloc(&p, arena, BTSize(fseg->bits)) != RES_OK) {
    fseg->all = TRUE;
    return;
  }
  fseg->marks = p;
}

INLINE void FSegTablesFree(FSeg fseg)
{
  Arena arena = FSegSeg(fseg)->pool->arena;
  if (fseg->marks != NULL) ControlFree(arena, fseg->marks, BTSize(fseg->bits));
  if (fseg->starts != NULL) ControlFree(arena, fseg->starts, BTSize(fseg->bits));
  fseg->marks = fseg->starts = NULL;
  fseg->all = FALSE;
}

/* Is the object whose base is `base` marked (or all preserved)? */
INLINE Bool FSegIsMarked(FSeg fseg, Addr base, Size align)
{
  return fseg->all || (fseg->marks != NULL && BTGet(fseg->marks, FSegIndex(fseg, base, align)));
}

/* Mark the object at `base`; TRUE if it was not marked before. */
INLINE Bool FSegMark(FSeg fseg, Addr base, Size align)
{
  Index i;
  FSegMarksCreate(fseg, align);
  if (fseg->all) return FALSE;
  i = FSegIndex(fseg, base, align);
  if (BTGet(fseg->marks, i)) return FALSE;
  BTSet(fseg->marks, i);
  return TRUE;
}

/* The highest set bit at or below i, or FALSE if none. */
INLINE Bool BTFindPrevSet(Index *iReturn, BT bt, Index i)
{
  Index w = i >> WORD_SHIFT;
  Word bits = bt[w] & (~(Word)0 >> (WORD_WIDTH - 1 - (i & (WORD_WIDTH - 1))));
  for (;;) {
    if (bits != 0) {
      *iReturn = (w << WORD_SHIFT) + (WORD_WIDTH - 1 - (Index)__builtin_clzl(bits));
      return TRUE;
    }
    if (w == 0) return FALSE;
    bits = bt[--w];
  }
}

/* The next object after the one at base, by the format's skip method. */
INLINE Addr FSegNext(Format fmt, Addr base)
{
  return AddrSub((Addr)fmt->skip(AddrAdd(base, fmt->headerSize)), fmt->headerSize);
}

#endif /* GCP_FSEG_H */
