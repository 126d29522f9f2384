// Counts the heap that quire-bench holds: heap_counter.cpp replaces every global operator
// new/delete of the binary with malloc/free plus a live-bytes counter, so a benchmark can see
// what an object holds (live bytes after building it minus before). Only quire-bench links it.
#pragma once

#include <cstdint>

namespace quire::bench {

// Turns counting on or off (off at start). Counting costs an atomic add and a
// malloc_usable_size() per allocation and per free, ~10% on allocation-heavy code, so timed
// code runs with it off. Thread-safe.
void setHeapCounting(bool on);

// Bytes allocated through operator new while counting was on, minus bytes freed while it was on
// (malloc_usable_size of each block, so allocator rounding counts). The difference of two readings
// taken with counting on is what the code between them allocated and kept, provided it freed no
// block allocated before counting started. Memory taken with malloc directly is not seen.
std::int64_t liveHeapBytes();

// Peak mode: the highest liveHeapBytes() reached while counting was on since the last
// resetPeakHeapBytes() (which sets it to the current reading). peakHeapBytes() minus the reading
// at the reset is the most the code in between held at once, the transient buffers it freed
// before returning included. Thread-safe.
void resetPeakHeapBytes();
std::int64_t peakHeapBytes();

}  // namespace quire::bench
