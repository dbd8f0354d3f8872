/* testlib.h -- helpers shared by the C test programs in tests/native:
 * counted checks (CHECK, REQUIRE), a seeded xorshift generator, the "seed N"
 * and "N passed, M failed" lines, and an assertion handler that records
 * reports instead of aborting.  Header-only, since each program is compiled
 * on its own; the functions are static inline so that a program need not
 * use them all.  Needs no MPS header.
 */
#ifndef TESTLIB_H
#define TESTLIB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- assertion handler that records instead of aborting ------------------ */

/* Install with mps_lib_assert_fail_install(recordHandler). */
static char lastMessage[600]; /* "condition (file:line)" of the last report */
static unsigned long reports; /* reports so far */

static inline void recordHandler(const char *file, unsigned line, const char *cond)
{
  ++reports;
  snprintf(lastMessage, sizeof lastMessage, "%s (%s:%u)", cond ? cond : "?", file ? file : "?",
           line);
}

/* Exactly one report since `before`, naming `word`; says what is wrong if not. */
static inline int reported(unsigned long before, const char *word)
{
  if (reports != before + 1) {
    fprintf(stderr, "  expected one report naming \"%s\", got %lu\n", word, reports - before);
    return 0;
  }
  if (strstr(lastMessage, word) == NULL) {
    fprintf(stderr, "  report does not name \"%s\": %s\n", word, lastMessage);
    return 0;
  }
  return 1;
}

/* ---- checks ------------------------------------------------------------------ */

/* CHECK counts a check and reports a failure, then goes on; REQUIRE also
 * stops the program (exit status 1) when later code depends on it. */
static unsigned long checks, failures;

#define CHECK(cond) ((void)testCheck((cond) ? 1 : 0, __FILE__, __LINE__, #cond))
#define REQUIRE(cond)                                                      \
  do {                                                                     \
    if (!testCheck((cond) ? 1 : 0, __FILE__, __LINE__, #cond)) testStop(); \
  } while (0)

static inline int testCheck(int ok, const char *file, int line, const char *cond)
{
  ++checks;
  if (!ok) {
    ++failures;
    fprintf(stderr, "%s:%d: check failed: %s\n", file, line, cond);
  }
  return ok;
}

static inline void testStop(void)
{
  if (reports != 0) fprintf(stderr, "last report: %s\n", lastMessage);
  fprintf(stderr, "%lu passed, %lu failed (stopped)\n", checks - failures, failures);
  exit(1);
}

/* The summary line, and after a failure the last report; gives the exit status. */
static inline int testFinish(void)
{
  if (failures != 0 && reports != 0) fprintf(stderr, "last report: %s\n", lastMessage);
  printf("%lu passed, %lu failed\n", checks - failures, failures);
  return failures != 0;
}

/* ---- random numbers and the seed --------------------------------------------- */

static unsigned long long rnd_state = 1;

/* xorshift64; the state must never be zero. */
static inline unsigned long rnd(void)
{
  rnd_state ^= rnd_state << 13;
  rnd_state ^= rnd_state >> 7;
  rnd_state ^= rnd_state << 17;
  return (unsigned long)rnd_state;
}

static inline void rndSeed(unsigned long long state) { rnd_state = state != 0 ? state : 1; }

/* The seed is argv[1] (any base strtoul takes) or else the time; prints
 * "seed N" and seeds rnd() from it, so that a failing run can be repeated. */
static inline unsigned long testSeed(int argc, char **argv)
{
  unsigned long seed = argc > 1 ? strtoul(argv[1], NULL, 0) : (unsigned long)time(NULL);
  printf("seed %lu\n", seed);
  rndSeed((unsigned long long)seed * 2654435761ull + 1);
  return seed;
}

/* ---- sizes --------------------------------------------------------------------- */

/* s rounded up to a multiple of a, which is a power of two. */
static inline size_t alignUp(size_t s, size_t a) { return (s + a - 1) & ~(a - 1); }

#endif /* TESTLIB_H */
