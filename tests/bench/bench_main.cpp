// quire-bench: benchmark programs over the shared editing traces. This file parses the options
// every subcommand shares and dispatches; each subcommand lives in its own *_bench.cpp.
#include <cstdio>
#include <string>

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QFile>
#include <QFileInfo>
#include <QStringList>

#include "net/heap_tuning.h"
#include "tests/bench/bench_command.h"
#include "tests/bench/editor_bench.h"
#include "tests/bench/engine_bench.h"
#include "tests/bench/hostile_bench.h"
#include "tests/bench/storage_bench.h"
#include "tests/bench/sync_bench.h"

namespace {

using quire::bench::BenchCommand;
using quire::bench::BenchOptions;

constexpr BenchCommand kCommands[] = {
    {"engine", "replay, merge, encode, load and remote-apply every trace; heap held",
     &quire::bench::runEngineBench},
    {"storage", "automerge-paper in the document store: open, append latency and rate, disk size",
     &quire::bench::runStorageBench},
    {"sync", "keystroke latency (relay, direct), join, wire bytes, relay forwarding rate",
     &quire::bench::runSyncBench},
    {"editor", "the real editor widget offscreen on automerge-paper: keypress -> paint, remote burst, open, RSS",
     &quire::bench::runEditorBench},
    {"hostile", "fuzz corpora + crafted attacks: worst decode ms/KiB and peak alloc; relay p99 under attack",
     &quire::bench::runHostileBench},
};

void printHelp(std::FILE* out) {
  std::fputs(
      "Usage: quire-bench COMMAND --traces DIR --json FILE [--runs N] [--quick]\n"
      "\n"
      "Benchmarks over the editing traces in DIR (sequential/*.json.gz, concurrent/*.json.gz).\n"
      "Each figure is the median of N runs, with min and max; a table goes to stdout and the\n"
      "figures to FILE as JSON (../shared/checks/targets.py COMMAND FILE checks them).\n"
      "\n"
      "Commands:\n",
      out);
  for (const BenchCommand& command : kCommands)
    std::fprintf(out, "  %-8s %s\n", command.name, command.summary);
  std::fprintf(out,
               "\n"
               "Options:\n"
               "  --traces DIR  the traces folder (required)\n"
               "  --json FILE   where to write the figures (required)\n"
               "  --runs N      repetitions of each case, at least %d (default %d)\n"
               "  --quick       storage: per run 60 keystrokes at 30/s instead of 300, and 200\n"
               "                flat out instead of 1000 (the output and the JSON say so);\n"
               "                sync: 30 keystrokes per peer per run instead of 90, and a\n"
               "                1.5 s relay load window instead of 3 s;\n"
               "                editor: 60 keystrokes per run instead of 300;\n"
               "                hostile: 20 s per decode instead of 60, 30 keystrokes per\n"
               "                peer and phase instead of 300\n"
               "  -h, --help    show this help\n",
               quire::bench::kMinRuns, quire::bench::kMinRuns);
}

int usageError(std::string what) {
  // QCommandLineParser's messages end in a full stop; the hint follows on the same line.
  if (!what.empty() && what.back() == '.') what.pop_back();
  std::fprintf(stderr, "quire-bench: %s (see 'quire-bench --help')\n", what.c_str());
  return quire::bench::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  // As the programs do: the sync and hostile benches' peers stand in for quire and quire-cli.
  quire::net::tuneHeapForFrames();
  QStringList args;
  for (int i = 0; i < argc; ++i) args.append(QString::fromLocal8Bit(argv[i]));
  if (args.size() < 2) {
    printHelp(stderr);
    return quire::bench::kExitUsage;
  }
  const QString& name = args.at(1);
  if (name == QLatin1String("-h") || name == QLatin1String("--help") ||
      name == QLatin1String("help")) {
    printHelp(stdout);
    return quire::bench::kExitOk;
  }
  // Not in the help: the storage bench re-executes itself with this to time a cold open.
  if (name == QLatin1String(quire::bench::kStorageOpenChild)) {
    return quire::bench::runStorageOpenChild(args.mid(2));
  }
  const BenchCommand* command = nullptr;
  for (const BenchCommand& candidate : kCommands) {
    if (name == QLatin1String(candidate.name)) command = &candidate;
  }
  if (command == nullptr) return usageError("unknown command '" + name.toStdString() + "'");

  QCommandLineParser parser;
  const QCommandLineOption tracesOption(QStringLiteral("traces"), QString(), QStringLiteral("DIR"));
  const QCommandLineOption jsonOption(QStringLiteral("json"), QString(), QStringLiteral("FILE"));
  const QCommandLineOption runsOption(QStringLiteral("runs"), QString(), QStringLiteral("N"));
  const QCommandLineOption quickOption(QStringLiteral("quick"));
  const QCommandLineOption helpOption(QStringList{QStringLiteral("h"), QStringLiteral("help")});
  parser.addOptions({tracesOption, jsonOption, runsOption, quickOption, helpOption});
  if (!parser.parse(args.mid(1))) return usageError(parser.errorText().toStdString());
  if (parser.isSet(helpOption)) {
    printHelp(stdout);
    return quire::bench::kExitOk;
  }
  if (!parser.positionalArguments().isEmpty()) {
    return usageError("unexpected argument '" + parser.positionalArguments().front().toStdString() +
                      "'");
  }
  if (!parser.isSet(tracesOption)) return usageError("missing --traces DIR");
  if (!parser.isSet(jsonOption)) return usageError("missing --json FILE");

  BenchOptions options;
  options.tracesDir = QFile::encodeName(parser.value(tracesOption)).toStdString();
  options.jsonPath = QFile::encodeName(parser.value(jsonOption)).toStdString();
  options.quick = parser.isSet(quickOption);
  if (parser.isSet(runsOption)) {
    bool ok = false;
    options.runs = parser.value(runsOption).toInt(&ok);
    if (!ok || options.runs < quire::bench::kMinRuns) {
      return usageError("--runs needs an integer >= " + std::to_string(quire::bench::kMinRuns) +
                        ", got '" + parser.value(runsOption).toStdString() + "'");
    }
  }
  // Fail before minutes of measuring, not after.
  const QFileInfo jsonDir(QFileInfo(parser.value(jsonOption)).absolutePath());
  if (!jsonDir.isDir() || !jsonDir.isWritable()) {
    std::fprintf(stderr, "quire-bench: cannot write %s: %s is not a writable folder\n",
                 options.jsonPath.c_str(), jsonDir.filePath().toStdString().c_str());
    return quire::bench::kExitFailure;
  }
  return command->run(options);
}
