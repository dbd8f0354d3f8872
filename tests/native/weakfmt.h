/* weakfmt.h -- the object format of test_awl_weak, test_weak_cache,
 * test_ams and test_ams_debug: one format for AMC, AMS and LO objects,
 * and objects of ambiguous rank (AMS, docs/design/ms.md).  (The weak
 * tables' arrays have their own format: tests/gcp_testing/weaktable.c.)  Header-only, like
 * testlib.h (include that first).
 *
 * Every word of an object is a valid word-aligned reference or has a
 * non-zero low bit (the AWL client rule).  With fmtHdr == 0 the
 * client pointer c is the base and c[0] is the tag; with fmtHdr == 8 the
 * tag is an in-band header at c[-1] (MPS_KEY_FMT_HEADER_SIZE).  After the
 * tag come the fields f:
 *   f[0] info: id << 4 | kind << 1 | 1
 *   f[1] W_EMPTY
 *   f[2] nslots << 1 | 1
 *   f[3 .. 3+nslots) slots: references (low three bits 0, non-null),
 *        null (plain objects only), W_EMPTY, W_TOMB or W_INT(n)
 *   then data words, each with its low bit set.
 * Padding objects keep their size in the tag; a forwarding object keeps
 * its size in the tag and the new address in f[0].
 *
 * The scanner fixes every slot that holds a reference.  Slots of objects
 * of kind K_AMBIG (allocated on an ambiguous-rank allocation point) are
 * all passed to MPS_FIX2, whatever they hold, and must never change.  A
 * splat (a reference null after MPS_FIX2: no slot is weak) is counted in
 * wfExactSplats.  Skip steps one word over a
 * tag it does not know (counted in wfBadTags), so that a corrupted heap
 * fails the checks instead of hanging a walk.
 */
#ifndef WEAKFMT_H
#define WEAKFMT_H

#include "mps.h"

#define WORD ((size_t)sizeof(mps_word_t))
enum { T_OBJ = 1, T_PAD = 2, T_FWD = 3, T_PAD1 = 4 };
#define TYPE(w) ((unsigned)((w)&7))
#define SIZE(w) ((size_t)((w) & ~(mps_word_t)7))

/* kinds: plain objects with exact slots, objects of ambiguous rank, leaves */
enum { K_NODE = 0, K_AMBIG = 2, K_LEAF = 3 };
#define W_EMPTY        ((mps_word_t)1)
#define W_TOMB         ((mps_word_t)3)
#define W_INT(n)       (((mps_word_t)(n) << 3) | 5)
#define IS_REF(w)      ((w) != 0 && ((w)&7) == 0)
#define INFO(id, kind) (((mps_word_t)(id) << 4) | ((mps_word_t)(kind) << 1) | 1)
#define INFO_ID(w)     ((int)((w) >> 4))
#define INFO_KIND(w)   ((unsigned)(((w) >> 1) & 7))
#define GARBAGE_ID     0xFFFFFF

static size_t fmtHdr; /* 0 or WORD */

static inline mps_word_t *wfTag(mps_addr_t c) { return (mps_word_t *)((char *)c - fmtHdr); }
static inline mps_word_t *wfF(mps_addr_t c)
{
  return (mps_word_t *)((char *)c + (fmtHdr ? 0 : WORD));
}
static inline mps_word_t *wfSlots(mps_addr_t c) { return wfF(c) + 3; }
static inline size_t wfSlotCount(mps_addr_t c) { return (size_t)(wfF(c)[2] >> 1); }
static inline size_t wfSize(size_t nslots, size_t ndata) { return WORD * (4 + nslots + ndata); }

static inline mps_word_t dataWord(long id, size_t k)
{
  return ((((mps_word_t)id * 0x9E3779B97F4A7C15ull) ^ ((mps_word_t)k * 0xBF58476D1CE4E5B9ull))
          << 1) |
         1;
}

/* what the format methods saw that they should not have */
static unsigned long wfBadTags, wfExactSplats, wfAmbigChanged;

static inline mps_addr_t wfSkip(mps_addr_t c)
{
  mps_word_t tag = *wfTag(c);
  unsigned type = TYPE(tag);
  if (type == T_PAD1) return (char *)c + WORD;
  /* a corrupt tag must not stop a walk making progress */
  if ((type == T_OBJ || type == T_PAD || type == T_FWD) && SIZE(tag) >= 2 * WORD)
    return (char *)c + SIZE(tag);
  ++wfBadTags;
  return (char *)c + WORD;
}

static inline mps_addr_t wfIsfwd(mps_addr_t c)
{
  return TYPE(*wfTag(c)) == T_FWD ? (mps_addr_t)wfF(c)[0] : NULL;
}

static inline void wfFwd(mps_addr_t old, mps_addr_t newc)
{
  mps_word_t *tag = wfTag(old);
  *tag = SIZE(*tag) | T_FWD;
  wfF(old)[0] = (mps_word_t)newc;
}

static inline void wfPad(mps_addr_t base, size_t size)
{
  *(mps_word_t *)base = size == WORD ? (mps_word_t)T_PAD1 : (mps_word_t)size | T_PAD;
}

static inline mps_res_t wfScan(mps_ss_t ss, mps_addr_t base, mps_addr_t limit)
{
  MPS_SCAN_BEGIN(ss)
  {
    mps_addr_t c;
    for (c = base; c < limit; c = wfSkip(c)) {
      mps_word_t *f, *slots;
      size_t i, n;
      unsigned kind;
      if (TYPE(*wfTag(c)) != T_OBJ) continue;
      f = wfF(c);
      kind = INFO_KIND(f[0]);
      n = (size_t)(f[2] >> 1);
      slots = f + 3;
      for (i = 0; i < n; ++i) {
        mps_word_t w = slots[i];
        mps_addr_t r = (mps_addr_t)w;
        mps_res_t res;
        if (kind == K_AMBIG) { /* any word at all */
          if (MPS_FIX1(ss, r)) {
            res = MPS_FIX2(ss, &r);
            if (res != MPS_RES_OK) return res;
            if ((mps_word_t)r != w) ++wfAmbigChanged;
          }
          continue;
        }
        if (!IS_REF(w) || !MPS_FIX1(ss, r)) continue;
        res = MPS_FIX2(ss, &r);
        if (res != MPS_RES_OK) return res;
        if (r != NULL) {
          slots[i] = (mps_word_t)r;
        } else {
          ++wfExactSplats;
          slots[i] = kind == K_NODE ? 0 : W_TOMB;
        }
      }
    }
  }
  MPS_SCAN_END(ss);
  return MPS_RES_OK;
}

static inline mps_res_t wfFormat(mps_fmt_t *fmtReturn, mps_arena_t arena, size_t header)
{
  mps_res_t res;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FMT_ALIGN, WORD);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_HEADER_SIZE, header);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_SCAN, wfScan);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_SKIP, wfSkip);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_FWD, wfFwd);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_ISFWD, wfIsfwd);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_PAD, wfPad);
    res = mps_fmt_create_k(fmtReturn, arena, args);
  }
  MPS_ARGS_END(args);
  return res;
}

#endif /* WEAKFMT_H */
