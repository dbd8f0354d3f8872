/* gcstate.h -- the interface of gcstate.c, which is compiled apart from
 * the rest (with CPython's internal headers): where the cyclic GC's object
 * lists start.  Design: docs/design/leaks.md (the GC's links).
 */
#ifndef GCP_GCSTATE_H
#define GCP_GCSTATE_H

#include <stddef.h>
#include <stdint.h>

/* A PyGC_Head, which is internal to CPython: the links of the list its
 * object is on (gcstate.c checks that the layouts agree). */
typedef struct GcLinks {
  uintptr_t next; /* _gc_next: the next object's links, or the list's head */
  uintptr_t prev; /* _gc_prev, with flags in its low bits */
} GcLinks;

/* The PyGC_Head of each of the calling thread's interpreter's GC lists
 * (the generations, then the permanent one) into out (at most max);
 * returns how many there are.  With the GIL held. */
size_t gcpGcListHeads(uintptr_t *out, size_t max);

#endif /* GCP_GCSTATE_H */
