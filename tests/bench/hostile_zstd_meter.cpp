#include "tests/bench/hostile_zstd_meter.h"

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>

#include <dlfcn.h>
#include <zstd.h>

namespace quire::bench {

namespace {

std::atomic<std::uint64_t> g_produced{0};
thread_local int t_depth = 0;

// Looks up libzstd's own definition of `name` (the next one after this executable's).
void* realZstd(const char* name) {
  void* f = dlsym(RTLD_NEXT, name);
  if (f == nullptr) {
    std::fprintf(stderr, "quire-bench: cannot find libzstd's %s: %s\n", name, dlerror());
    std::abort();
  }
  return f;
}

// Counts only the outermost call, in case libzstd calls its exported functions itself.
struct Depth {
  Depth() { ++t_depth; }
  ~Depth() { --t_depth; }
  bool outermost() const { return t_depth == 1; }
};

void add(std::size_t n) { g_produced.fetch_add(n, std::memory_order_relaxed); }

}  // namespace

void resetZstdDecompressedBytes() { g_produced.store(0, std::memory_order_relaxed); }

std::uint64_t zstdDecompressedBytes() { return g_produced.load(std::memory_order_relaxed); }

}  // namespace quire::bench

extern "C" {

size_t ZSTD_decompress(void* dst, size_t dstCapacity, const void* src, size_t compressedSize) {
  using Fn = size_t (*)(void*, size_t, const void*, size_t);
  static const auto real = reinterpret_cast<Fn>(quire::bench::realZstd("ZSTD_decompress"));
  const quire::bench::Depth depth;
  const size_t r = real(dst, dstCapacity, src, compressedSize);
  if (depth.outermost() && !ZSTD_isError(r)) quire::bench::add(r);
  return r;
}

size_t ZSTD_decompressDCtx(ZSTD_DCtx* dctx, void* dst, size_t dstCapacity, const void* src,
                           size_t srcSize) {
  using Fn = size_t (*)(ZSTD_DCtx*, void*, size_t, const void*, size_t);
  static const auto real = reinterpret_cast<Fn>(quire::bench::realZstd("ZSTD_decompressDCtx"));
  const quire::bench::Depth depth;
  const size_t r = real(dctx, dst, dstCapacity, src, srcSize);
  if (depth.outermost() && !ZSTD_isError(r)) quire::bench::add(r);
  return r;
}

size_t ZSTD_decompressStream(ZSTD_DStream* zds, ZSTD_outBuffer* output, ZSTD_inBuffer* input) {
  using Fn = size_t (*)(ZSTD_DStream*, ZSTD_outBuffer*, ZSTD_inBuffer*);
  static const auto real = reinterpret_cast<Fn>(quire::bench::realZstd("ZSTD_decompressStream"));
  const quire::bench::Depth depth;
  const size_t before = output->pos;
  const size_t r = real(zds, output, input);
  if (depth.outermost()) quire::bench::add(output->pos - before);  // even if it then failed
  return r;
}

}  // extern "C"
