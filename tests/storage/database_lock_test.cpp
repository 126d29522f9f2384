// The lock beside a database (storage/database_lock.h; SCHEMA.md, "The lock file"; issue 13,
// "Nothing can take the database's locks away"): another process's holder keeps it however much
// it opens and closes the database's files, and quire-cli waits for an editor's lock instead of
// opening the database under it. QUIRE_CLI_PATH comes from tests/CMakeLists.txt.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "storage/database_lock.h"
#include "storage/document_store.h"
#include "tests/storage/store_test_util.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace {

using quire::storage::DatabaseLock;
using quire::test::ChildProcess;
using quire::test::TempDir;
using Mode = DatabaseLock::Mode;
using Clock = std::chrono::steady_clock;

// Opens and closes `path` once, as a file dialog peeking at it does (if it exists).
void peek(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) close(fd);
}

// Whether a process of its own (flock(1), from util-linux) can take the lock shared at once. A
// forked child would not do here: it inherits this process's locks.
bool otherProcessCanLock(const std::string& db) {
  ChildProcess flock("/usr/bin/flock", {"--nonblock", "--shared",
                                        DatabaseLock::lockPathOf(db), "true"});
  REQUIRE(flock.started());
  auto status = flock.waitUntil(Clock::now() + std::chrono::seconds(10));
  REQUIRE(status);
  return ChildProcess::exitCode(*status) == 0;
}

bool tryShared(const std::string& db) {
  auto lock = DatabaseLock::tryAcquire(db, Mode::Shared);
  REQUIRE(lock);
  return lock->has_value();
}

// A forked child that takes the lock exclusively, then opens and closes the database's files
// and the lock file itself, then holds the lock until told to go (a byte on its pipe).
class ForkedHolder {
 public:
  explicit ForkedHolder(const std::string& db) {
    int ready[2], go[2];
    REQUIRE(pipe(ready) == 0);
    REQUIRE(pipe(go) == 0);
    m_pid = fork();
    REQUIRE(m_pid >= 0);
    if (m_pid == 0) {
      close(ready[0]);
      close(go[1]);
      auto lock = DatabaseLock::tryAcquire(db, Mode::Exclusive);
      const char ok = lock && *lock ? 'y' : 'n';
      for (const std::string& p : {db, db + "-wal", db + "-shm", DatabaseLock::lockPathOf(db)}) peek(p);
      (void)!write(ready[1], &ok, 1);
      char c;
      (void)!read(go[0], &c, 1);
      _exit(0);
    }
    close(ready[1]);
    close(go[0]);
    m_go = go[1];
    char ok = 0;
    REQUIRE(read(ready[0], &ok, 1) == 1);
    close(ready[0]);
    m_locked = ok == 'y';
  }
  ~ForkedHolder() { release(); }
  bool locked() const { return m_locked; }
  pid_t pid() const { return m_pid; }
  void release() {
    if (m_pid <= 0) return;
    (void)!write(m_go, "x", 1);
    close(m_go);
    int status = 0;
    waitpid(m_pid, &status, 0);
    m_pid = -1;
  }

 private:
  pid_t m_pid = -1;
  int m_go = -1;
  bool m_locked = false;
};

}  // namespace

TEST_CASE("another process's exclusive lock holds however often it opens and closes the files",
          "[storage][lock]") {
  TempDir dir("quire-lock");
  REQUIRE(!dir.path().empty());
  const std::string db = dir.path() + "/library.db";
  (void)quire::test::openStore(db);  // the database and its files exist

  ForkedHolder holder(db);
  REQUIRE(holder.locked());
  // SQLite's fcntl locks would be gone by now in the holder (it closed descriptors of every
  // file); this one is not.
  CHECK_FALSE(tryShared(db));
  const std::string who = DatabaseLock::holder(db);
  CHECK_THAT(who, Catch::Contains("(process " + std::to_string(holder.pid()) + ")"));
  holder.release();
  CHECK(tryShared(db));
}

TEST_CASE("locks on one database are counted within a process", "[storage][lock]") {
  TempDir dir("quire-lock");
  REQUIRE(!dir.path().empty());
  const std::string db = dir.path() + "/library.db";
  {
    auto exclusive = DatabaseLock::tryAcquire(db, Mode::Exclusive);
    REQUIRE(exclusive);
    REQUIRE(*exclusive);
    // The same database by another spelling of its path is the same lock.
    auto shared = DatabaseLock::tryAcquire(dir.path() + "/./library.db", Mode::Shared);
    REQUIRE(shared);
    CHECK(*shared);
    peek(DatabaseLock::lockPathOf(db));
    CHECK_FALSE(otherProcessCanLock(db));
    exclusive->reset();
    CHECK_FALSE(otherProcessCanLock(db));  // the shared one still holds it
  }
  CHECK(otherProcessCanLock(db));
  {
    auto shared = DatabaseLock::tryAcquire(db, Mode::Shared);
    REQUIRE(shared);
    REQUIRE(*shared);
    auto exclusive = DatabaseLock::tryAcquire(db, Mode::Exclusive);
    REQUIRE_FALSE(exclusive);
    CHECK(exclusive.error().code() == quire::Error::Code::InvalidArgument);
  }
  CHECK(otherProcessCanLock(db));  // every lock of this process is released
}

TEST_CASE("acquire waits for the holder and says who it is waiting for", "[storage][lock]") {
  TempDir dir("quire-lock");
  REQUIRE(!dir.path().empty());
  const std::string db = dir.path() + "/library.db";
  ForkedHolder holder(db);
  REQUIRE(holder.locked());
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    holder.release();
  });
  int waits = 0;
  std::string said;
  const auto start = Clock::now();
  auto lock = DatabaseLock::acquire(db, Mode::Shared, [&](const std::string& who) {
    ++waits;
    said = who;
  });
  const auto waited = Clock::now() - start;
  releaser.join();
  REQUIRE(lock);
  CHECK(waits == 1);
  CHECK_THAT(said, Catch::Contains("(process "));
  CHECK(waited >= std::chrono::milliseconds(250));
}

TEST_CASE("quire-cli waits while an editor holds the database, and touches none of its files",
          "[storage][lock]") {
#ifndef QUIRE_CLI_PATH
  FAIL("QUIRE_CLI_PATH is not defined: tests/CMakeLists.txt must pass quire-cli's path");
#else
  TempDir dir("quire-lock");
  REQUIRE(!dir.path().empty());
  const std::string db = dir.path() + "/library.db";
  // This process plays the editor: the exclusive lock, the database open and written to.
  auto editorLock = DatabaseLock::tryAcquire(db, Mode::Exclusive);
  REQUIRE(editorLock);
  REQUIRE(*editorLock);
  auto store = quire::test::openStore(db);
  auto id = store->create("notes");
  REQUIRE(id);
  quire::engine::Document doc(quire::engine::ReplicaId{});
  REQUIRE(doc.insert(0, "editor "));
  REQUIRE(store->append(*id, doc.encodeOpsSince(0)));
  // Something else in the process opens and closes the database's files (as the Import dialog
  // did): SQLite's own locks on them are gone now.
  for (const char* suffix : {"", "-wal", "-shm"}) peek(db + suffix);
  REQUIRE(std::filesystem::exists(db + "-wal"));

  ChildProcess cli(QUIRE_CLI_PATH, {"type", id->toHex(), "cli", "--offline", "--db", db});
  REQUIRE(cli.started());
  CHECK_FALSE(cli.waitUntil(Clock::now() + std::chrono::milliseconds(1500)));
  CHECK_THAT(cli.err(), Catch::Contains("is open in") && Catch::Contains("waiting"));
  // It opened nothing: the WAL the editor writes to is still there, and the editor writes on.
  CHECK(std::filesystem::exists(db + "-wal"));
  const auto before = doc.nextLv();
  REQUIRE(doc.insert(doc.length(), "again "));
  REQUIRE(store->append(*id, doc.encodeOpsSince(before)));

  // The editor closes: quire-cli goes on, and everything is there.
  store.reset();
  editorLock->reset();
  auto status = cli.waitUntil(Clock::now() + std::chrono::seconds(20));
  REQUIRE(status);
  CHECK(ChildProcess::exitCode(*status) == 0);
  auto reopened = quire::test::openStore(db);
  CHECK(reopened->testIntegrityCheck() == "ok");
  auto loaded = reopened->load(*id);
  REQUIRE(loaded);
  CHECK_THAT(loaded->text(), Catch::StartsWith("editor again ") && Catch::Contains("cli"));
#endif
}
