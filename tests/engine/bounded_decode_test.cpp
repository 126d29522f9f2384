// The engine's decoders against the crafted attacks of tests/support/hostile_inputs.h: each is
// refused with an error that names the field, or applied, and the document is unchanged by a
// refusal (engine/FORMAT.md, "Decoding limits"). Costs are measured by `quire-bench hostile`,
// not timed here.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "engine/document.h"
#include "engine/op_log.h"
#include "engine/update_codec.h"
#include "tests/support/hostile_inputs.h"
#include "tests/support/test_util.h"

namespace {

namespace hostile = quire::test::hostile;
using quire::engine::Document;
using quire::engine::DecodeLimits;
using quire::engine::StreamContext;
using quire::engine::checkUpdateAlone;
using quire::Error;
using quire::test::replicaId;

bool mentions(const std::string& message, const std::string& field) {
  return message.find(field) != std::string::npos;
}

// A document with some text, to show that a refused update leaves it as it was.
Document withText() {
  Document doc(replicaId(1));
  REQUIRE(doc.insert(0, "honest text"));
  return doc;
}

void requireUnchanged(const Document& doc) {
  CHECK(doc.text() == "honest text");
  CHECK(doc.opCount() == 11);
  CHECK(doc.pendingOpCount() == 0);
  CHECK(doc.checkInvariants().empty());
}

}  // namespace

TEST_CASE("a history stating a body over the limit is refused before decompressing", "[hostile]") {
  auto result = Document::decodeHistory(hostile::bombHistory(), replicaId(1));
  REQUIRE(!result);
  CHECK(mentions(result.error().message(), "body-size"));
  CHECK(mentions(result.error().message(), "over the limit"));

  // The limit is the caller's to set.
  DecodeLimits small;
  small.maxDecompressedBytes = 1u << 20;
  auto two = Document::decodeHistory(hostile::bombHistory(2u << 20), replicaId(1), small);
  REQUIRE(!two);
  CHECK(mentions(two.error().message(), "body-size"));
}

TEST_CASE("the process-wide limit on a document's decoded bytes is set once, checked, and used",
          "[hostile]") {
  CHECK(DecodeLimits::processMaxDecompressedBytes() == DecodeLimits::kDefaultMaxDecompressedBytes);
  for (const char* bad : {"", "0", "-1", "12x", "65537", "99999999999999999999999"}) {
    auto refused = DecodeLimits::setProcessMaxDecompressedMiB(bad);
    REQUIRE(!refused);
    CHECK(mentions(refused.error().message(), "whole number of MiB"));
  }
  CHECK(DecodeLimits::processMaxDecompressedBytes() == DecodeLimits::kDefaultMaxDecompressedBytes);

  REQUIRE(DecodeLimits::setProcessMaxDecompressedMiB("1"));
  auto two = Document::decodeHistory(hostile::bombHistory(2u << 20), replicaId(1));
  REQUIRE(DecodeLimits::setProcessMaxDecompressedMiB("64"));
  REQUIRE(!two);
  CHECK(mentions(two.error().message(), "over the limit of 1048576"));
  CHECK(DecodeLimits{}.maxDecompressedBytes == DecodeLimits::kDefaultMaxDecompressedBytes);
}

TEST_CASE("a history whose zstd frame disagrees with its stated size is refused", "[hostile]") {
  auto lying = Document::decodeHistory(hostile::lyingBombHistory(8u << 20), replicaId(1));
  REQUIRE(!lying);
  CHECK(lying.error().code() == quire::Error::Code::Corrupt);
}

TEST_CASE("a bomb under the limit really expands, and is then refused as malformed", "[hostile]") {
  // 32 MiB of zeros: decoded (the frame really produces them), then the body does not parse.
  auto result = Document::decodeHistory(hostile::bombHistory(32u << 20), replicaId(1));
  REQUIRE(!result);
}

TEST_CASE("a truncated history is refused", "[hostile]") {
  auto result = Document::decodeHistory(hostile::truncatedHistory(), replicaId(1));
  REQUIRE(!result);
}

TEST_CASE("an update past the author limit is refused and changes nothing", "[hostile]") {
  Document doc = withText();
  auto result = doc.applyUpdate(hostile::manyAuthorsUpdate(hostile::kManyAuthors));
  REQUIRE(!result);
  CHECK(mentions(result.error().message(), "agent-count"));
  requireUnchanged(doc);
}

TEST_CASE("an update with 60,000 authors applies, and re-encodes for a fresh copy", "[hostile]") {
  Document doc(replicaId(1));
  const std::uint32_t authors = 60'000;
  auto applied = doc.applyUpdate(hostile::manyAuthorsUpdate(authors));
  REQUIRE(applied);
  CHECK(doc.length() == authors);
  CHECK(doc.opLog().agentCount() == authors + 1);

  Document copy(replicaId(2));
  REQUIRE(copy.applyUpdate(doc.encodeUpdateSince({})));
  CHECK(copy.text() == doc.text());
  auto history = Document::decodeHistory(doc.encodeHistory(), replicaId(3));
  REQUIRE(history);
  CHECK(history->text() == doc.text());
}

TEST_CASE("seq and op-counter overflows are refused naming the field", "[hostile]") {
  Document doc = withText();
  auto seq = doc.applyUpdate(hostile::seqOverflowUpdate());
  REQUIRE(!seq);
  CHECK(mentions(seq.error().message(), "seq"));
  requireUnchanged(doc);

  auto lv = doc.applyUpdate(hostile::lvOverflowUpdate());
  REQUIRE(!lv);
  CHECK(mentions(lv.error().message(), "op counter"));
  requireUnchanged(doc);

  // A run that ends right at the limit is in range: it waits for its earlier seqs.
  auto atLimit = doc.applyUpdate(hostile::seqAtLimitUpdate());
  REQUIRE(atLimit);
  CHECK(doc.pendingOpCount() > 0);
  CHECK(doc.text() == "honest text");
}

TEST_CASE("the check without a document refuses what every document refuses, and no more",
          "[hostile]") {
  // seq overflow and op-counter overflow: refused by any document, so by the check alone.
  for (const auto& poison : {hostile::seqOverflowUpdate(), hostile::lvOverflowUpdate()}) {
    auto alone = checkUpdateAlone(poison, StreamContext{});
    REQUIRE(!alone);
    CHECK(alone.error().code() == Error::Code::Malformed);
  }
  CHECK(mentions(checkUpdateAlone(hostile::lvOverflowUpdate(), StreamContext{}).error().message(),
                 "op counter"));
  // An update that waits for earlier seqs, or that a document holds already, passes: only a
  // document can tell.
  CHECK(checkUpdateAlone(hostile::seqAtLimitUpdate(), StreamContext{}));
  Document doc = withText();
  const auto whole = doc.encodeUpdateSince({});
  CHECK(checkUpdateAlone(whole, StreamContext{}));
}

TEST_CASE("a chain delivered deepest first applies in one update", "[hostile]") {
  Document doc(replicaId(1));
  const std::uint32_t depth = 20'000;
  auto result = doc.applyUpdate(hostile::reversedChainUpdate(depth));
  REQUIRE(result);
  CHECK(doc.text() == std::string(depth, hostile::kAttackChar));
  CHECK(doc.pendingOpCount() == 0);
}

TEST_CASE("runs held from an earlier update wake when what they wait for arrives", "[hostile]") {
  // The same chain split in two: first everything but seq 0 (all of it waits), then seq 0.
  Document author(replicaId(7));
  for (int i = 0; i < 300; ++i) REQUIRE(author.insert(static_cast<std::uint32_t>(i), i % 2 ? "a" : "b"));
  std::vector<std::vector<std::uint8_t>> keystrokes;
  Document replay(replicaId(7));
  for (int i = 0; i < 300; ++i) {
    const quire::engine::LV before = replay.nextLv();
    REQUIRE(replay.insert(static_cast<std::uint32_t>(i), i % 2 ? "a" : "b"));
    keystrokes.push_back(replay.encodeOpsSince(before));
  }
  Document doc(replicaId(1));
  for (std::size_t i = keystrokes.size(); i-- > 1;) REQUIRE(doc.applyUpdate(keystrokes[i]));
  CHECK(doc.length() == 0);
  CHECK(doc.pendingOpCount() == 299);
  auto last = doc.applyUpdate(keystrokes[0]);
  REQUIRE(last);
  CHECK(doc.text() == author.text());
  CHECK(doc.pendingOpCount() == 0);
  CHECK(doc.checkInvariants().empty());
}

TEST_CASE("an update that would leave too many runs waiting is refused", "[hostile]") {
  // Every other keystroke of a long chain, self-contained: each waits for the one before it.
  Document doc = withText();
  Document replay(replicaId(9));
  std::vector<std::vector<std::uint8_t>> odd;
  for (std::uint32_t i = 0; i < 2 * (Document::kMaxPendingRuns + 10); ++i) {
    const quire::engine::LV before = replay.nextLv();
    REQUIRE(replay.insert(i, i % 7 ? "x" : "y"));
    if (i % 2 == 1) odd.push_back(replay.encodeOpsSince(before));
  }
  std::size_t refused = 0;
  for (const auto& u : odd) {
    auto r = doc.applyUpdate(u);
    if (!r) {
      ++refused;
      CHECK(mentions(r.error().message(), "waiting for dependencies"));
    }
  }
  CHECK(refused == 10);
  CHECK(doc.pendingOpCount() == Document::kMaxPendingRuns);
  CHECK(doc.text() == "honest text");
}

TEST_CASE("garbage behind an update header is refused", "[hostile]") {
  Document doc = withText();
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    auto r = doc.applyUpdate(hostile::garbageUpdate(64 + seed * 13, seed));
    if (r) continue;  // garbage that happens to parse is just more ops
    CHECK(!r.error().message().empty());
  }
  CHECK(doc.checkInvariants().empty());
}
