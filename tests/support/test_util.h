// Shared helpers for the engine tests: replica ids, seeded randomness, UTF-8 <-> code points, and
// a plain std::u32string "mirror" that patches are checked against. Test-only; not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "engine/document.h"
#include "engine/ids.h"
#include "engine/result.h"
#include "engine/version_vector.h"

namespace quire::test {

// A replica id whose first byte is `order`, so ids compare (lexicographically) like their
// `order` values; the other bytes are a fixed pattern.
engine::ReplicaId replicaId(std::uint8_t order);
// A replica id drawn from `bits` (e.g. Rng::next()), first byte `order` as above.
engine::ReplicaId replicaId(std::uint8_t order, std::uint64_t bits);

// The seed for iteration `i` of a seeded loop: mixes `i` with Catch's --rng-seed, so a run with
// another --rng-seed explores other cases and `INFO("seed " << seed)` names one exactly.
std::uint64_t testSeed(std::uint64_t i);

// Small, fast, deterministic PRNG (splitmix64). Copyable value.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : m_state(seed) {}
  std::uint64_t next();
  // Uniform in [0, n). REQUIRES: n > 0.
  std::uint32_t below(std::uint32_t n);
  // Uniform in [lo, hi]. REQUIRES: lo <= hi.
  std::uint32_t between(std::uint32_t lo, std::uint32_t hi);
  // True with probability `p`.
  bool chance(double p);

 private:
  std::uint64_t m_state;
};

// Code points of valid UTF-8. REQUIRES: `utf8` is valid (test data only).
std::u32string toU32(std::string_view utf8);
std::string toUtf8(std::u32string_view text);
std::string toUtf8(char32_t c);

// A history body wrapped as FORMAT.md, "History encoding" says: header, size, one zstd frame at
// `level` (any valid frame decodes).
std::vector<std::uint8_t> wrapHistoryBody(const std::vector<std::uint8_t>& body, int level = 3);

// Applies `patches` in order to `mirror`. Returns a description of the first patch that does not
// fit the mirror (position or deleted range past its end, inserted text not UTF-8), or nothing.
std::optional<std::string> applyPatches(std::u32string& mirror,
                                        const std::vector<engine::Patch>& patches);

// "" for success, else the error's toString(): `REQUIRE(errorOf(doc.insert(0, "x")) == "")`
// prints the engine's message when it fails.
template <typename T>
std::string errorOf(const Result<T>& r) {
  return r ? std::string() : r.error().toString();
}

// Sends everything `from` has that `to` lacks (encodeUpdateSince(to.version())) and applies it.
// Returns the error text of applyUpdate, "" on success.
std::string sendMissing(const engine::Document& from, engine::Document& to);
// sendMissing in both directions, then again, so both hold the union.
std::string syncPair(engine::Document& a, engine::Document& b);

// What a document shows to the outside; equal states mean "nothing changed".
struct DocState {
  std::string text;
  engine::VersionVector version;
  std::size_t pending = 0;
  engine::LV nextLv = 0;
  bool operator==(const DocState&) const = default;
};
DocState stateOf(const engine::Document& doc);

// Human-readable bytes for failure messages: "12 bytes: 51 55 49 ..." (first 64 bytes).
std::string hexDump(const std::vector<std::uint8_t>& bytes);

}  // namespace quire::test

namespace Catch {
template <>
struct StringMaker<quire::engine::VersionVector> {
  static std::string convert(const quire::engine::VersionVector& v) { return v.toString(); }
};
template <>
struct StringMaker<quire::engine::Patch> {
  static std::string convert(const quire::engine::Patch& p);
};
template <>
struct StringMaker<quire::test::DocState> {
  static std::string convert(const quire::test::DocState& s);
};
}  // namespace Catch
