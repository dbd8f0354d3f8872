/* cbs.c -- the coalescing block structure as a treap with parent links.
 * Growing, shrinking or coalescing a range edits its node in place (order
 * cannot change: ranges are disjoint) and repairs the size augmentation
 * towards the root until it stops changing.  Only adding or removing a
 * node rotates.  Design: docs/design/cbs.md.
 */
#include "cbs.h"

struct CBSNodeStruct {
  CBSNode left, right, parent;
  Addr base, limit;
  Size maxSize;  /* largest range in this subtree */
  unsigned prio; /* max-heap order */
};

static Size cbsNodeSize(CBSNode n) { return AddrOffset(n->base, n->limit); }
static Size cbsMaxOf(CBSNode n) { return n == NULL ? 0 : n->maxSize; }

/* Recompute n's augmentation; TRUE if it changed. */
static Bool cbsFixup(CBSNode n)
{
  Size m = cbsNodeSize(n), l = cbsMaxOf(n->left), r = cbsMaxOf(n->right);
  Size old = n->maxSize;
  if (l > m) m = l;
  if (r > m) m = r;
  n->maxSize = m;
  return m != old;
}

/* After n's range changed, repair augmentations towards the root, stopping
 * where nothing changes any more. */
static void cbsUpdateUp(CBSNode n)
{
  Bool first = TRUE;
  while (n != NULL) {
    if (!cbsFixup(n) && !first) return;
    first = FALSE;
    n = n->parent;
  }
}

static unsigned cbsNextPrio(CBS cbs)
{
  unsigned x = cbs->seed;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  cbs->seed = x;
  return x;
}

static void cbsReplaceChild(CBS cbs, CBSNode parent, CBSNode old, CBSNode new)
{
  if (parent == NULL)
    cbs->root = new;
  else if (parent->left == old)
    parent->left = new;
  else
    parent->right = new;
  if (new != NULL) new->parent = parent;
}

/* Rotate n above its parent, keeping order and augmentations. */
static void cbsRotateUp(CBS cbs, CBSNode n)
{
  CBSNode p = n->parent, g = p->parent;
  if (p->left == n) {
    p->left = n->right;
    if (n->right != NULL) n->right->parent = p;
    n->right = p;
  } else {
    p->right = n->left;
    if (n->left != NULL) n->left->parent = p;
    n->left = p;
  }
  p->parent = n;
  cbsReplaceChild(cbs, g, p, n);
  (void)cbsFixup(p);
  (void)cbsFixup(n);
}

static CBSNode cbsLeftmost(CBSNode t)
{
  while (t != NULL && t->left != NULL) t = t->left;
  return t;
}

static Res cbsNodeNew(CBSNode *nReturn, CBS cbs, Addr base, Addr limit)
{
  void *p;
  CBSNode n;
  Res res = ControlAlloc(&p, cbs->arena, sizeof(struct CBSNodeStruct));
  if (res != RES_OK) return res;
  n = p;
  n->left = n->right = n->parent = NULL;
  n->base = base;
  n->limit = limit;
  n->maxSize = cbsNodeSize(n);
  n->prio = cbsNextPrio(cbs);
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

/* Link a new node in as a leaf in key order, then restore heap order. */
static void cbsLink(CBS cbs, CBSNode n)
{
  CBSNode t = cbs->root, parent = NULL;
  Bool left = FALSE;
  while (t != NULL) {
    parent = t;
    left = n->base < t->base;
    t = left ? t->left : t->right;
  }
  n->parent = parent;
  if (parent == NULL)
    cbs->root = n;
  else if (left)
    parent->left = n;
  else
    parent->right = n;
  cbsUpdateUp(parent);
  while (n->parent != NULL && n->parent->prio < n->prio) cbsRotateUp(cbs, n);
  ++cbs->count;
}

/* Take n out of the tree: rotate it down to a leaf, detach it. */
static void cbsUnlink(CBS cbs, CBSNode n)
{
  CBSNode parent;
  while (n->left != NULL || n->right != NULL) {
    CBSNode c;
    if (n->left == NULL)
      c = n->right;
    else if (n->right == NULL)
      c = n->left;
    else
      c = n->left->prio > n->right->prio ? n->left : n->right;
    cbsRotateUp(cbs, c);
  }
  parent = n->parent;
  cbsReplaceChild(cbs, parent, n, NULL);
  if (parent != NULL) {
    /* n's range may have been the subtree maximum on the whole path */
    CBSNode a;
    for (a = parent; a != NULL; a = a->parent) (void)cbsFixup(a);
  }
  --cbs->count;
}

/* pred: the node with the greatest base < addr; succ: least base >= addr. */
static void cbsNeighbours(CBS cbs, Addr addr, CBSNode *pred, CBSNode *succ)
{
  CBSNode t = cbs->root;
  *pred = *succ = NULL;
  while (t != NULL) {
    if (t->base < addr) {
      *pred = t;
      t = t->right;
    } else {
      *succ = t;
      t = t->left;
    }
  }
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
  CBSNode pred, succ, n;
  Bool joinPred, joinSucc;
  Res res;

  AVER(base < limit);
  cbsNeighbours(cbs, base, &pred, &succ);
  if ((pred != NULL && pred->limit > base) || (succ != NULL && succ->base < limit)) return RES_FAIL;
  joinPred = cbs->coalesce && pred != NULL && pred->limit == base;
  joinSucc = cbs->coalesce && succ != NULL && succ->base == limit;
  if (joinPred && joinSucc) {
    pred->limit = succ->limit;
    cbsUnlink(cbs, succ);
    cbsNodeFree(cbs, succ);
    cbsUpdateUp(pred);
    n = pred;
  } else if (joinPred) {
    pred->limit = limit;
    cbsUpdateUp(pred);
    n = pred;
  } else if (joinSucc) {
    succ->base = base;
    cbsUpdateUp(succ);
    n = succ;
  } else {
    res = cbsNodeNew(&n, cbs, base, limit);
    if (res != RES_OK) return res;
    cbsLink(cbs, n);
  }
  cbs->size += AddrOffset(base, limit);
  coalescedReturn->base = n->base;
  coalescedReturn->limit = n->limit;
  return RES_OK;
}

/* The node whose range contains addr, or NULL. */
static CBSNode cbsContaining(CBS cbs, Addr addr)
{
  CBSNode t = cbs->root, best = NULL;
  while (t != NULL) {
    if (t->base <= addr) {
      best = t;
      t = t->right;
    } else
      t = t->left;
  }
  return best != NULL && best->limit > addr ? best : NULL;
}

INTERN Res CBSDelete(CBS cbs, Addr base, Addr limit)
{
  CBSNode x = cbsContaining(cbs, base), extra;
  Res res;

  AVER(base < limit);
  if (x == NULL || x->limit < limit) return RES_FAIL;
  if (x->base == base && x->limit == limit) {
    cbsUnlink(cbs, x);
    cbsNodeFree(cbs, x);
  } else if (x->base == base) {
    x->base = limit;
    cbsUpdateUp(x);
  } else if (x->limit == limit) {
    x->limit = base;
    cbsUpdateUp(x);
  } else {
    res = cbsNodeNew(&extra, cbs, limit, x->limit);
    if (res != RES_OK) return res;
    x->limit = base;
    cbsUpdateUp(x);
    cbsLink(cbs, extra);
  }
  cbs->size -= AddrOffset(base, limit);
  return RES_OK;
}

static void cbsRangeOf(Range r, CBSNode n)
{
  r->base = n->base;
  r->limit = n->limit;
}

INTERN Bool CBSFindFirst(Range rangeReturn, CBS cbs, Size size)
{
  CBSNode t = cbs->root;
  if (cbsMaxOf(t) < size) return FALSE;
  for (;;) {
    if (cbsMaxOf(t->left) >= size)
      t = t->left;
    else if (cbsNodeSize(t) >= size) {
      cbsRangeOf(rangeReturn, t);
      return TRUE;
    } else
      t = t->right;
  }
}

INTERN Bool CBSFindLast(Range rangeReturn, CBS cbs, Size size)
{
  CBSNode t = cbs->root;
  if (cbsMaxOf(t) < size) return FALSE;
  for (;;) {
    if (cbsMaxOf(t->right) >= size)
      t = t->right;
    else if (cbsNodeSize(t) >= size) {
      cbsRangeOf(rangeReturn, t);
      return TRUE;
    } else
      t = t->left;
  }
}

INTERN Bool CBSFindLargest(Range rangeReturn, CBS cbs)
{
  CBSNode t = cbs->root;
  if (t == NULL) return FALSE;
  for (;;) {
    if (cbsNodeSize(t) == t->maxSize) {
      cbsRangeOf(rangeReturn, t);
      return TRUE;
    }
    t = cbsMaxOf(t->left) == t->maxSize ? t->left : t->right;
  }
}

INTERN Bool CBSFindContaining(Range rangeReturn, CBS cbs, Addr addr)
{
  CBSNode n = cbsContaining(cbs, addr);
  if (n == NULL) return FALSE;
  cbsRangeOf(rangeReturn, n);
  return TRUE;
}

INTERN Bool CBSFindBelow(Range rangeReturn, CBS cbs, Addr addr)
{
  CBSNode pred, succ;
  cbsNeighbours(cbs, addr, &pred, &succ);
  if (pred == NULL) return FALSE;
  cbsRangeOf(rangeReturn, pred);
  return TRUE;
}

INTERN Bool CBSOverlaps(CBS cbs, Addr base, Addr limit)
{
  CBSNode pred, succ;
  cbsNeighbours(cbs, limit, &pred, &succ); /* pred: last range starting below limit */
  return pred != NULL && pred->limit > base;
}

static Bool cbsIterate(CBSNode t, CBSVisitor visit, void *closure)
{
  if (t == NULL) return TRUE;
  return cbsIterate(t->left, visit, closure) && visit(t->base, t->limit, closure) &&
         cbsIterate(t->right, visit, closure);
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
  if (t->left != NULL && (t->left->prio > t->prio || t->left->parent != t)) return FALSE;
  if (t->right != NULL && (t->right->prio > t->prio || t->right->parent != t)) return FALSE;
  m = cbsNodeSize(t);
  if (cbsMaxOf(t->left) > m) m = cbsMaxOf(t->left);
  if (cbsMaxOf(t->right) > m) m = cbsMaxOf(t->right);
  if (m != t->maxSize) return FALSE;
  ++*count;
  *size += cbsNodeSize(t);
  return cbsConsistent(t->left, lo, t->base, strict, count, size) &&
         cbsConsistent(t->right, t->limit, hi, strict, count, size);
}

INTERN Bool CBSConsistent(CBS cbs)
{
  Count count = 0;
  Size size = 0;
  if (!CHECKS(CBS, cbs)) return FALSE;
  /* strict bounds (lo, hi) make touching ranges, which should have
   * coalesced, fail the check */
  if (cbs->root != NULL && cbs->root->parent != NULL) return FALSE;
  if (!cbsConsistent(cbs->root, (Addr)0, (Addr) ~(Word)0, cbs->coalesce, &count, &size))
    return FALSE;
  return count == cbs->count && size == cbs->size;
}
