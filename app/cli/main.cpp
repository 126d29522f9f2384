// quire-cli: headless Quire for scripts and multi-process tests. This file is the dispatch
// table; each command lives in its own *_command.cpp.
#include <cstdio>
#include <iterator>
#include <string>

#include <QCoreApplication>
#include <QStringList>

#include "app/cli/cli_command.h"
#include "engine/document.h"
#include "net/heap_tuning.h"
#include "net/tls.h"
#include "app/cli/library_command.h"
#include "app/cli/peer_commands.h"
#include "app/cli/replay_command.h"
#include "app/cli/type_command.h"
#include "quire/version.h"

namespace {

using quire::app::CliCommand;

constexpr CliCommand kCommands[] = {
    {"new", "create an empty document; print its id", &quire::app::runNewCommand},
    {"list", "list the documents: id, title, last edited, size", &quire::app::runListCommand},
    {"import", "import a UTF-8 text file as a new document", &quire::app::runImportCommand},
    {"export", "write a document's text to a file", &quire::app::runExportCommand},
    {"cat", "print a document's text", &quire::app::runCatCommand},
    {"type", "type text into a document, one committed keystroke at a time",
     &quire::app::runTypeCommand},
    {"compact", "fold a document's tail of updates into its snapshot",
     &quire::app::runCompactCommand},
    {"replay", "replay an editing trace; print the text and statistics",
     &quire::app::runReplayCommand},
    {"serve", "serve documents to direct peers over WebSockets until stopped",
     &quire::app::runServeCommand},
    {"share", "print a document's quire:// share link", &quire::app::runShareCommand},
    {"open", "open a share link: fetch the document, then follow its edits",
     &quire::app::runOpenCommand},
    {"join", "another name for 'open'", &quire::app::runOpenCommand},
};

void printHelp(std::FILE* out) {
  std::fputs(
      "Usage: quire-cli COMMAND [options] [arguments]\n"
      "\n"
      "Headless Quire, for scripts and tests.\n"
      "\n"
      "Commands:\n",
      out);
  for (const CliCommand& command : kCommands)
    std::fprintf(out, "  %-10s %s\n", command.name, command.summary);
  std::fputs(
      "\n"
      "Options:\n"
      "  -h, --help     show this help\n"
      "  --version      show the version\n"
      "\n"
      "'quire-cli COMMAND --help' shows a command's options.\n",
      out);
}

}  // namespace

int main(int argc, char** argv) {
  // Frame-sized buffers reuse heap memory instead of fresh pages (net/heap_tuning.h).
  quire::net::tuneHeapForFrames();
  QCoreApplication app(argc, argv);
  QCoreApplication::setApplicationName(QStringLiteral("quire-cli"));
  QCoreApplication::setApplicationVersion(QStringLiteral(QUIRE_VERSION));

  // QUIRE_TLS_CA_FILE: trust a private CA's wss:// relays and peers (net/tls.h).
  quire::net::trustExtraCertificatesFromEnvironment();
  // QUIRE_MAX_DOCUMENT_MIB: the most a document may decode to (engine/FORMAT.md).
  if (auto limits = quire::engine::DecodeLimits::setProcessFromEnvironment(); !limits) {
    std::fprintf(stderr, "quire-cli: %s\n", limits.error().message().c_str());
    return quire::app::kExitUsage;
  }

  const QStringList args = QCoreApplication::arguments();
  if (args.size() < 2) {
    printHelp(stderr);
    return quire::app::kExitUsage;
  }
  const QString& first = args.at(1);
  if (first == QLatin1String("-h") || first == QLatin1String("--help") ||
      first == QLatin1String("help")) {
    printHelp(stdout);
    return quire::app::kExitOk;
  }
  if (first == QLatin1String("--version")) {
    std::printf("quire-cli %s\n", QUIRE_VERSION);
    return quire::app::kExitOk;
  }
  for (const CliCommand& command : kCommands) {
    if (first == QLatin1String(command.name)) return command.run(args.mid(2));
  }
  return quire::app::reportUsageError("", "unknown command '" + first.toStdString() + "'");
}
