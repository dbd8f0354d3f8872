/* message.c -- the message queue and finalization
 * (docs/design/collector-interface.md).
 *
 * Messages live in control memory.  The GC-start and GC messages of the
 * next collection are allocated in advance, so posting them never needs
 * memory (the next pair is allocated after posting; if that fails, the
 * following collection posts none).  Every collection posts its pair:
 * a client that enables the types and never takes the messages lets them
 * accumulate, as with the MPS.
 * Finalization registrations are a list of references in control memory;
 * the trace treats them as a final-rank root: after the exact closure,
 * registrations whose objects are still unpreserved are removed, their
 * objects preserved, and a message holding each (an exact root until it
 * is discarded) is posted -- exactly one per registration.
 * Design: docs/design/trace.md (finalization, messages).
 */
#include "gc.h"

static Res messageNew(Message *msgReturn, Arena arena, mps_message_type_t type)
{
  void *p;
  Message msg;
  Res res = ControlAlloc(&p, arena, sizeof(MessageStruct));
  if (res != RES_OK) return res;
  msg = p;
  msg->type = type;
  RingInit(&msg->queueRing);
  msg->queued = FALSE;
  msg->taken = FALSE;
  msg->sig = MessageSig;
  *msgReturn = msg;
  return RES_OK;
}

static void messageFree(Arena arena, Message msg)
{
  msg->sig = SigInvalid;
  ControlFree(arena, msg, sizeof(MessageStruct));
}

INTERN Res MessagesInit(Arena arena)
{
  GCStruct *gc = arena->gc;
  Res res = messageNew(&gc->gcStart, arena, _mps_MESSAGE_TYPE_GC_START);
  if (res != RES_OK) return res;
  return messageNew(&gc->gcDone, arena, _mps_MESSAGE_TYPE_GC);
}

INTERN void MessagesFinish(Arena arena)
{
  GCStruct *gc = arena->gc;
  Ring node, next;
  RING_FOR(node, &gc->messageQueue, next) {
    Message msg = RING_ELT(MessageStruct, queueRing, node);
    RingRemove(&msg->queueRing);
    messageFree(arena, msg);
  }
  while (gc->finals != NULL) {
    Final f = gc->finals;
    gc->finals = f->next;
    ControlFree(arena, f, sizeof(FinalStruct));
  }
  if (gc->gcStart != NULL) {
    messageFree(arena, gc->gcStart);
    gc->gcStart = NULL;
  }
  if (gc->gcDone != NULL) {
    messageFree(arena, gc->gcDone);
    gc->gcDone = NULL;
  }
}

INTERN void MessagePost(Arena arena, Message msg)
{
  if (msg->type == _mps_MESSAGE_TYPE_FINALIZATION) ++arena->gc->finalMessages;
  msg->queued = TRUE;
  RingAppend(&arena->gc->messageQueue, &msg->queueRing);
}

INTERN Bool MessageTypeEnabled(Arena arena, mps_message_type_t type)
{
  return (arena->gc->enabled >> type) & 1;
}

INTERN void MessagesTraceStart(Arena arena, const char *why)
{
  GCStruct *gc = arena->gc;
  Message msg = gc->gcStart;
  if (!MessageTypeEnabled(arena, _mps_MESSAGE_TYPE_GC_START) || msg == NULL) return;
  msg->why = why;
  msg->clock = mps_clock();
  MessagePost(arena, msg);
  gc->gcStart = NULL;
  (void)messageNew(&gc->gcStart, arena, _mps_MESSAGE_TYPE_GC_START);
}

INTERN void MessagesTraceDone(Arena arena, Size live, Size condemned, Size notCondemned)
{
  GCStruct *gc = arena->gc;
  Message msg = gc->gcDone;
  if (!MessageTypeEnabled(arena, _mps_MESSAGE_TYPE_GC) || msg == NULL) return;
  msg->liveSize = live;
  msg->condemnedSize = condemned;
  msg->notCondemnedSize = notCondemned;
  msg->clock = mps_clock();
  MessagePost(arena, msg);
  gc->gcDone = NULL;
  (void)messageNew(&gc->gcDone, arena, _mps_MESSAGE_TYPE_GC);
}

/* Discard a message the client took (or that a disable dropped). */
INTERN void MessageDiscard(Arena arena, Message msg)
{
  GCStruct *gc = arena->gc;
  if (msg->queued) {
    RingRemove(&msg->queueRing);
    if (msg->type == _mps_MESSAGE_TYPE_FINALIZATION) --gc->finalMessages;
  }
  msg->queued = msg->taken = FALSE;
  if (msg->type == _mps_MESSAGE_TYPE_GC_START && gc->gcStart == NULL) {
    gc->gcStart = msg;
    return;
  }
  if (msg->type == _mps_MESSAGE_TYPE_GC && gc->gcDone == NULL) {
    gc->gcDone = msg;
    return;
  }
  messageFree(arena, msg);
}

/* Finalization messages hold their objects until discarded (those the
 * client took stay on the queue, marked taken): an exact root. */
INTERN Res MessagesScan(Arena arena, ScanState ss)
{
  Ring node, next;
  if (arena->gc->finalMessages == 0) return RES_OK; /* GC messages hold nothing */
  RING_FOR(node, &arena->gc->messageQueue, next) {
    Message msg = RING_ELT(MessageStruct, queueRing, node);
    if (msg->type == _mps_MESSAGE_TYPE_FINALIZATION) {
      Res res = mps_scan_area(&ss->ss, &msg->ref, &msg->ref + 1, NULL);
      if (res != RES_OK) return res;
    }
  }
  return RES_OK;
}

/* ---- registrations -------------------------------------------------- */

INTERN Res FinalRegister(Arena arena, Addr ref)
{
  void *p;
  Final f;
  Res res = ControlAlloc(&p, arena, sizeof(FinalStruct));
  if (res != RES_OK) return res;
  f = p;
  f->ref = ref;
  f->next = arena->gc->finals;
  arena->gc->finals = f;
  return RES_OK;
}

INTERN Res FinalDeregister(Arena arena, Addr ref)
{
  Final *link;
  for (link = &arena->gc->finals; *link != NULL; link = &(*link)->next) {
    if ((*link)->ref == ref) {
      Final f = *link;
      *link = f->next;
      ControlFree(arena, f, sizeof(FinalStruct));
      return RES_OK;
    }
  }
  return RES_FAIL;
}

/* The final rank: decide first which registered objects are unpreserved
 * (a block registered twice yields two messages), then preserve them and
 * post the messages; registrations of preserved objects follow moves. */
INTERN Res FinalsProcess(Arena arena, ScanState ss)
{
  GCStruct *gc = arena->gc;
  Final *link, f;
  Final dead = NULL;
  Bool enabled = MessageTypeEnabled(arena, _mps_MESSAGE_TYPE_FINALIZATION);

  link = &gc->finals;
  while ((f = *link) != NULL) {
    Addr now;
    if (TraceIsPreserved(arena, f->ref, &now)) {
      f->ref = now;
      link = &f->next;
    } else {
      *link = f->next;
      f->next = dead;
      dead = f;
    }
  }
  ss->rank = RANK_FINAL;
  while ((f = dead) != NULL) {
    Message msg;
    dead = f->next;
    if (enabled && messageNew(&msg, arena, _mps_MESSAGE_TYPE_FINALIZATION) == RES_OK) {
      Res res;
      msg->ref = f->ref;
      msg->clock = 0;
      res = mps_scan_area(&ss->ss, &msg->ref, &msg->ref + 1, NULL);
      if (res != RES_OK) return res;
      MessagePost(arena, msg);
    }
    ControlFree(arena, f, sizeof(FinalStruct));
  }
  return RES_OK;
}

/* A collected pool is being destroyed: nothing in it is finalized
 * (collector-interface.md).  Its registrations go, queued messages for its objects are
 * discarded, and taken ones forget their object. */
INTERN void FinalsForgetPool(Arena arena, Pool pool)
{
  GCStruct *gc = arena->gc;
  Final *link = &gc->finals, f;
  Ring node, next;
  Seg seg;
  while ((f = *link) != NULL) {
    if (ArenaSegOf(&seg, arena, f->ref) && seg->pool == pool) {
      *link = f->next;
      ControlFree(arena, f, sizeof(FinalStruct));
    } else {
      link = &f->next;
    }
  }
  RING_FOR(node, &gc->messageQueue, next) {
    Message msg = RING_ELT(MessageStruct, queueRing, node);
    if (msg->type != _mps_MESSAGE_TYPE_FINALIZATION || msg->ref == NULL) continue;
    if (!ArenaSegOf(&seg, arena, msg->ref) || seg->pool != pool) continue;
    if (msg->taken)
      msg->ref = NULL;
    else
      MessageDiscard(arena, msg);
  }
}
