// quire: the desktop editor. Parses the command line, hands a link to an editor that is already
// running on the same database (and exits), else opens the database and shows the window.
#include <cstdio>
#include <memory>

#include <QApplication>
#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>
#include <QTimer>
#include <QUrl>

#include "app/quire/ui/app_icon.h"
#include "engine/document.h"
#include "app/quire/ui/main_window.h"
#include "app/quire/ui/quit_signals.h"
#include "app/quire/ui/single_instance.h"
#include "app/quire/ui/workspace.h"
#include "net/crypto.h"
#include "net/heap_tuning.h"
#include "net/tls.h"
#include "quire/version.h"

namespace {

constexpr char kHelp[] =
    "Usage: quire [--db PATH] [LINK | FILE]\n"
    "The Quire editor: write alone or together; every keystroke is stored.\n"
    "\n"
    "  LINK        a share link (quire://open?...) to open; if an editor is already\n"
    "              running on the same database, it opens the link there\n"
    "  FILE        a text or Markdown file (path or file:// URL) to import as a new\n"
    "              document\n"
    "  --db PATH   the library database (default ~/.local/share/quire/quire.db,\n"
    "              the same one quire-cli uses)\n"
    "  --version   print the version and exit\n"
    "  -h, --help  print this help and exit\n";

// The database quire-cli also uses: quire.db in application "quire"'s data location.
QString defaultDatabasePath() {
  QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
  if (dir.isEmpty()) return {};
  QDir().mkpath(dir);
  return QDir(dir).filePath(QStringLiteral("quire.db"));
}

}  // namespace

int main(int argc, char** argv) {
  // Frame-sized buffers reuse heap memory instead of fresh pages (net/heap_tuning.h).
  quire::net::tuneHeapForFrames();
  // Names first: QStandardPaths and QSettings read them. No organization, so the data folder
  // is ~/.local/share/quire (toolchain.md).
  QCoreApplication::setApplicationName(QStringLiteral("quire"));
  QCoreApplication::setOrganizationName(QString());
  QCoreApplication::setApplicationVersion(QStringLiteral(QUIRE_VERSION));

  QStringList args;
  for (int i = 0; i < argc; ++i) args << QString::fromLocal8Bit(argv[i]);
  QCommandLineParser parser;
  QCommandLineOption dbOption(QStringLiteral("db"), QString(), QStringLiteral("PATH"));
  QCommandLineOption versionOption(QStringLiteral("version"));
  QCommandLineOption helpOption(QStringList{QStringLiteral("h"), QStringLiteral("help")});
  // Test only: type TEXT into the open document, grab the window into PATH, then quit.
  QCommandLineOption typeOption(QStringLiteral("test-type"), QString(), QStringLiteral("TEXT"));
  QCommandLineOption shotOption(QStringLiteral("screenshot"), QString(), QStringLiteral("PATH"));
  QCommandLineOption waitOption(QStringLiteral("test-wait"), QString(), QStringLiteral("MS"),
                                QStringLiteral("1200"));
  QCommandLineOption findOption(QStringLiteral("test-find"), QString(), QStringLiteral("TEXT"));
  QCommandLineOption shareShotOption(QStringLiteral("test-share-screenshot"), QString(),
                                     QStringLiteral("PATH"));
  // Test only: after typing, open and close the library's files as a file dialog once did (which
  // drops SQLite's locks on them), then print "peeked".
  QCommandLineOption peekOption(QStringLiteral("test-peek-library"));
  for (QCommandLineOption* o :
       {&typeOption, &shotOption, &waitOption, &findOption, &shareShotOption, &peekOption})
    o->setFlags(QCommandLineOption::HiddenFromHelp);
  parser.addOptions({dbOption, versionOption, helpOption, typeOption, shotOption, waitOption,
                     findOption, shareShotOption, peekOption});
  if (!parser.parse(args)) {
    std::fprintf(stderr, "quire: %s\n%s", qPrintable(parser.errorText()), kHelp);
    return 2;
  }
  if (parser.isSet(helpOption)) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  if (parser.isSet(versionOption)) {
    std::printf("quire %s\n", QUIRE_VERSION);
    return 0;
  }
  if (parser.positionalArguments().size() > 1) {
    std::fprintf(stderr, "quire: one link at a time\n%s", kHelp);
    return 2;
  }
  // QUIRE_MAX_DOCUMENT_MIB: the most a document may decode to (engine/FORMAT.md).
  if (auto limits = quire::engine::DecodeLimits::setProcessFromEnvironment(); !limits) {
    std::fprintf(stderr, "quire: %s\n", limits.error().message().c_str());
    return 2;
  }
  // A file named by a relative path means the same file to an editor already running elsewhere.
  QString link = parser.positionalArguments().value(0);
  if (!link.isEmpty() && QUrl(link).scheme().isEmpty() && QFileInfo(link).isFile())
    link = QFileInfo(link).absoluteFilePath();
  const QString dbPath = parser.isSet(dbOption)
                             ? QDir::current().absoluteFilePath(parser.value(dbOption))
                             : defaultDatabasePath();
  if (dbPath.isEmpty()) {
    std::fprintf(stderr, "quire: no application data location (is HOME set?)\n");
    return 1;
  }

  // Another editor on this database takes the link (or just comes to the front), before any
  // window or database is opened here.
  const QString instanceName = quire::app::singleInstanceName(dbPath);
  if (!parser.isSet(shotOption) &&
      quire::app::forwardToRunningInstance(instanceName,
                                           link.isEmpty() ? QStringLiteral("raise") : link)) {
    return 0;
  }

  QApplication app(argc, argv);
  QApplication::setApplicationDisplayName(QStringLiteral("Quire"));
  QApplication::setDesktopFileName(QStringLiteral("quire"));
  QApplication::setWindowIcon(quire::app::appIcon());

  if (auto r = quire::net::initCrypto(); !r) {
    std::fprintf(stderr, "quire: %s\n", r.error().toString().c_str());
    return 1;
  }
  quire::net::trustExtraCertificatesFromEnvironment();

  auto workspace = quire::app::Workspace::open(QFile::encodeName(dbPath).toStdString());
  if (!workspace) {
    std::fprintf(stderr, "quire: %s: %s\n", qPrintable(dbPath),
                 workspace.error().toString().c_str());
    return 1;
  }
  for (const std::string& warning : (*workspace)->store().warnings())
    std::fprintf(stderr, "quire: %s\n", warning.c_str());

  auto window =
      std::make_unique<quire::app::MainWindow>(workspace->get(), quire::app::Preferences::load());
  quire::app::SingleInstanceServer instance;
  if (!parser.isSet(shotOption)) {
    instance.listen(instanceName);
    QObject::connect(&instance, &quire::app::SingleInstanceServer::messageReceived, window.get(),
                     [w = window.get()](const QString& message) {
                       w->bringToFront();
                       if (message != QLatin1String("raise")) w->openArgument(message);
                     });
  }
  quire::app::quitOnTerminationSignals([w = window.get()] { w->close(); });
  window->show();
  window->restoreLastDocument();
  // Scripts and tests wait for this line before handing this editor a link.
  std::printf("ready\n");
  std::fflush(stdout);
  // After the event loop starts, so an error dialog has a window under it.
  if (!link.isEmpty()) {
    QTimer::singleShot(0, window.get(), [w = window.get(), link] { w->openArgument(link); });
  }
  if (parser.isSet(shotOption)) {
    const QString text = parser.value(typeOption);
    const QString path = parser.value(shotOption);
    const QString find = parser.value(findOption);
    const QString sharePath = parser.value(shareShotOption);
    const bool peek = parser.isSet(peekOption);
    QTimer::singleShot(300, window.get(), [w = window.get(), ws = workspace->get(), text, find,
                                           peek, dbPath] {
      if (!text.isEmpty()) w->testTypeText(text);
      if (!find.isEmpty()) w->testFind(find);
      if (peek) {
        ws->flush();  // what was typed is committed
        for (const char* suffix : {"", "-wal", "-shm"}) {
          QFile file(dbPath + QLatin1String(suffix));
          if (file.open(QIODevice::ReadOnly)) file.close();
        }
        std::printf("peeked\n");
        std::fflush(stdout);
      }
    });
    QTimer::singleShot(
        parser.value(waitOption).toInt(), window.get(), [w = window.get(), path, sharePath] {
          if (!sharePath.isEmpty()) {
            const bool shared = w->testGrabShareDialog(sharePath);
            std::printf("screenshot %s %s\n", shared ? "saved" : "FAILED", qPrintable(sharePath));
          }
          const bool ok = w->testGrab(path);
          std::printf("screenshot %s %s\n", ok ? "saved" : "FAILED", qPrintable(path));
          std::fflush(stdout);
          w->close();
        });
  }
  const int code = app.exec();
  window.reset();  // closes the document (compacting it) before the store goes
  workspace->reset();
  return code;
}
