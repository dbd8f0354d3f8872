/* capi_client.c -- a Python extension that uses gc_plugin's core through
 * its C API only: it includes gc_plugin.h (from gc_plugin.get_include()),
 * calls gc_plugin_import() in its init function and then the MPS
 * interface, as any MPS client.  Built by tests/test_c_api.py, also with
 * another expected ABI version or table size to check that the import
 * refuses it.  Design: docs/design/c-api.md.
 *
 * run(arena_address, size): in the arena at arena_address (0: one of its
 * own, made with keyword arguments), an MVFF pool; allocate and free
 * blocks of size bytes (one kept until the collection), collect, and
 * return (collections before, collections after, committed while the
 * block was held).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "gc_plugin.h"

#ifndef CAPI_CLIENT_NAME
#define CAPI_CLIENT_NAME capi_client
#endif
#define CAPI_CAT_(a, b) a##b
#define CAPI_CAT(a, b)  CAPI_CAT_(a, b)
#define CAPI_STR_(a)    #a
#define CAPI_STR(a)     CAPI_STR_(a)

static PyObject *capiError(const char *what, mps_res_t res)
{
  PyErr_Format(PyExc_RuntimeError, "%s failed: %d", what, (int)res);
  return NULL;
}

static PyObject *capiRun(PyObject *self, PyObject *args)
{
  unsigned long long address;
  Py_ssize_t size;
  mps_arena_t arena;
  mps_pool_t pool;
  mps_addr_t kept, p;
  mps_res_t res;
  mps_word_t before, after;
  size_t committed;
  int own, i;
  (void)self;
  if (!PyArg_ParseTuple(args, "Kn", &address, &size)) return NULL;
  own = address == 0;
  if (own) {
    MPS_ARGS_BEGIN(a)
    {
      MPS_ARGS_ADD(a, MPS_KEY_ARENA_SIZE, (size_t)1 << 24);
      res = mps_arena_create_k(&arena, mps_arena_class_vm(), a);
    }
    MPS_ARGS_END(a);
    if (res != MPS_RES_OK) return capiError("mps_arena_create_k", res);
  } else {
    arena = (mps_arena_t)(uintptr_t)address;
  }
  res = mps_pool_create_k(&pool, arena, mps_class_mvff(), mps_args_none);
  if (res != MPS_RES_OK) return capiError("mps_pool_create_k", res);
  res = mps_alloc(&kept, pool, (size_t)size);
  if (res != MPS_RES_OK) return capiError("mps_alloc", res);
  for (i = 0; i < 100; ++i) {
    res = mps_alloc(&p, pool, 64);
    if (res != MPS_RES_OK) return capiError("mps_alloc", res);
    mps_free(pool, p, 64);
  }
  committed = mps_arena_committed(arena);
  before = mps_collections(arena);
  res = mps_arena_collect(arena);
  if (res != MPS_RES_OK) return capiError("mps_arena_collect", res);
  mps_arena_release(arena);
  after = mps_collections(arena);
  mps_free(pool, kept, (size_t)size);
  mps_pool_destroy(pool);
  if (own) mps_arena_destroy(arena);
  return Py_BuildValue("kkn", (unsigned long)before, (unsigned long)after, (Py_ssize_t)committed);
}

static PyMethodDef capiMethods[] = { { "run", capiRun, METH_VARARGS,
                                       "run(arena_address, size) -> (before, after, committed)" },
                                     { NULL, NULL, 0, NULL } };

static struct PyModuleDef capiModule = {
  PyModuleDef_HEAD_INIT, CAPI_STR(CAPI_CLIENT_NAME), NULL, -1, capiMethods, NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC CAPI_CAT(PyInit_, CAPI_CLIENT_NAME)(void)
{
  if (gc_plugin_import() < 0) return NULL;
  return PyModule_Create(&capiModule);
}
