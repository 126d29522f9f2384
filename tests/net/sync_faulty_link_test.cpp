// Hubs over links that drop, duplicate, reorder and partition: a fault ends the session that
// sees it, the link comes back later with fresh sessions, and in the end every replica holds the
// same text, every op was applied once per replica, and no presence was ever shown pointing at
// text its receiver did not have.
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "net/sync_hub.h"
#include "tests/support/random_edits.h"
#include "tests/support/test_util.h"

using namespace quire;
using namespace quire::net;
using quire::test::replicaId;

namespace {

struct Net {
  struct Replica {
    std::unique_ptr<test::EditingReplica> editing;
    std::unique_ptr<SyncHub> hub;
    std::uint64_t remoteOpsApplied = 0;
    std::uint64_t ownOps = 0;
  };
  struct Packet {
    SyncHub::PeerId via;  // the receiver's peer id for this link
    Frame frame;
  };
  struct Link {
    std::size_t a = 0, b = 0;
    bool up = false;
    SyncHub::PeerId atA = 0, atB = 0;
    std::deque<Packet> toA, toB;
  };

  test::Rng rng;
  DocKey key;
  std::vector<Replica> replicas;
  std::vector<Link> links;
  bool faulty = true;
  std::size_t faults = 0, sessionsEnded = 0, presenceShown = 0;

  Net(std::size_t n, std::uint64_t seed) : rng(seed) {
    key.bytes.fill(0x42);
    for (std::size_t i = 0; i < n; ++i) {
      Replica r;
      r.editing = std::make_unique<test::EditingReplica>(replicaId(static_cast<std::uint8_t>(i + 1)));
      r.hub = std::make_unique<SyncHub>(r.editing->doc, key);
      replicas.push_back(std::move(r));
    }
  }
  engine::Document& doc(std::size_t i) { return replicas[i].editing->doc; }

  void addLink(std::size_t a, std::size_t b) {
    Link l;
    l.a = a;
    l.b = b;
    links.push_back(std::move(l));
  }

  void bringUp(Link& l) {
    if (l.up) return;
    Frame ha, hb;
    l.atA = replicas[l.a].hub->addPeer(ha);
    l.atB = replicas[l.b].hub->addPeer(hb);
    l.toA.clear();
    l.toB.clear();
    l.toB.push_back({l.atB, std::move(ha)});
    l.toA.push_back({l.atA, std::move(hb)});
    l.up = true;
  }
  void tearDown(Link& l) {
    if (!l.up) return;
    replicas[l.a].hub->removePeer(l.atA);
    replicas[l.b].hub->removePeer(l.atB);
    l.toA.clear();
    l.toB.clear();
    l.up = false;
    ++sessionsEnded;
  }

  // Routes one replica's output onto the links it names.
  void route(std::size_t from, SyncHub::Output&& out) {
    for (auto& o : out.frames) {
      for (Link& l : links) {
        if (!l.up) continue;
        if (l.a == from && l.atA == o.to) l.toB.push_back({l.atB, std::move(o.frame)});
        else if (l.b == from && l.atB == o.to) l.toA.push_back({l.atA, std::move(o.frame)});
      }
    }
    for (SyncHub::PeerId p : out.disconnect) {
      for (Link& l : links) {
        if (l.up && ((l.a == from && l.atA == p) || (l.b == from && l.atB == p))) tearDown(l);
      }
    }
  }

  void absorb(std::size_t at, SyncHub::Output&& out) {
    Replica& r = replicas[at];
    r.remoteOpsApplied += out.newOpsTo - out.newOpsFrom;
    for (const engine::Patch& p : out.patches) {
      r.editing->mirror.erase(p.pos, p.deleted);
      r.editing->mirror.insert(p.pos, test::toU32(p.inserted));
    }
    for (const Presence& p : out.presence) {
      // Shown only when it points at text this replica has.
      REQUIRE(doc(at).resolveAnchor(p.cursor).has_value());
      REQUIRE(doc(at).resolveAnchor(p.selection).has_value());
      ++presenceShown;
    }
    route(at, std::move(out));
  }

  // Delivers one packet on one link, perhaps mangling the order on the way.
  bool step() {
    std::vector<std::pair<Link*, bool>> ready;  // (link, toA)
    for (Link& l : links) {
      if (!l.up) continue;
      if (!l.toA.empty()) ready.push_back({&l, true});
      if (!l.toB.empty()) ready.push_back({&l, false});
    }
    if (ready.empty()) return false;
    auto [link, toA] = ready[rng.below(static_cast<std::uint32_t>(ready.size()))];
    std::deque<Packet>& q = toA ? link->toA : link->toB;
    const std::size_t at = toA ? link->a : link->b;
    if (faulty) {
      const std::uint32_t roll = rng.below(1000);
      if (roll < 15) {  // lost
        ++faults;
        q.pop_front();
        return true;
      }
      if (roll < 30 && q.size() >= 2) {  // overtaken by the next one
        ++faults;
        std::swap(q[0], q[1]);
      } else if (roll < 45) {  // delivered twice
        ++faults;
        q.push_front(q.front());
      }
    }
    Packet p = std::move(q.front());
    q.pop_front();
    absorb(at, replicas[at].hub->receive(p.via, p.frame));
    return true;
  }

  void edit(std::size_t i) {
    const engine::LV before = doc(i).nextLv();
    REQUIRE(test::randomLocalEdit(rng, *replicas[i].editing, test::replicaAlphabet(i)) == "");
    replicas[i].ownOps += doc(i).nextLv() - before;
    route(i, replicas[i].hub->localEdited(before));
  }

  void moveCaret(std::size_t i) {
    Presence p;
    p.name = "replica " + std::to_string(i);
    const std::uint32_t len = doc(i).length();
    p.cursor = doc(i).anchorAt(rng.below(len + 1), engine::Bias::After);
    p.selection = doc(i).anchorAt(rng.below(len + 1), engine::Bias::Before);
    replicas[i].hub->setLocalPresence(p);
    route(i, replicas[i].hub->flushPresence());
  }

  void drain() {
    for (int guard = 0; step(); ++guard) REQUIRE(guard < 2'000'000);
  }
};

}  // namespace

TEST_CASE("hubs over lossy, reordering, duplicating, partitioned links converge once healed",
          "[net][hub][faults]") {
  std::size_t totalFaults = 0, totalEnded = 0, totalPresence = 0;
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    INFO("seed " << seed);
    Net net(4, seed);
    // A ring with one chord: several paths between most pairs.
    net.addLink(0, 1);
    net.addLink(1, 2);
    net.addLink(2, 3);
    net.addLink(3, 0);
    net.addLink(0, 2);
    for (Net::Link& l : net.links) net.bringUp(l);
    for (int round = 0; round < 400; ++round) {
      const std::uint32_t roll = net.rng.below(100);
      const std::size_t i = net.rng.below(4);
      if (roll < 55) {
        net.edit(i);
      } else if (roll < 70) {
        net.moveCaret(i);
      } else if (roll < 75) {
        // Partition or heal one link (a dead one comes back with fresh sessions).
        Net::Link& l = net.links[net.rng.below(static_cast<std::uint32_t>(net.links.size()))];
        if (l.up) net.tearDown(l);
        else net.bringUp(l);
      }
      for (int k = net.rng.below(6); k > 0 && net.step(); --k) {
      }
    }
    // Heal: every link reconnects with fresh sessions over a clean network.
    net.faulty = false;
    net.drain();
    for (Net::Link& l : net.links) {
      net.tearDown(l);
      net.bringUp(l);
    }
    net.drain();
    for (std::size_t i = 0; i < 4; ++i) {
      INFO("replica " << i);
      REQUIRE(net.doc(i).text() == net.doc(0).text());
      REQUIRE(net.doc(i).pendingOpCount() == 0);
      REQUIRE(net.doc(i).checkInvariants() == "");
      REQUIRE(test::toUtf8(net.replicas[i].editing->mirror) == net.doc(i).text());
      // Nothing applied twice: the ops added by remote frames are exactly the others' ops.
      std::uint64_t others = 0;
      for (std::size_t j = 0; j < 4; ++j)
        if (j != i) others += net.replicas[j].ownOps;
      REQUIRE(net.replicas[i].remoteOpsApplied == others);
    }
    totalFaults += net.faults;
    totalEnded += net.sessionsEnded;
    totalPresence += net.presenceShown;
  }
  // The run really exercised what it claims to.
  INFO(totalFaults << " faults, " << totalEnded << " sessions ended, " << totalPresence << " presences shown");
  REQUIRE(totalFaults > 500);
  REQUIRE(totalEnded > 100);
  REQUIRE(totalPresence > 500);
}
