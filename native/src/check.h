/* check.h -- the checking layer: signatures, assertions and misuse reports.
 *
 * AVER states an internal invariant; AVER_CRITICAL one on a hot path (cool
 * variety only); NOTREACHED marks code that runs only if one failed.  A
 * failed invariant goes to the plinth's assertion handler, which by
 * default aborts.  CHECKS compares a structure's signature word.  MISUSE is
 * for client errors the core detects (foreign pointer, double free, bad
 * argument): it reaches the misuse handler (gcp_ext.h; the assertion
 * handler if none is installed) with a message naming the problem and
 * yields MPS_RES_PARAM so that the caller can back out
 * without touching anything; it is reported in every variety because the
 * detection is structural and costs nothing extra.  Design: docs/design/checking.md.
 */
#ifndef GCP_CHECK_H
#define GCP_CHECK_H

#include "core.h"

INTERN void CheckFail(const char *file, unsigned line, const char *cond);
INTERN Res MisuseReport(const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define MISUSE(...) MisuseReport(__FILE__, __LINE__, __VA_ARGS__)

/* A destroy or deregistration entry point starts with DESTROY_BEGIN and
 * reports a refusal (something still depends on the object, which stays
 * alive) with REFUSE, a MISUSE that gcp_destroy_refused (gcp_ext.h) tells
 * apart from the others: after those the object is gone (a handle that
 * was not live, or damage found while destroying). */
INTERN void DestroyBegin(void);
INTERN Res RefuseReport(const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define DESTROY_BEGIN() DestroyBegin()
#define REFUSE(...)     RefuseReport(__FILE__, __LINE__, __VA_ARGS__)

#if CHECK_LEVEL >= 1
#define AVER(cond)      (LIKELY(cond) ? (void)0 : CheckFail(__FILE__, __LINE__, #cond))
#define CHECKS(type, p) ((p) != NULL && (p)->sig == type##Sig)
#else
#define AVER(cond)      ((void)0)
#define CHECKS(type, p) ((p) != NULL)
#endif

/* A place control never reaches while the invariants hold (what follows
 * it is the recovery a variety without checks takes). */
#define NOTREACHED AVER(!"not reached")

#if CHECK_LEVEL >= 2
#define AVER_CRITICAL(cond) AVER(cond)
#else
#define AVER_CRITICAL(cond) ((void)0)
#endif

/* Signatures: distinctive words written at init and cleared at finish. */
#define ArenaSig     ((Sig)0x519A7E4AUL)
#define ChunkSig     ((Sig)0x519C4C2BUL)
#define PoolSig      ((Sig)0x519B0011UL)
#define PoolClassSig ((Sig)0x519C1A55UL)
#define SegSig       ((Sig)0x5195E9AAUL)
#define BufferSig    ((Sig)0x519B0FFEUL)
#define SACSig       ((Sig)0x5195AC00UL)
#define CBSSig       ((Sig)0x519CB599UL)
#define SigInvalid   ((Sig)0x51915BADUL)

#endif /* GCP_CHECK_H */
