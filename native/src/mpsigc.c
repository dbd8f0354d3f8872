/* mpsigc.c -- the interface layer for the collector: formats, roots,
 * threads, chains, messages, finalization, walks and collection control.
 * It validates what the client passes, reports misuse, takes the arena
 * lock and calls the core.  Design: docs/design/collector-interface.md,
 * docs/design/interface.md (arenas), docs/design/trace.md.
 */
#include "gc.h"
#include "arg.h"
#include "gcp_ext.h"
#include "mpscsnc.h"

static Bool gcArenaOK(Arena arena, const char *fn)
{
  if (LIKELY(arena != NULL && arena->sig == ArenaSig)) return TRUE;
  (void)MISUSE("%s: %p is not a live arena", fn, (void *)arena);
  return FALSE;
}

/* ---- formats -------------------------------------------------------- */

mps_res_t mps_fmt_create_k(mps_fmt_t *fmt_o, mps_arena_t arena, mps_arg_s args[])
{
  Format fmt = NULL;
  Res res;
  if (fmt_o == NULL) return MISUSE("mps_fmt_create_k: fmt_o is NULL");
  if (!gcArenaOK(arena, "mps_fmt_create_k")) return RES_PARAM;
  if (args == NULL) return MISUSE("mps_fmt_create_k: args is NULL (pass mps_args_none)");
  ArenaEnter(arena);
  res = FormatCreate(&fmt, arena, args);
  ArenaLeave(arena);
  if (res == RES_OK) *fmt_o = fmt;
  return res;
}

/* gcp_ext.h: what a format made by C code is, for the Python layer's
 * Arena.adopt_format. */
int gcp_fmt_describe(mps_fmt_t fmt, mps_arena_t *arena_o, size_t *align_o, size_t *header_o)
{
  if (fmt == NULL || fmt->sig != FormatSig) {
    (void)MISUSE("gcp_fmt_describe: %p is not a live format", (void *)fmt);
    return 0;
  }
  *arena_o = fmt->arena;
  *align_o = fmt->alignment;
  *header_o = fmt->headerSize;
  return 1;
}

void mps_fmt_destroy(mps_fmt_t fmt)
{
  Arena arena;
  DESTROY_BEGIN();
  if (fmt == NULL || fmt->sig != FormatSig) {
    (void)MISUSE("mps_fmt_destroy: %p is not a live format", (void *)fmt);
    return;
  }
  arena = fmt->arena;
  ArenaEnter(arena);
  if (fmt->poolCount != 0)
    (void)REFUSE("mps_fmt_destroy: the format is still used by %zu pool(s)",
                 (size_t)fmt->poolCount);
  else
    FormatDestroy(fmt);
  ArenaLeave(arena);
}

static mps_res_t fmtCreateLegacy(mps_fmt_t *fmt_o, mps_arena_t arena, mps_align_t align,
                                 size_t header, mps_fmt_scan_t scan, mps_fmt_skip_t skip,
                                 mps_fmt_fwd_t fwd, mps_fmt_isfwd_t isfwd, mps_fmt_pad_t pad,
                                 mps_fmt_class_t klass)
{
  mps_res_t res;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FMT_ALIGN, align);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_HEADER_SIZE, header);
    if (scan != NULL) MPS_ARGS_ADD(args, MPS_KEY_FMT_SCAN, scan);
    if (skip != NULL) MPS_ARGS_ADD(args, MPS_KEY_FMT_SKIP, skip);
    if (fwd != NULL) MPS_ARGS_ADD(args, MPS_KEY_FMT_FWD, fwd);
    if (isfwd != NULL) MPS_ARGS_ADD(args, MPS_KEY_FMT_ISFWD, isfwd);
    if (pad != NULL) MPS_ARGS_ADD(args, MPS_KEY_FMT_PAD, pad);
    if (klass != NULL) MPS_ARGS_ADD(args, MPS_KEY_FMT_CLASS, klass);
    res = mps_fmt_create_k(fmt_o, arena, args);
  }
  MPS_ARGS_END(args);
  return res;
}

mps_res_t mps_fmt_create_A(mps_fmt_t *fmt_o, mps_arena_t arena, mps_fmt_A_s *f)
{
  if (f == NULL) return MISUSE("mps_fmt_create_A: the format structure is NULL");
  return fmtCreateLegacy(fmt_o, arena, f->align, 0, f->scan, f->skip, f->fwd, f->isfwd, f->pad,
                         NULL);
}

mps_res_t mps_fmt_create_B(mps_fmt_t *fmt_o, mps_arena_t arena, mps_fmt_B_s *f)
{
  if (f == NULL) return MISUSE("mps_fmt_create_B: the format structure is NULL");
  return fmtCreateLegacy(fmt_o, arena, f->align, 0, f->scan, f->skip, f->fwd, f->isfwd, f->pad,
                         f->mps_class);
}

mps_res_t mps_fmt_create_auto_header(mps_fmt_t *fmt_o, mps_arena_t arena, mps_fmt_auto_header_s *f)
{
  if (f == NULL) return MISUSE("mps_fmt_create_auto_header: the format structure is NULL");
  return fmtCreateLegacy(fmt_o, arena, f->align, f->mps_headerSize, f->scan, f->skip, f->fwd,
                         f->isfwd, f->pad, NULL);
}

mps_res_t mps_fmt_create_fixed(mps_fmt_t *fmt_o, mps_arena_t arena, mps_fmt_fixed_s *f)
{
  if (f == NULL) return MISUSE("mps_fmt_create_fixed: the format structure is NULL");
  return fmtCreateLegacy(fmt_o, arena, f->align, 0, f->scan, NULL, f->fwd, f->isfwd, f->pad, NULL);
}

/* ---- roots ---------------------------------------------------------- */

static Res rootCheckRank(mps_rank_t rank, const char *fn)
{
  if (rank != RANK_AMBIG && rank != RANK_EXACT && rank != RANK_WEAK)
    return MISUSE("%s: %u is not a rank (use mps_rank_ambig, _exact or _weak)", fn, rank);
  return RES_OK;
}

static mps_res_t rootMake(mps_root_t *root_o, mps_arena_t arena, RootStruct *model, const char *fn)
{
  Root root = NULL;
  Res res;
  if (root_o == NULL) return MISUSE("%s: root_o is NULL", fn);
  if (!gcArenaOK(arena, fn)) return RES_PARAM;
  res = rootCheckRank(model->rank, fn);
  if (res != RES_OK) return res;
  if ((model->mode & ~(MPS_RM_CONST | MPS_RM_PROT)) != 0)
    return MISUSE("%s: %#x is not a root mode", fn, model->mode);
  ArenaEnter(arena);
  res = RootCreate(&root, arena, model);
  ArenaLeave(arena);
  if (res == RES_OK) *root_o = root;
  return res;
}

mps_res_t mps_root_create(mps_root_t *root_o, mps_arena_t arena, mps_rank_t rank, mps_rm_t rm,
                          mps_root_scan_t root_scan, void *p, size_t s)
{
  RootStruct m;
  memset(&m, 0, sizeof m);
  if (root_scan == NULL) return MISUSE("mps_root_create: the scan function is NULL");
  m.rank = rank;
  m.mode = rm;
  m.kind = ROOT_FUN;
  m.funScan = root_scan;
  m.p = p;
  m.s = s;
  return rootMake(root_o, arena, &m, "mps_root_create");
}

static mps_res_t rootArea(mps_root_t *root_o, mps_arena_t arena, mps_rank_t rank, mps_rm_t rm,
                          void *base, void *limit, mps_area_scan_t scan, void *closure,
                          const mps_scan_tag_s *tag, const char *fn)
{
  RootStruct m;
  memset(&m, 0, sizeof m);
  if (base == NULL || (Addr)limit <= (Addr)base)
    return MISUSE("%s: [%p, %p) is not an area", fn, base, limit);
  if (!AddrIsAligned(base, sizeof(Word)) || !AddrIsAligned(limit, sizeof(Word)))
    return MISUSE("%s: the area [%p, %p) is not word-aligned", fn, base, limit);
  if (scan == NULL) return MISUSE("%s: the area scanner is NULL", fn);
  m.rank = rank;
  m.mode = rm;
  m.kind = ROOT_AREA;
  m.base = base;
  m.limit = limit;
  m.areaScan = scan;
  m.closure = closure;
  if (tag != NULL) {
    m.tag = *tag;
    m.closure = &m.tag;
  }
  return rootMake(root_o, arena, &m, fn);
}

/* RootCreate re-points a closure aimed at the model's tag at the root's. */
mps_res_t mps_root_create_area(mps_root_t *root_o, mps_arena_t arena, mps_rank_t rank, mps_rm_t rm,
                               void *base, void *limit, mps_area_scan_t scan_area, void *closure)
{
  return rootArea(root_o, arena, rank, rm, base, limit, scan_area, closure, NULL,
                  "mps_root_create_area");
}

mps_res_t mps_root_create_area_tagged(mps_root_t *root_o, mps_arena_t arena, mps_rank_t rank,
                                      mps_rm_t rm, void *base, void *limit,
                                      mps_area_scan_t scan_area, mps_word_t mask,
                                      mps_word_t pattern)
{
  mps_scan_tag_s tag;
  tag.mask = mask;
  tag.pattern = pattern;
  return rootArea(root_o, arena, rank, rm, base, limit, scan_area, NULL, &tag,
                  "mps_root_create_area_tagged");
}

mps_res_t mps_root_create_table(mps_root_t *root_o, mps_arena_t arena, mps_rank_t rank, mps_rm_t rm,
                                mps_addr_t *base, size_t count)
{
  if (count == 0 || count > SIZE_LIMIT / sizeof(mps_addr_t))
    return MISUSE("mps_root_create_table: count %zu is out of range", count);
  return rootArea(root_o, arena, rank, rm, base, base + count, mps_scan_area, NULL, NULL,
                  "mps_root_create_table");
}

mps_res_t mps_root_create_table_masked(mps_root_t *root_o, mps_arena_t arena, mps_rank_t rank,
                                       mps_rm_t rm, mps_addr_t *base, size_t count, mps_word_t mask)
{
  mps_scan_tag_s tag;
  if (count == 0 || count > SIZE_LIMIT / sizeof(mps_addr_t))
    return MISUSE("mps_root_create_table_masked: count %zu is out of range", count);
  tag.mask = mask;
  tag.pattern = 0;
  return rootArea(root_o, arena, rank, rm, base, base + count, mps_scan_area_tagged, NULL, &tag,
                  "mps_root_create_table_masked");
}

mps_res_t mps_root_create_fmt(mps_root_t *root_o, mps_arena_t arena, mps_rank_t rank, mps_rm_t rm,
                              mps_fmt_scan_t fmt_scan, mps_addr_t base, mps_addr_t limit)
{
  RootStruct m;
  memset(&m, 0, sizeof m);
  if (fmt_scan == NULL) return MISUSE("mps_root_create_fmt: the scan method is NULL");
  if (base == NULL || (Addr)limit <= (Addr)base)
    return MISUSE("mps_root_create_fmt: [%p, %p) is not an area", base, limit);
  m.rank = rank;
  m.mode = rm;
  m.kind = ROOT_FMT;
  m.fmtScan = fmt_scan;
  m.base = base;
  m.limit = limit;
  return rootMake(root_o, arena, &m, "mps_root_create_fmt");
}

mps_res_t mps_root_create_thread_scanned(mps_root_t *root_o, mps_arena_t arena, mps_rank_t rank,
                                         mps_rm_t rm, mps_thr_t thr, mps_area_scan_t scan_area,
                                         void *closure, void *cold)
{
  RootStruct m;
  memset(&m, 0, sizeof m);
  if (thr == NULL || thr->sig != ThreadSig || thr->arena != arena)
    return MISUSE("mps_root_create_thread: %p is not a thread registered with this arena",
                  (void *)thr);
  if (rank != RANK_AMBIG) return MISUSE("mps_root_create_thread: thread roots must be ambiguous");
  if (rm != 0) return MISUSE("mps_root_create_thread: thread roots take mode 0");
  if (cold == NULL || !AddrIsAligned(cold, sizeof(Word)))
    return MISUSE("mps_root_create_thread: the cold end %p is not a word-aligned address", cold);
  if (scan_area == NULL) return MISUSE("mps_root_create_thread: the area scanner is NULL");
  m.rank = rank;
  m.kind = ROOT_THREAD;
  m.thread = thr;
  m.limit = cold;
  m.areaScan = scan_area;
  m.closure = closure;
  return rootMake(root_o, arena, &m, "mps_root_create_thread");
}

mps_res_t mps_root_create_thread_tagged(mps_root_t *root_o, mps_arena_t arena, mps_rank_t rank,
                                        mps_rm_t rm, mps_thr_t thr, mps_area_scan_t scan_area,
                                        mps_word_t mask, mps_word_t pattern, void *cold)
{
  RootStruct m;
  mps_res_t res;
  memset(&m, 0, sizeof m);
  m.tag.mask = mask;
  m.tag.pattern = pattern;
  res = mps_root_create_thread_scanned(root_o, arena, rank, rm, thr, scan_area, &m.tag, cold);
  if (res == RES_OK) {
    Root root = *root_o;
    ArenaEnter(arena);
    root->tag = m.tag;
    root->closure = &root->tag;
    ArenaLeave(arena);
  }
  return res;
}

mps_res_t mps_root_create_thread(mps_root_t *root_o, mps_arena_t arena, mps_thr_t thr, void *cold)
{
  return mps_root_create_thread_tagged(root_o, arena, mps_rank_ambig(), 0, thr,
                                       mps_scan_area_tagged, sizeof(mps_word_t) - 1, 0, cold);
}

mps_res_t mps_root_create_reg(mps_root_t *root_o, mps_arena_t arena, mps_rank_t rank, mps_rm_t rm,
                              mps_thr_t thr, mps_reg_scan_t reg_scan, void *p, size_t s)
{
  UNUSED(s);
  if (reg_scan != mps_stack_scan_ambig)
    return MISUSE("mps_root_create_reg: the scanner must be mps_stack_scan_ambig");
  return mps_root_create_thread_tagged(root_o, arena, rank, rm, thr, mps_scan_area_tagged,
                                       sizeof(mps_word_t) - 1, 0, p);
}

void mps_root_destroy(mps_root_t root)
{
  Arena arena;
  DESTROY_BEGIN();
  if (root == NULL || root->sig != RootSig) {
    (void)MISUSE("mps_root_destroy: %p is not a live root", (void *)root);
    return;
  }
  arena = root->arena;
  ArenaEnter(arena);
  RootDestroy(root);
  ArenaLeave(arena);
}

/* ---- threads -------------------------------------------------------- */

mps_res_t mps_thread_reg(mps_thr_t *thr_o, mps_arena_t arena)
{
  Thread thr = NULL;
  Res res;
  if (thr_o == NULL) return MISUSE("mps_thread_reg: thr_o is NULL");
  if (!gcArenaOK(arena, "mps_thread_reg")) return RES_PARAM;
  ArenaEnter(arena);
  res = ThreadRegister(&thr, arena);
  ArenaLeave(arena);
  if (res == RES_OK) *thr_o = thr;
  return res;
}

void mps_thread_dereg(mps_thr_t thr)
{
  Arena arena;
  Ring node, next;
  DESTROY_BEGIN();
  if (thr == NULL || thr->sig != ThreadSig) {
    (void)MISUSE("mps_thread_dereg: %p is not a registered thread", (void *)thr);
    return;
  }
  arena = thr->arena;
  ArenaEnter(arena);
  RING_FOR(node, &arena->gc->rootRing, next) {
    Root root = RING_ELT(RootStruct, arenaRing, node);
    if (root->kind == ROOT_THREAD && root->thread == thr) {
      ArenaLeave(arena);
      (void)REFUSE("mps_thread_dereg: destroy the thread's root %p first", (void *)root);
      return;
    }
  }
  ThreadDeregister(thr);
  ArenaLeave(arena);
}

void gcp_arena_all_threads(mps_arena_t arena, int on)
{
  if (!gcArenaOK(arena, "gcp_arena_all_threads")) return;
  ArenaEnter(arena);
  arena->gc->allThreads = on != 0;
  ArenaLeave(arena);
}

size_t gcp_arena_unstoppable_threads(mps_arena_t arena)
{
  if (!gcArenaOK(arena, "gcp_arena_unstoppable_threads")) return 0;
  return arena->gc->unstoppable;
}

/* ---- chains --------------------------------------------------------- */

mps_res_t mps_chain_create(mps_chain_t *chain_o, mps_arena_t arena, size_t gen_count,
                           mps_gen_param_s *gen_params)
{
  Chain chain = NULL;
  Res res;
  if (chain_o == NULL) return MISUSE("mps_chain_create: chain_o is NULL");
  if (!gcArenaOK(arena, "mps_chain_create")) return RES_PARAM;
  if (gen_params == NULL) return MISUSE("mps_chain_create: gen_params is NULL");
  ArenaEnter(arena);
  res = ChainCreate(&chain, arena, gen_count, gen_params);
  ArenaLeave(arena);
  if (res == RES_OK) *chain_o = chain;
  return res;
}

void mps_chain_destroy(mps_chain_t chain)
{
  Arena arena;
  DESTROY_BEGIN();
  if (chain == NULL || chain->sig != ChainSig || chain == chain->arena->gc->defaultChain) {
    (void)MISUSE("mps_chain_destroy: %p is not a live chain the client created", (void *)chain);
    return;
  }
  arena = chain->arena;
  ArenaEnter(arena);
  if (chain->poolCount != 0)
    (void)REFUSE("mps_chain_destroy: the chain is still used by %zu pool(s)",
                 (size_t)chain->poolCount);
  else
    ChainDestroy(chain);
  ArenaLeave(arena);
}

/* ---- messages ------------------------------------------------------- */

static Bool messageTypeOK(mps_message_type_t type, const char *fn)
{
  if (type < MESSAGE_TYPES) return TRUE;
  (void)MISUSE("%s: %u is not a message type", fn, type);
  return FALSE;
}

void mps_message_type_enable(mps_arena_t arena, mps_message_type_t type)
{
  if (!gcArenaOK(arena, "mps_message_type_enable") ||
      !messageTypeOK(type, "mps_message_type_enable"))
    return;
  ArenaEnter(arena);
  arena->gc->enabled |= 1u << type;
  ArenaLeave(arena);
}

void mps_message_type_disable(mps_arena_t arena, mps_message_type_t type)
{
  Ring node, next;
  if (!gcArenaOK(arena, "mps_message_type_disable") ||
      !messageTypeOK(type, "mps_message_type_disable"))
    return;
  ArenaEnter(arena);
  arena->gc->enabled &= ~(1u << type);
  RING_FOR(node, &arena->gc->messageQueue, next) {
    Message msg = RING_ELT(MessageStruct, queueRing, node);
    if (msg->type == type && !msg->taken) MessageDiscard(arena, msg);
  }
  ArenaLeave(arena);
}

static Message messageFirst(Arena arena, Bool anyType, mps_message_type_t type)
{
  Ring node, next;
  RING_FOR(node, &arena->gc->messageQueue, next) {
    Message msg = RING_ELT(MessageStruct, queueRing, node);
    if (!msg->taken && (anyType || msg->type == type)) return msg;
  }
  return NULL;
}

mps_bool_t mps_message_poll(mps_arena_t arena)
{
  Bool any;
  if (!gcArenaOK(arena, "mps_message_poll")) return 0;
  ArenaEnter(arena);
  any = messageFirst(arena, TRUE, 0) != NULL;
  ArenaLeave(arena);
  return any;
}

mps_bool_t mps_message_queue_type(mps_message_type_t *type_o, mps_arena_t arena)
{
  Message msg;
  if (type_o == NULL) {
    (void)MISUSE("mps_message_queue_type: type_o is NULL");
    return 0;
  }
  if (!gcArenaOK(arena, "mps_message_queue_type")) return 0;
  ArenaEnter(arena);
  msg = messageFirst(arena, TRUE, 0);
  if (msg != NULL) *type_o = msg->type;
  ArenaLeave(arena);
  return msg != NULL;
}

mps_bool_t mps_message_get(mps_message_t *message_o, mps_arena_t arena, mps_message_type_t type)
{
  Message msg;
  if (message_o == NULL) {
    (void)MISUSE("mps_message_get: message_o is NULL");
    return 0;
  }
  if (!gcArenaOK(arena, "mps_message_get") || !messageTypeOK(type, "mps_message_get")) return 0;
  ArenaEnter(arena);
  msg = messageFirst(arena, FALSE, type);
  if (msg != NULL) {
    if (msg->type == _mps_MESSAGE_TYPE_FINALIZATION)
      msg->taken = TRUE; /* still holds its object */
    else {
      RingRemove(&msg->queueRing);
      msg->queued = FALSE;
    }
    *message_o = msg;
  }
  ArenaLeave(arena);
  return msg != NULL;
}

static Bool messageOK(Arena arena, Message msg, const char *fn)
{
  if (!gcArenaOK(arena, fn)) return FALSE;
  if (msg != NULL && msg->sig == MessageSig) return TRUE;
  (void)MISUSE("%s: %p is not a message got and not yet discarded", fn, (void *)msg);
  return FALSE;
}

void mps_message_discard(mps_arena_t arena, mps_message_t message)
{
  if (!messageOK(arena, message, "mps_message_discard")) return;
  ArenaEnter(arena);
  MessageDiscard(arena, message);
  ArenaLeave(arena);
}

mps_message_type_t mps_message_type(mps_arena_t arena, mps_message_t message)
{
  if (!messageOK(arena, message, "mps_message_type")) return 0;
  return message->type;
}

mps_clock_t mps_message_clock(mps_arena_t arena, mps_message_t message)
{
  if (!messageOK(arena, message, "mps_message_clock")) return 0;
  return message->type == _mps_MESSAGE_TYPE_FINALIZATION ? 0 : message->clock;
}

static Bool messageOfType(Arena arena, Message msg, mps_message_type_t type, const char *fn)
{
  if (!messageOK(arena, msg, fn)) return FALSE;
  if (msg->type == type) return TRUE;
  (void)MISUSE("%s: message %p is of another type (%u)", fn, (void *)msg, msg->type);
  return FALSE;
}

void mps_message_finalization_ref(mps_addr_t *ref_o, mps_arena_t arena, mps_message_t message)
{
  if (ref_o == NULL) {
    (void)MISUSE("mps_message_finalization_ref: ref_o is NULL");
    return;
  }
  if (!messageOfType(arena, message, _mps_MESSAGE_TYPE_FINALIZATION,
                     "mps_message_finalization_ref"))
    return;
  ArenaEnter(arena);
  *ref_o = message->ref;
  ArenaLeave(arena);
}

size_t mps_message_gc_live_size(mps_arena_t arena, mps_message_t message)
{
  if (!messageOfType(arena, message, _mps_MESSAGE_TYPE_GC, "mps_message_gc_live_size")) return 0;
  return message->liveSize;
}

size_t mps_message_gc_condemned_size(mps_arena_t arena, mps_message_t message)
{
  if (!messageOfType(arena, message, _mps_MESSAGE_TYPE_GC, "mps_message_gc_condemned_size"))
    return 0;
  return message->condemnedSize;
}

size_t mps_message_gc_not_condemned_size(mps_arena_t arena, mps_message_t message)
{
  if (!messageOfType(arena, message, _mps_MESSAGE_TYPE_GC, "mps_message_gc_not_condemned_size"))
    return 0;
  return message->notCondemnedSize;
}

const char *mps_message_gc_start_why(mps_arena_t arena, mps_message_t message)
{
  if (!messageOfType(arena, message, _mps_MESSAGE_TYPE_GC_START, "mps_message_gc_start_why"))
    return "";
  return message->why;
}

/* ---- finalization ----------------------------------------------------- */

static Bool finalRefOK(Arena arena, mps_addr_t *ref_p, const char *fn)
{
  Seg seg;
  if (ref_p == NULL) {
    (void)MISUSE("%s: ref_p is NULL", fn);
    return FALSE;
  }
  if (!ArenaSegOf(&seg, arena, (Addr)*ref_p) || !(seg->pool->klass->attr & POOL_ATTR_GC) ||
      seg->pool->klass == mps_class_snc()) { /* scanned, but manually managed */
    (void)MISUSE("%s: %p is not in a collected pool of this arena", fn, *ref_p);
    return FALSE;
  }
  return TRUE;
}

mps_res_t mps_finalize(mps_arena_t arena, mps_addr_t *ref_p)
{
  Res res;
  if (!gcArenaOK(arena, "mps_finalize")) return RES_PARAM;
  ArenaEnter(arena);
  res = finalRefOK(arena, ref_p, "mps_finalize") ? FinalRegister(arena, (Addr)*ref_p) : RES_PARAM;
  ArenaLeave(arena);
  return res;
}

mps_res_t mps_definalize(mps_arena_t arena, mps_addr_t *ref_p)
{
  Res res;
  if (!gcArenaOK(arena, "mps_definalize")) return RES_PARAM;
  if (ref_p == NULL) return MISUSE("mps_definalize: ref_p is NULL");
  ArenaEnter(arena);
  res = FinalDeregister(arena, (Addr)*ref_p);
  ArenaLeave(arena);
  return res;
}

/* ---- walks ----------------------------------------------------------- */

typedef struct PoolWalkClosure {
  mps_area_scan_t scan;
  void *closure;
  ScanStateStruct ss;
} PoolWalkClosure;

static Res poolWalkVisit(Pool pool, Addr base, Addr limit, void *closure)
{
  PoolWalkClosure *c = closure;
  UNUSED(pool);
  c->ss.ss._ufs = 0;
  return c->scan(&c->ss.ss, base, limit, c->closure);
}

mps_res_t mps_pool_walk(mps_pool_t pool, mps_area_scan_t scan_area, void *closure)
{
  PoolWalkClosure c;
  Arena arena;
  Res res;
  if (pool == NULL || pool->sig != PoolSig)
    return MISUSE("mps_pool_walk: %p is not a live pool", (void *)pool);
  if (!(pool->klass->attr & POOL_ATTR_GC))
    return MISUSE("mps_pool_walk: pools of class %s are not automatically managed",
                  pool->klass->name);
  if (scan_area == NULL) return MISUSE("mps_pool_walk: the area scanner is NULL");
  arena = pool->arena;
  ArenaEnter(arena);
  if (arena->state != ARENA_PARKED) {
    ArenaLeave(arena);
    return MISUSE("mps_pool_walk: the arena must be parked");
  }
  {
    /* The client's scanner may write: lift the barrier from the pool. */
    Ring node, next;
    RING_FOR(node, &pool->segRing, next) ProtSet(RING_ELT(SegStruct, poolRing, node), FALSE);
  }
  c.scan = scan_area;
  c.closure = closure;
  /* Nothing is white: the zone test passes everything to _mps_fix2,
   * which leaves every reference alone. */
  ScanStateInit(&c.ss, arena, 0, RANK_EXACT);
  res = pool->klass->walk(pool, poolWalkVisit, &c);
  c.ss.sig = SigInvalid;
  ArenaLeave(arena);
  return res;
}

typedef struct ObjectsWalkClosure {
  mps_formatted_objects_stepper_t f;
  void *p;
  size_t s;
} ObjectsWalkClosure;

static Res objectsWalkVisit(Pool pool, Addr base, Addr limit, void *closure)
{
  ObjectsWalkClosure *c = closure;
  Size h = pool->format->headerSize;
  Addr p;
  for (p = AddrAdd(base, h); p < AddrAdd(limit, h); p = (Addr)pool->format->skip(p))
    c->f(p, pool->format, pool, c->p, c->s);
  return RES_OK;
}

void mps_arena_formatted_objects_walk(mps_arena_t arena, mps_formatted_objects_stepper_t f, void *p,
                                      size_t s)
{
  ObjectsWalkClosure c;
  Ring node, next;
  if (!gcArenaOK(arena, "mps_arena_formatted_objects_walk")) return;
  if (f == NULL) {
    (void)MISUSE("mps_arena_formatted_objects_walk: the stepper is NULL");
    return;
  }
  c.f = f;
  c.p = p;
  c.s = s;
  ArenaEnter(arena);
  RING_FOR(node, &arena->poolRing, next) {
    Pool pool = RING_ELT(PoolStruct, arenaRing, node);
    if (pool->klass->attr & POOL_ATTR_GC) (void)pool->klass->walk(pool, objectsWalkVisit, &c);
  }
  ArenaLeave(arena);
}

/* The roots walk scans each root with a scan state whose white set is
 * every zone and which carries the stepper: _mps_fix2 reports each
 * reference into a collected pool instead of fixing it. */
INTERN void RootsWalkReport(ScanState ss, Addr *refIO)
{
  RootsWalk w = ss->rootsWalk;
  Seg seg;
  if (ArenaSegOf(&seg, ss->arena, *refIO) && (seg->pool->klass->attr & POOL_ATTR_GC))
    w->f((mps_addr_t *)refIO, w->root, w->p, w->s);
}

void mps_arena_roots_walk(mps_arena_t arena, mps_roots_stepper_t f, void *p, size_t s)
{
  RootsWalkStruct w;
  ScanStateStruct ss;
  Ring node, next;
  if (!gcArenaOK(arena, "mps_arena_roots_walk")) return;
  if (f == NULL) {
    (void)MISUSE("mps_arena_roots_walk: the stepper is NULL");
    return;
  }
  ArenaEnter(arena);
  if (arena->state != ARENA_PARKED) {
    ArenaLeave(arena);
    (void)MISUSE("mps_arena_roots_walk: the arena must be parked");
    return;
  }
  w.f = f;
  w.p = p;
  w.s = s;
  ScanStateInit(&ss, arena, ~(Word)0, RANK_AMBIG);
  ss.rootsWalk = &w;
  if (ThreadsSuspend(arena) == RES_OK) { /* else the threads were not stopped: walk nothing */
    RING_FOR(node, &arena->gc->rootRing, next) {
      w.root = RING_ELT(RootStruct, arenaRing, node);
      ss.rank = w.root->rank;
      (void)RootScanOne(&ss, w.root);
    }
    ThreadsResume(arena);
  }
  ss.sig = SigInvalid;
  ArenaLeave(arena);
}

/* ---- transforms ------------------------------------------------------ */

static Bool transformOK(mps_transform_t t, const char *fn)
{
  if (LIKELY(t != NULL && TransformCheck(t))) return TRUE;
  (void)MISUSE("%s: %p is not a live transform", fn, (void *)t);
  return FALSE;
}

mps_res_t mps_transform_create(mps_transform_t *transform_o, mps_arena_t arena)
{
  Res res;
  if (transform_o == NULL) return MISUSE("mps_transform_create: transform_o is NULL");
  if (!gcArenaOK(arena, "mps_transform_create")) return RES_PARAM;
  ArenaEnter(arena);
  res = TransformCreate(transform_o, arena);
  ArenaLeave(arena);
  return res;
}

mps_res_t mps_transform_add_oldnew(mps_transform_t transform, mps_addr_t *old_list,
                                   mps_addr_t *new_list, size_t count)
{
  Arena arena;
  Res res;
  if (!transformOK(transform, "mps_transform_add_oldnew")) return RES_PARAM;
  if (count > 0 && (old_list == NULL || new_list == NULL))
    return MISUSE("mps_transform_add_oldnew: a list is NULL");
  arena = TransformArena(transform);
  ArenaEnter(arena);
  res = TransformAdd(transform, (Addr *)old_list, (Addr *)new_list, count);
  ArenaLeave(arena);
  return res;
}

mps_res_t mps_transform_apply(mps_bool_t *applied_o, mps_transform_t transform)
{
  Arena arena;
  Bool applied = FALSE;
  Res res;
  if (applied_o == NULL) return MISUSE("mps_transform_apply: applied_o is NULL");
  if (!transformOK(transform, "mps_transform_apply")) return RES_PARAM;
  arena = TransformArena(transform);
  ArenaEnter(arena);
  res = TransformApply(&applied, transform);
  ArenaLeave(arena);
  if (res == RES_OK) *applied_o = applied;
  return res;
}

void mps_transform_destroy(mps_transform_t transform)
{
  Arena arena;
  if (!transformOK(transform, "mps_transform_destroy")) return;
  arena = TransformArena(transform);
  ArenaEnter(arena);
  TransformDestroy(transform);
  ArenaLeave(arena);
}
