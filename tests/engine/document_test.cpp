// Document: local edits at code-point positions, versions and past texts, live updates between
// copies (patches, idempotence, waiting for dependencies, atomic rejection), stream contexts.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "engine/document.h"
#include "tests/support/random_edits.h"
#include "tests/support/test_util.h"

using quire::Error;
using quire::engine::Document;
using quire::engine::LV;
using quire::engine::Patch;
using quire::engine::StreamContext;
using quire::engine::VersionVector;
using namespace quire::test;

namespace {

constexpr std::uint32_t kMax = std::numeric_limits<std::uint32_t>::max();

// Applies `update` to `doc`, checks the returned patches against `mirror` (the doc's text before)
// and returns the patches. Fails the test on an error.
std::vector<Patch> applyChecked(Document& doc, std::u32string& mirror,
                                const std::vector<std::uint8_t>& update,
                                StreamContext* stream = nullptr) {
  auto r = doc.applyUpdate(update, stream);
  REQUIRE(errorOf(r) == "");
  auto problem = applyPatches(mirror, *r);
  INFO("patches: " << Catch::Detail::stringify(*r));
  REQUIRE(problem.value_or("") == "");
  REQUIRE(toUtf8(mirror) == doc.text());
  return *r;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Local edits

TEST_CASE("insert and remove count code points, not bytes", "[engine]") {
  Document d(replicaId(1));
  REQUIRE(errorOf(d.insert(0, "ab")) == "");
  REQUIRE(errorOf(d.insert(1, "\U0001F600")) == "");  // astral emoji, 4 UTF-8 bytes, 1 code point
  CHECK(d.text() == "a\U0001F600b");
  CHECK(d.length() == 3);

  // A base letter plus a combining acute accent: two code points.
  REQUIRE(errorOf(d.insert(2, "e\u0301")) == "");
  CHECK(d.text() == "a\U0001F600e\u0301b");
  CHECK(d.length() == 5);

  REQUIRE(errorOf(d.insert(5, "\u00e9\u4e2d")) == "");
  CHECK(d.text() == "a\U0001F600e\u0301b\u00e9\u4e2d");
  CHECK(d.length() == 7);

  // Removing position 1 removes the whole emoji; removing position 2 of "ae\u0301b" removes only
  // the combining mark.
  REQUIRE(errorOf(d.remove(1, 1)) == "");
  CHECK(d.text() == "ae\u0301b\u00e9\u4e2d");
  REQUIRE(errorOf(d.remove(2, 1)) == "");
  CHECK(d.text() == "aeb\u00e9\u4e2d");
  CHECK(d.length() == 5);
  CHECK(d.checkInvariants() == "");
}

TEST_CASE("a paste and a select-and-delete edit whole ranges", "[engine]") {
  Document d(replicaId(1));
  REQUIRE(errorOf(d.insert(0, "start end")) == "");
  Rng rng(7);
  const std::u32string paste = randomText(rng, mixedAlphabet(), 5000);
  REQUIRE(errorOf(d.insert(6, toUtf8(paste))) == "");
  std::u32string expected = U"start " + paste + U"end";
  CHECK(d.length() == expected.size());
  CHECK(d.text() == toUtf8(expected));

  // Select from inside "start" to inside the paste and delete.
  REQUIRE(errorOf(d.remove(2, 3000)) == "");
  expected.erase(2, 3000);
  CHECK(d.text() == toUtf8(expected));

  // Delete everything.
  REQUIRE(errorOf(d.remove(0, d.length())) == "");
  CHECK(d.text() == "");
  CHECK(d.length() == 0);
  CHECK(d.checkInvariants() == "");
}

TEST_CASE("random local edits keep the text equal to a plain string's", "[engine]") {
  const auto seed = testSeed(GENERATE(range(0, 20)));
  INFO("seed " << seed);
  Rng rng(seed);
  EditingReplica r(replicaId(1));
  for (int i = 0; i < 600; ++i) {
    REQUIRE(randomLocalEdit(rng, r, mixedAlphabet()) == "");
    REQUIRE(r.doc.length() == r.mirror.size());
    if (i % 50 == 0) REQUIRE(r.doc.text() == toUtf8(r.mirror));
  }
  CHECK(r.doc.text() == toUtf8(r.mirror));
  CHECK(r.doc.checkInvariants() == "");
}

TEST_CASE("out-of-range positions fail with InvalidArgument and change nothing", "[engine]") {
  Document d(replicaId(1));
  REQUIRE(errorOf(d.insert(0, "h\u00e9llo\U0001F600")) == "");  // 6 code points
  REQUIRE(d.length() == 6);
  const DocState before = stateOf(d);

  auto checkRejected = [&](const quire::Result<void>& r, const char* what) {
    INFO(what);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == Error::Code::InvalidArgument);
    CHECK_FALSE(r.error().message().empty());
    CHECK(stateOf(d) == before);
    CHECK(d.checkInvariants() == "");
  };
  checkRejected(d.insert(7, "x"), "insert one past the end");
  checkRejected(d.insert(kMax, "x"), "insert at UINT32_MAX");
  checkRejected(d.remove(6, 1), "remove at the end");
  checkRejected(d.remove(0, 7), "remove one more than the length");
  checkRejected(d.remove(5, 2), "remove running past the end");
  checkRejected(d.remove(7, 0), "remove nothing past the end");
  checkRejected(d.remove(kMax, 1), "remove at UINT32_MAX");
  checkRejected(d.remove(1, kMax), "remove a count that overflows pos + count");
  checkRejected(d.remove(kMax, kMax), "remove where pos and count both overflow");
  CHECK(d.text() == "h\u00e9llo\U0001F600");
}

TEST_CASE("invalid UTF-8 fails with InvalidArgument and changes nothing", "[engine]") {
  Document d(replicaId(1));
  REQUIRE(errorOf(d.insert(0, "abc")) == "");
  const DocState before = stateOf(d);
  const std::vector<std::string> bad = {
      "\xff",                  // never valid
      "\x80",                  // stray continuation byte
      "\xc3",                  // truncated 2-byte sequence
      "\xe4\xb8",              // truncated 3-byte sequence
      "\xf0\x9f\x98",          // truncated emoji
      "\xc0\xaf",              // overlong '/'
      "\xe0\x80\xaf",          // overlong, 3 bytes
      "\xed\xa0\x80",          // UTF-16 surrogate half
      "\xf4\x90\x80\x80",      // above U+10FFFF
      "ok\xff",                // valid prefix, then garbage
      "\U0001F600\xf0\x9f",    // emoji, then a truncated one
      std::string("a\xe2\x82", 3),
  };
  for (std::size_t i = 0; i < bad.size(); ++i) {
    INFO("bad string #" << i << ": " << hexDump({bad[i].begin(), bad[i].end()}));
    auto r = d.insert(1, bad[i]);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == Error::Code::InvalidArgument);
    CHECK(stateOf(d) == before);
  }
  CHECK(d.checkInvariants() == "");
}

TEST_CASE("length, opCount and version count every inserted and deleted code point",
          "[engine]") {
  const auto me = replicaId(1);
  Document d(me);
  CHECK(d.length() == 0);
  CHECK(d.opCount() == 0);
  CHECK(d.nextLv() == 0);
  CHECK(d.version() == VersionVector{});

  REQUIRE(errorOf(d.insert(0, "a\U0001F600c")) == "");
  CHECK(d.length() == 3);
  CHECK(d.opCount() == 3);
  CHECK(d.nextLv() == 3);
  CHECK(d.version().get(me) == 3);

  REQUIRE(errorOf(d.remove(0, 2)) == "");
  CHECK(d.length() == 1);
  CHECK(d.opCount() == 5);
  CHECK(d.nextLv() == 5);
  CHECK(d.version().get(me) == 5);
  CHECK(d.version().total() == 5);
  CHECK(d.version().entries().size() == 1);
}

TEST_CASE("textAt a past version gives the text as it was then", "[engine]") {
  const auto seed = testSeed(GENERATE(range(0, 10)));
  INFO("seed " << seed);
  Rng rng(seed);
  EditingReplica a(replicaId(1));
  EditingReplica b(replicaId(2));
  std::vector<std::pair<VersionVector, std::string>> snapshots;
  snapshots.emplace_back(a.doc.version(), a.doc.text());
  for (int i = 0; i < 300; ++i) {
    // Mostly a's own edits; sometimes b's concurrent edits arrive.
    if (rng.chance(0.1)) {
      for (int k = 0; k < 5; ++k) REQUIRE(randomLocalEdit(rng, b, mixedAlphabet()) == "");
      REQUIRE(sendMissing(b.doc, a.doc) == "");
      a.mirror = toU32(a.doc.text());
      REQUIRE(sendMissing(a.doc, b.doc) == "");
      b.mirror = toU32(b.doc.text());
    } else {
      REQUIRE(randomLocalEdit(rng, a, mixedAlphabet()) == "");
    }
    snapshots.emplace_back(a.doc.version(), a.doc.text());
  }
  // Every snapshot near the start and end, and a sample in between.
  for (std::size_t i = 0; i < snapshots.size(); ++i) {
    if (i > 10 && i + 10 < snapshots.size() && rng.below(8) != 0) continue;
    INFO("snapshot " << i << " at " << snapshots[i].first.toString());
    REQUIRE(a.doc.textAt(snapshots[i].first) == snapshots[i].second);
  }
  CHECK(a.doc.textAt(VersionVector{}) == "");
}

// ---------------------------------------------------------------------------------------------
// Live updates

TEST_CASE("an update since the receiver's version brings it to the sender's text and version",
          "[engine][format]") {
  Document a(replicaId(1));
  Document b(replicaId(2));
  REQUIRE(errorOf(a.insert(0, "hello \U0001F30D")) == "");
  REQUIRE(sendMissing(a, b) == "");
  CHECK(b.text() == a.text());
  CHECK(b.version() == a.version());

  REQUIRE(errorOf(b.insert(6, "big ")) == "");
  REQUIRE(errorOf(b.remove(0, 1)) == "");
  REQUIRE(sendMissing(b, a) == "");
  CHECK(a.text() == "ello big \U0001F30D");
  CHECK(a.version() == b.version());

  // Concurrent edits on both sides converge.
  REQUIRE(errorOf(a.insert(0, "H")) == "");
  REQUIRE(errorOf(b.insert(b.length(), "!")) == "");
  REQUIRE(syncPair(a, b) == "");
  CHECK(a.text() == "Hello big \U0001F30D!");
  CHECK(b.text() == a.text());
  CHECK(a.version() == b.version());
  CHECK(a.checkInvariants() == "");
  CHECK(b.checkInvariants() == "");
}

TEST_CASE("patches from applyUpdate turn the receiver's old text into its new text",
          "[engine][format]") {
  SECTION("a remote insert and delete in the middle") {
    Document a(replicaId(1));
    Document b(replicaId(2));
    REQUIRE(errorOf(a.insert(0, "abc\U0001F600def")) == "");
    std::u32string bm;
    applyChecked(b, bm, a.encodeUpdateSince(b.version()));
    const LV lv = a.nextLv();
    REQUIRE(errorOf(a.remove(2, 3)) == "");
    REQUIRE(errorOf(a.insert(2, "XY")) == "");
    auto patches = applyChecked(b, bm, a.encodeOpsSince(lv));
    CHECK_FALSE(patches.empty());
    CHECK(b.text() == "abXYef");
  }

  SECTION("random concurrent edits on three replicas") {
    const auto seed = testSeed(GENERATE(range(0, 40)));
    INFO("seed " << seed);
    Rng rng(seed);
    std::vector<EditingReplica> reps;
    for (std::uint8_t i = 0; i < 3; ++i) reps.emplace_back(replicaId(i + 1, rng.next()));
    for (int round = 0; round < 12; ++round) {
      // Each replica edits concurrently, collecting its keystroke updates.
      std::vector<std::vector<std::vector<std::uint8_t>>> sent(reps.size());
      for (std::size_t i = 0; i < reps.size(); ++i) {
        const int edits = static_cast<int>(rng.below(8));
        for (int k = 0; k < edits; ++k) {
          const LV lv = reps[i].doc.nextLv();
          REQUIRE(randomLocalEdit(rng, reps[i], mixedAlphabet()) == "");
          sent[i].push_back(reps[i].doc.encodeOpsSince(lv));
        }
      }
      // Everyone receives everyone else's updates, senders in a random order.
      for (std::size_t to = 0; to < reps.size(); ++to) {
        std::vector<std::size_t> order = {0, 1, 2};
        std::swap(order[rng.below(3)], order[rng.below(3)]);
        for (std::size_t from : order) {
          if (from == to) continue;
          for (const auto& u : sent[from]) applyChecked(reps[to].doc, reps[to].mirror, u);
        }
      }
    }
    for (auto& r : reps) {
      CHECK(r.doc.text() == reps[0].doc.text());
      CHECK(r.doc.version() == reps[0].doc.version());
      CHECK(r.doc.checkInvariants() == "");
    }
  }
}

TEST_CASE("applying the same update twice changes nothing the second time", "[engine][format]") {
  Document a(replicaId(1));
  Document b(replicaId(2));
  REQUIRE(errorOf(a.insert(0, "one two three")) == "");
  REQUIRE(errorOf(a.remove(3, 4)) == "");
  const auto update = a.encodeUpdateSince(VersionVector{});

  auto first = b.applyUpdate(update);
  REQUIRE(errorOf(first) == "");
  CHECK(b.text() == "one three");
  const DocState after = stateOf(b);

  auto second = b.applyUpdate(update);
  REQUIRE(errorOf(second) == "");
  CHECK(second->empty());
  CHECK(stateOf(b) == after);

  // Also when only part of the update is new: the old part is skipped.
  REQUIRE(errorOf(a.insert(0, ">")) == "");
  std::u32string mirror = toU32(b.text());
  applyChecked(b, mirror, a.encodeUpdateSince(VersionVector{}));
  CHECK(b.text() == ">one three");
  CHECK(b.checkInvariants() == "");
}

TEST_CASE("ops whose dependencies are missing wait until the missing ops arrive",
          "[engine][format]") {
  Document a(replicaId(1));
  std::vector<std::vector<std::uint8_t>> keystrokes;
  for (char32_t c : std::u32string(U"ab\u00e7")) {
    const LV lv = a.nextLv();
    REQUIRE(errorOf(a.insert(a.length(), toUtf8(c))) == "");
    keystrokes.push_back(a.encodeOpsSince(lv));
  }
  LV lv = a.nextLv();
  REQUIRE(errorOf(a.remove(1, 1)) == "");  // deletes 'b'
  keystrokes.push_back(a.encodeOpsSince(lv));
  REQUIRE(a.text() == "a\u00e7");

  Document b(replicaId(2));
  std::u32string mirror;
  // The delete of 'b' first: it names a character b has never seen.
  applyChecked(b, mirror, keystrokes[3]);
  CHECK(b.text() == "");
  CHECK(b.pendingOpCount() > 0);
  CHECK(b.version() == VersionVector{});
  // The third character: its left neighbour is missing.
  applyChecked(b, mirror, keystrokes[2]);
  CHECK(b.text() == "");
  CHECK(b.pendingOpCount() > 0);
  // The first character: 'a' shows, the rest still waits for 'b'.
  applyChecked(b, mirror, keystrokes[0]);
  CHECK(b.text() == "a");
  CHECK(b.pendingOpCount() > 0);
  // 'b' arrives: everything applies, including the waiting delete.
  applyChecked(b, mirror, keystrokes[1]);
  CHECK(b.text() == "a\u00e7");
  CHECK(b.pendingOpCount() == 0);
  CHECK(b.version() == a.version());
  CHECK(b.checkInvariants() == "");
}

TEST_CASE("an update that would leave too many ops waiting is refused and changes nothing",
          "[engine][format]") {
  Document a(replicaId(1));
  REQUIRE(errorOf(a.insert(0, "x")) == "");
  const std::vector<std::uint8_t> first = a.encodeOpsSince(0);
  // Ops that all wait for "x": one more than the limit, then exactly the limit.
  const LV lv = a.nextLv();
  const std::string big(Document::kMaxPendingOps + 1, 'y');
  REQUIRE(errorOf(a.insert(1, big)) == "");
  const std::vector<std::uint8_t> tooMany = a.encodeOpsSince(lv);

  Document b(replicaId(2));
  auto refused = b.applyUpdate(tooMany);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code() == quire::Error::Code::Malformed);
  CHECK_THAT(refused.error().message(), Catch::Contains("waiting for dependencies"));
  CHECK(b.pendingOpCount() == 0);
  CHECK(b.version() == VersionVector{});
  // Once the dependency is there, the same update applies.
  REQUIRE(errorOf(b.applyUpdate(first)) == "");
  REQUIRE(errorOf(b.applyUpdate(tooMany)) == "");
  CHECK(b.text() == a.text());
  CHECK(b.pendingOpCount() == 0);
}

TEST_CASE("a truncated, bit-flipped or garbage update is rejected and changes nothing",
          "[engine][format]") {
  // The receiver holds some shared text and one op waiting for a dependency, so a partial
  // application would show in text, version or pendingOpCount.
  Document a(replicaId(1));
  Document b(replicaId(2));
  REQUIRE(errorOf(a.insert(0, "shared \u00e9 text")) == "");
  REQUIRE(sendMissing(a, b) == "");
  const LV lv1 = a.nextLv();
  REQUIRE(errorOf(a.insert(7, "new \U0001F600 ")) == "");
  const auto missing = a.encodeOpsSince(lv1);
  const LV lv2 = a.nextLv();
  REQUIRE(errorOf(a.insert(0, ">")) == "");
  REQUIRE(errorOf(a.remove(3, 2)) == "");
  const auto waiting = a.encodeOpsSince(lv2);
  {
    auto r = b.applyUpdate(waiting);
    REQUIRE(errorOf(r) == "");
  }
  REQUIRE(b.pendingOpCount() > 0);
  const Document receiver = b;
  const DocState before = stateOf(receiver);

  // The update under test: everything a has that b lacks, from a third agent too.
  Document c(replicaId(3));
  REQUIRE(sendMissing(a, c) == "");
  REQUIRE(errorOf(c.insert(c.length(), " from c")) == "");
  REQUIRE(sendMissing(c, a) == "");
  const auto valid = a.encodeUpdateSince(receiver.version());
  REQUIRE(valid.size() > 8);

  auto expectRejected = [&](const std::vector<std::uint8_t>& bytes, const std::string& what) {
    Document d = receiver;
    INFO(what << "; " << hexDump(bytes));
    auto r = d.applyUpdate(bytes);
    CHECK_FALSE(r.has_value());
    if (!r) {
      CHECK_FALSE(r.error().message().empty());
      CHECK(stateOf(d) == before);
    }
    CHECK(d.checkInvariants() == "");
  };
  // Either rejected without change, or accepted into a valid document whose patches fit.
  auto expectRejectedOrValid = [&](const std::vector<std::uint8_t>& bytes, const std::string& what) {
    Document d = receiver;
    INFO(what << "; " << hexDump(bytes));
    auto r = d.applyUpdate(bytes);
    if (!r) {
      CHECK(stateOf(d) == before);
    } else {
      std::u32string mirror = toU32(before.text);
      auto problem = applyPatches(mirror, *r);
      CHECK_FALSE(problem.has_value());
      CHECK(toUtf8(mirror) == d.text());
    }
    CHECK(d.checkInvariants() == "");
  };

  SECTION("every strict prefix is rejected") {
    for (std::size_t n = 0; n < valid.size(); ++n) {
      expectRejected({valid.begin(), valid.begin() + static_cast<std::ptrdiff_t>(n)},
                     "prefix of " + std::to_string(n) + " bytes");
    }
  }
  SECTION("a flipped bit in the first byte is rejected") {
    for (int bit = 0; bit < 8; ++bit) {
      auto bytes = valid;
      bytes[0] ^= static_cast<std::uint8_t>(1u << bit);
      expectRejected(bytes, "bit " + std::to_string(bit) + " of byte 0 flipped");
    }
  }
  SECTION("any flipped bit is rejected atomically or gives a valid document") {
    for (std::size_t i = 0; i < valid.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        auto bytes = valid;
        bytes[i] ^= static_cast<std::uint8_t>(1u << bit);
        expectRejectedOrValid(bytes, "bit " + std::to_string(bit) + " of byte " +
                                         std::to_string(i) + " flipped");
      }
    }
  }
  SECTION("garbage is rejected") {
    Rng rng(99);
    for (int i = 0; i < 300; ++i) {
      std::vector<std::uint8_t> bytes(rng.below(200) + 1);
      for (auto& x : bytes) x = static_cast<std::uint8_t>(rng.next());
      if (bytes[0] == valid[0]) bytes[0] ^= 0x5A;
      expectRejected(bytes, "garbage #" + std::to_string(i));
    }
  }
  SECTION("the valid update itself applies, including the waiting ops") {
    Document d = receiver;
    std::u32string mirror = toU32(before.text);
    applyChecked(d, mirror, valid);
    CHECK(d.text() == a.text());
    CHECK(d.version() == a.version());
    CHECK(d.pendingOpCount() == 0);
    (void)missing;
  }
}

TEST_CASE("a rejected update leaves the receiver's stream context unchanged", "[engine][format]") {
  Document a(replicaId(1));
  Document b(replicaId(2));
  Document c(replicaId(3));
  StreamContext aOut;  // a -> b
  StreamContext bIn;
  std::u32string mirror;

  LV lv = a.nextLv();
  REQUIRE(errorOf(a.insert(0, "first")) == "");
  applyChecked(b, mirror, a.encodeOpsSince(lv, &aOut), &bIn);
  REQUIRE(bIn.agents.size() == 1);

  // c's ops reach a, then a forwards them on the stream: this update announces a new agent.
  REQUIRE(errorOf(c.insert(0, "from c ")) == "");
  lv = a.nextLv();
  REQUIRE(sendMissing(c, a) == "");
  StreamContext aOutBefore = aOut;
  const auto announcing = a.encodeOpsSince(lv, &aOut);
  CHECK(aOut.agents.size() == aOutBefore.agents.size() + 1);

  const StreamContext bInBefore = bIn;
  const DocState before = stateOf(b);
  for (std::size_t n = 0; n < announcing.size(); ++n) {
    StreamContext ctx = bIn;
    Document d = b;
    INFO("prefix of " << n << " bytes of " << hexDump(announcing));
    auto r = d.applyUpdate({announcing.data(), n}, &ctx);
    CHECK_FALSE(r.has_value());
    if (!r) {
      CHECK(ctx.agents == bInBefore.agents);
      CHECK(stateOf(d) == before);
    }
  }
  // The whole update applies and extends the context.
  applyChecked(b, mirror, announcing, &bIn);
  CHECK(bIn.agents.size() == 2);
  CHECK(b.text() == a.text());

  // An update that refers to an agent index the receiver's context does not have is rejected.
  StreamContext fresh;
  lv = a.nextLv();
  REQUIRE(errorOf(a.insert(0, "x")) == "");
  const auto byIndex = a.encodeOpsSince(lv, &aOut);
  Document d = b;
  const DocState dBefore = stateOf(d);
  auto r = d.applyUpdate(byIndex, &fresh);
  if (!r) {
    CHECK(fresh.agents.empty());
    CHECK(stateOf(d) == dBefore);
  } else {
    // Only acceptable if the update was self-contained after all.
    CHECK(d.text() == a.text());
  }
}

TEST_CASE("a stream context makes later updates smaller and the receiver decodes them",
          "[engine][format]") {
  Document a(replicaId(1));
  Document b(replicaId(2));
  StreamContext aOut;
  StreamContext bIn;
  std::u32string mirror;
  std::vector<std::size_t> sizes;
  const std::u32string typed = U"Stream me, \u00e9\U0001F600 please";
  for (char32_t ch : typed) {
    const LV lv = a.nextLv();
    REQUIRE(errorOf(a.insert(a.length(), toUtf8(ch))) == "");
    const auto selfContained = a.encodeOpsSince(lv);
    const auto onStream = a.encodeOpsSince(lv, &aOut);
    if (!sizes.empty()) {
      INFO("keystroke " << sizes.size());
      CHECK(onStream.size() < selfContained.size());
    }
    sizes.push_back(onStream.size());
    applyChecked(b, mirror, onStream, &bIn);
  }
  for (std::size_t i = 1; i < sizes.size(); ++i) {
    INFO("keystroke " << i);
    CHECK(sizes[i] < sizes[0]);
  }
  CHECK(b.text() == a.text());
  CHECK(b.version() == a.version());
  CHECK(bIn.agents == aOut.agents);

  // The other direction keeps its own context.
  StreamContext bOut;
  StreamContext aIn;
  std::u32string aMirror = toU32(a.text());
  for (int i = 0; i < 5; ++i) {
    const LV lv = b.nextLv();
    REQUIRE(errorOf(b.insert(0, "<")) == "");
    applyChecked(a, aMirror, b.encodeOpsSince(lv, &bOut), &aIn);
  }
  CHECK(a.text() == b.text());
}

TEST_CASE("a typed character continuing a run is at most 8 bytes on a warm stream",
          "[engine][format]") {
  Document a(replicaId(1));
  Document b(replicaId(2));
  // Some existing text from another replica, so the run does not start at the beginning.
  REQUIRE(errorOf(b.insert(0, "Existing text. ")) == "");
  REQUIRE(sendMissing(b, a) == "");
  StreamContext aOut;
  StreamContext bIn;
  std::u32string mirror = toU32(b.text());
  for (char ch : std::string("Warm ")) {
    const LV lv = a.nextLv();
    REQUIRE(errorOf(a.insert(a.length(), std::string(1, ch))) == "");
    applyChecked(b, mirror, a.encodeOpsSince(lv, &aOut), &bIn);
  }
  for (char ch : std::string("keystrokes")) {
    const LV lvBeforeKeystroke = a.nextLv();
    REQUIRE(errorOf(a.insert(a.length(), std::string(1, ch))) == "");
    const auto bytes = a.encodeOpsSince(lvBeforeKeystroke, &aOut);
    INFO("keystroke '" << ch << "': " << hexDump(bytes));
    CHECK(bytes.size() <= 8);
    applyChecked(b, mirror, bytes, &bIn);
  }
  CHECK(b.text() == a.text());
}

TEST_CASE("encodeUpdateBetween(from, to) brings a copy at `from` exactly to `to`",
          "[engine][format]") {
  const auto seed = testSeed(GENERATE(range(0, 8)));
  INFO("seed " << seed);
  Rng rng(seed);
  EditingReplica a(replicaId(1));
  EditingReplica b(replicaId(2));
  std::vector<Document> snapshots;
  snapshots.push_back(a.doc);
  for (int i = 0; i < 60; ++i) {
    if (rng.chance(0.2)) {
      for (int k = 0; k < 4; ++k) REQUIRE(randomLocalEdit(rng, b, mixedAlphabet()) == "");
      REQUIRE(syncPair(a.doc, b.doc) == "");
      a.mirror = toU32(a.doc.text());
      b.mirror = toU32(b.doc.text());
    } else {
      REQUIRE(randomLocalEdit(rng, a, mixedAlphabet()) == "");
    }
    snapshots.push_back(a.doc);
  }
  for (int k = 0; k < 40; ++k) {
    std::size_t i = rng.below(static_cast<std::uint32_t>(snapshots.size()));
    std::size_t j = rng.below(static_cast<std::uint32_t>(snapshots.size()));
    if (i > j) std::swap(i, j);
    const VersionVector from = snapshots[i].version();
    const VersionVector to = snapshots[j].version();
    INFO("from " << from.toString() << " to " << to.toString());
    Document copy = snapshots[i];
    std::u32string mirror = toU32(copy.text());
    applyChecked(copy, mirror, a.doc.encodeUpdateBetween(from, to));
    CHECK(copy.version() == to);
    CHECK(copy.text() == snapshots[j].text());
    CHECK(copy.pendingOpCount() == 0);
  }
}
