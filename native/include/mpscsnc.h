/* mpscsnc.h -- the SNC (Stack No Checking) pool class
 *
 * A manually managed, scanned, non-moving pool whose space is given back
 * only by popping allocation frames (mps_ap_frame_push/pop).  Design:
 * docs/design/snc.md.
 */

#ifndef mpscsnc_h
#define mpscsnc_h

#include "mps.h"

#ifdef __cplusplus
extern "C" {
#endif

extern mps_pool_class_t mps_class_snc(void);

#ifdef __cplusplus
}
#endif

#endif /* mpscsnc_h */
