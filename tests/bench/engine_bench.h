// `quire-bench engine`: the engine on every shared editing trace — local replay or fork/merge,
// history size, loading a history, applying it as one remote update, heap held by the result.
// Key names in the JSON are the ones ../shared/checks/targets.py reads.
#pragma once

#include "tests/bench/bench_command.h"

namespace quire::bench {

// Returns kExitOk, or kExitFailure if no trace was found, one could not be loaded or replayed,
// a result was not correct, or the JSON could not be written.
int runEngineBench(const BenchOptions& options);

}  // namespace quire::bench
