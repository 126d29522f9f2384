// What the parts of `quire-bench sync` share: a quire-relay child process on 127.0.0.1, running
// the event loop until a condition holds, percentiles, and the size a WebSocket frame header adds
// (RFC 6455, section 5.2). Everything here runs on the bench's one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <QProcess>
#include <QString>

#include "engine/ids.h"
#include "engine/result.h"

namespace quire::bench {

using SyncClock = std::chrono::steady_clock;

double msBetween(SyncClock::time_point start, SyncClock::time_point stop);

// The value below which `share` of `values` lie (nearest rank). REQUIRES: !values.empty().
double percentileOf(std::vector<double> values, double share);

// A replica id of 16 random bytes. REQUIRES: net::initCrypto() succeeded.
engine::ReplicaId randomReplica();

// Bytes a WebSocket frame header adds to a payload of `payloadBytes`: 2, 4 or 10 by length,
// plus 4 masking bytes on frames a client sends (RFC 6455, 5.2 and 5.3).
std::size_t wsHeaderBytes(std::size_t payloadBytes, bool fromClient);

// Runs the event loop until `done()` (checked every millisecond, and after each event batch)
// or `timeoutMs` passed. Returns done().
bool runUntil(const std::function<bool()>& done, int timeoutMs);

// Runs the event loop for `ms` milliseconds.
void runFor(int ms);

// A quire-relay child listening on 127.0.0.1 (port picked by the system) with limits raised so
// the bench is not throttled, its database and log in `dir`. Sent SIGTERM (then SIGKILL) when
// destroyed. One thread.
class RelayProcess {
 public:
  // Starts the relay and waits for its "listening on ws://127.0.0.1:PORT" line. Fails with
  // Error::io naming the program, and the tail of its log, if it does not start.
  [[nodiscard]] static Result<std::unique_ptr<RelayProcess>> start(const std::string& dir,
                                                                   const std::string& name);
  ~RelayProcess();
  RelayProcess(const RelayProcess&) = delete;
  RelayProcess& operator=(const RelayProcess&) = delete;

  const QString& url() const { return m_url; }
  qint64 pid() const { return m_process.processId(); }
  bool running() const { return m_process.state() == QProcess::Running; }
  // VmRSS from /proc/PID/status, in MiB (0 if unreadable).
  double rssMb() const;
  // utime + stime from /proc/PID/stat, in seconds (0 if unreadable).
  double cpuSeconds() const;
  // Time its main thread was runnable but waited for a CPU, in seconds (runQueueWaitSeconds).
  double runQueueWaitSeconds() const;
  // The last lines of the relay's stderr log, for error messages.
  std::string logTail() const;
  // Non-empty if the relay lacked an option the bench wanted (and ran without it).
  const std::string& note() const { return m_note; }

 private:
  RelayProcess() = default;

  QProcess m_process;
  QString m_url;
  std::string m_logPath;
  std::string m_note;
};

// CPU seconds (user + system) this process used so far.
double ownCpuSeconds();

// Seconds the thread `pid` (0: this process's main thread) spent runnable but waiting for a CPU,
// from /proc/PID/schedstat (0 if unreadable). High when other programs load the machine.
double runQueueWaitSeconds(long pid = 0);

// The 1-minute load average (/proc/loadavg), or -1 if unreadable.
double loadAverage();

}  // namespace quire::bench
