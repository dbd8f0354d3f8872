/* The unmanaged test module of tests/integration (body: testext.h). */
#define GCPT_NAME "gcp_testext_b"
#define GCPT_INIT PyInit_gcp_testext_b
#include "testext.h"
