// `quire-bench storage`: the document store (issue 3) on the automerge-paper trace — opening a
// compacted document and one with 10,000 tail rows in cold processes, append latency at typing
// speed, appends per second flat out, and bytes on disk beside the engine's history encoding.
// Key names in the JSON are the ones ../shared/checks/targets.py reads.
#pragma once

#include <QStringList>

#include "tests/bench/bench_command.h"

namespace quire::bench {

// The hidden subcommand the storage bench re-executes itself with, so that each open is timed in
// a process that has never touched the database: `quire-bench storage-open-child DB DOC_ID`.
inline constexpr const char* kStorageOpenChild = "storage-open-child";

// Returns kExitOk, or kExitFailure if the trace is missing or wrong, the store fails, a child
// open fails or reads the wrong text, or the JSON could not be written.
int runStorageBench(const BenchOptions& options);

// The child: opens DB, loads DOC_ID and takes its text, then prints one line
// "open_ms MS text_bytes N" on stdout. Returns kExitOk, kExitFailure (one line on stderr) or
// kExitUsage.
int runStorageOpenChild(const QStringList& args);

}  // namespace quire::bench
