/* scratch.c -- memory for the plugin's own lists of blocks: the records of
 * heap walks and the groups of leak checks (Python allocates them through
 * gcp_scratch_alloc).  A list of every block's address would make every
 * block reachable, so the leak finder must not scan it as a root, now or
 * after it is freed (freed malloc memory keeps its contents).  So each
 * buffer is a mapping of its own, recorded here while it lives and
 * unmapped when it is freed.  Design: docs/design/leaks.md (roots).
 */
#include <sys/mman.h>
#include "cpython/cpython.h"

#define SCRATCH_MAX 256 /* live buffers at once */

typedef struct ScratchHeader {
  size_t bytes; /* of the whole mapping */
  size_t slot;
} ScratchHeader;

static LockStruct scratchLock;
static uintptr_t scratchLo[SCRATCH_MAX], scratchHi[SCRATCH_MAX]; /* lo == 0: free slot */

/* A zeroed buffer of size bytes, or NULL. */
static void *gcp_scratch_alloc(size_t size)
{
  size_t bytes = (size + sizeof(ScratchHeader) + 4095) & ~(size_t)4095, slot;
  ScratchHeader *h;
  if (size > ((size_t)1 << 46)) return NULL;
  h = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (h == MAP_FAILED) return NULL;
  LockClaim(&scratchLock);
  for (slot = 0; slot < SCRATCH_MAX && scratchLo[slot] != 0; ++slot)
    ;
  if (slot < SCRATCH_MAX) {
    scratchLo[slot] = (uintptr_t)h;
    scratchHi[slot] = (uintptr_t)h + bytes;
  }
  LockRelease(&scratchLock);
  if (slot == SCRATCH_MAX) { /* unrecorded, it could hide leaks: refuse */
    (void)munmap(h, bytes);
    return NULL;
  }
  h->bytes = bytes;
  h->slot = slot;
  return h + 1;
}

static void gcp_scratch_free(void *p)
{
  ScratchHeader *h;
  if (p == NULL) return;
  h = (ScratchHeader *)p - 1;
  LockClaim(&scratchLock);
  scratchLo[h->slot] = scratchHi[h->slot] = 0;
  LockRelease(&scratchLock);
  (void)munmap(h, h->bytes);
}

INTERN void ScratchClaim(void) { LockClaim(&scratchLock); }
INTERN void ScratchRelease(void) { LockRelease(&scratchLock); }

INTERN void ScratchVisit(void (*visit)(Addr base, Addr limit, void *closure), void *closure)
{
  size_t slot;
  AVER(LockIsMine(&scratchLock));
  for (slot = 0; slot < SCRATCH_MAX; ++slot)
    if (scratchLo[slot] != 0) visit((Addr)scratchLo[slot], (Addr)scratchHi[slot], closure);
}
