/* poollo.c -- LO, Leaf Only (docs/design/lo.md): a collected pool of objects
 * without references, never moved, never scanned, never protected.  The
 * non-moving mark-sweep engine (poolms.c) with scanning off; ambiguous
 * references into the middle of an object keep it (as they always have
 * here: conservative for the leaf buffers of extensions).
 * Design: docs/design/lo.md, docs/design/ms.md.
 */
#include "poolms.h"
#include "mpsclo.h"

static Res loInit(Pool pool, ArgList args)
{
  MS ms = MSOf(pool);
  Res res = MSInit(ms, args, "LO", FALSE);
  if (res != RES_OK) return res;
  ms->interior = TRUE;
  return RES_OK;
}

static PoolClassStruct poolClassLO = {
  .sig = PoolClassSig,
  .name = "LO",
  .size = sizeof(MSStruct),
  .attr = POOL_ATTR_AP | POOL_ATTR_GC,
  .varargs = MSVarargs,
  .init = loInit,
  .finish = MSFinish,
  MS_CLASS_METHODS,
  .apRanks = RANK_SET(RANK_EXACT),
};

mps_pool_class_t mps_class_lo(void) { return &poolClassLO; }
