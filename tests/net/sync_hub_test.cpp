#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "net/sync_hub.h"
#include "tests/support/test_util.h"

using namespace quire;
using namespace quire::net;
using quire::test::replicaId;

namespace {

// N replicas, each with a hub, joined by ordered in-memory connections (one per edge).
struct Mesh {
  struct Edge {
    std::size_t a, b;
    SyncHub::PeerId atA, atB;
  };
  struct Packet {
    std::size_t to;
    SyncHub::PeerId via;
    Frame frame;
  };
  std::vector<std::unique_ptr<engine::Document>> docs;
  std::vector<std::unique_ptr<SyncHub>> hubs;
  std::vector<Edge> edges;
  std::deque<Packet> queue;
  std::size_t framesSent = 0, bytesSent = 0;
  std::size_t newOpsApplied = 0;

  Mesh(std::size_t n, const DocKey& key) {
    for (std::size_t i = 0; i < n; ++i) {
      docs.push_back(std::make_unique<engine::Document>(replicaId(static_cast<std::uint8_t>(i + 1))));
      hubs.push_back(std::make_unique<SyncHub>(*docs.back(), key));
    }
  }
  // The peer id at the other end of `peer` on replica `i`'s hub.
  std::pair<std::size_t, SyncHub::PeerId> remote(std::size_t i, SyncHub::PeerId peer) const {
    for (const Edge& e : edges) {
      if (e.a == i && e.atA == peer) return {e.b, e.atB};
      if (e.b == i && e.atB == peer) return {e.a, e.atA};
    }
    FAIL("no such edge");
    return {0, 0};
  }
  void push(std::size_t from, SyncHub::Output&& out) {
    for (auto& o : out.frames) {
      auto [to, via] = remote(from, o.to);
      ++framesSent;
      bytesSent += o.frame.size();
      queue.push_back({to, via, std::move(o.frame)});
    }
    REQUIRE(out.disconnect.empty());
  }
  void connect(std::size_t a, std::size_t b) {
    Frame ha, hb;
    Edge e{a, b, hubs[a]->addPeer(ha), hubs[b]->addPeer(hb)};
    edges.push_back(e);
    queue.push_back({b, e.atB, std::move(ha)});
    queue.push_back({a, e.atA, std::move(hb)});
  }
  void run() {
    while (!queue.empty()) {
      Packet p = std::move(queue.front());
      queue.pop_front();
      auto out = hubs[p.to]->receive(p.via, p.frame);
      newOpsApplied += out.newOpsTo - out.newOpsFrom;
      push(p.to, std::move(out));
    }
  }
  void type(std::size_t i, std::uint32_t pos, const std::string& text) {
    for (char c : text) {
      const engine::LV before = docs[i]->nextLv();
      REQUIRE(docs[i]->insert(pos++, std::string(1, c)));
      push(i, hubs[i]->localEdited(before));
    }
  }
};

}  // namespace

TEST_CASE("three peers in a line converge through the middle one", "[net][hub]") {
  Mesh m(3, generateKey());
  m.type(0, 0, "from a. ");
  m.type(2, 0, "from c. ");
  m.connect(0, 1);
  m.connect(1, 2);
  m.run();
  CHECK(m.docs[0]->text() == m.docs[1]->text());
  CHECK(m.docs[1]->text() == m.docs[2]->text());
  // Live typing at the ends reaches the other end.
  m.type(0, 0, "A");
  m.type(2, m.docs[2]->length(), "C");
  m.run();
  CHECK(m.docs[0]->text() == m.docs[2]->text());
  CHECK(m.docs[0]->text().front() == 'A');
  CHECK(m.docs[0]->text().back() == 'C');
}

TEST_CASE("in a triangle every op is applied once per replica and forwarded once",
          "[net][hub]") {
  Mesh m(3, generateKey());
  m.connect(0, 1);
  m.connect(1, 2);
  m.connect(0, 2);
  m.run();
  const std::size_t baseFrames = m.framesSent;
  m.newOpsApplied = 0;
  m.type(0, 0, "xyz");
  m.run();
  for (auto& d : m.docs) CHECK(d->text() == "xyz");
  // Each of the other two replicas gains the 3 ops exactly once.
  CHECK(m.newOpsApplied == 6);
  // a sends each keystroke to b and c (6 frames); b and c each forward a keystroke they learn
  // first to the other, but never back to where it came from, and a duplicate arrival adds no
  // ops so it is not forwarded again: at most 6 more.
  CHECK(m.framesSent - baseFrames <= 12);
}

TEST_CASE("presence travels through a hub, newest per replica", "[net][hub]") {
  Mesh m(3, generateKey());
  m.connect(0, 1);
  m.connect(1, 2);
  m.run();
  m.type(0, 0, "abc");
  Presence p;
  p.name = "Ann";
  p.colour = 0x112233;
  p.cursor = m.docs[0]->anchorAt(2, engine::Bias::After);
  p.selection = p.cursor;
  m.hubs[0]->setLocalPresence(p);
  m.hubs[0]->setLocalPresence(p);  // coalesced: only the latest goes out
  m.push(0, m.hubs[0]->flushPresence());
  CHECK(m.hubs[0]->flushPresence().frames.empty());
  std::vector<Presence> atC;
  while (!m.queue.empty()) {
    auto pk = std::move(m.queue.front());
    m.queue.pop_front();
    auto out = m.hubs[pk.to]->receive(pk.via, pk.frame);
    if (pk.to == 2)
      for (auto& q : out.presence) atC.push_back(q);
    m.push(pk.to, std::move(out));
  }
  REQUIRE(atC.size() == 1);
  CHECK(atC[0].name == "Ann");
  CHECK(atC[0].clock == 2);
  CHECK(atC[0].replica == m.docs[0]->localReplica());
  CHECK(m.docs[2]->resolveAnchor(atC[0].cursor) == 2u);
}

TEST_CASE("presence is re-sent while connected and expires after silence", "[net][hub][presence]") {
  const DocKey key = [] {
    DocKey k;
    k.bytes.fill(3);
    return k;
  }();
  Mesh mesh(3, key);
  mesh.connect(0, 1);
  mesh.connect(1, 2);
  mesh.run();
  mesh.type(0, 0, "hi");
  mesh.run();
  Presence p;
  p.name = "Ada";
  p.cursor = mesh.docs[0]->anchorAt(2, engine::Bias::After);
  p.selection = p.cursor;
  mesh.hubs[0]->setLocalPresence(p);
  mesh.push(0, mesh.hubs[0]->flushPresence());
  mesh.run();
  // Replica 2 sees replica 0 two hops away.
  REQUIRE(mesh.hubs[2]->shownPresenceCount() == 1);

  // Every tick of replica 0 past the re-send interval sends a fresh copy (a higher clock), which
  // hub 1 forwards again, so nobody expires it while replica 0 is there.
  std::int64_t now = 0;
  for (int i = 0; i < 8; ++i) {
    now += SyncHub::kPresenceResendMs;
    // (A hub stamps what it receives with the time of its latest tick.)
    for (std::size_t h = 1; h < 3; ++h) {
      auto out = mesh.hubs[h]->tick(now);
      REQUIRE(out.left.empty());
    }
    const std::size_t before = mesh.framesSent;
    mesh.push(0, mesh.hubs[0]->tick(now));
    mesh.run();
    REQUIRE(mesh.framesSent - before == 2);  // 0 -> 1, then 1 -> 2
  }
  REQUIRE(mesh.hubs[2]->shownPresenceCount() == 1);

  // Replica 0 goes silent (it stops ticking): the others expire it after the expiry interval.
  const std::int64_t lastHeard = now;
  auto early = mesh.hubs[2]->tick(lastHeard + SyncHub::kPresenceExpiryMs);
  REQUIRE(early.left.empty());
  auto expired = mesh.hubs[2]->tick(lastHeard + SyncHub::kPresenceExpiryMs + 1000);
  REQUIRE(expired.left.size() == 1);
  REQUIRE(expired.left[0] == mesh.docs[0]->localReplica());
  REQUIRE(mesh.hubs[2]->shownPresenceCount() == 0);
}
