#include "tests/bench/sync_support.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include <QEventLoop>
#include <QFile>
#include <QStringList>
#include <QTimer>
#include <sys/resource.h>
#include <unistd.h>

#include "net/crypto.h"

namespace quire::bench {

namespace {

constexpr int kRelayStartMs = 10'000;
constexpr int kRelayStopMs = 5'000;
const char* const kListening = "listening on ";

}  // namespace

double msBetween(SyncClock::time_point start, SyncClock::time_point stop) {
  return std::chrono::duration<double, std::milli>(stop - start).count();
}

double percentileOf(std::vector<double> values, double share) {
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(share * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

engine::ReplicaId randomReplica() {
  engine::ReplicaId id;
  for (std::size_t i = 0; i < id.bytes.size(); i += 8) {
    const std::uint64_t r = net::randomU64();
    for (std::size_t b = 0; b < 8; ++b) id.bytes[i + b] = static_cast<std::uint8_t>(r >> (8 * b));
  }
  return id;
}

std::size_t wsHeaderBytes(std::size_t payloadBytes, bool fromClient) {
  const std::size_t length = payloadBytes < 126 ? 2 : payloadBytes <= 0xFFFF ? 4 : 10;
  return length + (fromClient ? 4 : 0);
}

bool runUntil(const std::function<bool()>& done, int timeoutMs) {
  if (done()) return true;
  QEventLoop loop;
  QTimer poll;
  poll.setTimerType(Qt::PreciseTimer);
  QObject::connect(&poll, &QTimer::timeout, &loop, [&] {
    if (done()) loop.quit();
  });
  poll.start(1);
  QTimer deadline;
  deadline.setSingleShot(true);
  QObject::connect(&deadline, &QTimer::timeout, &loop, &QEventLoop::quit);
  deadline.start(timeoutMs);
  loop.exec();
  return done();
}

void runFor(int ms) {
  QEventLoop loop;
  QTimer::singleShot(ms, &loop, &QEventLoop::quit);
  loop.exec();
}

double ownCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double runQueueWaitSeconds(long pid) {
  const std::string path =
      pid == 0 ? std::string("/proc/self/schedstat") : "/proc/" + std::to_string(pid) + "/schedstat";
  std::ifstream in(path);
  double running = 0;
  double waiting = 0;
  if (!(in >> running >> waiting)) return 0;
  return waiting / 1e9;
}

double loadAverage() {
  std::ifstream in("/proc/loadavg");
  double load = -1;
  in >> load;
  return load;
}

// ---- RelayProcess.

Result<std::unique_ptr<RelayProcess>> RelayProcess::start(const std::string& dir,
                                                          const std::string& name) {
#ifndef QUIRE_BENCH_RELAY_PATH
  (void)dir;
  (void)name;
  return fail(Error::io("quire-bench was built without quire-relay (QUIRE_BENCH_RELAY_PATH)"));
#else
  const QString program = QStringLiteral(QUIRE_BENCH_RELAY_PATH);
  std::unique_ptr<RelayProcess> relay(new RelayProcess());
  relay->m_logPath = dir + "/" + name + ".log";

  // The per-address connection limit is newer than the relay's other limits: use it if this
  // build has it (the bench opens up to 500 connections from 127.0.0.1).
  QStringList args{QStringLiteral("--listen"),  QStringLiteral("127.0.0.1:0"),
                   QStringLiteral("--db"),      QString::fromStdString(dir + "/" + name + ".db"),
                   QStringLiteral("--max-messages-per-second"), QStringLiteral("100000")};
  {
    QProcess help;
    help.start(program, {QStringLiteral("--help")});
    if (!help.waitForFinished(kRelayStartMs)) {
      return fail(Error::io(program.toStdString() + " --help: " + help.errorString().toStdString()));
    }
    if (help.readAllStandardOutput().contains("--max-connections-per-ip")) {
      args << QStringLiteral("--max-connections-per-ip") << QStringLiteral("10000");
    } else {
      relay->m_note = "this quire-relay has no --max-connections-per-ip; ran with its default";
    }
  }
  relay->m_process.setStandardErrorFile(QString::fromStdString(relay->m_logPath));
  relay->m_process.start(program, args);
  if (!relay->m_process.waitForStarted(kRelayStartMs)) {
    return fail(Error::io("cannot start " + program.toStdString() + ": " +
                          relay->m_process.errorString().toStdString()));
  }
  QByteArray line;
  SyncClock::time_point deadline = SyncClock::now() + std::chrono::milliseconds(kRelayStartMs);
  while (!line.endsWith('\n') && SyncClock::now() < deadline && relay->running()) {
    if (relay->m_process.waitForReadyRead(100)) line += relay->m_process.readLine();
  }
  line = line.trimmed();
  const QByteArray expected = QByteArray(kListening) + "ws://127.0.0.1:";
  if (!line.startsWith(expected)) {
    return fail(Error::io(program.toStdString() + " did not start listening (said '" +
                          line.toStdString() + "'): " + relay->logTail()));
  }
  relay->m_url = QString::fromLatin1(line.mid(static_cast<qsizetype>(std::strlen(kListening))));
  return relay;
#endif
}

RelayProcess::~RelayProcess() {
  if (m_process.state() == QProcess::NotRunning) return;
  m_process.terminate();
  if (!m_process.waitForFinished(kRelayStopMs)) {
    m_process.kill();
    m_process.waitForFinished(kRelayStopMs);
  }
}

double RelayProcess::rssMb() const {
  std::ifstream status("/proc/" + std::to_string(pid()) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  }
  return 0;
}

double RelayProcess::cpuSeconds() const {
  std::ifstream stat("/proc/" + std::to_string(pid()) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after the command name, which ends at the last ')': state is field 3, utime 14.
  const std::size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::strtod(field.c_str(), nullptr);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double RelayProcess::runQueueWaitSeconds() const {
  return quire::bench::runQueueWaitSeconds(static_cast<long>(pid()));
}

std::string RelayProcess::logTail() const {
  QFile file(QString::fromStdString(m_logPath));
  if (!file.open(QIODevice::ReadOnly)) return "(no log)";
  const QByteArray all = file.readAll();
  QList<QByteArray> lines = all.trimmed().split('\n');
  QByteArray tail;
  for (qsizetype i = std::max<qsizetype>(0, lines.size() - 5); i < lines.size(); ++i)
    tail += lines[i] + (i + 1 < lines.size() ? " | " : "");
  return tail.isEmpty() ? "(empty log)" : tail.toStdString();
}

}  // namespace quire::bench
