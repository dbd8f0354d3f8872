/* platform/vm_posix.c -- virtual memory through mmap and mprotect.
 * Reserved address space is PROT_NONE and MAP_NORESERVE, so it costs no
 * memory; committing makes it accessible; decommitting replaces the pages
 * with fresh inaccessible ones, which returns their memory to the OS at
 * once.  Design: docs/design/arena.md.
 */
#include "vm.h"
#include "check.h"
#include <sys/mman.h>
#include <unistd.h>
#include <errno.h>

INTERN Size VMPageSize(void)
{
  static Size pageSize = 0;
  if (pageSize == 0) pageSize = (Size)sysconf(_SC_PAGESIZE);
  return pageSize;
}

INTERN Res VMReserve(Addr *baseReturn, Size size, Size align)
{
  Size total;
  void *p;
  Addr base, aligned;
  AVER(SizeIsP2(align));
  if (size == 0 || SizeAddOverflows(size, align)) return RES_RESOURCE;
  total = size + (align > VMPageSize() ? align : 0);
  p = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return RES_RESOURCE;
  base = (Addr)p;
  aligned = AddrAlignUp(base, align);
  if (aligned > base) (void)munmap(base, AddrOffset(base, aligned));
  if (AddrAdd(aligned, size) < AddrAdd(base, total))
    (void)munmap(AddrAdd(aligned, size), AddrOffset(AddrAdd(aligned, size), AddrAdd(base, total)));
  *baseReturn = aligned;
  return RES_OK;
}

INTERN void VMRelease(Addr base, Size size)
{
  int r = munmap(base, size);
  AVER(r == 0);
  UNUSED(r);
}

INTERN Res VMCommit(Addr base, Addr limit)
{
  AVER(base < limit);
  if (mprotect(base, AddrOffset(base, limit), PROT_READ | PROT_WRITE) != 0) return RES_MEMORY;
  return RES_OK;
}

INTERN void VMDecommit(Addr base, Addr limit)
{
  void *p;
  AVER(base < limit);
  p = mmap(base, AddrOffset(base, limit), PROT_NONE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
  AVER(p == (void *)base);
  UNUSED(p);
}
