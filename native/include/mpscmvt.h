/* mpscmvt.h -- the MVT (Manual Variable Temporal) pool class
 *
 * A manual pool for variable-sized blocks allocated through allocation
 * points and placed by temporal fit.  Design:
 * docs/design/mvt.md; keys: docs/design/interface.md.
 */

#ifndef mpscmvt_h
#define mpscmvt_h

#include "mps.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Mean-sized blocks' worth of free storage to keep for reuse. */
extern const struct mps_key_s _mps_key_MVT_RESERVE_DEPTH;
#define MPS_KEY_MVT_RESERVE_DEPTH       (&_mps_key_MVT_RESERVE_DEPTH)
#define MPS_KEY_MVT_RESERVE_DEPTH_FIELD count

/* Free/total ratio, in (0.0, 1.0], above which first fit takes over. */
extern const struct mps_key_s _mps_key_MVT_FRAG_LIMIT;
#define MPS_KEY_MVT_FRAG_LIMIT       (&_mps_key_MVT_FRAG_LIMIT)
#define MPS_KEY_MVT_FRAG_LIMIT_FIELD d

extern mps_pool_class_t mps_class_mvt(void);

/* Legacy size queries, now generic pool functions. */
#define mps_mvt_free_size mps_pool_free_size
#define mps_mvt_size      mps_pool_total_size

#ifdef __cplusplus
}
#endif

#endif /* mpscmvt_h */
