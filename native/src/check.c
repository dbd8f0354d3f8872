/* check.c -- reporting failed checks (to the plinth's assertion handler)
 * and client misuse (to the misuse handler if one is installed, else to
 * the assertion handler too).
 * Design: docs/design/checking.md.
 */
#include "check.h"
#include "gcp_ext.h"
#include <stdarg.h>
#include <stdio.h>

INTERN void CheckFail(const char *file, unsigned line, const char *cond)
{
  mps_lib_assert_fail(file, line, cond);
}

/* The message is formatted into a per-thread buffer: the handler may keep
 * the pointer until the same thread reports again. */
static _Thread_local char misuseMessage[512];
static gcp_misuse_handler_t misuseHandler; /* NULL: the assertion handler */

gcp_misuse_handler_t gcp_misuse_handler_install(gcp_misuse_handler_t handler)
{
  return __atomic_exchange_n(&misuseHandler, handler, __ATOMIC_ACQ_REL);
}

static void misuseReportV(const char *file, unsigned line, const char *fmt, va_list ap)
{
  gcp_misuse_handler_t handler = __atomic_load_n(&misuseHandler, __ATOMIC_ACQUIRE);
  (void)vsnprintf(misuseMessage, sizeof misuseMessage, fmt, ap);
  if (handler != NULL)
    handler(file, line, misuseMessage);
  else
    mps_lib_assert_fail(file, line, misuseMessage);
}

INTERN Res MisuseReport(const char *file, unsigned line, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  misuseReportV(file, line, fmt, ap);
  va_end(ap);
  return RES_PARAM;
}

/* Whether the last destroy entry point this thread called kept its object
 * (DestroyBegin and reading it clear it, RefuseReport sets it). */
static _Thread_local Bool destroyRefused;

INTERN void DestroyBegin(void) { destroyRefused = FALSE; }

INTERN Res RefuseReport(const char *file, unsigned line, const char *fmt, ...)
{
  va_list ap;
  destroyRefused = TRUE;
  va_start(ap, fmt);
  misuseReportV(file, line, fmt, ap);
  va_end(ap);
  return RES_PARAM;
}

int gcp_destroy_refused(void)
{
  Bool refused = destroyRefused;
  destroyRefused = FALSE;
  return refused;
}
