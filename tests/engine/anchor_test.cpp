// Anchors: stable positions (a character id plus a bias, or a document end) that follow local
// and remote edits, including the deletion of their own character.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "engine/document.h"
#include "tests/support/random_edits.h"
#include "tests/support/test_util.h"

using quire::engine::Anchor;
using quire::engine::Bias;
using quire::engine::Document;
using namespace quire::test;

namespace {

std::optional<std::uint32_t> resolve(const Document& d, const Anchor& a) {
  return d.resolveAnchor(a);
}

Anchor startAnchor() {
  Anchor a;
  a.kind = Anchor::Kind::Start;
  return a;
}

Anchor endAnchor() {
  Anchor a;
  a.kind = Anchor::Kind::End;
  return a;
}

}  // namespace

TEST_CASE("an anchor resolves to the position it was made at", "[engine][anchors]") {
  Document d(replicaId(1));
  REQUIRE(errorOf(d.insert(0, "h\u00e9llo \U0001F30D w\u0301orld")) == "");
  for (std::uint32_t pos = 0; pos <= d.length(); ++pos) {
    for (Bias bias : {Bias::Before, Bias::After}) {
      INFO("pos " << pos << ", bias " << (bias == Bias::Before ? "Before" : "After"));
      CHECK(resolve(d, d.anchorAt(pos, bias)) == pos);
    }
  }
  // In an empty document every anchor is at 0.
  Document empty(replicaId(2));
  CHECK(resolve(empty, empty.anchorAt(0, Bias::Before)) == 0u);
  CHECK(resolve(empty, empty.anchorAt(0, Bias::After)) == 0u);
}

TEST_CASE("anchors move with local inserts and deletes around them", "[engine][anchors]") {
  Document d(replicaId(1));
  REQUIRE(errorOf(d.insert(0, "hello world")) == "");
  const Anchor before = d.anchorAt(5, Bias::Before);  // sticks to the ' ' after it
  const Anchor after = d.anchorAt(5, Bias::After);    // sticks to the 'o' before it

  REQUIRE(errorOf(d.insert(0, ">>")) == "");  // before both: both move
  CHECK(resolve(d, before) == 7u);
  CHECK(resolve(d, after) == 7u);

  REQUIRE(errorOf(d.insert(10, "!!")) == "");  // after both: neither moves
  CHECK(resolve(d, before) == 7u);
  CHECK(resolve(d, after) == 7u);

  // An insert exactly at the anchors: the After anchor stays before the new text, the Before
  // anchor stays with its character, after the new text.
  REQUIRE(errorOf(d.insert(7, "\U0001F600\U0001F600\U0001F600")) == "");
  CHECK(d.text() == ">>hello\U0001F600\U0001F600\U0001F600 wo!!rld");
  CHECK(resolve(d, after) == 7u);
  CHECK(resolve(d, before) == 10u);

  REQUIRE(errorOf(d.remove(0, 3)) == "");  // removes ">>h"
  CHECK(resolve(d, after) == 4u);
  CHECK(resolve(d, before) == 7u);
}

TEST_CASE("anchors move with concurrent remote inserts and deletes", "[engine][anchors]") {
  Document a(replicaId(1));
  Document b(replicaId(2));
  REQUIRE(errorOf(a.insert(0, "hello world")) == "");
  REQUIRE(sendMissing(a, b) == "");
  const Anchor before = a.anchorAt(5, Bias::Before);
  const Anchor after = a.anchorAt(5, Bias::After);

  // Concurrently: a types at the start, b inserts exactly at the anchors and deletes "he".
  REQUIRE(errorOf(a.insert(0, "[")) == "");
  REQUIRE(errorOf(b.insert(5, ", big")) == "");
  REQUIRE(errorOf(b.remove(0, 2)) == "");
  REQUIRE(syncPair(a, b) == "");
  REQUIRE(a.text() == "[llo, big world");
  CHECK(resolve(a, after) == 4u);    // after "[llo"
  CHECK(resolve(a, before) == 9u);   // before " world"
  // The anchors travel: b resolves a's anchors the same way.
  CHECK(resolve(b, after) == 4u);
  CHECK(resolve(b, before) == 9u);
}

TEST_CASE("an anchor whose character is deleted resolves to where the character stood",
          "[engine][anchors]") {
  Document a(replicaId(1));
  Document b(replicaId(2));
  REQUIRE(errorOf(a.insert(0, "abcdef")) == "");
  REQUIRE(sendMissing(a, b) == "");
  const Anchor beforeD = a.anchorAt(3, Bias::Before);  // before 'd'
  const Anchor afterC = a.anchorAt(3, Bias::After);    // after 'c'
  REQUIRE(resolve(a, beforeD) == 3u);
  REQUIRE(resolve(a, afterC) == 3u);

  SECTION("deleted locally") {
    REQUIRE(errorOf(a.remove(3, 1)) == "");  // 'd'
    CHECK(resolve(a, beforeD) == 3u);
    REQUIRE(errorOf(a.remove(2, 1)) == "");  // 'c'
    CHECK(resolve(a, afterC) == 2u);
    CHECK(resolve(a, beforeD) == 2u);
    REQUIRE(errorOf(a.insert(0, "XY")) == "");  // text before them still moves them
    CHECK(resolve(a, afterC) == 4u);
    CHECK(resolve(a, beforeD) == 4u);
  }
  SECTION("deleted remotely, as part of a range") {
    REQUIRE(errorOf(b.remove(1, 4)) == "");  // "bcde"
    REQUIRE(sendMissing(b, a) == "");
    REQUIRE(a.text() == "af");
    CHECK(resolve(a, afterC) == 1u);
    CHECK(resolve(a, beforeD) == 1u);
  }
  SECTION("the whole document deleted") {
    REQUIRE(errorOf(b.remove(0, 6)) == "");
    REQUIRE(sendMissing(b, a) == "");
    CHECK(resolve(a, afterC) == 0u);
    CHECK(resolve(a, beforeD) == 0u);
  }
}

TEST_CASE("start and end anchors stay at the ends of the document", "[engine][anchors]") {
  Document a(replicaId(1));
  Document b(replicaId(2));
  CHECK(resolve(a, startAnchor()) == 0u);
  CHECK(resolve(a, endAnchor()) == 0u);
  REQUIRE(errorOf(a.insert(0, "middle")) == "");
  CHECK(resolve(a, startAnchor()) == 0u);
  CHECK(resolve(a, endAnchor()) == 6u);
  REQUIRE(sendMissing(a, b) == "");
  REQUIRE(errorOf(b.insert(0, "\U0001F600 ")) == "");
  REQUIRE(errorOf(b.insert(b.length(), " end")) == "");
  REQUIRE(sendMissing(b, a) == "");
  CHECK(resolve(a, startAnchor()) == 0u);
  CHECK(resolve(a, endAnchor()) == a.length());
  CHECK(a.length() == 12);
}

TEST_CASE("an anchor naming a character this copy has not received resolves to nothing",
          "[engine][anchors]") {
  Document a(replicaId(1));
  Document b(replicaId(2));
  REQUIRE(errorOf(a.insert(0, "shared")) == "");
  REQUIRE(sendMissing(a, b) == "");
  REQUIRE(errorOf(b.insert(3, "XYZ")) == "");
  const Anchor remote = b.anchorAt(4, Bias::Before);  // before 'Y', which a has not seen
  REQUIRE(remote.kind == Anchor::Kind::Char);
  CHECK_FALSE(resolve(a, remote).has_value());

  Anchor unknownReplica = remote;
  unknownReplica.replica = replicaId(0x77);
  CHECK_FALSE(resolve(a, unknownReplica).has_value());
  Anchor unknownSeq = a.anchorAt(2, Bias::After);
  REQUIRE(unknownSeq.kind == Anchor::Kind::Char);
  unknownSeq.seq = 1000;
  CHECK_FALSE(resolve(a, unknownSeq).has_value());

  REQUIRE(sendMissing(b, a) == "");
  CHECK(resolve(a, remote) == 4u);
}

// Local edits only, so the exact order including deleted characters is known: each character
// of the model carries its seq (one replica, so seq = LV) and whether it is still visible.
TEST_CASE("anchors track their characters through random local edits", "[engine][anchors]") {
  const auto seed = testSeed(GENERATE(range(0, 20)));
  INFO("seed " << seed);
  Rng rng(seed);
  Document d(replicaId(1));
  struct Cell {
    std::uint32_t seq;
    bool visible;
  };
  std::vector<Cell> cells;  // document order, deleted characters included
  auto visibleIndex = [&](std::size_t k) {
    std::uint32_t n = 0;
    for (std::size_t i = 0; i < k; ++i) n += cells[i].visible ? 1 : 0;
    return n;
  };
  auto nthVisible = [&](std::uint32_t n) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (cells[i].visible && n-- == 0) return i;
    }
    return cells.size();
  };
  auto expected = [&](const Anchor& a) -> std::optional<std::uint32_t> {
    if (a.kind == Anchor::Kind::Start) return 0u;
    if (a.kind == Anchor::Kind::End) return d.length();
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (cells[i].seq == a.seq) {
        return visibleIndex(i) + (a.bias == Bias::After && cells[i].visible ? 1u : 0u);
      }
    }
    return std::nullopt;
  };

  std::vector<Anchor> anchors;
  std::uint32_t seq = 0;
  for (int step = 0; step < 300; ++step) {
    const std::uint32_t length = d.length();
    if (length == 0 || rng.chance(0.6)) {
      const std::uint32_t pos = rng.between(0, length);
      const std::u32string text = randomText(rng, mixedAlphabet(), rng.between(1, 5));
      REQUIRE(errorOf(d.insert(pos, toUtf8(text))) == "");
      // A local insert goes directly after its left neighbour in the order that includes deleted
      // characters (the left origin, as in Fugue and YATA), or first for position 0.
      std::vector<Cell> added;
      for (std::size_t k = 0; k < text.size(); ++k) added.push_back({seq++, true});
      const std::size_t insertAt = pos == 0 ? 0 : nthVisible(pos - 1) + 1;
      cells.insert(cells.begin() + static_cast<std::ptrdiff_t>(insertAt), added.begin(),
                   added.end());
    } else {
      const std::uint32_t pos = rng.below(length);
      const std::uint32_t count = std::min(length - pos, rng.between(1, 4));
      REQUIRE(errorOf(d.remove(pos, count)) == "");
      for (std::uint32_t k = 0; k < count; ++k) cells[nthVisible(pos)].visible = false;
      seq += count;
    }
    REQUIRE(d.version().get(d.localReplica()) == seq);
    if (rng.chance(0.3)) {
      const Anchor a = d.anchorAt(rng.between(0, d.length()),
                                  rng.chance(0.5) ? Bias::Before : Bias::After);
      if (anchors.size() < 40) {
        anchors.push_back(a);
      } else {
        anchors[rng.below(40)] = a;
      }
    }
    for (std::size_t i = 0; i < anchors.size(); ++i) {
      const Anchor& a = anchors[i];
      auto want = expected(a);
      REQUIRE(want.has_value());
      INFO("step " << step << ", anchor " << i << " (seq " << a.seq << ")");
      CHECK(resolve(d, a) == want);
    }
  }
  CHECK(d.checkInvariants() == "");
}
