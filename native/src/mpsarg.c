/* mpsarg.c -- keyword-argument keys and list helpers
 *
 * Defines every key object named by the public headers, the empty
 * argument list mps_args_none, and _mps_args_set_key, which the
 * MPS_ARGS_* macros call from client code.  Implements
 * docs/design/interface.md §Keyword arguments.
 */

#include "mps.h"
#include "mpsacl.h"
#include "mpscams.h"
#include "mpscawl.h"
#include "mpscmfs.h"
#include "mpscmvff.h"
#include "mpscmvt.h"
#include "mpslib.h"
#include "keys.h"

/* KEY_DEFINE(symbol, name) defines _mps_key_<symbol>, which the headers
 * spell MPS_KEY_<name>.  The two differ only for the three keys whose
 * object names are lower case. */
#define KEY_DEFINE(symbol, name) \
  const struct mps_key_s _mps_key_##symbol = { KeySig, "MPS_KEY_" #name }

KEY_DEFINE(ARGS_END, ARGS_END);

/* Arenas (mps.h, mpsacl.h) */
KEY_DEFINE(ARENA_GRAIN_SIZE, ARENA_GRAIN_SIZE);
KEY_DEFINE(ARENA_SIZE, ARENA_SIZE);
KEY_DEFINE(ARENA_ZONED, ARENA_ZONED);
KEY_DEFINE(arena_extended, ARENA_EXTENDED);
KEY_DEFINE(arena_contracted, ARENA_CONTRACTED);
KEY_DEFINE(ARENA_CL_BASE, ARENA_CL_BASE);
KEY_DEFINE(COMMIT_LIMIT, COMMIT_LIMIT);
KEY_DEFINE(SPARE_COMMIT_LIMIT, SPARE_COMMIT_LIMIT);
KEY_DEFINE(SPARE, SPARE);
KEY_DEFINE(PAUSE_TIME, PAUSE_TIME);
KEY_DEFINE(VMW3_TOP_DOWN, VMW3_TOP_DOWN);

/* Pools and allocation points (mps.h) */
KEY_DEFINE(FORMAT, FORMAT);
KEY_DEFINE(CHAIN, CHAIN);
KEY_DEFINE(GEN, GEN);
KEY_DEFINE(RANK, RANK);
KEY_DEFINE(EXTEND_BY, EXTEND_BY);
KEY_DEFINE(LARGE_SIZE, LARGE_SIZE);
KEY_DEFINE(MIN_SIZE, MIN_SIZE);
KEY_DEFINE(MEAN_SIZE, MEAN_SIZE);
KEY_DEFINE(MAX_SIZE, MAX_SIZE);
KEY_DEFINE(ALIGN, ALIGN);
KEY_DEFINE(INTERIOR, INTERIOR);
KEY_DEFINE(ap_hash_arrays, AP_HASH_ARRAYS);
KEY_DEFINE(POOL_DEBUG_OPTIONS, POOL_DEBUG_OPTIONS);

/* Formats (mps.h) */
KEY_DEFINE(FMT_ALIGN, FMT_ALIGN);
KEY_DEFINE(FMT_HEADER_SIZE, FMT_HEADER_SIZE);
KEY_DEFINE(FMT_SCAN, FMT_SCAN);
KEY_DEFINE(FMT_SKIP, FMT_SKIP);
KEY_DEFINE(FMT_FWD, FMT_FWD);
KEY_DEFINE(FMT_ISFWD, FMT_ISFWD);
KEY_DEFINE(FMT_PAD, FMT_PAD);
KEY_DEFINE(FMT_CLASS, FMT_CLASS);

/* Pool classes (mpscams.h, mpscawl.h, mpscmfs.h, mpscmvff.h, mpscmvt.h) */
KEY_DEFINE(AMS_SUPPORT_AMBIGUOUS, AMS_SUPPORT_AMBIGUOUS);
KEY_DEFINE(AWL_FIND_DEPENDENT, AWL_FIND_DEPENDENT);
KEY_DEFINE(MFS_UNIT_SIZE, MFS_UNIT_SIZE);
KEY_DEFINE(MVFF_SLOT_HIGH, MVFF_SLOT_HIGH);
KEY_DEFINE(MVFF_ARENA_HIGH, MVFF_ARENA_HIGH);
KEY_DEFINE(MVFF_FIRST_FIT, MVFF_FIRST_FIT);
KEY_DEFINE(MVT_RESERVE_DEPTH, MVT_RESERVE_DEPTH);
KEY_DEFINE(MVT_FRAG_LIMIT, MVT_FRAG_LIMIT);

#undef KEY_DEFINE


/* The list to pass when there are no optional arguments.  It must be
 * writable because _k functions remove the entries they use; having only
 * the terminator, it never changes in practice. */
mps_arg_s mps_args_none[1] = { { MPS_KEY_ARGS_END, { 0 } } };


void _mps_args_set_key(mps_arg_s args[MPS_ARGS_MAX], unsigned i, mps_key_t key)
{
  if (args == NULL) {
    mps_lib_assert_fail(__FILE__, (unsigned)__LINE__, "args != NULL");
    return;
  }
  if (i >= MPS_ARGS_MAX) {
    /* Too many MPS_ARGS_ADD calls, or an add after MPS_ARGS_DONE. */
    mps_lib_assert_fail(__FILE__, (unsigned)__LINE__, "i < MPS_ARGS_MAX");
    return;
  }
  args[i].key = key;
}


/* Out-of-line compiler barrier used by the mps_commit macro when the
 * client's compiler lacks GNU inline assembly (see mps.h).  A call to a
 * function the compiler cannot see into already orders memory accesses
 * around it; the body has nothing to do. */
void _mps_compiler_barrier(void) {}
