// Issue 12, "Forks are caught, not silent": a key holder sends one version of its ops straight to
// A and another straight to B while the relay that joins them is down. Each half of the room
// holds a different version; once they meet through the relay, every copy must end with the
// same one (engine FORMAT.md, "Forks"), on disk too. Multi-process, on 127.0.0.1: quire-relay,
// A and B (`quire-cli serve`: a direct listener each, and the relay), and the attacker in the
// test process.
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

  // A makes and shares a document with "base" in it and serves it (a direct listener, and the
  // relay); B fetches it and serves it too.
  void setUp() {
    m_id = hostile::trimmed(run("new", {"new", "--db", db('a'), "fork"}));
    run("type a", {"type", "--db", db('a'), "--offline", m_id, "--", "base "});
    const std::string link =
        hostile::trimmed(run("share", {"share", "--db", db('a'), "--relay", m_relayUrl, m_id}));
    auto parsed = quire::net::parseShareLink(link);
    REQUIRE(parsed.has_value());
    m_key = parsed->key;
    m_room = quire::net::roomIdOf(m_key);
    const std::string live = "route " + m_relayUrl + " live";
    m_serveA = &spawn("serve a", {"serve", "--listen", "127.0.0.1:0", "--db", db('a'), m_id});
    REQUIRE(waitFor([&] { return m_serveA->out.find(live) != std::string::npos; }, 15s));
    run("open --once b", {"open", "--once", "--db", db('b'), link});
    REQUIRE(cat('b') == "base ");
    m_serveB = &spawn("serve b", {"serve", "--listen", "127.0.0.1:0", "--db", db('b'), m_id});
    const bool ready = waitFor([&] { return m_serveB->out.find(live) != std::string::npos; }, 15s);
    INFO("serve a: " << m_serveA->out << m_serveA->err() << "\nserve b: " << m_serveB->out << m_serveB->err());
    REQUIRE(ready);
  }

  // The direct URL `peer` listens on.
  static std::string listening(const Proc& peer) {
    const std::string prefix = "listening on ";
    const auto at = peer.out.find(prefix);
    REQUIRE(at != std::string::npos);
    const std::string rest = peer.out.substr(at + prefix.size());
    return rest.substr(0, rest.find('\n'));
  }

  // The attacker sends `version` straight to `peer` (on database `dbOf`), which takes it.
  void sendDirect(Proc& peer, char dbOf, const std::vector<std::uint8_t>& version, const std::string& text) {
    WsTestClient c(listening(peer));
    REQUIRE(c.connected());
    c.text("join " + hostile::hexOf(m_room));
    REQUIRE(c.received("T:peer"));
    quire::net::Message hello;
    hello.kind = quire::net::FrameKind::Hello;
    hello.sender = hostile::attackerReplica(0xD1EC7);
    c.binary(quire::net::encodeFrame(m_key, m_room, hello, true));
    REQUIRE(spinUntil([&] { return c.binaryCount >= 1; }));  // the peer's hello: the session is up
    quire::net::Message update = hostile::updateMessage(version);
    update.counter = 1;
    c.binary(quire::net::encodeFrame(m_key, m_room, update, true));
    INFO(peer.name << " stderr:\n" << peer.err());
    REQUIRE(waitFor([&] { return cat(dbOf).find(text) != std::string::npos; }, 15s));
    c.socket->close();
    c.closed();
  }

  std::string m_id, m_relayUrl, m_port, m_log;
  quire::net::DocKey m_key;
  quire::net::RoomId m_room;
  Proc* m_relay = nullptr;
  Proc* m_serveA = nullptr;
  Proc* m_serveB = nullptr;

 private:
  quire::test::TempDir m_dir{"quire-fork"};
  std::vector<std::unique_ptr<Proc>> m_procs;
};

}  // namespace

TEST_CASE("hostile: one version straight to A, another straight to B: every copy ends identical",
          "[hostile][process][fork]") {
  // The two versions first differ at the attacker's seq 0; the smaller one wins everywhere.
  for (const bool aWins : {true, false}) {
    DYNAMIC_SECTION("the version sent to A " << (aWins ? "wins" : "loses")) {
      const std::string toA = aWins ? "Mallory " : "mallory ";
      const std::string toB = aWins ? "mallory " : "Mallory ";
      const std::string winner = aWins ? toA : toB;
      const std::string loser = aWins ? toB : toA;

      HalfRoom room;
      room.setUp();
      // While the relay is down, each half gets its own version.
      room.m_relay->stop();
      room.sendDirect(*room.m_serveA, 'a', versionOf(toA), toA);
      room.sendDirect(*room.m_serveB, 'b', versionOf(toB), toB);
      CHECK(room.cat('a') != room.cat('b'));
      room.startRelay("127.0.0.1:" + room.m_port);

      // The halves meet in the room: the copy holding the loser repairs, both end with the winner.
      std::string a, b;
      const bool same = room.waitFor(
          [&] {
            a = room.cat('a');
            b = room.cat('b');
            return a == b && a.find(winner) != std::string::npos;
          },
          30s);
      Proc& holder = aWins ? *room.m_serveB : *room.m_serveA;  // took the loser
      INFO("a: '" << a << "'\nb: '" << b << "'\nserve a stderr:\n"
                  << room.m_serveA->err() << "\nserve b stderr:\n" << room.m_serveB->err());
      CHECK(same);
      CHECK(a.find(loser) == std::string::npos);
      CHECK(a.find("base ") != std::string::npos);
      CHECK(holder.err().find("repaired a fork") != std::string::npos);

      // What is on disk is the repaired document: after both stop, each database still holds
      // the winner alone (the rebuilt history replaced the stored one).
      for (Proc* p : {room.m_serveA, room.m_serveB}) {
        CHECK(p->child->running());
        p->stop([&] { room.pump(); });
        CHECK(p->code == 0);
      }
      CHECK(room.cat('a') == a);
      CHECK(room.cat('b') == a);
    }
  }
}
