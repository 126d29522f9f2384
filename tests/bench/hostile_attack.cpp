#include "tests/bench/hostile_attack.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <span>

#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <QCoreApplication>
#include <QDir>
#include <QProcess>
#include <QTemporaryDir>
#include <QTimer>
#include <QUrl>
#include <QWebSocket>

#include "net/crypto.h"
#include "net/frame.h"
#include "tests/bench/hostile_attacker.h"
#include "tests/bench/hostile_honest.h"
#include "tests/bench/sync_support.h"
#include "tests/support/hostile_frames.h"

namespace quire::bench {

const char* const kAttackFrameKinds[4] = {"bomb snapshot", "counter overflow", "100,000 authors",
                                          "garbage"};

namespace {

namespace hostile = quire::test::hostile;

constexpr int kJoinTimeoutMs = 30'000;
constexpr int kRelayStartMs = 10'000;
// The relay keeps its default limits, but for the message rate and connections per address, which
// the bench's many peers on 127.0.0.1 would otherwise share. So the 100,000-author update (~2.6
// MB, over the default 1 MiB frame limit) is refused by the relay as it arrives: it closes the
// attacker (1009), who reconnects and rejoins, and the rest of the attack reaches the peers. The
// attacker runs on a thread of its own (tests/bench/hostile_attacker.h).
constexpr std::uint64_t kAttackAddressSpace = 8ull << 30;

const auto kKeyInterval = std::chrono::duration_cast<SyncClock::duration>(
    std::chrono::duration<double>(1.0 / 30.0));

// Quiet and attacked typing alternate within each run, so that whatever else the machine does
// (a VM's timer and wake-up latency comes and goes for seconds at a time) falls on both alike:
// kCycles cycles of a quiet slice, then an attacked one. Each quiet slice begins with
// kSettleKeys keystrokes (0.5 s) that count for neither, so no frame of the attack before it is
// still being handled when the quiet ones are typed.
constexpr std::size_t kCycles = 5;
constexpr std::size_t kSettleKeys = 15;

// What a keystroke, by its index among its sender's, is typed under.
enum class Slice { Settle, Quiet, Attacked };
Slice sliceOf(std::size_t keystroke, std::size_t perSlice) {
  const std::size_t r = keystroke % (kSettleKeys + 2 * perSlice);
  if (r < kSettleKeys) return Slice::Settle;
  return r < kSettleKeys + perSlice ? Slice::Quiet : Slice::Attacked;
}

std::int64_t vmSizeBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmSize:", 0) == 0) return std::atoll(line.c_str() + 7) * 1024;
  }
  return 0;
}

// A quire-relay child for the attack: listens on 127.0.0.1, limits raised as `sync`'s relay
// (messages per second, connections per address) plus the frame limit above. Dies with its
// parent (PR_SET_PDEATHSIG), so a killed bench leaves no relay behind.
class AttackRelay {
 public:
  ~AttackRelay() {
    if (m_process.state() != QProcess::NotRunning) {
      m_process.terminate();
      if (!m_process.waitForFinished(5000)) m_process.kill();
    }
  }
  Result<QString> start(const QString& dir) {
#ifndef QUIRE_BENCH_RELAY_PATH
    (void)dir;
    return fail(Error::io("quire-bench was built without quire-relay (QUIRE_BENCH_RELAY_PATH)"));
#else
    const QString program = QStringLiteral(QUIRE_BENCH_RELAY_PATH);
    QStringList args{QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
                     QStringLiteral("--db"), dir + QStringLiteral("/relay.db"),
                     QStringLiteral("--max-messages-per-second"), QStringLiteral("100000")};
    QProcess help;
    help.start(program, {QStringLiteral("--help")});
    help.waitForFinished(kRelayStartMs);
    if (help.readAllStandardOutput().contains("--max-connections-per-ip")) {
      args << QStringLiteral("--max-connections-per-ip") << QStringLiteral("10000");
    }
    m_process.setChildProcessModifier([] { prctl(PR_SET_PDEATHSIG, SIGKILL); });
    m_process.setStandardErrorFile(dir + QStringLiteral("/relay.log"));
    m_process.start(program, args);
    if (!m_process.waitForStarted(kRelayStartMs)) {
      return fail(Error::io("cannot start quire-relay: " + m_process.errorString().toStdString()));
    }
    QByteArray line;
    const auto deadline = SyncClock::now() + std::chrono::milliseconds(kRelayStartMs);
    while (!line.endsWith('\n') && SyncClock::now() < deadline &&
           m_process.state() == QProcess::Running) {
      if (m_process.waitForReadyRead(100)) line += m_process.readLine();
    }
    line = line.trimmed();
    const QByteArray prefix("listening on ");
    if (!line.startsWith(prefix + "ws://")) {
      return fail(Error::io("quire-relay did not start listening (said '" + line.toStdString() + "')"));
    }
    return QString::fromLatin1(line.mid(prefix.size()));
#endif
  }

 private:
  QProcess m_process;
};

QString roomHex(const net::DocKey& key) {
  const net::RoomId room = net::roomIdOf(key);
  return QString::fromLatin1(
      QByteArray(reinterpret_cast<const char*>(room.bytes.data()), room.bytes.size()).toHex());
}

QByteArray toQt(const std::vector<std::uint8_t>& bytes) {
  return QByteArray(reinterpret_cast<const char*>(bytes.data()), static_cast<qsizetype>(bytes.size()));
}

struct SliceFigures {
  double p50 = 0, p99 = 0, max = 0;
  int missing = 0;
};

// One run: a fresh room, the honest peers and then the attacker joined, then quiet and attacked
// slices alternating.
class AttackRunner {
 public:
  AttackRunner(const AttackConfig& config, QString relayUrl)
      : m_config(config), m_relayUrl(std::move(relayUrl)), m_key(net::generateKey()),
        m_rng(net::randomU64()), m_shared(static_cast<std::size_t>(config.peers)) {}
  ~AttackRunner() {
    stopping();
    m_attacker.reset();
    m_peers.clear();
  }

  Result<AttackRun> run();

 private:
  Result<void> join();
  Result<void> buildAttack();
  // Types the whole interleaved run and returns the quiet and the attacked figures.
  Result<std::pair<SliceFigures, SliceFigures>> type();
  void stopping() {
    std::lock_guard held(m_shared.lock);
    m_shared.stopping = true;
  }
  std::string failure() {
    std::lock_guard held(m_shared.lock);
    return m_shared.failure;
  }

  AttackConfig m_config;
  QString m_relayUrl;
  net::DocKey m_key;
  std::mt19937_64 m_rng;
  HonestShared m_shared;
  std::vector<std::unique_ptr<HonestPeer>> m_peers;
  std::unique_ptr<AttackerThread> m_attacker;
  std::vector<std::pair<int, QByteArray>> m_frames;  // (kind, sealed frame), in rotation order
};

Result<void> AttackRunner::join() {
  for (int i = 0; i < m_config.peers; ++i) {
    m_peers.push_back(std::make_unique<HonestPeer>(static_cast<std::size_t>(i), m_key, m_shared, m_rng()));
    m_peers.back()->connectTo(m_relayUrl);
  }
  const bool joined = runUntil(
      [&] {
        return !failure().empty() ||
               std::all_of(m_peers.begin(), m_peers.end(), [](const auto& p) { return p->synced(); });
      },
      kJoinTimeoutMs);
  if (const std::string why = failure(); !why.empty()) return fail(Error::io(why));
  if (!joined) return fail(Error::io("the honest peers did not join the relay room within 30 s"));
  return {};
}

Result<void> AttackRunner::buildAttack() {
  const net::RoomId room = net::roomIdOf(m_key);
  const std::uint64_t seed = m_rng();
  const QByteArray bomb = toQt(hostile::bombSnapshotFrame(m_key, room));
  const QByteArray seqOverflow =
      toQt(hostile::sealedFrame(m_key, room, hostile::updateMessage(hostile::seqOverflowUpdate())));
  const QByteArray lvOverflow =
      toQt(hostile::sealedFrame(m_key, room, hostile::updateMessage(hostile::lvOverflowUpdate())));
  const QByteArray authors = toQt(hostile::sealedFrame(
      m_key, room, hostile::updateMessage(hostile::manyAuthorsUpdate(hostile::kManyAuthors, seed))));
  const QByteArray garbage1 = toQt(hostile::sealedGarbageFrame(m_key, room, 4096, seed + 1));
  const QByteArray garbage2 = toQt(hostile::sealedGarbageFrame(m_key, room, 4096, seed + 2));
  // The counter overflow alternates between the per-author seq and the document's op counter.
  m_frames = {{0, bomb}, {1, seqOverflow}, {2, authors}, {3, garbage1},
              {0, bomb}, {1, lvOverflow},  {2, authors}, {3, garbage2}};
  return {};
}

Result<std::pair<SliceFigures, SliceFigures>> AttackRunner::type() {
  const std::size_t n = m_peers.size();
  const std::size_t perSlice = std::max<std::size_t>(1, static_cast<std::size_t>(m_config.keystrokesPerPeer) / kCycles);
  const std::size_t perCycle = kSettleKeys + 2 * perSlice;
  const std::size_t keys = kCycles * perCycle;
  // Every peer types `keys` keystrokes on one schedule, spread evenly over one keystroke
  // interval; the attacker is switched on and off on the same schedule, by keystroke index.
  const SyncClock::time_point start = SyncClock::now() + std::chrono::milliseconds(20);
  for (std::size_t i = 0; i < n; ++i) m_peers[i]->startTyping(keys, start + kKeyInterval * i / n);
  bool attacking = false;
  QTimer switcher;
  switcher.setTimerType(Qt::PreciseTimer);
  QObject::connect(&switcher, &QTimer::timeout, [&] {
    const auto due = static_cast<std::size_t>((SyncClock::now() - start) / kKeyInterval);
    const bool attack = due < keys && sliceOf(due, perSlice) == Slice::Attacked;
    if (attack != attacking) m_attacker->setAttacking(attacking = attack);
  });
  switcher.start(1);
  const std::size_t expected = n * (n - 1) * keys;
  const int typingMs = static_cast<int>(1000.0 * static_cast<double>(keys) / 30.0);
  runUntil(
      [&] {
        if (std::any_of(m_peers.begin(), m_peers.end(), [](const auto& p) { return p->typing(); }))
          return !failure().empty();
        std::lock_guard held(m_shared.lock);
        return !m_shared.failure.empty() || m_shared.deliveries.size() >= expected;
      },
      typingMs + m_config.drainTimeoutMs);
  switcher.stop();
  if (attacking) m_attacker->setAttacking(false);
  // Deliveries still missing count from typing to now: a lower bound on their latency.
  const SyncClock::time_point deadline = SyncClock::now();
  std::lock_guard held(m_shared.lock);
  if (!m_shared.failure.empty()) return fail(Error::io(m_shared.failure));
  std::vector<double> latencies[2];  // quiet, attacked
  SliceFigures figures[2];
  for (const HonestDelivery& d : m_shared.deliveries) {
    const Slice slice = sliceOf(d.keystroke, perSlice);
    if (slice != Slice::Settle) latencies[slice == Slice::Attacked].push_back(d.ms);
  }
  for (std::size_t r = 0; r < n; ++r) {
    for (std::size_t s = 0; s < n; ++s) {
      if (r == s) continue;
      const std::vector<SyncClock::time_point>& typed = m_shared.typedAt[s];
      for (std::size_t k = m_shared.received[r][s]; k < typed.size(); ++k) {
        const Slice slice = sliceOf(k, perSlice);
        if (slice == Slice::Settle) continue;
        latencies[slice == Slice::Attacked].push_back(msBetween(typed[k], deadline));
        ++figures[slice == Slice::Attacked].missing;
      }
    }
  }
  for (int i = 0; i < 2; ++i) {
    if (latencies[i].empty()) continue;
    figures[i].p50 = percentileOf(latencies[i], 0.50);
    figures[i].p99 = percentileOf(latencies[i], 0.99);
    figures[i].max = percentileOf(latencies[i], 1.0);
  }
  return std::pair{figures[0], figures[1]};
}

Result<AttackRun> AttackRunner::run() {
  if (m_config.peers < 2 || m_config.peers > 26) return fail(Error::io("peers must be 2..26"));
  if (auto joined = join(); !joined) return fail(joined.error());
  if (auto built = buildAttack(); !built) return fail(built.error());
  m_attacker = std::make_unique<AttackerThread>(m_relayUrl, roomHex(m_key), m_frames);
  if (!runUntil([&] { return m_attacker->joined(); }, kJoinTimeoutMs)) {
    return fail(Error::io("the attacker could not join the room"));
  }
  auto typed = type();
  if (!typed) return fail(typed.error());
  const auto& [quiet, attacked] = *typed;
  AttackRun out;
  out.quietP50Ms = quiet.p50;
  out.quietP99Ms = quiet.p99;
  out.quietMaxMs = quiet.max;
  out.quietMissing = quiet.missing;
  out.attackP50Ms = attacked.p50;
  out.attackP99Ms = attacked.p99;
  out.attackMaxMs = attacked.max;
  out.attackMissing = attacked.missing;
  for (int kind = 0; kind < 4; ++kind) {
    out.framesByKind[kind] = m_attacker->framesSent(kind);
    out.framesSent += out.framesByKind[kind];
  }
  out.attackerClosed = m_attacker->closedByRelay();
  stopping();
  m_attacker.reset();
  m_peers.clear();  // each closes its connections (up to 3 s) and joins its thread
  return out;
}

// What the child writes to its pipe, one record per completed run, then one closing record.
struct Record {
  enum Type : int { Run = 0, Failure = 1, Note = 2 } type = Run;
  AttackRun run;
  char text[480] = {};
};

void writeRecord(int fd, const Record& r) {
  const char* p = reinterpret_cast<const char*>(&r);
  std::size_t left = sizeof r;
  while (left > 0) {
    const ssize_t n = write(fd, p, left);
    if (n <= 0) return;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

void writeText(int fd, Record::Type type, const std::string& text) {
  Record r;
  r.type = type;
  std::snprintf(r.text, sizeof r.text, "%s", text.c_str());
  writeRecord(fd, r);
}

[[noreturn]] void attackChild(const AttackConfig& config, int fd) {
  const auto size = static_cast<rlim_t>(vmSizeBytes());
  const rlimit as{size + kAttackAddressSpace, size + kAttackAddressSpace};
  setrlimit(RLIMIT_AS, &as);
  static int argc = 1;
  static char name[] = "quire-bench";
  static char* argv[] = {name, nullptr};
  int code = 0;
  {
    QCoreApplication app(argc, argv);
    if (auto crypto = net::initCrypto(); !crypto) {
      writeText(fd, Record::Failure, crypto.error().toString());
      _exit(1);
    }
    QTemporaryDir dir(QDir::tempPath() + QStringLiteral("/quire-bench-hostile-XXXXXX"));
    AttackRelay relay;
    auto url = relay.start(dir.path());
    if (!url) {
      writeText(fd, Record::Failure, url.error().toString());
      code = 1;
    } else {
      writeText(fd, Record::Note,
                "relay with default limits (1 MiB frames), but for the message rate and connections "
                "per address: it refuses the ~2.6 MB 100,000-author frame by size and closes the "
                "attacker, who rejoins 50 ms later; the attacker runs on a thread of its own at idle "
                "priority (SCHED_IDLE: a machine of its own would not take CPU from the honest "
                "ones either; the relay's work for it still counts); each honest peer on a thread "
                "of its own, as in a quire process of its own");
      for (int i = 0; i < config.runs; ++i) {
        AttackRunner runner(config, *url);
        auto result = runner.run();
        if (!result) {
          writeText(fd, Record::Failure, "run " + std::to_string(i + 1) + ": " + result.error().message());
          code = 1;
          break;
        }
        Record r;
        r.run = *result;
        writeRecord(fd, r);
      }
    }
  }
  close(fd);
  _exit(code);
}

}  // namespace

AttackFigures measureAttack(const AttackConfig& config) {
  AttackFigures figures;
  int fds[2];
  if (pipe(fds) != 0) {
    figures.failure = "pipe failed";
    return figures;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    attackChild(config, fds[1]);
  }
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    figures.failure = "fork failed";
    return figures;
  }
  // A run takes two phases of typing plus their drains, and joins; past that, the child is stuck.
  const int typingMs = config.keystrokesPerPeer * 1000 / 30;
  const int perRunMs = 2 * (typingMs + config.drainTimeoutMs) + 2 * kJoinTimeoutMs / 3 + 10'000;
  const auto deadline = SyncClock::now() + std::chrono::milliseconds(perRunMs * config.runs + 20'000);
  Record record;
  std::size_t got = 0;
  bool killed = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SyncClock::now()).count();
    if (left <= 0) {
      kill(pid, SIGKILL);
      killed = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000))) <= 0) continue;
    const ssize_t n = read(fds[0], reinterpret_cast<char*>(&record) + got, sizeof record - got);
    if (n <= 0) break;  // the child is gone
    got += static_cast<std::size_t>(n);
    if (got < sizeof record) continue;
    got = 0;
    if (record.type == Record::Run) figures.runs.push_back(record.run);
    if (record.type == Record::Failure) figures.failure = record.text;
    if (record.type == Record::Note) figures.note = record.text;
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (killed) {
    figures.failure = "the attack child was still running at its deadline (an honest peer blocked?) "
                      "and was killed after " + std::to_string(figures.runs.size()) + " runs";
  } else if (figures.failure.empty() && WIFSIGNALED(status)) {
    figures.failure = "the attack child died: signal " + std::to_string(WTERMSIG(status)) + " (" +
                      strsignal(WTERMSIG(status)) + ") after " + std::to_string(figures.runs.size()) + " runs";
  }
  return figures;
}

}  // namespace quire::bench
