/* sites.c -- the allocation sites of routed blocks, for the leak finder.
 *
 * With leak tracking on, the hook records for each routed block where it
 * was allocated: the return address of the PyMem_* / PyObject_* call.  A
 * site is kept in the block's run as a small number (segfit.h,
 * SegfitSetSite), interned here: a table of return addresses, open
 * addressing, filled with compare-and-swap by any thread without a lock
 * and never emptied (sites are few: the call sites of the code that
 * allocates).  When it is full new sites are 0, "unknown".  Python reads
 * the addresses back (gcp_site_address) and symbolizes them at report
 * time (gc_plugin/symbols.py).  Design: docs/design/leaks.md (sites).
 */
#include "cpython/cpython.h"

#define SITE_BITS  16
#define SITE_SLOTS ((size_t)1 << SITE_BITS)

static uintptr_t siteAddresses[SITE_SLOTS]; /* 0: an empty slot */

/* The site number (1 .. SITE_SLOTS) of return address ra, or 0. */
INTERN uint32_t SiteIntern(uintptr_t ra)
{
  size_t i = (size_t)((ra * 0x9E3779B97F4A7C15u) >> (64 - SITE_BITS)), probes;
  if (ra == 0) return 0;
  for (probes = 0; probes < SITE_SLOTS / 2; ++probes, i = (i + 1) & (SITE_SLOTS - 1)) {
    uintptr_t seen = __atomic_load_n(&siteAddresses[i], __ATOMIC_ACQUIRE);
    if (seen == 0) {
      uintptr_t empty = 0;
      if (__atomic_compare_exchange_n(&siteAddresses[i], &empty, ra, FALSE, __ATOMIC_ACQ_REL,
                                      __ATOMIC_ACQUIRE))
        return (uint32_t)i + 1;
      seen = empty; /* another thread filled it first */
    }
    if (seen == ra) return (uint32_t)i + 1;
  }
  return 0; /* half full: give up rather than probe forever */
}

/* The return address of site number site, or 0. */
static uintptr_t gcp_site_address(uint32_t site)
{
  if (site == 0 || site > SITE_SLOTS) return 0;
  return __atomic_load_n(&siteAddresses[site - 1], __ATOMIC_ACQUIRE);
}
