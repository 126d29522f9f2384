// Editing traces (../shared/traces/README.md): keystroke recordings of real documents, loaded
// from .json or .json.gz into plain structs for tests, benchmarks and `quire-cli replay`.
// Loading validates everything; replaying is trace_replay.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/result.h"

namespace quire::trace {

// One splice in code points: delete `deleted` at `pos`, then insert `inserted` (UTF-8) there.
struct TracePatch {
  std::uint32_t pos = 0;
  std::uint32_t deleted = 0;
  std::string inserted;
};

// One transaction: patches applied one after another by `agent` on the state after all of
// `parents` (indexes of earlier transactions; empty means the start state).
struct TraceTxn {
  std::vector<std::uint32_t> parents;
  std::uint32_t agent = 0;
  std::vector<TracePatch> patches;
};

// A whole trace. A sequential trace is loaded as a chain (txn i has parent i - 1, agent 0), so it
// also replays through the concurrent path. A plain value; owns everything it holds.
struct Trace {
  std::string name;          // file name without .json / .json.gz
  bool concurrent = false;   // "kind": "concurrent"
  std::string startContent;  // UTF-8; the state that parents [] refers to
  std::string endContent;    // UTF-8; what a correct replay ends with
  std::uint32_t numAgents = 1;
  std::vector<TraceTxn> txns;

  // Number of patches over all transactions.
  std::size_t editCount() const;
};

// Agents a trace may name: agents 0 .. kMaxAgents - 1 (the ids above are left for replayers).
inline constexpr std::uint32_t kMaxAgents = 0xFF00;

// Reads and validates the trace at `path` (.json, or gzip-compressed .json.gz).
// Fails with Error::io (naming the path) if the file cannot be read, and with Error::malformed
// (naming the file, and the txn and patch index where there is one) on anything else wrong:
// not gzip or not JSON, a missing key, a wrong type, a negative, fractional or out-of-range
// number, a parent index that is not below its own txn index, an agent >= numAgents, a string
// with an unpaired surrogate. Positions are not checked against the text; replaying does that.
[[nodiscard]] quire::Result<Trace> loadTrace(const std::string& path);

// The trace files under `dir`: dir/sequential/*.json.gz and dir/concurrent/*.json.gz, sorted by
// file name (then path). Empty if there are none or `dir` cannot be read.
std::vector<std::string> findTraces(const std::string& dir);

// The traces folder for tests: env QUIRE_TRACES if set and non-empty, else the QUIRE_TRACES_DIR
// the build was configured with.
std::string defaultTracesDir();

}  // namespace quire::trace
