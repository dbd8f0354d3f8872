/* pending.h -- free ranges waiting for a tree node.
 *
 * A pool that frees a range into its CBS may find that no node can be had
 * (the commit limit, say).  Rather than lose the range it goes on a
 * pending list threaded through the ranges themselves, and is moved into
 * the tree at the next chance.  In each range the first word links to the
 * next; its low bit set means the range is exactly one word long,
 * otherwise the second word holds the size.
 * Design: docs/design/cbs.md (when nodes run out).
 */
#ifndef GCP_PENDING_H
#define GCP_PENDING_H

#include "cbs.h"

typedef struct PendingStruct {
  Addr head;
  Size size;   /* bytes on the list */
  Count count; /* ranges on the list */
} PendingStruct, *Pending;

INTERN void PendingInit(Pending pending);
/* [base, limit) is word-aligned and at least a word long. */
INTERN void PendingPush(Pending pending, Addr base, Addr limit);
/* Move ranges into the tree until a node cannot be had.  restore, if not
 * NULL, is called on each range as it leaves the list, to repair what the
 * list wrote into it (a debug pool re-splats it). */
typedef void (*PendingRestore)(Addr base, Addr limit, void *closure);
INTERN void PendingFlush(Pending pending, CBS cbs, PendingRestore restore, void *closure);
/* The pending range overlapping [base, limit), if any. */
INTERN Bool PendingOverlap(Range rangeReturn, Pending pending, Addr base, Addr limit);
/* Visit every range; FALSE if the visitor stopped or the list is damaged. */
INTERN Bool PendingIterate(Pending pending, CBSVisitor visit, void *closure);

#endif /* GCP_PENDING_H */
