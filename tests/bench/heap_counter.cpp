#include "tests/bench/heap_counter.h"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

#include <malloc.h>

namespace quire::bench {

namespace {

std::atomic<bool> g_counting{false};
std::atomic<std::int64_t> g_liveBytes{0};
std::atomic<std::int64_t> g_peakBytes{0};

void count(void* p, std::int64_t sign) noexcept {
  if (g_counting.load(std::memory_order_relaxed)) {
    const std::int64_t delta = sign * static_cast<std::int64_t>(malloc_usable_size(p));
    const std::int64_t live = g_liveBytes.fetch_add(delta, std::memory_order_relaxed) + delta;
    std::int64_t peak = g_peakBytes.load(std::memory_order_relaxed);
    while (live > peak &&
           !g_peakBytes.compare_exchange_weak(peak, live, std::memory_order_relaxed)) {
    }
  }
}

void* allocate(std::size_t size) noexcept {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p != nullptr) count(p, +1);
  return p;
}

void* allocateAligned(std::size_t size, std::align_val_t align) noexcept {
  const std::size_t alignment = std::max(static_cast<std::size_t>(align), sizeof(void*));
  void* p = nullptr;
  if (posix_memalign(&p, alignment, size == 0 ? 1 : size) != 0) return nullptr;
  count(p, +1);
  return p;
}

void release(void* p) noexcept {
  if (p == nullptr) return;
  count(p, -1);
  std::free(p);
}

// The throwing forms keep the standard contract: call the new-handler until it gives up, then
// throw std::bad_alloc (which, in a benchmark, ends the program).
void* allocateOrThrow(std::size_t size) {
  while (true) {
    if (void* p = allocate(size)) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

void* allocateAlignedOrThrow(std::size_t size, std::align_val_t align) {
  while (true) {
    if (void* p = allocateAligned(size, align)) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

}  // namespace

void setHeapCounting(bool on) { g_counting.store(on, std::memory_order_relaxed); }

std::int64_t liveHeapBytes() { return g_liveBytes.load(std::memory_order_relaxed); }

void resetPeakHeapBytes() {
  g_peakBytes.store(g_liveBytes.load(std::memory_order_relaxed), std::memory_order_relaxed);
}

std::int64_t peakHeapBytes() { return g_peakBytes.load(std::memory_order_relaxed); }

}  // namespace quire::bench

using quire::bench::allocate;
using quire::bench::allocateAligned;
using quire::bench::allocateAlignedOrThrow;
using quire::bench::allocateOrThrow;
using quire::bench::release;

void* operator new(std::size_t size) { return allocateOrThrow(size); }
void* operator new[](std::size_t size) { return allocateOrThrow(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return allocate(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return allocate(size); }
void* operator new(std::size_t size, std::align_val_t align) {
  return allocateAlignedOrThrow(size, align);
}
void* operator new[](std::size_t size, std::align_val_t align) {
  return allocateAlignedOrThrow(size, align);
}
void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return allocateAligned(size, align);
}
void* operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return allocateAligned(size, align);
}

void operator delete(void* p) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete(void* p, std::size_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t) noexcept { release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { release(p); }
void operator delete(void* p, std::align_val_t) noexcept { release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { release(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { release(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { release(p); }
