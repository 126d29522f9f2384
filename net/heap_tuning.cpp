#include "net/heap_tuning.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace quire::net {

bool tuneHeapForFrames() {
#if defined(__GLIBC__)
  // Setting either fixes both (glibc stops adjusting them on its own).
  return mallopt(M_MMAP_THRESHOLD, static_cast<int>(kHeapMmapThresholdBytes)) == 1 &&
         mallopt(M_TRIM_THRESHOLD, static_cast<int>(kHeapTrimThresholdBytes)) == 1;
#else
  return true;
#endif
}

}  // namespace quire::net
