/* poolmvff.h -- MVFF internals shared with its debug subclass.
 * Design: docs/design/mvff.md.
 */
#ifndef GCP_POOLMVFF_H
#define GCP_POOLMVFF_H

#include "pool.h"
#include "cbs.h"
#include "pending.h"

typedef struct MVFFStruct *MVFF;
/* Called on a range that becomes pool memory (a new segment) and on one
 * about to go back to the arena (a whole free segment). */
typedef void (*MVFFRangeHook)(MVFF mvff, Addr base, Addr limit);

/* Quick lists: exact-size LIFO lists of freed small blocks in front of the
 * tree, for default placement only (see poolmvff.c). */
#define MVFF_QUICK_MAX   ((Size)512) /* largest block size kept on them */
#define MVFF_QUICK_SLOTS (512 / 8 + 1)
#define MVFF_QUICK_DEPTH 64 /* blocks per list before it is flushed */

typedef struct MVFFSegStruct {
  SegStruct segStruct;
  Count units;  /* alignment units in the segment */
  BT freeTable; /* one bit per unit: free (tree, quick or pending) */
} MVFFSegStruct, *MVFFSeg;

typedef struct MVFFStruct {
  PoolStruct poolStruct;
  Shift alignShift;
  CBSStruct freeCBS; /* the free ranges, coalesced */
  Size extendBy;
  double spare; /* free share of total kept before returning segments */
  Bool arenaHigh, slotHigh, firstFit;
  Size total;                        /* bytes of segments */
  PendingStruct pending;             /* freed blocks whose tree node could not be had */
  MVFFRangeHook fresh, returning;    /* debug hooks, or NULL */
  Bool quick;                        /* quick lists in use */
  void *quickList[MVFF_QUICK_SLOTS]; /* by size >> alignShift */
  Count quickCount[MVFF_QUICK_SLOTS];
  Size quickSize; /* bytes on quick lists */
} MVFFStruct;

#define MVFFOf(pool) PARENT(MVFFStruct, poolStruct, pool)

INTERN Res MVFFInit(Pool pool, ArgList args);
INTERN void MVFFFinish(Pool pool);
/* Take `size` bytes (aligned) from free space, extending the pool if
 * needed; placement follows the pool's first-fit and slot keys. */
INTERN Res MVFFAllocRange(Addr *baseReturn, MVFF mvff, Size size);
/* Return [base, limit), which must be allocated (callers check with
 * MVFFCheckFreeable or know it), to free space. */
INTERN void MVFFFreeRange(MVFF mvff, Addr base, Addr limit);
/* Check that [base, base+size) may be freed: aligned, inside the pool,
 * allocated (no unit of it free), not in an allocation point's unused
 * buffer.  Reports misuse by name (double free, wrong size, ...). */
INTERN Res MVFFCheckFreeable(MVFF mvff, Addr base, Size size);
INTERN Res MVFFBufferFill(Addr *baseReturn, Addr *limitReturn, Pool pool, Buffer buffer, Size size);
INTERN void MVFFBufferEmpty(Pool pool, Buffer buffer, Addr init, Addr limit);
INTERN Size MVFFTotalSize(Pool pool);
INTERN Size MVFFFreeSize(Pool pool);
INTERN Bool MVFFConsistent(Pool pool);
INTERN void MVFFVarargs(ArgStruct *args, va_list varargs);

#endif /* GCP_POOLMVFF_H */
