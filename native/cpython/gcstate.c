/* gcstate.c -- where the cyclic garbage collector's object lists start.
 *
 * Every object the cyclic GC tracks sits on a doubly linked list through
 * its PyGC_Head, one list per generation plus the permanent one, each with
 * a head in the interpreter's GC state.  Those links join objects
 * regardless of who owns them, so the leak finder (leaks.c) must not take
 * them for references; it needs the heads to walk the lists.  The GC
 * state is internal to CPython, so this file is compiled on its own (a
 * second source of the extension, gc_plugin/_build.py) with
 * Py_BUILD_CORE, the only one that sees CPython's internal headers.
 * Design: docs/design/leaks.md (the GC's links).
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stdint.h>
#include "internal/pycore_interp.h"
#include "cpython/gcstate.h"

_Static_assert(sizeof(GcLinks) == sizeof(PyGC_Head) &&
                   offsetof(GcLinks, next) == offsetof(PyGC_Head, _gc_next) &&
                   offsetof(GcLinks, prev) == offsetof(PyGC_Head, _gc_prev),
               "GcLinks (gcstate.h) must be laid out as CPython's PyGC_Head");

#if PY_VERSION_HEX >= 0x030E0000
#error "gcstate.c: the GC state of Python 3.14 and later (incremental GC) is not supported yet"
#endif

size_t gcpGcListHeads(uintptr_t *out, size_t max)
{
  PyInterpreterState *interp = PyInterpreterState_Get();
  struct _gc_runtime_state *gc = &interp->gc;
  size_t n = 0, g;
  for (g = 0; g < sizeof gc->generations / sizeof gc->generations[0]; ++g) {
    if (n < max) out[n] = (uintptr_t)&gc->generations[g].head;
    ++n;
  }
  if (n < max) out[n] = (uintptr_t)&gc->permanent_generation.head;
  return n + 1;
}
