/* cdef.h -- the declarations cffi compiles gcp_testing._clients against
 * (cffi's dialect): the MPS handle types, opaque, and the functions of the
 * test clients (graph.h, weaktable.h).  Handles of gc_plugin's objects
 * cross between the two cffi modules as integers (gcp_testing/_ffi.py).
 * Design: docs/design/c-api.md (the test package).
 */

typedef unsigned long mps_word_t;
typedef int mps_res_t;
typedef void *mps_addr_t;
typedef struct mps_arena_s *mps_arena_t;
typedef struct mps_pool_s *mps_pool_t;
typedef struct mps_fmt_s *mps_fmt_t;
typedef struct mps_chain_s *mps_chain_t;
typedef struct mps_thr_s *mps_thr_t;
typedef struct mps_ap_s *mps_ap_t;

/* the graph test format (graph.h) */
#define GCP_GRAPH_ALIGN    ...
#define GCP_GRAPH_OBJ      ...
#define GCP_GRAPH_FWD      ...
#define GCP_GRAPH_PAD1     ...
#define GCP_GRAPH_PADN     ...
#define GCP_GRAPH_BAD      ...
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
mps_res_t gcp_graph_collect_holding(mps_arena_t, mps_thr_t, mps_addr_t *, size_t, mps_addr_t *);
int gcp_graph_hold_until(mps_addr_t *, size_t, mps_addr_t *, volatile int *, volatile int *);
mps_res_t gcp_graph_pool_walk(mps_pool_t, size_t, mps_addr_t *, size_t, size_t *);
unsigned long gcp_graph_errors(mps_addr_t *, mps_word_t *);
void gcp_graph_errors_reset(void);
mps_res_t gcp_graph_alloc_into(mps_ap_t, size_t, mps_addr_t *, size_t, size_t, size_t,
                               unsigned long);
int gcp_graph_path_link(size_t, mps_addr_t *, size_t, const size_t *, size_t, size_t, size_t,
                        const size_t *, size_t);
long gcp_graph_path_read(size_t, mps_addr_t *, size_t, const size_t *, size_t, unsigned long *,
                         unsigned long *, size_t);

/* the weak table test client (weaktable.h) */
typedef struct gcp_wtable_s *gcp_wtable_t;
mps_res_t gcp_wtable_format_create(mps_fmt_t *, mps_arena_t, size_t);
mps_res_t gcp_wtable_pool_create(mps_pool_t *, mps_arena_t, mps_fmt_t, mps_chain_t, unsigned);
mps_res_t gcp_wtable_create(gcp_wtable_t *, mps_arena_t, mps_pool_t, size_t, int, size_t);
void gcp_wtable_destroy(gcp_wtable_t);
mps_res_t gcp_wtable_put(gcp_wtable_t, mps_addr_t, mps_addr_t);
mps_addr_t gcp_wtable_get(gcp_wtable_t, mps_addr_t);
int gcp_wtable_remove(gcp_wtable_t, mps_addr_t);
size_t gcp_wtable_count(gcp_wtable_t);
size_t gcp_wtable_splatted(gcp_wtable_t);
size_t gcp_wtable_rehashes(gcp_wtable_t);
size_t gcp_wtable_entries(gcp_wtable_t, mps_addr_t *, mps_addr_t *, size_t);
