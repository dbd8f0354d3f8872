/* ld.c -- location dependency (docs/design/collector-interface.md): a client's record of the zones
 * of addresses it depends on, and the arena's history of the zones that
 * collections moved objects out of.
 *
 * history[e % LD_HISTORY] is the moved-zone set of the collection that
 * ended epoch e (advanced it to e + 1).  A dependency reset at epoch E is
 * stale if some collection since E moved objects out of one of its zones;
 * one older than the window is stale whenever it holds any zone.  add and
 * isstale take no lock: the epoch is read with acquire ordering, and a
 * collection publishes its history entry before advancing the epoch.
 * Design: docs/design/trace.md (location dependency).
 */
#include "gc.h"

INTERN void LDNoteMoved(Arena arena, Word zones)
{
  __atomic_store_n(&arena->gc->history[arena->epoch % LD_HISTORY], zones, __ATOMIC_RELEASE);
}

void mps_ld_reset(mps_ld_t ld, mps_arena_t arena)
{
  ld->_epoch = __atomic_load_n(&arena->epoch, __ATOMIC_ACQUIRE);
  ld->_rs = 0;
}

void mps_ld_add(mps_ld_t ld, mps_arena_t arena, mps_addr_t addr)
{
  UNUSED(arena);
  ld->_rs |= ZoneOf((Addr)addr);
}

void mps_ld_merge(mps_ld_t dest, mps_arena_t arena, mps_ld_t src)
{
  UNUSED(arena);
  if (src->_epoch < dest->_epoch) dest->_epoch = src->_epoch;
  dest->_rs |= src->_rs;
}

mps_bool_t mps_ld_isstale_any(mps_ld_t ld, mps_arena_t arena)
{
  GCStruct *gc = arena->gc;
  mps_word_t now = __atomic_load_n(&arena->epoch, __ATOMIC_ACQUIRE), e;
  Word moved = 0;
  if (ld->_rs == 0 || ld->_epoch == now) return 0;
  if (now - ld->_epoch > LD_HISTORY)
    moved = ~(Word)0; /* older than the window */
  else
    for (e = ld->_epoch; e < now; ++e)
      moved |= __atomic_load_n(&gc->history[e % LD_HISTORY], __ATOMIC_ACQUIRE);
  return (moved & ld->_rs) != 0;
}

mps_bool_t mps_ld_isstale(mps_ld_t ld, mps_arena_t arena, mps_addr_t addr)
{
  UNUSED(addr);
  return mps_ld_isstale_any(ld, arena);
}
