#include "net/ws_peer.h"

#include <span>
#include <utility>

#include <QWebSocket>
#include <QWebSocketServer>

#include "net/frame.h"

namespace quire::net {

namespace {

std::span<const std::uint8_t> bytesOf(const QByteArray& data) {
  return {reinterpret_cast<const std::uint8_t*>(data.constData()),
          static_cast<std::size_t>(data.size())};
}

}  // namespace

// ---- WsDocument.

WsDocument::WsDocument(engine::Document& doc, const DocKey& key, QObject* parent)
    : QObject(parent), m_doc(doc), m_key(key), m_room(roomIdOf(key)), m_hub(doc, key) {}

WsDocument::~WsDocument() {
  // The sockets are children and die with this object; their signals must not reach a
  // half-destroyed WsDocument.
  for (auto& [peer, socket] : m_sockets) socket->disconnect(this);
}

bool WsDocument::opens(const QByteArray& frame) const {
  return decodeFrame(m_key, m_room, bytesOf(frame)).has_value();
}

void WsDocument::connectTo(const QUrl& url) {
  auto* socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
  connect(socket, &QWebSocket::connected, this, [this, socket] {
    socket->disconnect(this);
    attach(socket);
  });
  connect(socket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), this,
          [this, socket, url](QAbstractSocket::SocketError) {
            const QString message = socket->errorString();
            socket->disconnect(this);
            socket->deleteLater();
            emit connectFailed(url, message);
          });
  socket->open(url);
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
  connect(socket, &QWebSocket::binaryMessageReceived, this,
          [this, peer](const QByteArray& message) { receive(peer, message); });
  connect(socket, &QWebSocket::textMessageReceived, this,
          [this, peer] { closePeer(peer, QStringLiteral("text frames are not part of the protocol")); });
  connect(socket, &QWebSocket::disconnected, this, [this, peer] { detach(peer); });
  send(peer, hello);
  emit peerJoined(peer);
  return peer;
}

void WsDocument::receive(PeerId peer, const QByteArray& frame) {
  if (!m_sockets.contains(peer)) return;
  // The hub does not expose the version a peer announced; peek at its hello (read-only: the
  // session still checks and counts the frame itself) to know when this side has caught up.
  if (!m_helloSeen[peer]) {
    if (auto m = decodeFrame(m_key, m_room, bytesOf(frame)); m && m->kind == FrameKind::Hello) {
      m_helloSeen[peer] = true;
      m_awaiting[peer] = m->version;
    }
  }
  SyncHub::Output out = m_hub.receive(peer, bytesOf(frame));
  // Durable before forwarded: nothing below runs for ops that could not be stored.
  if (out.newOpsTo > out.newOpsFrom && m_persist) {
    if (auto stored = m_persist(out.newOpsFrom, out.newOpsTo); !stored) {
      const QString message = QString::fromStdString(stored.error().toString());
      closePeer(peer, QStringLiteral("cannot store the update"));
      emit persistFailed(message);
      return;
    }
  }
  handle(peer, std::move(out));
}

void WsDocument::handle(PeerId /*exceptSender*/, SyncHub::Output out) {
  for (const SyncHub::Outgoing& o : out.frames) send(o.to, o.frame);
  for (PeerId p : out.disconnect) closePeer(p, QStringLiteral("protocol error or too many bad frames"));
  if (!out.patches.empty()) emit patchesApplied(out.patches);
  std::vector<PeerId> waiting;
  for (const auto& [p, version] : m_awaiting) waiting.push_back(p);
  for (PeerId p : waiting) checkSynced(p);
}

void WsDocument::checkSynced(PeerId peer) {
  auto it = m_awaiting.find(peer);
  if (it == m_awaiting.end() || !m_doc.version().includes(it->second)) return;
  m_awaiting.erase(it);
  emit peerSynced(peer);
}

void WsDocument::send(PeerId peer, const Frame& frame) {
  auto it = m_sockets.find(peer);
  if (it == m_sockets.end()) return;
  it->second->sendBinaryMessage(
      QByteArray(reinterpret_cast<const char*>(frame.data()), static_cast<qsizetype>(frame.size())));
}

void WsDocument::closePeer(PeerId peer, const QString& reason) {
  auto it = m_sockets.find(peer);
  if (it == m_sockets.end() || m_closeReason.contains(peer)) return;
  m_closeReason[peer] = reason;
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
  m_closeReason.erase(peer);
  m_hub.removePeer(peer);
  socket->disconnect(this);
  socket->deleteLater();
  emit peerLeft(peer, reason);
}

void WsDocument::sendLocalEdits(engine::LV from) { handle(0, m_hub.localEdited(from)); }

void WsDocument::closeAll(const QString& reason) {
  std::vector<PeerId> peers;
  for (const auto& [peer, socket] : m_sockets) peers.push_back(peer);
  for (PeerId peer : peers) {
    auto it = m_sockets.find(peer);
    if (it == m_sockets.end()) continue;
    m_closeReason[peer] = reason;
    it->second->close(QWebSocketProtocol::CloseCodeNormal, reason);
  }
}

// ---- WsListener.

WsListener::WsListener(QObject* parent)
    : QObject(parent),
      m_server(new QWebSocketServer(QStringLiteral("quire"), QWebSocketServer::NonSecureMode, this)) {
  connect(m_server, &QWebSocketServer::newConnection, this, &WsListener::acceptPending);
}

WsListener::~WsListener() = default;

void WsListener::serve(WsDocument* doc) { m_docs.push_back(doc); }

Result<void> WsListener::listen(const QHostAddress& address, std::uint16_t port) {
  if (!m_server->listen(address, port)) {
    return fail(Error::io("listen on " + address.toString().toStdString() + ":" +
                          std::to_string(port) + ": " + m_server->errorString().toStdString()));
  }
  return {};
}

std::uint16_t WsListener::port() const { return m_server->serverPort(); }

void WsListener::close() { m_server->close(); }

void WsListener::acceptPending() {
  while (m_server->hasPendingConnections()) {
    QWebSocket* socket = m_server->nextPendingConnection();
    socket->setParent(this);
    connect(socket, &QWebSocket::binaryMessageReceived, this,
            [this, socket](const QByteArray& first) { route(socket, first); });
    connect(socket, &QWebSocket::textMessageReceived, this, [this, socket] {
      socket->disconnect(this);
      emit peerRefused(QStringLiteral("text frames are not part of the protocol"));
      socket->close(QWebSocketProtocol::CloseCodePolicyViolated,
                    QStringLiteral("text frames are not part of the protocol"));
      connect(socket, &QWebSocket::disconnected, socket, &QObject::deleteLater);
    });
    connect(socket, &QWebSocket::disconnected, socket, &QObject::deleteLater);
  }
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
  const QString reason = QString::fromLatin1(kNoRoomReason);
  emit peerRefused(reason);
  socket->close(QWebSocketProtocol::CloseCodePolicyViolated, reason);
}

}  // namespace quire::net
