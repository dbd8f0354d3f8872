/* bt.c -- bit table operations, a word at a time where it matters.
 * Design: docs/design/arena.md.
 */
#include "bt.h"

/* Mask of bits [lo, hi) within one word, 0 <= lo < hi <= WORD_WIDTH. */
static Word btBitMask(Index lo, Index hi)
{
  Word high = hi == WORD_WIDTH ? ~(Word)0 : (((Word)1 << hi) - 1);
  return high & ~(((Word)1 << lo) - 1);
}

/* Apply op to the words covering [base, limit): op 0 = reset, 1 = set. */
static void btRangeOp(BT bt, Index base, Index limit, int set)
{
  while (base < limit) {
    Index w = base >> WORD_SHIFT, lo = base & (WORD_WIDTH - 1);
    Index hi = (limit - (w << WORD_SHIFT)) < WORD_WIDTH ? limit - (w << WORD_SHIFT) : WORD_WIDTH;
    Word m = btBitMask(lo, hi);
    if (set)
      bt[w] |= m;
    else
      bt[w] &= ~m;
    base = (w << WORD_SHIFT) + hi;
  }
}

INTERN void BTSetRangeSlow(BT bt, Index base, Index limit) { btRangeOp(bt, base, limit, 1); }
INTERN void BTResRangeSlow(BT bt, Index base, Index limit) { btRangeOp(bt, base, limit, 0); }

INTERN Index BTFindNext(BT bt, Index i, Index limit, Bool set)
{
  while (i < limit) {
    Index w = i >> WORD_SHIFT, lo = i & (WORD_WIDTH - 1);
    Word word = set ? bt[w] : ~bt[w];
    word &= ~(((Word)1 << lo) - 1);
    if (word != 0) {
      Index found = (w << WORD_SHIFT) + (Index)__builtin_ctzl(word);
      return found < limit ? found : limit;
    }
    i = (w + 1) << WORD_SHIFT;
  }
  return limit;
}

INTERN Bool BTIsSetRangeSlow(BT bt, Index base, Index limit)
{
  return BTFindNext(bt, base, limit, FALSE) == limit;
}

INTERN Bool BTIsResRangeSlow(BT bt, Index base, Index limit)
{
  return BTFindNext(bt, base, limit, TRUE) == limit;
}

INTERN Count BTCountSet(BT bt, Index base, Index limit)
{
  Count n = 0;
  while (base < limit) {
    Index w = base >> WORD_SHIFT, lo = base & (WORD_WIDTH - 1);
    Index hi = (limit - (w << WORD_SHIFT)) < WORD_WIDTH ? limit - (w << WORD_SHIFT) : WORD_WIDTH;
    n += (Count)__builtin_popcountl(bt[w] & btBitMask(lo, hi));
    base = (w << WORD_SHIFT) + hi;
  }
  return n;
}

/* Previous set (or reset) bit strictly below i and at or above base;
 * returns TRUE and stores it, or FALSE if none. */
static Bool btFindPrev(Index *found, BT bt, Index base, Index i, Bool set)
{
  while (i > base) {
    Index top = i - 1, w = top >> WORD_SHIFT, hi = (top & (WORD_WIDTH - 1)) + 1;
    Word word = (set ? bt[w] : ~bt[w]) & btBitMask(0, hi);
    if (word != 0) {
      Index f = (w << WORD_SHIFT) + (WORD_WIDTH - 1 - (Index)__builtin_clzl(word));
      if (f < base) return FALSE;
      *found = f;
      return TRUE;
    }
    i = w << WORD_SHIFT;
  }
  return FALSE;
}

INTERN Bool BTFindResRange(Index *baseReturn, BT bt, Index searchBase, Index searchLimit,
                           Count length, Bool high)
{
  if (length == 0 || searchLimit < searchBase || searchLimit - searchBase < length) return FALSE;
  if (!high) {
    Index i = searchBase;
    for (;;) {
      Index start = BTFindNext(bt, i, searchLimit, FALSE), end;
      if (start >= searchLimit || searchLimit - start < length) return FALSE;
      end = BTFindNext(bt, start, start + length, TRUE);
      if (end == start + length) {
        *baseReturn = start;
        return TRUE;
      }
      i = end;
    }
  } else {
    Index limit = searchLimit;
    for (;;) {
      Index top, setBit;
      if (!btFindPrev(&top, bt, searchBase, limit, FALSE)) return FALSE;
      /* top is the highest reset bit below limit; the run ends at top+1 */
      if (top + 1 - searchBase < length) return FALSE;
      if (!btFindPrev(&setBit, bt, top + 1 - length, top + 1, TRUE)) {
        *baseReturn = top + 1 - length;
        return TRUE;
      }
      limit = setBit;
    }
  }
}
