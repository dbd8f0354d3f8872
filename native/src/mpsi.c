/* mpsi.c -- the interface layer for arenas and pools: it validates what
 * the client passes, takes the arena lock, and calls the core.  Misuse it
 * can detect is reported through the plinth assertion handler with a
 * message naming the problem, and the call then returns without changing
 * anything.
 * Design: docs/design/interface.md.
 */
#include "gc.h"
#include "arg.h"
#include "mpsavm.h"
#include "mpsacl.h"
#include "gcp_ext.h"
#include <stdarg.h>

struct mps_arena_class_s {
  Sig sig;
  const char *name;
};

static struct mps_arena_class_s arenaClassVM = { 0x519A6C1AUL, "VM" };
static struct mps_arena_class_s arenaClassCL = { 0x519A6C1CUL, "CL" };

mps_arena_class_t mps_arena_class_vm(void) { return &arenaClassVM; }
mps_arena_class_t mps_arena_class_cl(void) { return &arenaClassCL; }

mps_rank_t mps_rank_ambig(void) { return 0; }
mps_rank_t mps_rank_exact(void) { return 1; }
mps_rank_t mps_rank_weak(void) { return 3; }

/* Validation helpers: report and yield FALSE when the handle is bad. */
static Bool arenaOK(Arena arena, const char *fn)
{
  if (LIKELY(arena != NULL && arena->sig == ArenaSig)) return TRUE;
  (void)MISUSE("%s: %p is not a live arena", fn, (void *)arena);
  return FALSE;
}

static Bool poolOK(Pool pool, const char *fn)
{
  if (LIKELY(pool != NULL && pool->sig == PoolSig && pool->arena->sig == ArenaSig)) {
    AVER_CRITICAL(PoolCheck(pool));
    return TRUE;
  }
  (void)MISUSE("%s: %p is not a live pool", fn, (void *)pool);
  return FALSE;
}

/* ---- arenas ------------------------------------------------------------ */

mps_res_t mps_arena_create_k(mps_arena_t *arena_o, mps_arena_class_t arena_class, mps_arg_s args[])
{
  Arena arena = NULL;
  Res res;
  if (arena_o == NULL) return MISUSE("mps_arena_create_k: arena_o is NULL");
  if (arena_class != &arenaClassVM && arena_class != &arenaClassCL)
    return MISUSE("mps_arena_create_k: %p is not a supported arena class", (void *)arena_class);
  if (args == NULL) return MISUSE("mps_arena_create_k: args is NULL (pass mps_args_none)");
  res = ArenaCreate(&arena, args, arena_class == &arenaClassCL);
  if (res != RES_OK) return res;
  ArenaEnter(arena);
  res = GCInit(arena);
  ArenaLeave(arena);
  if (res != RES_OK) {
    ArenaDestroy(arena);
    return res;
  }
  ArenaAnnounce(arena);
  *arena_o = arena;
  return RES_OK;
}

mps_res_t mps_arena_create_v(mps_arena_t *arena_o, mps_arena_class_t arena_class, va_list varargs)
{
  mps_res_t res;
  /* VM: (size); client: (size, base). */
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_ARENA_SIZE, va_arg(varargs, size_t));
    if (arena_class == &arenaClassCL)
      MPS_ARGS_ADD(args, MPS_KEY_ARENA_CL_BASE, va_arg(varargs, mps_addr_t));
    res = mps_arena_create_k(arena_o, arena_class, args);
  }
  MPS_ARGS_END(args);
  return res;
}

mps_res_t mps_arena_create(mps_arena_t *arena_o, mps_arena_class_t arena_class, ...)
{
  mps_res_t res;
  va_list varargs;
  va_start(varargs, arena_class);
  res = mps_arena_create_v(arena_o, arena_class, varargs);
  va_end(varargs);
  return res;
}

void mps_arena_destroy(mps_arena_t arena)
{
  DESTROY_BEGIN();
  if (!arenaOK(arena, "mps_arena_destroy")) return;
  ArenaEnter(arena);
  if (!RingIsSingle(&arena->poolRing)) {
    ArenaLeave(arena);
    (void)REFUSE("mps_arena_destroy: the arena still has %zu pool(s); destroy them first",
                 (size_t)RingLength(&arena->poolRing));
    return;
  }
  if (!RingIsSingle(&arena->gc->rootRing) || !RingIsSingle(&arena->gc->threadRing) ||
      !RingIsSingle(&arena->gc->formatRing) || RingLength(&arena->gc->chainRing) != 1) {
    ArenaLeave(arena);
    (void)REFUSE(
        "mps_arena_destroy: the arena still has %zu root(s), %zu registered thread(s), "
        "%zu format(s) and %zu chain(s); destroy them first",
        (size_t)RingLength(&arena->gc->rootRing), (size_t)RingLength(&arena->gc->threadRing),
        (size_t)RingLength(&arena->gc->formatRing), (size_t)RingLength(&arena->gc->chainRing) - 1);
    return;
  }
  GCFinish(arena);
#if CHECK_LEVEL >= 2
  AVER(ArenaConsistent(arena));
#endif
  ArenaLeave(arena);
  ArenaDestroy(arena);
}

size_t mps_arena_committed(mps_arena_t arena)
{
  if (!arenaOK(arena, "mps_arena_committed")) return 0;
  return arena->committed;
}

size_t mps_arena_reserved(mps_arena_t arena)
{
  if (!arenaOK(arena, "mps_arena_reserved")) return 0;
  return arena->reserved;
}

size_t mps_arena_spare_committed(mps_arena_t arena)
{
  if (!arenaOK(arena, "mps_arena_spare_committed")) return 0;
  return arena->spareCommitted;
}

size_t mps_arena_commit_limit(mps_arena_t arena)
{
  if (!arenaOK(arena, "mps_arena_commit_limit")) return 0;
  return arena->commitLimit;
}

mps_res_t mps_arena_commit_limit_set(mps_arena_t arena, size_t limit)
{
  Res res;
  if (!arenaOK(arena, "mps_arena_commit_limit_set")) return RES_PARAM;
  ArenaEnter(arena);
  res = ArenaSetCommitLimit(arena, limit);
  ArenaLeave(arena);
  return res;
}

double mps_arena_spare(mps_arena_t arena)
{
  if (!arenaOK(arena, "mps_arena_spare")) return 0.0;
  return arena->spare;
}

void mps_arena_spare_set(mps_arena_t arena, double spare)
{
  if (!arenaOK(arena, "mps_arena_spare_set")) return;
  if (!(spare >= 0.0 && spare <= 1.0)) {
    (void)MISUSE("mps_arena_spare_set: %g is not between 0 and 1", spare);
    return;
  }
  ArenaEnter(arena);
  ArenaSetSpare(arena, spare);
  ArenaLeave(arena);
}

size_t mps_arena_spare_commit_limit(mps_arena_t arena)
{
  if (!arenaOK(arena, "mps_arena_spare_commit_limit")) return 0;
  return (size_t)(arena->spare * (double)arena->committed);
}

void mps_arena_spare_commit_limit_set(mps_arena_t arena, size_t limit)
{
  double spare;
  if (!arenaOK(arena, "mps_arena_spare_commit_limit_set")) return;
  ArenaEnter(arena);
  spare = arena->committed == 0 ? 1.0 : (double)limit / (double)arena->committed;
  ArenaSetSpare(arena, spare > 1.0 ? 1.0 : spare);
  ArenaLeave(arena);
}

double mps_arena_pause_time(mps_arena_t arena)
{
  if (!arenaOK(arena, "mps_arena_pause_time")) return 0.0;
  return arena->pauseTime;
}

void mps_arena_pause_time_set(mps_arena_t arena, double pause_time)
{
  if (!arenaOK(arena, "mps_arena_pause_time_set")) return;
  if (!(pause_time >= 0.0)) {
    (void)MISUSE("mps_arena_pause_time_set: %g is negative", pause_time);
    return;
  }
  ArenaEnter(arena);
  arena->pauseTime = pause_time;
  ArenaLeave(arena);
}

mps_res_t mps_arena_vm_growth(mps_arena_t arena, size_t desired, size_t minimum)
{
  Res res;
  if (!arenaOK(arena, "mps_arena_vm_growth")) return RES_PARAM;
  if (desired < minimum)
    return MISUSE("mps_arena_vm_growth: desired %zu is less than minimum %zu", desired, minimum);
  if (desired > SIZE_LIMIT) desired = SIZE_LIMIT;
  if (minimum > SIZE_LIMIT) minimum = SIZE_LIMIT;
  ArenaEnter(arena);
  res = ArenaSetGrowth(arena, desired, minimum);
  ArenaLeave(arena);
  return res;
}

mps_res_t mps_arena_extend(mps_arena_t arena, mps_addr_t base, size_t size)
{
  Res res;
  if (!arenaOK(arena, "mps_arena_extend")) return RES_PARAM;
  ArenaEnter(arena);
  res = ArenaExtend(arena, (Addr)base, size);
  ArenaLeave(arena);
  return res;
}

mps_bool_t mps_arena_has_addr(mps_arena_t arena, mps_addr_t addr)
{
  Bool claimed, found;
  if (!arenaOK(arena, "mps_arena_has_addr")) return 0;
  claimed = ArenaEnterRecursive(arena);
  found = ArenaChunkOf(arena, (Addr)addr) != NULL;
  ArenaLeaveRecursive(arena, claimed);
  return found ? 1 : 0;
}

mps_bool_t mps_addr_pool(mps_pool_t *pool_o, mps_arena_t arena, mps_addr_t addr)
{
  Seg seg;
  Bool claimed, found;
  Pool pool = NULL;
  if (!arenaOK(arena, "mps_addr_pool")) return 0;
  if (pool_o == NULL) {
    (void)MISUSE("mps_addr_pool: pool_o is NULL");
    return 0;
  }
  claimed = ArenaEnterRecursive(arena);
  found = ArenaSegOf(&seg, arena, (Addr)addr);
  if (found) pool = seg->pool;
  ArenaLeaveRecursive(arena, claimed);
  if (!found) return 0;
  *pool_o = pool;
  return 1;
}

mps_bool_t mps_arena_busy(mps_arena_t arena)
{
  if (!arenaOK(arena, "mps_arena_busy")) return 0;
  return LockIsHeld(&arena->lock) ? 1 : 0;
}

/* Every collection counts (flips, in the MPS's words), also those in
 * which nothing could move; arena->epoch counts only those. */
mps_word_t mps_collections(mps_arena_t arena)
{
  if (!arenaOK(arena, "mps_collections")) return 0;
  return __atomic_load_n(&arena->gc->collections, __ATOMIC_ACQUIRE);
}

/* ---- pools --------------------------------------------------------------- */

mps_res_t mps_pool_create_k(mps_pool_t *pool_o, mps_arena_t arena, mps_pool_class_t pool_class,
                            mps_arg_s args[])
{
  Pool pool = NULL;
  Res res;
  if (pool_o == NULL) return MISUSE("mps_pool_create_k: pool_o is NULL");
  if (!arenaOK(arena, "mps_pool_create_k")) return RES_PARAM;
  if (pool_class == NULL || pool_class->sig != PoolClassSig)
    return MISUSE("mps_pool_create_k: %p is not a pool class", (void *)pool_class);
  AVER(PoolClassCheck(pool_class));
  if (args == NULL) return MISUSE("mps_pool_create_k: args is NULL (pass mps_args_none)");
  ArenaEnter(arena);
  res = PoolCreate(&pool, arena, pool_class, args);
  ArenaLeave(arena);
  if (res != RES_OK) return res;
  *pool_o = pool;
  return RES_OK;
}

mps_res_t mps_pool_create_v(mps_pool_t *pool_o, mps_arena_t arena, mps_pool_class_t pool_class,
                            va_list varargs)
{
  ArgStruct args[MPS_ARGS_MAX];
  if (pool_class == NULL || pool_class->sig != PoolClassSig)
    return MISUSE("mps_pool_create_v: %p is not a pool class", (void *)pool_class);
  args[0].key = MPS_KEY_ARGS_END;
  if (pool_class->varargs != NULL) pool_class->varargs(args, varargs);
  return mps_pool_create_k(pool_o, arena, pool_class, args);
}

mps_res_t mps_pool_create(mps_pool_t *pool_o, mps_arena_t arena, mps_pool_class_t pool_class, ...)
{
  mps_res_t res;
  va_list varargs;
  va_start(varargs, pool_class);
  res = mps_pool_create_v(pool_o, arena, pool_class, varargs);
  va_end(varargs);
  return res;
}

void mps_pool_destroy(mps_pool_t pool)
{
  Arena arena = NULL;
  DESTROY_BEGIN();
  if (!poolOK(pool, "mps_pool_destroy")) return;
  arena = pool->arena;
  ArenaEnter(arena);
  if (!RingIsSingle(&pool->bufferRing) || pool->sacCount != 0) {
    ArenaLeave(arena);
    (void)REFUSE("mps_pool_destroy: pool %p still has %zu allocation point(s) and %zu "
                 "allocation cache(s)",
                 (void *)pool, (size_t)RingLength(&pool->bufferRing), (size_t)pool->sacCount);
    return;
  }
  if (pool->klass->attr & POOL_ATTR_GC) FinalsForgetPool(arena, pool);
  PoolDestroy(pool);
  ArenaLeave(arena);
}

size_t mps_pool_total_size(mps_pool_t pool)
{
  size_t size;
  if (!poolOK(pool, "mps_pool_total_size")) return 0;
  ArenaEnter(pool->arena);
  size = pool->klass->totalSize(pool);
  ArenaLeave(pool->arena);
  return size;
}

size_t mps_pool_free_size(mps_pool_t pool)
{
  size_t size;
  if (!poolOK(pool, "mps_pool_free_size")) return 0;
  ArenaEnter(pool->arena);
  size = pool->klass->freeSize(pool);
  ArenaLeave(pool->arena);
  return size;
}

mps_res_t mps_alloc(mps_addr_t *p_o, mps_pool_t pool, size_t size)
{
  Addr p = NULL;
  Res res;
  if (p_o == NULL) return MISUSE("mps_alloc: p_o is NULL");
  if (!poolOK(pool, "mps_alloc")) return RES_PARAM;
  if (!(pool->klass->attr & POOL_ATTR_ALLOC))
    return MISUSE("mps_alloc: pools of class %s do not support mps_alloc", pool->klass->name);
  if (size == 0) return MISUSE("mps_alloc: size is zero");
  if (size > SIZE_LIMIT) return RES_RESOURCE;
  ArenaEnter(pool->arena);
  res = pool->klass->alloc(&p, pool, size);
  ArenaLeave(pool->arena);
  if (res != RES_OK) return res;
  *p_o = p;
  return RES_OK;
}

void mps_free(mps_pool_t pool, mps_addr_t addr, size_t size)
{
  if (!poolOK(pool, "mps_free")) return;
  if (!(pool->klass->attr & POOL_ATTR_FREE)) {
    (void)MISUSE("mps_free: pools of class %s do not support mps_free", pool->klass->name);
    return;
  }
  if (addr == NULL) {
    (void)MISUSE("mps_free: address is NULL");
    return;
  }
  if (size == 0) {
    (void)MISUSE("mps_free: size is zero");
    return;
  }
  if (size > SIZE_LIMIT) {
    (void)MISUSE("mps_free: size %zu is larger than any block can be", size);
    return;
  }
  ArenaEnter(pool->arena);
  (void)PoolFree(pool, (Addr)addr, size);
  ArenaLeave(pool->arena);
}

void mps_pool_check_fenceposts(mps_pool_t pool)
{
  if (!poolOK(pool, "mps_pool_check_fenceposts")) return;
  if (pool->klass->checkFenceposts == NULL) return;
  ArenaEnter(pool->arena);
  pool->klass->checkFenceposts(pool);
  ArenaLeave(pool->arena);
}

void mps_pool_check_free_space(mps_pool_t pool)
{
  if (!poolOK(pool, "mps_pool_check_free_space")) return;
  if (pool->klass->checkFreeSpace == NULL) return;
  ArenaEnter(pool->arena);
  pool->klass->checkFreeSpace(pool);
  ArenaLeave(pool->arena);
}

/* ---- telemetry (interface.md): the filter is kept; no event stream yet --------- */

static mps_word_t telemetryFilter;
static int telemetryFilterRead;

static void telemetryInit(void)
{
  if (!telemetryFilterRead) {
    telemetryFilter = (mps_word_t)mps_lib_telemetry_control();
    telemetryFilterRead = 1;
  }
}

void mps_telemetry_set(mps_word_t set_mask)
{
  telemetryInit();
  telemetryFilter |= set_mask;
}
void mps_telemetry_reset(mps_word_t reset_mask)
{
  telemetryInit();
  telemetryFilter &= ~reset_mask;
}
mps_word_t mps_telemetry_get(void)
{
  telemetryInit();
  return telemetryFilter;
}

mps_label_t mps_telemetry_intern(const char *label)
{
  /* Labels are the string's hash: stable, and never zero. */
  mps_word_t h = 1469598103934665603UL;
  if (label == NULL) return 0;
  for (; *label != '\0'; ++label) h = (h ^ (unsigned char)*label) * 1099511628211UL;
  return h == 0 ? 1 : h;
}

void mps_telemetry_label(mps_addr_t addr, mps_label_t label)
{
  UNUSED(addr);
  UNUSED(label);
}
void mps_telemetry_flush(void) {}

/* ---- gc_plugin extensions (gcp_ext.h) ------------------------------------ */

const char *gcp_variety(void) { return VARIETY_NAME; }

int gcp_arena_consistent(mps_arena_t arena)
{
  Bool ok;
  Ring node, next;
  if (!arenaOK(arena, "gcp_arena_consistent")) return 0;
  ArenaEnter(arena);
  ok = ArenaConsistent(arena);
  RING_FOR(node, &arena->poolRing, next) {
    Pool pool = RING_ELT(PoolStruct, arenaRing, node);
    if (ok && pool->klass->consistent != NULL) ok = pool->klass->consistent(pool);
  }
  ArenaLeave(arena);
  return ok ? 1 : 0;
}

int gcp_pool_consistent(mps_pool_t pool)
{
  Bool ok;
  if (!poolOK(pool, "gcp_pool_consistent")) return 0;
  ArenaEnter(pool->arena);
  ok = PoolCheck(pool) && (pool->klass->consistent == NULL || pool->klass->consistent(pool));
  ArenaLeave(pool->arena);
  return ok ? 1 : 0;
}

const char *gcp_pool_class_name(mps_pool_t pool)
{
  if (!poolOK(pool, "gcp_pool_class_name")) return NULL;
  return pool->klass->name;
}

size_t gcp_pool_alignment(mps_pool_t pool)
{
  if (!poolOK(pool, "gcp_pool_alignment")) return 0;
  return pool->alignment;
}

size_t gcp_arena_grain_size(mps_arena_t arena)
{
  if (!arenaOK(arena, "gcp_arena_grain_size")) return 0;
  return arena->grainSize;
}

size_t gcp_arena_control_committed(mps_arena_t arena)
{
  size_t size;
  if (!arenaOK(arena, "gcp_arena_control_committed")) return 0;
  ArenaEnter(arena);
  size = ControlCommitted(arena);
  ArenaLeave(arena);
  return size;
}

size_t gcp_arena_overhead_committed(mps_arena_t arena)
{
  if (!arenaOK(arena, "gcp_arena_overhead_committed")) return 0;
  return arena->overheadCommitted;
}

size_t gcp_arena_pools_committed(mps_arena_t arena)
{
  size_t size;
  if (!arenaOK(arena, "gcp_arena_pools_committed")) return 0;
  ArenaEnter(arena);
  size =
      arena->committed - arena->spareCommitted - arena->overheadCommitted - ControlCommitted(arena);
  ArenaLeave(arena);
  return size;
}

size_t gcp_arena_chunk_count(mps_arena_t arena)
{
  Index i;
  size_t n = 0;
  if (!arenaOK(arena, "gcp_arena_chunk_count")) return 0;
  ArenaEnter(arena);
  for (i = 0; i < arena->chunkCount; ++i) n += arena->chunks[i] != NULL;
  ArenaLeave(arena);
  return n;
}

/* ---- collection control (interface.md §Arenas) ------------------------- */

mps_res_t mps_arena_collect(mps_arena_t arena)
{
  Res res;
  if (!arenaOK(arena, "mps_arena_collect")) return RES_PARAM;
  ArenaEnter(arena);
  res = TraceCollect(arena, TRUE, NULL);
  arena->state = ARENA_PARKED;
  ArenaLeave(arena);
  return res;
}

/* Collections run to completion at once, so a started one is finished. */
mps_res_t mps_arena_start_collect(mps_arena_t arena)
{
  Res res;
  if (!arenaOK(arena, "mps_arena_start_collect")) return RES_PARAM;
  ArenaEnter(arena);
  arena->state = ARENA_UNCLAMPED;
  res = TraceCollect(arena, TRUE, NULL);
  ArenaLeave(arena);
  return res;
}

static void arenaSetState(Arena arena, int state, const char *fn)
{
  if (!arenaOK(arena, fn)) return;
  ArenaEnter(arena);
  arena->state = state;
  ArenaLeave(arena);
}

void mps_arena_clamp(mps_arena_t arena) { arenaSetState(arena, ARENA_CLAMPED, "mps_arena_clamp"); }
void mps_arena_park(mps_arena_t arena) { arenaSetState(arena, ARENA_PARKED, "mps_arena_park"); }
/* Work deferred while the arena was parked or clamped is due now: if
 * allocation meanwhile took a generation past its capacity, collect at
 * once rather than at the next buffer fill, which may never come (a
 * client that only polls for finalization messages, say). */
void mps_arena_release(mps_arena_t arena)
{
  if (!arenaOK(arena, "mps_arena_release")) return;
  ArenaEnter(arena);
  arena->state = ARENA_UNCLAMPED;
  (void)TracePoll(arena);
  ArenaLeave(arena);
}

void mps_arena_postmortem(mps_arena_t arena)
{
  /* May be called from an assertion handler with the lock held: no lock. */
  if (!arenaOK(arena, "mps_arena_postmortem")) return;
  arena->state = ARENA_POSTMORTEM;
  {
    /* Remove all protection so that a debugger can read and write everything. */
    Ring node, next, snode, snext;
    RING_FOR(node, &arena->poolRing, next) {
      Pool pool = RING_ELT(PoolStruct, arenaRing, node);
      RING_FOR(snode, &pool->segRing, snext) ProtSet(RING_ELT(SegStruct, poolRing, snode), FALSE);
    }
    arena->gc->barrier = FALSE;
  }
}

/* Work is pending when the policy wants a collection.  A collection is
 * done only if the arena is unclamped or the client grants time for it
 * (interval * multiplier > 0); afterwards a parked arena is clamped. */
mps_bool_t mps_arena_step(mps_arena_t arena, double interval, double multiplier)
{
  Bool pending;
  if (!arenaOK(arena, "mps_arena_step")) return 0;
  ArenaEnter(arena);
  pending = ChainCondemnWanted(arena, NULL);
  if (pending && !arena->gc->trace.busy && interval * multiplier > 0.0)
    (void)TraceCollect(arena, FALSE, NULL);
  if (arena->state == ARENA_PARKED) arena->state = ARENA_CLAMPED;
  ArenaLeave(arena);
  return pending;
}

mps_bool_t mps_addr_fmt(mps_fmt_t *fmt_o, mps_arena_t arena, mps_addr_t addr)
{
  Seg seg;
  Bool found, claimed;
  if (!arenaOK(arena, "mps_addr_fmt")) return 0;
  if (fmt_o == NULL) {
    (void)MISUSE("mps_addr_fmt: fmt_o is NULL");
    return 0;
  }
  claimed = ArenaEnterRecursive(arena);
  found = ArenaSegOf(&seg, arena, (Addr)addr) && seg->pool->format != NULL;
  if (found) *fmt_o = seg->pool->format;
  ArenaLeaveRecursive(arena, claimed);
  return found;
}

mps_res_t mps_addr_object(mps_addr_t *p_o, mps_arena_t arena, mps_addr_t addr)
{
  Seg seg;
  Addr base = NULL;
  Res res = RES_FAIL;
  if (!arenaOK(arena, "mps_addr_object")) return RES_PARAM;
  if (p_o == NULL) return MISUSE("mps_addr_object: p_o is NULL");
  ArenaEnter(arena);
  if (ArenaSegOf(&seg, arena, (Addr)addr))
    res = seg->pool->klass->addrObject == NULL
              ? RES_UNIMPL
              : seg->pool->klass->addrObject(&base, seg->pool, seg, (Addr)addr);
  ArenaLeave(arena);
  if (res == RES_OK) *p_o = base;
  return res;
}
