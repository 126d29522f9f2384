#include "net/ws_peer.h"

#include <algorithm>
#include <cmath>
#include <span>
#include <utility>

#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QTcpServer>
#include <QTimer>
#include <QWebSocket>
#include <QWebSocketServer>

#include "net/frame.h"
#include "net/tls.h"

Q_LOGGING_CATEGORY(lcSync, "quire.sync")

namespace quire::net {

namespace {

constexpr int kTickMs = 1000;
constexpr int kPresenceFlushMs = 50;
// Local ops are confirmed by a relay ("sync") at most this long after they were sent: one
// question per burst of typing instead of one per keystroke.
constexpr int kStoredAskDelayMs = 250;

std::span<const std::uint8_t> bytesOf(const QByteArray& data) {
  return {reinterpret_cast<const std::uint8_t*>(data.constData()),
          static_cast<std::size_t>(data.size())};
}

QString hexOf(const RoomId& room) {
  return QString::fromLatin1(
      QByteArray(reinterpret_cast<const char*>(room.bytes.data()), room.bytes.size()).toHex());
}

}  // namespace

std::int64_t backoffDelayMs(int attempt, double random01, const BackoffPolicy& policy) {
  double delay = static_cast<double>(policy.initialMs);
  for (int i = 0; i < attempt && delay < static_cast<double>(policy.maxMs); ++i) delay *= 2;
  delay = std::min(delay, static_cast<double>(policy.maxMs));
  random01 = std::clamp(random01, 0.0, 1.0);
  return static_cast<std::int64_t>(std::llround(delay * (1.0 - policy.jitter * random01)));
}

// ---- WsDocument.

WsDocument::WsDocument(engine::Document& doc, const DocKey& key, QObject* parent)
    : QObject(parent),
      m_doc(doc),
      m_key(key),
      m_room(roomIdOf(key)),
      m_hub(doc, key),
      m_tickTimer(new QTimer(this)),
      m_presenceTimer(new QTimer(this)),
      m_storedAskTimer(new QTimer(this)),
      m_checks(std::make_unique<FrameCheckRunner>(
          [this](PeerId peer, FrameCheck check, const std::string& exception) {
            checked(peer, std::move(check), exception);
          })) {
  m_clock.start();
  connect(m_tickTimer, &QTimer::timeout, this, &WsDocument::tick);
  m_tickTimer->start(kTickMs);
  m_presenceTimer->setSingleShot(true);
  connect(m_presenceTimer, &QTimer::timeout, this, [this] { handle(m_hub.flushPresence()); });
  m_storedAskTimer->setSingleShot(true);
  connect(m_storedAskTimer, &QTimer::timeout, this, [this] {
    std::vector<PeerId> peers;
    for (const auto& [peer, ask] : m_storedAsks) peers.push_back(peer);
    for (PeerId peer : peers) sendStoredAsk(peer);
  });
}

WsDocument::~WsDocument() {
  m_checks.reset();  // waits for a running check; none is handed back after this
  // The sockets are children and die with this object; their signals must not reach a
  // half-destroyed WsDocument.
  for (auto& [peer, socket] : m_sockets) socket->disconnect(this);
  for (auto& [url, route] : m_routes)
    if (route.socket) route.socket->disconnect(this);
}

bool WsDocument::opens(const QByteArray& frame) const {
  return decodeFrame(m_key, m_room, bytesOf(frame)).has_value();
}

void WsDocument::addRoute(const QUrl& url, BackoffPolicy policy) {
  const QString name = url.toString();
  if (m_routes.contains(name)) return;
  Route& route = m_routes[name];
  route.url = url;
  route.policy = policy;
  route.retry = new QTimer(this);
  route.retry->setSingleShot(true);
  connect(route.retry, &QTimer::timeout, this, [this, name] {
    if (auto it = m_routes.find(name); it != m_routes.end()) dial(it->second);
  });
  dial(route);
}

void WsDocument::connectTo(const QUrl& url) {
  addRoute(url);
  m_routes[url.toString()].keep = false;
}

void WsDocument::removeRoute(const QUrl& url) {
  auto it = m_routes.find(url.toString());
  if (it == m_routes.end()) return;
  Route route = std::move(it->second);
  m_routes.erase(it);
  route.retry->deleteLater();
  if (route.peer != 0) {
    closePeer(route.peer, QStringLiteral("route removed"));
  } else if (route.socket) {
    route.socket->disconnect(this);
    route.socket->abort();
    route.socket->deleteLater();
  }
  emit routeStateChanged(url, RouteState::Stopped, QString());
}

WsDocument::Route* WsDocument::routeOf(PeerId peer) {
  for (auto& [name, route] : m_routes)
    if (route.peer == peer) return &route;
  return nullptr;
}

void WsDocument::dial(Route& route) {
  const QString name = route.url.toString();
  auto* socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
  route.socket = socket;
  emit routeStateChanged(route.url, RouteState::Connecting, QString());
  connect(socket, &QWebSocket::connected, this, [this, socket, name] {
    socket->disconnect(this);
    auto it = m_routes.find(name);
    if (it == m_routes.end()) {
      socket->close();
      socket->deleteLater();
      return;
    }
    // Every route is opened the same way; the answer says whether it is a relay or a peer.
    it->second.peer = attachRoom(socket);
  });
  // Closed before the handshake finished (refused, unreachable, TLS failure): Qt reports it
  // with an error, a disconnect or both; the first one counts.
  auto failed = [this, socket, name] {
    const QString why = socket->errorString();
    socket->disconnect(this);
    socket->deleteLater();
    if (auto it = m_routes.find(name); it != m_routes.end()) it->second.socket = nullptr;
    routeEnded(QUrl(name), why);
  };
  connect(socket, &QWebSocket::disconnected, this, failed);
  connect(socket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), this, failed);
  socket->open(route.url);
}

// A route's connection is over (or never opened): retry later, or report and forget it.
void WsDocument::routeEnded(const QUrl& url, const QString& why) {
  auto it = m_routes.find(url.toString());
  if (it == m_routes.end()) return;
  Route& route = it->second;
  route.socket = nullptr;
  route.peer = 0;
  if (!route.keep) {
    const bool wasLive = route.wasLive;
    route.retry->deleteLater();
    m_routes.erase(it);
    emit routeStateChanged(url, RouteState::Stopped, why);
    if (!wasLive) emit connectFailed(url, why);
    return;
  }
  const std::int64_t delay =
      backoffDelayMs(route.attempt++, QRandomGenerator::global()->generateDouble(), route.policy);
  route.retry->start(static_cast<int>(delay));
  emit routeStateChanged(url, RouteState::Waiting,
                         why.isEmpty() ? QStringLiteral("retrying in %1 ms").arg(delay)
                                       : QStringLiteral("%1; retrying in %2 ms").arg(why).arg(delay));
}

void WsDocument::adopt(QWebSocket* socket, const QByteArray& first) {
  socket->setParent(this);
  const PeerId peer = attach(socket);
  receive(peer, first);
}

WsDocument::PeerId WsDocument::attach(QWebSocket* socket) {
  Frame hello;
  const PeerId peer = m_hub.addPeer(hello);
  m_sockets[peer] = socket;
  m_helloSeen[peer] = false;
  wire(peer, socket);
  send(peer, {peer, std::move(hello)});
  emit peerJoined(peer);
  return peer;
}

WsDocument::PeerId WsDocument::attachRoom(QWebSocket* socket) {
  SyncHub::Outgoing join;
  RoomOptions options = m_roomOptions;
  if (!options.rejected) options.rejected = &m_rejectedFrames;  // kept across this document's joins
  // This side runs checks aside (FrameCheckRunner), so large frames never hold up the others.
  if (options.checkAsideBytes == 0) options.checkAsideBytes = kCheckAsideBytes;
  const PeerId peer = m_hub.addRoom(join, options);
  m_sockets[peer] = socket;
  wire(peer, socket);
  send(peer, join);
  return peer;
}

void WsDocument::wire(PeerId peer, QWebSocket* socket) {
  // No exception may reach Qt's event loop (it would end the process): an allocation that fails
  // while one frame is handled fails that frame only, and the connection it came on.
  connect(socket, &QWebSocket::binaryMessageReceived, this, [this, peer](const QByteArray& message) {
    try {
      receive(peer, message);
    } catch (const std::exception& e) {
      dropAfterException(peer, e.what());
    }
  });
  connect(socket, &QWebSocket::textMessageReceived, this, [this, peer](const QString& text) {
    try {
      receiveText(peer, text);
    } catch (const std::exception& e) {
      dropAfterException(peer, e.what());
    }
  });
  connect(socket, &QWebSocket::disconnected, this, [this, peer] { detach(peer); });
  // A large stored item arrives in WebSocket frames (the relay's QWebSocket cuts messages into
  // frames of at most 512 KiB): count them as they come, for the join's progress.
  connect(socket, &QWebSocket::binaryFrameReceived, this,
          [this, peer](const QByteArray& frame, bool) {
            auto it = m_replays.find(peer);
            if (it == m_replays.end()) return;
            it->second.received = std::min(it->second.total, it->second.received + frame.size());
            emit joinProgress(it->second.received, it->second.total);
          });
}

void WsDocument::receiveText(PeerId peer, const QString& text) {
  auto it = m_sockets.find(peer);
  if (it == m_sockets.end()) return;
  const RoomSession* room = m_hub.room(peer);
  if (room && !room->joined() && text == QLatin1String(kDirectPeerReply)) {
    // A direct peer serves this room: the connection carries a session from here on.
    QWebSocket* socket = it->second;
    socket->disconnect(this);
    m_sockets.erase(it);
    m_hub.removePeer(peer);
    const PeerId direct = attach(socket);
    if (Route* route = routeOf(peer)) route->peer = direct;
    return;
  }
  if (room && text.startsWith(QLatin1String("synced "))) {
    auto ask = m_storedAsks.find(peer);
    if (ask == m_storedAsks.end() || !ask->second.outstanding) return;
    ask->second.outstanding = false;
    emit localEditsReceived(ask->second.asked);
    sendStoredAsk(peer);  // if more was sent meanwhile
    return;
  }
  if (room && !room->joined()) {
    // "replay ITEMS BYTES" comes before the stored items (PROTOCOL.md, "Relay").
    const QStringList words = text.split(QLatin1Char(' '));
    bool ok = words.size() == 3 && words[0] == QLatin1String("replay");
    const qint64 bytes = ok ? words[2].toLongLong(&ok) : 0;
    if (ok) m_storedAsks[peer] = StoredAsk{};  // this relay answers "sync" too
    if (ok && bytes > 0) {
      m_replays[peer] = Replay{bytes, 0};
      emit joinProgress(0, bytes);
    }
  }
  SyncHub::Output out = m_hub.receiveText(peer, text.toStdString());
  if (!persist(peer, out)) return;
  const bool joined = !out.joined.empty();
  if (joined) {
    if (auto it = m_replays.find(peer); it != m_replays.end()) {
      emit joinProgress(it->second.total, it->second.total);
      m_replays.erase(it);
    }
    // Frames an earlier join of this document rejected were replayed and skipped undecoded
    // (PROTOCOL.md, "Hostile frames"): say so once per join, as the drops were said.
    if (const RoomSession* session = m_hub.room(peer); session && session->framesSkippedAsRejected() > 0)
      qCInfo(lcSync).noquote() << "skipped" << session->framesSkippedAsRejected()
                               << "stored frames from" << peerName(peer)
                               << "that an earlier join rejected, without decoding them";
  }
  handle(std::move(out));
  if (joined) {
    // The join just sent the room what it lacked of this copy: once that is stored, the room
    // holds all of it.
    askStored(peer, m_doc.nextLv(), true);
    if (Route* route = routeOf(peer)) {
      route->attempt = 0;
      route->wasLive = true;
      emit routeStateChanged(route->url, RouteState::Live, QStringLiteral("relay"));
    }
    emit peerJoined(peer);
    emit peerSynced(peer);
  }
}

void WsDocument::receive(PeerId peer, const QByteArray& frame) {
  if (!m_sockets.contains(peer)) return;
  const bool room = m_hub.isRoom(peer);
  // The hub does not expose the version a peer announced; peek at its hello (read-only: the
  // session still checks and counts the frame itself) to know when this side has caught up.
  if (!room && !m_helloSeen[peer]) {
    if (auto m = decodeFrame(m_key, m_room, bytesOf(frame)); m && m->kind == FrameKind::Hello) {
      m_helloSeen[peer] = true;
      m_awaiting[peer] = m->version;
      if (Route* route = routeOf(peer)) {
        route->attempt = 0;
        route->wasLive = true;
        emit routeStateChanged(route->url, RouteState::Live, QStringLiteral("direct peer"));
      }
    }
  }
  settle(peer, m_hub.receive(peer, bytesOf(frame)));
}

bool WsDocument::settle(PeerId peer, SyncHub::Output out) {
  if (!persist(peer, out)) return false;
  if (out.replaced) emit documentReplaced();
  handle(std::move(out));
  return true;
}

void WsDocument::checked(PeerId peer, FrameCheck check, const std::string& exception) {
  if (!m_sockets.contains(peer)) return;  // closed while the check ran
  try {
    if (!exception.empty()) {
      dropAfterException(peer, exception.c_str());
      return;
    }
    if (!settle(peer, m_hub.finishCheck(peer, std::move(check)))) return;
    // What waited behind the frame, in order, until another large frame is held.
    while (m_sockets.contains(peer) && m_hub.canContinue(peer))
      if (!settle(peer, m_hub.continueWaiting(peer))) return;
  } catch (const std::exception& e) {
    dropAfterException(peer, e.what());
  }
}

// Durable before forwarded: nothing of `out` may go anywhere if its ops could not be stored.
bool WsDocument::persist(PeerId peer, const SyncHub::Output& out) {
  if (out.newOpsTo <= out.newOpsFrom || !m_persist) return true;
  auto stored = out.rebuilt && m_replace ? m_replace() : m_persist(out.newOpsFrom, out.newOpsTo);
  if (!stored) {
    const QString message = QString::fromStdString(stored.error().toString());
    closePeer(peer, QStringLiteral("cannot store the update"));
    emit persistFailed(message);
    return false;
  }
  return true;
}

void WsDocument::handle(SyncHub::Output out) {
  for (auto& [peer, check] : out.checks) m_checks->run(peer, std::move(check));
  for (const auto& [peer, why] : out.rejected)
    qCWarning(lcSync).noquote() << "dropped a frame from" << peerName(peer) << "-" << QString::fromStdString(why);
  for (const auto& [peer, what] : out.repaired)
    qCWarning(lcSync).noquote() << "repaired" << QString::fromStdString(what) << "- from" << peerName(peer);
  for (const SyncHub::Outgoing& o : out.frames) send(o.to, o);
  for (std::size_t i = 0; i < out.disconnect.size(); ++i) {
    closePeer(out.disconnect[i], i < out.reasons.size() && !out.reasons[i].empty()
                                     ? QString::fromStdString(out.reasons[i])
                                     : QStringLiteral("protocol error or too many bad frames"));
  }
  if (!out.patches.empty()) emit patchesApplied(out.patches);
  for (const Presence& p : out.presence) emit presenceChanged(p);
  for (const engine::ReplicaId& r : out.left) emit presenceLeft(r);
  std::vector<PeerId> waiting;
  for (const auto& [p, version] : m_awaiting) waiting.push_back(p);
  for (PeerId p : waiting) checkSynced(p);
}

void WsDocument::checkSynced(PeerId peer) {
  auto it = m_awaiting.find(peer);
  if (it == m_awaiting.end() || !m_doc.version().includes(it->second)) return;
  m_awaiting.erase(it);
  emit peerSynced(peer);
  // Its hello's catch-up sent the peer everything this copy has.
  if (!m_hub.isRoom(peer)) emit localEditsReceived(m_doc.nextLv());
}

void WsDocument::send(PeerId peer, const SyncHub::Outgoing& message) {
  auto it = m_sockets.find(peer);
  if (it == m_sockets.end()) return;
  if (message.text) {
    it->second->sendTextMessage(QString::fromLatin1(
        reinterpret_cast<const char*>(message.frame.data()),
        static_cast<qsizetype>(message.frame.size())));
    return;
  }
  it->second->sendBinaryMessage(QByteArray(reinterpret_cast<const char*>(message.frame.data()),
                                           static_cast<qsizetype>(message.frame.size())));
}

QString WsDocument::peerName(PeerId peer) const {
  if (const Route* route = const_cast<WsDocument*>(this)->routeOf(peer)) return route->url.toString();
  auto it = m_sockets.find(peer);
  if (it == m_sockets.end()) return QStringLiteral("peer %1").arg(peer);
  return QStringLiteral("%1:%2").arg(it->second->peerAddress().toString()).arg(it->second->peerPort());
}

void WsDocument::dropAfterException(PeerId peer, const char* what) {
  qCWarning(lcSync).noquote() << "dropped a frame from" << peerName(peer) << "after an exception:" << what;
  closePeer(peer, QStringLiteral("could not handle a frame (%1)").arg(QString::fromUtf8(what)));
}

void WsDocument::closePeer(PeerId peer, const QString& reason) {
  auto it = m_sockets.find(peer);
  if (it == m_sockets.end() || m_closeReason.contains(peer)) return;
  m_closeReason[peer] = reason;
  qCWarning(lcSync).noquote() << "closing" << peerName(peer) << "-" << reason;
  it->second->close(QWebSocketProtocol::CloseCodePolicyViolated, reason);
}

void WsDocument::detach(PeerId peer) {
  auto it = m_sockets.find(peer);
  if (it == m_sockets.end()) return;
  QWebSocket* socket = it->second;
  QString reason = m_closeReason.contains(peer) ? m_closeReason[peer] : socket->closeReason();
  m_sockets.erase(it);
  m_awaiting.erase(peer);
  m_helloSeen.erase(peer);
  m_replays.erase(peer);
  m_storedAsks.erase(peer);
  m_closeReason.erase(peer);
  m_hub.removePeer(peer);
  socket->disconnect(this);
  socket->deleteLater();
  std::optional<QUrl> route;
  if (Route* r = routeOf(peer)) route = r->url;
  emit peerLeft(peer, reason);
  if (route) routeEnded(*route, reason.isEmpty() ? QStringLiteral("connection closed") : reason);
}

void WsDocument::sendLocalEdits(engine::LV from, engine::LV to) {
  handle(m_hub.localEdited(from, to));
  bool direct = false;
  for (const auto& [peer, socket] : m_sockets) {
    if (const RoomSession* room = m_hub.room(peer)) {
      if (room->joined()) askStored(peer, to, false);
    } else if (auto hello = m_helloSeen.find(peer); hello != m_helloSeen.end() && hello->second) {
      direct = true;
    }
  }
  if (direct) emit localEditsReceived(to);
}

void WsDocument::askStored(PeerId peer, engine::LV upTo, bool now) {
  auto it = m_storedAsks.find(peer);
  if (it == m_storedAsks.end() || !m_sockets.contains(peer)) return;
  StoredAsk& ask = it->second;
  ask.wanted = std::max(ask.wanted, upTo);
  if (now) {
    sendStoredAsk(peer);
  } else if (!m_storedAskTimer->isActive()) {
    m_storedAskTimer->start(kStoredAskDelayMs);
  }
}

void WsDocument::sendStoredAsk(PeerId peer) {
  auto socket = m_sockets.find(peer);
  auto it = m_storedAsks.find(peer);
  if (socket == m_sockets.end() || it == m_storedAsks.end()) return;
  StoredAsk& ask = it->second;
  // One question at a time: ops sent meanwhile are asked about when the answer comes.
  if (ask.outstanding || ask.wanted <= ask.asked) return;
  ask.asked = ask.wanted;
  ask.outstanding = true;
  socket->second->sendTextMessage(QStringLiteral("sync"));
}

void WsDocument::setLocalPresence(const Presence& presence) {
  m_hub.setLocalPresence(presence);
  if (!m_presenceTimer->isActive()) m_presenceTimer->start(kPresenceFlushMs);
}

void WsDocument::tick() { handle(m_hub.tick(m_clock.elapsed())); }

void WsDocument::closeAll(const QString& reason) {
  std::vector<PeerId> peers;
  for (const auto& [peer, socket] : m_sockets) peers.push_back(peer);
  // Routes still dialling are dropped; joined ones close below and are not dialled again.
  for (auto it = m_routes.begin(); it != m_routes.end();) {
    Route& route = it->second;
    route.keep = false;
    route.retry->stop();
    if (route.peer == 0) {
      if (route.socket) {
        route.socket->disconnect(this);
        route.socket->abort();
        route.socket->deleteLater();
      }
      route.retry->deleteLater();
      it = m_routes.erase(it);
    } else {
      ++it;
    }
  }
  for (PeerId peer : peers) {
    auto it = m_sockets.find(peer);
    if (it == m_sockets.end()) continue;
    m_closeReason[peer] = reason;
    it->second->close(QWebSocketProtocol::CloseCodeNormal, reason);
  }
}

// ---- WsListener.

WsListener::WsListener(QObject* parent) : QObject(parent) {}

WsListener::~WsListener() = default;

void WsListener::serve(WsDocument* doc) { m_docs.push_back(doc); }

Result<void> WsListener::listen(const QHostAddress& address, std::uint16_t port,
                                const std::optional<QSslConfiguration>& tls) {
  delete m_tcp;
  delete m_server;
  m_tcp = nullptr;
  // Handshakes only; our own TCP (or TLS) server accepts, with Nagle off (net/tls.h).
  m_server = new QWebSocketServer(QStringLiteral("quire"), QWebSocketServer::NonSecureMode, this);
  connect(m_server, &QWebSocketServer::newConnection, this, &WsListener::acceptPending);
  auto tcp = listenForWebSockets(m_server, address, port, tls, this);
  if (!tcp) return fail(tcp.error());
  m_tcp = *tcp;
  return {};
}

std::uint16_t WsListener::port() const { return m_tcp ? m_tcp->serverPort() : 0; }

void WsListener::close() {
  if (m_tcp) m_tcp->close();
}

void WsListener::acceptPending() {
  while (m_server->hasPendingConnections()) {
    QWebSocket* socket = m_server->nextPendingConnection();
    socket->setParent(this);
    // As in WsDocument::wire: an exception while routing one connection's first frame refuses
    // that connection and nothing else.
    auto failed = [this, socket](const char* what) {
      refuse(socket, QStringLiteral("could not handle a frame (%1)").arg(QString::fromUtf8(what)));
    };
    connect(socket, &QWebSocket::binaryMessageReceived, this,
            [this, socket, failed](const QByteArray& first) {
              try {
                route(socket, first);
              } catch (const std::exception& e) {
                failed(e.what());
              }
            });
    connect(socket, &QWebSocket::textMessageReceived, this,
            [this, socket, failed](const QString& text) {
              try {
                answerJoin(socket, text);
              } catch (const std::exception& e) {
                failed(e.what());
              }
            });
    connect(socket, &QWebSocket::disconnected, socket, &QObject::deleteLater);
    // A socket that never asks for a room is closed, so idle connections cannot pile up.
    QTimer::singleShot(m_handshakeTimeoutMs, socket, [this, socket] {
      if (socket->parent() == this)
        refuse(socket, QStringLiteral("no room asked for within %1 s").arg(m_handshakeTimeoutMs / 1000.0));
    });
  }
}

void WsListener::refuse(QWebSocket* socket, const QString& reason) {
  if (socket->property("quireRefused").toBool()) return;
  socket->setProperty("quireRefused", true);
  socket->disconnect(this);
  emit peerRefused(reason);
  socket->close(QWebSocketProtocol::CloseCodePolicyViolated, reason);
}

void WsListener::answerJoin(QWebSocket* socket, const QString& text) {
  static const QString kJoin = QStringLiteral("join ");
  if (!text.startsWith(kJoin)) {
    refuse(socket, QStringLiteral("text frames are not part of the protocol"));
    return;
  }
  const QString hex = text.mid(kJoin.size()).toLower();
  for (WsDocument* doc : m_docs) {
    if (hexOf(doc->room()) == hex) {
      // The peer sends its hello next; it is routed (and checked) like any first frame.
      socket->sendTextMessage(QString::fromLatin1(kDirectPeerReply));
      return;
    }
  }
  refuse(socket, QString::fromLatin1(kNoRoomReason));
}

void WsListener::route(QWebSocket* socket, const QByteArray& first) {
  // From here on the socket belongs to a document or is closing: the listener hears no more.
  socket->disconnect(this);
  for (WsDocument* doc : m_docs) {
    if (doc->opens(first)) {
      doc->adopt(socket, first);
      return;
    }
  }
  refuse(socket, QString::fromLatin1(kNoRoomReason));
}

}  // namespace quire::net
