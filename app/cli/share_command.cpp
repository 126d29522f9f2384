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
    "Usage: quire-cli share [--via ws://HOST:PORT]... [--db PATH] DOC\n"
    "\n"
    "Prints the quire:// link of DOC (id, id prefix of at least 4 digits, or title): its id,\n"
    "its routes and its key. Anyone holding the link can read and edit the document.\n"
    "\n"
    "Options:\n"
    "  --via URL   a ws:// or wss:// route (a 'quire-cli serve' or a relay); repeatable, in order\n"
    "              of preference (default: the routes stored with the document)\n"
    "  --db PATH   the database (default: quire.db in the app data location)\n"
    "  -h, --help  show this help\n";

}  // namespace

int runShareCommand(const QStringList& args) {
  LibraryCommandLine line("share", kHelp, {"DOC"});
  const QCommandLineOption viaOption(QStringLiteral("via"), QString(), QStringLiteral("URL"));
  line.addOption(viaOption);
  if (auto done = line.parse(args)) return *done;

  std::vector<std::string> routes;
  for (const QString& via : line.parser().values(viaOption)) {
    const QUrl url(via, QUrl::StrictMode);
    if (!url.isValid() || (url.scheme() != QLatin1String("ws") && url.scheme() != QLatin1String("wss")) ||
        url.host().isEmpty()) {
      return reportUsageError("share", "--via needs a ws:// or wss:// URL with a host, got '" +
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
  }
  if (routes.empty()) {
    return reportUsageError("share", "document " + id->toHex() +
                                         " has no stored route; give one with --via ws://HOST:PORT");
  }
  auto key = store->key(*id);
  if (!key) return reportFailure(key.error().toString());
  const net::ShareLink link{toNetId(*id), routes, toNetKey(*key)};
  std::printf("%s\n", net::encodeShareLink(link).c_str());
  return kExitOk;
}

}  // namespace quire::app
