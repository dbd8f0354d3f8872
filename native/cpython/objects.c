/* objects.c -- which loaded object (executable or shared library) holds a
 * code address: the attribution of allocations to modules.
 *
 * A table of the loaded segments of every loaded object, sorted by
 * address, is built with dl_iterate_phdr and published through one
 * pointer; readers search it without a lock, after a per-thread check of
 * the last range that matched.  A lookup that misses rebuilds the table if
 * objects were loaded or unloaded since it was built (the loader's adds
 * and subs counters), so a module imported later is found on its first
 * allocation.  Old tables are never freed: a reader may still hold one;
 * rebuilds happen once per dlopen.  Every object gets a small id, kept for
 * the life of the process, so that ids stored with blocks stay meaningful.
 * Design: docs/design/cpython-hook.md (attribution).
 */
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cpython/cpython.h"

#define OBJ_MAX_ID 16383u /* ids fit in the 14 bits a block tag has */

typedef struct ObjTable {
  unsigned long long adds, subs; /* the loader's counters when built */
  size_t count;
  ObjRange ranges[];
} ObjTable;

static ObjTable *objTable;
static char *objNames[OBJ_MAX_ID + 1];
static unsigned objNameCount;
static pthread_mutex_t objLock = PTHREAD_MUTEX_INITIALIZER;
static __thread ObjRange objLastHit __attribute__((tls_model("initial-exec")));

INTERN void objLockClaim(void) { (void)pthread_mutex_lock(&objLock); }
INTERN void objLockRelease(void) { (void)pthread_mutex_unlock(&objLock); }

/* The id of the object called name, made if new; 0 when ids ran out.
 * Called with objLock held. */
static unsigned objIdOfName(const char *name)
{
  unsigned id;
  char *copy;
  for (id = 1; id <= objNameCount; ++id)
    if (strcmp(objNames[id], name) == 0) return id;
  if (objNameCount == OBJ_MAX_ID) return 0;
  copy = strdup(name);
  if (copy == NULL) return 0;
  /* The name first, then the count that makes it visible: readers load
   * the count (acquire) and then read names without the lock. */
  objNames[objNameCount + 1] = copy;
  __atomic_store_n(&objNameCount, objNameCount + 1, __ATOMIC_RELEASE);
  return objNameCount;
}

typedef struct ObjBuild {
  ObjRange *ranges;
  size_t count, capacity;
  unsigned long long adds, subs;
  Bool failed;
} ObjBuild;

static int objCollect(struct dl_phdr_info *info, size_t size, void *closure)
{
  ObjBuild *b = closure;
  char exe[4096];
  const char *name = info->dlpi_name;
  unsigned id = 0;
  int i;
  UNUSED(size);
  b->adds = info->dlpi_adds;
  b->subs = info->dlpi_subs;
  if (name == NULL || name[0] == '\0') {
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    name = n > 0 ? exe : "(main program)";
  }
  for (i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD) continue;
    if (id == 0) id = objIdOfName(name);
    if (b->count == b->capacity) {
      size_t cap = b->capacity == 0 ? 64 : 2 * b->capacity;
      ObjRange *r = realloc(b->ranges, cap * sizeof *r);
      if (r == NULL) {
        b->failed = TRUE;
        return 1;
      }
      b->ranges = r;
      b->capacity = cap;
    }
    b->ranges[b->count].lo = (uintptr_t)info->dlpi_addr + ph->p_vaddr;
    b->ranges[b->count].hi = b->ranges[b->count].lo + ph->p_memsz;
    b->ranges[b->count].id = id;
    b->ranges[b->count].code = (ph->p_flags & PF_X) != 0;
    ++b->count;
  }
  return 0;
}

static int objRangeCompare(const void *a, const void *b)
{
  uintptr_t x = ((const ObjRange *)a)->lo, y = ((const ObjRange *)b)->lo;
  return x < y ? -1 : x > y;
}

static int objCounters(struct dl_phdr_info *info, size_t size, void *closure)
{
  unsigned long long *c = closure;
  UNUSED(size);
  c[0] = info->dlpi_adds;
  c[1] = info->dlpi_subs;
  return 1;
}

/* Rebuild the table unless the loader has not changed since it was built
 * (or force).  Returns FALSE only when memory ran out. */
INTERN Bool objRefresh(Bool force)
{
  ObjBuild b = { NULL, 0, 0, 0, 0, FALSE };
  ObjTable *t, *old;
  unsigned long long counters[2] = { 0, 0 };
  Bool ok = TRUE;

  (void)pthread_mutex_lock(&objLock);
  old = __atomic_load_n(&objTable, __ATOMIC_ACQUIRE);
  (void)dl_iterate_phdr(objCounters, counters);
  if (force || old == NULL || old->adds != counters[0] || old->subs != counters[1]) {
    (void)dl_iterate_phdr(objCollect, &b);
    t = b.failed ? NULL : malloc(sizeof *t + b.count * sizeof(ObjRange));
    if (t == NULL) {
      ok = FALSE;
    } else {
      qsort(b.ranges, b.count, sizeof(ObjRange), objRangeCompare);
      memcpy(t->ranges, b.ranges, b.count * sizeof(ObjRange));
      t->count = b.count;
      t->adds = b.adds;
      t->subs = b.subs;
      __atomic_store_n(&objTable, t, __ATOMIC_RELEASE);
    }
    free(b.ranges);
  }
  (void)pthread_mutex_unlock(&objLock);
  return ok;
}

static Bool objSearch(ObjRange *hit, uintptr_t addr)
{
  ObjTable *t = __atomic_load_n(&objTable, __ATOMIC_ACQUIRE);
  size_t lo = 0, hi;
  if (t == NULL) return FALSE;
  hi = t->count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (addr < t->ranges[mid].lo)
      hi = mid;
    else if (addr >= t->ranges[mid].hi)
      lo = mid + 1;
    else {
      *hit = t->ranges[mid];
      return TRUE;
    }
  }
  return FALSE;
}

static NOINLINE unsigned objIdOfSlow(uintptr_t addr)
{
  ObjRange hit;
  if (!objSearch(&hit, addr)) {
    if (!objRefresh(FALSE) || !objSearch(&hit, addr)) return 0;
  }
  objLastHit = hit;
  return hit.id;
}

/* The id of the object whose code or data contains addr, or 0. */
INTERN unsigned objIdOf(uintptr_t addr)
{
  if (LIKELY(addr - objLastHit.lo < objLastHit.hi - objLastHit.lo)) return objLastHit.id;
  return objIdOfSlow(addr);
}

/* Copy the code ranges of object id into out (at most n); returns how
 * many the object has. */
INTERN size_t objCodeRangesOf(ObjRange *out, size_t n, unsigned id)
{
  ObjTable *t = __atomic_load_n(&objTable, __ATOMIC_ACQUIRE);
  size_t i, k = 0;
  if (t == NULL) return 0;
  for (i = 0; i < t->count; ++i) {
    if (t->ranges[i].id != id || !t->ranges[i].code) continue;
    if (k < n) out[k] = t->ranges[i];
    ++k;
  }
  return k;
}

/* ---- the Python layer's view ------------------------------------------- */

/* Rebuild the table now; returns the number of ids (they run 1..n). */
static unsigned gcp_objects_refresh(void)
{
  (void)objRefresh(TRUE);
  return __atomic_load_n(&objNameCount, __ATOMIC_ACQUIRE);
}

static const char *gcp_objects_name(unsigned id)
{
  return id >= 1 && id <= __atomic_load_n(&objNameCount, __ATOMIC_ACQUIRE) ? objNames[id] : NULL;
}

INTERN unsigned gcp_objects_id_of(uintptr_t addr)
{
  ObjRange hit;
  if (objSearch(&hit, addr)) return hit.id;
  return objIdOfSlow(addr);
}
