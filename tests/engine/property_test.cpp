// Seeded property tests over many replicas (../shared/style.md, "Tests"): convergence over a link
// that drops, duplicates, reorders and partitions; history encode -> decode identity; a whole
// document as one update; per-user undo. Each case prints its seed; rerun one with
// `quire_engine_tests "<name>" --rng-seed <n>` to explore other seeds.
#include <algorithm>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <catch2/catch.hpp>

#include "engine/document.h"
#include "engine/undo_manager.h"
#include "tests/support/fake_link.h"
#include "tests/support/random_edits.h"
#include "tests/support/test_util.h"

using quire::engine::Document;
using quire::engine::LV;
using quire::engine::StreamContext;
using quire::engine::UndoManager;
using quire::engine::UndoStep;
using quire::engine::VersionVector;
using namespace quire::test;

namespace {

// Applies a remote update to `to` and its mirror; the patches must turn the mirror into the text.
void deliverMirrored(EditingReplica& to, std::span<const std::uint8_t> bytes) {
  auto r = to.doc.applyUpdate(bytes);
  REQUIRE(errorOf(r) == "");
  auto problem = applyPatches(to.mirror, *r);
  INFO("patches " << Catch::Detail::stringify(*r));
  REQUIRE(problem.value_or("") == "");
}

void sendMirrored(const EditingReplica& from, EditingReplica& to) {
  deliverMirrored(to, from.doc.encodeUpdateSince(to.doc.version()));
}

void requireMirrorMatches(const EditingReplica& r, std::size_t index) {
  INFO("replica " << index);
  REQUIRE(r.doc.length() == r.mirror.size());
  REQUIRE(r.doc.text() == toUtf8(r.mirror));
}

void requireConverged(const std::vector<EditingReplica>& reps) {
  for (std::size_t i = 0; i < reps.size(); ++i) {
    INFO("replica " << i << " vs replica 0");
    CHECK(reps[i].doc.pendingOpCount() == 0);
    CHECK(reps[i].doc.version() == reps[0].doc.version());
    REQUIRE(reps[i].doc.text() == reps[0].doc.text());
    CHECK(reps[i].doc.checkInvariants() == "");
    requireMirrorMatches(reps[i], i);
  }
}

// N replicas edit at random and swap keystroke updates over a faulty link, with occasional
// anti-entropy (an update since the receiver's version, also over the faulty link). At the end the
// link heals, queued messages arrive, and one reliable anti-entropy pass runs; then every replica
// must hold the same text and version. Every applied update's patches are checked against a plain
// string per replica throughout.
void runConvergence(std::uint64_t seed) {
  Rng rng(seed);
  const std::size_t n = rng.between(3, 8);
  std::vector<EditingReplica> reps;
  reps.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    reps.emplace_back(replicaId(static_cast<std::uint8_t>(rng.next()), rng.next()));
  }
  LinkFaults faults;
  faults.drop = static_cast<double>(rng.below(30)) / 100.0;
  faults.duplicate = static_cast<double>(rng.below(10)) / 100.0;
  faults.reorder = static_cast<double>(rng.below(80)) / 100.0;
  FakeLink link(n, rng.next(), faults);
  INFO(n << " replicas; drop " << faults.drop << ", duplicate " << faults.duplicate
         << ", reorder " << faults.reorder);

  EditMix mix;
  mix.pasteShare = 0.01;
  mix.maxLength = 20000;
  const auto handler = [&](std::size_t to, std::span<const std::uint8_t> bytes) {
    deliverMirrored(reps[to], bytes);
  };

  // Versions and texts some replica was at, and anchors some replica made, checked at the end.
  std::vector<std::pair<VersionVector, std::string>> snapshots;
  std::vector<quire::engine::Anchor> anchors;

  const int steps = static_cast<int>(rng.between(40, 300));
  for (int step = 0; step < steps; ++step) {
    if (rng.chance(0.05)) {
      const auto& doc = reps[rng.below(static_cast<std::uint32_t>(n))].doc;
      snapshots.emplace_back(doc.version(), doc.text());
      anchors.push_back(doc.anchorAt(rng.between(0, doc.length()),
                                     rng.chance(0.5) ? quire::engine::Bias::Before
                                                     : quire::engine::Bias::After));
    }
    const std::uint32_t roll = rng.below(100);
    if (roll < 55) {
      const std::size_t i = rng.below(static_cast<std::uint32_t>(n));
      const LV lv = reps[i].doc.nextLv();
      const int edits = static_cast<int>(rng.between(1, 6));
      for (int k = 0; k < edits; ++k) {
        REQUIRE(randomLocalEdit(rng, reps[i], mixedAlphabet(), mix) == "");
      }
      link.broadcast(i, reps[i].doc.encodeOpsSince(lv));
    } else if (roll < 85) {
      link.deliver(rng.between(1, 12), handler);
    } else if (roll < 90) {
      if (link.partitioned()) {
        link.heal();
      } else {
        link.partitionRandomly();
      }
    } else {
      const std::size_t from = rng.below(static_cast<std::uint32_t>(n));
      const std::size_t to = rng.below(static_cast<std::uint32_t>(n));
      if (from != to) link.send(from, to, reps[from].doc.encodeUpdateSince(reps[to].doc.version()));
    }
    if (step % 16 == 0) {
      for (std::size_t i = 0; i < n; ++i) requireMirrorMatches(reps[i], i);
    }
  }

  link.heal();
  link.deliverAll(handler);
  for (std::size_t from = 0; from < n; ++from) {
    for (std::size_t to = 0; to < n; ++to) {
      if (from != to) sendMirrored(reps[from], reps[to]);
    }
  }
  requireConverged(reps);

  // Any replica's past version is causally closed, so every converged copy can show its text.
  const Document& check = reps[rng.below(static_cast<std::uint32_t>(n))].doc;
  for (std::size_t i = 0; i < snapshots.size(); ++i) {
    INFO("snapshot " << i << " at " << snapshots[i].first.toString());
    CHECK(check.textAt(snapshots[i].first) == snapshots[i].second);
  }
  // An anchor resolves to the same place on every converged copy.
  for (std::size_t i = 0; i < anchors.size(); ++i) {
    INFO("anchor " << i);
    const auto where = reps[0].doc.resolveAnchor(anchors[i]);
    REQUIRE(where.has_value());
    CHECK(*where <= reps[0].doc.length());
    for (std::size_t k = 1; k < n; ++k) CHECK(reps[k].doc.resolveAnchor(anchors[i]) == where);
  }
}

// A document edited by 2-4 replicas with random pairwise syncs, and the (version, text) pairs
// replica 0 passed through.
struct RandomHistory {
  std::vector<EditingReplica> reps;
  std::vector<std::pair<VersionVector, std::string>> snapshots;  // of reps[0]
};

RandomHistory makeRandomHistory(Rng& rng) {
  RandomHistory h;
  const std::size_t n = rng.between(2, 4);
  for (std::size_t i = 0; i < n; ++i) {
    h.reps.emplace_back(replicaId(static_cast<std::uint8_t>(rng.next()), rng.next()));
  }
  EditMix mix;
  mix.pasteShare = 0.02;
  h.snapshots.emplace_back(h.reps[0].doc.version(), h.reps[0].doc.text());
  const int steps = static_cast<int>(rng.between(20, 150));
  for (int step = 0; step < steps; ++step) {
    const std::size_t i = rng.below(static_cast<std::uint32_t>(n));
    if (rng.chance(0.15)) {
      const std::size_t j = rng.below(static_cast<std::uint32_t>(n));
      if (i != j) sendMirrored(h.reps[i], h.reps[j]);
    } else {
      REQUIRE(randomLocalEdit(rng, h.reps[i], mixedAlphabet(), mix) == "");
    }
    if (h.snapshots.back().first != h.reps[0].doc.version()) {
      h.snapshots.emplace_back(h.reps[0].doc.version(), h.reps[0].doc.text());
    }
  }
  return h;
}

// Counts of each code point not in `own`.
std::unordered_map<char32_t, int> countOthers(const std::string& text, const Alphabet& own) {
  std::unordered_map<char32_t, int> counts;
  for (char32_t c : toU32(text)) {
    if (!own.contains(c)) ++counts[c];
  }
  return counts;
}

// A random edit by replica 0 through its UndoManager.
void undoableEdit(Rng& rng, EditingReplica& r, UndoManager& undo, std::uint64_t nowMs) {
  const auto length = static_cast<std::uint32_t>(r.mirror.size());
  if (length == 0 || rng.chance(0.7)) {
    const std::uint32_t pos = rng.chance(0.7) ? std::min(r.caret, length) : rng.between(0, length);
    const std::u32string text =
        randomText(rng, replicaAlphabet(0), rng.chance(0.8) ? 1 : rng.between(2, 30));
    REQUIRE(errorOf(undo.insert(pos, toUtf8(text), nowMs)) == "");
    r.mirror.insert(pos, text);
    r.caret = pos + static_cast<std::uint32_t>(text.size());
  } else {
    const std::uint32_t pos = rng.below(length);
    const std::uint32_t count = std::min(length - pos, rng.chance(0.7) ? 1u : rng.between(1, 20));
    REQUIRE(errorOf(undo.remove(pos, count, nowMs)) == "");
    r.mirror.erase(pos, count);
    r.caret = pos;
  }
}

}  // namespace

TEST_CASE("replicas converge over a link that drops, duplicates, reorders and partitions",
          "[engine][props]") {
  const auto seed = testSeed(GENERATE(range(0, 200)));
  INFO("seed " << seed);
  runConvergence(seed);
}

TEST_CASE("replicas converge over a faulty link (soak)", "[engine][props][.soak]") {
  const auto seed = testSeed(GENERATE(range(0, 20000)));
  INFO("seed " << seed);
  runConvergence(seed);
}

TEST_CASE("decodeHistory(encodeHistory()) keeps text, version and past texts",
          "[engine][props][format]") {
  const auto seed = testSeed(GENERATE(range(0, 200)));
  INFO("seed " << seed);
  Rng rng(seed);
  RandomHistory h = makeRandomHistory(rng);
  const Document& doc = h.reps[0].doc;
  const auto bytes = doc.encodeHistory();
  auto decoded = Document::decodeHistory(bytes, replicaId(0xFE, rng.next()));
  REQUIRE(errorOf(decoded) == "");
  CHECK(decoded->text() == doc.text());
  CHECK(decoded->version() == doc.version());
  CHECK(decoded->length() == doc.length());
  CHECK(decoded->opCount() == doc.opCount());
  CHECK(decoded->checkInvariants() == "");
  for (int k = 0; k < 12; ++k) {
    const auto& [version, text] =
        h.snapshots[rng.below(static_cast<std::uint32_t>(h.snapshots.size()))];
    INFO("past version " << version.toString());
    CHECK(doc.textAt(version) == text);
    CHECK(decoded->textAt(version) == text);
  }
  // Encoding the decoded document again decodes to the same document.
  auto again = Document::decodeHistory(decoded->encodeHistory(), replicaId(0xFD));
  REQUIRE(errorOf(again) == "");
  CHECK(again->text() == doc.text());
  CHECK(again->version() == doc.version());

  // Decoded as its own replica, the document keeps editing where it left off: the new ops follow
  // the old ones and another copy accepts them.
  auto resumed = Document::decodeHistory(bytes, doc.localReplica());
  REQUIRE(errorOf(resumed) == "");
  const LV lv = resumed->nextLv();
  REQUIRE(errorOf(resumed->insert(0, "\U0001F4DD")) == "");
  Document other(replicaId(0xFB, rng.next()));
  REQUIRE(sendMissing(doc, other) == "");
  auto r = other.applyUpdate(resumed->encodeOpsSince(lv));
  REQUIRE(errorOf(r) == "");
  CHECK(other.text() == resumed->text());
  CHECK(other.version() == resumed->version());
}

TEST_CASE("a whole document sent as one update rebuilds it on an empty document",
          "[engine][props][format]") {
  const auto seed = testSeed(GENERATE(range(0, 200)));
  INFO("seed " << seed);
  Rng rng(seed);
  RandomHistory h = makeRandomHistory(rng);
  const Document& doc = h.reps[rng.below(static_cast<std::uint32_t>(h.reps.size()))].doc;
  EditingReplica empty(replicaId(0xFC, rng.next()));
  deliverMirrored(empty, doc.encodeUpdateSince(VersionVector{}));
  CHECK(empty.doc.text() == doc.text());
  CHECK(empty.doc.version() == doc.version());
  CHECK(empty.doc.pendingOpCount() == 0);
  CHECK(empty.doc.checkInvariants() == "");
  CHECK(toUtf8(empty.mirror) == doc.text());
}

TEST_CASE("undo never removes another user's text (seeded)", "[engine][props][undo]") {
  const auto seed = testSeed(GENERATE(range(0, 200)));
  INFO("seed " << seed);
  Rng rng(seed);
  const std::size_t n = rng.between(2, 4);
  std::vector<EditingReplica> reps;
  reps.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    reps.emplace_back(replicaId(static_cast<std::uint8_t>(rng.next()), rng.next()));
  }
  const Alphabet& mine = replicaAlphabet(0);
  UndoManager undo(reps[0].doc, 1000);
  std::uint64_t now = 0;

  auto othersEditAndSync = [&](double syncChance) {
    const std::size_t i = 1 + rng.below(static_cast<std::uint32_t>(n - 1));
    const int edits = static_cast<int>(rng.below(4));
    for (int k = 0; k < edits; ++k) {
      REQUIRE(randomLocalEdit(rng, reps[i], replicaAlphabet(i)) == "");
    }
    if (rng.chance(syncChance)) {
      const std::size_t j = rng.below(static_cast<std::uint32_t>(n));
      if (i != j) {
        sendMirrored(reps[i], reps[j]);
        sendMirrored(reps[j], reps[i]);
      }
    }
  };

  // Phase 1: everyone edits; replica 0 through its UndoManager.
  const int steps = static_cast<int>(rng.between(20, 100));
  for (int step = 0; step < steps; ++step) {
    if (rng.chance(0.5)) {
      now += rng.below(1500);
      undoableEdit(rng, reps[0], undo, now);
      if (rng.chance(0.1)) undo.breakGroup();
    } else {
      othersEditAndSync(0.4);
    }
  }
  for (std::size_t i = 1; i < n; ++i) sendMirrored(reps[i], reps[0]);

  // Phase 2: replica 0 undoes everything while the others keep typing and syncing.
  int undos = 0;
  for (; undos < 100000; ++undos) {
    if (rng.chance(0.3)) othersEditAndSync(0.7);
    const auto before = countOthers(reps[0].doc.text(), mine);
    const std::optional<UndoStep> step = undo.undo();
    if (!step) break;
    INFO("undo #" << undos);
    auto problem = applyPatches(reps[0].mirror, step->patches);
    REQUIRE(problem.value_or("") == "");
    requireMirrorMatches(reps[0], 0);
    CHECK(step->caret <= reps[0].doc.length());
    const auto after = countOthers(reps[0].doc.text(), mine);
    for (const auto& [c, count] : before) {
      INFO("U+" << std::hex << static_cast<std::uint32_t>(c) << std::dec);
      const auto it = after.find(c);
      REQUIRE((it == after.end() ? 0 : it->second) >= count);
    }
  }
  CHECK_FALSE(undo.canUndo());

  // Everyone syncs; replica 0's own text is gone everywhere, the others' remains.
  for (int round = 0; round < 2; ++round) {
    for (std::size_t from = 0; from < n; ++from) {
      for (std::size_t to = 0; to < n; ++to) {
        if (from != to) sendMirrored(reps[from], reps[to]);
      }
    }
  }
  requireConverged(reps);
  for (char32_t c : toU32(reps[0].doc.text())) {
    INFO("U+" << std::hex << static_cast<std::uint32_t>(c));
    CHECK_FALSE(mine.contains(c));
  }
}

// A hub (like a relay or a peer everyone connects to) and spokes, linked by ordered, lossless
// streams, each direction with its own StreamContext on both ends. The hub forwards what it
// receives, so updates announce third-party agents on the stream.
TEST_CASE("replicas converge through a forwarding hub on stream contexts (seeded)",
          "[engine][props][format]") {
  const auto seed = testSeed(GENERATE(range(0, 100)));
  INFO("seed " << seed);
  Rng rng(seed);
  const std::size_t n = rng.between(3, 6);  // replica 0 is the hub
  std::vector<EditingReplica> reps;
  reps.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    reps.emplace_back(replicaId(static_cast<std::uint8_t>(rng.next()), rng.next()));
  }
  struct Stream {
    StreamContext out;  // sender's side
    StreamContext in;   // receiver's side
    std::deque<std::vector<std::uint8_t>> queue;
  };
  // toHub[i]: spoke i -> hub; fromHub[i]: hub -> spoke i.
  std::vector<Stream> toHub(n), fromHub(n);
  auto hubForward = [&](LV since, std::size_t except) {
    for (std::size_t j = 1; j < n; ++j) {
      if (j == except) continue;
      auto bytes = reps[0].doc.encodeOpsSince(since, &fromHub[j].out);
      fromHub[j].queue.push_back(std::move(bytes));
    }
  };
  const int steps = static_cast<int>(rng.between(50, 250));
  for (int step = 0; step < steps; ++step) {
    const std::size_t i = rng.below(static_cast<std::uint32_t>(n));
    const std::uint32_t roll = rng.below(100);
    if (roll < 45) {  // i edits and sends
      const LV lv = reps[i].doc.nextLv();
      const int edits = static_cast<int>(rng.between(1, 4));
      for (int k = 0; k < edits; ++k) {
        REQUIRE(randomLocalEdit(rng, reps[i], mixedAlphabet()) == "");
      }
      if (i == 0) {
        hubForward(lv, 0);
      } else {
        toHub[i].queue.push_back(reps[i].doc.encodeOpsSince(lv, &toHub[i].out));
      }
    } else if (i == 0 || roll < 70) {  // the hub takes one message from a spoke
      const std::size_t from = 1 + rng.below(static_cast<std::uint32_t>(n - 1));
      if (toHub[from].queue.empty()) continue;
      const LV lv = reps[0].doc.nextLv();
      auto r = reps[0].doc.applyUpdate(toHub[from].queue.front(), &toHub[from].in);
      toHub[from].queue.pop_front();
      REQUIRE(errorOf(r) == "");
      REQUIRE(applyPatches(reps[0].mirror, *r).value_or("") == "");
      hubForward(lv, from);
    } else {  // spoke i takes one message from the hub
      if (fromHub[i].queue.empty()) continue;
      auto r = reps[i].doc.applyUpdate(fromHub[i].queue.front(), &fromHub[i].in);
      fromHub[i].queue.pop_front();
      REQUIRE(errorOf(r) == "");
      REQUIRE(applyPatches(reps[i].mirror, *r).value_or("") == "");
    }
  }
  // Drain: spokes to hub (the hub forwards), then hub to spokes.
  for (std::size_t from = 1; from < n; ++from) {
    while (!toHub[from].queue.empty()) {
      const LV lv = reps[0].doc.nextLv();
      auto r = reps[0].doc.applyUpdate(toHub[from].queue.front(), &toHub[from].in);
      toHub[from].queue.pop_front();
      REQUIRE(errorOf(r) == "");
      REQUIRE(applyPatches(reps[0].mirror, *r).value_or("") == "");
      hubForward(lv, from);
    }
  }
  for (std::size_t to = 1; to < n; ++to) {
    while (!fromHub[to].queue.empty()) {
      auto r = reps[to].doc.applyUpdate(fromHub[to].queue.front(), &fromHub[to].in);
      fromHub[to].queue.pop_front();
      REQUIRE(errorOf(r) == "");
      REQUIRE(applyPatches(reps[to].mirror, *r).value_or("") == "");
    }
    CHECK(fromHub[to].in.agents == fromHub[to].out.agents);
  }
  requireConverged(reps);
}
