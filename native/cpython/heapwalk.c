/* heapwalk.c -- the routed heap as records: every live block of the hook's
 * pool with its size, domain, allocating object and, for objects, type.
 *
 * The type of an OBJ-domain block is found without trusting its contents:
 * a candidate type pointer is read at each place an object header can be
 * (0 bytes in for objects without a GC header, 16 with one, 32 with a GC
 * header and a managed-dict pre-header) and accepted only if it is one of
 * the types the caller listed (every type reachable from object's
 * subclasses) and that type's flags put its header at that very offset
 * and its smallest object fits the block.  Only validated type pointers are
 * dereferenced.  The walk holds the GIL, so no Python thread changes the
 * heap under it, and the arena lock, so no run is given back.
 * Design: docs/design/cpython-hook.md (walks).
 */
#include "cpython/cpython.h"

#ifndef Py_TPFLAGS_MANAGED_DICT
#define Py_TPFLAGS_MANAGED_DICT (1UL << 4)
#endif
#ifndef Py_TPFLAGS_MANAGED_WEAKREF
#define Py_TPFLAGS_MANAGED_WEAKREF (1UL << 3)
#endif

typedef struct gcp_heap_record {
  uintptr_t address;
  size_t size;
  unsigned domain; /* 1 MEM, 2 OBJ */
  unsigned object; /* id of the loaded object that allocated it, or 0 */
  uintptr_t type;  /* the object's type, or 0 */
} gcp_heap_record;

typedef struct HeapWalk {
  gcp_heap_record *out;
  size_t capacity, count;
  HeapTypes types;
} HeapWalk;

static Bool heapIsType(const HeapTypes *types, uintptr_t t)
{
  size_t lo = 0, hi = types->count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (types->types[mid] == t) return TRUE;
    if (types->types[mid] < t)
      lo = mid + 1;
    else
      hi = mid;
  }
  return FALSE;
}

static Size heapPreHeader(const PyTypeObject *tp)
{
  Size pre = 0;
#if PY_VERSION_HEX >= 0x030C0000
  if (tp->tp_flags & (Py_TPFLAGS_MANAGED_DICT | Py_TPFLAGS_MANAGED_WEAKREF)) pre += 16;
#else
  if (tp->tp_flags & Py_TPFLAGS_MANAGED_DICT) pre += 16;
#endif
  if (tp->tp_flags & Py_TPFLAGS_HAVE_GC) pre += 16; /* sizeof(PyGC_Head) */
  return pre;
}

/* The smallest object of type tp: its basic size, except for exact str,
 * whose compact (ASCII) strings are smaller than tp_basicsize (the size of
 * the legacy, non-compact layout). */
static Size heapMinSize(const PyTypeObject *tp)
{
  if (tp == &PyUnicode_Type) return sizeof(PyASCIIObject);
  return (Size)tp->tp_basicsize;
}

INTERN uintptr_t HeapTypeOf(const HeapTypes *types, Addr block, Size size, Size *offsetReturn)
{
  static const Size offsets[] = { 0, 16, 32 };
  Index k;
  for (k = 0; k < NELEMS(offsets); ++k) {
    Size off = offsets[k];
    uintptr_t t;
    const PyTypeObject *tp;
    if (size < off + 2 * sizeof(void *)) break;
    t = ((const uintptr_t *)(const void *)(block + off))[1];
    if (!heapIsType(types, t)) continue;
    tp = (const PyTypeObject *)t;
    if (heapPreHeader(tp) != off || heapMinSize(tp) > size - off) continue;
    if (((const Py_ssize_t *)(const void *)(block + off))[0] <= 0) continue;
    *offsetReturn = off;
    return t;
  }
  *offsetReturn = 0;
  return 0;
}

static void heapVisit(mps_addr_t block, size_t size, unsigned tag, void *closure)
{
  HeapWalk *w = closure;
  if (w->count < w->capacity) {
    gcp_heap_record *r = &w->out[w->count];
    r->address = (uintptr_t)block;
    r->size = size;
    r->domain = tag >> HOOK_DOMAIN_SHIFT;
    r->object = tag & HOOK_ID_MASK;
    Size offset;
    r->type = r->domain == HOOK_TAG_OBJ ? HeapTypeOf(&w->types, block, size, &offset) : 0;
  }
  ++w->count;
}

/* Fill out with up to capacity records; returns the number of live
 * blocks (call again with more room if that is larger than capacity).
 * types: the addresses of all live type objects, sorted. */
static size_t gcp_heap_walk(gcp_heap_record *out, size_t capacity, const uintptr_t *types,
                            size_t type_count)
{
  HeapWalk w = { out, capacity, 0, { types, type_count } };
  PyGILState_STATE g;
  if (HookPool() == NULL) return 0;
  g = PyGILState_Ensure();
  gcp_segfit_walk(HookPool(), heapVisit, &w);
  PyGILState_Release(g);
  return w.count;
}

/* ---- aggregation -------------------------------------------------------- */

typedef struct gcp_heap_group {
  unsigned domain, object;
  uintptr_t type;
  size_t blocks, bytes;
} gcp_heap_group;

typedef struct HeapSummary {
  HeapWalk walk;         /* for the type list */
  gcp_heap_group *table; /* open addressing; blocks == 0 marks empty */
  size_t slots, used;
  Bool full;
} HeapSummary;

static size_t heapGroupHash(unsigned domain, unsigned object, uintptr_t type)
{
  uint64_t h = ((uint64_t)type >> 4) * 0x9E3779B97F4A7C15ULL;
  h ^= ((uint64_t)object << 2 | domain) * 0xC2B2AE3D27D4EB4FULL;
  return (size_t)(h ^ (h >> 29));
}

static void heapSummaryVisit(mps_addr_t block, size_t size, unsigned tag, void *closure)
{
  HeapSummary *s = closure;
  unsigned domain = tag >> HOOK_DOMAIN_SHIFT, object = tag & HOOK_ID_MASK;
  Size offset;
  uintptr_t type = domain == HOOK_TAG_OBJ ? HeapTypeOf(&s->walk.types, block, size, &offset) : 0;
  size_t i = heapGroupHash(domain, object, type) & (s->slots - 1);
  for (;;) {
    gcp_heap_group *g = &s->table[i];
    if (g->blocks == 0) {
      if (2 * (s->used + 1) > s->slots) {
        s->full = TRUE;
        return;
      }
      g->domain = domain;
      g->object = object;
      g->type = type;
      ++s->used;
    }
    if (g->domain == domain && g->object == object && g->type == type) {
      ++g->blocks;
      g->bytes += size;
      return;
    }
    i = (i + 1) & (s->slots - 1);
  }
}

/* Group the live blocks by (domain, object, type) into out (capacity a
 * power of two, at least twice the groups expected); returns the number
 * of groups, packed at the start of out, or (size_t)-1 if out was too
 * small. */
static size_t gcp_heap_summary(gcp_heap_group *out, size_t capacity, const uintptr_t *types,
                               size_t type_count)
{
  HeapSummary s;
  PyGILState_STATE g;
  size_t i, n = 0;
  if (capacity == 0 || (capacity & (capacity - 1)) != 0) return (size_t)-1;
  memset(out, 0, capacity * sizeof *out);
  if (HookPool() == NULL) return 0;
  s.walk.out = NULL;
  s.walk.capacity = 0;
  s.walk.count = 0;
  s.walk.types.types = types;
  s.walk.types.count = type_count;
  s.table = out;
  s.slots = capacity;
  s.used = 0;
  s.full = FALSE;
  g = PyGILState_Ensure();
  gcp_segfit_walk(HookPool(), heapSummaryVisit, &s);
  PyGILState_Release(g);
  if (s.full) return (size_t)-1;
  for (i = 0; i < capacity; ++i)
    if (out[i].blocks != 0) out[n++] = out[i];
  return n;
}
