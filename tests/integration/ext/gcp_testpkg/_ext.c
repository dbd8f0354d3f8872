/* A submodule, for managing by package prefix (body: ../testext.h). */
#define GCPT_NAME "gcp_testpkg._ext"
#define GCPT_INIT PyInit__ext
#include "../testext.h"
