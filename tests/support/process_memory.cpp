#include "tests/support/process_memory.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

#include "tests/support/child_process.h"

namespace quire::test {

namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A mapping of /proc/PID/smaps: its range, whether it is readable and writable, and whether
// it is marked MADV_DONTDUMP (VmFlags "dd").
struct Mapping {
  unsigned long long from = 0, to = 0;
  bool readWrite = false;
  bool dontDump = false;
};

std::vector<Mapping> mappingsOf(pid_t pid) {
  std::vector<Mapping> out;
  std::ifstream smaps("/proc/" + std::to_string(pid) + "/smaps");
  std::string line;
  while (std::getline(smaps, line)) {
    Mapping m;
    char perms[8] = {};
    if (std::sscanf(line.c_str(), "%llx-%llx %7s", &m.from, &m.to, perms) == 3) {
      m.readWrite = perms[0] == 'r' && perms[1] == 'w';
      out.push_back(m);
    } else if (line.rfind("VmFlags:", 0) == 0 && !out.empty()) {
      out.back().dontDump = (line + " ").find(" dd ") != std::string::npos;
    }
  }
  return out;
}

}  // namespace

pid_t childPid(const std::string& marker) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    const std::string status = readFile(entry.path().string() + "/status");
    const auto ppid = status.find("PPid:");
    if (ppid == std::string::npos || std::stol(status.substr(ppid + 5)) != getpid()) continue;
    std::string cmdline = readFile(entry.path().string() + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(marker) != std::string::npos) return static_cast<pid_t>(std::stol(name));
  }
  return -1;
}

// Under ASan (the test and the programs it runs come from one build directory, so both are
// sanitized or neither is) the child also has ASan's shadow memory: about 15 TB of address space
// mapped read-write with MAP_NORESERVE, of which a few MB are ever touched. Reading all of it
// through /proc/PID/mem faults it in page by page: quire-relay grew past 20 GB and the scan never
// ended. ASan marks exactly those mappings MADV_DONTDUMP ("dd" in smaps), and they hold shadow
// bytes (how many of 8 application bytes are addressable), never application data, so under ASan
// the scan skips the "dd" mappings and reads the rest (heap, stacks, data: tens of MB) in full.
// The needles and any positive control are checked the same way as in a normal build; freed
// memory that ASan keeps in its quarantine instead of reusing is part of the heap and is read
// too. Without ASan nothing is skipped.
MemoryScan scanMemory(pid_t pid, const std::vector<std::string>& needles) {
#if defined(__SANITIZE_ADDRESS__)
  constexpr bool kSkipSanitizerShadow = true;
#else
  constexpr bool kSkipSanitizerShadow = false;
#endif
  MemoryScan scan;
  scan.found.assign(needles.size(), false);
  std::size_t longest = 0;
  for (const auto& n : needles) longest = std::max(longest, n.size());
  const std::vector<Mapping> mappings = mappingsOf(pid);
  const int mem = open(("/proc/" + std::to_string(pid) + "/mem").c_str(), O_RDONLY);
  if (mappings.empty() || mem < 0) {
    scan.error = std::string("cannot open /proc/PID/mem: ") + std::strerror(errno);
    if (mem >= 0) close(mem);
    return scan;
  }
  std::string buf;
  int failures = 0;
  for (const Mapping& mapping : mappings) {
    const unsigned long long from = mapping.from, to = mapping.to;
    if (!mapping.readWrite) continue;
    if (kSkipSanitizerShadow && mapping.dontDump) {
      scan.skippedShadowBytes += static_cast<std::size_t>(to - from);
      continue;
    }
    std::string tail;  // the end of the previous chunk, for a needle across chunks
    for (unsigned long long at = from; at < to;) {
      const std::size_t want = static_cast<std::size_t>(std::min<unsigned long long>(to - at, 1 << 20));
      buf.resize(want);
      const ssize_t got = pread(mem, buf.data(), want, static_cast<off_t>(at));
      if (got <= 0) {
        ++failures;
        if (scan.bytes == 0 && (errno == EACCES || errno == EPERM))
          scan.error = std::string("reading /proc/PID/mem: ") + std::strerror(errno);
        break;
      }
      buf.resize(static_cast<std::size_t>(got));
      scan.bytes += buf.size();
      const std::string window = tail + buf;
      for (std::size_t i = 0; i < needles.size(); ++i)
        if (!scan.found[i] && window.find(needles[i]) != std::string::npos) scan.found[i] = true;
      tail = window.substr(window.size() - std::min(window.size(), longest));
      at += static_cast<unsigned long long>(got);
    }
  }
  close(mem);
  if (scan.bytes > 0) scan.error.clear();
  return scan;
}

MemoryScan scanWithGcore(pid_t pid, const std::string& dir, const std::vector<std::string>& needles) {
  MemoryScan scan;
  scan.found.assign(needles.size(), false);
  if (access("/usr/bin/gcore", X_OK) != 0) {
    scan.error = "no gcore";
    return scan;
  }
  const std::string prefix = dir + "/relay-core";
  ChildOptions options;
  ChildProcess gcore("/usr/bin/gcore", {"-o", prefix, std::to_string(pid)}, options);
  auto status = gcore.waitUntil(ChildProcess::Clock::now() + std::chrono::seconds(30));
  if (!status) status = gcore.killAndReap();
  const std::string core = readFile(prefix + "." + std::to_string(pid));
  if (core.empty()) {
    scan.error = "gcore wrote nothing: " + gcore.err();
    return scan;
  }
  scan.bytes = core.size();
  for (std::size_t i = 0; i < needles.size(); ++i)
    scan.found[i] = core.find(needles[i]) != std::string::npos;
  std::filesystem::remove(prefix + "." + std::to_string(pid));
  return scan;
}

}  // namespace quire::test
