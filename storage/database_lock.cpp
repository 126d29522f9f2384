#include "storage/database_lock.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace quire::storage {

namespace {

// The locks this process holds, by canonical lock path: one descriptor (one flock) each, shared
// by every DatabaseLock of the process on that database.
struct Held {
  int fd = -1;
  DatabaseLock::Mode mode = DatabaseLock::Mode::Shared;
  int count = 0;
};

std::mutex& registryMutex() {
  static std::mutex m;
  return m;
}

std::map<std::string, Held>& registry() {
  static std::map<std::string, Held> held;
  return held;
}

std::string canonicalLockPath(const std::string& dbPath) {
  std::error_code ec;
  const std::filesystem::path canonical = std::filesystem::weakly_canonical(dbPath, ec);
  return DatabaseLock::lockPathOf(ec ? dbPath : canonical.string());
}

Error lockError(const std::string& path, const char* what, int err) {
  return Error::io(path + ": cannot " + what + " the lock file (" + std::strerror(err) + ")");
}

int flockOperation(DatabaseLock::Mode mode) {
  return mode == DatabaseLock::Mode::Exclusive ? LOCK_EX : LOCK_SH;
}

// Writes "PROGRAM (process PID)" into the lock file, for the messages of those who wait.
void writeHolder(int fd) {
  char line[128];
  const int n = std::snprintf(line, sizeof line, "%s (process %ld)\n", program_invocation_short_name,
                              static_cast<long>(getpid()));
  if (n <= 0 || ftruncate(fd, 0) != 0) return;
  (void)!pwrite(fd, line, static_cast<std::size_t>(n), 0);
}

// The lock, taken on a new descriptor of `path` (blocking if `wait`): the descriptor, -1 if
// another process holds it (only without `wait`), or an error.
Result<int> lockFile(const std::string& path, DatabaseLock::Mode mode, bool wait) {
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return fail(lockError(path, "create", errno));
  for (;;) {
    if (flock(fd, flockOperation(mode) | (wait ? 0 : LOCK_NB)) == 0) break;
    const int err = errno;
    if (err == EINTR) continue;
    close(fd);
    if (err == EWOULDBLOCK && !wait) return -1;
    return fail(lockError(path, "take", err));
  }
  if (mode == DatabaseLock::Mode::Exclusive) writeHolder(fd);
  return fd;
}

}  // namespace

Result<std::optional<DatabaseLock>> DatabaseLock::tryAcquire(const std::string& dbPath, Mode mode) {
  const std::string key = canonicalLockPath(dbPath);
  std::lock_guard guard(registryMutex());
  auto it = registry().find(key);
  if (it != registry().end()) {
    if (mode == Mode::Exclusive && it->second.mode == Mode::Shared)
      return fail(Error::invalidArgument(key + ": this process holds the lock shared, not exclusively"));
    ++it->second.count;
    return std::optional<DatabaseLock>(DatabaseLock(key, mode));
  }
  auto fd = lockFile(key, mode, false);
  if (!fd) return fail(fd.error());
  if (*fd < 0) return std::optional<DatabaseLock>();
  registry()[key] = Held{*fd, mode, 1};
  return std::optional<DatabaseLock>(DatabaseLock(key, mode));
}

Result<DatabaseLock> DatabaseLock::acquire(const std::string& dbPath, Mode mode,
                                           const std::function<void(const std::string&)>& waiting) {
  auto now = tryAcquire(dbPath, mode);
  if (!now) return fail(now.error());
  if (*now) return std::move(**now);
  if (waiting) waiting(holder(dbPath));
  const std::string key = canonicalLockPath(dbPath);
  // Waits without the registry's mutex: this process holds nothing on this database (else
  // tryAcquire would have counted it), and a second thread waiting for the same lock would only
  // take a second descriptor of its own.
  auto fd = lockFile(key, mode, true);
  if (!fd) return fail(fd.error());
  std::lock_guard guard(registryMutex());
  auto [it, inserted] = registry().try_emplace(key, Held{*fd, mode, 0});
  if (!inserted) close(*fd);  // another thread of this process got there first
  ++it->second.count;
  return DatabaseLock(key, mode);
}

std::string DatabaseLock::holder(const std::string& dbPath) {
  const std::string path = canonicalLockPath(dbPath);
  std::string text;
  if (FILE* f = std::fopen(path.c_str(), "re")) {
    char line[128] = {};
    if (std::fgets(line, sizeof line, f)) text = line;
    std::fclose(f);
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  // What the file says is another process's writing: shown only if it looks like ours.
  bool plausible = !text.empty() && text.find(" (process ") != std::string::npos &&
                   text.back() == ')' && text.size() < 100;
  for (char c : text) plausible = plausible && c >= 0x20 && c < 0x7F;
  return plausible ? text : "another Quire program";
}

DatabaseLock::DatabaseLock(DatabaseLock&& other) noexcept
    : m_key(std::exchange(other.m_key, std::string())), m_mode(other.m_mode) {}

DatabaseLock& DatabaseLock::operator=(DatabaseLock&& other) noexcept {
  if (this != &other) {
    release();
    m_key = std::exchange(other.m_key, std::string());
    m_mode = other.m_mode;
  }
  return *this;
}

DatabaseLock::~DatabaseLock() { release(); }

void DatabaseLock::release() {
  if (m_key.empty()) return;
  std::lock_guard guard(registryMutex());
  auto it = registry().find(m_key);
  if (it != registry().end() && --it->second.count == 0) {
    close(it->second.fd);  // releases the flock
    registry().erase(it);
  }
  m_key.clear();
}

}  // namespace quire::storage
