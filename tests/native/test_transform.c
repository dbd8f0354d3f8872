/* test_transform.c -- transforms (mps_transform_create, _add_oldnew, _apply,
 * _destroy) against a model of the object graph kept in plain C arrays.
 *
 * A seeded random graph of wordfmt.h objects (cycles, shared targets, NULL
 * slots, some large objects) in a parked arena, held by an exact and a weak
 * root table, in AMC, in AMS, or mixed over AMC, AMS and AMCZ.  Each round
 * rewires part of the graph, allocates garbage referring into it, picks
 * random live (and dead) objects as old ones, allocates a bigger new
 * version of each (new id, same references, more data; any pool when
 * mixed), adds the pairs in batches of random sizes and applies.  Then,
 * following the model from the roots, every reference leads to the current
 * version of its target (shared targets at one address), intact and in
 * the right pool; weak slots lead to it too or are 0 once it is dead; the
 * walk (mps_arena_formatted_objects_walk) sees every reachable object once,
 * no old version, no garbage.  Every third round an ambiguous area root
 * holds a reachable old object: the apply must abort (applied false) with
 * nothing replaced, the pinned object stays put, unused new versions and
 * garbage are collected as usual.  Ambiguous references to objects that
 * are not old, or to new versions, do not abort.  Also: an ambiguous-rank
 * AMS object holding an old reference, reached only through an exact chain
 * (with and without a moving pool in the arena), must abort the transform
 * with nothing replaced; an empty transform; LIMIT when released or
 * clamped; PARAM after a collection since creation and when applied twice;
 * misuse reported through the assertion handler (an old pointer added
 * twice, or not in an automatically managed pool: malloc, the stack, an
 * MVFF block; something that is not a transform).
 * Usage: test_transform [seed].  Design: docs/design/trace.md (transforms).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpscamc.h"
#include "mpscams.h"
#include "mpscmvff.h"
#include "mpslib.h"
#include "gcp_ext.h"
#include "testlib.h"
#include "wordfmt.h"

#define NNODE       20000
#define MAXREFS     4
#define NROOT       96
#define NWEAK       24
#define NAMBIG      8
#define NGARB       3000
#define ROUNDS      9
#define LARGE_WORDS 5000 /* data words of a large object (40 KB) */
#define GEN_SHIFT   40   /* id = node + 1 | version << GEN_SHIFT */
#define GARBAGE_BIT ((mps_word_t)1 << 39)
#define BASE_MASK   (GARBAGE_BIT - 1)

enum { P_AMC, P_AMS, P_AMCZ, NPOOLS, AP_AMBIG = NPOOLS }; /* AP_AMBIG: lateAmbiguous's */
enum { MODE_AMC, MODE_AMS, MODE_MIXED };
static const char *const modeName[] = { "AMC", "AMS", "mixed" };

static mps_arena_t arena;
static mps_fmt_t fmt;
static mps_chain_t chain;
static mps_pool_t pools[NPOOLS];
static mps_ap_t aps[NPOOLS + 1];

/* ---- objects ---------------------------------------------------------------- */

static mps_word_t dataWord(mps_word_t id, size_t k)
{
  return (id * (mps_word_t)0x9E3779B97F4A7C15ull) ^ ((mps_word_t)k * 0xD6E8FEB86659FD93ull) ^
         0x5A5Au;
}

static mps_word_t *allocObj(int pl, mps_word_t id, size_t nrefs, mps_addr_t *refs, size_t ndata)
{
  size_t words = 3 + nrefs + ndata, bytes = words * WORD, k;
  mps_addr_t p;
  do {
    mps_word_t *w;
    REQUIRE(mps_reserve(&p, aps[pl], bytes) == MPS_RES_OK);
    w = p;
    w[0] = (mps_word_t)bytes | T_OBJ;
    w[1] = id;
    w[2] = nrefs;
    for (k = 0; k < nrefs; ++k) w[3 + k] = (mps_word_t)refs[k];
    for (k = 3 + nrefs; k < words; ++k) w[k] = dataWord(id, k);
  } while (!mps_commit(aps[pl], p, bytes));
  return p;
}

/* A parked arena with the pools and their allocation points. */
static void newArena(void)
{
  mps_gen_param_s gens[2] = { { 4096, 0.8 }, { 8192, 0.5 } };
  int pl;
  REQUIRE(mps_arena_create_k(&arena, mps_arena_class_vm(), mps_args_none) == MPS_RES_OK);
  mps_arena_park(arena);
  REQUIRE(mps_chain_create(&chain, arena, 2, gens) == MPS_RES_OK);
  makePool(&fmt, &pools[P_AMC], arena, chain);
  for (pl = P_AMS; pl <= P_AMCZ; ++pl) MPS_ARGS_BEGIN(args)
    {
      MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
      MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
      REQUIRE(mps_pool_create_k(&pools[pl], arena, pl == P_AMS ? mps_class_ams() : mps_class_amcz(),
                                args) == MPS_RES_OK);
    }
  MPS_ARGS_END(args);
  REQUIRE(mps_ap_create_k(&aps[P_AMC], pools[P_AMC], mps_args_none) == MPS_RES_OK);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_RANK, mps_rank_exact());
    REQUIRE(mps_ap_create_k(&aps[P_AMS], pools[P_AMS], args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  REQUIRE(mps_ap_create(&aps[P_AMCZ], pools[P_AMCZ]) == MPS_RES_OK);
}

static void endArena(void)
{
  int pl;
  for (pl = NPOOLS - 1; pl >= 0; --pl) mps_ap_destroy(aps[pl]), mps_pool_destroy(pools[pl]);
  mps_fmt_destroy(fmt);
  mps_chain_destroy(chain);
  mps_arena_destroy(arena);
}

/* ---- the model ------------------------------------------------------------------ */

typedef struct {
  int nrefs, ref[MAXREFS]; /* target nodes, -1 for NULL */
  unsigned gen;            /* the current version: its number, */
  int pool;                /* pool, */
  size_t ndata;            /* data words and */
  mps_word_t *addr;        /* address (NULL once the node is dead) */
  int isOld, newPool;      /* this round: old?  The new version's pool, */
  size_t newNdata;         /* data words and */
  mps_word_t *newAddr;     /* address */
} Node;

static Node nodes[NNODE];
static int rootNode[NROOT], weakNode[NWEAK];
static mps_addr_t roots[NROOT], weak[NWEAK];
static mps_word_t ambig[NAMBIG];
static int mode;
static unsigned long nbad;

static void bad(const char *what, int i, const void *p)
{
  if (++nbad <= 10) fprintf(stderr, "  %s: node %d at %p\n", what, i, p);
}

static mps_word_t nodeId(int i, unsigned gen)
{
  return (mps_word_t)(i + 1) | (mps_word_t)gen << GEN_SHIFT;
}

static int pickPool(int nrefs)
{
  if (mode == MODE_AMC) return P_AMC;
  if (mode == MODE_AMS) return P_AMS;
  return (int)(rnd() % (nrefs == 0 ? 3u : 2u));
}

static unsigned char reach[NNODE]; /* modelReach() */

enum { REACHABLE_NOT_OLD, REACHABLE_OLD, ALIVE };

/* A random node of a kind, or -1. */
static int pickNode(int kind)
{
  int tries;
  for (tries = 0; tries < 10000; ++tries) {
    int i = (int)(rnd() % NNODE);
    if (kind == ALIVE ? nodes[i].addr != NULL : reach[i] && nodes[i].isOld == kind) return i;
  }
  return -1;
}

/* The object at p is node i's current version, intact. */
static int intactNode(int i, mps_word_t *p)
{
  Node *n = &nodes[i];
  mps_word_t id = nodeId(i, n->gen);
  size_t words = 3 + (size_t)n->nrefs + n->ndata, k;
  mps_pool_t pool = NULL;
  if (p == NULL || p[0] != ((mps_word_t)(words * WORD) | T_OBJ) || p[1] != id ||
      p[2] != (mps_word_t)n->nrefs)
    return 0;
  for (k = 3 + (size_t)n->nrefs; k < words; ++k)
    if (p[k] != dataWord(id, k)) return 0;
  return mps_addr_pool(&pool, arena, p) && pool == pools[n->pool];
}

/* Follow the model from the roots: every reference leads to the current
 * version of its target, the same address for the same target.  Sets
 * addr of the reachable nodes and clears it for the others. */
static void verifyGraph(const char *when, int collected)
{
  static mps_word_t *seen[NNODE];
  static int stack[NNODE];
  int top = 0, s, i;
  unsigned long bad0 = nbad;
  memset(seen, 0, sizeof seen);
#define VISIT(t, q, what)                                               \
  do {                                                                  \
    mps_word_t *q_ = (mps_word_t *)(q);                                 \
    if (seen[t] != NULL) {                                              \
      if (seen[t] != q_) bad(what " (shared target elsewhere)", t, q_); \
    } else if (!intactNode(t, q_))                                      \
      bad(what " (not the current version, intact)", t, q_);            \
    else {                                                              \
      seen[t] = q_;                                                     \
      stack[top++] = t;                                                 \
    }                                                                   \
  } while (0)
  for (s = 0; s < NROOT; ++s) {
    if (rootNode[s] < 0) {
      if (roots[s] != NULL) bad("root slot not NULL", s, roots[s]);
    } else
      VISIT(rootNode[s], roots[s], "root");
  }
  while (top > 0) {
    int k;
    i = stack[--top];
    for (k = 0; k < nodes[i].nrefs; ++k) {
      int t = nodes[i].ref[k];
      mps_word_t q = seen[i][3 + k];
      if (t < 0) {
        if (q != 0) bad("NULL slot changed", i, (void *)q);
      } else
        VISIT(t, q, "reference");
    }
  }
#undef VISIT
  for (i = 0; i < NNODE; ++i) nodes[i].addr = seen[i];
  for (s = 0; collected && s < NWEAK; ++s) {
    int t = weakNode[s];
    if (t >= 0 && seen[t] == NULL) weakNode[s] = t = -1; /* splatted */
    if ((mps_word_t *)weak[s] != (t < 0 ? NULL : seen[t])) bad("weak slot", t, weak[s]);
  }
  if (nbad != bad0) fprintf(stderr, "  (%s: %lu bad)\n", when, nbad - bad0);
  CHECK(nbad == bad0);
}

/* ---- walking the heap ------------------------------------------------------------ */

typedef struct {
  size_t live, twice, stale, unusedNew, garbage, dead, strange, pinned;
  unsigned char seen[NNODE];
} Census; /* what the walk saw */

static void censusStep(mps_addr_t addr, mps_fmt_t f, mps_pool_t pool, void *p, size_t s)
{
  Census *c = p;
  mps_word_t *w = addr, base;
  unsigned gen;
  int i;
  (void)f;
  (void)pool;
  (void)s;
  if (TYPE(w[0]) != T_OBJ) return;
  if (w[1] & GARBAGE_BIT) {
    ++c->garbage;
    return;
  }
  base = w[1] & BASE_MASK;
  gen = (unsigned)(w[1] >> GEN_SHIFT);
  if (base == 0 || base > NNODE) {
    ++c->strange;
    return;
  }
  i = (int)base - 1;
  if (gen < nodes[i].gen)
    ++c->stale;
  else if (nodes[i].addr == NULL || gen > nodes[i].gen) {
    size_t a; /* kept only by the ambiguous root? */
    for (a = 0; a < NAMBIG; ++a)
      if (ambig[a] == (mps_word_t)w) {
        ++c->pinned;
        return;
      }
    if (nodes[i].addr == NULL)
      ++c->dead;
    else
      ++c->unusedNew;
  } else if (w != nodes[i].addr)
    ++c->strange;
  else if (c->seen[i]++)
    ++c->twice;
  else
    ++c->live;
}

/* Every reachable node once, and nothing else: no old version of a
 * replaced node, no unused new version, no garbage. */
static void census(const char *when)
{
  static Census c;
  size_t live = 0;
  int i;
  memset(&c, 0, sizeof c);
  for (i = 0; i < NNODE; ++i) live += nodes[i].addr != NULL;
  mps_arena_formatted_objects_walk(arena, censusStep, &c, 0);
  if (c.live != live || c.twice || c.stale || c.unusedNew || c.garbage || c.dead || c.strange)
    fprintf(stderr,
            "  %s: %zu of %zu live seen, %zu twice, %zu old versions, %zu unused new "
            "versions, %zu garbage, %zu dead nodes, %zu strange\n",
            when, c.live, live, c.twice, c.stale, c.unusedNew, c.garbage, c.dead, c.strange);
  CHECK(c.live == live && c.twice == 0 && c.strange == 0);
  CHECK(c.stale == 0); /* old versions are gone */
  CHECK(c.unusedNew == 0 && c.garbage == 0 && c.dead == 0);
}

/* ---- the randomized scenario ------------------------------------------------------ */

/* reach[]: the nodes the model reaches from the roots. */
static void modelReach(void)
{
  static int stack[NNODE];
  int top = 0, s, k;
  memset(reach, 0, sizeof reach);
  for (s = 0; s < NROOT; ++s)
    if (rootNode[s] >= 0 && !reach[rootNode[s]]) reach[rootNode[s]] = 1, stack[top++] = rootNode[s];
  while (top > 0) {
    int i = stack[--top];
    for (k = 0; k < nodes[i].nrefs; ++k) {
      int t = nodes[i].ref[k];
      if (t >= 0 && !reach[t]) reach[t] = 1, stack[top++] = t;
    }
  }
}


/* A root slot and its model. */
static void setSlot(mps_addr_t *slot, int *model, int i)
{
  *model = i;
  *slot = i < 0 ? NULL : nodes[i].addr;
}

static void buildGraph(void)
{
  int i, k, s;
  for (i = 0; i < NNODE; ++i) {
    Node *n = &nodes[i];
    mps_addr_t refs[MAXREFS] = { NULL };
    n->nrefs = (int)(rnd() % (MAXREFS + 1));
    n->gen = 0;
    n->ndata = rnd() % 500 == 0 ? LARGE_WORDS : rnd() % 4; /* some large objects */
    n->pool = pickPool(n->nrefs);
    n->addr = allocObj(n->pool, nodeId(i, 0), (size_t)n->nrefs, refs, n->ndata);
  }
  for (i = 0; i < NNODE; ++i) /* cycles, shared targets, NULL slots */
    for (k = 0; k < nodes[i].nrefs; ++k) {
      nodes[i].ref[k] = rnd() % 8 == 0 ? -1 : (int)(rnd() % NNODE);
      if (nodes[i].ref[k] >= 0) nodes[i].addr[3 + k] = (mps_word_t)nodes[nodes[i].ref[k]].addr;
    }
  for (s = 0; s < NROOT; ++s)
    setSlot(&roots[s], &rootNode[s], rnd() % 6 ? (int)(rnd() % NNODE) : -1);
  for (s = 0; s < NWEAK; ++s) setSlot(&weak[s], &weakNode[s], -1);
}

/* Rewire some of the live graph (making garbage that may refer to old
 * objects), refill weak slots, allocate garbage referring into the graph. */
static void mutate(void)
{
  int i, k, s, g, t;
  for (i = 0; i < NNODE; ++i) {
    Node *n = &nodes[i];
    if (n->addr == NULL || n->nrefs == 0 || rnd() % 10 != 0) continue;
    k = (int)(rnd() % (unsigned)n->nrefs);
    n->ref[k] = rnd() % 5 == 0 ? -1 : pickNode(ALIVE);
    n->addr[3 + k] = n->ref[k] < 0 ? 0 : (mps_word_t)nodes[n->ref[k]].addr;
  }
  for (s = 0; s < NROOT; ++s)
    if (rnd() % 8 == 0) setSlot(&roots[s], &rootNode[s], pickNode(ALIVE));
  for (s = 0; s < NWEAK; ++s)
    if (weakNode[s] < 0 || rnd() % 2) setSlot(&weak[s], &weakNode[s], pickNode(ALIVE));
  for (g = 0; g < NGARB; ++g) {
    mps_addr_t refs[MAXREFS];
    int nrefs = (int)(rnd() % (MAXREFS + 1));
    for (k = 0; k < nrefs; ++k) refs[k] = (t = pickNode(ALIVE)) < 0 ? NULL : nodes[t].addr;
    (void)allocObj(pickPool(nrefs), GARBAGE_BIT | (mps_word_t)g, (size_t)nrefs, refs, rnd() % 3);
  }
}

static unsigned long weakOldHits; /* weak slots holding reachable old objects */

/* One round: old objects, their new versions, the transform.  abortIt:
 * the ambiguous root holds one reachable old object; else it holds only
 * objects that are not old and new versions. */
static void round_(unsigned gen, int abortIt)
{
  static mps_addr_t olds[NNODE], news[NNODE];
  mps_transform_t t;
  mps_root_t ambigRoot;
  mps_bool_t applied = 42;
  mps_word_t before;
  size_t nold = 0, done, a;
  int i, k, s, pinned[NAMBIG];
  char when[64];

  mutate();
  modelReach();
  for (i = 0; i < NNODE; ++i) {
    Node *n = &nodes[i];
    mps_addr_t refs[MAXREFS];
    n->isOld = n->addr != NULL && rnd() % 3 == 0;
    if (!n->isOld) continue;
    for (k = 0; k < n->nrefs; ++k) refs[k] = (mps_addr_t)n->addr[3 + k];
    n->newNdata = n->ndata + 1 + rnd() % 3;
    n->newPool = pickPool(n->nrefs);
    n->newAddr = allocObj(n->newPool, nodeId(i, gen), (size_t)n->nrefs, refs, n->newNdata);
    olds[nold] = n->addr;
    news[nold++] = n->newAddr;
  }
  REQUIRE(nold > 0);
  for (s = 0; s < NWEAK; ++s)
    weakOldHits += weakNode[s] >= 0 && reach[weakNode[s]] && nodes[weakNode[s]].isOld;
  for (done = nold; done > 1; --done) { /* shuffle the pairs */
    size_t j = rnd() % done;
    mps_addr_t o = olds[j], nw = news[j];
    olds[j] = olds[done - 1], news[j] = news[done - 1], olds[done - 1] = o, news[done - 1] = nw;
  }
  /* The ambiguous root: junk, reachable objects that are not old, new
   * versions of reachable old objects; when aborting, one reachable old
   * object last.  pinned[a]: the node whose current object the word must
   * still be after the round. */
  for (a = 0; a < NAMBIG; ++a) {
    pinned[a] = -1;
    ambig[a] = rnd() | 1; /* junk */
    if (a < 2) continue;
    if (a % 2 == 0 && (i = pickNode(REACHABLE_NOT_OLD)) >= 0)
      ambig[a] = (mps_word_t)nodes[i].addr, pinned[a] = i;
    else if ((i = pickNode(REACHABLE_OLD)) >= 0) {
      ambig[a] = (mps_word_t)nodes[i].newAddr;
      if (!abortIt) pinned[a] = i; /* else unused and garbage */
    }
  }
  if (abortIt) {
    REQUIRE((i = pickNode(REACHABLE_OLD)) >= 0);
    ambig[NAMBIG - 1] = (mps_word_t)nodes[i].addr, pinned[NAMBIG - 1] = i;
  }
  REQUIRE(mps_root_create_area(&ambigRoot, arena, mps_rank_ambig(), 0, ambig, ambig + NAMBIG,
                               mps_scan_area, NULL) == MPS_RES_OK);
  REQUIRE(mps_transform_create(&t, arena) == MPS_RES_OK);
  CHECK(mps_transform_add_oldnew(t, olds, news, 0) == MPS_RES_OK);
  for (done = 0; done < nold;) {
    size_t batch = 1 + rnd() % 40;
    if (batch > nold - done) batch = nold - done;
    CHECK(mps_transform_add_oldnew(t, olds + done, news + done, batch) == MPS_RES_OK);
    done += batch;
  }
  before = mps_collections(arena);
  CHECK(mps_transform_apply(&applied, t) == MPS_RES_OK);
  CHECK(mps_collections(arena) == before + 1);
  CHECK(applied == !abortIt);
  for (i = 0; applied == 1 && i < NNODE; ++i) /* the model follows what happened */
    if (nodes[i].isOld) {
      Node *n = &nodes[i];
      n->gen = gen, n->ndata = n->newNdata, n->pool = n->newPool;
    }
  snprintf(when, sizeof when, "%s round %u (%s)", modeName[mode], gen,
           abortIt ? "to abort" : "to apply");
  verifyGraph(when, 1);
  for (a = 0; a < NAMBIG; ++a) /* pinned objects stay put */
    if (pinned[a] >= 0 && ambig[a] != (mps_word_t)nodes[pinned[a]].addr)
      bad("ambiguously referenced object moved", pinned[a], nodes[pinned[a]].addr);
  CHECK(nbad == 0);
  census(when);
  CHECK(mps_transform_apply(&applied, t) == MPS_RES_PARAM); /* applied already */
  mps_transform_destroy(t);
  mps_root_destroy(ambigRoot);
  memset(ambig, 0, sizeof ambig);
}

static void scenario(int m)
{
  mps_root_t root, weakRoot;
  unsigned gen;
  size_t live = 0;
  int i;
  mode = m;
  newArena();
  buildGraph();
  REQUIRE(mps_root_create_table(&root, arena, mps_rank_exact(), 0, roots, NROOT) == MPS_RES_OK);
  REQUIRE(mps_root_create_table(&weakRoot, arena, mps_rank_weak(), 0, weak, NWEAK) == MPS_RES_OK);
  verifyGraph("initial", 0); /* addr: the reachable nodes (the others are garbage) */
  for (gen = 1; gen <= ROUNDS; ++gen) round_(gen, gen % 3 == 2);
  for (i = 0; i < NNODE; ++i) live += nodes[i].addr != NULL;
  printf("%-5s: %d rounds (%d aborted), %zu of %d nodes live at the end\n", modeName[m], ROUNDS,
         ROUNDS / 3, live, NNODE);
  mps_root_destroy(weakRoot);
  mps_root_destroy(root);
  endArena();
}

/* ---- an ambiguous-rank object reached late --------------------------------------- */

/* X (old, in pool oldPl) is referred to by an exact root and by Y, an
 * object of ambiguous rank in an AMS pool, that only an exact chain root
 * -> Z -> Y reaches: the trace meets Y after the root.  The transform
 * must abort with nothing replaced.  withAMC: live AMC objects too (the
 * collection may move objects). */
static void lateAmbiguous(int oldPl, int withAMC)
{
  mps_pool_t ambPool;
  mps_root_t root;
  mps_transform_t t;
  mps_bool_t applied = 42;
  mps_addr_t refs[1], x, xNew, y, z;
  mps_word_t *xw;
  newArena();
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    MPS_ARGS_ADD(args, MPS_KEY_CHAIN, chain);
    MPS_ARGS_ADD(args, MPS_KEY_AMS_SUPPORT_AMBIGUOUS, 1);
    REQUIRE(mps_pool_create_k(&ambPool, arena, mps_class_ams(), args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  REQUIRE(mps_ap_create(&aps[AP_AMBIG], ambPool, mps_rank_ambig()) == MPS_RES_OK);
  x = allocObj(oldPl, 1, 0, NULL, 2);
  xNew = allocObj(oldPl, 2, 0, NULL, 3);
  refs[0] = x;
  y = allocObj(AP_AMBIG, 3, 1, refs, 1);
  refs[0] = y;
  z = allocObj(P_AMS, 4, 1, refs, 1);
  roots[0] = x;
  roots[1] = z;
  roots[2] = withAMC ? allocObj(P_AMC, 5, 0, NULL, 4) : NULL;
  REQUIRE(mps_root_create_table(&root, arena, mps_rank_exact(), 0, roots, 3) == MPS_RES_OK);
  REQUIRE(mps_transform_create(&t, arena) == MPS_RES_OK);
  REQUIRE(mps_transform_add_oldnew(t, &x, &xNew, 1) == MPS_RES_OK);
  CHECK(mps_transform_apply(&applied, t) == MPS_RES_OK);
  xw = roots[0];
  if (applied != 0 || xw != x || xw[1] != 1)
    fprintf(stderr, "  old in %s%s: applied %d, root now %s\n", oldPl == P_AMC ? "AMC" : "AMS",
            withAMC ? ", AMC objects" : "", applied, xw == xNew ? "the NEW object" : "changed");
  CHECK(applied == 0);
  CHECK(xw == x && xw[1] == 1); /* ambiguously referenced: stays put */
  CHECK(roots[1] == z && ((mps_word_t *)z)[3] == (mps_word_t)y);
  CHECK(((mps_word_t *)y)[3] == (mps_word_t)x); /* ambiguous words never change */
  mps_transform_destroy(t);
  mps_root_destroy(root);
  mps_ap_destroy(aps[AP_AMBIG]);
  mps_pool_destroy(ambPool);
  endArena();
}

/* ---- result codes and misuse ------------------------------------------------------- */

/* roots[s] refers to an AMC object of id s + 1; *oldReturn, *newReturn: it
 * and a new version of id (s + 1) | 1 << GEN_SHIFT. */
static void pair(int s, mps_addr_t *oldReturn, mps_addr_t *newReturn)
{
  *oldReturn = roots[s];
  *newReturn = allocObj(P_AMC, nodeId(s, 1), 0, NULL, 3);
}

static mps_word_t rootId(int s) { return ((mps_word_t *)roots[s])[1]; }

/* call is misuse: one report naming word (and MPS_RES_PARAM, unless void). */
#define MISUSED(call, word)         \
  do {                              \
    unsigned long r0_ = reports;    \
    CHECK((call) == MPS_RES_PARAM); \
    CHECK(reported(r0_, word));     \
  } while (0)
#define MISUSED_VOID(call, word) \
  do {                           \
    unsigned long r0_ = reports; \
    call;                        \
    CHECK(reported(r0_, word));  \
  } while (0)

static void errors(void)
{
  static mps_word_t notTransform[64];
  mps_root_t root;
  mps_pool_t mvff;
  mps_lib_assert_fail_t oldHandler;
  mps_transform_t t;
  mps_bool_t applied = 42;
  mps_addr_t o[4], n[4], block, *heap;
  mps_word_t before, c0, stackWord = 0;
  mps_res_t res;
  int s, checked = strcmp(gcp_variety(), "rash") != 0;

  newArena();
  for (s = 0; s < 16; ++s) roots[s] = allocObj(P_AMC, nodeId(s, 0), 0, NULL, 1);
  REQUIRE(mps_root_create_table(&root, arena, mps_rank_exact(), 0, roots, 16) == MPS_RES_OK);

  /* An empty transform: an ordinary full collection. */
  REQUIRE(mps_transform_create(&t, arena) == MPS_RES_OK);
  before = mps_collections(arena);
  CHECK(mps_transform_apply(&applied, t) == MPS_RES_OK && applied == 1);
  CHECK(mps_collections(arena) == before + 1 && rootId(0) == nodeId(0, 0));
  mps_transform_destroy(t);

  /* Released or clamped: LIMIT, and the transform is still good once
   * parked unless the release collected. */
  REQUIRE(mps_transform_create(&t, arena) == MPS_RES_OK);
  pair(0, &o[0], &n[0]);
  CHECK(mps_transform_add_oldnew(t, o, n, 1) == MPS_RES_OK);
  c0 = mps_collections(arena);
  mps_arena_release(arena);
  CHECK(mps_transform_apply(&applied, t) == MPS_RES_LIMIT);
  mps_arena_clamp(arena);
  CHECK(mps_transform_apply(&applied, t) == MPS_RES_LIMIT);
  mps_arena_park(arena);
  res = mps_transform_apply(&applied, t);
  if (mps_collections(arena) == c0 + 1) { /* the apply collected */
    CHECK(res == MPS_RES_OK && applied == 1 && rootId(0) == nodeId(0, 1));
  } else { /* release collected first */
    CHECK(res == MPS_RES_PARAM && rootId(0) == nodeId(0, 0));
  }
  CHECK(mps_transform_apply(&applied, t) == MPS_RES_PARAM);
  mps_transform_destroy(t);

  /* A collection since creation: PARAM, nothing replaced. */
  REQUIRE(mps_transform_create(&t, arena) == MPS_RES_OK);
  pair(1, &o[0], &n[0]);
  CHECK(mps_transform_add_oldnew(t, o, n, 1) == MPS_RES_OK);
  CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  applied = 42;
  CHECK(mps_transform_apply(&applied, t) == MPS_RES_PARAM && applied == 42);
  CHECK(rootId(1) == nodeId(1, 0));
  mps_transform_destroy(t);

  /* Misuse, reported; the transform stays usable. */
  oldHandler = mps_lib_assert_fail_install(recordHandler);
  REQUIRE(mps_transform_create(&t, arena) == MPS_RES_OK);
  pair(2, &o[0], &n[0]);
  pair(3, &o[1], &n[1]);
  CHECK(mps_transform_add_oldnew(t, o, n, 2) == MPS_RES_OK);
  MISUSED(mps_transform_add_oldnew(t, &o[1], &n[1], 1), "added already"); /* again */
  pair(4, &o[2], &n[2]);
  o[3] = o[2], n[3] = n[2];
  MISUSED(mps_transform_add_oldnew(t, &o[2], &n[2], 2), "added already"); /* in one batch */
  heap = malloc(4 * WORD);
  REQUIRE(heap != NULL);
  block = heap;
  MISUSED(mps_transform_add_oldnew(t, &block, &n[0], 1), "automatically managed");
  block = &stackWord;
  MISUSED(mps_transform_add_oldnew(t, &block, &n[0], 1), "automatically managed");
  REQUIRE(mps_pool_create_k(&mvff, arena, mps_class_mvff(), mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_alloc(&block, mvff, 64) == MPS_RES_OK);
  MISUSED(mps_transform_add_oldnew(t, &block, &n[0], 1), "automatically managed");
  if (checked) { /* the rash variety compares no signatures */
    MISUSED(mps_transform_add_oldnew((mps_transform_t)notTransform, o, n, 1), "transform");
    MISUSED(mps_transform_apply(&applied, (mps_transform_t)notTransform), "transform");
    MISUSED_VOID(mps_transform_destroy((mps_transform_t)notTransform), "transform");
    CHECK(notTransform[0] == 0);
  }
  MISUSED(mps_transform_apply(&applied, NULL), "transform");
  /* The pairs added before the misuse are applied. */
  CHECK(mps_transform_apply(&applied, t) == MPS_RES_OK && applied == 1);
  CHECK(rootId(2) == nodeId(2, 1) && rootId(3) == nodeId(3, 1));
  CHECK(rootId(4) == nodeId(4, 0) || rootId(4) == nodeId(4, 1));
  mps_transform_destroy(t);
  if (checked) MISUSED(mps_transform_apply(&applied, t), "transform"); /* destroyed */
  mps_lib_assert_fail_install(oldHandler);

  free(heap);
  mps_free(mvff, block, 64);
  mps_pool_destroy(mvff);
  mps_root_destroy(root);
  endArena();
}

int main(int argc, char **argv)
{
  testSeed(argc, argv);
  errors();
  lateAmbiguous(P_AMC, 1);
  lateAmbiguous(P_AMS, 1);
  lateAmbiguous(P_AMS, 0);
  scenario(MODE_AMC);
  scenario(MODE_AMS);
  scenario(MODE_MIXED);
  CHECK(weakOldHits > 0);
  CHECK(badTags == 0);
  return testFinish();
}
