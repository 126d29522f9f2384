// Test-only fault seam: an sqlite3_vfs that wraps the default VFS and fails the Nth write or
// sync, to prove that a failed write loses nothing committed (SCHEMA.md, "Faults").
// Compiled into quire_storage so tests and quire-cli can use it; production code never does.
#pragma once

#include <cstdint>
#include <string>

namespace quire::storage::testing {

// One process-wide shim, registered (not as default) under kName. Thread-safe counters; tests
// configure it from one thread.
class FaultVfs {
 public:
  static constexpr const char* kName = "quire-fault";

  enum class Ops : std::uint8_t { Writes = 1, Syncs = 2, WritesAndSyncs = 3 };
  enum class Failure : std::uint8_t { IoErr, DiskFull };

  // Registers the shim once; returns its name for OpenOptions::vfs.
  static std::string install();

  // From now on the `n`-th counted operation (1-based) fails with `failure`; with `sticky`, it
  // and every later counted operation fail until clear(). REQUIRES: n >= 1.
  static void failNth(std::uint64_t n, Failure failure = Failure::IoErr, bool sticky = true,
                      Ops ops = Ops::WritesAndSyncs);
  // Stops failing and counting, and ends any sync delay.
  static void clear();
  // From now on every xSync through the shim first sleeps `microseconds` (0: none), as a slow
  // disk would; counting and failing are unchanged.
  static void delaySyncs(std::uint32_t microseconds);
  // Counted operations since the last failNth()/clear()/resetCount().
  static std::uint64_t count();
  // Counts writes and syncs without failing any.
  static void resetCount();
  // Whether a fault has fired since the last failNth().
  static bool fired();
};

}  // namespace quire::storage::testing
