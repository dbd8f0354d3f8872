/* mpscsegfit.h -- the SEGFIT pool class: a manual, segregated-fit pool for
 * many small, short-lived blocks allocated and freed by many threads.
 *
 * A gc_plugin pool class (the MPS has none like it); it holds the blocks
 * that the CPython allocator hook routes.  Blocks up to 16 KiB come from
 * runs of pages per size class, taken by a per-thread cache without a
 * lock; larger blocks get pages of their own.  Every block carries its
 * requested size and a 16-bit client tag in the pool's metadata, and a
 * walk enumerates the live blocks from that metadata alone.
 * mps_alloc and mps_free work as for any manual pool (mps_free checks the
 * size against the requested size); the gcp_segfit_* calls below add tags,
 * frees without a size, and walks.  Design: docs/design/segfit.md.
 */

#ifndef mpscsegfit_h
#define mpscsegfit_h

#include "mps.h"

#ifdef __cplusplus
extern "C" {
#endif

extern mps_pool_class_t mps_class_segfit(void);

/* The largest block served from size-class runs; bigger blocks get whole
 * pages. */
#define GCP_SEGFIT_SMALL_MAX ((size_t)16384)

/* Allocate size bytes (zero is allowed and gives a distinct block) with a
 * client tag of 16 bits.  Lock-free unless the thread's cache must be
 * refilled.  Blocks are aligned to 16 bytes. */
extern mps_res_t gcp_segfit_alloc(mps_addr_t *p_o, mps_pool_t pool, size_t size, unsigned tag);
/* Free a block from any thread, without its size.  Foreign pointers,
 * pointers into a block and double frees are reported and ignored. */
extern void gcp_segfit_free(mps_pool_t pool, mps_addr_t p);
/* Whether p is the start of a live block of the pool; if so its requested
 * size and tag are stored where the pointers are not NULL. */
extern mps_bool_t gcp_segfit_block(mps_pool_t pool, mps_addr_t p, size_t *size_o, unsigned *tag_o);
/* The usable size of a block requested with size bytes (its class size). */
extern size_t gcp_segfit_usable_size(size_t size);

/* Call visit once for every live block: its address, requested size and
 * tag.  The arena lock is held during the walk: visit must not call into
 * the arena (allocating from this pool's fast path is allowed). */
typedef void (*gcp_segfit_visit_t)(mps_addr_t block, size_t size, unsigned tag, void *closure);
extern void gcp_segfit_walk(mps_pool_t pool, gcp_segfit_visit_t visit, void *closure);

/* Live blocks and the sum of their requested sizes. */
extern void gcp_segfit_live(mps_pool_t pool, size_t *blocks_o, size_t *bytes_o);

#ifdef __cplusplus
}
#endif

#endif /* mpscsegfit_h */
