/* leaky: a small least-recently-used cache of byte strings.
 *
 *   >>> import leaky
 *   >>> cache = leaky.Cache(2)
 *   >>> cache.put(b"a", b"1"); cache.put(b"b", b"2"); cache.put(b"c", b"3")
 *   >>> cache.get(b"a"), cache.get(b"c"), len(cache)
 *   (None, b'3', 2)
 *
 * Entries are kept in a singly linked list, most recently used first; when
 * the cache holds more than its capacity the least recently used entry is
 * dropped. Keys and values are copied into memory from PyMem_Malloc.
 *
 * This is gc_plugin's example of a leaky extension: it has two memory leaks
 * on purpose, for the leak finder to find (README.md beside this file says
 * where). Please do not fix them.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#include <string.h>
#include <structmember.h> /* T_PYSSIZET, READONLY: the names Python 3.11 has */

typedef struct Entry {
  struct Entry *next;
  char *value;
  Py_ssize_t vlen;
  Py_ssize_t klen;
  char key[];
} Entry;

typedef struct {
  PyObject_HEAD Entry *head; /* most recently used first */
  Py_ssize_t len;
  Py_ssize_t capacity;
  Py_ssize_t hits;
  Py_ssize_t misses;
} CacheObject;

static Entry *entry_new(const char *key, Py_ssize_t klen)
{
  Entry *e = PyMem_Malloc(offsetof(Entry, key) + (size_t)klen);
  if (e == NULL) return NULL;
  e->next = NULL;
  e->value = NULL;
  e->vlen = 0;
  e->klen = klen;
  memcpy(e->key, key, (size_t)klen);
  return e;
}

/* Copy value (any bytes-like object) into e, replacing its value. */
static int entry_set_value(Entry *e, PyObject *value)
{
  Py_buffer view;
  char *copy;
  if (PyObject_GetBuffer(value, &view, PyBUF_SIMPLE) < 0) return -1;
  copy = PyMem_Malloc((size_t)view.len);
  if (copy == NULL) {
    PyBuffer_Release(&view);
    PyErr_NoMemory();
    return -1;
  }
  memcpy(copy, view.buf, (size_t)view.len);
  PyMem_Free(e->value);
  e->value = copy;
  e->vlen = view.len;
  PyBuffer_Release(&view);
  return 0;
}

static void entry_free(Entry *e)
{
  if (e == NULL) return;
  PyMem_Free(e->value);
  PyMem_Free(e);
}

static void entries_free(Entry *e)
{
  while (e != NULL) {
    Entry *next = e->next;
    entry_free(e);
    e = next;
  }
}

/* The entry of this key, moved to the front; NULL if there is none. */
static Entry *cache_find(CacheObject *self, const char *key, Py_ssize_t klen)
{
  Entry **link = &self->head;
  for (Entry *e = self->head; e != NULL; link = &e->next, e = e->next) {
    if (e->klen == klen && memcmp(e->key, key, (size_t)klen) == 0) {
      *link = e->next;
      e->next = self->head;
      self->head = e;
      return e;
    }
  }
  return NULL;
}

/* Drop the least recently used entries while over capacity. */
static void cache_evict(CacheObject *self)
{
  while (self->len > self->capacity && self->head != NULL) {
    Entry **link = &self->head;
    while ((*link)->next != NULL) link = &(*link)->next;
    entry_free(*link);
    *link = NULL;
    self->len--;
  }
}

static int Cache_init(CacheObject *self, PyObject *args, PyObject *kwds)
{
  static char *kwlist[] = { "capacity", NULL };
  Py_ssize_t capacity = 128;
  if (!PyArg_ParseTupleAndKeywords(args, kwds, "|n:Cache", kwlist, &capacity)) return -1;
  if (capacity < 1) {
    PyErr_SetString(PyExc_ValueError, "capacity must be at least 1");
    return -1;
  }
  self->capacity = capacity;
  cache_evict(self);
  return 0;
}

static void Cache_dealloc(CacheObject *self)
{
  PyTypeObject *type = Py_TYPE(self);
  entries_free(self->head);
  type->tp_free((PyObject *)self);
  Py_DECREF(type);
}

static PyObject *Cache_put(CacheObject *self, PyObject *args)
{
  const char *key;
  Py_ssize_t klen;
  PyObject *value;
  Entry *e;
  if (!PyArg_ParseTuple(args, "y#O:put", &key, &klen, &value)) return NULL;
  e = cache_find(self, key, klen);
  if (e != NULL) {
    if (entry_set_value(e, value) < 0) return NULL;
    Py_RETURN_NONE;
  }
  e = entry_new(key, klen);
  if (e == NULL) return PyErr_NoMemory();
  if (entry_set_value(e, value) < 0) return NULL;
  e->next = self->head;
  self->head = e;
  self->len++;
  cache_evict(self);
  Py_RETURN_NONE;
}

static PyObject *Cache_get(CacheObject *self, PyObject *args)
{
  const char *key;
  Py_ssize_t klen;
  PyObject *dflt = Py_None;
  Entry *e;
  if (!PyArg_ParseTuple(args, "y#|O:get", &key, &klen, &dflt)) return NULL;
  e = cache_find(self, key, klen);
  if (e == NULL) {
    self->misses++;
    return Py_NewRef(dflt);
  }
  self->hits++;
  return PyBytes_FromStringAndSize(e->value, e->vlen);
}

static PyObject *Cache_clear(CacheObject *self, PyObject *Py_UNUSED(ignored))
{
  entry_free(self->head);
  self->head = NULL;
  self->len = 0;
  Py_RETURN_NONE;
}

static Py_ssize_t Cache_len(CacheObject *self) { return self->len; }

static PyMethodDef Cache_methods[] = {
  { "put", (PyCFunction)Cache_put, METH_VARARGS,
    "put(key, value): store a copy of value (bytes-like) under key (bytes)." },
  { "get", (PyCFunction)Cache_get, METH_VARARGS,
    "get(key, default=None): the value stored under key, else default." },
  { "clear", (PyCFunction)Cache_clear, METH_NOARGS, "clear(): drop every entry." },
  { NULL, NULL, 0, NULL },
};

static PyMemberDef Cache_members[] = {
  { "capacity", T_PYSSIZET, offsetof(CacheObject, capacity), READONLY, "the most entries kept" },
  { "hits", T_PYSSIZET, offsetof(CacheObject, hits), READONLY, "gets that found a value" },
  { "misses", T_PYSSIZET, offsetof(CacheObject, misses), READONLY, "gets that found nothing" },
  { NULL, 0, 0, 0, NULL },
};

static PyType_Slot Cache_slots[] = {
  { Py_tp_doc, (void *)"Cache(capacity=128): a least-recently-used cache of byte strings." },
  { Py_tp_new, (void *)PyType_GenericNew },
  { Py_tp_init, (void *)Cache_init },
  { Py_tp_dealloc, (void *)Cache_dealloc },
  { Py_tp_methods, (void *)Cache_methods },
  { Py_tp_members, (void *)Cache_members },
  { Py_sq_length, (void *)Cache_len },
  { 0, NULL },
};

static PyType_Spec Cache_spec = {
  .name = "leaky.Cache",
  .basicsize = sizeof(CacheObject),
  .flags = Py_TPFLAGS_DEFAULT,
  .slots = Cache_slots,
};

static struct PyModuleDef leaky_module = {
  PyModuleDef_HEAD_INIT,
  .m_name = "leaky",
  .m_doc = "A small least-recently-used cache of byte strings.",
  .m_size = -1,
};

PyMODINIT_FUNC PyInit_leaky(void)
{
  PyObject *type, *m;
  if ((type = PyType_FromSpec(&Cache_spec)) == NULL) return NULL;
  m = PyModule_Create(&leaky_module);
  if (m != NULL && PyModule_AddType(m, (PyTypeObject *)type) < 0) Py_CLEAR(m);
  Py_DECREF(type);
  return m;
}
