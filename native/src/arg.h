/* arg.h -- taking keyword arguments out of a client's mps_arg_s array.
 * A key that is used is removed from the array (interface.md §Keyword arguments): later
 * entries shift down, so unused keys are what remains.  Design:
 * docs/design/interface.md.
 */
#ifndef GCP_ARG_H
#define GCP_ARG_H

#include "core.h"

/* If `key` is in args, copy its entry to *argReturn, remove it, and
 * return TRUE. */
INTERN Bool ArgPick(ArgStruct *argReturn, ArgList args, mps_key_t key);
INTERN Count ArgCount(ArgList args);

#endif /* GCP_ARG_H */
