/* weakops.h -- what test_awl_weak and test_weak_cache do to the heap of
 * weakmodel.h: the weak tables as a client uses them (made, filled, looked
 * up, each lookup checked against the model), the random operations on
 * the tables, the roots, the weak roots, the graph and the finalization
 * registrations, and the workload (parked, then released) that runs them.
 * Header-only (include weakmodel.h first).
 */
#ifndef WEAKOPS_H
#define WEAKOPS_H

/* ---- the tables, as a client uses them ---------------------------------------------- */

/* Table t (a weak-key table or a weak-value cache) with 8 slots. */
static void newTable(int t, int weakKeys)
{
  Table *T = &tab[t];
  free(T->slotEntry);
  memset(T, 0, sizeof *T);
  T->weakKeys = weakKeys;
  REQUIRE(gcp_wtable_create(&T->wt, arena, pools[P_AWL], fmtHdr,
                            weakKeys ? GCP_WTABLE_WEAK_KEYS : GCP_WTABLE_WEAK_VALUES,
                            4) == MPS_RES_OK);
  gcp_wtable_on_splat(T->wt, onSplat, (void *)(intptr_t)t);
  gcp_wtable_arrays(T->wt, &T->keysAddr, &T->valsAddr);
  T->live = 1;
  afterCall();
  syncTable(t);
  CHECK(T->cap == 8);
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
  if (key >= 0) {
    obj[key].keyOf = e;
  } else {
    REQUIRE(ikey < MAXINT);
    entOfInt[ikey] = e;
  }
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

/* Look up a live entry by its key as a client does (gcp_wtable_find and
 * gcp_wtable_get: after a rehash if the location dependency is stale),
 * and check its slot and value. */
static void checkLookup(int e)
{
  int t = ent[e].table, i;
  mps_word_t kw, want, k, v;
  mps_addr_t got;
  if (tab[t].weakKeys) {
    if (obj[ent[e].key].dead) return;
    kw = (mps_word_t)obj[ent[e].key].addr;
  } else {
    kw = W_INT(ent[e].ikey);
  }
  ++nLookups;
  i = (int)gcp_wtable_find(tab[t].wt, (mps_addr_t)kw);
  got = gcp_wtable_get(tab[t].wt, (mps_addr_t)kw);
  syncTable(t);
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
  gcp_wtable_slot(tab[t].wt, (size_t)i, &k, &v);
  if (k != kw || v != want || (mps_word_t)got != want)
    FAIL("table %d: entry %d has key %#lx, value %#lx (get: %p), expected %#lx, %#lx", t, e, k, v,
         got, kw, want);
  else if (ent[e].val >= 0 && !intact((mps_addr_t)want, ent[e].val))
    FAIL("table %d: entry %d's value object %d is not intact", t, e, ent[e].val);
}

/* Put new entry e (its objects rooted) in table t: the key and value words
 * are current (no allocation since they were read); the put may grow the
 * table (a collection meanwhile: its splats name the arrays as they were). */
static void putEntry(int t, int e, mps_word_t kw, mps_word_t vw)
{
  ++tab[t].expect;
  CHECK(gcp_wtable_put(tab[t].wt, (mps_addr_t)kw, (mps_addr_t)vw) == MPS_RES_OK);
  afterCall();
  syncTable(t);
  /* a collection during the put moved the key or value: the table has
     the new address (syncTable found the key, checkLookup the value) */
  if ((ent[e].key >= 0 && (mps_word_t)obj[ent[e].key].addr != kw) ||
      (ent[e].val >= 0 && (mps_word_t)obj[ent[e].val].addr != vw)) {
    ++nMovedInPut;
    if (!obj[tab[t].weakKeys ? ent[e].key : ent[e].val].dead) checkLookup(e);
  }
}

/* Every live entry of every table is found (after refresh). */
static void checkAllLookups(void)
{
  int t;
  unsigned i;
  static int todo[MAXENT];
  for (t = 0; t < MAXTAB; ++t) {
    unsigned n = 0;
    if (!tab[t].live) continue;
    /* a lookup may rehash: the entries first */
    for (i = 0; i < tab[t].cap; ++i) {
      int e = tab[t].slotEntry[i];
      if (e >= 0 && !obj[tab[t].weakKeys ? ent[e].key : ent[e].val].dead) todo[n++] = e;
    }
    for (i = 0; i < n; ++i) checkLookup(todo[i]);
  }
  /* a key that is in no table is not found */
  {
    int r, x = rootedNode(&r);
    if (x >= 0 && obj[x].keyOf < 0)
      for (t = 0; t < MAXTAB; ++t)
        if (tab[t].live && tab[t].weakKeys) {
          if (gcp_wtable_find(tab[t].wt, rootTab[r]) >= 0)
            FAIL("table %d: object %d, which is no key, was found", t, x);
          syncTable(t);
        }
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
    if (t > 0 && tab[t].live) dropTable(t);
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

#endif /* WEAKOPS_H */
