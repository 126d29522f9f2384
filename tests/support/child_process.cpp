#include "tests/support/child_process.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace quire::test {

namespace {

std::string nameOf(const std::string& entry) { return entry.substr(0, entry.find('=')); }

// The test's environment with `extra` added, an entry of `extra` replacing one of the same name.
std::vector<std::string> environment(const std::vector<std::string>& extra) {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry = *e;
    const bool replaced = std::any_of(extra.begin(), extra.end(), [&](const std::string& x) {
      return nameOf(x) == nameOf(entry);
    });
    if (!replaced) out.push_back(entry);
  }
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

void closeFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

}  // namespace

ChildProcess::ChildProcess(const std::string& program, const std::vector<std::string>& args,
                           ChildOptions options)
    : m_startedAt(Clock::now()) {
  int out[2];
  int err[2] = {-1, -1};
  if (pipe2(out, O_CLOEXEC) != 0) return;
  const bool errPipe = options.stderrTo == ChildOptions::Stderr::Pipe;
  if (errPipe && pipe2(err, O_CLOEXEC) != 0) {
    closeFd(out[0]);
    closeFd(out[1]);
    return;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  if (errPipe) {
    posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  } else if (options.stderrTo == ChildOptions::Stderr::File) {
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, options.stderrFile.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0600);
  }
  std::vector<std::string> all{program};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv = pointers(all);
  std::vector<std::string> env = environment(options.env);
  std::vector<char*> envp = pointers(env);
  if (posix_spawn(&m_pid, program.c_str(), &actions, nullptr, argv.data(), envp.data()) != 0)
    m_pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  closeFd(out[1]);
  closeFd(err[1]);
  m_out = out[0];
  m_err = err[0];
  m_started = m_pid > 0;
}

ChildProcess::~ChildProcess() {
  if (m_pid > 0) {
    kill(m_pid, SIGKILL);
    reap(true);
  }
  closeFd(m_out);
  closeFd(m_err);
}

std::optional<std::string> ChildProcess::readLine(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (const auto nl = m_stdout.find('\n'); nl != std::string::npos) {
      std::string line = m_stdout.substr(0, nl);
      m_stdout.erase(0, nl + 1);
      return line;
    }
    if (m_out < 0) return std::nullopt;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left < 0) return std::nullopt;
    pump(static_cast<int>(left));
  }
}

void ChildProcess::signal(int sig) {
  if (m_pid > 0) kill(m_pid, sig);
}

std::optional<int> ChildProcess::waitUntil(Clock::time_point deadline,
                                           const std::function<void()>& idle) {
  while (m_pid > 0) {
    if (reap(false)) break;
    if (Clock::now() >= deadline) return std::nullopt;
    pump(idle ? 1 : 20);
    if (idle) idle();
  }
  drain();
  return m_status;
}

int ChildProcess::killAndReap() {
  if (m_pid > 0) {
    kill(m_pid, SIGKILL);
    reap(true);
  }
  drain();
  return m_status;
}

int ChildProcess::exitCode(int status) {
  return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void ChildProcess::sampleMemory() {
  if (m_pid <= 0) return;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/status", static_cast<int>(m_pid));
  std::FILE* status = std::fopen(path, "r");
  if (status == nullptr) return;
  char line[256];
  while (std::fgets(line, sizeof line, status) != nullptr) {
    long kib = 0;
    if (std::sscanf(line, "VmHWM: %ld kB", &kib) == 1) {
      m_peakRssKib = std::max(m_peakRssKib, kib);
      break;
    }
  }
  std::fclose(status);
}

bool ChildProcess::pump(int ms) {
  sampleMemory();
  pollfd p[2];
  int* fds[2];
  nfds_t n = 0;
  for (int* fd : {&m_out, &m_err}) {
    if (*fd < 0) continue;
    p[n] = {*fd, POLLIN, 0};
    fds[n++] = fd;
  }
  // With both pipes ended this just sleeps for `ms`, so a waiting loop does not spin.
  if (poll(p, n, ms) <= 0) return false;
  bool any = false;
  char buf[4096];
  for (nfds_t i = 0; i < n; ++i) {
    if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    const ssize_t got = read(*fds[i], buf, sizeof buf);
    if (got > 0) {
      (fds[i] == &m_out ? m_stdout : m_stderr).append(buf, static_cast<std::size_t>(got));
      any = true;
    } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
      closeFd(*fds[i]);
      any = true;
    }
  }
  return any;
}

bool ChildProcess::reap(bool block) {
  int status = 0;
  pid_t done;
  do {
    done = waitpid(m_pid, &status, block ? 0 : WNOHANG);
  } while (done < 0 && errno == EINTR);
  if (done == m_pid || (done < 0 && errno == ECHILD)) {
    if (done == m_pid) m_status = status;
    m_pid = -1;
    return true;
  }
  return false;
}

// After the child is gone: its pipes hold the last of its output, unless a grandchild kept them
// open, so stop once a read finds nothing.
void ChildProcess::drain() {
  while ((m_out >= 0 || m_err >= 0) && pump(0)) {
  }
}

}  // namespace quire::test
