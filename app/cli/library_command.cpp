#include "app/cli/library_command.h"

#include <cstdio>
#include <string>

#include <QDateTime>

#include "app/cli/cli_command.h"
#include "app/cli/store_access.h"
#include "storage/document_store.h"

namespace quire::app {

namespace {

constexpr const char* kDbHelp =
    "  --db PATH   the database (default: quire.db in the app data location,\n"
    "              e.g. ~/.local/share/quire/quire.db)\n"
    "  -h, --help  show this help\n";

std::string withDbHelp(const char* text) { return std::string(text) + kDbHelp; }

// Titles go on one line of a tab-separated listing.
std::string oneLine(std::string text) {
  for (char& c : text) {
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

std::string isoTime(std::int64_t ms) {
  return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODate).toStdString();
}

}  // namespace

int runNewCommand(const QStringList& args) {
  static const std::string help = withDbHelp(
      "Usage: quire-cli new [--db PATH] TITLE\n"
      "\n"
      "Creates an empty document called TITLE and prints its id (32 hex digits).\n"
      "\n"
      "Options:\n");
  LibraryCommandLine line("new", help.c_str(), {"TITLE"});
  if (auto done = line.parse(args)) return *done;
  auto store = line.openStore();
  if (!store) return kExitFailure;
  auto id = store->create(line.positional(0).toStdString());
  if (!id) return reportFailure(id.error().toString());
  std::printf("%s\n", id->toHex().c_str());
  return kExitOk;
}

int runListCommand(const QStringList& args) {
  static const std::string help = withDbHelp(
      "Usage: quire-cli list [--db PATH]\n"
      "\n"
      "Prints one line per document, fields separated by tabs:\n"
      "  id (32 hex digits), title (tabs and newlines shown as spaces),\n"
      "  last edited (UTC, ISO 8601), stored size in bytes (snapshot + tail)\n"
      "\n"
      "Options:\n");
  LibraryCommandLine line("list", help.c_str(), {});
  if (auto done = line.parse(args)) return *done;
  auto store = line.openStore();
  if (!store) return kExitFailure;
  auto docs = store->list();
  if (!docs) return reportFailure(docs.error().toString());
  for (const storage::DocumentInfo& info : *docs) {
    std::printf("%s\t%s\t%s\t%llu\n", info.id.toHex().c_str(), oneLine(info.title).c_str(),
                isoTime(info.editedMs).c_str(),
                static_cast<unsigned long long>(info.storedBytes));
  }
  return kExitOk;
}

int runImportCommand(const QStringList& args) {
  static const std::string help = withDbHelp(
      "Usage: quire-cli import [--db PATH] [--title T] FILE\n"
      "\n"
      "Creates a document holding the UTF-8 text of FILE (.txt, .md, ...) and prints its id.\n"
      "Binary or non-UTF-8 files are refused.\n"
      "\n"
      "Options:\n"
      "  --title T   the document's title (default: the file name)\n");
  LibraryCommandLine line("import", help.c_str(), {"FILE"});
  const QCommandLineOption titleOption(QStringLiteral("title"), QString(), QStringLiteral("T"));
  line.addOption(titleOption);
  if (auto done = line.parse(args)) return *done;
  auto store = line.openStore();
  if (!store) return kExitFailure;
  const std::string title =
      line.parser().isSet(titleOption) ? line.parser().value(titleOption).toStdString() : "";
  auto id = store->importFile(localPath(line.positional(0)), title);
  if (!id) return reportFailure(id.error().toString());
  std::printf("%s\n", id->toHex().c_str());
  return kExitOk;
}

int runExportCommand(const QStringList& args) {
  static const std::string help = withDbHelp(
      "Usage: quire-cli export [--db PATH] DOC FILE\n"
      "\n"
      "Writes the text of DOC (id, id prefix of at least 4 digits, or title) to FILE, atomically:\n"
      "a crash leaves either the old FILE or the new one.\n"
      "\n"
      "Options:\n");
  LibraryCommandLine line("export", help.c_str(), {"DOC", "FILE"});
  if (auto done = line.parse(args)) return *done;
  auto store = line.openStore();
  if (!store) return kExitFailure;
  const auto id = resolveDocument(*store, line.positional(0));
  if (!id) return kExitFailure;
  if (auto written = store->exportFile(*id, localPath(line.positional(1))); !written) {
    return reportFailure(written.error().toString());
  }
  return kExitOk;
}

int runCatCommand(const QStringList& args) {
  static const std::string help = withDbHelp(
      "Usage: quire-cli cat [--db PATH] DOC\n"
      "\n"
      "Prints the text of DOC (id, id prefix of at least 4 digits, or title) exactly as it is,\n"
      "with no newline added. A stored update that does not decode is skipped with a warning on\n"
      "stderr naming its row (as 'open', 'serve' and 'type' do); the rest is printed.\n"
      "\n"
      "Options:\n");
  LibraryCommandLine line("cat", help.c_str(), {"DOC"});
  if (auto done = line.parse(args)) return *done;
  auto store = line.openStore();
  if (!store) return kExitFailure;
  const auto id = resolveDocument(*store, line.positional(0));
  if (!id) return kExitFailure;
  auto doc = loadDocument(*store, *id);
  if (!doc) return reportFailure(doc.error().toString());
  const std::string text = doc->text();
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    return reportFailure("cannot write to stdout");
  }
  return kExitOk;
}

int runCompactCommand(const QStringList& args) {
  static const std::string help = withDbHelp(
      "Usage: quire-cli compact [--db PATH] DOC\n"
      "\n"
      "Folds the tail of DOC's updates into its snapshot now, and prints\n"
      "'compacted ID: BEFORE -> AFTER bytes (N tail rows before)'.\n"
      "\n"
      "Options:\n");
  LibraryCommandLine line("compact", help.c_str(), {"DOC"});
  if (auto done = line.parse(args)) return *done;
  auto store = line.openStore();
  if (!store) return kExitFailure;
  const auto id = resolveDocument(*store, line.positional(0));
  if (!id) return kExitFailure;
  auto before = store->info(*id);
  if (!before) return reportFailure(before.error().toString());
  auto doc = store->load(*id);
  if (!doc) return reportFailure(doc.error().toString());
  if (auto compacted = store->compact(*id, *doc); !compacted) {
    return reportFailure(compacted.error().toString());
  }
  auto after = store->info(*id);
  if (!after) return reportFailure(after.error().toString());
  std::printf("compacted %s: %llu -> %llu bytes (%llu tail rows before)\n", id->toHex().c_str(),
              static_cast<unsigned long long>(before->storedBytes),
              static_cast<unsigned long long>(after->storedBytes),
              static_cast<unsigned long long>(before->tailRows));
  return kExitOk;
}

}  // namespace quire::app
