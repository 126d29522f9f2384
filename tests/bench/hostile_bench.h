// `quire-bench hostile` (issue 12, "Hostile bytes"): the worst decode time per KiB and the worst
// peak allocation per decoded byte over every fuzz corpus file and the crafted attacks of
// tests/support/hostile_inputs.h, and the honest peers' relay keystroke p99 while an attacker
// sends hostile frames, over the same p99 without it. ../shared/checks/targets.py hostile FILE.
#pragma once

#include "tests/bench/bench_command.h"

namespace quire::bench {

int runHostileBench(const BenchOptions& options);

}  // namespace quire::bench
