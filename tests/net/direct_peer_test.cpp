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

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QHostAddress>
#include <QUrl>

#include "engine/document.h"
#include "net/crypto.h"
#include "net/share_link.h"
#include "net/ws_peer.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace {

using quire::test::TempDir;

using Clock = std::chrono::steady_clock;
constexpr auto kChildLimit = std::chrono::seconds(20);

// A quire-cli child with stdout and stderr on pipes. Killed (SIGKILL) and reaped on
// destruction if still running, and never left running past kChildLimit by wait().
class Child {
 public:
  Child(const std::string& cli, const std::vector<std::string>& args) : m_started(Clock::now()) {
    int out[2];
    int err[2];
    if (pipe2(out, O_CLOEXEC) != 0) return;
    if (pipe2(err, O_CLOEXEC) != 0) {
      close(out[0]);
      close(out[1]);
      return;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
    std::vector<std::string> all{cli};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&m_pid, cli.c_str(), &actions, nullptr, argv.data(), environ) != 0) m_pid = -1;
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    close(err[1]);
    m_out = out[0];
    m_err = err[0];
  }
  ~Child() {
    if (m_pid > 0) {
      kill(m_pid, SIGKILL);
      waitpid(m_pid, nullptr, 0);
    }
    if (m_out >= 0) close(m_out);
    if (m_err >= 0) close(m_err);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool started() const { return m_pid > 0 && m_out >= 0 && m_err >= 0; }

  // The next complete stdout line, or empty if none came before `timeout` or the output ended.
  std::string readLine(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      if (auto nl = m_stdout.find('\n'); nl != std::string::npos) {
        std::string line = m_stdout.substr(0, nl);
        m_stdout.erase(0, nl + 1);
        return line;
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0 || !pump(static_cast<int>(left))) return {};
    }
  }

  // Waits for the child to exit (SIGKILL once kChildLimit since start has passed), reading its
  // output meanwhile. Returns the wait status.
  int wait() {
    while (m_pid > 0) {
      int status = 0;
      const pid_t done = waitpid(m_pid, &status, WNOHANG);
      if (done == m_pid) {
        m_pid = -1;
        m_status = status;
        break;
      }
      if (Clock::now() - m_started > kChildLimit) kill(m_pid, SIGKILL);
      pump(20);
    }
    while (pump(0)) {
    }
    return m_status;
  }

  // Exit code, or -1 if the child did not exit normally.
  int exitCode() {
    const int status = wait();
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  void terminate() {
    if (m_pid > 0) kill(m_pid, SIGTERM);
  }

  const std::string& out() const { return m_stdout; }
  const std::string& err() const { return m_stderr; }

 private:
  // Reads what is available within `ms`. False once both pipes have ended (or nothing came).
  bool pump(int ms) {
    pollfd p[2] = {{m_out, POLLIN, 0}, {m_err, POLLIN, 0}};
    if (poll(p, 2, ms) <= 0) return false;
    bool any = false;
    char buf[4096];
    for (int i = 0; i < 2; ++i) {
      if (!(p[i].revents & (POLLIN | POLLHUP))) continue;
      const ssize_t got = read(p[i].fd, buf, sizeof buf);
      if (got > 0) {
        (i == 0 ? m_stdout : m_stderr).append(buf, static_cast<std::size_t>(got));
        any = true;
      }
    }
    return any;
  }

  pid_t m_pid = -1;
  int m_out = -1;
  int m_err = -1;
  int m_status = -1;
  Clock::time_point m_started;
  std::string m_stdout;
  std::string m_stderr;
};

struct Ran {
  int code = -1;
  std::string out;
  std::string err;
};

Ran run(const std::string& cli, const std::vector<std::string>& args) {
  Child child(cli, args);
  if (!child.started()) return {};
  Ran r;
  r.code = child.exitCode();
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

void ensureApp() {
  static int argc = 1;
  static char name[] = "quire_net_tests";
  static char* argv[] = {name, nullptr};
  if (QCoreApplication::instance() == nullptr) new QCoreApplication(argc, argv);
}

// Runs the event loop until `done` or `timeoutMs` passed. Returns done().
template <typename Pred>
bool spinUntil(Pred done, int timeoutMs = 5000) {
  QElapsedTimer timer;
  timer.start();
  while (!done() && timer.elapsed() < timeoutMs) {
    QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
  }
  return done();
}

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

  Child server(cli, {"serve", "--listen", "127.0.0.1:0", "--db", served});
  REQUIRE(server.started());
  const std::string listening = server.readLine(std::chrono::seconds(10));
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

  server.terminate();
  CHECK(server.exitCode() == 0);
#endif
}

TEST_CASE("ws_peer syncs a document and a live edit between two WsDocuments in-process",
          "[net][peers]") {
  ensureApp();
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
