#include "app/cli/replay_command.h"

#include <chrono>
#include <cstdio>
#include <string>

#include <QCommandLineOption>
#include <QCommandLineParser>

#include "app/cli/cli_command.h"
#include "app/trace/trace_file.h"
#include "app/trace/trace_replay.h"
#include "engine/document.h"

namespace quire::app {

namespace {

constexpr const char* kHelp =
    "Usage: quire-cli replay [--quiet] TRACE\n"
    "\n"
    "Replays an editing trace (.json or .json.gz; sequential, or concurrent by fork and merge)\n"
    "through the engine. Prints the final text on stdout, then statistics on stderr, one\n"
    "'key: value' per line: trace, kind, edits, replay_ms, length (code points), matches_end,\n"
    "history_bytes, bytes_per_edit, ops, runs, memory_bytes.\n"
    "Exits 1 if the trace cannot be loaded or replayed, or the text differs from endContent.\n"
    "\n"
    "Options:\n"
    "  --quiet     do not print the text\n"
    "  -h, --help  show this help\n";

void printStats(const trace::Trace& trace, const engine::Document& doc, double replayMs,
                bool matches) {
  const std::size_t edits = trace.editCount();
  const std::size_t historyBytes = doc.encodeHistory().size();
  const double perEdit =
      edits == 0 ? 0.0 : static_cast<double>(historyBytes) / static_cast<double>(edits);
  const std::size_t memory = doc.memoryUsage();
  std::fprintf(stderr, "trace:          %s\n", trace.name.c_str());
  std::fprintf(stderr, "kind:           %s\n", trace.concurrent ? "concurrent" : "sequential");
  std::fprintf(stderr, "edits:          %zu\n", edits);
  std::fprintf(stderr, "replay_ms:      %.3f\n", replayMs);
  std::fprintf(stderr, "length:         %u\n", doc.length());
  std::fprintf(stderr, "matches_end:    %s\n", matches ? "yes" : "no");
  std::fprintf(stderr, "history_bytes:  %zu\n", historyBytes);
  std::fprintf(stderr, "bytes_per_edit: %.3f\n", perEdit);
  std::fprintf(stderr, "ops:            %llu\n", static_cast<unsigned long long>(doc.opCount()));
  std::fprintf(stderr, "runs:           %zu\n", doc.runCount());
  std::fprintf(stderr, "memory_bytes:   %zu (%.2f MiB)\n", memory,
               static_cast<double>(memory) / (1024.0 * 1024.0));
}

}  // namespace

int runReplayCommand(const QStringList& args) {
  QCommandLineParser parser;
  const QCommandLineOption quietOption(QStringLiteral("quiet"));
  const QCommandLineOption helpOption(QStringList{QStringLiteral("h"), QStringLiteral("help")});
  parser.addOption(quietOption);
  parser.addOption(helpOption);
  if (!parser.parse(QStringList{QStringLiteral("replay")} + args)) {
    return reportUsageError("replay", parser.errorText().toStdString());
  }
  if (parser.isSet(helpOption)) {
    std::fputs(kHelp, stdout);
    return kExitOk;
  }
  const QStringList files = parser.positionalArguments();
  if (files.size() != 1) return reportUsageError("replay", "replay takes one TRACE file");
  const std::string path = localPath(files.front());

  auto trace = trace::loadTrace(path);
  if (!trace) return reportFailure(trace.error().toString());

  const auto start = std::chrono::steady_clock::now();
  auto doc = trace::replay(*trace);
  const auto stop = std::chrono::steady_clock::now();
  if (!doc) return reportFailure("replaying " + path + ": " + doc.error().toString());
  const double replayMs = std::chrono::duration<double, std::milli>(stop - start).count();

  const std::string text = doc->text();
  const bool matches = text == trace->endContent;
  if (!parser.isSet(quietOption)) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  }
  printStats(*trace, *doc, replayMs, matches);
  if (!matches) return reportFailure(trace->name + ": replayed text differs from endContent");
  return kExitOk;
}

}  // namespace quire::app
