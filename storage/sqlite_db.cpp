#include "storage/sqlite_db.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include <sqlite3.h>

namespace quire::storage {
namespace {

constexpr int kBusyTimeoutMs = 5000;

}  // namespace

Error sqliteError(int rc, std::string_view context, std::string_view detail) {
  std::string msg(context);
  msg += ": ";
  msg += detail.empty() ? std::string_view(sqlite3_errstr(rc)) : detail;
  const int primary = rc & 0xFF;
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) return Error::corrupt(std::move(msg));
  return Error::io(std::move(msg));
}

// ---- Connection.

Connection::~Connection() {
  if (m_db) sqlite3_close_v2(m_db);
}

Connection::Connection(Connection&& other) noexcept : m_db(std::exchange(other.m_db, nullptr)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    if (m_db) sqlite3_close_v2(m_db);
    m_db = std::exchange(other.m_db, nullptr);
  }
  return *this;
}

Result<Connection> Connection::open(const std::string& path, const std::string& vfs) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, vfs.empty() ? nullptr : vfs.c_str());
  Connection conn(db);  // closes `db` on every path, even when the open failed
  if (rc != SQLITE_OK) {
    std::string detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    return fail(sqliteError(rc, "storage: open " + path, detail));
  }
  sqlite3_extended_result_codes(db, 1);
  return conn;
}

Result<void> Connection::exec(const char* sql, std::string_view context) {
  char* err = nullptr;
  const int rc = sqlite3_exec(m_db, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string detail = err ? err : sqlite3_errmsg(m_db);
    sqlite3_free(err);
    return fail(sqliteError(rc, context, detail));
  }
  return {};
}

Result<std::int64_t> Connection::queryInt(const char* sql, std::string_view context) {
  auto st = Statement::prepare(*this, sql, context);
  if (!st) return fail(st.error());
  auto row = st->step(context);
  if (!row) return fail(row.error());
  if (!*row) return fail(Error::corrupt(std::string(context) + ": no result row"));
  return st->columnInt(0);
}

std::int64_t Connection::changes() const { return sqlite3_changes64(m_db); }

std::string Connection::errmsg() const { return m_db ? sqlite3_errmsg(m_db) : "not open"; }

// ---- Statement.

Statement::~Statement() {
  if (m_stmt) sqlite3_finalize(m_stmt);
}

Statement::Statement(Statement&& other) noexcept
    : m_stmt(std::exchange(other.m_stmt, nullptr)), m_db(other.m_db) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (m_stmt) sqlite3_finalize(m_stmt);
    m_stmt = std::exchange(other.m_stmt, nullptr);
    m_db = other.m_db;
  }
  return *this;
}

Result<Statement> Statement::prepare(Connection& db, const char* sql, std::string_view context,
                                     bool persistent) {
  Statement st;
  st.m_db = db.handle();
  const int rc = sqlite3_prepare_v3(
      db.handle(), sql, -1, persistent ? SQLITE_PREPARE_PERSISTENT : 0, &st.m_stmt, nullptr);
  if (rc != SQLITE_OK) return fail(sqliteError(rc, context, sqlite3_errmsg(db.handle())));
  return st;
}

Statement& Statement::reset() {
  sqlite3_reset(m_stmt);
  sqlite3_clear_bindings(m_stmt);
  return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
  sqlite3_bind_int64(m_stmt, index, value);
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  sqlite3_bind_text64(m_stmt, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}

Statement& Statement::bind(int index, std::span<const std::uint8_t> blob) {
  // A zero-length blob must still be a blob, not NULL.
  static const std::uint8_t kEmpty = 0;
  sqlite3_bind_blob64(m_stmt, index, blob.empty() ? &kEmpty : blob.data(), blob.size(),
                      SQLITE_TRANSIENT);
  return *this;
}

Result<bool> Statement::step(std::string_view context) {
  const int rc = sqlite3_step(m_stmt);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  std::string detail = sqlite3_errmsg(m_db);
  sqlite3_reset(m_stmt);
  return fail(sqliteError(rc, context, detail));
}

Result<void> Statement::run(std::string_view context) {
  for (;;) {
    auto row = step(context);
    if (!row) return fail(row.error());
    if (!*row) return {};
  }
}

std::int64_t Statement::columnInt(int col) const { return sqlite3_column_int64(m_stmt, col); }

std::string Statement::columnText(int col) const {
  const auto* p = sqlite3_column_text(m_stmt, col);
  const int n = sqlite3_column_bytes(m_stmt, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
           : std::string();
}

std::vector<std::uint8_t> Statement::columnBlob(int col) const {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(m_stmt, col));
  const int n = sqlite3_column_bytes(m_stmt, col);
  return p ? std::vector<std::uint8_t>(p, p + n) : std::vector<std::uint8_t>();
}

std::span<const std::uint8_t> Statement::columnBlobView(int col) const {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(m_stmt, col));
  const int n = sqlite3_column_bytes(m_stmt, col);
  return p ? std::span<const std::uint8_t>(p, static_cast<std::size_t>(n))
           : std::span<const std::uint8_t>();
}

bool Statement::columnIsNull(int col) const {
  return sqlite3_column_type(m_stmt, col) == SQLITE_NULL;
}

// ---- Quire's connection settings.

Result<Connection> openDatabase(const std::string& path, const std::string& vfs) {
  const std::string context = "storage: open " + path;
  auto conn = Connection::open(path, vfs);
  if (!conn) return fail(conn.error());
  Connection& db = *conn;
  sqlite3_busy_timeout(db.handle(), kBusyTimeoutMs);

  std::error_code sizeError;
  if (std::filesystem::file_size(path, sizeError) == 0 && !sizeError) {
    // A new database: small pages keep a compacted document's file close to its history's size
    // (fewer half-empty pages), and incremental auto-vacuum lets compaction hand back the pages
    // of the tail it deleted. Both must be set before the first write (the WAL switch below).
    if (auto r = db.exec("PRAGMA page_size = 1024; PRAGMA auto_vacuum = INCREMENTAL;", context);
        !r) {
      return fail(r.error());
    }
  }
  {
    // The first statement that reads the file: a foreign or damaged header shows up here.
    auto st = Statement::prepare(db, "PRAGMA journal_mode = WAL", context);
    if (!st) return fail(st.error());
    auto row = st->step(context);
    if (!row) return fail(row.error());
    const std::string mode = *row ? st->columnText(0) : std::string();
    if (mode != "wal") {
      return fail(
          Error::io(context + ": could not switch to WAL mode (journal_mode is '" + mode + "')"));
    }
  }
  if (auto r = db.exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; "
                       "PRAGMA trusted_schema = OFF; PRAGMA cell_size_check = ON;",
                       context);
      !r) {
    return fail(r.error());
  }
  return conn;
}

// ---- Transaction.

Result<Transaction> Transaction::begin(Connection& db, std::string_view context, bool write) {
  auto r = db.exec(write ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED", context);
  if (!r) return fail(r.error());
  return Transaction(&db);
}

Transaction::~Transaction() {
  // A failed COMMIT may already have rolled back by itself; only roll back what is still open.
  if (m_db && !sqlite3_get_autocommit(m_db->handle())) {
    sqlite3_exec(m_db->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

Transaction::Transaction(Transaction&& other) noexcept : m_db(std::exchange(other.m_db, nullptr)) {}

Result<void> Transaction::commit(std::string_view context) {
  auto r = m_db->exec("COMMIT", context);
  if (!r) return r;  // the destructor rolls back what is left
  m_db = nullptr;
  return {};
}

}  // namespace quire::storage
