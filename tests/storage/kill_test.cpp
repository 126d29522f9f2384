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

#include <unistd.h>

#include "engine/utf8.h"
#include "storage/document_store.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace {

using quire::test::ChildOptions;
using quire::test::ChildProcess;
using quire::test::TempDir;

using quire::storage::DocumentId;
using quire::storage::DocumentStore;
using Clock = std::chrono::steady_clock;

// What a `quire-cli type` child printed: the highest N of a complete "typed N" line, and
// anything else (should stay empty).
struct Typed {
  std::size_t typed = 0;
  std::string unexpected;

  void take(const std::string& line) {
    if (line.rfind("typed ", 0) == 0) {
      typed = std::stoul(line.substr(6));
    } else {
      unexpected += line + "\n";
    }
  }
};

// Reads the child's lines until `deadline`, end of output, or (if `lines` > 0) until the count
// reported reaches `lines`.
void readUntil(ChildProcess& child, Typed& seen, Clock::time_point deadline, std::size_t lines) {
  while (lines == 0 || seen.typed < lines) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() < 0) return;
    const auto line = child.readLine(left);
    if (!line) return;
    seen.take(*line);
  }
}

// SIGKILLs the child, then takes the lines it had written before dying. Returns its wait status.
int killAndRead(ChildProcess& child, Typed& seen) {
  const int status = child.killAndReap();
  while (const auto line = child.readLine(std::chrono::milliseconds(0))) seen.take(*line);
  return status;
}

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
    ChildOptions options;
    options.stderrTo = ChildOptions::Stderr::Inherit;  // stdout is what the test reads
    ChildProcess child(
        cli, {"type", id.toHex(), kText, "--delay-ms", std::to_string(delayMs), "--db", db},
        options);
    REQUIRE(child.started());
    Typed seen;
    // Half the kills come at a random time from start (some during start-up and opening), half
    // a random moment after a random keystroke was reported.
    const auto start = Clock::now();
    if (std::uniform_int_distribution<int>(0, 1)(rng) == 0) {
      readUntil(child, seen,
                start + std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 400)(rng)),
                0);
    } else {
      const std::size_t lines = std::uniform_int_distribution<std::size_t>(1, textLength)(rng);
      readUntil(child, seen, start + std::chrono::milliseconds(1500), lines);
      usleep(std::uniform_int_distribution<useconds_t>(0, 3000)(rng));
    }
    const int status = killAndRead(child, seen);
    const std::size_t reported = seen.typed;
    INFO("keystrokes reported " << reported << " of " << textLength << ", delay " << delayMs
                                << " ms, child status " << status);
    CHECK(seen.unexpected.empty());
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
