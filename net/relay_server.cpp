#include "net/relay_server.h"

#include <algorithm>
#include <cassert>
#include <utility>
#include <vector>

#include <QSslError>
#include <QSslServer>
#include <QSslSocket>
#include <QTimer>
#include <QWebSocket>
#include <QWebSocketServer>

#include "net/tls.h"

namespace quire::net {

namespace {

// One client host, one key: a dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d.
std::string hostKey(const QHostAddress& address) {
  bool isV4 = false;
  const quint32 v4 = address.toIPv4Address(&isV4);
  return (isV4 ? QHostAddress(v4) : address).toString().toStdString();
}


constexpr char kTlsFailureLogged[] = "quireTlsFailureLogged";

// A joiner is sent its next step only while less than this is waiting on its socket.
constexpr qint64 kJoinBacklogBytes = 1 << 20;
// How soon joiners that are all waiting for their sockets are looked at again.
constexpr int kJoinRetryMs = 5;

}  // namespace

RelayServer::RelayServer(RelayRouter& router, LogSink log, QObject* parent)
    : QObject(parent), m_router(router), m_log(std::move(log)) {
  m_clock.start();
  m_idleTimer = new QTimer(this);
  // Idle expiry needs no precision: a check every second (or every tenth of the timeout, for
  // short timeouts in tests) is enough.
  const auto interval = std::clamp<std::int64_t>(router.limits().idleTimeoutMs / 10, 10, 1000);
  m_idleTimer->setInterval(static_cast<int>(interval));
  connect(m_idleTimer, &QTimer::timeout, this, [this] { apply(m_router.expireIdle(now())); });
  m_batchTimer = new QTimer(this);
  m_batchTimer->setSingleShot(true);
  m_batchTimer->setInterval(0);
  connect(m_batchTimer, &QTimer::timeout, this, &RelayServer::commitBatch);
  m_joinTimer = new QTimer(this);
  m_joinTimer->setSingleShot(true);
  connect(m_joinTimer, &QTimer::timeout, this, &RelayServer::continueJoins);
}

RelayServer::~RelayServer() {
  if (m_batchOpen) (void)m_router.store().commitBatch();
  for (auto& [id, socket] : m_sockets) {
    socket->disconnect(this);
    m_router.disconnect(id);
  }
}

Result<quint16> RelayServer::listen(const QHostAddress& address, quint16 port,
                                    const std::optional<QSslConfiguration>& tls) {
  assert(m_tcp == nullptr || !m_tcp->isListening());
  delete m_tcp;
  delete m_server;
  m_tcp = nullptr;
  // The WebSocket server only does handshakes; a TCP (or TLS) server of our own accepts, so
  // accepted sockets get Nagle turned off (net/tls.h).
  m_server = new QWebSocketServer(QStringLiteral("quire-relay"), QWebSocketServer::NonSecureMode,
                                  this);
  connect(m_server, &QWebSocketServer::newConnection, this, &RelayServer::acceptPending);
  auto tcp = listenForWebSockets(m_server, address, port, tls, this);
  if (!tcp) return fail(Error::io("relay: " + tcp.error().message()));
  m_tcp = *tcp;
  m_secure = tls.has_value();
  if (m_secure) logTlsFailures();
  m_idleTimer->start();
  return m_tcp->serverPort();
}

bool RelayServer::secure() const { return m_secure; }

// A failed handshake never reaches acceptPending(): Qt drops that socket itself (at once, or at
// the handshake timeout). QWebSocketServer's own TLS signals do not say which client failed;
// the QSslServer it makes as its child (Qt 6.4) does, so that one is used when found.
void RelayServer::logTlsFailures() {
  auto* tlsServer = qobject_cast<QSslServer*>(m_tcp);
  if (tlsServer == nullptr) return;
  connect(tlsServer, &QSslServer::errorOccurred, this,
          [this](QSslSocket* socket, QAbstractSocket::SocketError) {
            // After the handshake the socket is a WebSocket's, and its end is a disconnect.
            // One line per client: a failing socket may report more than one error.
            if (socket->isEncrypted() || socket->property(kTlsFailureLogged).toBool()) return;
            socket->setProperty(kTlsFailureLogged, true);
            m_log("TLS handshake failed " + socket->peerAddress().toString().toStdString() + ":" +
                  std::to_string(socket->peerPort()) + ": " + socket->errorString().toStdString());
          });
}

void RelayServer::shutDown() {
  // What was accepted is committed (and forwarded) before anyone is sent away.
  if (m_batchTimer->isActive()) {
    m_batchTimer->stop();
    commitBatch();
  }
  if (m_server == nullptr) return;
  if (m_tcp) m_tcp->close();
  m_server->close();
  m_idleTimer->stop();
  // close() may emit disconnected() at once, which erases from m_sockets: iterate a copy.
  std::vector<QWebSocket*> sockets;
  for (auto& [id, socket] : m_sockets) sockets.push_back(socket);
  for (QWebSocket* socket : sockets)
    socket->close(QWebSocketProtocol::CloseCodeGoingAway, QStringLiteral("relay shutting down"));
}

std::string RelayServer::describe(RelayRouter::ConnId id) const {
  auto it = m_peers.find(id);
  // std::string(...) + rather than "literal" + sidesteps GCC 12's false -Wrestrict (PR 105329).
  return it == m_peers.end() ? std::string("#").append(std::to_string(id)) : it->second;
}

void RelayServer::acceptPending() {
  while (QWebSocket* socket = m_server->nextPendingConnection()) {
    socket->setParent(this);
    const QHostAddress peer = socket->peerAddress();
    const RelayRouter::Connected accepted = m_router.connect(hostKey(peer), now());
    const RelayRouter::ConnId id = accepted.conn;
    limitNextMessage(id, socket);
    m_sockets[id] = socket;
    m_peers[id] = std::string("#").append(std::to_string(id)) + " " +
                  peer.toString().toStdString() + ":" + std::to_string(socket->peerPort());
    m_log("connect " + m_peers[id]);
    // No exception may reach Qt's event loop (it would end the relay and every room with it): an
    // allocation that fails while one message is handled closes that connection only.
    connect(socket, &QWebSocket::textMessageReceived, this,
            [this, id, socket](const QString& text) {
      try {
        const QByteArray utf8 = text.toUtf8();
        beginPass();
        hold(m_router.receiveText(id, std::string_view(utf8.constData(), utf8.size()), now()));
        limitNextMessage(id, socket);
      } catch (const std::exception& e) {
        dropAfterException(id, e.what());
      }
    });
    connect(socket, &QWebSocket::binaryMessageReceived, this,
            [this, id, socket](const QByteArray& data) {
      try {
        const auto* begin = reinterpret_cast<const std::uint8_t*>(data.constData());
        beginPass();
        hold(m_router.receiveBinary(id, {begin, static_cast<std::size_t>(data.size())}, now()));
        limitNextMessage(id, socket);
      } catch (const std::exception& e) {
        dropAfterException(id, e.what());
      }
    });
    connect(socket, &QWebSocket::disconnected, this, [this, id, socket] {
      if (socket->closeCode() == QWebSocketProtocol::CloseCodeTooMuchData) {
        m_log("refused " + describe(id) + ": message too large (limit " +
              std::to_string(m_router.largestNextMessage(id)) + " bytes), closed unread");
      }
      m_router.disconnect(id);
      m_log("disconnect " + describe(id));
      m_sockets.erase(id);
      m_peers.erase(id);
      socket->deleteLater();
    });
    apply(accepted.out);
  }
}

void RelayServer::limitNextMessage(RelayRouter::ConnId id, QWebSocket* socket) {
  // Qt closes with 1009 ("Received message is too big.") as soon as the fragments read so far
  // pass the limit, so a hostile 64 MiB message is never read whole. The router checks the same
  // limit again and names the sizes ("frame too large") for anything that still gets through.
  const quint64 limit = m_router.largestNextMessage(id);
  socket->setMaxAllowedIncomingMessageSize(limit);
  socket->setMaxAllowedIncomingFrameSize(limit);
}

void RelayServer::dropAfterException(RelayRouter::ConnId id, const char* what) {
  m_log("refused " + describe(id) + " after an exception: " + what);
  if (auto it = m_sockets.find(id); it != m_sockets.end())
    it->second->close(QWebSocketProtocol::CloseCodeBadOperation,
                      QStringLiteral("relay could not handle the message"));
}

void RelayServer::beginPass() {
  if (m_batchOpen) return;
  // If the batch cannot open, each write commits on its own (and reports its own failure).
  m_batchOpen = m_router.store().beginBatch().has_value();
  m_batchTimer->start();
}

void RelayServer::hold(RelayRouter::Output out) {
  m_held.push_back(std::move(out));
  if (!m_batchTimer->isActive()) m_batchTimer->start();
}

void RelayServer::commitBatch() {
  std::vector<RelayRouter::Output> held = std::move(m_held);
  m_held.clear();
  const bool wasOpen = m_batchOpen;
  m_batchOpen = false;
  if (wasOpen) {
    if (auto committed = m_router.store().commitBatch(); !committed) {
      // Every frame of the batch is gone from the store, so none may be forwarded, and the
      // router's idea of the rooms no longer matches the store: everyone reconnects and the
      // rooms are read again.
      m_log("cannot commit stored frames: " + committed.error().toString());
      std::vector<QWebSocket*> sockets;
      for (auto& [id, socket] : m_sockets) sockets.push_back(socket);
      for (QWebSocket* socket : sockets)
        socket->close(QWebSocketProtocol::CloseCodeAbnormalDisconnection,
                      QStringLiteral("cannot store the frame"));
      return;
    }
  }
  for (const RelayRouter::Output& out : held) apply(out);
  scheduleJoins(0);
}

void RelayServer::scheduleJoins(int delayMs) {
  if (!m_router.joining().empty() && !m_joinTimer->isActive()) m_joinTimer->start(delayMs);
}

void RelayServer::continueJoins() {
  bool sent = false;
  // continueJoin changes the set (a join that finishes leaves it): iterate a copy.
  const std::vector<RelayRouter::ConnId> joining(m_router.joining().begin(),
                                                 m_router.joining().end());
  for (RelayRouter::ConnId id : joining) {
    auto it = m_sockets.find(id);
    if (it == m_sockets.end() || it->second->bytesToWrite() >= kJoinBacklogBytes) continue;
    try {
      hold(m_router.continueJoin(id));
      sent = true;
    } catch (const std::exception& e) {
      dropAfterException(id, e.what());
    }
  }
  // What was held goes out at the batch's commit, which schedules the next steps.
  if (!sent) scheduleJoins(kJoinRetryMs);
}

void RelayServer::apply(const RelayRouter::Output& out) {
  for (const RelayRouter::Message& m : out.messages) {
    auto it = m_sockets.find(m.to);
    if (it == m_sockets.end()) continue;
    const auto* data = reinterpret_cast<const char*>(m.bytes.data());
    const auto size = static_cast<qsizetype>(m.bytes.size());
    if (m.text)
      it->second->sendTextMessage(QString::fromUtf8(data, size));
    else
      it->second->sendBinaryMessage(QByteArray(data, size));
  }
  for (const RelayRouter::Closing& c : out.close) {
    m_log("refused " + describe(c.conn) + ": " + c.reason);
    auto it = m_sockets.find(c.conn);
    if (it != m_sockets.end())
      it->second->close(QWebSocketProtocol::CloseCodePolicyViolated,
                        QString::fromStdString(c.reason));
  }
}

}  // namespace quire::net
