/* The managed test module of tests/integration (body: testext.h). */
#define GCPT_NAME "gcp_testext_a"
#define GCPT_INIT PyInit_gcp_testext_a
#include "testext.h"
