// The editor's library lock (storage/SCHEMA.md, "The lock file"): the editor does not open a
// library another process holds, and holds it against every other process while it is open.
#include <chrono>
#include <string>

#include <catch2/catch.hpp>

#include "app/quire/ui/workspace.h"
#include "storage/database_lock.h"
#include "tests/app/editor_harness.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace {

using quire::app::Workspace;
using quire::storage::DatabaseLock;
using quire::test::ChildProcess;
using Clock = std::chrono::steady_clock;

// flock(1) from util-linux: a process of its own that takes the lock (`extra` = its options)
// and runs `command`.
ChildProcess flockChild(const std::string& db, const std::vector<std::string>& options,
                        const std::vector<std::string>& command) {
  std::vector<std::string> args = options;
  args.push_back(DatabaseLock::lockPathOf(db));
  args.insert(args.end(), command.begin(), command.end());
  return ChildProcess("/usr/bin/flock", args);
}

int exitOf(ChildProcess& child) {
  auto status = child.waitUntil(Clock::now() + std::chrono::seconds(10));
  REQUIRE(status);
  return ChildProcess::exitCode(*status);
}

}  // namespace

TEST_CASE("the editor does not open a library another process holds, and holds its own",
          "[app][lock]") {
  quire::test::ensureGuiApp();
  quire::test::TempDir dir("quire-library-lock");
  REQUIRE(!dir.path().empty());
  const std::string db = dir.file("library.db");

  {
    // A quire-cli command, say, has it (shared) and runs on (--no-fork: the lock is the process's
    // own, so killing it releases the lock).
    ChildProcess holder = flockChild(db, {"--shared", "--no-fork"}, {"sleep", "30"});
    REQUIRE(holder.started());
    REQUIRE(quire::test::spinUntil([&] {
      ChildProcess probe = flockChild(db, {"--nonblock", "--exclusive"}, {"true"});
      return exitOf(probe) != 0;
    }));
    auto refused = Workspace::open(db);
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message(), Catch::Contains("in use by"));
  }  // the holder is killed

  auto workspace = Workspace::open(db);
  INFO((workspace ? std::string() : workspace.error().toString()));
  REQUIRE(workspace);
  // While it is open, no other process can take the lock, even shared.
  ChildProcess probe = flockChild(db, {"--nonblock", "--shared"}, {"true"});
  CHECK(exitOf(probe) != 0);
  workspace->reset();
  ChildProcess after = flockChild(db, {"--nonblock", "--shared"}, {"true"});
  CHECK(exitOf(after) == 0);
}
