/* weaktable.h -- the one weak-table implementation of gc_plugin's tests and
 * benchmarks: an address-hashed table with weak keys, weak values or
 * (for comparisons) strong keys and values, built the way MPS clients
 * build one: two AWL arrays, the keys on a weak-rank allocation point when
 * they are weak, the values on one when they are, each array the other's
 * dependent object (MPS_KEY_AWL_FIND_DEPENDENT); keys hashed by address
 * with a location dependency, rehashed (in place) when it is stale.
 *
 * Weak keys: when a key dies the collector clears its slot (MPS_FIX2
 * yields NULL) and the scan method deletes the entry, clearing the value
 * in the dependent array.  Weak values: the same with the roles swapped.
 * Keys and values are client pointers to objects in any collected pool of
 * the arena (the tests use the graph format, the benchmark its own).
 *
 * Only the public MPS headers are used: an ordinary MPS client.  The same
 * source is compiled into gcp_testing._clients through gc_plugin's C API
 * (gc_plugin.h maps the mps_* names onto the capsule's table; weaktable.py;
 * docs/design/c-api.md) and against mps.h and the static library by
 * bench/gc_bench.c (benchmark 4, which includes weaktable.c).
 * Design: docs/design/ms.md (weak tables).
 */
#ifndef gcp_weaktable_h
#define gcp_weaktable_h

#include <stddef.h>

#include "mps.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gcp_wtable_s *gcp_wtable_t;

/* The kinds of table (gcp_wtable_create's weak_keys argument). */
#define GCP_WTABLE_WEAK_VALUES 0 /* keys exact, values weak */
#define GCP_WTABLE_WEAK_KEYS   1 /* keys weak, values exact */
#define GCP_WTABLE_STRONG      2 /* both exact: the collector deletes nothing */

/* A slot word that is no reference: a deleted entry (gcp_wtable_slot). */
#define GCP_WTABLE_DELETED ((mps_word_t)0x7)

/* The format of the arrays, and an AWL pool of it with the table's
 * find-dependent method (chain may be NULL: the arena's default). */
extern mps_res_t gcp_wtable_format_create(mps_fmt_t *fmt_o, mps_arena_t arena);
extern mps_res_t gcp_wtable_pool_create(mps_pool_t *pool_o, mps_arena_t arena, mps_fmt_t fmt,
                                        mps_chain_t chain);

/* A table in pool (of arena, from gcp_wtable_pool_create) with room for capacity
 * entries before it grows; weak_keys: one of the kinds above (any other
 * non-zero value: weak keys). */
extern mps_res_t gcp_wtable_create(gcp_wtable_t *table_o, mps_arena_t arena, mps_pool_t pool,
                                   int weak_keys, size_t capacity);
extern void gcp_wtable_destroy(gcp_wtable_t table);

/* Insert or replace. */
extern mps_res_t gcp_wtable_put(gcp_wtable_t table, mps_addr_t key, mps_addr_t value);
/* The value of key, or NULL. */
extern mps_addr_t gcp_wtable_get(gcp_wtable_t table, mps_addr_t key);
/* 1 if key was there. */
extern int gcp_wtable_remove(gcp_wtable_t table, mps_addr_t key);
/* Delete every entry for which keep() returns 0; returns how many. */
extern size_t gcp_wtable_prune(gcp_wtable_t table,
                               int (*keep)(mps_addr_t key, mps_addr_t value, void *closure),
                               void *closure);
/* Rehash in place if some key may have moved since it was hashed (the
 * location dependency is stale); 1 if it did.  Lookups do this on a miss. */
extern int gcp_wtable_refresh(gcp_wtable_t table);

/* Live entries; entries the collector deleted (splatted) since creation;
 * rehashes caused by a stale location dependency. */
extern size_t gcp_wtable_count(gcp_wtable_t table);
extern size_t gcp_wtable_splatted(gcp_wtable_t table);
extern size_t gcp_wtable_rehashes(gcp_wtable_t table);

/* Everything the table counts (the scan method's counts cover the current
 * arrays, and those of a table it replaced while they were scanned). */
typedef struct gcp_wtable_stats_s {
  size_t count;                            /* live entries */
  size_t splatted;                         /* entries deleted by the collector */
  size_t removed;                          /* entries deleted by remove and prune */
  size_t rehashes;                         /* in-place rehashes: a stale location dependency */
  size_t cleanups;                         /* in-place rehashes: too many deleted slots */
  size_t grown;                            /* moves into larger arrays */
  unsigned long long key_refs, value_refs; /* reference slots scanned, by array */
  unsigned long long slots_scanned;        /* slots of the arrays scanned */
} gcp_wtable_stats_s;
extern void gcp_wtable_stats(gcp_wtable_t table, gcp_wtable_stats_s *stats_o);

/* Copy up to max live entries into keys[] and values[]; returns how many
 * there are.  Entries whose key or value is being cleared are skipped. */
extern size_t gcp_wtable_entries(gcp_wtable_t table, mps_addr_t *keys, mps_addr_t *values,
                                 size_t max);

/* Introspection (for checks): slots per array, and the two words of slot
 * i < length: 0 (never used), GCP_WTABLE_DELETED, or a reference. */
extern size_t gcp_wtable_length(gcp_wtable_t table);
extern void gcp_wtable_slot(gcp_wtable_t table, size_t i, mps_word_t *key_o, mps_word_t *value_o);

#ifdef __cplusplus
}
#endif

#endif /* gcp_weaktable_h */
