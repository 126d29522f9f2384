// `quire-bench sync`: the sync layer (issue 4) over 127.0.0.1 — keystroke latency through a real
// quire-relay and through a direct star for 2, 10 and 50 peers (and with durable commits before
// sending), joining a document with the automerge-paper history, wire bytes per keystroke, and
// the relay's forwarding rate with 100 rooms x 5 peers. Key names in the JSON are the ones
// ../shared/checks/targets.py reads. The parts live in sync_typing, sync_join, sync_relay_load
// and sync_support.
#pragma once

#include "tests/bench/bench_command.h"

namespace quire::bench {

// Returns kExitOk, or kExitFailure if the trace is missing or wrong, quire-relay cannot start, a
// configuration fails to deliver every keystroke (or the peers' texts differ), a joiner ends with
// the wrong text, or the JSON could not be written.
int runSyncBench(const BenchOptions& options);

}  // namespace quire::bench
