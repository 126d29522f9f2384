// VersionVector: get/set, inclusion, and its byte encoding (round trip, rejection of bad bytes).
#include <cstdint>
#include <limits>
#include <vector>

#include <catch2/catch.hpp>

#include "engine/version_vector.h"
#include "tests/support/test_util.h"

using quire::engine::ReplicaId;
using quire::engine::VersionVector;
using namespace quire::test;

namespace {

VersionVector vv(std::initializer_list<std::pair<std::uint8_t, std::uint32_t>> entries) {
  VersionVector v;
  for (auto [order, seq] : entries) v.set(replicaId(order), seq);
  return v;
}

// What every decoded vector must look like: sorted by replica, no duplicates, no zero seqs.
void checkCanonical(const VersionVector& v) {
  const auto& e = v.entries();
  for (std::size_t i = 0; i < e.size(); ++i) {
    CHECK(e[i].second != 0);
    if (i > 0) CHECK(e[i - 1].first < e[i].first);
  }
}

VersionVector randomVector(Rng& rng) {
  VersionVector v;
  const std::uint32_t n = rng.below(20);
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint32_t seq = rng.below(4) == 0 ? std::numeric_limits<std::uint32_t>::max() - rng.below(3)
                                          : rng.below(1u << rng.below(32));
    v.set(replicaId(static_cast<std::uint8_t>(rng.next()), rng.next()), seq);
  }
  return v;
}

}  // namespace

TEST_CASE("get returns what set stored, and 0 for unknown replicas", "[engine]") {
  VersionVector v;
  CHECK(v.get(replicaId(1)) == 0);
  CHECK(v.entries().empty());
  CHECK(v.total() == 0);
  v.set(replicaId(3), 7);
  v.set(replicaId(1), 2);
  v.set(replicaId(2), std::numeric_limits<std::uint32_t>::max());
  CHECK(v.get(replicaId(1)) == 2);
  CHECK(v.get(replicaId(2)) == std::numeric_limits<std::uint32_t>::max());
  CHECK(v.get(replicaId(3)) == 7);
  CHECK(v.get(replicaId(4)) == 0);
  CHECK(v.total() == 9ull + std::numeric_limits<std::uint32_t>::max());
  REQUIRE(v.entries().size() == 3);
  checkCanonical(v);

  v.set(replicaId(3), 9);  // overwrite
  CHECK(v.get(replicaId(3)) == 9);
  v.set(replicaId(1), 0);  // 0 removes the entry
  CHECK(v.get(replicaId(1)) == 0);
  CHECK(v.entries().size() == 2);
  CHECK(v == vv({{2, std::numeric_limits<std::uint32_t>::max()}, {3, 9}}));
  CHECK_FALSE(v.toString().empty());
}

TEST_CASE("includes is true exactly when every entry is at least as far", "[engine]") {
  const VersionVector empty;
  const VersionVector a3 = vv({{1, 3}});
  const VersionVector a2 = vv({{1, 2}});
  const VersionVector a4 = vv({{1, 4}});
  const VersionVector b1 = vv({{2, 1}});
  const VersionVector a3b2 = vv({{1, 3}, {2, 2}});

  CHECK(empty.includes(empty));
  CHECK(a3.includes(empty));
  CHECK_FALSE(empty.includes(a3));
  CHECK(a3.includes(a3));
  CHECK(a3.includes(a2));
  CHECK_FALSE(a3.includes(a4));
  CHECK_FALSE(a3.includes(b1));
  CHECK_FALSE(b1.includes(a3));
  CHECK(a3b2.includes(a3));
  CHECK(a3b2.includes(b1));
  CHECK(a3b2.includes(a2));
  CHECK_FALSE(a3.includes(a3b2));
  CHECK_FALSE(a3b2.includes(vv({{1, 3}, {2, 3}})));
  CHECK_FALSE(a3b2.includes(vv({{3, 1}})));
}

TEST_CASE("encode then decode gives the same version vector", "[engine][format]") {
  SECTION("fixed vectors") {
    for (const VersionVector& v :
         {VersionVector{}, vv({{1, 1}}), vv({{0, 1}, {255, 127}, {128, 128}}),
          vv({{7, std::numeric_limits<std::uint32_t>::max()}})}) {
      auto d = VersionVector::decode(v.encode());
      REQUIRE(errorOf(d) == "");
      CHECK(*d == v);
    }
  }
  SECTION("random vectors") {
    Rng rng(testSeed(1));
    for (int i = 0; i < 500; ++i) {
      const VersionVector v = randomVector(rng);
      auto d = VersionVector::decode(v.encode());
      REQUIRE(errorOf(d) == "");
      CHECK(*d == v);
      CHECK(d->total() == v.total());
    }
  }
}

TEST_CASE("decode rejects truncated, extended and garbage bytes", "[engine][format]") {
  Rng rng(testSeed(2));
  SECTION("every strict prefix of an encoding") {
    for (int i = 0; i < 50; ++i) {
      const auto bytes = randomVector(rng).encode();
      for (std::size_t n = 0; n < bytes.size(); ++n) {
        INFO("prefix of " << n << " bytes of " << hexDump(bytes));
        CHECK_FALSE(VersionVector::decode({bytes.data(), n}).has_value());
      }
    }
  }
  SECTION("an encoding with bytes after its end") {
    for (int i = 0; i < 50; ++i) {
      auto bytes = randomVector(rng).encode();
      bytes.push_back(static_cast<std::uint8_t>(rng.next()));
      INFO(hexDump(bytes));
      CHECK_FALSE(VersionVector::decode(bytes).has_value());
    }
  }
  SECTION("garbage") {
    const auto valid = vv({{1, 1}}).encode();
    for (int i = 0; i < 1000; ++i) {
      std::vector<std::uint8_t> bytes(rng.below(64));
      for (auto& b : bytes) b = static_cast<std::uint8_t>(rng.next());
      if (!bytes.empty() && !valid.empty() && bytes[0] == valid[0]) bytes[0] ^= 0xA5;
      INFO(hexDump(bytes));
      auto d = VersionVector::decode(bytes);
      CHECK_FALSE(d.has_value());
      if (!d) CHECK_FALSE(d.error().message().empty());
    }
  }
  SECTION("anything that does decode is canonical and re-encodes to itself") {
    for (int i = 0; i < 3000; ++i) {
      auto bytes = randomVector(rng).encode();
      if (bytes.empty()) continue;
      bytes[rng.below(static_cast<std::uint32_t>(bytes.size()))] ^=
          static_cast<std::uint8_t>(1u << rng.below(8));
      auto d = VersionVector::decode(bytes);
      if (!d) continue;
      INFO(hexDump(bytes));
      checkCanonical(*d);
      auto again = VersionVector::decode(d->encode());
      REQUIRE(errorOf(again) == "");
      CHECK(*again == *d);
    }
  }
}

TEST_CASE("fromUnsorted and mergeMax build the same vectors as set", "[version]") {
  Rng rng(7);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::pair<quire::engine::ReplicaId, std::uint32_t>> entries;
    VersionVector bySet, other;
    for (int i = 0; i < 40; ++i) {
      auto replica = replicaId(static_cast<std::uint8_t>(rng.below(16)));
      auto seq = rng.below(5);
      entries.emplace_back(replica, seq);
      if (bySet.get(replica) < seq) bySet.set(replica, seq);
      if (rng.below(2)) other.set(replicaId(static_cast<std::uint8_t>(rng.below(24))), seq + 1);
    }
    VersionVector built = VersionVector::fromUnsorted(entries);
    CHECK(built == bySet);
    checkCanonical(built);

    VersionVector merged = built;
    merged.mergeMax(other);
    checkCanonical(merged);
    CHECK(merged.includes(built));
    CHECK(merged.includes(other));
    for (const auto& [replica, seq] : merged.entries())
      CHECK(seq == std::max(built.get(replica), other.get(replica)));
  }
}
