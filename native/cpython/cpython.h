/* cpython.h -- the CPython integration's internal interface: what its
 * files use of one another, on top of the core's internal headers
 * (arena.h, segfit.h) and the bridge (bridge/gcp_py.h).
 *
 *   objects.c   which loaded object holds an address (attribution);
 *   hook.c      the allocator hook and its SEGFIT pool;
 *   heapwalk.c  the routed heap as records (walks, summaries);
 *   gcroots.c   the roots a collected arena has inside a Python process;
 *   gcstate.c   the heads of the cyclic GC's lists, and
 *   pyframes.c  the calling thread's Python frames (files of their own,
 *               compiled with CPython's internal headers);
 *   scratch.c   memory for the plugin's own lists of blocks (walks);
 *   sites.c     allocation sites, interned into small numbers;
 *   leaks.c     the leak finder.
 *
 * The functions Python calls (gcp_objects_*, gcp_hook_*, gcp_heap_*,
 * gcp_python_arena_attach) are declared for cffi in native/bridge/cdef.h.
 * Design: docs/design/cpython-hook.md.
 */
#ifndef GCP_CPYTHON_H
#define GCP_CPYTHON_H

#include <Python.h>
#include <pthread.h>
#include <stdint.h>
#include "mps.h"
#include "mpscsegfit.h"
#include "arena.h"
#include "segfit.h"
#include "bridge/gcp_py.h"
#include "cpython/gcstate.h"
#include "cpython/pyframes.h"

/* A routed block's tag (16 bits kept by SEGFIT): the domain it was
 * allocated in (HOOK_TAG_*) above HOOK_DOMAIN_SHIFT, the id of the loaded
 * object that allocated it (objects.c) below. */
enum { HOOK_TAG_RAW = 0, HOOK_TAG_MEM = 1, HOOK_TAG_OBJ = 2 };
#define HOOK_DOMAIN_SHIFT 14
#define HOOK_ID_MASK      0x3FFFu

/* ---- objects.c ---------------------------------------------------------- */

/* A loaded segment of a loaded object: [lo, hi), its object's id, and
 * whether it holds code. */
typedef struct ObjRange {
  uintptr_t lo, hi;
  unsigned id;
  Bool code;
} ObjRange;

/* Rebuild the table of loaded segments if objects were loaded or unloaded
 * since it was built (always, with force); FALSE if it could not be. */
INTERN Bool objRefresh(Bool force);
/* The id of the object whose code or data contains addr, or 0. */
INTERN unsigned objIdOf(uintptr_t addr);
/* Copy the code ranges of object id into out (at most n); returns how
 * many the object has.  With the objects lock held. */
INTERN size_t objCodeRangesOf(ObjRange *out, size_t n, unsigned id);
/* The lock that guards the object names and ids (not the table, which
 * readers search without it). */
INTERN void objLockClaim(void);
INTERN void objLockRelease(void);
INTERN unsigned gcp_objects_id_of(uintptr_t addr);

/* ---- heapwalk.c ------------------------------------------------------------ */

/* Every live type object, sorted: what a block's type is checked against. */
typedef struct HeapTypes {
  const uintptr_t *types;
  size_t count;
} HeapTypes;
/* The type of the Python object in the OBJ-domain block [block, block +
 * size), or 0 if it holds none whose header can be trusted; *offsetReturn
 * is where the object starts in the block (after a PyGC_Head and a
 * managed-dict pre-header, if its type has them). */
INTERN uintptr_t HeapTypeOf(const HeapTypes *types, Addr block, Size size, Size *offsetReturn);

/* ---- scratch.c ------------------------------------------------------------- */

/* Visit each live scratch buffer (the whole mapping); between ScratchClaim
 * and ScratchRelease, which keep buffers from being made or freed. */
INTERN void ScratchClaim(void);
INTERN void ScratchRelease(void);
INTERN void ScratchVisit(void (*visit)(Addr base, Addr limit, void *closure), void *closure);

/* ---- sites.c --------------------------------------------------------------- */

/* Make the table of sites and record `frames` Python frames per site from
 * now on; FALSE without memory for it. */
INTERN Bool SitesStart(unsigned frames);
/* The site number of an allocation from return address ra on the calling
 * thread now (0: tracking never started, or the table is full). */
INTERN uint32_t SiteIntern(uintptr_t ra);

/* ---- hook.c --------------------------------------------------------------- */

/* The hook's arena and its SEGFIT pool: NULL until routing first made
 * them; then they last as long as the process. */
INTERN Arena HookArena(void);
INTERN Pool HookPool(void);

#endif /* GCP_CPYTHON_H */
