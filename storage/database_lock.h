// A lock on a Quire database that SQLite's own locks cannot lose (storage/SCHEMA.md, "The lock
// file").
//
// SQLite locks a database with POSIX advisory locks (fcntl). Those belong to the process, and
// Linux drops all of them the moment the process closes any descriptor of the file: a file
// dialog that peeked at quire.db was enough. The next process to open the database then took the
// editor for gone, ran recovery and deleted the WAL under it. This lock is flock(2) on PATH.lock,
// beside the database: a flock belongs to the open file description that took it, so nothing
// else in the process can drop it by opening and closing files. The editor holds it exclusively
// while it has the database open; quire-cli holds it shared while a command runs, so quire-cli
// commands share a database with each other and none opens one that a live editor holds.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "engine/result.h"

namespace quire::storage {

class DatabaseLock {
 public:
  enum class Mode { Shared, Exclusive };

  // Takes the lock on `dbPath` unless another process holds it in a conflicting mode (then
  // empty). Within one process, locks on one database are counted, not taken again: an
  // exclusive holder covers a shared request; a shared holder's exclusive request is refused
  // (Error::invalidArgument). Fails with Error::io if PATH.lock cannot be created or locked.
  [[nodiscard]] static Result<std::optional<DatabaseLock>> tryAcquire(const std::string& dbPath, Mode mode);
  // The same, but waits for the other process: `waiting` is called once, with holder(), before
  // the wait.
  [[nodiscard]] static Result<DatabaseLock> acquire(const std::string& dbPath, Mode mode,
                                                    const std::function<void(const std::string&)>& waiting);
  // Who holds the lock, as far as the file says: "PROGRAM (process PID)" written by the last
  // exclusive holder, or "another Quire program" if nothing usable is written there. Only
  // meaningful while the lock is held.
  static std::string holder(const std::string& dbPath);
  static std::string lockPathOf(const std::string& dbPath) { return dbPath + ".lock"; }

  DatabaseLock(DatabaseLock&& other) noexcept;
  DatabaseLock& operator=(DatabaseLock&& other) noexcept;
  DatabaseLock(const DatabaseLock&) = delete;
  DatabaseLock& operator=(const DatabaseLock&) = delete;
  ~DatabaseLock();

  Mode mode() const { return m_mode; }

 private:
  DatabaseLock(std::string key, Mode mode) : m_key(std::move(key)), m_mode(mode) {}
  void release();

  std::string m_key;  // the canonical lock path; empty once moved from
  Mode m_mode;
};

}  // namespace quire::storage
