/* gcroots.c -- what a collected arena must treat as roots inside a Python
 * process: every thread's C stack and registers (Python threads and
 * foreign threads alike; none of them calls mps_thread_reg), and the live
 * blocks the allocator hook routed into its SEGFIT pool (Python objects
 * and buffers that may hold references to collected objects), all
 * ambiguous.
 *
 * gcp_python_arena_attach turns on the core's all-threads mode for the
 * arena (thread_linux.c) and registers an ambiguous function root that
 * scans the routed blocks.  The root runs with every other thread
 * stopped, possibly inside a hook call that holds the hook arena's lock;
 * so it never takes that lock: if the lock is free nobody can take it
 * until the threads resume, and the live blocks are walked; if a stopped
 * thread holds it, the pool's structures may be mid-update, and every
 * committed page of the pool's segments is scanned instead (more
 * conservative, never less).
 * Design: docs/design/trace.md (CPython roots).
 */
#include "cpython/cpython.h"
#include "gcp_ext.h"

typedef struct GCRootsWalk {
  mps_ss_t ss;
  Res res;
} GCRootsWalk;

static void gcRootsVisitBlock(mps_addr_t block, size_t size, unsigned tag, void *closure)
{
  GCRootsWalk *w = closure;
  UNUSED(tag);
  size &= ~(size_t)(sizeof(Word) - 1);
  if (w->res == RES_OK && size > 0)
    w->res = mps_scan_area(w->ss, block, (char *)block + size, NULL);
}

/* Every allocated, committed page of the hook pool's segments. */
static Res gcRootsScanPages(mps_ss_t ss)
{
  ArenaPagesStruct pages;
  Index i;
  ArenaPrimaryPages(&pages, HookArena());
  for (i = pages.allocBase; i < pages.pages; ++i) {
    Seg seg;
    Res res;
    if (!BTGet(pages.allocTable, i) || !BTGet(pages.committedTable, i)) continue;
    seg = pages.pageTable[i];
    if (seg == NULL || seg->pool != HookPool()) continue;
    res = mps_scan_area(ss, AddrAdd(pages.base, i << pages.shift),
                        AddrAdd(pages.base, (i + 1) << pages.shift), NULL);
    if (res != RES_OK) return res;
  }
  return RES_OK;
}

static mps_res_t gcRootsScanRouted(mps_ss_t ss, void *p, size_t s)
{
  GCRootsWalk w;
  UNUSED(p);
  UNUSED(s);
  if (HookPool() == NULL) return MPS_RES_OK;
  if (mps_arena_busy(HookArena())) return gcRootsScanPages(ss);
  w.ss = ss;
  w.res = RES_OK;
  SegfitWalk(HookPool(), gcRootsVisitBlock, &w);
  return w.res;
}

/* Make `arena` see the Python process's roots; *root_o is the routed
 * blocks' root, to destroy (before the arena) with mps_root_destroy. */
static int gcp_python_arena_attach(mps_arena_t arena, mps_root_t *root_o)
{
  mps_res_t res = mps_root_create(root_o, arena, mps_rank_ambig(), 0, gcRootsScanRouted, NULL, 0);
  if (res != MPS_RES_OK) return res;
  gcp_arena_all_threads(arena, 1);
  return MPS_RES_OK;
}
