/* test_registers.c -- a reference held only in a callee-saved register
 * across a collection keeps its object alive and pinned.
 *
 * For each callee-saved register (rbx, rbp, r12-r15 on x86-64; x19-x28 and
 * x29 on aarch64; other architectures are skipped with a message), hand-
 * written assembly (one function per register) calls makeTarget, which
 * allocates an AMC object in a pool of its own through an allocation point
 * it then destroys and registers the object for finalization; keeps the
 * returned pointer, inverted, in a global while it calls scrub, which zeroes
 * 64 KiB of the stack below (where makeTarget and the MPS ran), so that no
 * callee ever sees the pointer in a register it might save; then moves it
 * into the register; clears every caller-saved integer register; and then
 *   (a) calls mps_arena_collect itself: the collecting thread holds the
 *       pointer, so the collector must spill its own registers (without
 *       glibc setjmp, which mangles rbp) -- unless a function of the MPS
 *       between here and the spill saved that register on the stack, which
 *       this case cannot prevent; or
 *   (b) spins in a loop that stores nothing while the main thread collects:
 *       the collector must stop this registered thread with a signal and scan
 *       its saved register context.
 * Held: no finalization message for the object, which is intact at its
 * original address (pinned).  Control (the register cleared before the
 * collection): the finalization message arrives, with the object intact,
 * and once the message is discarded a collection reclaims it -- proof that
 * nothing but the register kept it alive.
 * Vector registers (x86-64: a lane of xmm8, of ymm9's upper half, of zmm8's
 * upper half, of zmm17, skipped where the processor lacks AVX/AVX-512F;
 * AArch64: the upper halves of v8 and v17) are tested in case (b) only:
 * they are caller-saved, so only a thread stopped asynchronously can be
 * holding a reference in one.  AArch64's d8 (callee-saved) is tested in
 * both cases.
 * Built by tests/test_native_programs.py with gcc and clang at -O2 and at
 * -O3 -fomit-frame-pointer.  Usage: test_registers [seed].
 * Design: docs/design/collector-interface.md, threads.md.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "mps.h"
#include "mpsavm.h"
#include "mpscamc.h"
#include "../testlib.h"

#define NOINLINE    __attribute__((noinline))
#define HIDDEN      __attribute__((visibility("hidden"), used))
#define WORD        ((size_t)sizeof(mps_word_t))
#define OBJ_WORDS   8
#define SCRUB_BYTES ((size_t)64 << 10)

/* ---- what the assembly uses ------------------------------------------------------- */

HIDDEN void *(*treg_make)(void);
HIDDEN void (*treg_scrub)(void);
HIDDEN mps_res_t (*treg_collect)(mps_arena_t);
HIDDEN mps_arena_t treg_arena;
HIDDEN int treg_clear, treg_ready, treg_stop;
HIDDEN uintptr_t treg_hidden; /* ~pointer while scrub runs */

#if defined(__x86_64__) && defined(__linux__)
#define ARCH "x86-64"
#define CLEAR_SCRATCH                                                          \
  "xor %eax, %eax\n\txor %ecx, %ecx\n\txor %edx, %edx\n\txor %esi, %esi\n\t"   \
  "xor %edi, %edi\n\txor %r8d, %r8d\n\txor %r9d, %r9d\n\txor %r10d, %r10d\n\t" \
  "xor %r11d, %r11d\n\t"
/* Entry: rsp = 8 mod 16; after the push every call is aligned. */
#define PROLOGUE(name, reg)                                                     \
  ".pushsection .text\n\t.p2align 4\n\t.globl " name "\n\t.hidden " name "\n\t" \
  ".type " name ", @function\n" name ":\n\t"                                    \
  "push %" reg "\n\t"                                                           \
  "call *treg_make(%rip)\n\t"                                                   \
  "not %rax\n\t"                                                                \
  "mov %rax, treg_hidden(%rip)\n\t"                                             \
  "xor %eax, %eax\n\t"                                                          \
  "call *treg_scrub(%rip)\n\t"                                                  \
  "mov treg_hidden(%rip), %" reg "\n\t"                                         \
  "not %" reg "\n\t"                                                            \
  "movq $0, treg_hidden(%rip)\n\t"                                              \
  "cmpl $0, treg_clear(%rip)\n\t"                                               \
  "je 1f\n\t"                                                                   \
  "xor %" reg ", %" reg "\n"                                                    \
  "1:\n\t" CLEAR_SCRATCH
#define EPILOGUE(name, reg) \
  "mov %" reg ", %rax\n\t"  \
  "pop %" reg "\n\t"        \
  "ret\n\t.size " name ", .-" name "\n\t.popsection\n"
#define HOLD(reg)                                        \
  __asm__(PROLOGUE("treg_hold_" reg,                     \
                   reg) "mov treg_arena(%rip), %rdi\n\t" \
                        "call *treg_collect(%rip)\n\t" EPILOGUE("treg_hold_" reg, reg));
#define SPIN(reg)                                                                        \
  __asm__(PROLOGUE("treg_spin_" reg,                                                     \
                   reg) "movl $1, treg_ready(%rip)\n"                                    \
                        "2:\n\tpause\n\tcmpl $0, treg_stop(%rip)\n\tje 2b\n\t" EPILOGUE( \
                            "treg_spin_" reg, reg));
#define REGS(X) X(rbx) X(rbp) X(r12) X(r13) X(r14) X(r15)

/* Vector registers: caller-saved, so they never hold a reference across a
 * call into the collector, but a thread stopped asynchronously may be
 * caught with one only there -- glibc's memcpy moves runs of words through
 * xmm/ymm/zmm registers, loading all of them before it stores any.  The
 * kernel saves them in the signal frame below the red zone, outside the
 * scanned stack.  Each case puts the pointer into one 64-bit lane through a
 * zeroed 64-byte buffer on the stack (cleared again at once), spins, and
 * reads it back the same way. */
#define VSPIN(name, load, store, lane)                                                           \
  __asm__(".pushsection .text\n\t.p2align 4\n\t.globl " name "\n\t.hidden " name "\n\t"          \
          ".type " name ", @function\n" name ":\n\t"                                             \
          "push %rbx\n\t"                                                                        \
          "sub $64, %rsp\n\t"                                                                    \
          "call *treg_make(%rip)\n\t"                                                            \
          "not %rax\n\t"                                                                         \
          "mov %rax, treg_hidden(%rip)\n\t"                                                      \
          "xor %eax, %eax\n\t"                                                                   \
          "call *treg_scrub(%rip)\n\t"                                                           \
          "movq $0, 0(%rsp)\n\tmovq $0, 8(%rsp)\n\tmovq $0, 16(%rsp)\n\tmovq $0, 24(%rsp)\n\t"   \
          "movq $0, 32(%rsp)\n\tmovq $0, 40(%rsp)\n\tmovq $0, 48(%rsp)\n\tmovq $0, 56(%rsp)\n\t" \
          "mov treg_hidden(%rip), %rax\n\t"                                                      \
          "not %rax\n\t"                                                                         \
          "movq $0, treg_hidden(%rip)\n\t"                                                       \
          "cmpl $0, treg_clear(%rip)\n\t"                                                        \
          "je 1f\n\t"                                                                            \
          "xor %eax, %eax\n"                                                                     \
          "1:\n\t"                                                                               \
          "mov %rax, " #lane "*8(%rsp)\n\t" load "\n\t"                                          \
          "movq $0, " #lane "*8(%rsp)\n\t" CLEAR_SCRATCH "movl $1, treg_ready(%rip)\n"           \
          "2:\n\tpause\n\tcmpl $0, treg_stop(%rip)\n\tje 2b\n\t" store "\n\t"                    \
          "mov " #lane "*8(%rsp), %rax\n\t"                                                      \
          "add $64, %rsp\n\t"                                                                    \
          "pop %rbx\n\t"                                                                         \
          "ret\n\t.size " name ", .-" name "\n\t.popsection\n");
VSPIN("treg_vspin_xmm8", "movdqu (%rsp), %xmm8", "movdqu %xmm8, (%rsp)", 1)
VSPIN("treg_vspin_ymm9", "vmovdqu (%rsp), %ymm9", "vmovdqu %ymm9, (%rsp)\n\tvzeroupper", 3)
VSPIN("treg_vspin_zmm8", "vmovdqu64 (%rsp), %zmm8", "vmovdqu64 %zmm8, (%rsp)\n\tvzeroupper", 6)
VSPIN("treg_vspin_zmm17", "vmovdqu64 (%rsp), %zmm17", "vmovdqu64 %zmm17, (%rsp)\n\tvzeroupper", 4)
void *treg_vspin_xmm8(void);
void *treg_vspin_ymm9(void);
void *treg_vspin_zmm8(void);
void *treg_vspin_zmm17(void);
static int cpuHas(int level)
{
  __builtin_cpu_init();
  return level == 0   ? 1
         : level == 1 ? __builtin_cpu_supports("avx")
                      : __builtin_cpu_supports("avx512f");
}
#define VREGS(X)  X(xmm8, 0) X(ymm9, 1) X(zmm8, 2) X(zmm17, 2)
#define VHOLDS(X) /* no callee-saved vector registers on x86-64 */

#elif defined(__aarch64__) && defined(__linux__)
#define ARCH           "aarch64"
#define LOAD(reg, sym) "adrp " reg ", " sym "\n\tldr " reg ", [" reg ", #:lo12:" sym "]\n\t"
#define CLEAR_SCRATCH                                                                \
  "mov x0, xzr\n\tmov x1, xzr\n\tmov x2, xzr\n\tmov x3, xzr\n\tmov x4, xzr\n\t"      \
  "mov x5, xzr\n\tmov x6, xzr\n\tmov x7, xzr\n\tmov x8, xzr\n\tmov x9, xzr\n\t"      \
  "mov x10, xzr\n\tmov x11, xzr\n\tmov x12, xzr\n\tmov x13, xzr\n\tmov x14, xzr\n\t" \
  "mov x15, xzr\n\tmov x16, xzr\n\tmov x17, xzr\n\t"
#define PROLOGUE(name, reg)                                                                  \
  ".pushsection .text\n\t.p2align 2\n\t.globl " name "\n\t.hidden " name "\n\t"              \
  ".type " name ", %function\n" name ":\n\t"                                                 \
  "stp x29, x30, [sp, #-32]!\n\t"                                                            \
  "str " reg ", [sp, #16]\n\t" LOAD(                                                         \
      "x16", "treg_make") "blr x16\n\t"                                                      \
                          "mvn x0, x0\n\t"                                                   \
                          "adrp x16, treg_hidden\n\tstr x0, [x16, #:lo12:treg_hidden]\n\t"   \
                          "mov x0, xzr\n\t" LOAD(                                            \
                              "x16", "treg_scrub") "blr x16\n\t"                             \
                                                   "adrp x16, treg_hidden\n\tldr " reg       \
                                                   ", [x16, #:lo12:treg_hidden]\n\t"         \
                                                   "str xzr, [x16, #:lo12:treg_hidden]\n\t"  \
                                                   "mvn " reg ", " reg "\n\t"                \
                                                   "adrp x16, treg_clear\n\tldr w16, [x16, " \
                                                   "#:lo12:treg_clear]\n\t"                  \
                                                   "cbz w16, 1f\n\t"                         \
                                                   "mov " reg ", xzr\n"                      \
                                                   "1:\n\t" CLEAR_SCRATCH
#define EPILOGUE(name, reg)     \
  "mov x0, " reg "\n\t"         \
  "ldr " reg ", [sp, #16]\n\t"  \
  "ldp x29, x30, [sp], #32\n\t" \
  "ret\n\t.size " name ", .-" name "\n\t.popsection\n"
#define HOLD(reg)                                                  \
  __asm__(PROLOGUE("treg_hold_" reg, reg) LOAD("x0", "treg_arena") \
              LOAD("x16", "treg_collect") "blr x16\n\t" EPILOGUE("treg_hold_" reg, reg));
#define SPIN(reg)                                                                                \
  __asm__(                                                                                       \
      PROLOGUE("treg_spin_" reg,                                                                 \
               reg) "mov w16, #1\n\tadrp x17, treg_ready\n\tstr w16, [x17, #:lo12:treg_ready]\n" \
                    "2:\n\tyield\n\tadrp x17, treg_stop\n\tldr w16, [x17, #:lo12:treg_stop]\n\t" \
                    "cbz w16, 2b\n\t" EPILOGUE("treg_spin_" reg, reg));
#define REGS(X) X(x19) X(x20) X(x21) X(x22) X(x23) X(x24) X(x25) X(x26) X(x27) X(x28) X(x29)
/* Vector registers: v0-v31 are caller-saved except the low halves of
 * v8-v15 (d8-d15), which a function may keep a value in across calls: d8
 * is tested in the collecting thread too (the collector spills d8-d15).
 * The pointer goes in with fmov/ins from x0 and comes back the same way;
 * d8 and d9 are the caller's and are saved around. */
#define VPROLOGUE(name, put)                                                                 \
  ".pushsection .text\n\t.p2align 2\n\t.globl " name "\n\t.hidden " name "\n\t"              \
  ".type " name ", %function\n" name ":\n\t"                                                 \
  "stp x29, x30, [sp, #-48]!\n\t"                                                            \
  "stp d8, d9, [sp, #16]\n\t" LOAD(                                                          \
      "x16", "treg_make") "blr x16\n\t"                                                      \
                          "mvn x0, x0\n\t"                                                   \
                          "adrp x16, treg_hidden\n\tstr x0, [x16, #:lo12:treg_hidden]\n\t"   \
                          "mov x0, xzr\n\t" LOAD(                                            \
                              "x16", "treg_scrub") "blr x16\n\t"                             \
                                                   "movi v8.2d, #0\n\tmovi v17.2d, #0\n\t"   \
                                                   "adrp x16, treg_hidden\n\tldr x0, [x16, " \
                                                   "#:lo12:treg_hidden]\n\t"                 \
                                                   "str xzr, [x16, #:lo12:treg_hidden]\n\t"  \
                                                   "mvn x0, x0\n\t"                          \
                                                   "adrp x16, treg_clear\n\tldr w16, [x16, " \
                                                   "#:lo12:treg_clear]\n\t"                  \
                                                   "cbz w16, 1f\n\t"                         \
                                                   "mov x0, xzr\n"                           \
                                                   "1:\n\t" put "\n\t" CLEAR_SCRATCH
#define VEPILOGUE(name, get)        \
  get "\n\t"                        \
      "ldp d8, d9, [sp, #16]\n\t"   \
      "ldp x29, x30, [sp], #48\n\t" \
      "ret\n\t.size " name ", .-" name "\n\t.popsection\n"
#define VHOLD(name, put, get)                           \
  __asm__(VPROLOGUE(name, put) LOAD("x0", "treg_arena") \
              LOAD("x16", "treg_collect") "blr x16\n\t" VEPILOGUE(name, get));
#define VSPIN(name, put, get)                                                                 \
  __asm__(VPROLOGUE(                                                                          \
      name, put) "mov w16, #1\n\tadrp x17, treg_ready\n\tstr w16, [x17, #:lo12:treg_ready]\n" \
                 "2:\n\tyield\n\tadrp x17, treg_stop\n\tldr w16, [x17, #:lo12:treg_stop]\n\t" \
                 "cbz w16, 2b\n\t" VEPILOGUE(name, get));
VHOLD("treg_vhold_d8", "fmov d8, x0", "fmov x0, d8")
VSPIN("treg_vspin_d8", "fmov d8, x0", "fmov x0, d8")
VSPIN("treg_vspin_v8hi", "ins v8.d[1], x0", "umov x0, v8.d[1]")
VSPIN("treg_vspin_v17hi", "ins v17.d[1], x0", "umov x0, v17.d[1]")
void *treg_vhold_d8(void);
void *treg_vspin_d8(void);
void *treg_vspin_v8hi(void);
void *treg_vspin_v17hi(void);
#define VHOLDS(X) X(d8)
#define VREGS(X)  X(v8hi, 0) X(v17hi, 0)
static int cpuHas(int level) { return level == 0; }
#endif

#ifdef ARCH
#define DEFINE(r)                              \
  HOLD(#r) SPIN(#r) void *treg_hold_##r(void); \
  void *treg_spin_##r(void);
REGS(DEFINE)
#define ENTRY(r)         { #r, treg_hold_##r, treg_spin_##r, 0 },
#define VENTRY(r, level) { #r, NULL, treg_vspin_##r, level },
#define VHENTRY(r)       { #r, treg_vhold_##r, treg_vspin_##r, 0 },
/* hold is NULL for vector registers (only a stopped thread can hold one);
 * level: 0 always there, 1 needs AVX, 2 needs AVX-512F */
static const struct {
  const char *name;
  void *(*hold)(void), *(*spin)(void);
  int level;
} regs[] = { REGS(ENTRY) VHOLDS(VHENTRY) VREGS(VENTRY) };
#define NREGS (sizeof regs / sizeof regs[0])
#endif

/* ---- the objects -------------------------------------------------------------------- */

static mps_arena_t arena;
static mps_fmt_t fmt;
static mps_pool_t casePool; /* a fresh pool for each case */
static mps_word_t targetId = 1000;
static uintptr_t targetInv; /* ~address: no copy of the pointer in memory */

static mps_word_t dataWord(mps_word_t id, size_t k) { return id * 77777 + k * 3; }

static mps_addr_t fmtSkip(mps_addr_t p)
{
  mps_word_t tag = *(mps_word_t *)p;
  return (char *)p + ((tag & 7) == 4 ? WORD : (size_t)(tag & ~(mps_word_t)7));
}
static mps_addr_t fmtIsfwd(mps_addr_t p)
{
  mps_word_t *w = p;
  return (w[0] & 7) == 3 ? (mps_addr_t)w[1] : NULL;
}
static void fmtFwd(mps_addr_t old, mps_addr_t newp)
{
  mps_word_t *w = old;
  w[0] = (w[0] & ~(mps_word_t)7) | 3; /* objects are never one word */
  w[1] = (mps_word_t)newp;
}
static void fmtPad(mps_addr_t p, size_t size)
{
  *(mps_word_t *)p = size == WORD ? 4 : ((mps_word_t)size | 2);
}
static mps_res_t fmtScan(mps_ss_t ss, mps_addr_t base, mps_addr_t limit)
{
  (void)ss;
  (void)base;
  (void)limit; /* no references */
  return MPS_RES_OK;
}

static int intact(mps_word_t *w, mps_word_t id)
{
  size_t k;
  if (w[0] != ((OBJ_WORDS * WORD) | 1) || w[1] != id) return 0;
  for (k = 2; k < OBJ_WORDS; ++k)
    if (w[k] != dataWord(id, k)) return 0;
  return 1;
}

/* Called from the assembly: a new object, registered for finalization,
 * allocated through an allocation point that no longer exists afterwards. */
static NOINLINE void *makeTarget(void)
{
  mps_ap_t ap;
  mps_addr_t p, ref;
  size_t size = OBJ_WORDS * WORD, k;
  REQUIRE(mps_ap_create_k(&ap, casePool, mps_args_none) == MPS_RES_OK);
  do {
    mps_word_t *w;
    REQUIRE(mps_reserve(&p, ap, size) == MPS_RES_OK);
    w = p;
    w[0] = (mps_word_t)size | 1;
    w[1] = targetId;
    for (k = 2; k < OBJ_WORDS; ++k) w[k] = dataWord(targetId, k);
  } while (!mps_commit(ap, p, size));
  ref = p;
  REQUIRE(mps_finalize(arena, &ref) == MPS_RES_OK);
  mps_ap_destroy(ap);
  targetInv = ~(uintptr_t)p;
  return p;
}

/* Zeroes the stack below the caller, where makeTarget and the MPS ran. */
static NOINLINE void scrub(void)
{
  char buf[SCRUB_BYTES];
  memset(buf, 0, sizeof buf);
  __asm__ __volatile__("" : : "r"(buf) : "memory");
}

/* ---- checks ----------------------------------------------------------------------------- */

static unsigned long walkFound;
static mps_addr_t walkAt;

static mps_res_t walkArea(mps_ss_t ss, void *base, void *limit, void *closure)
{
  char *p = base;
  (void)ss;
  (void)closure;
  while (p < (char *)limit) {
    mps_word_t *w = (mps_word_t *)p;
    if ((w[0] & 7) == 1 && w[1] == targetId) {
      ++walkFound;
      walkAt = p;
    }
    p = fmtSkip(p);
  }
  return MPS_RES_OK;
}

/* How many objects with the current id the case's pool holds (parked). */
static unsigned long countTarget(void)
{
  walkFound = 0;
  walkAt = NULL;
  CHECK(mps_pool_walk(casePool, walkArea, NULL) == MPS_RES_OK);
  return walkFound;
}

/* Takes every queued finalization message; counts those for the current
 * target, which must be intact.  Not inlined: the caller scrubs the stack
 * afterwards, so that no copy of the reference outlives the message. */
static NOINLINE unsigned drainFinal(void)
{
  mps_message_t m;
  unsigned found = 0;
  while (mps_message_get(&m, arena, mps_message_type_finalization())) {
    mps_addr_t ref;
    mps_message_finalization_ref(&ref, arena, m);
    if (((mps_word_t *)ref)[1] == targetId) {
      CHECK(intact(ref, targetId));
      ++found;
    }
    mps_message_discard(arena, m);
  }
  return found;
}

#ifdef ARCH
static void *(*spinFn)(void);
static uintptr_t spinResultInv;

static void *spinner(void *arg)
{
  void *marker = NULL; /* the cold end */
  mps_thr_t thr;
  mps_root_t root;
  (void)arg;
  REQUIRE(mps_thread_reg(&thr, arena) == MPS_RES_OK);
  REQUIRE(mps_root_create_thread(&root, arena, thr, &marker) == MPS_RES_OK);
  spinResultInv = ~(uintptr_t)spinFn();
  mps_root_destroy(root);
  mps_thread_dereg(thr);
  *(void *volatile *)&marker = NULL;
  return NULL;
}

/* One case: register r, held by the collecting thread or by another one,
 * or (control) cleared before the collection. */
static void runCase(unsigned r, int otherThread, int control)
{
  const char *who = otherThread ? "another thread" : "the collecting thread";
  mps_word_t *got;
  unsigned fins, more;
  int ok;
  ++targetId;
  MPS_ARGS_BEGIN(args)
  {
    MPS_ARGS_ADD(args, MPS_KEY_FORMAT, fmt);
    REQUIRE(mps_pool_create_k(&casePool, arena, mps_class_amc(), args) == MPS_RES_OK);
  }
  MPS_ARGS_END(args);
  treg_clear = control;
  if (!otherThread) {
    got = regs[r].hold(); /* collects inside */
    fins = drainFinal();
  } else {
    pthread_t t;
    struct timespec pause = { 0, 200000 };
    __atomic_store_n(&treg_ready, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&treg_stop, 0, __ATOMIC_SEQ_CST);
    spinFn = regs[r].spin;
    REQUIRE(pthread_create(&t, NULL, spinner, NULL) == 0);
    while (!__atomic_load_n(&treg_ready, __ATOMIC_SEQ_CST)) nanosleep(&pause, NULL);
    CHECK(mps_arena_collect(arena) == MPS_RES_OK);
    fins = drainFinal();
    if (!control) { /* still spinning: pinned, intact */
      CHECK(countTarget() == 1);
      CHECK(walkAt == (mps_addr_t)~targetInv);
    }
    __atomic_store_n(&treg_stop, 1, __ATOMIC_SEQ_CST);
    REQUIRE(pthread_join(t, NULL) == 0);
    got = (mps_word_t *)~spinResultInv;
  }
  if (!control) {
    ok = got == (mps_word_t *)~targetInv && intact(got, targetId) && fins == 0 &&
         countTarget() == 1 && walkAt == (mps_addr_t)got;
    printf("%-5s held by %s: %s (finalization messages %u, address %s)\n", regs[r].name, who,
           ok ? "kept, pinned" : "LOST", fins,
           got == (mps_word_t *)~targetInv ? "unchanged" : "changed");
    CHECK(got == (mps_word_t *)~targetInv);
    CHECK(fins == 0);
    CHECK(ok);
  } else {
    for (more = 0; fins == 0 && more < 2; ++more) {
      CHECK(mps_arena_collect(arena) == MPS_RES_OK);
      fins += drainFinal();
    }
    CHECK(got == NULL);
    scrub();
    CHECK(mps_arena_collect(arena) == MPS_RES_OK); /* message discarded */
    fins += drainFinal();
    ok = fins == 1 && countTarget() == 0;
    printf("%-5s cleared (control, %s): %s (finalization messages %u)\n", regs[r].name, who,
           ok ? "reclaimed" : "NOT RECLAIMED", fins);
    CHECK(fins == 1);
    CHECK(countTarget() == 0);
  }
  /* casePool stays until the end: its objects may still be registered */
}
#endif

int main(int argc, char **argv)
{
  testSeed(argc, argv);
#ifndef ARCH
  printf("skipped: no register test for this architecture\n");
  return testFinish();
#else
  {
    void *marker = NULL; /* the cold end */
    mps_thr_t thr;
    mps_root_t root;
    mps_pool_t pools[4 * sizeof regs / sizeof regs[0]];
    unsigned order[sizeof regs / sizeof regs[0]], i, n = 0, c;
    REQUIRE(mps_arena_create_k(&arena, mps_arena_class_vm(), mps_args_none) == MPS_RES_OK);
    REQUIRE(mps_thread_reg(&thr, arena) == MPS_RES_OK);
    REQUIRE(mps_root_create_thread(&root, arena, thr, &marker) == MPS_RES_OK);
    MPS_ARGS_BEGIN(args)
    {
      MPS_ARGS_ADD(args, MPS_KEY_FMT_SCAN, fmtScan);
      MPS_ARGS_ADD(args, MPS_KEY_FMT_SKIP, fmtSkip);
      MPS_ARGS_ADD(args, MPS_KEY_FMT_FWD, fmtFwd);
      MPS_ARGS_ADD(args, MPS_KEY_FMT_ISFWD, fmtIsfwd);
      MPS_ARGS_ADD(args, MPS_KEY_FMT_PAD, fmtPad);
      REQUIRE(mps_fmt_create_k(&fmt, arena, args) == MPS_RES_OK);
    }
    MPS_ARGS_END(args);
    mps_message_type_enable(arena, mps_message_type_finalization());
    mps_arena_park(arena);
    treg_make = makeTarget;
    treg_scrub = scrub;
    treg_collect = mps_arena_collect;
    treg_arena = arena;
    printf("%s\n", ARCH);
    for (i = 0; i < NREGS; ++i) order[i] = i;
    for (i = NREGS - 1; i > 0; --i) { /* a random order */
      unsigned j = (unsigned)(rnd() % (i + 1)), t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    for (i = 0; i < NREGS; ++i) {
      if (!cpuHas(regs[order[i]].level)) {
        printf("%-5s skipped: this processor does not have it\n", regs[order[i]].name);
        continue;
      }
      for (c = regs[order[i]].hold != NULL ? 0 : 2; c < 4; ++c) {
        runCase(order[i], c >= 2, c % 2);
        pools[n++] = casePool;
      }
    }
    mps_message_type_disable(arena, mps_message_type_finalization());
    mps_arena_park(arena);
    mps_root_destroy(root);
    for (i = 0; i < n; ++i) mps_pool_destroy(pools[i]);
    mps_fmt_destroy(fmt);
    mps_thread_dereg(thr);
    mps_arena_destroy(arena);
    *(void *volatile *)&marker = NULL;
    return testFinish();
  }
#endif
}
