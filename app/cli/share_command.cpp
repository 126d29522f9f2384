#include "app/cli/peer_commands.h"

#include <cstdio>
#include <string>
#include <vector>

#include <QUrl>

#include "app/cli/cli_command.h"
#include "app/cli/peer_support.h"
#include "app/cli/store_access.h"
#include "net/share_link.h"
#include "storage/document_store.h"

namespace quire::app {

namespace {

constexpr const char* kHelp =
    "Usage: quire-cli share [--relay URL]... [--listen ADDR:PORT]... [--via URL]... [--db PATH] DOC\n"
    "\n"
    "Prints the quire:// link of DOC (id, id prefix of at least 4 digits, or title): its id,\n"
    "its routes and its key. Anyone holding the link can read and edit the document.\n"
    "Routes given here become the document's stored routes, which 'serve', 'type' and 'open'\n"
    "keep connected; without any, the stored routes are used.\n"
    "\n"
    "Options:\n"
    "  --relay URL         a relay (ws:// or wss://); repeatable\n"
    "  --listen ADDR:PORT  the address a 'quire-cli serve' of this database listens on, as a\n"
    "                      direct route ws://ADDR:PORT; repeatable\n"
    "  --via URL           any ws:// or wss:// route; repeatable\n"
    "  --db PATH   the database (default: quire.db in the app data location)\n"
    "  -h, --help  show this help\n";

}  // namespace

int runShareCommand(const QStringList& args) {
  LibraryCommandLine line("share", kHelp, {"DOC"});
  const QCommandLineOption viaOption(QStringLiteral("via"), QString(), QStringLiteral("URL"));
  const QCommandLineOption relayOption(QStringLiteral("relay"), QString(), QStringLiteral("URL"));
  const QCommandLineOption listenOption(QStringLiteral("listen"), QString(),
                                        QStringLiteral("ADDR:PORT"));
  line.addOption(viaOption);
  line.addOption(relayOption);
  line.addOption(listenOption);
  if (auto done = line.parse(args)) return *done;

  QStringList given = line.parser().values(relayOption);
  for (const QString& listen : line.parser().values(listenOption))
    given.append(QStringLiteral("ws://") + listen);
  given.append(line.parser().values(viaOption));
  std::vector<std::string> routes;
  for (const QString& via : given) {
    const QUrl url(via, QUrl::StrictMode);
    if (!url.isValid() || (url.scheme() != QLatin1String("ws") && url.scheme() != QLatin1String("wss")) ||
        url.host().isEmpty()) {
      return reportUsageError("share", "a route needs a ws:// or wss:// URL with a host, got '" +
                                           via.toStdString() + "'");
    }
    routes.push_back(via.toStdString());
  }

  auto store = line.openStore();
  if (!store) return kExitFailure;
  const auto id = resolveDocument(*store, line.positional(0));
  if (!id) return kExitFailure;
  if (routes.empty()) {
    auto stored = store->routes(*id);
    if (!stored) return reportFailure(stored.error().toString());
    routes = *stored;
  } else if (auto saved = store->setRoutes(*id, routes); !saved) {
    return reportFailure(saved.error().toString());
  }
  if (routes.empty()) {
    return reportUsageError("share", "document " + id->toHex() +
                                         " has no stored route; give one with --relay URL or --listen ADDR:PORT");
  }
  auto key = store->key(*id);
  if (!key) return reportFailure(key.error().toString());
  const net::ShareLink link{toNetId(*id), routes, toNetKey(*key)};
  std::printf("%s\n", net::encodeShareLink(link).c_str());
  return kExitOk;
}

}  // namespace quire::app
