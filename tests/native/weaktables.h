/* weaktables.h -- weak hash tables as MPS clients build them in AWL, for
 * test_awl_weak and test_weak_cache (with the model of weakmodel.h): a
 * table object (AMC or AMS; it holds the table's mps_ld_s in two data
 * words) refers to a keys array and a values array, both AWL objects that
 * name each other as dependent (MPS_KEY_AWL_FIND_DEPENDENT).  Weak-key
 * tables: keys array of rank weak, values array exact; keys are AMC and
 * AMS objects hashed by address (mps_ld_add on insert, mps_ld_isstale on a
 * lookup miss, then rehash); values are objects or tagged integers.
 * Weak-value caches: keys array exact (tagged integers), values array weak
 * (AMC, AMS and LO objects).  Open addressing; tables grow into new
 * arrays; rehash in place.  Lookups as a client does them, checked
 * against the model; the random operations on the heap that both
 * programs share, and the workload (parked, then released) that runs them.
 * Header-only (include weakmodel.h first).
 */
#ifndef WEAKTABLE_H
#define WEAKTABLE_H

/* ---- the tables, as a client writes them ------------------------------------------------ */

static unsigned hashWord(mps_word_t w, unsigned cap)
{
  return (unsigned)(((w >> 3) * 0x9E3779B97F4A7C15ull) >> 40) & (cap - 1);
}

static int find(int t, mps_word_t kw)
{
  mps_word_t *K = slotsOf(tab[t].keysId);
  unsigned cap = tab[t].cap, i = hashWord(kw, cap), n;
  for (n = 0; n < cap; ++n, i = (i + 1) & (cap - 1)) {
    if (K[i] == W_EMPTY) return -1;
    if (K[i] == kw) return (int)i;
  }
  return -1;
}

/* Put an entry in a free slot (no allocation). */
static void place(int t, mps_word_t kw, mps_word_t vw, int e)
{
  Table *T = &tab[t];
  mps_word_t *K = slotsOf(T->keysId), *V = slotsOf(T->valsId);
  unsigned i, n;
  if (T->weakKeys) mps_ld_add(ldOf(t), arena, (mps_addr_t)kw);
  i = hashWord(kw, T->cap);
  for (n = 0; n < T->cap; ++n, i = (i + 1) & (T->cap - 1))
    if (K[i] == W_EMPTY || K[i] == W_TOMB) break;
  REQUIRE(n < T->cap);
  if (K[i] == W_TOMB) --T->tombs;
  K[i] = kw;
  V[i] = vw;
  T->slotEntry[i] = e;
  ++T->used;
}

typedef struct {
  mps_word_t k, v;
  int e;
} Gathered;
static Gathered gathered[MAXENT];

/* Take the entries out of the current arrays (as a client would: by their
 * contents; the model's slot map must agree). */
static unsigned gather(int t)
{
  Table *T = &tab[t];
  mps_word_t *K = slotsOf(T->keysId), *V = slotsOf(T->valsId);
  unsigned i, n = 0;
  for (i = 0; i < T->cap; ++i) {
    int occupied = T->weakKeys ? IS_REF(K[i]) : K[i] != W_EMPTY && K[i] != W_TOMB;
    if (occupied != (T->slotEntry[i] >= 0))
      FAIL("table %d slot %u holds %#lx/%#lx but the model has entry %d", t, i, K[i], V[i],
           T->slotEntry[i]);
    if (T->slotEntry[i] < 0) continue;
    REQUIRE(n < sizeof gathered / sizeof gathered[0]);
    gathered[n].k = K[i];
    gathered[n].v = V[i];
    gathered[n++].e = T->slotEntry[i];
  }
  return n;
}

static void rehash(int t)
{
  Table *T = &tab[t];
  mps_word_t *K = slotsOf(T->keysId), *V = slotsOf(T->valsId);
  unsigned n = gather(t), i;
  for (i = 0; i < T->cap; ++i) {
    K[i] = V[i] = W_EMPTY;
    T->slotEntry[i] = -1;
  }
  T->used = T->tombs = 0;
  if (T->weakKeys) mps_ld_reset(ldOf(t), arena);
  for (i = 0; i < n; ++i) place(t, gathered[i].k, gathered[i].v, gathered[i].e);
  ++nRehash;
}

/* Lookup by key word: on a miss a stale dependency means a rehash. */
static int lookup(int t, mps_word_t kw)
{
  int i = find(t, kw);
  ++nLookups;
  if (i >= 0 || !tab[t].weakKeys) return i;
  if (mps_ld_isstale(ldOf(t), arena, (mps_addr_t)kw)) {
    ++nMissStale;
    rehash(t);
    i = find(t, kw);
  }
  return i;
}

static void fillArrayDep(int id, mps_word_t *s, void *closure)
{
  (void)id;
  (void)s;
  (void)closure;
}

static int newArray(int t, unsigned kind, unsigned cap, int r)
{
  int weak = kind == K_WKEYS || kind == K_WVALS;
  int id = newObj(P_AWL, weak ? apWeak : apExact, kind, cap, 1, fillArrayDep, NULL);
  obj[id].table = t;
  setRoot(r, id);
  return id;
}

/* New arrays of capacity cap, the entries moved into them. */
static void grow(int t, unsigned cap)
{
  Table *T = &tab[t];
  unsigned kk = T->weakKeys ? K_WKEYS : K_SKEYS, vk = T->weakKeys ? K_SVALS : K_WVALS;
  int ka = newArray(t, kk, cap, SCRATCH + 1), va = newArray(t, vk, cap, SCRATCH + 2);
  unsigned n, i;
  mps_word_t *ts;
  /* no allocation from here on */
  wfF(obj[ka].addr)[1] = (mps_word_t)obj[va].addr;
  wfF(obj[va].addr)[1] = (mps_word_t)obj[ka].addr;
  n = T->keysId >= 0 ? gather(t) : 0;
  T->keysId = ka;
  T->valsId = va;
  T->cap = cap;
  free(T->slotEntry);
  T->slotEntry = malloc(cap * sizeof(int));
  REQUIRE(T->slotEntry != NULL);
  for (i = 0; i < cap; ++i) T->slotEntry[i] = -1;
  T->used = T->tombs = 0;
  ts = slotsOf(T->objId);
  ts[0] = (mps_word_t)obj[ka].addr;
  ts[1] = (mps_word_t)obj[va].addr;
  obj[T->objId].refs[0] = ka;
  obj[T->objId].refs[1] = va;
  if (T->weakKeys) mps_ld_reset(ldOf(t), arena);
  for (i = 0; i < n; ++i) place(t, gathered[i].k, gathered[i].v, gathered[i].e);
  setRoot(SCRATCH + 1, -1);
  setRoot(SCRATCH + 2, -1);
  ++nGrow;
}

static void ensureRoom(int t)
{
  Table *T = &tab[t];
  if ((T->used + T->tombs + 1) * 4 > T->cap * 3)
    grow(t, (T->used + 1) * 2 > T->cap ? T->cap * 2 : T->cap);
}

static void fillTable(int id, mps_word_t *s, void *closure)
{
  int t = *(int *)closure;
  s[0] = (mps_word_t)rootTab[SCRATCH + 1];
  s[1] = (mps_word_t)rootTab[SCRATCH + 2];
  obj[id].refs[0] = rootId[SCRATCH + 1];
  obj[id].refs[1] = rootId[SCRATCH + 2];
  (void)t;
}

/* Table t (root slot t): its object in AMC or AMS, its arrays of capacity 8. */
static void newTable(int t, int weakKeys)
{
  Table *T = &tab[t];
  unsigned kk = weakKeys ? K_WKEYS : K_SKEYS, vk = weakKeys ? K_SVALS : K_WVALS;
  int ka, va, pl = rnd() % 3 == 0 ? P_AMS : P_AMC;
  free(T->slotEntry);
  memset(T, 0, sizeof *T);
  T->weakKeys = weakKeys;
  T->keysId = T->valsId = -1;
  ka = newArray(t, kk, 8, SCRATCH + 1);
  va = newArray(t, vk, 8, SCRATCH + 2);
  T->objId = newObj(pl, pl == P_AMC ? apAMC : apAMS, K_TABLE, 2, 3, fillTable, &t);
  setRoot(t, T->objId);
  obj[T->objId].table = t;
  T->live = 1;
  wfF(obj[ka].addr)[1] = (mps_word_t)obj[va].addr;
  wfF(obj[va].addr)[1] = (mps_word_t)obj[ka].addr;
  T->keysId = ka;
  T->valsId = va;
  T->cap = 8;
  T->slotEntry = malloc(8 * sizeof(int));
  REQUIRE(T->slotEntry != NULL);
  memset(T->slotEntry, 0xff, 8 * sizeof(int));
  if (weakKeys) mps_ld_reset(ldOf(t), arena);
  setRoot(SCRATCH + 1, -1);
  setRoot(SCRATCH + 2, -1);
}

static int newEntry(int t, int key, int val, unsigned long ikey, unsigned long ival)
{
  int e = nent++;
  REQUIRE(nent <= MAXENT);
  ent[e].table = t;
  ent[e].key = key;
  ent[e].val = val;
  ent[e].ikey = ikey;
  ent[e].ival = ival;
  ent[e].deleted = 0;
  return e;
}

/* The entry's current slot, or -1 (model). */
static int slotOfEntry(int e)
{
  int t = ent[e].table;
  unsigned i;
  for (i = 0; i < tab[t].cap; ++i)
    if (tab[t].slotEntry[i] == e) return (int)i;
  return -1;
}

/* Look up a live entry by its key as a client does, and check its value. */
static void checkLookup(int e)
{
  int t = ent[e].table, i;
  mps_word_t kw, want;
  if (tab[t].weakKeys) {
    if (obj[ent[e].key].dead) return;
    kw = (mps_word_t)obj[ent[e].key].addr;
  } else {
    kw = W_INT(ent[e].ikey);
  }
  i = lookup(t, kw);
  if (i < 0) {
    FAIL("table %d: lookup of entry %d (key %#lx) failed%s", t, e, kw,
         tab[t].weakKeys ? " even after the LD check" : "");
    return;
  }
  if (i != slotOfEntry(e)) {
    FAIL("table %d: lookup of entry %d found slot %d, the model has %d", t, e, i, slotOfEntry(e));
    return;
  }
  want = ent[e].val >= 0 ? (mps_word_t)obj[ent[e].val].addr : W_INT(ent[e].ival);
  if (slotsOf(tab[t].valsId)[i] != want)
    FAIL("table %d: entry %d has value %#lx, expected %#lx", t, e, slotsOf(tab[t].valsId)[i], want);
  else if (ent[e].val >= 0 && !intact((mps_addr_t)want, ent[e].val))
    FAIL("table %d: entry %d's value object %d is not intact", t, e, ent[e].val);
}

/* Every live entry of every table is found (after refresh). */
static void checkAllLookups(void)
{
  int t;
  unsigned i;
  for (t = 0; t < MAXTAB; ++t) {
    if (!tab[t].live) continue;
    for (i = 0; i < tab[t].cap; ++i) {
      int e = tab[t].slotEntry[i];
      int v;
      if (e < 0) continue;
      v = tab[t].weakKeys ? ent[e].key : ent[e].val;
      if (!obj[v].dead) checkLookup(e);
    }
  }
  /* a key that is in no table is not found */
  {
    int r, x = rootedNode(&r);
    if (x >= 0 && obj[x].keyOf < 0)
      for (t = 0; t < MAXTAB; ++t)
        if (tab[t].live && tab[t].weakKeys && lookup(t, (mps_word_t)rootTab[r]) >= 0)
          FAIL("table %d: object %d, which is no key, was found", t, x);
  }
}

/* ---- random operations ----------------------------------------------------------------------- */

/* Inserts an entry in live table t of the program's kind; r is a free root
 * slot for a new object (or any, when none was found). */
typedef void (*InsertFn)(int t, int r);

/* One random operation on the tables (a missing table is made, of the
 * kind weakKeys says), the roots, the weak roots, the graph and the
 * finalization registrations; when released, an arena step. */
static void randomOp(int weakKeys, InsertFn insert)
{
  unsigned op = (unsigned)(rnd() % 100);
  int t = (int)(rnd() % MAXTAB), r, x, y, j, s;
  if (op < 30) { /* insert */
    if (!tab[t].live) {
      newTable(t, weakKeys);
      return;
    }
    if ((r = freeRoot()) < 0) r = FIRSTROOT + (int)(rnd() % (NROOTS - FIRSTROOT));
    insert(t, r);
  } else if (op < 45) { /* lookups */
    for (j = 0; j < 8; ++j) {
      int e = nent > 0 ? (int)(rnd() % (unsigned)nent) : -1;
      if (e < 0 || ent[e].deleted || !tab[ent[e].table].live || slotOfEntry(e) < 0) continue;
      if (!obj[tab[ent[e].table].weakKeys ? ent[e].key : ent[e].val].dead) checkLookup(e);
    }
  } else if (op < 65) { /* drop */
    r = FIRSTROOT + (int)(rnd() % (NROOTS - FIRSTROOT));
    setRoot(r, -1);
  } else if (op < 75) { /* rewire */
    if ((x = rootedNode(&r)) >= 0 && obj[x].nslots > 0) {
      int k = (int)(rnd() % obj[x].nslots);
      y = rnd() % 3 != 0 ? rootedNode(&s) : -1;
      slotsOf(x)[k] = y >= 0 ? (mps_word_t)rootTab[s] : 0;
      obj[x].refs[k] = y;
    }
  } else if (op < 85) { /* garbage */
    garbage((unsigned)(1 + rnd() % 30));
  } else if (op < 93) { /* weak roots */
    j = (int)(rnd() % 2);
    s = (int)(rnd() % NWEAK);
    x = rnd() % 5 != 0 ? rootedNode(&r) : -1;
    weakSlots[j][s] = x >= 0 ? rootTab[r] : NULL;
    weakId[j][s] = x;
  } else if (op < 96) { /* register */
    if ((x = rootedNode(NULL)) >= 0 && !obj[x].reg) registerFinal(x);
  } else if (op < 97) { /* a table dies */
    if (t > 0 && tab[t].live) {
      tab[t].live = 0;
      setRoot(t, -1);
    }
  } else if (released) {
    (void)mps_arena_step(arena, 0.01, 1.0);
    afterCall();
  }
}


/* The random operations with the arena parked (collections only when the
 * program asks), then released (collections start on their own in the
 * small chain, and by steps); full collections at the end. */
static void workload(int weakKeys, InsertFn insert)
{
  int round, i;
  mps_word_t c0;

  /* parked: collections only when the program asks */
  for (round = 0; round < 60; ++round) {
    unsigned ops = 40 + (unsigned)(rnd() % 400);
    while (ops-- > 0) randomOp(weakKeys, insert);
    collect();
    if (rnd() % 4 == 0) collect();
    checkAllLookups();
  }

  /* released: collections start on their own (small chain) and by steps */
  c0 = mps_collections(arena);
  released = 1;
  mps_arena_release(arena);
  for (i = 0; i < 20000; ++i) {
    randomOp(weakKeys, insert);
    if (rnd() % 2 == 0) garbage(12);
    if (i % 1000 == 999) checkAllLookups();
  }
  mps_arena_park(arena);
  afterCall();
  released = 0;
  CHECK(nAutoCollections > 0);
  CHECK(mps_collections(arena) > c0);
  collect();
  checkAllLookups();
  collect();
  checkAllLookups();
}

#endif /* WEAKTABLE_H */
