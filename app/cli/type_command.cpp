#include "app/cli/type_command.h"

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include <QCoreApplication>
#include <QTimer>
#include <QUrl>

#include "app/cli/cli_command.h"
#include "app/cli/peer_support.h"
#include "app/cli/store_access.h"
#include "engine/document.h"
#include "engine/utf8.h"
#include "storage/document_store.h"

namespace quire::app {

namespace {

constexpr const char* kHelp =
    "Usage: quire-cli type [--db PATH] [--delay-ms N] [--offline] [--wait-ms N] DOC TEXT\n"
    "\n"
    "Types TEXT at the end of DOC (id, id prefix of at least 4 digits, or title), one code\n"
    "point per keystroke. Each keystroke is a local insert whose update is committed to the\n"
    "database before 'typed N' (N = keystrokes so far) is printed and flushed on stdout, so a\n"
    "process killed at any moment has stored at least every keystroke it reported.\n"
    "If the document has stored routes (see 'share'), each keystroke is also sent to the peers\n"
    "as it is typed, once committed; typing never waits for the network, and keystrokes typed\n"
    "while no route is up go out when one comes up. At the end it prints 'sent' (every\n"
    "keystroke handed to a peer or relay) or 'offline: N keystrokes stored, not sent'.\n"
    "Put -- before a TEXT that starts with '-'.\n"
    "\n"
    "Options:\n"
    "  --delay-ms N  pause N milliseconds between keystrokes (default 0)\n"
    "  --offline     do not connect, only store\n"
    "  --wait-ms N   after the last keystroke, wait up to N ms for a route to come up\n"
    "                (default 5000)\n"
    "  --db PATH     the database (default: quire.db in the app data location,\n"
    "                e.g. ~/.local/share/quire/quire.db)\n"
    "  -h, --help    show this help\n";

// Types on the event loop, so the routes stay serviced between keystrokes.
int typeOnline(LivePeer& peer, const std::vector<std::string>& routes, const std::string& text,
               int delayMs, int waitMs) {
  peer.addRoutes(routes, {}, false);
  std::size_t at = 0, typed = 0;
  int code = kExitOk;
  QTimer keys;
  keys.setInterval(delayMs);
  auto finish = [&](int exitCode) {
    code = exitCode;
    QCoreApplication::exit(exitCode);
  };
  auto wrapUp = [&] {
    // Closing hands over what was sent: each side finishes the messages before the close.
    const bool sent = peer.online();
    peer.closeThen(3000, [&, sent] {
      printLine(sent ? std::string("sent")
                     : "offline: " + std::to_string(typed) + " keystrokes stored, not sent");
      finish(kExitOk);
    });
  };
  QObject::connect(&keys, &QTimer::timeout, &keys, [&] {
    if (at >= text.size()) {
      keys.stop();
      if (peer.online() || waitMs == 0) return wrapUp();
      // Wait for a route; its join sends everything typed so far.
      auto* waited = new QTimer(&keys);
      waited->setSingleShot(true);
      QObject::connect(waited, &QTimer::timeout, &keys, wrapUp);
      QObject::connect(&peer.net(), &net::WsDocument::routeStateChanged, waited,
                       [&, waited](const QUrl&, net::RouteState state) {
                         if (state == net::RouteState::Live && waited->isActive()) {
                           waited->stop();
                           wrapUp();
                         }
                       });
      waited->start(waitMs);
      return;
    }
    engine::Document& doc = peer.doc();
    const std::size_t n = engine::utf8::sequenceLength(static_cast<unsigned char>(text[at]));
    const engine::LV before = doc.nextLv();
    if (auto inserted = doc.insert(doc.length(), std::string_view(text).substr(at, n)); !inserted) {
      keys.stop();
      reportFailure("typing: " + inserted.error().toString());
      return finish(kExitFailure);
    }
    if (auto committed = peer.commitLocal(before); !committed) {
      keys.stop();
      reportFailure(committed.error().toString());
      return finish(kExitFailure);
    }
    at += n;
    ++typed;
    printLine("typed " + std::to_string(typed));
  });
  quitOnTerminationSignals();
  keys.start();
  QCoreApplication::exec();
  return code;
}

}  // namespace

int runTypeCommand(const QStringList& args) {
  LibraryCommandLine line("type", kHelp, {"DOC", "TEXT"});
  const QCommandLineOption delayOption(QStringLiteral("delay-ms"), QString(), QStringLiteral("N"));
  const QCommandLineOption offlineOption(QStringLiteral("offline"));
  const QCommandLineOption waitOption(QStringLiteral("wait-ms"), QString(), QStringLiteral("N"));
  line.addOption(delayOption);
  line.addOption(offlineOption);
  line.addOption(waitOption);
  if (auto done = line.parse(args)) return *done;
  int waitMs = 5000;
  if (line.parser().isSet(waitOption)) {
    bool ok = false;
    waitMs = line.parser().value(waitOption).toInt(&ok);
    if (!ok || waitMs < 0) {
      return reportUsageError("type", "--wait-ms needs an integer >= 0, got '" +
                                          line.parser().value(waitOption).toStdString() + "'");
    }
  }
  int delayMs = 0;
  if (line.parser().isSet(delayOption)) {
    bool ok = false;
    delayMs = line.parser().value(delayOption).toInt(&ok);
    if (!ok || delayMs < 0) {
      return reportUsageError("type", "--delay-ms needs an integer >= 0, got '" +
                                          line.parser().value(delayOption).toStdString() + "'");
    }
  }
  // QString holds what the command line said as UTF-16; its UTF-8 form is always valid.
  const std::string text = line.positional(1).toStdString();

  auto store = line.openStore();
  if (!store) return kExitFailure;
  const auto id = resolveDocument(*store, line.positional(0));
  if (!id) return kExitFailure;
  auto doc = loadDocument(*store, *id);
  if (!doc) return reportFailure(doc.error().toString());
  auto routes = store->routes(*id);
  if (!routes) return reportFailure(routes.error().toString());
  if (!routes->empty() && !line.parser().isSet(offlineOption)) {
    auto key = store->key(*id);
    if (!key) return reportFailure(key.error().toString());
    LivePeer peer(*store, *id, std::move(*doc), toNetKey(*key), true);
    return typeOnline(peer, *routes, text, delayMs, waitMs);
  }

  std::size_t typed = 0;
  for (std::size_t at = 0; at < text.size();) {
    if (typed > 0 && delayMs > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delayMs));
    const std::size_t n = engine::utf8::sequenceLength(static_cast<unsigned char>(text[at]));
    const engine::LV before = doc->nextLv();
    if (auto inserted = doc->insert(doc->length(), std::string_view(text).substr(at, n));
        !inserted) {
      return reportFailure("typing: " + inserted.error().toString());
    }
    const std::vector<std::uint8_t> update = doc->encodeOpsSince(before);
    if (auto appended = store->append(*id, update, &*doc); !appended) {
      return reportFailure(appended.error().toString());
    }
    at += n;
    ++typed;
    // Reported only once committed: the kill test relies on this order.
    std::printf("typed %zu\n", typed);
    std::fflush(stdout);
  }
  return kExitOk;
}

}  // namespace quire::app
