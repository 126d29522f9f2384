// The room test fixture: members (each a document, and a RoomSession while online) around one
// in-memory RelayRouter, for tests/net/room_session_test.cpp and room_hostile_test.cpp.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "net/relay_router.h"
#include "net/room_session.h"
#include "tests/support/random_edits.h"
#include "tests/support/test_util.h"

namespace quire::net::test_room {

using quire::test::replicaId;

inline DocKey keyOf(std::uint8_t b) {
  DocKey k;
  k.bytes.fill(b);
  return k;
}

// Members (each a document, and a RoomSession while online) around one RelayRouter. Messages
// are delivered in order per connection, one at a time, as a WebSocket would.
struct Room {
  struct Member {
    std::unique_ptr<test::EditingReplica> replica;
    std::unique_ptr<RoomSession> session;
    RelayRouter::ConnId conn = 0;
    std::size_t opsApplied = 0;
    std::size_t snapshotsStored = 0;  // over all of its sessions
    std::vector<Presence> shown;
    bool replaced = false;
    std::vector<FrameCheck> checks;  // held frames' checks, not yet run (settleChecks)
  };
  struct Packet {
    bool toRelay;
    std::size_t member;  // sender (to relay) or receiver
    RelayMessage message;
  };

  MemoryRelayStore store;
  RelayRouter router;
  DocKey key;
  RoomOptions options;
  std::vector<Member> members;
  std::map<RelayRouter::ConnId, std::size_t> byConn;
  std::deque<Packet> queue;
  std::size_t relayFrames = 0, relayBytes = 0;
  // Receives the relay's messages to connections that are not members (a hub under test).
  std::function<void(RelayRouter::Message&&)> external;

  explicit Room(std::size_t n, DocKey k = keyOf(7), RelayLimits limits = {})
      : router(store, limits), key(k) {
    for (std::size_t i = 0; i < n; ++i) {
      Member m;
      m.replica = std::make_unique<test::EditingReplica>(replicaId(static_cast<std::uint8_t>(i + 1)));
      members.push_back(std::move(m));
    }
  }

  engine::Document& doc(std::size_t i) { return members[i].replica->doc; }

  void goOnline(std::size_t i, RoomOptions o) {
    Member& m = members[i];
    REQUIRE(!m.session);
    o.streamId = 0;
    m.session = std::make_unique<RoomSession>(doc(i), key, o);
    auto connected = router.connect("127.0.0.1", 0);
    REQUIRE(connected.out.close.empty());
    m.conn = connected.conn;
    byConn[m.conn] = i;
    queue.push_back({true, i, m.session->start()});
  }
  void goOnline(std::size_t i) { goOnline(i, options); }

  void goOffline(std::size_t i, bool sayBye = true) {
    Member& m = members[i];
    REQUIRE(m.session);
    if (sayBye) toRelay(i, {m.session->bye()});
    run();  // the bye (and anything queued) goes out before the socket closes
    m.snapshotsStored += m.session->snapshotsStored();
    router.disconnect(m.conn);
    byConn.erase(m.conn);
    m.session.reset();
  }

  void toRelay(std::size_t i, std::vector<RelayMessage> messages) {
    for (RelayMessage& r : messages) queue.push_back({true, i, std::move(r)});
  }

  void absorb(std::size_t i, RoomOutput&& out) {
    Member& m = members[i];
    INFO("member " << i << ": " << out.reason);
    REQUIRE_FALSE(out.disconnect);
    m.opsApplied += out.newOpsTo - out.newOpsFrom;
    for (Presence& p : out.presence) m.shown.push_back(std::move(p));
    if (out.replaced) m.replaced = true;
    // Keep the mirror in step with remote patches, as an editor would.
    std::u32string& mirror = m.replica->mirror;
    for (const engine::Patch& p : out.patches) {
      mirror.erase(p.pos, p.deleted);
      mirror.insert(p.pos, test::toU32(p.inserted));
    }
    toRelay(i, std::move(out.messages));
    if (out.check) m.checks.push_back(std::move(*out.check));
  }

  // Runs member i's held frames' checks, as a thread aside would, and hands each back; then
  // what waited behind it (RoomOptions::checkAsideBytes).
  void settleChecks(std::size_t i) {
    Member& m = members[i];
    while (!m.checks.empty()) {
      FrameCheck check = std::move(m.checks.front());
      m.checks.erase(m.checks.begin());
      check.run();
      absorb(i, m.session->finishCheck(std::move(check)));
      while (m.session->canContinue()) absorb(i, m.session->continueWaiting());
    }
  }

  void fromRelay(RelayRouter::Output&& out) {
    REQUIRE(out.close.empty());
    for (auto& msg : out.messages) {
      auto it = byConn.find(msg.to);
      if (it == byConn.end()) {
        if (external) external(std::move(msg));
        continue;
      }
      queue.push_back({false, it->second, {msg.text, std::move(msg.bytes)}});
    }
  }

  // Delivers until nothing is queued and every join has been sent the whole room (the relay's
  // join steps, RelayRouter::continueJoin, go out whenever the queue is drained).
  void run() {
    for (;;) {
      if (queue.empty()) {
        if (router.joining().empty()) return;
        const std::vector<RelayRouter::ConnId> joining(router.joining().begin(),
                                                       router.joining().end());
        for (RelayRouter::ConnId conn : joining) fromRelay(router.continueJoin(conn));
        continue;
      }
      Packet p = std::move(queue.front());
      queue.pop_front();
      Member& m = members[p.member];
      if (!m.session) continue;
      if (p.toRelay) {
        if (!p.message.text) {
          ++relayFrames;
          relayBytes += p.message.bytes.size();
        }
        fromRelay(p.message.text ? router.receiveText(m.conn, p.message.asText(), 0)
                                 : router.receiveBinary(m.conn, p.message.bytes, 0));
      } else if (p.message.text) {
        absorb(p.member, m.session->receiveText(p.message.asText()));
      } else {
        absorb(p.member, m.session->receiveBinary(p.message.bytes));
      }
    }
  }

  void edit(test::Rng& rng, std::size_t i) {
    Member& m = members[i];
    const engine::LV before = doc(i).nextLv();
    REQUIRE(test::randomLocalEdit(rng, *m.replica, test::replicaAlphabet(i)) == "");
    if (m.session) toRelay(i, m.session->localUpdate(before));
  }

  // One edit of many characters (a paste), sent as one frame.
  void paste(std::size_t i, std::uint32_t pos, const std::string& text) {
    const engine::LV before = doc(i).nextLv();
    REQUIRE(doc(i).insert(pos, text));
    members[i].replica->mirror.insert(pos, test::toU32(text));
    if (members[i].session) toRelay(i, members[i].session->localUpdate(before));
  }

  void type(std::size_t i, std::uint32_t pos, const std::string& text) {
    for (char c : text) {
      const engine::LV before = doc(i).nextLv();
      REQUIRE(doc(i).insert(pos++, std::string(1, c)));
      members[i].replica->mirror.insert(pos - 1, 1, static_cast<char32_t>(c));
      if (members[i].session) toRelay(i, members[i].session->localUpdate(before));
    }
  }

  std::size_t storedItems() {
    RelayRoomKey room;
    const RoomId id = roomIdOf(key);
    std::copy(id.bytes.begin(), id.bytes.end(), room.begin());
    auto state = store.roomState(room);
    REQUIRE(state);
    return state->count;
  }
};

// The line a member sends to join `room` (PROTOCOL.md, "Relay").
inline std::string joinLine(const RoomId& room) {
  static const char* kHex = "0123456789abcdef";
  std::string join = "join ";
  for (std::uint8_t b : room.bytes) {
    join += kHex[b >> 4];
    join += kHex[b & 15];
  }
  return join;
}

// A key holder that is not a member (it never decodes anything) stores `m` in the room.
inline void storeFromOutsider(Room& r, const Message& m) {
  const RoomId room = roomIdOf(r.key);
  auto conn = r.router.connect("10.0.0.9", 0).conn;
  r.router.receiveText(conn, joinLine(room), 0);
  // A room past one join step is sent in several; a frame before "joined" would be refused.
  while (r.router.joining().contains(conn)) (void)r.router.continueJoin(conn);
  r.fromRelay(r.router.receiveBinary(conn, encodeFrame(r.key, room, m), 0));
}

// Member i joins with `remembered` as its memory of rejected frames, and the room settles.
inline void onlineRemembering(Room& r, std::size_t i, RejectedFrames& remembered) {
  RoomOptions o = r.options;
  o.rejected = &remembered;
  r.goOnline(i, o);
  r.run();
}

inline void requireConverged(Room& r) {
  for (std::size_t i = 0; i < r.members.size(); ++i) {
    INFO("member " << i);
    REQUIRE(r.doc(i).text() == r.doc(0).text());
    REQUIRE(r.doc(i).pendingOpCount() == 0);
    REQUIRE(test::toUtf8(r.members[i].replica->mirror) == r.doc(i).text());
    REQUIRE(r.doc(i).checkInvariants() == "");
  }
}

}  // namespace quire::net::test_room
