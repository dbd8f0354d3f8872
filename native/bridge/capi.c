/* capi.c -- gc_plugin's C API: the table of the core's MPS interface that
 * the capsule gc_plugin._native._C_API points to, and the module's init
 * function, which attaches the capsule.
 *
 * Extensions include native/include/gc_plugin.h, which maps the MPS names
 * onto this table, and call gc_plugin_import() (PyCapsule_Import): one core
 * per process.  The table is filled from the lists of gc_plugin_api.h.
 * cffi's API mode has no hook for C code at module initialisation, so this
 * file wraps the init function cffi generates: it renames cffi's
 * PyInit__native (the #define at the end, seen by the generated code that
 * follows module.c) and defines its own, which calls cffi's and adds the
 * capsule; `import gc_plugin._native` alone therefore provides it.  Must be
 * the last file module.c includes.  Design: docs/design/c-api.md.
 */

#include <Python.h>
#include "gc_plugin_api.h"

#define GCP_CAPI_FUNCTION_(ret, name, params) name,
#define GCP_CAPI_KEY_(name)                   &_mps_key_##name,

static const gc_plugin_api_s gcpCApi = { GC_PLUGIN_ABI_CURRENT, sizeof(gc_plugin_api_s),
                                         GC_PLUGIN_API_FUNCTIONS(GCP_CAPI_FUNCTION_) mps_args_none,
                                         GC_PLUGIN_API_KEYS(GCP_CAPI_KEY_) };

#undef GCP_CAPI_FUNCTION_
#undef GCP_CAPI_KEY_

/* cffi's init function, renamed by the #define below. */
PyMODINIT_FUNC gcp_cffi_PyInit__native(void);

PyMODINIT_FUNC PyInit__native(void)
{
  PyObject *module = gcp_cffi_PyInit__native();
  PyObject *capsule;
  if (module == NULL) return NULL;
  capsule = PyCapsule_New((void *)&gcpCApi, GC_PLUGIN_API_CAPSULE, NULL);
  if (capsule == NULL || PyModule_AddObjectRef(module, "_C_API", capsule) < 0) {
    Py_XDECREF(capsule);
    Py_DECREF(module);
    return NULL;
  }
  Py_DECREF(capsule);
  return module;
}

#define PyInit__native gcp_cffi_PyInit__native
