// A program run as a child process by a multi-process test (quire-cli, quire-relay): started
// with posix_spawn, its stdout (and stderr, unless sent elsewhere) read through pipes, lines
// read with a timeout, killed and reaped. POSIX only, no Qt, so every test binary can use it.
// Test-only; not thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace quire::test {

struct ChildOptions {
  // "NAME=value" entries added to the test's own environment (replacing a variable of that name).
  std::vector<std::string> env;
  // Where the child's stderr goes: a pipe read into err(), the test's own stderr, or appended to
  // `stderrFile` (created 0600 if missing).
  enum class Stderr { Pipe, Inherit, File };
  Stderr stderrTo = Stderr::Pipe;
  std::string stderrFile;
};

// One child. The destructor SIGKILLs and reaps it if it is still running, so a failing REQUIRE
// never leaves a process behind. Output is read only while a call here runs (readLine, waitUntil,
// killAndReap); a child that writes a lot must be read, or it blocks on a full pipe.
class ChildProcess {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts `program` (a path, not searched on PATH) with `args` (argv[0] is the program). Check
  // started() afterwards.
  ChildProcess(const std::string& program, const std::vector<std::string>& args,
               ChildOptions options = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The child was spawned and its pipes are open.
  bool started() const { return m_started; }
  // Spawned and not reaped yet.
  bool running() const { return m_pid > 0; }
  Clock::time_point startedAt() const { return m_startedAt; }

  // The next complete stdout line (without its '\n'), or nothing if none came within `timeout`
  // or stdout ended first. A line read here is removed from out().
  std::optional<std::string> readLine(std::chrono::milliseconds timeout);
  // Stdout has ended (the child closed it or exited) and out() holds all that is left.
  bool stdoutEnded() const { return m_out < 0; }

  // Sends `sig` (e.g. SIGTERM) if the child is running.
  void signal(int sig);
  // Waits until the child exits or `deadline` passes, reading its output meanwhile and calling
  // `idle` (if any) every few milliseconds (e.g. to run a Qt event loop). The wait status once it
  // exited (then the output is read to its end), nothing if it is still running at `deadline`.
  std::optional<int> waitUntil(Clock::time_point deadline,
                               const std::function<void()>& idle = nullptr);
  // SIGKILLs the child, reaps it and reads what it had written before dying. The wait status
  // (or that of an earlier exit, if it already exited).
  int killAndReap();

  // Exit code for a wait status, or -1 if the child did not exit normally.
  static int exitCode(int status);

  // The largest peak resident set size (VmHWM in /proc/PID/status, KiB) seen while the child
  // ran; -1 if it was never read. It is read whenever the test reads the child's output or
  // polls it (readLine, waitUntil, ...), so a child that is polled until it exits is covered but
  // for its last few milliseconds. (getrusage's ru_maxrss of a reaped child would be exact, but
  // posix_spawn's vfork makes it include the test process's own peak.)
  long peakRssKib() const { return m_peakRssKib; }

  // Stdout not yet taken by readLine, and everything read from the stderr pipe.
  const std::string& out() const { return m_stdout; }
  const std::string& err() const { return m_stderr; }

 private:
  // Reads what is available within `ms`. False if nothing was read and no pipe ended.
  bool pump(int ms);
  bool reap(bool block);
  void sampleMemory();
  void drain();

  pid_t m_pid = -1;
  bool m_started = false;
  int m_out = -1;
  int m_err = -1;
  int m_status = -1;
  long m_peakRssKib = -1;
  Clock::time_point m_startedAt;
  std::string m_stdout;
  std::string m_stderr;
};

}  // namespace quire::test
