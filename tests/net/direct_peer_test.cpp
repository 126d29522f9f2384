// Direct peers (issue 4, "Direct peers"): two quire-cli processes on 127.0.0.1 sync a document
// over WebSockets with no relay; a wrong-key link is refused and stores nothing. Also
// net/ws_peer in-process over a local QWebSocketServer. QUIRE_CLI_PATH comes from
// tests/CMakeLists.txt.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <signal.h>
#include <unistd.h>

#include <QCoreApplication>
#include <QHostAddress>
#include <QUrl>

#include "engine/document.h"
#include "net/crypto.h"
#include "net/share_link.h"
#include "net/ws_peer.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/ws_test_client.h"

namespace {

using quire::test::ChildProcess;
using quire::test::TempDir;
using quire::test::spinUntil;

using Clock = std::chrono::steady_clock;
constexpr auto kChildLimit = std::chrono::seconds(20);

// Waits for a quire-cli child to exit, reading its output meanwhile; SIGKILLs it once
// kChildLimit since its start has passed. Its exit code, or -1 if it did not exit normally.
int exitCodeOf(ChildProcess& child) {
  auto status = child.waitUntil(child.startedAt() + kChildLimit);
  if (!status) status = child.killAndReap();
  return ChildProcess::exitCode(*status);
}

struct Ran {
  int code = -1;
  std::string out;
  std::string err;
};

Ran run(const std::string& cli, const std::vector<std::string>& args) {
  ChildProcess child(cli, args);
  if (!child.started()) return {};
  Ran r;
  r.code = exitCodeOf(child);
  r.out = child.out();
  r.err = child.err();
  return r;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

const std::string kText =
    "Direct peers need no relay: caf\xC3\xA9, na\xC3\xAFve, \xE2\x9C\x93, \xF0\x9F\x93\x9D.\n"
    "A second line, so the document is more than one keystroke long.\n";

}  // namespace

TEST_CASE("quire-cli join fetches a served document over a direct WebSocket and a wrong key is refused",
          "[net][peers]") {
#ifndef QUIRE_CLI_PATH
  FAIL("QUIRE_CLI_PATH is not defined: tests/CMakeLists.txt must pass quire-cli's path");
#else
  const std::string cli = QUIRE_CLI_PATH;
  REQUIRE(access(cli.c_str(), X_OK) == 0);
  TempDir dir("quire-peer");
  REQUIRE(!dir.path().empty());
  const std::string served = dir.path() + "/served.db";
  const std::string other = dir.path() + "/other.db";
  const std::string third = dir.path() + "/third.db";
  const std::string textFile = dir.path() + "/text.txt";
  std::ofstream(textFile, std::ios::binary) << kText;

  const Ran imported = run(cli, {"import", "--db", served, textFile});
  REQUIRE(imported.code == 0);
  const std::string id = trimmed(imported.out);
  REQUIRE(id.size() == 32);

  ChildProcess server(cli, {"serve", "--listen", "127.0.0.1:0", "--db", served});
  REQUIRE(server.started());
  const std::string listening = server.readLine(std::chrono::seconds(10)).value_or("");
  INFO("server said '" << listening << "', stderr: " << server.err());
  const std::string prefix = "listening on ws://127.0.0.1:";
  REQUIRE(listening.rfind(prefix, 0) == 0);
  const std::string port = listening.substr(prefix.size());
  REQUIRE(std::stoi(port) > 0);

  const Ran shared = run(cli, {"share", "--db", served, id, "--via", "ws://127.0.0.1:" + port});
  REQUIRE(shared.code == 0);
  const std::string link = trimmed(shared.out);

  SECTION("the joined copy has the same text, and the server stays up for a second join") {
    const Ran joined = run(cli, {"join", "--db", other, "--once", "--timeout-ms", "10000", link});
    INFO("join stderr: " << joined.err);
    REQUIRE(joined.code == 0);
    CHECK(joined.out.find("synced ") != std::string::npos);
    const Ran cat = run(cli, {"cat", "--db", other, id});
    REQUIRE(cat.code == 0);
    CHECK(cat.out == kText);

    const Ran again = run(cli, {"join", "--db", third, "--once", "--timeout-ms", "10000", link});
    INFO("second join stderr: " << again.err);
    REQUIRE(again.code == 0);
    CHECK(run(cli, {"cat", "--db", third, id}).out == kText);
  }

  SECTION("a link with the wrong key fails clearly and leaves no document behind") {
    auto parsed = quire::net::parseShareLink(link);
    REQUIRE(parsed.has_value());
    REQUIRE(quire::net::initCrypto().has_value());
    parsed->key = quire::net::generateKey();
    const std::string wrong = quire::net::encodeShareLink(*parsed);
    const Ran refused = run(cli, {"join", "--db", other, "--once", "--timeout-ms", "10000", wrong});
    CHECK(refused.code == 1);
    CHECK(refused.err.find("wrong key") != std::string::npos);
    CHECK(run(cli, {"cat", "--db", other, id}).code != 0);

    const Ran joined = run(cli, {"join", "--db", third, "--once", "--timeout-ms", "10000", link});
    INFO("join after a refusal, stderr: " << joined.err);
    REQUIRE(joined.code == 0);
    CHECK(run(cli, {"cat", "--db", third, id}).out == kText);
  }

  SECTION("an unreachable route fails clearly") {
    auto parsed = quire::net::parseShareLink(link);
    REQUIRE(parsed.has_value());
    parsed->routes = {"ws://127.0.0.1:1"};
    const Ran failed = run(cli, {"join", "--db", other, "--once", "--timeout-ms", "10000",
                                 quire::net::encodeShareLink(*parsed)});
    CHECK(failed.code == 1);
    CHECK(failed.err.find("cannot reach ws://127.0.0.1:1") != std::string::npos);
  }

  server.signal(SIGTERM);
  CHECK(exitCodeOf(server) == 0);
#endif
}

TEST_CASE("ws_peer syncs a document and a live edit between two WsDocuments in-process",
          "[net][peers]") {
  quire::test::ensureCoreApp();
  REQUIRE(quire::net::initCrypto().has_value());
  const quire::net::DocKey key = quire::net::generateKey();
  quire::engine::ReplicaId a{};
  quire::engine::ReplicaId b{};
  a.bytes[0] = 1;
  b.bytes[0] = 2;
  quire::engine::Document serverDoc(a);
  REQUIRE(serverDoc.insert(0, "hello peers").has_value());
  quire::engine::Document clientDoc(b);

  quire::net::WsDocument server(serverDoc, key);
  quire::net::WsDocument client(clientDoc, key);
  quire::net::WsListener listener;
  listener.serve(&server);
  REQUIRE(listener.listen(QHostAddress::LocalHost, 0).has_value());

  bool synced = false;
  QObject::connect(&client, &quire::net::WsDocument::peerSynced, &client, [&] { synced = true; });
  client.connectTo(QUrl(QStringLiteral("ws://127.0.0.1:%1").arg(listener.port())));
  REQUIRE(spinUntil([&] { return synced; }));
  CHECK(clientDoc.text() == "hello peers");

  const quire::engine::LV from = serverDoc.nextLv();
  REQUIRE(serverDoc.insert(serverDoc.length(), "!").has_value());
  server.sendLocalEdits(from);
  CHECK(spinUntil([&] { return clientDoc.text() == "hello peers!"; }));

  SECTION("a peer with another key is refused with a reason") {
    quire::engine::Document strangerDoc(b);
    quire::net::WsDocument stranger(strangerDoc, quire::net::generateKey());
    QString reason;
    bool left = false;
    QObject::connect(&stranger, &quire::net::WsDocument::peerLeft, &stranger,
                     [&](auto, const QString& r) {
                       left = true;
                       reason = r;
                     });
    stranger.connectTo(QUrl(QStringLiteral("ws://127.0.0.1:%1").arg(listener.port())));
    REQUIRE(spinUntil([&] { return left; }));
    CHECK(reason.toStdString() == quire::net::kNoRoomReason);
    CHECK(strangerDoc.text().empty());
  }
}
