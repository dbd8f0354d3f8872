/* clients.c -- everything gcp_testing._clients is compiled from, as one
 * translation unit: the graph format (graph.c) and the weak table
 * (weaktable.c), ordinary MPS clients, reaching the core of gc_plugin
 * through its C API (gc_plugin.h, included first, maps the MPS names onto
 * the capsule's table) instead of a core of their own.
 *
 * cffi puts Python.h first and its generated wrappers after this file
 * (tests/gcp_testing/_build.py names it as the only source).  cffi's API
 * mode has no hook for C at module initialisation, so the init function
 * cffi generates is renamed (the #define at the end) and wrapped: the
 * module's PyInit__clients first calls gc_plugin_import(), whose
 * ImportError then fails the import, as NumPy extensions call
 * import_array().  Design: docs/design/c-api.md.
 */

#include "gc_plugin.h"

#include "graph.c"
#include "weaktable.c"

/* cffi's init function, renamed by the #define below. */
PyMODINIT_FUNC gcp_testing_cffi_init(void);

PyMODINIT_FUNC PyInit__clients(void)
{
  if (gc_plugin_import() < 0) return NULL;
  return gcp_testing_cffi_init();
}

#define PyInit__clients gcp_testing_cffi_init
