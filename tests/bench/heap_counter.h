// Counts the heap that quire-bench holds: heap_counter.cpp replaces every global operator
// new/delete of the binary with malloc/free plus a live-bytes counter, so a benchmark can see
// what an object holds (live bytes after building it minus before). Only quire-bench links it.
#pragma once

#include <cstdint>

namespace quire::bench {

// Bytes currently allocated through operator new (malloc_usable_size of each block, so
// allocator rounding counts). Memory taken with malloc directly is not seen. Thread-safe.
std::int64_t liveHeapBytes();

}  // namespace quire::bench
