/* gc_bench_weak.c -- part of bench/gc_bench.c (included by it, not built
 * alone): benchmark 4, a weak-key table of 10^6 entries in AWL under key
 * churn, with the exact-key comparisons.  It uses the object format, the
 * roots and the timing helpers of gc_bench.c.
 */
/* 4. A weak-key table of 10^6 entries under churn                     */

/* The table is built the way MPS clients build weak tables (and like
 * tests/gcp_testing/weaktable.c, which it follows): two arrays in an AWL
 * pool, keys[i] -> values[i], each array the other's dependent object
 * (MPS_KEY_AWL_FIND_DEPENDENT).  The keys array comes from an allocation
 * point of weak rank ("weak") or exact rank ("strong", "pruned"), the
 * values array from an exact one.  Keys and values are AMC objects of the
 * common format without references:
 *     key   {header, id, held}   24 B; held = 1 while strong[] holds it
 *     value {header, id}         16 B
 * Keys are hashed by address (linear probing); AMC moves them in every
 * full collection, so a location dependency tells the table to rehash
 * (in place, through a malloc'd buffer: the arena is parked throughout and
 * only mps_arena_collect collects, so nothing moves while it runs).
 *
 * An AWL array: word-tagged as AWL clients must (every word a reference or
 * odd):
 *   [0] WT_ARRAY | length << 8
 *   [1] the partner array | 1 (the dependent object)
 *   [2] kind << 1 | 1 (WK_WEAKKEYS, WK_KEYS, WK_VALUES: for the counters)
 *   [3 .. 3 + length) slots: 0 (never used), WT_DELETED, or a reference
 * The scan method fixes every reference slot and counts them by kind; a
 * slot MPS_FIX2 cleared (a weak key whose object died) is deleted in both
 * arrays (the partner is writable while this one is scanned) and counted.
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

#define WT_ARRAY        ((word)0x41)
#define WT_DELETED      ((word)0x7)
#define WT_HEADER_WORDS 3
enum { WK_WEAKKEYS = 1, WK_KEYS = 2, WK_VALUES = 3 };

static word *wt_arr[2]; /* exact root: the keys and values arrays */
static size_t wt_len;   /* slots per array, a power of two */
static size_t wt_used;  /* slots not 0 */
static size_t wt_count; /* live entries */
static mps_ld_s wt_ld;
static mps_arena_t wt_arena;
static long wt_rehashes;
/* Counted by the scan method. */
static unsigned long long wt_refs[4]; /* reference slots scanned, by kind */
static unsigned long long wt_slots;   /* slots of the arrays scanned */
static unsigned long long wt_splats;  /* entries deleted by the scan */

static size_t wt_length(const word *a) { return (size_t)(a[0] >> 8); }
static word *wt_slots_of(word *a) { return a + WT_HEADER_WORDS; }
static int wt_isref(word w) { return w != 0 && (w & 7) == 0; }

static mps_addr_t wt_skip(mps_addr_t addr)
{
  word *a = addr;
  return a + WT_HEADER_WORDS + wt_length(a);
}

static mps_res_t wt_scan(mps_ss_t ss, mps_addr_t base, mps_addr_t limit)
{
  MPS_SCAN_BEGIN(ss)
  {
    word *a;
    for (a = base; (mps_addr_t)a < limit; a = wt_skip(a)) {
      word *slots = wt_slots_of(a), *partner = (word *)(a[1] & ~(word)1);
      size_t i, n = wt_length(a);
      unsigned long long refs = 0, splats = 0;
      for (i = 0; i < n; ++i) {
        mps_addr_t r = (mps_addr_t)slots[i];
        if (!wt_isref(slots[i])) continue;
        ++refs;
        if (!MPS_FIX1(ss, r)) continue;
        {
          mps_res_t res = MPS_FIX2(ss, &r);
          if (res != MPS_RES_OK) return res;
        }
        if (r == NULL) { /* a weak key whose object died */
          slots[i] = WT_DELETED;
          if (partner != NULL) wt_slots_of(partner)[i] = WT_DELETED;
          ++splats;
        } else {
          slots[i] = (word)r;
        }
      }
      wt_refs[(a[2] >> 1) & 3] += refs;
      wt_slots += n;
      wt_splats += splats;
    }
  }
  MPS_SCAN_END(ss);
  return MPS_RES_OK;
}

static mps_addr_t wt_dependent(mps_addr_t addr)
{
  return (mps_addr_t)(((word *)addr)[1] & ~(word)1);
}

static word *wt_array_alloc(mps_ap_t ap, size_t length, int kind)
{
  size_t size = (WT_HEADER_WORDS + length) * sizeof(word);
  mps_addr_t p;
  mps_res_t res;
  do {
    MPS_RESERVE_BLOCK(res, p, ap, size);
    if (res != MPS_RES_OK) die("mps_reserve(awl)", res);
    memset(p, 0, size);
    ((word *)p)[0] = WT_ARRAY | (word)length << 8;
    ((word *)p)[1] = 1; /* no partner yet */
    ((word *)p)[2] = (word)kind << 1 | 1;
  } while (!mps_commit(ap, p, size));
  return p;
}

static size_t wt_hash(const void *key)
{
  return (size_t)((((word)key >> 3) * (word)0x9E3779B97F4A7C15ull) >> 17) & (wt_len - 1);
}

/* The slot of key, or of the first free one on its probe path. */
static size_t wt_find(const void *key, int *found)
{
  word *keys = wt_slots_of(wt_arr[0]);
  size_t i = wt_hash(key), probes, first_deleted = (size_t)-1;
  *found = 0;
  for (probes = 0; probes < wt_len; ++probes, i = (i + 1) & (wt_len - 1)) {
    if (keys[i] == 0) return first_deleted != (size_t)-1 ? first_deleted : i;
    if (keys[i] == WT_DELETED) {
      if (first_deleted == (size_t)-1) first_deleted = i;
      continue;
    }
    if (keys[i] == (word)key) {
      *found = 1;
      return i;
    }
  }
  if (first_deleted == (size_t)-1) die("weak table full", 0);
  return first_deleted;
}

/* Rehash in place (drops the deleted slots).  Only with the arena
 * parked: the entries sit in malloc'd memory meanwhile. */
static void wt_rehash(void)
{
  word *keys = wt_slots_of(wt_arr[0]), *vals = wt_slots_of(wt_arr[1]);
  word *tmp = malloc(2 * wt_count * sizeof(word) + sizeof(word));
  size_t i, n = 0;
  if (!tmp) die("malloc", 0);
  for (i = 0; i < wt_len; ++i) {
    if (wt_isref(keys[i]) && wt_isref(vals[i])) {
      if (n >= wt_count) die("weak table: more entries than counted", 0);
      tmp[2 * n] = keys[i];
      tmp[2 * n + 1] = vals[i];
      ++n;
    }
  }
  memset(keys, 0, wt_len * sizeof(word));
  memset(vals, 0, wt_len * sizeof(word));
  mps_ld_reset(&wt_ld, wt_arena);
  for (i = 0; i < n; ++i) {
    int found;
    size_t j;
    mps_ld_add(&wt_ld, wt_arena, (mps_addr_t)tmp[2 * i]);
    j = wt_find((void *)tmp[2 * i], &found);
    keys[j] = tmp[2 * i];
    vals[j] = tmp[2 * i + 1];
  }
  wt_used = wt_count = n;
  ++wt_rehashes;
  free(tmp);
}

static void wt_put(wkey_s *key, wval_s *val)
{
  int found;
  size_t i = wt_find(key, &found);
  if (!found && mps_ld_isstale(&wt_ld, wt_arena, key)) {
    wt_rehash();
    i = wt_find(key, &found);
  }
  if (!found) {
    if (2 * (wt_used + 1) > wt_len) { /* too many deleted slots */
      wt_rehash();
      if (2 * (wt_used + 1) > wt_len) die("weak table: too full", 0);
      i = wt_find(key, &found);
    }
    if (wt_slots_of(wt_arr[0])[i] == 0) ++wt_used;
    ++wt_count;
    mps_ld_add(&wt_ld, wt_arena, key);
    wt_slots_of(wt_arr[0])[i] = (word)key;
  }
  wt_slots_of(wt_arr[1])[i] = (word)val;
}

static wval_s *wt_get(const wkey_s *key)
{
  int found;
  size_t i = wt_find(key, &found);
  if (!found && mps_ld_isstale(&wt_ld, wt_arena, (mps_addr_t)key)) {
    wt_rehash();
    i = wt_find(key, &found);
  }
  return found && wt_isref(wt_slots_of(wt_arr[1])[i]) ? (wval_s *)wt_slots_of(wt_arr[1])[i] : NULL;
}

/* Delete every entry whose key strong[] does not hold (what the weak
 * table's collection does to dead keys); returns how many. */
static size_t wt_prune(void)
{
  word *keys = wt_slots_of(wt_arr[0]), *vals = wt_slots_of(wt_arr[1]);
  size_t i, n = 0;
  for (i = 0; i < wt_len; ++i) {
    if (wt_isref(keys[i]) && !((wkey_s *)keys[i])->held) {
      keys[i] = vals[i] = WT_DELETED;
      --wt_count;
      ++n;
    }
  }
  return n;
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
  wt_put(k, v);
}

/* The whole table and strong[]: every live entry intact, every held key
 * present.  Returns the number of entries whose key is not held. */
static size_t wt_verify(wkey_s **strong, size_t half)
{
  word *keys = wt_slots_of(wt_arr[0]), *vals = wt_slots_of(wt_arr[1]);
  size_t i, live = 0, unheld = 0;
  for (i = 0; i < wt_len; ++i) {
    const wkey_s *k = (const wkey_s *)keys[i];
    const wval_s *v = (const wval_s *)vals[i];
    if (!wt_isref(keys[i])) {
      if (keys[i] != 0 && keys[i] != WT_DELETED)
        verify_failed("weak table: key slot %llu holds %#llx", (unsigned long long)i,
                      (unsigned long long)keys[i]);
      if (wt_isref(vals[i]))
        verify_failed("weak table: slot %llu has a value but no key (%#llx)", (unsigned long long)i,
                      (unsigned long long)vals[i]);
      continue;
    }
    if (!wt_isref(vals[i]))
      verify_failed("weak table: slot %llu has a key but no value (%#llx)", (unsigned long long)i,
                    (unsigned long long)vals[i]);
    if (k->hdr != WKEY_HDR || v->hdr != WVAL_HDR || k->id != v->id || k->held > 1)
      verify_failed("weak table: entry damaged (key header %#llx, value header %#llx)",
                    (unsigned long long)k->hdr, (unsigned long long)v->hdr);
    ++live;
    unheld += !k->held;
  }
  if (live != wt_count)
    verify_failed("weak table: %llu live entries, %llu counted", (unsigned long long)live,
                  (unsigned long long)wt_count);
  for (i = 0; i < half; ++i) {
    const wval_s *v;
    if (strong[i] == NULL || strong[i]->hdr != WKEY_HDR || strong[i]->held != 1)
      verify_failed("weak table: held key %llu damaged (%#llx)", (unsigned long long)i,
                    strong[i] ? (unsigned long long)strong[i]->hdr : 0ull);
    v = wt_get(strong[i]);
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
  mps_ap_t key_ap, val_ap;
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

  gc_open(&gc, 0, (void **)wt_arr, 2);
  mps_arena_park(gc.arena); /* only mps_arena_collect collects */
  wt_arena = gc.arena;
  obj_ap = gc.ap;
  res = mps_root_create_area(&strong_root, gc.arena, mps_rank_exact(), 0, (void *)strong,
                             (void *)(strong + half), mps_scan_area, NULL);
  if (res != MPS_RES_OK) die("mps_root_create_area(strong)", res);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FMT_ALIGN, (mps_align_t)sizeof(word));
    MPS_ARGS_ADD(args, MPS_KEY_FMT_SCAN, wt_scan);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_SKIP, wt_skip);
    res = mps_fmt_create_k(&wfmt, gc.arena, args);
  }
  MPS_ARGS_END(args);
  if (res != MPS_RES_OK) die("mps_fmt_create_k(awl)", res);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, wfmt);
    MPS_ARGS_ADD(args, MPS_KEY_AWL_FIND_DEPENDENT, wt_dependent);
    res = mps_pool_create_k(&wpool, gc.arena, mps_class_awl(), args);
  }
  MPS_ARGS_END(args);
  if (res != MPS_RES_OK) die("mps_pool_create_k(awl)", res);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_RANK, weak ? mps_rank_weak() : mps_rank_exact());
    res = mps_ap_create_k(&key_ap, wpool, args);
  }
  MPS_ARGS_END(args);
  if (res != MPS_RES_OK) die("mps_ap_create_k(awl keys)", res);
  res = mps_ap_create_k(&val_ap, wpool, mps_args_none);
  if (res != MPS_RES_OK) die("mps_ap_create_k(awl values)", res);

  for (wt_len = 8; wt_len < 2 * n; wt_len *= 2)
    ;
  wt_arr[0] = wt_array_alloc(key_ap, wt_len, weak ? WK_WEAKKEYS : WK_KEYS);
  wt_arr[1] = wt_array_alloc(val_ap, wt_len, WK_VALUES);
  wt_arr[0][1] = (word)wt_arr[1] | 1;
  wt_arr[1][1] = (word)wt_arr[0] | 1;
  mps_ld_reset(&wt_ld, gc.arena);

  /* Build: N entries, the even ones held. */
  rng_state = 7;
  t0 = now_ns();
  for (i = 0; i < n; ++i) wt_new_entry(i % 2 == 0 ? &strong[i / 2] : NULL);
  build_s = (now_ns() - t0) / 1e9;

  /* cycle -1 is the first collection (of the freshly built heap, timed
   * separately); then `cycles` timed ones, each after a churn. */
  for (c = -1; c < cycles; ++c) {
    size_t before, after;
    unsigned long long r0 = wt_refs[WK_WEAKKEYS] + wt_refs[WK_KEYS], v0 = wt_refs[WK_VALUES];
    unsigned long long s0 = wt_slots, sp0 = wt_splats;
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
      if (mps_ld_isstale_any(&wt_ld, gc.arena)) wt_rehash();
      rehash_s += (now_ns() - t0) / 1e9;
      unheld = wt_verify(strong, half);
      if (weak ? unheld > 1000 : unheld != 0)
        verify_failed("weak table: %llu entries with keys not held after the collection "
                      "(of %llu)",
                      (unsigned long long)unheld, (unsigned long long)wt_count);
      /* churn */
      t0 = now_ns();
      for (i = 0; i < drop; ++i) {
        size_t j = (size_t)(rnd() % half);
        strong[j]->held = 0;
        wt_new_entry(&strong[j]);
      }
      while (wt_count < n) wt_new_entry(NULL);
      churn_s += (now_ns() - t0) / 1e9;
    }
    if (pruned) { /* pruned: delete them before the collection */
      t0 = now_ns();
      (void)wt_prune();
      prune_s += (now_ns() - t0) / 1e9;
    }
    before = wt_count;
    drain_messages();
    mps_arena_park(gc.arena);
    t0 = now_ns();
    c0 = cpu_ns();
    res = mps_arena_collect(gc.arena);
    dt = (now_ns() - t0) / 1e6;
    dc = (cpu_ns() - c0) / 1e6;
    if (res != MPS_RES_OK) die("mps_arena_collect", res);
    wt_count -= (size_t)(wt_splats - sp0);
    after = wt_count;
    drain_messages();
    if (c < 0) {
      first_ms = dt;
      splats_first = wt_splats - sp0;
    } else {
      ms[c] = dt;
      cms[c] = dc;
      refs_keys += wt_refs[WK_WEAKKEYS] + wt_refs[WK_KEYS] - r0;
      refs_vals += wt_refs[WK_VALUES] - v0;
      slots += wt_slots - s0;
      splats += wt_splats - sp0;
      live_mb += gc_last_live / 1048576.0 / cycles;
    }
    /* What the collection must have left: weak: the held keys (and a few
     * that ambiguous references from the stack may keep); strong: all. */
    if (weak) {
      if (after < half || after > half + 1000)
        verify_failed("weak table: %llu entries after the collection, %llu held keys",
                      (unsigned long long)after, (unsigned long long)half);
      if (after - half > extra_max) extra_max = after - half;
    } else if (after != before || wt_splats != sp0) {
      verify_failed("weak table (exact keys): %llu entries deleted by the collection of %llu",
                    (unsigned long long)(before - after), (unsigned long long)before);
    }
  }
  if (mps_ld_isstale_any(&wt_ld, gc.arena)) wt_rehash();
  (void)wt_verify(strong, half);
  condemned_mb = gc_condemned / 1048576.0;

  printf("bench=weak impl=%s entries=%lu held=%lu churn_pct=%d dropped_per_cycle=%lu "
         "cycles=%d table_slots=%lu build_s=%.4f first_ms=%.3f first_splats=%llu",
         mode, (unsigned long)n, (unsigned long)half, churn_pct, (unsigned long)drop, cycles,
         (unsigned long)wt_len, build_s, first_ms, splats_first);
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
           rehash_s, prune_s, wt_rehashes, gc_messages, mps_arena_committed(gc.arena) / 1048576.0);
  }

  mps_arena_park(gc.arena);
  mps_ap_destroy(key_ap);
  mps_ap_destroy(val_ap);
  wt_arr[0] = wt_arr[1] = NULL;
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
