// How the programs' heap treats frame-sized buffers. Every frame passes through several buffers
// of its own size (socket reassembly, the sealed copy, the plaintext, the forwarded copies).
// glibc serves blocks from 128 KiB up with fresh mmap()s and trims freed heap above 128 KiB, so
// each of those buffers was new memory, page-faulted in and given back again: on this project's
// VMs that was most of the cost of a frame of a few hundred KiB, and honest keystrokes queued
// behind it (PROTOCOL.md, "Hostile frames").
#pragma once

#include <cstddef>

namespace quire::net {

// Blocks up to this size come from the heap and are reused once freed...
inline constexpr std::size_t kHeapMmapThresholdBytes = 8u << 20;
// ... and up to this much freed heap is kept for reuse instead of being given back.
inline constexpr std::size_t kHeapTrimThresholdBytes = 32u << 20;

// Applies the two settings above (glibc's mallopt; elsewhere nothing). Call once at the start of
// main(), before any thread starts. Returns false if the C library refused a setting.
bool tuneHeapForFrames();

}  // namespace quire::net
