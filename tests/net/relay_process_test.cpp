// quire-relay as a process on 127.0.0.1 (issue 4, "The relay"): raw QWebSocket clients join a
// room, frames are forwarded and replayed to a late joiner, and the stored frames survive a
// SIGTERM and restart. QUIRE_RELAY_PATH comes from tests/CMakeLists.txt.
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QUrl>
#include <QWebSocket>
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tests/support/temp_dir.h"

extern char** environ;

namespace {

using quire::test::TempDir;

using Clock = std::chrono::steady_clock;

// A quire-relay child: stdout on a pipe (read for the "listening on" line), stderr into a
// file. SIGKILLed and reaped on destruction if still running.
class RelayProcess {
 public:
  RelayProcess(const std::string& program, const std::vector<std::string>& args,
               const std::string& stderrPath) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderrPath.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0600);
    std::vector<std::string> all{program};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&m_pid, program.c_str(), &actions, nullptr, argv.data(), environ) != 0)
      m_pid = -1;
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    m_out = out[0];
  }
  ~RelayProcess() {
    if (m_pid > 0) {
      kill(m_pid, SIGKILL);
      waitpid(m_pid, nullptr, 0);
    }
    if (m_out >= 0) close(m_out);
  }
  RelayProcess(const RelayProcess&) = delete;
  RelayProcess& operator=(const RelayProcess&) = delete;

  // The first stdout line, or empty if none came within `ms`.
  std::string firstLine(int ms) {
    std::string got;
    const auto deadline = Clock::now() + std::chrono::milliseconds(ms);
    while (Clock::now() < deadline) {
      pollfd p{m_out, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      char c;
      if (read(m_out, &c, 1) != 1) break;
      if (c == '\n') return got;
      got.push_back(c);
    }
    return {};
  }

  // SIGTERM, then the exit code (or -1 if it did not exit normally within `ms`).
  int terminate(int ms) {
    if (m_pid <= 0) return -1;
    kill(m_pid, SIGTERM);
    const auto deadline = Clock::now() + std::chrono::milliseconds(ms);
    int status = 0;
    while (Clock::now() < deadline) {
      if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
        m_pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -100 - WTERMSIG(status);
      }
      QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
    }
    return -1;
  }

  bool started() const { return m_pid > 0 && m_out >= 0; }

 private:
  pid_t m_pid = -1;
  int m_out = -1;
};

void ensureApp() {
  static int argc = 1;
  static char name[] = "quire_net_tests";
  static char* argv[] = {name, nullptr};
  if (QCoreApplication::instance() == nullptr) new QCoreApplication(argc, argv);
}

template <typename Pred>
bool spinUntil(Pred done, int timeoutMs = 5000) {
  QElapsedTimer timer;
  timer.start();
  while (!done() && timer.elapsed() < timeoutMs)
    QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
  return done();
}

// A raw relay client: records what it is sent, binary as-is and text prefixed with "T:".
struct Client {
  std::unique_ptr<QWebSocket> socket = std::make_unique<QWebSocket>();
  std::vector<std::string> got;
  bool disconnected = false;
  QString closeReason;

  explicit Client(const QString& url) {
    QObject::connect(socket.get(), &QWebSocket::binaryMessageReceived,
                     [this](const QByteArray& b) { got.push_back(b.toStdString()); });
    QObject::connect(socket.get(), &QWebSocket::textMessageReceived,
                     [this](const QString& t) { got.push_back("T:" + t.toStdString()); });
    QObject::connect(socket.get(), &QWebSocket::disconnected, [this] {
      disconnected = true;
      closeReason = socket->closeReason();
    });
    socket->open(QUrl(url));
  }
  bool connected() {
    return spinUntil([&] { return socket->state() == QAbstractSocket::ConnectedState; });
  }
  bool receivedUntil(const std::string& last) {
    return spinUntil([&] { return !got.empty() && got.back() == last; });
  }
};

const std::string kRoom = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::vector<std::string> kStored{"sealed-frame-1", "sealed-frame-2"};

}  // namespace

TEST_CASE(
    "quire-relay forwards frames, replays them to a late joiner and keeps them across a restart",
    "[net][relay]") {
#ifndef QUIRE_RELAY_PATH
  FAIL("QUIRE_RELAY_PATH is not defined: tests/CMakeLists.txt must pass quire-relay's path");
#else
  ensureApp();
  const std::string relay = QUIRE_RELAY_PATH;
  REQUIRE(access(relay.c_str(), X_OK) == 0);
  TempDir dir("quire-relay");
  REQUIRE(!dir.path().empty());
  const std::string db = dir.path() + "/relay.db";
  const std::string log = dir.path() + "/relay.log";
  const std::vector<std::string> args{"--listen", "127.0.0.1:0",       "--db",
                                      db,         "--max-frame-bytes", "1024"};
  const std::string prefix = "listening on ";

  std::string url;
  {
    RelayProcess first(relay, args, log);
    REQUIRE(first.started());
    const std::string line = first.firstLine(10000);
    REQUIRE(line.rfind(prefix + "ws://127.0.0.1:", 0) == 0);
    url = line.substr(prefix.size());

    Client a(QString::fromStdString(url));
    Client b(QString::fromStdString(url));
    REQUIRE(a.connected());
    REQUIRE(b.connected());
    a.socket->sendTextMessage(QString::fromStdString("join " + kRoom));
    b.socket->sendTextMessage(QString::fromStdString("join " + kRoom));
    REQUIRE(a.receivedUntil("T:joined 0"));
    REQUIRE(b.receivedUntil("T:joined 0"));
    for (const std::string& f : kStored) a.socket->sendBinaryMessage(QByteArray::fromStdString(f));
    REQUIRE(b.receivedUntil(kStored.back()));
    CHECK(b.got == std::vector<std::string>{"T:joined 0", kStored[0], kStored[1]});
    CHECK(a.got == std::vector<std::string>{"T:joined 0"});  // never echoed to the sender

    // A client that sends a frame before joining is refused with a reason; others carry on.
    Client rude(QString::fromStdString(url));
    REQUIRE(rude.connected());
    rude.socket->sendBinaryMessage(QByteArray("junk"));
    REQUIRE(spinUntil([&] { return rude.disconnected; }));
    CHECK(rude.closeReason.contains(QStringLiteral("join a room first")));

    // An oversized frame closes its sender with a reason; the room carries on without it.
    Client big(QString::fromStdString(url));
    REQUIRE(big.connected());
    big.socket->sendTextMessage(QString::fromStdString("join " + kRoom));
    REQUIRE(big.receivedUntil("T:joined 2"));
    big.socket->sendBinaryMessage(QByteArray(2000, 'x'));
    REQUIRE(spinUntil([&] { return big.disconnected; }));
    CHECK(big.closeReason.contains(QStringLiteral("frame too large")));
    a.socket->sendTextMessage(QStringLiteral("mark"));
    REQUIRE(a.receivedUntil("T:mark 2"));
    CHECK(b.got.size() == 3);  // nothing of the oversized frame reached b

    a.socket->close();
    b.socket->close();
    REQUIRE(spinUntil([&] { return a.disconnected && b.disconnected; }));

    Client late(QString::fromStdString(url));
    REQUIRE(late.connected());
    late.socket->sendTextMessage(QString::fromStdString("join " + kRoom));
    REQUIRE(late.receivedUntil("T:joined 2"));
    CHECK(late.got == std::vector<std::string>{kStored[0], kStored[1], "T:joined 2"});

    CHECK(first.terminate(10000) == 0);
    CHECK(spinUntil([&] { return late.disconnected; }));
  }

  RelayProcess second(relay, args, log);
  REQUIRE(second.started());
  const std::string line = second.firstLine(10000);
  REQUIRE(line.rfind(prefix + "ws://127.0.0.1:", 0) == 0);
  Client again(QString::fromStdString(line.substr(prefix.size())));
  REQUIRE(again.connected());
  again.socket->sendTextMessage(QString::fromStdString("join " + kRoom));
  REQUIRE(again.receivedUntil("T:joined 2"));
  CHECK(again.got == std::vector<std::string>{kStored[0], kStored[1], "T:joined 2"});
  again.socket->close();
  spinUntil([&] { return again.disconnected; });
  CHECK(second.terminate(10000) == 0);

  // One log line per connect, disconnect and refusal.
  std::string logText;
  {
    std::FILE* f = std::fopen(log.c_str(), "r");
    REQUIRE(f != nullptr);
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) logText.append(buf, n);
    std::fclose(f);
  }
  INFO(logText);
  CHECK(logText.find("quire-relay: connect #") != std::string::npos);
  CHECK(logText.find("quire-relay: disconnect #") != std::string::npos);
  CHECK(logText.find("quire-relay: refused #") != std::string::npos);
#endif
}

TEST_CASE("quire-relay refuses TLS options until wss:// is supported", "[net][relay]") {
#ifdef QUIRE_RELAY_PATH
  TempDir dir("quire-relay");
  REQUIRE(!dir.path().empty());
  const std::string log = dir.path() + "/relay.log";
  RelayProcess relay(QUIRE_RELAY_PATH, {"--tls-cert", "c.pem", "--tls-key", "k.pem"}, log);
  REQUIRE(relay.started());
  CHECK(relay.firstLine(5000).empty());  // exits without listening
  std::string text;
  std::FILE* f = std::fopen(log.c_str(), "r");
  REQUIRE(f != nullptr);
  char buf[512];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  std::fclose(f);
  CHECK(text.find("TLS not supported yet") != std::string::npos);
#endif
}
