/* mpsliban.c -- the plinth over the C library (docs/design/interface.md): streams,
 * memory primitives, the processor clock, the telemetry control word,
 * the assertion handler and the telemetry output stream of mpsio.h.
 * A client may replace this file with its own plinth.
 * Design: docs/design/checking.md (assertion handling).
 */
#include "core.h"
#include "mpsio.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int mps_lib_get_EOF(void) { return EOF; }
mps_lib_FILE *mps_lib_get_stderr(void) { return (mps_lib_FILE *)(void *)stderr; }
mps_lib_FILE *mps_lib_get_stdout(void) { return (mps_lib_FILE *)(void *)stdout; }
int mps_lib_fputc(int c, mps_lib_FILE *stream) { return fputc(c, (FILE *)(void *)stream); }
int mps_lib_fputs(const char *s, mps_lib_FILE *stream) { return fputs(s, (FILE *)(void *)stream); }

void *(mps_lib_memset)(void *s, int c, size_t n) { return memset(s, c, n); }
void *(mps_lib_memcpy)(void *d, const void *s, size_t n) { return memcpy(d, s, n); }
int(mps_lib_memcmp)(const void *a, const void *b, size_t n) { return memcmp(a, b, n); }

mps_clock_t mps_clock(void) { return (mps_clock_t)clock(); }
mps_clock_t mps_clocks_per_sec(void) { return (mps_clock_t)CLOCKS_PER_SEC; }

unsigned long mps_lib_telemetry_control(void)
{
  const char *s = getenv("MPS_TELEMETRY_CONTROL");
  return s == NULL ? 0 : strtoul(s, NULL, 0);
}

/* The default handler reports on stderr; checking varieties then abort,
 * the rash variety carries on. */
static void defaultAssertFail(const char *file, unsigned line, const char *condition)
{
  fflush(stdout);
  fprintf(stderr, "gc_plugin (%s variety): assertion failed: %s\n  at %s:%u\n", VARIETY_NAME,
          condition, file, line);
  fflush(stderr);
#if CHECK_LEVEL >= 1
  abort();
#endif
}

static mps_lib_assert_fail_t assertHandler = defaultAssertFail;

void mps_lib_assert_fail(const char *file, unsigned line, const char *condition)
{
  mps_lib_assert_fail_t handler = __atomic_load_n(&assertHandler, __ATOMIC_ACQUIRE);
  handler(file, line, condition);
}

mps_lib_assert_fail_t mps_lib_assert_fail_install(mps_lib_assert_fail_t handler)
{
  if (handler == NULL) handler = defaultAssertFail;
  return __atomic_exchange_n(&assertHandler, handler, __ATOMIC_ACQ_REL);
}

/* Telemetry output: events go to the file named by MPS_TELEMETRY_FILENAME,
 * or mpsio.log.  Nothing writes events yet. */
struct mps_io_s {
  FILE *file;
};

mps_res_t mps_io_create(mps_io_t *io_o)
{
  static struct mps_io_s io;
  const char *name = getenv("MPS_TELEMETRY_FILENAME");
  io.file = fopen(name != NULL ? name : "mpsio.log", "wb");
  if (io.file == NULL) return MPS_RES_IO;
  *io_o = &io;
  return MPS_RES_OK;
}

void mps_io_destroy(mps_io_t io)
{
  (void)fclose(io->file);
  io->file = NULL;
}

mps_res_t mps_io_write(mps_io_t io, void *buf, size_t size)
{
  return fwrite(buf, 1, size, io->file) == size ? MPS_RES_OK : MPS_RES_IO;
}

mps_res_t mps_io_flush(mps_io_t io) { return fflush(io->file) == 0 ? MPS_RES_OK : MPS_RES_IO; }
