#include "app/cli/peer_commands.h"

#include <cstdio>
#include <optional>
#include <set>
#include <string>

#include <QCoreApplication>
#include <QTimer>
#include <QUrl>

#include "app/cli/cli_command.h"
#include "app/cli/peer_support.h"
#include "app/cli/store_access.h"
#include "engine/document.h"
#include "net/share_link.h"
#include "net/ws_peer.h"
#include "storage/document_store.h"

namespace quire::app {

namespace {

constexpr const char* kHelp =
    "Usage: quire-cli open [--db PATH] [--once] [--timeout-ms N] LINK\n"
    "\n"
    "Opens a quire:// LINK: connects to all of its routes (relays and direct peers) at once,\n"
    "fetches the whole document into the database (with the link's id and key; added on first\n"
    "sync) and prints 'synced N chars'. Edits made here while offline go out on the way. Then\n"
    "stays connected, reconnecting with backoff when a route drops, and prints each remote edit\n"
    "('edit POS -DELETED +TEXT') and each route change ('route URL live|waiting|...'), until\n"
    "SIGTERM/SIGINT. 'join' is another name for this command.\n"
    "\n"
    "Options:\n"
    "  --once          dial each route once; exit after the first sync (after the other side\n"
    "                  has everything this copy had), or fail when every route failed\n"
    "  --timeout-ms N  give up if the first sync has not happened after N ms (default 10000)\n"
    "  --db PATH       the database (default: quire.db in the app data location)\n"
    "  -h, --help      show this help\n";

}  // namespace

int runOpenCommand(const QStringList& args) {
  LibraryCommandLine line("open", kHelp, {"LINK"});
  const QCommandLineOption onceOption(QStringLiteral("once"));
  const QCommandLineOption timeoutOption(QStringLiteral("timeout-ms"), QString(),
                                         QStringLiteral("N"));
  line.addOption(onceOption);
  line.addOption(timeoutOption);
  if (auto done = line.parse(args)) return *done;
  int timeoutMs = 10000;
  if (line.parser().isSet(timeoutOption)) {
    bool ok = false;
    timeoutMs = line.parser().value(timeoutOption).toInt(&ok);
    if (!ok || timeoutMs <= 0) {
      return reportUsageError("open", "--timeout-ms needs an integer > 0, got '" +
                                          line.parser().value(timeoutOption).toStdString() + "'");
    }
  }
  const bool once = line.parser().isSet(onceOption);

  auto link = net::parseShareLink(line.positional(0).toStdString());
  if (!link) return reportFailure("bad link: " + link.error().toString());

  auto store = line.openStore();
  if (!store) return kExitFailure;
  const storage::DocumentId id = toStorageId(link->doc);
  bool known = store->info(id).has_value();
  std::optional<engine::Document> loaded;
  if (known) {
    auto storedKey = store->key(id);
    if (!storedKey) return reportFailure(storedKey.error().toString());
    auto doc = loadDocument(*store, id);
    if (!doc) return reportFailure(doc.error().toString());
    if (*storedKey != toStorageKey(link->key)) {
      if (doc->opCount() != 0) {
        return reportFailure("document " + id.toHex() +
                             " is already in the database with a different key than the link's");
      }
      // An empty copy from an earlier link (a wrong key, say) holds nothing to protect: this
      // link's key replaces it.
      if (auto removed = store->remove(id); !removed) return reportFailure(removed.error().toString());
      known = false;
      doc = engine::Document(store->device().replica);
    }
    loaded.emplace(std::move(*doc));
  } else {
    loaded.emplace(store->device().replica);
  }

  LivePeer peer(*store, id, std::move(*loaded), link->key, known);
  bool synced = false, finished = false;
  std::string lastError;
  std::set<std::string> failedRoutes;
  auto finish = [&](int code, const std::string& message = {}) {
    if (finished) return;
    finished = true;
    if (!message.empty()) reportFailure(message);
    QCoreApplication::exit(code);
  };

  QObject::connect(&peer.net(), &net::WsDocument::routeStateChanged, &peer.net(),
                   [&](const QUrl& url, net::RouteState state, const QString& detail) {
                     if (state != net::RouteState::Waiting && state != net::RouteState::Stopped)
                       return;
                     if (!detail.isEmpty())
                       lastError = url.toString().toStdString() + ": " + detail.toStdString();
                   });
  QObject::connect(&peer.net(), &net::WsDocument::connectFailed, &peer.net(),
                   [&](const QUrl& url, const QString& error) {
                     lastError = "cannot reach " + url.toString().toStdString() + ": " +
                                 error.toStdString();
                     failedRoutes.insert(url.toString().toStdString());
                     if (!synced && failedRoutes.size() == link->routes.size())
                       finish(kExitFailure, lastError);
                   });
  QObject::connect(&peer.net(), &net::WsDocument::peerSynced, &peer.net(), [&] {
    if (synced) return;
    synced = true;
    if (peer.doc().opCount() == 0) {
      // Through a relay a wrong key derives a room of its own, which is empty: it cannot be
      // told from a document nobody has written in yet.
      std::fprintf(stderr,
                   "quire-cli: note: the link's routes had nothing for this document yet "
                   "(nobody has written in it, or the link's key is wrong)\n");
    }
    if (auto r = peer.ensureStored(); !r) return finish(kExitFailure, r.error().toString());
    // The link's routes become the document's, so 'serve' and 'share' know them.
    if (auto routes = store->routes(id); routes && routes->empty()) {
      if (auto r = store->setRoutes(id, link->routes); !r)
        return finish(kExitFailure, r.error().toString());
    }
    printLine("synced " + std::to_string(peer.doc().length()) + " chars");
    if (once) peer.closeThen(3000, [&] { finish(kExitOk); });
  });
  QObject::connect(&peer.net(), &net::WsDocument::patchesApplied, &peer.net(),
                   [&](const std::vector<engine::Patch>& patches) {
                     if (!synced) return;
                     for (const engine::Patch& p : patches) {
                       printLine("edit " + std::to_string(p.pos) + " -" +
                                 std::to_string(p.deleted) + " +" + p.inserted);
                     }
                   });
  QObject::connect(&peer.net(), &net::WsDocument::peerLeft, &peer.net(),
                   [&](auto, const QString& reason) {
                     // A one-shot route that was refused before the sync (a wrong key, say).
                     if (!once || synced || finished) return;
                     if (!reason.isEmpty()) lastError = reason.toStdString();
                   });
  QObject::connect(&peer.net(), &net::WsDocument::persistFailed, &peer.net(),
                   [&](const QString& error) {
                     finish(kExitFailure, "update not stored: " + error.toStdString());
                   });
  QTimer::singleShot(timeoutMs, &peer.net(), [&] {
    if (!synced) {
      finish(kExitFailure, "no sync within " + std::to_string(timeoutMs) + " ms" +
                               (lastError.empty() ? "" : " (" + lastError + ")"));
    }
  });

  quitOnTerminationSignals();
  if (once) {
    for (const std::string& route : link->routes)
      peer.net().connectTo(QUrl(QString::fromStdString(route)));
  } else {
    peer.addRoutes(link->routes);
  }
  const int code = finished ? kExitFailure : QCoreApplication::exec();
  return code;
}

}  // namespace quire::app
