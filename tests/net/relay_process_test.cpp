// quire-relay as a process on 127.0.0.1 (issue 4, "The relay"): raw QWebSocket clients join a
// room, frames are forwarded and replayed to a late joiner, and the stored frames survive a
// SIGTERM and restart. QUIRE_RELAY_PATH comes from tests/CMakeLists.txt.
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <QCoreApplication>
#include <catch2/catch.hpp>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/ws_test_client.h"

namespace {

using quire::test::ChildOptions;
using quire::test::ChildProcess;
using quire::test::TempDir;
using Client = quire::test::WsTestClient;
using quire::test::spinUntil;

using Clock = std::chrono::steady_clock;

// A quire-relay child: stdout on a pipe (read for the "listening on" line), stderr appended to
// `stderrPath`. SIGKILLed and reaped on destruction if still running.
[[maybe_unused]] ChildProcess startRelay(const std::string& program,
                                         const std::vector<std::string>& args,
                                         const std::string& stderrPath) {
  ChildOptions options;
  options.stderrTo = ChildOptions::Stderr::File;
  options.stderrFile = stderrPath;
  return ChildProcess(program, args, options);
}

// The first stdout line, or empty if none came within `ms`.
std::string firstLine(ChildProcess& relay, int ms) {
  return relay.readLine(std::chrono::milliseconds(ms)).value_or("");
}

// SIGTERM, then the exit code (or -1 if it did not exit normally within `ms`), running the
// event loop meanwhile so the clients see the connection close.
int terminate(ChildProcess& relay, int ms) {
  if (!relay.running()) return -1;
  relay.signal(SIGTERM);
  const auto status =
      relay.waitUntil(ChildProcess::Clock::now() + std::chrono::milliseconds(ms),
                      [] { QCoreApplication::processEvents(QEventLoop::AllEvents, 10); });
  if (!status) return -1;
  return WIFEXITED(*status) ? WEXITSTATUS(*status) : -100 - WTERMSIG(*status);
}

const std::string kRoom = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::vector<std::string> kStored{"sealed-frame-1", "sealed-frame-2"};

}  // namespace

TEST_CASE(
    "quire-relay forwards frames, replays them to a late joiner and keeps them across a restart",
    "[net][relay]") {
#ifndef QUIRE_RELAY_PATH
  FAIL("QUIRE_RELAY_PATH is not defined: tests/CMakeLists.txt must pass quire-relay's path");
#else
  quire::test::ensureCoreApp();
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
    ChildProcess first = startRelay(relay, args, log);
    REQUIRE(first.started());
    const std::string line = firstLine(first, 10000);
    REQUIRE(line.rfind(prefix + "ws://127.0.0.1:", 0) == 0);
    url = line.substr(prefix.size());

    Client a(url);
    Client b(url);
    REQUIRE(a.connected());
    REQUIRE(b.connected());
    a.text("join " + kRoom);
    b.text("join " + kRoom);
    REQUIRE(a.receivedUntil("T:joined 0"));
    REQUIRE(b.receivedUntil("T:joined 0"));
    for (const std::string& f : kStored) a.binary(f);
    REQUIRE(b.receivedUntil(kStored.back()));
    CHECK(b.got ==
          std::vector<std::string>{"T:replay 0 0", "T:joined 0", kStored[0], kStored[1]});
    // Never echoed to the sender.
    CHECK(a.got == std::vector<std::string>{"T:replay 0 0", "T:joined 0"});

    // A client that sends a frame before joining is refused with a reason; others carry on.
    Client rude(url);
    REQUIRE(rude.connected());
    rude.binary(std::string("junk"));
    REQUIRE(rude.closed());
    CHECK(rude.closeReason.contains(QStringLiteral("join a room first")));

    // An oversized frame is refused by the socket as it arrives (1009), unread; the room carries
    // on without it.
    Client big(url);
    REQUIRE(big.connected());
    big.text("join " + kRoom);
    REQUIRE(big.receivedUntil("T:joined 2"));
    big.binary(std::string(2000, 'x'));
    REQUIRE(big.closed());
    CHECK(big.closeCode == 1009);
    a.text("mark");
    REQUIRE(a.receivedUntil("T:mark 2"));
    CHECK(b.got.size() == 4);  // nothing of the oversized frame reached b

    a.socket->close();
    b.socket->close();
    REQUIRE(spinUntil([&] { return a.disconnected && b.disconnected; }));

    Client late(url);
    REQUIRE(late.connected());
    late.text("join " + kRoom);
    REQUIRE(late.receivedUntil("T:joined 2"));
    const std::string replay =
        "T:replay 2 " + std::to_string(kStored[0].size() + kStored[1].size());
    CHECK(late.got == std::vector<std::string>{replay, kStored[0], kStored[1], "T:joined 2"});

    CHECK(terminate(first, 10000) == 0);
    CHECK(spinUntil([&] { return late.disconnected; }));
  }

  ChildProcess second = startRelay(relay, args, log);
  REQUIRE(second.started());
  const std::string line = firstLine(second, 10000);
  REQUIRE(line.rfind(prefix + "ws://127.0.0.1:", 0) == 0);
  Client again(line.substr(prefix.size()));
  REQUIRE(again.connected());
  again.text("join " + kRoom);
  REQUIRE(again.receivedUntil("T:joined 2"));
  CHECK(again.got ==
        std::vector<std::string>{"T:replay 2 " + std::to_string(kStored[0].size() + kStored[1].size()),
                                 kStored[0], kStored[1], "T:joined 2"});
  again.socket->close();
  spinUntil([&] { return again.disconnected; });
  CHECK(terminate(second, 10000) == 0);

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
  CHECK(logText.find("message too large (limit 1024 bytes), closed unread") != std::string::npos);
#endif
}

TEST_CASE("quire-relay names the TLS file it cannot read and does not listen", "[net][relay]") {
#ifdef QUIRE_RELAY_PATH
  TempDir dir("quire-relay");
  REQUIRE(!dir.path().empty());
  const std::string log = dir.path() + "/relay.log";
  ChildProcess relay =
      startRelay(QUIRE_RELAY_PATH, {"--tls-cert", "c.pem", "--tls-key", "k.pem"}, log);
  REQUIRE(relay.started());
  CHECK(firstLine(relay, 5000).empty());  // exits without listening
  std::string text;
  std::FILE* f = std::fopen(log.c_str(), "r");
  REQUIRE(f != nullptr);
  char buf[512];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  std::fclose(f);
  CHECK(text.find("TLS certificate 'c.pem': cannot read") != std::string::npos);
#endif
}

namespace {

// Runs `sql` on the database at `path`; empty on success, else SQLite's message.
std::string execSql(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  std::string error;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) error = "cannot open " + path;
  char* message = nullptr;
  if (error.empty() && sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK)
    error = message ? message : "failed";
  sqlite3_free(message);
  sqlite3_close(db);
  return error;
}

// The first column of the first row `query` gives on the database at `path`, as text (empty if
// none).
std::string queryText(const std::string& path, const char* query) {
  sqlite3* db = nullptr;
  std::string text;
  sqlite3_stmt* s = nullptr;
  if (sqlite3_open(path.c_str(), &db) == SQLITE_OK &&
      sqlite3_prepare_v2(db, query, -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW &&
      sqlite3_column_text(s, 0) != nullptr)
    text = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  sqlite3_close(db);
  return text;
}

// The statement that created relay_items, as sqlite_schema holds it.
std::string relayItemsSchema(const std::string& path) {
  return queryText(path, "SELECT sql FROM sqlite_schema WHERE name = 'relay_items'");
}

// Starts quire-relay on `args`, joins kRoom with a fresh client and returns what it got up to
// "joined N" (empty if the relay did not start).
std::vector<std::string> joinOnce(const std::vector<std::string>& args, const std::string& log,
                                  const std::string& joined) {
  ChildProcess relay = startRelay(QUIRE_RELAY_PATH, args, log);
  const std::string prefix = "listening on ";
  const std::string line = firstLine(relay, 10000);
  if (line.rfind(prefix, 0) != 0) return {};
  Client c(line.substr(prefix.size()));
  if (!c.connected()) return {};
  c.text("join " + kRoom);
  c.receivedUntil(joined);
  std::vector<std::string> got = c.got;
  c.socket->close();
  spinUntil([&] { return c.disconnected; });
  terminate(relay, 10000);
  return got;
}

}  // namespace

TEST_CASE("quire-relay opens a database of the first relays' layout and keeps every frame",
          "[net][relay]") {
#ifdef QUIRE_RELAY_PATH
  quire::test::ensureCoreApp();
  TempDir dir("quire-relay");
  REQUIRE(!dir.path().empty());
  const std::string db = dir.path() + "/relay.db";
  const std::string log = dir.path() + "/relay.log";
  const std::vector<std::string> args{"--listen", "127.0.0.1:0", "--db", db};

  // A relay stores two frames; its table is then rebuilt in the old WITHOUT ROWID layout, rows
  // and all, as a relay from before the change would have left it.
  {
    ChildProcess relay = startRelay(QUIRE_RELAY_PATH, args, log);
    const std::string line = firstLine(relay, 10000);
    REQUIRE(line.rfind("listening on ", 0) == 0);
    Client a(line.substr(13));
    REQUIRE(a.connected());
    a.text("join " + kRoom);
    REQUIRE(a.receivedUntil("T:joined 0"));
    for (const std::string& f : kStored) a.binary(f);
    a.text("mark");
    REQUIRE(a.receivedUntil("T:mark 2"));
    a.socket->close();
    spinUntil([&] { return a.disconnected; });
    REQUIRE(terminate(relay, 10000) == 0);
  }
  REQUIRE(execSql(db,
                  "BEGIN;"
                  "CREATE TABLE old_items(room BLOB NOT NULL, seq INTEGER NOT NULL,"
                  " bytes BLOB NOT NULL, PRIMARY KEY(room, seq)) WITHOUT ROWID;"
                  "INSERT INTO old_items SELECT room, seq, bytes FROM relay_items;"
                  "DROP TABLE relay_items;"
                  "ALTER TABLE old_items RENAME TO relay_items;"
                  "COMMIT;") == "");
  REQUIRE(relayItemsSchema(db).find("WITHOUT ROWID") != std::string::npos);
  // A database the relay created has 16 KiB pages (PROTOCOL.md, "Relay").
  CHECK(queryText(db, "PRAGMA page_size") == "16384");

  const std::string replay =
      "T:replay 2 " + std::to_string(kStored[0].size() + kStored[1].size());
  const std::vector<std::string> expected{replay, kStored[0], kStored[1], "T:joined 2"};
  CHECK(joinOnce(args, log, "T:joined 2") == expected);
  const std::string migrated = relayItemsSchema(db);
  CHECK(migrated.find("relay_items") != std::string::npos);
  CHECK(migrated.find("WITHOUT ROWID") == std::string::npos);
  // And once more: the migrated table opens as it is.
  CHECK(joinOnce(args, log, "T:joined 2") == expected);
#endif
}

TEST_CASE("quire-relay keeps the page size of a database it did not create", "[net][relay]") {
#ifdef QUIRE_RELAY_PATH
  quire::test::ensureCoreApp();
  TempDir dir("quire-relay");
  REQUIRE(!dir.path().empty());
  const std::string db = dir.path() + "/relay.db";
  // A database as relays before 16 KiB pages left it: 4 KiB pages, the current layout, one frame
  // of kRoom (its room key is the room id's 32 bytes).
  const std::string create =
      "PRAGMA page_size=4096;"
      "CREATE TABLE relay_items(room BLOB NOT NULL, seq INTEGER NOT NULL,"
      " bytes BLOB NOT NULL, PRIMARY KEY(room, seq));"
      "INSERT INTO relay_items VALUES(x'" + kRoom + "', 1, CAST('" + kStored[0] + "' AS BLOB));";
  REQUIRE(execSql(db, create.c_str()) == "");
  REQUIRE(queryText(db, "PRAGMA page_size") == "4096");
  const std::vector<std::string> args{"--listen", "127.0.0.1:0", "--db", db};
  const std::vector<std::string> expected{"T:replay 1 " + std::to_string(kStored[0].size()), kStored[0],
                                          "T:joined 1"};
  CHECK(joinOnce(args, dir.path() + "/relay.log", "T:joined 1") == expected);
  CHECK(queryText(db, "PRAGMA page_size") == "4096");
#endif
}
