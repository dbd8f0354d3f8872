/* ring.h -- intrusive circular doubly linked lists.
 * A ring node is either a list head or an element; an empty head points at
 * itself.  Design: docs/design/core.md.
 */
#ifndef GCP_RING_H
#define GCP_RING_H

#include "core.h"

typedef struct RingStruct {
  struct RingStruct *next, *prev;
} RingStruct, *Ring;

INLINE void RingInit(Ring r)
{
  r->next = r;
  r->prev = r;
}
INLINE Bool RingIsSingle(Ring r) { return r->next == r; }
INLINE void RingInsertBefore(Ring at, Ring r)
{
  r->prev = at->prev;
  r->next = at;
  at->prev->next = r;
  at->prev = r;
}
INLINE void RingAppend(Ring head, Ring r) { RingInsertBefore(head, r); }
INLINE void RingRemove(Ring r)
{
  r->next->prev = r->prev;
  r->prev->next = r->next;
  RingInit(r);
}
INLINE Count RingLength(Ring head)
{
  Count n = 0;
  Ring r;
  for (r = head->next; r != head; r = r->next) ++n;
  return n;
}

#define RING_ELT(type, field, node) PARENT(type, field, node)
/* Iterate safely against removal of the current node. */
#define RING_FOR(node, head, nxt)                                     \
  for ((node) = (head)->next, (nxt) = (node)->next; (node) != (head); \
       (node) = (nxt), (nxt) = (node)->next)

#endif /* GCP_RING_H */
