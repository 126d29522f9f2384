#include "tests/bench/sync_bench.h"

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <QCoreApplication>
#include <QDir>
#include <QJsonObject>
#include <QString>
#include <QTemporaryDir>

#include "app/trace/trace_file.h"
#include "app/trace/trace_replay.h"
#include "engine/document.h"
#include "net/crypto.h"
#include "tests/bench/bench_report.h"
#include "tests/bench/sync_join.h"
#include "tests/bench/sync_relay_load.h"
#include "tests/bench/sync_support.h"
#include "tests/bench/sync_typing.h"

namespace quire::bench {

namespace {

constexpr const char* kTraceName = "automerge-paper";
constexpr int kPeerCounts[] = {2, 10, 50};
constexpr int kDurablePeers = 10;
// Keystrokes per peer per run (3 s at 30/s; --quick 1 s), and the load test's windows.
constexpr int kKeystrokes = 90;
constexpr int kKeystrokesQuick = 30;
constexpr int kLoadWarmupMs = 1000;
constexpr int kLoadWindowMs = 3000;
constexpr int kLoadWarmupMsQuick = 500;
constexpr int kLoadWindowMsQuick = 1500;

const char* const kStarNote =
    "a star: peer 0 serves the document with a WsListener and the others dial it, so a keystroke "
    "between two other peers crosses peer 0 (decoded, applied and re-sealed there)";

std::string configName(bool relay, int peers) {
  return std::string(relay ? "relay" : "direct") + "/" + std::to_string(peers);
}

struct TypingFigures {
  std::vector<double> p50, p99, max, typedPerSecond, benchCpu, relayCpu;
  std::size_t deliveries = 0;  // per run
  std::size_t echoSends = 0;         // over all runs
  std::size_t uncommittedSends = 0;  // over all runs
  void add(const TypingResult& r) {
    p50.push_back(r.p50Ms);
    p99.push_back(r.p99Ms);
    max.push_back(r.maxMs);
    typedPerSecond.push_back(r.typedPerSecond);
    benchCpu.push_back(r.benchCpuPercent);
    relayCpu.push_back(r.relayCpuPercent);
    deliveries = r.deliveries;
    echoSends += r.echoSends;
    uncommittedSends += r.uncommittedSends;
  }
};

struct SyncFigures {
  int keystrokes = 0;
  std::map<std::string, TypingFigures> typing;  // by configName()
  TypingFigures durable;                        // relay/10, AppendQueue before each send
  std::vector<double> joinDirectMs, joinRelayMs;
  std::uint32_t docChars = 0;
  std::vector<double> wireSent, wireReceived;
  std::size_t wireFirstSent = 0;
  std::vector<double> loadFramesPerS, loadRssMb, loadRelayCpu, loadBenchCpu, loadRelayWait,
      loadBenchWait;
  double loadAverageStart = -1, loadAverageEnd = -1;
  std::size_t loadFrameBytes = 0;
  std::string relayNote;
};

Result<void> measure(const BenchOptions& options, const engine::Document& traceDoc,
                     const std::string& text, const std::string& dir, SyncFigures& f) {
  f.loadAverageStart = loadAverage();
  auto relay = RelayProcess::start(dir, "relay");
  if (!relay) return fail(relay.error());
  const QString relayUrl = (*relay)->url();
  f.relayNote = (*relay)->note();
  f.keystrokes = options.quick ? kKeystrokesQuick : kKeystrokes;

  for (int run = 0; run < options.runs; ++run) {
    for (bool viaRelay : {true, false}) {
      for (int peers : kPeerCounts) {
        const std::string name = configName(viaRelay, peers);
        std::fprintf(stderr, "  run %d/%d: keystrokes, %s (%d peers x %d at 30/s)\n", run + 1,
                     options.runs, name.c_str(), peers, f.keystrokes);
        TypingConfig config;
        config.relay = viaRelay;
        config.peers = peers;
        config.keystrokesPerPeer = f.keystrokes;
        config.relayProcess = relay->get();
        auto typed = runTyping(config, relayUrl);
        if (!typed) return fail(Error::io(name + ": " + typed.error().toString()));
        f.typing[name].add(*typed);
      }
    }
    std::fprintf(stderr, "  run %d/%d: keystrokes, relay/%d durable (AppendQueue, then send)\n",
                 run + 1, options.runs, kDurablePeers);
    TypingConfig durable;
    durable.relay = true;
    durable.peers = kDurablePeers;
    durable.keystrokesPerPeer = f.keystrokes;
    durable.durable = true;
    durable.relayProcess = relay->get();
    durable.dir = dir + "/durable-" + std::to_string(run);
    if (!QDir().mkpath(QString::fromStdString(durable.dir))) {
      return fail(Error::io("cannot create " + durable.dir));
    }
    auto typed = runTyping(durable, relayUrl);
    if (!typed) return fail(Error::io("relay/10 durable: " + typed.error().toString()));
    f.durable.add(*typed);

    std::fprintf(stderr, "  run %d/%d: wire bytes per keystroke\n", run + 1, options.runs);
    auto wire = runWire(relayUrl, f.keystrokes);
    if (!wire) return fail(Error::io("wire: " + wire.error().toString()));
    f.wireSent.push_back(wire->sentBytes);
    f.wireReceived.push_back(wire->receivedBytes);
    f.wireFirstSent = wire->firstSentBytes;
  }

  f.docChars = traceDoc.length();
  std::fprintf(stderr, "  join: %d direct, then %d through the relay\n", options.runs, options.runs);
  auto direct = measureDirectJoins(traceDoc, text, options.runs);
  if (!direct) return fail(Error::io("join direct: " + direct.error().toString()));
  f.joinDirectMs = *direct;
  auto viaRelay = measureRelayJoins(traceDoc, text, relayUrl, options.runs);
  if (!viaRelay) return fail(Error::io("join relay: " + viaRelay.error().toString()));
  f.joinRelayMs = *viaRelay;
  if (!(*relay)->running()) return fail(Error::io("quire-relay exited: " + (*relay)->logTail()));
  relay->reset();

  const int warmup = options.quick ? kLoadWarmupMsQuick : kLoadWarmupMs;
  const int window = options.quick ? kLoadWindowMsQuick : kLoadWindowMs;
  for (int run = 0; run < options.runs; ++run) {
    std::fprintf(stderr, "  run %d/%d: relay load, %d rooms x %d peers, %d ms counted\n", run + 1,
                 options.runs, kLoadRooms, kLoadPeersPerRoom, window);
    auto load = runRelayLoad(dir, "load-" + std::to_string(run), warmup, window);
    if (!load) return fail(Error::io("relay load: " + load.error().toString()));
    f.loadFramesPerS.push_back(load->framesPerSecond);
    f.loadRssMb.push_back(load->relayRssMb);
    f.loadRelayCpu.push_back(load->relayCpuPercent);
    f.loadBenchCpu.push_back(load->benchCpuPercent);
    f.loadRelayWait.push_back(load->relayWaitPercent);
    f.loadBenchWait.push_back(load->benchWaitPercent);
    f.loadFrameBytes = load->frameBytes;
  }
  f.loadAverageEnd = loadAverage();
  return {};
}

void printFigures(const SyncFigures& f) {
  std::printf("Keystroke latency, local edit -> each other peer's patchesApplied, ms "
              "(%d keystrokes per peer at 30/s per run)\n",
              f.keystrokes);
  std::vector<std::vector<std::string>> rows{
      {"route/peers", "p50", "p99", "max", "typed/s per peer", "CPU % bench", "CPU % relay",
       "target"}};
  for (bool viaRelay : {true, false}) {
    for (int peers : kPeerCounts) {
      const std::string name = configName(viaRelay, peers);
      const TypingFigures& t = f.typing.at(name);
      rows.push_back({name, formatSample(summarize(t.p50), 2), formatSample(summarize(t.p99), 2),
                      formatSample(summarize(t.max), 1), formatSample(summarize(t.typedPerSecond), 1),
                      formatSample(summarize(t.benchCpu), 0),
                      viaRelay ? formatSample(summarize(t.relayCpu), 0) : "-",
                      name == "relay/10" ? "p99 <= 2" : ""});
    }
  }
  rows.push_back({"relay/10 durable", formatSample(summarize(f.durable.p50), 2),
                  formatSample(summarize(f.durable.p99), 2), formatSample(summarize(f.durable.max), 1),
                  formatSample(summarize(f.durable.typedPerSecond), 1),
                  formatSample(summarize(f.durable.benchCpu), 0),
                  formatSample(summarize(f.durable.relayCpu), 0), ""});
  printTable(rows);
  std::printf("direct = %s.\ndurable = each sender commits through its own AppendQueue and sends "
              "in the commit callback exactly the ops that commit made durable; %zu commits landed "
              "after remote ops had arrived and %zu after the sender's next keystroke (neither is "
              "sent with it).\n\n",
              kStarNote, f.durable.echoSends, f.durable.uncommittedSends);

  std::printf("Join a document holding the %s history (%u characters), dial -> text complete\n",
              kTraceName, f.docChars);
  printTable({
      {"route", "join_ms", "target"},
      {"direct (WsListener)", formatSample(summarize(f.joinDirectMs), 1), "<= 100"},
      {"relay (room snapshot)", formatSample(summarize(f.joinRelayMs), 1), "<= 100"},
  });
  std::printf("\n");

  std::printf("Wire bytes per steady keystroke (sealed frame + WebSocket header; no presence "
              "sent)\n");
  printTable({
      {"direction", "bytes", "target"},
      {"typist -> relay (masked)", formatSample(summarize(f.wireSent), 1), "<= 64"},
      {"relay -> receiver", formatSample(summarize(f.wireReceived), 1), ""},
      {"typist's first keystroke", std::to_string(f.wireFirstSent), ""},
  });
  std::printf("\n");

  std::printf("Relay forwarding, %d rooms x %d raw clients, %zu-byte frames, window %d per "
              "client\n",
              kLoadRooms, kLoadPeersPerRoom, f.loadFrameBytes, kLoadWindow);
  printTable({
      {"figure", "median (min-max)", "target"},
      {"relay_frames_per_s", formatSample(summarize(f.loadFramesPerS), 0), ">= 50000"},
      {"relay_rss_mb", formatSample(summarize(f.loadRssMb), 1), ""},
      {"relay CPU, % of a core", formatSample(summarize(f.loadRelayCpu), 0), ""},
      {"clients' CPU, % of a core", formatSample(summarize(f.loadBenchCpu), 0), ""},
      {"relay waiting for a CPU, %", formatSample(summarize(f.loadRelayWait), 0), ""},
      {"clients waiting for a CPU, %", formatSample(summarize(f.loadBenchWait), 0), ""},
  });
  std::printf("load average (1 min) at start %.2f, at end %.2f\n", f.loadAverageStart,
              f.loadAverageEnd);
  if (!f.relayNote.empty()) std::printf("note: %s\n", f.relayNote.c_str());
}

QJsonObject typingJson(const TypingFigures& t, bool viaRelay) {
  QJsonObject obj;
  addSample(obj, "keystroke_p50_ms", summarize(t.p50), false);
  addSample(obj, "keystroke_p99_ms", summarize(t.p99), false);
  addSample(obj, "keystroke_max_ms", summarize(t.max), false);
  addSample(obj, "typed_per_s", summarize(t.typedPerSecond), false);
  addSample(obj, "bench_cpu_percent", summarize(t.benchCpu), false);
  if (viaRelay) addSample(obj, "relay_cpu_percent", summarize(t.relayCpu), false);
  obj.insert(QStringLiteral("deliveries_per_run"), static_cast<qint64>(t.deliveries));
  return obj;
}

QJsonObject toJson(const SyncFigures& f, const BenchOptions& options) {
  QJsonObject root;
  root.insert(QStringLiteral("name"), QStringLiteral("sync"));
  root.insert(QStringLiteral("trace"), QString::fromLatin1(kTraceName));
  root.insert(QStringLiteral("runs"), options.runs);
  root.insert(QStringLiteral("quick"), options.quick);
  root.insert(QStringLiteral("machine"), QString::fromStdString(machineDescription()));
  root.insert(QStringLiteral("address"), QStringLiteral("127.0.0.1"));
  root.insert(QStringLiteral("load_average_start"), f.loadAverageStart);
  root.insert(QStringLiteral("load_average_end"), f.loadAverageEnd);

  QJsonObject keystroke;
  keystroke.insert(QStringLiteral("keystrokes_per_peer"), f.keystrokes);
  keystroke.insert(QStringLiteral("keys_per_second"), kTypingKeysPerSecond);
  for (bool viaRelay : {true, false}) {
    QJsonObject route;
    for (int peers : kPeerCounts) {
      QJsonObject config = typingJson(f.typing.at(configName(viaRelay, peers)), viaRelay);
      if (viaRelay && peers == kDurablePeers) {
        addSample(config, "durable_keystroke_p50_ms", summarize(f.durable.p50), false);
        addSample(config, "durable_keystroke_p99_ms", summarize(f.durable.p99), false);
        config.insert(QStringLiteral("durable_echo_sends"), static_cast<qint64>(f.durable.echoSends));
        config.insert(QStringLiteral("durable_uncommitted_sends"),
                      static_cast<qint64>(f.durable.uncommittedSends));
      }
      route.insert(QString::number(peers), config);
    }
    if (!viaRelay) route.insert(QStringLiteral("topology"), QString::fromLatin1(kStarNote));
    keystroke.insert(viaRelay ? QStringLiteral("relay") : QStringLiteral("direct"), route);
  }
  root.insert(QStringLiteral("keystroke"), keystroke);

  QJsonObject join;
  QJsonObject joinDirect;
  addSample(joinDirect, "join_ms", summarize(f.joinDirectMs), false);
  QJsonObject joinRelay;
  addSample(joinRelay, "join_ms", summarize(f.joinRelayMs), false);
  join.insert(QStringLiteral("direct"), joinDirect);
  join.insert(QStringLiteral("relay"), joinRelay);
  join.insert(QStringLiteral("doc_chars"), static_cast<qint64>(f.docChars));
  root.insert(QStringLiteral("join"), join);

  QJsonObject wire;
  addSample(wire, "wire_bytes_per_keystroke", summarize(f.wireSent), false);
  addSample(wire, "wire_bytes_per_keystroke_received", summarize(f.wireReceived), false);
  wire.insert(QStringLiteral("first_keystroke_wire_bytes"), static_cast<qint64>(f.wireFirstSent));
  wire.insert(QStringLiteral("presence_sent"), false);
  root.insert(QStringLiteral("wire"), wire);

  QJsonObject load;
  addSample(load, "relay_frames_per_s", summarize(f.loadFramesPerS), false);
  addSample(load, "relay_rss_mb", summarize(f.loadRssMb), false);
  addSample(load, "relay_cpu_percent", summarize(f.loadRelayCpu), false);
  addSample(load, "clients_cpu_percent", summarize(f.loadBenchCpu), false);
  addSample(load, "relay_cpu_wait_percent", summarize(f.loadRelayWait), false);
  addSample(load, "clients_cpu_wait_percent", summarize(f.loadBenchWait), false);
  load.insert(QStringLiteral("rooms"), kLoadRooms);
  load.insert(QStringLiteral("peers_per_room"), kLoadPeersPerRoom);
  load.insert(QStringLiteral("window_per_client"), kLoadWindow);
  load.insert(QStringLiteral("frame_bytes"), static_cast<qint64>(f.loadFrameBytes));
  root.insert(QStringLiteral("relay_load"), load);
  return root;
}

}  // namespace

int runSyncBench(const BenchOptions& options) {
  // Sockets and timers need an application object; quire-bench's main() makes none.
  static int argc = 1;
  static char name[] = "quire-bench";
  static char* argv[] = {name, nullptr};
  std::unique_ptr<QCoreApplication> app;
  if (QCoreApplication::instance() == nullptr) app = std::make_unique<QCoreApplication>(argc, argv);

  if (auto crypto = net::initCrypto(); !crypto) {
    std::fprintf(stderr, "quire-bench: %s\n", crypto.error().toString().c_str());
    return kExitFailure;
  }
  const std::string tracePath = options.tracesDir + "/sequential/" + kTraceName + ".json.gz";
  auto trace = trace::loadTrace(tracePath);
  if (!trace) {
    std::fprintf(stderr, "quire-bench: %s\n", trace.error().toString().c_str());
    return kExitFailure;
  }
  auto traceDoc = trace::replaySequential(*trace);
  if (!traceDoc) {
    std::fprintf(stderr, "quire-bench: %s: %s\n", kTraceName, traceDoc.error().toString().c_str());
    return kExitFailure;
  }
  if (traceDoc->text() != trace->endContent) {
    std::fprintf(stderr, "quire-bench: %s: replay differs from endContent\n", kTraceName);
    return kExitFailure;
  }

  const std::string machine = machineDescription();
  std::printf("quire-bench sync: 127.0.0.1, quire-relay as a child process, %d runs, median "
              "(min-max), on %s, load average %.2f%s\n\n",
              options.runs, machine.c_str(), loadAverage(),
              options.quick ? " (--quick: fewer keystrokes and a shorter load window per run)" : "");
  std::fflush(stdout);
  const QTemporaryDir dir(QDir::tempPath() + QStringLiteral("/quire-bench-sync-XXXXXX"));
  if (!dir.isValid()) {
    std::fprintf(stderr, "quire-bench: cannot create a temporary folder: %s\n",
                 dir.errorString().toStdString().c_str());
    return kExitFailure;
  }
  SyncFigures figures;
  if (auto measured = measure(options, *traceDoc, trace->endContent, dir.path().toStdString(), figures);
      !measured) {
    // The message already names the case and the inner error's kind.
    std::fprintf(stderr, "quire-bench: sync: %s\n", measured.error().message().c_str());
    return kExitFailure;
  }
  printFigures(figures);
  if (auto written = writeJson(options.jsonPath, toJson(figures, options)); !written) {
    std::fprintf(stderr, "quire-bench: %s\n", written.error().toString().c_str());
    return kExitFailure;
  }
  std::printf("\nwrote %s\n", options.jsonPath.c_str());
  return kExitOk;
}

}  // namespace quire::bench
