/* segfit_free.c -- the slow paths of SEGFIT's free.
 *
 * The owner of a run frees into it without locks or atomic
 * read-modify-writes (sfFreeBlock, segfitint.h); here are the rest: frees
 * refused as misuse, large blocks, frees from another thread, and the
 * owner's collection of those.  Another thread frees by setting the
 * block's bit in remoteBits and, once per batch, pushing the run onto the
 * owner cache's lock-free stack of runs to collect; the owner collects
 * them when it runs out of blocks.  A run is given back only when empty,
 * after its owner has won remoteQueued, so no remote thread can still be
 * pushing it, and once no remote free is still between setting its bit
 * and its last look at the run (remoteBusy).
 * Design: docs/design/segfit.md, "Threads".
 */
#include "segfitint.h"

/* Report why p, which lies in run, cannot be freed. */
INTERN NOINLINE Res sfFreeRefused(SFRun run, Addr p)
{
  Size off = p >= run->blocks ? AddrOffset(run->blocks, p) : 0;
  if (run->cls != SF_LARGE && p >= run->blocks && off % run->blockSize == 0 &&
      off / run->blockSize < run->capacity)
    return MISUSE("free: block %p of this SEGFIT pool is already free (double free)", (void *)p);
  if (run->cls == SF_LARGE && p == run->blocks)
    return MISUSE("free: block %p of this SEGFIT pool is already free (double free)", (void *)p);
  return MISUSE("free: %p is not the start of a block of this SEGFIT pool", (void *)p);
}

/* Free a large block: its segment goes back to the arena. */
INTERN NOINLINE Res sfFreeLarge(SF sf, SFRun run)
{
  Pool pool = &sf->poolStruct;
  Bool claimed = ArenaEnterRecursive(pool->arena);
  run->largeLive = FALSE;
  sf->total -= SegSize(&run->segStruct);
  SegDestroy(&run->segStruct);
  ArenaLeaveRecursive(pool->arena, claimed);
  return RES_OK;
}

/* Free block w * WORD_WIDTH + log2(bit) of run, from a thread that does
 * not own the run. */
INTERN NOINLINE Res sfFreeRemote(SFRun run, Index w, Word bit)
{
  /* Once the bit is set the owner may collect the block, find the run
   * empty and give it back: remoteBusy keeps it until we are done. */
  (void)__atomic_fetch_add(&run->remoteBusy, 1, __ATOMIC_SEQ_CST);
  (void)__atomic_fetch_or(&run->remoteBits[w], bit, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&run->remoteQueued, __ATOMIC_SEQ_CST) == 0 &&
      __atomic_exchange_n(&run->remoteQueued, 1, __ATOMIC_SEQ_CST) == 0) {
    SFCache owner = run->cache;
    SFRun head = __atomic_load_n(&owner->remoteRuns, __ATOMIC_RELAXED);
    do {
      run->remoteNext = head;
    } while (!__atomic_compare_exchange_n(&owner->remoteRuns, &head, run, TRUE, __ATOMIC_RELEASE,
                                          __ATOMIC_RELAXED));
  }
  (void)__atomic_fetch_sub(&run->remoteBusy, 1, __ATOMIC_RELEASE);
  return RES_OK;
}

/* The owner has freed blocks into run: fix its place among c's runs. */
INTERN NOINLINE void sfRunFreed(SF sf, SFCache c, SFRun run)
{
  if (run->state == SF_RUN_FULL) {
    run->state = SF_RUN_PARTIAL;
    RingAppend(&c->partial[run->cls], &run->cacheRing);
  }
  if (run->used == 0 && run->state == SF_RUN_PARTIAL) sfRunRelease(sf, run);
}

/* Move the remote frees of c's queued runs into their free bits. */
INTERN void sfDrainRemote(SF sf, SFCache c)
{
  SFRun run = __atomic_exchange_n(&c->remoteRuns, NULL, __ATOMIC_ACQUIRE);
  while (run != NULL) {
    SFRun next = run->remoteNext;
    Index w;
    __atomic_store_n(&run->remoteQueued, 0, __ATOMIC_SEQ_CST);
    for (w = 0; w < run->words; ++w) {
      Word bits;
      if (__atomic_load_n(&run->remoteBits[w], __ATOMIC_RELAXED) == 0) continue;
      bits = __atomic_exchange_n(&run->remoteBits[w], 0, __ATOMIC_SEQ_CST);
      run->freeBits[w] |= bits;
      run->used -= (Count)__builtin_popcountl((unsigned long)bits);
      if (w < run->cursor) run->cursor = w;
    }
    sfRunFreed(sf, c, run);
    run = next;
  }
}
