/* mpsiap.c -- the interface layer for allocation points and segregated
 * allocation caches (docs/design/interface.md).  The inline fast paths live in the
 * client's code (mps.h macros); these are the function forms and the slow
 * paths.  Design: docs/design/buffer.md, docs/design/sac.md.
 */
#include "gc.h"
#include "sac.h"
#include "arg.h"
#include "gcp_ext.h"
#include <stdarg.h>

static Bool apOK(mps_ap_t ap, const char *fn)
{
  Buffer buf = BufferOfAP(ap);
  if (LIKELY(ap != NULL && buf->sig == BufferSig && buf->pool->sig == PoolSig)) {
    AVER_CRITICAL(BufferCheck(buf));
    return TRUE;
  }
  (void)MISUSE("%s: %p is not a live allocation point", fn, (void *)ap);
  return FALSE;
}

static Bool sacOK(mps_sac_t esac, const char *fn)
{
  if (LIKELY(esac != NULL && SACOfExternal(esac)->sig == SACSig)) {
    AVER_CRITICAL(SACCheck(SACOfExternal(esac)));
    return TRUE;
  }
  (void)MISUSE("%s: %p is not a live allocation cache", fn, (void *)esac);
  return FALSE;
}

/* ---- allocation points ------------------------------------------------- */

mps_res_t mps_ap_create_k(mps_ap_t *ap_o, mps_pool_t pool, mps_arg_s args[])
{
  Buffer buf = NULL;
  Res res;
  if (ap_o == NULL) return MISUSE("mps_ap_create_k: ap_o is NULL");
  if (pool == NULL || pool->sig != PoolSig)
    return MISUSE("mps_ap_create_k: %p is not a live pool", (void *)pool);
  if (!(pool->klass->attr & POOL_ATTR_AP))
    return MISUSE("mps_ap_create_k: pools of class %s have no allocation points",
                  pool->klass->name);
  if (args == NULL) return MISUSE("mps_ap_create_k: args is NULL (pass mps_args_none)");
  ArenaEnter(pool->arena);
  res = BufferCreate(&buf, pool, args);
  ArenaLeave(pool->arena);
  if (res != RES_OK) return res;
  *ap_o = BufferAP(buf);
  return RES_OK;
}

mps_res_t mps_ap_create_v(mps_ap_t *ap_o, mps_pool_t pool, va_list varargs)
{
  mps_arg_s args[2];
  if (pool != NULL && pool->sig == PoolSig && (pool->klass->attr & POOL_ATTR_RANKED_APS)) {
    args[0].key = MPS_KEY_RANK; /* AMS, AWL and SNC read a rank */
    args[0].val.rank = va_arg(varargs, mps_rank_t);
    args[1].key = MPS_KEY_ARGS_END;
    return mps_ap_create_k(ap_o, pool, args);
  }
  return mps_ap_create_k(ap_o, pool, mps_args_none);
}

mps_res_t mps_ap_create(mps_ap_t *ap_o, mps_pool_t pool, ...)
{
  mps_res_t res;
  va_list varargs;
  va_start(varargs, pool);
  res = mps_ap_create_v(ap_o, pool, varargs);
  va_end(varargs);
  return res;
}

void mps_ap_destroy(mps_ap_t ap)
{
  Buffer buf = NULL;
  Arena arena = NULL;
  DESTROY_BEGIN();
  if (!apOK(ap, "mps_ap_destroy")) return;
  buf = BufferOfAP(ap);
  if (ap->init != ap->alloc) {
    (void)REFUSE("mps_ap_destroy: a block is reserved and not committed");
    return;
  }
  arena = buf->pool->arena;
  ArenaEnter(arena);
  BufferDestroy(buf);
  ArenaLeave(arena);
}

mps_res_t mps_ap_fill(mps_addr_t *p_o, mps_ap_t ap, size_t size)
{
  Buffer buf = NULL;
  Addr p = NULL;
  Res res;
  if (p_o == NULL) return MISUSE("mps_ap_fill: p_o is NULL");
  if (!apOK(ap, "mps_ap_fill")) return RES_PARAM;
  buf = BufferOfAP(ap);
  if (size == 0 || (size & (buf->pool->alignment - 1)) != 0)
    return MISUSE("mps_reserve: size %zu is not a positive multiple of the pool alignment %zu",
                  size, buf->pool->alignment);
  if (ap->init != ap->alloc)
    return MISUSE("mps_reserve: a block is already reserved on this allocation point");
  if (size > SIZE_LIMIT) return RES_RESOURCE;
  ArenaEnter(buf->pool->arena);
  res = BufferFill(&p, buf, size);
  ArenaLeave(buf->pool->arena);
  if (res != RES_OK) return res;
  *p_o = p;
  return RES_OK;
}

mps_bool_t mps_ap_trip(mps_ap_t ap, mps_addr_t p, size_t size)
{
  Buffer buf = NULL;
  Bool ok;
  if (!apOK(ap, "mps_ap_trip")) return 0;
  buf = BufferOfAP(ap);
  if ((Addr)ap->init != AddrAdd(p, size) || ap->init != ap->alloc) {
    (void)MISUSE("mps_commit: block %p of %zu bytes is not the one just reserved", p, size);
    return 0;
  }
  ArenaEnter(buf->pool->arena);
  ok = BufferTrip(buf, (Addr)p, size);
  ArenaLeave(buf->pool->arena);
  return ok ? 1 : 0;
}

mps_res_t(mps_reserve)(mps_addr_t *p_o, mps_ap_t ap, size_t size)
{
  char *next;
  if (!apOK(ap, "mps_reserve")) return RES_PARAM;
  if (p_o == NULL) return MISUSE("mps_reserve: p_o is NULL");
  if (size == 0 || (size & (BufferOfAP(ap)->pool->alignment - 1)) != 0)
    return MISUSE("mps_reserve: size %zu is not a positive multiple of the pool alignment %zu",
                  size, BufferOfAP(ap)->pool->alignment);
  if (ap->init != ap->alloc)
    return MISUSE("mps_reserve: a block is already reserved on this allocation point");
  next = (char *)ap->alloc + size;
  if (next > (char *)ap->alloc && next <= (char *)ap->limit) {
    ap->alloc = next;
    *p_o = ap->init;
    return RES_OK;
  }
  return mps_ap_fill(p_o, ap, size);
}

mps_bool_t(mps_commit)(mps_ap_t ap, mps_addr_t p, size_t size)
{
  if (!apOK(ap, "mps_commit")) return 0;
  if (p != ap->init || (char *)p + size != (char *)ap->alloc) {
    (void)MISUSE("mps_commit: block %p of %zu bytes is not the one just reserved", p, size);
    return 0;
  }
  ap->init = ap->alloc;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  if (ap->limit != NULL) return 1;
  return mps_ap_trip(ap, p, size);
}

/* Frames: the classes that give them meaning (SNC) have frame methods;
 * elsewhere a frame is the AP's init pointer and popping is a hint that is
 * ignored. */
mps_res_t(mps_ap_frame_push)(mps_frame_t *frame_o, mps_ap_t ap)
{
  Buffer buf;
  Pool pool;
  Res res;
  if (frame_o == NULL) return MISUSE("mps_ap_frame_push: frame_o is NULL");
  if (!apOK(ap, "mps_ap_frame_push")) return RES_PARAM;
  if (ap->init != ap->alloc) return RES_FAIL;
  buf = BufferOfAP(ap);
  pool = buf->pool;
  if (pool->klass->framePush == NULL) {
    *frame_o = (mps_frame_t)ap->init;
    return RES_OK;
  }
  ArenaEnter(pool->arena);
  res = pool->klass->framePush(frame_o, pool, buf);
  ArenaLeave(pool->arena);
  return res;
}

mps_res_t(mps_ap_frame_pop)(mps_ap_t ap, mps_frame_t frame)
{
  Buffer buf;
  Pool pool;
  Res res;
  if (!apOK(ap, "mps_ap_frame_pop")) return RES_PARAM;
  if (ap->init != ap->alloc) return RES_FAIL;
  buf = BufferOfAP(ap);
  pool = buf->pool;
  if (pool->klass->framePop == NULL) return RES_OK;
  ArenaEnter(pool->arena);
  res = pool->klass->framePop(pool, buf, frame);
  ArenaLeave(pool->arena);
  return res;
}

/* Allocation patterns: ramps are counted so that begin and end pair up.
 * While one is active on an allocation point, its pool's survivors stay
 * in the chain's last generation instead of being promoted out of the
 * chain (poolamc.c), so that what the ramp made is collected soon after
 * it ends; collections go on as usual meanwhile.  The end of the last
 * ramp-collect-all makes the next collection a full one. */
static struct mps_alloc_pattern_s {
  int kind;
} patternRamp = { 1 }, patternRampCollectAll = { 2 };

mps_alloc_pattern_t mps_alloc_pattern_ramp(void) { return &patternRamp; }
mps_alloc_pattern_t mps_alloc_pattern_ramp_collect_all(void) { return &patternRampCollectAll; }

/* Set an allocation point's ramp depths, with the arena lock. */
static Res apSetRamps(Buffer buf, Count rampDepth, Count collectAllDepth)
{
  Arena arena = buf->pool->arena;
  ArenaEnter(arena);
  BufferSetRamps(buf, rampDepth, collectAllDepth);
  ArenaLeave(arena);
  return RES_OK;
}

mps_res_t mps_ap_alloc_pattern_begin(mps_ap_t ap, mps_alloc_pattern_t pattern)
{
  Buffer buf;
  if (!apOK(ap, "mps_ap_alloc_pattern_begin")) return RES_PARAM;
  buf = BufferOfAP(ap);
  if (pattern == &patternRamp) return apSetRamps(buf, buf->rampDepth + 1, buf->rampCollectAllDepth);
  if (pattern == &patternRampCollectAll)
    return apSetRamps(buf, buf->rampDepth, buf->rampCollectAllDepth + 1);
  return RES_OK; /* an unknown pattern is only a hint */
}

/* RES_FAIL for the end of a ramp that did not begin. */
mps_res_t mps_ap_alloc_pattern_end(mps_ap_t ap, mps_alloc_pattern_t pattern)
{
  Buffer buf;
  if (!apOK(ap, "mps_ap_alloc_pattern_end")) return RES_PARAM;
  buf = BufferOfAP(ap);
  if (pattern == &patternRamp && buf->rampDepth > 0)
    return apSetRamps(buf, buf->rampDepth - 1, buf->rampCollectAllDepth);
  if (pattern == &patternRampCollectAll && buf->rampCollectAllDepth > 0)
    return apSetRamps(buf, buf->rampDepth, buf->rampCollectAllDepth - 1);
  return RES_FAIL;
}

mps_res_t mps_ap_alloc_pattern_reset(mps_ap_t ap)
{
  Buffer buf = NULL;
  if (!apOK(ap, "mps_ap_alloc_pattern_reset")) return RES_PARAM;
  buf = BufferOfAP(ap);
  return apSetRamps(buf, 0, 0);
}

/* ---- segregated allocation caches ------------------------------------------ */

mps_res_t mps_sac_create(mps_sac_t *sac_o, mps_pool_t pool, size_t classes_count,
                         mps_sac_class_s *classes)
{
  SAC sac = NULL;
  Res res;
  if (sac_o == NULL) return MISUSE("mps_sac_create: sac_o is NULL");
  if (pool == NULL || pool->sig != PoolSig)
    return MISUSE("mps_sac_create: %p is not a live pool", (void *)pool);
  if (!(pool->klass->attr & POOL_ATTR_SAC))
    return MISUSE("mps_sac_create: pools of class %s do not support allocation caches",
                  pool->klass->name);
  if (classes == NULL) return MISUSE("mps_sac_create: classes is NULL");
  ArenaEnter(pool->arena);
  res = SACCreate(&sac, pool, classes_count, classes);
  ArenaLeave(pool->arena);
  if (res != RES_OK) return res;
  *sac_o = &sac->esac;
  return RES_OK;
}

void mps_sac_destroy(mps_sac_t esac)
{
  SAC sac;
  Arena arena = NULL;
  DESTROY_BEGIN();
  if (!sacOK(esac, "mps_sac_destroy")) return;
  sac = SACOfExternal(esac);
  arena = sac->pool->arena;
  ArenaEnter(arena);
  SACDestroy(sac);
  ArenaLeave(arena);
}

mps_res_t mps_sac_fill(mps_addr_t *p_o, mps_sac_t esac, size_t size, mps_bool_t unused)
{
  SAC sac;
  Addr p = NULL;
  Res res;
  UNUSED(unused);
  if (p_o == NULL) return MISUSE("mps_sac_fill: p_o is NULL");
  if (!sacOK(esac, "mps_sac_alloc")) return RES_PARAM;
  if (size == 0) return MISUSE("mps_sac_alloc: size is zero");
  if (size > SIZE_LIMIT) return RES_RESOURCE;
  sac = SACOfExternal(esac);
  ArenaEnter(sac->pool->arena);
  res = SACFill(&p, sac, size);
  ArenaLeave(sac->pool->arena);
  if (res != RES_OK) return res;
  *p_o = p;
  return RES_OK;
}

void mps_sac_empty(mps_sac_t esac, mps_addr_t p, size_t size)
{
  SAC sac;
  if (!sacOK(esac, "mps_sac_free")) return;
  if (p == NULL) {
    (void)MISUSE("mps_sac_free: address is NULL");
    return;
  }
  if (size == 0) {
    (void)MISUSE("mps_sac_free: size is zero");
    return;
  }
  if (size > SIZE_LIMIT) {
    (void)MISUSE("mps_sac_free: size %zu is larger than any block can be", size);
    return;
  }
  sac = SACOfExternal(esac);
  ArenaEnter(sac->pool->arena);
  SACEmpty(sac, (Addr)p, size);
  ArenaLeave(sac->pool->arena);
}

mps_res_t mps_sac_alloc(mps_addr_t *p_o, mps_sac_t sac, size_t size, mps_bool_t unused)
{
  mps_res_t res;
  if (!sacOK(sac, "mps_sac_alloc")) return RES_PARAM;
  if (size == 0) return MISUSE("mps_sac_alloc: size is zero");
  MPS_SAC_ALLOC_FAST(res, *p_o, sac, size, unused);
  return res;
}

void mps_sac_free(mps_sac_t sac, mps_addr_t p, size_t size)
{
  if (!sacOK(sac, "mps_sac_free")) return;
  if (p == NULL) {
    (void)MISUSE("mps_sac_free: address is NULL");
    return;
  }
  if (size == 0) {
    (void)MISUSE("mps_sac_free: size is zero");
    return;
  }
  if (size > SIZE_LIMIT) {
    (void)MISUSE("mps_sac_free: size %zu is larger than any block can be", size);
    return;
  }
  MPS_SAC_FREE_FAST(sac, p, size);
}

void mps_sac_flush(mps_sac_t esac)
{
  SAC sac;
  if (!sacOK(esac, "mps_sac_flush")) return;
  sac = SACOfExternal(esac);
  ArenaEnter(sac->pool->arena);
  SACFlush(sac);
  ArenaLeave(sac->pool->arena);
}

size_t gcp_sac_cached_size(mps_sac_t esac)
{
  if (!sacOK(esac, "gcp_sac_cached_size")) return 0;
  return SACCachedBytes(SACOfExternal(esac));
}
