// RAII over the sqlite3 C API: a connection, prepared statements and write transactions, with
// SQLite result codes turned into Errors that say what and where. SCHEMA.md, "Durability".
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace quire::storage {

// Maps an SQLite result code to an Error: CORRUPT/NOTADB -> corrupt, everything else -> io.
// `context` says what was being done ("storage: append to document 3fa2…").
Error sqliteError(int rc, std::string_view context, std::string_view detail);

// Owns one sqlite3 handle; closes it on destruction. Not thread-safe.
class Connection {
 public:
  Connection() = default;
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;

  // Opens `path` read-write (never creates it: the caller creates the file with its mode).
  // `vfs` empty means the default VFS.
  [[nodiscard]] static Result<Connection> open(const std::string& path, const std::string& vfs);

  sqlite3* handle() const { return m_db; }
  // Runs one or more statements that return no rows.
  [[nodiscard]] Result<void> exec(const char* sql, std::string_view context);
  // The first column of the first row of `sql` as an integer.
  [[nodiscard]] Result<std::int64_t> queryInt(const char* sql, std::string_view context);
  std::string errmsg() const;
  // Rows changed by the last INSERT/UPDATE/DELETE.
  std::int64_t changes() const;

 private:
  explicit Connection(sqlite3* db) : m_db(db) {}
  sqlite3* m_db = nullptr;
};

// One prepared statement; finalized on destruction. Each use starts with reset(): bindings are
// cleared and the statement rewound, so a statement left half-stepped after an error is harmless.
class Statement {
 public:
  Statement() = default;
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;

  // `persistent` hints SQLite that the statement is kept and reused.
  [[nodiscard]] static Result<Statement> prepare(Connection& db, const char* sql,
                                                 std::string_view context, bool persistent = false);

  Statement& reset();
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, std::span<const std::uint8_t> blob);
  // Steps once: true when a row is ready, false when done.
  [[nodiscard]] Result<bool> step(std::string_view context);
  // Steps to completion (for INSERT/UPDATE/DELETE).
  [[nodiscard]] Result<void> run(std::string_view context);

  std::int64_t columnInt(int col) const;
  std::string columnText(int col) const;
  std::vector<std::uint8_t> columnBlob(int col) const;
  // Valid until the next step() or reset().
  std::span<const std::uint8_t> columnBlobView(int col) const;
  bool columnIsNull(int col) const;

 private:
  sqlite3_stmt* m_stmt = nullptr;
  sqlite3* m_db = nullptr;
};

// Opens the existing database file at `path` with Quire's connection settings (SCHEMA.md, "The
// file"): busy timeout, WAL (fails if SQLite cannot switch), synchronous = FULL, foreign keys,
// trusted_schema off, cell_size_check on; an empty (new) file first gets page_size = 1024 and
// incremental auto-vacuum. Every connection to a Quire database is opened here, so they all
// behave alike. Does not create the file, check its schema or migrate it. A foreign or damaged
// header gives Error::corrupt. `vfs` empty means the default VFS.
[[nodiscard]] Result<Connection> openDatabase(const std::string& path, const std::string& vfs);

// A transaction: BEGIN IMMEDIATE (takes the write lock now, so it cannot fail to upgrade later)
// or, with `write` false, a deferred read transaction giving one consistent view. Rolled back on
// destruction unless commit() succeeded.
class Transaction {
 public:
  [[nodiscard]] static Result<Transaction> begin(Connection& db, std::string_view context,
                                                 bool write = true);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;

  [[nodiscard]] Result<void> commit(std::string_view context);

 private:
  explicit Transaction(Connection* db) : m_db(db) {}
  Connection* m_db = nullptr;  // null once committed or moved from
};

}  // namespace quire::storage
