/* pyframes.c -- the calling thread's Python frames, read from its thread
 * state without calling into Python: what leak tracking records with each
 * allocation site (sites.c).  The frame structure is internal to CPython,
 * so this file, like gcstate.c, is compiled apart with Py_BUILD_CORE and
 * CPython's internal headers (gc_plugin/_build.py).
 * Design: docs/design/leaks.md (sites).
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stdint.h>
#include "internal/pycore_frame.h"
#include "cpython/pyframes.h"

#if PY_VERSION_HEX >= 0x030D0000
#error "pyframes.c: the frames of Python 3.13 and later are not supported yet"
#endif

size_t gcpPyFrames(uintptr_t *codes, int *lastis, size_t max)
{
  PyThreadState *ts = _PyThreadState_UncheckedGet();
  _PyInterpreterFrame *f;
  size_t n = 0;
  if (ts == NULL || ts->cframe == NULL) return 0;
  for (f = ts->cframe->current_frame; f != NULL && n < max; f = f->previous) {
    if (_PyFrame_IsIncomplete(f)) continue;
    codes[n] = (uintptr_t)f->f_code;
    lastis[n] = _PyInterpreterFrame_LASTI(f);
    ++n;
  }
  return n;
}
