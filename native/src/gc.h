/* gc.h -- the collector's structures: formats, chains and generations,
 * roots, threads, messages, finalization registrations, the trace and its
 * scan state.  One collection (a "trace") runs at a time per arena, with
 * the arena lock held and every registered thread stopped, from condemn
 * to reclaim.  Parts of the heap that are not condemned are scanned as
 * roots, except old segments that the write barrier shows unchanged and
 * unable to refer to the white set (docs/design/barrier.md,
 * platform/prot_linux.c).
 *
 * Invariants (checked by TraceCheck and the pools' consistency checks):
 *   - outside a trace no segment is white, grey or nailed, the grey stack
 *     is empty and every attached buffer is untrapped or trapped only by
 *     a flip (buffer.h);
 *   - during a trace the white zone set covers every white segment, and
 *     nothing outside white segments is ever moved or reclaimed;
 *   - a registered finalization names an object that was allocated in a
 *     collected pool of the arena and has not yet been finalized for it.
 * Design: docs/design/trace.md.
 */
#ifndef GCP_GC_H
#define GCP_GC_H

#include "pool.h"
#include "buffer.h"

/* Zones: an address's zone is (addr >> ZONE_SHIFT) mod 64. */
#define ZONE_SHIFT ARENA_ZONE_SHIFT
INLINE Word ZoneOf(Addr a) { return (Word)1 << (((Word)a >> ZONE_SHIFT) & (WORD_WIDTH - 1)); }
INLINE Word ZoneSetOfRange(Addr base, Addr limit)
{
  Word first = (Word)base >> ZONE_SHIFT, last = ((Word)limit - 1) >> ZONE_SHIFT;
  Word set = 0;
  if (last - first >= WORD_WIDTH - 1) return ~(Word)0;
  for (; first <= last; ++first) set |= (Word)1 << (first & (WORD_WIDTH - 1));
  return set;
}

/* ---- formats (fmt.c) ----------------------------------------------- */

typedef struct mps_fmt_s {
  Sig sig;
  Arena arena;
  RingStruct arenaRing;
  Size alignment;
  Size headerSize;
  mps_fmt_scan_t scan;
  mps_fmt_skip_t skip;
  mps_fmt_fwd_t fwd;
  mps_fmt_isfwd_t isfwd;
  mps_fmt_pad_t pad;
  mps_fmt_class_t klass;
  Count poolCount; /* pools using it */
} FormatStruct, *Format;

#define FormatSig ((Sig)0x519F0A4AUL)

/* ---- chains and generations (chain.c) ------------------------------ */

typedef struct GenStruct {
  Size capacity;    /* bytes, as the client gave it */
  Size trigger;     /* new size that triggers a collection */
  double mortality; /* moving average of the dead fraction */
  Size newSize;     /* allocated or promoted in since last condemned */
  Size size;        /* bytes of segments currently in this generation */
  Bool condemned;   /* in the current trace */
} GenStruct, *Gen;

typedef struct mps_chain_s {
  Sig sig;
  Arena arena;
  RingStruct arenaRing;
  Count genCount;
  GenStruct *gens; /* genCount entries */
  Count poolCount;
} ChainStruct, *Chain;

#define ChainSig ((Sig)0x519C4A14UL)

/* ---- roots (root.c) ------------------------------------------------ */

enum { ROOT_FUN, ROOT_AREA, ROOT_FMT, ROOT_THREAD };

typedef struct mps_thr_s ThreadStruct, *Thread;

typedef struct mps_root_s {
  Sig sig;
  Arena arena;
  RingStruct arenaRing;
  mps_rank_t rank;
  mps_rm_t mode;
  int kind;
  Addr base, limit;         /* AREA, FMT, THREAD (limit = cold end) */
  mps_area_scan_t areaScan; /* AREA, THREAD */
  void *closure;            /* AREA, THREAD */
  mps_scan_tag_s tag;       /* closure of the tagged variants */
  mps_root_scan_t funScan;  /* FUN */
  void *p;
  size_t s;               /* FUN */
  mps_fmt_scan_t fmtScan; /* FMT */
  Thread thread;          /* THREAD */
} RootStruct, *Root;

#define RootSig ((Sig)0x519A0075UL)

/* ---- threads (thread.c) -------------------------------------------- */

#define THREAD_REGS 32

struct mps_thr_s {
  Sig sig;
  Arena arena;
  RingStruct arenaRing;
  int tid;                 /* kernel thread id */
  RingStruct registryRing; /* in the process-wide list (thread_linux.c) */
  volatile int exited;     /* the thread ended without deregistering */
  volatile int suspended;  /* set by the signal handler */
  Thread stoppedAs;        /* during a stop: the descriptor whose handler
                               * holds this thread's context (itself, or an
                               * earlier registration of the same thread) */
  Addr sp;                 /* stack pointer when suspended */
  Word regs[THREAD_REGS];  /* integer registers when suspended */
  Count nregs;
  Addr vecBase; /* vector/FP registers when suspended: the */
  Size vecSize; /*   state the kernel saved in the signal frame */
  Addr cold;    /* anonymous threads: the end of their stack */
};

#define ThreadSig ((Sig)0x519DEAD5UL)

/* ---- messages and finalization (message.c) ------------------------- */

enum { MESSAGE_TYPES = 3 };

typedef struct mps_message_s {
  Sig sig;
  RingStruct queueRing;
  mps_message_type_t type;
  mps_clock_t clock;
  Addr ref;                                       /* FINALIZATION: the object (an exact root) */
  Size liveSize, condemnedSize, notCondemnedSize; /* GC */
  const char *why;                                /* GC_START */
  Bool queued;                                    /* on the arena's queue */
  Bool taken;                                     /* got by the client, not yet discarded */
} MessageStruct, *Message;

#define MessageSig ((Sig)0x5193E55AUL)

typedef struct FinalStruct {
  struct FinalStruct *next;
  Addr ref;
} FinalStruct, *Final;

/* ---- location dependency history (ld.c) ----------------------------- */

#define LD_HISTORY 16

/* ---- the trace (trace.c) ------------------------------------------- */

/* mps_arena_roots_walk: report references instead of fixing them. */
typedef struct RootsWalkStruct {
  mps_roots_stepper_t f;
  Root root;
  void *p;
  size_t s;
} RootsWalkStruct, *RootsWalk;

typedef struct ScanStateStruct {
  struct mps_ss_s ss; /* first: mps_ss_t converts by a cast */
  Sig sig;
  Arena arena;
  mps_rank_t rank;
  RootsWalk rootsWalk;               /* non-NULL only in mps_arena_roots_walk */
  Word fixed;                        /* zones of the new addresses fixes stored */
  Bool nailOnly;                     /* ambiguous heap pre-pass: nail, preserve nothing */
  struct mps_transform_s *transform; /* being applied (transform.c), or NULL */
} ScanStateStruct, *ScanState;

#define ScanStateSig     ((Sig)0x5195C455UL)
#define ScanStateOf(mss) ((ScanState)(void *)(mss))

typedef struct TraceStruct {
  Bool busy;
  Word white;   /* zones of white segments */
  Word moved;   /* zones from which objects moved */
  Bool mayMove; /* a moving pool condemned something */
  Size condemned, notCondemned, preserved, copied;
  Addr *grey; /* stack of objects (client pointers) to scan */
  Count greyTop, greyMax;
  Bool emergency; /* out of memory: pin instead of copying */
  const char *why;
} TraceStruct, *Trace;

typedef struct mps_transform_s *Transform; /* transform.c */

/* Everything the collector keeps per arena (arena->gc). */
struct GCStruct {
  RingStruct formatRing, chainRing, rootRing, threadRing;
  Chain defaultChain;
  GenStruct topGen; /* survivors of every chain's last generation */
  TraceStruct trace;
  /* Messages. */
  unsigned enabled; /* bit per message type */
  RingStruct messageQueue;
  Count finalMessages;     /* finalization messages on the queue */
  Message gcStart, gcDone; /* preallocated for the next collection */
  Final finals;            /* registrations */
  /* Location dependency: moved-zone history indexed by epoch. */
  Word history[LD_HISTORY];
  Bool fullWanted; /* a ramp-collect-all ended: collect everything next */
  /* Every thread of the process counts as registered (thread_linux.c). */
  Bool allThreads;
  Thread *anon;                       /* descriptors of the unregistered ones: */
  Count anonCount, anonMade, anonMax; /* in use, allocated, table size */
  Addr selfCold;                      /* the end of the collecting thread's stack */
  Count unstoppable;                  /* threads that could not be stopped, ever */
  Count collections;                  /* collections so far (mps_collections) */
  Transform transform;                /* being applied by the current collection */
  Bool barrier;                       /* protect old segments (prot_linux.c) */
  Bool barrierInUse;                  /* registered with the barrier's handler */
};

/* Collector entry points used by the rest of the core. */
INTERN Res GCInit(Arena arena);
INTERN void GCFinish(Arena arena);
INTERN void ScanStateInit(ScanState ss, Arena arena, Word white, unsigned rank);
INTERN Res TraceCollect(Arena arena, Bool full, const char *why);
INTERN Bool TracePoll(Arena arena);
INTERN Bool TraceGreyPush(Arena arena, Addr client);
/* Is the white object at ref preserved so far?  If it moved, *newReturn
 * receives its new address. */
INTERN Bool TraceIsPreserved(Arena arena, Addr ref, Addr *newReturn);
/* Transforms (transform.c). */
INTERN Res TransformCreate(Transform *tReturn, Arena arena);
INTERN void TransformDestroy(Transform t);
INTERN Bool TransformCheck(Transform t);
INTERN Arena TransformArena(Transform t);
INTERN Res TransformAdd(Transform t, Addr *oldArray, Addr *newArray, Count count);
INTERN Res TransformApply(Bool *appliedReturn, Transform t);
INTERN Bool TransformReplace(ScanState ss, Addr *refIO);
INTERN Res RootsScan(Arena arena, ScanState ss, mps_rank_t rank);
INTERN Res RootScanOne(ScanState ss, Root root);
INTERN void RootsWalkReport(ScanState ss, Addr *refIO);
INTERN Res ThreadScan(ScanState ss, Thread thr, Addr cold, mps_area_scan_t scan, void *closure);
INTERN int ThreadSuspendSignal(void);
INTERN void ProtArenaUse(Arena arena, Bool use);
INTERN void ProtRefresh(void);
INTERN void ProtSet(Seg seg, Bool readOnly);
INTERN Bool ProtMustScan(Seg seg, Word white);
/* Threads (platform/thread_linux.c). */
INTERN Res ThreadRegister(Thread *thrReturn, Arena arena);
INTERN void ThreadDeregister(Thread thr);
INTERN Res ThreadsSuspend(Arena arena);
INTERN Res ThreadsScanAnonymous(Arena arena, ScanState ss);
/* ThreadsScanAnonymous with another area scanner (the leak finder's). */
INTERN Res ThreadsScanAnonymousWith(Arena arena, ScanState ss, mps_area_scan_t scan, void *closure);
INTERN void ThreadsResume(Arena arena);
/* Roots (root.c). */
INTERN Res RootCreate(Root *rootReturn, Arena arena, const RootStruct *model);
INTERN void RootDestroy(Root root);
/* Chains (chain.c). */
INTERN Res ChainCreate(Chain *chainReturn, Arena arena, Count genCount,
                       const mps_gen_param_s *params);
INTERN Res ChainCreateDefault(Arena arena);
INTERN void ChainDestroy(Chain chain);
/* Mark the generations the next trace condemns (TRUE if any), and after
 * the trace let them count again. */
INTERN Bool ChainCondemn(Arena arena, Bool full, const char **whyReturn);
INTERN void ChainTraceDone(Arena arena, Size condemned, Size live);
/* Note `size` bytes of new segments in a generation; `counted` adds them
 * to its new size (not for hash arrays). */
INTERN void ChainNoteAlloc(Chain chain, Index gen, Size size, Bool counted);
INTERN Gen ChainGen(Arena arena, Chain chain, Index gen);
/* The zones a generation's segments are placed in (chain.c). */
INTERN Word ChainGenZones(Chain chain, Index gen);
INTERN Bool ChainCondemnWanted(Arena arena, const char **whyReturn);
/* Messages and finalization (message.c). */
INTERN Res MessagesInit(Arena arena);
INTERN void MessagesFinish(Arena arena);
INTERN Bool MessageTypeEnabled(Arena arena, mps_message_type_t type);
INTERN void MessagesTraceStart(Arena arena, const char *why);
INTERN void MessagesTraceDone(Arena arena, Size live, Size condemned, Size notCondemned);
INTERN Res FinalRegister(Arena arena, Addr ref);
INTERN Res FinalDeregister(Arena arena, Addr ref);
INTERN Res MessagesScan(Arena arena, ScanState ss);
INTERN void MessagePost(Arena arena, Message msg);
INTERN Res FinalsProcess(Arena arena, ScanState ss);
INTERN void FinalsForgetPool(Arena arena, Pool pool);
INTERN void MessageDiscard(Arena arena, Message msg);
INTERN void LDNoteMoved(Arena arena, Word zones);
INTERN Res FormatCreate(Format *fmtReturn, Arena arena, ArgList args);
INTERN void FormatDestroy(Format fmt);

/* Scan [base, limit) of formatted objects with the format's scan method,
 * recording the summary in *summaryReturn (if not NULL). */
INTERN Res FormatScan(ScanState ss, Format fmt, Addr base, Addr limit, Word *summaryReturn);

#endif /* GCP_GC_H */
