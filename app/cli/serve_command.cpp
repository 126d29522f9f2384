#include "app/cli/peer_commands.h"

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <QCoreApplication>
#include <QHostAddress>

#include "app/cli/cli_command.h"
#include "app/cli/peer_support.h"
#include "app/cli/store_access.h"
#include "net/tls.h"
#include "net/ws_peer.h"
#include "storage/document_store.h"

namespace quire::app {

namespace {

constexpr const char* kHelp =
    "Usage: quire-cli serve [--listen ADDR:PORT | --no-listen] [--db PATH] [DOC...]\n"
    "\n"
    "Keeps DOCs (default: every document in the database) online until SIGTERM or SIGINT:\n"
    "serves them to direct peers over WebSockets, and stays connected to each document's stored\n"
    "routes (relays and other peers; see 'share'), reconnecting with backoff. Prints\n"
    "'listening on ws://ADDR:PORT' once listening, then one line per event: 'peer joined ID',\n"
    "'synced ID', 'peer left ID', 'peer refused: REASON', 'route URL STATE'.\n"
    "Every update a peer sends is committed to the database before it is passed on.\n"
    "\n"
    "Options:\n"
    "  --listen ADDR:PORT  where to listen (default 127.0.0.1:7070; port 0 picks a free one)\n"
    "  --no-listen         do not listen; only keep the stored routes connected\n"
    "  --tls-cert PATH     listen for wss:// with this PEM certificate chain (with --tls-key)\n"
    "  --tls-key PATH      the certificate's PEM private key\n"
    "  --db PATH           the database (default: quire.db in the app data location)\n"
    "  -h, --help          show this help\n";

}  // namespace

int runServeCommand(const QStringList& args) {
  LibraryCommandLine line("serve", kHelp, {"DOC..."});
  const QCommandLineOption listenOption(QStringLiteral("listen"), QString(),
                                        QStringLiteral("ADDR:PORT"));
  const QCommandLineOption noListenOption(QStringLiteral("no-listen"));
  line.addOption(listenOption);
  const QCommandLineOption certOption(QStringLiteral("tls-cert"), QString(), QStringLiteral("PATH"));
  const QCommandLineOption keyOption(QStringLiteral("tls-key"), QString(), QStringLiteral("PATH"));
  line.addOption(noListenOption);
  line.addOption(certOption);
  line.addOption(keyOption);
  if (auto done = line.parse(args)) return *done;
  std::optional<QSslConfiguration> tls;
  if (line.parser().isSet(certOption) != line.parser().isSet(keyOption))
    return reportUsageError("serve", "--tls-cert and --tls-key go together");
  if (line.parser().isSet(certOption)) {
    auto loaded = net::loadServerTls(line.parser().value(certOption), line.parser().value(keyOption));
    if (!loaded) return reportFailure(loaded.error().toString());
    tls = std::move(*loaded);
  }
  const bool listening = !line.parser().isSet(noListenOption);

  const QString listen = line.parser().isSet(listenOption) ? line.parser().value(listenOption)
                                                           : QStringLiteral("127.0.0.1:7070");
  const qsizetype colon = listen.lastIndexOf(QLatin1Char(':'));
  QString host = listen.left(colon);
  if (host.startsWith(QLatin1Char('[')) && host.endsWith(QLatin1Char(']')))
    host = host.mid(1, host.size() - 2);
  bool portOk = false;
  const uint port = colon < 0 ? 0 : listen.mid(colon + 1).toUInt(&portOk);
  const QHostAddress address(host);
  if (colon < 0 || !portOk || port > 65535 || address.isNull()) {
    return reportUsageError("serve", "--listen needs ADDR:PORT with a numeric address, got '" +
                                         listen.toStdString() + "'");
  }

  auto store = line.openStore();
  if (!store) return kExitFailure;
  std::vector<storage::DocumentId> ids;
  const QStringList named = line.parser().positionalArguments();
  if (named.isEmpty()) {
    auto all = store->list();
    if (!all) return reportFailure(all.error().toString());
    for (const storage::DocumentInfo& info : *all) ids.push_back(info.id);
  } else {
    for (const QString& doc : named) {
      auto id = resolveDocument(*store, doc);
      if (!id) return kExitFailure;
      ids.push_back(*id);
    }
  }

  net::WsListener listener;
  std::vector<std::unique_ptr<LivePeer>> served;
  for (const storage::DocumentId& id : ids) {
    auto doc = loadDocument(*store, id);
    if (!doc) return reportFailure(doc.error().toString());
    auto key = store->key(id);
    if (!key) return reportFailure(key.error().toString());
    auto peer = std::make_unique<LivePeer>(*store, id, std::move(*doc), toNetKey(*key), true);
    const std::string hex = peer->hex();
    net::WsDocument* ws = &peer->net();
    QObject::connect(ws, &net::WsDocument::peerJoined, ws, [hex] { printLine("peer joined " + hex); });
    QObject::connect(ws, &net::WsDocument::peerSynced, ws, [hex] { printLine("synced " + hex); });
    QObject::connect(ws, &net::WsDocument::peerLeft, ws, [hex] { printLine("peer left " + hex); });
    QObject::connect(ws, &net::WsDocument::persistFailed, ws, [hex](const QString& error) {
      reportFailure(hex + ": update not stored, peer closed: " + error.toStdString());
    });
    listener.serve(ws);
    served.push_back(std::move(peer));
  }
  QObject::connect(&listener, &net::WsListener::peerRefused, &listener,
                   [](const QString& reason) { printLine("peer refused: " + reason.toStdString()); });

  std::string self;
  if (listening) {
    if (auto r = listener.listen(address, static_cast<std::uint16_t>(port), tls); !r)
      return reportFailure(r.error().toString());
    const QString shown = address.protocol() == QAbstractSocket::IPv6Protocol
                              ? QLatin1Char('[') + address.toString() + QLatin1Char(']')
                              : address.toString();
    self = (tls ? "wss://" : "ws://") + shown.toStdString() + ":" + std::to_string(listener.port());
    printLine("listening on " + self);
  }
  for (auto& peer : served) {
    auto routes = store->routes(peer->id());
    if (!routes) return reportFailure(routes.error().toString());
    peer->addRoutes(*routes, self);
  }

  quitOnTerminationSignals();
  const int code = QCoreApplication::exec();
  // Every received update was committed before it was forwarded, so there is nothing to flush.
  listener.close();
  for (auto& peer : served) peer->net().closeAll(QStringLiteral("server shutting down"));
  return code;
}

}  // namespace quire::app
