// The relay's sans-I/O router (net/relay_router.h) over MemoryRelayStore: joining, forwarding,
// store-and-forward replay, snapshots and limits. PROTOCOL.md, "Relay".
#include "net/relay_router.h"

#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace {

using quire::net::MemoryRelayStore;
using quire::net::RelayLimits;
using quire::net::RelayRouter;
using Bytes = std::vector<std::uint8_t>;

const std::string kRoomA(64, 'a');
const std::string kRoomB(64, 'b');

Bytes bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }
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

}  // namespace

TEST_CASE("relay: a joiner gets 'joined 0' for an empty room", "[net][relay]") {
  MemoryRelayStore store;
  RelayRouter router(store);
  const auto a = router.connect(0);
  const auto out = router.receiveText(a, "join " + kRoomA, 0);
  CHECK(sentTo(out, a) == std::vector<std::string>{"T:joined 0"});
  CHECK(out.close.empty());
  CHECK(router.memberCount(*quire::net::parseRelayRoom(kRoomA)) == 1);
}

TEST_CASE("relay: a frame is forwarded to the other members of its room only", "[net][relay]") {
  MemoryRelayStore store;
  RelayRouter router(store);
  const auto a = router.connect(0);
  const auto b = router.connect(0);
  const auto c = router.connect(0);
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
  const auto a = router.connect(0);
  (void)router.receiveText(a, "join " + kRoomA, 0);
  for (int i = 1; i <= 3; ++i) (void)router.receiveBinary(a, bytes(std::string("f").append(std::to_string(i))), i);
  router.disconnect(a);
  CHECK(router.memberCount(*quire::net::parseRelayRoom(kRoomA)) == 0);
  const auto b = router.connect(10);
  const auto out = router.receiveText(b, "join " + kRoomA, 10);
  CHECK(sentTo(out, b) == std::vector<std::string>{"f1", "f2", "f3", "T:joined 3"});
}

TEST_CASE("relay: a snapshot replaces only the frames up to the seq it names", "[net][relay]") {
  MemoryRelayStore store;
  RelayRouter router(store);
  const auto a = router.connect(0);
  const auto b = router.connect(0);
  (void)router.receiveText(a, "join " + kRoomA, 0);
  (void)router.receiveText(b, "join " + kRoomA, 0);
  (void)router.receiveBinary(a, bytes("f1"), 1);
  (void)router.receiveBinary(a, bytes("f2"), 2);
  CHECK(sentTo(router.receiveText(b, "mark", 3), b) == std::vector<std::string>{"T:mark 2"});
  // A frame arrives after b's mark and before its snapshot: it must survive.
  (void)router.receiveBinary(a, bytes("f3"), 4);
  CHECK(router.receiveText(b, "snapshot 2", 5).messages.empty());
  CHECK(sentTo(router.receiveBinary(b, bytes("S2"), 5), b) ==
        std::vector<std::string>{"T:snapshot-stored 2"});

  const auto c = router.connect(6);
  CHECK(sentTo(router.receiveText(c, "join " + kRoomA, 6), c) ==
        std::vector<std::string>{"S2", "f3", "T:joined 3"});
  // New frames continue the numbering after the snapshot.
  (void)router.receiveBinary(a, bytes("f4"), 7);
  CHECK(sentTo(router.receiveText(c, "mark", 8), c) == std::vector<std::string>{"T:mark 4"});
}

TEST_CASE("relay: a stale or impossible snapshot is refused and the stored frames are kept",
          "[net][relay]") {
  MemoryRelayStore store;
  RelayRouter router(store);
  const auto a = router.connect(0);
  (void)router.receiveText(a, "join " + kRoomA, 0);
  for (int i = 1; i <= 4; ++i) (void)router.receiveBinary(a, bytes(std::string("f").append(std::to_string(i))), i);
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
  const auto b = router.connect(8);
  CHECK(sentTo(router.receiveText(b, "join " + kRoomA, 8), b) ==
        std::vector<std::string>{"S3", "f4", "T:joined 4"});
}

TEST_CASE("relay: frames before join, bad joins and unknown messages close the connection",
          "[net][relay]") {
  MemoryRelayStore store;
  RelayRouter router(store);
  const auto a = router.connect(0);
  CHECK(!closeReason(router.receiveBinary(a, bytes("f"), 0), a).empty());
  const auto b = router.connect(0);
  CHECK(!closeReason(router.receiveText(b, "join 1234", 0), b).empty());
  const auto c = router.connect(0);
  (void)router.receiveText(c, "join " + kRoomA, 0);
  CHECK(!closeReason(router.receiveText(c, "hello", 0), c).empty());
  // A closed connection is ignored until disconnect(), and others carry on.
  CHECK(router.receiveText(c, "mark", 1).messages.empty());
  const auto d = router.connect(0);
  CHECK(sentTo(router.receiveText(d, "join " + kRoomA, 1), d) ==
        std::vector<std::string>{"T:joined 0"});
}

TEST_CASE("relay: an oversized frame closes its sender and is neither stored nor forwarded",
          "[net][relay]") {
  MemoryRelayStore store;
  RelayLimits limits;
  limits.maxFrameBytes = 8;
  RelayRouter router(store, limits);
  const auto a = router.connect(0);
  const auto b = router.connect(0);
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
  const auto a = router.connect(0);
  (void)router.receiveText(a, "join " + kRoomA, 0);
  CHECK(router.receiveBinary(a, Bytes(6, 'x'), 1).close.empty());
  const auto out = router.receiveBinary(a, Bytes(6, 'y'), 2);
  CHECK(closeReason(out, a).find("room storage full") != std::string::npos);
  router.disconnect(a);

  const auto b = router.connect(3);
  (void)router.receiveText(b, "join " + kRoomA, 3);
  (void)router.receiveText(b, "snapshot 1", 4);
  CHECK(sentTo(router.receiveBinary(b, Bytes(2, 's'), 4), b) ==
        std::vector<std::string>{"T:snapshot-stored 1"});
  CHECK(router.receiveBinary(b, Bytes(6, 'z'), 5).close.empty());
  // Other rooms are not affected by room A's quota.
  const auto c = router.connect(6);
  (void)router.receiveText(c, "join " + kRoomB, 6);
  CHECK(router.receiveBinary(c, Bytes(9, 'w'), 6).close.empty());
}

TEST_CASE("relay: a connection over the message rate is closed and a steady one is not",
          "[net][relay]") {
  MemoryRelayStore store;
  RelayLimits limits;
  limits.maxMessagesPerSecond = 10;
  RelayRouter router(store, limits);
  const auto steady = router.connect(0);
  (void)router.receiveText(steady, "join " + kRoomA, 0);
  for (int i = 1; i <= 50; ++i)  // 10 per second for 5 seconds
    REQUIRE(router.receiveBinary(steady, bytes("s"), i * 100).close.empty());

  const auto flood = router.connect(0);
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
  const auto idle = router.connect(0);
  const auto busy = router.connect(0);
  (void)router.receiveText(busy, "join " + kRoomA, 900);
  const auto out = router.expireIdle(1500);
  CHECK(closeReason(out, idle).find("idle") != std::string::npos);
  CHECK(closeReason(out, busy).empty());
}

TEST_CASE("relay: a frame that cannot be stored is not forwarded", "[net][relay]") {
  MemoryRelayStore store;
  RelayRouter router(store);
  const auto a = router.connect(0);
  const auto b = router.connect(0);
  (void)router.receiveText(a, "join " + kRoomA, 0);
  (void)router.receiveText(b, "join " + kRoomA, 0);
  store.failWrites = true;
  const auto out = router.receiveBinary(a, bytes("f1"), 1);
  CHECK(closeReason(out, a) == "cannot store the frame");
  CHECK(sentTo(out, b).empty());
}
