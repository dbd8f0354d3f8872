/* gcp_ext.h -- gc_plugin's additions to the MPS interface: introspection
 * and consistency checks that tests, tools and the Python layer use.  Not
 * part of the MPS interface; MPS clients never need it.
 * Design: docs/design/interface.md.
 */
#ifndef GCP_EXT_H
#define GCP_EXT_H

#include "mps.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Misuse reports.  Misuse the core detects (a foreign pointer, a double
 * free, a bad argument, protocol misuse) is reported and then backed out
 * of: the call returns MPS_RES_PARAM or does nothing.  The report goes to
 * the plinth's assertion handler (mps_lib_assert_fail), as in the MPS,
 * unless a misuse handler is installed here: then misuse goes to it and
 * only failed internal invariants reach the assertion handler, whose
 * default prints the report and aborts.  A client that means to go on
 * after misuse (the Python layer turns it into MisuseError) installs one.
 * Returns the handler installed before (NULL: none); NULL uninstalls. */
typedef void (*gcp_misuse_handler_t)(const char *file, unsigned line, const char *message);
extern gcp_misuse_handler_t gcp_misuse_handler_install(gcp_misuse_handler_t handler);

/* Whether the last destroy or deregistration this thread asked for
 * (mps_arena_destroy, mps_pool_destroy, mps_ap_destroy, mps_sac_destroy,
 * mps_fmt_destroy, mps_chain_destroy, mps_root_destroy, mps_thread_dereg)
 * was refused because something still depends on the object, which then
 * stays alive.  After any other misuse report from those calls the object
 * is gone (or was never live).  Reading it clears it. */
extern int gcp_destroy_refused(void);

/* "cool", "hot" or "rash": the checking variety the core was built in. */
extern const char *gcp_variety(void);
/* Walk every structure of the arena (or pool) and check its invariants:
 * 1 if all hold, else 0.  Costs time proportional to the heap. */
extern int gcp_arena_consistent(mps_arena_t arena);
extern int gcp_pool_consistent(mps_pool_t pool);
extern const char *gcp_pool_class_name(mps_pool_t pool);
extern size_t gcp_pool_alignment(mps_pool_t pool);
extern size_t gcp_arena_grain_size(mps_arena_t arena);
/* Bytes of arena memory holding the core's own structures. */
extern size_t gcp_arena_control_committed(mps_arena_t arena);
extern size_t gcp_arena_chunk_count(mps_arena_t arena);
/* Committed bytes of chunk heads and page tables. */
extern size_t gcp_arena_overhead_committed(mps_arena_t arena);
/* Committed bytes that belong to pools' segments: committed less spare,
 * overhead and control memory.  Zero when no pool holds memory. */
extern size_t gcp_arena_pools_committed(mps_arena_t arena);
/* A format's arena, alignment and in-band header size: 1, or 0 (misuse
 * reported) if fmt is not a live format. */
extern int gcp_fmt_describe(mps_fmt_t fmt, mps_arena_t *arena_o, size_t *align_o, size_t *header_o);
/* Bytes held in a cache's free lists. */
extern size_t gcp_sac_cached_size(mps_sac_t sac);

/* With on != 0, every thread of the process counts as registered with the
 * arena: at each collection the threads that are not registered are
 * stopped too, and their stacks (from the stack pointer to the end of the
 * stack's mapping) and registers, and the calling thread's whole stack,
 * are scanned as ambiguous roots.  For hosts such as CPython whose
 * threads cannot all be registered by hand. */
extern void gcp_arena_all_threads(mps_arena_t arena, int on);
/* How many times a thread could not be stopped (it blocked the signal). */
extern size_t gcp_arena_unstoppable_threads(mps_arena_t arena);

#ifdef __cplusplus
}
#endif

#endif /* GCP_EXT_H */
