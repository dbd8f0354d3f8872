/* test_client_arena.c -- the client arena (mps_arena_class_cl, mpsacl.h):
 * an arena that lives entirely in memory the client gives it and grows
 * only by mps_arena_extend.
 *
 * The client memory is malloc'd (so that AddressSanitizer sees writes
 * past it), filled with a garbage pattern (0xA5) before the arena gets
 * it, given at addresses that are not grain-aligned, and surrounded by
 * guard bytes that must keep the pattern.  MVFF: the arena handle and
 * every block lie in the client memory (range check, mps_arena_has_addr);
 * filling the pool to the last byte fails cleanly with a result code, and
 * so does one huge block; after mps_arena_extend with a block adjacent to
 * the first, then with a separate one, allocation succeeds again and lands
 * in the new block; blocks keep their contents; mps_arena_reserved follows
 * the blocks; MPS_KEY_ARENA_EXTENDED is called once for the initial block
 * and once per extension, with ranges inside the memory given, and never
 * for an arena whose creation fails.  AMC with a small chain, released, in
 * 6 MiB, in 2 MiB extended halfway, and in 1 MiB: 64 times the block is
 * allocated as lists of which a few (at most 196 KiB) stay alive through
 * an exact root table; no reserve fails, the lists stay intact, every
 * object lies in the client memory, mps_collections grows; parked, filling
 * the block with live objects fails cleanly, and once they are dropped a
 * collection makes room again.  No memory is mapped outside the client
 * blocks while an arena works (/proc/self/maps less the blocks does not
 * grow).  Misuse, reported: no MPS_KEY_ARENA_CL_BASE, no
 * MPS_KEY_ARENA_SIZE, extensions overlapping the arena (inside,
 * straddling either end, the same block); mps_arena_extend of a VM arena
 * is MPS_RES_UNIMPL, as in the MPS.
 * Too small a block, at creation or extension, fails; arenas of 1 to 40
 * pages work or fail cleanly.  After mps_arena_destroy the memory is the
 * client's: it is written over entirely, and new client arenas (the legacy
 * mps_arena_create form) are made in it and used.
 * Usage: test_client_arena [seed].  Design: docs/design/arena.md (client
 * arenas).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "mps.h"
#include "mpsacl.h"
#include "mpsavm.h"
#include "mpscamc.h"
#include "mpscmvff.h"
#include "mpslib.h"
#include "testlib.h"
#include "wordfmt.h"

#define MiB       ((size_t)1 << 20)
#define GUARD     ((size_t)8192)
#define FILL      0xA5
#define MAXBLOCKS 4096
#define NLISTS    8
#define LISTMAX   100

static size_t pageSize;

/* ---- client memory -------------------------------------------------------------- */

/* A malloc'd region: guard bytes, then the client's bytes [base, limit)
 * starting `misalign` bytes after a page boundary, then guard bytes. */
typedef struct {
  unsigned char *mem, *base, *limit;
  size_t memSize;
} Region;

static void regionMake(Region *r, size_t size, size_t misalign)
{
  r->memSize = size + 2 * GUARD + pageSize;
  r->mem = malloc(r->memSize);
  REQUIRE(r->mem != NULL);
  memset(r->mem, FILL, r->memSize);
  r->base = (unsigned char *)alignUp((size_t)(r->mem + GUARD), pageSize) + misalign;
  r->limit = r->base + size;
}

/* The bytes outside [base, limit) still hold the fill pattern. */
static int guardsIntact(const Region *r)
{
  const unsigned char *p;
  for (p = r->mem; p < r->base; ++p)
    if (*p != FILL) return 0;
  for (p = r->limit; p < r->mem + r->memSize; ++p)
    if (*p != FILL) return 0;
  return 1;
}

static int inside(const void *p, size_t size, const unsigned char *base, const unsigned char *limit)
{
  const unsigned char *q = p;
  return q >= base && q + size <= limit;
}

/* Bytes mapped in the process outside the regions (and the stack). */
static size_t mappedOutside(const Region *regions, size_t n)
{
  static char buf[1 << 20];
  size_t len = 0, total = 0, i;
  ssize_t got;
  char *line;
  int fd = open("/proc/self/maps", O_RDONLY);
  if (fd < 0) return 0;
  while (len < sizeof buf - 1 && (got = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
    len += (size_t)got;
  close(fd);
  buf[len] = '\0';
  for (line = buf; *line != '\0';) {
    char *end = strchr(line, '\n');
    uintptr_t lo = (uintptr_t)strtoull(line, NULL, 16), hi;
    char *dash = strchr(line, '-');
    hi = dash == NULL ? lo : (uintptr_t)strtoull(dash + 1, NULL, 16);
    if (end != NULL) *end = '\0';
    if (strstr(line, "[stack]") == NULL) {
      size_t size = hi - lo;
      for (i = 0; i < n; ++i) { /* less the overlap with each region */
        uintptr_t a = (uintptr_t)regions[i].mem, b = a + regions[i].memSize;
        uintptr_t x = lo > a ? lo : a, y = hi < b ? hi : b;
        if (x < y) size -= y - x;
      }
      total += size;
    }
    if (end == NULL) break;
    line = end + 1;
  }
  return total;
}

/* ---- MPS_KEY_ARENA_EXTENDED -------------------------------------------------------- */

static struct {
  void *base;
  size_t size;
} extensions[8];
static size_t nextended;

static void extended(mps_arena_t arena, void *base, size_t size)
{
  (void)arena;
  if (nextended < 8) extensions[nextended].base = base, extensions[nextended].size = size;
  ++nextended;
}

/* The last call was for [base, base + size) less at most a grain at each end. */
static int lastExtension(const unsigned char *base, size_t size)
{
  const unsigned char *b = extensions[(nextended - 1) % 8].base;
  size_t s = extensions[(nextended - 1) % 8].size;
  return inside(b, s, base, base + size) && s + 2 * pageSize >= size;
}

static mps_res_t clientArena(mps_arena_t *arenaReturn, void *base, size_t size)
{
  mps_res_t res;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_ARENA_CL_BASE, base);
    MPS_ARGS_ADD(args, MPS_KEY_ARENA_SIZE, size);
    MPS_ARGS_ADD(args, MPS_KEY_ARENA_EXTENDED, (mps_fun_t)extended);
    res = mps_arena_create_k(arenaReturn, mps_arena_class_cl(), args);
  }
  MPS_ARGS_END(args);
  return res;
}

/* ---- MVFF: filling, extending ---------------------------------------------------- */

typedef struct {
  unsigned char *p;
  size_t size;
  unsigned char fill;
} Block;
static Block blocks[MAXBLOCKS];
static size_t nblocks;
static const unsigned char *allowed[3][2]; /* where blocks may lie */
static size_t nallowed;

static void allow(size_t i, const unsigned char *lo, const unsigned char *hi)
{
  allowed[i][0] = lo, allowed[i][1] = hi;
  nallowed = i + 1;
}

/* Allocate blocks until the pool fails or there are maxBlocks more: of
 * random sizes, or (exhaust) of the largest size that still fits, down
 * to 8 bytes.  Each must lie in an allowed range and in the arena.
 * Gives the bytes allocated. */
static size_t fill(mps_arena_t arena, mps_pool_t pool, size_t maxBlocks, int exhaust,
                   mps_res_t *resReturn)
{
  size_t bytes = 0, n = 0, size = 65536, a;
  mps_res_t res = MPS_RES_OK;
  unsigned long outside = 0;
  while (n < maxBlocks && nblocks < MAXBLOCKS) {
    Block *b = &blocks[nblocks];
    mps_addr_t p;
    int in = 0;
    b->size = exhaust ? size : 8 + rnd() % (rnd() % 4 == 0 ? 65536 : 2048);
    res = mps_alloc(&p, pool, b->size);
    if (res != MPS_RES_OK) {
      if (!exhaust || size == 8) break;
      size /= 2;
      continue;
    }
    b->p = p;
    b->fill = (unsigned char)rnd();
    memset(b->p, b->fill, b->size);
    for (a = 0; a < nallowed; ++a) in |= inside(b->p, b->size, allowed[a][0], allowed[a][1]);
    outside +=
        !in || !mps_arena_has_addr(arena, b->p) || !mps_arena_has_addr(arena, b->p + b->size - 1);
    bytes += b->size;
    ++nblocks, ++n;
  }
  if (outside != 0) fprintf(stderr, "  %lu blocks outside the allowed memory\n", outside);
  CHECK(outside == 0);
  CHECK(nblocks < MAXBLOCKS);
  if (resReturn != NULL) *resReturn = res;
  return bytes;
}

static int blocksIntact(void)
{
  size_t i, k;
  for (i = 0; i < nblocks; ++i)
    for (k = 0; k < blocks[i].size; ++k)
      if (blocks[i].p[k] != blocks[i].fill) return 0;
  return 1;
}

static int failed(mps_res_t res) { return res != MPS_RES_OK; } /* any code, no crash */

/* One arena over r1 (with r2 adjacent to it) and r3; all of them are
 * written over after it is destroyed. */
static void mvffArena(Region *r12, size_t size1, Region *r3)
{
  unsigned char *b1 = r12->base, *b2 = r12->base + size1, *b3 = r3->base;
  size_t size2 = (size_t)(r12->limit - b2), size3 = (size_t)(r3->limit - r3->base);
  mps_arena_t arena;
  mps_pool_t pool;
  mps_res_t res;
  mps_addr_t p;
  size_t bytes, i, ext0;
  unsigned long r0;

  nextended = 0;
  REQUIRE(clientArena(&arena, b1, size1) == MPS_RES_OK);
  CHECK(nextended == 1 && lastExtension(b1, size1));
  CHECK(inside(arena, sizeof(void *), b1, b2) && mps_arena_has_addr(arena, b1 + size1 - 1));
  CHECK(!mps_arena_has_addr(arena, b2) && !mps_arena_has_addr(arena, b1 - 1));
  CHECK(mps_arena_reserved(arena) <= size1 && mps_arena_reserved(arena) + pageSize >= size1);
  CHECK(mps_arena_committed(arena) <= mps_arena_reserved(arena));
  REQUIRE(mps_pool_create_k(&pool, arena, mps_class_mvff(), mps_args_none) == MPS_RES_OK);

  /* Full: a result code, never a crash; one huge block fails too. */
  nblocks = 0;
  allow(0, b1, b2);
  bytes = fill(arena, pool, MAXBLOCKS, 0, &res);
  CHECK(failed(res));
  bytes += fill(arena, pool, MAXBLOCKS, 1, &res); /* every last byte */
  printf("block 1: %zu KiB, %zu blocks of %zu KiB until %d\n", size1 >> 10, nblocks, bytes >> 10,
         res);
  CHECK(failed(res));
  CHECK(bytes >= size1 / 2);
  CHECK(failed(mps_alloc(&p, pool, 2 * size1)));
  CHECK(mps_arena_committed(arena) <= mps_arena_reserved(arena));

  /* Extensions that overlap the arena, or are too small, are refused. */
  r0 = reports;
  CHECK(mps_arena_extend(arena, b1 + 3 * pageSize, 4 * pageSize) != MPS_RES_OK); /* inside */
  CHECK(reported(r0, "overlaps"));
  r0 = reports;
  CHECK(mps_arena_extend(arena, b1 - 2 * pageSize - 8, 8 * pageSize) != MPS_RES_OK); /* low end */
  CHECK(reported(r0, "overlaps"));
  r0 = reports;
  CHECK(mps_arena_extend(arena, b1 + size1 - 2 * pageSize, size2) != MPS_RES_OK); /* high end */
  CHECK(reported(r0, "overlaps"));
  r0 = reports;
  CHECK(mps_arena_extend(arena, b1, size1) != MPS_RES_OK); /* the same */
  CHECK(reported(r0, "overlaps"));
  CHECK(mps_arena_extend(arena, b3, 100) != MPS_RES_OK); /* too small */
  CHECK(mps_arena_extend(arena, b3, 0) != MPS_RES_OK);
  CHECK(nextended == 1);
  CHECK(failed(mps_alloc(&p, pool, 8)));

  /* The adjacent block: allocation works again, in it. */
  CHECK(mps_arena_extend(arena, b2, size2) == MPS_RES_OK);
  CHECK(nextended == 2 && lastExtension(b2, size2));
  CHECK(mps_arena_has_addr(arena, b2 + size2 - 1) && mps_arena_has_addr(arena, b1 + pageSize));
  CHECK(mps_arena_reserved(arena) + 2 * pageSize >= size1 + size2);
  ext0 = nblocks;
  allow(0, b2, r12->limit);
  bytes = fill(arena, pool, 16, 0, NULL);
  CHECK(nblocks == ext0 + 16);
  bytes += fill(arena, pool, MAXBLOCKS, 0, &res);
  bytes += fill(arena, pool, MAXBLOCKS, 1, &res);
  CHECK(failed(res) && bytes >= size2 / 2);
  printf("block 2 (adjacent): %zu KiB, %zu KiB more until %d\n", size2 >> 10, bytes >> 10, res);

  /* A separate block. */
  CHECK(mps_arena_extend(arena, b3, size3) == MPS_RES_OK);
  CHECK(nextended == 3 && lastExtension(b3, size3));
  ext0 = nblocks;
  allow(0, b3, r3->limit);
  (void)fill(arena, pool, 16, 0, NULL);
  CHECK(nblocks == ext0 + 16);
  CHECK(mps_arena_committed(arena) <= mps_arena_reserved(arena));
  CHECK(mps_arena_reserved(arena) <= size1 + size2 + size3);

  CHECK(blocksIntact());
  for (i = 0; i < nblocks; ++i) mps_free(pool, blocks[i].p, blocks[i].size);
  nblocks = 0;
  allow(0, b1, r12->limit);
  allow(1, b3, r3->limit);
  (void)fill(arena, pool, 64, 0, NULL);
  CHECK(nblocks == 64 && blocksIntact()); /* freed space is reused */
  for (i = 0; i < nblocks; ++i) mps_free(pool, blocks[i].p, blocks[i].size);
  nblocks = 0;
  mps_pool_destroy(pool);
  mps_arena_destroy(arena);
  CHECK(nextended == 3);
  CHECK(guardsIntact(r12) && guardsIntact(r3));
  memset(r12->base, 0x5A, (size_t)(r12->limit - r12->base)); /* the client's again */
  memset(r3->base, 0x5A, size3);
}

/* ---- AMC: collecting in client memory -------------------------------------------- */

static mps_addr_t lists[NLISTS + 1]; /* the root table; [NLISTS]: the list being built */
static size_t listLen[NLISTS];
static mps_word_t listTag[NLISTS];

static mps_word_t dataWord(mps_word_t id, size_t k)
{
  return (id * (mps_word_t)0x9E3779B97F4A7C15ull) ^ ((mps_word_t)k * 0xD6E8FEB86659FD93ull) ^
         0x5A5Au;
}

/* Push a node onto lists[NLISTS]: [tag, id, 1, next, data...]. */
static mps_res_t push(mps_ap_t ap, mps_word_t id, size_t *bytesIO)
{
  size_t ndata = 1 + (size_t)(id * 7 % 23), words = 4 + ndata, size = words * WORD, k;
  mps_addr_t p;
  do {
    mps_word_t *w;
    mps_res_t res = mps_reserve(&p, ap, size);
    if (res != MPS_RES_OK) return res;
    w = p;
    w[0] = (mps_word_t)size | T_OBJ;
    w[1] = id;
    w[2] = 1;
    w[3] = (mps_word_t)lists[NLISTS];
    for (k = 4; k < words; ++k) w[k] = dataWord(id, k);
  } while (!mps_commit(ap, p, size));
  lists[NLISTS] = p;
  *bytesIO += size;
  return MPS_RES_OK;
}

/* A list of n nodes with ids tag | (n - 1) ... tag | 0 from the head,
 * intact and in the allowed memory. */
static int listIntact(mps_addr_t head, size_t n, mps_word_t tag)
{
  mps_word_t *w = head;
  size_t i, k, a;
  for (i = n; i-- > 0; w = (mps_word_t *)w[3]) {
    mps_word_t id = tag | i;
    size_t words = 4 + 1 + (size_t)(id * 7 % 23);
    int in = 0;
    for (a = 0; w != NULL && a < nallowed; ++a)
      in |= inside(w, words * WORD, allowed[a][0], allowed[a][1]);
    if (!in) return 0;
    if (w[0] != ((mps_word_t)(words * WORD) | T_OBJ) || w[1] != id || w[2] != 1) return 0;
    for (k = 4; k < words; ++k)
      if (w[k] != dataWord(id, k)) return 0;
  }
  return w == NULL;
}

/* An AMC pool with a small chain in a client arena over [base, base +
 * size), created the legacy way, collecting on its own (extended halfway
 * with [ext, ext + extSize) unless ext is NULL); then filled parked.
 * `regions`: all client memory, for the mapping count. */
static void amcArena(unsigned char *base, size_t size, unsigned char *ext, size_t extSize,
                     const Region *regions, size_t nregions)
{
  mps_gen_param_s gens[2] = { { 128, 0.8 }, { 256, 0.4 } };
  mps_arena_t arena;
  mps_chain_t chain;
  mps_fmt_t fmt;
  mps_pool_t pool;
  mps_ap_t ap;
  mps_root_t root;
  mps_word_t collections0, round = 0;
  size_t total = 0, mapped0, mapped1, i, kept = 0;
  unsigned long broken = 0;
  mps_res_t res = MPS_RES_OK;

  mapped0 = mappedOutside(regions, nregions);
  REQUIRE(mps_arena_create(&arena, mps_arena_class_cl(), size, (mps_addr_t)base) == MPS_RES_OK);
  CHECK(inside(arena, sizeof(void *), base, base + size));
  REQUIRE(mps_chain_create(&chain, arena, 2, gens) == MPS_RES_OK);
  makePool(&fmt, &pool, arena, chain);
  REQUIRE(mps_ap_create_k(&ap, pool, mps_args_none) == MPS_RES_OK);
  memset(lists, 0, sizeof lists);
  memset(listLen, 0, sizeof listLen);
  REQUIRE(mps_root_create_table(&root, arena, mps_rank_exact(), 0, lists, NLISTS + 1) ==
          MPS_RES_OK);
  collections0 = mps_collections(arena);

  /* Released: many times the block, a few lists live at a time. */
  allow(0, base, base + size);
  while (total < 64 * size && res == MPS_RES_OK) {
    size_t l = rnd() % NLISTS, n = 1 + rnd() % LISTMAX;
    mps_word_t tag = ++round << 20;
    lists[NLISTS] = NULL;
    for (i = 0; i < n && (res = push(ap, tag | i, &total)) == MPS_RES_OK; ++i)
      ;
    if (res != MPS_RES_OK) { /* out of memory with the live set far smaller */
      fprintf(stderr,
              "  AMC in %zu KiB: reserve failed (%d) after %zu KiB allocated, %lu "
              "collections, with at most %d KiB live\n",
              size >> 10, res, total >> 10, (unsigned long)(mps_collections(arena) - collections0),
              (int)((NLISTS + 1) * LISTMAX * 28 * WORD) >> 10);
      break;
    }
    lists[l] = lists[NLISTS], listLen[l] = n, listTag[l] = tag;
    lists[NLISTS] = NULL;
    if (round % 64 == 0)
      for (l = 0; l < NLISTS; ++l) broken += !listIntact(lists[l], listLen[l], listTag[l]);
    if (ext != NULL && total >= 32 * size && nallowed == 1) {
      CHECK(mps_arena_extend(arena, ext, extSize) == MPS_RES_OK);
      allow(1, ext, ext + extSize);
    }
  }
  for (i = 0; i < NLISTS; ++i) broken += !listIntact(lists[i], listLen[i], listTag[i]);
  CHECK(res == MPS_RES_OK);
  CHECK(broken == 0);
  CHECK(mps_collections(arena) > collections0);
  printf("AMC in %zu KiB%s: %zu KiB allocated, %lu collections\n", size >> 10,
         ext != NULL ? " (extended)" : "", total >> 10,
         (unsigned long)(mps_collections(arena) - collections0));

  /* Parked: fill the block with live objects until that fails. */
  mps_arena_park(arena);
  lists[NLISTS] = NULL;
  for (kept = 0;
       kept < size / WORD && (res = push(ap, (mps_word_t)0xF << 40 | kept, &total)) == MPS_RES_OK;
       ++kept)
    ;
  CHECK(failed(res));
  CHECK(listIntact(lists[NLISTS], kept, (mps_word_t)0xF << 40));
  printf("AMC parked: %zu objects live when full (%d)\n", kept, res);
  lists[NLISTS] = NULL; /* dropped: a collection makes room */
  CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  for (i = 0; i < NLISTS; ++i) CHECK(listIntact(lists[i], listLen[i], listTag[i]));
  for (i = 0; i < 1000; ++i) CHECK(push(ap, (mps_word_t)0xE << 40 | i, &total) == MPS_RES_OK);
  CHECK(listIntact(lists[NLISTS], 1000, (mps_word_t)0xE << 40));

  mapped1 = mappedOutside(regions, nregions);
  if (mapped1 > mapped0)
    fprintf(stderr, "  %zu bytes mapped outside the client memory\n", mapped1 - mapped0);
  CHECK(mapped1 <= mapped0);
  mps_root_destroy(root);
  mps_ap_destroy(ap);
  mps_pool_destroy(pool);
  mps_fmt_destroy(fmt);
  mps_chain_destroy(chain);
  mps_arena_destroy(arena);
  memset(base, 0x5A, size); /* the client's again */
  if (ext != NULL) memset(ext, 0x5A, extSize);
}

/* ---- misuse ------------------------------------------------------------------------ */

static void misuse(Region *r)
{
  mps_arena_t arena, vm;
  unsigned long r0;
  size_t pages, made = 0;

  r0 = reports;
  MPS_ARGS_BEGIN(args)
  { /* no base */
    MPS_ARGS_ADD(args, MPS_KEY_ARENA_SIZE, (size_t)(r->limit - r->base));
    CHECK(mps_arena_create_k(&arena, mps_arena_class_cl(), args) != MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  CHECK(reported(r0, "CL_BASE"));
  r0 = reports;
  MPS_ARGS_BEGIN(args)
  { /* no size */
    MPS_ARGS_ADD(args, MPS_KEY_ARENA_CL_BASE, r->base);
    CHECK(mps_arena_create_k(&arena, mps_arena_class_cl(), args) != MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  CHECK(reported(r0, "ARENA_SIZE"));
  nextended = 0;
  CHECK(clientArena(&arena, r->base, 100) != MPS_RES_OK); /* too small */
  CHECK(clientArena(&arena, r->base, 2 * pageSize) != MPS_RES_OK);
  CHECK(mps_arena_create(&arena, mps_arena_class_cl(), (size_t)pageSize,
                         (mps_addr_t)(r->base + 8)) != MPS_RES_OK);
  CHECK(nextended == 0);
  r0 = reports;
  for (pages = 1; pages <= 40; ++pages) { /* tiny arenas work or fail cleanly */
    mps_pool_t pool;
    mps_addr_t p;
    size_t ext0 = nextended;
    memset(r->base, FILL, pages * pageSize);
    if (clientArena(&arena, r->base, pages * pageSize) != MPS_RES_OK) {
      if (nextended != ext0) /* told of an arena it never got */
        fprintf(stderr, "  %zu pages: creation failed after MPS_KEY_ARENA_EXTENDED was called\n",
                pages);
      CHECK(nextended == ext0);
      continue;
    }
    ++made;
    CHECK(nextended == ext0 + 1);
    if (mps_pool_create_k(&pool, arena, mps_class_mvff(), mps_args_none) == MPS_RES_OK) {
      if (mps_alloc(&p, pool, 64) == MPS_RES_OK) {
        CHECK(inside(p, 64, r->base, r->base + pages * pageSize));
        mps_free(pool, p, 64);
      }
      mps_pool_destroy(pool);
    }
    mps_arena_destroy(arena);
  }
  CHECK(made > 0 && reports == r0);
  REQUIRE(mps_arena_create_k(&vm, mps_arena_class_vm(), mps_args_none) == MPS_RES_OK);
  r0 = reports;
  /* A VM arena grows by itself: extending it is not implemented (as in
   * the MPS), which is a result, not misuse. */
  CHECK(mps_arena_extend(vm, r->base, (size_t)(r->limit - r->base)) == MPS_RES_UNIMPL);
  CHECK(reports == r0);
  mps_arena_destroy(vm);
  CHECK(guardsIntact(r));
}

int main(int argc, char **argv)
{
  Region r12, r3, all[2];
  size_t size1 = 4 * MiB - 40;
  mps_lib_assert_fail_t old;

  testSeed(argc, argv);
  pageSize = (size_t)sysconf(_SC_PAGESIZE);
  old = mps_lib_assert_fail_install(recordHandler);
  /* r12: block 1 at 40 bytes past a page boundary, block 2 right after it. */
  regionMake(&r12, size1 + 2 * MiB, 40);
  regionMake(&r3, 2 * MiB + 123, 123);
  all[0] = r12, all[1] = r3;
  misuse(&r12);
  mvffArena(&r12, size1, &r3);
  /* Reuse: the same memory, written over, for arenas that collect. */
  amcArena(r12.base, (size_t)(r12.limit - r12.base), NULL, 0, all, 2);
  amcArena(r3.base, (size_t)(r3.limit - r3.base), r12.base, (size_t)(r12.limit - r12.base), all, 2);
  amcArena(r3.base, MiB, NULL, 0, all, 2);
  CHECK(guardsIntact(&r12) && guardsIntact(&r3));
  mps_lib_assert_fail_install(old);
  free(r12.mem);
  free(r3.mem);
  CHECK(badTags == 0);
  return testFinish();
}
