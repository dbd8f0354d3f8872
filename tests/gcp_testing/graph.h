/* graph.h -- a test object format for the collected pools (AMC, AMCZ, LO)
 *
 * Objects of a graph: each has a header word, N reference slots and M data
 * words.  The data words carry the object's id and a checksum, so that a
 * test can tell that an object survived a collection intact and that a
 * reference leads to the object it should.  The format supplies every
 * method a moving pool needs (scan, skip, fwd, isfwd, pad) and comes with
 * or without an in-band header (MPS_KEY_FMT_HEADER_SIZE 8 or 16).
 *
 * Only the public MPS headers are used: the format is an ordinary MPS
 * client.  The test package compiles it into gcp_testing._clients through
 * gc_plugin's C API (_build.py, docs/design/c-api.md) and wraps it as
 * gcp_testing.GraphFormat (graph.py);
 * docs/design/python-api.md ("Collector") describes how tests use it.
 *
 * Layout, with h the header size (0, 8 or 16) and B = max(8, h):
 *
 *   base + 0        header word: kind in the low byte, then the counts
 *   base + 8        (h == 16 only) a magic word, GCP_GRAPH_MAGIC ^ id
 *   base + B        nrefs reference slots (client pointers or NULL)
 *   ...             ndata data words: id, checksum, then words derived
 *                   from the id
 *
 * The client pointer (what references hold, what the format methods get
 * and return) is base + h.  An object is B + 8 * (nrefs + ndata) bytes.
 *
 * Header words:
 *   object        GCP_GRAPH_OBJ  | nrefs << 8 | ndata << 32
 *   forwarding    GCP_GRAPH_FWD  | size << 8, the next word the new address
 *   1-word pad    GCP_GRAPH_PAD1
 *   n-word pad    GCP_GRAPH_PADN | size << 8
 */

#ifndef gcp_graph_h
#define gcp_graph_h

#include <stddef.h>

#include "mps.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GCP_GRAPH_ALIGN ((size_t)8)

/* kinds (the header word's low byte) */
#define GCP_GRAPH_OBJ  0x4Fu /* 'O' */
#define GCP_GRAPH_FWD  0x46u /* 'F' */
#define GCP_GRAPH_PAD1 0x31u /* '1' */
#define GCP_GRAPH_PADN 0x50u /* 'P' */
#define GCP_GRAPH_BAD  0u    /* gcp_graph_kind: not a header this format writes */

#define GCP_GRAPH_MAX_REFS ((size_t)0xFFFFFF)
#define GCP_GRAPH_MAX_DATA ((size_t)0xFFFFFFF)
#define GCP_GRAPH_MIN_DATA ((size_t)2)                        /* id and checksum */
#define GCP_GRAPH_MAGIC    ((mps_word_t)0x6763705F67726170ul) /* "gcp_grap" */
/* how many references gcp_graph_collect_holding can hold */
#define GCP_GRAPH_HOLD_MAX ((size_t)256)

/* A format for header size 0, 8 or 16 (MPS_RES_PARAM for others). */
extern mps_res_t gcp_graph_format_create(mps_fmt_t *fmt_o, mps_arena_t arena, size_t header_size);
/* Whether the format accepts this header size. */
extern int gcp_graph_header_ok(size_t header_size);

/* Bytes of an object with these counts (a multiple of GCP_GRAPH_ALIGN). */
extern size_t gcp_graph_size(size_t header_size, size_t nrefs, size_t ndata);

/* Write a valid object at base (a reserved block of gcp_graph_size bytes);
 * every reference slot is NULL. */
extern void gcp_graph_init(mps_addr_t base, size_t header_size, size_t nrefs, size_t ndata,
                           unsigned long id);

/* Reserve, initialise and commit one object on ap, retrying while commit
 * fails; *obj_o gets its client pointer.  MPS_RES_PARAM for bad counts or
 * header size, MPS_RES_LIMIT if commit keeps failing. */
extern mps_res_t gcp_graph_alloc(mps_addr_t *obj_o, mps_ap_t ap, size_t header_size, size_t nrefs,
                                 size_t ndata, unsigned long id);

/* Accessors; obj is a client pointer.  gcp_graph_kind reads the header
 * word of whatever starts there. */
extern unsigned gcp_graph_kind(mps_addr_t obj, size_t header_size);
extern size_t gcp_graph_nrefs(mps_addr_t obj, size_t header_size);
extern size_t gcp_graph_ndata(mps_addr_t obj, size_t header_size);
extern unsigned long gcp_graph_id(mps_addr_t obj, size_t header_size);
/* The bytes from obj's base to the next object (any kind). */
extern size_t gcp_graph_extent(mps_addr_t obj, size_t header_size);
/* 1 if obj is an intact object: kind, magic, id, checksum and data words. */
extern int gcp_graph_valid(mps_addr_t obj, size_t header_size);
extern mps_addr_t gcp_graph_ref(mps_addr_t obj, size_t header_size, size_t i);
extern void gcp_graph_set_ref(mps_addr_t obj, size_t header_size, size_t i, mps_addr_t ref);

/* Hold refs[0..n) only on this function's C stack across mps_arena_collect:
 * copy them into a local array, zero the caller's copies, register a
 * thread root for thr (the calling thread, registered with arena) whose
 * cold end lies above that array, collect, copy the held values to
 * after[0..n), destroy the root.  MPS_RES_PARAM if n > GCP_GRAPH_HOLD_MAX;
 * otherwise the result of root creation or of the collection. */
extern /* Hold refs[0..n) only in this (unregistered) thread's stack frame, with
 * the caller's copies cleared, until *release != 0; *holding becomes 1
 * once they are held; their values afterwards go to after[]. */
    int
    gcp_graph_hold_until(mps_addr_t *refs, size_t n, mps_addr_t *after, volatile int *holding,
                         volatile int *release);
mps_res_t gcp_graph_collect_holding(mps_arena_t arena, mps_thr_t thr, mps_addr_t *refs, size_t n,
                                    mps_addr_t *after);

/* Walk a parked pool with mps_pool_walk, fixing every reference, and store
 * the client pointers of up to cap objects (not pads) in out; *count_o
 * gets how many there are (possibly more than cap). */
extern mps_res_t gcp_graph_pool_walk(mps_pool_t pool, size_t header_size, mps_addr_t *out,
                                     size_t cap, size_t *count_o);

/* Corrupt headers seen by the format methods since the last reset: the
 * count, and the first address and header word seen. */
extern unsigned long gcp_graph_errors(mps_addr_t *addr_o, mps_word_t *header_o);
extern void gcp_graph_errors_reset(void);

/* ---- operations on objects reached from an exact root table -----------
 *
 * For threads that must not hold addresses between calls (a collection in
 * another thread may move the objects): every address lives only inside
 * one call, on a stack the caller has made an ambiguous root.  An object
 * is named by a table index and a path of slot numbers followed from it
 * (depth 0: the table entry itself). */

/* Allocate an object and store it in table[index]. */
extern mps_res_t gcp_graph_alloc_into(mps_ap_t ap, size_t header_size, mps_addr_t *table,
                                      size_t index, size_t nrefs, size_t ndata, unsigned long id);
/* Set slot `slot` of the source object to the destination object (NULL if
 * dst_index is (size_t)-1): 0, or -1 if a path meets NULL, -2 if it meets
 * an invalid object, -3 if a slot number is out of range. */
extern int gcp_graph_path_link(size_t header_size, mps_addr_t *table, size_t src_index,
                               const size_t *src_path, size_t src_depth, size_t slot,
                               size_t dst_index, const size_t *dst_path, size_t dst_depth);
/* Read the object: its id, and the ids of its first cap reference targets
 * (0 for NULL).  Returns its nrefs, or -1 / -2 / -3 as above (-2 also if a
 * target is invalid). */
extern long gcp_graph_path_read(size_t header_size, mps_addr_t *table, size_t index,
                                const size_t *path, size_t depth, unsigned long *id_o,
                                unsigned long *ref_ids, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* gcp_graph_h */
