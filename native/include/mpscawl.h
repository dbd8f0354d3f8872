/* mpscawl.h -- the AWL (Automatic Weak Linked) pool class
 *
 * A collected, non-moving pool whose objects hold exact or weak
 * references (one rank per object, that of its allocation point), with a
 * dependent object per object made accessible while it is scanned: the
 * pool of weak-key and weak-value tables.  Design:
 * docs/design/ms.md (AWL).
 */

#ifndef mpscawl_h
#define mpscawl_h

#include "mps.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef mps_addr_t (*mps_awl_find_dependent_t)(mps_addr_t addr);

extern const struct mps_key_s _mps_key_AWL_FIND_DEPENDENT;
#define MPS_KEY_AWL_FIND_DEPENDENT       (&_mps_key_AWL_FIND_DEPENDENT)
#define MPS_KEY_AWL_FIND_DEPENDENT_FIELD addr_method

extern mps_pool_class_t mps_class_awl(void);

#ifdef __cplusplus
}
#endif

#endif /* mpscawl_h */
