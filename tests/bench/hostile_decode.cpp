#include "tests/bench/hostile_decode.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <new>
#include <optional>
#include <string_view>
#include <thread>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/document.h"
#include "engine/version_vector.h"
#include "net/frame.h"
#include "net/share_link.h"
#include "tests/bench/heap_counter.h"
#include "tests/bench/hostile_zstd_meter.h"
#include "tests/fuzz/fuzz_common.h"

namespace quire::bench {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kMaxTimedRuns = 64;

// What the child sends back through its pipe: plain data, written once before _exit.
struct ChildReport {
  int accepted = 0;
  int threw = 0;
  char why[240] = {};
  int timedRuns = 0;
  double ms[kMaxTimedRuns] = {};
  double peakRunMs = 0;
  std::uint64_t zstdBytes = 0;
  std::int64_t peakBytes = 0;
  std::int64_t peakRssGrowth = -1;  // -1: /proc/self/clear_refs could not reset the peak
};

// A stored document's rows as stored_row_fuzz's kind 3 packs them (tests/fuzz/checks_engine.h,
// splitStoredRows): records of a 3-byte little-endian length and that many bytes, at most 64, an
// incomplete tail one last shorter record; the first is the snapshot.
std::vector<std::span<const std::uint8_t>> storedRows(std::span<const std::uint8_t> rest) {
  constexpr std::size_t kMaxRows = 64;
  std::vector<std::span<const std::uint8_t>> rows;
  std::size_t i = 0;
  while (i < rest.size() && rows.size() < kMaxRows) {
    if (rest.size() - i < 3) {
      rows.push_back(rest.subspan(i));
      break;
    }
    const std::size_t len = std::size_t{rest[i]} | (std::size_t{rest[i + 1]} << 8) |
                            (std::size_t{rest[i + 2]} << 16);
    i += 3;
    const std::size_t take = std::min(len, rest.size() - i);
    rows.push_back(rest.subspan(i, take));
    i += take;
  }
  return rows;
}

engine::ReplicaId benchReplica(std::uint8_t order) {
  engine::ReplicaId id;
  id.bytes.fill(0x42);
  id.bytes[0] = order;
  return id;
}

struct Verdict {
  bool accepted = false;
  std::string why;
};

Verdict fromError(const Error& e) { return {false, e.toString()}; }

// What a peer does with a message it opened: apply the update it carries, or decode the
// snapshot's history.
Verdict follow(const net::Message& m, engine::Document& doc) {
  switch (m.kind) {
    case net::FrameKind::Update:
    case net::FrameKind::Ops:
    case net::FrameKind::RoomOps: {
      auto applied = doc.applyUpdate(m.update);
      return applied ? Verdict{true, ""} : fromError(applied.error());
    }
    case net::FrameKind::Snapshot: {
      auto decoded = engine::Document::decodeHistory(m.update, benchReplica(7));
      return decoded ? Verdict{true, ""} : fromError(decoded.error());
    }
    default:
      return {true, ""};
  }
}

Verdict decodeOnce(const DecodeCase& c, engine::Document& doc) {
  const std::span<const std::uint8_t> bytes(c.bytes);
  switch (c.decoder) {
    case HostileDecoder::Update: {
      engine::StreamContext ctx;
      if (c.withFuzzStream) ctx.agents.push_back(fuzz::fuzzReplica(9));
      auto applied = doc.applyUpdate(bytes, c.withFuzzStream ? &ctx : nullptr);
      return applied ? Verdict{true, ""} : fromError(applied.error());
    }
    case HostileDecoder::History: {
      auto decoded = engine::Document::decodeHistory(bytes, benchReplica(7));
      return decoded ? Verdict{true, ""} : fromError(decoded.error());
    }
    case HostileDecoder::Frame: {
      static const net::DocKey key = hostileFrameKey();
      static const net::RoomId room = net::roomIdOf(key);
      auto m = net::decodeFrame(key, room, bytes);
      return m ? follow(*m, doc) : fromError(m.error());
    }
    case HostileDecoder::Message: {
      auto m = net::decodeMessage(bytes);
      return m ? follow(*m, doc) : fromError(m.error());
    }
    case HostileDecoder::VersionVector: {
      auto v = engine::VersionVector::decode(bytes);
      return v ? Verdict{true, ""} : fromError(v.error());
    }
    case HostileDecoder::Link: {
      auto link = net::parseShareLink(
          std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
      return link ? Verdict{true, ""} : fromError(link.error());
    }
    case HostileDecoder::StoredRows: {
      const auto rows = storedRows(bytes);
      Verdict v{true, ""};
      if (!rows.empty() && !rows[0].empty()) {
        auto snap = engine::Document::decodeHistory(rows[0], benchReplica(6));
        if (snap) doc = std::move(*snap);
        else v = fromError(snap.error());
      }
      for (std::size_t i = 1; i < rows.size(); ++i) {
        if (auto applied = doc.applyUpdate(rows[i]); !applied && v.accepted) v = fromError(applied.error());
      }
      return v;
    }
  }
  return {false, "unknown decoder"};
}

// A /proc/PID/status field in bytes (kB there), 0 if absent.
std::int64_t procStatusBytes(pid_t pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  const std::size_t n = std::strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':') {
      return std::atoll(line.c_str() + n + 1) * 1024;
    }
  }
  return 0;
}

[[noreturn]] void runChild(const DecodeCase& c, const DecodeLimitsForBench& limits, int fd) {
  // A bad decoder may ask for gigabytes: past the limit operator new throws std::bad_alloc.
  const auto size = static_cast<rlim_t>(procStatusBytes(getpid(), "VmSize"));
  const rlimit as{size + limits.addressSpaceBytes, size + limits.addressSpaceBytes};
  setrlimit(RLIMIT_AS, &as);

  ChildReport report;
  engine::Document target = c.onFuzzBase ? fuzz::baseDocument() : engine::Document(benchReplica(1));
  if (!c.baseUpdate.empty()) (void)target.applyUpdate(c.baseUpdate);
  Verdict verdict;
  try {
    {
      // The peak run: heap counting on (slower), zstd output counted.
      engine::Document doc(target);
      // Writing 5 to clear_refs resets VmHWM, so the peak RSS below is this decode's: it sees
      // what operator new does not (zstd's contexts and windows, taken with malloc).
      std::int64_t rssBase = -1;
      if (std::FILE* f = std::fopen("/proc/self/clear_refs", "w")) {
        if (std::fputs("5", f) >= 0 && std::fclose(f) == 0) rssBase = procStatusBytes(getpid(), "VmRSS");
        else rssBase = -1;
      }
      setHeapCounting(true);
      const std::int64_t base = liveHeapBytes();
      resetPeakHeapBytes();
      resetZstdDecompressedBytes();
      const Clock::time_point t0 = Clock::now();
      verdict = decodeOnce(c, doc);
      report.peakRunMs = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      report.peakBytes = peakHeapBytes() - base;
      report.zstdBytes = zstdDecompressedBytes();
      setHeapCounting(false);
      if (rssBase >= 0) report.peakRssGrowth = std::max<std::int64_t>(0, procStatusBytes(getpid(), "VmHWM") - rssBase);
    }
    // Timed runs, counting off. A decode slower than the budget is timed once, by the peak run.
    double spent = 0;
    if (report.peakRunMs < limits.timedBudgetMs) {
      while (report.timedRuns < std::min(limits.runs, kMaxTimedRuns) && spent < limits.timedBudgetMs) {
        engine::Document doc(target);
        const Clock::time_point t0 = Clock::now();
        (void)decodeOnce(c, doc);
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        report.ms[report.timedRuns++] = ms;
        spent += ms;
      }
    }
  } catch (const std::bad_alloc&) {
    setHeapCounting(false);
    report.threw = 1;
    verdict = {false, "threw std::bad_alloc (a peer would abort)"};
    report.peakBytes = std::max(report.peakBytes, peakHeapBytes());
  } catch (const std::exception& e) {
    report.threw = 1;
    verdict = {false, std::string("threw ") + e.what()};
  }
  report.accepted = verdict.accepted ? 1 : 0;
  std::snprintf(report.why, sizeof report.why, "%s", verdict.why.c_str());
  const char* p = reinterpret_cast<const char*>(&report);
  std::size_t left = sizeof report;
  while (left > 0) {
    const ssize_t n = write(fd, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  _exit(0);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

const char* decoderName(HostileDecoder decoder) {
  switch (decoder) {
    case HostileDecoder::Update: return "update";
    case HostileDecoder::History: return "history";
    case HostileDecoder::Frame: return "frame";
    case HostileDecoder::Message: return "message";
    case HostileDecoder::VersionVector: return "version-vector";
    case HostileDecoder::Link: return "link";
    case HostileDecoder::StoredRows: return "stored rows";
  }
  return "?";
}

net::DocKey hostileFrameKey() {
  net::DocKey key;
  for (std::size_t i = 0; i < key.bytes.size(); ++i) key.bytes[i] = static_cast<std::uint8_t>(i);
  return key;
}

DecodeFigures measureDecode(const DecodeCase& c, const DecodeLimitsForBench& limits) {
  DecodeFigures f;
  f.name = c.name;
  f.decoder = c.decoder;
  f.inputBytes = c.bytes.size();
  int fds[2];
  if (pipe(fds) != 0) {
    f.verdict = "could not run: pipe failed";
    return f;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  const Clock::time_point start = Clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    runChild(c, limits, fds[1]);
  }
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    f.verdict = "could not run: fork failed";
    return f;
  }
  // Poll: the child's peak RSS is the only figure left if it dies or runs out of time.
  std::int64_t baseRss = 0;
  std::int64_t hwm = 0;
  int status = 0;
  bool timedOut = false;
  for (;;) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    const std::int64_t rss = procStatusBytes(pid, "VmRSS");
    if (baseRss == 0) baseRss = rss;
    hwm = std::max(hwm, procStatusBytes(pid, "VmHWM"));
    if (Clock::now() - start > std::chrono::milliseconds(limits.timeoutMs)) {
      hwm = std::max(hwm, procStatusBytes(pid, "VmHWM"));
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      timedOut = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const double elapsedMs = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  ChildReport report;
  std::size_t got = 0;
  if (!timedOut) {
    char* p = reinterpret_cast<char*>(&report);
    while (got < sizeof report) {
      const ssize_t n = read(fds[0], p + got, sizeof report - got);
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
  }
  close(fds[0]);

  f.finished = got == sizeof report;
  if (f.finished) {
    f.verdict = report.accepted ? "accepted" : std::string(report.threw ? "" : "rejected: ") + report.why;
    std::vector<double> ms(report.ms, report.ms + report.timedRuns);
    if (ms.empty()) ms.push_back(report.peakRunMs);  // too slow to repeat: the counted run
    f.timedRuns = report.timedRuns;
    f.ms = median(ms);
    f.msMin = *std::min_element(ms.begin(), ms.end());
    f.msMax = *std::max_element(ms.begin(), ms.end());
    f.zstdBytes = report.zstdBytes;
    f.peakBytes = report.peakBytes;
    f.peakRssGrowth = report.peakRssGrowth;
  } else {
    // A lower bound on both: it ran at least this long and held at least this much.
    f.ms = f.msMin = f.msMax = elapsedMs;
    f.peakBytes = std::max<std::int64_t>(0, hwm - baseRss);
    f.peakRssGrowth = f.peakBytes;
    f.peakFromRss = true;
    if (timedOut) {
      f.verdict = "timed out: killed after " + std::to_string(limits.timeoutMs / 1000) + " s";
    } else if (WIFSIGNALED(status)) {
      f.verdict = "died: signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
    } else {
      f.verdict = "died: exit " + std::to_string(WEXITSTATUS(status)) + " without a report";
    }
  }
  f.decodedBytes = std::max<std::uint64_t>({f.inputBytes, f.zstdBytes, 1});
  return f;
}

}  // namespace quire::bench
