/* poolms.h -- the non-moving mark-sweep engine shared by the collected
 * classes that never move objects: LO (never scanned), AMS (exact or
 * ambiguous references, docs/design/ms.md) and AWL (exact or weak references with
 * dependent objects, docs/design/ms.md).  A class is this engine plus its keys and
 * a few options in MSStruct; the AMS debug class adds fenceposts and
 * free-space splatting through the hooks below.
 *
 * Segments hold objects of one rank (that of the allocation point that
 * filled them: seg->rank).  Each has an in-use table (one bit per
 * alignment unit, set for every unit of an allocated object and of an
 * attached buffer); objects are found by walking (over free units, over a
 * buffer's unused part, else by the format's skip).  During a trace a
 * condemned segment is white with a mark table and, for scanning classes,
 * a grey table: marked = preserved, grey = marked and not yet scanned.
 * Design: docs/design/ms.md.
 */
#ifndef GCP_POOLMS_H
#define GCP_POOLMS_H

#include "fseg.h"

typedef struct MSSegStruct {
  FSegStruct fsegStruct;
  BT inUse;
  Count inUseCount; /* set bits of inUse */
  BT greyBits;      /* during a trace (scanning classes): marked, not yet scanned */
  BT fences;        /* debug class: the first unit of every fencepost, or NULL */
} MSSegStruct, *MSSeg;

typedef struct MSStruct *MS;

/* The debug class's view of the engine (poolams.c). */
typedef struct MSDebugHooks {
  Size fenceSize;                       /* bytes of each fence, aligned */
  void (*fenceWrite)(MS ms, Addr base); /* lay one fence at base */
  Bool (*fenceIntact)(MS ms, Addr fence, Addr object, const char *when); /* object: its
                                                    owner, or NULL if not known */
  void (*splat)(MS ms, Addr base, Addr limit);                           /* space became free */
  Bool (*freeIntact)(MS ms, Addr base, Addr limit, const char *when);
} MSDebugHooks;

typedef struct MSStruct {
  PoolStruct poolStruct;
  Index gen;                               /* generation of every segment (never promoted) */
  Size total, free;                        /* bytes of segments; of units not in use */
  Bool scans;                              /* objects hold references (AMS, AWL) */
  Bool interior;                           /* ambiguous interior pointers keep objects (LO) */
  mps_addr_t (*findDependent)(mps_addr_t); /* AWL, or NULL */
  const MSDebugHooks *debug;               /* AMS debug, or NULL */
  MSSeg fillHint;                          /* the segment the last fill used, or NULL */
} MSStruct;

#define MSOf(pool)      PARENT(MSStruct, poolStruct, pool)
#define MSSegOfSeg(seg) ((MSSeg)(void *)(seg))

/* Parse MPS_KEY_FORMAT, MPS_KEY_CHAIN and MPS_KEY_GEN (collector-interface.md §Chains: the
 * generation defaults to 0 with a client chain, 1 with the default one)
 * and set up the engine; `needScan` requires a scan method. */
INTERN Res MSInit(MS ms, ArgList args, const char *className, Bool needScan);
INTERN void MSVarargs(ArgStruct *args, va_list varargs);

/* The class methods. */
INTERN void MSFinish(Pool pool);
INTERN Res MSBufferFill(Addr *baseReturn, Addr *limitReturn, Pool pool, Buffer buf, Size size);
INTERN void MSBufferEmpty(Pool pool, Buffer buf, Addr init, Addr limit);
INTERN Size MSTotalSize(Pool pool);
INTERN Size MSFreeSize(Pool pool);
INTERN Bool MSConsistent(Pool pool);
INTERN void MSWhiten(Pool pool);
INTERN Res MSFix(Pool pool, ScanState ss, Seg seg, Addr *refIO);
INTERN Res MSScanSeg(Pool pool, ScanState ss, Seg seg);
INTERN Bool MSGrey(Res *resReturn, Pool pool, ScanState ss);
INTERN void MSReclaim(Pool pool);
INTERN Bool MSPreserved(Pool pool, Seg seg, Addr ref, Addr *newReturn);
INTERN Res MSWalk(Pool pool, PoolAreaVisitor visit, void *closure);
INTERN Res MSAddrObject(Addr *pReturn, Pool pool, Seg seg, Addr addr);

/* The engine's methods, as the classes built on it (AMS, AMS debug, AWL,
 * LO) name them in their tables; each adds its own init, finish,
 * attributes and allocation-point ranks. */
#define MS_CLASS_METHODS                                                                \
  .bufferFill = MSBufferFill, .bufferEmpty = MSBufferEmpty, .totalSize = MSTotalSize,   \
  .freeSize = MSFreeSize, .consistent = MSConsistent, .whiten = MSWhiten, .fix = MSFix, \
  .scanSeg = MSScanSeg, .grey = MSGrey, .reclaim = MSReclaim, .preserved = MSPreserved, \
  .walk = MSWalk, .addrObject = MSAddrObject

/* Visit every fence (debug class): FALSE stops. */
typedef Bool (*MSFenceVisitor)(MS ms, Addr fence, void *closure);
INTERN Bool MSFencesWalk(MS ms, MSFenceVisitor visit, void *closure);
/* Visit every free range [base, limit) not attached to a buffer. */
typedef Bool (*MSFreeVisitor)(MS ms, Addr base, Addr limit, void *closure);
INTERN Bool MSFreeWalk(MS ms, MSFreeVisitor visit, void *closure);

#endif /* GCP_POOLMS_H */
