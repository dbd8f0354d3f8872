/* mps.c -- the native core as one translation unit.  Building the core
 * from this file alone lets every internal function be file-static, so
 * nothing but the interface is visible from the library or from the
 * Python extension that compiles it.  Design: docs/design/core.md.
 */
#define GCP_UNITY_BUILD 1 /* INTERN functions are file-static (core.h) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* before any system header: mmap flags */
#endif
#include "check.c"
#include "bt.c"
#include "arg.c"
#include "mpsarg.c"
#include "platform/vm_posix.c"
#include "arena.c"
#include "control.c"
#include "seg.c"
#include "pool.c"
#include "cbs.c"
#include "pending.c"
#include "buffer.c"
#include "fmt.c"
#include "chain.c"
#include "root.c"
#include "platform/thread_linux.c"
#include "platform/prot_linux.c"
#include "message.c"
#include "ld.c"
#include "trace.c"
#include "transform.c"
#include "sac.c"
#include "poolmfs.c"
#include "poolmvt.c"
#include "poolmvff.c"
#include "poolmvffdbg.c"
#include "segfit_cache.c"
#include "segfit_alloc.c"
#include "segfit_free.c"
#include "poolsegfit.c"
#include "poolamc.c"
#include "poolms.c"
#include "poollo.c"
#include "poolsnc.c"
#include "poolams.c"
#include "poolawl.c"
#include "mpsi.c"
#include "mpsiap.c"
#include "mpsigc.c"
#include "mpsliban.c"
