#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "net/sync_hub.h"
#include "net/sync_session.h"
#include "tests/support/test_util.h"

using namespace quire;
using namespace quire::net;
using quire::test::replicaId;

namespace {

// Two sessions joined by two in-order queues (a WebSocket in each direction), counting bytes.
struct Pair {
  engine::Document& a;
  engine::Document& b;
  SyncSession sa;
  SyncSession sb;
  std::deque<Frame> toA, toB;
  std::size_t bytesToA = 0, bytesToB = 0;
  std::vector<Presence> presenceAtA, presenceAtB;
  bool disconnectA = false, disconnectB = false;

  Pair(engine::Document& da, engine::Document& db, const DocKey& key)
      : a(da), b(db), sa(da, key), sb(db, key) {}

  void sendToA(std::vector<Frame> frames) {
    for (auto& f : frames) bytesToA += f.size(), toA.push_back(std::move(f));
  }
  void sendToB(std::vector<Frame> frames) {
    for (auto& f : frames) bytesToB += f.size(), toB.push_back(std::move(f));
  }
  void connect() {
    sendToB({sa.start()});
    sendToA({sb.start()});
  }
  void run() {
    while (!toA.empty() || !toB.empty()) {
      if (!toA.empty()) {
        Frame f = std::move(toA.front());
        toA.pop_front();
        SessionOutput out = sa.receive(f);
        REQUIRE_FALSE(out.disconnect);
        for (auto& p : out.presence) presenceAtA.push_back(p);
        sendToB(std::move(out.frames));
      }
      if (!toB.empty()) {
        Frame f = std::move(toB.front());
        toB.pop_front();
        SessionOutput out = sb.receive(f);
        REQUIRE_FALSE(out.disconnect);
        for (auto& p : out.presence) presenceAtB.push_back(p);
        sendToA(std::move(out.frames));
      }
    }
  }
};

// Types `text` at `pos` one character at a time, sending each keystroke on the session.
void typeLive(engine::Document& doc, SyncSession& s, std::uint32_t pos, const std::string& text,
              std::vector<Frame>& outbox) {
  for (char c : text) {
    const engine::LV before = doc.nextLv();
    REQUIRE(doc.insert(pos++, std::string(1, c)));
    for (auto& f : s.localUpdate(before)) outbox.push_back(std::move(f));
  }
}

}  // namespace

TEST_CASE("two peers that edited offline converge after connecting", "[net][session]") {
  const DocKey key = generateKey();
  engine::Document a(replicaId(1)), b(replicaId(2));
  REQUIRE(a.insert(0, "shared start. "));
  REQUIRE(test::syncPair(a, b) == "");
  // Offline edits on both sides.
  REQUIRE(a.insert(a.length(), "alpha wrote this. "));
  REQUIRE(b.insert(0, "bravo first! "));
  REQUIRE(b.remove(13, 6));
  Pair p(a, b, key);
  p.connect();
  p.run();
  CHECK(a.text() == b.text());
  CHECK(a.version() == b.version());
  CHECK(a.checkInvariants() == "");
  CHECK(p.sa.synced());
  CHECK(p.sb.synced());
}

TEST_CASE("after hello only what the other side lacks crosses the wire", "[net][session]") {
  const DocKey key = generateKey();
  engine::Document a(replicaId(1)), b(replicaId(2));
  std::string big(20000, 'x');
  REQUIRE(a.insert(0, big));
  REQUIRE(test::syncPair(a, b) == "");
  REQUIRE(a.insert(5, "new"));  // b lacks 3 ops; a lacks nothing

  engine::Document expectB = b;
  const auto lacking = a.encodeUpdateSince(b.version());
  Pair p(a, b, key);
  p.connect();
  p.run();
  CHECK(a.text() == b.text());
  // To b: hello + one update frame holding exactly encodeUpdateSince(b's version).
  const std::size_t helloA = p.bytesToB - (1 + kSealOverhead + 2 + lacking.size());
  CHECK(helloA < 100);
  // To a: only b's hello; a lacked nothing, so no update frame was sent.
  CHECK(p.bytesToA < 100);
  INFO("bytes a->b " << p.bytesToB << ", b->a " << p.bytesToA << ", lacking " << lacking.size());
  CHECK(p.bytesToB < 200);  // not the 20 kB document
}

TEST_CASE("live keystrokes arrive one frame each, under 64 bytes", "[net][session]") {
  const DocKey key = generateKey();
  engine::Document a(replicaId(1)), b(replicaId(2));
  Pair p(a, b, key);
  p.connect();
  p.run();
  std::vector<Frame> outbox;
  typeLive(a, p.sa, 0, "hello world", outbox);
  REQUIRE(outbox.size() == 11);
  std::size_t total = 0;
  for (std::size_t i = 0; i < outbox.size(); ++i) {
    total += outbox[i].size();
    if (i > 0) CHECK(outbox[i].size() <= 64);  // the first one announces the agent
  }
  INFO("bytes per keystroke " << double(total) / 11);
  p.sendToB(std::move(outbox));
  p.run();
  CHECK(b.text() == "hello world");
  // And back the other way, concurrently with a.
  std::vector<Frame> fromB, fromA;
  typeLive(b, p.sb, 0, ">> ", fromB);
  typeLive(a, p.sa, a.length(), "!", fromA);
  p.sendToA(std::move(fromB));
  p.sendToB(std::move(fromA));
  p.run();
  CHECK(a.text() == b.text());
  CHECK(a.text() == ">> hello world!");
}

TEST_CASE("local edits before the peer's hello go in the catch-up, not twice", "[net][session]") {
  const DocKey key = generateKey();
  engine::Document a(replicaId(1)), b(replicaId(2));
  Pair p(a, b, key);
  p.connect();
  std::vector<Frame> early;
  typeLive(a, p.sa, 0, "early", early);
  CHECK(early.empty());  // not synced yet
  p.run();
  CHECK(b.text() == "early");
}

TEST_CASE("presence is held until the op its anchor names arrives", "[net][session]") {
  const DocKey key = generateKey();
  engine::Document a(replicaId(1)), b(replicaId(2));
  Pair p(a, b, key);
  p.connect();
  p.run();
  std::vector<Frame> ops;
  typeLive(a, p.sa, 0, "abc", ops);
  Presence me;
  me.replica = a.localReplica();
  me.clock = 1;
  me.name = "Alice";
  me.colour = 0xff8800;
  me.cursor = a.anchorAt(3, engine::Bias::Before);
  me.selection = a.anchorAt(1, engine::Bias::After);
  p.sa.setLocalPresence(me);
  auto presenceFrames = p.sa.flushPresence();
  REQUIRE(presenceFrames.size() == 1);
  CHECK(p.sa.flushPresence().empty());  // unchanged: coalesced away

  p.sendToB(std::move(ops));
  p.sendToB(std::move(presenceFrames));
  p.run();
  REQUIRE(p.presenceAtB.size() == 1);
  CHECK(p.presenceAtB[0] == me);
  CHECK(b.resolveAnchor(p.presenceAtB[0].cursor) == 3u);

  // A presence naming an op of a third replica that b has not received (it reached a's hub by
  // another path) is held, and released by the update that brings the op.
  engine::Document z(replicaId(9));
  REQUIRE(z.insert(0, "Z"));
  Presence zp;
  zp.replica = z.localReplica();
  zp.clock = 1;
  zp.name = "Zed";
  zp.cursor = z.anchorAt(1, engine::Bias::After);  // names the character Z
  zp.selection = zp.cursor;
  p.sendToB(p.sa.forwardPresence(zp));
  p.run();
  CHECK(p.presenceAtB.size() == 1);
  CHECK(p.sb.heldPresenceCount() == 1);
  const engine::LV before = a.nextLv();
  REQUIRE(a.applyUpdate(z.encodeUpdateSince(a.version())));
  p.sendToB(p.sa.localUpdate(before));
  p.run();
  REQUIRE(p.presenceAtB.size() == 2);
  CHECK(p.presenceAtB[1] == zp);
  CHECK(p.sb.heldPresenceCount() == 0);
  CHECK(b.resolveAnchor(zp.cursor).has_value());
}

namespace {

// b, holding a's "honest", is sent `forged` under a's ids by someone who holds the key.
// Returns b's output for the frame that carried it.
SessionOutput sendForgery(engine::Document& b, const std::string& forged) {
  const DocKey key = generateKey();
  engine::Document forger(replicaId(1));
  REQUIRE(forger.insert(0, forged));
  SyncSession sf(forger, key), sb(b, key);
  std::vector<Frame> toB{sf.start()};
  std::vector<Frame> toF{sb.start()};
  for (auto& f : toF) REQUIRE_FALSE(sf.receive(f).disconnect);
  for (auto& f : sf.localUpdate(0)) toB.push_back(std::move(f));  // the versions match: sent live
  SessionOutput last;
  for (auto& f : toB) {
    last = sb.receive(f);
    if (last.disconnect || last.rebuilt) break;
  }
  return last;
}

}  // namespace

TEST_CASE("a direct peer that sends a losing forged duplicate is sent the winner and disconnected", "[net][session][fork]") {
  engine::Document a(replicaId(1)), b(replicaId(2));
  REQUIRE(a.insert(0, "honest"));
  REQUIRE(test::syncPair(a, b) == "");
  // The versions first differ at a:5, where "u" sorts after "t" (engine FORMAT.md, "Forks").
  SessionOutput last = sendForgery(b, "honesu");
  REQUIRE(last.disconnect);
  CHECK_THAT(last.reason, Catch::Contains("forked") && Catch::Contains("different text"));
  CHECK_FALSE(last.rebuilt);
  CHECK(b.text() == "honest");
  // The winner goes to the peer before the close, and to every other peer through the hub.
  CHECK(last.frames.size() == 1);
  CHECK_FALSE(last.forkWinner.empty());
  // A copy that took the forgery repairs with it.
  engine::Document c(replicaId(3)), forger(replicaId(1));
  REQUIRE(forger.insert(0, "honesu"));
  REQUIRE(c.applyUpdate(forger.encodeUpdateSince({})));
  REQUIRE(c.applyUpdate(last.forkWinner).error().code() == Error::Code::Forked);
  auto repair = c.repairFork(last.forkWinner);
  REQUIRE(repair.has_value());
  REQUIRE(repair->incomingWins);
  CHECK(repair->rebuilt->text() == "honest");
}

TEST_CASE("a direct peer whose forged duplicate wins: the document is rebuilt with it", "[net][session][fork]") {
  engine::Document a(replicaId(1)), b(replicaId(2));
  REQUIRE(a.insert(0, "honest"));
  REQUIRE(test::syncPair(a, b) == "");
  REQUIRE(b.insert(6, "!"));
  SessionOutput last = sendForgery(b, "HONEST");
  CHECK_FALSE(last.disconnect);
  REQUIRE(last.rebuilt);
  CHECK_THAT(last.repaired, Catch::Contains("took the peer's version"));
  CHECK(b.text() == "HONEST!");
  REQUIRE(last.patches.size() == 1);
  CHECK(last.patches[0] == engine::Patch{0, 7, "HONEST!"});
  CHECK(last.newOpsFrom == 0);
  CHECK(last.newOpsTo == b.nextLv());
}
