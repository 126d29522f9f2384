#include "tests/hostile/hostile_harness.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>
#include <unistd.h>

#include <QCoreApplication>

#include <sqlite3.h>

#include "engine/document.h"
#include "net/room_session.h"
#include "net/share_link.h"
#include "tests/hostile/hostile_process.h"
#include "tests/support/child_process.h"
#include "tests/support/hostile_inputs.h"
#include "tests/support/temp_dir.h"
#include "tests/support/ws_test_client.h"

namespace quire::test::hostile {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string repeated(const std::string& s, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += s;
  return out;
}

// What the honest peers type, in disjoint alphabets that hold neither the attacker's '~' nor a
// letter of "hello" (the forged-duplicate attack's accepted original): filtering the final text
// by one peer's alphabet must give back exactly what that peer typed, in order. The first texts
// are long (a minute of typing at kTypeDelayMs): the typists are stopped once the attack is
// over, and what each typed is what its "typed N" lines say.
const std::string kTypedA = repeated("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 60);
const std::string kOfflineA = "abc";
const std::string kLateA = "dfg";
const std::string kTypedB = repeated("0123456789!#$%&()*+,-./:;<", 60);
const std::string kOfflineB = "wxy";
const std::string kLateB = "zuv";
constexpr int kTypeDelayMs = 40;

// The count of the last "typed N" line in `out`.
std::size_t lastTyped(const std::string& out) {
  const auto at = out.rfind("typed ");
  return at == std::string::npos ? 0 : std::stoul(out.substr(at + 6));
}

class Stage {
 public:
  explicit Stage(const AttackPlan& plan) : m_plan(plan) {}

  void setUp();
  void startTyping();
  RoomView readRoom();
  void attackViaRelay(const std::vector<RelayFrame>& frames);
  void attackDirect(const std::vector<QByteArray>& frames);
  void finishTyping();
  void rejoin();
  void typeLate();
  void finishAndCheck();

 private:
  std::string db(const char* peer) const { return m_dir.file(std::string(peer) + ".db"); }
  Proc& spawn(const std::string& name, const std::vector<std::string>& args, bool onB);
  Proc& run(const std::string& name, const std::vector<std::string>& args, bool onB,
            std::chrono::milliseconds limit = 30s);
  void startRelay(const std::string& listen);
  std::vector<std::string> typeArgs(const char* peer, const std::string& text, int delayMs,
                                    bool offline = false) const;
  void pumpAll();
  bool waitFor(const std::function<bool()>& done, std::chrono::milliseconds limit);
  std::string cat(const char* peer);
  std::string dropNeedle() const { return "dropped a frame from " + m_relayUrl; }
  std::string liveLine() const { return "route " + m_relayUrl + " live"; }
  std::string skipNeedle() const { return "stored frames from " + m_relayUrl; }

  const AttackPlan& m_plan;
  TempDir m_dir{"quire-hostile"};
  std::vector<std::unique_ptr<Proc>> m_procs;  // every honest process, in start order
  Proc* m_relay = nullptr;
  std::string m_relayUrl, m_relayPort, m_relayLog;
  std::string m_id, m_link, m_directUrl;
  net::DocKey m_key;
  net::RoomId m_room;
  Proc* m_serveA = nullptr;
  Proc* m_followB = nullptr;
  Proc* m_typerA = nullptr;
  Proc* m_typerB = nullptr;
  std::vector<RelayFrame> m_sent;  // what went through the relay
  std::string m_typedA, m_typedB;  // what the first typists typed before they were stopped
  Clock::time_point m_lastPump;
};

Proc& Stage::spawn(const std::string& name, const std::vector<std::string>& args, bool onB) {
  auto p = std::make_unique<Proc>();
  p->name = name;
  p->onB = onB;
  p->child = std::make_unique<ChildProcess>(cliPath(), args);
  REQUIRE(p->child->started());
  m_procs.push_back(std::move(p));
  return *m_procs.back();
}

Proc& Stage::run(const std::string& name, const std::vector<std::string>& args, bool onB,
                 std::chrono::milliseconds limit) {
  Proc& p = spawn(name, args, onB);
  p.finish(limit, [this] { pumpAll(); });
  INFO(name << " -> " << p.code.value_or(-1) << "\nstdout: " << p.out << "\nstderr: " << p.err());
  REQUIRE(p.code == 0);
  return p;
}

void Stage::startRelay(const std::string& listen) {
  m_procs.push_back(startRelayProcess(listen, m_dir.file("relay.db"), m_relayLog, m_plan.relayArgs,
                                      m_relayUrl, m_relayPort));
  m_relay = m_procs.back().get();
}

std::vector<std::string> Stage::typeArgs(const char* peer, const std::string& text, int delayMs,
                                         bool offline) const {
  std::vector<std::string> args{"type", "--db", db(peer), "--delay-ms", std::to_string(delayMs),
                                "--wait-ms", "20000"};
  if (offline) args.push_back("--offline");
  args.insert(args.end(), {m_id, "--", text});
  return args;
}

void Stage::pumpAll() {
  // Called from tight waiting loops: every few milliseconds is often enough.
  const auto now = Clock::now();
  if (now - m_lastPump < 5ms) return;
  m_lastPump = now;
  for (auto& p : m_procs) p->pump();
}

bool Stage::waitFor(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  for (;;) {
    pumpAll();
    if (done()) return true;
    if (Clock::now() >= deadline) return false;
    QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    std::this_thread::sleep_for(5ms);
  }
}

std::string Stage::cat(const char* peer) {
  return run(std::string("cat ") + peer, {"cat", "--db", db(peer), m_id}, peer[0] == 'b').out;
}

void Stage::setUp() {
  REQUIRE(!m_dir.path().empty());
  m_relayLog = m_dir.file("relay.log");
  startRelay("127.0.0.1:0");

  m_id = trimmed(run("new", {"new", "--db", db("a"), "hostile"}, false).out);
  REQUIRE(m_id.size() == 32);
  m_link = trimmed(run("share", {"share", "--db", db("a"), "--relay", m_relayUrl, m_id}, false).out);
  auto link = net::parseShareLink(m_link);
  REQUIRE(link.has_value());
  m_key = link->key;
  m_room = net::roomIdOf(m_key);
  // B fetches the (still empty) document, which stores it with the link's routes.
  run("open --once b", {"open", "--once", "--db", db("b"), m_link}, false);
  if (m_plan.prepareB) m_plan.prepareB(db("b"), m_id);

  m_serveA = &spawn("serve a", {"serve", "--listen", "127.0.0.1:0", "--db", db("a"), m_id}, false);
  m_followB = &spawn("open b", {"open", "--timeout-ms", "20000", "--db", db("b"), m_link}, true);
  m_serveA->sampled = m_followB->sampled = true;
  const std::string listening = "listening on ws://127.0.0.1:";
  const bool ready = waitFor(
      [&] {
        return m_serveA->out.find(listening) != std::string::npos &&
               m_serveA->out.find(liveLine()) != std::string::npos &&
               m_followB->out.find("synced ") != std::string::npos;
      },
      15s);
  INFO("serve a: " << m_serveA->out << m_serveA->err() << "\nopen b: " << m_followB->out
                   << m_followB->err());
  REQUIRE(ready);
  const auto at = m_serveA->out.find(listening);
  m_directUrl = m_serveA->out.substr(at + std::string("listening on ").size());
  m_directUrl = m_directUrl.substr(0, m_directUrl.find('\n'));
}

void Stage::startTyping() {
  m_typerA = &spawn("type a", typeArgs("a", kTypedA, kTypeDelayMs), false);
  m_typerB = &spawn("type b", typeArgs("b", kTypedB, kTypeDelayMs), true);
  m_typerA->sampled = m_typerB->sampled = true;
  const bool typing = waitFor(
      [&] {
        return m_typerA->out.find("typed 3\n") != std::string::npos &&
               m_typerB->out.find("typed 3\n") != std::string::npos;
      },
      15s);
  INFO("type a: " << m_typerA->out << m_typerA->err() << "\ntype b: " << m_typerB->out
                  << m_typerB->err());
  REQUIRE(typing);
}

// The attacker joins the room as any key holder may and reads it (a RoomSession over a scratch
// copy) until it has seen both peers type: then it knows their replica ids and how far they got.
RoomView Stage::readRoom() {
  engine::Document scratch(attackerReplica(0xA11CE));
  net::RoomOptions options;
  options.snapshotAfterItems = 0;
  net::RoomSession reader(scratch, m_key, options);
  WsTestClient c(m_relayUrl);
  REQUIRE(c.connected());
  const net::RelayMessage join = reader.start();
  c.text(std::string(join.asText()));
  std::size_t seen = 0;
  const bool both = waitFor(
      [&] {
        for (; seen < c.got.size(); ++seen) {
          const std::string& m = c.got[seen];
          if (m.rfind("T:", 0) == 0) {
            (void)reader.receiveText(std::string_view(m).substr(2));
          } else {
            (void)reader.receiveBinary(
                {reinterpret_cast<const std::uint8_t*>(m.data()), m.size()});
          }
        }
        return scratch.version().entries().size() >= 2;
      },
      15s);
  REQUIRE(both);
  c.socket->close();
  c.closed();
  return RoomView{m_key, m_room, scratch.version()};
}

void Stage::attackViaRelay(const std::vector<RelayFrame>& frames) {
  WsTestClient c(m_relayUrl);
  REQUIRE(c.connected());
  c.text("join " + hexOf(m_room));
  REQUIRE(c.receivedPrefix("T:joined ", 30000));
  for (const RelayFrame& f : frames) c.binary(f.bytes);
  // "synced N" comes once everything sent before "sync" is stored (and so forwarded).
  c.text("sync");
  const bool stored = spinUntil([&] { return c.disconnected || c.findPrefix("T:synced ") != nullptr; },
                                60000);
  INFO("relay closed the attacker: " << c.closeReason.toStdString() << "\nrelay log:\n"
                                     << readFile(m_relayLog));
  REQUIRE(stored);
  REQUIRE(!c.disconnected);
  c.socket->close();
  c.closed();
  m_sent = frames;

  // Every frame that the documents refuse is logged as dropped by A and B, with its reason.
  std::size_t dropped = 0;
  for (const RelayFrame& f : frames) dropped += f.accepted ? 0 : 1;
  for (Proc* peer : {m_serveA, m_followB}) {
    const bool all = waitFor([&] { return countOf(peer->err(), dropNeedle()) >= dropped; }, 60s);
    INFO(peer->name << " stderr:\n" << peer->err());
    CHECK(all);
    const auto lines = linesWith(peer->err(), dropNeedle());
    CHECK(lines.size() == dropped);
    for (const RelayFrame& f : frames) {
      if (f.accepted) continue;
      INFO("drop reason wanted: " << f.dropReason);
      CHECK(std::any_of(lines.begin(), lines.end(), [&](const std::string& l) {
        return l.find(f.dropReason) != std::string::npos;
      }));
    }
  }
}

void Stage::attackDirect(const std::vector<QByteArray>& frames) {
  WsTestClient c(m_directUrl);
  REQUIRE(c.connected());
  c.text("join " + hexOf(m_room));
  REQUIRE(c.received("T:peer"));
  net::Message hello;
  hello.kind = net::FrameKind::Hello;
  hello.sender = attackerReplica(0xD1EC7);
  c.binary(net::encodeFrame(m_key, m_room, hello, true));
  REQUIRE(spinUntil([&] { return c.binaryCount >= 1; }));  // A's hello: the session is up
  const std::string from = "127.0.0.1:" + std::to_string(c.socket->localPort());
  for (const QByteArray& f : frames) c.binary(f);
  const bool closed = c.closed(60000);
  INFO("serve a stderr:\n" << m_serveA->err());
  REQUIRE(closed);
  const std::string reason = c.closeReason.toStdString();
  INFO("close code " << c.closeCode << ", reason '" << reason << "'");
  CHECK(c.closeCode == 1008);
  CHECK(reason.find(m_plan.directCloseReason) != std::string::npos);
  // A's log names the connection and gives the same reason.
  const std::string logged = "closing " + from + " - " + reason;
  CHECK(waitFor([&] { return m_serveA->err().find(logged) != std::string::npos; }, 5s));
}

// The typists have typed through the whole attack; they are stopped now (SIGTERM: exit 0).
// A keystroke is printed once committed, so "typed N" says exactly what each one typed; what
// it had not sent yet goes out with its database's next join.
void Stage::finishTyping() {
  std::size_t dropped = 0;
  for (const RelayFrame& f : m_sent) dropped += f.accepted ? 0 : 1;
  for (Proc* typer : {m_typerA, m_typerB}) {
    // Members of the room too: they dropped what came through the relay while they typed.
    CHECK(waitFor([&] { return countOf(typer->err(), dropNeedle()) >= dropped; }, 60s));
    INFO(typer->name << " stdout: " << typer->out << "\nstderr: " << typer->err());
    CHECK(typer->child->running());  // still typing after the attack
    typer->stop([this] { pumpAll(); });
    CHECK(typer->code == 0);
  }
  m_typedA = kTypedA.substr(0, lastTyped(m_typerA->out));
  m_typedB = kTypedB.substr(0, lastTyped(m_typerB->out));
  CHECK(m_typedA.size() >= 3);
  CHECK(m_typedB.size() >= 3);
}

namespace {

// Whether the relay's database still stores `frame` byte for byte (read-only, beside the relay).
// A member's snapshot replaces the items before it, refused ones included (PROTOCOL.md,
// "Snapshots": by bytes too, so a large junk frame is compacted away).
bool relayStores(const std::string& dbPath, const QByteArray& frame) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(dbPath.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT count(*) FROM relay_items WHERE bytes = ?1", -1, &q,
                             nullptr) == SQLITE_OK);
  sqlite3_bind_blob(q, 1, frame.constData(), static_cast<int>(frame.size()), SQLITE_STATIC);
  REQUIRE(sqlite3_step(q) == SQLITE_ROW);
  const bool stored = sqlite3_column_int64(q, 0) > 0;
  sqlite3_finalize(q);
  sqlite3_close(db);
  return stored;
}

}  // namespace

void Stage::rejoin() {
  const std::size_t dropsA = countOf(m_serveA->err(), dropNeedle());
  const std::size_t dropsB = countOf(m_followB->err(), dropNeedle());
  const std::size_t liveA = countOf(m_serveA->out, liveLine());
  const std::size_t liveB = countOf(m_followB->out, liveLine());

  // The relay stops (closing every connection with 1001) and comes back on its port and
  // database: A and B reconnect with backoff and rejoin in the same processes, so they still
  // remember what they rejected (PROTOCOL.md, "Hostile frames": the set lives in memory).
  m_relay->stop([this] { pumpAll(); });
  {
    INFO("relay log:\n" << readFile(m_relayLog));
    CHECK(m_relay->code == 0);
  }
  // Only what the relay still stores is replayed: a refused frame that a member's snapshot
  // already replaced is gone from the room, which is better still.
  std::size_t remembered = 0, reopened = 0, compacted = 0;
  for (const RelayFrame& f : m_sent) {
    if (f.accepted) continue;
    if (!relayStores(m_dir.file("relay.db"), f.bytes)) {
      ++compacted;
      continue;
    }
    (f.remembered ? remembered : reopened) += 1;
  }
  INFO(compacted << " refused frames no longer stored (a snapshot replaced them)");
  startRelay("127.0.0.1:" + m_relayPort);
  const bool back = waitFor(
      [&] {
        return countOf(m_serveA->out, liveLine()) > liveA &&
               countOf(m_followB->out, liveLine()) > liveB;
      },
      30s);
  INFO("serve a: " << m_serveA->out << "\nopen b: " << m_followB->out);
  REQUIRE(back);
  const std::string skipped =
      "skipped " + std::to_string(remembered) + " " + skipNeedle();
  for (Proc* peer : {m_serveA, m_followB}) {
    INFO(peer->name << " stderr:\n" << peer->err());
    if (remembered > 0)
      CHECK(waitFor([&] { return peer->err().find(skipped) != std::string::npos; }, 10s));
    CHECK(countOf(peer->err(), skipNeedle()) == (remembered > 0 ? 1u : 0u));
  }
  // Only the frames that do not open were looked at again (and dropped again, unopened).
  CHECK(countOf(m_serveA->err(), dropNeedle()) == dropsA + reopened);
  CHECK(countOf(m_followB->err(), dropNeedle()) == dropsB + reopened);
}

void Stage::typeLate() {
  run("type --offline a", typeArgs("a", kOfflineA, 0, true), false);
  run("type --offline b", typeArgs("b", kOfflineB, 0, true), true);
  // Fresh processes join the room anew: they meet every stored attack frame once more (their
  // memory of rejected frames starts empty), refuse it, and send what the room lacks. Thirty
  // keystrokes each are too few to make a member compact the room meanwhile.
  std::vector<const RelayFrame*> stored;
  for (const RelayFrame& f : m_sent)
    if (!f.accepted && relayStores(m_dir.file("relay.db"), f.bytes)) stored.push_back(&f);
  Proc& a = spawn("late type a", typeArgs("a", kLateA, 30), false);
  Proc& b = spawn("late type b", typeArgs("b", kLateB, 30), true);
  a.sampled = b.sampled = true;
  for (Proc* typer : {&a, &b}) {
    typer->finish(60s, [this] { pumpAll(); });
    INFO(typer->name << " -> " << typer->code.value_or(-1) << "\nstdout: " << typer->out
                     << "\nstderr: " << typer->err());
    CHECK(typer->code == 0);
    CHECK(typer->out.find("\nsent\n") != std::string::npos);
    for (const RelayFrame* f : stored) {
      INFO("drop reason wanted: " << f->dropReason);
      CHECK(typer->err().find(f->dropReason) != std::string::npos);
    }
  }
}

void Stage::finishAndCheck() {
  const std::string wantA = m_typedA + kOfflineA + kLateA;
  const std::string wantB = m_typedB + kOfflineB + kLateB;
  const std::size_t total = wantA.size() + wantB.size() + m_plan.acceptedText.size();
  // A and B, still following, receive each other's late keystrokes live.
  std::string textA, textB;
  const bool converged = waitFor(
      [&] {
        textA = cat("a");
        textB = cat("b");
        return textA.size() >= total && textB.size() >= total;
      },
      20s);
  INFO("a: '" << textA << "'\nb: '" << textB << "'\nserve a stderr:\n"
              << m_serveA->err() << "\nopen b stderr:\n" << m_followB->err());
  CHECK(converged);
  for (Proc* p : {m_serveA, m_followB}) {
    CHECK(p->child->running());  // still up after everything
    p->stop([this] { pumpAll(); });
  }
  textA = cat("a");
  textB = cat("b");
  CHECK(textA == textB);
  checkConverged(textA, {wantA, wantB}, m_plan.acceptedText);
  checkConverged(textB, {wantA, wantB}, m_plan.acceptedText);
  m_relay->stop();

  for (const auto& p : m_procs) {
    const bool relay = p->name == "quire-relay";
    const std::size_t boundMiB = withSanitizerSlack(relay ? m_plan.relayRssBoundMiB : m_plan.rssBoundMiB);
    const long boundKib = static_cast<long>(boundMiB * 1024);
    INFO(p->name << ": exit " << p->code.value_or(-1) << ", peak RSS " << p->peakKib / 1024
                 << " MiB (bound " << boundMiB << " MiB)\nstderr: " << p->err());
    CHECK(p->code == 0);
    // Sampled while it ran (ChildProcess::peakRssKib); a quick command may end unsampled.
    if (p->sampled) CHECK(p->peakKib > 0);
    CHECK(p->peakKib < boundKib);
    if (p->onB && !m_plan.bStderrNote.empty())
      CHECK(p->err().find(m_plan.bStderrNote) != std::string::npos);
  }
  std::string summary;
  for (const auto& p : m_procs)
    if (p->sampled)
      summary += " " + p->name + "=" + std::to_string(p->peakKib / 1024) + "MiB";
  WARN("peak RSS:" << summary);
}

}  // namespace

QByteArray toQt(const std::vector<std::uint8_t>& bytes) {
  return QByteArray(reinterpret_cast<const char*>(bytes.data()), static_cast<qsizetype>(bytes.size()));
}

QByteArray sealed(const RoomView& view, net::Message m, std::uint32_t counter) {
  m.counter = counter;
  return toQt(net::encodeFrame(view.key, view.room, m));
}

engine::VersionVector inflatedClaim(const engine::VersionVector& v) {
  std::vector<std::pair<engine::ReplicaId, std::uint32_t>> entries;
  for (const auto& [replica, seq] : v.entries()) entries.emplace_back(replica, seq + (1u << 20));
  entries.emplace_back(attackerReplica(0xB0B), 1u << 20);
  return engine::VersionVector::fromUnsorted(std::move(entries));
}

void runAttack(const AttackPlan& plan) {
  INFO("QUIRE_CLI_PATH='" << cliPath() << "' QUIRE_RELAY_PATH='" << relayPath() << "'");
  REQUIRE(access(cliPath().c_str(), X_OK) == 0);
  REQUIRE(access(relayPath().c_str(), X_OK) == 0);
  REQUIRE(net::initCrypto().has_value());
  ensureCoreApp();
  Stage stage(plan);
  stage.setUp();
  stage.startTyping();
  const RoomView view = stage.readRoom();
  stage.attackViaRelay(plan.viaRelay(view));
  stage.attackDirect(plan.direct(view));
  stage.finishTyping();
  stage.rejoin();
  stage.typeLate();
  stage.finishAndCheck();
}

}  // namespace quire::test::hostile
