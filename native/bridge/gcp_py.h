/* gcp_py.h -- the bridge between the Python layer and the core: what
 * gc_plugin._native offers Python beyond the MPS interface itself.  The
 * misuse handler that turns the core's misuse reports into MisuseError,
 * pool and arena creation from the keyword values Python passed (a bit per
 * value given, so that the core's defaults apply to the others), and a few
 * helpers.  Implemented in gcp_py.c; what Python may call of it is also
 * declared in native/bridge/cdef.h, the declarations cffi reads (cffi
 * checks them against these when it compiles the module).
 * Design: docs/design/python-api.md.
 */
#ifndef GCP_PY_H
#define GCP_PY_H

#include <stddef.h>
#include "mps.h"

/* Which keyword values a gcp_py_*_create call was given (have_mask bits). */
#define GCP_PY_HAVE_SIZE              (1u << 0)
#define GCP_PY_HAVE_GRAIN             (1u << 1)
#define GCP_PY_HAVE_COMMIT_LIMIT      (1u << 2)
#define GCP_PY_HAVE_SPARE             (1u << 3)
#define GCP_PY_HAVE_PAUSE             (1u << 4)
#define GCP_PY_HAVE_EXTEND_BY         (1u << 5)
#define GCP_PY_HAVE_MEAN_SIZE         (1u << 6)
#define GCP_PY_HAVE_ALIGN             (1u << 7)
#define GCP_PY_HAVE_ARENA_HIGH        (1u << 8)
#define GCP_PY_HAVE_SLOT_HIGH         (1u << 9)
#define GCP_PY_HAVE_FIRST_FIT         (1u << 10)
#define GCP_PY_HAVE_MIN_SIZE          (1u << 11)
#define GCP_PY_HAVE_MAX_SIZE          (1u << 12)
#define GCP_PY_HAVE_RESERVE_DEPTH     (1u << 13)
#define GCP_PY_HAVE_FRAG_LIMIT        (1u << 14)
#define GCP_PY_HAVE_DEBUG_OPTIONS     (1u << 15)
#define GCP_PY_HAVE_CHAIN             (1u << 16)
#define GCP_PY_HAVE_INTERIOR          (1u << 17)
#define GCP_PY_HAVE_LARGE_SIZE        (1u << 18)
#define GCP_PY_HAVE_GEN               (1u << 19)
#define GCP_PY_HAVE_HASH_ARRAYS       (1u << 20)
#define GCP_PY_HAVE_RANK              (1u << 21)
#define GCP_PY_HAVE_SUPPORT_AMBIGUOUS (1u << 22)
#define GCP_PY_MESSAGE_FINALIZATION   mps_message_type_finalization()
#define GCP_PY_MESSAGE_GC             mps_message_type_gc()
#define GCP_PY_MESSAGE_GC_START       mps_message_type_gc_start()

void gcp_py_install_handler(void);
int gcp_py_misuse_pending(void);
int gcp_py_take_misuse(char *buf, size_t n);
mps_res_t gcp_py_arena_create(mps_arena_t *arena_o, size_t size, size_t grain, size_t commit_limit,
                              double spare, double pause, unsigned have);
mps_res_t gcp_py_mfs_create(mps_pool_t *pool_o, mps_arena_t arena, size_t unit_size,
                            size_t extend_by, unsigned have);
mps_res_t gcp_py_mvff_create(mps_pool_t *pool_o, mps_arena_t arena, int debug,
                             mps_pool_debug_option_s *options, size_t extend_by, size_t mean_size,
                             size_t align, double spare, int arena_high, int slot_high,
                             int first_fit, unsigned have);
mps_res_t gcp_py_mvt_create(mps_pool_t *pool_o, mps_arena_t arena, size_t align, size_t min_size,
                            size_t mean_size, size_t max_size, mps_word_t reserve_depth,
                            double frag_limit, unsigned have);
mps_res_t gcp_py_segfit_create(mps_pool_t *pool_o, mps_arena_t arena);
mps_res_t gcp_py_ap_create(mps_ap_t *ap_o, mps_pool_t pool);
mps_res_t gcp_py_ap_alloc(mps_addr_t *p_o, mps_ap_t ap, size_t size);
mps_res_t gcp_py_amc_create(mps_pool_t *pool_o, mps_arena_t arena, int zero, mps_fmt_t fmt,
                            mps_chain_t chain, int interior, size_t extend_by, size_t large_size,
                            unsigned have);
mps_res_t gcp_py_lo_create(mps_pool_t *pool_o, mps_arena_t arena, mps_fmt_t fmt, mps_chain_t chain,
                           unsigned gen, unsigned have);
mps_res_t gcp_py_ams_create(mps_pool_t *pool_o, mps_arena_t arena, int debug,
                            mps_pool_debug_option_s *options, mps_fmt_t fmt, mps_chain_t chain,
                            unsigned gen, int support_ambiguous, unsigned have);
mps_res_t gcp_py_awl_create(mps_pool_t *pool_o, mps_arena_t arena, mps_fmt_t fmt, mps_chain_t chain,
                            unsigned gen, unsigned have);
mps_res_t gcp_py_snc_create(mps_pool_t *pool_o, mps_arena_t arena, mps_fmt_t fmt);
void *gcp_py_stack_cold_end(void);
mps_res_t gcp_py_collected_ap_create(mps_ap_t *ap_o, mps_pool_t pool, int hash_arrays,
                                     mps_rank_t rank, unsigned have);

#endif /* GCP_PY_H */
