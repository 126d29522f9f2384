// Issue 12, "Forks are caught, not silent": a key holder sends one version of its ops straight to
// A and another through the relay to the rest of the room, at a moment when A cannot pass its
// version on (the relay is down). Each half holds a different version; once they meet, every
// copy must end with the same one (engine FORMAT.md, "Forks"), on disk too. Multi-process, on
// 127.0.0.1: quire-relay, A (`quire-cli serve`: a direct listener and the relay), B (`quire-cli
// open`: the relay), and the attacker in the test process.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "engine/document.h"
#include "net/frame.h"
#include "net/share_link.h"
#include "tests/hostile/hostile_harness.h"
#include "tests/hostile/hostile_process.h"
#include "tests/support/hostile_frames.h"
#include "tests/support/hostile_inputs.h"
#include "tests/support/temp_dir.h"
#include "tests/support/ws_test_client.h"

namespace {

using namespace std::chrono_literals;
namespace hostile = quire::test::hostile;
using hostile::Proc;
using quire::test::spinUntil;
using quire::test::WsTestClient;

// The attacker's ops: `text` at the start of the document, as replica "mallory" from seq 0.
std::vector<std::uint8_t> versionOf(const std::string& text) {
  quire::engine::Document mallory(hostile::attackerReplica(0x3A11));
  REQUIRE(mallory.insert(0, text));
  return mallory.encodeUpdateSince({});
}

class HalfRoom {
 public:
  HalfRoom() {
    REQUIRE(quire::net::initCrypto().has_value());
    quire::test::ensureCoreApp();
    m_log = m_dir.file("relay.log");
    startRelay("127.0.0.1:0");
  }
  ~HalfRoom() {
    for (auto& p : m_procs)
      if (p->child->running()) p->stop();
  }

  std::string db(char peer) const { return m_dir.file(std::string(1, peer) + ".db"); }

  Proc& spawn(const std::string& name, const std::vector<std::string>& args) {
    auto p = std::make_unique<Proc>();
    p->name = name;
    p->child = std::make_unique<quire::test::ChildProcess>(hostile::cliPath(), args);
    REQUIRE(p->child->started());
    m_procs.push_back(std::move(p));
    return *m_procs.back();
  }
  std::string run(const std::string& name, const std::vector<std::string>& args) {
    Proc& p = spawn(name, args);
    p.finish(30s, [this] { pump(); });
    INFO(name << " -> " << p.code.value_or(-1) << "\nstdout: " << p.out << "\nstderr: " << p.err());
    REQUIRE(p.code == 0);
    return p.out;
  }
  void pump() {
    for (auto& p : m_procs) p->pump();
  }
  bool waitFor(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    return spinUntil(
        [&] {
          pump();
          return done();
        },
        static_cast<int>(limit.count()));
  }
  std::string cat(char peer) { return run(std::string("cat ") + peer, {"cat", "--db", db(peer), m_id}); }

  void startRelay(const std::string& listen) {
    m_procs.push_back(hostile::startRelayProcess(listen, m_dir.file("relay.db"), m_log, {}, m_relayUrl, m_port));
    m_relay = m_procs.back().get();
  }

  // A makes and shares a document with "base" in it; B fetches it; A serves (directly and on
  // the relay) and B follows the relay.
  void setUp() {
    m_id = hostile::trimmed(run("new", {"new", "--db", db('a'), "fork"}));
    run("type a", {"type", "--db", db('a'), "--offline", m_id, "--", "base "});
    const std::string link =
        hostile::trimmed(run("share", {"share", "--db", db('a'), "--relay", m_relayUrl, m_id}));
    auto parsed = quire::net::parseShareLink(link);
    REQUIRE(parsed.has_value());
    m_key = parsed->key;
    m_room = quire::net::roomIdOf(m_key);
    m_serveA = &spawn("serve a", {"serve", "--listen", "127.0.0.1:0", "--db", db('a'), m_id});
    // A is on the relay (and has sent "base" there) before B joins.
    REQUIRE(waitFor([&] { return m_serveA->out.find("route " + m_relayUrl + " live") != std::string::npos; }, 15s));
    m_openB = &spawn("open b", {"open", "--timeout-ms", "60000", "--db", db('b'), link});
    const std::string listening = "listening on ";
    const bool ready = waitFor(
        [&] {
          return m_serveA->out.find(listening) != std::string::npos &&
                 m_openB->out.find("synced ") != std::string::npos;
        },
        15s);
    INFO("serve a: " << m_serveA->out << m_serveA->err() << "\nopen b: " << m_openB->out << m_openB->err());
    REQUIRE(ready);
    std::string url = m_serveA->out.substr(m_serveA->out.find(listening) + listening.size());
    m_directUrl = url.substr(0, url.find('\n'));
    REQUIRE(waitFor([&] { return cat('b') == "base "; }, 15s));
  }

  // While the relay is down, the attacker sends `version` straight to A, which takes it.
  void sendToA(const std::vector<std::uint8_t>& version, const std::string& text) {
    WsTestClient c(m_directUrl);
    REQUIRE(c.connected());
    c.text("join " + hostile::hexOf(m_room));
    REQUIRE(c.received("T:peer"));
    quire::net::Message hello;
    hello.kind = quire::net::FrameKind::Hello;
    hello.sender = hostile::attackerReplica(0xD1EC7);
    c.binary(quire::net::encodeFrame(m_key, m_room, hello, true));
    REQUIRE(spinUntil([&] { return c.binaryCount >= 1; }));  // A's hello: the session is up
    quire::net::Message update = hostile::updateMessage(version);
    update.counter = 1;
    c.binary(quire::net::encodeFrame(m_key, m_room, update, true));
    INFO("serve a stderr:\n" << m_serveA->err());
    REQUIRE(waitFor([&] { return cat('a').find(text) != std::string::npos; }, 15s));
    c.socket->close();
    c.closed();
  }

  // The relay comes back, and the attacker stores `version` in the room at once, before A's
  // reconnect backoff brings it back to pass its own on.
  void restartRelayAndStore(const std::vector<std::uint8_t>& version) {
    startRelay("127.0.0.1:" + m_port);
    WsTestClient c(m_relayUrl);
    REQUIRE(c.connected());
    c.text("join " + hostile::hexOf(m_room));
    REQUIRE(c.receivedPrefix("T:joined ", 30000));
    c.binary(quire::net::encodeFrame(m_key, m_room, hostile::updateMessage(version)));
    c.text("sync");
    REQUIRE(spinUntil([&] { return c.disconnected || c.findPrefix("T:synced ") != nullptr; }, 30000));
    REQUIRE_FALSE(c.disconnected);
    c.socket->close();
    c.closed();
  }

  std::string m_id, m_relayUrl, m_port, m_log, m_directUrl;
  quire::net::DocKey m_key;
  quire::net::RoomId m_room;
  Proc* m_relay = nullptr;
  Proc* m_serveA = nullptr;
  Proc* m_openB = nullptr;

 private:
  quire::test::TempDir m_dir{"quire-fork"};
  std::vector<std::unique_ptr<Proc>> m_procs;
};

}  // namespace

TEST_CASE("hostile: one version straight to A, another through the relay to B: every copy ends identical",
          "[hostile][process][fork]") {
  // The two versions first differ at the attacker's seq 0; the smaller one wins everywhere.
  for (const bool directWins : {true, false}) {
    DYNAMIC_SECTION("the version sent to A " << (directWins ? "wins" : "loses")) {
      const std::string toA = directWins ? "Mallory " : "mallory ";
      const std::string toRoom = directWins ? "mallory " : "Mallory ";
      const std::string winner = directWins ? toA : toRoom;
      const std::string loser = directWins ? toRoom : toA;

      HalfRoom room;
      room.setUp();
      room.m_relay->stop();
      room.sendToA(versionOf(toA), toA);
      room.restartRelayAndStore(versionOf(toRoom));

      // The halves meet in the room: each logs the fork, both end with the winner.
      std::string a, b;
      const bool same = room.waitFor(
          [&] {
            a = room.cat('a');
            b = room.cat('b');
            return a == b && a.find(winner) != std::string::npos;
          },
          30s);
      INFO("a: '" << a << "'\nb: '" << b << "'\nserve a stderr:\n"
                  << room.m_serveA->err() << "\nopen b stderr:\n" << room.m_openB->err());
      CHECK(same);
      CHECK(a.find(loser) == std::string::npos);
      CHECK(a.find("base ") != std::string::npos);
      const std::string logs = room.m_serveA->err() + room.m_openB->err();
      CHECK(logs.find("repaired a fork") != std::string::npos);

      // What is on disk is the repaired document: after both stop, each database still holds
      // the winner alone (the rebuilt history replaced the stored one).
      for (Proc* p : {room.m_serveA, room.m_openB}) {
        CHECK(p->child->running());
        p->stop([&] { room.pump(); });
        CHECK(p->code == 0);
      }
      CHECK(room.cat('a') == a);
      CHECK(room.cat('b') == a);
    }
  }
}
