/* pool.h -- the pool class protocol.
 *
 * A pool class is a table of methods; a pool is an instance whose
 * descriptor embeds PoolStruct as its first member.  Every method runs
 * with the arena lock held.  Methods that detect client misuse report it
 * with MISUSE (which names the problem) and return its result without
 * changing anything, so a handler that returns leaves a working pool.
 * Design: docs/design/pool.md.
 */
#ifndef GCP_POOL_H
#define GCP_POOL_H

#include <stdarg.h>
#include "arena.h"

/* Class attributes: which generic operations the class supports. */
enum {
  POOL_ATTR_ALLOC = 1 << 0,        /* mps_alloc */
  POOL_ATTR_FREE = 1 << 1,         /* mps_free */
  POOL_ATTR_AP = 1 << 2,           /* allocation points */
  POOL_ATTR_SAC = 1 << 3,          /* segregated allocation caches */
  POOL_ATTR_GC = 1 << 4,           /* collected: the trace methods below */
  POOL_ATTR_SCAN = 1 << 5,         /* its objects hold references */
  POOL_ATTR_MOVES = 1 << 6,        /* collected and moving: ambiguous references must nail */
  POOL_ATTR_RANKED_APS = 1 << 7,   /* mps_ap_create_v reads a rank (interface.md) */
  POOL_ATTR_EXACT_BUFFERS = 1 << 8 /* a buffer holds the one object it was filled for
                                      (AMS debug: fences around each): never reused */
};

typedef struct ScanStateStruct *ScanState;
typedef struct mps_fmt_s *Format;
typedef struct mps_chain_s *Chain;

typedef Res (*PoolInitMethod)(Pool pool, ArgList args);
typedef void (*PoolFinishMethod)(Pool pool);
typedef Res (*PoolAllocMethod)(Addr *pReturn, Pool pool, Size size);
/* seg is the pool's segment containing old (PoolFree found it). */
typedef Res (*PoolFreeMethod)(Pool pool, Seg seg, Addr old, Size size);
typedef Res (*PoolBufferFillMethod)(Addr *baseReturn, Addr *limitReturn, Pool pool, Buffer buffer,
                                    Size size);
typedef void (*PoolBufferEmptyMethod)(Pool pool, Buffer buffer, Addr init, Addr limit);
typedef Size (*PoolSizeMethod)(Pool pool);
typedef Bool (*PoolConsistentMethod)(Pool pool);
typedef void (*PoolDebugCheckMethod)(Pool pool);
/* The trace methods of collected classes (gc.h, docs/design/trace.md).
 * whiten: make the segments of condemned generations white, adding their
 *   sizes to the trace; the others of a scanning class are scanned whole.
 * fix: a reference that hit a white segment of the pool (MPS_FIX2).
 * scanSeg: scan a segment that is not white (it may refer to white ones).
 * grey: scan some of what the trace made grey in this pool; TRUE if any.
 * reclaim: free or sweep what stayed white; clear the trace's marks.
 * preserved: is the object at ref in a white segment preserved so far
 *   (and where is it now)?
 * walk: visit areas [base, limit) of formatted objects (base pointers:
 *   with in-band headers, client pointers are base + header size).
 * addrObject: the object containing addr, for mps_addr_object. */
typedef void (*PoolWhitenMethod)(Pool pool);
typedef Res (*PoolFixMethod)(Pool pool, ScanState ss, Seg seg, Addr *refIO);
typedef Res (*PoolScanSegMethod)(Pool pool, ScanState ss, Seg seg);
typedef Bool (*PoolGreyMethod)(Res *resReturn, Pool pool, ScanState ss);
typedef void (*PoolReclaimMethod)(Pool pool);
typedef Bool (*PoolPreservedMethod)(Pool pool, Seg seg, Addr ref, Addr *newReturn);
typedef Res (*PoolAreaVisitor)(Pool pool, Addr base, Addr limit, void *closure);
typedef Res (*PoolWalkMethod)(Pool pool, PoolAreaVisitor visit, void *closure);
typedef Res (*PoolAddrObjectMethod)(Addr *baseReturn, Pool pool, Seg seg, Addr addr);
/* Allocation frames (interface.md §Allocation frames), for the classes that give them meaning
 * (SNC); elsewhere a push returns the AP's init and a pop is ignored.
 * Called with no object reserved on the buffer. */
typedef Res (*PoolFramePushMethod)(mps_frame_t *frameReturn, Pool pool, Buffer buf);
typedef Res (*PoolFramePopMethod)(Pool pool, Buffer buf, mps_frame_t frame);
/* The allocation point buf is being destroyed; it is already detached. */
typedef void (*PoolBufferFinishMethod)(Pool pool, Buffer buf);

/* Convert the legacy variadic arguments of mps_pool_create_v into keys;
 * args has room for MPS_ARGS_MAX entries. */
typedef void (*PoolVarargsMethod)(ArgStruct *args, va_list varargs);

/* A class is a static table written with designated initializers (the
 * MPS names its methods the same way): a method left out is NULL. */
struct mps_pool_class_s {
  Sig sig;
  const char *name;
  Size size; /* bytes of the pool descriptor */
  unsigned attr;
  PoolVarargsMethod varargs;
  PoolInitMethod init;     /* after PoolInit has filled the generic part */
  PoolFinishMethod finish; /* before the generic part is finished */
  PoolAllocMethod alloc;
  PoolFreeMethod free;
  PoolBufferFillMethod bufferFill;
  PoolBufferEmptyMethod bufferEmpty;
  PoolSizeMethod totalSize, freeSize;
  PoolConsistentMethod consistent; /* the expensive structural check */
  PoolDebugCheckMethod checkFenceposts, checkFreeSpace;
  PoolWhitenMethod whiten; /* the rest: collected classes only */
  PoolFixMethod fix;
  PoolScanSegMethod scanSeg;
  PoolGreyMethod grey;
  PoolReclaimMethod reclaim;
  PoolPreservedMethod preserved;
  PoolWalkMethod walk;
  PoolAddrObjectMethod addrObject;
  unsigned apRanks;              /* RANK_SET of the ranks its allocation points accept */
  PoolFramePushMethod framePush; /* NULL: frames are only hints */
  PoolFramePopMethod framePop;
  PoolBufferFinishMethod bufferFinish; /* an AP is being destroyed (detached), or NULL */
};

/* Ranks (interface.md §Ranks; the values of the mps_rank_* functions) and sets of
 * them, one bit each.  The trace handles them in this order. */
#define RANK_AMBIG     0
#define RANK_EXACT     1
#define RANK_FINAL     2
#define RANK_WEAK      3
#define RANK_SET(rank) (1u << (rank))


struct mps_pool_s {
  Sig sig;
  Arena arena;
  PoolClass klass;
  RingStruct arenaRing;  /* in the arena's pool ring */
  RingStruct segRing;    /* this pool's segments */
  RingStruct bufferRing; /* this pool's allocation points */
  Count sacCount;        /* live segregated allocation caches */
  Count ramps;           /* allocation points with an active ramp pattern */
  Size alignment;        /* of every block handed out */
  Format format;         /* formatted (collected) classes */
  Chain chain;           /* collected classes */
};

INTERN Res PoolCreate(Pool *poolReturn, Arena arena, PoolClass klass, ArgList args);
INTERN void PoolDestroy(Pool pool);
INTERN Bool PoolCheck(Pool pool);
INTERN Bool PoolClassCheck(PoolClass klass);
INTERN Res PoolFree(Pool pool, Addr old, Size size);

#endif /* GCP_POOL_H */
