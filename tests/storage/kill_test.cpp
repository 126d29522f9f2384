// Crash safety of local typing (issue 3, "Kill"): a `quire-cli type` child is SIGKILLed at a
// random moment, again and again; on reopen every keystroke it reported as typed is in the text
// and SQLite's integrity check passes. QUIRE_CLI_PATH comes from tests/CMakeLists.txt.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/utf8.h"
#include "storage/document_store.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace {

using quire::test::TempDir;

using quire::storage::DocumentId;
using quire::storage::DocumentStore;
using Clock = std::chrono::steady_clock;

// A running `quire-cli type` whose stdout is a pipe this side reads "typed N" lines from.
class TypingChild {
 public:
  TypingChild(const std::string& cli, const std::vector<std::string>& args) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    std::vector<std::string> all{cli};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&m_pid, cli.c_str(), &actions, nullptr, argv.data(), environ) != 0) m_pid = -1;
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    m_out = fds[0];
  }
  ~TypingChild() {
    if (m_pid > 0) {
      kill(m_pid, SIGKILL);
      waitpid(m_pid, nullptr, 0);
    }
    if (m_out >= 0) close(m_out);
  }
  TypingChild(const TypingChild&) = delete;
  TypingChild& operator=(const TypingChild&) = delete;

  bool started() const { return m_pid > 0 && m_out >= 0; }

  // Reads what the child printed until `deadline`, end of output, or (if `lines` > 0) until the
  // count reported reaches `lines`. Returns false once the output has ended.
  bool readUntil(Clock::time_point deadline, std::size_t lines) {
    while (lines == 0 || m_typed < lines) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left < 0) return true;
      pollfd p{m_out, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      if (!readAvailable()) return false;
    }
    return true;
  }

  // SIGKILLs the child, then reads what it had written before dying. Returns its wait status.
  int killAndReap() {
    kill(m_pid, SIGKILL);
    int status = 0;
    waitpid(m_pid, &status, 0);
    m_pid = -1;
    while (readAvailable()) {
    }
    return status;
  }

  // The highest N of a complete "typed N" line read so far.
  std::size_t typed() const { return m_typed; }
  // Anything else the child printed (should stay empty).
  const std::string& unexpected() const { return m_unexpected; }

 private:
  bool readAvailable() {
    char buf[4096];
    const ssize_t got = read(m_out, buf, sizeof buf);
    if (got <= 0) return false;
    m_pending.append(buf, static_cast<std::size_t>(got));
    for (std::size_t nl; (nl = m_pending.find('\n')) != std::string::npos;) {
      const std::string line = m_pending.substr(0, nl);
      m_pending.erase(0, nl + 1);
      if (line.rfind("typed ", 0) == 0) {
        m_typed = std::stoul(line.substr(6));
      } else {
        m_unexpected += line + "\n";
      }
    }
    return true;
  }

  pid_t m_pid = -1;
  int m_out = -1;
  std::string m_pending;  // a line not yet complete
  std::size_t m_typed = 0;
  std::string m_unexpected;
};

// Multi-byte code points included, so a keystroke is not always one byte.
const std::string kText =
    "Quire keeps every keystroke: caf\xC3\xA9, na\xC3\xAFve, \xE2\x9C\x93, \xF0\x9F\x93\x9D. "
    "The quick brown fox jumps over the lazy dog, again and again, until it is killed.";

}  // namespace

TEST_CASE("a killed quire-cli type loses no keystroke it reported and leaves the database sound",
          "[storage][kill]") {
#ifndef QUIRE_CLI_PATH
  FAIL("QUIRE_CLI_PATH is not defined: tests/CMakeLists.txt must pass quire-cli's path");
#else
  const std::string cli = QUIRE_CLI_PATH;
  REQUIRE(access(cli.c_str(), X_OK) == 0);
  TempDir dir("quire-kill");
  REQUIRE(!dir.path().empty());
  const std::string db = dir.path() + "/kill.db";
  const std::size_t textLength = quire::engine::utf8::count(kText);

  const std::uint32_t seed = Catch::rngSeed() != 0 ? Catch::rngSeed() : std::random_device{}();
  INFO("seed " << seed << " (rerun with --rng-seed " << seed << ")");
  std::mt19937 rng(seed);

  constexpr int kKills = 60;
  int killedMidway = 0;  // kills that landed after some keystrokes and before the last
  for (int round = 0; round < kKills; ++round) {
    INFO("round " << round);
    // Each round types into a fresh document of the one database, so the database itself
    // lives through every kill so far.
    DocumentId id;
    {
      auto store = DocumentStore::open(db);
      REQUIRE(store.has_value());
      auto created = (*store)->create("round " + std::to_string(round));
      REQUIRE(created.has_value());
      id = *created;
    }

    const int delayMs = std::uniform_int_distribution<int>(0, 2)(rng);
    TypingChild child(cli, {"type", id.toHex(), kText, "--delay-ms", std::to_string(delayMs),
                            "--db", db});
    REQUIRE(child.started());
    // Half the kills come at a random time from start (some during start-up and opening), half
    // a random moment after a random keystroke was reported.
    const auto start = Clock::now();
    if (std::uniform_int_distribution<int>(0, 1)(rng) == 0) {
      child.readUntil(start + std::chrono::milliseconds(
                                  std::uniform_int_distribution<int>(0, 400)(rng)),
                      0);
    } else {
      const std::size_t lines = std::uniform_int_distribution<std::size_t>(1, textLength)(rng);
      child.readUntil(start + std::chrono::milliseconds(1500), lines);
      usleep(std::uniform_int_distribution<useconds_t>(0, 3000)(rng));
    }
    const int status = child.killAndReap();
    const std::size_t reported = child.typed();
    INFO("keystrokes reported " << reported << " of " << textLength << ", delay " << delayMs
                                << " ms, child status " << status);
    CHECK(child.unexpected().empty());
    if (reported > 0 && reported < textLength) ++killedMidway;

    auto store = DocumentStore::open(db);
    REQUIRE(store.has_value());
    CHECK((*store)->testIntegrityCheck() == "ok");
    auto doc = (*store)->load(id);
    REQUIRE(doc.has_value());
    const std::string text = doc->text();
    // Keystrokes go in order at the end, so what survived is a prefix of kText; it may hold
    // more than was reported (a keystroke commits before its line is printed).
    REQUIRE(doc->length() >= reported);
    REQUIRE(doc->length() <= textLength);
    CHECK(text == kText.substr(0, quire::engine::utf8::offsetOf(kText, doc->length())));
  }
  INFO("kills between the first and the last keystroke: " << killedMidway);
  CHECK(killedMidway >= kKills / 4);
#endif
}
