/* sac.h -- segregated allocation caches over manual pools.  The public
 * _mps_sac_s is the last member of the cache, so that its free-list array
 * can run on for classes beyond MPS_SAC_CLASS_LIMIT.
 * Design: docs/design/sac.md.
 */
#ifndef GCP_SAC_H
#define GCP_SAC_H

#include "pool.h"

#define SAC_MAX_CLASSES 64

typedef struct SACStruct {
  Sig sig;
  Pool pool;
  Size descSize;
  Count classCount;
  Count slots;                             /* entries in esac._freelists */
  Size blockSize[2 * SAC_MAX_CLASSES + 2]; /* per slot: size of its blocks; 0 = overlarge */
  struct _mps_sac_s esac;                  /* must be last */
} SACStruct, *SAC;

#define SACOfExternal(esac) PARENT(SACStruct, esac, esac)

INTERN Res SACCreate(SAC *sacReturn, Pool pool, Count classCount, const mps_sac_class_s *classes);
INTERN void SACDestroy(SAC sac);
INTERN Res SACFill(Addr *pReturn, SAC sac, Size size);
INTERN void SACEmpty(SAC sac, Addr p, Size size);
INTERN void SACFlush(SAC sac);
INTERN Bool SACCheck(SAC sac);
INTERN Size SACCachedBytes(SAC sac);

#endif /* GCP_SAC_H */
