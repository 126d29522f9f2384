// quire-relay: routes and stores sealed frames among the peers of each room (PROTOCOL.md,
// "Relay"). This file is wiring: options, the SQLite store, the router, the WebSocket server,
// SIGTERM/SIGINT.
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QHostAddress>
#include <QSslConfiguration>
#include <QTimer>
#include <signal.h>

#include "app/relay/sqlite_relay_store.h"
#include "net/relay_router.h"
#include "net/relay_server.h"
#include "net/tls.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

volatile std::sig_atomic_t g_terminate = 0;
extern "C" void onTerminationSignal(int) { g_terminate = 1; }

void logLine(const std::string& line) {
  std::fprintf(stderr, "quire-relay: %s\n", line.c_str());
  std::fflush(stderr);
}

int usageError(const std::string& message) {
  std::fprintf(stderr, "quire-relay: %s (see --help)\n", message.c_str());
  return kExitUsage;
}

struct ListenAddress {
  QHostAddress host;
  quint16 port = 0;
};

// "ADDR:PORT" or "[V6ADDR]:PORT".
std::optional<ListenAddress> parseListen(const QString& text) {
  const qsizetype colon = text.lastIndexOf(QLatin1Char(':'));
  if (colon <= 0) return std::nullopt;
  QString host = text.left(colon);
  if (host.startsWith(QLatin1Char('[')) && host.endsWith(QLatin1Char(']')))
    host = host.mid(1, host.size() - 2);
  bool ok = false;
  const uint port = text.mid(colon + 1).toUInt(&ok);
  ListenAddress out;
  if (!ok || port > 65535 || !out.host.setAddress(host)) return std::nullopt;
  out.port = static_cast<quint16>(port);
  return out;
}

// A positive integer option, or nullopt (and a usage message) if malformed.
std::optional<qulonglong> positive(const QCommandLineParser& parser, const QString& name) {
  bool ok = false;
  const qulonglong value = parser.value(name).toULongLong(&ok);
  if (!ok || value == 0) return std::nullopt;
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  QCoreApplication::setApplicationName(QStringLiteral("quire-relay"));
  QCoreApplication::setApplicationVersion(QStringLiteral(QUIRE_VERSION));

  const quire::net::RelayLimits defaults;
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "Routes end-to-end-encrypted Quire frames among the peers of each room and stores them\n"
      "for peers that come later. It never holds a document key. Prints 'listening on\n"
      "ws://ADDR:PORT' (wss:// with --tls-cert and --tls-key) once listening, then one line\n"
      "per connect, disconnect, refusal and failed TLS handshake on stderr, until SIGTERM or\n"
      "SIGINT.\n"
      "Environment: QUIRE_TLS_CA_FILE=PEM adds CA certificates this process trusts (a test and\n"
      "self-hosting aid for Quire programs; the relay itself makes no outgoing connections)."));
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addOptions({
      {QStringLiteral("listen"),
       QStringLiteral("Address and port; port 0 picks a free one (default 127.0.0.1:7071)."),
       QStringLiteral("ADDR:PORT"), QStringLiteral("127.0.0.1:7071")},
      {QStringLiteral("db"),
       QStringLiteral("The relay's SQLite database, created if missing (default quire-relay.db)."),
       QStringLiteral("PATH"), QStringLiteral("quire-relay.db")},
      {QStringLiteral("max-frame-bytes"),
       QStringLiteral("Largest frame accepted (default %1).").arg(defaults.maxFrameBytes),
       QStringLiteral("N"), QString::number(defaults.maxFrameBytes)},
      {QStringLiteral("max-room-bytes"),
       QStringLiteral("Most bytes stored per room, also the largest snapshot (default %1).")
           .arg(defaults.maxRoomBytes),
       QStringLiteral("N"), QString::number(defaults.maxRoomBytes)},
      {QStringLiteral("max-messages-per-second"),
       QStringLiteral("Messages per second per connection, burst of the same size (default %1).")
           .arg(defaults.maxMessagesPerSecond),
       QStringLiteral("N"), QString::number(defaults.maxMessagesPerSecond)},
      {QStringLiteral("idle-timeout-ms"),
       QStringLiteral("Close a connection that sent nothing for this long (default %1).")
           .arg(defaults.idleTimeoutMs),
       QStringLiteral("MS"), QString::number(defaults.idleTimeoutMs)},
      {QStringLiteral("max-connections-per-ip"),
       QStringLiteral("Open connections from one client address (default %1).")
           .arg(defaults.maxConnectionsPerAddress),
       QStringLiteral("N"), QString::number(defaults.maxConnectionsPerAddress)},
      {QStringLiteral("tls-cert"),
       QStringLiteral("Serve wss://: the server's PEM certificate chain, own certificate first "
                      "(needs --tls-key)."),
       QStringLiteral("PEM")},
      {QStringLiteral("tls-key"),
       QStringLiteral("Serve wss://: the certificate's unencrypted PEM private key, RSA or EC "
                      "(needs --tls-cert)."),
       QStringLiteral("PEM")},
  });
  if (!parser.parse(QCoreApplication::arguments()))
    return usageError(parser.errorText().toStdString());
  if (parser.isSet(QStringLiteral("help"))) {
    std::fputs(parser.helpText().toUtf8().constData(), stdout);
    return kExitOk;
  }
  if (parser.isSet(QStringLiteral("version"))) {
    std::printf("quire-relay %s\n", QUIRE_VERSION);
    return kExitOk;
  }
  if (!parser.positionalArguments().isEmpty()) return usageError("unexpected arguments");
  const bool tlsCert = parser.isSet(QStringLiteral("tls-cert"));
  if (tlsCert != parser.isSet(QStringLiteral("tls-key")))
    return usageError("--tls-cert and --tls-key go together");
  const auto listen = parseListen(parser.value(QStringLiteral("listen")));
  if (!listen) return usageError("--listen wants ADDR:PORT, e.g. 127.0.0.1:7071");

  quire::net::RelayLimits limits;
  const auto frame = positive(parser, QStringLiteral("max-frame-bytes"));
  const auto room = positive(parser, QStringLiteral("max-room-bytes"));
  const auto rate = positive(parser, QStringLiteral("max-messages-per-second"));
  const auto idle = positive(parser, QStringLiteral("idle-timeout-ms"));
  const auto perIp = positive(parser, QStringLiteral("max-connections-per-ip"));
  if (!frame || !room || !rate || !idle || !perIp || *rate > 1'000'000 || *perIp > 1'000'000)
    return usageError("limits must be positive integers");
  limits.maxFrameBytes = *frame;
  limits.maxRoomBytes = *room;
  limits.maxMessagesPerSecond = static_cast<std::uint32_t>(*rate);
  limits.idleTimeoutMs = static_cast<std::int64_t>(*idle);
  limits.maxConnectionsPerAddress = static_cast<std::uint32_t>(*perIp);

  quire::net::trustExtraCertificatesFromEnvironment();
  std::optional<QSslConfiguration> tls;
  if (tlsCert) {
    auto loaded = quire::net::loadServerTls(parser.value(QStringLiteral("tls-cert")),
                                            parser.value(QStringLiteral("tls-key")));
    if (!loaded) {
      logLine(loaded.error().toString());
      return kExitFailure;
    }
    tls = std::move(*loaded);
  }

  auto store = quire::app::SqliteRelayStore::open(parser.value(QStringLiteral("db")).toStdString());
  if (!store) {
    logLine(store.error().toString());
    return kExitFailure;
  }
  quire::net::RelayRouter router(**store, limits);
  auto server = std::make_unique<quire::net::RelayServer>(router, &logLine);
  auto port = server->listen(listen->host, listen->port, tls);
  if (!port) {
    logLine(port.error().toString());
    return kExitFailure;
  }
  QString host = listen->host.toString();
  if (listen->host.protocol() == QAbstractSocket::IPv6Protocol)
    host = QLatin1Char('[') + host + QLatin1Char(']');
  std::printf("listening on %s://%s:%u\n", tls ? "wss" : "ws", host.toUtf8().constData(),
              unsigned{*port});
  std::fflush(stdout);

  struct sigaction action {};
  action.sa_handler = onTerminationSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  // Polling keeps the handler async-signal-safe; 50 ms is quick enough for a shutdown.
  QTimer signalPoll;
  QObject::connect(&signalPoll, &QTimer::timeout, &app, [&] {
    if (!g_terminate) return;
    signalPoll.stop();
    logLine("shutting down");
    server->shutDown();
    // Let the close frames go out; every accepted frame is already committed.
    QTimer::singleShot(200, &app, [] { QCoreApplication::exit(kExitOk); });
  });
  signalPoll.start(50);

  const int code = QCoreApplication::exec();
  server.reset();  // before the router and the store it uses
  return code;
}
