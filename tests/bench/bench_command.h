// The shape of a quire-bench subcommand: the options every subcommand takes, and one row of
// bench_main.cpp's dispatch table. Benchmarks measure; they never pass or fail on a figure.
#pragma once

#include <string>

namespace quire::bench {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // a case could not run, or ran to a wrong result
inline constexpr int kExitUsage = 2;    // the command line was wrong

inline constexpr int kMinRuns = 5;

// Parsed from the command line by bench_main.cpp; every subcommand gets all of them.
struct BenchOptions {
  std::string tracesDir;  // --traces DIR (sequential/ and concurrent/ below it)
  std::string jsonPath;   // --json FILE, written at the end
  int runs = kMinRuns;    // --runs N: repetitions of each case, >= kMinRuns
  bool quick = false;     // --quick: fewer repetitions inside a run, where a subcommand allows
};

struct BenchCommand {
  const char* name;
  const char* summary;  // one line for `quire-bench --help`
  int (*run)(const BenchOptions& options);
};

}  // namespace quire::bench
