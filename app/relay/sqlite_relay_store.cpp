#include "app/relay/sqlite_relay_store.h"

#include <cctype>
#include <chrono>
#include <string>

#include <sqlite3.h>

namespace quire::app {

namespace {

// Resets a cached statement when a call leaves, however it leaves.
class StatementUse {
 public:
  explicit StatementUse(sqlite3_stmt* s) : m_s(s) {}
  ~StatementUse() {
    sqlite3_reset(m_s);
    sqlite3_clear_bindings(m_s);
  }
  StatementUse(const StatementUse&) = delete;
  StatementUse& operator=(const StatementUse&) = delete;

 private:
  sqlite3_stmt* m_s;
};

void bindRoom(sqlite3_stmt* s, const net::RelayRoomKey& room) {
  sqlite3_bind_blob(s, 1, room.data(), static_cast<int>(room.size()), SQLITE_TRANSIENT);
}

}  // namespace

Result<std::unique_ptr<SqliteRelayStore>> SqliteRelayStore::open(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg =
        "relay store: cannot open " + path + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    return fail(Error::io(std::move(msg)));
  }
  std::unique_ptr<SqliteRelayStore> store(new SqliteRelayStore(db));
  sqlite3_busy_timeout(db, 2000);
  // Checkpoints (which fsync) run on a thread of their own, never on the thread that forwards
  // frames: an automatic checkpoint there stalled every room for milliseconds every ~1,000
  // pages, which was the whole keystroke-latency tail (quire-bench sync: p99 2.1 ms with it,
  // 1.0 ms without).
  // 16 KiB pages for a new file (an existing one keeps its size): SQLite writes the WAL a page at
  // a time, a system call or two per page, so committing a 764 KiB frame took 1.6-2.4 ms with
  // 4 KiB pages and 0.9-1.4 ms with 16 KiB, and reading it back for a join 0.7 ms against 0.33;
  // a keystroke's commit costs about 0.01 ms more (writing its two pages).
  for (const char* sql : {"PRAGMA page_size=16384", "PRAGMA journal_mode=WAL",
                          "PRAGMA synchronous=NORMAL", "PRAGMA wal_autocheckpoint=0"}) {
    if (auto ok = store->exec(sql); !ok) return fail(ok.error());
  }
  if (auto ok = store->createOrMigrateSchema(); !ok) return fail(ok.error());
  store->startCheckpointer(path);
  return store;
}

// A rowid table: the (room, seq) key lives in a separate index of small entries, and each row's
// frame in the table's own b-tree, appended at its end. The first relays stored the rows
// WITHOUT ROWID, so the key b-tree held the frames themselves: finding where a keystroke goes
// compared its key with neighbouring rows, and SQLite reads a row's whole record (overflow
// pages of a multi-megabyte frame included) to compare it. Every insert next to a big frame
// read megabytes from the WAL (quire-bench hostile: keystrokes stored in 4-46 ms once a room
// held 2.6 MB frames). Such a table is copied into the new layout once, at open.
Result<void> SqliteRelayStore::createOrMigrateSchema() {
  constexpr const char* kCreate =
      "CREATE TABLE IF NOT EXISTS relay_items("
      " room BLOB NOT NULL, seq INTEGER NOT NULL, bytes BLOB NOT NULL,"
      " PRIMARY KEY(room, seq))";
  sqlite3_stmt* probe = nullptr;
  const int rc = sqlite3_prepare_v2(
      m_db, "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'relay_items'", -1,
      &probe, nullptr);
  if (rc != SQLITE_OK) return fail(failure("read the schema"));
  bool withoutRowid = false;
  if (sqlite3_step(probe) == SQLITE_ROW) {
    const auto* sql = reinterpret_cast<const char*>(sqlite3_column_text(probe, 0));
    std::string upper = sql ? sql : "";
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    withoutRowid = upper.find("WITHOUT ROWID") != std::string::npos;
  }
  sqlite3_finalize(probe);
  if (!withoutRowid) return exec(kCreate);
  if (auto ok = exec("BEGIN IMMEDIATE"); !ok) return ok;
  for (const char* sql : {"ALTER TABLE relay_items RENAME TO relay_items_without_rowid", kCreate,
                          "INSERT INTO relay_items(room, seq, bytes)"
                          " SELECT room, seq, bytes FROM relay_items_without_rowid",
                          "DROP TABLE relay_items_without_rowid", "COMMIT"}) {
    if (auto ok = exec(sql); !ok) {
      (void)exec("ROLLBACK");
      return ok;
    }
  }
  return {};
}

SqliteRelayStore::~SqliteRelayStore() {
  {
    std::lock_guard lock(m_checkpointMutex);
    m_stopCheckpointer = true;
  }
  m_checkpointWake.notify_all();
  if (m_checkpointer.joinable()) m_checkpointer.join();
  for (sqlite3_stmt* s : {m_state, m_items, m_insert, m_delete}) sqlite3_finalize(s);
  sqlite3_close(m_db);  // the last connection to close checkpoints what is left
}

// A second connection, on its own thread, copies the WAL into the database twice a second.
// PASSIVE never waits for (or blocks) the writer; if it cannot open, the WAL simply grows until
// the relay closes, which checkpoints it.
void SqliteRelayStore::startCheckpointer(const std::string& path) {
  m_checkpointer = std::thread([this, path] {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK) {
      sqlite3_close(db);
      return;
    }
    sqlite3_busy_timeout(db, 100);
    std::unique_lock lock(m_checkpointMutex);
    while (!m_stopCheckpointer) {
      m_checkpointWake.wait_for(lock, std::chrono::milliseconds(500));
      if (m_stopCheckpointer) break;
      lock.unlock();
      sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      lock.lock();
    }
    sqlite3_close(db);
  });
}

Error SqliteRelayStore::failure(const char* what) const {
  return Error::io(std::string("relay store: ") + what + ": " + sqlite3_errmsg(m_db));
}

Result<void> SqliteRelayStore::exec(const char* sql) {
  if (sqlite3_exec(m_db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return fail(failure(sql));
  return {};
}

Result<sqlite3_stmt*> SqliteRelayStore::prepare(sqlite3_stmt*& slot, const char* sql) {
  if (slot == nullptr && sqlite3_prepare_v2(m_db, sql, -1, &slot, nullptr) != SQLITE_OK)
    return fail(failure("prepare"));
  return slot;
}

Result<net::RelayRoomState> SqliteRelayStore::roomState(const net::RelayRoomKey& room) {
  auto s = prepare(m_state,
                   "SELECT min(seq), max(seq), count(*), total(length(bytes)) FROM relay_items"
                   " WHERE room = ?1");
  if (!s) return fail(s.error());
  StatementUse use(*s);
  bindRoom(*s, room);
  if (sqlite3_step(*s) != SQLITE_ROW) return fail(failure("room state"));
  net::RelayRoomState state;
  state.count = static_cast<std::uint64_t>(sqlite3_column_int64(*s, 2));
  if (state.count > 0) {
    state.firstSeq = static_cast<std::uint64_t>(sqlite3_column_int64(*s, 0));
    state.lastSeq = static_cast<std::uint64_t>(sqlite3_column_int64(*s, 1));
    state.bytes = static_cast<std::uint64_t>(sqlite3_column_double(*s, 3));
  }
  return state;
}

Result<std::vector<net::RelayItem>> SqliteRelayStore::items(const net::RelayRoomKey& room,
                                                            std::uint64_t fromSeq,
                                                            std::size_t maxBytes) {
  auto s = prepare(m_items,
                   "SELECT seq, bytes FROM relay_items WHERE room = ?1 AND seq >= ?2 ORDER BY seq");
  if (!s) return fail(s.error());
  StatementUse use(*s);
  bindRoom(*s, room);
  sqlite3_bind_int64(*s, 2, static_cast<sqlite3_int64>(fromSeq));
  std::vector<net::RelayItem> out;
  std::size_t bytes = 0;
  int rc = SQLITE_DONE;
  while (bytes < maxBytes && (rc = sqlite3_step(*s)) == SQLITE_ROW) {
    net::RelayItem item;
    item.seq = static_cast<std::uint64_t>(sqlite3_column_int64(*s, 0));
    const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(*s, 1));
    item.bytes.assign(data, data + sqlite3_column_bytes(*s, 1));
    bytes += item.bytes.size();
    out.push_back(std::move(item));
  }
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return fail(failure("read items"));
  return out;
}

Result<void> SqliteRelayStore::append(const net::RelayRoomKey& room, std::uint64_t seq,
                                      std::span<const std::uint8_t> bytes) {
  auto s = prepare(m_insert, "INSERT INTO relay_items(room, seq, bytes) VALUES(?1, ?2, ?3)");
  if (!s) return fail(s.error());
  StatementUse use(*s);
  bindRoom(*s, room);
  sqlite3_bind_int64(*s, 2, static_cast<sqlite3_int64>(seq));
  sqlite3_bind_blob64(*s, 3, bytes.data(), bytes.size(), SQLITE_STATIC);
  if (sqlite3_step(*s) != SQLITE_DONE) return fail(failure("store frame"));
  return {};
}

Result<void> SqliteRelayStore::replace(const net::RelayRoomKey& room, std::uint64_t upTo,
                                       std::span<const std::uint8_t> bytes) {
  auto del = prepare(m_delete, "DELETE FROM relay_items WHERE room = ?1 AND seq <= ?2");
  if (!del) return fail(del.error());
  // A savepoint is a transaction of its own outside a batch and a nested one inside it.
  if (auto ok = exec("SAVEPOINT replace_items"); !ok) return ok;
  auto undo = [this] { (void)exec("ROLLBACK TO replace_items; RELEASE replace_items"); };
  {
    StatementUse use(*del);
    bindRoom(*del, room);
    sqlite3_bind_int64(*del, 2, static_cast<sqlite3_int64>(upTo));
    if (sqlite3_step(*del) != SQLITE_DONE) {
      Error e = failure("delete replaced items");
      undo();
      return fail(std::move(e));
    }
  }
  if (auto ok = append(room, upTo, bytes); !ok) {
    undo();
    return ok;
  }
  return exec("RELEASE replace_items");
}

Result<void> SqliteRelayStore::beginBatch() {
  if (m_inBatch) return {};
  if (auto ok = exec("BEGIN IMMEDIATE"); !ok) return ok;
  m_inBatch = true;
  return {};
}

Result<void> SqliteRelayStore::commitBatch() {
  if (!m_inBatch) return {};
  m_inBatch = false;
  if (auto ok = exec("COMMIT"); !ok) {
    (void)exec("ROLLBACK");
    return ok;
  }
  return {};
}

}  // namespace quire::app
