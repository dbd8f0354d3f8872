/* gc_plugin.h -- gc_plugin's C API for Python extension modules: include
 * it INSTEAD of linking an MPS library, and the MPS interface (mps.h, the
 * arena and pool-class headers) reaches the one core of the process, the
 * one inside gc_plugin._native (same arenas, same signal handlers).
 *
 * It includes the MPS headers for their types, constants and macros, then
 * maps every function and object of the interface onto the table the
 * capsule gc_plugin._native._C_API points to (native/include/gc_plugin_api.h):
 * `mps_arena_collect(arena)` becomes `(gc_plugin_api->mps_arena_collect)(arena)`.
 * MPS client code compiles unchanged, the inline macros too: mps_reserve,
 * mps_commit, MPS_SCAN_BEGIN, MPS_FIX12, MPS_FIX2, MPS_ARGS_* expand to
 * mps_ap_fill, mps_ap_trip, _mps_fix2, _mps_args_set_key and the keys,
 * which go through the table.  (The function forms (mps_reserve) and
 * (mps_commit) are in the table but not mapped: their names are the
 * macros'.)  Include it before any MPS header, and after Python.h.
 *
 * Before the first MPS call, with the GIL held (in the module's init
 * function, as NumPy extensions call import_array()), call
 * gc_plugin_import(): 0 on success; -1 with ImportError set if
 * gc_plugin._native cannot be imported or its table is of another ABI
 * version or too small.  The table pointer is file-static: an extension of
 * several files calls gc_plugin_import() in each, or is built as one
 * translation unit (as cffi's API mode builds one).
 * Design: docs/design/c-api.md.
 */
#ifndef gc_plugin_h
#define gc_plugin_h

#include <Python.h>

#include "gc_plugin_api.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI the client is built for: the header's, unless the client
 * defines another (only to test that gc_plugin_import refuses it). */
#ifndef GC_PLUGIN_ABI_VERSION
#define GC_PLUGIN_ABI_VERSION GC_PLUGIN_ABI_CURRENT
#endif
/* The table size the client needs (likewise overridable for tests). */
#ifndef GC_PLUGIN_API_SIZE
#define GC_PLUGIN_API_SIZE sizeof(gc_plugin_api_s)
#endif

static const gc_plugin_api_s *gc_plugin_api = NULL;

#if defined(__GNUC__)
__attribute__((unused))
#endif
static int
gc_plugin_import(void)
{
  const gc_plugin_api_s *api;
  PyObject *module = PyImport_ImportModule(GC_PLUGIN_API_MODULE);
  if (module == NULL) {
    PyObject *type, *value, *tb, *text;
    PyErr_Fetch(&type, &value, &tb);
    text = value != NULL ? PyObject_Str(value) : NULL;
    PyErr_Format(PyExc_ImportError,
                 "gc_plugin C API: cannot import %s (is gc_plugin installed?): %S",
                 GC_PLUGIN_API_MODULE, text != NULL ? text : Py_None);
    Py_XDECREF(text);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    return -1;
  }
  Py_DECREF(module);
  api = (const gc_plugin_api_s *)PyCapsule_Import(GC_PLUGIN_API_CAPSULE, 0);
  if (api == NULL) {
    PyErr_Clear();
    PyErr_Format(PyExc_ImportError, "gc_plugin C API: %s has no capsule %s", GC_PLUGIN_API_MODULE,
                 GC_PLUGIN_API_CAPSULE);
    return -1;
  }
  if (api->abi_version != (unsigned long)(GC_PLUGIN_ABI_VERSION)) {
    PyErr_Format(PyExc_ImportError,
                 "gc_plugin C API: incompatible ABI version: the installed gc_plugin provides "
                 "version %lu, this module was built for version %lu",
                 api->abi_version, (unsigned long)(GC_PLUGIN_ABI_VERSION));
    return -1;
  }
  if (api->size < (size_t)(GC_PLUGIN_API_SIZE)) {
    PyErr_Format(PyExc_ImportError,
                 "gc_plugin C API: the installed gc_plugin's table has %zu bytes, this module "
                 "needs %zu (built against a newer gc_plugin.h)",
                 api->size, (size_t)(GC_PLUGIN_API_SIZE));
    return -1;
  }
  gc_plugin_api = api;
  return 0;
}

/* ---- the mapping (one line per entry of gc_plugin_api.h's lists) ---- */

/* clang-format off */

/* mps.h */
#define _mps_args_set_key (gc_plugin_api->_mps_args_set_key)
#define mps_rank_ambig (gc_plugin_api->mps_rank_ambig)
#define mps_rank_exact (gc_plugin_api->mps_rank_exact)
#define mps_rank_weak (gc_plugin_api->mps_rank_weak)
#define mps_arena_create (gc_plugin_api->mps_arena_create)
#define mps_arena_create_v (gc_plugin_api->mps_arena_create_v)
#define mps_pool_create (gc_plugin_api->mps_pool_create)
#define mps_pool_create_v (gc_plugin_api->mps_pool_create_v)
#define mps_ap_create (gc_plugin_api->mps_ap_create)
#define mps_ap_create_v (gc_plugin_api->mps_ap_create_v)
#define mps_arena_extend (gc_plugin_api->mps_arena_extend)
#define mps_arena_create_k (gc_plugin_api->mps_arena_create_k)
#define mps_arena_destroy (gc_plugin_api->mps_arena_destroy)
#define mps_arena_clamp (gc_plugin_api->mps_arena_clamp)
#define mps_arena_park (gc_plugin_api->mps_arena_park)
#define mps_arena_release (gc_plugin_api->mps_arena_release)
#define mps_arena_postmortem (gc_plugin_api->mps_arena_postmortem)
#define mps_arena_collect (gc_plugin_api->mps_arena_collect)
#define mps_arena_start_collect (gc_plugin_api->mps_arena_start_collect)
#define mps_arena_step (gc_plugin_api->mps_arena_step)
#define mps_collections (gc_plugin_api->mps_collections)
#define mps_transform_create (gc_plugin_api->mps_transform_create)
#define mps_transform_add_oldnew (gc_plugin_api->mps_transform_add_oldnew)
#define mps_transform_apply (gc_plugin_api->mps_transform_apply)
#define mps_transform_destroy (gc_plugin_api->mps_transform_destroy)
#define mps_arena_has_addr (gc_plugin_api->mps_arena_has_addr)
#define mps_addr_pool (gc_plugin_api->mps_addr_pool)
#define mps_addr_fmt (gc_plugin_api->mps_addr_fmt)
#define mps_addr_object (gc_plugin_api->mps_addr_object)
#define mps_arena_busy (gc_plugin_api->mps_arena_busy)
#define mps_arena_reserved (gc_plugin_api->mps_arena_reserved)
#define mps_arena_committed (gc_plugin_api->mps_arena_committed)
#define mps_arena_spare_committed (gc_plugin_api->mps_arena_spare_committed)
#define mps_arena_commit_limit (gc_plugin_api->mps_arena_commit_limit)
#define mps_arena_commit_limit_set (gc_plugin_api->mps_arena_commit_limit_set)
#define mps_arena_spare (gc_plugin_api->mps_arena_spare)
#define mps_arena_spare_set (gc_plugin_api->mps_arena_spare_set)
#define mps_arena_spare_commit_limit (gc_plugin_api->mps_arena_spare_commit_limit)
#define mps_arena_spare_commit_limit_set (gc_plugin_api->mps_arena_spare_commit_limit_set)
#define mps_arena_pause_time (gc_plugin_api->mps_arena_pause_time)
#define mps_arena_pause_time_set (gc_plugin_api->mps_arena_pause_time_set)
#define mps_pool_create_k (gc_plugin_api->mps_pool_create_k)
#define mps_pool_destroy (gc_plugin_api->mps_pool_destroy)
#define mps_pool_total_size (gc_plugin_api->mps_pool_total_size)
#define mps_pool_free_size (gc_plugin_api->mps_pool_free_size)
#define mps_alloc (gc_plugin_api->mps_alloc)
#define mps_free (gc_plugin_api->mps_free)
#define mps_pool_check_fenceposts (gc_plugin_api->mps_pool_check_fenceposts)
#define mps_pool_check_free_space (gc_plugin_api->mps_pool_check_free_space)
#define mps_pool_walk (gc_plugin_api->mps_pool_walk)
#define mps_ap_create_k (gc_plugin_api->mps_ap_create_k)
#define mps_ap_destroy (gc_plugin_api->mps_ap_destroy)
#define mps_ap_fill (gc_plugin_api->mps_ap_fill)
#define mps_ap_trip (gc_plugin_api->mps_ap_trip)
#define mps_ap_frame_push (gc_plugin_api->mps_ap_frame_push)
#define mps_ap_frame_pop (gc_plugin_api->mps_ap_frame_pop)
#define mps_alloc_pattern_ramp (gc_plugin_api->mps_alloc_pattern_ramp)
#define mps_alloc_pattern_ramp_collect_all (gc_plugin_api->mps_alloc_pattern_ramp_collect_all)
#define mps_ap_alloc_pattern_begin (gc_plugin_api->mps_ap_alloc_pattern_begin)
#define mps_ap_alloc_pattern_end (gc_plugin_api->mps_ap_alloc_pattern_end)
#define mps_ap_alloc_pattern_reset (gc_plugin_api->mps_ap_alloc_pattern_reset)
#define _mps_compiler_barrier (gc_plugin_api->_mps_compiler_barrier)
#define mps_sac_create (gc_plugin_api->mps_sac_create)
#define mps_sac_destroy (gc_plugin_api->mps_sac_destroy)
#define mps_sac_alloc (gc_plugin_api->mps_sac_alloc)
#define mps_sac_free (gc_plugin_api->mps_sac_free)
#define mps_sac_flush (gc_plugin_api->mps_sac_flush)
#define mps_sac_fill (gc_plugin_api->mps_sac_fill)
#define mps_sac_empty (gc_plugin_api->mps_sac_empty)
#define mps_fmt_create_k (gc_plugin_api->mps_fmt_create_k)
#define mps_fmt_destroy (gc_plugin_api->mps_fmt_destroy)
#define mps_fmt_create_A (gc_plugin_api->mps_fmt_create_A)
#define mps_fmt_create_B (gc_plugin_api->mps_fmt_create_B)
#define mps_fmt_create_auto_header (gc_plugin_api->mps_fmt_create_auto_header)
#define mps_fmt_create_fixed (gc_plugin_api->mps_fmt_create_fixed)
#define _mps_fix2 (gc_plugin_api->_mps_fix2)
#define mps_scan_area (gc_plugin_api->mps_scan_area)
#define mps_scan_area_masked (gc_plugin_api->mps_scan_area_masked)
#define mps_scan_area_tagged (gc_plugin_api->mps_scan_area_tagged)
#define mps_scan_area_tagged_or_zero (gc_plugin_api->mps_scan_area_tagged_or_zero)
#define mps_root_create (gc_plugin_api->mps_root_create)
#define mps_root_create_area (gc_plugin_api->mps_root_create_area)
#define mps_root_create_area_tagged (gc_plugin_api->mps_root_create_area_tagged)
#define mps_root_create_table (gc_plugin_api->mps_root_create_table)
#define mps_root_create_table_masked (gc_plugin_api->mps_root_create_table_masked)
#define mps_root_create_fmt (gc_plugin_api->mps_root_create_fmt)
#define mps_root_create_thread (gc_plugin_api->mps_root_create_thread)
#define mps_root_create_thread_tagged (gc_plugin_api->mps_root_create_thread_tagged)
#define mps_root_create_thread_scanned (gc_plugin_api->mps_root_create_thread_scanned)
#define mps_root_create_reg (gc_plugin_api->mps_root_create_reg)
#define mps_stack_scan_ambig (gc_plugin_api->mps_stack_scan_ambig)
#define mps_root_destroy (gc_plugin_api->mps_root_destroy)
#define mps_thread_reg (gc_plugin_api->mps_thread_reg)
#define mps_thread_dereg (gc_plugin_api->mps_thread_dereg)
#define mps_chain_create (gc_plugin_api->mps_chain_create)
#define mps_chain_destroy (gc_plugin_api->mps_chain_destroy)
#define mps_message_type_enable (gc_plugin_api->mps_message_type_enable)
#define mps_message_type_disable (gc_plugin_api->mps_message_type_disable)
#define mps_message_poll (gc_plugin_api->mps_message_poll)
#define mps_message_queue_type (gc_plugin_api->mps_message_queue_type)
#define mps_message_get (gc_plugin_api->mps_message_get)
#define mps_message_discard (gc_plugin_api->mps_message_discard)
#define mps_message_type (gc_plugin_api->mps_message_type)
#define mps_message_clock (gc_plugin_api->mps_message_clock)
#define mps_message_finalization_ref (gc_plugin_api->mps_message_finalization_ref)
#define mps_message_gc_live_size (gc_plugin_api->mps_message_gc_live_size)
#define mps_message_gc_condemned_size (gc_plugin_api->mps_message_gc_condemned_size)
#define mps_message_gc_not_condemned_size (gc_plugin_api->mps_message_gc_not_condemned_size)
#define mps_message_gc_start_why (gc_plugin_api->mps_message_gc_start_why)
#define mps_finalize (gc_plugin_api->mps_finalize)
#define mps_definalize (gc_plugin_api->mps_definalize)
#define mps_ld_reset (gc_plugin_api->mps_ld_reset)
#define mps_ld_add (gc_plugin_api->mps_ld_add)
#define mps_ld_merge (gc_plugin_api->mps_ld_merge)
#define mps_ld_isstale (gc_plugin_api->mps_ld_isstale)
#define mps_ld_isstale_any (gc_plugin_api->mps_ld_isstale_any)
#define mps_arena_formatted_objects_walk (gc_plugin_api->mps_arena_formatted_objects_walk)
#define mps_arena_roots_walk (gc_plugin_api->mps_arena_roots_walk)
#define mps_telemetry_set (gc_plugin_api->mps_telemetry_set)
#define mps_telemetry_reset (gc_plugin_api->mps_telemetry_reset)
#define mps_telemetry_get (gc_plugin_api->mps_telemetry_get)
#define mps_telemetry_intern (gc_plugin_api->mps_telemetry_intern)
#define mps_telemetry_label (gc_plugin_api->mps_telemetry_label)
#define mps_telemetry_flush (gc_plugin_api->mps_telemetry_flush)

/* mpsacl.h */
#define mps_arena_class_cl (gc_plugin_api->mps_arena_class_cl)

/* mpsavm.h */
#define mps_arena_class_vm (gc_plugin_api->mps_arena_class_vm)
#define mps_arena_vm_growth (gc_plugin_api->mps_arena_vm_growth)

/* mpscamc.h */
#define mps_class_amc (gc_plugin_api->mps_class_amc)
#define mps_class_amcz (gc_plugin_api->mps_class_amcz)
#define mps_amc_apply (gc_plugin_api->mps_amc_apply)

/* mpscams.h */
#define mps_class_ams (gc_plugin_api->mps_class_ams)
#define mps_class_ams_debug (gc_plugin_api->mps_class_ams_debug)

/* mpscawl.h */
#define mps_class_awl (gc_plugin_api->mps_class_awl)

/* mpsclo.h */
#define mps_class_lo (gc_plugin_api->mps_class_lo)

/* mpscmfs.h */
#define mps_class_mfs (gc_plugin_api->mps_class_mfs)

/* mpscmvff.h */
#define mps_class_mvff (gc_plugin_api->mps_class_mvff)
#define mps_class_mvff_debug (gc_plugin_api->mps_class_mvff_debug)

/* mpscmvt.h */
#define mps_class_mvt (gc_plugin_api->mps_class_mvt)

/* mpscsegfit.h */
#define mps_class_segfit (gc_plugin_api->mps_class_segfit)
#define gcp_segfit_alloc (gc_plugin_api->gcp_segfit_alloc)
#define gcp_segfit_free (gc_plugin_api->gcp_segfit_free)
#define gcp_segfit_block (gc_plugin_api->gcp_segfit_block)
#define gcp_segfit_usable_size (gc_plugin_api->gcp_segfit_usable_size)
#define gcp_segfit_walk (gc_plugin_api->gcp_segfit_walk)
#define gcp_segfit_live (gc_plugin_api->gcp_segfit_live)

/* mpscsnc.h */
#define mps_class_snc (gc_plugin_api->mps_class_snc)

/* objects */
#define mps_args_none (gc_plugin_api->mps_args_none)
#define _mps_key_ARGS_END (*gc_plugin_api->_mps_key_ARGS_END)
#define _mps_key_ARENA_GRAIN_SIZE (*gc_plugin_api->_mps_key_ARENA_GRAIN_SIZE)
#define _mps_key_ARENA_SIZE (*gc_plugin_api->_mps_key_ARENA_SIZE)
#define _mps_key_ARENA_ZONED (*gc_plugin_api->_mps_key_ARENA_ZONED)
#define _mps_key_arena_extended (*gc_plugin_api->_mps_key_arena_extended)
#define _mps_key_arena_contracted (*gc_plugin_api->_mps_key_arena_contracted)
#define _mps_key_COMMIT_LIMIT (*gc_plugin_api->_mps_key_COMMIT_LIMIT)
#define _mps_key_SPARE_COMMIT_LIMIT (*gc_plugin_api->_mps_key_SPARE_COMMIT_LIMIT)
#define _mps_key_SPARE (*gc_plugin_api->_mps_key_SPARE)
#define _mps_key_PAUSE_TIME (*gc_plugin_api->_mps_key_PAUSE_TIME)
#define _mps_key_VMW3_TOP_DOWN (*gc_plugin_api->_mps_key_VMW3_TOP_DOWN)
#define _mps_key_FORMAT (*gc_plugin_api->_mps_key_FORMAT)
#define _mps_key_CHAIN (*gc_plugin_api->_mps_key_CHAIN)
#define _mps_key_GEN (*gc_plugin_api->_mps_key_GEN)
#define _mps_key_RANK (*gc_plugin_api->_mps_key_RANK)
#define _mps_key_EXTEND_BY (*gc_plugin_api->_mps_key_EXTEND_BY)
#define _mps_key_LARGE_SIZE (*gc_plugin_api->_mps_key_LARGE_SIZE)
#define _mps_key_MIN_SIZE (*gc_plugin_api->_mps_key_MIN_SIZE)
#define _mps_key_MEAN_SIZE (*gc_plugin_api->_mps_key_MEAN_SIZE)
#define _mps_key_MAX_SIZE (*gc_plugin_api->_mps_key_MAX_SIZE)
#define _mps_key_ALIGN (*gc_plugin_api->_mps_key_ALIGN)
#define _mps_key_INTERIOR (*gc_plugin_api->_mps_key_INTERIOR)
#define _mps_key_FMT_ALIGN (*gc_plugin_api->_mps_key_FMT_ALIGN)
#define _mps_key_FMT_HEADER_SIZE (*gc_plugin_api->_mps_key_FMT_HEADER_SIZE)
#define _mps_key_FMT_SCAN (*gc_plugin_api->_mps_key_FMT_SCAN)
#define _mps_key_FMT_SKIP (*gc_plugin_api->_mps_key_FMT_SKIP)
#define _mps_key_FMT_FWD (*gc_plugin_api->_mps_key_FMT_FWD)
#define _mps_key_FMT_ISFWD (*gc_plugin_api->_mps_key_FMT_ISFWD)
#define _mps_key_FMT_PAD (*gc_plugin_api->_mps_key_FMT_PAD)
#define _mps_key_FMT_CLASS (*gc_plugin_api->_mps_key_FMT_CLASS)
#define _mps_key_ap_hash_arrays (*gc_plugin_api->_mps_key_ap_hash_arrays)
#define _mps_key_POOL_DEBUG_OPTIONS (*gc_plugin_api->_mps_key_POOL_DEBUG_OPTIONS)
#define _mps_key_ARENA_CL_BASE (*gc_plugin_api->_mps_key_ARENA_CL_BASE)
#define _mps_key_AMS_SUPPORT_AMBIGUOUS (*gc_plugin_api->_mps_key_AMS_SUPPORT_AMBIGUOUS)
#define _mps_key_AWL_FIND_DEPENDENT (*gc_plugin_api->_mps_key_AWL_FIND_DEPENDENT)
#define _mps_key_MFS_UNIT_SIZE (*gc_plugin_api->_mps_key_MFS_UNIT_SIZE)
#define _mps_key_MVFF_SLOT_HIGH (*gc_plugin_api->_mps_key_MVFF_SLOT_HIGH)
#define _mps_key_MVFF_ARENA_HIGH (*gc_plugin_api->_mps_key_MVFF_ARENA_HIGH)
#define _mps_key_MVFF_FIRST_FIT (*gc_plugin_api->_mps_key_MVFF_FIRST_FIT)
#define _mps_key_MVT_RESERVE_DEPTH (*gc_plugin_api->_mps_key_MVT_RESERVE_DEPTH)
#define _mps_key_MVT_FRAG_LIMIT (*gc_plugin_api->_mps_key_MVT_FRAG_LIMIT)
/* clang-format on */

#ifdef __cplusplus
}
#endif

#endif /* gc_plugin_h */
