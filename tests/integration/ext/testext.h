/* testext.h -- the body of the test extension modules of tests/integration.
 *
 * Each module's .c file defines GCPT_NAME (the full module name, a string)
 * and GCPT_INIT (its PyInit_ function) and includes this file, so that the
 * same code is compiled into several shared objects: the hook attributes
 * an allocation to the object whose code called PyMem_Malloc, so two
 * modules built from one source can still be told apart.
 *
 * Addresses cross into Python as ints.  Domains are named:
 *   alloc:   "mem" PyMem_Malloc, "obj" PyObject_Malloc, "raw" PyMem_RawMalloc,
 *            "calloc" PyMem_Calloc(size, 1), "ocalloc" PyObject_Calloc(size, 1),
 *            "rawcalloc" PyMem_RawCalloc(size, 1)
 *   free / realloc / calloc: "mem", "obj", "raw"
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#define GCPT_INIT_SIZE   777 /* the block PyInit_ allocates and keeps */
#define GCPT_MAX_THREADS 64

enum { D_MEM, D_OBJ, D_RAW, D_CALLOC, D_OCALLOC, D_RAWCALLOC, D_BAD };

static void *gcpt_init_block; /* allocated by the module's init function */

static int gcpt_domain(const char *s, int allocating)
{
  static const char *const names[] = { "mem", "obj", "raw", "calloc", "ocalloc", "rawcalloc" };
  int i, n = allocating ? 6 : 3;
  for (i = 0; i < n; ++i)
    if (strcmp(s, names[i]) == 0) return i;
  PyErr_Format(PyExc_ValueError, "unknown domain %s", s);
  return D_BAD;
}

/* Not inlined, so that the call of PyMem_* is in this object's code
 * whatever the caller (a tail call from here still returns into it). */
static __attribute__((noinline)) void *gcpt_alloc(int d, size_t size)
{
  void *p = NULL;
  switch (d) {
  case D_MEM: p = PyMem_Malloc(size); break;
  case D_OBJ: p = PyObject_Malloc(size); break;
  case D_RAW: p = PyMem_RawMalloc(size); break;
  case D_CALLOC: p = PyMem_Calloc(size, 1); break;
  case D_OCALLOC: p = PyObject_Calloc(size, 1); break;
  case D_RAWCALLOC: p = PyMem_RawCalloc(size, 1); break;
  }
  __asm__ volatile("" : : "r"(p) : "memory"); /* no tail call */
  return p;
}

static __attribute__((noinline)) void gcpt_free(int d, void *p)
{
  switch (d) {
  case D_MEM: PyMem_Free(p); break;
  case D_OBJ: PyObject_Free(p); break;
  case D_RAW: PyMem_RawFree(p); break;
  }
}

static void *gcpt_ptr(PyObject *o) { return PyLong_AsVoidPtr(o); }

static PyObject *m_alloc(PyObject *self, PyObject *args)
{
  const char *dom;
  Py_ssize_t size;
  int d;
  (void)self;
  if (!PyArg_ParseTuple(args, "sn", &dom, &size)) return NULL;
  if ((d = gcpt_domain(dom, 1)) == D_BAD) return NULL;
  return PyLong_FromVoidPtr(gcpt_alloc(d, (size_t)size));
}

static PyObject *m_calloc(PyObject *self, PyObject *args)
{
  const char *dom;
  Py_ssize_t nelem, elsize;
  void *p = NULL;
  int d;
  (void)self;
  if (!PyArg_ParseTuple(args, "snn", &dom, &nelem, &elsize)) return NULL;
  if ((d = gcpt_domain(dom, 0)) == D_BAD) return NULL;
  switch (d) {
  case D_MEM: p = PyMem_Calloc((size_t)nelem, (size_t)elsize); break;
  case D_OBJ: p = PyObject_Calloc((size_t)nelem, (size_t)elsize); break;
  case D_RAW: p = PyMem_RawCalloc((size_t)nelem, (size_t)elsize); break;
  }
  return PyLong_FromVoidPtr(p);
}

static PyObject *m_free(PyObject *self, PyObject *args)
{
  const char *dom = "mem";
  PyObject *addr;
  int d;
  (void)self;
  if (!PyArg_ParseTuple(args, "O|s", &addr, &dom)) return NULL;
  if ((d = gcpt_domain(dom, 0)) == D_BAD) return NULL;
  gcpt_free(d, gcpt_ptr(addr));
  Py_RETURN_NONE;
}

static PyObject *m_realloc(PyObject *self, PyObject *args)
{
  const char *dom = "mem";
  PyObject *addr;
  Py_ssize_t size;
  void *p, *q = NULL;
  int d;
  (void)self;
  if (!PyArg_ParseTuple(args, "On|s", &addr, &size, &dom)) return NULL;
  if ((d = gcpt_domain(dom, 0)) == D_BAD) return NULL;
  p = gcpt_ptr(addr);
  if (p == NULL && PyErr_Occurred()) return NULL;
  switch (d) {
  case D_MEM: q = PyMem_Realloc(p, (size_t)size); break;
  case D_OBJ: q = PyObject_Realloc(p, (size_t)size); break;
  case D_RAW: q = PyMem_RawRealloc(p, (size_t)size); break;
  }
  return PyLong_FromVoidPtr(q);
}

static unsigned char gcpt_byte(size_t i, unsigned seed)
{
  return (unsigned char)((i * 131u + seed * 7u + 1u) & 0xFF);
}

/* fill(addr, size, seed): write a pattern */
static PyObject *m_fill(PyObject *self, PyObject *args)
{
  PyObject *addr;
  Py_ssize_t size, i;
  unsigned seed;
  unsigned char *p;
  (void)self;
  if (!PyArg_ParseTuple(args, "OnI", &addr, &size, &seed)) return NULL;
  p = gcpt_ptr(addr);
  for (i = 0; i < size; ++i) p[i] = gcpt_byte((size_t)i, seed);
  Py_RETURN_NONE;
}

/* check(addr, size, seed) -> bool: does the pattern stand? */
static PyObject *m_check(PyObject *self, PyObject *args)
{
  PyObject *addr;
  Py_ssize_t size, i;
  unsigned seed;
  const unsigned char *p;
  (void)self;
  if (!PyArg_ParseTuple(args, "OnI", &addr, &size, &seed)) return NULL;
  p = gcpt_ptr(addr);
  for (i = 0; i < size; ++i)
    if (p[i] != gcpt_byte((size_t)i, seed)) Py_RETURN_FALSE;
  Py_RETURN_TRUE;
}

/* set(addr, size, byte): memset */
static PyObject *m_set(PyObject *self, PyObject *args)
{
  PyObject *addr;
  Py_ssize_t size;
  int byte;
  (void)self;
  if (!PyArg_ParseTuple(args, "Oni", &addr, &size, &byte)) return NULL;
  memset(gcpt_ptr(addr), byte, (size_t)size);
  Py_RETURN_NONE;
}

/* is_zero(addr, size) -> bool */
static PyObject *m_is_zero(PyObject *self, PyObject *args)
{
  PyObject *addr;
  Py_ssize_t size, i;
  const unsigned char *p;
  (void)self;
  if (!PyArg_ParseTuple(args, "On", &addr, &size)) return NULL;
  p = gcpt_ptr(addr);
  for (i = 0; i < size; ++i)
    if (p[i] != 0) Py_RETURN_FALSE;
  Py_RETURN_TRUE;
}

/* init_block() -> (addr, size): the block the init function allocated
 * with PyMem_Malloc and keeps (0 once released) */
static PyObject *m_init_block(PyObject *self, PyObject *noargs)
{
  (void)self;
  (void)noargs;
  return Py_BuildValue("(Nn)", PyLong_FromVoidPtr(gcpt_init_block),
                       (Py_ssize_t)(gcpt_init_block != NULL ? GCPT_INIT_SIZE : 0));
}

static PyObject *m_release_init_block(PyObject *self, PyObject *noargs)
{
  (void)self;
  (void)noargs;
  PyMem_Free(gcpt_init_block);
  gcpt_init_block = NULL;
  Py_RETURN_NONE;
}

/* ---- native threads ------------------------------------------------------ */

typedef struct Many {
  pthread_t thread;
  int domain;
  size_t count, size;
  void **out;
} Many;

static void *gcpt_many_thread(void *arg)
{
  Many *m = arg;
  size_t i;
  for (i = 0; i < m->count; ++i) {
    PyGILState_STATE g = PyGILState_Ensure();
    m->out[i] = gcpt_alloc(m->domain, m->size);
    if (m->out[i] != NULL) memset(m->out[i], 0xA5, m->size);
    PyGILState_Release(g);
  }
  return NULL;
}

/* alloc_many(nthreads, count, size, domain="mem") -> [addr]: each of
 * nthreads native threads allocates count blocks, taking the GIL for
 * each call. */
static PyObject *m_alloc_many(PyObject *self, PyObject *args)
{
  Py_ssize_t nthreads, count, size, i, k;
  const char *dom = "mem";
  Many many[GCPT_MAX_THREADS];
  void **out;
  PyObject *list;
  int d, failed = 0;
  (void)self;
  if (!PyArg_ParseTuple(args, "nnn|s", &nthreads, &count, &size, &dom)) return NULL;
  if ((d = gcpt_domain(dom, 1)) == D_BAD) return NULL;
  if (nthreads < 1 || nthreads > GCPT_MAX_THREADS || count < 0 || size < 0)
    return PyErr_Format(PyExc_ValueError, "bad thread or block count");
  out = calloc((size_t)(nthreads * count) + 1, sizeof *out);
  if (out == NULL) return PyErr_NoMemory();
  Py_BEGIN_ALLOW_THREADS for (i = 0; i < nthreads; ++i)
  {
    many[i].domain = d;
    many[i].count = (size_t)count;
    many[i].size = (size_t)size;
    many[i].out = out + i * count;
    if (pthread_create(&many[i].thread, NULL, gcpt_many_thread, &many[i]) != 0) {
      failed = 1;
      nthreads = i;
      break;
    }
  }
  for (i = 0; i < nthreads; ++i) pthread_join(many[i].thread, NULL);
  Py_END_ALLOW_THREADS list = PyList_New(0);
  for (k = 0; list != NULL && k < nthreads * count; ++k) {
    PyObject *a = PyLong_FromVoidPtr(out[k]);
    if (a == NULL || PyList_Append(list, a) < 0) Py_CLEAR(list);
    Py_XDECREF(a);
  }
  free(out);
  if (failed) {
    Py_XDECREF(list);
    return PyErr_Format(PyExc_RuntimeError, "pthread_create failed");
  }
  return list;
}

/* churn: threads allocate blocks of varying sizes (the size and a pattern
 * written into each), swap them into a shared slot table and free what
 * they take out, which another thread usually allocated.  Each block
 * starts with its size; the rest of it is the byte (size & 0xFF). */
typedef struct Churn {
  pthread_t thread;
  unsigned id;
  size_t iters, maxSize;
  void **slots;
  size_t nslots;
  size_t corrupt, failed;
} Churn;

static int gcpt_block_ok(const unsigned char *p)
{
  size_t size, i;
  memcpy(&size, p, sizeof size);
  for (i = sizeof size; i < size; ++i)
    if (p[i] != (unsigned char)(size & 0xFF)) return 0;
  return 1;
}

static void *gcpt_churn_thread(void *arg)
{
  Churn *c = arg;
  uint64_t x = 0x9E3779B97F4A7C15ull * (c->id + 1);
  size_t i;
  for (i = 0; i < c->iters; ++i) {
    size_t size, slot;
    unsigned char *p;
    void *old;
    int d;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    size = sizeof(size_t) + (size_t)(x % (c->maxSize - sizeof(size_t) + 1));
    slot = (size_t)(x >> 24) % c->nslots;
    d = (x >> 40) & 1 ? D_OBJ : D_MEM;
    {
      PyGILState_STATE g = PyGILState_Ensure();
      p = gcpt_alloc(d, size);
      PyGILState_Release(g);
    }
    if (p == NULL) {
      ++c->failed;
      continue;
    }
    memcpy(p, &size, sizeof size);
    memset(p + sizeof size, (int)(size & 0xFF), size - sizeof size);
    old = __atomic_exchange_n(&c->slots[slot], p, __ATOMIC_ACQ_REL);
    if (old != NULL) {
      PyGILState_STATE g;
      if (!gcpt_block_ok(old)) ++c->corrupt;
      g = PyGILState_Ensure();
      gcpt_free((x >> 41) & 1 ? D_OBJ : D_MEM, old); /* mixed frees on purpose */
      PyGILState_Release(g);
    }
  }
  return NULL;
}

/* churn(nthreads, iters, nslots, max_size) -> ([(addr, size)], corrupt, failed):
 * the blocks left in the slots, the blocks found damaged, the allocations
 * that failed. */
static PyObject *m_churn(PyObject *self, PyObject *args)
{
  Py_ssize_t nthreads, iters, nslots, maxSize, i;
  Churn churn[GCPT_MAX_THREADS];
  void **slots;
  size_t corrupt = 0, failed = 0;
  PyObject *list;
  int started = 1;
  (void)self;
  if (!PyArg_ParseTuple(args, "nnnn", &nthreads, &iters, &nslots, &maxSize)) return NULL;
  if (nthreads < 1 || nthreads > GCPT_MAX_THREADS || iters < 0 || nslots < 1 ||
      maxSize < (Py_ssize_t)sizeof(size_t))
    return PyErr_Format(PyExc_ValueError, "bad churn parameters");
  slots = calloc((size_t)nslots, sizeof *slots);
  if (slots == NULL) return PyErr_NoMemory();
  Py_BEGIN_ALLOW_THREADS for (i = 0; i < nthreads; ++i)
  {
    memset(&churn[i], 0, sizeof churn[i]);
    churn[i].id = (unsigned)i;
    churn[i].iters = (size_t)iters;
    churn[i].maxSize = (size_t)maxSize;
    churn[i].slots = slots;
    churn[i].nslots = (size_t)nslots;
    if (pthread_create(&churn[i].thread, NULL, gcpt_churn_thread, &churn[i]) != 0) {
      started = 0;
      nthreads = i;
      break;
    }
  }
  for (i = 0; i < nthreads; ++i) {
    pthread_join(churn[i].thread, NULL);
    corrupt += churn[i].corrupt;
    failed += churn[i].failed;
  }
  Py_END_ALLOW_THREADS list = PyList_New(0);
  for (i = 0; list != NULL && i < nslots; ++i) {
    size_t size;
    PyObject *t;
    if (slots[i] == NULL) continue;
    if (!gcpt_block_ok(slots[i])) ++corrupt;
    memcpy(&size, slots[i], sizeof size);
    t = Py_BuildValue("(Nn)", PyLong_FromVoidPtr(slots[i]), (Py_ssize_t)size);
    if (t == NULL || PyList_Append(list, t) < 0) Py_CLEAR(list);
    Py_XDECREF(t);
  }
  free(slots);
  if (!started) {
    Py_XDECREF(list);
    return PyErr_Format(PyExc_RuntimeError, "pthread_create failed");
  }
  if (list == NULL) return NULL;
  return Py_BuildValue("(Nnn)", list, (Py_ssize_t)corrupt, (Py_ssize_t)failed);
}

/* ---- static types -------------------------------------------------------
 * Thing: no GC header; allocated by this module's own code (PyObject_Malloc
 * in tp_new), so in "managed" mode it is routed with the module's id.
 * Box: a GC type allocated by the interpreter (PyType_GenericAlloc), so it
 * is routed only in "all" mode and attributed by its type. */

typedef struct {
  PyObject_HEAD long value;
} Thing;

static PyTypeObject ThingType;

static __attribute__((noinline)) PyObject *gcpt_new_thing(long value)
{
  Thing *t = PyObject_Malloc(sizeof(Thing));
  if (t == NULL) return PyErr_NoMemory();
  PyObject_Init((PyObject *)t, &ThingType);
  t->value = value;
  __asm__ volatile("" : : "r"(t) : "memory");
  return (PyObject *)t;
}

static PyObject *thing_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
  long value = 0;
  static char *kw[] = { "value", NULL };
  (void)type;
  if (!PyArg_ParseTupleAndKeywords(args, kwds, "|l", kw, &value)) return NULL;
  return gcpt_new_thing(value);
}

static void thing_dealloc(PyObject *self) { PyObject_Free(self); }

static PyObject *thing_get_value(PyObject *self, void *closure)
{
  (void)closure;
  return PyLong_FromLong(((Thing *)self)->value);
}

static PyGetSetDef thing_getset[] = {
  { "value", thing_get_value, NULL, NULL, NULL },
  { NULL, NULL, NULL, NULL, NULL },
};

static PyTypeObject ThingType = {
  PyVarObject_HEAD_INIT(NULL, 0).tp_name = GCPT_NAME ".Thing",
  .tp_basicsize = sizeof(Thing),
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_new = thing_new,
  .tp_dealloc = thing_dealloc,
  .tp_free = PyObject_Free,
  .tp_getset = thing_getset,
};

typedef struct {
  PyObject_HEAD PyObject *item;
} Box;

static int box_traverse(PyObject *self, visitproc visit, void *arg)
{
  Py_VISIT(((Box *)self)->item);
  return 0;
}

static int box_clear(PyObject *self)
{
  Py_CLEAR(((Box *)self)->item);
  return 0;
}

static void box_dealloc(PyObject *self)
{
  PyObject_GC_UnTrack(self);
  (void)box_clear(self);
  Py_TYPE(self)->tp_free(self);
}

static int box_init(PyObject *self, PyObject *args, PyObject *kwds)
{
  PyObject *item = Py_None;
  static char *kw[] = { "item", NULL };
  if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O", kw, &item)) return -1;
  Py_INCREF(item);
  Py_XSETREF(((Box *)self)->item, item);
  return 0;
}

static PyTypeObject BoxType = {
  PyVarObject_HEAD_INIT(NULL, 0).tp_name = GCPT_NAME ".Box",
  .tp_basicsize = sizeof(Box),
  .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
  .tp_new = PyType_GenericNew,
  .tp_alloc = PyType_GenericAlloc,
  .tp_init = box_init,
  .tp_dealloc = box_dealloc,
  .tp_traverse = box_traverse,
  .tp_clear = box_clear,
  .tp_free = PyObject_GC_Del,
};

/* make_things(n) -> [Thing]: n Things made by this module's code */
static PyObject *m_make_things(PyObject *self, PyObject *args)
{
  Py_ssize_t n, i;
  PyObject *list;
  (void)self;
  if (!PyArg_ParseTuple(args, "n", &n)) return NULL;
  if ((list = PyList_New(n)) == NULL) return NULL;
  for (i = 0; i < n; ++i) {
    PyObject *t = gcpt_new_thing((long)i);
    if (t == NULL) {
      Py_DECREF(list);
      return NULL;
    }
    PyList_SET_ITEM(list, i, t);
  }
  return list;
}

static PyMethodDef gcpt_methods[] = {
  { "alloc", m_alloc, METH_VARARGS, "alloc(domain, size) -> address" },
  { "calloc", m_calloc, METH_VARARGS, "calloc(domain, nelem, elsize) -> address" },
  { "free", m_free, METH_VARARGS, "free(address, domain='mem')" },
  { "realloc", m_realloc, METH_VARARGS, "realloc(address, size, domain='mem') -> address" },
  { "fill", m_fill, METH_VARARGS, "fill(address, size, seed): write a pattern" },
  { "check", m_check, METH_VARARGS, "check(address, size, seed) -> bool" },
  { "set", m_set, METH_VARARGS, "set(address, size, byte): memset" },
  { "is_zero", m_is_zero, METH_VARARGS, "is_zero(address, size) -> bool" },
  { "init_block", m_init_block, METH_NOARGS, "the init function's block: (address, size)" },
  { "release_init_block", m_release_init_block, METH_NOARGS, "free the init function's block" },
  { "alloc_many", m_alloc_many, METH_VARARGS,
    "alloc_many(nthreads, count, size, domain='mem') -> [address] from native threads" },
  { "churn", m_churn, METH_VARARGS,
    "churn(nthreads, iters, nslots, max_size) -> ([(address, size)], corrupt, failed)" },
  { "make_things", m_make_things, METH_VARARGS, "make_things(n) -> [Thing]" },
  { NULL, NULL, 0, NULL },
};

static struct PyModuleDef gcpt_module = {
  PyModuleDef_HEAD_INIT, GCPT_NAME, NULL, -1, gcpt_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC GCPT_INIT(void)
{
  PyObject *m;
  if (PyType_Ready(&ThingType) < 0 || PyType_Ready(&BoxType) < 0) return NULL;
  if (gcpt_init_block == NULL) {
    gcpt_init_block = PyMem_Malloc(GCPT_INIT_SIZE);
    if (gcpt_init_block == NULL) return PyErr_NoMemory();
    memset(gcpt_init_block, 0x5A, GCPT_INIT_SIZE);
  }
  m = PyModule_Create(&gcpt_module);
  if (m == NULL) return NULL;
  Py_INCREF(&ThingType);
  Py_INCREF(&BoxType);
  if (PyModule_AddObject(m, "Thing", (PyObject *)&ThingType) < 0 ||
      PyModule_AddObject(m, "Box", (PyObject *)&BoxType) < 0 ||
      PyModule_AddIntConstant(m, "INIT_SIZE", GCPT_INIT_SIZE) < 0) {
    Py_DECREF(m);
    return NULL;
  }
  return m;
}
