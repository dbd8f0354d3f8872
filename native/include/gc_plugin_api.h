/* gc_plugin_api.h -- the table of gc_plugin's C API: what the capsule
 * gc_plugin._native._C_API points to, for extensions that use the core of
 * the installed gc_plugin instead of linking a core of their own.
 *
 * One list names every entry: GC_PLUGIN_API_FUNCTIONS(X) expands
 * X(return type, name, (parameter types)) once per public function of
 * mps.h, mpsavm.h, mpsacl.h and the pool-class headers (mpsc*.h), and
 * GC_PLUGIN_API_KEYS(K) expands K(NAME) once per keyword-argument key
 * (_mps_key_NAME).  The list declares the table's members (below), fills
 * the table (native/bridge/capi.c) and is what gc_plugin.h maps the names
 * onto (a test checks that the mapping covers the list and the list the
 * headers).  Members are named as the functions and objects they point
 * to.
 *
 * Versioning: entries are only ever appended.  GC_PLUGIN_ABI_VERSION
 * changes when an entry changes type, moves or goes (clients built for
 * another value are refused); the table's size field says how many
 * entries the core provides (a client needs at least as many as its
 * header declares).  Design: docs/design/c-api.md.
 */
#ifndef gc_plugin_api_h
#define gc_plugin_api_h

#include <stddef.h>

#include "mps.h"
#include "mpsavm.h"
#include "mpsacl.h"
#include "mpscamc.h"
#include "mpscams.h"
#include "mpscawl.h"
#include "mpsclo.h"
#include "mpscmfs.h"
#include "mpscmvff.h"
#include "mpscmvt.h"
#include "mpscsegfit.h"
#include "mpscsnc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The name of the capsule, and of the attribute of gc_plugin._native that
 * holds it. */
#define GC_PLUGIN_API_MODULE  "gc_plugin._native"
#define GC_PLUGIN_API_CAPSULE "gc_plugin._native._C_API"

/* The ABI this header describes (see "Versioning" above).  A client may
 * define it before including gc_plugin.h only to test the refusal. */
#define GC_PLUGIN_ABI_CURRENT 1

/* clang-format off */
#define GC_PLUGIN_API_FUNCTIONS(X) \
  /* mps.h */ \
  X(void, _mps_args_set_key, (mps_arg_s *, unsigned, mps_key_t)) \
  X(mps_rank_t, mps_rank_ambig, (void)) \
  X(mps_rank_t, mps_rank_exact, (void)) \
  X(mps_rank_t, mps_rank_weak, (void)) \
  X(mps_res_t, mps_arena_create, (mps_arena_t *, mps_arena_class_t, ...)) \
  X(mps_res_t, mps_arena_create_v, (mps_arena_t *, mps_arena_class_t, va_list)) \
  X(mps_res_t, mps_pool_create, (mps_pool_t *, mps_arena_t, mps_pool_class_t, ...)) \
  X(mps_res_t, mps_pool_create_v, (mps_pool_t *, mps_arena_t, mps_pool_class_t, va_list)) \
  X(mps_res_t, mps_ap_create, (mps_ap_t *, mps_pool_t, ...)) \
  X(mps_res_t, mps_ap_create_v, (mps_ap_t *, mps_pool_t, va_list)) \
  X(mps_res_t, mps_arena_extend, (mps_arena_t, mps_addr_t, size_t)) \
  X(mps_res_t, mps_arena_create_k, (mps_arena_t *, mps_arena_class_t, mps_arg_s *)) \
  X(void, mps_arena_destroy, (mps_arena_t)) \
  X(void, mps_arena_clamp, (mps_arena_t)) \
  X(void, mps_arena_park, (mps_arena_t)) \
  X(void, mps_arena_release, (mps_arena_t)) \
  X(void, mps_arena_postmortem, (mps_arena_t)) \
  X(mps_res_t, mps_arena_collect, (mps_arena_t)) \
  X(mps_res_t, mps_arena_start_collect, (mps_arena_t)) \
  X(mps_bool_t, mps_arena_step, (mps_arena_t, double, double)) \
  X(mps_word_t, mps_collections, (mps_arena_t)) \
  X(mps_res_t, mps_transform_create, (mps_transform_t *, mps_arena_t)) \
  X(mps_res_t, mps_transform_add_oldnew, (mps_transform_t, mps_addr_t *, mps_addr_t *, size_t)) \
  X(mps_res_t, mps_transform_apply, (mps_bool_t *, mps_transform_t)) \
  X(void, mps_transform_destroy, (mps_transform_t)) \
  X(mps_bool_t, mps_arena_has_addr, (mps_arena_t, mps_addr_t)) \
  X(mps_bool_t, mps_addr_pool, (mps_pool_t *, mps_arena_t, mps_addr_t)) \
  X(mps_bool_t, mps_addr_fmt, (mps_fmt_t *, mps_arena_t, mps_addr_t)) \
  X(mps_res_t, mps_addr_object, (mps_addr_t *, mps_arena_t, mps_addr_t)) \
  X(mps_bool_t, mps_arena_busy, (mps_arena_t)) \
  X(size_t, mps_arena_reserved, (mps_arena_t)) \
  X(size_t, mps_arena_committed, (mps_arena_t)) \
  X(size_t, mps_arena_spare_committed, (mps_arena_t)) \
  X(size_t, mps_arena_commit_limit, (mps_arena_t)) \
  X(mps_res_t, mps_arena_commit_limit_set, (mps_arena_t, size_t)) \
  X(double, mps_arena_spare, (mps_arena_t)) \
  X(void, mps_arena_spare_set, (mps_arena_t, double)) \
  X(size_t, mps_arena_spare_commit_limit, (mps_arena_t)) \
  X(void, mps_arena_spare_commit_limit_set, (mps_arena_t, size_t)) \
  X(double, mps_arena_pause_time, (mps_arena_t)) \
  X(void, mps_arena_pause_time_set, (mps_arena_t, double)) \
  X(mps_res_t, mps_pool_create_k, (mps_pool_t *, mps_arena_t, mps_pool_class_t, mps_arg_s *)) \
  X(void, mps_pool_destroy, (mps_pool_t)) \
  X(size_t, mps_pool_total_size, (mps_pool_t)) \
  X(size_t, mps_pool_free_size, (mps_pool_t)) \
  X(mps_res_t, mps_alloc, (mps_addr_t *, mps_pool_t, size_t)) \
  X(void, mps_free, (mps_pool_t, mps_addr_t, size_t)) \
  X(void, mps_pool_check_fenceposts, (mps_pool_t)) \
  X(void, mps_pool_check_free_space, (mps_pool_t)) \
  X(mps_res_t, mps_pool_walk, (mps_pool_t, mps_area_scan_t, void *)) \
  X(mps_res_t, mps_ap_create_k, (mps_ap_t *, mps_pool_t, mps_arg_s *)) \
  X(void, mps_ap_destroy, (mps_ap_t)) \
  X(mps_res_t, mps_reserve, (mps_addr_t *, mps_ap_t, size_t)) \
  X(mps_bool_t, mps_commit, (mps_ap_t, mps_addr_t, size_t)) \
  X(mps_res_t, mps_ap_fill, (mps_addr_t *, mps_ap_t, size_t)) \
  X(mps_bool_t, mps_ap_trip, (mps_ap_t, mps_addr_t, size_t)) \
  X(mps_res_t, mps_ap_frame_push, (mps_frame_t *, mps_ap_t)) \
  X(mps_res_t, mps_ap_frame_pop, (mps_ap_t, mps_frame_t)) \
  X(mps_alloc_pattern_t, mps_alloc_pattern_ramp, (void)) \
  X(mps_alloc_pattern_t, mps_alloc_pattern_ramp_collect_all, (void)) \
  X(mps_res_t, mps_ap_alloc_pattern_begin, (mps_ap_t, mps_alloc_pattern_t)) \
  X(mps_res_t, mps_ap_alloc_pattern_end, (mps_ap_t, mps_alloc_pattern_t)) \
  X(mps_res_t, mps_ap_alloc_pattern_reset, (mps_ap_t)) \
  X(void, _mps_compiler_barrier, (void)) \
  X(mps_res_t, mps_sac_create, (mps_sac_t *, mps_pool_t, size_t, mps_sac_class_s *)) \
  X(void, mps_sac_destroy, (mps_sac_t)) \
  X(mps_res_t, mps_sac_alloc, (mps_addr_t *, mps_sac_t, size_t, mps_bool_t)) \
  X(void, mps_sac_free, (mps_sac_t, mps_addr_t, size_t)) \
  X(void, mps_sac_flush, (mps_sac_t)) \
  X(mps_res_t, mps_sac_fill, (mps_addr_t *, mps_sac_t, size_t, mps_bool_t)) \
  X(void, mps_sac_empty, (mps_sac_t, mps_addr_t, size_t)) \
  X(mps_res_t, mps_fmt_create_k, (mps_fmt_t *, mps_arena_t, mps_arg_s *)) \
  X(void, mps_fmt_destroy, (mps_fmt_t)) \
  X(mps_res_t, mps_fmt_create_A, (mps_fmt_t *, mps_arena_t, mps_fmt_A_s *)) \
  X(mps_res_t, mps_fmt_create_B, (mps_fmt_t *, mps_arena_t, mps_fmt_B_s *)) \
  X(mps_res_t, mps_fmt_create_auto_header, (mps_fmt_t *, mps_arena_t, mps_fmt_auto_header_s *)) \
  X(mps_res_t, mps_fmt_create_fixed, (mps_fmt_t *, mps_arena_t, mps_fmt_fixed_s *)) \
  X(mps_res_t, _mps_fix2, (mps_ss_t, mps_addr_t *)) \
  X(mps_res_t, mps_scan_area, (mps_ss_t, void *, void *, void *)) \
  X(mps_res_t, mps_scan_area_masked, (mps_ss_t, void *, void *, void *)) \
  X(mps_res_t, mps_scan_area_tagged, (mps_ss_t, void *, void *, void *)) \
  X(mps_res_t, mps_scan_area_tagged_or_zero, (mps_ss_t, void *, void *, void *)) \
  X(mps_res_t, mps_root_create, (mps_root_t *, mps_arena_t, mps_rank_t, mps_rm_t, mps_root_scan_t, void *, size_t)) \
  X(mps_res_t, mps_root_create_area, (mps_root_t *, mps_arena_t, mps_rank_t, mps_rm_t, void *, void *, mps_area_scan_t, void *)) \
  X(mps_res_t, mps_root_create_area_tagged, (mps_root_t *, mps_arena_t, mps_rank_t, mps_rm_t, void *, void *, mps_area_scan_t, mps_word_t, mps_word_t)) \
  X(mps_res_t, mps_root_create_table, (mps_root_t *, mps_arena_t, mps_rank_t, mps_rm_t, mps_addr_t *, size_t)) \
  X(mps_res_t, mps_root_create_table_masked, (mps_root_t *, mps_arena_t, mps_rank_t, mps_rm_t, mps_addr_t *, size_t, mps_word_t)) \
  X(mps_res_t, mps_root_create_fmt, (mps_root_t *, mps_arena_t, mps_rank_t, mps_rm_t, mps_fmt_scan_t, mps_addr_t, mps_addr_t)) \
  X(mps_res_t, mps_root_create_thread, (mps_root_t *, mps_arena_t, mps_thr_t, void *)) \
  X(mps_res_t, mps_root_create_thread_tagged, (mps_root_t *, mps_arena_t, mps_rank_t, mps_rm_t, mps_thr_t, mps_area_scan_t, mps_word_t, mps_word_t, void *)) \
  X(mps_res_t, mps_root_create_thread_scanned, (mps_root_t *, mps_arena_t, mps_rank_t, mps_rm_t, mps_thr_t, mps_area_scan_t, void *, void *)) \
  X(mps_res_t, mps_root_create_reg, (mps_root_t *, mps_arena_t, mps_rank_t, mps_rm_t, mps_thr_t, mps_reg_scan_t, void *, size_t)) \
  X(mps_res_t, mps_stack_scan_ambig, (mps_ss_t, mps_thr_t, void *, size_t)) \
  X(void, mps_root_destroy, (mps_root_t)) \
  X(mps_res_t, mps_thread_reg, (mps_thr_t *, mps_arena_t)) \
  X(void, mps_thread_dereg, (mps_thr_t)) \
  X(mps_res_t, mps_chain_create, (mps_chain_t *, mps_arena_t, size_t, mps_gen_param_s *)) \
  X(void, mps_chain_destroy, (mps_chain_t)) \
  X(void, mps_message_type_enable, (mps_arena_t, mps_message_type_t)) \
  X(void, mps_message_type_disable, (mps_arena_t, mps_message_type_t)) \
  X(mps_bool_t, mps_message_poll, (mps_arena_t)) \
  X(mps_bool_t, mps_message_queue_type, (mps_message_type_t *, mps_arena_t)) \
  X(mps_bool_t, mps_message_get, (mps_message_t *, mps_arena_t, mps_message_type_t)) \
  X(void, mps_message_discard, (mps_arena_t, mps_message_t)) \
  X(mps_message_type_t, mps_message_type, (mps_arena_t, mps_message_t)) \
  X(mps_clock_t, mps_message_clock, (mps_arena_t, mps_message_t)) \
  X(void, mps_message_finalization_ref, (mps_addr_t *, mps_arena_t, mps_message_t)) \
  X(size_t, mps_message_gc_live_size, (mps_arena_t, mps_message_t)) \
  X(size_t, mps_message_gc_condemned_size, (mps_arena_t, mps_message_t)) \
  X(size_t, mps_message_gc_not_condemned_size, (mps_arena_t, mps_message_t)) \
  X(const char *, mps_message_gc_start_why, (mps_arena_t, mps_message_t)) \
  X(mps_res_t, mps_finalize, (mps_arena_t, mps_addr_t *)) \
  X(mps_res_t, mps_definalize, (mps_arena_t, mps_addr_t *)) \
  X(void, mps_ld_reset, (mps_ld_t, mps_arena_t)) \
  X(void, mps_ld_add, (mps_ld_t, mps_arena_t, mps_addr_t)) \
  X(void, mps_ld_merge, (mps_ld_t, mps_arena_t, mps_ld_t)) \
  X(mps_bool_t, mps_ld_isstale, (mps_ld_t, mps_arena_t, mps_addr_t)) \
  X(mps_bool_t, mps_ld_isstale_any, (mps_ld_t, mps_arena_t)) \
  X(void, mps_arena_formatted_objects_walk, (mps_arena_t, mps_formatted_objects_stepper_t, void *, size_t)) \
  X(void, mps_arena_roots_walk, (mps_arena_t, mps_roots_stepper_t, void *, size_t)) \
  X(void, mps_telemetry_set, (mps_word_t)) \
  X(void, mps_telemetry_reset, (mps_word_t)) \
  X(mps_word_t, mps_telemetry_get, (void)) \
  X(mps_label_t, mps_telemetry_intern, (const char *)) \
  X(void, mps_telemetry_label, (mps_addr_t, mps_label_t)) \
  X(void, mps_telemetry_flush, (void)) \
  /* mpsacl.h */ \
  X(mps_arena_class_t, mps_arena_class_cl, (void)) \
  /* mpsavm.h */ \
  X(mps_arena_class_t, mps_arena_class_vm, (void)) \
  X(mps_res_t, mps_arena_vm_growth, (mps_arena_t, size_t, size_t)) \
  /* mpscamc.h */ \
  X(mps_pool_class_t, mps_class_amc, (void)) \
  X(mps_pool_class_t, mps_class_amcz, (void)) \
  X(void, mps_amc_apply, (mps_pool_t, mps_amc_apply_stepper_t, void *, size_t)) \
  /* mpscams.h */ \
  X(mps_pool_class_t, mps_class_ams, (void)) \
  X(mps_pool_class_t, mps_class_ams_debug, (void)) \
  /* mpscawl.h */ \
  X(mps_pool_class_t, mps_class_awl, (void)) \
  /* mpsclo.h */ \
  X(mps_pool_class_t, mps_class_lo, (void)) \
  /* mpscmfs.h */ \
  X(mps_pool_class_t, mps_class_mfs, (void)) \
  /* mpscmvff.h */ \
  X(mps_pool_class_t, mps_class_mvff, (void)) \
  X(mps_pool_class_t, mps_class_mvff_debug, (void)) \
  /* mpscmvt.h */ \
  X(mps_pool_class_t, mps_class_mvt, (void)) \
  /* mpscsegfit.h */ \
  X(mps_pool_class_t, mps_class_segfit, (void)) \
  X(mps_res_t, gcp_segfit_alloc, (mps_addr_t *, mps_pool_t, size_t, unsigned)) \
  X(void, gcp_segfit_free, (mps_pool_t, mps_addr_t)) \
  X(mps_bool_t, gcp_segfit_block, (mps_pool_t, mps_addr_t, size_t *, unsigned *)) \
  X(size_t, gcp_segfit_usable_size, (size_t)) \
  X(void, gcp_segfit_walk, (mps_pool_t, gcp_segfit_visit_t, void *)) \
  X(void, gcp_segfit_live, (mps_pool_t, size_t *, size_t *)) \
  /* mpscsnc.h */ \
  X(mps_pool_class_t, mps_class_snc, (void))

#define GC_PLUGIN_API_KEYS(K) \
  K(ARGS_END) \
  K(ARENA_GRAIN_SIZE) \
  K(ARENA_SIZE) \
  K(ARENA_ZONED) \
  K(arena_extended) \
  K(arena_contracted) \
  K(COMMIT_LIMIT) \
  K(SPARE_COMMIT_LIMIT) \
  K(SPARE) \
  K(PAUSE_TIME) \
  K(VMW3_TOP_DOWN) \
  K(FORMAT) \
  K(CHAIN) \
  K(GEN) \
  K(RANK) \
  K(EXTEND_BY) \
  K(LARGE_SIZE) \
  K(MIN_SIZE) \
  K(MEAN_SIZE) \
  K(MAX_SIZE) \
  K(ALIGN) \
  K(INTERIOR) \
  K(FMT_ALIGN) \
  K(FMT_HEADER_SIZE) \
  K(FMT_SCAN) \
  K(FMT_SKIP) \
  K(FMT_FWD) \
  K(FMT_ISFWD) \
  K(FMT_PAD) \
  K(FMT_CLASS) \
  K(ap_hash_arrays) \
  K(POOL_DEBUG_OPTIONS) \
  K(ARENA_CL_BASE) \
  K(AMS_SUPPORT_AMBIGUOUS) \
  K(AWL_FIND_DEPENDENT) \
  K(MFS_UNIT_SIZE) \
  K(MVFF_SLOT_HIGH) \
  K(MVFF_ARENA_HIGH) \
  K(MVFF_FIRST_FIT) \
  K(MVT_RESERVE_DEPTH) \
  K(MVT_FRAG_LIMIT)
/* clang-format on */

#define GC_PLUGIN_API_MEMBER_(ret, name, params) ret(*name) params;
#define GC_PLUGIN_API_KEY_MEMBER_(name)          const struct mps_key_s *_mps_key_##name;

typedef struct gc_plugin_api_s {
  unsigned long abi_version; /* GC_PLUGIN_ABI_CURRENT of the core */
  size_t size;               /* sizeof the core's table: the entries it has */
  GC_PLUGIN_API_FUNCTIONS(GC_PLUGIN_API_MEMBER_)
  mps_arg_s *mps_args_none;
  GC_PLUGIN_API_KEYS(GC_PLUGIN_API_KEY_MEMBER_)
} gc_plugin_api_s;

#ifdef __cplusplus
}
#endif

#endif /* gc_plugin_api_h */
