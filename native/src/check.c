/* check.c -- reporting failed checks and client misuse through the plinth.
 * Design: docs/design/checking.md.
 */
#include <stdarg.h>
#include <stdio.h>
#include "check.h"

INTERN void CheckFail(const char *file, unsigned line, const char *cond)
{
  mps_lib_assert_fail(file, line, cond);
}

/* The message is formatted into a per-thread buffer: the handler may keep
 * the pointer until the same thread reports again. */
static _Thread_local char misuseMessage[512];

INTERN Res MisuseReport(const char *file, unsigned line, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  (void)vsnprintf(misuseMessage, sizeof misuseMessage, fmt, ap);
  va_end(ap);
  mps_lib_assert_fail(file, line, misuseMessage);
  return RES_PARAM;
}
