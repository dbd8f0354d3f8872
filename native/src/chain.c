/* chain.c -- chains of generations (docs/design/collector-interface.md) and the collection policy:
 * which generations to condemn, and when.
 *
 * A pool's segments each belong to a generation of the pool's chain, or
 * to the arena's top generation (index genCount) once they survive the
 * chain's last one.  A generation's new size is what was allocated into
 * it (generation 0) or promoted into it since it was last condemned; when
 * some generation's new size passes its trigger (its capacity, scaled up
 * to 8x while its mortality stays low), the collector condemns that
 * generation and every younger one of the chain.  The top
 * generation is collected (with everything else) when it has grown by
 * more than it held after the last full collection, and by more than the
 * capacities of the chains in use together.
 * Design: docs/design/trace.md (policy).
 */
#include "gc.h"

#define DEFAULT_GEN0 ((Size)8192 << 10)
#define DEFAULT_GEN1 ((Size)36864 << 10)

INTERN Res ChainCreate(Chain *chainReturn, Arena arena, Count genCount,
                       const mps_gen_param_s *params)
{
  Chain chain;
  void *p;
  Index i;
  Res res;

  if (genCount == 0 || genCount > 64)
    return MISUSE("mps_chain_create: gen_count %zu is not between 1 and 64", (size_t)genCount);
  for (i = 0; i < genCount; ++i) {
    if (params[i].mps_capacity == 0 || params[i].mps_capacity > (SIZE_LIMIT >> 10))
      return MISUSE("mps_chain_create: generation %zu has capacity %zu KB (must be > 0)", (size_t)i,
                    params[i].mps_capacity);
    if (!(params[i].mps_mortality >= 0.0 && params[i].mps_mortality <= 1.0))
      return MISUSE("mps_chain_create: generation %zu has mortality %g (must be in [0, 1])",
                    (size_t)i, params[i].mps_mortality);
  }
  res = ControlAlloc(&p, arena, sizeof(ChainStruct));
  if (res != RES_OK) return res;
  chain = p;
  res = ControlAlloc(&p, arena, genCount * sizeof(GenStruct));
  if (res != RES_OK) {
    ControlFree(arena, chain, sizeof(ChainStruct));
    return res;
  }
  chain->gens = p;
  for (i = 0; i < genCount; ++i) {
    chain->gens[i].capacity = chain->gens[i].trigger = params[i].mps_capacity << 10;
    chain->gens[i].mortality = params[i].mps_mortality;
  }
  chain->arena = arena;
  chain->genCount = genCount;
  chain->poolCount = 0;
  RingInit(&chain->arenaRing);
  RingAppend(&arena->gc->chainRing, &chain->arenaRing);
  chain->sig = ChainSig;
  *chainReturn = chain;
  return RES_OK;
}

INTERN void ChainDestroy(Chain chain)
{
  Arena arena = chain->arena;
  RingRemove(&chain->arenaRing);
  chain->sig = SigInvalid;
  ControlFree(arena, chain->gens, chain->genCount * sizeof(GenStruct));
  ControlFree(arena, chain, sizeof(ChainStruct));
}

INTERN Res ChainCreateDefault(Arena arena)
{
  mps_gen_param_s params[2] = { { DEFAULT_GEN0 >> 10, 0.85 }, { DEFAULT_GEN1 >> 10, 0.45 } };
  return ChainCreate(&arena->gc->defaultChain, arena, 2, params);
}

INTERN Gen ChainGen(Arena arena, Chain chain, Index gen)
{
  return gen < chain->genCount ? &chain->gens[gen] : &arena->gc->topGen;
}

/* Generations live in separate zones: the nursery in zones 8-15, the next
 * generation in 16-31, everything older in the rest (zone 0, where small
 * integers and NULL fall, is kept away from the nursery so that they fail
 * MPS_FIX1 in nursery collections).  A nursery collection's white set is
 * then mostly the nursery's zones, and an old segment whose summary misses
 * them is skipped (barrier: prot_linux.c). */
INTERN Word ChainGenZones(Chain chain, Index gen)
{
  UNUSED(chain);
  if (gen == 0) return (Word)0xFF00;
  if (gen == 1) return (Word)0xFFFF0000;
  return ~(Word)0xFFFFFF00;
}

INTERN void ChainNoteAlloc(Chain chain, Index gen, Size size, Bool counted)
{
  Gen g = ChainGen(chain->arena, chain, gen);
  if (counted) g->newSize += size;
  g->size += size;
}

/* Mark the generations the next trace condemns; TRUE if any should be.
 * With `full`, everything is condemned. */
INTERN Bool ChainCondemn(Arena arena, Bool full, const char **whyReturn)
{
  GCStruct *gc = arena->gc;
  Ring node, next;
  Size chainCapacity = 0;
  Bool any = FALSE;

  RING_FOR(node, &gc->chainRing, next) {
    Chain chain = RING_ELT(ChainStruct, arenaRing, node);
    Index i, top = chain->genCount;
    for (i = 0; i < chain->genCount; ++i) {
      if (chain->poolCount > 0) chainCapacity += chain->gens[i].trigger;
      if (chain->gens[i].newSize > chain->gens[i].trigger) top = i;
    }
    for (i = 0; i < chain->genCount; ++i) {
      chain->gens[i].condemned = full || (top < chain->genCount && i <= top);
      any |= chain->gens[i].condemned;
    }
  }
  gc->topGen.condemned =
      full || (gc->topGen.newSize > gc->topGen.capacity && gc->topGen.newSize > chainCapacity);
  if (gc->topGen.condemned) {
    /* The top generation holds the oldest objects: condemn everything. */
    RING_FOR(node, &gc->chainRing, next) {
      Chain chain = RING_ELT(ChainStruct, arenaRing, node);
      Index i;
      for (i = 0; i < chain->genCount; ++i) chain->gens[i].condemned = TRUE;
    }
    any = TRUE;
  }
  if (whyReturn != NULL)
    *whyReturn = full ? "Client requests: immediate full collection."
                 : gc->topGen.condemned
                     ? "The whole heap has grown past its target: full collection."
                     : "A generation of a chain has exceeded its capacity.";
  return any;
}

/* After a trace: condemned generations start counting again; the top
 * generation's target becomes what it holds now. */
INTERN void ChainTraceDone(Arena arena, Size condemned, Size live)
{
  GCStruct *gc = arena->gc;
  Ring node, next;
  RING_FOR(node, &gc->chainRing, next) {
    Chain chain = RING_ELT(ChainStruct, arenaRing, node);
    Index i;
    for (i = 0; i < chain->genCount; ++i) {
      Gen g = &chain->gens[i];
      if (g->condemned) {
        g->newSize = 0;
        if (condemned > 0)
          g->mortality = 0.5 * g->mortality + 0.5 * (1.0 - (double)live / (double)condemned);
        /* Capacity is not a hard limit (collector-interface.md §Chains): while most of what a
         * generation holds survives, collecting it often only copies the
         * same objects again, so its trigger grows (up to 8x); it comes
         * back down as mortality recovers. */
        if (g->mortality < 0.5 && g->trigger < 8 * g->capacity)
          g->trigger *= 2;
        else if (g->mortality > 0.8 && g->trigger > g->capacity)
          g->trigger /= 2;
      }
      g->condemned = FALSE;
    }
  }
  if (gc->topGen.condemned) {
    gc->topGen.newSize = 0;
    gc->topGen.capacity = gc->topGen.size;
  }
  gc->topGen.condemned = FALSE;
}

/* Is a condemned generation wanted (for polling)?  Cheap: no marks. */
INTERN Bool ChainCondemnWanted(Arena arena, const char **whyReturn)
{
  GCStruct *gc = arena->gc;
  Ring node, next;
  Size chainCapacity = 0;
  RING_FOR(node, &gc->chainRing, next) {
    Chain chain = RING_ELT(ChainStruct, arenaRing, node);
    Index i;
    if (chain->poolCount == 0) continue;
    for (i = 0; i < chain->genCount; ++i) {
      chainCapacity += chain->gens[i].trigger;
      if (chain->gens[i].newSize > chain->gens[i].trigger) {
        if (whyReturn != NULL) *whyReturn = "A generation of a chain has exceeded its capacity.";
        return TRUE;
      }
    }
  }
  if (gc->topGen.newSize > gc->topGen.capacity && gc->topGen.newSize > chainCapacity) {
    if (whyReturn != NULL)
      *whyReturn = "The whole heap has grown past its target: full collection.";
    return TRUE;
  }
  return FALSE;
}
