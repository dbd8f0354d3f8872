/* keys.h -- the contents of a keyword-argument key (internal)
 *
 * The public headers leave struct mps_key_s incomplete: clients only use
 * the addresses of the key objects.  Inside the core each key carries a
 * signature and its printable name, for checking and for messages about
 * missing or malformed arguments.  Implements docs/design/interface.md
 * §Keyword arguments.
 */

#ifndef keys_h
#define keys_h

#include "mps.h"

#define KeySig ((unsigned long)0x519A6E40UL) /* SIGnature KEY */

struct mps_key_s {
  unsigned long sig; /* KeySig */
  const char *name;  /* e.g. "MPS_KEY_ARENA_SIZE" */
};

#endif /* keys_h */
