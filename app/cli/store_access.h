// What the quire-cli commands that work on the document library share: parsing `--db PATH` and
// `--help` beside a command's own options, opening the database and naming a document
// (storage/document_store.h; issue 3).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QStringList>

#include "storage/database_lock.h"
#include "storage/document_store.h"

namespace quire::app {

// The database a command uses when no --db is given: quire.db in the app data location of
// application "quire" (organization left empty), e.g. ~/.local/share/quire/quire.db. Creates the
// folder. Fails with Error::io if it cannot be created.
[[nodiscard]] Result<std::string> defaultDatabasePath();

// A parsed library command line. Owns its parser, so option values can be read after parse().
class LibraryCommandLine {
 public:
  // `command` names the command in messages; `help` is printed for --help; `positional` lists
  // the names of the required positional arguments (usage errors name them); a last name ending
  // in "..." (e.g. "DOC...") stands for zero or more arguments.
  LibraryCommandLine(std::string command, const char* help, std::vector<std::string> positional);
  LibraryCommandLine(const LibraryCommandLine&) = delete;
  LibraryCommandLine& operator=(const LibraryCommandLine&) = delete;

  // Adds a command-specific option before parse().
  void addOption(const QCommandLineOption& option);

  // Parses `args` (the arguments after the command name). Returns an exit code if the command
  // is done (help printed: kExitOk; usage error reported: kExitUsage), empty to carry on.
  std::optional<int> parse(const QStringList& args);

  const QCommandLineParser& parser() const { return m_parser; }
  // Positional argument `i`. REQUIRES: parse() returned empty.
  QString positional(int i) const;
  const std::string& command() const { return m_command; }

  // Opens the database (--db or the default), first taking its lock shared for as long as this
  // command line lives: if an editor has the database open, says so on stderr and waits for it
  // to close. On failure reports the error on stderr and returns null.
  std::unique_ptr<storage::DocumentStore> openStore(storage::OpenOptions options = {}) const;

 private:
  std::string m_command;
  const char* m_help;
  std::vector<std::string> m_positionalNames;
  QCommandLineParser m_parser;
  QCommandLineOption m_dbOption;
  QCommandLineOption m_helpOption;
  mutable std::optional<storage::DatabaseLock> m_lock;  // taken by openStore()
};

// Loads document `id` for a command, as the editor does: a stored row that does not decode (a
// poison update an earlier version stored, or a damaged one) is skipped, each one reported on
// stderr as "quire-cli: warning: skipped a stored update that does not decode: ..." naming the
// document and row, and everything else loads (storage/SCHEMA.md, "Damaged rows"; the row
// stays stored). Fails only when SQLite cannot read the document.
[[nodiscard]] Result<engine::Document> loadDocument(storage::DocumentStore& store,
                                                    const storage::DocumentId& id);

// Resolves DOC (id, id prefix or title) in `store`; on failure reports it on stderr and returns
// empty.
std::optional<storage::DocumentId> resolveDocument(storage::DocumentStore& store,
                                                   const QString& doc);

}  // namespace quire::app
