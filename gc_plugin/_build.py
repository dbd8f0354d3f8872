"""cffi build script for ``gc_plugin._native`` (API mode).

Compiles the native core's unity file (``native/src/mps.c``) together with a
small C section for the Python layer, and the test clients (the graph format
``native/testfmt/graph.c`` and the weak table ``native/testfmt/weaktable.c``,
ordinary MPS clients), into one extension module.  Run by setuptools through ``setup.py`` (``cffi_modules``).
Implements the Build part of the architecture (DESIGN §4), the misuse
reporting of docs/design/python-api.md (Errors) and the C side of its
Collector section (pool creation from keyword values, the cold end of a
thread's stack).
"""

from __future__ import annotations

import glob
import os

from cffi import FFI

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(_HERE)
_NATIVE = os.path.join(_ROOT, "native")
_INCLUDE = os.path.join(_NATIVE, "include")
_SRC = os.path.join(_NATIVE, "src")

CDEF = r"""
typedef unsigned long mps_word_t;
typedef int mps_bool_t;
typedef int mps_res_t;
typedef void *mps_addr_t;
typedef size_t mps_align_t;

typedef struct mps_arena_s *mps_arena_t;
typedef struct mps_pool_s *mps_pool_t;
typedef struct mps_frame_s *mps_frame_t;
typedef struct _mps_sac_s *mps_sac_t;

typedef struct mps_ap_s {
  mps_addr_t init;
  mps_addr_t alloc;
  mps_addr_t limit;
} mps_ap_s;
typedef struct mps_ap_s *mps_ap_t;

typedef struct mps_sac_class_s {
  size_t mps_block_size;
  size_t mps_cached_count;
  unsigned mps_frequency;
} mps_sac_class_s;

typedef struct mps_pool_debug_option_s {
  const void *fence_template;
  size_t fence_size;
  const void *free_template;
  size_t free_size;
} mps_pool_debug_option_s;

#define MPS_RES_OK ...
#define MPS_RES_FAIL ...
#define MPS_RES_RESOURCE ...
#define MPS_RES_MEMORY ...
#define MPS_RES_LIMIT ...
#define MPS_RES_UNIMPL ...
#define MPS_RES_IO ...
#define MPS_RES_COMMIT_LIMIT ...
#define MPS_RES_PARAM ...
#define MPS_SAC_CLASS_LIMIT ...

/* which keyword values a gcp_py_*_create call was given (have_mask bits) */
#define GCP_PY_HAVE_SIZE ...
#define GCP_PY_HAVE_GRAIN ...
#define GCP_PY_HAVE_COMMIT_LIMIT ...
#define GCP_PY_HAVE_SPARE ...
#define GCP_PY_HAVE_PAUSE ...
#define GCP_PY_HAVE_EXTEND_BY ...
#define GCP_PY_HAVE_MEAN_SIZE ...
#define GCP_PY_HAVE_ALIGN ...
#define GCP_PY_HAVE_ARENA_HIGH ...
#define GCP_PY_HAVE_SLOT_HIGH ...
#define GCP_PY_HAVE_FIRST_FIT ...
#define GCP_PY_HAVE_MIN_SIZE ...
#define GCP_PY_HAVE_MAX_SIZE ...
#define GCP_PY_HAVE_RESERVE_DEPTH ...
#define GCP_PY_HAVE_FRAG_LIMIT ...
#define GCP_PY_HAVE_DEBUG_OPTIONS ...
#define GCP_PY_HAVE_CHAIN ...
#define GCP_PY_HAVE_INTERIOR ...
#define GCP_PY_HAVE_LARGE_SIZE ...
#define GCP_PY_HAVE_GEN ...
#define GCP_PY_HAVE_HASH_ARRAYS ...
#define GCP_PY_HAVE_RANK ...
#define GCP_PY_HAVE_SUPPORT_AMBIGUOUS ...
#define GCP_PY_MESSAGE_FINALIZATION ...
#define GCP_PY_MESSAGE_GC ...
#define GCP_PY_MESSAGE_GC_START ...

/* arenas (mps.h, mpsavm.h) */
void mps_arena_destroy(mps_arena_t);
size_t mps_arena_committed(mps_arena_t);
size_t mps_arena_reserved(mps_arena_t);
size_t mps_arena_spare_committed(mps_arena_t);
size_t mps_arena_commit_limit(mps_arena_t);
mps_res_t mps_arena_commit_limit_set(mps_arena_t, size_t);
double mps_arena_spare(mps_arena_t);
void mps_arena_spare_set(mps_arena_t, double);
double mps_arena_pause_time(mps_arena_t);
void mps_arena_pause_time_set(mps_arena_t, double);
mps_bool_t mps_arena_has_addr(mps_arena_t, mps_addr_t);
mps_bool_t mps_addr_pool(mps_pool_t *, mps_arena_t, mps_addr_t);

/* pools */
void mps_pool_destroy(mps_pool_t);
size_t mps_pool_total_size(mps_pool_t);
size_t mps_pool_free_size(mps_pool_t);
mps_res_t mps_alloc(mps_addr_t *, mps_pool_t, size_t);
void mps_free(mps_pool_t, mps_addr_t, size_t);
void mps_pool_check_fenceposts(mps_pool_t);
void mps_pool_check_free_space(mps_pool_t);

/* allocation points (function forms) */
void mps_ap_destroy(mps_ap_t);
mps_res_t mps_reserve(mps_addr_t *, mps_ap_t, size_t);
mps_bool_t mps_commit(mps_ap_t, mps_addr_t, size_t);
mps_res_t mps_ap_frame_push(mps_frame_t *, mps_ap_t);
mps_res_t mps_ap_frame_pop(mps_ap_t, mps_frame_t);

/* segregated allocation caches */
mps_res_t mps_sac_create(mps_sac_t *, mps_pool_t, size_t, mps_sac_class_s *);
void mps_sac_destroy(mps_sac_t);
mps_res_t mps_sac_alloc(mps_addr_t *, mps_sac_t, size_t, mps_bool_t);
void mps_sac_free(mps_sac_t, mps_addr_t, size_t);
void mps_sac_flush(mps_sac_t);

/* gc_plugin extensions (gcp_ext.h) */
const char *gcp_variety(void);
int gcp_arena_consistent(mps_arena_t);
int gcp_pool_consistent(mps_pool_t);
const char *gcp_pool_class_name(mps_pool_t);
size_t gcp_pool_alignment(mps_pool_t);
size_t gcp_arena_grain_size(mps_arena_t);
size_t gcp_arena_control_committed(mps_arena_t);
size_t gcp_arena_chunk_count(mps_arena_t);
size_t gcp_arena_overhead_committed(mps_arena_t);
size_t gcp_arena_pools_committed(mps_arena_t);
size_t gcp_sac_cached_size(mps_sac_t);

/* the SEGFIT pool class (mpscsegfit.h) */
#define GCP_SEGFIT_SMALL_MAX ...
typedef void (*gcp_segfit_visit_t)(mps_addr_t, size_t, unsigned, void *);
mps_res_t gcp_segfit_alloc(mps_addr_t *, mps_pool_t, size_t, unsigned);
void gcp_segfit_free(mps_pool_t, mps_addr_t);
mps_bool_t gcp_segfit_block(mps_pool_t, mps_addr_t, size_t *, unsigned *);
size_t gcp_segfit_usable_size(size_t);
void gcp_segfit_walk(mps_pool_t, gcp_segfit_visit_t, void *);
void gcp_segfit_live(mps_pool_t, size_t *, size_t *);

/* the CPython allocator hook, attribution and heap walks (native/cpython/) */
#define GCP_HOOK_INSTALLED ...
#define GCP_HOOK_ROUTING ...
#define GCP_HOOK_ALL ...
typedef struct gcp_heap_record {
  uintptr_t address;
  size_t size;
  unsigned domain;
  unsigned object;
  uintptr_t type;
} gcp_heap_record;
typedef struct gcp_heap_group {
  unsigned domain, object;
  uintptr_t type;
  size_t blocks, bytes;
} gcp_heap_group;
int gcp_hook_activate(int all, int under_tracemalloc);
int gcp_hook_deactivate(void);
int gcp_hook_state(void);
int gcp_hook_manage(unsigned id);
void gcp_hook_unmanage_all(void);
int gcp_hook_selftest(void);
size_t gcp_hook_live(size_t *bytes_o);
unsigned gcp_objects_refresh(void);
const char *gcp_objects_name(unsigned id);
unsigned gcp_objects_id_of(uintptr_t addr);
unsigned gcp_objects_interpreter(void);
size_t gcp_heap_walk(gcp_heap_record *out, size_t capacity, const uintptr_t *types,
                     size_t type_count);
size_t gcp_heap_summary(gcp_heap_group *out, size_t capacity, const uintptr_t *types,
                        size_t type_count);

void *PyMem_RawMalloc(size_t);
void PyMem_RawFree(void *);

/* ---- the collector (mps.h §2.3-2.4, 6-14; mpscamc.h, mpsclo.h) ---- */
typedef unsigned mps_rm_t;
typedef unsigned mps_rank_t;
typedef unsigned mps_message_type_t;
typedef mps_word_t mps_clock_t;
typedef struct mps_fmt_s *mps_fmt_t;
typedef struct mps_chain_s *mps_chain_t;
typedef struct mps_root_s *mps_root_t;
typedef struct mps_thr_s *mps_thr_t;
typedef struct mps_message_s *mps_message_t;

typedef struct mps_gen_param_s {
  size_t mps_capacity;
  double mps_mortality;
} mps_gen_param_s;

typedef struct mps_ld_s {
  mps_word_t _epoch;
  mps_word_t _rs;
} mps_ld_s;
typedef struct mps_ld_s *mps_ld_t;

typedef void (*mps_formatted_objects_stepper_t)(mps_addr_t, mps_fmt_t, mps_pool_t,
                                                void *, size_t);
typedef void (*mps_roots_stepper_t)(mps_addr_t *, mps_root_t, void *, size_t);

/* collection control and introspection */
void mps_arena_clamp(mps_arena_t);
void mps_arena_park(mps_arena_t);
void mps_arena_release(mps_arena_t);
mps_res_t mps_arena_collect(mps_arena_t);
mps_res_t mps_arena_start_collect(mps_arena_t);
mps_bool_t mps_arena_step(mps_arena_t, double, double);
mps_word_t mps_collections(mps_arena_t);
mps_bool_t mps_addr_fmt(mps_fmt_t *, mps_arena_t, mps_addr_t);
mps_res_t mps_addr_object(mps_addr_t *, mps_arena_t, mps_addr_t);
mps_bool_t mps_arena_busy(mps_arena_t);

/* formats and chains */
void mps_fmt_destroy(mps_fmt_t);
mps_res_t mps_chain_create(mps_chain_t *, mps_arena_t, size_t, mps_gen_param_s *);
void mps_chain_destroy(mps_chain_t);

/* roots and threads */
mps_rank_t mps_rank_ambig(void);
mps_rank_t mps_rank_exact(void);
mps_rank_t mps_rank_weak(void);
mps_res_t mps_root_create_table(mps_root_t *, mps_arena_t, mps_rank_t, mps_rm_t,
                                mps_addr_t *, size_t);
mps_res_t mps_root_create_thread(mps_root_t *, mps_arena_t, mps_thr_t, void *);
void mps_root_destroy(mps_root_t);
mps_res_t mps_thread_reg(mps_thr_t *, mps_arena_t);
void mps_thread_dereg(mps_thr_t);

/* messages */
void mps_message_type_enable(mps_arena_t, mps_message_type_t);
void mps_message_type_disable(mps_arena_t, mps_message_type_t);
mps_bool_t mps_message_poll(mps_arena_t);
mps_bool_t mps_message_queue_type(mps_message_type_t *, mps_arena_t);
mps_bool_t mps_message_get(mps_message_t *, mps_arena_t, mps_message_type_t);
void mps_message_discard(mps_arena_t, mps_message_t);
mps_message_type_t mps_message_type(mps_arena_t, mps_message_t);
mps_clock_t mps_message_clock(mps_arena_t, mps_message_t);
void mps_message_finalization_ref(mps_addr_t *, mps_arena_t, mps_message_t);
size_t mps_message_gc_live_size(mps_arena_t, mps_message_t);
size_t mps_message_gc_condemned_size(mps_arena_t, mps_message_t);
size_t mps_message_gc_not_condemned_size(mps_arena_t, mps_message_t);
const char *mps_message_gc_start_why(mps_arena_t, mps_message_t);

/* finalization */
mps_res_t mps_finalize(mps_arena_t, mps_addr_t *);
mps_res_t mps_definalize(mps_arena_t, mps_addr_t *);

/* location dependency */
void mps_ld_reset(mps_ld_t, mps_arena_t);
void mps_ld_add(mps_ld_t, mps_arena_t, mps_addr_t);
void mps_ld_merge(mps_ld_t, mps_arena_t, mps_ld_t);
mps_bool_t mps_ld_isstale(mps_ld_t, mps_arena_t, mps_addr_t);
mps_bool_t mps_ld_isstale_any(mps_ld_t, mps_arena_t);

/* walks */
void mps_arena_formatted_objects_walk(mps_arena_t, mps_formatted_objects_stepper_t,
                                      void *, size_t);
void mps_arena_roots_walk(mps_arena_t, mps_roots_stepper_t, void *, size_t);

/* the graph test format (native/testfmt/graph.h) */
#define GCP_GRAPH_ALIGN ...
#define GCP_GRAPH_OBJ ...
#define GCP_GRAPH_FWD ...
#define GCP_GRAPH_PAD1 ...
#define GCP_GRAPH_PADN ...
#define GCP_GRAPH_BAD ...
#define GCP_GRAPH_MAX_REFS ...
#define GCP_GRAPH_MAX_DATA ...
#define GCP_GRAPH_MIN_DATA ...
#define GCP_GRAPH_HOLD_MAX ...
mps_res_t gcp_graph_format_create(mps_fmt_t *, mps_arena_t, size_t);
int gcp_graph_header_ok(size_t);
size_t gcp_graph_size(size_t, size_t, size_t);
void gcp_graph_init(mps_addr_t, size_t, size_t, size_t, unsigned long);
mps_res_t gcp_graph_alloc(mps_addr_t *, mps_ap_t, size_t, size_t, size_t, unsigned long);
unsigned gcp_graph_kind(mps_addr_t, size_t);
size_t gcp_graph_nrefs(mps_addr_t, size_t);
size_t gcp_graph_ndata(mps_addr_t, size_t);
unsigned long gcp_graph_id(mps_addr_t, size_t);
size_t gcp_graph_extent(mps_addr_t, size_t);
int gcp_graph_valid(mps_addr_t, size_t);
mps_addr_t gcp_graph_ref(mps_addr_t, size_t, size_t);
void gcp_graph_set_ref(mps_addr_t, size_t, size_t, mps_addr_t);
mps_res_t gcp_graph_collect_holding(mps_arena_t, mps_thr_t, mps_addr_t *, size_t,
                                    mps_addr_t *);
int gcp_graph_hold_until(mps_addr_t *, size_t, mps_addr_t *, volatile int *, volatile int *);

/* the Python process's roots for a collected arena (native/cpython/gcroots.c) */
void gcp_arena_all_threads(mps_arena_t, int);
size_t gcp_arena_unstoppable_threads(mps_arena_t);
int gcp_python_arena_attach(mps_arena_t, mps_root_t *);
mps_res_t gcp_graph_pool_walk(mps_pool_t, size_t, mps_addr_t *, size_t, size_t *);
unsigned long gcp_graph_errors(mps_addr_t *, mps_word_t *);
void gcp_graph_errors_reset(void);
mps_res_t gcp_graph_alloc_into(mps_ap_t, size_t, mps_addr_t *, size_t, size_t, size_t,
                               unsigned long);
int gcp_graph_path_link(size_t, mps_addr_t *, size_t, const size_t *, size_t, size_t,
                        size_t, const size_t *, size_t);
long gcp_graph_path_read(size_t, mps_addr_t *, size_t, const size_t *, size_t,
                         unsigned long *, unsigned long *, size_t);

/* the Python layer's C section (below) */
void gcp_py_install_handler(void);
int gcp_py_misuse_pending(void);
int gcp_py_take_misuse(char *, size_t);
mps_res_t gcp_py_arena_create(mps_arena_t *, size_t size, size_t grain,
                              size_t commit_limit, double spare, double pause,
                              unsigned have_mask);
mps_res_t gcp_py_mfs_create(mps_pool_t *, mps_arena_t, size_t unit_size,
                            size_t extend_by, unsigned have_mask);
mps_res_t gcp_py_mvff_create(mps_pool_t *, mps_arena_t, int debug,
                             mps_pool_debug_option_s *options,
                             size_t extend_by, size_t mean_size, size_t align,
                             double spare, int arena_high, int slot_high,
                             int first_fit, unsigned have_mask);
mps_res_t gcp_py_mvt_create(mps_pool_t *, mps_arena_t, size_t align,
                            size_t min_size, size_t mean_size, size_t max_size,
                            mps_word_t reserve_depth, double frag_limit,
                            unsigned have_mask);
mps_res_t gcp_py_segfit_create(mps_pool_t *, mps_arena_t);
mps_res_t gcp_py_ap_create(mps_ap_t *, mps_pool_t);
mps_res_t gcp_py_ap_alloc(mps_addr_t *, mps_ap_t, size_t);
mps_res_t gcp_py_amc_create(mps_pool_t *, mps_arena_t, int zero, mps_fmt_t fmt,
                            mps_chain_t chain, int interior, size_t extend_by,
                            size_t large_size, unsigned have_mask);
mps_res_t gcp_py_lo_create(mps_pool_t *, mps_arena_t, mps_fmt_t fmt, mps_chain_t chain,
                           unsigned gen, unsigned have_mask);
mps_res_t gcp_py_ams_create(mps_pool_t *, mps_arena_t, int debug,
                            mps_pool_debug_option_s *options, mps_fmt_t fmt,
                            mps_chain_t chain, unsigned gen, int support_ambiguous,
                            unsigned have_mask);
mps_res_t gcp_py_awl_create(mps_pool_t *, mps_arena_t, mps_fmt_t fmt, mps_chain_t chain,
                            unsigned gen, unsigned have_mask);
mps_res_t gcp_py_snc_create(mps_pool_t *, mps_arena_t, mps_fmt_t fmt);
mps_res_t gcp_py_collected_ap_create(mps_ap_t *, mps_pool_t, int hash_arrays,
                                     mps_rank_t rank, unsigned have_mask);

/* the weak table test client (native/testfmt/weaktable.h) */
typedef struct gcp_wtable_s *gcp_wtable_t;
mps_res_t gcp_wtable_format_create(mps_fmt_t *, mps_arena_t);
mps_res_t gcp_wtable_pool_create(mps_pool_t *, mps_arena_t, mps_fmt_t, mps_chain_t);
mps_res_t gcp_wtable_create(gcp_wtable_t *, mps_arena_t, mps_pool_t, int, size_t);
void gcp_wtable_destroy(gcp_wtable_t);
mps_res_t gcp_wtable_put(gcp_wtable_t, mps_addr_t, mps_addr_t);
mps_addr_t gcp_wtable_get(gcp_wtable_t, mps_addr_t);
int gcp_wtable_remove(gcp_wtable_t, mps_addr_t);
size_t gcp_wtable_count(gcp_wtable_t);
size_t gcp_wtable_splatted(gcp_wtable_t);
size_t gcp_wtable_rehashes(gcp_wtable_t);
size_t gcp_wtable_entries(gcp_wtable_t, mps_addr_t *, mps_addr_t *, size_t);
void *gcp_py_stack_cold_end(void);
"""

SOURCE = r"""
/* The whole core as one translation unit.  Python.h came first (cffi puts
 * it there) and has defined _GNU_SOURCE, which mps.c wants anyway. */
#include "mps.c"
#include "mpscmvff.h"
#include "mpscmvt.h"
#include "mpscsegfit.h"
#include "mpscamc.h"
#include "mpsclo.h"
#include "mpscams.h"
#include "mpscawl.h"
#include "mpscsnc.h"

/* The test clients (ordinary MPS clients; see their headers): the graph
 * format and the weak table. */
#include "testfmt/graph.c"
#include "testfmt/weaktable.c"

/* The cdef names the function forms of the inline AP macros. */
#undef mps_reserve
#undef mps_commit

#include <stdio.h>
#include <string.h>

/* ---- misuse reports ----------------------------------------------------
 * The core reports client misuse to the misuse handler installed here and
 * backs out; the Python wrapper then takes the reports and raises
 * MisuseError.  Every report of a thread is kept (joined with "; ") until
 * taken.  A thread that is not a Python thread has nobody to take them:
 * its reports are printed to stderr.  Failed internal invariants do not
 * come here: they reach the plinth's assertion handler, which prints the
 * report and aborts the process (going on after one could free live
 * objects). */
static _Thread_local char gcp_py_misuse[1024];   /* static TLS: keep it small */
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
  (void)snprintf(one, sizeof one, "%s (%s:%u)",
                 message == NULL ? "(no message)" : message, base, line);
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

static void gcp_py_install_handler(void)
{
  (void)gcp_misuse_handler_install(gcp_py_misuse_report);
}

static int gcp_py_misuse_pending(void) { return gcp_py_misuse_set; }

/* Copy the pending reports into buf (NUL-terminated) and clear them: 1 if
 * there were any, else 0. */
static int gcp_py_take_misuse(char *buf, size_t n)
{
  if (!gcp_py_misuse_set) return 0;
  if (buf != NULL && n > 0) {
    if (gcp_py_misuse_dropped > 0)
      (void)snprintf(buf, n, "%s; and %lu more", gcp_py_misuse, gcp_py_misuse_dropped);
    else
      (void)snprintf(buf, n, "%s", gcp_py_misuse);
  }
  gcp_py_misuse_set = 0;
  gcp_py_misuse_dropped = 0;
  gcp_py_misuse[0] = '\0';
  return 1;
}

/* ---- creation from keyword values ---------------------------------------
 * Each value is passed only if its bit is set in have_mask, so that the
 * core's defaults apply to the others. */
#define GCP_PY_HAVE_SIZE          (1u << 0)
#define GCP_PY_HAVE_GRAIN         (1u << 1)
#define GCP_PY_HAVE_COMMIT_LIMIT  (1u << 2)
#define GCP_PY_HAVE_SPARE         (1u << 3)
#define GCP_PY_HAVE_PAUSE         (1u << 4)
#define GCP_PY_HAVE_EXTEND_BY     (1u << 5)
#define GCP_PY_HAVE_MEAN_SIZE     (1u << 6)
#define GCP_PY_HAVE_ALIGN         (1u << 7)
#define GCP_PY_HAVE_ARENA_HIGH    (1u << 8)
#define GCP_PY_HAVE_SLOT_HIGH     (1u << 9)
#define GCP_PY_HAVE_FIRST_FIT     (1u << 10)
#define GCP_PY_HAVE_MIN_SIZE      (1u << 11)
#define GCP_PY_HAVE_MAX_SIZE      (1u << 12)
#define GCP_PY_HAVE_RESERVE_DEPTH (1u << 13)
#define GCP_PY_HAVE_FRAG_LIMIT    (1u << 14)
#define GCP_PY_HAVE_DEBUG_OPTIONS (1u << 15)
#define GCP_PY_HAVE_CHAIN         (1u << 16)
#define GCP_PY_HAVE_INTERIOR      (1u << 17)
#define GCP_PY_HAVE_LARGE_SIZE    (1u << 18)
#define GCP_PY_HAVE_GEN           (1u << 19)
#define GCP_PY_HAVE_HASH_ARRAYS   (1u << 20)
#define GCP_PY_HAVE_RANK          (1u << 21)
#define GCP_PY_HAVE_SUPPORT_AMBIGUOUS (1u << 22)

/* The message types are function-like macros in mps.h. */
#define GCP_PY_MESSAGE_FINALIZATION mps_message_type_finalization()
#define GCP_PY_MESSAGE_GC           mps_message_type_gc()
#define GCP_PY_MESSAGE_GC_START     mps_message_type_gc_start()

static mps_res_t gcp_py_arena_create(mps_arena_t *arena_o, size_t size, size_t grain,
                                     size_t commit_limit, double spare, double pause,
                                     unsigned have)
{
  mps_res_t res;
  MPS_ARGS_BEGIN(args) {
    if (have & GCP_PY_HAVE_SIZE) MPS_ARGS_ADD(args, MPS_KEY_ARENA_SIZE, size);
    if (have & GCP_PY_HAVE_GRAIN) MPS_ARGS_ADD(args, MPS_KEY_ARENA_GRAIN_SIZE, grain);
    if (have & GCP_PY_HAVE_COMMIT_LIMIT) MPS_ARGS_ADD(args, MPS_KEY_COMMIT_LIMIT, commit_limit);
    if (have & GCP_PY_HAVE_SPARE) MPS_ARGS_ADD(args, MPS_KEY_SPARE, spare);
    if (have & GCP_PY_HAVE_PAUSE) MPS_ARGS_ADD(args, MPS_KEY_PAUSE_TIME, pause);
    res = mps_arena_create_k(arena_o, mps_arena_class_vm(), args);
  } MPS_ARGS_END(args);
  return res;
}

static mps_res_t gcp_py_mfs_create(mps_pool_t *pool_o, mps_arena_t arena, size_t unit_size,
                                   size_t extend_by, unsigned have)
{
  mps_res_t res;
  MPS_ARGS_BEGIN(args) {
    MPS_ARGS_ADD(args, MPS_KEY_MFS_UNIT_SIZE, unit_size);
    if (have & GCP_PY_HAVE_EXTEND_BY) MPS_ARGS_ADD(args, MPS_KEY_EXTEND_BY, extend_by);
    res = mps_pool_create_k(pool_o, arena, mps_class_mfs(), args);
  } MPS_ARGS_END(args);
  return res;
}

static mps_res_t gcp_py_mvff_create(mps_pool_t *pool_o, mps_arena_t arena, int debug,
                                    mps_pool_debug_option_s *options,
                                    size_t extend_by, size_t mean_size, size_t align,
                                    double spare, int arena_high, int slot_high,
                                    int first_fit, unsigned have)
{
  mps_res_t res;
  MPS_ARGS_BEGIN(args) {
    if (have & GCP_PY_HAVE_EXTEND_BY) MPS_ARGS_ADD(args, MPS_KEY_EXTEND_BY, extend_by);
    if (have & GCP_PY_HAVE_MEAN_SIZE) MPS_ARGS_ADD(args, MPS_KEY_MEAN_SIZE, mean_size);
    if (have & GCP_PY_HAVE_ALIGN) MPS_ARGS_ADD(args, MPS_KEY_ALIGN, align);
    if (have & GCP_PY_HAVE_SPARE) MPS_ARGS_ADD(args, MPS_KEY_SPARE, spare);
    if (have & GCP_PY_HAVE_ARENA_HIGH) MPS_ARGS_ADD(args, MPS_KEY_MVFF_ARENA_HIGH, arena_high != 0);
    if (have & GCP_PY_HAVE_SLOT_HIGH) MPS_ARGS_ADD(args, MPS_KEY_MVFF_SLOT_HIGH, slot_high != 0);
    if (have & GCP_PY_HAVE_FIRST_FIT) MPS_ARGS_ADD(args, MPS_KEY_MVFF_FIRST_FIT, first_fit != 0);
    if (debug && (have & GCP_PY_HAVE_DEBUG_OPTIONS))
      MPS_ARGS_ADD(args, MPS_KEY_POOL_DEBUG_OPTIONS, options);
    res = mps_pool_create_k(pool_o, arena, debug ? mps_class_mvff_debug() : mps_class_mvff(),
                            args);
  } MPS_ARGS_END(args);
  return res;
}

static mps_res_t gcp_py_mvt_create(mps_pool_t *pool_o, mps_arena_t arena, size_t align,
                                   size_t min_size, size_t mean_size, size_t max_size,
                                   mps_word_t reserve_depth, double frag_limit, unsigned have)
{
  mps_res_t res;
  MPS_ARGS_BEGIN(args) {
    if (have & GCP_PY_HAVE_ALIGN) MPS_ARGS_ADD(args, MPS_KEY_ALIGN, align);
    if (have & GCP_PY_HAVE_MIN_SIZE) MPS_ARGS_ADD(args, MPS_KEY_MIN_SIZE, min_size);
    if (have & GCP_PY_HAVE_MEAN_SIZE) MPS_ARGS_ADD(args, MPS_KEY_MEAN_SIZE, mean_size);
    if (have & GCP_PY_HAVE_MAX_SIZE) MPS_ARGS_ADD(args, MPS_KEY_MAX_SIZE, max_size);
    if (have & GCP_PY_HAVE_RESERVE_DEPTH)
      MPS_ARGS_ADD(args, MPS_KEY_MVT_RESERVE_DEPTH, reserve_depth);
    if (have & GCP_PY_HAVE_FRAG_LIMIT) MPS_ARGS_ADD(args, MPS_KEY_MVT_FRAG_LIMIT, frag_limit);
    res = mps_pool_create_k(pool_o, arena, mps_class_mvt(), args);
  } MPS_ARGS_END(args);
  return res;
}

static mps_res_t gcp_py_segfit_create(mps_pool_t *pool_o, mps_arena_t arena)
{
  return mps_pool_create_k(pool_o, arena, mps_class_segfit(), mps_args_none);
}

static mps_res_t gcp_py_ap_create(mps_ap_t *ap_o, mps_pool_t pool)
{
  return mps_ap_create_k(ap_o, pool, mps_args_none);
}

/* Reserve and commit, retried until the commit succeeds.  Stops at the
 * first misuse report so that a refused commit cannot loop. */
static mps_res_t gcp_py_ap_alloc(mps_addr_t *p_o, mps_ap_t ap, size_t size)
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
static mps_res_t gcp_py_amc_create(mps_pool_t *pool_o, mps_arena_t arena, int zero,
                                   mps_fmt_t fmt, mps_chain_t chain, int interior,
                                   size_t extend_by, size_t large_size, unsigned have)
{
  mps_res_t res;
  MPS_ARGS_BEGIN(args) {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    if (have & GCP_PY_HAVE_CHAIN) MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    if (have & GCP_PY_HAVE_INTERIOR) MPS_ARGS_ADD(args, MPS_KEY_INTERIOR, interior != 0);
    if (have & GCP_PY_HAVE_EXTEND_BY) MPS_ARGS_ADD(args, MPS_KEY_EXTEND_BY, extend_by);
    if (have & GCP_PY_HAVE_LARGE_SIZE) MPS_ARGS_ADD(args, MPS_KEY_LARGE_SIZE, large_size);
    res = mps_pool_create_k(pool_o, arena, zero ? mps_class_amcz() : mps_class_amc(), args);
  } MPS_ARGS_END(args);
  return res;
}

static mps_res_t gcp_py_lo_create(mps_pool_t *pool_o, mps_arena_t arena, mps_fmt_t fmt,
                                  mps_chain_t chain, unsigned gen, unsigned have)
{
  mps_res_t res;
  MPS_ARGS_BEGIN(args) {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    if (have & GCP_PY_HAVE_CHAIN) MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    if (have & GCP_PY_HAVE_GEN) MPS_ARGS_ADD(args, MPS_KEY_GEN, gen);
    res = mps_pool_create_k(pool_o, arena, mps_class_lo(), args);
  } MPS_ARGS_END(args);
  return res;
}

/* AMS (debug == 0) or AMS debug. */
static mps_res_t gcp_py_ams_create(mps_pool_t *pool_o, mps_arena_t arena, int debug,
                                   mps_pool_debug_option_s *options, mps_fmt_t fmt,
                                   mps_chain_t chain, unsigned gen, int support_ambiguous,
                                   unsigned have)
{
  mps_res_t res;
  MPS_ARGS_BEGIN(args) {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    if (have & GCP_PY_HAVE_CHAIN) MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    if (have & GCP_PY_HAVE_GEN) MPS_ARGS_ADD(args, MPS_KEY_GEN, gen);
    if (have & GCP_PY_HAVE_SUPPORT_AMBIGUOUS)
      MPS_ARGS_ADD(args, MPS_KEY_AMS_SUPPORT_AMBIGUOUS, support_ambiguous != 0);
    if (debug && (have & GCP_PY_HAVE_DEBUG_OPTIONS))
      MPS_ARGS_ADD(args, MPS_KEY_POOL_DEBUG_OPTIONS, options);
    res = mps_pool_create_k(pool_o, arena, debug ? mps_class_ams_debug() : mps_class_ams(), args);
  } MPS_ARGS_END(args);
  return res;
}

static mps_res_t gcp_py_awl_create(mps_pool_t *pool_o, mps_arena_t arena, mps_fmt_t fmt,
                                   mps_chain_t chain, unsigned gen, unsigned have)
{
  mps_res_t res;
  MPS_ARGS_BEGIN(args) {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    if (have & GCP_PY_HAVE_CHAIN) MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    if (have & GCP_PY_HAVE_GEN) MPS_ARGS_ADD(args, MPS_KEY_GEN, gen);
    res = mps_pool_create_k(pool_o, arena, mps_class_awl(), args);
  } MPS_ARGS_END(args);
  return res;
}

static mps_res_t gcp_py_snc_create(mps_pool_t *pool_o, mps_arena_t arena, mps_fmt_t fmt)
{
  mps_res_t res;
  MPS_ARGS_BEGIN(args) {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    res = mps_pool_create_k(pool_o, arena, mps_class_snc(), args);
  } MPS_ARGS_END(args);
  return res;
}

static mps_res_t gcp_py_collected_ap_create(mps_ap_t *ap_o, mps_pool_t pool,
                                            int hash_arrays, mps_rank_t rank, unsigned have)
{
  mps_res_t res;
  MPS_ARGS_BEGIN(args) {
    if (have & GCP_PY_HAVE_HASH_ARRAYS)
      MPS_ARGS_ADD(args, MPS_KEY_AP_HASH_ARRAYS, hash_arrays != 0);
    if (have & GCP_PY_HAVE_RANK) MPS_ARGS_ADD(args, MPS_KEY_RANK, rank);
    res = mps_ap_create_k(ap_o, pool, args);
  } MPS_ARGS_END(args);
  return res;
}

/* The cold end of the calling thread's whole stack (the top of its
 * mapping), for a thread root that covers every C frame the thread will
 * ever have; NULL if it cannot be found. */
#include <pthread.h>
static void *gcp_py_stack_cold_end(void)
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

/* ---- the CPython integration (the only C that uses Python.h) ---------- */
#include "cpython/objects.c"
#include "cpython/hook.c"
#include "cpython/heapwalk.c"
#include "cpython/gcroots.c"
"""


def _depends() -> list[str]:
    """Every native source the module is compiled from (for rebuilds)."""
    patterns = ("*.c", "*.h", os.path.join("platform", "*.c"), os.path.join("platform", "*.h"))
    files = [f for p in patterns for f in glob.glob(os.path.join(_SRC, p))]
    files += glob.glob(os.path.join(_NATIVE, "cpython", "*.c"))
    files += glob.glob(os.path.join(_NATIVE, "testfmt", "*.[ch]"))
    files += glob.glob(os.path.join(_INCLUDE, "*.h"))
    return sorted(files)


ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source(
    "gc_plugin._native",
    SOURCE,
    include_dirs=[_INCLUDE, _SRC, _NATIVE],
    define_macros=[("_CFFI_NO_LIMITED_API", None), ("CONFIG_VAR_HOT", None)],
    extra_compile_args=["-std=c11", "-fvisibility=hidden", "-O2"],
    py_limited_api=False,
    sources=[],
    depends=_depends(),
)

if __name__ == "__main__":  # pragma: no cover - manual build aid
    ffibuilder.compile(tmpdir=os.path.join(_ROOT, "build", "cffi"), verbose=True)
