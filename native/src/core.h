/* core.h -- basic types, varieties and small utilities of the native core.
 *
 * Every core source file includes this (through its module's header)
 * before any other header.  The core is built as one translation unit
 * (mps.c, which defines GCP_UNITY_BUILD), so internal functions are
 * declared INTERN (file-static) and never leak out of the library or the
 * Python extension.  A file compiled on its own (tests/test_package.py
 * checks that each one does) sees them as ordinary external functions,
 * declared by the headers.  Design: docs/design/core.md.
 */
#ifndef GCP_CORE_H
#define GCP_CORE_H

/* The core uses GNU and POSIX interfaces (mmap flags, syscall, signal
 * contexts): this must come before the first system header. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <limits.h>

#include "mps.h"
#include "mpslib.h"

/* Varieties.  COOL: every check including consistency walks.  HOT (the
 * default): cheap checks, none on allocation fast paths.  RASH: none. */
#if defined(CONFIG_VAR_COOL)
#define CHECK_LEVEL  2
#define VARIETY_NAME "cool"
#elif defined(CONFIG_VAR_RASH)
#define CHECK_LEVEL  0
#define VARIETY_NAME "rash"
#else
#define CHECK_LEVEL  1
#define VARIETY_NAME "hot"
#endif

#ifdef GCP_UNITY_BUILD
#define INTERN static __attribute__((unused))
#else
#define INTERN __attribute__((unused))
#endif
/* A variable that files of a module share (zero-initialized): declared
 * INTERN_DATA in the module's header and again in the file that owns it.
 * In the unity build these are tentative definitions of a file-static
 * variable; compiled alone, declarations of an external one. */
#ifdef GCP_UNITY_BUILD
#define INTERN_DATA static
#else
#define INTERN_DATA extern
#endif
#define INLINE   static inline __attribute__((unused))
#define NOINLINE __attribute__((noinline))
/* For the functions that scan memory conservatively (stacks, registers
 * saved in signal frames, areas): they read words that are not allocated
 * objects (AddressSanitizer) and memory that threads outside the stop may
 * be writing meanwhile, such as an unregistered thread storing into
 * another thread's stack frame (ThreadSanitizer).  A stale or torn word
 * read there is harmless: it can only keep something alive. */
#define CONSERVATIVE_READS __attribute__((no_sanitize("address", "thread")))
#define LIKELY(e)          __builtin_expect(!!(e), 1)
#define UNLIKELY(e)        __builtin_expect(!!(e), 0)

typedef uintptr_t Word;
typedef unsigned char *Addr;
typedef size_t Size;
typedef size_t Index;
typedef size_t Count;
typedef unsigned Shift;
typedef int Bool;
typedef int Res;
typedef unsigned long Sig;

enum { FALSE = 0, TRUE = 1 };

#define RES_OK           MPS_RES_OK
#define RES_FAIL         MPS_RES_FAIL
#define RES_RESOURCE     MPS_RES_RESOURCE
#define RES_MEMORY       MPS_RES_MEMORY
#define RES_LIMIT        MPS_RES_LIMIT
#define RES_UNIMPL       MPS_RES_UNIMPL
#define RES_COMMIT_LIMIT MPS_RES_COMMIT_LIMIT
#define RES_PARAM        MPS_RES_PARAM

#define WORD_WIDTH (sizeof(Word) * CHAR_BIT)
#define WORD_SHIFT 6
#define PF_ALIGN   ((Size)8)
/* No block or arena may be larger than this (64 TiB): requests beyond it
 * fail with MPS_RES_RESOURCE before any size arithmetic can overflow. */
#define SIZE_LIMIT ((Size)1 << 46)

#define AddrAdd(a, s)    ((Addr)(a) + (s))
#define AddrSub(a, s)    ((Addr)(a) - (s))
#define AddrOffset(b, l) ((Size)((Addr)(l) - (Addr)(b)))
#define AddrWord(a)      ((Word)(a))

INLINE Bool SizeIsP2(Size s) { return s != 0 && (s & (s - 1)) == 0; }
INLINE Size SizeAlignUp(Size s, Size a) { return (s + a - 1) & ~(a - 1); }
INLINE Size SizeAlignDown(Size s, Size a) { return s & ~(a - 1); }
INLINE Addr AddrAlignUp(Addr p, Size a) { return (Addr)(((Word)p + a - 1) & ~(Word)(a - 1)); }
INLINE Addr AddrAlignDown(Addr p, Size a) { return (Addr)((Word)p & ~(Word)(a - 1)); }
INLINE Bool AddrIsAligned(Addr p, Size a) { return ((Word)p & (a - 1)) == 0; }
INLINE Shift SizeLog2(Size s) { return (Shift)__builtin_ctzl((unsigned long)s); }
INLINE Bool SizeAddOverflows(Size a, Size b) { return a > SIZE_MAX - b; }

#define PointerAdd(p, s)       ((void *)((char *)(p) + (s)))
#define PARENT(type, field, p) ((type *)(void *)((char *)(p)-offsetof(type, field)))
#define NELEMS(a)              (sizeof(a) / sizeof((a)[0]))
#define UNUSED(x)              ((void)(x))

typedef struct mps_arena_s ArenaStruct, *Arena;
typedef struct mps_pool_s PoolStruct, *Pool;
typedef struct mps_pool_class_s PoolClassStruct, *PoolClass;
typedef struct SegStruct SegStruct, *Seg;
typedef struct ChunkStruct ChunkStruct, *Chunk;
typedef struct BufferStruct BufferStruct, *Buffer;
typedef struct mps_arg_s ArgStruct, *ArgList;

#endif /* GCP_CORE_H */
