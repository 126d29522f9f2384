// The relay's sans-I/O router (net/relay_router.h) over MemoryRelayStore: joining, forwarding,
// store-and-forward replay, transient frames, snapshots and limits. PROTOCOL.md, "Relay".
#include "net/relay_router.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "net/frame.h"

namespace {

using quire::net::MemoryRelayStore;
using quire::net::RelayLimits;
using quire::net::RelayRouter;
using Bytes = std::vector<std::uint8_t>;

const std::string kRoomA(64, 'a');
const std::string kRoomB(64, 'b');

Bytes bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }
// A frame whose header byte marks it transient (the rest is opaque to the relay).
Bytes transient(const std::string& s) {
  Bytes b{static_cast<std::uint8_t>(quire::net::kProtocolVersion | quire::net::kTransientFlag)};
  b.insert(b.end(), s.begin(), s.end());
  return b;
}
std::string text(const Bytes& b) { return std::string(b.begin(), b.end()); }

// What one connection was sent, in order: binary frames as-is, text prefixed with "T:".
std::vector<std::string> sentTo(const RelayRouter::Output& out, RelayRouter::ConnId to) {
  std::vector<std::string> got;
  for (const auto& m : out.messages)
    if (m.to == to) got.push_back((m.text ? "T:" : "") + text(m.bytes));
  return got;
}

std::string closeReason(const RelayRouter::Output& out, RelayRouter::ConnId conn) {
  for (const auto& c : out.close)
    if (c.conn == conn) return c.reason;
  return {};
}

// A connection the router accepted (not refused).
RelayRouter::ConnId open(RelayRouter& router, std::int64_t nowMs,
                         std::string_view address = "192.0.2.1") {
  const auto connected = router.connect(address, nowMs);
  REQUIRE(connected.out.close.empty());
  REQUIRE(connected.out.messages.empty());
  return connected.conn;
}

}  // namespace

TEST_CASE("relay: a joiner gets 'joined 0' for an empty room", "[net][relay]") {
  MemoryRelayStore store;
  RelayRouter router(store);
  const auto a = open(router, 0);
  const auto out = router.receiveText(a, "join " + kRoomA, 0);
  CHECK(sentTo(out, a) == std::vector<std::string>{"T:replay 0 0", "T:joined 0"});
  CHECK(out.close.empty());
  CHECK(router.memberCount(*quire::net::parseRelayRoom(kRoomA)) == 1);
}

TEST_CASE("relay: a frame is forwarded to the other members of its room only", "[net][relay]") {
  MemoryRelayStore store;
  RelayRouter router(store);
  const auto a = open(router, 0);
  const auto b = open(router, 0);
  const auto c = open(router, 0);
  (void)router.receiveText(a, "join " + kRoomA, 0);
  (void)router.receiveText(b, "join " + kRoomA, 0);
  (void)router.receiveText(c, "join " + kRoomB, 0);
  const auto out = router.receiveBinary(a, bytes("f1"), 1);
  CHECK(sentTo(out, a).empty());
  CHECK(sentTo(out, b) == std::vector<std::string>{"f1"});
  CHECK(sentTo(out, c).empty());
  CHECK(out.close.empty());
}

TEST_CASE("relay: a late joiner gets the stored frames in order, even after everyone left",
          "[net][relay]") {
  MemoryRelayStore store;
  RelayRouter router(store);
  const auto a = open(router, 0);
  (void)router.receiveText(a, "join " + kRoomA, 0);
  for (int i = 1; i <= 3; ++i)
    (void)router.receiveBinary(a, bytes(std::string("f").append(std::to_string(i))), i);
  router.disconnect(a);
  CHECK(router.memberCount(*quire::net::parseRelayRoom(kRoomA)) == 0);
  const auto b = open(router, 10);
  const auto out = router.receiveText(b, "join " + kRoomA, 10);
  // First how many items and bytes follow (for the joiner's progress), then the items.
  CHECK(sentTo(out, b) ==
        std::vector<std::string>{"T:replay 3 6", "f1", "f2", "f3", "T:joined 3"});
}

TEST_CASE("relay: sync answers synced with the last stored seq, to its sender only",
          "[net][relay]") {
  MemoryRelayStore store;
  RelayRouter router(store);
  const auto a = open(router, 0);
  const auto b = open(router, 0);
  (void)router.receiveText(a, "join " + kRoomA, 0);
  (void)router.receiveText(b, "join " + kRoomA, 0);
  (void)router.receiveBinary(a, bytes("f1"), 1);
  (void)router.receiveBinary(a, bytes("f2"), 2);
  const auto answer = router.receiveText(a, "sync", 3);
  CHECK(sentTo(answer, a) == std::vector<std::string>{"T:synced 2"});
  CHECK(sentTo(answer, b).empty());
  // Only a bare "sync", and only in a room.
  const auto c = open(router, 4);
  CHECK_FALSE(router.receiveText(c, "sync", 4).close.empty());
  CHECK_FALSE(router.receiveText(b, "sync 5", 5).close.empty());
}

TEST_CASE("relay: a snapshot replaces only the frames up to the seq it names", "[net][relay]") {
  MemoryRelayStore store;
  RelayRouter router(store);
  const auto a = open(router, 0);
  const auto b = open(router, 0);
  (void)router.receiveText(a, "join " + kRoomA, 0);
  (void)router.receiveText(b, "join " + kRoomA, 0);
  (void)router.receiveBinary(a, bytes("f1"), 1);
  (void)router.receiveBinary(a, bytes("f2"), 2);
  CHECK(sentTo(router.receiveText(b, "mark", 3), b) == std::vector<std::string>{"T:mark 2"});
  // A frame arrives after b's mark and before its snapshot: it must survive.
  (void)router.receiveBinary(a, bytes("f3"), 4);
  CHECK(router.receiveText(b, "snapshot 2", 5).messages.empty());
  const auto stored = router.receiveBinary(b, bytes("S2"), 5);
  CHECK(sentTo(stored, b) == std::vector<std::string>{"T:snapshot-stored 2"});
  // The other member hears of it too, and gets the blob right after.
  CHECK(sentTo(stored, a) == std::vector<std::string>{"T:snapshot-stored 2", "S2"});

  const auto c = open(router, 6);
  CHECK(sentTo(router.receiveText(c, "join " + kRoomA, 6), c) ==
        std::vector<std::string>{"T:replay 2 4", "S2", "f3", "T:joined 3"});
  // New frames continue the numbering after the snapshot.
  (void)router.receiveBinary(a, bytes("f4"), 7);
  CHECK(sentTo(router.receiveText(c, "mark", 8), c) == std::vector<std::string>{"T:mark 4"});
}

TEST_CASE("relay: a stale or impossible snapshot is refused and the stored frames are kept",
          "[net][relay]") {
  MemoryRelayStore store;
  RelayRouter router(store);
  const auto a = open(router, 0);
  (void)router.receiveText(a, "join " + kRoomA, 0);
  for (int i = 1; i <= 4; ++i)
    (void)router.receiveBinary(a, bytes(std::string("f").append(std::to_string(i))), i);
  (void)router.receiveText(a, "snapshot 3", 5);
  (void)router.receiveBinary(a, bytes("S3"), 5);
  // Another member had only seen up to 2: its snapshot is older than the stored one.
  (void)router.receiveText(a, "snapshot 2", 6);
  auto out = router.receiveBinary(a, bytes("S2"), 6);
  REQUIRE(sentTo(out, a).size() == 1);
  CHECK(sentTo(out, a)[0].rfind("T:snapshot-refused 2 ", 0) == 0);
  (void)router.receiveText(a, "snapshot 9", 7);
  out = router.receiveBinary(a, bytes("S9"), 7);
  REQUIRE(sentTo(out, a).size() == 1);
  CHECK(sentTo(out, a)[0].rfind("T:snapshot-refused 9 ", 0) == 0);
  CHECK(out.close.empty());
  const auto b = open(router, 8);
  CHECK(sentTo(router.receiveText(b, "join " + kRoomA, 8), b) ==
        std::vector<std::string>{"T:replay 2 4", "S3", "f4", "T:joined 4"});
}

TEST_CASE("relay: frames before join, bad joins and unknown messages close the connection",
          "[net][relay]") {
  MemoryRelayStore store;
  RelayRouter router(store);
  const auto a = open(router, 0);
  CHECK(!closeReason(router.receiveBinary(a, bytes("f"), 0), a).empty());
  const auto b = open(router, 0);
  CHECK(!closeReason(router.receiveText(b, "join 1234", 0), b).empty());
  const auto c = open(router, 0);
  (void)router.receiveText(c, "join " + kRoomA, 0);
  CHECK(!closeReason(router.receiveText(c, "hello", 0), c).empty());
  // A closed connection is ignored until disconnect(), and others carry on.
  CHECK(router.receiveText(c, "mark", 1).messages.empty());
  const auto d = open(router, 0);
  CHECK(sentTo(router.receiveText(d, "join " + kRoomA, 1), d) ==
        std::vector<std::string>{"T:replay 0 0", "T:joined 0"});
}

TEST_CASE("relay: an oversized frame closes its sender and is neither stored nor forwarded",
          "[net][relay]") {
  MemoryRelayStore store;
  RelayLimits limits;
  limits.maxFrameBytes = 8;
  RelayRouter router(store, limits);
  const auto a = open(router, 0);
  const auto b = open(router, 0);
  (void)router.receiveText(a, "join " + kRoomA, 0);
  (void)router.receiveText(b, "join " + kRoomA, 0);
  const auto out = router.receiveBinary(a, Bytes(9, 'x'), 1);
  CHECK(closeReason(out, a).find("frame too large") != std::string::npos);
  CHECK(sentTo(out, b).empty());
  CHECK(sentTo(router.receiveBinary(b, Bytes(8, 'y'), 2), a).empty());  // a left the room
  CHECK(store.roomState(*quire::net::parseRelayRoom(kRoomA))->count == 1);
}

TEST_CASE("relay: a full room closes the sender until a snapshot frees space", "[net][relay]") {
  MemoryRelayStore store;
  RelayLimits limits;
  limits.maxRoomBytes = 10;
  RelayRouter router(store, limits);
  const auto a = open(router, 0);
  (void)router.receiveText(a, "join " + kRoomA, 0);
  CHECK(router.receiveBinary(a, Bytes(6, 'x'), 1).close.empty());
  const auto out = router.receiveBinary(a, Bytes(6, 'y'), 2);
  CHECK(closeReason(out, a).find("room storage full") != std::string::npos);
  router.disconnect(a);

  const auto b = open(router, 3);
  (void)router.receiveText(b, "join " + kRoomA, 3);
  (void)router.receiveText(b, "snapshot 1", 4);
  CHECK(sentTo(router.receiveBinary(b, Bytes(2, 's'), 4), b) ==
        std::vector<std::string>{"T:snapshot-stored 1"});
  CHECK(router.receiveBinary(b, Bytes(6, 'z'), 5).close.empty());
  // Other rooms are not affected by room A's quota.
  const auto c = open(router, 6);
  (void)router.receiveText(c, "join " + kRoomB, 6);
  CHECK(router.receiveBinary(c, Bytes(9, 'w'), 6).close.empty());
}

TEST_CASE("relay: a connection over the message rate is closed and a steady one is not",
          "[net][relay]") {
  MemoryRelayStore store;
  RelayLimits limits;
  limits.maxMessagesPerSecond = 10;
  RelayRouter router(store, limits);
  const auto steady = open(router, 0);
  (void)router.receiveText(steady, "join " + kRoomA, 0);
  for (int i = 1; i <= 50; ++i)  // 10 per second for 5 seconds
    REQUIRE(router.receiveBinary(steady, bytes("s"), i * 100).close.empty());

  const auto flood = open(router, 0);
  (void)router.receiveText(flood, "join " + kRoomB, 0);
  std::string reason;
  for (int i = 0; i < 20 && reason.empty(); ++i)
    reason = closeReason(router.receiveBinary(flood, bytes("f"), 1), flood);
  CHECK(reason.find("too many messages") != std::string::npos);
  CHECK(router.receiveBinary(steady, bytes("s"), 5100).close.empty());
}

TEST_CASE("relay: an idle connection is closed and an active one is kept", "[net][relay]") {
  MemoryRelayStore store;
  RelayLimits limits;
  limits.idleTimeoutMs = 1000;
  RelayRouter router(store, limits);
  const auto idle = open(router, 0);
  const auto busy = open(router, 0);
  (void)router.receiveText(busy, "join " + kRoomA, 900);
  const auto out = router.expireIdle(1500);
  CHECK(closeReason(out, idle).find("idle") != std::string::npos);
  CHECK(closeReason(out, busy).empty());
}

TEST_CASE("relay: a frame that cannot be stored is not forwarded", "[net][relay]") {
  MemoryRelayStore store;
  RelayRouter router(store);
  const auto a = open(router, 0);
  const auto b = open(router, 0);
  (void)router.receiveText(a, "join " + kRoomA, 0);
  (void)router.receiveText(b, "join " + kRoomA, 0);
  store.failWrites = true;
  const auto out = router.receiveBinary(a, bytes("f1"), 1);
  CHECK(closeReason(out, a) == "cannot store the frame");
  CHECK(sentTo(out, b).empty());
}

TEST_CASE("relay: a stored snapshot is announced to every member and sent to all but its sender",
          "[net][relay]") {
  MemoryRelayStore store;
  RelayRouter router(store);
  const auto a = open(router, 0);
  const auto b = open(router, 0);
  const auto c = open(router, 0);
  const auto other = open(router, 0);
  for (auto conn : {a, b, c}) (void)router.receiveText(conn, "join " + kRoomA, 0);
  (void)router.receiveText(other, "join " + kRoomB, 0);
  (void)router.receiveBinary(a, bytes("f1"), 1);
  (void)router.receiveText(a, "snapshot 1", 2);
  const auto out = router.receiveBinary(a, bytes("big-paste-snapshot"), 2);
  CHECK(out.close.empty());
  CHECK(sentTo(out, a) == std::vector<std::string>{"T:snapshot-stored 1"});
  CHECK(sentTo(out, b) == std::vector<std::string>{"T:snapshot-stored 1", "big-paste-snapshot"});
  CHECK(sentTo(out, c) == std::vector<std::string>{"T:snapshot-stored 1", "big-paste-snapshot"});
  CHECK(sentTo(out, other).empty());
  CHECK(out.messages.size() == 5);

  // A refused snapshot changes nothing and only its sender hears of it.
  (void)router.receiveText(b, "snapshot 7", 3);
  const auto refused = router.receiveBinary(b, bytes("S7"), 3);
  REQUIRE(refused.messages.size() == 1);
  CHECK(refused.messages[0].to == b);
}

TEST_CASE("relay: a snapshot that cannot be stored is neither announced nor forwarded",
          "[net][relay]") {
  MemoryRelayStore store;
  RelayRouter router(store);
  const auto a = open(router, 0);
  const auto b = open(router, 0);
  (void)router.receiveText(a, "join " + kRoomA, 0);
  (void)router.receiveText(b, "join " + kRoomA, 0);
  (void)router.receiveBinary(a, bytes("f1"), 1);
  (void)router.receiveText(a, "snapshot 1", 2);
  store.failWrites = true;
  const auto out = router.receiveBinary(a, bytes("S1"), 2);
  CHECK(closeReason(out, a) == "cannot store the snapshot");
  CHECK(out.messages.empty());
}

TEST_CASE("relay: a transient frame is forwarded to the room but never stored", "[net][relay]") {
  MemoryRelayStore store;
  RelayRouter router(store);
  const auto a = open(router, 0);
  const auto b = open(router, 0);
  const auto c = open(router, 0);
  (void)router.receiveText(a, "join " + kRoomA, 0);
  (void)router.receiveText(b, "join " + kRoomA, 0);
  (void)router.receiveText(c, "join " + kRoomB, 0);
  (void)router.receiveBinary(a, bytes("f1"), 1);
  const auto out = router.receiveBinary(a, transient("presence"), 2);
  CHECK(out.close.empty());
  CHECK(sentTo(out, a).empty());
  CHECK(sentTo(out, b) == std::vector<std::string>{text(transient("presence"))});
  CHECK(sentTo(out, c).empty());

  // It took no seq and left the store as it was.
  CHECK(sentTo(router.receiveText(a, "mark", 3), a) == std::vector<std::string>{"T:mark 1"});
  const auto room = *quire::net::parseRelayRoom(kRoomA);
  CHECK(store.roomState(room)->count == 1);
  CHECK(store.roomState(room)->lastSeq == 1);
  // A late joiner gets the stored frame only; the next stored frame continues at seq 2.
  const auto late = open(router, 4);
  CHECK(sentTo(router.receiveText(late, "join " + kRoomA, 4), late) ==
        std::vector<std::string>{"T:replay 1 2", "f1", "T:joined 1"});
  (void)router.receiveBinary(b, bytes("f2"), 5);
  CHECK(sentTo(router.receiveText(late, "mark", 6), late) == std::vector<std::string>{"T:mark 2"});
}

TEST_CASE("relay: transient frames need a join and obey the size and rate limits", "[net][relay]") {
  MemoryRelayStore store;
  RelayLimits limits;
  limits.maxFrameBytes = 8;
  limits.maxMessagesPerSecond = 5;
  limits.maxRoomBytes = 4;
  RelayRouter router(store, limits);

  const auto early = open(router, 0);
  CHECK(closeReason(router.receiveBinary(early, transient("hi"), 0), early)
            .find("join a room first") != std::string::npos);

  const auto a = open(router, 0);
  const auto b = open(router, 0);
  (void)router.receiveText(a, "join " + kRoomA, 0);
  (void)router.receiveText(b, "join " + kRoomA, 0);
  // Not stored, so the room's quota (4 bytes) does not apply; the frame limit (8) does.
  CHECK(sentTo(router.receiveBinary(a, transient("1234567"), 0), b).size() == 1);
  auto out = router.receiveBinary(a, transient("12345678"), 0);
  CHECK(closeReason(out, a).find("frame too large") != std::string::npos);
  CHECK(sentTo(out, b).empty());

  std::string reason;
  for (int i = 0; i < 10 && reason.empty(); ++i)
    reason = closeReason(router.receiveBinary(b, transient("p"), 1), b);
  CHECK(reason.find("too many messages") != std::string::npos);
  CHECK(store.roomState(*quire::net::parseRelayRoom(kRoomA))->count == 0);
}

TEST_CASE("relay: connections over the per-address limit are refused until one disconnects",
          "[net][relay]") {
  MemoryRelayStore store;
  RelayLimits limits;
  limits.maxConnectionsPerAddress = 3;
  RelayRouter router(store, limits);
  std::vector<RelayRouter::ConnId> conns;
  for (int i = 0; i < 3; ++i) conns.push_back(open(router, 0, "198.51.100.7"));

  const auto refused = router.connect("198.51.100.7", 1);
  CHECK(closeReason(refused.out, refused.conn) ==
        "too many connections from this address (limit 3)");
  CHECK(refused.out.messages.empty());
  // A refused connection is ignored, and gives up nothing when it goes.
  CHECK(router.receiveText(refused.conn, "join " + kRoomA, 1).messages.empty());
  router.disconnect(refused.conn);
  CHECK(!router.connect("198.51.100.7", 1).out.close.empty());

  // Other addresses are not affected.
  const auto elsewhere = open(router, 2, "198.51.100.8");
  CHECK(sentTo(router.receiveText(elsewhere, "join " + kRoomA, 2), elsewhere) ==
        std::vector<std::string>{"T:replay 0 0", "T:joined 0"});

  // Closing is not enough (the socket is still open); disconnect frees the slot.
  (void)router.receiveText(conns[0], "bogus", 3);
  CHECK(!router.connect("198.51.100.7", 3).out.close.empty());
  router.disconnect(conns[0]);
  const auto again = router.connect("198.51.100.7", 4);
  CHECK(again.out.close.empty());
  CHECK(!router.connect("198.51.100.7", 4).out.close.empty());
}

TEST_CASE("relay: the default per-address limit refuses connection 65", "[net][relay]") {
  MemoryRelayStore store;
  RelayRouter router(store);
  REQUIRE(router.limits().maxConnectionsPerAddress == 64);
  for (int i = 0; i < 64; ++i) (void)open(router, 0, "203.0.113.1");
  const auto refused = router.connect("203.0.113.1", 0);
  CHECK(closeReason(refused.out, refused.conn) ==
        "too many connections from this address (limit 64)");
}

namespace {

// A room of `frames` stored frames ('1', '2', ...) of 25/32 of a join step each
// (kRelayJoinStepBytes), so a step sends two of them, and its member `a`.
struct LargeRoom {
  static constexpr std::size_t kFrameBytes = quire::net::kRelayJoinStepBytes / 32 * 25;
  MemoryRelayStore store;
  RelayRouter router{store, [] {
                       RelayLimits limits;
                       limits.maxFrameBytes = kFrameBytes;
                       return limits;
                     }()};
  RelayRouter::ConnId a = open(router, 0);
  std::vector<std::string> frames;

  explicit LargeRoom(int count) {
    (void)router.receiveText(a, "join " + kRoomA, 0);
    for (int i = 0; i < count; ++i) {
      frames.push_back(std::string(kFrameBytes, static_cast<char>('1' + i)));
      (void)router.receiveBinary(a, bytes(frames.back()), 0);
    }
  }
  // Sends `conn` the rest of its join, step by step, appending what it was sent to `got`.
  void finishJoin(RelayRouter::ConnId conn, std::vector<std::string>& got) {
    for (int step = 0; step < 10 && router.joining().contains(conn); ++step)
      for (std::string& m : sentTo(router.continueJoin(conn), conn)) got.push_back(std::move(m));
    CHECK(!router.joining().contains(conn));
  }
};

}  // namespace

TEST_CASE("relay: a large room is sent to a joiner in steps, with what is stored meanwhile",
          "[net][relay]") {
  LargeRoom r(5);  // three steps
  const auto b = open(r.router, 0);
  std::vector<std::string> got = sentTo(r.router.receiveText(b, "join " + kRoomA, 0), b);
  REQUIRE(got.size() == 3);  // the "replay" line and the first step: two frames
  CHECK(got[0] == "T:replay 5 " + std::to_string(5 * LargeRoom::kFrameBytes));
  CHECK(r.router.joining().contains(b));
  CHECK(r.router.memberCount(*quire::net::parseRelayRoom(kRoomA)) == 1);

  // Not a member yet: a's next frame is not forwarded to b, but stored for b's later steps.
  r.frames.push_back("f6");
  CHECK(sentTo(r.router.receiveBinary(r.a, bytes(r.frames.back()), 1), b).empty());
  // A joiner may not send frames before "joined".
  const auto early = open(r.router, 0);
  (void)r.router.receiveText(early, "join " + kRoomA, 0);
  REQUIRE(r.router.joining().contains(early));
  const auto refused = r.router.receiveBinary(early, bytes("too soon"), 1);
  CHECK(closeReason(refused, early).find("before 'joined'") != std::string::npos);
  CHECK(!r.router.joining().contains(early));

  r.finishJoin(b, got);
  std::vector<std::string> want{got[0]};
  want.insert(want.end(), r.frames.begin(), r.frames.end());
  want.push_back("T:joined 6");
  CHECK(got == want);
  CHECK(r.router.memberCount(*quire::net::parseRelayRoom(kRoomA)) == 2);
  // A member now: live frames reach it, and continueJoin sends it nothing more.
  CHECK(sentTo(r.router.receiveBinary(r.a, bytes("f7"), 2), b) == std::vector<std::string>{"f7"});
  CHECK(r.router.continueJoin(b).messages.empty());
}

TEST_CASE("relay: a snapshot stored during a join replaces what the joiner has not been sent",
          "[net][relay]") {
  LargeRoom r(4);
  const auto b = open(r.router, 0);
  std::vector<std::string> got = sentTo(r.router.receiveText(b, "join " + kRoomA, 0), b);
  REQUIRE(got.size() == 3);  // frames 1 and 2
  (void)r.router.receiveText(r.a, "snapshot 4", 1);
  (void)r.router.receiveBinary(r.a, bytes("snap"), 1);
  r.finishJoin(b, got);
  REQUIRE(got.size() == 5);
  CHECK(got[3] == "snap");  // in place of frames 3 and 4
  CHECK(got[4] == "T:joined 4");
}

TEST_CASE("relay: a joiner that leaves mid-join leaves nothing behind", "[net][relay]") {
  LargeRoom r(3);
  r.router.disconnect(r.a);
  const auto b = open(r.router, 0);
  (void)r.router.receiveText(b, "join " + kRoomA, 0);
  REQUIRE(r.router.joining().contains(b));
  r.router.disconnect(b);
  CHECK(r.router.joining().empty());
  CHECK(r.router.continueJoin(b).messages.empty());
  CHECK(r.router.memberCount(*quire::net::parseRelayRoom(kRoomA)) == 0);
  // The room is read afresh by the next joiner.
  const auto c = open(r.router, 0);
  const auto out = r.router.receiveText(c, "join " + kRoomA, 0);
  CHECK(sentTo(out, c).front() == "T:replay 3 " + std::to_string(3 * LargeRoom::kFrameBytes));
}
