/* mpsacl.h -- the client arena class: an arena in memory the client
 * provides (MPS_KEY_ARENA_CL_BASE and MPS_KEY_ARENA_SIZE at creation, or
 * (size, base) for mps_arena_create), extended only by mps_arena_extend.
 * Nothing is reserved or returned to the operating system; the memory is
 * the client's again once the arena is destroyed.
 * Design: docs/design/arena.md (client arenas).
 */
#ifndef mpsacl_h
#define mpsacl_h

#include "mps.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const struct mps_key_s _mps_key_ARENA_CL_BASE;
#define MPS_KEY_ARENA_CL_BASE       (&_mps_key_ARENA_CL_BASE)
#define MPS_KEY_ARENA_CL_BASE_FIELD addr

extern mps_arena_class_t mps_arena_class_cl(void);

#ifdef __cplusplus
}
#endif

#endif /* mpsacl_h */
