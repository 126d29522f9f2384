// Quire clients converging through a relay, as processes on 127.0.0.1 (issue 4, "Relay"):
// quire-cli peers typing concurrently through quire-relay converge with every keystroke, across
// an offline stretch and a relay SIGKILL; a direct peer bridges a relay room. The wrong-key,
// plaintext and hostile-client cases are in relay_peers_security_test.cpp; the shared stage is
// relay_peers_fixture.h.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include <signal.h>

#include "net/share_link.h"
#include "tests/net/relay_peers_fixture.h"

using namespace quire::test::relay_peers;
using namespace std::chrono_literals;

TEST_CASE("three quire-cli peers typing concurrently through a relay converge with every keystroke",
          "[net][process][relay-peers]") {
  REQUIRE_BINARIES();
  Room room;
  openOnce(room.db("b"), room.link);
  openOnce(room.db("c"), room.link);

  // B types its text in three parts: online, offline, online again (its catch-up goes out on
  // the join), while A and C type theirs online.
  const std::size_t third = cpCount(kTextB) / 3;
  const std::string b1 = cpPrefix(kTextB, third);
  const std::string b2 = cpSlice(kTextB, third, 2 * third);
  const std::string b3 = cpSlice(kTextB, 2 * third, cpCount(kTextB));
  REQUIRE(b1 + b2 + b3 == kTextB);

  auto a = spawnCli(typeArgs(room.db("a"), room.id, kTextA, 20));
  auto c = spawnCli(typeArgs(room.db("c"), room.id, kTextC, 20));
  checkTyped(cli(typeArgs(room.db("b"), room.id, b1, 20)), "B part 1", true);
  checkTyped(cli(typeArgs(room.db("b"), room.id, b2, 20, {"--offline"})), "B part 2 (offline)",
             false);
  checkTyped(cli(typeArgs(room.db("b"), room.id, b3, 20)), "B part 3", true);
  checkTyped(finish(*a), "A", true);
  checkTyped(finish(*c), "C", true);

  std::vector<std::string> texts;
  for (const char* peer : {"a", "b", "c"}) {
    openOnce(room.db(peer), room.link);
    texts.push_back(catText(room.db(peer), room.id));
  }
  CHECK(texts[0] == texts[1]);
  CHECK(texts[0] == texts[2]);
  checkConverged(texts[0], {kTextA, kTextB, kTextC});
  CHECK(room.relay.alive());
}

TEST_CASE("the relay killed and restarted loses nothing it accepted",
          "[net][process][relay-peers]") {
  REQUIRE_BINARIES();
  Room room;
  openOnce(room.db("b"), room.link);

  // A's first part is accepted by the relay ("sent"); then the relay is SIGKILLed and restarted
  // on the same port and database, and a fresh peer G, with nobody else connected who could
  // re-send it, gets all of it.
  const std::string a1 = cpPrefix(kTextA, 12);
  const std::string a2 = cpSlice(kTextA, 12, cpCount(kTextA));
  checkTyped(cli(typeArgs(room.db("a"), room.id, a1, 5)), "A part 1", true);
  room.relay.proc->killAndReap();
  room.relay.start("127.0.0.1:" + room.relay.port, 5000);
  openOnce(room.db("g"), room.link);
  CHECK(catText(room.db("g"), room.id) == a1);

  // A follower F runs across a second kill; A and B type while the relay is down.
  Follower f(room.db("f"), room.link);
  REQUIRE(f.waitSynced());
  f.pump(300ms);
  const std::string liveLine = "route " + room.relay.url + " live";
  auto a = spawnCli(typeArgs(room.db("a"), room.id, a2, 20, {"--wait-ms", "20000"}));
  auto b = spawnCli(typeArgs(room.db("b"), room.id, kTextB, 20, {"--wait-ms", "20000"}));
  std::string aSeen;
  REQUIRE(waitTyped(*a, 5, aSeen));
  room.relay.proc->killAndReap();
  f.pump(200ms);  // F notices the loss while A and B keep typing
  room.relay.start("127.0.0.1:" + room.relay.port, 5000);
  const Ran ranA = finish(*a);
  const Ran ranB = finish(*b);
  checkTyped(ranA, "A part 2 (across the restart)", true);
  checkTyped(ranB, "B (across the restart)", true);

  const std::size_t total = cpCount(kTextA) + cpCount(kTextB);
  {
    INFO("follower output:\n" << f.lines << "stderr: " << f.proc->err());
    CHECK(f.waitLength(total));
    CHECK(f.count(liveLine) >= 2);  // live before the kill, and again after the restart
    CHECK(f.count("route " + room.relay.url + " waiting") >= 1);
    CHECK(f.stop() == 0);
  }

  std::vector<std::string> texts;
  for (const char* peer : {"a", "b", "g"}) {
    openOnce(room.db(peer), room.link);
    texts.push_back(catText(room.db(peer), room.id));
  }
  texts.push_back(catText(room.db("f"), room.id));
  for (std::size_t i = 1; i < texts.size(); ++i) CHECK(texts[0] == texts[i]);
  checkConverged(texts[0], {kTextA, kTextB});
}

TEST_CASE("a peer directly connected to another while also on the relay",
          "[net][process][relay-peers]") {
  REQUIRE_BINARIES();
  Room room;
  // D holds the document with the relay as its stored route (from the link), serves it on the
  // relay room and listens for direct peers.
  openOnce(room.db("d"), room.link);
  auto d = spawnCli({"serve", "--listen", "127.0.0.1:0", "--db", room.db("d"), room.id});
  std::string dSeen;
  const std::string listenPrefix = "listening on ws://127.0.0.1:";
  std::string direct;
  std::string relayLive = "route " + room.relay.url + " live";
  bool onRelay = false;
  for (const auto deadline = Clock::now() + 15s; Clock::now() < deadline && !onRelay;) {
    auto line = d->readLine(100ms);
    if (!line) continue;
    dSeen += *line + "\n";
    if (line->rfind(listenPrefix, 0) == 0) direct = line->substr(std::string("listening on ").size());
    if (line->rfind(relayLive, 0) == 0) onRelay = true;
  }
  INFO("serve said:\n" << dSeen << "stderr: " << d->err());
  REQUIRE(!direct.empty());
  REQUIRE(onRelay);

  // E's link: the same document and key, D as its only route.
  auto parsed = quire::net::parseShareLink(room.link);
  REQUIRE(parsed.has_value());
  parsed->routes = {direct};
  const std::string linkE = quire::net::encodeShareLink(*parsed);
  openOnce(room.db("e"), linkE);

  // A types on the relay; E, following through D only, sees every keystroke live.
  {
    Follower e(room.db("e"), linkE);
    REQUIRE(e.waitSynced());
    checkTyped(cli(typeArgs(room.db("a"), room.id, kTextA, 10)), "A", true);
    INFO("E follower:\n" << e.lines << "stderr: " << e.proc->err());
    CHECK(e.waitLength(cpCount(kTextA)));
    CHECK(e.stop() == 0);
  }
  CHECK(catText(room.db("e"), room.id) == kTextA);

  // E types to D; A, following on the relay only, sees every keystroke live.
  {
    Follower a(room.db("a"), room.link);
    REQUIRE(a.waitSynced());
    checkTyped(cli(typeArgs(room.db("e"), room.id, kTextE, 10)), "E", true);
    INFO("A follower:\n" << a.lines << "stderr: " << a.proc->err());
    CHECK(a.waitLength(cpCount(kTextA) + cpCount(kTextE)));
    CHECK(a.stop() == 0);
  }

  // Both at once: A on the relay, E on D.
  {
    auto ta = spawnCli(typeArgs(room.db("a"), room.id, kTextB, 15));
    auto te = spawnCli(typeArgs(room.db("e"), room.id, kTextC, 15));
    checkTyped(finish(*ta), "A concurrently", true);
    checkTyped(finish(*te), "E concurrently", true);
  }
  openOnce(room.db("a"), room.link);
  openOnce(room.db("e"), linkE);
  d->signal(SIGTERM);
  const Ran ranD = finish(*d);
  INFO("serve output:\n" << dSeen << ranD.out << "stderr: " << ranD.err);
  CHECK(ranD.code == 0);

  const std::string textA = catText(room.db("a"), room.id);
  CHECK(textA == catText(room.db("d"), room.id));
  CHECK(textA == catText(room.db("e"), room.id));
  checkConverged(textA, {kTextA, kTextE, kTextB, kTextC});
}
