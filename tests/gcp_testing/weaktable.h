/* weaktable.h -- an address-hashed table with weak keys or weak values,
 * built the way MPS clients build one: two AWL arrays, one allocated on a
 * weak-rank allocation point and one on an exact-rank one, each the
 * other's dependent object (MPS_KEY_AWL_FIND_DEPENDENT); keys hashed by
 * address with a location dependency, rehashed when it is stale.
 *
 * Weak keys: when a key dies the collector clears its slot (MPS_FIX2
 * yields NULL) and the scan method deletes the entry, clearing the value
 * in the dependent array.  Weak values: the same with the roles swapped.
 * Keys and values are client pointers to objects in any collected pool of
 * the arena (the tests use the graph format).
 *
 * Only the public MPS headers are used: an ordinary MPS client, compiled
 * into gcp_testing._clients through gc_plugin's C API for the Python tests
 * (weaktable.py; docs/design/c-api.md).
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

/* The format of the arrays, and an AWL pool of it with the table's
 * find-dependent method (chain may be NULL: the arena's default). */
extern mps_res_t gcp_wtable_format_create(mps_fmt_t *fmt_o, mps_arena_t arena);
extern mps_res_t gcp_wtable_pool_create(mps_pool_t *pool_o, mps_arena_t arena, mps_fmt_t fmt,
                                        mps_chain_t chain);

/* A table in pool (of arena, from gcp_wtable_pool_create) with room for capacity
 * entries before it grows; weak_keys != 0: weak keys, else weak values. */
extern mps_res_t gcp_wtable_create(gcp_wtable_t *table_o, mps_arena_t arena, mps_pool_t pool,
                                   int weak_keys, size_t capacity);
extern void gcp_wtable_destroy(gcp_wtable_t table);

/* Insert or replace. */
extern mps_res_t gcp_wtable_put(gcp_wtable_t table, mps_addr_t key, mps_addr_t value);
/* The value of key, or NULL. */
extern mps_addr_t gcp_wtable_get(gcp_wtable_t table, mps_addr_t key);
/* 1 if key was there. */
extern int gcp_wtable_remove(gcp_wtable_t table, mps_addr_t key);

/* Live entries; entries the collector deleted (splatted) since creation;
 * rehashes caused by a stale location dependency. */
extern size_t gcp_wtable_count(gcp_wtable_t table);
extern size_t gcp_wtable_splatted(gcp_wtable_t table);
extern size_t gcp_wtable_rehashes(gcp_wtable_t table);

/* Copy up to max live entries into keys[] and values[]; returns how many
 * there are.  Entries whose key or value is being cleared are skipped. */
extern size_t gcp_wtable_entries(gcp_wtable_t table, mps_addr_t *keys, mps_addr_t *values,
                                 size_t max);

#ifdef __cplusplus
}
#endif

#endif /* gcp_weaktable_h */
