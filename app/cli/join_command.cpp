#include "app/cli/peer_commands.h"

#include <cstdio>
#include <optional>
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
    "Usage: quire-cli join [--db PATH] [--once] [--timeout-ms N] LINK\n"
    "\n"
    "Connects to the route(s) of a quire:// LINK, in order, until one answers; fetches the whole\n"
    "document into the database (with the link's id and key; created on first sync) and prints\n"
    "'synced N chars'. Then stays connected and prints each remote edit as it arrives\n"
    "('edit POS -DELETED +TEXT'), until the peer leaves or SIGTERM/SIGINT.\n"
    "\n"
    "Options:\n"
    "  --once          exit after the initial sync\n"
    "  --timeout-ms N  give up if the initial sync has not finished after N ms (default 10000)\n"
    "  --db PATH       the database (default: quire.db in the app data location)\n"
    "  -h, --help      show this help\n";

void printLine(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

// The state of one join: which route is being tried and whether the first sync happened.
struct Join {
  storage::DocumentStore* store = nullptr;
  storage::DocumentId id;
  storage::DocumentKey key{};
  bool inStore = false;
  bool synced = false;
  bool finished = false;
  std::size_t route = 0;
  std::string lastError;

  // Adds the document to the database the first time anything of it is to be stored.
  Result<void> ensureStored() {
    if (inStore) return {};
    if (auto r = store->adopt(id, key, id.toHex()); !r) return r;
    inStore = true;
    return {};
  }

  void finish(int code, const std::string& message = {}) {
    if (finished) return;
    finished = true;
    if (!message.empty()) reportFailure(message);
    QCoreApplication::exit(code);
  }
};

}  // namespace

int runJoinCommand(const QStringList& args) {
  LibraryCommandLine line("join", kHelp, {"LINK"});
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
      return reportUsageError("join", "--timeout-ms needs an integer > 0, got '" +
                                          line.parser().value(timeoutOption).toStdString() + "'");
    }
  }
  const bool once = line.parser().isSet(onceOption);

  auto link = net::parseShareLink(line.positional(0).toStdString());
  if (!link) return reportFailure("bad link: " + link.error().toString());

  auto store = line.openStore();
  if (!store) return kExitFailure;
  Join join;
  join.store = store.get();
  join.id = toStorageId(link->doc);
  join.key = toStorageKey(link->key);

  std::optional<engine::Document> doc;
  if (store->info(join.id)) {
    auto storedKey = store->key(join.id);
    if (!storedKey) return reportFailure(storedKey.error().toString());
    if (*storedKey != join.key) {
      return reportFailure("document " + join.id.toHex() +
                           " is already in the database with a different key than the link's");
    }
    auto loaded = store->load(join.id);
    if (!loaded) return reportFailure(loaded.error().toString());
    doc.emplace(std::move(*loaded));
    join.inStore = true;
  } else {
    doc.emplace(store->device().replica);
  }

  net::WsDocument peers(*doc, link->key);
  peers.setPersistOps([&join, &doc](engine::LV from, engine::LV) -> Result<void> {
    if (auto r = join.ensureStored(); !r) return r;
    return join.store->append(join.id, doc->encodeOpsSince(from), &*doc);
  });

  auto tryNextRoute = [&] {
    if (join.route >= link->routes.size()) {
      join.finish(kExitFailure, join.lastError);
      return;
    }
    peers.connectTo(QUrl(QString::fromStdString(link->routes[join.route++])));
  };
  QObject::connect(&peers, &net::WsDocument::connectFailed, &peers,
                   [&](const QUrl& url, const QString& error) {
                     join.lastError = "cannot reach " + url.toString().toStdString() + ": " +
                                      error.toStdString();
                     tryNextRoute();
                   });
  QObject::connect(&peers, &net::WsDocument::peerSynced, &peers, [&] {
    if (join.synced) return;
    join.synced = true;
    if (auto r = join.ensureStored(); !r) return join.finish(kExitFailure, r.error().toString());
    printLine("synced " + std::to_string(doc->length()) + " chars");
    if (once) {
      peers.closeAll(QStringLiteral("done"));
      join.finish(kExitOk);
    }
  });
  QObject::connect(&peers, &net::WsDocument::patchesApplied, &peers,
                   [&](const std::vector<engine::Patch>& patches) {
                     if (!join.synced) return;
                     for (const engine::Patch& p : patches) {
                       printLine("edit " + std::to_string(p.pos) + " -" +
                                 std::to_string(p.deleted) + " +" + p.inserted);
                     }
                   });
  QObject::connect(&peers, &net::WsDocument::peerLeft, &peers, [&](auto, const QString& reason) {
    if (join.finished) return;
    const std::string route = link->routes[join.route - 1];
    if (!join.synced) {
      join.lastError = route + " closed the connection before the document was synced" +
                       (reason.isEmpty() ? std::string() : ": " + reason.toStdString());
      return tryNextRoute();
    }
    printLine("peer left");
    join.finish(kExitOk);
  });
  QObject::connect(&peers, &net::WsDocument::persistFailed, &peers, [&](const QString& error) {
    join.finish(kExitFailure, "update not stored: " + error.toStdString());
  });
  QTimer::singleShot(timeoutMs, &peers, [&] {
    if (!join.synced) {
      join.finish(kExitFailure, "no sync within " + std::to_string(timeoutMs) + " ms" +
                                    (join.lastError.empty() ? "" : " (" + join.lastError + ")"));
    }
  });

  quitOnTerminationSignals();
  tryNextRoute();
  const int code = join.finished ? kExitFailure : QCoreApplication::exec();
  return code;
}

}  // namespace quire::app
