/* pending.c -- free ranges waiting for a tree node, threaded through
 * themselves.  Design: docs/design/cbs.md (when nodes run out).
 */
#include "pending.h"

#define PENDING_ONE_WORD ((Word)1)

static Addr pendingNext(Addr p, Size *sizeReturn)
{
  Word w0 = ((Word *)(void *)p)[0];
  *sizeReturn = (w0 & PENDING_ONE_WORD) != 0 ? sizeof(Word) : (Size)((Word *)(void *)p)[1];
  return (Addr)(w0 & ~PENDING_ONE_WORD);
}

INTERN void PendingInit(Pending pending)
{
  pending->head = NULL;
  pending->size = 0;
  pending->count = 0;
}

INTERN void PendingPush(Pending pending, Addr base, Addr limit)
{
  Word *w = (Word *)(void *)base;
  Size size = AddrOffset(base, limit);
  AVER(size >= sizeof(Word) && AddrIsAligned(base, sizeof(Word)));
  if (size == sizeof(Word)) {
    w[0] = (Word)pending->head | PENDING_ONE_WORD;
  } else {
    w[0] = (Word)pending->head;
    w[1] = (Word)size;
  }
  pending->head = base;
  pending->size += size;
  ++pending->count;
}

INTERN void PendingFlush(Pending pending, CBS cbs, PendingRestore restore, void *closure)
{
  while (pending->head != NULL) {
    RangeStruct r = { NULL, NULL };
    Size size;
    Addr p = pending->head, next = pendingNext(p, &size);
    Res res = CBSInsert(&r, cbs, p, AddrAdd(p, size));
    AVER(res != RES_FAIL); /* pending ranges never overlap the tree */
    if (res != RES_OK) return;
    if (restore != NULL) restore(p, AddrAdd(p, size), closure);
    pending->head = next;
    pending->size -= size;
    --pending->count;
  }
}

typedef struct PendingOverlapClosure {
  Addr base, limit;
  Range found;
} PendingOverlapClosure;

static Bool pendingOverlapVisit(Addr base, Addr limit, void *p)
{
  PendingOverlapClosure *c = p;
  if (c->base < limit && c->limit > base) {
    c->found->base = base;
    c->found->limit = limit;
    return FALSE;
  }
  return TRUE;
}

INTERN Bool PendingOverlap(Range rangeReturn, Pending pending, Addr base, Addr limit)
{
  PendingOverlapClosure c;
  rangeReturn->base = rangeReturn->limit = NULL;
  c.base = base;
  c.limit = limit;
  c.found = rangeReturn;
  return pending->head != NULL && !PendingIterate(pending, pendingOverlapVisit, &c) &&
         rangeReturn->base != NULL;
}

INTERN Bool PendingIterate(Pending pending, CBSVisitor visit, void *closure)
{
  Addr p = pending->head;
  Count n = 0;
  Size total = 0;
  while (p != NULL) {
    Size size;
    Addr next = pendingNext(p, &size);
    if (++n > pending->count) return FALSE; /* a cycle */
    total += size;
    if (!visit(p, AddrAdd(p, size), closure)) return FALSE;
    p = next;
  }
  return n == pending->count && total == pending->size;
}
