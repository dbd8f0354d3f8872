/* test_amcz_lo.c -- leaf objects in AMCZ and LO pools.
 *
 * Leaves (a tag word, an id, data words derived from the id) live in an
 * AMCZ pool and an LO pool whose format has skip, fwd, isfwd and pad but no
 * scan method.  They are referenced from the reference slots of AMC nodes
 * (which are scanned) and from an exact table root.  Each round allocates
 * leaves of mixed sizes (some of 32 KiB and more), stores some of them in
 * random slots, dropping what the slots held, and collects with the arena
 * parked.  Then: every referenced leaf is intact and in the right pool; LO
 * leaves never move; AMCZ leaves may move (counted); mps_pool_walk sees
 * exactly the referenced leaves of each pool; the space in use shrinks by
 * what was dropped; and over many rounds the total size of each pool stays
 * bounded (the space collections free is reused).
 * Usage: test_amcz_lo [seed].  Design: docs/design/amc.md, lo.md,
 * collector-interface.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpscamc.h"
#include "mpsclo.h"
#include "testlib.h"

#define WORD    ((size_t)sizeof(mps_word_t))
#define MAXLEAF 20000
#define NNODES  8
#define NSLOTS  16 /* reference slots per node */
#define NDIRECT 32 /* root slots holding leaves directly */
#define NREF    (NNODES * NSLOTS + NDIRECT)
#define ROUNDS  40
#define NODE_ID 0x4e4f4445UL

enum { T_LEAF = 1, T_PAD = 2, T_FWD = 3, T_PAD1 = 4, T_FWD1 = 5, T_NODE = 6 };
#define TYPE(w) ((unsigned)((w)&7))
#define SIZE(w) ((size_t)((w) & ~(mps_word_t)7))
enum { Z, L, NPOOLS }; /* AMCZ, LO */

static mps_arena_t arena;
static mps_pool_t pools[NPOOLS], nodePool;
static unsigned long badTags;

/* ---- the format (no in-band header) -------------------------------------------- */

static mps_word_t dataWord(mps_word_t id, size_t k)
{
  return (id << 20) ^ (k * 2654435761u) ^ 0xa5;
}

static mps_addr_t fmtSkip(mps_addr_t p)
{
  mps_word_t tag = *(mps_word_t *)p;
  switch (TYPE(tag)) {
  case T_PAD1:
  case T_FWD1: return (char *)p + WORD;
  case T_LEAF:
  case T_PAD:
  case T_FWD:
  case T_NODE: return (char *)p + SIZE(tag);
  default: ++badTags; return (char *)p + WORD;
  }
}

static mps_addr_t fmtIsfwd(mps_addr_t p)
{
  mps_word_t *w = p;
  if (TYPE(w[0]) == T_FWD) return (mps_addr_t)w[1];
  if (TYPE(w[0]) == T_FWD1) return (mps_addr_t)SIZE(w[0]);
  return NULL;
}

static void fmtFwd(mps_addr_t old, mps_addr_t newp)
{
  mps_word_t *w = old;
  size_t size = (size_t)((char *)fmtSkip(old) - (char *)old);
  if (size == WORD) {
    w[0] = (mps_word_t)newp | T_FWD1;
  } else {
    w[0] = (mps_word_t)size | T_FWD;
    w[1] = (mps_word_t)newp;
  }
}

static void fmtPad(mps_addr_t p, size_t size)
{
  *(mps_word_t *)p = size == WORD ? (mps_word_t)T_PAD1 : ((mps_word_t)size | T_PAD);
}

/* Nodes: tag, id, slot count, slots.  Only the AMC format has this. */
static mps_res_t nodeScan(mps_ss_t ss, mps_addr_t base, mps_addr_t limit)
{
  MPS_SCAN_BEGIN(ss)
  {
    mps_addr_t p;
    for (p = base; p < limit; p = fmtSkip(p)) {
      mps_word_t *w = p;
      size_t i;
      if (TYPE(w[0]) != T_NODE) continue;
      for (i = 0; i < w[2]; ++i) {
        mps_addr_t r = (mps_addr_t)w[3 + i];
        if (MPS_FIX1(ss, r)) {
          mps_res_t res = MPS_FIX2(ss, &r);
          if (res != MPS_RES_OK) return res;
          w[3 + i] = (mps_word_t)r;
        }
      }
    }
  }
  MPS_SCAN_END(ss);
  return MPS_RES_OK;
}

static mps_fmt_t makeFormat(mps_fmt_scan_t scan)
{
  mps_fmt_t fmt;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FMT_ALIGN, WORD);
    if (scan != NULL) MPS_ARGS_ADD(args, MPS_KEY_FMT_SCAN, scan);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_SKIP, fmtSkip);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_FWD, fmtFwd);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_ISFWD, fmtIsfwd);
    MPS_ARGS_ADD(args, MPS_KEY_FMT_PAD, fmtPad);
    REQUIRE(mps_fmt_create_k(&fmt, arena, args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  return fmt;
}

/* ---- leaves and their model ------------------------------------------------------ */

typedef struct {
  int pool; /* Z or L */
  size_t ndata;
  mps_addr_t addr; /* last known address */
} Leaf;

static Leaf leaves[MAXLEAF];
static unsigned nleaves;
static int slotId[NREF]; /* which leaf each slot holds, -1 for none */
static mps_addr_t rootTab[NNODES + NDIRECT];
static unsigned char live[MAXLEAF], walkSeen[MAXLEAF];
static unsigned long moves[NPOOLS], walkBad, walkUnknown;
static size_t walkBytes;

static size_t leafSize(size_t ndata) { return WORD * (2 + ndata); }

static mps_addr_t allocLeaf(mps_ap_t ap, mps_word_t id, size_t ndata)
{
  size_t size = leafSize(ndata), k;
  mps_addr_t p;
  do {
    mps_word_t *w;
    REQUIRE(mps_reserve(&p, ap, size) == MPS_RES_OK);
    w = p;
    w[0] = (mps_word_t)size | T_LEAF;
    w[1] = id;
    for (k = 0; k < ndata; ++k) w[2 + k] = dataWord(id, k);
  } while (!mps_commit(ap, p, size));
  return p;
}

static int leafOK(mps_addr_t p, int id)
{
  mps_pool_t pool;
  mps_word_t *w = p;
  size_t k;
  if (p == NULL || !mps_addr_pool(&pool, arena, p) || pool != pools[leaves[id].pool]) return 0;
  if (w[0] != (leafSize(leaves[id].ndata) | T_LEAF) || w[1] != (mps_word_t)id) return 0;
  for (k = 0; k < leaves[id].ndata; ++k)
    if (w[2 + k] != dataWord((mps_word_t)id, k)) return 0;
  return 1;
}

/* Slot s: a node's reference slot, or a direct root slot. */
static mps_word_t *slotAddr(int s)
{
  if (s < NNODES * NSLOTS) return (mps_word_t *)rootTab[s / NSLOTS] + 3 + s % NSLOTS;
  return (mps_word_t *)&rootTab[NNODES + (s - NNODES * NSLOTS)];
}

static mps_res_t walkArea(mps_ss_t ss, void *base, void *limit, void *closure)
{
  char *p = base;
  (void)ss;
  (void)closure;
  while (p < (char *)limit) {
    mps_word_t tag = *(mps_word_t *)p;
    size_t size = TYPE(tag) == T_PAD1 || TYPE(tag) == T_FWD1 ? WORD : SIZE(tag);
    if (TYPE(tag) == T_LEAF) {
      mps_word_t id = ((mps_word_t *)p)[1];
      if (id < nleaves)
        ++walkSeen[id];
      else
        ++walkUnknown;
      walkBytes += size;
    } else if (TYPE(tag) != T_PAD && TYPE(tag) != T_PAD1) {
      ++walkBad; /* forwarding objects and nonsense */
      break;
    }
    if (size == 0) {
      ++walkBad;
      break;
    }
    p += size;
  }
  if (p != (char *)limit) ++walkBad;
  return MPS_RES_OK;
}

static size_t used(mps_pool_t pool) { return mps_pool_total_size(pool) - mps_pool_free_size(pool); }

/* After a collection: the slots against the model, then the walks. */
static void verify(size_t usedBefore[NPOOLS], size_t deadBytes[NPOOLS])
{
  size_t liveBytes[NPOOLS] = { 0, 0 };
  unsigned long bad = 0, missing = 0, dead = 0;
  unsigned id;
  int s, k, pl;
  for (k = 0; k < NNODES; ++k) {
    mps_word_t *w = rootTab[k];
    mps_pool_t pool;
    CHECK(mps_addr_pool(&pool, arena, w) && pool == nodePool);
    CHECK(w[0] == (((3 + NSLOTS) * WORD) | T_NODE) && w[1] == NODE_ID + (mps_word_t)k);
  }
  memset(live, 0, sizeof live);
  for (s = 0; s < NREF; ++s) {
    mps_addr_t p = (mps_addr_t)*slotAddr(s);
    int lid = slotId[s];
    if (lid < 0) {
      if (p != NULL) ++bad;
      continue;
    }
    if (!leafOK(p, lid)) {
      ++bad;
      continue;
    }
    if (p != leaves[lid].addr) {
      if (leaves[lid].pool == L)
        ++bad; /* LO never moves */
      else if (!live[lid])
        ++moves[Z];
    }
    leaves[lid].addr = p;
    if (!live[lid]) liveBytes[leaves[lid].pool] += leafSize(leaves[lid].ndata);
    live[lid] = 1;
  }
  CHECK(bad == 0);
  for (pl = 0; pl < NPOOLS; ++pl) {
    size_t after;
    memset(walkSeen, 0, sizeof walkSeen);
    walkBad = walkUnknown = 0;
    walkBytes = 0;
    CHECK(mps_pool_walk(pools[pl], walkArea, NULL) == MPS_RES_OK);
    CHECK(walkBad == 0);
    CHECK(walkUnknown == 0);
    missing = dead = 0;
    for (id = 0; id < nleaves; ++id) {
      if (leaves[id].pool != pl) {
        if (walkSeen[id]) ++dead;
        continue;
      }
      if (live[id] && walkSeen[id] != 1) ++missing;
      if (!live[id] && walkSeen[id] != 0) ++dead;
    }
    if (missing != 0 || dead != 0 || walkBytes != liveBytes[pl])
      fprintf(stderr,
              "pool %s: walk misses %lu live leaves, sees %lu dead ones, %zu bytes "
              "(live %zu)\n",
              pl == Z ? "AMCZ" : "LO", missing, dead, walkBytes, liveBytes[pl]);
    CHECK(missing == 0);
    CHECK(dead == 0);
    CHECK(walkBytes == liveBytes[pl]);
    after = used(pools[pl]);
    CHECK(after >= liveBytes[pl]);
    CHECK(mps_pool_free_size(pools[pl]) <= mps_pool_total_size(pools[pl]));
    if (usedBefore != NULL && deadBytes[pl] >= ((size_t)64 << 10)) {
      if (after + deadBytes[pl] / 2 > usedBefore[pl])
        fprintf(stderr, "pool %s: in use %zu -> %zu, %zu bytes dropped\n", pl == Z ? "AMCZ" : "LO",
                usedBefore[pl], after, deadBytes[pl]);
      CHECK(after + deadBytes[pl] / 2 <= usedBefore[pl]); /* free size grew */
    }
  }
}

int main(int argc, char **argv)
{
  mps_fmt_t leafFmt, nodeFmt;
  mps_ap_t aps[NPOOLS], nodeAp;
  mps_root_t root;
  mps_thr_t thr;
  mps_pool_class_t classes[NPOOLS];
  size_t maxTotal[NPOOLS] = { 0, 0 }, allocated[NPOOLS] = { 0, 0 };
  int k, s, pl, round;

  testSeed(argc, argv);
  classes[Z] = mps_class_amcz();
  classes[L] = mps_class_lo();
  REQUIRE(mps_arena_create_k(&arena, mps_arena_class_vm(), mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_thread_reg(&thr, arena) == MPS_RES_OK);
  mps_arena_park(arena);
  leafFmt = makeFormat(NULL);
  nodeFmt = makeFormat(nodeScan);
  for (pl = 0; pl < NPOOLS; ++pl) {
    MPS_ARGS_BEGIN(args)
    {
      MPS_ARGS_ADD(args, MPS_KEY_FORMAT, leafFmt);
      REQUIRE(mps_pool_create_k(&pools[pl], arena, classes[pl], args) == MPS_RES_OK);
    }
    MPS_ARGS_END(args);
    REQUIRE(mps_ap_create_k(&aps[pl], pools[pl], mps_args_none) == MPS_RES_OK);
  }
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, nodeFmt);
    REQUIRE(mps_pool_create_k(&nodePool, arena, mps_class_amc(), args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  REQUIRE(mps_ap_create_k(&nodeAp, nodePool, mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_root_create_table(&root, arena, mps_rank_exact(), 0, rootTab, NNODES + NDIRECT) ==
          MPS_RES_OK);
  for (s = 0; s < NREF; ++s) slotId[s] = -1;
  for (k = 0; k < NNODES; ++k) { /* empty nodes */
    size_t size = (3 + NSLOTS) * WORD;
    mps_addr_t p;
    do {
      mps_word_t *w;
      REQUIRE(mps_reserve(&p, nodeAp, size) == MPS_RES_OK);
      w = p;
      w[0] = (mps_word_t)size | T_NODE;
      w[1] = NODE_ID + (mps_word_t)k;
      w[2] = NSLOTS;
      for (s = 0; s < NSLOTS; ++s) w[3 + s] = 0;
    } while (!mps_commit(nodeAp, p, size));
    rootTab[k] = p;
  }

  for (round = 0; round < ROUNDS && nleaves + 300 < MAXLEAF; ++round) {
    size_t before[NPOOLS], dead[NPOOLS] = { 0, 0 };
    unsigned first = nleaves, id, n = 200 + (unsigned)(rnd() % 100);
    static unsigned char referenced[MAXLEAF];
    for (id = first; id < first + n; ++id) {
      Leaf *lf = &leaves[id];
      lf->pool = (int)(rnd() % NPOOLS);
      lf->ndata = rnd() % 4 == 0 ? 64 + rnd() % 960 : rnd() % 14;
      if (rnd() % 30 == 0) lf->ndata = ((32u << 10) + rnd() % (32u << 10)) / WORD;
      lf->addr = allocLeaf(aps[lf->pool], (mps_word_t)id, lf->ndata);
      allocated[lf->pool] += leafSize(lf->ndata);
      if (rnd() % 4 == 0) { /* store it in a slot */
        s = (int)(rnd() % NREF);
        slotId[s] = (int)id;
        *slotAddr(s) = (mps_word_t)lf->addr;
      }
    }
    nleaves += n;
    if (rnd() % 3 == 0) /* empty a few slots */
      for (k = 0; k < 10; ++k) {
        s = (int)(rnd() % NREF);
        slotId[s] = -1;
        *slotAddr(s) = 0;
      }
    /* what will be dead: allocated and not in a slot */
    memset(referenced, 0, sizeof referenced);
    for (s = 0; s < NREF; ++s)
      if (slotId[s] >= 0) referenced[slotId[s]] = 1;
    for (id = 0; id < nleaves; ++id)
      if (!referenced[id] && (id >= first || live[id]))
        dead[leaves[id].pool] += leafSize(leaves[id].ndata);
    for (pl = 0; pl < NPOOLS; ++pl) before[pl] = used(pools[pl]);
    CHECK(mps_arena_collect(arena) == MPS_RES_OK);
    verify(before, dead);
    for (pl = 0; pl < NPOOLS; ++pl) {
      size_t total = mps_pool_total_size(pools[pl]);
      if (round >= 3 && total > maxTotal[pl]) maxTotal[pl] = total;
    }
  }
  /* the space is reused: bounded although much more was allocated */
  printf("%u leaves; AMCZ: %zu allocated, max total %zu, %lu moves; LO: %zu allocated, "
         "max total %zu\n",
         nleaves, allocated[Z], maxTotal[Z], moves[Z], allocated[L], maxTotal[L]);
  CHECK(maxTotal[L] <= allocated[L] / 3);
  CHECK(maxTotal[Z] <= allocated[Z] / 3);
  CHECK(badTags == 0);

  mps_arena_park(arena);
  mps_root_destroy(root);
  mps_ap_destroy(nodeAp);
  for (pl = 0; pl < NPOOLS; ++pl) {
    mps_ap_destroy(aps[pl]);
    mps_pool_destroy(pools[pl]);
  }
  mps_pool_destroy(nodePool);
  mps_fmt_destroy(nodeFmt);
  mps_fmt_destroy(leafFmt);
  mps_thread_dereg(thr);
  mps_arena_destroy(arena);
  return testFinish();
}
