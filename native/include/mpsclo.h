/* mpsclo.h -- the LO (Leaf Only) pool class
 *
 * A collected, non-moving pool for objects without references; never
 * scanned, never protected.  Design:
 * docs/design/lo.md.
 */

#ifndef mpsclo_h
#define mpsclo_h

#include "mps.h"

#ifdef __cplusplus
extern "C" {
#endif

extern mps_pool_class_t mps_class_lo(void);

#ifdef __cplusplus
}
#endif

#endif /* mpsclo_h */
