/* poolams.c -- AMS, Automatic Mark & Sweep (docs/design/ms.md), and its
 * debug class: the non-moving mark-sweep engine (poolms.c) with
 * scanning on and allocation points of exact or ambiguous rank.  Objects
 * of ambiguous rank are scanned as ambiguous: what they point at is kept
 * and, in moving pools, pinned (the trace nails for them before anything
 * moves).  Only base (client) pointers keep AMS objects alive, ambiguous
 * or not.  MPS_KEY_AMS_SUPPORT_AMBIGUOUS is accepted; ambiguous references
 * are honoured either way (it only promised the reference a cheaper
 * table).
 *
 * The debug class gives every object its own buffer between two fences
 * (poolms.c) and splats free space; fences are checked when their object
 * dies, by mps_pool_check_fenceposts and at mps_pool_destroy, free space
 * before it is reused, by mps_pool_check_free_space and when its segment
 * goes back to the arena.  Damage is reported as misuse.
 * Design: docs/design/ms.md.
 */
#include "poolms.h"
#include "debugpat.h"
#include "mpscams.h"

static void amsVarargs(ArgStruct *args, va_list varargs)
{
  args[0].key = MPS_KEY_FORMAT;
  args[0].val.format = va_arg(varargs, mps_fmt_t);
  args[1].key = MPS_KEY_CHAIN;
  args[1].val.chain = va_arg(varargs, mps_chain_t);
  args[2].key = MPS_KEY_AMS_SUPPORT_AMBIGUOUS;
  args[2].val.b = va_arg(varargs, mps_bool_t);
  args[3].key = MPS_KEY_ARGS_END;
}

static Res amsInit(Pool pool, ArgList args)
{
  ArgStruct arg;
  (void)ArgPick(&arg, args, MPS_KEY_AMS_SUPPORT_AMBIGUOUS);
  return MSInit(MSOf(pool), args, "AMS", TRUE);
}


#define AMS_ATTR (POOL_ATTR_AP | POOL_ATTR_GC | POOL_ATTR_SCAN | POOL_ATTR_RANKED_APS)

static PoolClassStruct poolClassAMS = {
  .sig = PoolClassSig,
  .name = "AMS",
  .size = sizeof(MSStruct),
  .attr = AMS_ATTR,
  .varargs = amsVarargs,
  .init = amsInit,
  .finish = MSFinish,
  MS_CLASS_METHODS,
  .apRanks = RANK_SET(RANK_EXACT) | RANK_SET(RANK_AMBIG),
};

mps_pool_class_t mps_class_ams(void) { return &poolClassAMS; }

/* ---- the debug class --------------------------------------------------------- */

typedef struct AMSDebugStruct {
  MSStruct msStruct;
  DebugPatternsStruct pat;
  MSDebugHooks hooks;
} AMSDebugStruct, *AMSDebug;

#define AMSDebugOf(ms) PARENT(AMSDebugStruct, msStruct, ms)

static void amsdFenceWrite(MS ms, Addr base)
{
  AMSDebug d = AMSDebugOf(ms);
  DebugPatternWrite(d->pat.fence, d->pat.fenceLength, base, AddrAdd(base, d->hooks.fenceSize));
}

static Bool amsdFenceIntact(MS ms, Addr fence, Addr object, const char *when)
{
  AMSDebug d = AMSDebugOf(ms);
  Addr end = AddrAdd(fence, d->hooks.fenceSize);
  if (DebugPatternCheck(d->pat.fence, d->pat.fenceLength, fence, end) == end) return TRUE;
  if (object == NULL)
    (void)MISUSE("%s: the fencepost at %p in AMS debug pool %p is damaged: something wrote "
                 "past the end of the object below it or before the start of the object "
                 "above it",
                 when, (void *)fence, (void *)&ms->poolStruct);
  else if (fence < object)
    (void)MISUSE("%s: the fencepost before object %p in AMS debug pool %p is damaged: "
                 "something wrote below the start of the object",
                 when, (void *)object, (void *)&ms->poolStruct);
  else
    (void)MISUSE("%s: the fencepost after object %p in AMS debug pool %p is damaged: "
                 "something wrote past the end of the object",
                 when, (void *)object, (void *)&ms->poolStruct);
  return FALSE;
}

static void amsdSplat(MS ms, Addr base, Addr limit)
{
  AMSDebug d = AMSDebugOf(ms);
  if (d->pat.freeLength > 0) DebugPatternWrite(d->pat.free, d->pat.freeLength, base, limit);
}

static Bool amsdFreeIntact(MS ms, Addr base, Addr limit, const char *when)
{
  AMSDebug d = AMSDebugOf(ms);
  Addr bad;
  if (d->pat.freeLength == 0) return TRUE;
  bad = DebugPatternCheck(d->pat.free, d->pat.freeLength, base, limit);
  if (bad == limit) return TRUE;
  (void)MISUSE("%s: free space at %p (in free range %p..%p) of AMS debug pool %p was "
               "written while free",
               when, (void *)bad, (void *)base, (void *)limit, (void *)&ms->poolStruct);
  return FALSE;
}

static void amsdVarargs(ArgStruct *args, va_list varargs)
{
  args[0].key = MPS_KEY_POOL_DEBUG_OPTIONS;
  args[0].val.pool_debug_options = va_arg(varargs, mps_pool_debug_option_s *);
  amsVarargs(args + 1, varargs);
}

static Res amsdInit(Pool pool, ArgList args)
{
  AMSDebug d = AMSDebugOf(MSOf(pool));
  const mps_pool_debug_option_s *opt;
  Res res = DebugOptionsCheck(&opt, args);
  if (res != RES_OK) return res;
  res = amsInit(pool, args);
  if (res != RES_OK) return res;
  DebugPatternsInit(&d->pat, opt);
  d->hooks.fenceSize = SizeAlignUp(d->pat.fenceLength, pool->alignment);
  d->hooks.fenceWrite = amsdFenceWrite;
  d->hooks.fenceIntact = amsdFenceIntact;
  d->hooks.splat = amsdSplat;
  d->hooks.freeIntact = amsdFreeIntact;
  d->msStruct.debug = &d->hooks;
  return RES_OK;
}

static Bool amsdVisitFence(MS ms, Addr fence, void *closure)
{
  (void)amsdFenceIntact(ms, fence, NULL, closure);
  return TRUE; /* report every damaged fence */
}

static void amsdCheckFenceposts(Pool pool)
{
  (void)MSFencesWalk(MSOf(pool), amsdVisitFence, (void *)"mps_pool_check_fenceposts");
}

static Bool amsdVisitFree(MS ms, Addr base, Addr limit, void *closure)
{
  (void)amsdFreeIntact(ms, base, limit, closure);
  return TRUE;
}

static void amsdCheckFreeSpace(Pool pool)
{
  (void)MSFreeWalk(MSOf(pool), amsdVisitFree, (void *)"mps_pool_check_free_space");
}

static void amsdFinish(Pool pool)
{
  (void)MSFencesWalk(MSOf(pool), amsdVisitFence, (void *)"mps_pool_destroy");
  (void)MSFreeWalk(MSOf(pool), amsdVisitFree, (void *)"mps_pool_destroy");
  MSFinish(pool);
}

static PoolClassStruct poolClassAMSDebug = {
  .sig = PoolClassSig,
  .name = "AMS debug",
  .size = sizeof(AMSDebugStruct),
  .attr = AMS_ATTR | POOL_ATTR_EXACT_BUFFERS,
  .varargs = amsdVarargs,
  .init = amsdInit,
  .finish = amsdFinish,
  MS_CLASS_METHODS,
  .checkFenceposts = amsdCheckFenceposts,
  .checkFreeSpace = amsdCheckFreeSpace,
  .apRanks = RANK_SET(RANK_EXACT) | RANK_SET(RANK_AMBIG),
};

mps_pool_class_t mps_class_ams_debug(void) { return &poolClassAMSDebug; }
