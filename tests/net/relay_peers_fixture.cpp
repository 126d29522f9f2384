#include "tests/net/relay_peers_fixture.h"

#include <fstream>
#include <signal.h>
#include <sstream>
#include <thread>

namespace quire::test::relay_peers {

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

// ---------------------------------------------------------------------------------------------
// Text as code points.

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

std::string filtered(const std::string& text, const std::set<std::string>& alphabet) {
  std::string out;
  for (const std::string& cp : codePoints(text))
    if (alphabet.contains(cp)) out += cp;
  return out;
}

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

// ---------------------------------------------------------------------------------------------
// Child processes.

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
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

std::unique_ptr<ChildProcess> spawnCli(const std::vector<std::string>& args) {
  auto child = std::make_unique<ChildProcess>(kCli, args);
  REQUIRE(child->started());
  return child;
}

Ran finish(ChildProcess& child, std::chrono::milliseconds limit) {
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

std::vector<std::string> typeArgs(const std::string& db, const std::string& id,
                                  const std::string& text, int delayMs,
                                  std::vector<std::string> extra) {
  std::vector<std::string> args{"type", "--db", db, "--delay-ms", std::to_string(delayMs)};
  args.insert(args.end(), extra.begin(), extra.end());
  args.insert(args.end(), {id, "--", text});
  return args;
}

bool waitTyped(ChildProcess& child, std::size_t n, std::string& seen,
               std::chrono::milliseconds limit) {
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

// ---------------------------------------------------------------------------------------------
// Relay, Room, Follower.

void Relay::start(const std::string& listen, int retryMs) {
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

Room::Room(std::vector<std::string> relayExtra) {
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

Follower::Follower(const std::string& db, const std::string& link) {
  proc = spawnCli({"open", "--timeout-ms", "20000", "--db", db, link});
}

void Follower::pump(std::chrono::milliseconds wait) {
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

bool Follower::waitFor(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() >= deadline || proc->stdoutEnded()) return done();
    pump(50ms);
  }
  return true;
}

std::size_t Follower::count(const std::string& needle) const {
  std::size_t n = 0;
  for (auto at = lines.find(needle); at != std::string::npos; at = lines.find(needle, at + 1))
    ++n;
  return n;
}

int Follower::stop() {
  proc->signal(SIGTERM);
  auto status = proc->waitUntil(Clock::now() + 10s);
  if (!status) status = proc->killAndReap();
  pump(0ms);
  lines += proc->out();
  return ChildProcess::exitCode(*status);
}

}  // namespace quire::test::relay_peers
