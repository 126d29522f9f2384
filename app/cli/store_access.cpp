#include "app/cli/store_access.h"

#include <cstdio>
#include <utility>

#include <QCoreApplication>
#include <QDir>
#include <QStandardPaths>

#include "app/cli/cli_command.h"

namespace quire::app {

Result<std::string> defaultDatabasePath() {
  // main() names the application "quire-cli"; the library belongs to "quire", the same place
  // the editor uses, so the lookup borrows that name for a moment.
  const QString ownName = QCoreApplication::applicationName();
  const QString ownOrganization = QCoreApplication::organizationName();
  QCoreApplication::setApplicationName(QStringLiteral("quire"));
  QCoreApplication::setOrganizationName(QString());
  const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
  QCoreApplication::setApplicationName(ownName);
  QCoreApplication::setOrganizationName(ownOrganization);
  if (dir.isEmpty()) return fail(Error::io("no application data location (is HOME set?)"));
  if (!QDir().mkpath(dir)) return fail(Error::io(localPath(dir) + ": cannot create folder"));
  return localPath(QDir(dir).filePath(QStringLiteral("quire.db")));
}

LibraryCommandLine::LibraryCommandLine(std::string command, const char* help,
                                       std::vector<std::string> positional)
    : m_command(std::move(command)),
      m_help(help),
      m_positionalNames(std::move(positional)),
      m_dbOption(QStringLiteral("db"), QString(), QStringLiteral("PATH")),
      m_helpOption(QStringList{QStringLiteral("h"), QStringLiteral("help")}) {
  m_parser.addOption(m_dbOption);
  m_parser.addOption(m_helpOption);
}

void LibraryCommandLine::addOption(const QCommandLineOption& option) { m_parser.addOption(option); }

std::optional<int> LibraryCommandLine::parse(const QStringList& args) {
  if (!m_parser.parse(QStringList{QString::fromStdString(m_command)} + args)) {
    return reportUsageError(m_command, m_parser.errorText().toStdString());
  }
  if (m_parser.isSet(m_helpOption)) {
    std::fputs(m_help, stdout);
    return kExitOk;
  }
  const QStringList given = m_parser.positionalArguments();
  // A last name ending in "..." (e.g. "DOC...") takes zero or more arguments.
  const bool variadic = !m_positionalNames.empty() && m_positionalNames.back().ends_with("...");
  const auto wanted = static_cast<qsizetype>(m_positionalNames.size()) - (variadic ? 1 : 0);
  if (given.size() < wanted) {
    return reportUsageError(m_command, "missing " + m_positionalNames[given.size()]);
  }
  if (!variadic && given.size() > wanted) {
    return reportUsageError(m_command,
                            "unexpected argument '" + given.at(wanted).toStdString() + "'");
  }
  if (m_parser.isSet(m_dbOption) && m_parser.value(m_dbOption).isEmpty()) {
    return reportUsageError(m_command, "--db needs a PATH");
  }
  return std::nullopt;
}

QString LibraryCommandLine::positional(int i) const { return m_parser.positionalArguments().at(i); }

std::unique_ptr<storage::DocumentStore> LibraryCommandLine::openStore(
    storage::OpenOptions options) const {
  std::string path;
  if (m_parser.isSet(m_dbOption)) {
    path = localPath(m_parser.value(m_dbOption));
  } else {
    auto found = defaultDatabasePath();
    if (!found) {
      reportFailure(found.error().toString());
      return nullptr;
    }
    path = *found;
  }
  // Never open a database that a live editor holds (storage/SCHEMA.md, "The lock file"): wait
  // until it closes, saying so.
  using storage::DatabaseLock;
  auto lock = DatabaseLock::acquire(path, DatabaseLock::Mode::Shared, [&](const std::string& holder) {
    std::fprintf(stderr,
                 "quire-cli: %s is open in %s; waiting for it to close it (Ctrl+C to give up)\n",
                 path.c_str(), holder.c_str());
    std::fflush(stderr);
  });
  if (!lock) {
    reportFailure(path + ": " + lock.error().toString());
    return nullptr;
  }
  m_lock = std::move(*lock);
  auto store = storage::DocumentStore::open(path, std::move(options));
  if (!store) {
    reportFailure(path + ": " + store.error().toString());
    return nullptr;
  }
  return std::move(*store);
}

Result<engine::Document> loadDocument(storage::DocumentStore& store,
                                      const storage::DocumentId& id) {
  std::vector<Error> skipped;
  auto doc = store.loadSkippingDamaged(id, skipped);
  for (const Error& e : skipped) {
    std::fprintf(stderr, "quire-cli: warning: skipped a stored update that does not decode: %s\n",
                 e.toString().c_str());
  }
  return doc;
}

std::optional<storage::DocumentId> resolveDocument(storage::DocumentStore& store,
                                                   const QString& doc) {
  auto id = store.resolve(doc.toStdString());
  if (!id) {
    reportFailure(id.error().toString());
    return std::nullopt;
  }
  return *id;
}

}  // namespace quire::app
