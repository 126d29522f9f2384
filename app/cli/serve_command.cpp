#include "app/cli/peer_commands.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <QCoreApplication>
#include <QHostAddress>

#include "app/cli/cli_command.h"
#include "app/cli/peer_support.h"
#include "app/cli/store_access.h"
#include "net/ws_peer.h"
#include "storage/document_store.h"

namespace quire::app {

namespace {

constexpr const char* kHelp =
    "Usage: quire-cli serve [--listen ADDR:PORT] [--db PATH] [DOC...]\n"
    "\n"
    "Serves DOCs (default: every document in the database) to direct peers over WebSockets\n"
    "until SIGTERM or SIGINT. Prints 'listening on ws://ADDR:PORT' once listening, then one line\n"
    "per event: 'peer joined ID', 'synced ID', 'peer left ID', 'peer refused: REASON'.\n"
    "Every update a peer sends is committed to the database before it is passed on.\n"
    "\n"
    "Options:\n"
    "  --listen ADDR:PORT  where to listen (default 127.0.0.1:7070; port 0 picks a free one)\n"
    "  --db PATH           the database (default: quire.db in the app data location)\n"
    "  -h, --help          show this help\n";

// One served document: its id, the editable copy and its socket adapter.
struct Served {
  storage::DocumentId id;
  std::string hex;
  engine::Document doc;
  std::unique_ptr<net::WsDocument> peers;
};

void printLine(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

}  // namespace

int runServeCommand(const QStringList& args) {
  LibraryCommandLine line("serve", kHelp, {"DOC..."});
  const QCommandLineOption listenOption(QStringLiteral("listen"), QString(),
                                        QStringLiteral("ADDR:PORT"));
  line.addOption(listenOption);
  if (auto done = line.parse(args)) return *done;

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
  std::vector<std::unique_ptr<Served>> served;
  for (const storage::DocumentId& id : ids) {
    auto doc = store->load(id);
    if (!doc) return reportFailure(doc.error().toString());
    auto key = store->key(id);
    if (!key) return reportFailure(key.error().toString());
    auto s = std::make_unique<Served>(Served{id, id.toHex(), std::move(*doc), nullptr});
    Served* raw = s.get();
    s->peers = std::make_unique<net::WsDocument>(s->doc, toNetKey(*key));
    s->peers->setPersistOps([raw, &store](engine::LV from, engine::LV) -> Result<void> {
      return store->append(raw->id, raw->doc.encodeOpsSince(from), &raw->doc);
    });
    QObject::connect(s->peers.get(), &net::WsDocument::peerJoined, s->peers.get(),
                     [raw] { printLine("peer joined " + raw->hex); });
    QObject::connect(s->peers.get(), &net::WsDocument::peerSynced, s->peers.get(),
                     [raw] { printLine("synced " + raw->hex); });
    QObject::connect(s->peers.get(), &net::WsDocument::peerLeft, s->peers.get(),
                     [raw] { printLine("peer left " + raw->hex); });
    QObject::connect(s->peers.get(), &net::WsDocument::persistFailed, s->peers.get(),
                     [raw](const QString& error) {
                       reportFailure(raw->hex + ": update not stored, peer closed: " +
                                     error.toStdString());
                     });
    listener.serve(s->peers.get());
    served.push_back(std::move(s));
  }
  QObject::connect(&listener, &net::WsListener::peerRefused, &listener,
                   [](const QString& reason) { printLine("peer refused: " + reason.toStdString()); });

  if (auto listening = listener.listen(address, static_cast<std::uint16_t>(port)); !listening) {
    return reportFailure(listening.error().toString());
  }
  const QString shown = address.protocol() == QAbstractSocket::IPv6Protocol
                            ? QLatin1Char('[') + address.toString() + QLatin1Char(']')
                            : address.toString();
  printLine("listening on ws://" + shown.toStdString() + ":" + std::to_string(listener.port()));

  quitOnTerminationSignals();
  const int code = QCoreApplication::exec();
  // Every received update was committed before it was forwarded, so there is nothing to flush.
  listener.close();
  for (auto& s : served) s->peers->closeAll(QStringLiteral("server shutting down"));
  return code;
}

}  // namespace quire::app
