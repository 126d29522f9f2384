// Reading the memory of a child process, for tests that check a program never holds some bytes
// (e.g. quire-relay never holds a document's plaintext): find the child's pid, then search its
// readable and writable mappings through /proc/PID/mem, or a core file written by gcore when
// /proc/PID/mem cannot be read. Linux only, no Qt, no Catch. Test-only.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <sys/types.h>

namespace quire::test {

// The pid of a child of this process whose command line holds `marker`, or -1.
pid_t childPid(const std::string& marker);

struct MemoryScan {
  std::string error;   // empty if the memory could be read
  std::size_t bytes = 0;
  std::size_t skippedShadowBytes = 0;  // ASan builds only: see scanMemory
  std::vector<bool> found;             // one per needle
};

// Searches every readable and writable mapping of `pid` for each needle. Under ASan the shadow
// memory (the mappings marked MADV_DONTDUMP) is skipped: see process_memory.cpp.
MemoryScan scanMemory(pid_t pid, const std::vector<std::string>& needles);

// Searches a core file written by /usr/bin/gcore into `dir` (the fallback when /proc/PID/mem
// cannot be read); the core file is removed afterwards.
MemoryScan scanWithGcore(pid_t pid, const std::string& dir, const std::vector<std::string>& needles);

}  // namespace quire::test
