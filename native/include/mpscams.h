/* mpscams.h -- the AMS (Automatic Mark & Sweep) pool class and its debug
 * variant
 *
 * A collected, non-moving, non-generational pool; objects allocated through
 * an allocation point of ambiguous rank have their contents scanned
 * ambiguously.  Design:
 * docs/design/ms.md.
 */

#ifndef mpscams_h
#define mpscams_h

#include "mps.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const struct mps_key_s _mps_key_AMS_SUPPORT_AMBIGUOUS;
#define MPS_KEY_AMS_SUPPORT_AMBIGUOUS       (&_mps_key_AMS_SUPPORT_AMBIGUOUS)
#define MPS_KEY_AMS_SUPPORT_AMBIGUOUS_FIELD b

extern mps_pool_class_t mps_class_ams(void);
extern mps_pool_class_t mps_class_ams_debug(void);

#ifdef __cplusplus
}
#endif

#endif /* mpscams_h */
