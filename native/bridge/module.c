/* module.c -- everything gc_plugin._native is compiled from, as one
 * translation unit: cffi puts Python.h first (which defines _GNU_SOURCE,
 * as mps.c wants) and its generated wrappers after this file, which
 * gc_plugin/_build.py names as the module's only source.
 */

/* The core. */
#include "mps.c"
#include "mpscmvff.h"
#include "mpscmvt.h"
#include "mpscsegfit.h"
#include "mpscamc.h"
#include "mpsclo.h"
#include "mpscams.h"
#include "mpscawl.h"
#include "mpscsnc.h"

/* The bridge to the Python layer. */
#include "bridge/gcp_py.c"

/* The CPython integration. */
#include "cpython/objects.c"
#include "cpython/sites.c"
#include "cpython/hook.c"
#include "cpython/heapwalk.c"
#include "cpython/gcroots.c"
#include "cpython/scratch.c"
#include "cpython/leaks.c"

/* The cdef names the function forms of the inline AP macros, which the
 * wrappers cffi generates after this file call. */
#undef mps_reserve
#undef mps_commit

/* The C API's table and capsule, and the module's init function (last:
 * it renames cffi's init function, which follows). */
#include "bridge/capi.c"
