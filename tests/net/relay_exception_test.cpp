// An exception while the relay handles one message (an allocation failure in its store, say)
// fails that message and closes that connection only: the relay, the room and every other
// connection carry on, and what was stored stays consistent (issue 12, "No exception escapes
// an event-loop callback"; PROTOCOL.md, "Hostile frames"). An in-process RelayServer over a
// store that throws where it is told to, and raw clients on 127.0.0.1.
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include <QHostAddress>
#include <catch2/catch.hpp>

#include "net/relay_router.h"
#include "net/relay_server.h"
#include "tests/support/ws_test_client.h"

namespace {

using quire::Result;
using quire::net::MemoryRelayStore;
using quire::net::RelayItem;
using quire::net::RelayRoomKey;
using quire::net::RelayRoomState;
using quire::test::spinUntil;
using Client = quire::test::WsTestClient;

const std::string kRoom = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
const std::string kPoison = "poison!";

// A store in memory that throws std::bad_alloc when asked to store the frame kPoison, and a
// runtime_error from items() (a join's step) while `failReads` is set.
class ThrowingStore final : public quire::net::RelayStore {
 public:
  bool failReads = false;

  Result<RelayRoomState> roomState(const RelayRoomKey& room) override { return m_inner.roomState(room); }
  Result<std::vector<RelayItem>> items(const RelayRoomKey& room, std::uint64_t fromSeq,
                                      std::size_t maxBytes) override {
    if (failReads) throw std::runtime_error("injected: cannot read the room");
    return m_inner.items(room, fromSeq, maxBytes);
  }
  Result<void> append(const RelayRoomKey& room, std::uint64_t seq,
                      std::span<const std::uint8_t> bytes) override {
    if (std::string(bytes.begin(), bytes.end()) == kPoison) throw std::bad_alloc();
    return m_inner.append(room, seq, bytes);
  }
  Result<void> replace(const RelayRoomKey& room, std::uint64_t upTo,
                       std::span<const std::uint8_t> bytes) override {
    return m_inner.replace(room, upTo, bytes);
  }

 private:
  MemoryRelayStore m_inner;
};

struct Relay {
  ThrowingStore store;
  quire::net::RelayRouter router{store};
  std::vector<std::string> log;
  quire::net::RelayServer server{router, [this](const std::string& line) { log.push_back(line); }};
  std::string url;

  Relay() {
    quire::test::ensureCoreApp();
    auto port = server.listen(QHostAddress::LocalHost, 0);
    REQUIRE(port.has_value());
    url = "ws://127.0.0.1:" + std::to_string(*port);
  }
  bool logged(const std::string& text) const {
    for (const std::string& line : log)
      if (line.find(text) != std::string::npos) return true;
    return false;
  }
};

// A client that joined kRoom; `stored` is what the relay said it replays.
void join(Client& c, const std::string& replay = "T:replay 0 0") {
  REQUIRE(c.connected());
  c.text("join " + kRoom);
  REQUIRE(c.receivedPrefix("T:joined ", 5000));
  CHECK(c.got.front() == replay);
}

}  // namespace

TEST_CASE("an exception while the relay stores a frame closes its sender only", "[net][relay][hostile]") {
  Relay relay;
  Client a(relay.url), b(relay.url), c(relay.url);
  join(a);
  join(b);
  join(c);

  a.binary(kPoison);
  REQUIRE(a.closed(5000));
  CHECK(a.closeCode == 1011);
  CHECK(a.closeReason.toStdString() == "relay could not handle the message");
  CHECK(relay.logged("after an exception: std::bad_alloc"));

  // The others carry on: B's frame is stored and forwarded, and a newcomer gets it alone.
  b.binary(std::string("\x01hello", 6));
  REQUIRE(spinUntil([&] { return c.binaryCount == 1; }));
  CHECK(c.got.back() == std::string("\x01hello", 6));
  CHECK_FALSE(b.disconnected);
  Client d(relay.url);
  join(d, "T:replay 1 6");
  CHECK(d.findPrefix("T:joined 1") != nullptr);
  CHECK(d.binaryCount == 1);
}

TEST_CASE("an exception while the relay sends a join its room closes that joiner only", "[net][relay][hostile]") {
  Relay relay;
  Client member(relay.url), watcher(relay.url);
  join(member);
  join(watcher);
  member.binary(std::string("\x01one", 4));
  REQUIRE(spinUntil([&] { return watcher.binaryCount == 1; }));

  relay.store.failReads = true;
  Client joiner(relay.url);
  REQUIRE(joiner.connected());
  joiner.text("join " + kRoom);
  REQUIRE(joiner.closed(5000));
  CHECK(joiner.closeCode == 1011);
  CHECK(relay.logged("after an exception: injected: cannot read the room"));

  // The room goes on live, and once its store reads again, joins work.
  member.binary(std::string("\x01two", 4));
  REQUIRE(spinUntil([&] { return watcher.binaryCount == 2; }));
  relay.store.failReads = false;
  Client late(relay.url);
  join(late, "T:replay 2 8");
  CHECK(late.binaryCount == 2);
  CHECK_FALSE(member.disconnected);
  CHECK_FALSE(watcher.disconnected);
}
