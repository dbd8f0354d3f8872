/* fmt.c -- object formats (docs/design/collector-interface.md): the client's methods for scanning,
 * sizing, forwarding and padding its objects, plus alignment and in-band
 * header size.  Pools that need a method check for it when they are
 * created, so a format may leave out what its pools never call.
 * Design: docs/design/trace.md (formats).
 */
#include "gc.h"
#include "arg.h"

static mps_addr_t fmtClassFirstWord(mps_addr_t addr) { return *(mps_addr_t *)addr; }

INTERN Res FormatCreate(Format *fmtReturn, Arena arena, ArgList args)
{
  ArgStruct arg;
  Format fmt;
  void *p;
  Res res;
  Size align = PF_ALIGN, header = 0;

  if (ArgPick(&arg, args, MPS_KEY_FMT_ALIGN)) align = arg.val.align;
  if (!SizeIsP2(align) || align > arena->grainSize)
    return MISUSE(
        "mps_fmt_create_k: MPS_KEY_FMT_ALIGN %zu is not a power of two up to the grain size",
        align);
  if (align < sizeof(Word)) align = sizeof(Word);
  if (ArgPick(&arg, args, MPS_KEY_FMT_HEADER_SIZE)) header = arg.val.size;
  if (header > 1024 || (header & (sizeof(Word) - 1)) != 0)
    return MISUSE(
        "mps_fmt_create_k: MPS_KEY_FMT_HEADER_SIZE %zu is not a small multiple of the word size",
        header);
  res = ControlAlloc(&p, arena, sizeof(FormatStruct));
  if (res != RES_OK) return res;
  fmt = p;
  fmt->arena = arena;
  fmt->alignment = align;
  fmt->headerSize = header;
  fmt->scan = ArgPick(&arg, args, MPS_KEY_FMT_SCAN) ? arg.val.fmt_scan : NULL;
  fmt->skip = ArgPick(&arg, args, MPS_KEY_FMT_SKIP) ? arg.val.fmt_skip : NULL;
  fmt->fwd = ArgPick(&arg, args, MPS_KEY_FMT_FWD) ? arg.val.fmt_fwd : NULL;
  fmt->isfwd = ArgPick(&arg, args, MPS_KEY_FMT_ISFWD) ? arg.val.fmt_isfwd : NULL;
  fmt->pad = ArgPick(&arg, args, MPS_KEY_FMT_PAD) ? arg.val.fmt_pad : NULL;
  fmt->klass = ArgPick(&arg, args, MPS_KEY_FMT_CLASS) ? arg.val.fmt_class : fmtClassFirstWord;
  fmt->poolCount = 0;
  RingInit(&fmt->arenaRing);
  RingAppend(&arena->gc->formatRing, &fmt->arenaRing);
  fmt->sig = FormatSig;
  *fmtReturn = fmt;
  return RES_OK;
}

INTERN void FormatDestroy(Format fmt)
{
  Arena arena = fmt->arena;
  RingRemove(&fmt->arenaRing);
  fmt->sig = SigInvalid;
  ControlFree(arena, fmt, sizeof(FormatStruct));
}

/* Client scan methods run with the scan state's summary reset; the
 * summary of the scanned objects is the zones of every reference they
 * presented (_ufs) and of every new address a fix stored (ss->fixed). */
INTERN Res FormatScan(ScanState ss, Format fmt, Addr base, Addr limit, Word *summaryReturn)
{
  Res res;
  ss->ss._ufs = 0;
  ss->fixed = 0;
  res = fmt->scan(&ss->ss, base, limit);
  if (summaryReturn != NULL) *summaryReturn = res == RES_OK ? ss->ss._ufs | ss->fixed : ~(Word)0;
  return res;
}
