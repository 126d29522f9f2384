// The honest processes of the hostile-bytes tests (quire-relay, quire-cli) as the harness keeps
// them: output collected, exit code and peak memory recorded; and the small text helpers the
// checks use. QUIRE_CLI_PATH and QUIRE_RELAY_PATH come from tests/CMakeLists.txt. Test-only.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/crypto.h"
#include "tests/support/child_process.h"

namespace quire::test::hostile {

// The programs under test (empty if the build did not say).
const std::string& cliPath();
const std::string& relayPath();

// Under ASan every allocation is padded and freed memory waits in a quarantine (256 MiB by
// default) before it is reused, so the programs of a sanitized build hold more than the bounds
// the plans state for a plain build: this is the bound to check there.
std::size_t withSanitizerSlack(std::size_t boundMiB);

// One honest process. Its stdout lines are collected as they are read; its stderr (the log) is
// kept by ChildProcess (or appended to a file, for the relay).
struct Proc {
  std::string name;
  std::unique_ptr<ChildProcess> child;
  std::string out;
  bool onB = false;      // works on B's database
  bool sampled = false;  // runs long enough that its memory must have been read
  std::optional<int> code;
  long peakKib = -1;  // ChildProcess::peakRssKib once it ended

  // Reads what it printed so far (and so samples its memory).
  void pump();
  const std::string& err() const { return child->err(); }
  // Waits for it to exit by itself (SIGKILL at `limit`), spinning the test's event loop and
  // calling `others` (which reads the other processes, so their memory is sampled meanwhile).
  void finish(std::chrono::milliseconds limit, const std::function<void()>& others = nullptr);
  // SIGTERM, then finish().
  void stop(const std::function<void()>& others = nullptr);
};

// Starts quire-relay on `listen` with `args` besides --listen and --db, its log appended to
// `log`; retries for a few seconds while the port cannot be bound yet (a restart). Sets `url`
// (ws://127.0.0.1:PORT) and `port`.
std::unique_ptr<Proc> startRelayProcess(const std::string& listen, const std::string& db,
                                        const std::string& log, const std::vector<std::string>& args,
                                        std::string& url, std::string& port);

std::string readFile(const std::string& path);
std::string trimmed(std::string s);
std::size_t countOf(const std::string& haystack, const std::string& needle);
// The lines of `text` that contain `needle`.
std::vector<std::string> linesWith(const std::string& text, const std::string& needle);
std::string hexOf(const net::RoomId& room);
// Every text of `texts` appears in `final` whole and in its own order (the texts are ASCII, in
// disjoint alphabets), and nothing else is there but the characters of `accepted`.
void checkConverged(const std::string& final, const std::vector<std::string>& texts,
                    const std::string& accepted);

}  // namespace quire::test::hostile
