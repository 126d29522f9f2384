// The relay's WebSocket adapter: accepts connections on a QWebSocketServer and moves their
// messages in and out of a sans-I/O RelayRouter (net/relay_router.h). PROTOCOL.md, "Relay".
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <QElapsedTimer>
#include <QHostAddress>
#include <QObject>
#include <QSslConfiguration>

#include "engine/result.h"
#include "net/relay_router.h"

class QTcpServer;
class QTimer;
class QWebSocket;
class QWebSocketServer;

namespace quire::net {

// Owns the listening server and the accepted sockets (as QObject children); the router is the
// caller's and must outlive this object. Reports one line per connect, disconnect and refusal
// to `log`, and one per failed TLS handshake (that client is dropped; nobody else notices). Lives
// on one thread (the one with its event loop); not thread-safe.
class RelayServer : public QObject {
  Q_OBJECT
 public:
  using LogSink = std::function<void(const std::string&)>;

  RelayServer(RelayRouter& router, LogSink log, QObject* parent = nullptr);
  ~RelayServer() override;
  RelayServer(const RelayServer&) = delete;
  RelayServer& operator=(const RelayServer&) = delete;

  // Starts listening: plain ws:// without `tls`, wss:// with it (a server configuration with a
  // certificate and private key, e.g. from loadServerTls() in net/tls.h). Port 0 picks a free
  // port. Returns the port listened on, or Error::io saying why not. Called again after a
  // failure, it starts over with the new arguments.
  // REQUIRES: not already listening.
  [[nodiscard]] Result<quint16> listen(const QHostAddress& address, quint16 port,
                                       const std::optional<QSslConfiguration>& tls = std::nullopt);
  // True if listening with TLS (wss://).
  bool secure() const;
  // Stops accepting and closes every connection (1001 "relay shutting down"). Everything the
  // router accepted is already stored, so nothing is lost.
  void shutDown();

 private:
  void acceptPending();
  void logTlsFailures();
  // Group commit: the messages read in one event-loop pass write inside one store batch, and
  // their output is held until it commits (stored before forwarded, one commit for many).
  void beginPass();
  // Sets the socket's message limit to what `id` may send next (the router's limit).
  void limitNextMessage(RelayRouter::ConnId id, QWebSocket* socket);
  // Logs `what` and closes connection `id`: an exception while handling its message.
  void dropAfterException(RelayRouter::ConnId id, const char* what);
  void hold(RelayRouter::Output out);
  void commitBatch();
  // Joins send the stored items in steps (RelayRouter::continueJoin), one per event-loop turn
  // for each joiner whose socket has less than kJoinBacklogBytes unsent; a joiner that does not
  // read waits (its idle timeout still applies).
  void scheduleJoins(int delayMs);
  void continueJoins();
  void apply(const RelayRouter::Output& out);
  std::int64_t now() const { return m_clock.elapsed(); }
  std::string describe(RelayRouter::ConnId id) const;

  RelayRouter& m_router;
  LogSink m_log;
  QWebSocketServer* m_server = nullptr;  // handshakes only
  QTcpServer* m_tcp = nullptr;           // accepts (a QSslServer for wss://)
  bool m_secure = false;
  QTimer* m_idleTimer = nullptr;
  QTimer* m_batchTimer = nullptr;
  QTimer* m_joinTimer = nullptr;
  bool m_batchOpen = false;
  std::vector<RelayRouter::Output> m_held;
  QElapsedTimer m_clock;
  std::map<RelayRouter::ConnId, QWebSocket*> m_sockets;
  std::map<RelayRouter::ConnId, std::string> m_peers;  // "#id ADDR:PORT", for log lines
};

}  // namespace quire::net
