/* mpsio.h -- plinth interface for the telemetry output stream
 *
 * The core writes its telemetry through these client-replaceable
 * functions.  Design notes are in
 * docs/design/interface.md §Telemetry and the plinth.
 */

#ifndef mpsio_h
#define mpsio_h

#include "mps.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mps_io_s *mps_io_t;

extern mps_res_t mps_io_create(mps_io_t *);
extern void mps_io_destroy(mps_io_t);
extern mps_res_t mps_io_write(mps_io_t, void *, size_t);
extern mps_res_t mps_io_flush(mps_io_t);

#ifdef __cplusplus
}
#endif

#endif /* mpsio_h */
