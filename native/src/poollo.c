/* poollo.c -- LO, Leaf Only (spec §3.7): a collected pool of objects
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
  PoolClassSig, "LO", sizeof(MSStruct), POOL_ATTR_AP | POOL_ATTR_GC,
  MSVarargs, loInit, MSFinish, NULL, NULL, MSBufferFill, MSBufferEmpty,
  MSTotalSize, MSFreeSize, MSConsistent, NULL, NULL,
  MSWhiten, MSFix, MSScanSeg, MSGrey, MSReclaim, MSPreserved, MSWalk, MSAddrObject,
  RANK_SET(RANK_EXACT), NULL, NULL, NULL
};

mps_pool_class_t mps_class_lo(void) { return &poolClassLO; }
