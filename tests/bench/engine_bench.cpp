#include "tests/bench/engine_bench.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <QJsonArray>
#include <QJsonObject>
#include <QString>

#include "app/trace/trace_file.h"
#include "app/trace/trace_replay.h"
#include "engine/document.h"
#include "engine/version_vector.h"
#include "tests/bench/bench_report.h"
#include "tests/bench/heap_counter.h"

namespace quire::bench {

namespace {

using Clock = std::chrono::steady_clock;

// Replica ids of the copies made from the result; distinct from every trace agent's.
constexpr std::uint32_t kLoaderAgent = 0xFFFD;
constexpr std::uint32_t kReceiverAgent = 0xFFFE;

double elapsedMs(Clock::time_point start, Clock::time_point stop) {
  return std::chrono::duration<double, std::milli>(stop - start).count();
}

// Every figure of one trace, one value per run.
struct TraceFigures {
  std::string name;
  bool concurrent = false;
  std::size_t edits = 0;
  bool correct = true;
  std::string error;             // set if the trace could not be loaded or replayed
  std::vector<double> replayMs;  // sequential traces: local edits only
  std::vector<double> mergeMs;   // concurrent traces: replayConcurrent()
  std::vector<double> encodedBytes;
  std::vector<double> loadMs;
  std::vector<double> remoteApplyMs;
  std::vector<double> docMemoryBytes;
  std::vector<double> docMemoryReportedBytes;
};

// One run over a loaded trace. Returns what went wrong if the engine refused something; a wrong
// text clears `figures.correct` instead.
std::optional<std::string> measureRun(const trace::Trace& trace, TraceFigures& figures) {
  const auto replay = [&trace] {
    return trace.concurrent ? trace::replayConcurrent(trace) : trace::replaySequential(trace);
  };
  // replaySequential() is exactly the Document's local edits over the loaded patches.
  const Clock::time_point replayStart = Clock::now();
  Result<engine::Document> doc = replay();
  const Clock::time_point replayStop = Clock::now();
  if (!doc) return "replay: " + doc.error().toString();
  (trace.concurrent ? figures.mergeMs : figures.replayMs)
      .push_back(elapsedMs(replayStart, replayStop));

  bool correct = doc->text() == trace.endContent;

  {
    // The heap is counted in a replay of its own: the counter would slow the timed one down.
    setHeapCounting(true);
    const std::int64_t heapBefore = liveHeapBytes();
    Result<engine::Document> counted = replay();
    const std::int64_t heapAfter = liveHeapBytes();
    setHeapCounting(false);
    if (!counted) return "replay: " + counted.error().toString();
    figures.docMemoryBytes.push_back(static_cast<double>(heapAfter - heapBefore));
    figures.docMemoryReportedBytes.push_back(static_cast<double>(counted->memoryUsage()));
    correct = correct && counted->text() == trace.endContent;
  }

  const std::vector<std::uint8_t> history = doc->encodeHistory();
  figures.encodedBytes.push_back(static_cast<double>(history.size()));
  const Clock::time_point loadStart = Clock::now();
  Result<engine::Document> loaded =
      engine::Document::decodeHistory(history, trace::agentReplica(kLoaderAgent));
  std::optional<std::string> loadedText;
  if (loaded) loadedText = loaded->text();
  const Clock::time_point loadStop = Clock::now();
  if (!loaded) return "decodeHistory: " + loaded.error().toString();
  figures.loadMs.push_back(elapsedMs(loadStart, loadStop));
  correct = correct && *loadedText == trace.endContent;

  const std::vector<std::uint8_t> update = doc->encodeUpdateSince(engine::VersionVector{});
  const Clock::time_point remoteStart = Clock::now();
  engine::Document receiver(trace::agentReplica(kReceiverAgent));
  Result<std::vector<engine::Patch>> patches = receiver.applyUpdate(update);
  const Clock::time_point remoteStop = Clock::now();
  if (!patches) return "applyUpdate: " + patches.error().toString();
  figures.remoteApplyMs.push_back(elapsedMs(remoteStart, remoteStop));
  correct = correct && receiver.pendingOpCount() == 0 && receiver.text() == trace.endContent;

  figures.correct = figures.correct && correct;
  return std::nullopt;
}

TraceFigures measureTrace(const std::string& path, int runs) {
  TraceFigures figures;
  auto trace = trace::loadTrace(path);
  if (!trace) {
    figures.name = path;
    figures.correct = false;
    figures.error = trace.error().toString();
    return figures;
  }
  figures.name = trace->name;
  figures.concurrent = trace->concurrent;
  figures.edits = trace->editCount();
  for (int run = 0; run < runs; ++run) {
    if (auto error = measureRun(*trace, figures)) {
      figures.correct = false;
      figures.error = "run " + std::to_string(run + 1) + ": " + *error;
      break;
    }
  }
  return figures;
}

constexpr double kMiB = 1024.0 * 1024.0;

std::string cell(const std::vector<double>& values, int decimals, double scale = 1.0) {
  return values.empty() ? "-" : formatSample(summarize(values), decimals, scale);
}

void printFigures(const std::vector<TraceFigures>& all) {
  std::vector<std::vector<std::string>> rows = {
      {"trace", "edits", "correct", "replay ms", "merge ms", "encoded bytes", "load ms",
       "remote apply ms", "doc memory MiB", "reported MiB"}};
  for (const TraceFigures& f : all) {
    rows.push_back({f.name, std::to_string(f.edits), f.correct ? "yes" : "NO", cell(f.replayMs, 2),
                    cell(f.mergeMs, 2), cell(f.encodedBytes, 0), cell(f.loadMs, 2),
                    cell(f.remoteApplyMs, 2), cell(f.docMemoryBytes, 2, kMiB),
                    cell(f.docMemoryReportedBytes, 2, kMiB)});
  }
  printTable(rows);
}

QJsonObject toJson(const TraceFigures& f) {
  QJsonObject obj;
  obj.insert(QStringLiteral("name"), QString::fromStdString(f.name));
  obj.insert(QStringLiteral("edits"), static_cast<qint64>(f.edits));
  obj.insert(QStringLiteral("correct"), f.correct);
  if (!f.error.empty()) obj.insert(QStringLiteral("error"), QString::fromStdString(f.error));
  const auto add = [&obj](const char* key, const std::vector<double>& values, bool integral) {
    if (!values.empty()) addSample(obj, key, summarize(values), integral);
  };
  add("replay_ms", f.replayMs, false);
  add("merge_ms", f.mergeMs, false);
  add("encoded_bytes", f.encodedBytes, true);
  add("load_ms", f.loadMs, false);
  add("remote_apply_ms", f.remoteApplyMs, false);
  add("doc_memory_bytes", f.docMemoryBytes, true);
  add("doc_memory_reported_bytes", f.docMemoryReportedBytes, true);
  return obj;
}

}  // namespace

int runEngineBench(const BenchOptions& options) {
  const std::vector<std::string> paths = trace::findTraces(options.tracesDir);
  if (paths.empty()) {
    std::fprintf(
        stderr,
        "quire-bench: no traces in %s (expected sequential/*.json.gz, concurrent/*.json.gz)\n",
        options.tracesDir.c_str());
    return kExitFailure;
  }
  const std::string machine = machineDescription();
  std::printf("quire-bench engine: %zu traces, %d runs each, median (min-max), on %s\n\n",
              paths.size(), options.runs, machine.c_str());

  std::vector<TraceFigures> all;
  bool failed = false;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    std::fprintf(stderr, "[%zu/%zu] %s\n", i + 1, paths.size(), paths[i].c_str());
    all.push_back(measureTrace(paths[i], options.runs));
    const TraceFigures& f = all.back();
    if (!f.error.empty())
      std::fprintf(stderr, "quire-bench: %s: %s\n", f.name.c_str(), f.error.c_str());
    else if (!f.correct)
      std::fprintf(stderr, "quire-bench: %s: result differs from endContent\n", f.name.c_str());
    failed = failed || !f.correct;
  }
  printFigures(all);

  QJsonArray traces;
  for (const TraceFigures& f : all) traces.append(toJson(f));
  QJsonObject root;
  root.insert(QStringLiteral("traces"), traces);
  root.insert(QStringLiteral("runs"), options.runs);
  root.insert(QStringLiteral("machine"), QString::fromStdString(machine));
  if (auto written = writeJson(options.jsonPath, root); !written) {
    std::fprintf(stderr, "quire-bench: %s\n", written.error().toString().c_str());
    return kExitFailure;
  }
  std::printf("\nwrote %s\n", options.jsonPath.c_str());
  return failed ? kExitFailure : kExitOk;
}

}  // namespace quire::bench
