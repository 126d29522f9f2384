// TLS setup for wss:// (QtNetwork only): the relay's server certificate and key from PEM files,
// and an opt-in extra CA for clients that talk to a self-signed or private-CA relay.
// PROTOCOL.md, "Relay" (wss://).
#pragma once

#include <optional>

#include <QHostAddress>
#include <QSslConfiguration>
#include <QString>

#include "engine/result.h"

namespace quire::net {

// A server-side TLS configuration from `certPath` (a PEM certificate chain: the server's own
// certificate first, then any intermediates) and `keyPath` (its unencrypted PEM private key, RSA
// or EC, PKCS#1/SEC 1 or PKCS#8). Clients are not asked for certificates; TLS 1.2 or later.
// Fails with Error::io if a file cannot be read or Qt has no TLS backend
// (QSslSocket::supportsSsl() is false), and with Error::invalidArgument if the certificate or
// the key does not parse or the key's public half is not the certificate's public key.
[[nodiscard]] Result<QSslConfiguration> loadServerTls(const QString& certPath,
                                                      const QString& keyPath);

// The name of the environment variable read by trustExtraCertificatesFromEnvironment().
inline constexpr char kTlsCaFileVariable[] = "QUIRE_TLS_CA_FILE";

// A test and self-hosting aid: if QUIRE_TLS_CA_FILE names a PEM file, its certificates are
// trusted as CAs by every TLS connection made afterwards in this process (added to
// QSslConfiguration::defaultConfiguration(), next to the system's CAs). Lets a client trust a
// relay whose certificate a private CA signed, without installing that CA system-wide. Unset or
// empty: does nothing. A file with no certificate is reported with qWarning() and ignored.
// Call it from main() before making connections; not thread-safe.
void trustExtraCertificatesFromEnvironment();

}  // namespace quire::net

class QTcpServer;
class QWebSocketServer;

namespace quire::net {

// Listens on `address`:`port` with a TCP server of our own (a QSslServer with `tls`) and hands
// every accepted connection, with Nagle's algorithm off, to `ws` for the WebSocket handshake.
// (Qt turns Nagle off on the sockets it dials but not on the ones a QWebSocketServer accepts,
// which delays small frames such as keystrokes by up to tens of milliseconds.) `ws` must be in
// NonSecureMode; TLS is done here. The returned server is a child of `owner`. Fails with
// Error::io saying why it cannot listen.
[[nodiscard]] Result<QTcpServer*> listenForWebSockets(QWebSocketServer* ws,
                                                      const QHostAddress& address, quint16 port,
                                                      const std::optional<QSslConfiguration>& tls,
                                                      QObject* owner);

}  // namespace quire::net
