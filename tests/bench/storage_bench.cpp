#include "tests/bench/storage_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <QDir>
#include <QFile>
#include <QJsonObject>
#include <QProcess>
#include <QString>
#include <QTemporaryDir>

#include "app/trace/trace_file.h"
#include "app/trace/trace_replay.h"
#include "engine/document.h"
#include "storage/append_queue.h"
#include "storage/document_store.h"
#include "tests/bench/bench_report.h"

namespace quire::bench {

namespace {

using Clock = std::chrono::steady_clock;
using storage::DocumentId;
using storage::DocumentStore;

constexpr const char* kTraceName = "automerge-paper";
constexpr int kTailRows = 10'000;
constexpr double kTypingPerSecond = 30.0;
// Keystrokes per run; --quick runs fewer (the output says so).
constexpr int kPacedKeystrokes = 300;
constexpr int kPacedKeystrokesQuick = 60;
constexpr int kFullSpeedKeystrokes = 1000;
constexpr int kFullSpeedKeystrokesQuick = 200;
constexpr int kQueueBurstKeystrokes = 1000;
// Limits no tail here reaches, for the databases whose tail must stay uncompacted.
constexpr std::uint64_t kNeverCompact = std::uint64_t{1} << 40;

double elapsedMs(Clock::time_point start, Clock::time_point stop) {
  return std::chrono::duration<double, std::milli>(stop - start).count();
}

storage::OpenOptions neverCompacting() {
  storage::OpenOptions options;
  options.compactRows = kNeverCompact;
  options.compactBytes = kNeverCompact;
  return options;
}

std::uint64_t fileBytes(const std::string& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  return error ? 0 : static_cast<std::uint64_t>(size);
}

// A new document in `store` whose snapshot is `doc`'s whole history and whose tail is empty, as
// compaction leaves it. Stored straight from the replay: going through one big tail row first
// would leave that row's freed pages in the file and count them as the document's size.
Result<DocumentId> storeCompacted(DocumentStore& store, const engine::Document& doc) {
  auto id = store.create(kTraceName);
  if (!id) return fail(id.error());
  if (auto compacted = store.compact(*id, doc); !compacted) return fail(compacted.error());
  return *id;
}

// One keystroke at a pseudo-random place in `doc`, as the update that stores it.
Result<std::vector<std::uint8_t>> nextKeystroke(engine::Document& doc, std::mt19937& rng) {
  static constexpr char kLetters[] = "etaoinshrdlu ";
  const std::uint32_t pos = std::uniform_int_distribution<std::uint32_t>(0, doc.length())(rng);
  const char letter = kLetters[std::uniform_int_distribution<int>(0, sizeof kLetters - 2)(rng)];
  const engine::LV before = doc.nextLv();
  if (auto inserted = doc.insert(pos, std::string_view(&letter, 1)); !inserted) {
    return fail(inserted.error());
  }
  return doc.encodeOpsSince(before);
}

// One keystroke stored as its own update. Returns the time append() took, in ms.
Result<double> typeOne(DocumentStore& store, const DocumentId& id, engine::Document& doc,
                       std::mt19937& rng) {
  auto update = nextKeystroke(doc, rng);
  if (!update) return fail(update.error());
  const Clock::time_point start = Clock::now();
  if (auto appended = store.append(id, *update, &doc); !appended) return fail(appended.error());
  return elapsedMs(start, Clock::now());
}

// Latencies (ms) from AppendQueue::append() to each committed callback, for `updates` queued
// `interval` apart (zero: flat out). Fails with the first update's error, if any.
Result<std::vector<double>> queueLatencies(storage::AppendQueue& queue, const DocumentId& id,
                                           std::vector<std::vector<std::uint8_t>> updates,
                                           Clock::duration interval) {
  std::vector<double> latencies(updates.size());
  std::vector<std::optional<Error>> errors(updates.size());  // written on the writer thread
  Clock::time_point next = Clock::now();
  for (std::size_t i = 0; i < updates.size(); ++i) {
    if (interval != Clock::duration::zero()) {
      std::this_thread::sleep_until(next);
      next += interval;
    }
    const Clock::time_point start = Clock::now();
    queue.append(id, std::move(updates[i]), [&latencies, &errors, i, start](Result<void> r) {
      latencies[i] = elapsedMs(start, Clock::now());
      if (!r) errors[i] = r.error();
    });
  }
  queue.flush();  // after it, the callbacks' writes are visible here
  for (auto& e : errors) {
    if (e) return fail(std::move(*e));
  }
  return latencies;
}

// The value below which `share` of `values` lie (nearest rank). REQUIRES: !values.empty().
double percentile(std::vector<double> values, double share) {
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(share * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

struct StorageFigures {
  std::vector<double> openMs;
  std::vector<double> openTailMs;
  std::vector<double> appendP99Ms;
  std::vector<double> appendP50Ms;
  std::vector<double> appendPerS;
  std::vector<double> queueAppendP99Ms;
  std::vector<double> queueBurstMaxMs;
  std::uint64_t diskBytes = 0;
  std::uint64_t walBytes = 0;
  std::uint64_t encodedBytes = 0;
  std::uint64_t tailRows = 0;
  int pacedKeystrokes = 0;
  int fullSpeedKeystrokes = 0;
};

// Runs the hidden child on `db` and returns its open time; checks the text size it read.
Result<double> openInChild(const std::string& self, const std::string& db, const DocumentId& id,
                           std::size_t textBytes) {
  QProcess child;
  child.setProcessChannelMode(QProcess::ForwardedErrorChannel);
  child.start(QString::fromStdString(self),
              {QString::fromLatin1(kStorageOpenChild), QString::fromStdString(db),
               QString::fromStdString(id.toHex())});
  if (!child.waitForFinished(60'000) || child.exitStatus() != QProcess::NormalExit ||
      child.exitCode() != 0) {
    return fail(Error::io("open child on " + db + " failed: " + child.errorString().toStdString()));
  }
  const std::string line = child.readAllStandardOutput().trimmed().toStdString();
  double ms = 0;
  unsigned long long bytes = 0;
  if (std::sscanf(line.c_str(), "open_ms %lf text_bytes %llu", &ms, &bytes) != 2) {
    return fail(Error::malformed("open child printed '" + line + "'"));
  }
  if (bytes != textBytes) {
    return fail(Error::corrupt("open child read " + std::to_string(bytes) + " bytes of text, " +
                               std::to_string(textBytes) + " expected"));
  }
  return ms;
}

Result<void> measure(const BenchOptions& options, const engine::Document& traceDoc,
                     const std::string& dir, StorageFigures& figures) {
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::mt19937 rng(20261127);

  // The compacted document: its size on disk, then the engine's encoding of what it holds.
  const std::string compactedDb = dir + "/compacted.db";
  DocumentId compactedId;
  std::size_t compactedTextBytes = 0;
  {
    auto store = DocumentStore::open(compactedDb);
    if (!store) return fail(store.error());
    auto id = storeCompacted(**store, traceDoc);
    if (!id) return fail(id.error());
    compactedId = *id;
    auto doc = (*store)->load(compactedId);
    if (!doc) return fail(doc.error());
    figures.encodedBytes = doc->encodeHistory().size();
    compactedTextBytes = doc->text().size();
  }
  // Closing the last connection checkpoints the WAL into the main file.
  figures.walBytes = fileBytes(compactedDb + "-wal");
  figures.diskBytes = fileBytes(compactedDb) + figures.walBytes;

  // The same history plus 10,000 single-keystroke updates left in the tail.
  const std::string tailDb = dir + "/tail.db";
  DocumentId tailId;
  std::size_t tailTextBytes = 0;
  {
    auto store = DocumentStore::open(tailDb, neverCompacting());
    if (!store) return fail(store.error());
    auto id = storeCompacted(**store, traceDoc);
    if (!id) return fail(id.error());
    tailId = *id;
    auto doc = (*store)->load(tailId);
    if (!doc) return fail(doc.error());
    for (int i = 0; i < kTailRows; ++i) {
      if (auto typed = typeOne(**store, tailId, *doc, rng); !typed) return fail(typed.error());
    }
    tailTextBytes = doc->text().size();
    auto info = (*store)->info(tailId);
    if (!info) return fail(info.error());
    figures.tailRows = info->tailRows;
  }

  for (int run = 0; run < options.runs; ++run) {
    auto open = openInChild(self, compactedDb, compactedId, compactedTextBytes);
    if (!open) return fail(open.error());
    figures.openMs.push_back(*open);
    auto openTail = openInChild(self, tailDb, tailId, tailTextBytes);
    if (!openTail) return fail(openTail.error());
    figures.openTailMs.push_back(*openTail);
  }

  // Typing into the document as a person would: default options, so compaction runs as it would.
  figures.pacedKeystrokes = options.quick ? kPacedKeystrokesQuick : kPacedKeystrokes;
  figures.fullSpeedKeystrokes = options.quick ? kFullSpeedKeystrokesQuick : kFullSpeedKeystrokes;
  const std::string typingDb = dir + "/typing.db";
  auto store = DocumentStore::open(typingDb);
  if (!store) return fail(store.error());
  auto typingId = storeCompacted(**store, traceDoc);
  if (!typingId) return fail(typingId.error());
  auto doc = (*store)->load(*typingId);
  if (!doc) return fail(doc.error());
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(1.0 / kTypingPerSecond));
  // A second connection to the same file, as the editor uses it (the store compacts).
  auto queue = storage::AppendQueue::open(typingDb);
  if (!queue) return fail(queue.error());
  for (int run = 0; run < options.runs; ++run) {
    std::fprintf(stderr, "  run %d/%d: %d keystrokes at %.0f/s, then %d flat out\n", run + 1,
                 options.runs, figures.pacedKeystrokes, kTypingPerSecond,
                 figures.fullSpeedKeystrokes);
    std::vector<double> latencies;
    Clock::time_point next = Clock::now();
    for (int i = 0; i < figures.pacedKeystrokes; ++i) {
      std::this_thread::sleep_until(next);
      next += interval;
      auto typed = typeOne(**store, *typingId, *doc, rng);
      if (!typed) return fail(typed.error());
      latencies.push_back(*typed);
    }
    figures.appendP99Ms.push_back(percentile(latencies, 0.99));
    figures.appendP50Ms.push_back(percentile(latencies, 0.50));

    const Clock::time_point start = Clock::now();
    for (int i = 0; i < figures.fullSpeedKeystrokes; ++i) {
      if (auto typed = typeOne(**store, *typingId, *doc, rng); !typed) return fail(typed.error());
    }
    const double seconds = elapsedMs(start, Clock::now()) / 1000.0;
    figures.appendPerS.push_back(figures.fullSpeedKeystrokes / seconds);

    // The same through the group-commit queue: append -> committed callback, paced, then a
    // burst of keystrokes queued flat out (each waits for at most two commits).
    std::vector<std::vector<std::uint8_t>> paced;
    for (int i = 0; i < figures.pacedKeystrokes; ++i) {
      auto update = nextKeystroke(*doc, rng);
      if (!update) return fail(update.error());
      paced.push_back(std::move(*update));
    }
    auto pacedLatencies = queueLatencies(**queue, *typingId, std::move(paced), interval);
    if (!pacedLatencies) return fail(pacedLatencies.error());
    figures.queueAppendP99Ms.push_back(percentile(*pacedLatencies, 0.99));

    std::vector<std::vector<std::uint8_t>> burst;
    for (int i = 0; i < kQueueBurstKeystrokes; ++i) {
      auto update = nextKeystroke(*doc, rng);
      if (!update) return fail(update.error());
      burst.push_back(std::move(*update));
    }
    auto burstLatencies =
        queueLatencies(**queue, *typingId, std::move(burst), Clock::duration::zero());
    if (!burstLatencies) return fail(burstLatencies.error());
    figures.queueBurstMaxMs.push_back(percentile(*burstLatencies, 1.0));
  }
  return {};
}

void printFigures(const StorageFigures& f) {
  const double ratio = f.encodedBytes == 0 ? 0.0
                                           : static_cast<double>(f.diskBytes) /
                                                 static_cast<double>(f.encodedBytes);
  char ratioText[32];
  std::snprintf(ratioText, sizeof ratioText, "%.3f", ratio);
  printTable({
      {"figure", "median (min-max)", "unit", "target"},
      {"open_ms", formatSample(summarize(f.openMs), 2), "ms, cold process", "<= 15"},
      {"open_tail_ms", formatSample(summarize(f.openTailMs), 2),
       "ms, cold process, " + std::to_string(f.tailRows) + " tail rows", "<= 50"},
      {"append_p99_ms", formatSample(summarize(f.appendP99Ms), 3),
       "ms, " + std::to_string(f.pacedKeystrokes) + " keystrokes/run at 30/s", "<= 5"},
      {"append_p50_ms", formatSample(summarize(f.appendP50Ms), 3), "ms", ""},
      {"append_per_s", formatSample(summarize(f.appendPerS), 0),
       "keystrokes/s, " + std::to_string(f.fullSpeedKeystrokes) + " per run", ""},
      {"queue_append_p99_ms", formatSample(summarize(f.queueAppendP99Ms), 3),
       "ms to committed callback, AppendQueue, " + std::to_string(f.pacedKeystrokes) +
           " keystrokes/run at 30/s",
       ""},
      {"queue_burst_max_ms", formatSample(summarize(f.queueBurstMaxMs), 3),
       "ms, worst of " + std::to_string(kQueueBurstKeystrokes) + " queued flat out", "~20"},
      {"disk_bytes", std::to_string(f.diskBytes),
       "bytes, main file + " + std::to_string(f.walBytes) + " WAL", ""},
      {"encoded_bytes", std::to_string(f.encodedBytes), "bytes, encodeHistory()", ""},
      {"disk_bytes / encoded_bytes", ratioText, "", "<= 1.25"},
  });
}

QJsonObject toJson(const StorageFigures& f, const BenchOptions& options) {
  QJsonObject obj;
  obj.insert(QStringLiteral("name"), QStringLiteral("storage"));
  obj.insert(QStringLiteral("trace"), QString::fromLatin1(kTraceName));
  obj.insert(QStringLiteral("runs"), options.runs);
  obj.insert(QStringLiteral("quick"), options.quick);
  obj.insert(QStringLiteral("machine"), QString::fromStdString(machineDescription()));
  addSample(obj, "open_ms", summarize(f.openMs), false);
  addSample(obj, "open_tail_ms", summarize(f.openTailMs), false);
  obj.insert(QStringLiteral("tail_rows"), static_cast<qint64>(f.tailRows));
  addSample(obj, "append_p99_ms", summarize(f.appendP99Ms), false);
  addSample(obj, "append_p50_ms", summarize(f.appendP50Ms), false);
  obj.insert(QStringLiteral("append_keystrokes_per_run"), f.pacedKeystrokes);
  addSample(obj, "append_per_s", summarize(f.appendPerS), false);
  obj.insert(QStringLiteral("append_per_s_keystrokes_per_run"), f.fullSpeedKeystrokes);
  addSample(obj, "queue_append_p99_ms", summarize(f.queueAppendP99Ms), false);
  addSample(obj, "queue_burst_max_ms", summarize(f.queueBurstMaxMs), false);
  obj.insert(QStringLiteral("queue_burst_keystrokes"), kQueueBurstKeystrokes);
  obj.insert(QStringLiteral("disk_bytes"), static_cast<qint64>(f.diskBytes));
  obj.insert(QStringLiteral("wal_bytes"), static_cast<qint64>(f.walBytes));
  obj.insert(QStringLiteral("encoded_bytes"), static_cast<qint64>(f.encodedBytes));
  return obj;
}

}  // namespace

int runStorageBench(const BenchOptions& options) {
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
  std::printf("quire-bench storage: %s, %d runs, median (min-max), on %s%s\n\n", kTraceName,
              options.runs, machine.c_str(),
              options.quick ? " (--quick: fewer keystrokes per run)" : "");
  std::fflush(stdout);
  const QTemporaryDir dir(QDir::tempPath() + QStringLiteral("/quire-bench-storage-XXXXXX"));
  if (!dir.isValid()) {
    std::fprintf(stderr, "quire-bench: cannot create a temporary folder: %s\n",
                 dir.errorString().toStdString().c_str());
    return kExitFailure;
  }
  StorageFigures figures;
  if (auto measured = measure(options, *traceDoc, dir.path().toStdString(), figures); !measured) {
    std::fprintf(stderr, "quire-bench: storage: %s\n", measured.error().toString().c_str());
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

int runStorageOpenChild(const QStringList& args) {
  if (args.size() != 2) {
    std::fprintf(stderr, "quire-bench: usage: quire-bench %s DB DOC_ID\n", kStorageOpenChild);
    return kExitUsage;
  }
  const auto id = DocumentId::fromHex(args.at(1).toStdString());
  if (!id) {
    std::fprintf(stderr, "quire-bench: '%s' is not a document id\n", args.at(1).toStdString().c_str());
    return kExitUsage;
  }
  const std::string db = QFile::encodeName(args.at(0)).toStdString();
  // Timed from nothing to text in hand: what the editor needs before it can show the document.
  const Clock::time_point start = Clock::now();
  auto store = DocumentStore::open(db, neverCompacting());
  if (!store) {
    std::fprintf(stderr, "quire-bench: %s: %s\n", db.c_str(), store.error().toString().c_str());
    return kExitFailure;
  }
  auto doc = (*store)->load(*id);
  if (!doc) {
    std::fprintf(stderr, "quire-bench: %s: %s\n", db.c_str(), doc.error().toString().c_str());
    return kExitFailure;
  }
  const std::string text = doc->text();
  const double ms = elapsedMs(start, Clock::now());
  std::printf("open_ms %.4f text_bytes %zu\n", ms, text.size());
  return kExitOk;
}

}  // namespace quire::bench
