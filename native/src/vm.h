/* vm.h -- the operating system's virtual memory, as the arena needs it:
 * reserve address space, commit and decommit pages within it, release it.
 * Implemented per platform in platform/vm_*.c.  Design: docs/design/arena.md.
 */
#ifndef GCP_VM_H
#define GCP_VM_H

#include "core.h"

INTERN Size VMPageSize(void);
/* Reserve `size` bytes aligned to `align` (a multiple of the page size). */
INTERN Res VMReserve(Addr *baseReturn, Size size, Size align);
INTERN void VMRelease(Addr base, Size size);
/* Make [base, limit) readable, writable and backed by zero-filled memory. */
INTERN Res VMCommit(Addr base, Addr limit);
/* Give the memory of [base, limit) back to the OS; the range stays reserved. */
INTERN void VMDecommit(Addr base, Addr limit);

#endif /* GCP_VM_H */
