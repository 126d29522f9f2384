// RoomSession against the real relay router (in memory): members that come and go, type
// offline, snapshot, and a late joiner that arrives after everyone left.
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "net/relay_router.h"
#include "net/room_session.h"
#include "net/sync_hub.h"
#include "net/ws_peer.h"
#include "tests/net/room_fixture.h"
#include "tests/support/random_edits.h"
#include "tests/support/test_util.h"

using namespace quire;
using namespace quire::net;
using namespace quire::net::test_room;
using quire::test::replicaId;

TEST_CASE("room members see each other's keystrokes and a late joiner gets them from the relay", "[room]") {
  Room r(3);
  r.options.snapshotAfterItems = 0;
  r.goOnline(0);
  r.goOnline(1);
  r.run();
  REQUIRE(r.members[0].session->joined());
  r.type(0, 0, "hello");
  r.run();
  REQUIRE(r.doc(1).text() == "hello");
  r.type(1, 5, " world");
  r.run();
  REQUIRE(r.doc(0).text() == "hello world");
  // One frame per keystroke, and nothing applied twice.
  REQUIRE(r.members[0].opsApplied == 6);
  REQUIRE(r.members[1].opsApplied == 5);

  r.goOffline(0);
  r.goOffline(1);
  r.goOnline(2);  // nobody else is there: the relay's store has it all
  r.run();
  REQUIRE(r.doc(2).text() == "hello world");
  requireConverged(r);
}

TEST_CASE("a continuing keystroke costs one small frame in a room", "[room]") {
  Room r(2);
  r.options.snapshotAfterItems = 0;
  r.goOnline(0);
  r.goOnline(1);
  r.run();
  r.type(0, 0, "a");  // announces the agent on the stream
  r.run();
  const std::size_t before = r.relayBytes, framesBefore = r.relayFrames;
  r.type(0, 1, "bcdefghij");
  r.run();
  REQUIRE(r.relayFrames - framesBefore == 9);
  // 41 bytes of sealing and header, kind, counter, stream id (8) and a 6-byte update.
  REQUIRE((r.relayBytes - before) / 9 <= 58);
}

TEST_CASE("random concurrent editing in a room converges, with members going offline and snapshots", "[room]") {
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    INFO("seed " << seed);
    test::Rng rng(seed);
    Room r(4);
    r.options.snapshotAfterItems = 15;  // many snapshots, taken while others type
    for (std::size_t i = 0; i < 3; ++i) r.goOnline(i);
    r.run();
    for (int step = 0; step < 300; ++step) {
      const std::size_t i = rng.below(4);
      const auto roll = rng.below(100);
      if (roll < 6) {
        if (r.members[i].session) r.goOffline(i, rng.below(2) == 0);
        else r.goOnline(i);
      } else {
        r.edit(rng, i);  // offline members keep typing
      }
      // Deliver only some of the time, so frames pile up and cross.
      if (rng.below(3) == 0) r.run();
    }
    for (std::size_t i = 0; i < 4; ++i)
      if (!r.members[i].session) r.goOnline(i);
    r.run();
    requireConverged(r);
    std::size_t snapshots = 0;
    for (std::size_t i = 0; i < 4; ++i) {
      r.goOffline(i);
      snapshots += r.members[i].snapshotsStored;
    }
    REQUIRE(snapshots > 0);
    // Snapshots keep the store small: far fewer items than the ~300 edits.
    REQUIRE(r.storedItems() < 120);

    // A newcomer starting from the stored snapshot and frames gets the same text.
    Room::Member late;
    late.replica = std::make_unique<test::EditingReplica>(replicaId(9));
    r.members.push_back(std::move(late));
    r.goOnline(4);
    r.run();
    REQUIRE(r.members[4].replaced);
    requireConverged(r);
  }
}

TEST_CASE("a member that typed offline sends exactly what the room lacks on rejoin", "[room]") {
  Room r(2);
  r.options.snapshotAfterItems = 0;
  r.goOnline(0);
  r.goOnline(1);
  r.run();
  r.type(0, 0, "shared ");
  r.run();
  r.goOffline(1);
  r.type(1, 7, "offline words");
  r.type(0, 0, ">> ");
  r.run();
  const std::size_t before = r.relayBytes;
  r.goOnline(1);
  r.run();
  // One self-contained update of 13 characters, not the whole document.
  REQUIRE(r.relayBytes - before < 120);
  REQUIRE(r.doc(0).text() == ">> shared offline words");
  requireConverged(r);
}

TEST_CASE("a room stream that continues across a snapshot still decodes for a newcomer", "[room]") {
  Room r(3);
  r.options.snapshotAfterItems = 0;
  r.goOnline(0);
  r.goOnline(1);
  r.run();
  r.type(0, 0, "abc");  // member 0's stream announces its agent here
  r.run();
  // Member 1 snapshots (a huge threshold would never fire; force it with a big paste).
  RoomOptions snapshotting;
  snapshotting.snapshotAfterItems = 2;
  r.goOffline(1);
  r.goOnline(1, snapshotting);
  r.run();
  r.type(1, 3, "xy");
  r.run();
  REQUIRE(r.members[1].session->snapshotsStored() >= 1);
  // Member 0 goes on typing on the stream whose beginning the snapshot replaced.
  r.type(0, 0, "123");
  r.run();
  r.goOnline(2);
  r.run();
  REQUIRE(r.members[2].session->badFrames() == 0);
  REQUIRE(r.doc(2).text() == r.doc(0).text());
  requireConverged(r);
}

TEST_CASE("an update too big for one frame reaches the room as a snapshot", "[room]") {
  Room r(3);
  r.options.snapshotAfterItems = 0;
  r.goOnline(0);
  r.goOnline(1);
  r.run();
  std::string big(700'000, 'p');
  const engine::LV before = r.doc(0).nextLv();
  REQUIRE(r.doc(0).insert(0, big));
  r.members[0].replica->mirror = test::toU32(big);
  auto messages = r.members[0].session->localUpdate(before);
  REQUIRE(messages.size() == 1);
  REQUIRE(messages[0].text);  // "mark": a snapshot follows the relay's answer
  r.toRelay(0, std::move(messages));
  r.run();
  REQUIRE(r.doc(1).length() == 700'000);  // the live member got the forwarded snapshot
  r.type(0, 0, "!");
  r.run();
  r.goOnline(2);
  r.run();
  requireConverged(r);
}

TEST_CASE("a room member without the key can neither read nor write", "[room]") {
  Room r(2);
  r.options.snapshotAfterItems = 0;
  r.goOnline(0);
  r.run();
  r.type(0, 0, "secret");
  r.run();
  // An intruder who learnt the room id joins it with the wrong key.
  engine::Document evilDoc(replicaId(66));
  RoomSession evil(evilDoc, keyOf(99));
  auto conn = r.router.connect("10.0.0.1", 0).conn;
  const RoomId room = roomIdOf(r.key);
  const std::string join = joinLine(room);
  auto replay = r.router.receiveText(conn, join, 0);
  std::size_t refused = 0;
  for (auto& msg : replay.messages) {
    RoomOutput out = msg.text ? RoomOutput{} : evil.receiveBinary(msg.bytes);
    refused += out.patches.empty() ? 1 : 0;
  }
  REQUIRE(evilDoc.text().empty());
  REQUIRE(refused == replay.messages.size());
  // Its frames (sealed under its own key) do not open for the members.
  REQUIRE(evilDoc.insert(0, "injected"));
  Message m;
  m.kind = FrameKind::Update;
  m.update = evilDoc.encodeUpdateSince({});
  for (int i = 0; i < 3; ++i)
    r.fromRelay(r.router.receiveBinary(conn, encodeFrame(keyOf(99), room, m), 0));
  r.run();
  REQUIRE(r.doc(0).text() == "secret");
  REQUIRE(r.members[0].session->badFrames() == 3);
}

TEST_CASE("room presence is transient and waits for the op it names", "[room]") {
  Room r(3);
  r.options.snapshotAfterItems = 0;
  r.goOnline(0);
  r.goOnline(1);
  r.run();
  r.type(0, 0, "ab");
  r.run();
  Presence p;
  p.replica = r.doc(0).localReplica();
  p.clock = 1;
  p.name = "Ada";
  p.colour = 0x3366ff;
  p.cursor = r.doc(0).anchorAt(2, engine::Bias::Before);
  p.selection = p.cursor;
  r.members[0].session->setLocalPresence(p);
  r.toRelay(0, r.members[0].session->flushPresence());
  r.run();
  REQUIRE(r.members[1].shown.size() == 1);
  REQUIRE(r.members[1].shown[0].name == "Ada");
  const std::size_t stored = r.storedItems();
  REQUIRE(stored == 2);  // the two keystrokes; presence is never stored

  // A presence naming an op member 2 does not have yet is held until the op arrives.
  r.goOnline(2);
  r.run();
  engine::Document ahead = r.doc(0);
  REQUIRE(ahead.insert(2, "c"));
  Presence q = p;
  q.clock = 2;
  q.cursor = ahead.anchorAt(3, engine::Bias::After);  // just after the 'c' member 2 lacks
  REQUIRE(q.cursor.kind == engine::Anchor::Kind::Char);
  q.selection = q.cursor;
  RoomOutput out = r.members[2].session->receiveBinary(
      encodeFrame(r.key, roomIdOf(r.key), Message{FrameKind::Presence, 0, {}, {}, {}, q}, true));
  REQUIRE(out.presence.empty());
  REQUIRE(r.members[2].session->heldPresenceCount() == 1);
  // The 'c' arrives (on member 0's stream): the held presence is released with it.
  r.type(0, 2, "c");
  r.run();
  REQUIRE(r.members[2].session->heldPresenceCount() == 0);
  REQUIRE(r.members[2].shown.back().clock == 2);
}

TEST_CASE("a hub joins a relay room and a direct peer and forwards between them", "[room]") {
  // Member 0 is in the room. Replica 1 is in the room through its hub and also directly
  // connected to replica 2, who is not in the room: edits cross both ways, each applied once.
  Room r(1);
  r.options.snapshotAfterItems = 0;
  engine::Document one(replicaId(11)), two(replicaId(12));
  SyncHub hub1(one, r.key), hub2(two, r.key);
  struct Item {
    int to;                    // 1: hub1 from the relay, 2: hub2 from hub1, 3: hub1 from hub2,
    SyncHub::Outgoing message; // 4: the relay from hub1
  };
  std::deque<Item> q;
  SyncHub::Outgoing join;
  const SyncHub::PeerId roomPeer = hub1.addRoom(join);
  const auto conn = r.router.connect("127.0.0.1", 0).conn;
  r.external = [&](RelayRouter::Message&& m) {
    if (m.to == conn) q.push_back({1, {roomPeer, std::move(m.bytes), m.text}});
  };
  Frame h1, h2;
  const SyncHub::PeerId to2 = hub1.addPeer(h1), to1 = hub2.addPeer(h2);
  std::size_t twoOps = 0, oneOps = 0;
  auto fromHub1 = [&](SyncHub::Output&& out) {
    REQUIRE(out.disconnect.empty());
    oneOps += out.newOpsTo - out.newOpsFrom;
    for (auto& o : out.frames) q.push_back({o.to == to2 ? 2 : 4, std::move(o)});
  };
  auto fromHub2 = [&](SyncHub::Output&& out) {
    REQUIRE(out.disconnect.empty());
    twoOps += out.newOpsTo - out.newOpsFrom;
    for (auto& o : out.frames) q.push_back({3, std::move(o)});
  };
  auto pump = [&] {
    for (int guard = 0; guard < 100000; ++guard) {
      r.run();
      if (q.empty()) return;
      Item item = std::move(q.front());
      q.pop_front();
      const auto& bytes = item.message.frame;
      const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      switch (item.to) {
        case 1:
          fromHub1(item.message.text ? hub1.receiveText(roomPeer, text) : hub1.receive(roomPeer, bytes));
          break;
        case 2: fromHub2(hub2.receive(to1, bytes)); break;
        case 3: fromHub1(hub1.receive(to2, bytes)); break;
        case 4:
          r.fromRelay(item.message.text ? r.router.receiveText(conn, text, 0)
                                        : r.router.receiveBinary(conn, bytes, 0));
          break;
      }
    }
    FAIL("messages kept flowing");
  };
  q.push_back({4, join});
  q.push_back({2, {to2, h1}});
  q.push_back({3, {to1, h2}});
  r.goOnline(0);
  pump();
  REQUIRE(hub1.room(roomPeer)->joined());

  r.type(0, 0, "from zero");
  pump();
  REQUIRE(two.text() == "from zero");
  REQUIRE(twoOps == 9);
  REQUIRE(oneOps == 9);

  const engine::LV before = two.nextLv();
  REQUIRE(two.insert(0, "2:"));
  fromHub2(hub2.localEdited(before));
  pump();
  REQUIRE(one.text() == "2:from zero");
  REQUIRE(r.doc(0).text() == "2:from zero");
  REQUIRE(r.members[0].opsApplied == 2);  // once, although two paths exist
}

TEST_CASE("reconnection backs off exponentially, capped, with jitter that only shortens", "[net][backoff]") {
  BackoffPolicy policy;  // 500 ms doubling to 30 s, up to half taken off
  REQUIRE(backoffDelayMs(0, 0.0, policy) == 500);
  REQUIRE(backoffDelayMs(1, 0.0, policy) == 1000);
  REQUIRE(backoffDelayMs(4, 0.0, policy) == 8000);
  REQUIRE(backoffDelayMs(6, 0.0, policy) == 30000);   // 32 s capped
  REQUIRE(backoffDelayMs(500, 0.0, policy) == 30000); // no overflow for long outages
  REQUIRE(backoffDelayMs(0, 0.999, policy) == 250);
  REQUIRE(backoffDelayMs(6, 0.5, policy) == 22500);
  // Two peers that lost the relay together do not come back together.
  test::Rng rng(5);
  std::set<std::int64_t> delays;
  for (int i = 0; i < 50; ++i) delays.insert(backoffDelayMs(3, rng.below(1000) / 1000.0, policy));
  REQUIRE(delays.size() > 20);
}
