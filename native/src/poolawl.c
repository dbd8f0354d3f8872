/* poolawl.c -- AWL, Automatic Weak Linked (docs/design/ms.md): the non-moving
 * mark-sweep engine (poolms.c) with scanning on and allocation points of
 * exact or weak rank.  Weak-rank objects are scanned only in the trace's
 * weak phase, after everything that survives has been preserved: a weak
 * reference to an object nothing else keeps (finalization registrations
 * included) becomes NULL in MPS_FIX2.  Before an object is scanned, its
 * dependent object (MPS_KEY_AWL_FIND_DEPENDENT) is made writable, so the
 * scan method may clear the matching value there.  Only base (client)
 * pointers keep AWL objects alive.
 * Design: docs/design/ms.md.
 */
#include "poolms.h"
#include "arg.h"
#include "mpscawl.h"

static void awlVarargs(ArgStruct *args, va_list varargs)
{
  args[0].key = MPS_KEY_FORMAT;
  args[0].val.format = va_arg(varargs, mps_fmt_t);
  args[1].key = MPS_KEY_AWL_FIND_DEPENDENT;
  args[1].val.addr_method = va_arg(varargs, mps_awl_find_dependent_t);
  args[2].key = MPS_KEY_ARGS_END;
}

static Res awlInit(Pool pool, ArgList args)
{
  MS ms = MSOf(pool);
  ArgStruct arg;
  mps_awl_find_dependent_t find = NULL;
  Res res;
  if (ArgPick(&arg, args, MPS_KEY_AWL_FIND_DEPENDENT)) find = arg.val.addr_method;
  res = MSInit(ms, args, "AWL", TRUE);
  if (res != RES_OK) return res;
  ms->findDependent = find;
  return RES_OK;
}

static PoolClassStruct poolClassAWL = {
  .sig = PoolClassSig,
  .name = "AWL",
  .size = sizeof(MSStruct),
  .attr = POOL_ATTR_AP | POOL_ATTR_GC | POOL_ATTR_SCAN | POOL_ATTR_RANKED_APS,
  .varargs = awlVarargs,
  .init = awlInit,
  .finish = MSFinish,
  MS_CLASS_METHODS,
  .apRanks = RANK_SET(RANK_EXACT) | RANK_SET(RANK_WEAK),
};

mps_pool_class_t mps_class_awl(void) { return &poolClassAWL; }
