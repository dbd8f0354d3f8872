/* weaktable.c -- the weak table of weaktable.h.
 *
 * Arrays (AWL objects, word-tagged so that every word is a reference or
 * has a low bit set, as AWL clients must), after `header` bytes of odd
 * words (the format's in-band header):
 *   [0] WT_ARRAY | header words << 1 | length << 8
 *   [1] the partner array | 1 (the dependent object)
 *   [2] the table descriptor | role << 1 | 1 (role: WT_KEYS, WT_VALUES)
 *   [3 .. 3 + length) slots: NULL (never used), WT_DELETED, or an entry's
 *       word: a reference, or (exact side only) an integer (odd)
 * Entry i is keys[i] -> values[i].  The scan method fixes each reference
 * slot; a slot that MPS_FIX2 cleared held a weak reference to a dead
 * object: the entry is deleted in both arrays (the partner is the dependent
 * object, writable while this one is scanned), counted and passed to the
 * splat callback.  Its counts (references and slots scanned, splats) go to
 * the descriptor once per array, atomically.
 *
 * The descriptor lives in malloc'd memory; an exact root over its array
 * pointers keeps the arrays alive (during a resize the new ones too), and
 * the key and value of a put that may allocate (tagged: integers skipped).
 * Lookups probe linearly from a hash of the key's address; a miss when
 * the location dependency says objects may have moved rehashes in place
 * (through a malloc'd buffer that is an exact root meanwhile), which also
 * drops the deleted slots; so does a put that finds too many deleted
 * slots, unless the table is full enough to grow into new arrays.  Call
 * with the arena parked, or from a registered thread with a stack root.
 * Design: docs/design/ms.md (weak tables).
 */
#include <stdlib.h>
#include <string.h>

#include "weaktable.h"
#include "mpscawl.h"

typedef mps_word_t WtWord;

#define WT_ARRAY        ((WtWord)0x41) /* 'A': odd, as every non-reference word */
#define WT_DELETED      GCP_WTABLE_DELETED
#define WT_HEADER_WORDS 3
#define WT_KEYS         GCP_WTABLE_KEYS
#define WT_VALUES       GCP_WTABLE_VALUES

struct gcp_wtable_s {
  mps_arena_t arena;
  mps_ap_t weakAP, exactAP;
  mps_root_t root;
  WtWord *arrays[6]; /* keys, values; during a resize the new pair; a put's key, value */
  mps_ld_s ld;
  gcp_wtable_splat_t splat;
  void *splatClosure;
  size_t header; /* words of in-band header */
  size_t length; /* slots per array (a power of two) */
  size_t used;   /* slots not NULL (live entries and deleted ones) */
  /* also changed by the scan method: atomically */
  size_t count, splatted;
  unsigned long long refs[2], slotsScanned;
  size_t removed, rehashes, cleanups, grown;
  int weakKeys, weakValues;
};

static size_t wtLength(WtWord *a) { return (size_t)(a[0] >> 8); }
static WtWord *wtSlots(WtWord *a) { return a + WT_HEADER_WORDS; }
static int wtIsRef(WtWord w) { return w != 0 && (w & 7) == 0; }
static int wtIsWord(WtWord w) { return wtIsRef(w) || ((w & 1) != 0 && w != WT_DELETED); }
static int wtLive(WtWord k, WtWord v) { return wtIsWord(k) && wtIsWord(v); }

static mps_addr_t wtSkip(mps_addr_t addr)
{
  WtWord *a = addr; /* the next array's client pointer, after its header */
  return a + WT_HEADER_WORDS + wtLength(a) + ((a[0] >> 1) & 7);
}

static mps_res_t wtScan(mps_ss_t ss, mps_addr_t base, mps_addr_t limit)
{
  MPS_SCAN_BEGIN(ss)
  {
    WtWord *a;
    for (a = base; (mps_addr_t)a < limit; a = wtSkip(a)) {
      WtWord *slots = wtSlots(a), *partner = (WtWord *)(a[1] & ~(WtWord)1);
      struct gcp_wtable_s *table = (struct gcp_wtable_s *)(a[2] & ~(WtWord)7);
      size_t i, n = wtLength(a), splats = 0;
      unsigned long long refs = 0;
      for (i = 0; i < n; ++i) {
        mps_addr_t r = (mps_addr_t)slots[i];
        if (!wtIsRef(slots[i])) continue;
        ++refs;
        if (!MPS_FIX1(ss, r)) continue;
        {
          mps_res_t res = MPS_FIX2(ss, &r);
          if (res != MPS_RES_OK) return res;
        }
        if (r == NULL) { /* a weak reference to a dead object */
          slots[i] = WT_DELETED;
          if (partner != NULL) wtSlots(partner)[i] = WT_DELETED;
          ++splats;
          if (table != NULL && table->splat != NULL)
            table->splat(table, table->splatClosure, a, (int)((a[2] >> 1) & 1), i);
        } else {
          slots[i] = (WtWord)r;
        }
      }
      if (table != NULL) {
        __atomic_add_fetch(&table->refs[(a[2] >> 1) & 1], refs, __ATOMIC_RELAXED);
        __atomic_add_fetch(&table->slotsScanned, (unsigned long long)n, __ATOMIC_RELAXED);
        if (splats != 0) {
          __atomic_add_fetch(&table->splatted, splats, __ATOMIC_RELAXED);
          __atomic_sub_fetch(&table->count, splats, __ATOMIC_RELAXED);
        }
      }
    }
  }
  MPS_SCAN_END(ss);
  return MPS_RES_OK;
}

static mps_addr_t wtDependent(mps_addr_t addr)
{
  return (mps_addr_t)(((WtWord *)addr)[1] & ~(WtWord)1);
}

mps_res_t gcp_wtable_format_create(mps_fmt_t *fmt_o, mps_arena_t arena, size_t header)
{
  mps_res_t res;
  if (header % sizeof(WtWord) != 0 || header >= 8 * sizeof(WtWord)) return MPS_RES_PARAM;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FMT_ALIGN, sizeof(WtWord));
    MPS_ARGS_ADD(args, MPS_KEY_FMT_HEADER_SIZE, header);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_SCAN, wtScan);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_SKIP, wtSkip);
    res = mps_fmt_create_k(fmt_o, arena, args);
  }
  MPS_ARGS_END(args);
  return res;
}

mps_res_t gcp_wtable_pool_create(mps_pool_t *pool_o, mps_arena_t arena, mps_fmt_t fmt,
                                 mps_chain_t chain, unsigned gen)
{
  mps_res_t res;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_AWL_FIND_DEPENDENT, wtDependent);
    if (chain != NULL) MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    if (chain != NULL) MPS_ARGS_ADD(args, MPS_KEY_GEN, gen);
    res = mps_pool_create_k(pool_o, arena, mps_class_awl(), args);
  }
  MPS_ARGS_END(args);
  return res;
}

static mps_res_t wtArrayAlloc(WtWord **array_o, mps_ap_t ap, gcp_wtable_t table, size_t length,
                              int role)
{
  size_t h = table->header, size = (h + WT_HEADER_WORDS + length) * sizeof(WtWord), k;
  mps_addr_t p;
  WtWord *a;
  do {
    mps_res_t res = mps_reserve(&p, ap, size);
    if (res != MPS_RES_OK) return res;
    memset(p, 0, size);
    a = (WtWord *)p + h;
    for (k = 1; k <= h; ++k) a[-(long)k] = WT_ARRAY;
    a[0] = WT_ARRAY | (WtWord)h << 1 | (WtWord)length << 8;
    a[1] = 1; /* no partner yet */
    a[2] = (WtWord)table | (WtWord)role << 1 | 1;
  } while (!mps_commit(ap, p, size));
  *array_o = a;
  return MPS_RES_OK;
}

/* A new pair of arrays in arrays[2], arrays[3] (rooted), partnered. */
static mps_res_t wtPairAlloc(gcp_wtable_t table, size_t length)
{
  mps_ap_t keyAP = table->weakKeys ? table->weakAP : table->exactAP;
  mps_ap_t valueAP = table->weakValues ? table->weakAP : table->exactAP;
  mps_res_t res = wtArrayAlloc(&table->arrays[2], keyAP, table, length, WT_KEYS);
  if (res != MPS_RES_OK) return res;
  res = wtArrayAlloc(&table->arrays[3], valueAP, table, length, WT_VALUES);
  if (res != MPS_RES_OK) {
    table->arrays[2] = NULL;
    return res;
  }
  table->arrays[2][1] = (WtWord)table->arrays[3] | 1;
  table->arrays[3][1] = (WtWord)table->arrays[2] | 1;
  return MPS_RES_OK;
}

static size_t wtHash(mps_addr_t key, size_t length)
{
  return (size_t)((((WtWord)key >> 3) * (WtWord)0x9E3779B97F4A7C15ull) >> 17) & (length - 1);
}

/* The slot of key, or of the first free one on its probe path (-1: full). */
static long wtFind(gcp_wtable_t table, mps_addr_t key, int *found)
{
  WtWord *keys = wtSlots(table->arrays[WT_KEYS]);
  size_t i = wtHash(key, table->length), probes;
  long firstDeleted = -1;
  *found = 0;
  for (probes = 0; probes < table->length; ++probes, i = (i + 1) & (table->length - 1)) {
    if (keys[i] == 0) return firstDeleted >= 0 ? firstDeleted : (long)i;
    if (keys[i] == WT_DELETED) {
      if (firstDeleted < 0) firstDeleted = (long)i;
      continue;
    }
    if (keys[i] == (WtWord)key) {
      *found = 1;
      return (long)i;
    }
  }
  return firstDeleted;
}

/* Put the entries of srcKeys[i * step] -> srcValues[i * step], i < n
 * (those that are references), into the current arrays, which are empty,
 * and the location dependency. */
static void wtReinsert(gcp_wtable_t table, const WtWord *srcKeys, const WtWord *srcValues, size_t n,
                       size_t step)
{
  WtWord *keys = wtSlots(table->arrays[WT_KEYS]), *values = wtSlots(table->arrays[WT_VALUES]);
  size_t i, count = 0;
  mps_ld_reset(&table->ld, table->arena);
  for (i = 0; i < n * step; i += step) {
    int found;
    long j;
    if (!wtLive(srcKeys[i], srcValues[i])) continue;
    if (wtIsRef(srcKeys[i])) mps_ld_add(&table->ld, table->arena, (mps_addr_t)srcKeys[i]);
    j = wtFind(table, (mps_addr_t)srcKeys[i], &found);
    keys[j] = srcKeys[i];
    values[j] = srcValues[i];
    ++count;
  }
  table->used = count;
  __atomic_store_n(&table->count, count, __ATOMIC_RELAXED);
}

/* Rehash in the same arrays (drops the deleted slots).  The entries wait
 * in a malloc'd buffer, an exact root meanwhile. */
static mps_res_t wtRehashInPlace(gcp_wtable_t table)
{
  WtWord *keys = wtSlots(table->arrays[WT_KEYS]), *values = wtSlots(table->arrays[WT_VALUES]);
  size_t cap = __atomic_load_n(&table->count, __ATOMIC_RELAXED) + 1, i, n = 0;
  WtWord *kv = calloc(2 * cap, sizeof(WtWord));
  mps_root_t root;
  mps_res_t res;
  if (kv == NULL) return MPS_RES_MEMORY;
  res = mps_root_create_area_tagged(&root, table->arena, mps_rank_exact(), 0, kv, kv + 2 * cap,
                                    mps_scan_area_tagged, 7, 0);
  if (res != MPS_RES_OK) {
    free(kv);
    return res;
  }
  /* the scan only lowers the count: the buffer is big enough */
  for (i = 0; i < table->length && n < cap; ++i) {
    if (!wtLive(keys[i], values[i])) continue;
    kv[2 * n] = keys[i];
    kv[2 * n + 1] = values[i];
    ++n;
  }
  memset(keys, 0, table->length * sizeof(WtWord));
  memset(values, 0, table->length * sizeof(WtWord));
  wtReinsert(table, kv, kv + 1, n, 2);
  mps_root_destroy(root);
  free(kv);
  return MPS_RES_OK;
}

/* Move every live entry into a new pair of arrays of `length` slots. */
static mps_res_t wtGrow(gcp_wtable_t table, size_t length)
{
  mps_res_t res = wtPairAlloc(table, length);
  WtWord *oldKeys, *oldValues;
  size_t oldLength = table->length;
  if (res != MPS_RES_OK) return res;
  oldKeys = wtSlots(table->arrays[WT_KEYS]);
  oldValues = wtSlots(table->arrays[WT_VALUES]);
  table->arrays[WT_KEYS] = table->arrays[2];
  table->arrays[WT_VALUES] = table->arrays[3];
  table->length = length;
  wtReinsert(table, oldKeys, oldValues, oldLength, 1);
  /* The old pair is garbage: it must neither keep values alive nor count
   * deletions if a collection that does not condemn it scans it. */
  memset(oldKeys, 0, oldLength * sizeof(WtWord));
  memset(oldValues, 0, oldLength * sizeof(WtWord));
  oldKeys[-1] = oldValues[-1] = 1;
  table->arrays[2] = table->arrays[3] = NULL;
  ++table->grown;
  return MPS_RES_OK;
}

mps_res_t gcp_wtable_create(gcp_wtable_t *table_o, mps_arena_t arena, mps_pool_t pool,
                            size_t header, int weak_keys, size_t capacity)
{
  gcp_wtable_t table;
  mps_res_t res;
  size_t length = 8;
  if (capacity > ((size_t)1 << 40) || header % sizeof(WtWord) != 0 || header >= 8 * sizeof(WtWord))
    return MPS_RES_PARAM;
  table = calloc(1, sizeof *table);
  if (table == NULL) return MPS_RES_MEMORY;
  while (length < 2 * capacity) length *= 2;
  table->arena = arena;
  table->header = header / sizeof(WtWord);
  table->weakKeys = weak_keys != GCP_WTABLE_WEAK_VALUES && weak_keys != GCP_WTABLE_STRONG;
  table->weakValues = weak_keys == GCP_WTABLE_WEAK_VALUES;
  mps_ld_reset(&table->ld, table->arena);
  res = mps_root_create_area_tagged(&table->root, table->arena, mps_rank_exact(), 0, table->arrays,
                                    table->arrays + 6, mps_scan_area_tagged, 7, 0);
  if (res != MPS_RES_OK) goto failRoot;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_RANK, mps_rank_weak());
    res = mps_ap_create_k(&table->weakAP, pool, args);
  }
  MPS_ARGS_END(args);
  if (res != MPS_RES_OK) goto failWeak;
  res = mps_ap_create_k(&table->exactAP, pool, mps_args_none);
  if (res != MPS_RES_OK) goto failExact;
  res = wtPairAlloc(table, length);
  if (res != MPS_RES_OK) goto failArrays;
  table->arrays[WT_KEYS] = table->arrays[2];
  table->arrays[WT_VALUES] = table->arrays[3];
  table->arrays[2] = table->arrays[3] = NULL;
  table->length = length;
  *table_o = table;
  return MPS_RES_OK;
failArrays:
  mps_ap_destroy(table->exactAP);
failExact:
  mps_ap_destroy(table->weakAP);
failWeak:
  mps_root_destroy(table->root);
failRoot:
  free(table);
  return res;
}

void gcp_wtable_destroy(gcp_wtable_t table)
{
  /* the arrays become garbage; they no longer count deletions */
  size_t k;
  for (k = 0; k < 2; ++k) {
    memset(wtSlots(table->arrays[k]), 0, table->length * sizeof(WtWord));
    table->arrays[k][2] = 1;
  }
  mps_ap_destroy(table->exactAP);
  mps_ap_destroy(table->weakAP);
  mps_root_destroy(table->root);
  free(table);
}

/* A rehash because the location dependency is stale. */
static mps_res_t wtRehashStale(gcp_wtable_t table)
{
  mps_res_t res = wtRehashInPlace(table);
  if (res == MPS_RES_OK) ++table->rehashes;
  return res;
}

void gcp_wtable_on_splat(gcp_wtable_t table, gcp_wtable_splat_t splat, void *closure)
{
  table->splat = splat;
  table->splatClosure = closure;
}

mps_res_t gcp_wtable_put(gcp_wtable_t table, mps_addr_t key, mps_addr_t value)
{
  int found;
  long i;
  WtWord k = (WtWord)key, v = (WtWord)value;
  if (!(table->weakKeys ? wtIsRef(k) : wtIsWord(k)) ||
      !(table->weakValues ? wtIsRef(v) : wtIsWord(v)))
    return MPS_RES_PARAM;
  if (2 * (table->used + 1) > table->length) { /* grow, or drop the deleted slots */
    mps_res_t res;
    if (__atomic_load_n(&table->count, __ATOMIC_RELAXED) + 1 > table->length / 4) {
      /* a collection may move key and value meanwhile */
      table->arrays[4] = (WtWord *)k, table->arrays[5] = (WtWord *)v;
      res = wtGrow(table, table->length * 2);
      key = (mps_addr_t)table->arrays[4], value = (mps_addr_t)table->arrays[5];
      table->arrays[4] = table->arrays[5] = NULL;
    } else {
      res = wtRehashInPlace(table);
      if (res == MPS_RES_OK) ++table->cleanups;
    }
    if (res != MPS_RES_OK) return res;
  }
  i = wtFind(table, key, &found);
  if (!found && wtIsRef((WtWord)key) && mps_ld_isstale(&table->ld, table->arena, key)) {
    mps_res_t res = wtRehashStale(table);
    if (res != MPS_RES_OK) return res;
    i = wtFind(table, key, &found);
  }
  if (!found) {
    if (wtSlots(table->arrays[WT_KEYS])[i] == 0) ++table->used;
    __atomic_add_fetch(&table->count, 1, __ATOMIC_RELAXED);
    wtSlots(table->arrays[WT_KEYS])[i] = (WtWord)key;
    if (wtIsRef((WtWord)key)) mps_ld_add(&table->ld, table->arena, key);
  }
  wtSlots(table->arrays[WT_VALUES])[i] = (WtWord)value;
  return MPS_RES_OK;
}

/* The slot of key (rehashing once if the dependency is stale), or -1. */
static long wtLookup(gcp_wtable_t table, mps_addr_t key)
{
  int found;
  long i = wtFind(table, key, &found);
  if (found) return i;
  if (!wtIsRef((WtWord)key) || !mps_ld_isstale(&table->ld, table->arena, key)) return -1;
  if (wtRehashStale(table) != MPS_RES_OK) return -1;
  i = wtFind(table, key, &found);
  return found ? i : -1;
}

mps_addr_t gcp_wtable_get(gcp_wtable_t table, mps_addr_t key)
{
  long i = wtLookup(table, key);
  WtWord v;
  if (i < 0) return NULL;
  v = wtSlots(table->arrays[WT_VALUES])[i];
  return wtIsWord(v) ? (mps_addr_t)v : NULL;
}

long gcp_wtable_find(gcp_wtable_t table, mps_addr_t key) { return wtLookup(table, key); }

/* Delete the entry of slot i if its key is still `key`: a collection may
 * delete it meanwhile (its weak side died), and only one of the two
 * counts it. */
static int wtDelete(gcp_wtable_t table, size_t i, WtWord key)
{
  if (!__atomic_compare_exchange_n(&wtSlots(table->arrays[WT_KEYS])[i], &key, WT_DELETED, 0,
                                   __ATOMIC_RELAXED, __ATOMIC_RELAXED))
    return 0;
  wtSlots(table->arrays[WT_VALUES])[i] = WT_DELETED;
  __atomic_sub_fetch(&table->count, 1, __ATOMIC_RELAXED);
  ++table->removed;
  return 1;
}

int gcp_wtable_remove(gcp_wtable_t table, mps_addr_t key)
{
  long i = wtLookup(table, key);
  if (i < 0) return 0;
  return wtDelete(table, (size_t)i, (WtWord)key);
}

size_t gcp_wtable_prune(gcp_wtable_t table,
                        int (*keep)(mps_addr_t key, mps_addr_t value, void *closure), void *closure)
{
  WtWord *k = wtSlots(table->arrays[WT_KEYS]), *v = wtSlots(table->arrays[WT_VALUES]);
  size_t i, n = 0;
  for (i = 0; i < table->length; ++i) {
    WtWord key = k[i];
    if (!wtLive(key, v[i])) continue;
    if (!keep((mps_addr_t)key, (mps_addr_t)v[i], closure)) n += (size_t)wtDelete(table, i, key);
  }
  return n;
}

int gcp_wtable_refresh(gcp_wtable_t table)
{
  if (!mps_ld_isstale_any(&table->ld, table->arena)) return 0;
  return wtRehashStale(table) == MPS_RES_OK;
}

size_t gcp_wtable_count(gcp_wtable_t table)
{
  return __atomic_load_n(&table->count, __ATOMIC_RELAXED);
}
size_t gcp_wtable_splatted(gcp_wtable_t table)
{
  return __atomic_load_n(&table->splatted, __ATOMIC_RELAXED);
}
size_t gcp_wtable_rehashes(gcp_wtable_t table) { return table->rehashes; }

void gcp_wtable_stats(gcp_wtable_t table, gcp_wtable_stats_s *stats_o)
{
  stats_o->count = __atomic_load_n(&table->count, __ATOMIC_RELAXED);
  stats_o->splatted = __atomic_load_n(&table->splatted, __ATOMIC_RELAXED);
  stats_o->removed = table->removed;
  stats_o->rehashes = table->rehashes;
  stats_o->cleanups = table->cleanups;
  stats_o->grown = table->grown;
  stats_o->key_refs = __atomic_load_n(&table->refs[WT_KEYS], __ATOMIC_RELAXED);
  stats_o->value_refs = __atomic_load_n(&table->refs[WT_VALUES], __ATOMIC_RELAXED);
  stats_o->slots_scanned = __atomic_load_n(&table->slotsScanned, __ATOMIC_RELAXED);
}

size_t gcp_wtable_entries(gcp_wtable_t table, mps_addr_t *keys, mps_addr_t *values, size_t max)
{
  WtWord *k = wtSlots(table->arrays[WT_KEYS]), *v = wtSlots(table->arrays[WT_VALUES]);
  size_t i, n = 0;
  for (i = 0; i < table->length; ++i) {
    if (!wtLive(k[i], v[i])) continue;
    if (n < max) keys[n] = (mps_addr_t)k[i], values[n] = (mps_addr_t)v[i];
    ++n;
  }
  return n;
}

size_t gcp_wtable_length(gcp_wtable_t table) { return table->length; }

void gcp_wtable_slot(gcp_wtable_t table, size_t i, mps_word_t *key_o, mps_word_t *value_o)
{
  *key_o = wtSlots(table->arrays[WT_KEYS])[i];
  *value_o = wtSlots(table->arrays[WT_VALUES])[i];
}

void gcp_wtable_arrays(gcp_wtable_t table, mps_addr_t *keys_o, mps_addr_t *values_o)
{
  *keys_o = table->arrays[WT_KEYS];
  *values_o = table->arrays[WT_VALUES];
}
