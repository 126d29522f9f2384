#include "tests/hostile/hostile_process.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <signal.h>
#include <unistd.h>

#include <QCoreApplication>

#include "tests/hostile/hostile_harness.h"
#include "tests/support/temp_dir.h"
#include "tests/support/ws_test_client.h"

namespace quire::test::hostile {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

const std::string& cliPath() {
#ifdef QUIRE_CLI_PATH
  static const std::string path = QUIRE_CLI_PATH;
#else
  static const std::string path;
#endif
  return path;
}

const std::string& relayPath() {
#ifdef QUIRE_RELAY_PATH
  static const std::string path = QUIRE_RELAY_PATH;
#else
  static const std::string path;
#endif
  return path;
}

std::size_t withSanitizerSlack(std::size_t boundMiB) {
#if defined(__SANITIZE_ADDRESS__)
  return boundMiB * 3 + 256;
#else
  return boundMiB;
#endif
}

void Proc::pump() {
  if (!child->running()) return;
  while (auto line = child->readLine(0ms)) out += *line + "\n";
}

void Proc::finish(std::chrono::milliseconds limit, const std::function<void()>& others) {
  auto status = child->waitUntil(Clock::now() + limit, [&] {
    QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    if (others) others();
  });
  if (!status) status = child->killAndReap();
  out += child->out();
  code = ChildProcess::exitCode(*status);
  peakKib = child->peakRssKib();
}

void Proc::stop(const std::function<void()>& others) {
  pump();  // its memory is sampled once more, at its end (VmHWM only grows)
  child->signal(SIGTERM);
  finish(15s, others);
}

std::unique_ptr<Proc> startRelayProcess(const std::string& listen, const std::string& db,
                                        const std::string& log, const std::vector<std::string>& args,
                                        std::string& url, std::string& port) {
  const auto deadline = Clock::now() + 5s;
  for (;;) {
    ChildOptions options;
    options.stderrTo = ChildOptions::Stderr::File;
    options.stderrFile = log;
    std::vector<std::string> all{"--listen", listen, "--db", db};
    all.insert(all.end(), args.begin(), args.end());
    auto p = std::make_unique<Proc>();
    p->name = "quire-relay";
    p->sampled = true;
    p->child = std::make_unique<ChildProcess>(relayPath(), all, options);
    REQUIRE(p->child->started());
    const std::string line = p->child->readLine(10s).value_or("");
    const std::string prefix = "listening on ws://127.0.0.1:";
    if (line.rfind(prefix, 0) == 0) {
      url = line.substr(std::string("listening on ").size());
      port = line.substr(prefix.size());
      return p;
    }
    p->child->killAndReap();
    INFO("relay did not listen on " << listen << "; log:\n" << readFile(log));
    REQUIRE(Clock::now() < deadline);
    std::this_thread::sleep_for(100ms);
  }
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

std::size_t countOf(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1))
    ++n;
  return n;
}

// The lines of `text` that contain `needle`.
std::vector<std::string> linesWith(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.find(needle) != std::string::npos) out.push_back(line);
  return out;
}

std::string hexOf(const net::RoomId& room) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : room.bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

// Every peer's text appears in `final` whole, in its own order; nothing else is there but the
// code points of `accepted`. The texts are ASCII.
void checkConverged(const std::string& final, const std::vector<std::string>& texts,
                    const std::string& accepted) {
  INFO("final text: '" << final << "'");
  std::set<char> all(accepted.begin(), accepted.end());
  std::size_t total = accepted.size();
  for (const std::string& t : texts) {
    const std::set<char> alphabet(t.begin(), t.end());
    std::string mine;
    for (char c : final)
      if (alphabet.contains(c)) mine += c;
    CHECK(mine == t);
    all.insert(alphabet.begin(), alphabet.end());
    total += t.size();
  }
  CHECK(final.size() == total);
  for (char c : final) {
    INFO("unexpected character '" << c << "'");
    CHECK(all.contains(c));
    if (!all.contains(c)) break;
  }
}

void checkDefaultRelayRefuses(const QByteArray& frame) {
  REQUIRE(frame.size() > (1 << 20));
  REQUIRE(access(relayPath().c_str(), X_OK) == 0);
  REQUIRE(net::initCrypto().has_value());
  ensureCoreApp();
  TempDir dir("quire-hostile-default");
  std::string url, port;
  auto relay = startRelayProcess("127.0.0.1:0", dir.file("relay.db"), dir.file("relay.log"), {}, url, port);
  const std::string join = "join " + hexOf(net::roomIdOf(net::generateKey()));
  {
    WsTestClient c(url);
    REQUIRE(c.connected());
    c.text(join);
    REQUIRE(c.receivedPrefix("T:joined "));
    c.binary(frame);
    INFO("relay log:\n" << readFile(dir.file("relay.log")));
    REQUIRE(c.closed(60000));
    CHECK(c.closeCode == 1009);  // refused by the socket as the message arrived
    // The relay logs it once it sees the connection gone, which may be after the client does.
    const std::string logged = "message too large (limit 1048576 bytes), closed unread";
    CHECK(spinUntil(
        [&] { return readFile(dir.file("relay.log")).find(logged) != std::string::npos; }));
  }
  // Nothing of it was stored, and the relay carries on.
  WsTestClient later(url);
  REQUIRE(later.connected());
  later.text(join);
  CHECK(later.received("T:joined 0"));
  CHECK(later.findPrefix("T:replay 0 ") != nullptr);
  relay->stop();
  CHECK(relay->code == 0);
  // Not read whole: the relay's peak stays far below the frame (64 MiB in one test).
  CHECK(relay->peakKib < static_cast<long>(withSanitizerSlack(48) * 1024));
}

}  // namespace quire::test::hostile
