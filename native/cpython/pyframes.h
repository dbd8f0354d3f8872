/* pyframes.h -- the interface of pyframes.c, which is compiled apart from
 * the rest (with CPython's internal headers): the calling thread's Python
 * frames.  Design: docs/design/leaks.md (sites).
 */
#ifndef GCP_PYFRAMES_H
#define GCP_PYFRAMES_H

#include <stddef.h>
#include <stdint.h>

/* The calling thread's innermost Python frames, at most max: each one's
 * code object (borrowed) and the index of its last instruction (for
 * PyCode_Addr2Line, in code units).  Returns how many; 0 without a thread
 * state.  With the GIL held. */
size_t gcpPyFrames(uintptr_t *codes, int *lastis, size_t max);

#endif /* GCP_PYFRAMES_H */
