// DocumentStore: the library, the device, schema and file settings, history round trips and
// compaction. The fault, damage and file tests live beside this file.
#include "storage/document_store.h"

#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/document.h"
#include "tests/support/test_util.h"
#include "tests/storage/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using quire::Error;
using quire::engine::Document;
using quire::storage::DocumentId;
using quire::storage::DocumentKey;
using quire::storage::DocumentStore;
using quire::storage::OpenOptions;

namespace {

using quire::test::TempDir;
using quire::test::openStore;
using quire::test::rawInt;

// Types `text` at the end of `doc`, one keystroke (one update) per code point, appending each.
void typeInto(DocumentStore& store, const DocumentId& id, Document& doc, const std::string& text) {
  for (const char32_t c : quire::test::toU32(text)) {
    const auto before = doc.nextLv();
    REQUIRE(quire::test::errorOf(doc.insert(doc.length(), quire::test::toUtf8(c))) == "");
    const auto update = doc.encodeOpsSince(before);
    REQUIRE(quire::test::errorOf(store.append(id, update, &doc)) == "");
  }
}

std::string rawPragmaText(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  std::string v = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

void rawExec(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) ==
          SQLITE_OK);
  REQUIRE(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
}

unsigned modeOf(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("a new database is created with mode 0600, WAL and the current schema version",
          "[storage]") {
  TempDir dir("quire-store");
  const auto path = dir.file("quire.db");
  const mode_t old = ::umask(0);  // even a permissive umask must not widen the file
  auto store = openStore(path);
  ::umask(old);
  CHECK(modeOf(path) == 0600);
  auto id = store->create("a");
  REQUIRE(id);
  CHECK(fs::exists(path + "-wal"));
  CHECK(modeOf(path + "-wal") == 0600);
  CHECK(rawPragmaText(path, "PRAGMA journal_mode") == "wal");
  CHECK(rawInt(path, "PRAGMA user_version") == 1);
  CHECK(rawInt(path, "PRAGMA application_id") == 0x51554952);
  CHECK(rawInt(path, "PRAGMA page_size") == 1024);
  CHECK(rawInt(path, "PRAGMA auto_vacuum") == 2);  // incremental
  CHECK(store->warnings().empty());
  CHECK(store->testIntegrityCheck() == "ok");
}

TEST_CASE("an existing database readable by others is left alone and reported", "[storage]") {
  TempDir dir("quire-store");
  const auto path = dir.file("quire.db");
  { auto store = openStore(path); }
  REQUIRE(::chmod(path.c_str(), 0644) == 0);
  auto store = openStore(path);
  CHECK(modeOf(path) == 0644);
  REQUIRE(store->warnings().size() == 1);
  CHECK_THAT(store->warnings()[0], Catch::Contains("0644") && Catch::Contains(path));
}

TEST_CASE("an empty file (schema version 0) is migrated to the current schema", "[storage]") {
  TempDir dir("quire-store");
  const auto path = dir.file("empty.db");
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    REQUIRE(f);
    std::fclose(f);
  }
  auto store = openStore(path);
  CHECK(rawInt(path, "PRAGMA user_version") == 1);
  auto id = store->create("after migration");
  REQUIRE(id);
  CHECK(store->list()->size() == 1);
}

TEST_CASE("a database from a newer schema or another application is refused", "[storage]") {
  TempDir dir("quire-store");
  SECTION("newer schema version") {
    const auto path = dir.file("newer.db");
    { auto store = openStore(path); }
    rawExec(path, "PRAGMA user_version = 7");
    auto store = DocumentStore::open(path);
    REQUIRE_FALSE(store);
    CHECK(store.error().code() == Error::Code::UnsupportedVersion);
    CHECK_THAT(store.error().message(), Catch::Contains("schema version 7"));
  }
  SECTION("another application's tables") {
    const auto path = dir.file("foreign.db");
    rawExec(path, "CREATE TABLE t(x); INSERT INTO t VALUES (1);");
    auto store = DocumentStore::open(path);
    REQUIRE_FALSE(store);
    CHECK(store.error().code() == Error::Code::Corrupt);
    CHECK_THAT(store.error().message(), Catch::Contains("not a Quire database"));
  }
}

TEST_CASE("the device identity is created once and kept", "[storage]") {
  TempDir dir("quire-store");
  const auto path = dir.file("quire.db");
  quire::engine::ReplicaId first;
  {
    auto store = openStore(path);
    first = store->device().replica;
    CHECK(first != quire::engine::ReplicaId{});
    REQUIRE(store->setDevice("Ada", 0x336699));
    CHECK_FALSE(store->setDevice("Ada", 0x1000000));
  }
  auto store = openStore(path);
  CHECK(store->device().replica == first);
  CHECK(store->device().displayName == "Ada");
  CHECK(store->device().color == 0x336699u);
  TempDir other("quire-store");
  CHECK(openStore(other.file("quire.db"))->device().replica != first);
}

TEST_CASE("a shared document is adopted with its own id and key, once", "[storage]") {
  TempDir dir("quire-store");
  auto store = openStore(dir.file("quire.db"));
  DocumentId id;
  id.bytes.fill(0x5A);
  DocumentKey key{};
  key.fill(0xC3);
  REQUIRE(store->adopt(id, key, "From a link"));
  auto info = store->info(id);
  REQUIRE(info);
  CHECK(info->title == "From a link");
  auto stored = store->key(id);
  REQUIRE(stored);
  CHECK(*stored == key);
  auto doc = store->load(id);
  REQUIRE(doc);
  CHECK(doc->text().empty());
  // The same id again is refused and changes nothing.
  DocumentKey other{};
  other.fill(0x11);
  CHECK_FALSE(store->adopt(id, other, "Again"));
  CHECK(*store->key(id) == key);
  CHECK(store->list()->size() == 1);
}

TEST_CASE("documents can be created, listed, renamed, resolved and removed", "[storage]") {
  TempDir dir("quire-store");
  std::int64_t clock = 1000;
  OpenOptions options;
  options.nowMs = [&clock] { return clock; };
  auto store = openStore(dir.file("quire.db"), options);

  auto a = store->create("Alpha");
  clock = 2000;
  auto b = store->create("Beta");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(*a != *b);

  auto docs = store->list();
  REQUIRE(docs);
  REQUIRE(docs->size() == 2);
  CHECK((*docs)[0].title == "Beta");  // most recently edited first
  CHECK((*docs)[0].createdMs == 2000);
  CHECK((*docs)[1].title == "Alpha");

  REQUIRE(store->rename(*a, "Gamma"));
  CHECK(store->info(*a)->title == "Gamma");

  CHECK(store->resolve(a->toHex()).value() == *a);
  CHECK(store->resolve("Beta").value() == *b);
  if (a->toHex().substr(0, 6) != b->toHex().substr(0, 6)) {
    CHECK(store->resolve(a->toHex().substr(0, 6)).value() == *a);
  }
  CHECK_FALSE(store->resolve("ab"));
  CHECK_FALSE(store->resolve("Nothing"));

  auto ka = store->key(*a);
  auto kb = store->key(*b);
  REQUIRE(ka);
  REQUIRE(kb);
  CHECK(*ka != *kb);

  REQUIRE(store->setRoutes(*a, {"ws://10.0.0.2:7070", "wss://relay.example/r"}));
  CHECK(store->routes(*a).value() ==
        std::vector<std::string>{"ws://10.0.0.2:7070", "wss://relay.example/r"});
  REQUIRE(store->setRoutes(*a, {"ws://x"}));
  CHECK(store->routes(*a).value() == std::vector<std::string>{"ws://x"});

  Document doc(store->device().replica);
  typeInto(*store, *a, doc, "hi");
  REQUIRE(store->remove(*a));
  auto gone = store->info(*a);
  REQUIRE_FALSE(gone);
  CHECK_THAT(gone.error().message(),
             Catch::Contains("no such document") && Catch::Contains(a->toHex().substr(0, 8)));
  CHECK_FALSE(store->remove(*a));
  CHECK_FALSE(store->rename(*a, "x"));
  CHECK_FALSE(store->load(*a));
  CHECK(store->list()->size() == 1);
  CHECK(store->testIntegrityCheck() == "ok");
}

TEST_CASE("document ids round-trip through hex and reject anything else", "[storage]") {
  DocumentId id;
  for (std::size_t i = 0; i < id.bytes.size(); ++i) id.bytes[i] = static_cast<std::uint8_t>(i * 17);
  CHECK(id.toHex().size() == 32);
  CHECK(DocumentId::fromHex(id.toHex()) == id);
  CHECK_FALSE(DocumentId::fromHex(id.toHex().substr(1)));
  CHECK_FALSE(DocumentId::fromHex(std::string(32, 'g')));
}

TEST_CASE("load after append round-trips text and version, across reopen", "[storage]") {
  TempDir dir("quire-store");
  const auto path = dir.file("quire.db");
  DocumentId id;
  Document doc(quire::engine::ReplicaId{});
  {
    auto store = openStore(path);
    id = store->create("t").value();
    doc = Document(store->device().replica);
    typeInto(*store, id, doc, "hello, w\xC3\xB6rld");
    REQUIRE(doc.remove(0, 1));
    REQUIRE(store->append(id, doc.encodeUpdateSince({}), &doc));
    auto info = store->info(id);
    REQUIRE(info);
    CHECK(info->tailRows == 13);
    CHECK(info->storedBytes > 0);
  }
  auto store = openStore(path);
  auto loaded = store->load(id);
  REQUIRE(loaded);
  CHECK(loaded->text() == "ello, w\xC3\xB6rld");
  CHECK(loaded->version() == doc.version());
  CHECK(loaded->localReplica() == store->device().replica);
  // Editing continues the same replica's sequence.
  const auto before = loaded->nextLv();
  REQUIRE(loaded->insert(0, "H"));
  REQUIRE(store->append(id, loaded->encodeOpsSince(before), &*loaded));
  CHECK(store->load(id)->text() == "Hello, w\xC3\xB6rld");
}

TEST_CASE("a duplicate append is harmless", "[storage]") {
  TempDir dir("quire-store");
  auto store = openStore(dir.file("quire.db"));
  auto id = store->create("t").value();
  Document doc(store->device().replica);
  REQUIRE(doc.insert(0, "abc"));
  const auto update = doc.encodeUpdateSince({});
  REQUIRE(store->append(id, update));
  REQUIRE(store->append(id, update));
  auto loaded = store->load(id);
  REQUIRE(loaded);
  CHECK(loaded->text() == "abc");
  CHECK(loaded->version() == doc.version());
}

TEST_CASE("remote updates from other replicas are stored and merged on load", "[storage]") {
  TempDir dir("quire-store");
  auto store = openStore(dir.file("quire.db"));
  auto id = store->create("t").value();
  Document mine(store->device().replica);
  Document theirs(quire::test::replicaId(9));
  typeInto(*store, id, mine, "mine ");
  REQUIRE(theirs.insert(0, "theirs"));
  REQUIRE(mine.applyUpdate(theirs.encodeUpdateSince({})));
  REQUIRE(store->append(id, theirs.encodeUpdateSince({}), &mine));
  auto loaded = store->load(id);
  REQUIRE(loaded);
  CHECK(loaded->text() == mine.text());
  CHECK(loaded->version() == mine.version());
}

TEST_CASE("appending an empty update or to a missing document fails with a message", "[storage]") {
  TempDir dir("quire-store");
  auto store = openStore(dir.file("quire.db"));
  auto id = store->create("t").value();
  auto empty = store->append(id, {});
  REQUIRE_FALSE(empty);
  CHECK_THAT(empty.error().message(),
             Catch::Contains("append to document " + id.toHex().substr(0, 8)));
  DocumentId missing;
  const std::uint8_t byte = 1;
  auto r = store->append(missing, std::span<const std::uint8_t>(&byte, 1));
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message(), Catch::Contains("no such document"));
}

TEST_CASE("auto-compaction triggers on row count and keeps every update", "[storage]") {
  TempDir dir("quire-store");
  const auto path = dir.file("quire.db");
  OpenOptions options;
  options.compactRows = 10;
  auto store = openStore(path, options);
  auto id = store->create("t").value();
  Document doc(store->device().replica);
  SECTION("with the caller's document") { typeInto(*store, id, doc, "the quick brown fox jumps"); }
  SECTION("without one (the store loads it)") {
    for (char c : std::string("the quick brown fox jumps")) {
      const auto before = doc.nextLv();
      REQUIRE(doc.insert(doc.length(), std::string(1, c)));
      REQUIRE(store->append(id, doc.encodeOpsSince(before)));
    }
  }
  auto info = store->info(id);
  REQUIRE(info);
  CHECK(info->tailRows < 10);
  CHECK(info->tailRows == 25 % 10);
  CHECK(store->warnings().empty());
  auto reopened = openStore(path, options);
  auto loaded = reopened->load(id);
  REQUIRE(loaded);
  CHECK(loaded->text() == "the quick brown fox jumps");
  CHECK(loaded->version() == doc.version());
}

TEST_CASE("auto-compaction triggers on tail bytes", "[storage]") {
  TempDir dir("quire-store");
  OpenOptions options;
  options.compactBytes = 4000;
  auto store = openStore(dir.file("quire.db"), options);
  auto id = store->create("t").value();
  Document doc(store->device().replica);
  for (int i = 0; i < 10; ++i) {
    const auto before = doc.nextLv();
    REQUIRE(doc.insert(doc.length(), std::string(1000, static_cast<char>('a' + i))));
    REQUIRE(store->append(id, doc.encodeOpsSince(before), &doc));
  }
  CHECK(store->info(id)->tailRows < 4);
  CHECK(store->load(id)->text() == doc.text());
}

TEST_CASE("compaction keeps an update appended between load and compact", "[storage]") {
  TempDir dir("quire-store");
  auto store = openStore(dir.file("quire.db"));
  auto id = store->create("t").value();
  Document doc(store->device().replica);
  typeInto(*store, id, doc, "base");

  auto snapshotOf = store->load(id);  // what compaction will be given
  REQUIRE(snapshotOf);
  // Meanwhile another copy (a peer, another process) appends.
  Document peer(quire::test::replicaId(7));
  REQUIRE(peer.applyUpdate(doc.encodeUpdateSince({})));
  REQUIRE(peer.insert(4, "+late"));
  REQUIRE(store->append(id, peer.encodeUpdateSince(doc.version())));

  REQUIRE(store->compact(id, *snapshotOf));
  CHECK(store->info(id)->tailRows == 1);
  auto loaded = store->load(id);
  REQUIRE(loaded);
  CHECK(loaded->text() == "base+late");

  REQUIRE(store->compact(id, *loaded));
  CHECK(store->info(id)->tailRows == 0);
  CHECK(store->load(id)->text() == "base+late");
}

TEST_CASE("compaction with a stale document never moves the snapshot backwards", "[storage]") {
  TempDir dir("quire-store");
  auto store = openStore(dir.file("quire.db"));
  auto id = store->create("t").value();
  Document doc(store->device().replica);
  typeInto(*store, id, doc, "ab");
  Document stale = store->load(id).value();
  typeInto(*store, id, doc, "cd");
  REQUIRE(store->compact(id, doc));    // snapshot holds "abcd", tail empty
  REQUIRE(store->compact(id, stale));  // a stale copy must not lose "cd"
  CHECK(store->load(id)->text() == "abcd");
}

TEST_CASE("an update row that does not decode fails load, or is skipped and reported on request",
          "[storage]") {
  TempDir dir("quire-store");
  auto store = openStore(dir.file("quire.db"));
  auto id = store->create("t").value();
  Document doc(store->device().replica);
  typeInto(*store, id, doc, "ok");
  const std::vector<std::uint8_t> garbage = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x01};
  REQUIRE(store->append(id, garbage));
  typeInto(*store, id, doc, "!");

  auto strict = store->load(id);
  REQUIRE_FALSE(strict);
  CHECK(strict.error().code() == Error::Code::Corrupt);
  CHECK_THAT(
      strict.error().message(),
      Catch::Contains("load document " + id.toHex().substr(0, 8)) && Catch::Contains("update row"));

  std::vector<Error> skipped;
  auto salvaged = store->loadSkippingDamaged(id, skipped);
  REQUIRE(salvaged);
  CHECK(salvaged->text() == "ok!");
  REQUIRE(skipped.size() == 1);
  CHECK(skipped[0].code() == Error::Code::Corrupt);

  // Compaction keeps what it cannot read: the row is still there to inspect.
  REQUIRE(store->compact(id, *salvaged));
  CHECK(store->info(id)->tailRows == 1);
  skipped.clear();
  CHECK(store->loadSkippingDamaged(id, skipped)->text() == "ok!");
  CHECK(skipped.size() == 1);
}

TEST_CASE("two connections to one file: a compaction keeps the other's concurrent appends",
          "[storage]") {
  TempDir dir("quire-store");
  const auto path = dir.file("quire.db");
  auto app = openStore(path);  // e.g. the editor
  auto cli = openStore(path);  // e.g. quire-cli type, same device
  auto id = app->create("shared").value();
  Document appDoc(app->device().replica);
  typeInto(*app, id, appDoc, "one ");

  Document cliDoc = cli->load(id).value();
  CHECK(cliDoc.text() == "one ");
  typeInto(*cli, id, cliDoc, "two ");  // the app has not seen these

  REQUIRE(app->compact(id, appDoc));
  CHECK(app->info(id)->tailRows == 4);
  CHECK(app->load(id)->text() == "one two ");

  // The stale side compacts too: nothing either side stored goes missing.
  REQUIRE(cli->compact(id, cliDoc));
  REQUIRE(app->compact(id, appDoc));
  CHECK(cli->load(id)->text() == "one two ");
  CHECK(app->info(id)->tailRows == 0);
  CHECK(app->testIntegrityCheck() == "ok");
}
