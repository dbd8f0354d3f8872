/* mpsavm.h -- the virtual-memory arena class
 *
 * The VM arena reserves address space from the operating system and
 * commits pages only as pools need them.  Design notes
 * are in docs/design/interface.md §Arena classes and docs/design/arena.md.
 */

#ifndef mpsavm_h
#define mpsavm_h

#include "mps.h"

#ifdef __cplusplus
extern "C" {
#endif

extern mps_arena_class_t mps_arena_class_vm(void);

/* Set how much address space to request when the arena grows: try the
 * desired size first, never go below the minimum. */
extern mps_res_t mps_arena_vm_growth(mps_arena_t, size_t, size_t);

#ifdef __cplusplus
}
#endif

#endif /* mpsavm_h */
