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

static Size cbsNodeSize(CBSNode n) { return AddrOffset(n->base, n->limit); }
static Size cbsMaxOf(CBSNode n) { return n == NULL ? 0 : n->maxSize; }

static void cbsFixup(CBSNode n)
{
  Size m = cbsNodeSize(n), l = cbsMaxOf(n->left), r = cbsMaxOf(n->right);
  if (l > m) m = l;
  if (r > m) m = r;
  n->maxSize = m;
}

static unsigned cbsNextPrio(CBS cbs)
{
  unsigned x = cbs->seed;
  x ^= x << 13; x ^= x >> 17; x ^= x << 5;
  cbs->seed = x;
  return x;
}

/* Nodes with base < key go to *l, the others to *r. */
static void cbsSplit(CBSNode t, Addr key, CBSNode *l, CBSNode *r)
{
  if (t == NULL) { *l = *r = NULL; return; }
  if (t->base < key) {
    cbsSplit(t->right, key, &t->right, r);
    *l = t;
  } else {
    cbsSplit(t->left, key, l, &t->left);
    *r = t;
  }
  cbsFixup(t);
}

static CBSNode cbsMerge(CBSNode l, CBSNode r)
{
  if (l == NULL) return r;
  if (r == NULL) return l;
  if (l->prio > r->prio) {
    l->right = cbsMerge(l->right, r);
    cbsFixup(l);
    return l;
  }
  r->left = cbsMerge(l, r->left);
  cbsFixup(r);
  return r;
}

static CBSNode cbsLeftmost(CBSNode t) { while (t != NULL && t->left != NULL) t = t->left; return t; }
static CBSNode cbsRightmost(CBSNode t) { while (t != NULL && t->right != NULL) t = t->right; return t; }

static Res cbsNodeNew(CBSNode *nReturn, CBS cbs, Addr base, Addr limit)
{
  void *p;
  CBSNode n;
  Res res = ControlAlloc(&p, cbs->arena, sizeof(struct CBSNodeStruct));
  if (res != RES_OK) return res;
  n = p;
  n->left = n->right = NULL;
  n->base = base;
  n->limit = limit;
  n->prio = cbsNextPrio(cbs);
  cbsFixup(n);
  *nReturn = n;
  return RES_OK;
}

static void cbsNodeFree(CBS cbs, CBSNode n) { ControlFree(cbs->arena, n, sizeof *n); }

static void cbsFreeTree(CBS cbs, CBSNode t)
{
  if (t == NULL) return;
  cbsFreeTree(cbs, t->left);
  cbsFreeTree(cbs, t->right);
  cbsNodeFree(cbs, t);
}

INTERN void CBSInit(CBS cbs, Arena arena, Bool coalesce)
{
  cbs->arena = arena;
  cbs->coalesce = coalesce;
  cbs->root = NULL;
  cbs->count = 0;
  cbs->size = 0;
  cbs->seed = 0x9E3779B9u ^ (unsigned)(Word)cbs;
  if (cbs->seed == 0) cbs->seed = 1;
  cbs->sig = CBSSig;
}

INTERN void CBSFinish(CBS cbs)
{
  cbsFreeTree(cbs, cbs->root);
  cbs->root = NULL;
  cbs->sig = SigInvalid;
}

INTERN Res CBSInsert(Range coalescedReturn, CBS cbs, Addr base, Addr limit)
{
  CBSNode l, r, pred, succ, n = NULL, lRest = NULL, rRest = NULL, spare = NULL;
  Res res;

  AVER(base < limit);
  cbsSplit(cbs->root, base, &l, &r);
  pred = cbsRightmost(l);
  succ = cbsLeftmost(r);
  if ((pred != NULL && pred->limit > base) || (succ != NULL && succ->base < limit)) {
    cbs->root = cbsMerge(l, r);
    return RES_FAIL;
  }
  if (pred == NULL || pred->limit != base || !cbs->coalesce) {
    if (succ == NULL || succ->base != limit || !cbs->coalesce) {
      res = cbsNodeNew(&n, cbs, base, limit);
      if (res != RES_OK) { cbs->root = cbsMerge(l, r); return res; }
      ++cbs->count;
    }
    lRest = l;
  } else {
    cbsSplit(l, pred->base, &lRest, &n);   /* n is pred, alone */
    n->limit = limit;
  }
  if (succ != NULL && succ->base == limit && cbs->coalesce) {
    CBSNode s;
    cbsSplit(r, AddrAdd(succ->base, 1), &s, &rRest);  /* s is succ, alone */
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
  cbsFixup(n);
  cbs->root = cbsMerge(cbsMerge(lRest, n), rRest);
  if (spare != NULL) cbsNodeFree(cbs, spare);
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
  cbsSplit(cbs->root, AddrAdd(base, 1), &l, &r);
  x = cbsRightmost(l);
  if (x == NULL || x->base > base || x->limit < limit) {
    cbs->root = cbsMerge(l, r);
    return RES_FAIL;
  }
  if (x->base < base && x->limit > limit) {
    res = cbsNodeNew(&extra, cbs, limit, x->limit);
    if (res != RES_OK) { cbs->root = cbsMerge(l, r); return res; }
    ++cbs->count;
  }
  cbsSplit(l, x->base, &lRest, &x);
  if (extra != NULL) {
    x->limit = base;
    cbsFixup(x);
    cbs->root = cbsMerge(cbsMerge(cbsMerge(lRest, x), extra), r);
  } else if (x->base < base) {
    x->limit = base;
    cbsFixup(x);
    cbs->root = cbsMerge(cbsMerge(lRest, x), r);
  } else if (x->limit > limit) {
    x->base = limit;
    cbsFixup(x);
    cbs->root = cbsMerge(cbsMerge(lRest, x), r);
  } else {
    cbsNodeFree(cbs, x);
    --cbs->count;
    cbs->root = cbsMerge(lRest, r);
  }
  cbs->size -= AddrOffset(base, limit);
  return RES_OK;
}

static void cbsRangeOf(Range r, CBSNode n) { r->base = n->base; r->limit = n->limit; }

INTERN Bool CBSFindFirst(Range rangeReturn, CBS cbs, Size size)
{
  CBSNode t = cbs->root;
  if (cbsMaxOf(t) < size) return FALSE;
  for (;;) {
    if (cbsMaxOf(t->left) >= size) t = t->left;
    else if (cbsNodeSize(t) >= size) { cbsRangeOf(rangeReturn, t); return TRUE; }
    else t = t->right;
  }
}

INTERN Bool CBSFindLast(Range rangeReturn, CBS cbs, Size size)
{
  CBSNode t = cbs->root;
  if (cbsMaxOf(t) < size) return FALSE;
  for (;;) {
    if (cbsMaxOf(t->right) >= size) t = t->right;
    else if (cbsNodeSize(t) >= size) { cbsRangeOf(rangeReturn, t); return TRUE; }
    else t = t->left;
  }
}

INTERN Bool CBSFindLargest(Range rangeReturn, CBS cbs)
{
  CBSNode t = cbs->root;
  if (t == NULL) return FALSE;
  for (;;) {
    if (cbsNodeSize(t) == t->maxSize) { cbsRangeOf(rangeReturn, t); return TRUE; }
    t = cbsMaxOf(t->left) == t->maxSize ? t->left : t->right;
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
  cbsRangeOf(rangeReturn, best);
  return TRUE;
}

INTERN Bool CBSOverlaps(CBS cbs, Addr base, Addr limit)
{
  CBSNode t = cbs->root, best = NULL;
  RangeStruct r = {NULL, NULL};
  while (t != NULL) {       /* the last node with base < limit */
    if (t->base < limit) { best = t; t = t->right; }
    else t = t->left;
  }
  if (best == NULL) return FALSE;
  cbsRangeOf(&r, best);
  return r.limit > base;
}

static Bool cbsIterate(CBSNode t, CBSVisitor visit, void *closure)
{
  if (t == NULL) return TRUE;
  return cbsIterate(t->left, visit, closure) && visit(t->base, t->limit, closure)
      && cbsIterate(t->right, visit, closure);
}

INTERN Bool CBSIterate(CBS cbs, CBSVisitor visit, void *closure)
{
  return cbsIterate(cbs->root, visit, closure);
}

/* Order, disjointness with gaps (coalesced), heap order of priorities,
 * and the augmentation, checked over the whole tree. */
static Bool cbsConsistent(CBSNode t, Addr lo, Addr hi, Bool strict, Count *count, Size *size)
{
  Size m;
  if (t == NULL) return TRUE;
  if (t->base >= t->limit) return FALSE;
  if (strict ? (t->base <= lo || t->limit >= hi) : (t->base < lo || t->limit > hi)) return FALSE;
  if (t->left != NULL && t->left->prio > t->prio) return FALSE;
  if (t->right != NULL && t->right->prio > t->prio) return FALSE;
  m = cbsNodeSize(t);
  if (cbsMaxOf(t->left) > m) m = cbsMaxOf(t->left);
  if (cbsMaxOf(t->right) > m) m = cbsMaxOf(t->right);
  if (m != t->maxSize) return FALSE;
  ++*count;
  *size += cbsNodeSize(t);
  return cbsConsistent(t->left, lo, t->base, strict, count, size)
      && cbsConsistent(t->right, t->limit, hi, strict, count, size);
}

INTERN Bool CBSConsistent(CBS cbs)
{
  Count count = 0;
  Size size = 0;
  if (!CHECKS(CBS, cbs)) return FALSE;
  /* strict bounds (lo, hi) make touching ranges, which should have
   * coalesced, fail the check */
  if (!cbsConsistent(cbs->root, (Addr)0, (Addr)~(Word)0, cbs->coalesce, &count, &size))
    return FALSE;
  return count == cbs->count && size == cbs->size;
}
