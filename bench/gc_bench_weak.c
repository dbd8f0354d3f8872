/* gc_bench_weak.c -- part of bench/gc_bench.c (included by it, not built
 * alone): benchmark 4, a weak-key table of 10^6 entries in AWL under key
 * churn, with the exact-key comparisons.  It uses the object format, the
 * roots and the timing helpers of gc_bench.c.
 */
/* 4. A weak-key table of 10^6 entries under churn                     */

/* The table is the weak table of the tests, tests/gcp_testing/weaktable.c
 * (included here, compiled against mps.h and the core's static library):
 * two arrays in an AWL pool, keys[i] -> values[i], each array the other's
 * dependent object (MPS_KEY_AWL_FIND_DEPENDENT).  The keys array comes
 * from an allocation point of weak rank ("weak") or exact rank ("strong",
 * "pruned": GCP_WTABLE_STRONG), the values array from an exact one.  Keys
 * and values are AMC objects of the common format without references:
 *     key   {header, id, held}   24 B; held = 1 while strong[] holds it
 *     value {header, id}         16 B
 * Keys are hashed by address (linear probing); AMC moves them in every
 * full collection, so a location dependency tells the table to rehash (in
 * place: gcp_wtable_refresh, and lookups that miss).  The table's scan
 * method counts the reference slots it fixes by array, the slots it
 * scans, and the entries it deletes (weak keys whose objects died: both
 * arrays' slots); gcp_wtable_stats reads the counts.
 *
 * Every cycle: ~half of the N keys are held by strong[] (an exact root of
 * N/2 words), the rest only by the table.  The churn replaces churn_pct %
 * of strong[] with new keys (the old ones stay in the table, now held by
 * nothing) and inserts new keys held by nothing until the table has N
 * entries again; then one full collection (mps_arena_collect) is timed.
 *   weak:   the collector deletes the N/2 entries whose keys died;
 *   strong: keys exact, the same heap: the collection preserves all N
 *           entries; afterwards (untimed) the program deletes the entries
 *           whose keys strong[] does not hold, as "weak" would have;
 *   pruned: keys exact; the program deletes those entries just before the
 *           collection (untimed), so it preserves the same keys as "weak".
 */
#ifndef WITHOUT_MPS
typedef struct wkey_s {
  word hdr, id, held;
} wkey_s;
typedef struct wval_s {
  word hdr, id;
} wval_s;
#define WKEY_HDR HDR(TAG_OBJ, sizeof(wkey_s), 0)
#define WVAL_HDR HDR(TAG_OBJ, sizeof(wval_s), 0)

#include "../tests/gcp_testing/weaktable.c"

static gcp_wtable_t wt;    /* the table */
static void *wt_unused[2]; /* gc_open's root table (the table roots its arrays) */

static int wt_isref(word w) { return w != 0 && (w & 7) == 0; }

/* The entries whose key strong[] holds stay (gcp_wtable_prune). */
static int wt_held(mps_addr_t key, mps_addr_t value, void *closure)
{
  (void)value;
  (void)closure;
  return ((wkey_s *)key)->held != 0;
}

/* Delete every entry whose key strong[] does not hold (what the weak
 * table's collection does to dead keys); returns how many. */
static size_t wt_prune(void) { return gcp_wtable_prune(wt, wt_held, NULL); }

/* Rehashes of any cause (in place: the arrays never grow here). */
static long wt_rehashes(void)
{
  gcp_wtable_stats_s st;
  gcp_wtable_stats(wt, &st);
  return (long)(st.rehashes + st.cleanups + st.grown);
}

static gcp_wtable_stats_s wt_stats(void)
{
  gcp_wtable_stats_s st;
  gcp_wtable_stats(wt, &st);
  return st;
}

static mps_ap_t obj_ap; /* AMC: keys and values */
static word wt_next_id;

static void *obj_alloc(size_t size, word hdr, word id)
{
  mps_addr_t p;
  mps_res_t res;
  do {
    MPS_RESERVE_BLOCK(res, p, obj_ap, size);
    if (res != MPS_RES_OK) die("mps_reserve", res);
    ((word *)p)[0] = hdr;
    ((word *)p)[1] = id;
    if (size > 2 * sizeof(word)) ((word *)p)[2] = 0;
  } while (!mps_commit(obj_ap, p, size));
  return p;
}

/* A new entry; its key is held by *slot if slot != NULL. */
static NOINLINE void wt_new_entry(wkey_s **slot)
{
  word id = wt_next_id++;
  wkey_s *k = obj_alloc(sizeof(wkey_s), WKEY_HDR, id);
  wval_s *v = obj_alloc(sizeof(wval_s), WVAL_HDR, id);
  if (slot != NULL) {
    k->held = 1;
    *slot = k;
  }
  mps_res_t res = gcp_wtable_put(wt, k, v);
  if (res != MPS_RES_OK) die("gcp_wtable_put", res);
}

/* The whole table and strong[]: every live entry intact, every held key
 * present.  Returns the number of entries whose key is not held. */
static size_t wt_verify(wkey_s **strong, size_t half)
{
  size_t i, live = 0, unheld = 0, len = gcp_wtable_length(wt);
  for (i = 0; i < len; ++i) {
    word kw, vw;
    const wkey_s *k;
    const wval_s *v;
    gcp_wtable_slot(wt, i, &kw, &vw);
    k = (const wkey_s *)kw;
    v = (const wval_s *)vw;
    if (!wt_isref(kw)) {
      if (kw != 0 && kw != GCP_WTABLE_DELETED)
        verify_failed("weak table: key slot %llu holds %#llx", (unsigned long long)i,
                      (unsigned long long)kw);
      if (wt_isref(vw))
        verify_failed("weak table: slot %llu has a value but no key (%#llx)", (unsigned long long)i,
                      (unsigned long long)vw);
      continue;
    }
    if (!wt_isref(vw))
      verify_failed("weak table: slot %llu has a key but no value (%#llx)", (unsigned long long)i,
                    (unsigned long long)vw);
    if (k->hdr != WKEY_HDR || v->hdr != WVAL_HDR || k->id != v->id || k->held > 1)
      verify_failed("weak table: entry damaged (key header %#llx, value header %#llx)",
                    (unsigned long long)k->hdr, (unsigned long long)v->hdr);
    ++live;
    unheld += !k->held;
  }
  if (live != gcp_wtable_count(wt))
    verify_failed("weak table: %llu live entries, %llu counted", (unsigned long long)live,
                  (unsigned long long)gcp_wtable_count(wt));
  for (i = 0; i < half; ++i) {
    const wval_s *v;
    if (strong[i] == NULL || strong[i]->hdr != WKEY_HDR || strong[i]->held != 1)
      verify_failed("weak table: held key %llu damaged (%#llx)", (unsigned long long)i,
                    strong[i] ? (unsigned long long)strong[i]->hdr : 0ull);
    v = gcp_wtable_get(wt, strong[i]);
    if (v == NULL || v->id != strong[i]->id)
      verify_failed("weak table: held key %llu (id %llu) lost or wrong value",
                    (unsigned long long)i, (unsigned long long)strong[i]->id);
  }
  return unheld;
}

static NOINLINE int weak_bench(const char *mode, long entries, int cycles, int churn_pct)
{
  gc_s gc;
  int weak = !strcmp(mode, "weak"), pruned = !strcmp(mode, "pruned");
  size_t n = (size_t)entries, half = n / 2, drop, i, unheld;
  wkey_s **strong;
  mps_root_t strong_root;
  mps_fmt_t wfmt;
  mps_pool_t wpool;
  mps_res_t res;
  double t0, c0, first_ms = 0, *ms, *cms, build_s, churn_s = 0, rehash_s = 0, prune_s = 0;
  double live_mb = 0, condemned_mb = 0;
  unsigned long long refs_keys = 0, refs_vals = 0, slots = 0, splats = 0, splats_first = 0;
  size_t extra_max = 0;
  int c;

  if (!weak && !pruned && strcmp(mode, "strong")) usage();
  if (n < 16 || cycles < 1 || churn_pct < 0 || churn_pct > 100)
    die("weak: parameters out of range", 0);
  ms = calloc((size_t)cycles, sizeof *ms);
  cms = calloc((size_t)cycles, sizeof *cms);
  strong = calloc(half, sizeof *strong);
  if (!ms || !cms || !strong) die("calloc", 0);
  drop = half * (size_t)churn_pct / 100;

  gc_open(&gc, 0, wt_unused, 2);
  mps_arena_park(gc.arena); /* only mps_arena_collect collects */
  obj_ap = gc.ap;
  res = mps_root_create_area(&strong_root, gc.arena, mps_rank_exact(), 0, (void *)strong,
                             (void *)(strong + half), mps_scan_area, NULL);
  if (res != MPS_RES_OK) die("mps_root_create_area(strong)", res);
  res = gcp_wtable_format_create(&wfmt, gc.arena, 0);
  if (res != MPS_RES_OK) die("gcp_wtable_format_create", res);
  res = gcp_wtable_pool_create(&wpool, gc.arena, wfmt, NULL, 0);
  if (res != MPS_RES_OK) die("gcp_wtable_pool_create", res);
  res = gcp_wtable_create(&wt, gc.arena, wpool, 0, weak ? GCP_WTABLE_WEAK_KEYS : GCP_WTABLE_STRONG,
                          n);
  if (res != MPS_RES_OK) die("gcp_wtable_create", res);

  /* Build: N entries, the even ones held. */
  rng_state = 7;
  t0 = now_ns();
  for (i = 0; i < n; ++i) wt_new_entry(i % 2 == 0 ? &strong[i / 2] : NULL);
  build_s = (now_ns() - t0) / 1e9;

  /* cycle -1 is the first collection (of the freshly built heap, timed
   * separately); then `cycles` timed ones, each after a churn. */
  for (c = -1; c < cycles; ++c) {
    size_t before, after;
    gcp_wtable_stats_s st0 = wt_stats(), st1;
    double dt, dc;
    if (c >= 0) {
      if (!weak && !pruned) { /* strong: delete what "weak" lost */
        t0 = now_ns();
        unheld = wt_prune();
        prune_s += (now_ns() - t0) / 1e9;
        if (unheld != n - half)
          verify_failed("weak table: pruned %llu entries, expected %llu",
                        (unsigned long long)unheld, (unsigned long long)(n - half));
      }
      /* rehash (the keys moved in the last collection), then verify */
      t0 = now_ns();
      (void)gcp_wtable_refresh(wt);
      rehash_s += (now_ns() - t0) / 1e9;
      unheld = wt_verify(strong, half);
      if (weak ? unheld > 1000 : unheld != 0)
        verify_failed("weak table: %llu entries with keys not held after the collection "
                      "(of %llu)",
                      (unsigned long long)unheld, (unsigned long long)gcp_wtable_count(wt));
      /* churn */
      t0 = now_ns();
      for (i = 0; i < drop; ++i) {
        size_t j = (size_t)(rnd() % half);
        strong[j]->held = 0;
        wt_new_entry(&strong[j]);
      }
      while (gcp_wtable_count(wt) < n) wt_new_entry(NULL);
      churn_s += (now_ns() - t0) / 1e9;
    }
    if (pruned) { /* pruned: delete them before the collection */
      t0 = now_ns();
      (void)wt_prune();
      prune_s += (now_ns() - t0) / 1e9;
    }
    before = gcp_wtable_count(wt);
    drain_messages();
    mps_arena_park(gc.arena);
    t0 = now_ns();
    c0 = cpu_ns();
    res = mps_arena_collect(gc.arena);
    dt = (now_ns() - t0) / 1e6;
    dc = (cpu_ns() - c0) / 1e6;
    if (res != MPS_RES_OK) die("mps_arena_collect", res);
    st1 = wt_stats();
    after = st1.count;
    drain_messages();
    if (c < 0) {
      first_ms = dt;
      splats_first = st1.splatted - st0.splatted;
    } else {
      ms[c] = dt;
      cms[c] = dc;
      refs_keys += st1.key_refs - st0.key_refs;
      refs_vals += st1.value_refs - st0.value_refs;
      slots += st1.slots_scanned - st0.slots_scanned;
      splats += st1.splatted - st0.splatted;
      live_mb += gc_last_live / 1048576.0 / cycles;
    }
    /* What the collection must have left: weak: the held keys (and a few
     * that ambiguous references from the stack may keep); strong: all. */
    if (weak) {
      if (after < half || after > half + 1000)
        verify_failed("weak table: %llu entries after the collection, %llu held keys",
                      (unsigned long long)after, (unsigned long long)half);
      if (after - half > extra_max) extra_max = after - half;
    } else if (after != before || st1.splatted != st0.splatted) {
      verify_failed("weak table (exact keys): %llu entries deleted by the collection of %llu",
                    (unsigned long long)(before - after), (unsigned long long)before);
    }
  }
  (void)gcp_wtable_refresh(wt);
  (void)wt_verify(strong, half);
  condemned_mb = gc_condemned / 1048576.0;

  printf("bench=weak impl=%s entries=%lu held=%lu churn_pct=%d dropped_per_cycle=%lu "
         "cycles=%d table_slots=%lu build_s=%.4f first_ms=%.3f first_splats=%llu",
         mode, (unsigned long)n, (unsigned long)half, churn_pct, (unsigned long)drop, cycles,
         (unsigned long)gcp_wtable_length(wt), build_s, first_ms, splats_first);
  for (c = 0; c < cycles; ++c) printf(" ms%d=%.3f", c, ms[c]);
  {
    double med_ms, med_cms, refs = (double)refs_keys / cycles;
    qsort(ms, (size_t)cycles, sizeof *ms, cmp_double);
    qsort(cms, (size_t)cycles, sizeof *cms, cmp_double);
    med_ms = cycles % 2 ? ms[cycles / 2] : (ms[cycles / 2 - 1] + ms[cycles / 2]) / 2;
    med_cms = cycles % 2 ? cms[cycles / 2] : (cms[cycles / 2 - 1] + cms[cycles / 2]) / 2;
    printf(" collect_ms=%.3f collect_min_ms=%.3f collect_max_ms=%.3f collect_cpu_ms=%.3f "
           "key_refs=%.0f value_refs=%.0f slots_scanned=%.0f weak_refs=%.0f "
           "ms_per_mref=%.3f splats=%.0f extra_survivors_max=%lu live_mb=%.1f "
           "condemned_mb_total=%.1f churn_s=%.4f rehash_s=%.4f prune_s=%.4f rehashes=%ld "
           "collections=%ld committed_mb=%.1f verified=1\n",
           med_ms, ms[0], ms[cycles - 1], med_cms, refs, (double)refs_vals / cycles,
           (double)slots / cycles, weak ? refs : 0.0, refs > 0 ? med_ms / (refs / 1e6) : 0.0,
           (double)splats / cycles, (unsigned long)extra_max, live_mb, condemned_mb, churn_s,
           rehash_s, prune_s, wt_rehashes(), gc_messages,
           mps_arena_committed(gc.arena) / 1048576.0);
  }

  mps_arena_park(gc.arena);
  gcp_wtable_destroy(wt);
  mps_root_destroy(strong_root);
  free(strong);
  mps_pool_destroy(wpool);
  mps_fmt_destroy(wfmt);
  free(ms);
  free(cms);
  gc_close(&gc);
  return 0;
}
#endif
