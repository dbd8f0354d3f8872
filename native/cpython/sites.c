/* sites.c -- the allocation sites of routed blocks, for the leak finder.
 *
 * With leak tracking on, the hook records for each routed block where it
 * was allocated: the return address of the PyMem_* / PyObject_* call and
 * the innermost Python frames (code object and last instruction, up to
 * the number tracking was started with; pyframes.c reads them).  A site
 * is kept in the block's run as a small number (segfit.h, SegfitSetSite),
 * interned here in a table made when tracking starts: open addressing,
 * never emptied (sites are few: the call sites of the code that
 * allocates); when it is half full, new sites are 0, "unknown".  Sites are
 * interned only by allocations in the MEM and OBJ domains, which hold the
 * GIL: the GIL serializes the table's writers, and Python reads it (for
 * reports) with the GIL too.  A site holds a reference to each of its code
 * objects, so that its lines can be found when the report is made.
 * Design: docs/design/leaks.md (sites).
 */
#include <sys/mman.h>
#include "cpython/cpython.h"

#define SITE_BITS       16
#define SITE_SLOTS      ((size_t)1 << SITE_BITS)
#define SITE_MAX_FRAMES 8

typedef struct Site {
  uintptr_t ra; /* 0: an empty slot */
  uintptr_t code[SITE_MAX_FRAMES];
  int lasti[SITE_MAX_FRAMES];
  unsigned frames;
} Site;

static Site *sites;        /* SITE_SLOTS of them, once tracking started */
static unsigned siteDepth; /* frames recorded per site */

/* Make the table (once) and record `frames` Python frames per site from
 * now on (at most SITE_MAX_FRAMES); FALSE if there is no memory for it. */
INTERN Bool SitesStart(unsigned frames)
{
  if (sites == NULL) {
    void *p = mmap(NULL, SITE_SLOTS * sizeof(Site), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return FALSE;
    sites = p;
  }
  siteDepth = frames < SITE_MAX_FRAMES ? frames : SITE_MAX_FRAMES;
  return TRUE;
}

static uint64_t siteHash(const Site *s)
{
  uint64_t h = s->ra * 0x9E3779B97F4A7C15u;
  unsigned i;
  for (i = 0; i < s->frames; ++i)
    h = (h ^ s->code[i] ^ ((uint64_t)(unsigned)s->lasti[i] << 48)) * 0x9E3779B97F4A7C15u;
  return h;
}

static Bool siteEqual(const Site *a, const Site *b)
{
  unsigned i;
  if (a->ra != b->ra || a->frames != b->frames) return FALSE;
  for (i = 0; i < a->frames; ++i)
    if (a->code[i] != b->code[i] || a->lasti[i] != b->lasti[i]) return FALSE;
  return TRUE;
}

/* The site number (1 .. SITE_SLOTS) of an allocation from return address
 * ra on the calling thread now, or 0.  With the GIL held. */
INTERN uint32_t SiteIntern(uintptr_t ra)
{
  Site key;
  size_t i, probes;
  if (sites == NULL || ra == 0) return 0;
  /* all of it: the table is scanned by the leak finder, and stale stack
   * words in the unused frame slots would pass for references */
  memset(&key, 0, sizeof key);
  key.ra = ra;
  key.frames = (unsigned)gcpPyFrames(key.code, key.lasti, siteDepth);
  i = (size_t)(siteHash(&key) >> (64 - SITE_BITS));
  for (probes = 0; probes < SITE_SLOTS / 2; ++probes, i = (i + 1) & (SITE_SLOTS - 1)) {
    Site *s = &sites[i];
    if (s->ra == 0) {
      unsigned f;
      *s = key;
      for (f = 0; f < key.frames; ++f) Py_INCREF((PyObject *)key.code[f]);
      return (uint32_t)i + 1;
    }
    if (siteEqual(s, &key)) return (uint32_t)i + 1;
  }
  return 0;
}

static const Site *siteOf(uint32_t site)
{
  if (sites == NULL || site == 0 || site > SITE_SLOTS || sites[site - 1].ra == 0) return NULL;
  return &sites[site - 1];
}

/* The return address of site number site, or 0. */
static uintptr_t gcp_site_address(uint32_t site)
{
  const Site *s = siteOf(site);
  return s != NULL ? s->ra : 0;
}

/* How many Python frames site number site has. */
static unsigned gcp_site_frames(uint32_t site)
{
  const Site *s = siteOf(site);
  return s != NULL ? s->frames : 0;
}

/* Frame i of site number site (0: the innermost): its file name into
 * file (UTF-8, truncated to n bytes with the terminator) and its line, or
 * -1 if there is no such frame. */
static int gcp_site_frame(uint32_t site, unsigned i, char *file, size_t n)
{
  const Site *s = siteOf(site);
  PyGILState_STATE g;
  PyCodeObject *code;
  const char *name;
  int line;
  if (s == NULL || i >= s->frames || n == 0) return -1;
  g = PyGILState_Ensure();
  code = (PyCodeObject *)s->code[i];
  line = PyCode_Addr2Line(code, s->lasti[i] * (int)sizeof(_Py_CODEUNIT));
  name = PyUnicode_AsUTF8(code->co_filename);
  if (name == NULL) {
    PyErr_Clear();
    name = "?";
  }
  (void)snprintf(file, n, "%s", name);
  PyGILState_Release(g);
  return line;
}
