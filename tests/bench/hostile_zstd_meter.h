// Counts the bytes zstd decompresses in quire-bench, so `quire-bench hostile` can say how many
// body bytes a history decoder really produced (not what the input states). hostile_zstd_meter.cpp
// defines ZSTD_decompress, ZSTD_decompressDCtx and ZSTD_decompressStream in the executable: the
// engine's calls bind to these at link time, and they forward to libzstd's (dlsym RTLD_NEXT).
// Only quire-bench links it.
#pragma once

#include <cstdint>

namespace quire::bench {

// Bytes written by zstd decompression calls since the last reset: a one-shot call's output if it
// succeeded (what a failed one wrote is not known, so not counted), a streaming call's output
// position advance whether or not it then failed. Calls nested inside libzstd count once. Thread-safe.
void resetZstdDecompressedBytes();
std::uint64_t zstdDecompressedBytes();

}  // namespace quire::bench
