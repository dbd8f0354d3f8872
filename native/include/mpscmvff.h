/* mpscmvff.h -- the MVFF (Manual Variable First Fit) pool class
 *
 * A general manual pool for variable-sized blocks, plus its debugging
 * variant.  Design: docs/design/mvff.md; keys:
 * docs/design/interface.md.
 */

#ifndef mpscmvff_h
#define mpscmvff_h

#include "mps.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Take blocks from the high end of the chosen free range. */
extern const struct mps_key_s _mps_key_MVFF_SLOT_HIGH;
#define MPS_KEY_MVFF_SLOT_HIGH       (&_mps_key_MVFF_SLOT_HIGH)
#define MPS_KEY_MVFF_SLOT_HIGH_FIELD b

/* Acquire memory from the arena at high addresses. */
extern const struct mps_key_s _mps_key_MVFF_ARENA_HIGH;
#define MPS_KEY_MVFF_ARENA_HIGH       (&_mps_key_MVFF_ARENA_HIGH)
#define MPS_KEY_MVFF_ARENA_HIGH_FIELD b

/* Choose the lowest-addressed range that fits (true) or the highest. */
extern const struct mps_key_s _mps_key_MVFF_FIRST_FIT;
#define MPS_KEY_MVFF_FIRST_FIT       (&_mps_key_MVFF_FIRST_FIT)
#define MPS_KEY_MVFF_FIRST_FIT_FIELD b

extern mps_pool_class_t mps_class_mvff(void);
extern mps_pool_class_t mps_class_mvff_debug(void);

/* Legacy size queries, now generic pool functions. */
#define mps_mvff_free_size mps_pool_free_size
#define mps_mvff_size      mps_pool_total_size

#ifdef __cplusplus
}
#endif

#endif /* mpscmvff_h */
