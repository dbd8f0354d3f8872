/* arg.c -- keyword argument lists.  Design: docs/design/interface.md. */
#include "arg.h"

INTERN Count ArgCount(ArgList args)
{
  Count n = 0;
  while (args[n].key != MPS_KEY_ARGS_END) ++n;
  return n;
}

INTERN Bool ArgPick(ArgStruct *argReturn, ArgList args, mps_key_t key)
{
  Index i;
  for (i = 0; args[i].key != MPS_KEY_ARGS_END; ++i) {
    if (args[i].key == key) {
      *argReturn = args[i];
      do {
        args[i] = args[i + 1];
        ++i;
      } while (args[i - 1].key != MPS_KEY_ARGS_END);
      return TRUE;
    }
  }
  return FALSE;
}
