/* cbs.h -- coalescing block structure: a set of disjoint address ranges,
 * kept as a treap ordered by address and augmented with the largest range
 * size in each subtree, so that "lowest (or highest, or largest) range of
 * at least n bytes" takes O(log n).  Adjacent ranges always coalesce.
 * Nodes live in control memory, outside the ranges they describe, so the
 * ranges themselves are never written (debug pools rely on that).  With
 * coalescing off the same tree is a map of disjoint blocks (debug tags).
 * Design: docs/design/cbs.md.
 */
#ifndef GCP_CBS_H
#define GCP_CBS_H

#include "arena.h"

typedef struct CBSNodeStruct *CBSNode;

typedef struct CBSStruct {
  Sig sig;
  Arena arena;
  CBSNode root;
  Count count;   /* ranges */
  Size size;     /* bytes in all ranges */
  unsigned seed; /* for treap priorities */
  Bool coalesce; /* merge touching ranges (free lists); FALSE for maps of blocks */
} CBSStruct, *CBS;

typedef struct RangeStruct {
  Addr base, limit;
} RangeStruct, *Range;

INTERN void CBSInit(CBS cbs, Arena arena, Bool coalesce);
INTERN void CBSFinish(CBS cbs);
/* Add [base, limit).  RES_FAIL if it overlaps a range already present
 * (nothing changes); RES_MEMORY etc. if a node could not be had.  On
 * success *coalescedReturn is the range that now contains it. */
INTERN Res CBSInsert(Range coalescedReturn, CBS cbs, Addr base, Addr limit);
/* Remove [base, limit), which must lie inside one range: RES_FAIL if not. */
INTERN Res CBSDelete(CBS cbs, Addr base, Addr limit);
INTERN Bool CBSFindFirst(Range rangeReturn, CBS cbs, Size size);
INTERN Bool CBSFindLast(Range rangeReturn, CBS cbs, Size size);
INTERN Bool CBSFindLargest(Range rangeReturn, CBS cbs);
/* The range containing addr, if any. */
INTERN Bool CBSFindContaining(Range rangeReturn, CBS cbs, Addr addr);
/* The range with the greatest base below addr, if any. */
INTERN Bool CBSFindBelow(Range rangeReturn, CBS cbs, Addr addr);
/* Does any range overlap [base, limit)? */
INTERN Bool CBSOverlaps(CBS cbs, Addr base, Addr limit);
typedef Bool (*CBSVisitor)(Addr base, Addr limit, void *closure);
/* Visit ranges in address order until the visitor returns FALSE. */
INTERN Bool CBSIterate(CBS cbs, CBSVisitor visit, void *closure);
INTERN Bool CBSConsistent(CBS cbs);

#endif /* GCP_CBS_H */
