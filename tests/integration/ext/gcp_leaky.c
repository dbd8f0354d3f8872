/* gcp_leaky.c -- an extension module that loses and keeps blocks in known
 * ways, for the leak finder's tests (tests/integration/test_leaks.py).
 *
 * Every function allocates with PyMem_Malloc from this module's code (so
 * the blocks are routed when the module is managed) and returns nothing
 * that points to them: Python ints hold no pointer the scan could see.
 *   drop(n, size)          n blocks, dropped: n definite
 *   drop_list(n)           a linked list of n nodes, head dropped:
 *                          1 definite, n - 1 indirect
 *   drop_cycle(n)          a ring of n nodes, dropped: 1 definite, n - 1
 *                          indirect
 *   keep_interior(n)       n blocks held by pointers into their middle, in
 *                          this module's .bss: n possible
 *   keep_static(n)         n blocks held from .bss: reachable
 *   keep_malloc(n)         n blocks held from a libc malloc block that a
 *                          static points to: reachable
 *   keep_thread(n)         n blocks held only on a thread's stack (the
 *                          thread waits until release_all): reachable
 *   keep_register()        1 block held only in a callee-saved register of
 *                          a spinning thread (x86-64, AArch64): reachable
 *   leak_ref(obj)          a reference to obj that is never given back
 *                          (a reference leak: obj lives on, unreachable)
 *   release_all()          frees what the keep_* functions hold, ends the
 *                          threads
 *   Holder(size)           a type whose instances the interpreter allocates
 *                          (tp_alloc), each holding a PyMem buffer of size
 *                          bytes that its dealloc frees
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KEPT 4096

typedef struct Node {
  struct Node *next;
  char payload[40];
} Node;

static void *kept[MAX_KEPT];     /* keep_static */
static char *interior[MAX_KEPT]; /* keep_interior: base + 16 */
static void **kept_in_malloc;    /* keep_malloc: a libc block of pointers */
static size_t kept_n, interior_n, malloc_n;

static pthread_t threads[64];
static size_t thread_n;
static volatile int release_flag;

static __attribute__((noinline)) void *leaky_alloc(size_t size)
{
  void *p = PyMem_Malloc(size);
  if (p != NULL) memset(p, 0x5a, size);
  __asm__ volatile("" : : "r"(p) : "memory"); /* no tail call */
  return p;
}

static PyObject *m_drop(PyObject *self, PyObject *args)
{
  Py_ssize_t n, size, i;
  (void)self;
  if (!PyArg_ParseTuple(args, "nn", &n, &size)) return NULL;
  for (i = 0; i < n; ++i)
    if (leaky_alloc((size_t)size) == NULL) return PyErr_NoMemory();
  Py_RETURN_NONE;
}

static Node *make_list(Py_ssize_t n)
{
  Node *head = NULL, *tail = NULL;
  Py_ssize_t i;
  for (i = 0; i < n; ++i) {
    Node *node = leaky_alloc(sizeof(Node));
    if (node == NULL) return NULL;
    node->next = NULL;
    if (tail != NULL)
      tail->next = node;
    else
      head = node;
    tail = node;
  }
  return head;
}

static PyObject *m_drop_list(PyObject *self, PyObject *args)
{
  Py_ssize_t n;
  Node *volatile head;
  (void)self;
  if (!PyArg_ParseTuple(args, "n", &n)) return NULL;
  head = make_list(n);
  if (head == NULL) return PyErr_NoMemory();
  head = NULL;
  Py_RETURN_NONE;
}

static PyObject *m_drop_cycle(PyObject *self, PyObject *args)
{
  Py_ssize_t n;
  Node *volatile head, *last;
  (void)self;
  if (!PyArg_ParseTuple(args, "n", &n)) return NULL;
  head = make_list(n);
  if (head == NULL) return PyErr_NoMemory();
  for (last = head; last->next != NULL; last = last->next)
    ;
  last->next = head;
  head = NULL;
  last = NULL;
  Py_RETURN_NONE;
}

static PyObject *m_keep_interior(PyObject *self, PyObject *args)
{
  Py_ssize_t n, i;
  (void)self;
  if (!PyArg_ParseTuple(args, "n", &n)) return NULL;
  for (i = 0; i < n && interior_n < MAX_KEPT; ++i) {
    char *p = leaky_alloc(64);
    if (p == NULL) return PyErr_NoMemory();
    interior[interior_n++] = p + 16;
  }
  Py_RETURN_NONE;
}

static PyObject *m_keep_static(PyObject *self, PyObject *args)
{
  Py_ssize_t n, i;
  (void)self;
  if (!PyArg_ParseTuple(args, "n", &n)) return NULL;
  for (i = 0; i < n && kept_n < MAX_KEPT; ++i)
    if ((kept[kept_n++] = leaky_alloc(48)) == NULL) return PyErr_NoMemory();
  Py_RETURN_NONE;
}

static PyObject *m_keep_malloc(PyObject *self, PyObject *args)
{
  Py_ssize_t n, i;
  (void)self;
  if (!PyArg_ParseTuple(args, "n", &n)) return NULL;
  if (kept_in_malloc == NULL && (kept_in_malloc = calloc(MAX_KEPT, sizeof(void *))) == NULL)
    return PyErr_NoMemory();
  for (i = 0; i < n && malloc_n < MAX_KEPT; ++i)
    if ((kept_in_malloc[malloc_n++] = leaky_alloc(56)) == NULL) return PyErr_NoMemory();
  Py_RETURN_NONE;
}

typedef struct ThreadArgs {
  void **blocks;
  size_t n;
  volatile int started;
} ThreadArgs;

static void *hold_on_stack(void *arg)
{
  ThreadArgs *a = arg;
  void *volatile held[256];
  size_t i, n = a->n < 256 ? a->n : 256;
  for (i = 0; i < n; ++i) {
    held[i] = a->blocks[i];
    a->blocks[i] = NULL; /* the stack is now the only holder */
  }
  a->started = 1;
  while (!release_flag) usleep(1000);
  for (i = 0; i < n; ++i) PyMem_Free(held[i]);
  return NULL;
}

static PyObject *m_keep_thread(PyObject *self, PyObject *args)
{
  Py_ssize_t n, i;
  static ThreadArgs targs[64];
  static void *handoff[64][256];
  ThreadArgs *a;
  (void)self;
  if (!PyArg_ParseTuple(args, "n", &n)) return NULL;
  if (thread_n == 64 || n > 256) return PyErr_Format(PyExc_ValueError, "too many");
  a = &targs[thread_n];
  a->blocks = handoff[thread_n];
  a->n = (size_t)n;
  a->started = 0;
  for (i = 0; i < n; ++i)
    if ((a->blocks[i] = leaky_alloc(72)) == NULL) return PyErr_NoMemory();
  if (pthread_create(&threads[thread_n], NULL, hold_on_stack, a) != 0)
    return PyErr_Format(PyExc_OSError, "pthread_create failed");
  ++thread_n;
  Py_BEGIN_ALLOW_THREADS while (!a->started) usleep(100);
  Py_END_ALLOW_THREADS Py_RETURN_NONE;
}

typedef struct RegisterArgs {
  void *volatile block; /* handed over, then cleared by the thread */
  volatile int holding;
} RegisterArgs;

/* Keep the block only in a callee-saved register while spinning. */
static void *hold_in_register(void *arg)
{
  RegisterArgs *a = arg;
  void *back;
#if defined(__x86_64__)
  __asm__ volatile("movq (%[slot]), %%r15\n\t"
                   "movq $0, (%[slot])\n\t"
                   "movl $1, (%[holding])\n\t"
                   "1: pause\n\t"
                   "cmpl $0, (%[flag])\n\t"
                   "je 1b\n\t"
                   "movq %%r15, %[back]\n\t"
                   : [back] "=r"(back)
                   : [slot] "r"(&a->block), [holding] "r"(&a->holding), [flag] "r"(&release_flag)
                   : "r15", "memory", "cc");
#elif defined(__aarch64__)
  __asm__ volatile("ldr x27, [%[slot]]\n\t"
                   "str xzr, [%[slot]]\n\t"
                   "mov w9, #1\n\t"
                   "str w9, [%[holding]]\n\t"
                   "1: yield\n\t"
                   "ldr w9, [%[flag]]\n\t"
                   "cbz w9, 1b\n\t"
                   "mov %[back], x27\n\t"
                   : [back] "=r"(back)
                   : [slot] "r"(&a->block), [holding] "r"(&a->holding), [flag] "r"(&release_flag)
                   : "x9", "x27", "memory", "cc");
#else
  back = a->block;
  a->holding = 1;
  while (!release_flag) usleep(1000);
#endif
  PyMem_Free(back);
  return NULL;
}

static PyObject *m_keep_register(PyObject *self, PyObject *noargs)
{
  static RegisterArgs ra;
  (void)self, (void)noargs;
  if (thread_n == 64) return PyErr_Format(PyExc_ValueError, "too many");
  ra.holding = 0;
  if ((ra.block = leaky_alloc(88)) == NULL) return PyErr_NoMemory();
  if (pthread_create(&threads[thread_n], NULL, hold_in_register, &ra) != 0)
    return PyErr_Format(PyExc_OSError, "pthread_create failed");
  ++thread_n;
  Py_BEGIN_ALLOW_THREADS while (!ra.holding) usleep(100);
  Py_END_ALLOW_THREADS Py_RETURN_NONE;
}

static PyObject *m_release_all(PyObject *self, PyObject *noargs)
{
  size_t i;
  (void)self, (void)noargs;
  release_flag = 1;
  Py_BEGIN_ALLOW_THREADS for (i = 0; i < thread_n; ++i) pthread_join(threads[i], NULL);
  Py_END_ALLOW_THREADS thread_n = 0;
  release_flag = 0;
  for (i = 0; i < kept_n; ++i) PyMem_Free(kept[i]);
  for (i = 0; i < interior_n; ++i) PyMem_Free(interior[i] - 16);
  for (i = 0; i < malloc_n; ++i) PyMem_Free(kept_in_malloc[i]);
  kept_n = interior_n = malloc_n = 0;
  Py_RETURN_NONE;
}

static PyObject *m_leak_ref(PyObject *self, PyObject *obj)
{
  (void)self;
  Py_INCREF(obj);
  Py_RETURN_NONE;
}

typedef struct Holder {
  PyObject_HEAD char *buffer;
} Holder;

static int holder_init(PyObject *self, PyObject *args, PyObject *kwds)
{
  Py_ssize_t size = 32;
  (void)kwds;
  if (!PyArg_ParseTuple(args, "|n", &size)) return -1;
  if ((((Holder *)self)->buffer = leaky_alloc((size_t)size)) == NULL) {
    PyErr_NoMemory();
    return -1;
  }
  return 0;
}

static void holder_dealloc(PyObject *self)
{
  PyMem_Free(((Holder *)self)->buffer);
  Py_TYPE(self)->tp_free(self);
}

static PyTypeObject HolderType = {
  PyVarObject_HEAD_INIT(NULL, 0).tp_name = "gcp_leaky.Holder",
  .tp_basicsize = sizeof(Holder),
  .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
  .tp_new = PyType_GenericNew,
  .tp_init = holder_init,
  .tp_dealloc = holder_dealloc,
};

static PyMethodDef methods[] = {
  { "drop", m_drop, METH_VARARGS, NULL },
  { "drop_list", m_drop_list, METH_VARARGS, NULL },
  { "drop_cycle", m_drop_cycle, METH_VARARGS, NULL },
  { "keep_interior", m_keep_interior, METH_VARARGS, NULL },
  { "keep_static", m_keep_static, METH_VARARGS, NULL },
  { "keep_malloc", m_keep_malloc, METH_VARARGS, NULL },
  { "keep_thread", m_keep_thread, METH_VARARGS, NULL },
  { "keep_register", m_keep_register, METH_NOARGS, NULL },
  { "release_all", m_release_all, METH_NOARGS, NULL },
  { "leak_ref", m_leak_ref, METH_O, NULL },
  { NULL, NULL, 0, NULL },
};

static struct PyModuleDef module = { PyModuleDef_HEAD_INIT, "gcp_leaky", NULL, -1, methods };

PyMODINIT_FUNC PyInit_gcp_leaky(void)
{
  PyObject *m;
  if (PyType_Ready(&HolderType) < 0) return NULL;
  if ((m = PyModule_Create(&module)) == NULL) return NULL;
  if (PyModule_AddObjectRef(m, "Holder", (PyObject *)&HolderType) < 0) {
    Py_DECREF(m);
    return NULL;
  }
  return m;
}
