// Failed writes, SQLite-style: the fault VFS fails the Nth write or sync for N = 1, 2, ... until
// the operation completes. After each failure the call returned an Error, a fresh connection
// finds everything committed before and a sound database, and the same store works again once
// the fault clears.
#include "storage/fault_vfs.h"

#include <filesystem>
#include <string>

#include <catch2/catch.hpp>
#include <unistd.h>

#include "engine/document.h"
#include "storage/document_store.h"
#include "tests/support/test_util.h"
#include "tests/storage/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using quire::Error;
using quire::engine::Document;
using quire::storage::DocumentId;
using quire::storage::DocumentStore;
using quire::storage::OpenOptions;
using quire::storage::testing::FaultVfs;

namespace {

using quire::test::FaultGuard;
using quire::test::TempDir;
using quire::test::openStore;

struct Mode {
  const char* name;
  FaultVfs::Failure failure;
  bool sticky;
};

const Mode kModes[] = {
    {"I/O error, sticky", FaultVfs::Failure::IoErr, true},
    {"I/O error, once", FaultVfs::Failure::IoErr, false},
    {"disk full, sticky", FaultVfs::Failure::DiskFull, true},
};

OpenOptions faultyOptions() {
  OpenOptions o;
  o.vfs = FaultVfs::install();
  return quire::test::manualCompaction(o);
}

// A second connection through the plain VFS: the text it loads and its integrity check.
void checkReopened(const std::string& path, const DocumentId& id, const std::string& committed,
                   const std::string& withPending) {
  auto fresh = openStore(path, {});
  CHECK(fresh->testIntegrityCheck() == "ok");
  auto loaded = fresh->load(id);
  INFO((loaded ? std::string() : loaded.error().toString()));
  REQUIRE(loaded);
  // A failed sync after SQLite wrote a commit record may still commit; either way nothing that
  // was committed before is missing.
  const std::string text = loaded->text();
  CHECK((text == committed || text == withPending));
}

}  // namespace

TEST_CASE("a failed write during append returns an error and loses nothing committed",
          "[storage][fault]") {
  FaultGuard guard;
  const Mode mode = GENERATE(from_range(std::begin(kModes), std::end(kModes)));
  INFO(mode.name);
  TempDir dir("quire-fault");
  const auto path = dir.file("quire.db");
  auto store = openStore(path, faultyOptions());
  const auto id = store->create("t").value();
  Document doc(store->device().replica);
  std::string committed;
  int failures = 0;
  for (std::uint64_t n = 1;; ++n) {
    INFO("failing counted write/sync " << n);
    REQUIRE(n < 200);
    const auto before = doc.nextLv();
    REQUIRE(doc.insert(doc.length(), std::string(1, static_cast<char>('a' + n % 26))));
    const auto update = doc.encodeOpsSince(before);

    FaultVfs::failNth(n, mode.failure, mode.sticky);
    auto r = store->append(id, update, &doc);
    FaultVfs::clear();
    if (r) {
      CHECK_FALSE(FaultVfs::fired());
      committed = doc.text();
      break;
    }
    ++failures;
    CHECK_THAT(r.error().message(),
               Catch::Contains("append to document " + id.toHex().substr(0, 8)));
    if (mode.failure == FaultVfs::Failure::DiskFull) {
      CHECK_THAT(r.error().message(), Catch::Contains("full"));
    }
    checkReopened(path, id, committed, doc.text());

    // The edit is still in memory; once the fault clears, the retry stores it.
    auto retry = store->append(id, update, &doc);
    INFO((retry ? std::string() : retry.error().toString()));
    REQUIRE(retry);
    committed = doc.text();
  }
  CHECK(failures >= 2);
  CHECK(store->load(id)->text() == committed);
  CHECK(store->testIntegrityCheck() == "ok");
}

TEST_CASE("a failed write during compaction returns an error and loses nothing",
          "[storage][fault]") {
  FaultGuard guard;
  const Mode mode = GENERATE(from_range(std::begin(kModes), std::end(kModes)));
  INFO(mode.name);
  TempDir dir("quire-fault");
  const auto path = dir.file("quire.db");
  auto store = openStore(path, faultyOptions());
  const auto id = store->create("t").value();
  Document doc(store->device().replica);
  int failures = 0;
  for (std::uint64_t n = 1;; ++n) {
    INFO("failing counted write/sync " << n);
    REQUIRE(n < 400);
    // A few more keystrokes in the tail each round, so every compaction has work to do.
    for (int k = 0; k < 5; ++k) {
      const auto before = doc.nextLv();
      REQUIRE(doc.insert(doc.length(), std::string(1, static_cast<char>('a' + (n + k) % 26))));
      REQUIRE(store->append(id, doc.encodeOpsSince(before), &doc));
    }
    FaultVfs::failNth(n, mode.failure, mode.sticky);
    auto r = store->compact(id, doc);
    FaultVfs::clear();
    if (r) {
      CHECK_FALSE(FaultVfs::fired());
      break;
    }
    ++failures;
    CHECK_THAT(r.error().message(), Catch::Contains("compact document " + id.toHex().substr(0, 8)));
    checkReopened(path, id, doc.text(), doc.text());
    REQUIRE(store->compact(id, doc));
    CHECK(store->info(id)->tailRows == 0);
  }
  CHECK(failures >= 2);
  CHECK(store->info(id)->tailRows == 0);
  CHECK(store->load(id)->text() == doc.text());
}

TEST_CASE("a failed write during create returns an error and leaves the library sound",
          "[storage][fault]") {
  FaultGuard guard;
  const Mode mode = GENERATE(from_range(std::begin(kModes), std::end(kModes)));
  INFO(mode.name);
  TempDir dir("quire-fault");
  const auto path = dir.file("quire.db");
  auto store = openStore(path, faultyOptions());
  std::size_t expected = 0;
  int failures = 0;
  for (std::uint64_t n = 1;; ++n) {
    INFO("failing counted write/sync " << n);
    REQUIRE(n < 200);
    FaultVfs::failNth(n, mode.failure, mode.sticky);
    auto r = store->create("doc " + std::to_string(n));
    FaultVfs::clear();
    if (r) {
      ++expected;
      break;
    }
    ++failures;
    CHECK_THAT(r.error().message(), Catch::Contains("create document"));
    {
      auto fresh = openStore(path, {});
      CHECK(fresh->testIntegrityCheck() == "ok");
      auto docs = fresh->list();
      REQUIRE(docs);
      CHECK((docs->size() == expected || docs->size() == expected + 1));
      expected = docs->size();
    }
    REQUIRE(store->create("retry " + std::to_string(n)));
    ++expected;
  }
  CHECK(failures >= 1);
  CHECK(store->list()->size() == expected);
}

TEST_CASE("a failed write while creating a database leaves a file that opens later",
          "[storage][fault]") {
  FaultGuard guard;
  const Mode mode = GENERATE(from_range(std::begin(kModes), std::end(kModes)));
  INFO(mode.name);
  TempDir dir("quire-fault");
  int failures = 0;
  for (std::uint64_t n = 1;; ++n) {
    INFO("failing counted write/sync " << n);
    REQUIRE(n < 200);
    const auto path = dir.file("db" + std::to_string(n));
    FaultVfs::failNth(n, mode.failure, mode.sticky);
    auto r = DocumentStore::open(path, faultyOptions());
    FaultVfs::clear();
    if (r) break;
    ++failures;
    CHECK_THAT(r.error().message(), Catch::Contains(path));
    auto again = openStore(path, {});
    CHECK(again->testIntegrityCheck() == "ok");
    CHECK(again->create("x"));
  }
  CHECK(failures >= 1);
}

TEST_CASE("edits typed while the disk is full stay in memory and are stored once space returns",
          "[storage][fault]") {
  FaultGuard guard;
  TempDir dir("quire-fault");
  const auto path = dir.file("quire.db");
  auto store = openStore(path, faultyOptions());
  const auto id = store->create("t").value();
  Document doc(store->device().replica);
  REQUIRE(doc.insert(0, "saved "));
  REQUIRE(store->append(id, doc.encodeUpdateSince({}), &doc));
  const auto storedVersion = doc.version();

  FaultVfs::failNth(1, FaultVfs::Failure::DiskFull, true);
  for (char c : std::string("typed while full")) {
    const auto before = doc.nextLv();
    REQUIRE(doc.insert(doc.length(), std::string(1, c)));
    auto r = store->append(id, doc.encodeOpsSince(before), &doc);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message(), Catch::Contains("full"));
  }
  FaultVfs::clear();
  CHECK(store->load(id)->text() == "saved ");

  // Space is back: one append of everything the store lacks.
  REQUIRE(store->append(id, doc.encodeUpdateSince(storedVersion), &doc));
  auto fresh = openStore(path, {});
  CHECK(fresh->load(id)->text() == "saved typed while full");
  CHECK(fresh->testIntegrityCheck() == "ok");
}

TEST_CASE("the fault VFS passes everything through when no fault is set", "[storage][fault]") {
  FaultGuard guard;
  TempDir dir("quire-fault");
  FaultVfs::resetCount();
  auto store = openStore(dir.file("quire.db"), faultyOptions());
  const auto id = store->create("t").value();
  CHECK(FaultVfs::count() > 0);  // it really is in the write path
  Document doc(store->device().replica);
  REQUIRE(doc.insert(0, "through the shim"));
  REQUIRE(store->append(id, doc.encodeUpdateSince({}), &doc));
  REQUIRE(store->compact(id, doc));
  CHECK(store->load(id)->text() == "through the shim");
  CHECK(store->testIntegrityCheck() == "ok");
}
