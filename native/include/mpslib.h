/* mpslib.h -- the plinth library interface
 *
 * Everything the core needs from the C library goes through these
 * functions, so that a client can supply its own versions.  Design notes
 * are in docs/design/interface.md §Telemetry and the plinth.
 */

#ifndef mpslib_h
#define mpslib_h

#include <stddef.h>
#include "mps.h"

#ifdef __cplusplus
extern "C" {
#endif

/* End-of-file token, like EOF. */
extern int mps_lib_get_EOF(void);
#define mps_lib_EOF (mps_lib_get_EOF())

/* Output streams, like FILE. */
typedef struct mps_lib_stream_s mps_lib_FILE;

extern mps_lib_FILE *mps_lib_get_stderr(void);
extern mps_lib_FILE *mps_lib_get_stdout(void);
#define mps_lib_stderr (mps_lib_get_stderr())
#define mps_lib_stdout (mps_lib_get_stdout())

extern int mps_lib_fputc(int, mps_lib_FILE *);
extern int mps_lib_fputs(const char *, mps_lib_FILE *);

/* Assertion failures: file, line, failed condition. */
extern void mps_lib_assert_fail(const char *, unsigned, const char *);

typedef void (*mps_lib_assert_fail_t)(const char *, unsigned, const char *);

/* Install a handler and return the previous one. */
extern mps_lib_assert_fail_t mps_lib_assert_fail_install(mps_lib_assert_fail_t);

/* Memory primitives; the names are parenthesised so that a macro of the
 * same name cannot rewrite the declarations. */
extern void *(mps_lib_memset)(void *, int, size_t);
extern void *(mps_lib_memcpy)(void *, const void *, size_t);
extern int(mps_lib_memcmp)(const void *, const void *, size_t);

/* Processor time and its units per second. */
extern mps_clock_t mps_clock(void);
extern mps_clock_t mps_clocks_per_sec(void);

/* Initial telemetry filter. */
extern unsigned long mps_lib_telemetry_control(void);

#ifdef __cplusplus
}
#endif

#endif /* mpslib_h */
