/* buffer.h -- allocation points.  The client-visible mps_ap_s is the first
 * member of the buffer, so an mps_ap_t converts to a Buffer by a cast.
 *
 * Invariants: base <= init <= alloc <= poolLimit while a buffer is
 * attached (base != NULL); ap.limit is either poolLimit or 0 (trapped);
 * with no buffer attached, init == alloc == limit == NULL.
 * Design: docs/design/buffer.md.
 */
#ifndef GCP_BUFFER_H
#define GCP_BUFFER_H

#include "pool.h"

struct BufferStruct {
  struct mps_ap_s ap; /* init, alloc, limit: touched by the inline macros */
  Sig sig;
  Pool pool;
  RingStruct poolRing;
  Addr base;       /* start of the attached buffer, or NULL */
  Addr poolLimit;  /* its real end; ap.limit may be 0 when trapped */
  Addr initAtFlip; /* ap.init when a flip trapped the buffer */
  Bool flipped;    /* trapped by a flip since the last fill */
  mps_rank_t rank;
  Count rampDepth, rampCollectAllDepth;
  Bool hashArrays; /* MPS_KEY_AP_HASH_ARRAYS: not counted towards collection */
};

/* Set an allocation point's ramp depths (mps_ap_alloc_pattern_*), keeping
 * its pool's count of ramping allocation points; the end of its last
 * ramp-collect-all asks for a full collection.  With the arena lock. */
INTERN void BufferSetRamps(Buffer buf, Count rampDepth, Count collectAllDepth);

#define BufferOfAP(ap) ((Buffer)(void *)(ap))
#define BufferAP(buf)  (&(buf)->ap)

INTERN Res BufferCreate(Buffer *bufReturn, Pool pool, ArgList args);
INTERN void BufferDestroy(Buffer buf);
INTERN Bool BufferCheck(Buffer buf);
/* Detach the buffer, giving its unused space back to the pool. */
INTERN void BufferDetach(Buffer buf);
INTERN Res BufferFill(Addr *pReturn, Buffer buf, Size size);
INTERN Bool BufferTrip(Buffer buf, Addr p, Size size);

#endif /* GCP_BUFFER_H */
