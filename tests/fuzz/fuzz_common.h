// Shared by the libFuzzer targets: a small fixed document to apply updates to, built once, and
// a hard stop that libFuzzer reports as a crash with the input that caused it.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <zstd.h>

#include "engine/document.h"
#include "engine/ids.h"

namespace quire::fuzz {

inline engine::ReplicaId fuzzReplica(std::uint8_t order) {
  engine::ReplicaId id;
  for (auto& b : id.bytes) b = 0x5A;
  id.bytes[0] = order;
  return id;
}

[[noreturn]] inline void die(const char* what) {
  std::fprintf(stderr, "fuzz target invariant violated: %s\n", what);
  std::abort();
}

// Text from two replicas with a deletion, so updates can refer to existing characters.
inline const engine::Document& baseDocument() {
  static const engine::Document doc = [] {
    engine::Document a(fuzzReplica(1));
    engine::Document b(fuzzReplica(2));
    if (!a.insert(0, "fuzz \xC3\xA9 base \xF0\x9F\x98\x80 text")) die("base insert");
    if (!b.applyUpdate(a.encodeUpdateSince({}))) die("base sync");
    if (!b.insert(5, "more ")) die("base insert b");
    if (!a.remove(0, 2)) die("base remove");
    if (!a.applyUpdate(b.encodeUpdateSince(a.version()))) die("base merge");
    return a;
  }();
  return doc;
}

// Input of the history target: if the first byte is odd, the rest is a history *body* that is
// wrapped as version 1 ("QHST", version, varint size, zstd frame; engine/FORMAT.md) so the fuzzer
// reaches the column parser without having to produce valid zstd; otherwise the rest is passed
// as it is. The Catch2 corpus replay reads files the same way.
inline std::vector<std::uint8_t> historyInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return {};
  const std::uint8_t* rest = data + 1;
  const std::size_t n = size - 1;
  if ((data[0] & 1) == 0) return std::vector<std::uint8_t>(rest, rest + n);
  std::vector<std::uint8_t> out = {'Q', 'H', 'S', 'T', 1};
  for (std::uint64_t v = n;; v >>= 7) {
    if (v < 0x80) {
      out.push_back(static_cast<std::uint8_t>(v));
      break;
    }
    out.push_back(static_cast<std::uint8_t>(0x80 | (v & 0x7F)));
  }
  const std::size_t head = out.size();
  out.resize(head + ZSTD_compressBound(n));
  const std::size_t packed = ZSTD_compress(out.data() + head, out.size() - head, rest, n, 1);
  if (ZSTD_isError(packed)) die("zstd could not compress a fuzz input");
  out.resize(head + packed);
  return out;
}

}  // namespace quire::fuzz
