/* debugpat.h -- what the debug pool classes (MVFF debug, AMS debug)
 * share: the fencepost and free-space templates taken from
 * MPS_KEY_POOL_DEBUG_OPTIONS (defaults "POST" and "FREE"), and laying and
 * checking a template over memory.  A template is laid by address: the
 * byte at address a is template[a mod length], which stays true whatever
 * ranges are later joined or split.
 * Design: docs/design/mvff.md (debug class), docs/design/ms.md (AMS debug).
 */
#ifndef GCP_DEBUGPAT_H
#define GCP_DEBUGPAT_H

#include "arg.h"

#define DEBUG_TEMPLATE_MAX 256

typedef struct DebugPatternsStruct {
  unsigned char fence[DEBUG_TEMPLATE_MAX], free[DEBUG_TEMPLATE_MAX];
  Size fenceLength, freeLength; /* 0 disables the feature */
} DebugPatternsStruct, *DebugPatterns;

INLINE void DebugPatternWrite(const unsigned char *t, Size len, Addr base, Addr limit)
{
  Addr a;
  for (a = base; a < limit; ++a) *a = t[(Word)a % len];
}

/* The first byte in [base, limit) that differs from the pattern, or limit. */
INLINE Addr DebugPatternCheck(const unsigned char *t, Size len, Addr base, Addr limit)
{
  Addr a;
  for (a = base; a < limit; ++a)
    if (*a != t[(Word)a % len]) return a;
  return limit;
}

/* Pick and validate MPS_KEY_POOL_DEBUG_OPTIONS (*optReturn is NULL
 * without it). */
INLINE Res DebugOptionsCheck(const mps_pool_debug_option_s **optReturn, ArgList args)
{
  ArgStruct arg;
  const mps_pool_debug_option_s *opt;
  *optReturn = NULL;
  if (!ArgPick(&arg, args, MPS_KEY_POOL_DEBUG_OPTIONS)) return RES_OK;
  opt = arg.val.pool_debug_options;
  if (opt == NULL) return MISUSE("mps_pool_create_k: MPS_KEY_POOL_DEBUG_OPTIONS is NULL");
  if (opt->fence_size > DEBUG_TEMPLATE_MAX || opt->free_size > DEBUG_TEMPLATE_MAX)
    return MISUSE("mps_pool_create_k: debug templates longer than %d bytes are not "
                  "supported",
                  DEBUG_TEMPLATE_MAX);
  if ((opt->fence_size > 0 && opt->fence_template == NULL) ||
      (opt->free_size > 0 && opt->free_template == NULL))
    return MISUSE("mps_pool_create_k: a debug template with a size has no bytes");
  *optReturn = opt;
  return RES_OK;
}

/* The templates of opt, or the defaults when opt is NULL. */
INLINE void DebugPatternsInit(DebugPatterns pat, const mps_pool_debug_option_s *opt)
{
  static const unsigned char defaultFence[4] = { 'P', 'O', 'S', 'T' };
  static const unsigned char defaultFree[4] = { 'F', 'R', 'E', 'E' };
  const unsigned char *fence = defaultFence, *free = defaultFree;
  Size i;
  pat->fenceLength = pat->freeLength = 4;
  if (opt != NULL) {
    fence = opt->fence_template, pat->fenceLength = opt->fence_size;
    free = opt->free_template, pat->freeLength = opt->free_size;
  }
  for (i = 0; i < pat->fenceLength; ++i) pat->fence[i] = fence[i];
  for (i = 0; i < pat->freeLength; ++i) pat->free[i] = free[i];
}

#endif /* GCP_DEBUGPAT_H */
