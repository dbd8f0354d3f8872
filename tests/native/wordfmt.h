/* wordfmt.h -- the word-tagged object format of the collector tests
 * (test_gc_messages, test_generations, test_barrier_chain,
 * test_barrier_race), a format and AMC pool maker, and a probe for write
 * protection.  Header-only, like testlib.h (include that first).
 *
 * Every block starts with a tag word: its size | type.  Objects are
 * [0] tag, [1] id, [2] nrefs, [3 .. 3+nrefs) references (base pointers, no
 * in-band header), then data words the program defines.  Padding and
 * forwarding objects of one word keep the type (and the new address) in the
 * tag word.
 */
#ifndef WORDFMT_H
#define WORDFMT_H

#include <errno.h>
#include <stdatomic.h>
#include <unistd.h>
#include "mps.h"
#include "mpscamc.h"

#define WORD ((size_t)sizeof(mps_word_t))
enum { T_OBJ = 1, T_PAD = 2, T_FWD = 3, T_PAD1 = 4, T_FWD1 = 5 };
#define TYPE(w) ((unsigned)((w)&7))
#define SIZE(w) ((size_t)((w) & ~(mps_word_t)7))

static atomic_ulong badTags; /* tags the format methods did not know */

static inline mps_addr_t fmtSkip(mps_addr_t p)
{
  mps_word_t tag = *(mps_word_t *)p;
  if (TYPE(tag) == T_PAD1 || TYPE(tag) == T_FWD1) return (char *)p + WORD;
  if (TYPE(tag) == T_OBJ || TYPE(tag) == T_PAD || TYPE(tag) == T_FWD) return (char *)p + SIZE(tag);
  atomic_fetch_add(&badTags, 1);
  return (char *)p + WORD;
}

static inline mps_addr_t fmtIsfwd(mps_addr_t p)
{
  mps_word_t *w = p;
  if (TYPE(w[0]) == T_FWD) return (mps_addr_t)w[1];
  return TYPE(w[0]) == T_FWD1 ? (mps_addr_t)SIZE(w[0]) : NULL;
}

static inline void fmtFwd(mps_addr_t old, mps_addr_t newp)
{
  mps_word_t *w = old;
  if ((size_t)((char *)fmtSkip(old) - (char *)old) == WORD)
    w[0] = (mps_word_t)newp | T_FWD1;
  else
    w[0] = SIZE(w[0]) | T_FWD, w[1] = (mps_word_t)newp;
}

static inline void fmtPad(mps_addr_t p, size_t size)
{
  *(mps_word_t *)p = size == WORD ? (mps_word_t)T_PAD1 : (mps_word_t)size | T_PAD;
}

static inline mps_res_t fmtScan(mps_ss_t ss, mps_addr_t base, mps_addr_t limit)
{
  MPS_SCAN_BEGIN(ss)
  {
    mps_addr_t p;
    for (p = base; p < limit; p = fmtSkip(p)) {
      mps_word_t *w = p;
      size_t i;
      if (TYPE(w[0]) != T_OBJ) continue;
      for (i = 0; i < w[2]; ++i) {
        mps_addr_t r = (mps_addr_t)w[3 + i];
        if (MPS_FIX1(ss, r)) {
          mps_res_t res = MPS_FIX2(ss, &r);
          if (res != MPS_RES_OK) return res;
          w[3 + i] = (mps_word_t)r;
        }
      }
    }
  }
  MPS_SCAN_END(ss);
  return MPS_RES_OK;
}

/* The format and an AMC pool of it on chain. */
static inline void makePool(mps_fmt_t *fmtReturn, mps_pool_t *poolReturn, mps_arena_t arena,
                            mps_chain_t chain)
{
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FMT_ALIGN, WORD);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_SCAN, fmtScan);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_SKIP, fmtSkip);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_FWD, fmtFwd);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_ISFWD, fmtIsfwd);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_PAD, fmtPad);
    REQUIRE(mps_fmt_create_k(fmtReturn, arena, args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, *fmtReturn);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    REQUIRE(mps_pool_create_k(poolReturn, arena, mps_class_amc(), args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
}

/* 1 if the word at p is writable, 0 if it is write-protected: read() into a
 * read-only page fails with EFAULT instead of faulting.  The word keeps its
 * value.  pipeFd must be a pipe. */
static int pipeFd[2];

static inline int writable(mps_word_t *p)
{
  mps_word_t w = *p, junk;
  ssize_t n;
  REQUIRE(write(pipeFd[1], &w, WORD) == (ssize_t)WORD);
  n = read(pipeFd[0], p, WORD);
  if (n == (ssize_t)WORD) return 1;
  REQUIRE(n < 0 && errno == EFAULT);
  REQUIRE(read(pipeFd[0], &junk, WORD) == (ssize_t)WORD);
  return 0;
}

#endif /* WORDFMT_H */
