// Quire clients through a relay, as processes on 127.0.0.1 (issue 4, "Relay"): quire-cli peers
// typing concurrently through quire-relay converge with every keystroke, across an offline
// stretch and a relay SIGKILL; a direct peer bridges a relay room; a wrong key changes nothing;
// the relay never holds plaintext (database or memory); a hostile client does not disturb other
// rooms. QUIRE_CLI_PATH and QUIRE_RELAY_PATH come from tests/CMakeLists.txt.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <cctype>
#include <functional>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <QCoreApplication>

#include "net/crypto.h"
#include "net/share_link.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/ws_test_client.h"

namespace {

using quire::test::ChildOptions;
using quire::test::ChildProcess;
using quire::test::TempDir;
using quire::test::spinUntil;
using Client = quire::test::WsTestClient;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

#ifdef QUIRE_CLI_PATH
const std::string kCli = QUIRE_CLI_PATH;
#else
const std::string kCli;
#endif
#ifdef QUIRE_RELAY_PATH
const std::string kRelay = QUIRE_RELAY_PATH;
#else
const std::string kRelay;
#endif

// Both binaries exist (a build without them fails here, not later with an obscure error).
#define REQUIRE_BINARIES()                                                   \
  do {                                                                       \
    INFO("QUIRE_CLI_PATH='" << kCli << "' QUIRE_RELAY_PATH='" << kRelay << "'"); \
    REQUIRE(!kCli.empty());                                                  \
    REQUIRE(!kRelay.empty());                                                \
    REQUIRE(access(kCli.c_str(), X_OK) == 0);                                \
    REQUIRE(access(kRelay.c_str(), X_OK) == 0);                              \
  } while (false)

constexpr auto kChildLimit = 25s;

// ---------------------------------------------------------------------------------------------
// Text as code points (each a std::string of its UTF-8 bytes).

std::vector<std::string> codePoints(const std::string& s) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : 4;
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

std::size_t cpCount(const std::string& s) { return codePoints(s).size(); }

std::set<std::string> alphabetOf(const std::string& s) {
  const auto cps = codePoints(s);
  return {cps.begin(), cps.end()};
}

// The code points of `text` that are in `alphabet`, in order.
std::string filtered(const std::string& text, const std::set<std::string>& alphabet) {
  std::string out;
  for (const std::string& cp : codePoints(text))
    if (alphabet.contains(cp)) out += cp;
  return out;
}

// The first `n` code points of `s`, and the rest.
std::string cpPrefix(const std::string& s, std::size_t n) {
  std::string out;
  const auto cps = codePoints(s);
  for (std::size_t i = 0; i < n && i < cps.size(); ++i) out += cps[i];
  return out;
}
std::string cpSlice(const std::string& s, std::size_t from, std::size_t to) {
  std::string out;
  const auto cps = codePoints(s);
  for (std::size_t i = from; i < to && i < cps.size(); ++i) out += cps[i];
  return out;
}

// Every peer's text appears in `final` whole, in its own order, once: with disjoint per-peer
// alphabets, filtering `final` by a peer's alphabet gives back exactly that peer's text, and
// nothing else is in `final`.
void checkConverged(const std::string& final, const std::vector<std::string>& texts) {
  std::size_t total = 0;
  std::set<std::string> all;
  for (const std::string& t : texts) {
    const auto alphabet = alphabetOf(t);
    for (const auto& cp : alphabet) {
      INFO("code point '" << cp << "' is in two peers' alphabets");
      REQUIRE(!all.contains(cp));  // a test-data bug, not a product bug
    }
    all.insert(alphabet.begin(), alphabet.end());
    INFO("final text: '" << final << "'");
    CHECK(filtered(final, alphabet) == t);
    total += cpCount(t);
  }
  INFO("final text: '" << final << "'");
  CHECK(cpCount(final) == total);
  CHECK(filtered(final, all) == final);
}

// Three texts of about 40 code points with disjoint alphabets; A's holds the canary.
const std::string kCanary = "CANARY-7f3a";
const std::string kTextA = kCanary + "\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80" +  // é 中 😀
                           "BDEGHIJKLMOPQSTUVWXZ0124568";
const std::string kTextB = "bcdeghijklmnopqrstuvwxyz\xC3\xA8\xE6\x96\x87\xF0\x9F\x98\x81" +  // è 文 😁
                           std::string(".,;:!?_+=*/");
const std::string kTextC =
    "\xCE\xB1\xCE\xB2\xCE\xB3\xCE\xB4\xCE\xB5\xCE\xB6\xCE\xB7\xCE\xB8\xCE\xB9\xCE\xBA\xCE\xBB"
    "\xCE\xBC\xCE\xBD\xCE\xBE\xCE\xBF\xCF\x80\xCF\x81\xCF\x83\xCF\x84\xCF\x85\xCF\x86\xCF\x87"
    "\xCF\x88\xCF\x89"                                    // α..ω (24)
    "\xC3\xAA\xE5\xAD\x97\xF0\x9F\x98\x82"                // ê 字 😂
    "\xD0\x94\xD0\x96\xD0\x97\xD0\x98\xD0\x99\xD0\x9A\xD0\x9B\xD0\x9C"  // Д Ж З И Й К Л М
    "#$%&";
// A fourth alphabet (Hebrew, ü, arrows) for a fourth writer.
const std::string kTextE =
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

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

std::unique_ptr<ChildProcess> spawnCli(const std::vector<std::string>& args) {
  auto child = std::make_unique<ChildProcess>(kCli, args);
  REQUIRE(child->started());
  return child;
}

// Waits for a child to exit (SIGKILL once `limit` since its start has passed).
Ran finish(ChildProcess& child, std::chrono::milliseconds limit = kChildLimit) {
  auto status = child.waitUntil(child.startedAt() + limit);
  if (!status) status = child.killAndReap();
  return {ChildProcess::exitCode(*status), child.out(), child.err()};
}

Ran cli(const std::vector<std::string>& args) {
  auto child = spawnCli(args);
  return finish(*child);
}

std::string catText(const std::string& db, const std::string& id) {
  const Ran r = cli({"cat", "--db", db, id});
  INFO("cat --db " << db << ": " << r.err);
  REQUIRE(r.code == 0);
  return r.out;
}

// `open --once LINK` into `db`: fetches the room's state and hands over what this copy had.
void openOnce(const std::string& db, const std::string& link) {
  const Ran r = cli({"open", "--once", "--timeout-ms", "15000", "--db", db, link});
  INFO("open --once --db " << db << " -> " << r.code << "\nstdout: " << r.out
                           << "\nstderr: " << r.err);
  REQUIRE(r.code == 0);
  REQUIRE(r.out.find("synced ") != std::string::npos);
}

void checkTyped(const Ran& r, const std::string& who, bool online) {
  INFO(who << " exit " << r.code << "\nstdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.code == 0);
  if (online) CHECK(("\n" + r.out).find("\nsent\n") != std::string::npos);
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A quire-relay child; stderr (its log) appended to `log`.
struct Relay {
  std::unique_ptr<ChildProcess> proc;
  std::string url;  // ws://127.0.0.1:PORT
  std::string port;
  std::string db;
  std::string log;
  std::vector<std::string> extra;

  // Starts on `listen`; retries for up to `retryMs` while the port cannot be bound yet.
  void start(const std::string& listen, int retryMs = 0) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(retryMs);
    for (;;) {
      ChildOptions options;
      options.stderrTo = ChildOptions::Stderr::File;
      options.stderrFile = log;
      std::vector<std::string> args{"--listen", listen, "--db", db};
      args.insert(args.end(), extra.begin(), extra.end());
      proc = std::make_unique<ChildProcess>(kRelay, args, options);
      REQUIRE(proc->started());
      const std::string line = proc->readLine(10s).value_or("");
      const std::string prefix = "listening on ws://127.0.0.1:";
      if (line.rfind(prefix, 0) == 0) {
        url = line.substr(std::string("listening on ").size());
        port = line.substr(prefix.size());
        return;
      }
      proc->killAndReap();
      INFO("relay did not listen on " << listen << "; log:\n" << readFile(log));
      REQUIRE(Clock::now() < deadline);
      std::this_thread::sleep_for(100ms);
    }
  }
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

  explicit Room(std::vector<std::string> relayExtra = {}) {
    REQUIRE(!dir.path().empty());
    relay.db = dir.file("relay.db");
    relay.log = dir.file("relay.log");
    relay.extra = std::move(relayExtra);
    relay.start("127.0.0.1:0");
    const Ran made = cli({"new", "--db", db("a"), "relay-peers"});
    INFO("new: " << made.err);
    REQUIRE(made.code == 0);
    id = trimmed(made.out);
    REQUIRE(id.size() == 32);
    const Ran shared = cli({"share", "--db", db("a"), "--relay", relay.url, id});
    INFO("share: " << shared.err);
    REQUIRE(shared.code == 0);
    link = trimmed(shared.out);
    REQUIRE(link.rfind("quire://open?", 0) == 0);
  }
};

std::vector<std::string> typeArgs(const std::string& db, const std::string& id,
                                  const std::string& text, int delayMs,
                                  std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"type", "--db", db, "--delay-ms", std::to_string(delayMs)};
  args.insert(args.end(), extra.begin(), extra.end());
  args.insert(args.end(), {id, "--", text});
  return args;
}

// A long-running `open LINK` (no --once): reads its lines and keeps count of what it received.
struct Follower {
  std::unique_ptr<ChildProcess> proc;
  std::string lines;                       // everything it printed
  std::optional<std::size_t> syncedChars;  // from "synced N chars"
  std::size_t insertedCps = 0;             // code points of every "edit POS -D +TEXT"
  std::size_t deleted = 0;

  Follower(const std::string& db, const std::string& link) {
    proc = spawnCli({"open", "--timeout-ms", "20000", "--db", db, link});
  }
  void pump(std::chrono::milliseconds wait) {
    for (auto line = proc->readLine(wait); line; line = proc->readLine(0ms)) {
      lines += *line + "\n";
      if (line->rfind("synced ", 0) == 0) {
        syncedChars = std::stoul(line->substr(7));
      } else if (line->rfind("edit ", 0) == 0) {
        // "edit POS -DELETED +TEXT"; TEXT may hold spaces but no newline.
        const auto minus = line->find(" -");
        const auto plus = line->find(" +", minus);
        if (minus != std::string::npos && plus != std::string::npos) {
          deleted += std::stoul(line->substr(minus + 2, plus - minus - 2));
          insertedCps += cpCount(line->substr(plus + 2));
        }
      }
    }
  }
  // Characters its copy holds, as far as its output says.
  std::size_t length() const { return syncedChars.value_or(0) + insertedCps - deleted; }
  bool waitFor(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    const auto deadline = Clock::now() + limit;
    while (!done()) {
      if (Clock::now() >= deadline || proc->stdoutEnded()) return done();
      pump(50ms);
    }
    return true;
  }
  bool waitSynced(std::chrono::milliseconds limit = 15s) {
    return waitFor([&] { return syncedChars.has_value(); }, limit);
  }
  bool waitLength(std::size_t n, std::chrono::milliseconds limit = 20s) {
    return waitFor([&] { return syncedChars.has_value() && length() >= n; }, limit);
  }
  std::size_t count(const std::string& needle) const {
    std::size_t n = 0;
    for (auto at = lines.find(needle); at != std::string::npos; at = lines.find(needle, at + 1))
      ++n;
    return n;
  }
  // SIGTERM; its exit code.
  int stop() {
    proc->signal(SIGTERM);
    auto status = proc->waitUntil(Clock::now() + 10s);
    if (!status) status = proc->killAndReap();
    pump(0ms);
    lines += proc->out();
    return ChildProcess::exitCode(*status);
  }
};

// Waits for an online `type` child's "typed N" line.
bool waitTyped(ChildProcess& child, std::size_t n, std::string& seen,
               std::chrono::milliseconds limit = 15s) {
  const auto deadline = Clock::now() + limit;
  const std::string want = "typed " + std::to_string(n);
  while (Clock::now() < deadline) {
    auto line = child.readLine(50ms);
    if (!line) {
      if (child.stdoutEnded()) return false;
      continue;
    }
    seen += *line + "\n";
    if (*line == want) return true;
  }
  return false;
}

std::string hex(const std::uint8_t* data, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 15];
  }
  return out;
}

std::string utf16le(const std::string& ascii) {
  std::string out;
  for (char c : ascii) {
    out += c;
    out += '\0';
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading a process's memory.

// The pid of our child running `program` whose command line holds `marker`.
pid_t childPid(const std::string& marker) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    const std::string status = readFile(entry.path().string() + "/status");
    const auto ppid = status.find("PPid:");
    if (ppid == std::string::npos || std::stol(status.substr(ppid + 5)) != getpid()) continue;
    std::string cmdline = readFile(entry.path().string() + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(marker) != std::string::npos) return static_cast<pid_t>(std::stol(name));
  }
  return -1;
}

struct MemoryScan {
  std::string error;   // empty if the memory could be read
  std::size_t bytes = 0;
  std::size_t skippedShadowBytes = 0;  // ASan builds only: see scanMemory
  std::vector<bool> found;
};

// A mapping of /proc/PID/smaps: its range, whether it is readable and writable, and whether
// it is marked MADV_DONTDUMP (VmFlags "dd").
struct Mapping {
  unsigned long long from = 0, to = 0;
  bool readWrite = false;
  bool dontDump = false;
};

std::vector<Mapping> mappingsOf(pid_t pid) {
  std::vector<Mapping> out;
  std::ifstream smaps("/proc/" + std::to_string(pid) + "/smaps");
  std::string line;
  while (std::getline(smaps, line)) {
    Mapping m;
    char perms[8] = {};
    if (std::sscanf(line.c_str(), "%llx-%llx %7s", &m.from, &m.to, perms) == 3) {
      m.readWrite = perms[0] == 'r' && perms[1] == 'w';
      out.push_back(m);
    } else if (line.rfind("VmFlags:", 0) == 0 && !out.empty()) {
      out.back().dontDump = (line + " ").find(" dd ") != std::string::npos;
    }
  }
  return out;
}

// Searches every readable and writable mapping of `pid` for each needle.
//
// Under ASan (the test and quire-relay come from one build directory, so both are sanitized or
// neither is) the relay also has ASan's shadow memory: about 15 TB of address space mapped
// read-write with MAP_NORESERVE, of which a few MB are ever touched. Reading all of it through
// /proc/PID/mem faults it in page by page: the relay grew past 20 GB and the scan never ended.
// ASan marks exactly those mappings MADV_DONTDUMP ("dd" in smaps), and they hold shadow bytes
// (how many of 8 application bytes are addressable), never application data, so under ASan the
// scan skips the "dd" mappings and reads the rest (heap, stacks, data: tens of MB) in full. The
// needles and the positive control are checked the same way as in a normal build; freed memory
// that ASan keeps in its quarantine instead of reusing is part of the heap and is read too.
// Without ASan nothing is skipped.
MemoryScan scanMemory(pid_t pid, const std::vector<std::string>& needles) {
#if defined(__SANITIZE_ADDRESS__)
  constexpr bool kSkipSanitizerShadow = true;
#else
  constexpr bool kSkipSanitizerShadow = false;
#endif
  MemoryScan scan;
  scan.found.assign(needles.size(), false);
  std::size_t longest = 0;
  for (const auto& n : needles) longest = std::max(longest, n.size());
  const std::vector<Mapping> mappings = mappingsOf(pid);
  const int mem = open(("/proc/" + std::to_string(pid) + "/mem").c_str(), O_RDONLY);
  if (mappings.empty() || mem < 0) {
    scan.error = std::string("cannot open /proc/PID/mem: ") + std::strerror(errno);
    if (mem >= 0) close(mem);
    return scan;
  }
  std::string buf;
  int failures = 0;
  for (const Mapping& mapping : mappings) {
    const unsigned long long from = mapping.from, to = mapping.to;
    if (!mapping.readWrite) continue;
    if (kSkipSanitizerShadow && mapping.dontDump) {
      scan.skippedShadowBytes += static_cast<std::size_t>(to - from);
      continue;
    }
    std::string tail;  // the end of the previous chunk, for a needle across chunks
    for (unsigned long long at = from; at < to;) {
      const std::size_t want = static_cast<std::size_t>(std::min<unsigned long long>(to - at, 1 << 20));
      buf.resize(want);
      const ssize_t got = pread(mem, buf.data(), want, static_cast<off_t>(at));
      if (got <= 0) {
        ++failures;
        if (scan.bytes == 0 && (errno == EACCES || errno == EPERM))
          scan.error = std::string("reading /proc/PID/mem: ") + std::strerror(errno);
        break;
      }
      buf.resize(static_cast<std::size_t>(got));
      scan.bytes += buf.size();
      const std::string window = tail + buf;
      for (std::size_t i = 0; i < needles.size(); ++i)
        if (!scan.found[i] && window.find(needles[i]) != std::string::npos) scan.found[i] = true;
      tail = window.substr(window.size() - std::min(window.size(), longest));
      at += static_cast<unsigned long long>(got);
    }
  }
  close(mem);
  if (scan.bytes > 0) scan.error.clear();
  return scan;
}

// Searches a core file written by gcore (the fallback when /proc/PID/mem cannot be read).
MemoryScan scanWithGcore(pid_t pid, const std::string& dir, const std::vector<std::string>& needles) {
  MemoryScan scan;
  scan.found.assign(needles.size(), false);
  if (access("/usr/bin/gcore", X_OK) != 0) {
    scan.error = "no gcore";
    return scan;
  }
  const std::string prefix = dir + "/relay-core";
  ChildOptions options;
  ChildProcess gcore("/usr/bin/gcore", {"-o", prefix, std::to_string(pid)}, options);
  auto status = gcore.waitUntil(Clock::now() + 30s);
  if (!status) status = gcore.killAndReap();
  const std::string core = readFile(prefix + "." + std::to_string(pid));
  if (core.empty()) {
    scan.error = "gcore wrote nothing: " + gcore.err();
    return scan;
  }
  scan.bytes = core.size();
  for (std::size_t i = 0; i < needles.size(); ++i)
    scan.found[i] = core.find(needles[i]) != std::string::npos;
  std::filesystem::remove(prefix + "." + std::to_string(pid));
  return scan;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

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

TEST_CASE("a wrong key is rejected and changes nothing", "[net][process][relay-peers]") {
  REQUIRE_BINARIES();
  REQUIRE(quire::net::initCrypto().has_value());
  Room room;
  openOnce(room.db("b"), room.link);
  checkTyped(cli(typeArgs(room.db("a"), room.id, kTextA, 0)), "A", true);
  openOnce(room.db("b"), room.link);
  const std::string before = catText(room.db("b"), room.id);
  REQUIRE(before == kTextA);

  // The right document id and relay route, another key.
  auto parsed = quire::net::parseShareLink(room.link);
  REQUIRE(parsed.has_value());
  parsed->key = quire::net::generateKey();
  const std::string wrong = quire::net::encodeShareLink(*parsed);
  REQUIRE(wrong != room.link);

  // Through a relay a wrong key derives another room id, so it meets an empty room: it cannot
  // be told from a document nobody has written in yet. It gets nothing of the real room, and
  // the note says why the copy is empty.
  const Ran wrongOpen = cli({"open", "--once", "--timeout-ms", "10000", "--db", room.db("w"), wrong});
  {
    INFO("open --once with a wrong key -> " << wrongOpen.code << "\nstdout: " << wrongOpen.out
                                            << "\nstderr: " << wrongOpen.err);
    CHECK(wrongOpen.out.find("synced 0 chars") != std::string::npos);
    CHECK(wrongOpen.err.find("key is wrong") != std::string::npos);
    CHECK(catText(room.db("w"), room.id).empty());
  }

  // The same database then opens the right link (the user fixed the typo): the empty
  // wrong-key copy is replaced.
  {
    const Ran right = cli({"open", "--once", "--timeout-ms", "10000", "--db", room.db("w"), room.link});
    INFO("open --once with the right link after the wrong one -> " << right.code << "\nstdout: "
                                                                  << right.out << "\nstderr: "
                                                                  << right.err);
    CHECK(right.code == 0);
    if (right.code == 0) CHECK(catText(room.db("w"), room.id) == kTextA);
  }

  // Someone typing into a wrong-key copy reaches nobody in the real room.
  {
    const Ran other = cli({"open", "--once", "--timeout-ms", "10000", "--db", room.db("x"), wrong});
    INFO("open --once with a wrong key into x: " << other.out << other.err);
    CHECK(other.code == 0);
    const Ran injected = cli(typeArgs(room.db("x"), room.id, "INJECTED", 0));
    INFO("type into the wrong-key copy: " << injected.out << injected.err);
    CHECK(injected.code == 0);
    // With text in it, that copy is protected: the right link is refused, not overwritten.
    const Ran right = cli({"open", "--once", "--timeout-ms", "10000", "--db", room.db("x"), room.link});
    CHECK(right.code != 0);
    CHECK(right.err.find("different key") != std::string::npos);
  }

  // The room's real members still have exactly their text, and still sync.
  checkTyped(cli(typeArgs(room.db("b"), room.id, kTextB, 0)), "B", true);
  openOnce(room.db("a"), room.link);
  openOnce(room.db("b"), room.link);
  const std::string afterA = catText(room.db("a"), room.id);
  CHECK(afterA == catText(room.db("b"), room.id));
  CHECK(afterA.find("INJECTED") == std::string::npos);
  checkConverged(afterA, {kTextA, kTextB});
  CHECK(room.relay.alive());
}

TEST_CASE("the relay's database and memory never hold the canary", "[net][process][relay-peers]") {
  REQUIRE_BINARIES();
  REQUIRE(quire::net::initCrypto().has_value());
  Room room;
  openOnce(room.db("b"), room.link);
  openOnce(room.db("c"), room.link);
  // A types the canary alone first, so that it is one contiguous string in every copy; then
  // B and C type concurrently.
  checkTyped(cli(typeArgs(room.db("a"), room.id, kTextA, 5)), "A", true);
  auto c = spawnCli(typeArgs(room.db("c"), room.id, kTextC, 10));
  checkTyped(cli(typeArgs(room.db("b"), room.id, kTextB, 10)), "B", true);
  checkTyped(finish(*c), "C", true);
  // A late joiner gets it all from the relay's store: the relay did hold the (sealed) text.
  openOnce(room.db("g"), room.link);
  const std::string text = catText(room.db("g"), room.id);
  checkConverged(text, {kTextA, kTextB, kTextC});
  REQUIRE(text.find(kCanary) != std::string::npos);

  const std::string nonAscii = "\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80";  // é中😀, A's
  const std::vector<std::string> needles{kCanary, utf16le(kCanary), nonAscii};

  // Its database files, as they are while it runs (WAL: the frames are in the -wal file).
  std::string files;
  for (const std::string suffix : {"", "-wal", "-shm", "-journal"}) {
    const std::string path = room.relay.db + suffix;
    if (std::filesystem::exists(path)) files += readFile(path);
  }
  REQUIRE(files.size() > 1000);
  for (const std::string& needle : needles) CHECK(files.find(needle) == std::string::npos);

  // Its memory, while it runs after the typing.
  REQUIRE(room.relay.alive());
  const pid_t pid = childPid(room.relay.db);
  REQUIRE(pid > 0);
  // Positive controls: the database path (its argv) and the room id (its "join" line).
  auto link = quire::net::parseShareLink(room.link);
  REQUIRE(link.has_value());
  const quire::net::RoomId roomId = quire::net::roomIdOf(link->key);
  std::vector<std::string> all = needles;
  all.push_back(room.relay.db);
  all.push_back(hex(roomId.bytes.data(), roomId.bytes.size()));
  MemoryScan scan = scanMemory(pid, all);
  if (!scan.error.empty()) {
    WARN("/proc/PID/mem: " << scan.error << "; trying gcore");
    scan = scanWithGcore(pid, room.dir.path(), all);
  }
  INFO("memory scan of relay pid " << pid << ": " << scan.bytes << " bytes (ASan shadow skipped: "
                                   << scan.skippedShadowBytes << " bytes), error '" << scan.error
                                   << "'");
  REQUIRE(scan.error.empty());
  REQUIRE(scan.bytes > 100000);
  CHECK(scan.found[needles.size()]);  // the control: the scan does see the relay's own data
  for (std::size_t i = 0; i < needles.size(); ++i) {
    INFO("needle " << i);
    CHECK(!scan.found[i]);
  }
  INFO("the room id was " << (scan.found[needles.size() + 1] ? "" : "not ") << "seen in memory");
  CHECK(room.relay.alive());
}

TEST_CASE("a hostile client does not crash the relay or stop other rooms",
          "[net][process][relay-peers]") {
  REQUIRE_BINARIES();
  REQUIRE(quire::net::initCrypto().has_value());
  quire::test::ensureCoreApp();
  Room room({"--max-frame-bytes", "4096", "--max-messages-per-second", "100"});
  openOnce(room.db("b"), room.link);
  // The good room is in use the whole time.
  auto typing = spawnCli(typeArgs(room.db("a"), room.id, kTextA, 30));

  std::string randomRoom;
  {
    const quire::net::DocKey k = quire::net::generateKey();
    const quire::net::RoomId r = quire::net::roomIdOf(k);
    randomRoom = hex(r.bytes.data(), r.bytes.size());
  }

  // Garbage before join.
  {
    Client c(room.relay.url);
    REQUIRE(c.connected());
    c.binary(std::string("\x01\xff\x00garbage", 10));
    REQUIRE(c.closed());
    CHECK(c.closeReason.contains(QStringLiteral("join a room first")));
  }
  // A malformed join, and a text message that is not a join.
  {
    Client c(room.relay.url);
    REQUIRE(c.connected());
    c.text("join not-a-room-id");
    REQUIRE(c.closed());
    INFO(c.closeReason.toStdString());
    CHECK(c.closeReason.contains(QStringLiteral("relay join: room id")));
  }
  {
    Client c(room.relay.url);
    REQUIRE(c.connected());
    c.text("hello relay");
    REQUIRE(c.closed());
    INFO(c.closeReason.toStdString());
    CHECK(!c.closeReason.isEmpty());
  }
  // A random room: truncated frames (the relay never looks inside, so they are only stored),
  // then an oversized one.
  {
    Client c(room.relay.url);
    REQUIRE(c.connected());
    c.text("join " + randomRoom);
    REQUIRE(c.received("T:joined 0"));
    c.binary(std::string(1, '\x01'));
    c.binary(std::string("\x01\x02\x03", 3));
    c.binary(std::string(40, '\x01'));
    c.text("mark");
    REQUIRE(c.received("T:mark 3"));
    CHECK(!c.disconnected);
    // A snapshot beyond the last seq (its blob follows) is refused; the connection stays.
    c.text("snapshot 99");
    c.binary(std::string(1, '\x01'));
    {
      std::string got;
      const bool refused = c.receivedPrefix("T:snapshot-refused 99");
      for (const auto& m : c.got) got += m.substr(0, 60) + "\n";
      INFO("received:\n" << got);
      CHECK(refused);
    }
    c.text("mark");
    REQUIRE(spinUntil([&] { return std::count(c.got.begin(), c.got.end(), "T:mark 3") == 2; }));
    CHECK(!c.disconnected);
    c.binary(std::string(5000, 'x'));
    REQUIRE(c.closed());
    CHECK(c.closeCode == 1009);  // refused by size as it arrives, unread
  }
  // A second join on one connection, and a flood.
  {
    Client c(room.relay.url);
    REQUIRE(c.connected());
    c.text("join " + randomRoom);
    REQUIRE(c.receivedPrefix("T:joined "));
    c.text("join " + randomRoom);
    REQUIRE(c.closed());
    INFO(c.closeReason.toStdString());
    CHECK(c.closeReason.contains(QStringLiteral("already joined a room")));
  }
  {
    Client c(room.relay.url);
    REQUIRE(c.connected());
    c.text("join " + randomRoom);
    REQUIRE(c.receivedPrefix("T:joined "));
    for (int i = 0; i < 500 && !c.disconnected; ++i) c.binary(std::string(64, static_cast<char>(i)));
    REQUIRE(c.closed(10000));
    INFO(c.closeReason.toStdString());
    CHECK(c.closeReason.contains(QStringLiteral("too many messages per second")));
  }
  const Ran typed = finish(*typing);
  {
    INFO("relay log:\n" << readFile(room.relay.log));
    checkTyped(typed, "A (during the attacks)", true);
  }
  REQUIRE(room.relay.alive());
  // Someone who learned the good room's id (not its key) stores junk frames in it, after
  // A's frames (a fresh room is the next test).
  {
    auto parsed = quire::net::parseShareLink(room.link);
    REQUIRE(parsed.has_value());
    const quire::net::RoomId r = quire::net::roomIdOf(parsed->key);
    Client c(room.relay.url);
    REQUIRE(c.connected());
    c.text("join " + hex(r.bytes.data(), r.bytes.size()));
    REQUIRE(c.receivedPrefix("T:joined "));
    c.binary(std::string(1, '\x01'));
    c.binary(std::string(60, '\x01'));
    c.binary(std::string(3, '\x81'));  // "transient"
    c.text("mark");
    REQUIRE(c.receivedPrefix("T:mark "));
    c.socket->close();
    c.closed();
  }

  checkTyped(cli(typeArgs(room.db("b"), room.id, kTextB, 0)), "B (after the attacks)", true);
  openOnce(room.db("a"), room.link);
  openOnce(room.db("b"), room.link);
  openOnce(room.db("g"), room.link);  // a late joiner replays the junk too
  const std::string text = catText(room.db("a"), room.id);
  CHECK(text == catText(room.db("b"), room.id));
  CHECK(text == catText(room.db("g"), room.id));
  checkConverged(text, {kTextA, kTextB});
  CHECK(room.relay.alive());
  const std::string log = readFile(room.relay.log);
  INFO(log);
  CHECK(log.find("refused #") != std::string::npos);
}

TEST_CASE("junk frames stored in a fresh room by someone without the key do not lock its members out",
          "[net][process][relay-peers]") {
  REQUIRE_BINARIES();
  REQUIRE(quire::net::initCrypto().has_value());
  quire::test::ensureCoreApp();
  Room room;
  openOnce(room.db("b"), room.link);  // nothing stored yet: the document is empty

  // The room id is not secret from the relay operator or from anyone who saw a ws:// "join"
  // line; the key is. Before any member stored a frame, junk goes in.
  {
    auto parsed = quire::net::parseShareLink(room.link);
    REQUIRE(parsed.has_value());
    const quire::net::RoomId r = quire::net::roomIdOf(parsed->key);
    Client c(room.relay.url);
    REQUIRE(c.connected());
    c.text("join " + hex(r.bytes.data(), r.bytes.size()));
    REQUIRE(c.received("T:joined 0"));
    c.binary(std::string(1, '\x01'));
    c.binary(std::string(60, '\x01'));
    c.text("mark");
    REQUIRE(c.received("T:mark 2"));
    c.socket->close();
    c.closed();
  }

  // The members still write and read the document.
  const Ran typed = cli(typeArgs(room.db("a"), room.id, kTextA, 0, {"--wait-ms", "3000"}));
  checkTyped(typed, "A (after the junk)", true);
  const Ran opened = cli({"open", "--once", "--timeout-ms", "10000", "--db", room.db("b"), room.link});
  INFO("B open --once -> " << opened.code << "\nstdout: " << opened.out << "\nstderr: " << opened.err);
  CHECK(opened.code == 0);
  CHECK(catText(room.db("b"), room.id) == kTextA);
  CHECK(room.relay.alive());
}
