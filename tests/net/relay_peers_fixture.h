// The stage of the relay-peers process tests (tests/net/relay_peers_sync_test.cpp and
// relay_peers_security_test.cpp): a quire-relay child, a room shared through it by peer A's
// quire-cli, quire-cli runs and long-running followers, the per-peer texts (disjoint alphabets,
// A's holding a canary) and the convergence check on them. QUIRE_CLI_PATH and QUIRE_RELAY_PATH
// come from tests/CMakeLists.txt. Test-only; one thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace quire::test::relay_peers {

using Clock = std::chrono::steady_clock;

// The programs under test (empty if the build did not say).
extern const std::string kCli;
extern const std::string kRelay;

// Both binaries exist (a build without them fails here, not later with an obscure error).
#define REQUIRE_BINARIES()                                                                 \
  do {                                                                                     \
    INFO("QUIRE_CLI_PATH='" << ::quire::test::relay_peers::kCli << "' QUIRE_RELAY_PATH='" \
                            << ::quire::test::relay_peers::kRelay << "'");                \
    REQUIRE(!::quire::test::relay_peers::kCli.empty());                                    \
    REQUIRE(!::quire::test::relay_peers::kRelay.empty());                                  \
    REQUIRE(access(::quire::test::relay_peers::kCli.c_str(), X_OK) == 0);                  \
    REQUIRE(access(::quire::test::relay_peers::kRelay.c_str(), X_OK) == 0);                \
  } while (false)

inline constexpr std::chrono::milliseconds kChildLimit = std::chrono::seconds(25);

// ---------------------------------------------------------------------------------------------
// Text as code points (each a std::string of its UTF-8 bytes).

std::vector<std::string> codePoints(const std::string& s);
std::size_t cpCount(const std::string& s);
std::set<std::string> alphabetOf(const std::string& s);
// The code points of `text` that are in `alphabet`, in order.
std::string filtered(const std::string& text, const std::set<std::string>& alphabet);
// The first `n` code points of `s`, and the rest.
std::string cpPrefix(const std::string& s, std::size_t n);
std::string cpSlice(const std::string& s, std::size_t from, std::size_t to);

// Every peer's text appears in `final` whole, in its own order, once: with disjoint per-peer
// alphabets, filtering `final` by a peer's alphabet gives back exactly that peer's text, and
// nothing else is in `final`.
void checkConverged(const std::string& final, const std::vector<std::string>& texts);

// Three texts of about 40 code points with disjoint alphabets; A's holds the canary.
inline const std::string kCanary = "CANARY-7f3a";
inline const std::string kTextA = kCanary + "\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80" +  // é 中 😀
                                  "BDEGHIJKLMOPQSTUVWXZ0124568";
inline const std::string kTextB =
    "bcdeghijklmnopqrstuvwxyz\xC3\xA8\xE6\x96\x87\xF0\x9F\x98\x81" +  // è 文 😁
    std::string(".,;:!?_+=*/");
inline const std::string kTextC =
    "\xCE\xB1\xCE\xB2\xCE\xB3\xCE\xB4\xCE\xB5\xCE\xB6\xCE\xB7\xCE\xB8\xCE\xB9\xCE\xBA\xCE\xBB"
    "\xCE\xBC\xCE\xBD\xCE\xBE\xCE\xBF\xCF\x80\xCF\x81\xCF\x83\xCF\x84\xCF\x85\xCF\x86\xCF\x87"
    "\xCF\x88\xCF\x89"                                    // α..ω (24)
    "\xC3\xAA\xE5\xAD\x97\xF0\x9F\x98\x82"                // ê 字 😂
    "\xD0\x94\xD0\x96\xD0\x97\xD0\x98\xD0\x99\xD0\x9A\xD0\x9B\xD0\x9C"  // Д Ж З И Й К Л М
    "#$%&";
// A fourth alphabet (Hebrew, ü, arrows) for a fourth writer.
inline const std::string kTextE =
    "\xD7\x90\xD7\x91\xD7\x92\xD7\x93\xD7\x94\xD7\x95\xD7\x96\xD7\x97\xD7\x98\xD7\x99"
    "\xD7\x9B\xD7\x9C\xD7\x9E\xD7\xA0\xD7\xA1\xD7\xA2\xD7\xA4\xD7\xA6\xD7\xA7\xD7\xA8"
    "\xC3\xBC\xE2\x86\x90\xE2\x86\x91\xE2\x86\x92\xE2\x86\x93";

// ---------------------------------------------------------------------------------------------
// Child processes.

struct Ran {
  int code = -1;
  std::string out;
  std::string err;
};

std::string trimmed(std::string s);
std::string readFile(const std::string& path);
// Lowercase hex of `n` bytes (a room id as a "join" line names it).
std::string hex(const std::uint8_t* data, std::size_t n);
// `ascii` as UTF-16LE bytes.
std::string utf16le(const std::string& ascii);

std::unique_ptr<ChildProcess> spawnCli(const std::vector<std::string>& args);
// Waits for a child to exit (SIGKILL once `limit` since its start has passed).
Ran finish(ChildProcess& child, std::chrono::milliseconds limit = kChildLimit);
// Runs quire-cli with `args` to its end.
Ran cli(const std::vector<std::string>& args);
std::string catText(const std::string& db, const std::string& id);
// `open --once LINK` into `db`: fetches the room's state and hands over what this copy had.
void openOnce(const std::string& db, const std::string& link);
// A `type` run ended well, and (`online`) said it sent its ops.
void checkTyped(const Ran& r, const std::string& who, bool online);
// The arguments of `quire-cli type` typing `text` into document `id` of `db`, `delayMs` apart.
std::vector<std::string> typeArgs(const std::string& db, const std::string& id,
                                  const std::string& text, int delayMs,
                                  std::vector<std::string> extra = {});
// Waits for an online `type` child's "typed N" line.
bool waitTyped(ChildProcess& child, std::size_t n, std::string& seen,
               std::chrono::milliseconds limit = std::chrono::seconds(15));

// A quire-relay child; stderr (its log) appended to `log`.
struct Relay {
  std::unique_ptr<ChildProcess> proc;
  std::string url;  // ws://127.0.0.1:PORT
  std::string port;
  std::string db;
  std::string log;
  std::vector<std::string> extra;

  // Starts on `listen`; retries for up to `retryMs` while the port cannot be bound yet.
  void start(const std::string& listen, int retryMs = 0);
  // Still running (reaps it if it exited).
  bool alive() { return proc && proc->running() && !proc->waitUntil(Clock::now()).has_value(); }
};

// A relay, peer A's database holding a new document shared through it, and the link.
struct Room {
  TempDir dir{"quire-relay-peers"};
  Relay relay;
  std::string id;
  std::string link;

  std::string db(const std::string& peer) const { return dir.file(peer + ".db"); }

  explicit Room(std::vector<std::string> relayExtra = {});
};

// A long-running `open LINK` (no --once): reads its lines and keeps count of what it received.
struct Follower {
  std::unique_ptr<ChildProcess> proc;
  std::string lines;                       // everything it printed
  std::optional<std::size_t> syncedChars;  // from "synced N chars"
  std::size_t insertedCps = 0;             // code points of every "edit POS -D +TEXT"
  std::size_t deleted = 0;

  Follower(const std::string& db, const std::string& link);
  void pump(std::chrono::milliseconds wait);
  // Characters its copy holds, as far as its output says.
  std::size_t length() const { return syncedChars.value_or(0) + insertedCps - deleted; }
  bool waitFor(const std::function<bool()>& done, std::chrono::milliseconds limit);
  bool waitSynced(std::chrono::milliseconds limit = std::chrono::seconds(15)) {
    return waitFor([&] { return syncedChars.has_value(); }, limit);
  }
  bool waitLength(std::size_t n, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    return waitFor([&] { return syncedChars.has_value() && length() >= n; }, limit);
  }
  std::size_t count(const std::string& needle) const;
  // SIGTERM; its exit code.
  int stop();
};

}  // namespace quire::test::relay_peers
