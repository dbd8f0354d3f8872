/* sac.c -- segregated allocation caches: construction of the interleaved
 * free-list layout of docs/design/sac.md, and the slow paths the fast macros call.
 * All pool traffic goes through the class's alloc and free methods with
 * the arena lock held by the caller.  Design: docs/design/sac.md.
 */
#include "sac.h"

INTERN Bool SACCheck(SAC sac)
{
  return CHECKS(SAC, sac) && CHECKS(Pool, sac->pool) && sac->classCount > 0;
}

/* The slot a request of `size` bytes uses: the search in docs/design/sac.md. */
static Index sacSlot(SAC sac, Size size)
{
  struct _mps_sac_freelist_block_s *fl = sac->esac._freelists;
  Index i;
  if (size > sac->esac._middle) {
    for (i = 0; size > fl[i]._size; i += 2) {}
  } else {
    for (i = 1; size <= fl[i]._size; i += 2) {}
  }
  return i;
}

INTERN Res SACCreate(SAC *sacReturn, Pool pool, Count n, const mps_sac_class_s *classes)
{
  Arena arena = pool->arena;
  Count total = 0, acc = 0, above, slots;
  Index m, k, i;
  Size descSize;
  SAC sac;
  void *p;
  Res res;

  if (n == 0) return MISUSE("mps_sac_create: no size classes");
  if (n > SAC_MAX_CLASSES) return RES_LIMIT;
  for (i = 0; i < n; ++i) {
    Size s = classes[i].mps_block_size;
    if (s < sizeof(void *) || (s & (pool->alignment - 1)) != 0)
      return MISUSE("mps_sac_create: class %zu block size %zu is not a multiple of the "
                    "pool alignment %zu at least a pointer wide",
                    (size_t)i, s, pool->alignment);
    if (i > 0 && s <= classes[i - 1].mps_block_size)
      return MISUSE("mps_sac_create: class block sizes are not strictly increasing");
    total += classes[i].mps_frequency;
  }
  /* The middle class: where the cumulative frequency reaches half. */
  for (m = 0; m + 1 < n; ++m) {
    acc += classes[m].mps_frequency;
    if (2 * acc >= total) break;
  }
  above = n - 1 - m;
  slots = 2 * above + 1 > 2 * m + 2 ? 2 * above + 1 : 2 * m + 2;
  if (slots < 2 * MPS_SAC_CLASS_LIMIT) slots = 2 * MPS_SAC_CLASS_LIMIT;
  descSize = sizeof(SACStruct) +
             (slots - 2 * MPS_SAC_CLASS_LIMIT) * sizeof(struct _mps_sac_freelist_block_s);
  res = ControlAlloc(&p, arena, descSize);
  if (res != RES_OK) return res;
  sac = p; /* zeroed: every list empty */
  sac->pool = pool;
  sac->descSize = descSize;
  sac->classCount = n;
  sac->slots = slots;
  sac->esac._middle = classes[m].mps_block_size;
  sac->esac._trapped = 0;
  for (k = 0; k < above; ++k) { /* even slots: classes above the middle */
    const mps_sac_class_s *c = &classes[m + 1 + k];
    sac->esac._freelists[2 * k]._size = c->mps_block_size;
    sac->esac._freelists[2 * k]._count_max = c->mps_cached_count;
    sac->blockSize[2 * k] = c->mps_block_size;
  }
  sac->esac._freelists[2 * above]._size = (size_t)-1; /* overlarge sentinel */
  sac->blockSize[2 * above] = 0;
  /* Pad the even slots after the sentinel with SIZE_MAX (the odd slots
   * after the smallest class are already 0): the fast macros' search
   * counts the bounds passed in the first 2 * MPS_SAC_CLASS_LIMIT slots. */
  for (k = above + 1; 2 * k < slots; ++k) sac->esac._freelists[2 * k]._size = (size_t)-1;
  for (k = 0; k <= m; ++k) { /* odd slots: the middle and below */
    const mps_sac_class_s *c = &classes[m - k];
    Index slot = 2 * k + 1;
    sac->esac._freelists[slot]._size = m - k == 0 ? 0 : classes[m - k - 1].mps_block_size;
    sac->esac._freelists[slot]._count_max = c->mps_cached_count;
    sac->blockSize[slot] = c->mps_block_size;
  }
  ++pool->sacCount;
  sac->sig = SACSig;
  *sacReturn = sac;
  return RES_OK;
}

static Size slotBlockSize(SAC sac, Index slot, Size size)
{
  Size s = sac->blockSize[slot];
  return s != 0 ? s : SizeAlignUp(size, sac->pool->alignment);
}

static void sacFreeBlocks(SAC sac, Index slot, Count n)
{
  struct _mps_sac_freelist_block_s *fl = &sac->esac._freelists[slot];
  Pool pool = sac->pool;
  while (n-- > 0 && fl->_count > 0) {
    Addr b = fl->_blocks;
    fl->_blocks = *(mps_addr_t *)b;
    --fl->_count;
    (void)PoolFree(pool, b, sac->blockSize[slot]);
  }
}

INTERN Res SACFill(Addr *pReturn, SAC sac, Size size)
{
  Pool pool = sac->pool;
  Index slot = sacSlot(sac, size);
  struct _mps_sac_freelist_block_s *fl = &sac->esac._freelists[slot];
  Size blockSize = slotBlockSize(sac, slot, size);
  Count extra, i;
  Addr p;
  Res res;

  if (fl->_count > 0) { /* called directly with blocks cached */
    p = fl->_blocks;
    fl->_blocks = *(mps_addr_t *)p;
    --fl->_count;
    *pReturn = p;
    return RES_OK;
  }
  res = pool->klass->alloc(&p, pool, blockSize);
  if (res != RES_OK) return res;
  extra = fl->_count_max / 3;
  for (i = 0; i < extra && fl->_count < fl->_count_max; ++i) {
    Addr q;
    if (pool->klass->alloc(&q, pool, blockSize) != RES_OK) break;
    *(mps_addr_t *)q = fl->_blocks;
    fl->_blocks = q;
    ++fl->_count;
  }
  *pReturn = p;
  return RES_OK;
}

INTERN void SACEmpty(SAC sac, Addr p, Size size)
{
  Pool pool = sac->pool;
  Index slot = sacSlot(sac, size);
  struct _mps_sac_freelist_block_s *fl = &sac->esac._freelists[slot];
  if (fl->_count_max == 0) {
    (void)PoolFree(pool, p, slotBlockSize(sac, slot, size));
    return;
  }
  if (fl->_count >= fl->_count_max) sacFreeBlocks(sac, slot, fl->_count - fl->_count_max / 3);
  *(mps_addr_t *)p = fl->_blocks;
  fl->_blocks = p;
  ++fl->_count;
}

INTERN void SACFlush(SAC sac)
{
  Index slot;
  for (slot = 0; slot < sac->slots; ++slot)
    sacFreeBlocks(sac, slot, sac->esac._freelists[slot]._count);
}

INTERN Size SACCachedBytes(SAC sac)
{
  Index slot;
  Size total = 0;
  for (slot = 0; slot < sac->slots; ++slot)
    total += sac->esac._freelists[slot]._count * sac->blockSize[slot];
  return total;
}

INTERN void SACDestroy(SAC sac)
{
  Pool pool = sac->pool;
  SACFlush(sac);
  --pool->sacCount;
  sac->sig = SigInvalid;
  ControlFree(pool->arena, sac, sac->descSize);
}
