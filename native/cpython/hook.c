/* hook.c -- the CPython allocator hook: wraps the MEM, OBJ and RAW
 * domains and routes chosen allocations into a SEGFIT pool.
 *
 * Routing (hookMode): OFF passes every allocation through to the wrapped
 * allocator; MANAGED routes those whose call site lies in a managed
 * module's code (the hook's return address: CPython's PyMem_Malloc and
 * friends tail-jump into the hook, so it is the caller of PyMem_Malloc);
 * ALL routes every MEM and OBJ allocation.  RAW allocations are never
 * routed.  Whether a block is ours is decided by address in every domain:
 * the pool lives in one arena whose single chunk is reserved up front and
 * never grows, so "ours" is one subtraction and one comparison.
 *
 * Each routed block's tag records its domain (2 bits) and the id of the
 * loaded object that allocated it (14 bits, objects.c).
 *
 * The hook, once installed, stays installed unless it can be removed
 * cleanly (no live pool block, and ours is still the installed allocator of
 * every domain); otherwise it remains as a forwarding shim that still
 * frees and reallocates pool blocks.  Under tracemalloc the hook sits
 * below tracemalloc's: activating while tracemalloc traces splices the
 * hook into tracemalloc's saved allocators, so that tracemalloc.stop()
 * reinstalls the hook rather than removing it.
 * Misuse that the pool detects in a hooked call (a double free, a pointer
 * into a block) is fatal, as in CPython's own debug hooks.
 * Design: docs/design/cpython-hook.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mpsavm.h"
#include "cpython/cpython.h"

#define HOOK_RESERVE     ((Size)64 << 30)  /* address space of the pool's arena, */
#define HOOK_RESERVE_MIN ((Size)256 << 20) /* or less under an address-space limit */
#define HOOK_MAX_MANAGED 64                /* ranges of managed code */

enum { HOOK_OFF = 0, HOOK_MANAGED = 1, HOOK_ALL = 2 };

typedef struct HookDomain {
  PyMemAllocatorDomain domain;
  unsigned domainTag;       /* HOOK_TAG_*: what routed blocks record */
  PyMemAllocatorEx wrapped; /* the allocator we forward to */
  PyMemAllocatorEx ours;
  PyMemAllocatorEx *spliced; /* tracemalloc's saved allocator we replaced */
} HookDomain;

static HookDomain hookDomains[3];
static Arena hookArena;
static Pool hookPool;

INTERN Arena HookArena(void) { return hookArena; }
INTERN Pool HookPool(void) { return hookPool; }
static Word hookBase, hookSpan; /* the arena's chunk; span 0 before it exists */
static int hookMode = HOOK_OFF;
static Bool hookRouting; /* whether malloc must decide: see hookRoutingUpdate */
static Bool hookInstalled;
/* The managed code ranges, published whole: a table is never changed once
 * published (a reader on the malloc path may still be reading one), and
 * never freed (a table per manage call, a few KiB in a process's life).
 * Writers hold the objects lock.  Reusing the slots of one array let a
 * reader see a range half rewritten after gcp_hook_unmanage_all. */
typedef struct HookManagedTable {
  unsigned count;
  ObjRange ranges[HOOK_MAX_MANAGED];
} HookManagedTable;
static HookManagedTable *hookManaged; /* NULL: none */

static unsigned hookManagedCount(void)
{
  const HookManagedTable *t = __atomic_load_n(&hookManaged, __ATOMIC_ACQUIRE);
  return t == NULL ? 0 : t->count;
}
static __thread void *hookProbe __attribute__((tls_model("initial-exec")));
static __thread Bool hookProbing __attribute__((tls_model("initial-exec")));

INLINE Bool hookOwns(const void *p) { return (Word)p - hookBase < hookSpan; }

static NOINLINE __attribute__((noreturn)) void hookFatal(const char *fn, const void *p,
                                                         const char *what)
{
  char msg[1200], why[1024];
  if (!gcp_py_take_misuse(why, sizeof why)) (void)snprintf(why, sizeof why, "%s", what);
  (void)snprintf(msg, sizeof msg, "gc_plugin: %s(%p): %s", fn, p, why);
  Py_FatalError(msg);
}

/* Instances of a managed module's types are allocated by the interpreter
 * (tp_alloc, PyType_GenericAlloc), not by the module's code: the types'
 * tp_alloc is wrapped (gcp_hook_route_type) to route what it allocates,
 * attributed to the module, on this thread (nonzero: the object's id). */
static __thread unsigned hookForcedId __attribute__((tls_model("initial-exec")));

/* Whether an allocation from call site ra in domain d is routed; if so
 * the tag its block gets. */
INLINE Bool hookRoute(const HookDomain *d, const void *ra, unsigned *tagReturn)
{
  int mode = __atomic_load_n(&hookMode, __ATOMIC_RELAXED);
  const HookManagedTable *t;
  unsigned i, n;
  if (LIKELY(mode == HOOK_OFF) || d->domainTag == HOOK_TAG_RAW) return FALSE;
  if (UNLIKELY(hookProbing)) hookProbe = (void *)ra;
  if (UNLIKELY(hookForcedId != 0)) {
    *tagReturn = (d->domainTag << HOOK_DOMAIN_SHIFT) | hookForcedId;
    return TRUE;
  }
  if (mode == HOOK_ALL) {
    *tagReturn = (d->domainTag << HOOK_DOMAIN_SHIFT) | objIdOf((uintptr_t)ra);
    return TRUE;
  }
  t = __atomic_load_n(&hookManaged, __ATOMIC_ACQUIRE);
  n = t == NULL ? 0 : t->count;
  for (i = 0; i < n; ++i) {
    if ((uintptr_t)ra - t->ranges[i].lo < t->ranges[i].hi - t->ranges[i].lo) {
      *tagReturn = (d->domainTag << HOOK_DOMAIN_SHIFT) | t->ranges[i].id;
      return TRUE;
    }
  }
  return FALSE;
}

/* Leak tracking (gcp_hook_track_sites): each new pool block records its
 * call site, ra (sites.c). */
static Bool hookTracking;

static Seg hookSegOfBlock(void *p);

static NOINLINE void hookSetSite(void *p, const void *ra)
{
  SegfitSetSite(hookSegOfBlock(p), p, SiteIntern((uintptr_t)ra));
}

static void *hookPoolAlloc(size_t size, unsigned tag, const void *ra)
{
  Addr p;
  if (size > SIZE_LIMIT || SegfitAlloc(&p, hookPool, size, tag) != RES_OK) return NULL;
  if (UNLIKELY(__atomic_load_n(&hookTracking, __ATOMIC_RELAXED))) hookSetSite(p, ra);
  return p;
}

/* For realloc: a block that grows gets room to grow in place. */
static void *hookPoolAllocGrowing(size_t size, unsigned tag, const void *ra)
{
  Addr p;
  if (size > SIZE_LIMIT || SegfitAllocGrowing(&p, hookPool, size, tag) != RES_OK) return NULL;
  if (UNLIKELY(__atomic_load_n(&hookTracking, __ATOMIC_RELAXED))) hookSetSite(p, ra);
  return p;
}

/* The segment of a pointer the hook owns by address; fatal if it is not
 * a block of the pool.  The primary chunk's tables are copied into
 * hookPages when the pool is made, so this is a shift, a bit test and a
 * load (ArenaPrimarySegOf, without the loads of the chunk's fields). */
static ArenaPagesStruct hookPages;

static inline __attribute__((always_inline)) Seg hookSegOf(const char *fn, void *p)
{
  Index i = (Index)(((Word)p - hookBase) >> hookPages.shift);
  Seg seg;
  if (UNLIKELY(i < hookPages.allocBase || !BTGet(hookPages.allocTable, i)) ||
      UNLIKELY((seg = hookPages.pageTable[i]) == NULL || seg->pool != hookPool))
    hookFatal(fn, p, "the pointer is inside gc_plugin's heap but not in an allocated block");
  return seg;
}

static Seg hookSegOfBlock(void *p) { return hookSegOf("malloc", p); }

static NOINLINE void hookPoolFree(const char *fn, void *p)
{
  if (SegfitFreeInSeg(hookPool, hookSegOf(fn, p), p) != RES_OK)
    hookFatal(fn, p, "the pool refused to free it");
}

/* malloc and calloc: while nothing can be routed (routing off, or managed
 * mode with no managed module loaded yet) the hook is a load, a test and a
 * tail call; the routing decision is out of line. */
static void hookRoutingUpdate(void)
{
  int mode = __atomic_load_n(&hookMode, __ATOMIC_ACQUIRE);
  Bool routing = mode == HOOK_ALL || (mode == HOOK_MANAGED && hookManagedCount() > 0);
  __atomic_store_n(&hookRouting, routing, __ATOMIC_RELEASE);
}

static NOINLINE void *hookMallocRouting(HookDomain *d, size_t size, const void *ra)
{
  unsigned tag;
  if (hookRoute(d, ra, &tag)) {
    void *p = hookPoolAlloc(size, tag, ra);
    if (p != NULL) return p;
  }
  return d->wrapped.malloc(d->wrapped.ctx, size);
}

static void *hookMalloc(void *ctx, size_t size)
{
  HookDomain *d = ctx;
  if (UNLIKELY(__atomic_load_n(&hookRouting, __ATOMIC_RELAXED)))
    return hookMallocRouting(d, size, __builtin_return_address(0));
  return d->wrapped.malloc(d->wrapped.ctx, size);
}

static NOINLINE void *hookCallocRouting(HookDomain *d, size_t nelem, size_t elsize, const void *ra)
{
  unsigned tag;
  if (hookRoute(d, ra, &tag)) {
    void *p;
    if (elsize != 0 && nelem > SIZE_MAX / elsize) return NULL;
    p = hookPoolAlloc(nelem * elsize, tag, ra);
    if (p != NULL) return memset(p, 0, nelem * elsize);
  }
  return d->wrapped.calloc(d->wrapped.ctx, nelem, elsize);
}

static void *hookCalloc(void *ctx, size_t nelem, size_t elsize)
{
  HookDomain *d = ctx;
  if (UNLIKELY(__atomic_load_n(&hookRouting, __ATOMIC_RELAXED)))
    return hookCallocRouting(d, nelem, elsize, __builtin_return_address(0));
  return d->wrapped.calloc(d->wrapped.ctx, nelem, elsize);
}

/* Reallocate a pool block: in place when it fits, else into a new pool
 * block when routing is on, else out to the wrapped allocator. */
static void *hookReallocOurs(HookDomain *d, void *p, size_t size, Bool routed, unsigned tag,
                             const void *ra)
{
  Seg seg = hookSegOf("realloc", p);
  Size old;
  unsigned oldTag;
  void *q;
  if (!SegfitBlockInSeg(&old, &oldTag, seg, p))
    hookFatal("realloc", p, "the block is not live (freed already?)");
  if (!routed && __atomic_load_n(&hookMode, __ATOMIC_RELAXED) != HOOK_OFF &&
      d->domainTag != HOOK_TAG_RAW) {
    /* a pool block stays in the pool while the hook routes; it keeps its
     * module unless a routed call site takes it over */
    routed = TRUE;
    tag = (d->domainTag << HOOK_DOMAIN_SHIFT) | (oldTag & HOOK_ID_MASK);
  }
  if (routed) {
    if (SegfitResizeInSeg(seg, p, size, tag)) return p;
    q = size > old ? hookPoolAllocGrowing(size, tag, ra) : hookPoolAlloc(size, tag, ra);
    if (q == NULL) q = d->wrapped.malloc(d->wrapped.ctx, size);
  } else {
    q = d->wrapped.malloc(d->wrapped.ctx, size);
  }
  if (q == NULL) return NULL;
  memcpy(q, p, old < size ? old : size);
  hookPoolFree("realloc", p);
  return q;
}

static void *hookRealloc(void *ctx, void *p, size_t size)
{
  HookDomain *d = ctx;
  unsigned tag = 0;
  const void *ra = __builtin_return_address(0);
  Bool routed = hookRoute(d, ra, &tag);
  void *q, *r;
  if (p == NULL) {
    if (routed && (q = hookPoolAlloc(size, tag, ra)) != NULL) return q;
    return d->wrapped.malloc(d->wrapped.ctx, size);
  }
  if (UNLIKELY(hookOwns(p))) return hookReallocOurs(d, p, size, routed, tag, ra);
  if (LIKELY(!routed)) return d->wrapped.realloc(d->wrapped.ctx, p, size);
  /* Into the pool.  The old block's size is the wrapped allocator's
   * secret, so let it reallocate first: the result holds min(old, size)
   * valid bytes and size readable ones. */
  q = d->wrapped.realloc(d->wrapped.ctx, p, size);
  if (q == NULL) return NULL;
  r = hookPoolAllocGrowing(size, tag, ra);
  if (r == NULL) return q;
  memcpy(r, q, size);
  d->wrapped.free(d->wrapped.ctx, q);
  return r;
}

static void hookFree(void *ctx, void *p)
{
  HookDomain *d = ctx;
  if (UNLIKELY(hookOwns(p))) {
    hookPoolFree("free", p);
    return;
  }
  d->wrapped.free(d->wrapped.ctx, p);
}

/* ---- installation ------------------------------------------------------- */

static Res hookCreatePool(void)
{
  mps_arena_t arena;
  mps_pool_t pool;
  Res res;
  Size reserve;
  if (hookPool != NULL) return RES_OK;
  /* as much as the address-space limit allows, down to HOOK_RESERVE_MIN */
  for (reserve = HOOK_RESERVE;; reserve /= 2) {
    MPS_ARGS_BEGIN(args)
    {
      MPS_ARGS_ADD(args, MPS_KEY_ARENA_SIZE, reserve);
      res = mps_arena_create_k(&arena, mps_arena_class_vm(), args);
    }
    MPS_ARGS_END(args);
    if (res == RES_OK || reserve <= HOOK_RESERVE_MIN) break;
  }
  if (res != RES_OK) return res;
  ArenaDisableGrowth(arena);
  res = mps_pool_create_k(&pool, arena, mps_class_segfit(), mps_args_none);
  if (res != RES_OK) {
    mps_arena_destroy(arena);
    return res;
  }
  hookArena = arena;
  hookPool = pool;
  ArenaPrimaryPages(&hookPages, arena);
  hookBase = (Word)hookPages.base;
  __atomic_store_n(&hookSpan, (Word)AddrOffset(hookPages.base, hookPages.limit), __ATOMIC_RELEASE);
  return RES_OK;
}

static void hookDomainInit(HookDomain *d, PyMemAllocatorDomain domain, unsigned tag)
{
  d->domain = domain;
  d->domainTag = tag;
  d->ours.ctx = d;
  d->ours.malloc = hookMalloc;
  d->ours.calloc = hookCalloc;
  d->ours.realloc = hookRealloc;
  d->ours.free = hookFree;
  d->spliced = NULL;
}

static Bool hookIsTop(HookDomain *d)
{
  PyMemAllocatorEx cur;
  PyMem_GetAllocator(d->domain, &cur);
  return cur.ctx == d && cur.malloc == hookMalloc && cur.free == hookFree;
}

/* Install the hook in every domain.  under_tracemalloc: the installed
 * allocators are tracemalloc's, whose ctx is its saved allocator; put the
 * hook there instead of on top. */
static void hookInstall(Bool underTracemalloc)
{
  unsigned i;
  hookDomainInit(&hookDomains[0], PYMEM_DOMAIN_RAW, HOOK_TAG_RAW);
  hookDomainInit(&hookDomains[1], PYMEM_DOMAIN_MEM, HOOK_TAG_MEM);
  hookDomainInit(&hookDomains[2], PYMEM_DOMAIN_OBJ, HOOK_TAG_OBJ);
  for (i = 0; i < 3; ++i) {
    HookDomain *d = &hookDomains[i];
    PyMemAllocatorEx cur;
    PyMem_GetAllocator(d->domain, &cur);
    if (underTracemalloc && cur.ctx != NULL) {
      d->spliced = cur.ctx;
      d->wrapped = *d->spliced;
      *d->spliced = d->ours;
    } else {
      d->wrapped = cur;
      PyMem_SetAllocator(d->domain, &d->ours);
    }
  }
  hookInstalled = TRUE;
}

/* Remove the hook if that is clean; otherwise it stays as a shim. */
static Bool hookUninstall(void)
{
  unsigned i;
  size_t blocks = 0;
  if (!hookInstalled) return TRUE;
  gcp_segfit_live(hookPool, &blocks, NULL);
  if (blocks != 0) return FALSE;
  for (i = 0; i < 3; ++i)
    if (hookDomains[i].spliced == NULL && !hookIsTop(&hookDomains[i])) return FALSE;
  for (i = 0; i < 3; ++i) {
    HookDomain *d = &hookDomains[i];
    if (d->spliced != NULL) {
      /* tracemalloc may have been stopped since (then its saved copy was
       * reinstalled as the domain's allocator, and that copy is ours) */
      if (hookIsTop(d))
        PyMem_SetAllocator(d->domain, &d->wrapped);
      else
        *d->spliced = d->wrapped;
    } else {
      PyMem_SetAllocator(d->domain, &d->wrapped);
    }
  }
  hookInstalled = FALSE;
  return TRUE;
}

/* ---- the Python layer's view -------------------------------------------
 * Called through cffi, which has released the GIL: every function that
 * touches allocators takes it. */

#define GCP_HOOK_INSTALLED 1
#define GCP_HOOK_ROUTING   2
#define GCP_HOOK_ALL       4

/* Install (if needed) and start routing: all != 0 for the whole heap.
 * Returns an MPS result code. */
static int gcp_hook_activate(int all, int under_tracemalloc)
{
  PyGILState_STATE g = PyGILState_Ensure();
  Res res = hookCreatePool();
  if (res == RES_OK) {
    if (!hookInstalled) hookInstall(under_tracemalloc != 0);
    __atomic_store_n(&hookMode, all ? HOOK_ALL : HOOK_MANAGED, __ATOMIC_RELEASE);
    hookRoutingUpdate();
  }
  PyGILState_Release(g);
  return res;
}

/* ---- the types of managed modules ----------------------------------------- */

#define HOOK_MAX_TYPES 1024

typedef struct HookType {
  PyTypeObject *type;
  allocfunc alloc; /* the type's own tp_alloc */
  unsigned id;     /* of the module's loaded object */
} HookType;

/* Written and read with the GIL held; never shrinks (a wrapped type stays
 * wrapped: its instances may be made after routing stops, and then the
 * wrapper only calls through). */
static HookType hookTypes[HOOK_MAX_TYPES];
static unsigned hookTypeCount;

static const HookType *hookTypeOf(PyTypeObject *t)
{
  unsigned i;
  /* a static subclass that sets no tp_alloc inherits the wrapper (Python
   * classes get PyType_GenericAlloc of their own): its nearest wrapped
   * base says whose instances these are */
  for (; t != NULL; t = t->tp_base)
    for (i = 0; i < hookTypeCount; ++i)
      if (hookTypes[i].type == t) return &hookTypes[i];
  return NULL;
}

static PyObject *hookTypeAlloc(PyTypeObject *t, Py_ssize_t nitems)
{
  const HookType *h = hookTypeOf(t);
  unsigned saved = hookForcedId;
  PyObject *o;
  if (h == NULL) return PyType_GenericAlloc(t, nitems); /* cannot happen */
  hookForcedId = h->id;
  o = h->alloc(t, nitems);
  hookForcedId = saved;
  return o;
}

/* Route the instances of type (a type of the module whose loaded object is
 * id) as if the module had allocated them.  0, or -1 if there is no room
 * for another type.  With the GIL held. */
static int gcp_hook_route_type(uintptr_t type, unsigned id)
{
  PyTypeObject *t = (PyTypeObject *)type;
  if (t->tp_alloc == hookTypeAlloc) return 0;
  if (hookTypeCount == HOOK_MAX_TYPES) return -1;
  hookTypes[hookTypeCount].type = t;
  hookTypes[hookTypeCount].alloc = t->tp_alloc != NULL ? t->tp_alloc : PyType_GenericAlloc;
  hookTypes[hookTypeCount].id = id;
  ++hookTypeCount;
  t->tp_alloc = hookTypeAlloc;
  return 0;
}

/* Leak tracking on or off: with it on, pool blocks record their call
 * sites with `frames` Python frames (in runs formatted from then on: turn
 * it on before routing starts).  Makes the pool if need be; returns an
 * MPS result code. */
static int gcp_hook_track_sites(int on, unsigned frames)
{
  PyGILState_STATE g = PyGILState_Ensure();
  Res res = hookCreatePool();
  if (res == RES_OK && on && !SitesStart(frames)) res = RES_MEMORY;
  if (res == RES_OK) {
    SegfitTrackSites(hookPool, on != 0);
    __atomic_store_n(&hookTracking, on != 0, __ATOMIC_RELEASE);
  }
  PyGILState_Release(g);
  return res;
}

static int gcp_hook_tracking_sites(void)
{
  return __atomic_load_n(&hookTracking, __ATOMIC_ACQUIRE);
}

/* Stop routing; returns 1 if the hook was removed, 0 if it stays as a
 * forwarding shim (live pool blocks, or another hook above it). */
static int gcp_hook_deactivate(void)
{
  PyGILState_STATE g = PyGILState_Ensure();
  Bool removed;
  __atomic_store_n(&hookMode, HOOK_OFF, __ATOMIC_RELEASE);
  hookRoutingUpdate();
  removed = hookUninstall();
  PyGILState_Release(g);
  return removed ? 1 : 0;
}

static int gcp_hook_state(void)
{
  int mode = __atomic_load_n(&hookMode, __ATOMIC_ACQUIRE), s = 0;
  if (hookInstalled) s |= GCP_HOOK_INSTALLED;
  if (mode != HOOK_OFF) s |= GCP_HOOK_ROUTING;
  if (mode == HOOK_ALL) s |= GCP_HOOK_ALL;
  return s;
}

/* Route the call sites of loaded object id; returns the number of its
 * ranges now managed, or -1 if there is no room. */
static int gcp_hook_manage(unsigned id)
{
  ObjRange found[8];
  const HookManagedTable *old;
  HookManagedTable *t;
  size_t n, i, k;
  int added = 0;
  (void)objRefresh(FALSE);
  objLockClaim();
  old = __atomic_load_n(&hookManaged, __ATOMIC_ACQUIRE);
  t = malloc(sizeof *t);
  if (t == NULL) {
    objLockRelease();
    return -1;
  }
  t->count = old == NULL ? 0 : old->count;
  if (t->count > 0) memcpy(t->ranges, old->ranges, t->count * sizeof t->ranges[0]);
  n = objCodeRangesOf(found, NELEMS(found), id);
  if (n > NELEMS(found)) n = NELEMS(found);
  for (i = 0; i < n; ++i) {
    Bool known = FALSE;
    for (k = 0; k < t->count; ++k)
      if (t->ranges[k].lo == found[i].lo && t->ranges[k].id == id) known = TRUE;
    if (known) {
      ++added;
      continue;
    }
    if (t->count == HOOK_MAX_MANAGED) {
      added = -1;
      break;
    }
    t->ranges[t->count++] = found[i];
    ++added;
  }
  __atomic_store_n(&hookManaged, t, __ATOMIC_RELEASE); /* the old one stays readable */
  objLockRelease();
  hookRoutingUpdate();
  return added;
}

static void gcp_hook_unmanage_all(void)
{
  objLockClaim();
  __atomic_store_n(&hookManaged, NULL, __ATOMIC_RELEASE);
  objLockRelease();
  hookRoutingUpdate();
}

/* Does the hook see the caller of PyMem_Malloc / PyObject_Malloc as its
 * return address?  Allocates through the installed allocators from this
 * module and compares the object the hook saw with this one.  Returns 1
 * if attribution by call site works, 0 if not, -1 if routing is off. */
static int gcp_hook_selftest(void)
{
  PyGILState_STATE g = PyGILState_Ensure();
  unsigned self = gcp_objects_id_of((uintptr_t)(void *)gcp_hook_selftest);
  int ok = -1;
  void *p, *q;
  if (__atomic_load_n(&hookMode, __ATOMIC_RELAXED) != HOOK_OFF) {
    hookProbing = TRUE;
    hookProbe = NULL;
    /* the decision must be reached even with no managed module yet (other
     * threads meanwhile take the slow path to the same answers) */
    __atomic_store_n(&hookRouting, TRUE, __ATOMIC_RELEASE);
    p = PyMem_Malloc(8);
    ok = hookProbe != NULL && gcp_objects_id_of((uintptr_t)hookProbe) == self;
    hookProbe = NULL;
    q = PyObject_Malloc(8);
    ok = ok && hookProbe != NULL && gcp_objects_id_of((uintptr_t)hookProbe) == self;
    hookProbing = FALSE;
    hookRoutingUpdate();
    PyMem_Free(p);
    PyObject_Free(q);
  }
  PyGILState_Release(g);
  return ok;
}

/* Live routed blocks and their requested bytes. */
static size_t gcp_hook_live(size_t *bytes_o)
{
  size_t blocks = 0, bytes = 0;
  if (hookPool != NULL) gcp_segfit_live(hookPool, &blocks, &bytes);
  if (bytes_o != NULL) *bytes_o = bytes;
  return blocks;
}


/* The id of the object holding the interpreter (libpython or python). */
static unsigned gcp_objects_interpreter(void)
{
  return gcp_objects_id_of((uintptr_t)(void *)PyMem_Malloc);
}
