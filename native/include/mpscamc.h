/* mpscamc.h -- the AMC and AMCZ (Automatic Mostly-Copying) pool classes
 *
 * Collected pools whose objects move unless an ambiguous reference pins
 * them; AMCZ objects hold no references and are never scanned.  Design:
 * docs/design/amc.md.
 */

#ifndef mpscamc_h
#define mpscamc_h

#include "mps.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*mps_amc_apply_stepper_t)(mps_addr_t, void *, size_t);

extern mps_pool_class_t mps_class_amc(void);
extern mps_pool_class_t mps_class_amcz(void);
extern void mps_amc_apply(mps_pool_t, mps_amc_apply_stepper_t, void *, size_t);

#ifdef __cplusplus
}
#endif

#endif /* mpscamc_h */
