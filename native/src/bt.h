/* bt.h -- bit tables: arrays of words used as arrays of bits.
 * The arena keeps one bit per page for "allocated" and "committed"; pools
 * use them for allocation maps.  Design: docs/design/arena.md.
 */
#ifndef GCP_BT_H
#define GCP_BT_H

#include "core.h"

typedef Word *BT;

#define BTWords(bits) (((bits) + WORD_WIDTH - 1) / WORD_WIDTH)
#define BTSize(bits)  (BTWords(bits) * sizeof(Word))

INLINE Bool BTGet(BT bt, Index i) { return (bt[i >> WORD_SHIFT] >> (i & (WORD_WIDTH - 1))) & 1; }
INLINE void BTSet(BT bt, Index i) { bt[i >> WORD_SHIFT] |= (Word)1 << (i & (WORD_WIDTH - 1)); }
INLINE void BTRes(BT bt, Index i) { bt[i >> WORD_SHIFT] &= ~((Word)1 << (i & (WORD_WIDTH - 1))); }

INTERN void BTSetRangeSlow(BT bt, Index base, Index limit);
INTERN void BTResRangeSlow(BT bt, Index base, Index limit);
INTERN Bool BTIsSetRangeSlow(BT bt, Index base, Index limit);
INTERN Bool BTIsResRangeSlow(BT bt, Index base, Index limit);

/* Ranges within two words (the common case for small blocks) are one or
 * two mask operations; longer ranges go word by word. */
#define BT_WORD_MASK(lo, hi) /* bits [lo, hi) of a word, 0 <= lo < hi <= WORD_WIDTH */ \
  (((~(Word)0) >> (WORD_WIDTH - ((hi) - (lo)))) << (lo))

/* Split [base, limit) (limit - base <= 2 words' span) into the masks of the
 * word holding base and of the next word; FALSE if it spans more. */
INLINE Bool btSmallMasks(Index base, Index limit, Word *m0, Word *m1)
{
  Index w0 = base >> WORD_SHIFT, lo = base & (WORD_WIDTH - 1);
  Index span = limit - (w0 << WORD_SHIFT); /* bits from the start of word w0 */
  if (limit <= base) {
    *m0 = *m1 = 0;
    return TRUE;
  }
  if (span <= WORD_WIDTH) {
    *m0 = BT_WORD_MASK(lo, span);
    *m1 = 0;
    return TRUE;
  }
  if (span <= 2 * WORD_WIDTH) {
    *m0 = BT_WORD_MASK(lo, WORD_WIDTH);
    *m1 = BT_WORD_MASK(0, span - WORD_WIDTH);
    return TRUE;
  }
  return FALSE;
}

INLINE void BTSetRange(BT bt, Index base, Index limit)
{
  Word m0, m1;
  if (btSmallMasks(base, limit, &m0, &m1)) {
    bt[base >> WORD_SHIFT] |= m0;
    if (m1 != 0) bt[(base >> WORD_SHIFT) + 1] |= m1;
  } else
    BTSetRangeSlow(bt, base, limit);
}
INLINE void BTResRange(BT bt, Index base, Index limit)
{
  Word m0, m1;
  if (btSmallMasks(base, limit, &m0, &m1)) {
    bt[base >> WORD_SHIFT] &= ~m0;
    if (m1 != 0) bt[(base >> WORD_SHIFT) + 1] &= ~m1;
  } else
    BTResRangeSlow(bt, base, limit);
}
INLINE Bool BTIsSetRange(BT bt, Index base, Index limit)
{
  Word m0, m1;
  if (btSmallMasks(base, limit, &m0, &m1))
    return (bt[base >> WORD_SHIFT] & m0) == m0 &&
           (m1 == 0 || (bt[(base >> WORD_SHIFT) + 1] & m1) == m1);
  return BTIsSetRangeSlow(bt, base, limit);
}
INLINE Bool BTIsResRange(BT bt, Index base, Index limit)
{
  Word m0, m1;
  if (btSmallMasks(base, limit, &m0, &m1))
    return (bt[base >> WORD_SHIFT] & m0) == 0 &&
           (m1 == 0 || (bt[(base >> WORD_SHIFT) + 1] & m1) == 0);
  return BTIsResRangeSlow(bt, base, limit);
}

INTERN Count BTCountSet(BT bt, Index base, Index limit);
/* Find a run of `length` reset bits in [searchBase, searchLimit): the
 * lowest one, or with `high` the highest one. */
INTERN Bool BTFindResRange(Index *baseReturn, BT bt, Index searchBase, Index searchLimit,
                           Count length, Bool high);
/* Next set (or reset) bit at or after i, or limit if none. */
INTERN Index BTFindNext(BT bt, Index i, Index limit, Bool set);

#endif /* GCP_BT_H */
