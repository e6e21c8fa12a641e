#include "kitsune_build_info.h"

#ifndef KITSUNE_BUILD_COMMIT
#define KITSUNE_BUILD_COMMIT "unknown"
#endif

const char *kitsune_build_commit(void) { return KITSUNE_BUILD_COMMIT; }
