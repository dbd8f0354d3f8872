/* mps.h -- generic public interface of gc_plugin's MPS-compatible core
 *
 * Declares the types, constants, keyword-argument machinery, inline
 * allocation macros and entry points that MPS client programs compile
 * against.  Described in docs/design/interface.md (and, for
 * formats, scanning, roots, threads, chains, messages, finalization,
 * location dependency and walks, docs/design/collector-interface.md).
 *
 * The header is written to be accepted by C89, C99, C11 and C++ compilers.
 * Names, prototypes, member orders and numeric values follow the MPS interface
 * exactly, because existing clients depend on them.  Prototypes carry no
 * parameter names so that client macros cannot interfere with them.
 */

#ifndef mps_h
#define mps_h

#include <stddef.h>
#include <stdarg.h>
#include <limits.h>

#ifdef __cplusplus
extern "C" {
#endif


/* ---- 1.1 Scalar types ------------------------------------------------ */

#if defined(_MSC_VER) && defined(_WIN32) && defined(_WIN64) && defined(_M_X64)
typedef unsigned __int64 mps_word_t;
#else
typedef unsigned long mps_word_t;
#endif

typedef int mps_bool_t;              /* 0 is false; outputs are 0 or 1 */
typedef int mps_res_t;               /* result code, see 1.2 */
typedef void *mps_addr_t;            /* address or reference */
typedef size_t mps_align_t;          /* positive power of two */
typedef unsigned mps_rm_t;           /* root mode, see 8.1 */
typedef unsigned mps_rank_t;         /* reference rank, see 1.3 */
typedef unsigned mps_message_type_t; /* message type, see 11.1 */
typedef mps_word_t mps_clock_t;      /* processor time from mps_clock */
typedef mps_word_t mps_label_t;      /* telemetry label */
typedef void (*mps_fun_t)(void);     /* generic function pointer */


/* ---- 1.1 Handles ----------------------------------------------------- */

typedef struct mps_arena_s *mps_arena_t;
typedef struct mps_arena_class_s *mps_arena_class_t;
typedef struct mps_pool_s *mps_pool_t;
typedef struct mps_pool_class_s *mps_pool_class_t;
typedef mps_pool_class_t mps_class_t; /* deprecated alias */
typedef struct mps_chain_s *mps_chain_t;
typedef struct mps_fmt_s *mps_fmt_t;
typedef struct mps_root_s *mps_root_t;
typedef struct mps_thr_s *mps_thr_t;
typedef struct mps_ap_s *mps_ap_t;    /* public struct, 4.1 */
typedef struct mps_ld_s *mps_ld_t;    /* public struct, 13 */
typedef struct mps_ss_s *mps_ss_t;    /* public struct, 7.1 */
typedef struct _mps_sac_s *mps_sac_t; /* public struct, 5.1 */
typedef struct mps_message_s *mps_message_t;
typedef struct mps_alloc_pattern_s *mps_alloc_pattern_t;
typedef struct mps_frame_s *mps_frame_t;
typedef const struct mps_key_s *mps_key_t;     /* struct stays incomplete */
typedef struct mps_scan_tag_s *mps_scan_tag_t; /* public struct, 7.5 */
typedef struct mps_transform_s *mps_transform_t;


/* ---- 1.2 Result codes ------------------------------------------------ */

/* The codes as one list, for clients that need their names or texts
 * (as the MPS's test library prints them): _mps_RES_ENUM(R, X) expands
 * R(X, NAME, "what it means") once per code, in value order from 0.
 * _mps_ENUM_DEF(list, prefix) defines the enumeration prefix##NAME from
 * such a list, followed by _mps_##prefix##LIMIT, the number of codes. */
#define _mps_RES_ENUM(R, X)                         \
  R(X, OK, "success (always zero)")                 \
  R(X, FAIL, "unspecified failure")                 \
  R(X, RESOURCE, "unable to obtain resources")      \
  R(X, MEMORY, "unable to obtain memory")           \
  R(X, LIMIT, "limitation reached")                 \
  R(X, UNIMPL, "unimplemented facility")            \
  R(X, IO, "system I/O error")                      \
  R(X, COMMIT_LIMIT, "arena commit limit exceeded") \
  R(X, PARAM, "illegal user parameter value")

#define _mps_ENUM_DEF_ROW(prefix, ident, doc) prefix##ident,
#define _mps_ENUM_DEF(list, prefix)           enum { list(_mps_ENUM_DEF_ROW, prefix) _mps_##prefix##LIMIT };

/* MPS_RES_OK = 0, MPS_RES_FAIL, ..., MPS_RES_PARAM = 8. */
_mps_ENUM_DEF(_mps_RES_ENUM, MPS_RES_)


    /* ---- 6.2 Format method types ----------------------------------------- */

    typedef mps_res_t (*mps_fmt_scan_t)(mps_ss_t, mps_addr_t, mps_addr_t);
typedef mps_addr_t (*mps_fmt_skip_t)(mps_addr_t);
typedef void (*mps_fmt_fwd_t)(mps_addr_t, mps_addr_t);
typedef mps_addr_t (*mps_fmt_isfwd_t)(mps_addr_t);
typedef void (*mps_fmt_pad_t)(mps_addr_t, size_t);
typedef mps_addr_t (*mps_fmt_class_t)(mps_addr_t);
typedef void (*mps_fmt_copy_t)(mps_addr_t, mps_addr_t); /* legacy, unused */


/* ---- 6.6 Legacy format descriptions (deprecated) --------------------- */

typedef struct mps_fmt_A_s {
  mps_align_t align;
  mps_fmt_scan_t scan;
  mps_fmt_skip_t skip;
  mps_fmt_copy_t copy;
  mps_fmt_fwd_t fwd;
  mps_fmt_isfwd_t isfwd;
  mps_fmt_pad_t pad;
} mps_fmt_A_s;
typedef struct mps_fmt_A_s *mps_fmt_A_t;

typedef struct mps_fmt_B_s {
  mps_align_t align;
  mps_fmt_scan_t scan;
  mps_fmt_skip_t skip;
  mps_fmt_copy_t copy;
  mps_fmt_fwd_t fwd;
  mps_fmt_isfwd_t isfwd;
  mps_fmt_pad_t pad;
  mps_fmt_class_t mps_class;
} mps_fmt_B_s;
typedef struct mps_fmt_B_s *mps_fmt_B_t;

typedef struct mps_fmt_auto_header_s {
  mps_align_t align;
  mps_fmt_scan_t scan;
  mps_fmt_skip_t skip;
  mps_fmt_fwd_t fwd;
  mps_fmt_isfwd_t isfwd;
  mps_fmt_pad_t pad;
  size_t mps_headerSize;
} mps_fmt_auto_header_s;

typedef struct mps_fmt_fixed_s {
  mps_align_t align;
  mps_fmt_scan_t scan;
  mps_fmt_fwd_t fwd;
  mps_fmt_isfwd_t isfwd;
  mps_fmt_pad_t pad;
} mps_fmt_fixed_s;


/* ---- 7.1 Scan state; 7.5 area scanners and tags ---------------------- */

/* Embedded in the implementation's scan state.  The scanning macros keep
 * copies of these three words in locals between MPS_SCAN_BEGIN and
 * MPS_SCAN_END. */
typedef struct mps_ss_s {
  mps_word_t _zs;  /* zone shift */
  mps_word_t _w;   /* white zone set */
  mps_word_t _ufs; /* accumulated summary of fixed zones */
} mps_ss_s;

typedef mps_res_t (*mps_area_scan_t)(mps_ss_t, void *, void *, void *);
typedef mps_res_t (*mps_root_scan_t)(mps_ss_t, void *, size_t);
typedef mps_res_t (*mps_reg_scan_t)(mps_ss_t, mps_thr_t, void *, size_t);

typedef struct mps_scan_tag_s {
  mps_word_t mask;    /* bits holding the tag */
  mps_word_t pattern; /* tag value marking a reference */
} mps_scan_tag_s;


/* ---- 10 Generation parameters ---------------------------------------- */

typedef struct mps_gen_param_s {
  size_t mps_capacity;  /* kilobytes (units of 1024 bytes) */
  double mps_mortality; /* initial dead fraction guess, [0, 1] */
} mps_gen_param_s;


/* ---- 3.12 Debug pool options ----------------------------------------- */

typedef struct mps_pool_debug_option_s {
  const void *fence_template;
  size_t fence_size; /* 0 disables fenceposts */
  const void *free_template;
  size_t free_size; /* 0 disables free-space splatting */
} mps_pool_debug_option_s;


/* ---- 13 Location dependency ------------------------------------------ */

/* Owned by the client, but only the implementation reads or writes the
 * members. */
typedef struct mps_ld_s {
  mps_word_t _epoch; /* movement epoch at the last reset */
  mps_word_t _rs;    /* zones of the addresses added since */
} mps_ld_s;


/* ---- 4.1 Allocation point -------------------------------------------- */

/* init <= alloc <= limit while the AP is not trapped; limit == 0 traps it
 * and sends reserve and commit to the slow paths. */
typedef struct mps_ap_s {
  mps_addr_t init;  /* end of the committed part */
  mps_addr_t alloc; /* end of the reserved part */
  mps_addr_t limit; /* end of space for the fast path; 0 = trap */
} mps_ap_s;


/* ---- 5.1 Segregated allocation caches -------------------------------- */

typedef struct mps_sac_class_s {
  size_t mps_block_size;   /* largest block size of the class */
  size_t mps_cached_count; /* how many blocks to keep cached */
  unsigned mps_frequency;  /* relative frequency of requests */
} mps_sac_class_s;

#define mps_sac_classes_s mps_sac_class_s /* legacy spelling */

#define MPS_SAC_CLASS_LIMIT ((size_t)8)

typedef struct _mps_sac_freelist_block_s {
  size_t _size;       /* bound used by the class search (5.2) */
  size_t _count;      /* blocks currently on the list */
  size_t _count_max;  /* capacity; 0 means never cache */
  mps_addr_t _blocks; /* list head; first word links blocks */
} _mps_sac_freelist_block_s;

/* Even slots: classes above the middle, ascending, then a sentinel with
 * _size == (size_t)-1.  Odd slots: the middle class and those below it,
 * descending, each holding the next smaller class's size; the smallest
 * class has _size == 0. */
typedef struct _mps_sac_s {
  size_t _middle;      /* block size of the middle class */
  mps_bool_t _trapped; /* reserved; always false */
  _mps_sac_freelist_block_s _freelists[2 * MPS_SAC_CLASS_LIMIT];
} _mps_sac_s;


/* ---- 2.1 Arena extension callbacks ----------------------------------- */

typedef void (*mps_arena_extended_t)(mps_arena_t, void *, size_t);
typedef void (*mps_arena_contracted_t)(mps_arena_t, void *, size_t);


/* ---- 14 Walker callbacks --------------------------------------------- */

typedef void (*mps_formatted_objects_stepper_t)(mps_addr_t, mps_fmt_t, mps_pool_t, void *, size_t);
typedef void (*mps_roots_stepper_t)(mps_addr_t *, mps_root_t, void *, size_t);


/* ---- 8.1 Root modes -------------------------------------------------- */

#define MPS_RM_CONST      (((mps_rm_t)1) << 0) /* deprecated */
#define MPS_RM_PROT       (((mps_rm_t)1) << 1)
#define MPS_RM_PROT_INNER (((mps_rm_t)1) << 1) /* same value as PROT */


/* ---- 11.1 Message types ---------------------------------------------- */

enum { _mps_MESSAGE_TYPE_FINALIZATION, _mps_MESSAGE_TYPE_GC, _mps_MESSAGE_TYPE_GC_START };

#define mps_message_type_finalization() _mps_MESSAGE_TYPE_FINALIZATION
#define mps_message_type_gc()           _mps_MESSAGE_TYPE_GC
#define mps_message_type_gc_start()     _mps_MESSAGE_TYPE_GC_START


/* ---- 1.4.1 Keyword argument ------------------------------------------ */

typedef struct mps_arg_s {
  mps_key_t key;
  union {
    mps_bool_t b;
    char c;
    const char *string;
    int i;
    unsigned u;
    long l;
    unsigned long ul;
    float f;
    double d;
    size_t size;
    mps_fun_t fun;
    mps_addr_t addr;
    mps_fmt_t format;
    mps_chain_t chain;
    struct mps_pool_debug_option_s *pool_debug_options;
    mps_addr_t (*addr_method)(mps_addr_t);
    mps_align_t align;
    mps_word_t count;
    void *p;
    mps_rank_t rank;
    mps_fmt_scan_t fmt_scan;
    mps_fmt_skip_t fmt_skip;
    mps_fmt_fwd_t fmt_fwd;
    mps_fmt_isfwd_t fmt_isfwd;
    mps_fmt_pad_t fmt_pad;
    mps_fmt_class_t fmt_class;
    mps_pool_t pool;
  } val;
} mps_arg_s;


/* ---- 1.4.2 Keys ------------------------------------------------------ */

/* A key is the address of one of these objects.  Each MPS_KEY_<NAME> has
 * a companion MPS_KEY_<NAME>_FIELD naming the union member it uses.  The
 * pool-class keys are declared in the class headers. */

extern const struct mps_key_s _mps_key_ARGS_END;
#define MPS_KEY_ARGS_END (&_mps_key_ARGS_END)

extern const struct mps_key_s _mps_key_ARENA_GRAIN_SIZE;
#define MPS_KEY_ARENA_GRAIN_SIZE       (&_mps_key_ARENA_GRAIN_SIZE)
#define MPS_KEY_ARENA_GRAIN_SIZE_FIELD size
extern const struct mps_key_s _mps_key_ARENA_SIZE;
#define MPS_KEY_ARENA_SIZE       (&_mps_key_ARENA_SIZE)
#define MPS_KEY_ARENA_SIZE_FIELD size
extern const struct mps_key_s _mps_key_ARENA_ZONED;
#define MPS_KEY_ARENA_ZONED       (&_mps_key_ARENA_ZONED)
#define MPS_KEY_ARENA_ZONED_FIELD b
extern const struct mps_key_s _mps_key_arena_extended;
#define MPS_KEY_ARENA_EXTENDED       (&_mps_key_arena_extended)
#define MPS_KEY_ARENA_EXTENDED_FIELD fun
extern const struct mps_key_s _mps_key_arena_contracted;
#define MPS_KEY_ARENA_CONTRACTED       (&_mps_key_arena_contracted)
#define MPS_KEY_ARENA_CONTRACTED_FIELD fun
extern const struct mps_key_s _mps_key_COMMIT_LIMIT;
#define MPS_KEY_COMMIT_LIMIT       (&_mps_key_COMMIT_LIMIT)
#define MPS_KEY_COMMIT_LIMIT_FIELD size
extern const struct mps_key_s _mps_key_SPARE_COMMIT_LIMIT;
#define MPS_KEY_SPARE_COMMIT_LIMIT       (&_mps_key_SPARE_COMMIT_LIMIT)
#define MPS_KEY_SPARE_COMMIT_LIMIT_FIELD size
extern const struct mps_key_s _mps_key_SPARE;
#define MPS_KEY_SPARE       (&_mps_key_SPARE)
#define MPS_KEY_SPARE_FIELD d
extern const struct mps_key_s _mps_key_PAUSE_TIME;
#define MPS_KEY_PAUSE_TIME       (&_mps_key_PAUSE_TIME)
#define MPS_KEY_PAUSE_TIME_FIELD d
extern const struct mps_key_s _mps_key_VMW3_TOP_DOWN;
#define MPS_KEY_VMW3_TOP_DOWN       (&_mps_key_VMW3_TOP_DOWN)
#define MPS_KEY_VMW3_TOP_DOWN_FIELD b

extern const struct mps_key_s _mps_key_FORMAT;
#define MPS_KEY_FORMAT       (&_mps_key_FORMAT)
#define MPS_KEY_FORMAT_FIELD format
extern const struct mps_key_s _mps_key_CHAIN;
#define MPS_KEY_CHAIN       (&_mps_key_CHAIN)
#define MPS_KEY_CHAIN_FIELD chain
extern const struct mps_key_s _mps_key_GEN;
#define MPS_KEY_GEN       (&_mps_key_GEN)
#define MPS_KEY_GEN_FIELD u
extern const struct mps_key_s _mps_key_RANK;
#define MPS_KEY_RANK       (&_mps_key_RANK)
#define MPS_KEY_RANK_FIELD rank
extern const struct mps_key_s _mps_key_EXTEND_BY;
#define MPS_KEY_EXTEND_BY       (&_mps_key_EXTEND_BY)
#define MPS_KEY_EXTEND_BY_FIELD size
extern const struct mps_key_s _mps_key_LARGE_SIZE;
#define MPS_KEY_LARGE_SIZE       (&_mps_key_LARGE_SIZE)
#define MPS_KEY_LARGE_SIZE_FIELD size
extern const struct mps_key_s _mps_key_MIN_SIZE;
#define MPS_KEY_MIN_SIZE       (&_mps_key_MIN_SIZE)
#define MPS_KEY_MIN_SIZE_FIELD size
extern const struct mps_key_s _mps_key_MEAN_SIZE;
#define MPS_KEY_MEAN_SIZE       (&_mps_key_MEAN_SIZE)
#define MPS_KEY_MEAN_SIZE_FIELD size
extern const struct mps_key_s _mps_key_MAX_SIZE;
#define MPS_KEY_MAX_SIZE       (&_mps_key_MAX_SIZE)
#define MPS_KEY_MAX_SIZE_FIELD size
extern const struct mps_key_s _mps_key_ALIGN;
#define MPS_KEY_ALIGN       (&_mps_key_ALIGN)
#define MPS_KEY_ALIGN_FIELD align
extern const struct mps_key_s _mps_key_INTERIOR;
#define MPS_KEY_INTERIOR       (&_mps_key_INTERIOR)
#define MPS_KEY_INTERIOR_FIELD b

extern const struct mps_key_s _mps_key_FMT_ALIGN;
#define MPS_KEY_FMT_ALIGN       (&_mps_key_FMT_ALIGN)
#define MPS_KEY_FMT_ALIGN_FIELD align
extern const struct mps_key_s _mps_key_FMT_HEADER_SIZE;
#define MPS_KEY_FMT_HEADER_SIZE       (&_mps_key_FMT_HEADER_SIZE)
#define MPS_KEY_FMT_HEADER_SIZE_FIELD size
extern const struct mps_key_s _mps_key_FMT_SCAN;
#define MPS_KEY_FMT_SCAN       (&_mps_key_FMT_SCAN)
#define MPS_KEY_FMT_SCAN_FIELD fmt_scan
extern const struct mps_key_s _mps_key_FMT_SKIP;
#define MPS_KEY_FMT_SKIP       (&_mps_key_FMT_SKIP)
#define MPS_KEY_FMT_SKIP_FIELD fmt_skip
extern const struct mps_key_s _mps_key_FMT_FWD;
#define MPS_KEY_FMT_FWD       (&_mps_key_FMT_FWD)
#define MPS_KEY_FMT_FWD_FIELD fmt_fwd
extern const struct mps_key_s _mps_key_FMT_ISFWD;
#define MPS_KEY_FMT_ISFWD       (&_mps_key_FMT_ISFWD)
#define MPS_KEY_FMT_ISFWD_FIELD fmt_isfwd
extern const struct mps_key_s _mps_key_FMT_PAD;
#define MPS_KEY_FMT_PAD       (&_mps_key_FMT_PAD)
#define MPS_KEY_FMT_PAD_FIELD fmt_pad
extern const struct mps_key_s _mps_key_FMT_CLASS;
#define MPS_KEY_FMT_CLASS       (&_mps_key_FMT_CLASS)
#define MPS_KEY_FMT_CLASS_FIELD fmt_class

extern const struct mps_key_s _mps_key_ap_hash_arrays;
#define MPS_KEY_AP_HASH_ARRAYS       (&_mps_key_ap_hash_arrays)
#define MPS_KEY_AP_HASH_ARRAYS_FIELD b
extern const struct mps_key_s _mps_key_POOL_DEBUG_OPTIONS;
#define MPS_KEY_POOL_DEBUG_OPTIONS       (&_mps_key_POOL_DEBUG_OPTIONS)
#define MPS_KEY_POOL_DEBUG_OPTIONS_FIELD pool_debug_options


/* ---- 1.4.3 Keyword list construction --------------------------------- */

#define MPS_ARGS_MAX 32

/* A writable list holding only the terminator. */
extern mps_arg_s mps_args_none[];

/* Store key into args[i].key; reports i >= MPS_ARGS_MAX as an assertion
 * failure and stores nothing.  (MPS_ARGS_ADD then still assigns the
 * value field, as the interface defines the macro: more than
 * MPS_ARGS_MAX - 1 arguments is a client error.) */
extern void _mps_args_set_key(mps_arg_s[MPS_ARGS_MAX], unsigned, mps_key_t);

#define MPS_BEGIN do {
#define MPS_END \
  }             \
  while (0)

/* Usage:
 *   MPS_ARGS_BEGIN(args) {
 *     MPS_ARGS_ADD(args, MPS_KEY_ARENA_SIZE, (size_t)1 << 24);
 *     res = mps_arena_create_k(&arena, mps_arena_class_vm(), args);
 *   } MPS_ARGS_END(args);
 * The list is terminated after every addition.  `key` in MPS_ARGS_ADD must
 * be written as an MPS_KEY_... macro name so that its _FIELD companion can
 * be formed. */
#define MPS_ARGS_BEGIN(_var)                           \
  MPS_BEGIN                                            \
  mps_arg_s _var[MPS_ARGS_MAX];                        \
  unsigned _var##_i = 0;                               \
  _mps_args_set_key(_var, _var##_i, MPS_KEY_ARGS_END); \
  MPS_BEGIN

#define MPS_ARGS_ADD_FIELD(_var, _key, _field, _val)   \
  MPS_BEGIN                                            \
  _mps_args_set_key(_var, _var##_i, _key);             \
  _var[_var##_i].val._field = (_val);                  \
  ++_var##_i;                                          \
  _mps_args_set_key(_var, _var##_i, MPS_KEY_ARGS_END); \
  MPS_END

#define MPS_ARGS_ADD(_var, _key, _val) MPS_ARGS_ADD_FIELD(_var, _key, _key##_FIELD, _val)

/* Deprecated: terminate and forbid further additions. */
#define MPS_ARGS_DONE(_var)                            \
  MPS_BEGIN                                            \
  _mps_args_set_key(_var, _var##_i, MPS_KEY_ARGS_END); \
  _var##_i = MPS_ARGS_MAX;                             \
  MPS_END

#define MPS_ARGS_END(_var) \
  MPS_END;                 \
  MPS_END


/* ---- 1.3 Ranks ------------------------------------------------------- */

extern mps_rank_t mps_rank_ambig(void);
extern mps_rank_t mps_rank_exact(void);
extern mps_rank_t mps_rank_weak(void);


/* ---- 1.7 Deprecated variadic creation functions ---------------------- */

extern mps_res_t mps_arena_create(mps_arena_t *, mps_arena_class_t, ...);
extern mps_res_t mps_arena_create_v(mps_arena_t *, mps_arena_class_t, va_list);
extern mps_res_t mps_pool_create(mps_pool_t *, mps_arena_t, mps_pool_class_t, ...);
extern mps_res_t mps_pool_create_v(mps_pool_t *, mps_arena_t, mps_pool_class_t, va_list);
extern mps_res_t mps_ap_create(mps_ap_t *, mps_pool_t, ...);
extern mps_res_t mps_ap_create_v(mps_ap_t *, mps_pool_t, va_list);


/* ---- 2 Arenas -------------------------------------------------------- */

/* 2.1 (mps_arena_class_vm and mps_arena_vm_growth are in mpsavm.h) */
extern mps_res_t mps_arena_extend(mps_arena_t, mps_addr_t, size_t);

/* 2.2 Lifecycle */
extern mps_res_t mps_arena_create_k(mps_arena_t *, mps_arena_class_t, mps_arg_s[]);
extern void mps_arena_destroy(mps_arena_t);

/* 2.3 States and collection control */
extern void mps_arena_clamp(mps_arena_t);
extern void mps_arena_park(mps_arena_t);
extern void mps_arena_release(mps_arena_t);
extern void mps_arena_postmortem(mps_arena_t);
extern mps_res_t mps_arena_collect(mps_arena_t);
extern mps_res_t mps_arena_start_collect(mps_arena_t);
extern mps_bool_t mps_arena_step(mps_arena_t, double, double);
extern mps_word_t mps_collections(mps_arena_t);

/* Transforms: replace references to old objects by references to new
 * ones throughout the heap, in one full collection of a parked arena. */
extern mps_res_t mps_transform_create(mps_transform_t *, mps_arena_t);
extern mps_res_t mps_transform_add_oldnew(mps_transform_t, mps_addr_t *, mps_addr_t *, size_t);
extern mps_res_t mps_transform_apply(mps_bool_t *, mps_transform_t);
extern void mps_transform_destroy(mps_transform_t);

/* 2.4 Introspection */
extern mps_bool_t mps_arena_has_addr(mps_arena_t, mps_addr_t);
extern mps_bool_t mps_addr_pool(mps_pool_t *, mps_arena_t, mps_addr_t);
extern mps_bool_t mps_addr_fmt(mps_fmt_t *, mps_arena_t, mps_addr_t);
extern mps_res_t mps_addr_object(mps_addr_t *, mps_arena_t, mps_addr_t);
extern mps_bool_t mps_arena_busy(mps_arena_t);

/* 2.5 Memory accounting and limits */
extern size_t mps_arena_reserved(mps_arena_t);
extern size_t mps_arena_committed(mps_arena_t);
extern size_t mps_arena_spare_committed(mps_arena_t);
extern size_t mps_arena_commit_limit(mps_arena_t);
extern mps_res_t mps_arena_commit_limit_set(mps_arena_t, size_t);
extern double mps_arena_spare(mps_arena_t);
extern void mps_arena_spare_set(mps_arena_t, double);
extern size_t mps_arena_spare_commit_limit(mps_arena_t);           /* deprecated */
extern void mps_arena_spare_commit_limit_set(mps_arena_t, size_t); /* deprecated */
extern double mps_arena_pause_time(mps_arena_t);
extern void mps_arena_pause_time_set(mps_arena_t, double);


/* ---- 3.1 Pools ------------------------------------------------------- */

extern mps_res_t mps_pool_create_k(mps_pool_t *, mps_arena_t, mps_pool_class_t, mps_arg_s[]);
extern void mps_pool_destroy(mps_pool_t);
extern size_t mps_pool_total_size(mps_pool_t);
extern size_t mps_pool_free_size(mps_pool_t);
extern mps_res_t mps_alloc(mps_addr_t *, mps_pool_t, size_t);
extern void mps_free(mps_pool_t, mps_addr_t, size_t);
extern void mps_pool_check_fenceposts(mps_pool_t);
extern void mps_pool_check_free_space(mps_pool_t);
extern mps_res_t mps_pool_walk(mps_pool_t, mps_area_scan_t, void *);


/* ---- 4 Allocation points --------------------------------------------- */

/* 4.2 Creation and destruction */
extern mps_res_t mps_ap_create_k(mps_ap_t *, mps_pool_t, mps_arg_s[]);
extern void mps_ap_destroy(mps_ap_t);

/* 4.4 Function forms of the inline macros, and the slow paths */
extern mps_res_t(mps_reserve)(mps_addr_t *, mps_ap_t, size_t);
extern mps_bool_t(mps_commit)(mps_ap_t, mps_addr_t, size_t);
extern mps_res_t mps_ap_fill(mps_addr_t *, mps_ap_t, size_t);
extern mps_bool_t mps_ap_trip(mps_ap_t, mps_addr_t, size_t);

/* 4.5 Allocation frames */
extern mps_res_t(mps_ap_frame_push)(mps_frame_t *, mps_ap_t);
extern mps_res_t(mps_ap_frame_pop)(mps_ap_t, mps_frame_t);

/* 4.6 Allocation patterns */
extern mps_alloc_pattern_t mps_alloc_pattern_ramp(void);
extern mps_alloc_pattern_t mps_alloc_pattern_ramp_collect_all(void);
extern mps_res_t mps_ap_alloc_pattern_begin(mps_ap_t, mps_alloc_pattern_t);
extern mps_res_t mps_ap_alloc_pattern_end(mps_ap_t, mps_alloc_pattern_t);
extern mps_res_t mps_ap_alloc_pattern_reset(mps_ap_t);


/* ---- 4.4 Inline reserve and commit ----------------------------------- */

/* Compiler barrier usable in an expression.  The commit macro needs it
 * between its store to ap->init and its load of ap->limit (spec 4.4).
 * Without GNU C extensions, a call to an opaque external function stands
 * in as the barrier. */
extern void _mps_compiler_barrier(void);

#if defined(__GNUC__)
#define MPS_COMPILER_BARRIER_EXPR_ (__extension__({ __asm__ __volatile__("" : : : "memory"); }))
#else
#define MPS_COMPILER_BARRIER_EXPR_ (_mps_compiler_barrier())
#endif

/* Expression yielding mps_res_t.  Evaluates its arguments more than once.
 * The fast path bumps ap->alloc when the block fits below ap->limit (a
 * trapped AP, limit == 0, never fits); otherwise mps_ap_fill decides. */
#define mps_reserve(_p_o, _mps_ap, _size)                                      \
  ((char *)(_mps_ap)->alloc + (_size) > (char *)(_mps_ap)->alloc &&            \
           (char *)(_mps_ap)->alloc + (_size) <= (char *)(_mps_ap)->limit      \
       ? ((_mps_ap)->alloc = (mps_addr_t)((char *)(_mps_ap)->alloc + (_size)), \
          *(_p_o) = (_mps_ap)->init, MPS_RES_OK)                               \
       : mps_ap_fill(_p_o, _mps_ap, _size))

/* Expression yielding 0 or 1.  Evaluates its arguments more than once.
 * Publishes the block by moving ap->init up to ap->alloc, then (after the
 * barrier) succeeds at once unless the AP is trapped, in which case
 * mps_ap_trip decides whether the block survived a flip. */
#define mps_commit(_mps_ap, _p, _size)                             \
  ((_mps_ap)->init = (_mps_ap)->alloc, MPS_COMPILER_BARRIER_EXPR_, \
   (_mps_ap)->limit != 0 || mps_ap_trip(_mps_ap, _p, _size))

/* Statement form of mps_reserve; _res_v and _p_v are lvalues assigned
 * directly. */
#define MPS_RESERVE_BLOCK(_res_v, _p_v, _mps_ap, _size)                  \
  MPS_BEGIN                                                              \
  char *_mps_alloc = (char *)(_mps_ap)->alloc;                           \
  char *_mps_next = _mps_alloc + (_size);                                \
  if (_mps_next > _mps_alloc && _mps_next <= (char *)(_mps_ap)->limit) { \
    (_mps_ap)->alloc = (mps_addr_t)_mps_next;                            \
    (_p_v) = (_mps_ap)->init;                                            \
    (_res_v) = MPS_RES_OK;                                               \
  } else {                                                               \
    (_res_v) = mps_ap_fill(&(_p_v), _mps_ap, _size);                     \
  }                                                                      \
  MPS_END


/* ---- 5.3 Segregated allocation caches -------------------------------- */

extern mps_res_t mps_sac_create(mps_sac_t *, mps_pool_t, size_t, mps_sac_class_s *);
extern void mps_sac_destroy(mps_sac_t);
extern mps_res_t mps_sac_alloc(mps_addr_t *, mps_sac_t, size_t, mps_bool_t);
extern void mps_sac_free(mps_sac_t, mps_addr_t, size_t);
extern void mps_sac_flush(mps_sac_t);
extern mps_res_t mps_sac_fill(mps_addr_t *, mps_sac_t, size_t, mps_bool_t);
extern void mps_sac_empty(mps_sac_t, mps_addr_t, size_t);


/* ---- 5.4 Inline SAC macros ------------------------------------------- */

/* Find the free-list slot _i serving a request of _s bytes (spec 5.2):
 * sizes above the middle class search the even slots upwards, the others
 * search the odd slots downwards, stopping at the first slot that serves
 * them; the sentinels end both searches for any _s > 0.
 *
 * The first 2 * MPS_SAC_CLASS_LIMIT slots are searched without branches:
 * mps_sac_create pads the even slots after the overlarge sentinel with
 * SIZE_MAX and the odd slots after the smallest class with 0, so the slot
 * reached is the count of the bounds passed.  Random request sizes would
 * otherwise mispredict the loop.  Caches with more classes on one side
 * carry on with the plain search past those slots. */
#define MPS_SAC_BELOW_(_sac, _s, _k)  ((size_t)((_s) > (_sac)->_freelists[_k]._size))
#define MPS_SAC_ATMOST_(_sac, _s, _k) ((size_t)((_s) <= (_sac)->_freelists[_k]._size))
#define MPS_SAC_SEARCH_(_sac, _s, _i)                                               \
  if ((_s) > (_sac)->_middle) {                                                     \
    (_i) = 2 * (MPS_SAC_BELOW_(_sac, _s, 0) + MPS_SAC_BELOW_(_sac, _s, 2) +         \
                MPS_SAC_BELOW_(_sac, _s, 4) + MPS_SAC_BELOW_(_sac, _s, 6) +         \
                MPS_SAC_BELOW_(_sac, _s, 8) + MPS_SAC_BELOW_(_sac, _s, 10) +        \
                MPS_SAC_BELOW_(_sac, _s, 12) + MPS_SAC_BELOW_(_sac, _s, 14));       \
    if ((_i) >= 2 * MPS_SAC_CLASS_LIMIT)                                            \
      while ((_s) > (_sac)->_freelists[_i]._size) (_i) += 2;                        \
  } else {                                                                          \
    (_i) = 1 + 2 * (MPS_SAC_ATMOST_(_sac, _s, 1) + MPS_SAC_ATMOST_(_sac, _s, 3) +   \
                    MPS_SAC_ATMOST_(_sac, _s, 5) + MPS_SAC_ATMOST_(_sac, _s, 7) +   \
                    MPS_SAC_ATMOST_(_sac, _s, 9) + MPS_SAC_ATMOST_(_sac, _s, 11) +  \
                    MPS_SAC_ATMOST_(_sac, _s, 13) + MPS_SAC_ATMOST_(_sac, _s, 15)); \
    if ((_i) >= 2 * MPS_SAC_CLASS_LIMIT)                                            \
      while ((_s) <= (_sac)->_freelists[_i]._size) (_i) += 2;                       \
  }

/* Statement.  _res_o and _p_o are lvalues.  Evaluates its arguments more
 * than once. */
#define MPS_SAC_ALLOC_FAST(_res_o, _p_o, _sac, _size, _unused)  \
  MPS_BEGIN                                                     \
  size_t _mps_s = (_size);                                      \
  size_t _mps_i;                                                \
  MPS_SAC_SEARCH_(_sac, _mps_s, _mps_i)                         \
  if ((_sac)->_freelists[_mps_i]._count != 0) {                 \
    (_p_o) = (_sac)->_freelists[_mps_i]._blocks;                \
    (_sac)->_freelists[_mps_i]._blocks = *(mps_addr_t *)(_p_o); \
    --(_sac)->_freelists[_mps_i]._count;                        \
    (_res_o) = MPS_RES_OK;                                      \
  } else {                                                      \
    (_res_o) = mps_sac_fill(&(_p_o), _sac, _mps_s, _unused);    \
  }                                                             \
  MPS_END

/* Statement.  Evaluates its arguments more than once. */
#define MPS_SAC_FREE_FAST(_sac, _p, _size)                                         \
  MPS_BEGIN                                                                        \
  size_t _mps_s = (_size);                                                         \
  size_t _mps_i;                                                                   \
  MPS_SAC_SEARCH_(_sac, _mps_s, _mps_i)                                            \
  if ((_sac)->_freelists[_mps_i]._count < (_sac)->_freelists[_mps_i]._count_max) { \
    *(mps_addr_t *)(_p) = (_sac)->_freelists[_mps_i]._blocks;                      \
    (_sac)->_freelists[_mps_i]._blocks = (_p);                                     \
    ++(_sac)->_freelists[_mps_i]._count;                                           \
  } else {                                                                         \
    mps_sac_empty(_sac, _p, _mps_s);                                               \
  }                                                                                \
  MPS_END

/* Legacy names. */
#define MPS_SAC_ALLOC(_res_o, _p_o, _sac, _size, _unused) \
  MPS_SAC_ALLOC_FAST(_res_o, _p_o, _sac, _size, _unused)
#define MPS_SAC_FREE(_sac, _p, _size) MPS_SAC_FREE_FAST(_sac, _p, _size)


/* ---- 6 Object formats ------------------------------------------------ */

extern mps_res_t mps_fmt_create_k(mps_fmt_t *, mps_arena_t, mps_arg_s[]);
extern void mps_fmt_destroy(mps_fmt_t);
extern mps_res_t mps_fmt_create_A(mps_fmt_t *, mps_arena_t, mps_fmt_A_s *);
extern mps_res_t mps_fmt_create_B(mps_fmt_t *, mps_arena_t, mps_fmt_B_s *);
extern mps_res_t mps_fmt_create_auto_header(mps_fmt_t *, mps_arena_t, mps_fmt_auto_header_s *);
extern mps_res_t mps_fmt_create_fixed(mps_fmt_t *, mps_arena_t, mps_fmt_fixed_s *);


/* ---- 7 Scanning ------------------------------------------------------ */

extern mps_res_t _mps_fix2(mps_ss_t, mps_addr_t *);

/* The zone test: true when ref lies in a zone that holds white memory.
 * Any word may be given; a true answer may be a false positive. */
#define MPS_SCAN_BEGIN(ss)         \
  MPS_BEGIN                        \
  mps_ss_t _ss = (ss);             \
  mps_word_t _mps_zs = _ss->_zs;   \
  mps_word_t _mps_w = _ss->_w;     \
  mps_word_t _mps_ufs = _ss->_ufs; \
  mps_word_t _mps_wt;              \
  {

#define MPS_FIX1(ss, ref)                                                                     \
  (_mps_wt =                                                                                  \
       (mps_word_t)1 << ((mps_word_t)(ref) >> _mps_zs & (sizeof(mps_word_t) * CHAR_BIT - 1)), \
   _mps_ufs |= _mps_wt, (_mps_w & _mps_wt) != 0)

#define MPS_FIX2(ss, ref_io) _mps_fix2(ss, ref_io)

#define MPS_FIX12(ss, ref_io) (MPS_FIX1(ss, *(ref_io)) ? MPS_FIX2(ss, ref_io) : MPS_RES_OK)

#define MPS_FIX(ss, ref_io) MPS_FIX12(ss, ref_io) /* deprecated */

#define MPS_FIX_CALL(ss, call) \
  MPS_BEGIN(call);             \
  _mps_ufs |= (ss)->_ufs;      \
  MPS_END

#define MPS_SCAN_END(ss) \
  }                      \
  (ss)->_ufs = _mps_ufs; \
  MPS_END

extern mps_res_t mps_scan_area(mps_ss_t, void *, void *, void *);
extern mps_res_t mps_scan_area_masked(mps_ss_t, void *, void *, void *);
extern mps_res_t mps_scan_area_tagged(mps_ss_t, void *, void *, void *);
extern mps_res_t mps_scan_area_tagged_or_zero(mps_ss_t, void *, void *, void *);


/* ---- 8 Roots --------------------------------------------------------- */

extern mps_res_t mps_root_create(mps_root_t *, mps_arena_t, mps_rank_t, mps_rm_t, mps_root_scan_t,
                                 void *, size_t);
extern mps_res_t mps_root_create_area(mps_root_t *, mps_arena_t, mps_rank_t, mps_rm_t, void *,
                                      void *, mps_area_scan_t, void *);
extern mps_res_t mps_root_create_area_tagged(mps_root_t *, mps_arena_t, mps_rank_t, mps_rm_t,
                                             void *, void *, mps_area_scan_t, mps_word_t,
                                             mps_word_t);
extern mps_res_t mps_root_create_table(mps_root_t *, mps_arena_t, mps_rank_t, mps_rm_t,
                                       mps_addr_t *, size_t);
extern mps_res_t mps_root_create_table_masked(mps_root_t *, mps_arena_t, mps_rank_t, mps_rm_t,
                                              mps_addr_t *, size_t, mps_word_t);
extern mps_res_t mps_root_create_fmt(mps_root_t *, mps_arena_t, mps_rank_t, mps_rm_t,
                                     mps_fmt_scan_t, mps_addr_t, mps_addr_t);
extern mps_res_t mps_root_create_thread(mps_root_t *, mps_arena_t, mps_thr_t, void *);
extern mps_res_t mps_root_create_thread_tagged(mps_root_t *, mps_arena_t, mps_rank_t, mps_rm_t,
                                               mps_thr_t, mps_area_scan_t, mps_word_t, mps_word_t,
                                               void *);
extern mps_res_t mps_root_create_thread_scanned(mps_root_t *, mps_arena_t, mps_rank_t, mps_rm_t,
                                                mps_thr_t, mps_area_scan_t, void *, void *);
extern mps_res_t mps_root_create_reg(mps_root_t *, mps_arena_t, mps_rank_t, mps_rm_t, mps_thr_t,
                                     mps_reg_scan_t, void *, size_t); /* deprecated */
extern mps_res_t mps_stack_scan_ambig(mps_ss_t, mps_thr_t, void *, size_t);
extern void mps_root_destroy(mps_root_t);


/* ---- 9 Threads ------------------------------------------------------- */

extern mps_res_t mps_thread_reg(mps_thr_t *, mps_arena_t);
extern void mps_thread_dereg(mps_thr_t);


/* ---- 10 Chains ------------------------------------------------------- */

extern mps_res_t mps_chain_create(mps_chain_t *, mps_arena_t, size_t, mps_gen_param_s *);
extern void mps_chain_destroy(mps_chain_t);


/* ---- 11 Messages ----------------------------------------------------- */

extern void mps_message_type_enable(mps_arena_t, mps_message_type_t);
extern void mps_message_type_disable(mps_arena_t, mps_message_type_t);
extern mps_bool_t mps_message_poll(mps_arena_t);
extern mps_bool_t mps_message_queue_type(mps_message_type_t *, mps_arena_t);
extern mps_bool_t mps_message_get(mps_message_t *, mps_arena_t, mps_message_type_t);
extern void mps_message_discard(mps_arena_t, mps_message_t);
extern mps_message_type_t mps_message_type(mps_arena_t, mps_message_t);
extern mps_clock_t mps_message_clock(mps_arena_t, mps_message_t);
extern void mps_message_finalization_ref(mps_addr_t *, mps_arena_t, mps_message_t);
extern size_t mps_message_gc_live_size(mps_arena_t, mps_message_t);
extern size_t mps_message_gc_condemned_size(mps_arena_t, mps_message_t);
extern size_t mps_message_gc_not_condemned_size(mps_arena_t, mps_message_t);
extern const char *mps_message_gc_start_why(mps_arena_t, mps_message_t);


/* ---- 12 Finalization ------------------------------------------------- */

extern mps_res_t mps_finalize(mps_arena_t, mps_addr_t *);
extern mps_res_t mps_definalize(mps_arena_t, mps_addr_t *);


/* ---- 13 Location dependency ------------------------------------------ */

extern void mps_ld_reset(mps_ld_t, mps_arena_t);
extern void mps_ld_add(mps_ld_t, mps_arena_t, mps_addr_t);
extern void mps_ld_merge(mps_ld_t, mps_arena_t, mps_ld_t);
extern mps_bool_t mps_ld_isstale(mps_ld_t, mps_arena_t, mps_addr_t);
extern mps_bool_t mps_ld_isstale_any(mps_ld_t, mps_arena_t);


/* ---- 14 Walking (mps_pool_walk is with the pools, 3.1) --------------- */

extern void mps_arena_formatted_objects_walk(mps_arena_t, mps_formatted_objects_stepper_t, void *,
                                             size_t);                               /* deprecated */
extern void mps_arena_roots_walk(mps_arena_t, mps_roots_stepper_t, void *, size_t); /* deprecated */


/* ---- 15.1 Telemetry -------------------------------------------------- */

extern void mps_telemetry_set(mps_word_t);
extern void mps_telemetry_reset(mps_word_t);
extern mps_word_t mps_telemetry_get(void);
extern mps_label_t mps_telemetry_intern(const char *);
extern void mps_telemetry_label(mps_addr_t, mps_label_t);
extern void mps_telemetry_flush(void);


#ifdef __cplusplus
}
#endif

#endif /* mps_h */
