/* gcp_py.c -- the bridge between the Python layer and the core (gcp_py.h):
 * the misuse handler, creation of arenas and pools from keyword values,
 * allocation through an allocation point, and the calling thread's stack
 * end.  Compiled into gc_plugin._native (gc_plugin/_build.py); uses only the
 * public interface of the core.  Design: docs/design/python-api.md.
 */
#include <Python.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpscamc.h"
#include "mpscams.h"
#include "mpscawl.h"
#include "mpsclo.h"
#include "mpscmfs.h"
#include "mpscmvff.h"
#include "mpscmvt.h"
#include "mpscsegfit.h"
#include "mpscsnc.h"
#include "gcp_ext.h"
#include "bridge/gcp_py.h"

/* ---- misuse reports ----------------------------------------------------
 * The core reports client misuse to the misuse handler installed here and
 * backs out; the Python wrapper then takes the reports and raises
 * MisuseError.  Every report of a thread is kept (joined with "; ") until
 * taken.  A thread that is not a Python thread has nobody to take them:
 * its reports are printed to stderr.  Failed internal invariants do not
 * come here: they reach the plinth's assertion handler, which prints the
 * report and aborts the process (going on after one could free live
 * objects). */
static _Thread_local char gcp_py_misuse[1024]; /* static TLS: keep it small */
static _Thread_local int gcp_py_misuse_set;
static _Thread_local unsigned long gcp_py_misuse_dropped;

static void gcp_py_misuse_report(const char *file, unsigned line, const char *message)
{
  const char *base;
  char one[768];
  size_t used = strlen(gcp_py_misuse);
  if (file == NULL) file = "?";
  base = strrchr(file, '/');
  base = base == NULL ? file : base + 1;
  (void)snprintf(one, sizeof one, "%s (%s:%u)", message == NULL ? "(no message)" : message, base,
                 line);
  if (PyGILState_GetThisThreadState() == NULL) {
    (void)fprintf(stderr, "gc_plugin: misuse on a thread that is not a Python thread: %s\n", one);
    return;
  }
  if (used + strlen(one) + 3 < sizeof gcp_py_misuse)
    (void)snprintf(gcp_py_misuse + used, sizeof gcp_py_misuse - used, "%s%s",
                   gcp_py_misuse_set ? "; " : "", one);
  else
    ++gcp_py_misuse_dropped;
  gcp_py_misuse_set = 1;
}

void gcp_py_install_handler(void) { (void)gcp_misuse_handler_install(gcp_py_misuse_report); }

int gcp_py_misuse_pending(void) { return gcp_py_misuse_set; }

/* Copy the pending reports into buf (NUL-terminated) and clear them: 1 if
 * there were any, else 0. */
int gcp_py_take_misuse(char *buf, size_t n)
{
  if (!gcp_py_misuse_set) return 0;
  if (buf != NULL && n > 0) {
    /* a message longer than buf is cut short: the caller sizes buf */
    int used = snprintf(buf, n, "%s", gcp_py_misuse);
    if (gcp_py_misuse_dropped > 0 && used >= 0 && (size_t)used < n &&
        snprintf(buf + used, n - (size_t)used, "; and %lu more", gcp_py_misuse_dropped) < 0)
      buf[used] = '\0';
  }
  gcp_py_misuse_set = 0;
  gcp_py_misuse_dropped = 0;
  gcp_py_misuse[0] = '\0';
  return 1;
}

/* ---- creation from keyword values ---------------------------------------
 * Each value is passed only if its bit is set in have_mask, so that the
 * core's defaults apply to the others. */

/* The message types are function-like macros in mps.h. */

mps_res_t gcp_py_arena_create(mps_arena_t *arena_o, size_t size, size_t grain, size_t commit_limit,
                              double spare, double pause, unsigned have)
{
  mps_res_t res;
  MPS_ARGS_BEGIN(args)
  {
    if (have & GCP_PY_HAVE_SIZE) MPS_ARGS_ADD(args, MPS_KEY_ARENA_SIZE, size);
    if (have & GCP_PY_HAVE_GRAIN) MPS_ARGS_ADD(args, MPS_KEY_ARENA_GRAIN_SIZE, grain);
    if (have & GCP_PY_HAVE_COMMIT_LIMIT) MPS_ARGS_ADD(args, MPS_KEY_COMMIT_LIMIT, commit_limit);
    if (have & GCP_PY_HAVE_SPARE) MPS_ARGS_ADD(args, MPS_KEY_SPARE, spare);
    if (have & GCP_PY_HAVE_PAUSE) MPS_ARGS_ADD(args, MPS_KEY_PAUSE_TIME, pause);
    res = mps_arena_create_k(arena_o, mps_arena_class_vm(), args);
  }
  MPS_ARGS_END(args);
  return res;
}

mps_res_t gcp_py_mfs_create(mps_pool_t *pool_o, mps_arena_t arena, size_t unit_size,
                            size_t extend_by, unsigned have)
{
  mps_res_t res;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_MFS_UNIT_SIZE, unit_size);
    if (have & GCP_PY_HAVE_EXTEND_BY) MPS_ARGS_ADD(args, MPS_KEY_EXTEND_BY, extend_by);
    res = mps_pool_create_k(pool_o, arena, mps_class_mfs(), args);
  }
  MPS_ARGS_END(args);
  return res;
}

mps_res_t gcp_py_mvff_create(mps_pool_t *pool_o, mps_arena_t arena, int debug,
                             mps_pool_debug_option_s *options, size_t extend_by, size_t mean_size,
                             size_t align, double spare, int arena_high, int slot_high,
                             int first_fit, unsigned have)
{
  mps_res_t res;
  MPS_ARGS_BEGIN(args)
  {
    if (have & GCP_PY_HAVE_EXTEND_BY) MPS_ARGS_ADD(args, MPS_KEY_EXTEND_BY, extend_by);
    if (have & GCP_PY_HAVE_MEAN_SIZE) MPS_ARGS_ADD(args, MPS_KEY_MEAN_SIZE, mean_size);
    if (have & GCP_PY_HAVE_ALIGN) MPS_ARGS_ADD(args, MPS_KEY_ALIGN, align);
    if (have & GCP_PY_HAVE_SPARE) MPS_ARGS_ADD(args, MPS_KEY_SPARE, spare);
    if (have & GCP_PY_HAVE_ARENA_HIGH) MPS_ARGS_ADD(args, MPS_KEY_MVFF_ARENA_HIGH, arena_high != 0);
    if (have & GCP_PY_HAVE_SLOT_HIGH) MPS_ARGS_ADD(args, MPS_KEY_MVFF_SLOT_HIGH, slot_high != 0);
    if (have & GCP_PY_HAVE_FIRST_FIT) MPS_ARGS_ADD(args, MPS_KEY_MVFF_FIRST_FIT, first_fit != 0);
    if (debug && (have & GCP_PY_HAVE_DEBUG_OPTIONS))
      MPS_ARGS_ADD(args, MPS_KEY_POOL_DEBUG_OPTIONS, options);
    res = mps_pool_create_k(pool_o, arena, debug ? mps_class_mvff_debug() : mps_class_mvff(), args);
  }
  MPS_ARGS_END(args);
  return res;
}

mps_res_t gcp_py_mvt_create(mps_pool_t *pool_o, mps_arena_t arena, size_t align, size_t min_size,
                            size_t mean_size, size_t max_size, mps_word_t reserve_depth,
                            double frag_limit, unsigned have)
{
  mps_res_t res;
  MPS_ARGS_BEGIN(args)
  {
    if (have & GCP_PY_HAVE_ALIGN) MPS_ARGS_ADD(args, MPS_KEY_ALIGN, align);
    if (have & GCP_PY_HAVE_MIN_SIZE) MPS_ARGS_ADD(args, MPS_KEY_MIN_SIZE, min_size);
    if (have & GCP_PY_HAVE_MEAN_SIZE) MPS_ARGS_ADD(args, MPS_KEY_MEAN_SIZE, mean_size);
    if (have & GCP_PY_HAVE_MAX_SIZE) MPS_ARGS_ADD(args, MPS_KEY_MAX_SIZE, max_size);
    if (have & GCP_PY_HAVE_RESERVE_DEPTH)
      MPS_ARGS_ADD(args, MPS_KEY_MVT_RESERVE_DEPTH, reserve_depth);
    if (have & GCP_PY_HAVE_FRAG_LIMIT) MPS_ARGS_ADD(args, MPS_KEY_MVT_FRAG_LIMIT, frag_limit);
    res = mps_pool_create_k(pool_o, arena, mps_class_mvt(), args);
  }
  MPS_ARGS_END(args);
  return res;
}

mps_res_t gcp_py_segfit_create(mps_pool_t *pool_o, mps_arena_t arena)
{
  return mps_pool_create_k(pool_o, arena, mps_class_segfit(), mps_args_none);
}

mps_res_t gcp_py_ap_create(mps_ap_t *ap_o, mps_pool_t pool)
{
  return mps_ap_create_k(ap_o, pool, mps_args_none);
}

/* Reserve and commit, retried until the commit succeeds.  Stops at the
 * first misuse report so that a refused commit cannot loop. */
mps_res_t gcp_py_ap_alloc(mps_addr_t *p_o, mps_ap_t ap, size_t size)
{
  mps_addr_t p = NULL;
  mps_res_t res;
  for (;;) {
    res = mps_reserve(&p, ap, size);
    if (res != MPS_RES_OK) return res;
    if (gcp_py_misuse_set) return MPS_RES_PARAM;
    if (mps_commit(ap, p, size)) break;
    if (gcp_py_misuse_set) return MPS_RES_PARAM;
  }
  *p_o = p;
  return MPS_RES_OK;
}

/* ---- the collector ------------------------------------------------------ */

/* AMC (zero == 0) or AMCZ (zero != 0). */
mps_res_t gcp_py_amc_create(mps_pool_t *pool_o, mps_arena_t arena, int zero, mps_fmt_t fmt,
                            mps_chain_t chain, int interior, size_t extend_by, size_t large_size,
                            unsigned have)
{
  mps_res_t res;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    if (have & GCP_PY_HAVE_CHAIN) MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    if (have & GCP_PY_HAVE_INTERIOR) MPS_ARGS_ADD(args, MPS_KEY_INTERIOR, interior != 0);
    if (have & GCP_PY_HAVE_EXTEND_BY) MPS_ARGS_ADD(args, MPS_KEY_EXTEND_BY, extend_by);
    if (have & GCP_PY_HAVE_LARGE_SIZE) MPS_ARGS_ADD(args, MPS_KEY_LARGE_SIZE, large_size);
    res = mps_pool_create_k(pool_o, arena, zero ? mps_class_amcz() : mps_class_amc(), args);
  }
  MPS_ARGS_END(args);
  return res;
}

/* A pool of class cls whose keywords are a format, a chain and a
 * generation (LO, AWL without dependent objects). */
static mps_res_t gcpPyGenPoolCreate(mps_pool_t *pool_o, mps_arena_t arena, mps_pool_class_t cls,
                                    mps_fmt_t fmt, mps_chain_t chain, unsigned gen, unsigned have)
{
  mps_res_t res;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    if (have & GCP_PY_HAVE_CHAIN) MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    if (have & GCP_PY_HAVE_GEN) MPS_ARGS_ADD(args, MPS_KEY_GEN, gen);
    res = mps_pool_create_k(pool_o, arena, cls, args);
  }
  MPS_ARGS_END(args);
  return res;
}

mps_res_t gcp_py_lo_create(mps_pool_t *pool_o, mps_arena_t arena, mps_fmt_t fmt, mps_chain_t chain,
                           unsigned gen, unsigned have)
{
  return gcpPyGenPoolCreate(pool_o, arena, mps_class_lo(), fmt, chain, gen, have);
}

/* AMS (debug == 0) or AMS debug. */
mps_res_t gcp_py_ams_create(mps_pool_t *pool_o, mps_arena_t arena, int debug,
                            mps_pool_debug_option_s *options, mps_fmt_t fmt, mps_chain_t chain,
                            unsigned gen, int support_ambiguous, unsigned have)
{
  mps_res_t res;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    if (have & GCP_PY_HAVE_CHAIN) MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    if (have & GCP_PY_HAVE_GEN) MPS_ARGS_ADD(args, MPS_KEY_GEN, gen);
    if (have & GCP_PY_HAVE_SUPPORT_AMBIGUOUS)
      MPS_ARGS_ADD(args, MPS_KEY_AMS_SUPPORT_AMBIGUOUS, support_ambiguous != 0);
    if (debug && (have & GCP_PY_HAVE_DEBUG_OPTIONS))
      MPS_ARGS_ADD(args, MPS_KEY_POOL_DEBUG_OPTIONS, options);
    res = mps_pool_create_k(pool_o, arena, debug ? mps_class_ams_debug() : mps_class_ams(), args);
  }
  MPS_ARGS_END(args);
  return res;
}

mps_res_t gcp_py_awl_create(mps_pool_t *pool_o, mps_arena_t arena, mps_fmt_t fmt, mps_chain_t chain,
                            unsigned gen, unsigned have)
{
  return gcpPyGenPoolCreate(pool_o, arena, mps_class_awl(), fmt, chain, gen, have);
}

mps_res_t gcp_py_snc_create(mps_pool_t *pool_o, mps_arena_t arena, mps_fmt_t fmt)
{
  mps_res_t res;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    res = mps_pool_create_k(pool_o, arena, mps_class_snc(), args);
  }
  MPS_ARGS_END(args);
  return res;
}

mps_res_t gcp_py_collected_ap_create(mps_ap_t *ap_o, mps_pool_t pool, int hash_arrays,
                                     mps_rank_t rank, unsigned have)
{
  mps_res_t res;
  MPS_ARGS_BEGIN(args)
  {
    if (have & GCP_PY_HAVE_HASH_ARRAYS)
      MPS_ARGS_ADD(args, MPS_KEY_AP_HASH_ARRAYS, hash_arrays != 0);
    if (have & GCP_PY_HAVE_RANK) MPS_ARGS_ADD(args, MPS_KEY_RANK, rank);
    res = mps_ap_create_k(ap_o, pool, args);
  }
  MPS_ARGS_END(args);
  return res;
}

/* The cold end of the calling thread's whole stack (the top of its
 * mapping), for a thread root that covers every C frame the thread will
 * ever have; NULL if it cannot be found. */
void *gcp_py_stack_cold_end(void)
{
  pthread_attr_t attr;
  void *addr = NULL;
  size_t size = 0;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return NULL;
  if (pthread_attr_getstack(&attr, &addr, &size) != 0) addr = NULL;
  (void)pthread_attr_destroy(&attr);
  if (addr == NULL) return NULL;
  return (void *)(((uintptr_t)addr + size) & ~(uintptr_t)(sizeof(void *) - 1));
}
