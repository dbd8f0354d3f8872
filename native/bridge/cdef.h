/* cdef.h -- the declarations gc_plugin._native offers Python, in the
 * dialect cffi reads (gc_plugin/_build.py passes this file to ffi.cdef, as
 * pynacl reads its bindings): "..." stands for a value or layout the C
 * compiler supplies.  Not a C header.  cffi checks every declaration here
 * against the real ones (the MPS headers, gcp_ext.h, bridge/gcp_py.h and
 * the test clients' headers) when it compiles the module, so they cannot
 * drift; tests/test_package.py checks the type stub against this file.
 */
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

#define MPS_RES_OK           ...
#define MPS_RES_FAIL         ...
#define MPS_RES_RESOURCE     ...
#define MPS_RES_MEMORY       ...
#define MPS_RES_LIMIT        ...
#define MPS_RES_UNIMPL       ...
#define MPS_RES_IO           ...
#define MPS_RES_COMMIT_LIMIT ...
#define MPS_RES_PARAM        ...
#define MPS_SAC_CLASS_LIMIT  ...

/* which keyword values a gcp_py_*_create call was given (have_mask bits) */
#define GCP_PY_HAVE_SIZE              ...
#define GCP_PY_HAVE_GRAIN             ...
#define GCP_PY_HAVE_COMMIT_LIMIT      ...
#define GCP_PY_HAVE_SPARE             ...
#define GCP_PY_HAVE_PAUSE             ...
#define GCP_PY_HAVE_EXTEND_BY         ...
#define GCP_PY_HAVE_MEAN_SIZE         ...
#define GCP_PY_HAVE_ALIGN             ...
#define GCP_PY_HAVE_ARENA_HIGH        ...
#define GCP_PY_HAVE_SLOT_HIGH         ...
#define GCP_PY_HAVE_FIRST_FIT         ...
#define GCP_PY_HAVE_MIN_SIZE          ...
#define GCP_PY_HAVE_MAX_SIZE          ...
#define GCP_PY_HAVE_RESERVE_DEPTH     ...
#define GCP_PY_HAVE_FRAG_LIMIT        ...
#define GCP_PY_HAVE_DEBUG_OPTIONS     ...
#define GCP_PY_HAVE_CHAIN             ...
#define GCP_PY_HAVE_INTERIOR          ...
#define GCP_PY_HAVE_LARGE_SIZE        ...
#define GCP_PY_HAVE_GEN               ...
#define GCP_PY_HAVE_HASH_ARRAYS       ...
#define GCP_PY_HAVE_RANK              ...
#define GCP_PY_HAVE_SUPPORT_AMBIGUOUS ...
#define GCP_PY_MESSAGE_FINALIZATION   ...
#define GCP_PY_MESSAGE_GC             ...
#define GCP_PY_MESSAGE_GC_START       ...

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
int gcp_destroy_refused(void);
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
#define GCP_HOOK_ROUTING   ...
#define GCP_HOOK_ALL       ...
/* the walk's record: heapwalk.c defines it; "..." takes its layout from
 * there (gc_plugin/heap.py unpacks by the offsets cffi reports) */
typedef struct gcp_heap_record {
  uintptr_t address;
  size_t size;
  unsigned domain;
  unsigned object;
  uintptr_t type;
  ...;
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
/* the leak finder (leaks.c); kinds index the totals' arrays */
#define LEAK_REACHABLE ...
#define LEAK_POSSIBLE  ...
#define LEAK_INDIRECT  ...
#define LEAK_DEFINITE  ...
#define LEAK_KINDS     ...
typedef struct gcp_leak_totals {
  size_t blocks[...], bytes[...];
  size_t rootBytes, mappings, threadAreas, gcHeads, groups;
  ...;
} gcp_leak_totals;
typedef struct gcp_leak_group {
  unsigned kind, domain, object, site;
  uintptr_t type;
  size_t blocks, bytes;
} gcp_leak_group;
int gcp_leaks_check(gcp_leak_totals *totals, gcp_leak_group *out, size_t capacity,
                    const uintptr_t *types, size_t type_count);
void gcp_leaks_scrub_stack(void);
int gcp_hook_track_sites(int on, unsigned frames);
int gcp_hook_route_type(uintptr_t type, unsigned id);
int gcp_hook_tracking_sites(void);
uintptr_t gcp_site_address(uint32_t site);
unsigned gcp_site_frames(uint32_t site);
int gcp_site_frame(uint32_t site, unsigned i, char *file, size_t n);

void *gcp_scratch_alloc(size_t);
void gcp_scratch_free(void *);

/* ---- the collector (mps.h: collector-interface.md; mpscamc.h, mpsclo.h) ---- */
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

typedef void (*mps_formatted_objects_stepper_t)(mps_addr_t, mps_fmt_t, mps_pool_t, void *, size_t);
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
mps_res_t mps_root_create_table(mps_root_t *, mps_arena_t, mps_rank_t, mps_rm_t, mps_addr_t *,
                                size_t);
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
void mps_arena_formatted_objects_walk(mps_arena_t, mps_formatted_objects_stepper_t, void *, size_t);
void mps_arena_roots_walk(mps_arena_t, mps_roots_stepper_t, void *, size_t);

/* a format made by C code, adopted (gcp_ext.h) */
int gcp_fmt_describe(mps_fmt_t, mps_arena_t *, size_t *, size_t *);

/* the Python process's roots for a collected arena (native/cpython/gcroots.c) */
void gcp_arena_all_threads(mps_arena_t, int);
size_t gcp_arena_unstoppable_threads(mps_arena_t);
int gcp_python_arena_attach(mps_arena_t, mps_root_t *);

/* the Python layer's C section (below) */
void gcp_py_install_handler(void);
int gcp_py_misuse_pending(void);
int gcp_py_take_misuse(char *, size_t);
mps_res_t gcp_py_arena_create(mps_arena_t *, size_t size, size_t grain, size_t commit_limit,
                              double spare, double pause, unsigned have_mask);
mps_res_t gcp_py_mfs_create(mps_pool_t *, mps_arena_t, size_t unit_size, size_t extend_by,
                            unsigned have_mask);
mps_res_t gcp_py_mvff_create(mps_pool_t *, mps_arena_t, int debug, mps_pool_debug_option_s *options,
                             size_t extend_by, size_t mean_size, size_t align, double spare,
                             int arena_high, int slot_high, int first_fit, unsigned have_mask);
mps_res_t gcp_py_mvt_create(mps_pool_t *, mps_arena_t, size_t align, size_t min_size,
                            size_t mean_size, size_t max_size, mps_word_t reserve_depth,
                            double frag_limit, unsigned have_mask);
mps_res_t gcp_py_segfit_create(mps_pool_t *, mps_arena_t);
mps_res_t gcp_py_ap_create(mps_ap_t *, mps_pool_t);
mps_res_t gcp_py_ap_alloc(mps_addr_t *, mps_ap_t, size_t);
mps_res_t gcp_py_amc_create(mps_pool_t *, mps_arena_t, int zero, mps_fmt_t fmt, mps_chain_t chain,
                            int interior, size_t extend_by, size_t large_size, unsigned have_mask);
mps_res_t gcp_py_lo_create(mps_pool_t *, mps_arena_t, mps_fmt_t fmt, mps_chain_t chain,
                           unsigned gen, unsigned have_mask);
mps_res_t gcp_py_ams_create(mps_pool_t *, mps_arena_t, int debug, mps_pool_debug_option_s *options,
                            mps_fmt_t fmt, mps_chain_t chain, unsigned gen, int support_ambiguous,
                            unsigned have_mask);
mps_res_t gcp_py_awl_create(mps_pool_t *, mps_arena_t, mps_fmt_t fmt, mps_chain_t chain,
                            unsigned gen, unsigned have_mask);
mps_res_t gcp_py_snc_create(mps_pool_t *, mps_arena_t, mps_fmt_t fmt);
mps_res_t gcp_py_collected_ap_create(mps_ap_t *, mps_pool_t, int hash_arrays, mps_rank_t rank,
                                     unsigned have_mask);

void *gcp_py_stack_cold_end(void);
