/* mpscmfs.h -- the MFS (Manual Fixed Small) pool class
 *
 * A manual pool of equal-sized units.  Design:
 * docs/design/mfs.md; keys: docs/design/interface.md.
 */

#ifndef mpscmfs_h
#define mpscmfs_h

#include "mps.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Size of every unit; required at pool creation. */
extern const struct mps_key_s _mps_key_MFS_UNIT_SIZE;
#define MPS_KEY_MFS_UNIT_SIZE       (&_mps_key_MFS_UNIT_SIZE)
#define MPS_KEY_MFS_UNIT_SIZE_FIELD size

extern mps_pool_class_t mps_class_mfs(void);

#ifdef __cplusplus
}
#endif

#endif /* mpscmfs_h */
