/* segfit.h -- what the CPython integration (native/cpython/hook.c,
 * heapwalk.c, gcroots.c) uses of the SEGFIT pool class beyond the public
 * interface of mpscsegfit.h: allocation with a tag, and the operations on
 * a block whose segment the caller has already found (the hook looks it
 * up in the page table without the arena lock: arena.h, ArenaPages).
 * Implemented in poolsegfit.c.  Design: docs/design/segfit.md.
 */
#ifndef GCP_SEGFIT_H
#define GCP_SEGFIT_H

#include "pool.h"
#include "mpscsegfit.h"

/* A block of at least size bytes with the given tag (its size and tag are
 * recorded); SegfitAllocGrowing gives a large block a quarter more room,
 * so that the next few reallocations fit in place. */
INTERN Res SegfitAlloc(Addr *pReturn, Pool pool, Size size, unsigned tag);
INTERN Res SegfitAllocGrowing(Addr *pReturn, Pool pool, Size size, unsigned tag);
/* Free p, a block of seg; misuse (a double free, a pointer into a block)
 * is reported and refused. */
INTERN Res SegfitFreeInSeg(Pool pool, Seg seg, Addr p);
/* Whether p is a live block of seg, and if so its requested size and tag. */
INTERN Bool SegfitBlockInSeg(Size *sizeReturn, unsigned *tagReturn, Seg seg, Addr p);
/* Give the live block p of seg a new requested size and tag if it fits
 * where it is (the same class, or the same pages for a large block). */
INTERN Bool SegfitResizeInSeg(Seg seg, Addr p, Size size, unsigned tag);
/* Visit every live block (no lock is taken: the caller holds the arena's). */
INTERN void SegfitWalk(Pool pool, gcp_segfit_visit_t visit, void *closure);

/* Allocation sites (the leak finder's): small numbers the caller gives, 0
 * for none.  Tracking on, runs formatted from then on keep a site per
 * block (SegfitSetSite records it, after the allocation); SegfitWalkSites
 * is SegfitWalk with the sites (0 where none was recorded). */
typedef void (*SegfitSiteVisit)(Addr block, Size size, unsigned tag, uint32_t site, void *closure);
INTERN void SegfitTrackSites(Pool pool, Bool on);
INTERN void SegfitSetSite(Seg seg, Addr p, uint32_t site);
INTERN void SegfitWalkSites(Pool pool, SegfitSiteVisit visit, void *closure);

#endif /* GCP_SEGFIT_H */
