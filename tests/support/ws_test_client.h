// A raw WebSocket client in the test process, for multi-process tests that talk to quire-relay or
// a quire-cli listener byte for byte (an attacker, a stranger, a peer that misbehaves), and the
// Qt event-loop helpers it needs. Header-only, so that the support folder's .cpp files keep
// needing only quire_engine: include this only where QtWebSockets is linked. Test-only; one
// thread.
#pragma once

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <QByteArray>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QList>
#include <QSslConfiguration>
#include <QSslError>
#include <QString>
#include <QUrl>
#include <QWebSocket>

namespace quire::test {

// Makes sure a QCoreApplication exists (created once, on first use, and kept for the process:
// a test binary must start without one so that test discovery needs no display).
inline void ensureCoreApp() {
  static int argc = 1;
  static char name[] = "quire_tests";
  static char* argv[] = {name, nullptr};
  if (QCoreApplication::instance() == nullptr) new QCoreApplication(argc, argv);
}

// Runs the event loop until `done()` or `timeoutMs` passed; `idle` (if any) runs between passes.
// Returns done().
template <typename Pred>
bool spinUntil(Pred done, int timeoutMs = 5000) {
  QElapsedTimer timer;
  timer.start();
  while (!done() && timer.elapsed() < timeoutMs)
    QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
  return done();
}

// One connection. Text messages are kept as "T:" + text, binary ones as they came. Everything
// is recorded as the event loop delivers it (spinUntil, or any other processEvents).
struct WsTestClient {
  std::vector<std::string> got;  // every message, in order
  std::size_t binaryCount = 0;
  bool failed = false;           // a socket error (refused, TLS handshake failed)
  QList<QSslError> sslErrors;    // what the TLS handshake complained of
  bool disconnected = false;
  int closeCode = 0;
  QString closeReason;
  // Declared last, so destroyed first: a socket still connected closes in its destructor and
  // its disconnected handler writes into the members above, which must still exist then.
  std::unique_ptr<QWebSocket> socket = std::make_unique<QWebSocket>();

  // `tls`: for wss:// URLs, the client's TLS configuration (which CAs it trusts).
  explicit WsTestClient(const std::string& url,
                        const std::optional<QSslConfiguration>& tls = std::nullopt) {
    if (tls) socket->setSslConfiguration(*tls);
    // Hostile frames in the tests reach 64 MiB, and a relay replays what it stored.
    socket->setMaxAllowedIncomingMessageSize(128u << 20);
    socket->setMaxAllowedIncomingFrameSize(128u << 20);
    QObject::connect(socket.get(), &QWebSocket::binaryMessageReceived, [this](const QByteArray& b) {
      got.push_back(b.toStdString());
      ++binaryCount;
    });
    QObject::connect(socket.get(), &QWebSocket::textMessageReceived,
                     [this](const QString& t) { got.push_back("T:" + t.toStdString()); });
    QObject::connect(socket.get(), &QWebSocket::sslErrors,
                     [this](const QList<QSslError>& errors) { sslErrors += errors; });
    QObject::connect(socket.get(), qOverload<QAbstractSocket::SocketError>(&QWebSocket::error),
                     [this](QAbstractSocket::SocketError) { failed = true; });
    QObject::connect(socket.get(), &QWebSocket::disconnected, [this, s = socket.get()] {
      disconnected = true;
      closeCode = static_cast<int>(s->closeCode());
      closeReason = s->closeReason();
    });
    socket->open(QUrl(QString::fromStdString(url)));
  }
  WsTestClient(const WsTestClient&) = delete;
  WsTestClient& operator=(const WsTestClient&) = delete;

  // False as soon as the socket fails.
  bool connected(int timeoutMs = 5000) {
    return spinUntil([&] { return socket->state() == QAbstractSocket::ConnectedState || failed; },
                     timeoutMs) &&
           !failed;
  }
  bool received(const std::string& message, int timeoutMs = 5000) {
    return spinUntil([&] { return std::find(got.begin(), got.end(), message) != got.end(); },
                     timeoutMs);
  }
  // Until the latest message is `last`.
  bool receivedUntil(const std::string& last, int timeoutMs = 5000) {
    return spinUntil([&] { return !got.empty() && got.back() == last; }, timeoutMs);
  }
  bool receivedPrefix(const std::string& prefix, int timeoutMs = 5000) {
    return spinUntil([&] { return findPrefix(prefix) != nullptr; }, timeoutMs);
  }
  // The first message that starts with `prefix`, or null.
  const std::string* findPrefix(const std::string& prefix) const {
    for (const std::string& m : got)
      if (m.rfind(prefix, 0) == 0) return &m;
    return nullptr;
  }
  bool closed(int timeoutMs = 5000) { return spinUntil([&] { return disconnected; }, timeoutMs); }
  void text(const std::string& t) { socket->sendTextMessage(QString::fromStdString(t)); }
  void binary(const QByteArray& b) { socket->sendBinaryMessage(b); }
  void binary(const std::string& b) { socket->sendBinaryMessage(QByteArray::fromStdString(b)); }
  void binary(const std::vector<std::uint8_t>& b) {
    socket->sendBinaryMessage(QByteArray(reinterpret_cast<const char*>(b.data()),
                                         static_cast<qsizetype>(b.size())));
  }
  // Spins until everything handed to the socket has been written to the kernel (a 64 MiB frame
  // takes a while), or the connection ended.
  bool flushed(int timeoutMs = 30000) {
    return spinUntil([&] { return disconnected || socket->bytesToWrite() == 0; }, timeoutMs);
  }
};

}  // namespace quire::test
