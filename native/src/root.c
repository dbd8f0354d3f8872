/* root.c -- roots and the area scanners
 * (docs/design/collector-interface.md).
 *
 * A root is a descriptor in control memory naming what to scan and how:
 * a client function, an area with an area scanner, a block of formatted
 * objects, or a registered thread's stack and registers.  The trace scans
 * the roots of one rank at a time (ambiguous roots first, so that every
 * pin is known before anything moves).
 * Design: docs/design/trace.md (roots).
 */
#include "gc.h"

/* ---- area scanners -------------------------------------------------- */

/* Each scans the words of [base, limit); `mask` selects tag bits that are
 * cleared before fixing and restored after. */
#define AREA_SCAN_BODY(select)                                                   \
  mps_word_t mask = closure == NULL ? 0 : ((mps_scan_tag_t)closure)->mask;       \
  mps_word_t pattern = closure == NULL ? 0 : ((mps_scan_tag_t)closure)->pattern; \
  mps_word_t *p = base, *end = limit;                                            \
  UNUSED(pattern);                                                               \
  MPS_SCAN_BEGIN(ss)                                                             \
  {                                                                              \
    for (; p < end; ++p) {                                                       \
      mps_word_t w = *p, t = w & mask;                                           \
      mps_addr_t ref = (mps_addr_t)(w ^ t);                                      \
      if (!(select)) continue;                                                   \
      if (MPS_FIX1(ss, ref)) {                                                   \
        mps_res_t res = MPS_FIX2(ss, &ref);                                      \
        if (res != MPS_RES_OK) return res;                                       \
        *p = (mps_word_t)ref | t;                                                \
      }                                                                          \
    }                                                                            \
  }                                                                              \
  MPS_SCAN_END(ss);                                                              \
  return MPS_RES_OK;

CONSERVATIVE_READS
mps_res_t mps_scan_area(mps_ss_t ss, void *base, void *limit, void *closure)
{
  mps_word_t *p = base, *end = limit;
  UNUSED(closure);
  MPS_SCAN_BEGIN(ss)
  {
    for (; p < end; ++p) {
      mps_addr_t ref = (mps_addr_t)*p;
      if (MPS_FIX1(ss, ref)) {
        mps_res_t res = MPS_FIX2(ss, &ref);
        if (res != MPS_RES_OK) return res;
        *p = (mps_word_t)ref;
      }
    }
  }
  MPS_SCAN_END(ss);
  return MPS_RES_OK;
}

CONSERVATIVE_READS
mps_res_t mps_scan_area_masked(mps_ss_t ss, void *base, void *limit,
                               void *closure){ AREA_SCAN_BODY(1) }

CONSERVATIVE_READS mps_res_t mps_scan_area_tagged(mps_ss_t ss, void *base, void *limit,
                                                  void *closure){ AREA_SCAN_BODY(t == pattern) }

CONSERVATIVE_READS mps_res_t
    mps_scan_area_tagged_or_zero(mps_ss_t ss, void *base, void *limit,
                                 void *closure){ AREA_SCAN_BODY(t == pattern || t == 0) }

mps_res_t mps_stack_scan_ambig(mps_ss_t ss, mps_thr_t thr, void *p, size_t s)
{
  UNUSED(ss);
  UNUSED(thr);
  UNUSED(p);
  UNUSED(s);
  (void)MISUSE("mps_stack_scan_ambig is a token for mps_root_create_reg and is never called");
  return MPS_RES_UNIMPL;
}

/* ---- creation ------------------------------------------------------- */

INTERN Res RootCreate(Root *rootReturn, Arena arena, const RootStruct *model)
{
  void *p;
  Root root;
  Res res = ControlAlloc(&p, arena, sizeof(RootStruct));
  if (res != RES_OK) return res;
  root = p;
  *root = *model;
  root->arena = arena;
  if (root->kind == ROOT_AREA || root->kind == ROOT_THREAD) {
    if (root->closure == &model->tag) root->closure = &root->tag;
  }
  RingInit(&root->arenaRing);
  RingAppend(&arena->gc->rootRing, &root->arenaRing);
  root->sig = RootSig;
  *rootReturn = root;
  return RES_OK;
}

INTERN void RootDestroy(Root root)
{
  Arena arena = root->arena;
  RingRemove(&root->arenaRing);
  root->sig = SigInvalid;
  ControlFree(arena, root, sizeof(RootStruct));
}

/* ---- scanning ------------------------------------------------------- */

INTERN Res RootScanOne(ScanState ss, Root root)
{
  mps_ss_t mss = &ss->ss;
  mss->_ufs = 0;
  switch (root->kind) {
  case ROOT_FUN: return root->funScan(mss, root->p, root->s);
  case ROOT_AREA: return root->areaScan(mss, root->base, root->limit, root->closure);
  case ROOT_FMT: return root->fmtScan(mss, root->base, root->limit);
  case ROOT_THREAD: return ThreadScan(ss, root->thread, root->limit, root->areaScan, root->closure);
  default: NOTREACHED; return RES_FAIL;
  }
}

INTERN Res RootsScan(Arena arena, ScanState ss, mps_rank_t rank)
{
  Ring node, next;
  RING_FOR(node, &arena->gc->rootRing, next) {
    Root root = RING_ELT(RootStruct, arenaRing, node);
    if (root->rank == rank) {
      Res res;
      ss->rank = rank;
      res = RootScanOne(ss, root);
      if (res != RES_OK) return res;
    }
  }
  return RES_OK;
}
