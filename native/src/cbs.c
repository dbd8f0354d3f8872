/* cbs.c -- the coalescing block structure as a treap with split and merge.
 * Every update is: split the tree around the affected keys, edit the few
 * nodes in the middle, merge back; split and merge recompute the size
 * augmentation on the way up.  Design: docs/design/cbs.md.
 */
#include "cbs.h"

struct CBSNodeStruct {
  CBSNode left, right;
  Addr base, limit;
  Size maxSize;       /* largest range in this subtree */
  unsigned prio;
};

static Size nodeSize(CBSNode n) { return AddrOffset(n->base, n->limit); }
static Size maxOf(CBSNode n) { return n == NULL ? 0 : n->maxSize; }

static void fixup(CBSNode n)
{
  Size m = nodeSize(n), l = maxOf(n->left), r = maxOf(n->right);
  if (l > m) m = l;
  if (r > m) m = r;
  n->maxSize = m;
}

static unsigned nextPrio(CBS cbs)
{
  unsigned x = cbs->seed;
  x ^= x << 13; x ^= x >> 17; x ^= x << 5;
  cbs->seed = x;
  return x;
}

/* Nodes with base < key go to *l, the others to *r. */
static void split(CBSNode t, Addr key, CBSNode *l, CBSNode *r)
{
  if (t == NULL) { *l = *r = NULL; return; }
  if (t->base < key) {
    split(t->right, key, &t->right, r);
    *l = t;
  } else {
    split(t->left, key, l, &t->left);
    *r = t;
  }
  fixup(t);
}

static CBSNode merge(CBSNode l, CBSNode r)
{
  if (l == NULL) return r;
  if (r == NULL) return l;
  if (l->prio > r->prio) {
    l->right = merge(l->right, r);
    fixup(l);
    return l;
  }
  r->left = merge(l, r->left);
  fixup(r);
  return r;
}

static CBSNode leftmost(CBSNode t) { while (t != NULL && t->left != NULL) t = t->left; return t; }
static CBSNode rightmost(CBSNode t) { while (t != NULL && t->right != NULL) t = t->right; return t; }

static Res nodeNew(CBSNode *nReturn, CBS cbs, Addr base, Addr limit)
{
  void *p;
  CBSNode n;
  Res res = ControlAlloc(&p, cbs->arena, sizeof(struct CBSNodeStruct));
  if (res != RES_OK) return res;
  n = p;
  n->left = n->right = NULL;
  n->base = base;
  n->limit = limit;
  n->prio = nextPrio(cbs);
  fixup(n);
  *nReturn = n;
  return RES_OK;
}

static void nodeFree(CBS cbs, CBSNode n) { ControlFree(cbs->arena, n, sizeof *n); }

static void freeTree(CBS cbs, CBSNode t)
{
  if (t == NULL) return;
  freeTree(cbs, t->left);
  freeTree(cbs, t->right);
  nodeFree(cbs, t);
}

INTERN void CBSInit(CBS cbs, Arena arena)
{
  cbs->arena = arena;
  cbs->root = NULL;
  cbs->count = 0;
  cbs->size = 0;
  cbs->seed = 0x9E3779B9u ^ (unsigned)(Word)cbs;
  if (cbs->seed == 0) cbs->seed = 1;
  cbs->sig = CBSSig;
}

INTERN void CBSFinish(CBS cbs)
{
  freeTree(cbs, cbs->root);
  cbs->root = NULL;
  cbs->sig = SigInvalid;
}

INTERN Res CBSInsert(Range coalescedReturn, CBS cbs, Addr base, Addr limit)
{
  CBSNode l, r, pred, succ, n = NULL, lRest = NULL, rRest = NULL, spare = NULL;
  Res res;

  AVER(base < limit);
  split(cbs->root, base, &l, &r);
  pred = rightmost(l);
  succ = leftmost(r);
  if ((pred != NULL && pred->limit > base) || (succ != NULL && succ->base < limit)) {
    cbs->root = merge(l, r);
    return RES_FAIL;
  }
  if (pred == NULL || pred->limit != base) {
    if (succ == NULL || succ->base != limit) {
      res = nodeNew(&n, cbs, base, limit);
      if (res != RES_OK) { cbs->root = merge(l, r); return res; }
      ++cbs->count;
    }
    lRest = l;
  } else {
    split(l, pred->base, &lRest, &n);   /* n is pred, alone */
    n->limit = limit;
  }
  if (succ != NULL && succ->base == limit) {
    CBSNode s;
    split(r, AddrAdd(succ->base, 1), &s, &rRest);  /* s is succ, alone */
    if (n == NULL) {
      n = s;
      n->base = base;
    } else {
      n->limit = s->limit;
      spare = s;
      --cbs->count;
    }
  } else {
    rRest = r;
  }
  n->left = n->right = NULL;
  fixup(n);
  cbs->root = merge(merge(lRest, n), rRest);
  if (spare != NULL) nodeFree(cbs, spare);
  cbs->size += AddrOffset(base, limit);
  coalescedReturn->base = n->base;
  coalescedReturn->limit = n->limit;
  return RES_OK;
}

INTERN Res CBSDelete(CBS cbs, Addr base, Addr limit)
{
  CBSNode l, r, x, lRest, extra = NULL;
  Res res;

  AVER(base < limit);
  split(cbs->root, AddrAdd(base, 1), &l, &r);
  x = rightmost(l);
  if (x == NULL || x->base > base || x->limit < limit) {
    cbs->root = merge(l, r);
    return RES_FAIL;
  }
  if (x->base < base && x->limit > limit) {
    res = nodeNew(&extra, cbs, limit, x->limit);
    if (res != RES_OK) { cbs->root = merge(l, r); return res; }
    ++cbs->count;
  }
  split(l, x->base, &lRest, &x);
  if (extra != NULL) {
    x->limit = base;
    fixup(x);
    cbs->root = merge(merge(merge(lRest, x), extra), r);
  } else if (x->base < base) {
    x->limit = base;
    fixup(x);
    cbs->root = merge(merge(lRest, x), r);
  } else if (x->limit > limit) {
    x->base = limit;
    fixup(x);
    cbs->root = merge(merge(lRest, x), r);
  } else {
    nodeFree(cbs, x);
    --cbs->count;
    cbs->root = merge(lRest, r);
  }
  cbs->size -= AddrOffset(base, limit);
  return RES_OK;
}

static void rangeOf(Range r, CBSNode n) { r->base = n->base; r->limit = n->limit; }

INTERN Bool CBSFindFirst(Range rangeReturn, CBS cbs, Size size)
{
  CBSNode t = cbs->root;
  if (maxOf(t) < size) return FALSE;
  for (;;) {
    if (maxOf(t->left) >= size) t = t->left;
    else if (nodeSize(t) >= size) { rangeOf(rangeReturn, t); return TRUE; }
    else t = t->right;
  }
}

INTERN Bool CBSFindLast(Range rangeReturn, CBS cbs, Size size)
{
  CBSNode t = cbs->root;
  if (maxOf(t) < size) return FALSE;
  for (;;) {
    if (maxOf(t->right) >= size) t = t->right;
    else if (nodeSize(t) >= size) { rangeOf(rangeReturn, t); return TRUE; }
    else t = t->left;
  }
}

INTERN Bool CBSFindLargest(Range rangeReturn, CBS cbs)
{
  CBSNode t = cbs->root;
  if (t == NULL) return FALSE;
  for (;;) {
    if (nodeSize(t) == t->maxSize) { rangeOf(rangeReturn, t); return TRUE; }
    t = maxOf(t->left) == t->maxSize ? t->left : t->right;
  }
}

INTERN Bool CBSFindContaining(Range rangeReturn, CBS cbs, Addr addr)
{
  CBSNode t = cbs->root, best = NULL;
  while (t != NULL) {       /* the last node with base <= addr */
    if (t->base <= addr) { best = t; t = t->right; }
    else t = t->left;
  }
  if (best == NULL || best->limit <= addr) return FALSE;
  rangeOf(rangeReturn, best);
  return TRUE;
}

INTERN Bool CBSOverlaps(CBS cbs, Addr base, Addr limit)
{
  CBSNode t = cbs->root, best = NULL;
  RangeStruct r;
  while (t != NULL) {       /* the last node with base < limit */
    if (t->base < limit) { best = t; t = t->right; }
    else t = t->left;
  }
  if (best == NULL) return FALSE;
  rangeOf(&r, best);
  return r.limit > base;
}

static Bool iterate(CBSNode t, CBSVisitor visit, void *closure)
{
  if (t == NULL) return TRUE;
  return iterate(t->left, visit, closure) && visit(t->base, t->limit, closure)
      && iterate(t->right, visit, closure);
}

INTERN Bool CBSIterate(CBS cbs, CBSVisitor visit, void *closure)
{
  return iterate(cbs->root, visit, closure);
}

/* Order, disjointness with gaps (coalesced), heap order of priorities,
 * and the augmentation, checked over the whole tree. */
static Bool consistent(CBSNode t, Addr lo, Addr hi, Count *count, Size *size)
{
  Size m;
  if (t == NULL) return TRUE;
  if (t->base >= t->limit || t->base <= lo || t->limit >= hi) return FALSE;
  if (t->left != NULL && t->left->prio > t->prio) return FALSE;
  if (t->right != NULL && t->right->prio > t->prio) return FALSE;
  m = nodeSize(t);
  if (maxOf(t->left) > m) m = maxOf(t->left);
  if (maxOf(t->right) > m) m = maxOf(t->right);
  if (m != t->maxSize) return FALSE;
  ++*count;
  *size += nodeSize(t);
  return consistent(t->left, lo, t->base, count, size)
      && consistent(t->right, t->limit, hi, count, size);
}

INTERN Bool CBSConsistent(CBS cbs)
{
  Count count = 0;
  Size size = 0;
  if (!CHECKS(CBS, cbs)) return FALSE;
  /* strict bounds (lo, hi) make touching ranges, which should have
   * coalesced, fail the check */
  if (!consistent(cbs->root, (Addr)0, (Addr)~(Word)0, &count, &size)) return FALSE;
  return count == cbs->count && size == cbs->size;
}
