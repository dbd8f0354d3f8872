/* leaks.c -- the leak finder: which routed blocks nothing points to any
 * more, classified as memcheck does.
 *
 * With every other thread stopped (the collector's stop, thread_linux.c,
 * in all-threads mode on the hook's arena), the routed blocks are marked
 * conservatively from the process's roots: each thread's stack (from its
 * stack pointer) and registers, and every private, readable, writable
 * mapping of the process that is not memory of the plugin's arenas, of a
 * thread's stack (scanned live part only) or of this check.  Any aligned
 * word is a candidate pointer; a pointer to a block's start, or to where
 * its Python object starts, is a start pointer, one elsewhere inside it an
 * interior pointer.  The two words of every PyGC_Head on the cyclic GC's
 * lists are skipped, wherever they are: the lists join objects regardless
 * of ownership (gcstate.c finds their heads).
 *
 *   reachable  a start pointer from the roots or a reachable block;
 *   possible   otherwise, any pointer from the roots, a reachable block
 *              (interior) or a possible block;
 *   indirect   otherwise, pointed to by a lost block;
 *   definite   the rest: for each group of lost blocks that point to one
 *              another, the one the others hang from (a cycle's first).
 *
 * While threads are stopped nothing here takes a lock another thread may
 * hold (no malloc: buffers are mmap'd, and left out of the roots) and
 * nothing calls into Python.  The totals and the groups (kind, domain,
 * loaded object, type) are made after the threads run again.
 * Design: docs/design/leaks.md.
 */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "cpython/cpython.h"
#include "gc.h"

enum { LEAK_UNSEEN, LEAK_REACHABLE, LEAK_POSSIBLE, LEAK_INDIRECT, LEAK_DEFINITE, LEAK_KINDS };

typedef struct gcp_leak_totals {
  size_t blocks[LEAK_KINDS], bytes[LEAK_KINDS]; /* by kind (LEAK_UNSEEN unused) */
  size_t rootBytes;   /* bytes of roots scanned (mappings and thread areas) */
  size_t mappings;    /* mappings (or parts of them) scanned */
  size_t threadAreas; /* thread stacks and register sets scanned */
  size_t gcHeads;     /* PyGC_Heads whose links were skipped */
  size_t groups;      /* groups found (more than the capacity: truncated) */
} gcp_leak_totals;

typedef struct gcp_leak_group {
  unsigned kind, domain, object, site;
  uintptr_t type;
  size_t blocks, bytes;
} gcp_leak_group;

typedef struct LeakBlock {
  uintptr_t type;
  size_t size;
  uint16_t tag;
  uint8_t kind;
  uint8_t objOffset; /* where its Python object starts (a start pointer) */
  uint32_t site;     /* its allocation site (sites.c), 0 if unknown */
} LeakBlock;

#define LEAK_MAX_EXCLUDED 4096
#define LEAK_PAGE_SHIFT   12
#define LEAK_MAX_HOTS     4096

typedef struct LeakRange {
  uintptr_t lo, hi;
} LeakRange;

typedef struct Leaks {
  /* the blocks, sorted by address: bases[] apart for the search */
  uintptr_t *bases;
  LeakBlock *blocks;
  size_t count;
  uintptr_t lo, span; /* [lo, lo + span) holds every block */
  /* pageFirst[p]: the first block whose base is at or above page p of the
   * span (pages of LEAK_PAGE_SHIFT bits), pageFirst[pages] = count: a word
   * is looked up among the blocks of its page only */
  uint32_t *pageFirst;
  size_t pages;
  /* the PyGC_Heads of every tracked object and of the lists, sorted */
  uintptr_t *heads;
  size_t headCount;
  /* work stacks of block indices */
  uint32_t *reach, *possible;
  size_t reachTop, possibleTop;
  /* memory not to scan as roots, sorted before the mappings are read */
  LeakRange *excluded;
  size_t excludedCount;
  uintptr_t *hots; /* thread areas' low ends: their mappings are skipped */
  size_t hotCount;
  /* mmap'd buffers, released at the end */
  LeakRange maps[32];
  size_t mapCount;
  size_t capacity; /* of bases and blocks */
  uint32_t leader; /* classifying lost blocks: the group's first */
  Bool failed;
  gcp_leak_totals *totals;
  const HeapTypes *types;
} Leaks;

/* ---- memory of the check (never malloc: threads are stopped) -------------- */

static void *leakMap(Leaks *k, size_t bytes)
{
  void *p;
  if (bytes == 0) bytes = 1;
  bytes = (bytes + 4095) & ~(size_t)4095;
  if (k->mapCount == NELEMS(k->maps)) {
    k->failed = TRUE;
    return NULL;
  }
  p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    k->failed = TRUE;
    return NULL;
  }
  k->maps[k->mapCount].lo = (uintptr_t)p;
  k->maps[k->mapCount].hi = (uintptr_t)p + bytes;
  ++k->mapCount;
  return p;
}

/* Unmap every buffer, the state itself (maps[0]) last. */
static void leakUnmapAll(Leaks *k)
{
  size_t i;
  LeakRange self = k->maps[0];
  for (i = k->mapCount; i-- > 1;)
    (void)munmap((void *)k->maps[i].lo, k->maps[i].hi - k->maps[i].lo);
  (void)munmap((void *)self.lo, self.hi - self.lo);
}

static void leakExclude(Leaks *k, uintptr_t lo, uintptr_t hi)
{
  if (k->excludedCount == LEAK_MAX_EXCLUDED) {
    k->failed = TRUE; /* better no answer than a wrong one */
    return;
  }
  k->excluded[k->excludedCount].lo = lo;
  k->excluded[k->excludedCount].hi = hi;
  ++k->excludedCount;
}

static void leakExcludeChunk(Addr base, Addr limit, void *closure)
{
  leakExclude(closure, (uintptr_t)base, (uintptr_t)limit);
}

/* The unused part of each Python thread's frame data stack: frames popped
 * from it leave their locals behind, stale references that would keep
 * lost objects "reachable".  With the GIL held (the threads that do not
 * hold it push no frames meanwhile). */
static void leakExcludeDataStacks(Leaks *k)
{
  PyThreadState *ts;
  for (ts = PyInterpreterState_ThreadHead(PyInterpreterState_Get()); ts != NULL;
       ts = PyThreadState_Next(ts))
    if (ts->datastack_top != NULL && ts->datastack_limit > ts->datastack_top)
      leakExclude(k, (uintptr_t)ts->datastack_top, (uintptr_t)ts->datastack_limit);
}

/* ---- sorting (radix, 16 bits a pass, over a scratch buffer) ---------------- */

/* Sort keys[0, n) (and blocks alongside, if not NULL) ascending: least
 * significant digit first, between the arrays and scratch copies. */
static void leakSort(Leaks *k, uintptr_t *keys, LeakBlock *blocks, size_t n)
{
  size_t *counts = leakMap(k, 65536 * sizeof(size_t));
  uintptr_t *keySrc = keys, *keyDst = leakMap(k, n * sizeof(uintptr_t));
  LeakBlock *blockSrc = blocks,
            *blockDst = blocks != NULL ? leakMap(k, n * sizeof(LeakBlock)) : NULL;
  unsigned shift;
  if (k->failed || n == 0) return;
  for (shift = 0; shift < 64; shift += 16) {
    size_t i, sum = 0;
    uintptr_t *kt;
    LeakBlock *bt;
    memset(counts, 0, 65536 * sizeof(size_t));
    for (i = 0; i < n; ++i) ++counts[(keySrc[i] >> shift) & 0xFFFF];
    if (counts[(keySrc[0] >> shift) & 0xFFFF] == n) continue; /* one digit: in order */
    for (i = 0; i < 65536; ++i) {
      size_t c = counts[i];
      counts[i] = sum;
      sum += c;
    }
    for (i = 0; i < n; ++i) {
      size_t at = counts[(keySrc[i] >> shift) & 0xFFFF]++;
      keyDst[at] = keySrc[i];
      if (blocks != NULL) blockDst[at] = blockSrc[i];
    }
    kt = keySrc, keySrc = keyDst, keyDst = kt;
    bt = blockSrc, blockSrc = blockDst, blockDst = bt;
  }
  if (keySrc != keys) memcpy(keys, keySrc, n * sizeof(uintptr_t));
  if (blocks != NULL && blockSrc != blocks) memcpy(blocks, blockSrc, n * sizeof(LeakBlock));
}

/* The walk gives each run's blocks in address order, run after run: a few
 * ascending stretches.  If those stretches cover disjoint ranges of
 * addresses (runs do), putting them in order sorts the blocks; FALSE if
 * they do not (then leakSort must).  Copies into new buffers. */
#define LEAK_MAX_STRETCHES 4096

typedef struct LeakStretch {
  size_t from, to; /* [from, to) of the walk's order */
} LeakStretch;

static Bool leakOrderStretches(Leaks *k)
{
  LeakStretch *st = leakMap(k, LEAK_MAX_STRETCHES * sizeof(LeakStretch));
  uintptr_t *bases;
  LeakBlock *blocks;
  size_t n = 0, i, j, at = 0;
  if (k->failed) return FALSE;
  for (i = 0; i < k->count; i = j) {
    for (j = i + 1; j < k->count && k->bases[j] > k->bases[j - 1]; ++j)
      ;
    if (n == LEAK_MAX_STRETCHES) return FALSE;
    st[n].from = i;
    st[n].to = j;
    ++n;
  }
  for (i = 1; i < n; ++i) /* by first address; few stretches: insertion */
    for (j = i; j > 0 && k->bases[st[j - 1].from] > k->bases[st[j].from]; --j) {
      LeakStretch t = st[j];
      st[j] = st[j - 1];
      st[j - 1] = t;
    }
  for (i = 1; i < n; ++i)
    if (k->bases[st[i - 1].to - 1] >= k->bases[st[i].from]) return FALSE; /* interleaved */
  bases = leakMap(k, k->count * sizeof(uintptr_t));
  blocks = leakMap(k, k->count * sizeof(LeakBlock));
  if (k->failed) return FALSE;
  for (i = 0; i < n; ++i) {
    size_t len = st[i].to - st[i].from;
    memcpy(bases + at, k->bases + st[i].from, len * sizeof(uintptr_t));
    memcpy(blocks + at, k->blocks + st[i].from, len * sizeof(LeakBlock));
    at += len;
  }
  k->bases = bases;
  k->blocks = blocks;
  return TRUE;
}

/* ---- the blocks and the GC's lists ------------------------------------------- */

static void leakCount(Addr block, Size size, unsigned tag, uint32_t site, void *closure)
{
  UNUSED(block), UNUSED(size), UNUSED(tag), UNUSED(site);
  ++*(size_t *)closure;
}

static void leakCollect(Addr block, Size size, unsigned tag, uint32_t site, void *closure)
{
  Leaks *k = closure;
  LeakBlock *b;
  if (k->count == k->capacity) return;
  b = &k->blocks[k->count];
  k->bases[k->count] = (uintptr_t)block;
  memset(b, 0, sizeof *b);
  b->size = size;
  b->tag = (uint16_t)tag;
  b->site = site;
  ++k->count;
}

static Bool leakBlocks(Leaks *k, Pool pool)
{
  size_t n = 0, i;
  SegfitWalkSites(pool, leakCount, &n);
  k->bases = leakMap(k, (n + 1) * sizeof(uintptr_t));
  k->blocks = leakMap(k, (n + 1) * sizeof(LeakBlock));
  k->reach = leakMap(k, (n + 1) * sizeof(uint32_t));
  k->possible = leakMap(k, (n + 1) * sizeof(uint32_t));
  if (k->failed || n > UINT32_MAX) return FALSE;
  k->capacity = n;
  SegfitWalkSites(pool, leakCollect, k);
  if (k->count == 0) return TRUE;
  if (!leakOrderStretches(k) && !k->failed) leakSort(k, k->bases, k->blocks, k->count);
  if (k->failed) return FALSE;
  k->lo = k->bases[0];
  k->span = k->bases[k->count - 1] + k->blocks[k->count - 1].size + 1 - k->lo;
  k->pages = (k->span >> LEAK_PAGE_SHIFT) + 1;
  k->pageFirst = leakMap(k, (k->pages + 1) * sizeof(uint32_t));
  if (k->failed) return FALSE;
  {
    size_t p, j = 0;
    for (p = 0; p <= k->pages; ++p) {
      uintptr_t start = k->lo + ((uintptr_t)p << LEAK_PAGE_SHIFT);
      while (j < k->count && k->bases[j] < start) ++j;
      k->pageFirst[p] = (uint32_t)j;
    }
  }
  for (i = 0; i < k->count; ++i) {
    LeakBlock *b = &k->blocks[i];
    Size offset = 0;
    if ((b->tag >> HOOK_DOMAIN_SHIFT) != HOOK_TAG_OBJ) continue;
    b->type = HeapTypeOf(k->types, (Addr)k->bases[i], b->size, &offset);
    b->objOffset = (uint8_t)offset;
  }
  return TRUE;
}

/* Every PyGC_Head on the lists that start at heads[0, n), and the heads. */
static Bool leakGcHeads(Leaks *k, const uintptr_t *listHeads, size_t n)
{
  size_t total = n, i, at = 0;
  /* a list longer than this is damaged: stop rather than loop */
  const size_t limit = (size_t)1 << 34;
  for (i = 0; i < n; ++i) {
    uintptr_t p = ((const GcLinks *)listHeads[i])->next;
    while (p != listHeads[i] && p != 0 && total < limit) {
      ++total;
      p = ((const GcLinks *)p)->next;
    }
    if (p != listHeads[i]) return FALSE;
  }
  k->heads = leakMap(k, total * sizeof(uintptr_t));
  if (k->failed) return FALSE;
  for (i = 0; i < n; ++i) {
    uintptr_t p = listHeads[i];
    do {
      k->heads[at++] = p;
      p = ((const GcLinks *)p)->next;
    } while (p != listHeads[i]);
  }
  k->headCount = at;
  leakSort(k, k->heads, NULL, at);
  k->totals->gcHeads = at;
  return !k->failed;
}

/* ---- marking ------------------------------------------------------------------- */

/* The index of the block holding address w, or -1. */
static long leakFind(const Leaks *k, uintptr_t w)
{
  /* w - k->lo < k->span (the callers check): the block holding w, if any,
   * starts in w's page or is the last one before it */
  size_t page = (w - k->lo) >> LEAK_PAGE_SHIFT;
  size_t lo = k->pageFirst[page], hi = k->pageFirst[page + 1];
  if (lo > 0) --lo;
  while (lo < hi) { /* the first base above w */
    size_t mid = lo + (hi - lo) / 2;
    if (k->bases[mid] <= w)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 0) return -1;
  --lo;
  if (w - k->bases[lo] >= (k->blocks[lo].size > 0 ? k->blocks[lo].size : 1)) return -1;
  return (long)lo;
}

/* A pointer w met in memory of the given kind (a root counts as
 * reachable). */
static void leakPointer(Leaks *k, uintptr_t w, unsigned from)
{
  long i = leakFind(k, w);
  LeakBlock *b;
  Bool start;
  if (i < 0) return;
  b = &k->blocks[i];
  start = w == k->bases[i] || w == k->bases[i] + b->objOffset;
  if (from == LEAK_REACHABLE && start) {
    if (b->kind != LEAK_REACHABLE) {
      b->kind = LEAK_REACHABLE;
      k->reach[k->reachTop++] = (uint32_t)i;
    }
  } else if (b->kind == LEAK_UNSEEN) {
    b->kind = LEAK_POSSIBLE;
    k->possible[k->possibleTop++] = (uint32_t)i;
  }
}

/* The first of the sorted PyGC_Heads that could cover p or a later word. */
static size_t leakHeadFrom(const Leaks *k, uintptr_t p)
{
  size_t lo = 0, hi = k->headCount;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (k->heads[mid] + sizeof(GcLinks) <= p)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

#define LEAK_NO_HEAD (UINTPTR_MAX - 2 * sizeof(GcLinks))

/* Visit every aligned word of [lo, hi) that is not a PyGC_Head's and may
 * point into a block; `found` is called as found(k, word, arg). */
CONSERVATIVE_READS static void leakScan(Leaks *k, uintptr_t lo, uintptr_t hi,
                                        void (*found)(Leaks *, uintptr_t, unsigned), unsigned arg)
{
  size_t h;
  uintptr_t p, skip;
  lo = (lo + sizeof(uintptr_t) - 1) & ~(uintptr_t)(sizeof(uintptr_t) - 1);
  hi &= ~(uintptr_t)(sizeof(uintptr_t) - 1);
  if (lo >= hi) return;
  h = leakHeadFrom(k, lo);
  skip = h < k->headCount ? k->heads[h] : LEAK_NO_HEAD;
  for (p = lo; p < hi; p += sizeof(uintptr_t)) {
    uintptr_t w;
    if (UNLIKELY(p >= skip)) {
      while (skip + sizeof(GcLinks) <= p) {
        ++h;
        skip = h < k->headCount ? k->heads[h] : LEAK_NO_HEAD;
      }
      if (p >= skip) continue;
    }
    w = *(const volatile uintptr_t *)p;
    if (w - k->lo < k->span) found(k, w, arg);
  }
}

static void leakScanBlock(Leaks *k, uint32_t i, void (*found)(Leaks *, uintptr_t, unsigned),
                          unsigned arg)
{
  leakScan(k, k->bases[i], k->bases[i] + k->blocks[i].size, found, arg);
}

static void leakPropagate(Leaks *k)
{
  while (k->reachTop > 0 || k->possibleTop > 0) {
    if (k->reachTop > 0) {
      leakScanBlock(k, k->reach[--k->reachTop], leakPointer, LEAK_REACHABLE);
    } else {
      uint32_t i = k->possible[--k->possibleTop];
      if (k->blocks[i].kind == LEAK_POSSIBLE) leakScanBlock(k, i, leakPointer, LEAK_POSSIBLE);
    }
  }
}

/* ---- roots ----------------------------------------------------------------------- */

static mps_res_t leakThreadArea(mps_ss_t ss, void *base, void *limit, void *closure)
{
  Leaks *k = closure;
  UNUSED(ss);
  if (k->hotCount < LEAK_MAX_HOTS)
    k->hots[k->hotCount++] = (uintptr_t)base;
  else
    k->failed = TRUE;
  k->totals->rootBytes += (uintptr_t)limit - (uintptr_t)base;
  ++k->totals->threadAreas;
  leakScan(k, (uintptr_t)base, (uintptr_t)limit, leakPointer, LEAK_REACHABLE);
  leakPropagate(k);
  return MPS_RES_OK;
}

/* Scan [lo, hi) less the excluded ranges (sorted by lo). */
static void leakScanMapping(Leaks *k, uintptr_t lo, uintptr_t hi)
{
  size_t i;
  for (i = 0; i < k->excludedCount && lo < hi; ++i) {
    const LeakRange *x = &k->excluded[i];
    if (x->hi <= lo) continue;
    if (x->lo >= hi) break;
    if (x->lo > lo) {
      k->totals->rootBytes += x->lo - lo;
      ++k->totals->mappings;
      leakScan(k, lo, x->lo, leakPointer, LEAK_REACHABLE);
    }
    lo = x->hi;
  }
  if (lo < hi) {
    k->totals->rootBytes += hi - lo;
    ++k->totals->mappings;
    leakScan(k, lo, hi, leakPointer, LEAK_REACHABLE);
  }
  leakPropagate(k);
}

static uintptr_t leakHex(const char **sp)
{
  const char *s = *sp;
  uintptr_t v = 0;
  for (;; ++s) {
    unsigned d;
    if (*s >= '0' && *s <= '9')
      d = (unsigned)(*s - '0');
    else if (*s >= 'a' && *s <= 'f')
      d = (unsigned)(*s - 'a' + 10);
    else
      break;
    v = v << 4 | d;
  }
  *sp = s;
  return v;
}

/* One line of /proc/self/maps: scan it if it is private, readable and
 * writable, not a kernel page, not a device, and holds no thread area. */
static void leakMapsLine(Leaks *k, const char *line)
{
  const char *s = line, *path;
  uintptr_t lo, hi;
  size_t i, field;
  lo = leakHex(&s);
  if (*s++ != '-') return;
  hi = leakHex(&s);
  if (*s++ != ' ') return;
  if (s[0] != 'r' || s[1] != 'w' || s[3] != 'p') return;
  /* perms, offset, dev, inode, then the path (if any) */
  for (path = s, field = 0; field < 4 && path != NULL; ++field) {
    path = strchr(path, ' ');
    if (path != NULL)
      while (*path == ' ') ++path;
  }
  if (path != NULL) {
    if (path[0] == '[' && path[1] == 'v') return; /* [vvar], [vdso], [vsyscall] */
    if (strncmp(path, "/dev/", 5) == 0) return;
  }
  for (i = 0; i < k->hotCount; ++i)
    if (k->hots[i] >= lo && k->hots[i] < hi) return; /* a stack: its live part was scanned */
  leakScanMapping(k, lo, hi);
}

static Bool leakMappings(Leaks *k)
{
  size_t cap = (size_t)1 << 22, len = 0, i, start = 0;
  char *text = leakMap(k, cap);
  int fd;
  if (text == NULL) return FALSE;
  fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return FALSE;
  for (;;) {
    ssize_t n = read(fd, text + len, cap - 1 - len);
    if (n < 0) {
      close(fd);
      return FALSE;
    }
    if (n == 0) break;
    len += (size_t)n;
    if (len == cap - 1) { /* larger than 4 MiB: refuse rather than guess */
      close(fd);
      return FALSE;
    }
  }
  close(fd);
  text[len] = '\0';
  /* the text buffer itself was mapped before it was read, so it is in the
   * maps; leave it and every other buffer out */
  for (i = 0; i < k->mapCount; ++i) leakExclude(k, k->maps[i].lo, k->maps[i].hi);
  {
    size_t a, b;
    for (a = 1; a < k->excludedCount; ++a) /* few: insertion sort */
      for (b = a; b > 0 && k->excluded[b - 1].lo > k->excluded[b].lo; --b) {
        LeakRange t = k->excluded[b];
        k->excluded[b] = k->excluded[b - 1];
        k->excluded[b - 1] = t;
      }
  }
  for (i = 0; i < len; ++i)
    if (text[i] == '\n') {
      text[i] = '\0';
      leakMapsLine(k, text + start);
      start = i + 1;
    }
  return !k->failed;
}

/* ---- classification of what no root reaches -------------------------------------- */

static void leakFlood(Leaks *k, uintptr_t w, unsigned arg)
{
  long i = leakFind(k, w);
  LeakBlock *b;
  UNUSED(arg);
  if (i < 0 || (uint32_t)i == k->leader) return;
  b = &k->blocks[i];
  if (b->kind == LEAK_UNSEEN) {
    b->kind = LEAK_INDIRECT;
    k->reach[k->reachTop++] = (uint32_t)i;
  } else if (b->kind == LEAK_DEFINITE) {
    b->kind = LEAK_INDIRECT; /* an earlier leader: its group is flooded already */
  }
}

static void leakClassifyLost(Leaks *k)
{
  size_t i;
  for (i = 0; i < k->count; ++i) {
    if (k->blocks[i].kind != LEAK_UNSEEN) continue;
    k->blocks[i].kind = LEAK_DEFINITE;
    k->leader = (uint32_t)i;
    k->reachTop = 0;
    k->reach[k->reachTop++] = (uint32_t)i;
    while (k->reachTop > 0) leakScanBlock(k, k->reach[--k->reachTop], leakFlood, 0);
  }
}

/* ---- results ------------------------------------------------------------------------ */

static Bool leakSameGroup(const gcp_leak_group *g, const LeakBlock *b)
{
  return g->kind == b->kind && g->domain == (unsigned)(b->tag >> HOOK_DOMAIN_SHIFT) &&
         g->object == (b->tag & HOOK_ID_MASK) && g->site == b->site && g->type == b->type;
}

/* The totals, and the blocks grouped by kind, domain, object, site and
 * type into out (a hash table of group numbers finds a block's group).
 * Returns the number of groups, capacity + 1 if there were more (those
 * are left out; the totals count every block).  After the threads run
 * again: it may map memory. */
static size_t leakGroups(Leaks *k, gcp_leak_group *out, size_t capacity)
{
  size_t slots = 4, i, groups = 0;
  uint32_t *table;
  Bool truncated = FALSE;
  while (slots < 2 * capacity) slots *= 2;
  table = leakMap(k, slots * sizeof(uint32_t)); /* 0: empty, else group + 1 */
  if (table == NULL) return 0;
  for (i = 0; i < k->count; ++i) {
    const LeakBlock *b = &k->blocks[i];
    uint64_t h =
        ((uint64_t)b->kind << 56 ^ (uint64_t)b->tag << 40 ^ (uint64_t)b->site << 8 ^ b->type) *
        0x9E3779B97F4A7C15u;
    size_t at = (size_t)(h >> 32) & (slots - 1);
    gcp_leak_group *g = NULL;
    k->totals->blocks[b->kind] += 1;
    k->totals->bytes[b->kind] += b->size;
    for (; table[at] != 0; at = (at + 1) & (slots - 1))
      if (leakSameGroup(&out[table[at] - 1], b)) {
        g = &out[table[at] - 1];
        break;
      }
    if (g == NULL) {
      if (groups == capacity) {
        truncated = TRUE;
        continue;
      }
      g = &out[groups];
      g->kind = b->kind;
      g->domain = b->tag >> HOOK_DOMAIN_SHIFT;
      g->object = b->tag & HOOK_ID_MASK;
      g->site = b->site;
      g->type = b->type;
      g->blocks = g->bytes = 0;
      table[at] = (uint32_t)++groups;
    }
    g->blocks += 1;
    g->bytes += b->size;
  }
  return truncated ? capacity + 1 : groups;
}

/* ---- the check ---------------------------------------------------------------------- */

/* Zero the 64 KiB of stack below the caller's frame.  The frames of the
 * next call (the check's, and cffi's around it) take their places there,
 * and their slots not yet written would otherwise hold what earlier, deeper
 * calls left: the addresses of blocks just allocated and dropped, which
 * the scan of this thread's live stack would take for references. */
static NOINLINE void gcp_leaks_scrub_stack(void)
{
  volatile char pad[64 * 1024];
  size_t i;
  for (i = 0; i < sizeof pad; i += sizeof(uintptr_t)) *(volatile uintptr_t *)(pad + i) = 0;
}


/* Classify every routed block; fill totals and up to capacity groups
 * (totals->groups says how many there are).  types: every live type
 * object, sorted (as for walks).  Returns 0, or -1 if the check could not
 * be made (no memory for it, the threads could not be stopped, a damaged
 * GC list): then nothing is filled.  Call it after gc.collect(). */
static int gcp_leaks_check(gcp_leak_totals *totals, gcp_leak_group *out, size_t capacity,
                           const uintptr_t *types, size_t typeCount)
{
  HeapTypes typeList = { types, typeCount };
  Leaks *k;
  Arena arena = HookArena();
  Pool pool = HookPool();
  uintptr_t listHeads[8] = { 0 };
  size_t lists;
  Bool allThreads, ok;
  ScanStateStruct ss;
  PyGILState_STATE gil;
  memset(totals, 0, sizeof *totals);
  if (pool == NULL) return 0;
  /* The check's state holds block addresses (the lowest, say), so it is
   * not on this stack, which is scanned: it is in a mapping of its own,
   * left out with the check's other buffers. */
  k = mmap(NULL, sizeof *k, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (k == MAP_FAILED) return -1;
  k->maps[0].lo = (uintptr_t)k;
  k->maps[0].hi = (uintptr_t)k + sizeof *k;
  k->mapCount = 1;
  k->totals = totals;
  k->types = &typeList;
  /* the GIL, held throughout: no Python code runs and the GC's lists
   * stay as they are */
  gil = PyGILState_Ensure();
  lists = gcpGcListHeads(listHeads, NELEMS(listHeads));
  k->excluded = leakMap(k, LEAK_MAX_EXCLUDED * sizeof(LeakRange));
  k->hots = leakMap(k, LEAK_MAX_HOTS * sizeof(uintptr_t));
  if (lists > NELEMS(listHeads) || k->failed) {
    PyGILState_Release(gil);
    leakUnmapAll(k);
    return -1;
  }

  ArenasClaim();
  ScratchClaim();
  ArenaEnter(arena);
  allThreads = arena->gc->allThreads;
  arena->gc->allThreads = TRUE;
  ok = ThreadsSuspend(arena) == RES_OK;
  if (ok) {
    leakExcludeDataStacks(k);
    ArenasVisitChunks(leakExcludeChunk, k);
    ScratchVisit(leakExcludeChunk, k);
    ok = leakBlocks(k, pool) && leakGcHeads(k, listHeads, lists);
    if (ok) {
      /* the walk's frames held block addresses where the thread scan's
       * frames are about to be (and this thread's stack is scanned from
       * the scan's own frame) */
      gcp_leaks_scrub_stack();
      memset(&ss, 0, sizeof ss);
      ok = ThreadsScanAnonymousWith(arena, &ss, leakThreadArea, k) == RES_OK && !k->failed;
    }
    if (ok) ok = leakMappings(k);
    if (ok) leakClassifyLost(k);
    ThreadsResume(arena);
  }
  arena->gc->allThreads = allThreads;
  ArenaLeave(arena);
  ScratchRelease();
  ArenasRelease();

  if (ok) totals->groups = leakGroups(k, out, capacity);
  PyGILState_Release(gil);
  leakUnmapAll(k); /* k itself last */
  if (!ok) {
    memset(totals, 0, sizeof *totals);
    return -1;
  }
  return 0;
}
