// Helpers the storage suites share: opening a store or an append queue (a failure fails the
// test with SQLite's reason), options that leave compaction to the test, and a guard that clears
// an injected fault however a section ends. Test-only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include "storage/append_queue.h"
#include "storage/document_store.h"
#include "storage/fault_vfs.h"

namespace quire::test {

inline std::unique_ptr<storage::DocumentStore> openStore(const std::string& path,
                                                         storage::OpenOptions options = {}) {
  auto store = storage::DocumentStore::open(path, std::move(options));
  INFO((store ? std::string() : store.error().toString()));
  REQUIRE(store);
  return std::move(*store);
}

inline std::unique_ptr<storage::AppendQueue> openQueue(const std::string& path,
                                                       storage::OpenOptions options = {}) {
  auto queue = storage::AppendQueue::open(path, std::move(options));
  INFO((queue ? std::string() : queue.error().toString()));
  REQUIRE(queue);
  return std::move(*queue);
}

// `o` with compaction left to the test (it compacts only when a test asks).
inline storage::OpenOptions manualCompaction(storage::OpenOptions o = {}) {
  o.compactRows = 1u << 30;
  o.compactBytes = 1u << 30;
  return o;
}

// One integer read through a separate, read-only raw connection: "SELECT count(*) FROM
// updates", "PRAGMA page_size", ...
inline std::int64_t rawInt(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  const auto v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

// Clears the fault VFS's injected failure however a test section ends.
struct FaultGuard {
  ~FaultGuard() { storage::testing::FaultVfs::clear(); }
};

}  // namespace quire::test
