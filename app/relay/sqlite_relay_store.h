// The relay's own store: rooms' sealed frames and snapshots in one SQLite table, through the
// sqlite3 C API. Implements net::RelayStore; PROTOCOL.md, "Relay" (Storage).
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "net/relay_router.h"

struct sqlite3;
struct sqlite3_stmt;

namespace quire::app {

// Owns one connection to the database file. Every write is its own committed transaction
// (WAL, synchronous=NORMAL: a committed frame survives the relay being killed; a power cut may
// lose the last commits). Not thread-safe.
class SqliteRelayStore final : public net::RelayStore {
 public:
  // Opens or creates the database at `path` and its schema. Fails with Error::io.
  [[nodiscard]] static Result<std::unique_ptr<SqliteRelayStore>> open(const std::string& path);
  ~SqliteRelayStore() override;
  SqliteRelayStore(const SqliteRelayStore&) = delete;
  SqliteRelayStore& operator=(const SqliteRelayStore&) = delete;

  Result<net::RelayRoomState> roomState(const net::RelayRoomKey& room) override;
  Result<std::vector<net::RelayItem>> items(const net::RelayRoomKey& room, std::uint64_t fromSeq,
                                           std::size_t maxBytes) override;
  Result<void> append(const net::RelayRoomKey& room, std::uint64_t seq,
                      std::span<const std::uint8_t> bytes) override;
  Result<void> replace(const net::RelayRoomKey& room, std::uint64_t upTo,
                       std::span<const std::uint8_t> bytes) override;
  Result<void> beginBatch() override;
  Result<void> commitBatch() override;

 private:
  explicit SqliteRelayStore(sqlite3* db) : m_db(db) {}
  Error failure(const char* what) const;
  Result<void> exec(const char* sql);
  Result<void> createOrMigrateSchema();
  Result<sqlite3_stmt*> prepare(sqlite3_stmt*& slot, const char* sql);

  void startCheckpointer(const std::string& path);

  sqlite3* m_db = nullptr;
  std::thread m_checkpointer;
  std::mutex m_checkpointMutex;
  std::condition_variable m_checkpointWake;
  bool m_stopCheckpointer = false;
  sqlite3_stmt* m_state = nullptr;
  sqlite3_stmt* m_items = nullptr;
  sqlite3_stmt* m_insert = nullptr;
  sqlite3_stmt* m_delete = nullptr;
  bool m_inBatch = false;
};

}  // namespace quire::app
