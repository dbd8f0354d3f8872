/* mpstd.h -- platform detection
 *
 * Works out the operating system, processor and toolchain from the
 * compiler's predefined macros and describes the platform's word and
 * alignment.  Stops compilation on any platform it does not know.  Not
 * included by mps.h.  Design notes are in
 * docs/design/interface.md §Platform macros.
 *
 * For the detected platform it defines:
 *   MPS_PF_<CODE>   (empty) and MPS_PF_STRING, the six-letter code:
 *                   OS (2 letters) + processor (2) + toolchain (2)
 *   MPS_OS_<xx>     FR FreeBSD, LI Linux, W3 Windows, XC macOS
 *   MPS_ARCH_<xx>   A6 ARM64, I3 IA-32, I6 x86-64
 *   MPS_BUILD_<xx>  GC GCC, LL Clang, MV Microsoft Visual C, PC Pelles C
 *   MPS_T_WORD      unsigned integer type as wide as a pointer
 *   MPS_T_ULONGEST  widest unsigned integer type
 *   MPS_WORD_WIDTH  bits in MPS_T_WORD;  MPS_WORD_SHIFT  its log2
 *   MPS_PF_ALIGN    natural alignment (default format and pool alignment)
 *
 * Clang also defines __GNUC__, so it is tested for first.
 */

#ifndef mpstd_h
#define mpstd_h


/* ---- Linux ----------------------------------------------------------- */

#if defined(__linux__) && (defined(__x86_64__) || defined(__x86_64)) && defined(__GNUC__) && \
    defined(__clang__)
#define MPS_PF_LII6LL
#define MPS_PF_STRING "lii6ll"
#define MPS_OS_LI
#define MPS_ARCH_I6
#define MPS_BUILD_LL
#define MPS_T_WORD     unsigned long
#define MPS_T_ULONGEST unsigned long
#define MPS_WORD_WIDTH 64
#define MPS_WORD_SHIFT 6
#define MPS_PF_ALIGN   8

#elif defined(__linux__) && (defined(__x86_64__) || defined(__x86_64)) && defined(__GNUC__)
#define MPS_PF_LII6GC
#define MPS_PF_STRING "lii6gc"
#define MPS_OS_LI
#define MPS_ARCH_I6
#define MPS_BUILD_GC
#define MPS_T_WORD     unsigned long
#define MPS_T_ULONGEST unsigned long
#define MPS_WORD_WIDTH 64
#define MPS_WORD_SHIFT 6
#define MPS_PF_ALIGN   8

#elif defined(__linux__) && defined(__aarch64__) && defined(__GNUC__) && defined(__clang__)
#define MPS_PF_LIA6LL
#define MPS_PF_STRING "lia6ll"
#define MPS_OS_LI
#define MPS_ARCH_A6
#define MPS_BUILD_LL
#define MPS_T_WORD     unsigned long
#define MPS_T_ULONGEST unsigned long
#define MPS_WORD_WIDTH 64
#define MPS_WORD_SHIFT 6
#define MPS_PF_ALIGN   8

#elif defined(__linux__) && defined(__aarch64__) && defined(__GNUC__)
#define MPS_PF_LIA6GC
#define MPS_PF_STRING "lia6gc"
#define MPS_OS_LI
#define MPS_ARCH_A6
#define MPS_BUILD_GC
#define MPS_T_WORD     unsigned long
#define MPS_T_ULONGEST unsigned long
#define MPS_WORD_WIDTH 64
#define MPS_WORD_SHIFT 6
#define MPS_PF_ALIGN   8

#elif defined(__linux__) && defined(__i386__) && defined(__GNUC__) && !defined(__clang__)
#define MPS_PF_LII3GC
#define MPS_PF_STRING "lii3gc"
#define MPS_OS_LI
#define MPS_ARCH_I3
#define MPS_BUILD_GC
#define MPS_T_WORD     unsigned long
#define MPS_T_ULONGEST unsigned long
#define MPS_WORD_WIDTH 32
#define MPS_WORD_SHIFT 5
#define MPS_PF_ALIGN   4


/* ---- FreeBSD --------------------------------------------------------- */

#elif defined(__FreeBSD__) && defined(__x86_64__) && defined(__GNUC__) && defined(__clang__)
#define MPS_PF_FRI6LL
#define MPS_PF_STRING "fri6ll"
#define MPS_OS_FR
#define MPS_ARCH_I6
#define MPS_BUILD_LL
#define MPS_T_WORD     unsigned long
#define MPS_T_ULONGEST unsigned long
#define MPS_WORD_WIDTH 64
#define MPS_WORD_SHIFT 6
#define MPS_PF_ALIGN   8

#elif defined(__FreeBSD__) && defined(__x86_64__) && defined(__GNUC__)
#define MPS_PF_FRI6GC
#define MPS_PF_STRING "fri6gc"
#define MPS_OS_FR
#define MPS_ARCH_I6
#define MPS_BUILD_GC
#define MPS_T_WORD     unsigned long
#define MPS_T_ULONGEST unsigned long
#define MPS_WORD_WIDTH 64
#define MPS_WORD_SHIFT 6
#define MPS_PF_ALIGN   8

#elif defined(__FreeBSD__) && defined(__i386__) && defined(__GNUC__) && defined(__clang__)
#define MPS_PF_FRI3LL
#define MPS_PF_STRING "fri3ll"
#define MPS_OS_FR
#define MPS_ARCH_I3
#define MPS_BUILD_LL
#define MPS_T_WORD     unsigned long
#define MPS_T_ULONGEST unsigned long
#define MPS_WORD_WIDTH 32
#define MPS_WORD_SHIFT 5
#define MPS_PF_ALIGN   4

#elif defined(__FreeBSD__) && defined(__i386__) && defined(__GNUC__)
#define MPS_PF_FRI3GC
#define MPS_PF_STRING "fri3gc"
#define MPS_OS_FR
#define MPS_ARCH_I3
#define MPS_BUILD_GC
#define MPS_T_WORD     unsigned long
#define MPS_T_ULONGEST unsigned long
#define MPS_WORD_WIDTH 32
#define MPS_WORD_SHIFT 5
#define MPS_PF_ALIGN   4


/* ---- macOS ----------------------------------------------------------- */

#elif defined(__APPLE__) && defined(__MACH__) && (defined(__arm64__) || defined(__aarch64__)) && \
    defined(__clang__)
#define MPS_PF_XCA6LL
#define MPS_PF_STRING "xca6ll"
#define MPS_OS_XC
#define MPS_ARCH_A6
#define MPS_BUILD_LL
#define MPS_T_WORD     unsigned long
#define MPS_T_ULONGEST unsigned long
#define MPS_WORD_WIDTH 64
#define MPS_WORD_SHIFT 6
#define MPS_PF_ALIGN   8

#elif defined(__APPLE__) && defined(__MACH__) && defined(__x86_64__) && defined(__clang__)
#define MPS_PF_XCI6LL
#define MPS_PF_STRING "xci6ll"
#define MPS_OS_XC
#define MPS_ARCH_I6
#define MPS_BUILD_LL
#define MPS_T_WORD     unsigned long
#define MPS_T_ULONGEST unsigned long
#define MPS_WORD_WIDTH 64
#define MPS_WORD_SHIFT 6
#define MPS_PF_ALIGN   8

#elif defined(__APPLE__) && defined(__MACH__) && defined(__x86_64__) && defined(__GNUC__)
#define MPS_PF_XCI6GC
#define MPS_PF_STRING "xci6gc"
#define MPS_OS_XC
#define MPS_ARCH_I6
#define MPS_BUILD_GC
#define MPS_T_WORD     unsigned long
#define MPS_T_ULONGEST unsigned long
#define MPS_WORD_WIDTH 64
#define MPS_WORD_SHIFT 6
#define MPS_PF_ALIGN   8

#elif defined(__APPLE__) && defined(__MACH__) && defined(__i386__) && defined(__clang__)
#define MPS_PF_XCI3LL
#define MPS_PF_STRING "xci3ll"
#define MPS_OS_XC
#define MPS_ARCH_I3
#define MPS_BUILD_LL
#define MPS_T_WORD     unsigned long
#define MPS_T_ULONGEST unsigned long
#define MPS_WORD_WIDTH 32
#define MPS_WORD_SHIFT 5
#define MPS_PF_ALIGN   4

#elif defined(__APPLE__) && defined(__MACH__) && defined(__i386__) && defined(__GNUC__)
#define MPS_PF_XCI3GC
#define MPS_PF_STRING "xci3gc"
#define MPS_OS_XC
#define MPS_ARCH_I3
#define MPS_BUILD_GC
#define MPS_T_WORD     unsigned long
#define MPS_T_ULONGEST unsigned long
#define MPS_WORD_WIDTH 32
#define MPS_WORD_SHIFT 5
#define MPS_PF_ALIGN   4


/* ---- Windows --------------------------------------------------------- */

#elif defined(_MSC_VER) && defined(_WIN32) && defined(_WIN64) && defined(_M_X64)
#define MPS_PF_W3I6MV
#define MPS_PF_STRING "w3i6mv"
#define MPS_OS_W3
#define MPS_ARCH_I6
#define MPS_BUILD_MV
#define MPS_T_WORD     unsigned __int64
#define MPS_T_ULONGEST unsigned __int64
#define MPS_WORD_WIDTH 64
#define MPS_WORD_SHIFT 6
#define MPS_PF_ALIGN   16

#elif defined(_MSC_VER) && defined(_WIN32) && defined(_M_IX86)
#define MPS_PF_W3I3MV
#define MPS_PF_STRING "w3i3mv"
#define MPS_OS_W3
#define MPS_ARCH_I3
#define MPS_BUILD_MV
#define MPS_T_WORD     unsigned long
#define MPS_T_ULONGEST unsigned long
#define MPS_WORD_WIDTH 32
#define MPS_WORD_SHIFT 5
#define MPS_PF_ALIGN   8

#elif defined(__POCC__) && defined(_WIN32) && defined(_WIN64) && \
    (defined(_M_X64) || defined(_M_AMD64))
#define MPS_PF_W3I6PC
#define MPS_PF_STRING "w3i6pc"
#define MPS_OS_W3
#define MPS_ARCH_I6
#define MPS_BUILD_PC
#define MPS_T_WORD     unsigned __int64
#define MPS_T_ULONGEST unsigned __int64
#define MPS_WORD_WIDTH 64
#define MPS_WORD_SHIFT 6
#define MPS_PF_ALIGN   16

#elif defined(__POCC__) && defined(_WIN32) && defined(_M_IX86)
#define MPS_PF_W3I3PC
#define MPS_PF_STRING "w3i3pc"
#define MPS_OS_W3
#define MPS_ARCH_I3
#define MPS_BUILD_PC
#define MPS_T_WORD     unsigned long
#define MPS_T_ULONGEST unsigned long
#define MPS_WORD_WIDTH 32
#define MPS_WORD_SHIFT 5
#define MPS_PF_ALIGN   8


#else
#error "mpstd.h: unknown platform (operating system, processor or compiler)"
#endif


#endif /* mpstd_h */
