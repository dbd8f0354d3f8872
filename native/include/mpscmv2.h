/* mpscmv2.h -- legacy name for the MVT pool class header
 *
 * Kept so that old clients still compile; everything lives in mpscmvt.h.
 * Design notes are in docs/design/interface.md
 * §Headers.
 */

#ifndef mpscmv2_h
#define mpscmv2_h

#include "mpscmvt.h"

#endif /* mpscmv2_h */
