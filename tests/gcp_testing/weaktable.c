/* weaktable.c -- the weak table of weaktable.h.
 *
 * Arrays (AWL objects, word-tagged so that every word is a reference or
 * has a low bit set, as AWL clients must):
 *   [0] WT_ARRAY | length << 8
 *   [1] the partner array | 1 (the dependent object)
 *   [2] the table descriptor | 1
 *   [3 .. 3 + length) slots: NULL (never used), WT_DELETED, or a reference
 * Entry i is keys[i] -> values[i].  The scan method fixes each reference
 * slot; a slot that MPS_FIX2 cleared held a weak reference to a dead
 * object: the entry is deleted in both arrays (the partner is the dependent
 * object, writable while this one is scanned) and counted.
 *
 * The descriptor lives in malloc'd memory; an exact root over its array
 * pointers keeps the arrays alive (during a resize the new ones too).
 * Lookups probe linearly from a hash of the key's address; a miss when
 * the location dependency says objects may have moved rehashes (into new
 * arrays, which also drops the deleted slots).  Call with the arena
 * parked, or from a registered thread with a stack root.
 * Design: docs/design/ms.md (weak tables).
 */
#include <stdlib.h>
#include <string.h>

#include "weaktable.h"
#include "mpscawl.h"

typedef mps_word_t WtWord;

#define WT_ARRAY        ((WtWord)0x41) /* 'A': odd, as every non-reference word */
#define WT_DELETED      ((WtWord)0x7)
#define WT_HEADER_WORDS 3
#define WT_KEYS         0
#define WT_VALUES       1

struct gcp_wtable_s {
  mps_arena_t arena;
  mps_ap_t weakAP, exactAP;
  mps_root_t root;
  WtWord *arrays[4]; /* keys, values; during a resize the new pair */
  mps_ld_s ld;
  size_t length;          /* slots per array (a power of two) */
  size_t used;            /* slots not NULL (live entries and deleted ones) */
  size_t count, splatted; /* also changed by the scan method: atomically */
  size_t rehashes;
  int weakKeys;
};

static size_t wtLength(WtWord *a) { return (size_t)(a[0] >> 8); }
static WtWord *wtSlots(WtWord *a) { return a + WT_HEADER_WORDS; }
static int wtIsRef(WtWord w) { return w != 0 && (w & 7) == 0; }

static mps_addr_t wtSkip(mps_addr_t addr)
{
  WtWord *a = addr;
  return a + WT_HEADER_WORDS + wtLength(a);
}

static mps_res_t wtScan(mps_ss_t ss, mps_addr_t base, mps_addr_t limit)
{
  MPS_SCAN_BEGIN(ss)
  {
    WtWord *a;
    for (a = base; (mps_addr_t)a < limit; a = wtSkip(a)) {
      WtWord *slots = wtSlots(a), *partner = (WtWord *)(a[1] & ~(WtWord)1);
      struct gcp_wtable_s *table = (struct gcp_wtable_s *)(a[2] & ~(WtWord)1);
      size_t i, n = wtLength(a);
      for (i = 0; i < n; ++i) {
        mps_addr_t r = (mps_addr_t)slots[i];
        if (!wtIsRef(slots[i]) || !MPS_FIX1(ss, r)) continue;
        {
          mps_res_t res = MPS_FIX2(ss, &r);
          if (res != MPS_RES_OK) return res;
        }
        if (r == NULL) { /* a weak reference to a dead object */
          slots[i] = WT_DELETED;
          if (partner != NULL) wtSlots(partner)[i] = WT_DELETED;
          if (table != NULL) {
            __atomic_add_fetch(&table->splatted, 1, __ATOMIC_RELAXED);
            __atomic_sub_fetch(&table->count, 1, __ATOMIC_RELAXED);
          }
        } else {
          slots[i] = (WtWord)r;
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

mps_res_t gcp_wtable_format_create(mps_fmt_t *fmt_o, mps_arena_t arena)
{
  mps_res_t res;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FMT_ALIGN, sizeof(WtWord));
    MPS_ARGS_ADD(args, MPS_KEY_FMT_SCAN, wtScan);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_SKIP, wtSkip);
    res = mps_fmt_create_k(fmt_o, arena, args);
  }
  MPS_ARGS_END(args);
  return res;
}

mps_res_t gcp_wtable_pool_create(mps_pool_t *pool_o, mps_arena_t arena, mps_fmt_t fmt,
                                 mps_chain_t chain)
{
  mps_res_t res;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_AWL_FIND_DEPENDENT, wtDependent);
    if (chain != NULL) MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    res = mps_pool_create_k(pool_o, arena, mps_class_awl(), args);
  }
  MPS_ARGS_END(args);
  return res;
}

static mps_res_t wtArrayAlloc(WtWord **array_o, mps_ap_t ap, gcp_wtable_t table, size_t length)
{
  size_t size = (WT_HEADER_WORDS + length) * sizeof(WtWord);
  mps_addr_t p;
  do {
    mps_res_t res = mps_reserve(&p, ap, size);
    if (res != MPS_RES_OK) return res;
    memset(p, 0, size);
    ((WtWord *)p)[0] = WT_ARRAY | (WtWord)length << 8;
    ((WtWord *)p)[1] = 1; /* no partner yet */
    ((WtWord *)p)[2] = (WtWord)table | 1;
  } while (!mps_commit(ap, p, size));
  *array_o = p;
  return MPS_RES_OK;
}

/* A new pair of arrays in arrays[2], arrays[3] (rooted), partnered. */
static mps_res_t wtPairAlloc(gcp_wtable_t table, size_t length)
{
  mps_ap_t keyAP = table->weakKeys ? table->weakAP : table->exactAP;
  mps_ap_t valueAP = table->weakKeys ? table->exactAP : table->weakAP;
  mps_res_t res = wtArrayAlloc(&table->arrays[2], keyAP, table, length);
  if (res != MPS_RES_OK) return res;
  res = wtArrayAlloc(&table->arrays[3], valueAP, table, length);
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

/* Move every live entry into a new pair of arrays of `length` slots. */
static mps_res_t wtRehash(gcp_wtable_t table, size_t length)
{
  mps_res_t res = wtPairAlloc(table, length);
  WtWord *oldKeys, *oldValues;
  size_t i, oldLength = table->length;
  if (res != MPS_RES_OK) return res;
  oldKeys = wtSlots(table->arrays[WT_KEYS]);
  oldValues = wtSlots(table->arrays[WT_VALUES]);
  table->arrays[WT_KEYS] = table->arrays[2];
  table->arrays[WT_VALUES] = table->arrays[3];
  table->length = length;
  table->used = 0;
  __atomic_store_n(&table->count, 0, __ATOMIC_RELAXED);
  mps_ld_reset(&table->ld, table->arena);
  for (i = 0; i < oldLength; ++i) {
    int found;
    long j;
    if (!wtIsRef(oldKeys[i]) || !wtIsRef(oldValues[i])) continue;
    j = wtFind(table, (mps_addr_t)oldKeys[i], &found);
    wtSlots(table->arrays[WT_KEYS])[j] = oldKeys[i];
    wtSlots(table->arrays[WT_VALUES])[j] = oldValues[i];
    mps_ld_add(&table->ld, table->arena, (mps_addr_t)oldKeys[i]);
    ++table->used;
    __atomic_add_fetch(&table->count, 1, __ATOMIC_RELAXED);
  }
  /* The old pair is garbage: it must neither keep values alive nor count
   * deletions if a collection that does not condemn it scans it. */
  memset(oldKeys, 0, oldLength * sizeof(WtWord));
  memset(oldValues, 0, oldLength * sizeof(WtWord));
  oldKeys[-1] = oldValues[-1] = 1;
  table->arrays[2] = table->arrays[3] = NULL;
  return MPS_RES_OK;
}

mps_res_t gcp_wtable_create(gcp_wtable_t *table_o, mps_arena_t arena, mps_pool_t pool,
                            int weak_keys, size_t capacity)
{
  gcp_wtable_t table = calloc(1, sizeof *table);
  mps_res_t res;
  size_t length = 8;
  if (capacity > ((size_t)1 << 40)) return MPS_RES_PARAM;
  if (table == NULL) return MPS_RES_MEMORY;
  while (length < 2 * capacity) length *= 2;
  table->arena = arena;
  table->weakKeys = weak_keys != 0;
  mps_ld_reset(&table->ld, table->arena);
  res = mps_root_create_area(&table->root, table->arena, mps_rank_exact(), 0, table->arrays,
                             table->arrays + 4, mps_scan_area, NULL);
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

mps_res_t gcp_wtable_put(gcp_wtable_t table, mps_addr_t key, mps_addr_t value)
{
  int found;
  long i;
  if (key == NULL || value == NULL || !wtIsRef((WtWord)key) || !wtIsRef((WtWord)value))
    return MPS_RES_PARAM;
  if (2 * (table->used + 1) > table->length) {
    mps_res_t res =
        wtRehash(table, table->count + 1 > table->length / 4 ? table->length * 2 : table->length);
    if (res != MPS_RES_OK) return res;
  }
  i = wtFind(table, key, &found);
  if (!found && mps_ld_isstale(&table->ld, table->arena, key)) {
    mps_res_t res = wtRehash(table, table->length);
    if (res != MPS_RES_OK) return res;
    ++table->rehashes;
    i = wtFind(table, key, &found);
  }
  if (!found) {
    if (wtSlots(table->arrays[WT_KEYS])[i] == 0) ++table->used;
    __atomic_add_fetch(&table->count, 1, __ATOMIC_RELAXED);
    wtSlots(table->arrays[WT_KEYS])[i] = (WtWord)key;
    mps_ld_add(&table->ld, table->arena, key);
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
  if (!mps_ld_isstale(&table->ld, table->arena, key)) return -1;
  if (wtRehash(table, table->length) != MPS_RES_OK) return -1;
  ++table->rehashes;
  i = wtFind(table, key, &found);
  return found ? i : -1;
}

mps_addr_t gcp_wtable_get(gcp_wtable_t table, mps_addr_t key)
{
  long i = wtLookup(table, key);
  WtWord v;
  if (i < 0) return NULL;
  v = wtSlots(table->arrays[WT_VALUES])[i];
  return wtIsRef(v) ? (mps_addr_t)v : NULL;
}

int gcp_wtable_remove(gcp_wtable_t table, mps_addr_t key)
{
  long i = wtLookup(table, key);
  WtWord expected = (WtWord)key;
  if (i < 0) return 0;
  /* A collection may delete the entry meanwhile (its weak side died): only
   * one of the two counts it. */
  if (!__atomic_compare_exchange_n(&wtSlots(table->arrays[WT_KEYS])[i], &expected, WT_DELETED, 0,
                                   __ATOMIC_RELAXED, __ATOMIC_RELAXED))
    return 0;
  wtSlots(table->arrays[WT_VALUES])[i] = WT_DELETED;
  __atomic_sub_fetch(&table->count, 1, __ATOMIC_RELAXED);
  return 1;
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

size_t gcp_wtable_entries(gcp_wtable_t table, mps_addr_t *keys, mps_addr_t *values, size_t max)
{
  WtWord *k = wtSlots(table->arrays[WT_KEYS]), *v = wtSlots(table->arrays[WT_VALUES]);
  size_t i, n = 0;
  for (i = 0; i < table->length; ++i) {
    if (!wtIsRef(k[i]) || !wtIsRef(v[i])) continue;
    if (n < max) keys[n] = (mps_addr_t)k[i], values[n] = (mps_addr_t)v[i];
    ++n;
  }
  return n;
}
