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
 * in the dependent array, and tells the table's splat callback, if any.
 * Weak values: the same with the roles swapped.  Weak words are client
 * pointers to objects in any collected pool of the arena (the tests use
 * the graph format and tests/native/weakfmt.h, the benchmark its own);
 * an exact word is such a pointer or an integer (a word with its low bit
 * set, not GCP_WTABLE_DELETED): an entry lives while its weak side does.
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

/* The arrays (gcp_wtable_arrays, the splat callback's role). */
#define GCP_WTABLE_KEYS   0
#define GCP_WTABLE_VALUES 1

/* The format of the arrays, with header bytes of in-band header before
 * each array (MPS_KEY_FMT_HEADER_SIZE: 0, or a multiple of the word size
 * below eight words; the tables must be created with the same), and an
 * AWL pool of it with the table's find-dependent method (chain may be
 * NULL: the arena's default; gen: the pool's generation in chain). */
extern mps_res_t gcp_wtable_format_create(mps_fmt_t *fmt_o, mps_arena_t arena, size_t header);
extern mps_res_t gcp_wtable_pool_create(mps_pool_t *pool_o, mps_arena_t arena, mps_fmt_t fmt,
                                        mps_chain_t chain, unsigned gen);

/* A table in pool (of arena, from gcp_wtable_pool_create, its format's
 * header size `header`) with room for capacity entries before it grows;
 * weak_keys: one of the kinds above (any other non-zero value: weak keys). */
extern mps_res_t gcp_wtable_create(gcp_wtable_t *table_o, mps_arena_t arena, mps_pool_t pool,
                                   size_t header, int weak_keys, size_t capacity);
extern void gcp_wtable_destroy(gcp_wtable_t table);

/* Called by the scan method (inside a collection: it must not call the
 * MPS) for each entry it deletes: the array (GCP_WTABLE_KEYS or _VALUES,
 * its address) whose weak slot was cleared, and the slot.  During a
 * growth the array may be one the table is leaving. */
typedef void (*gcp_wtable_splat_t)(gcp_wtable_t table, void *closure, mps_addr_t array, int role,
                                   size_t slot);
extern void gcp_wtable_on_splat(gcp_wtable_t table, gcp_wtable_splat_t splat, void *closure);

/* Insert or replace.  The weak side must be a reference; the exact side
 * may be an integer word.  Key and value are an exact root meanwhile (a
 * growth allocates): the caller's copies are stale if a collection moved
 * them. */
extern mps_res_t gcp_wtable_put(gcp_wtable_t table, mps_addr_t key, mps_addr_t value);
/* The value (word) of key, or NULL. */
extern mps_addr_t gcp_wtable_get(gcp_wtable_t table, mps_addr_t key);
/* The slot of key, or -1 (after a rehash if the dependency is stale). */
extern long gcp_wtable_find(gcp_wtable_t table, mps_addr_t key);
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
 * i < length: 0 (never used), GCP_WTABLE_DELETED, or an entry's word (a
 * reference or an integer); the current arrays (client pointers to AWL
 * objects; words: [0] length << 8 | header words << 1 | 0x41, [1] the
 * other array | 1, [2] the table | role << 1 | 1, then the slots). */
extern size_t gcp_wtable_length(gcp_wtable_t table);
extern void gcp_wtable_slot(gcp_wtable_t table, size_t i, mps_word_t *key_o, mps_word_t *value_o);
extern void gcp_wtable_arrays(gcp_wtable_t table, mps_addr_t *keys_o, mps_addr_t *values_o);

#ifdef __cplusplus
}
#endif

#endif /* gcp_weaktable_h */
