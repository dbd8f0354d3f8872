/* bt.h -- bit tables: arrays of words used as arrays of bits.
 * The arena keeps one bit per page for "allocated" and "committed"; pools
 * use them for allocation maps.  Design: docs/design/arena.md.
 */
#ifndef GCP_BT_H
#define GCP_BT_H

#include "core.h"

typedef Word *BT;

#define BTWords(bits) (((bits) + WORD_WIDTH - 1) / WORD_WIDTH)
#define BTSize(bits) (BTWords(bits) * sizeof(Word))

INLINE Bool BTGet(BT bt, Index i) { return (bt[i >> WORD_SHIFT] >> (i & (WORD_WIDTH - 1))) & 1; }
INLINE void BTSet(BT bt, Index i) { bt[i >> WORD_SHIFT] |= (Word)1 << (i & (WORD_WIDTH - 1)); }
INLINE void BTRes(BT bt, Index i) { bt[i >> WORD_SHIFT] &= ~((Word)1 << (i & (WORD_WIDTH - 1))); }

INTERN void BTSetRange(BT bt, Index base, Index limit);
INTERN void BTResRange(BT bt, Index base, Index limit);
INTERN Bool BTIsSetRange(BT bt, Index base, Index limit);
INTERN Bool BTIsResRange(BT bt, Index base, Index limit);
INTERN Count BTCountSet(BT bt, Index base, Index limit);
/* Find a run of `length` reset bits in [searchBase, searchLimit): the
 * lowest one, or with `high` the highest one. */
INTERN Bool BTFindResRange(Index *baseReturn, BT bt, Index searchBase,
                           Index searchLimit, Count length, Bool high);
/* Next set (or reset) bit at or after i, or limit if none. */
INTERN Index BTFindNext(BT bt, Index i, Index limit, Bool set);

#endif /* GCP_BT_H */
