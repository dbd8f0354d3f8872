/* graph.c -- a test object format for the collected pools (AMC, AMCZ, LO)
 *
 * Implements graph.h (the layout is described there): the
 * format methods for header sizes 0, 8 and 16, allocation through the
 * reserve/initialise/commit protocol, accessors, helpers that hold
 * references only on their own C stack across a collection (one that
 * collects, one that waits while another thread does), a pool walker,
 * and path operations for threads that must not keep addresses between
 * calls.  An ordinary MPS client: only the public headers are used.
 *
 * The format methods follow the rules in docs/design/collector-interface.md:
 * no library calls, no locks, little
 * stack.  A header word they do not recognise is recorded (see
 * gcp_graph_errors) rather than trusted: scan returns MPS_RES_FAIL and
 * skip steps over one alignment unit.
 */

#include <sched.h>

#include "graph.h"

#include "mps.h"

/* ---- layout ------------------------------------------------------------- */

#define GRAPH_KIND(hd)   ((unsigned)((hd)&0xFFu))
#define GRAPH_NREFS(hd)  ((size_t)(((hd) >> 8) & 0xFFFFFFu))
#define GRAPH_NDATA(hd)  ((size_t)(((hd) >> 32) & 0xFFFFFFFu))
#define GRAPH_SIZEOF(hd) ((size_t)((hd) >> 8)) /* FWD and PADN */
#define GRAPH_WORD       sizeof(mps_word_t)

/* Where the reference slots start, from the base. */
static size_t graph_body(size_t h) { return h > GRAPH_WORD ? h : GRAPH_WORD; }

int gcp_graph_header_ok(size_t h) { return h == 0 || h == 8 || h == 16; }

size_t gcp_graph_size(size_t h, size_t nrefs, size_t ndata)
{
  return graph_body(h) + GRAPH_WORD * (nrefs + ndata);
}

static mps_word_t graph_mix(mps_word_t x)
{
  /* splitmix64's finaliser */
  x += (mps_word_t)0x9E3779B97F4A7C15ul;
  x = (x ^ (x >> 30)) * (mps_word_t)0xBF58476D1CE4E5B9ul;
  x = (x ^ (x >> 27)) * (mps_word_t)0x94D049BB133111EBul;
  return x ^ (x >> 31);
}

static mps_word_t graph_data_word(unsigned long id, size_t i)
{
  return graph_mix(((mps_word_t)id << 20) ^ (mps_word_t)i);
}

static mps_word_t graph_checksum(unsigned long id, size_t nrefs, size_t ndata,
                                 const mps_word_t *data)
{
  mps_word_t sum =
      graph_mix((mps_word_t)id ^ ((mps_word_t)nrefs << 40) ^ ((mps_word_t)ndata << 16));
  size_t i;
  for (i = 2; i < ndata; ++i) sum = graph_mix(sum ^ data[i]);
  return sum;
}

/* ---- corrupt headers ----------------------------------------------------- */

static unsigned long graph_error_count;
static mps_addr_t graph_error_addr;
static mps_word_t graph_error_header;

static void graph_error(const void *where, mps_word_t hd)
{
  if (__atomic_fetch_add(&graph_error_count, 1ul, __ATOMIC_RELAXED) == 0) {
    graph_error_addr = (mps_addr_t)where;
    graph_error_header = hd;
  }
}

unsigned long gcp_graph_errors(mps_addr_t *addr_o, mps_word_t *header_o)
{
  unsigned long n = __atomic_load_n(&graph_error_count, __ATOMIC_RELAXED);
  if (addr_o != NULL) *addr_o = graph_error_addr;
  if (header_o != NULL) *header_o = graph_error_header;
  return n;
}

void gcp_graph_errors_reset(void)
{
  graph_error_addr = NULL;
  graph_error_header = 0;
  __atomic_store_n(&graph_error_count, 0ul, __ATOMIC_RELAXED);
}

/* Bytes from a base to the next object, for any header this format writes;
 * a bad header is recorded and taken as one alignment unit. */
static size_t graph_extent(const mps_word_t *b, size_t h)
{
  mps_word_t hd = b[0];
  switch (GRAPH_KIND(hd)) {
  case GCP_GRAPH_OBJ: return gcp_graph_size(h, GRAPH_NREFS(hd), GRAPH_NDATA(hd));
  case GCP_GRAPH_FWD:
  case GCP_GRAPH_PADN:
    if (GRAPH_SIZEOF(hd) >= GRAPH_WORD && GRAPH_SIZEOF(hd) % GCP_GRAPH_ALIGN == 0)
      return GRAPH_SIZEOF(hd);
    break;
  case GCP_GRAPH_PAD1:
    if (hd == GCP_GRAPH_PAD1) return GRAPH_WORD;
    break;
  default: break;
  }
  graph_error(b, hd);
  return GCP_GRAPH_ALIGN;
}

/* ---- format methods ------------------------------------------------------ */

static mps_res_t graph_scan(mps_ss_t ss, mps_addr_t base, mps_addr_t limit, size_t h)
{
  MPS_SCAN_BEGIN(ss)
  {
    char *p = (char *)base;
    while (p < (char *)limit) {
      mps_word_t *b = (mps_word_t *)(p - h);
      mps_word_t hd = b[0];
      unsigned kind = GRAPH_KIND(hd);
      if (kind == GCP_GRAPH_OBJ) {
        size_t n = GRAPH_NREFS(hd), i;
        mps_addr_t *refs = (mps_addr_t *)((char *)b + graph_body(h));
        /* (lenient about whether limit is a base or a client pointer) */
        if ((char *)b + gcp_graph_size(h, n, GRAPH_NDATA(hd)) > (char *)limit) {
          graph_error(b, hd);
          return MPS_RES_FAIL;
        }
        for (i = 0; i < n; ++i) {
          mps_res_t res = MPS_FIX12(ss, &refs[i]);
          if (res != MPS_RES_OK) return res;
        }
      } else if (kind != GCP_GRAPH_FWD && kind != GCP_GRAPH_PAD1 && kind != GCP_GRAPH_PADN) {
        graph_error(b, hd);
        return MPS_RES_FAIL;
      }
      p += graph_extent(b, h);
      if (p - h > (char *)limit) { /* an object running past the area */
        graph_error(b, hd);
        return MPS_RES_FAIL;
      }
    }
  }
  MPS_SCAN_END(ss);
  return MPS_RES_OK;
}

static mps_addr_t graph_skip(mps_addr_t obj, size_t h)
{
  return (mps_addr_t)((char *)obj + graph_extent((mps_word_t *)((char *)obj - h), h));
}

static void graph_fwd(mps_addr_t old, mps_addr_t new_addr, size_t h)
{
  mps_word_t *b = (mps_word_t *)((char *)old - h);
  size_t size = graph_extent(b, h);
  b[0] = ((mps_word_t)size << 8) | GCP_GRAPH_FWD;
  b[1] = (mps_word_t)new_addr;
}

static mps_addr_t graph_isfwd(mps_addr_t obj, size_t h)
{
  mps_word_t *b = (mps_word_t *)((char *)obj - h);
  if (GRAPH_KIND(b[0]) == GCP_GRAPH_FWD) return (mps_addr_t)b[1];
  return NULL;
}

static void graph_pad(mps_addr_t base, size_t size)
{
  mps_word_t *b = (mps_word_t *)base;
  if (size == GRAPH_WORD)
    b[0] = GCP_GRAPH_PAD1;
  else
    b[0] = ((mps_word_t)size << 8) | GCP_GRAPH_PADN;
}

#define GRAPH_METHODS(H)                                                                          \
  static mps_res_t graph_scan_##H(mps_ss_t ss, mps_addr_t base, mps_addr_t limit)                 \
  {                                                                                               \
    return graph_scan(ss, base, limit, H);                                                        \
  }                                                                                               \
  static mps_addr_t graph_skip_##H(mps_addr_t obj) { return graph_skip(obj, H); }                 \
  static void graph_fwd_##H(mps_addr_t old, mps_addr_t new_addr) { graph_fwd(old, new_addr, H); } \
  static mps_addr_t graph_isfwd_##H(mps_addr_t obj) { return graph_isfwd(obj, H); }

GRAPH_METHODS(0)
GRAPH_METHODS(8)
GRAPH_METHODS(16)

mps_res_t gcp_graph_format_create(mps_fmt_t *fmt_o, mps_arena_t arena, size_t h)
{
  mps_fmt_scan_t scan;
  mps_fmt_skip_t skip;
  mps_fmt_fwd_t fwd;
  mps_fmt_isfwd_t isfwd;
  mps_res_t res;
  switch (h) {
  case 0:
    scan = graph_scan_0;
    skip = graph_skip_0;
    fwd = graph_fwd_0;
    isfwd = graph_isfwd_0;
    break;
  case 8:
    scan = graph_scan_8;
    skip = graph_skip_8;
    fwd = graph_fwd_8;
    isfwd = graph_isfwd_8;
    break;
  case 16:
    scan = graph_scan_16;
    skip = graph_skip_16;
    fwd = graph_fwd_16;
    isfwd = graph_isfwd_16;
    break;
  default: return MPS_RES_PARAM;
  }
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FMT_ALIGN, GCP_GRAPH_ALIGN);
    if (h != 0) MPS_ARGS_ADD(args, MPS_KEY_FMT_HEADER_SIZE, h);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_SCAN, scan);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_SKIP, skip);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_FWD, fwd);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_ISFWD, isfwd);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_PAD, graph_pad);
    res = mps_fmt_create_k(fmt_o, arena, args);
  }
  MPS_ARGS_END(args);
  return res;
}

/* ---- objects ------------------------------------------------------------- */

static mps_word_t *graph_base(mps_addr_t obj, size_t h) { return (mps_word_t *)((char *)obj - h); }

static mps_addr_t *graph_refs(mps_word_t *b, size_t h)
{
  return (mps_addr_t *)((char *)b + graph_body(h));
}

static mps_word_t *graph_data(mps_word_t *b, size_t h, size_t nrefs)
{
  return (mps_word_t *)((char *)b + graph_body(h)) + nrefs;
}

void gcp_graph_init(mps_addr_t base, size_t h, size_t nrefs, size_t ndata, unsigned long id)
{
  mps_word_t *b = (mps_word_t *)base;
  mps_addr_t *refs = graph_refs(b, h);
  mps_word_t *data = graph_data(b, h, nrefs);
  size_t i;
  b[0] = GCP_GRAPH_OBJ | ((mps_word_t)nrefs << 8) | ((mps_word_t)ndata << 32);
  if (h == 16) b[1] = GCP_GRAPH_MAGIC ^ (mps_word_t)id;
  for (i = 0; i < nrefs; ++i) refs[i] = NULL;
  data[0] = (mps_word_t)id;
  for (i = 2; i < ndata; ++i) data[i] = graph_data_word(id, i);
  data[1] = graph_checksum(id, nrefs, ndata, data);
}

#define GRAPH_COMMIT_TRIES 10000

mps_res_t gcp_graph_alloc(mps_addr_t *obj_o, mps_ap_t ap, size_t h, size_t nrefs, size_t ndata,
                          unsigned long id)
{
  size_t size, tries;
  mps_addr_t p;
  mps_res_t res;
  if (!gcp_graph_header_ok(h) || nrefs > GCP_GRAPH_MAX_REFS || ndata < GCP_GRAPH_MIN_DATA ||
      ndata > GCP_GRAPH_MAX_DATA)
    return MPS_RES_PARAM;
  size = gcp_graph_size(h, nrefs, ndata);
  for (tries = 0; tries < GRAPH_COMMIT_TRIES; ++tries) {
    res = mps_reserve(&p, ap, size);
    if (res != MPS_RES_OK) return res;
    gcp_graph_init(p, h, nrefs, ndata, id);
    if (mps_commit(ap, p, size)) {
      *obj_o = (mps_addr_t)((char *)p + h);
      return MPS_RES_OK;
    }
  }
  return MPS_RES_LIMIT;
}

unsigned gcp_graph_kind(mps_addr_t obj, size_t h)
{
  mps_word_t hd = graph_base(obj, h)[0];
  switch (GRAPH_KIND(hd)) {
  case GCP_GRAPH_OBJ:
  case GCP_GRAPH_FWD:
  case GCP_GRAPH_PAD1:
  case GCP_GRAPH_PADN: return GRAPH_KIND(hd);
  default: return GCP_GRAPH_BAD;
  }
}

size_t gcp_graph_nrefs(mps_addr_t obj, size_t h) { return GRAPH_NREFS(graph_base(obj, h)[0]); }

size_t gcp_graph_ndata(mps_addr_t obj, size_t h) { return GRAPH_NDATA(graph_base(obj, h)[0]); }

unsigned long gcp_graph_id(mps_addr_t obj, size_t h)
{
  mps_word_t *b = graph_base(obj, h);
  return (unsigned long)graph_data(b, h, GRAPH_NREFS(b[0]))[0];
}

size_t gcp_graph_extent(mps_addr_t obj, size_t h)
{
  mps_word_t *b = graph_base(obj, h);
  mps_word_t hd = b[0];
  if (GRAPH_KIND(hd) == GCP_GRAPH_OBJ) return gcp_graph_size(h, GRAPH_NREFS(hd), GRAPH_NDATA(hd));
  if ((GRAPH_KIND(hd) == GCP_GRAPH_FWD || GRAPH_KIND(hd) == GCP_GRAPH_PADN))
    return GRAPH_SIZEOF(hd);
  if (hd == GCP_GRAPH_PAD1) return GRAPH_WORD;
  return 0;
}

int gcp_graph_valid(mps_addr_t obj, size_t h)
{
  mps_word_t *b, *data, hd;
  size_t nrefs, ndata, i;
  unsigned long id;
  if (obj == NULL || ((mps_word_t)obj & (GCP_GRAPH_ALIGN - 1)) != 0) return 0;
  b = graph_base(obj, h);
  hd = b[0];
  if (GRAPH_KIND(hd) != GCP_GRAPH_OBJ || (hd >> 60) != 0) return 0;
  nrefs = GRAPH_NREFS(hd);
  ndata = GRAPH_NDATA(hd);
  if (ndata < GCP_GRAPH_MIN_DATA) return 0;
  data = graph_data(b, h, nrefs);
  id = (unsigned long)data[0];
  if (h == 16 && b[1] != (GCP_GRAPH_MAGIC ^ (mps_word_t)id)) return 0;
  for (i = 2; i < ndata; ++i)
    if (data[i] != graph_data_word(id, i)) return 0;
  return data[1] == graph_checksum(id, nrefs, ndata, data);
}

mps_addr_t gcp_graph_ref(mps_addr_t obj, size_t h, size_t i)
{
  return graph_refs(graph_base(obj, h), h)[i];
}

void gcp_graph_set_ref(mps_addr_t obj, size_t h, size_t i, mps_addr_t ref)
{
  graph_refs(graph_base(obj, h), h)[i] = ref;
}

/* ---- holding references on the C stack across a collection --------------- */

/* Zero the stack below the caller, so that stale words left there by
 * earlier calls do not turn into ambiguous references. */
static __attribute__((noinline)) void graph_scrub_stack(void)
{
  volatile mps_word_t junk[4096];
  size_t i;
  for (i = 0; i < sizeof junk / sizeof junk[0]; ++i) junk[i] = 0;
}

static __attribute__((noinline)) mps_res_t graph_hold_and_collect(mps_arena_t arena, mps_thr_t thr,
                                                                  mps_addr_t *refs, size_t n,
                                                                  mps_addr_t *after, void *cold)
{
  /* The only copies of the references: in this frame, below cold. */
  mps_addr_t volatile held[GCP_GRAPH_HOLD_MAX];
  mps_root_t root;
  mps_res_t res;
  size_t i;
  for (i = 0; i < n; ++i) {
    held[i] = refs[i];
    refs[i] = NULL;
  }
  res = mps_root_create_thread(&root, arena, thr, cold);
  if (res != MPS_RES_OK) {
    for (i = 0; i < n; ++i) refs[i] = held[i];
    return res;
  }
  res = mps_arena_collect(arena);
  for (i = 0; i < n; ++i) {
    after[i] = held[i];
    held[i] = NULL;
  }
  mps_root_destroy(root);
  return res;
}

mps_res_t gcp_graph_collect_holding(mps_arena_t arena, mps_thr_t thr, mps_addr_t *refs, size_t n,
                                    mps_addr_t *after)
{
  /* The cold end: a word of this frame, above the callee's array. */
  void *volatile cold_marker = NULL;
  mps_res_t res;
  if (n > GCP_GRAPH_HOLD_MAX) return MPS_RES_PARAM;
  graph_scrub_stack();
  res = graph_hold_and_collect(arena, thr, refs, n, after, (void *)&cold_marker);
  cold_marker = NULL; /* used after the call: the call cannot be a tail call */
  return res;
}

/* Hold references only in this thread's stack frame until *release
 * becomes non-zero (another thread collects meanwhile); *holding is set
 * once the caller's copies are gone.  The thread is not registered: only
 * an arena that counts every thread as registered sees these references
 * (gcp_arena_all_threads). */
static __attribute__((noinline)) void graph_hold_until(mps_addr_t *refs, size_t n,
                                                       mps_addr_t *after, volatile int *holding,
                                                       volatile int *release)
{
  mps_addr_t volatile held[GCP_GRAPH_HOLD_MAX];
  size_t i;
  for (i = 0; i < n; ++i) {
    held[i] = refs[i];
    refs[i] = NULL;
  }
  __atomic_store_n(holding, 1, __ATOMIC_RELEASE);
  while (!__atomic_load_n(release, __ATOMIC_ACQUIRE)) sched_yield();
  for (i = 0; i < n; ++i) {
    after[i] = held[i];
    held[i] = NULL;
  }
}

int gcp_graph_hold_until(mps_addr_t *refs, size_t n, mps_addr_t *after, volatile int *holding,
                         volatile int *release)
{
  if (n > GCP_GRAPH_HOLD_MAX) return MPS_RES_PARAM;
  graph_scrub_stack();
  graph_hold_until(refs, n, after, holding, release);
  return MPS_RES_OK;
}

/* ---- pool walk ------------------------------------------------------------- */

typedef struct graph_walk_s {
  size_t h;
  mps_addr_t *out;
  size_t cap;
  size_t count;
} graph_walk_s;

/* An mps_area_scan_t: [base, limit) holds base pointers of whole objects. */
static mps_res_t graph_walk_area(mps_ss_t ss, void *base, void *limit, void *closure)
{
  graph_walk_s *walk = (graph_walk_s *)closure;
  size_t h = walk->h;
  MPS_SCAN_BEGIN(ss)
  {
    char *p = (char *)base;
    while (p < (char *)limit) {
      mps_word_t *b = (mps_word_t *)p;
      mps_word_t hd = b[0];
      size_t extent = graph_extent(b, h);
      if (extent > (size_t)((char *)limit - p)) {
        /* not an object of this area: a header that is not one */
        graph_error(b, hd);
        break;
      }
      if (GRAPH_KIND(hd) == GCP_GRAPH_OBJ) {
        size_t n = GRAPH_NREFS(hd), i;
        mps_addr_t *refs = graph_refs(b, h);
        for (i = 0; i < n; ++i) {
          mps_res_t res = MPS_FIX12(ss, &refs[i]);
          if (res != MPS_RES_OK) return res;
        }
        if (walk->count < walk->cap) walk->out[walk->count] = (mps_addr_t)(p + h);
        ++walk->count;
      } else if (GRAPH_KIND(hd) == GCP_GRAPH_FWD) {
        graph_error(b, hd); /* collector-interface.md §Walks: never forwarding objects */
      }
      p += extent;
    }
  }
  MPS_SCAN_END(ss);
  return MPS_RES_OK;
}

mps_res_t gcp_graph_pool_walk(mps_pool_t pool, size_t h, mps_addr_t *out, size_t cap,
                              size_t *count_o)
{
  graph_walk_s walk;
  mps_res_t res;
  walk.h = h;
  walk.out = out;
  walk.cap = cap;
  walk.count = 0;
  res = mps_pool_walk(pool, graph_walk_area, &walk);
  *count_o = walk.count;
  return res;
}

/* ---- path operations --------------------------------------------------------- */

static int graph_follow(size_t h, mps_addr_t *table, size_t index, const size_t *path, size_t depth,
                        mps_addr_t *obj_o)
{
  mps_addr_t obj = table[index];
  size_t d;
  for (d = 0;; ++d) {
    if (obj == NULL) return -1;
    if (!gcp_graph_valid(obj, h)) return -2;
    if (d == depth) break;
    if (path[d] >= gcp_graph_nrefs(obj, h)) return -3;
    obj = gcp_graph_ref(obj, h, path[d]);
  }
  *obj_o = obj;
  return 0;
}

mps_res_t gcp_graph_alloc_into(mps_ap_t ap, size_t h, mps_addr_t *table, size_t index, size_t nrefs,
                               size_t ndata, unsigned long id)
{
  mps_addr_t obj;
  mps_res_t res = gcp_graph_alloc(&obj, ap, h, nrefs, ndata, id);
  if (res == MPS_RES_OK) table[index] = obj;
  return res;
}

int gcp_graph_path_link(size_t h, mps_addr_t *table, size_t src_index, const size_t *src_path,
                        size_t src_depth, size_t slot, size_t dst_index, const size_t *dst_path,
                        size_t dst_depth)
{
  mps_addr_t src, dst = NULL;
  int r = graph_follow(h, table, src_index, src_path, src_depth, &src);
  if (r != 0) return r;
  if (slot >= gcp_graph_nrefs(src, h)) return -3;
  if (dst_index != (size_t)-1) {
    r = graph_follow(h, table, dst_index, dst_path, dst_depth, &dst);
    if (r != 0) return r;
  }
  gcp_graph_set_ref(src, h, slot, dst);
  return 0;
}

long gcp_graph_path_read(size_t h, mps_addr_t *table, size_t index, const size_t *path,
                         size_t depth, unsigned long *id_o, unsigned long *ref_ids, size_t cap)
{
  mps_addr_t obj;
  size_t n, i;
  int r = graph_follow(h, table, index, path, depth, &obj);
  if (r != 0) return r;
  n = gcp_graph_nrefs(obj, h);
  *id_o = gcp_graph_id(obj, h);
  for (i = 0; i < n && i < cap; ++i) {
    mps_addr_t target = gcp_graph_ref(obj, h, i);
    if (target == NULL) {
      ref_ids[i] = 0;
    } else {
      if (!gcp_graph_valid(target, h)) return -2;
      ref_ids[i] = gcp_graph_id(target, h);
    }
  }
  return (long)n;
}
