#include "storage/fault_vfs.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <sqlite3.h>

namespace quire::storage::testing {
namespace {

struct State {
  std::atomic<std::uint64_t> counted{0};
  std::atomic<std::uint64_t> failAt{0};  // 0: never
  std::atomic<bool> sticky{false};
  std::atomic<bool> fired{false};
  std::atomic<int> rc{SQLITE_IOERR_WRITE};
  std::atomic<std::uint8_t> ops{3};
  std::atomic<std::uint32_t> syncDelayUs{0};
};
State g_state;

sqlite3_vfs g_vfs;
sqlite3_vfs* g_real = nullptr;
sqlite3_io_methods g_methods;

// Our file: the real file's storage follows this header in the same allocation.
struct FaultFile {
  sqlite3_file base;
  sqlite3_file* real;
};

sqlite3_file* realOf(sqlite3_file* f) { return reinterpret_cast<FaultFile*>(f)->real; }

// Returns the error to inject for this operation, or SQLITE_OK.
int tick(FaultVfs::Ops op, int ioErrCode) {
  if (!(g_state.ops.load() & static_cast<std::uint8_t>(op))) return SQLITE_OK;
  const std::uint64_t n = ++g_state.counted;
  const std::uint64_t at = g_state.failAt.load();
  if (at == 0) return SQLITE_OK;
  if (n == at || (g_state.sticky.load() && n > at)) {
    g_state.fired = true;
    return g_state.rc.load() == SQLITE_FULL ? SQLITE_FULL : ioErrCode;
  }
  return SQLITE_OK;
}

int xClose(sqlite3_file* f) {
  sqlite3_file* r = realOf(f);
  const int rc = r->pMethods ? r->pMethods->xClose(r) : SQLITE_OK;
  f->pMethods = nullptr;
  return rc;
}
int xRead(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  return realOf(f)->pMethods->xRead(realOf(f), buf, n, off);
}
int xWrite(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  if (int rc = tick(FaultVfs::Ops::Writes, SQLITE_IOERR_WRITE); rc != SQLITE_OK) return rc;
  return realOf(f)->pMethods->xWrite(realOf(f), buf, n, off);
}
int xTruncate(sqlite3_file* f, sqlite3_int64 size) {
  return realOf(f)->pMethods->xTruncate(realOf(f), size);
}
int xSync(sqlite3_file* f, int flags) {
  if (const auto us = g_state.syncDelayUs.load(); us != 0) {
    std::this_thread::sleep_for(std::chrono::microseconds(us));
  }
  if (int rc = tick(FaultVfs::Ops::Syncs, SQLITE_IOERR_FSYNC); rc != SQLITE_OK) return rc;
  return realOf(f)->pMethods->xSync(realOf(f), flags);
}
int xFileSize(sqlite3_file* f, sqlite3_int64* size) {
  return realOf(f)->pMethods->xFileSize(realOf(f), size);
}
int xLock(sqlite3_file* f, int l) { return realOf(f)->pMethods->xLock(realOf(f), l); }
int xUnlock(sqlite3_file* f, int l) { return realOf(f)->pMethods->xUnlock(realOf(f), l); }
int xCheckReservedLock(sqlite3_file* f, int* out) {
  return realOf(f)->pMethods->xCheckReservedLock(realOf(f), out);
}
int xFileControl(sqlite3_file* f, int op, void* arg) {
  return realOf(f)->pMethods->xFileControl(realOf(f), op, arg);
}
int xSectorSize(sqlite3_file* f) { return realOf(f)->pMethods->xSectorSize(realOf(f)); }
int xDeviceCharacteristics(sqlite3_file* f) {
  return realOf(f)->pMethods->xDeviceCharacteristics(realOf(f));
}
int xShmMap(sqlite3_file* f, int pg, int sz, int extend, void volatile** pp) {
  return realOf(f)->pMethods->xShmMap(realOf(f), pg, sz, extend, pp);
}
int xShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return realOf(f)->pMethods->xShmLock(realOf(f), offset, n, flags);
}
void xShmBarrier(sqlite3_file* f) { realOf(f)->pMethods->xShmBarrier(realOf(f)); }
int xShmUnmap(sqlite3_file* f, int deleteFlag) {
  return realOf(f)->pMethods->xShmUnmap(realOf(f), deleteFlag);
}
// Memory-mapped I/O would bypass xWrite accounting for reads only; keep it off for clarity.
int xFetch(sqlite3_file*, sqlite3_int64, int, void** pp) {
  *pp = nullptr;
  return SQLITE_OK;
}
int xUnfetch(sqlite3_file*, sqlite3_int64, void*) { return SQLITE_OK; }

int vfsOpen(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* outFlags) {
  auto* ff = reinterpret_cast<FaultFile*>(f);
  ff->real = reinterpret_cast<sqlite3_file*>(ff + 1);
  ff->base.pMethods = nullptr;
  const int rc = g_real->xOpen(g_real, name, ff->real, flags, outFlags);
  // SQLite calls xClose only when pMethods is set, so set it whenever the real file needs closing.
  if (ff->real->pMethods) f->pMethods = &g_methods;
  return rc;
}
int vfsDelete(sqlite3_vfs*, const char* name, int syncDir) {
  return g_real->xDelete(g_real, name, syncDir);
}
int vfsAccess(sqlite3_vfs*, const char* name, int flags, int* out) {
  return g_real->xAccess(g_real, name, flags, out);
}
int vfsFullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return g_real->xFullPathname(g_real, name, n, out);
}
void* vfsDlOpen(sqlite3_vfs*, const char* name) { return g_real->xDlOpen(g_real, name); }
void vfsDlError(sqlite3_vfs*, int n, char* msg) { g_real->xDlError(g_real, n, msg); }
void (*vfsDlSym(sqlite3_vfs*, void* h, const char* sym))(void) {
  return g_real->xDlSym(g_real, h, sym);
}
void vfsDlClose(sqlite3_vfs*, void* h) { g_real->xDlClose(g_real, h); }
int vfsRandomness(sqlite3_vfs*, int n, char* out) { return g_real->xRandomness(g_real, n, out); }
int vfsSleep(sqlite3_vfs*, int us) { return g_real->xSleep(g_real, us); }
int vfsCurrentTime(sqlite3_vfs*, double* t) { return g_real->xCurrentTime(g_real, t); }
int vfsGetLastError(sqlite3_vfs*, int n, char* s) { return g_real->xGetLastError(g_real, n, s); }
int vfsCurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* t) {
  return g_real->xCurrentTimeInt64(g_real, t);
}

void registerOnce() {
  g_real = sqlite3_vfs_find(nullptr);
  g_methods = sqlite3_io_methods{};
  g_methods.iVersion = 3;
  g_methods.xClose = xClose;
  g_methods.xRead = xRead;
  g_methods.xWrite = xWrite;
  g_methods.xTruncate = xTruncate;
  g_methods.xSync = xSync;
  g_methods.xFileSize = xFileSize;
  g_methods.xLock = xLock;
  g_methods.xUnlock = xUnlock;
  g_methods.xCheckReservedLock = xCheckReservedLock;
  g_methods.xFileControl = xFileControl;
  g_methods.xSectorSize = xSectorSize;
  g_methods.xDeviceCharacteristics = xDeviceCharacteristics;
  g_methods.xShmMap = xShmMap;
  g_methods.xShmLock = xShmLock;
  g_methods.xShmBarrier = xShmBarrier;
  g_methods.xShmUnmap = xShmUnmap;
  g_methods.xFetch = xFetch;
  g_methods.xUnfetch = xUnfetch;

  g_vfs = sqlite3_vfs{};
  g_vfs.iVersion = 2;
  g_vfs.szOsFile = static_cast<int>(sizeof(FaultFile)) + g_real->szOsFile;
  g_vfs.mxPathname = g_real->mxPathname;
  g_vfs.zName = FaultVfs::kName;
  g_vfs.xOpen = vfsOpen;
  g_vfs.xDelete = vfsDelete;
  g_vfs.xAccess = vfsAccess;
  g_vfs.xFullPathname = vfsFullPathname;
  g_vfs.xDlOpen = vfsDlOpen;
  g_vfs.xDlError = vfsDlError;
  g_vfs.xDlSym = vfsDlSym;
  g_vfs.xDlClose = vfsDlClose;
  g_vfs.xRandomness = vfsRandomness;
  g_vfs.xSleep = vfsSleep;
  g_vfs.xCurrentTime = vfsCurrentTime;
  g_vfs.xGetLastError = vfsGetLastError;
  g_vfs.xCurrentTimeInt64 = vfsCurrentTimeInt64;
  sqlite3_vfs_register(&g_vfs, 0);
}

}  // namespace

std::string FaultVfs::install() {
  static std::once_flag once;
  std::call_once(once, registerOnce);
  return kName;
}

void FaultVfs::failNth(std::uint64_t n, Failure failure, bool sticky, Ops ops) {
  g_state.failAt = 0;
  g_state.counted = 0;
  g_state.fired = false;
  g_state.sticky = sticky;
  g_state.rc = failure == Failure::DiskFull ? SQLITE_FULL : SQLITE_IOERR_WRITE;
  g_state.ops = static_cast<std::uint8_t>(ops);
  g_state.failAt = n;
}

void FaultVfs::clear() {
  g_state.syncDelayUs = 0;
  g_state.failAt = 0;
  g_state.counted = 0;
  g_state.ops = 3;
}

void FaultVfs::delaySyncs(std::uint32_t microseconds) { g_state.syncDelayUs = microseconds; }

std::uint64_t FaultVfs::count() { return g_state.counted.load(); }

void FaultVfs::resetCount() {
  g_state.failAt = 0;
  g_state.counted = 0;
  g_state.ops = 3;
}

bool FaultVfs::fired() { return g_state.fired.load(); }

}  // namespace quire::storage::testing
