/* test_client.c -- a typical manual-memory client of the MPS, written only
 * against the spec interface (no gc_plugin extensions): keyword arguments
 * built with the MPS_ARGS_* macros (nested blocks, MPS_ARGS_ADD_FIELD,
 * MPS_ARGS_DONE, a full list), the allocation-point protocols of docs/design/interface.md
 * §Allocation points exactly as the manual writes them (the mps_reserve/mps_commit loop,
 * MPS_RESERVE_BLOCK, the function forms through parentheses and through
 * #undef), allocation frames on MVFF, allocation patterns, caches through
 * the legacy macro names, the legacy size macros of mpscmvff.h/mpscmvt.h,
 * the plinth (mps_lib_*, mps_clock), telemetry control, the rank
 * functions, the assertion handler, the result-code list macros
 * (_mps_RES_ENUM, _mps_ENUM_DEF, as the MPS's test library uses them to
 * print codes), and the documented teardown order.
 * Usage: test_client [seed].  Design: docs/design/interface.md.
 * Build: cc -std=c11 -O1 -g -I native/include tests/native/test_client.c
 *        native/build/<variety>/libgcp.a -lpthread -lm
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpscmfs.h"
#include "mpscmvff.h"
#include "mpscmvt.h"
#include "mpscmv2.h" /* legacy name; must be harmless */
#include "mpslib.h"
#include "testlib.h"

/* ---- the client's objects: a header word and a payload ------------------- */

typedef struct obj_s {
  size_t size; /* bytes, including this header */
  unsigned long serial;
  unsigned char payload[];
} obj_s, *obj_t;

static void objInit(obj_t obj, size_t size, unsigned long serial)
{
  size_t i;
  obj->size = size;
  obj->serial = serial;
  for (i = 0; i < size - sizeof(obj_s); ++i) obj->payload[i] = (unsigned char)(serial + i);
}
static int objOK(obj_t obj, size_t size, unsigned long serial)
{
  size_t i;
  if (obj->size != size || obj->serial != serial) return 0;
  for (i = 0; i < size - sizeof(obj_s); ++i)
    if (obj->payload[i] != (unsigned char)(serial + i)) return 0;
  return 1;
}

/* interface.md §Reserve and commit: the canonical loop, with the inline macros. */
static mps_res_t makeObj(obj_t *obj_o, mps_ap_t ap, size_t size, unsigned long serial)
{
  mps_addr_t p;
  obj_t obj;
  size = alignUp(size, 8);
  do {
    mps_res_t res = mps_reserve(&p, ap, size);
    if (res != MPS_RES_OK) return res;
    obj = p;
    objInit(obj, size, serial);
  } while (!mps_commit(ap, p, size));
  *obj_o = obj;
  return MPS_RES_OK;
}

/* interface.md §The inline macros and the slow paths: the statement form. */
static mps_res_t makeObjBlock(obj_t *obj_o, mps_ap_t ap, size_t size, unsigned long serial)
{
  mps_addr_t p;
  mps_res_t res;
  size = alignUp(size, 8);
  do {
    MPS_RESERVE_BLOCK(res, p, ap, size);
    if (res != MPS_RES_OK) return res;
    objInit(p, size, serial);
  } while (!mps_commit(ap, p, size));
  *obj_o = p;
  return MPS_RES_OK;
}

/* interface.md §Macros: the function forms, by parenthesising the names. */
static mps_res_t makeObjParen(obj_t *obj_o, mps_ap_t ap, size_t size, unsigned long serial)
{
  mps_addr_t p;
  size = alignUp(size, 8);
  do {
    mps_res_t res = (mps_reserve)(&p, ap, size);
    if (res != MPS_RES_OK) return res;
    objInit(p, size, serial);
  } while (!(mps_commit)(ap, p, size));
  *obj_o = p;
  return MPS_RES_OK;
}

static mps_res_t makeObjUndef(obj_t *obj_o, mps_ap_t ap, size_t size, unsigned long serial);

/* ---- allocation points on MVFF and MVT -------------------------------------------- */

#define NOBJ 2000

static void apPatterns(mps_arena_t arena)
{
  static struct {
    obj_t obj;
    size_t size;
    unsigned long serial;
    mps_pool_t pool;
  } objs[NOBJ];
  mps_pool_t mvff, mvt;
  mps_ap_t apMVFF, apMVT;
  unsigned long serial = 0;
  size_t i;
  long op;

  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_EXTEND_BY, 32768);
    MPS_ARGS_ADD(args, MPS_KEY_MEAN_SIZE, 64);
    MPS_ARGS_ADD(args, MPS_KEY_ALIGN, 8);
    MPS_ARGS_ADD(args, MPS_KEY_SPARE, 0.5);
    MPS_ARGS_ADD(args, MPS_KEY_MVFF_ARENA_HIGH, 0);
    MPS_ARGS_ADD(args, MPS_KEY_MVFF_SLOT_HIGH, 0);
    MPS_ARGS_ADD(args, MPS_KEY_MVFF_FIRST_FIT, 1);
    REQUIRE(mps_pool_create_k(&mvff, arena, mps_class_mvff(), args) == MPS_RES_OK);
    CHECK(args[0].key == MPS_KEY_ARGS_END);
  }
  MPS_ARGS_END(args);
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_MIN_SIZE, 16);
    MPS_ARGS_ADD(args, MPS_KEY_MEAN_SIZE, 64);
    MPS_ARGS_ADD(args, MPS_KEY_MAX_SIZE, 1024);
    MPS_ARGS_ADD(args, MPS_KEY_MVT_RESERVE_DEPTH, 100);
    MPS_ARGS_ADD(args, MPS_KEY_MVT_FRAG_LIMIT, 0.5);
    REQUIRE(mps_pool_create_k(&mvt, arena, mps_class_mvt(), args) == MPS_RES_OK);
    CHECK(args[0].key == MPS_KEY_ARGS_END);
  }
  MPS_ARGS_END(args);
  REQUIRE(mps_ap_create_k(&apMVFF, mvff, mps_args_none) == MPS_RES_OK);
  REQUIRE(mps_ap_create(&apMVT, mvt) == MPS_RES_OK); /* legacy varargs form */

  memset(objs, 0, sizeof objs);
  for (op = 0; op < 40000; ++op) {
    size_t k = rnd() % NOBJ;
    if (objs[k].obj == NULL) {
      int onMVT = rnd() % 2;
      mps_ap_t ap = onMVT ? apMVT : apMVFF;
      size_t size = sizeof(obj_s) + rnd() % 500;
      obj_t obj = NULL;
      mps_res_t res;
      switch (rnd() % 4) {
      case 0: res = makeObj(&obj, ap, size, ++serial); break;
      case 1: res = makeObjBlock(&obj, ap, size, ++serial); break;
      case 2: res = makeObjParen(&obj, ap, size, ++serial); break;
      default: res = makeObjUndef(&obj, ap, size, ++serial); break;
      }
      REQUIRE(res == MPS_RES_OK);
      objs[k].obj = obj;
      objs[k].size = alignUp(size, 8);
      objs[k].serial = serial;
      objs[k].pool = onMVT ? mvt : mvff;
      CHECK(((uintptr_t)obj & 7) == 0);
    } else {
      CHECK(objOK(objs[k].obj, objs[k].size, objs[k].serial));
      mps_free(objs[k].pool, objs[k].obj, objs[k].size);
      objs[k].obj = NULL;
    }
  }
  /* The AP's public fields obey the invariant between operations. */
  CHECK((char *)apMVFF->init == (char *)apMVFF->alloc);
  CHECK(apMVFF->limit == NULL || (char *)apMVFF->alloc <= (char *)apMVFF->limit);

  /* Frames on MVFF are accepted (a hint only) ... */
  {
    mps_frame_t frame, inner;
    obj_t a, b;
    mps_addr_t p;
    mps_res_t res;
    CHECK(mps_ap_frame_push(&frame, apMVFF) == MPS_RES_OK);
    REQUIRE(makeObj(&a, apMVFF, 64, ++serial) == MPS_RES_OK);
    CHECK((mps_ap_frame_push)(&inner, apMVFF) == MPS_RES_OK);
    REQUIRE(makeObj(&b, apMVFF, 128, ++serial) == MPS_RES_OK);
    CHECK((mps_ap_frame_pop)(apMVFF, inner) == MPS_RES_OK);
    CHECK(mps_ap_frame_pop(apMVFF, frame) == MPS_RES_OK);
    /* The blocks are still the client's on a manual pool without frames. */
    CHECK(objOK(a, 64, serial - 1) && objOK(b, 128, serial));
    mps_free(mvff, a, 64);
    mps_free(mvff, b, 128);
    /* ... but not while a block is reserved. */
    res = mps_reserve(&p, apMVFF, 32);
    REQUIRE(res == MPS_RES_OK);
    CHECK(mps_ap_frame_push(&frame, apMVFF) == MPS_RES_FAIL);
    CHECK(mps_ap_frame_pop(apMVFF, frame) == MPS_RES_FAIL);
    objInit(p, 32, ++serial);
    if (mps_commit(apMVFF, p, 32)) mps_free(mvff, p, 32);
  }

  /* Allocation patterns: begin/end nest; end without begin fails. */
  CHECK(mps_ap_alloc_pattern_end(apMVFF, mps_alloc_pattern_ramp()) == MPS_RES_FAIL);
  CHECK(mps_ap_alloc_pattern_begin(apMVFF, mps_alloc_pattern_ramp()) == MPS_RES_OK);
  CHECK(mps_ap_alloc_pattern_begin(apMVFF, mps_alloc_pattern_ramp()) == MPS_RES_OK);
  CHECK(mps_ap_alloc_pattern_end(apMVFF, mps_alloc_pattern_ramp()) == MPS_RES_OK);
  CHECK(mps_ap_alloc_pattern_end(apMVFF, mps_alloc_pattern_ramp()) == MPS_RES_OK);
  CHECK(mps_ap_alloc_pattern_end(apMVFF, mps_alloc_pattern_ramp()) == MPS_RES_FAIL);
  CHECK(mps_ap_alloc_pattern_begin(apMVT, mps_alloc_pattern_ramp_collect_all()) == MPS_RES_OK);
  CHECK(mps_ap_alloc_pattern_begin(apMVT, mps_alloc_pattern_ramp()) == MPS_RES_OK);
  {
    obj_t o;
    REQUIRE(makeObj(&o, apMVT, 100, ++serial) == MPS_RES_OK); /* allocating in a ramp */
    mps_free(mvt, o, alignUp(100, 8));
  }
  CHECK(mps_ap_alloc_pattern_reset(apMVT) == MPS_RES_OK);
  CHECK(mps_ap_alloc_pattern_end(apMVT, mps_alloc_pattern_ramp()) == MPS_RES_FAIL);
  CHECK(mps_ap_alloc_pattern_end(apMVT, mps_alloc_pattern_ramp_collect_all()) == MPS_RES_FAIL);
  CHECK(mps_ap_alloc_pattern_reset(apMVT) == MPS_RES_OK);
  CHECK(mps_alloc_pattern_ramp() != mps_alloc_pattern_ramp_collect_all());

  /* Legacy size macros. */
  CHECK(mps_mvff_size(mvff) == mps_pool_total_size(mvff));
  CHECK(mps_mvff_free_size(mvff) == mps_pool_free_size(mvff));
  CHECK(mps_mvt_size(mvt) == mps_pool_total_size(mvt));
  CHECK(mps_mvt_free_size(mvt) == mps_pool_free_size(mvt));
  CHECK(mps_mvff_free_size(mvff) <= mps_mvff_size(mvff));
  CHECK(mps_mvt_free_size(mvt) <= mps_mvt_size(mvt));

  /* Teardown: free what is left, APs, then pools. */
  for (i = 0; i < NOBJ; ++i)
    if (objs[i].obj != NULL) {
      CHECK(objOK(objs[i].obj, objs[i].size, objs[i].serial));
      mps_free(objs[i].pool, objs[i].obj, objs[i].size);
      objs[i].obj = NULL;
    }
  mps_ap_destroy(apMVFF);
  mps_ap_destroy(apMVT);
  CHECK(mps_mvff_free_size(mvff) == mps_mvff_size(mvff));
  CHECK(mps_mvt_free_size(mvt) == mps_mvt_size(mvt));
  mps_pool_destroy(mvt);
  mps_pool_destroy(mvff);
}

/* ---- caches through the legacy names, and MFS -------------------------------- */

static void caches(mps_arena_t arena)
{
  mps_pool_t pool, mfs;
  mps_sac_t sac;
  mps_sac_classes_s classes[3] = { { 32, 20, 5 }, { 128, 10, 2 }, { 512, 5, 1 } };
  void *ps[300];
  size_t sizes[300];
  int i;
  mps_res_t res;

  REQUIRE(mps_pool_create(&pool, arena, mps_class_mvff(), (size_t)65536, (size_t)32, (mps_align_t)8,
                          (mps_bool_t)0, (mps_bool_t)0, (mps_bool_t)1) == MPS_RES_OK);
  REQUIRE(mps_sac_create(&sac, pool, 3, classes) == MPS_RES_OK);
  memset(ps, 0, sizeof ps);
  for (i = 0; i < 20000; ++i) {
    int k = (int)(rnd() % 300);
    if (ps[k] == NULL) {
      size_t size = 1 + rnd() % 700;
      MPS_SAC_ALLOC(res, ps[k], sac, size, 0);
      REQUIRE(res == MPS_RES_OK);
      sizes[k] = size;
      memset(ps[k], k, size);
    } else {
      CHECK(((unsigned char *)ps[k])[sizes[k] - 1] == (unsigned char)k);
      MPS_SAC_FREE(sac, ps[k], sizes[k]);
      ps[k] = NULL;
    }
  }
  for (i = 0; i < 300; ++i)
    if (ps[i] != NULL) mps_sac_free(sac, ps[i], sizes[i]);
  mps_sac_flush(sac);
  CHECK(mps_pool_free_size(pool) == mps_pool_total_size(pool));
  mps_sac_destroy(sac);

  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_MFS_UNIT_SIZE, 32);
    REQUIRE(mps_pool_create_k(&mfs, arena, mps_class_mfs(), args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  for (i = 0; i < 300; ++i) {
    REQUIRE(mps_alloc(&ps[i], mfs, 32) == MPS_RES_OK);
    memset(ps[i], i, 32);
  }
  for (i = 0; i < 300; ++i) {
    CHECK(((unsigned char *)ps[i])[31] == (unsigned char)i);
    mps_free(mfs, ps[i], 32);
  }
  CHECK(mps_pool_free_size(mfs) == mps_pool_total_size(mfs));
  mps_pool_destroy(mfs);
  mps_pool_destroy(pool);
}

/* ---- keyword argument machinery --------------------------------------------------- */

static void keywordMacros(void)
{
  int ran = 0;
  /* Nested blocks with different names; each list terminated after every add. */
  MPS_ARGS_BEGIN(outer)
  {
    CHECK(outer[0].key == MPS_KEY_ARGS_END);
    MPS_ARGS_ADD(outer, MPS_KEY_ARENA_SIZE, (size_t)1 << 24);
    CHECK(outer[1].key == MPS_KEY_ARGS_END);
    MPS_ARGS_BEGIN(inner)
    {
      MPS_ARGS_ADD(inner, MPS_KEY_MEAN_SIZE, 48);
      MPS_ARGS_ADD_FIELD(inner, MPS_KEY_MAX_SIZE, size, 4096);
      MPS_ARGS_ADD(inner, MPS_KEY_MVT_FRAG_LIMIT, 0.25);
      CHECK(inner[0].key == MPS_KEY_MEAN_SIZE && inner[0].val.size == 48);
      CHECK(inner[1].key == MPS_KEY_MAX_SIZE && inner[1].val.size == 4096);
      CHECK(inner[2].key == MPS_KEY_MVT_FRAG_LIMIT && inner[2].val.d == 0.25);
      CHECK(inner[3].key == MPS_KEY_ARGS_END);
      ran |= 1;
    }
    MPS_ARGS_END(inner);
    MPS_ARGS_ADD(outer, MPS_KEY_SPARE, 0.5);
    MPS_ARGS_DONE(outer);
    CHECK(outer[0].key == MPS_KEY_ARENA_SIZE && outer[0].val.size == (size_t)1 << 24);
    CHECK(outer[1].key == MPS_KEY_SPARE && outer[1].val.d == 0.5);
    CHECK(outer[2].key == MPS_KEY_ARGS_END);
    ran |= 2;
  }
  MPS_ARGS_END(outer);
  CHECK(ran == 3);

  /* A full list: MPS_ARGS_MAX - 1 entries fit; one more is reported. */
  {
    mps_lib_assert_fail_t old = mps_lib_assert_fail_install(recordHandler);
    unsigned long r0 = reports;
    unsigned n;
    MPS_ARGS_BEGIN(full)
    {
      for (n = 0; n < MPS_ARGS_MAX - 1; ++n) MPS_ARGS_ADD(full, MPS_KEY_EXTEND_BY, n);
      CHECK(reports == r0);
      CHECK(full[MPS_ARGS_MAX - 1].key == MPS_KEY_ARGS_END);
      CHECK(full[MPS_ARGS_MAX - 2].val.size == MPS_ARGS_MAX - 2);
      MPS_ARGS_ADD(full, MPS_KEY_EXTEND_BY, 99); /* overflows the terminator slot */
      CHECK(reports == r0 + 1);
    }
    MPS_ARGS_END(full);
    mps_lib_assert_fail_install(old);
  }
}

/* ---- plinth, telemetry, ranks -------------------------------------------------------- */

static void plinth(void)
{
  char a[64], b[64];
  mps_clock_t c0, c1;
  mps_word_t before;
  mps_lib_assert_fail_t old;

  CHECK(mps_lib_EOF == EOF);
  CHECK(mps_lib_get_EOF() == EOF);
  CHECK(mps_lib_stdout != NULL && mps_lib_stderr != NULL);
  CHECK(mps_lib_stdout != mps_lib_stderr);
  CHECK(mps_lib_fputs("client: plinth output via mps_lib_fputs", mps_lib_stdout) >= 0);
  CHECK(mps_lib_fputc('\n', mps_lib_stdout) == '\n');
  fflush(stdout);

  CHECK((mps_lib_memset)(a, 'x', sizeof a) == a);
  CHECK(a[0] == 'x' && a[63] == 'x');
  CHECK(mps_lib_memcpy(b, a, sizeof a) == b);
  CHECK(mps_lib_memcmp(a, b, sizeof a) == 0);
  b[10] = 'y';
  CHECK(mps_lib_memcmp(a, b, sizeof a) < 0);
  CHECK((mps_lib_memcmp)(b, a, sizeof a) > 0);

  CHECK(mps_clocks_per_sec() > 0);
  c0 = mps_clock();
  {
    volatile unsigned long spin = 0;
    while (mps_clock() == c0 && spin < 500000000UL) ++spin;
  }
  c1 = mps_clock();
  CHECK(c1 >= c0);
  (void)mps_lib_telemetry_control();

  /* Telemetry filter: set ORs bits in, reset clears them, get reads. */
  before = mps_telemetry_get();
  mps_telemetry_set((mps_word_t)0x50);
  CHECK((mps_telemetry_get() & 0x50) == 0x50);
  mps_telemetry_reset((mps_word_t)0x10);
  CHECK((mps_telemetry_get() & 0x50) == 0x40);
  CHECK((mps_telemetry_get() & ~(mps_word_t)0x50) == (before & ~(mps_word_t)0x50));
  mps_telemetry_reset(~(mps_word_t)0);
  CHECK(mps_telemetry_get() == 0);
  mps_telemetry_set(before);
  CHECK(mps_telemetry_get() == before);
  {
    mps_label_t l1 = mps_telemetry_intern("client label");
    mps_label_t l2 = mps_telemetry_intern("client label");
    CHECK(l1 == l2);
    mps_telemetry_label((mps_addr_t)&c0, l1);
    mps_telemetry_flush();
  }

  /* Ranks are distinct. */
  CHECK(mps_rank_ambig() != mps_rank_exact());
  CHECK(mps_rank_exact() != mps_rank_weak());
  CHECK(mps_rank_ambig() != mps_rank_weak());
  printf("ranks: ambig %u exact %u weak %u\n", mps_rank_ambig(), mps_rank_exact(), mps_rank_weak());

  /* The assertion handler: installing returns the previous one. */
  old = mps_lib_assert_fail_install(recordHandler);
  CHECK(old != NULL && old != recordHandler);
  reports = 0;
  mps_lib_assert_fail("client.c", 42, "client-raised condition");
  CHECK(reports == 1 && strstr(lastMessage, "client-raised condition") != NULL &&
        strstr(lastMessage, "client.c:42") != NULL);
  CHECK(mps_lib_assert_fail_install(old) == recordHandler);
}

/* ---- the whole life of a client ---------------------------------------------------- */

/* ---- result codes as a list --------------------------------------------- */

/* A table of names and texts made from the list, and an enumeration of
 * one's own made with _mps_ENUM_DEF: both must agree with MPS_RES_*. */
static const struct {
  int code;
  const char *name, *doc;
} resultRows[] = {
#define RESULT_ROW(X, ident, doc) { MPS_RES_##ident, #ident, doc },
  _mps_RES_ENUM(RESULT_ROW, X)
#undef RESULT_ROW
};

_mps_ENUM_DEF(_mps_RES_ENUM, MYRES_)

    static void resultCodes(void)
{
  size_t i, n = sizeof resultRows / sizeof resultRows[0];
  CHECK(n == 9 && (size_t)_mps_MYRES_LIMIT == n && (size_t)_mps_MPS_RES_LIMIT == n);
  for (i = 0; i < n; ++i) {
    CHECK(resultRows[i].code == (int)i); /* in value order from 0 */
    CHECK(resultRows[i].doc != NULL && resultRows[i].doc[0] != '\0');
  }
  CHECK(strcmp(resultRows[MPS_RES_OK].name, "OK") == 0);
  CHECK(strcmp(resultRows[MPS_RES_COMMIT_LIMIT].name, "COMMIT_LIMIT") == 0);
  CHECK(strcmp(resultRows[MPS_RES_PARAM].name, "PARAM") == 0);
  CHECK((int)MYRES_OK == (int)MPS_RES_OK && (int)MYRES_MEMORY == (int)MPS_RES_MEMORY &&
        (int)MYRES_PARAM == (int)MPS_RES_PARAM);
}

int main(int argc, char **argv)
{
  mps_arena_t arena;
  mps_res_t res;

  testSeed(argc, argv);

  /* Only telemetry and the assertion handler may come before the arena. */
  plinth();
  keywordMacros();
  resultCodes();

  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_ARENA_SIZE, (size_t)32 << 20);
    MPS_ARGS_ADD(args, MPS_KEY_COMMIT_LIMIT, (size_t)512 << 20);
    MPS_ARGS_ADD(args, MPS_KEY_PAUSE_TIME, 0.05);
    res = mps_arena_create_k(&arena, mps_arena_class_vm(), args);
  }
  MPS_ARGS_END(args);
  REQUIRE(res == MPS_RES_OK);
  CHECK(mps_arena_commit_limit(arena) == (size_t)512 << 20);
  CHECK(mps_arena_committed(arena) <= mps_arena_commit_limit(arena));
  CHECK(mps_arena_reserved(arena) >= (size_t)32 << 20);

  apPatterns(arena);
  caches(arena);

  /* Collection control a client uses, with nothing to collect. */
  mps_arena_park(arena);
  CHECK(mps_arena_collect(arena) == MPS_RES_OK);
  mps_arena_release(arena);
  CHECK(mps_collections(arena) == 1); /* every collection counts */

  /* Teardown (interface.md §Pool classes): park; APs, SACs and pools are already gone; arena. */
  mps_arena_park(arena);
  mps_arena_destroy(arena);
  return testFinish();
}

/* interface.md §Macros: with the macros removed, the plain names are the functions. */
#undef mps_reserve
#undef mps_commit

static mps_res_t makeObjUndef(obj_t *obj_o, mps_ap_t ap, size_t size, unsigned long serial)
{
  mps_addr_t p;
  size = alignUp(size, 8);
  do {
    mps_res_t res = mps_reserve(&p, ap, size);
    if (res != MPS_RES_OK) return res;
    objInit(p, size, serial);
  } while (!mps_commit(ap, p, size));
  *obj_o = p;
  return MPS_RES_OK;
}
