/* gc_bench_trees.c -- part of bench/gc_bench.c (included by it, not built
 * alone): benchmark 2, binary trees (GCBench-like) on AMC, AMS, the Boehm
 * collector and malloc/free.  It uses the object format, the roots and the
 * timing helpers of gc_bench.c.
 */
/* 2. Binary trees (GCBench-like)                                      */

/* The structure of Ellis, Kovac and Boehm's GCBench: a temporary tree that
 * stretches the heap; a long-lived tree (built top-down) and a long-lived
 * array of doubles kept alive throughout; then for depth d = min, min+2,
 * ..., max, 2 * size(stretch) / size(d) trees of depth d built top-down
 * (node first, children stored into it) and as many built bottom-up
 * (children first), each dropped after it is built.  A tree of depth d has
 * 2^(d+1) - 1 nodes.  Every node's "height" field is its height, so a
 * tree can be checked completely.  The last tree of each phase, the
 * stretch tree, the long-lived tree and the array are verified; the
 * verification is not timed. */
enum { T_LONG, T_ARRAY, T_TEMP, T_COUNT };
static void *troots[T_COUNT]; /* exact root for AMC; static data for Boehm */

static long tree_size(int d) { return (2L << d) - 1; }

static long check_tree(const node_s *t, word h)
{
  long n;
  if (t == NULL || t->hdr != NODE_HDR || t->height != h)
    verify_failed("tree node damaged (header %#llx, height %llu)",
                  t ? (unsigned long long)t->hdr : 0ull, t ? (unsigned long long)t->height : 0ull);
  if (h == 0) {
    if (t->left != NULL || t->right != NULL)
      verify_failed("leaf with children (%llu, %llu)", (unsigned long long)(uintptr_t)t->left,
                    (unsigned long long)(uintptr_t)t->right);
    return 1;
  }
  n = check_tree(t->left, h - 1);
  return n + check_tree(t->right, h - 1) + 1;
}

static double verify_ns, verify_cpu; /* time spent verifying, not counted */
static long verified_nodes;

static void verify_tree(const node_s *t, int d)
{
  double t0 = now_ns(), c0 = cpu_ns();
  long n = check_tree(t, (word)d);
  if (n != tree_size(d))
    verify_failed("tree of depth %llu has %llu nodes", (unsigned long long)d,
                  (unsigned long long)n);
  verified_nodes += n;
  verify_ns += now_ns() - t0;
  verify_cpu += cpu_ns() - c0;
}

static void verify_array(const darray_s *a, long n)
{
  double t0 = now_ns(), c0 = cpu_ns();
  long i;
  if (a == NULL || a->hdr != HDR(TAG_OBJ, sizeof(word) + sizeof(double) * (size_t)n, 0))
    verify_failed("array header damaged (%#llx, %llu)", a ? (unsigned long long)a->hdr : 0ull,
                  (unsigned long long)n);
  for (i = 0; i < n; ++i)
    if (a->a[i] != (i ? 1.0 / (double)i : 0.0))
      verify_failed("array element %llu damaged (of %llu)", (unsigned long long)i,
                    (unsigned long long)n);
  verify_ns += now_ns() - t0;
  verify_cpu += cpu_ns() - c0;
}

typedef struct trees_params {
  int min, max, stretch, longlived;
  long array;
} trees_params;

typedef struct trees_times {
  double td[32], bu[32]; /* ns per phase, by depth */
  double stretch, longlived;
} trees_times;

/* The tree code, once per allocator.  P##_node(l, r, h) allocates a node;
 * P##_drop(t) is what happens to a temporary tree after use (free it, or
 * nothing for the collectors). */
#define DEFINE_TREES(P)                                                   \
  static NOINLINE node_s *P##_make_tree(int d)                            \
  {                                                                       \
    node_s *l = NULL, *r = NULL;                                          \
    if (d > 0) {                                                          \
      l = P##_make_tree(d - 1);                                           \
      r = P##_make_tree(d - 1);                                           \
    }                                                                     \
    return P##_node(l, r, (word)d);                                       \
  }                                                                       \
  static NOINLINE void P##_populate(int d, node_s *t)                     \
  {                                                                       \
    if (d <= 0) return;                                                   \
    --d;                                                                  \
    t->left = P##_node(NULL, NULL, (word)d);                              \
    t->right = P##_node(NULL, NULL, (word)d);                             \
    P##_populate(d, t->left);                                             \
    P##_populate(d, t->right);                                            \
  }                                                                       \
  static NOINLINE void P##_trees(const trees_params *tp, trees_times *tt) \
  {                                                                       \
    double t0 = now_ns(), v0 = verify_ns;                                 \
    long i, iters;                                                        \
    int d;                                                                \
    darray_s *arr;                                                        \
    /* stretch the heap */                                                \
    troots[T_TEMP] = P##_make_tree(tp->stretch);                          \
    verify_tree(troots[T_TEMP], tp->stretch);                             \
    P##_drop(troots[T_TEMP]);                                             \
    troots[T_TEMP] = NULL;                                                \
    tt->stretch = now_ns() - t0 - (verify_ns - v0);                       \
    /* the long-lived tree and array */                                   \
    t0 = now_ns();                                                        \
    v0 = verify_ns;                                                       \
    troots[T_LONG] = P##_node(NULL, NULL, (word)tp->longlived);           \
    P##_populate(tp->longlived, troots[T_LONG]);                          \
    arr = P##_array(tp->array);                                           \
    troots[T_ARRAY] = arr;                                                \
    for (i = 1; i < tp->array; ++i) arr->a[i] = 1.0 / (double)i;          \
    arr = NULL;                                                           \
    tt->longlived = now_ns() - t0;                                        \
    for (d = tp->min; d <= tp->max; d += 2) {                             \
      iters = 2 * tree_size(tp->stretch) / tree_size(d);                  \
      t0 = now_ns();                                                      \
      v0 = verify_ns;                                                     \
      for (i = 0; i < iters; ++i) {                                       \
        troots[T_TEMP] = P##_node(NULL, NULL, (word)d);                   \
        P##_populate(d, troots[T_TEMP]);                                  \
        if (i == iters - 1) verify_tree(troots[T_TEMP], d);               \
        P##_drop(troots[T_TEMP]);                                         \
        troots[T_TEMP] = NULL;                                            \
      }                                                                   \
      tt->td[d] = now_ns() - t0 - (verify_ns - v0);                       \
      t0 = now_ns();                                                      \
      v0 = verify_ns;                                                     \
      for (i = 0; i < iters; ++i) {                                       \
        troots[T_TEMP] = P##_make_tree(d);                                \
        if (i == iters - 1) verify_tree(troots[T_TEMP], d);               \
        P##_drop(troots[T_TEMP]);                                         \
        troots[T_TEMP] = NULL;                                            \
      }                                                                   \
      tt->bu[d] = now_ns() - t0 - (verify_ns - v0);                       \
    }                                                                     \
    verify_tree(troots[T_LONG], tp->longlived);                           \
    verify_array(troots[T_ARRAY], tp->array);                             \
  }

static darray_s *array_init(void *p, long n)
{
  darray_s *a = p;
  a->hdr = HDR(TAG_OBJ, sizeof(word) + sizeof(double) * (size_t)n, 0);
  a->a[0] = 0.0;
  return a;
}

/* --- malloc/free */
static inline node_s *mal_node(node_s *l, node_s *r, word h)
{
  node_s *t = malloc(sizeof *t);
  if (!t) die("malloc", 0);
  t->hdr = NODE_HDR;
  t->left = l;
  t->right = r;
  t->height = h;
  return t;
}
static void mal_free_tree(node_s *t)
{
  if (t->left) {
    mal_free_tree(t->left);
    mal_free_tree(t->right);
  }
  free(t);
}
#define mal_drop(t) mal_free_tree(t)
static darray_s *mal_array(long n)
{
  void *p = malloc(sizeof(word) + sizeof(double) * (size_t)n);
  if (!p) die("malloc", 0);
  return array_init(p, n);
}
DEFINE_TREES(mal)

/* --- Boehm */
#ifdef WITH_BOEHM
static inline node_s *bdw_node(node_s *l, node_s *r, word h)
{
  node_s *t = GC_MALLOC(sizeof *t);
  if (!t) die("GC_MALLOC", 0);
  t->hdr = NODE_HDR;
  t->left = l;
  t->right = r;
  t->height = h;
  return t;
}
#define bdw_drop(t) ((void)(t))
static darray_s *bdw_array(long n)
{
  void *p = GC_MALLOC_ATOMIC(sizeof(word) + sizeof(double) * (size_t)n);
  if (!p) die("GC_MALLOC_ATOMIC", 0);
  return array_init(p, n);
}
DEFINE_TREES(bdw)
#endif

/* --- AMC */
#ifndef WITHOUT_MPS
static mps_ap_t tree_ap;
static long tree_retries;

static inline node_s *amc_node(node_s *l, node_s *r, word h)
{
  mps_ap_t ap = tree_ap;
  mps_addr_t p;
  mps_res_t res;
  /* l and r are in this frame (registers or stack): the thread root holds
   * them ambiguously, so they cannot move while the node is reserved. */
  for (;;) {
    node_s *t;
    MPS_RESERVE_BLOCK(res, p, ap, sizeof(node_s));
    if (res != MPS_RES_OK) die("mps_reserve", res);
    t = p;
    t->hdr = NODE_HDR;
    t->left = l;
    t->right = r;
    t->height = h;
    if (mps_commit(ap, p, sizeof(node_s))) return t;
    ++tree_retries;
  }
}
#define amc_drop(t) ((void)(t))
static darray_s *amc_array(long n)
{
  size_t size = sizeof(word) + sizeof(double) * (size_t)n;
  mps_addr_t p;
  mps_res_t res;
  do {
    MPS_RESERVE_BLOCK(res, p, tree_ap, size);
    if (res != MPS_RES_OK) die("mps_reserve", res);
    array_init(p, n); /* a valid object: header, no references */
  } while (!mps_commit(tree_ap, p, size));
  return p;
}
DEFINE_TREES(amc)
#endif

static NOINLINE int trees(const char *impl, const trees_params *tp, size_t nursery_kb)
{
  trees_times tt;
  double t0, t1, c0, c1;
  long collections = 0, nodes = 0;
  double heap_mb = 0;
  char extra[200] = "";
  int d;

  memset(&tt, 0, sizeof tt);
  if (tp->min < 0 || tp->max > 30 || tp->min > tp->max || tp->stretch > 30 || tp->longlived > 30 ||
      tp->array < 1)
    die("trees: parameters out of range", 0);
  /* nodes allocated: stretch + long-lived + 2 * iters per depth */
  nodes = tree_size(tp->stretch) + tree_size(tp->longlived);
  for (d = tp->min; d <= tp->max; d += 2)
    nodes += 2 * (2 * tree_size(tp->stretch) / tree_size(d)) * tree_size(d);

  if (!strcmp(impl, "malloc")) {
    t0 = now_ns();
    c0 = cpu_ns();
    mal_trees(tp, &tt);
    t1 = now_ns();
    c1 = cpu_ns();
    mal_free_tree(troots[T_LONG]);
    free(troots[T_ARRAY]);
#ifdef WITH_BOEHM
  } else if (!strcmp(impl, "boehm")) {
    GC_INIT();
    t0 = now_ns();
    c0 = cpu_ns();
    bdw_trees(tp, &tt);
    t1 = now_ns();
    c1 = cpu_ns();
    collections = (long)GC_get_gc_no();
    heap_mb = (double)GC_get_heap_size() / 1048576.0;
    snprintf(extra, sizeof extra, " boehm_markers=%d boehm_version=%u.%u.%u", GC_get_parallel() + 1,
             GC_get_version() >> 16, (GC_get_version() >> 8) & 0xff, GC_get_version() & 0xff);
#endif
#ifndef WITHOUT_MPS
  } else if (!strcmp(impl, "amc") || !strcmp(impl, "ams")) {
    /* AMS runs the very same mutator code (amc_trees: reserve/commit on
     * tree_ap), on an allocation point of an AMS pool. */
    gc_s gc;
    mps_word_t moved0;
    if (!strcmp(impl, "ams")) gc_pool_class = mps_class_ams;
    gc_open(&gc, nursery_kb, troots, T_COUNT);
    tree_ap = gc.ap;
    moved0 = mps_collections(gc.arena);
    t0 = now_ns();
    c0 = cpu_ns();
    amc_trees(tp, &tt);
    t1 = now_ns();
    c1 = cpu_ns();
    drain_messages();
    collections = gc_messages;
    heap_mb = (double)mps_arena_committed(gc.arena) / 1048576.0;
    snprintf(extra, sizeof extra,
             " moving_collections=%ld fills=%ld commit_retries=%ld "
             "condemned_mb=%.1f survived_mb=%.1f",
             (long)(mps_collections(gc.arena) - moved0), fills, tree_retries,
             gc_condemned / 1048576.0, gc_live / 1048576.0);
    gc_close(&gc);
#endif
  } else {
    fprintf(stderr, "gc_bench: trees: unknown or not compiled in: %s\n", impl);
    return 1;
  }
  printf("bench=trees impl=%s min=%d max=%d stretch=%d longlived=%d array=%ld "
         "nursery_kb=%lu nodes=%ld seconds=%.4f cpu_seconds=%.4f ns_per_node=%.3f "
         "collections=%ld heap_mb=%.1f stretch_s=%.4f longlived_s=%.4f",
         impl, tp->min, tp->max, tp->stretch, tp->longlived, tp->array, (unsigned long)nursery_kb,
         nodes, (t1 - t0 - verify_ns) / 1e9, (c1 - c0 - verify_cpu) / 1e9,
         (t1 - t0 - verify_ns) / (double)nodes, collections, heap_mb, tt.stretch / 1e9,
         tt.longlived / 1e9);
  for (d = tp->min; d <= tp->max; d += 2)
    printf(" td%d_s=%.4f bu%d_s=%.4f", d, tt.td[d] / 1e9, d, tt.bu[d] / 1e9);
  printf(" verified_nodes=%ld verify_s=%.4f%s verified=1\n", verified_nodes, verify_ns / 1e9,
         extra);
  return 0;
}
