// What a relay room lets through, as processes on 127.0.0.1 (issue 4, "Relay"): a wrong key
// changes nothing; the relay never holds plaintext (database or memory); a hostile client does
// not disturb other rooms, and junk stored in a fresh room does not lock its members out. The
// convergence cases are in relay_peers_sync_test.cpp; the shared stage is relay_peers_fixture.h.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <QString>

#include "net/crypto.h"
#include "net/share_link.h"
#include "tests/net/relay_peers_fixture.h"
#include "tests/support/process_memory.h"
#include "tests/support/ws_test_client.h"

using namespace quire::test::relay_peers;
using quire::test::MemoryScan;
using quire::test::childPid;
using quire::test::scanMemory;
using quire::test::scanWithGcore;
using quire::test::spinUntil;
using Client = quire::test::WsTestClient;

TEST_CASE("a wrong key is rejected and changes nothing", "[net][process][relay-peers]") {
  REQUIRE_BINARIES();
  REQUIRE(quire::net::initCrypto().has_value());
  Room room;
  openOnce(room.db("b"), room.link);
  checkTyped(cli(typeArgs(room.db("a"), room.id, kTextA, 0)), "A", true);
  openOnce(room.db("b"), room.link);
  const std::string before = catText(room.db("b"), room.id);
  REQUIRE(before == kTextA);

  // The right document id and relay route, another key.
  auto parsed = quire::net::parseShareLink(room.link);
  REQUIRE(parsed.has_value());
  parsed->key = quire::net::generateKey();
  const std::string wrong = quire::net::encodeShareLink(*parsed);
  REQUIRE(wrong != room.link);

  // Through a relay a wrong key derives another room id, so it meets an empty room: it cannot
  // be told from a document nobody has written in yet. It gets nothing of the real room, and
  // the note says why the copy is empty.
  const Ran wrongOpen = cli({"open", "--once", "--timeout-ms", "10000", "--db", room.db("w"), wrong});
  {
    INFO("open --once with a wrong key -> " << wrongOpen.code << "\nstdout: " << wrongOpen.out
                                            << "\nstderr: " << wrongOpen.err);
    CHECK(wrongOpen.out.find("synced 0 chars") != std::string::npos);
    CHECK(wrongOpen.err.find("key is wrong") != std::string::npos);
    CHECK(catText(room.db("w"), room.id).empty());
  }

  // The same database then opens the right link (the user fixed the typo): the empty
  // wrong-key copy is replaced.
  {
    const Ran right = cli({"open", "--once", "--timeout-ms", "10000", "--db", room.db("w"), room.link});
    INFO("open --once with the right link after the wrong one -> " << right.code << "\nstdout: "
                                                                  << right.out << "\nstderr: "
                                                                  << right.err);
    CHECK(right.code == 0);
    if (right.code == 0) CHECK(catText(room.db("w"), room.id) == kTextA);
  }

  // Someone typing into a wrong-key copy reaches nobody in the real room.
  {
    const Ran other = cli({"open", "--once", "--timeout-ms", "10000", "--db", room.db("x"), wrong});
    INFO("open --once with a wrong key into x: " << other.out << other.err);
    CHECK(other.code == 0);
    const Ran injected = cli(typeArgs(room.db("x"), room.id, "INJECTED", 0));
    INFO("type into the wrong-key copy: " << injected.out << injected.err);
    CHECK(injected.code == 0);
    // With text in it, that copy is protected: the right link is refused, not overwritten.
    const Ran right = cli({"open", "--once", "--timeout-ms", "10000", "--db", room.db("x"), room.link});
    CHECK(right.code != 0);
    CHECK(right.err.find("different key") != std::string::npos);
  }

  // The room's real members still have exactly their text, and still sync.
  checkTyped(cli(typeArgs(room.db("b"), room.id, kTextB, 0)), "B", true);
  openOnce(room.db("a"), room.link);
  openOnce(room.db("b"), room.link);
  const std::string afterA = catText(room.db("a"), room.id);
  CHECK(afterA == catText(room.db("b"), room.id));
  CHECK(afterA.find("INJECTED") == std::string::npos);
  checkConverged(afterA, {kTextA, kTextB});
  CHECK(room.relay.alive());
}

TEST_CASE("the relay's database and memory never hold the canary", "[net][process][relay-peers]") {
  REQUIRE_BINARIES();
  REQUIRE(quire::net::initCrypto().has_value());
  Room room;
  openOnce(room.db("b"), room.link);
  openOnce(room.db("c"), room.link);
  // A types the canary alone first, so that it is one contiguous string in every copy; then
  // B and C type concurrently.
  checkTyped(cli(typeArgs(room.db("a"), room.id, kTextA, 5)), "A", true);
  auto c = spawnCli(typeArgs(room.db("c"), room.id, kTextC, 10));
  checkTyped(cli(typeArgs(room.db("b"), room.id, kTextB, 10)), "B", true);
  checkTyped(finish(*c), "C", true);
  // A late joiner gets it all from the relay's store: the relay did hold the (sealed) text.
  openOnce(room.db("g"), room.link);
  const std::string text = catText(room.db("g"), room.id);
  checkConverged(text, {kTextA, kTextB, kTextC});
  REQUIRE(text.find(kCanary) != std::string::npos);

  const std::string nonAscii = "\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80";  // é中😀, A's
  const std::vector<std::string> needles{kCanary, utf16le(kCanary), nonAscii};

  // Its database files, as they are while it runs (WAL: the frames are in the -wal file).
  std::string files;
  for (const std::string suffix : {"", "-wal", "-shm", "-journal"}) {
    const std::string path = room.relay.db + suffix;
    if (std::filesystem::exists(path)) files += readFile(path);
  }
  REQUIRE(files.size() > 1000);
  for (const std::string& needle : needles) CHECK(files.find(needle) == std::string::npos);

  // Its memory, while it runs after the typing.
  REQUIRE(room.relay.alive());
  const pid_t pid = childPid(room.relay.db);
  REQUIRE(pid > 0);
  // Positive controls: the database path (its argv) and the room id (its "join" line).
  auto link = quire::net::parseShareLink(room.link);
  REQUIRE(link.has_value());
  const quire::net::RoomId roomId = quire::net::roomIdOf(link->key);
  std::vector<std::string> all = needles;
  all.push_back(room.relay.db);
  all.push_back(hex(roomId.bytes.data(), roomId.bytes.size()));
  MemoryScan scan = scanMemory(pid, all);
  if (!scan.error.empty()) {
    WARN("/proc/PID/mem: " << scan.error << "; trying gcore");
    scan = scanWithGcore(pid, room.dir.path(), all);
  }
  INFO("memory scan of relay pid " << pid << ": " << scan.bytes << " bytes (ASan shadow skipped: "
                                   << scan.skippedShadowBytes << " bytes), error '" << scan.error
                                   << "'");
  REQUIRE(scan.error.empty());
  REQUIRE(scan.bytes > 100000);
  CHECK(scan.found[needles.size()]);  // the control: the scan does see the relay's own data
  for (std::size_t i = 0; i < needles.size(); ++i) {
    INFO("needle " << i);
    CHECK(!scan.found[i]);
  }
  INFO("the room id was " << (scan.found[needles.size() + 1] ? "" : "not ") << "seen in memory");
  CHECK(room.relay.alive());
}

TEST_CASE("a hostile client does not crash the relay or stop other rooms",
          "[net][process][relay-peers]") {
  REQUIRE_BINARIES();
  REQUIRE(quire::net::initCrypto().has_value());
  quire::test::ensureCoreApp();
  Room room({"--max-frame-bytes", "4096", "--max-messages-per-second", "100"});
  openOnce(room.db("b"), room.link);
  // The good room is in use the whole time.
  auto typing = spawnCli(typeArgs(room.db("a"), room.id, kTextA, 30));

  std::string randomRoom;
  {
    const quire::net::DocKey k = quire::net::generateKey();
    const quire::net::RoomId r = quire::net::roomIdOf(k);
    randomRoom = hex(r.bytes.data(), r.bytes.size());
  }

  // Garbage before join.
  {
    Client c(room.relay.url);
    REQUIRE(c.connected());
    c.binary(std::string("\x01\xff\x00garbage", 10));
    REQUIRE(c.closed());
    CHECK(c.closeReason.contains(QStringLiteral("join a room first")));
  }
  // A malformed join, and a text message that is not a join.
  {
    Client c(room.relay.url);
    REQUIRE(c.connected());
    c.text("join not-a-room-id");
    REQUIRE(c.closed());
    INFO(c.closeReason.toStdString());
    CHECK(c.closeReason.contains(QStringLiteral("relay join: room id")));
  }
  {
    Client c(room.relay.url);
    REQUIRE(c.connected());
    c.text("hello relay");
    REQUIRE(c.closed());
    INFO(c.closeReason.toStdString());
    CHECK(!c.closeReason.isEmpty());
  }
  // A random room: truncated frames (the relay never looks inside, so they are only stored),
  // then an oversized one.
  {
    Client c(room.relay.url);
    REQUIRE(c.connected());
    c.text("join " + randomRoom);
    REQUIRE(c.received("T:joined 0"));
    c.binary(std::string(1, '\x01'));
    c.binary(std::string("\x01\x02\x03", 3));
    c.binary(std::string(40, '\x01'));
    c.text("mark");
    REQUIRE(c.received("T:mark 3"));
    CHECK(!c.disconnected);
    // A snapshot beyond the last seq (its blob follows) is refused; the connection stays.
    c.text("snapshot 99");
    c.binary(std::string(1, '\x01'));
    {
      std::string got;
      const bool refused = c.receivedPrefix("T:snapshot-refused 99");
      for (const auto& m : c.got) got += m.substr(0, 60) + "\n";
      INFO("received:\n" << got);
      CHECK(refused);
    }
    c.text("mark");
    REQUIRE(spinUntil([&] { return std::count(c.got.begin(), c.got.end(), "T:mark 3") == 2; }));
    CHECK(!c.disconnected);
    c.binary(std::string(5000, 'x'));
    REQUIRE(c.closed());
    CHECK(c.closeCode == 1009);  // refused by size as it arrives, unread
  }
  // A second join on one connection, and a flood.
  {
    Client c(room.relay.url);
    REQUIRE(c.connected());
    c.text("join " + randomRoom);
    REQUIRE(c.receivedPrefix("T:joined "));
    c.text("join " + randomRoom);
    REQUIRE(c.closed());
    INFO(c.closeReason.toStdString());
    CHECK(c.closeReason.contains(QStringLiteral("already joined a room")));
  }
  {
    Client c(room.relay.url);
    REQUIRE(c.connected());
    c.text("join " + randomRoom);
    REQUIRE(c.receivedPrefix("T:joined "));
    for (int i = 0; i < 500 && !c.disconnected; ++i) c.binary(std::string(64, static_cast<char>(i)));
    REQUIRE(c.closed(10000));
    INFO(c.closeReason.toStdString());
    CHECK(c.closeReason.contains(QStringLiteral("too many messages per second")));
  }
  const Ran typed = finish(*typing);
  {
    INFO("relay log:\n" << readFile(room.relay.log));
    checkTyped(typed, "A (during the attacks)", true);
  }
  REQUIRE(room.relay.alive());
  // Someone who learned the good room's id (not its key) stores junk frames in it, after
  // A's frames (a fresh room is the next test).
  {
    auto parsed = quire::net::parseShareLink(room.link);
    REQUIRE(parsed.has_value());
    const quire::net::RoomId r = quire::net::roomIdOf(parsed->key);
    Client c(room.relay.url);
    REQUIRE(c.connected());
    c.text("join " + hex(r.bytes.data(), r.bytes.size()));
    REQUIRE(c.receivedPrefix("T:joined "));
    c.binary(std::string(1, '\x01'));
    c.binary(std::string(60, '\x01'));
    c.binary(std::string(3, '\x81'));  // "transient"
    c.text("mark");
    REQUIRE(c.receivedPrefix("T:mark "));
    c.socket->close();
    c.closed();
  }

  checkTyped(cli(typeArgs(room.db("b"), room.id, kTextB, 0)), "B (after the attacks)", true);
  openOnce(room.db("a"), room.link);
  openOnce(room.db("b"), room.link);
  openOnce(room.db("g"), room.link);  // a late joiner replays the junk too
  const std::string text = catText(room.db("a"), room.id);
  CHECK(text == catText(room.db("b"), room.id));
  CHECK(text == catText(room.db("g"), room.id));
  checkConverged(text, {kTextA, kTextB});
  CHECK(room.relay.alive());
  const std::string log = readFile(room.relay.log);
  INFO(log);
  CHECK(log.find("refused #") != std::string::npos);
}

TEST_CASE("junk frames stored in a fresh room by someone without the key do not lock its members out",
          "[net][process][relay-peers]") {
  REQUIRE_BINARIES();
  REQUIRE(quire::net::initCrypto().has_value());
  quire::test::ensureCoreApp();
  Room room;
  openOnce(room.db("b"), room.link);  // nothing stored yet: the document is empty

  // The room id is not secret from the relay operator or from anyone who saw a ws:// "join"
  // line; the key is. Before any member stored a frame, junk goes in.
  {
    auto parsed = quire::net::parseShareLink(room.link);
    REQUIRE(parsed.has_value());
    const quire::net::RoomId r = quire::net::roomIdOf(parsed->key);
    Client c(room.relay.url);
    REQUIRE(c.connected());
    c.text("join " + hex(r.bytes.data(), r.bytes.size()));
    REQUIRE(c.received("T:joined 0"));
    c.binary(std::string(1, '\x01'));
    c.binary(std::string(60, '\x01'));
    c.text("mark");
    REQUIRE(c.received("T:mark 2"));
    c.socket->close();
    c.closed();
  }

  // The members still write and read the document.
  const Ran typed = cli(typeArgs(room.db("a"), room.id, kTextA, 0, {"--wait-ms", "3000"}));
  checkTyped(typed, "A (after the junk)", true);
  const Ran opened = cli({"open", "--once", "--timeout-ms", "10000", "--db", room.db("b"), room.link});
  INFO("B open --once -> " << opened.code << "\nstdout: " << opened.out << "\nstderr: " << opened.err);
  CHECK(opened.code == 0);
  CHECK(catText(room.db("b"), room.id) == kTextA);
  CHECK(room.relay.alive());
}
