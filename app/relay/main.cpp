// quire-relay: routes and stores sealed frames among the peers of each room (PROTOCOL.md,
// "Relay"). This file is wiring: options (command line over --config file), the SQLite store,
// the router, the WebSocket server, SIGTERM/SIGINT.
#include <climits>
#include <csignal>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>
#include <QHostAddress>
#include <QSslConfiguration>
#include <QTimer>
#include <signal.h>

#include "app/relay/sqlite_relay_store.h"
#include "engine/result.h"
#include "net/heap_tuning.h"
#include "net/relay_router.h"
#include "net/relay_server.h"
#include "net/tls.h"
#include "quire/version.h"

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

// The options a --config file may set: every option that takes a value, except --config.
const QStringList kConfigKeys = {
    QStringLiteral("listen"),          QStringLiteral("db"),
    QStringLiteral("max-frame-bytes"), QStringLiteral("max-room-bytes"),
    QStringLiteral("max-messages-per-second"), QStringLiteral("idle-timeout-ms"),
    QStringLiteral("max-connections-per-ip"),  QStringLiteral("tls-cert"),
    QStringLiteral("tls-key"),
};

struct ConfigValue {
  QString value;
  int line = 0;
};
using ConfigFile = std::map<QString, ConfigValue>;

// Reads a --config file: "key = value" lines, keys from kConfigKeys, '#' starts a comment line,
// blank lines are skipped. Fails naming the file and line on an unknown, repeated or empty key
// or value; values are checked later, with the command line's.
quire::Result<ConfigFile> readConfig(const QString& path) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
    return quire::fail(quire::Error::io(path.toStdString() + ": " +
                                        file.errorString().toStdString()));
  ConfigFile out;
  int number = 0;
  while (!file.atEnd()) {
    ++number;
    const QString line = QString::fromUtf8(file.readLine()).trimmed();
    if (line.isEmpty() || line.startsWith(QLatin1Char('#'))) continue;
    const std::string where = path.toStdString() + ":" + std::to_string(number) + ": ";
    const qsizetype equals = line.indexOf(QLatin1Char('='));
    if (equals < 0)
      return quire::fail(quire::Error::invalidArgument(where + "expected 'key = value'"));
    const QString key = line.left(equals).trimmed();
    const QString value = line.mid(equals + 1).trimmed();
    if (!kConfigKeys.contains(key)) {
      return quire::fail(quire::Error::invalidArgument(
          where + "unknown key '" + key.toStdString() + "' (keys: " +
          kConfigKeys.join(QStringLiteral(", ")).toStdString() + ")"));
    }
    if (value.isEmpty())
      return quire::fail(quire::Error::invalidArgument(where + key.toStdString() + " has no value"));
    if (out.count(key)) {
      return quire::fail(quire::Error::invalidArgument(
          where + key.toStdString() + " is already set on line " +
          std::to_string(out[key].line)));
    }
    out[key] = ConfigValue{value, number};
  }
  return out;
}

// Option values: the command line wins over the --config file, which wins over the defaults.
class Settings {
 public:
  Settings(const QCommandLineParser& parser, QString configPath, ConfigFile config)
      : m_parser(parser), m_configPath(std::move(configPath)), m_config(std::move(config)) {}

  bool isSet(const QString& name) const { return m_parser.isSet(name) || m_config.count(name); }
  QString value(const QString& name) const {
    if (m_parser.isSet(name)) return m_parser.value(name);
    if (auto it = m_config.find(name); it != m_config.end()) return it->second.value;
    return m_parser.value(name);
  }
  // Where a value came from, for messages: "--listen", "relay.conf:3: listen" or the default.
  std::string origin(const QString& name) const {
    if (auto it = m_config.find(name); !m_parser.isSet(name) && it != m_config.end())
      return m_configPath.toStdString() + ":" + std::to_string(it->second.line) + ": " +
             name.toStdString();
    return "--" + name.toStdString();
  }

 private:
  const QCommandLineParser& m_parser;
  QString m_configPath;
  ConfigFile m_config;
};

// A positive integer option no larger than `max`, or nullopt after a usage message.
std::optional<qulonglong> positive(const Settings& settings, const QString& name,
                                   qulonglong max = ULLONG_MAX) {
  bool ok = false;
  const qulonglong value = settings.value(name).toULongLong(&ok);
  if (ok && value > 0 && value <= max) return value;
  usageError(settings.origin(name) + " wants a positive integer" +
             (max == ULLONG_MAX ? "" : " up to " + std::to_string(max)) + ", got '" +
             settings.value(name).toStdString() + "'");
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  // Frame-sized buffers reuse heap memory instead of fresh pages (net/heap_tuning.h).
  quire::net::tuneHeapForFrames();
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
      {QStringLiteral("config"),
       QStringLiteral("Read options from FILE, 'key = value' lines named after the long options "
                      "below ('#' comments); the command line overrides it. The packaged "
                      "service uses /etc/quire/relay.conf."),
       QStringLiteral("FILE")},
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
  ConfigFile config;
  const QString configPath = parser.value(QStringLiteral("config"));
  if (parser.isSet(QStringLiteral("config"))) {
    auto read = readConfig(configPath);
    if (!read) return usageError(read.error().message());
    config = std::move(*read);
  }
  const Settings settings(parser, configPath, std::move(config));
  const bool tlsCert = settings.isSet(QStringLiteral("tls-cert"));
  if (tlsCert != settings.isSet(QStringLiteral("tls-key")))
    return usageError("--tls-cert and --tls-key go together");
  const auto listen = parseListen(settings.value(QStringLiteral("listen")));
  if (!listen) {
    return usageError(settings.origin(QStringLiteral("listen")) +
                      " wants ADDR:PORT, e.g. 127.0.0.1:7071");
  }

  quire::net::RelayLimits limits;
  const auto frame = positive(settings, QStringLiteral("max-frame-bytes"));
  const auto room = positive(settings, QStringLiteral("max-room-bytes"));
  const auto rate = positive(settings, QStringLiteral("max-messages-per-second"), 1'000'000);
  const auto idle = positive(settings, QStringLiteral("idle-timeout-ms"));
  const auto perIp = positive(settings, QStringLiteral("max-connections-per-ip"), 1'000'000);
  if (!frame || !room || !rate || !idle || !perIp) return kExitUsage;
  limits.maxFrameBytes = *frame;
  limits.maxRoomBytes = *room;
  limits.maxMessagesPerSecond = static_cast<std::uint32_t>(*rate);
  limits.idleTimeoutMs = static_cast<std::int64_t>(*idle);
  limits.maxConnectionsPerAddress = static_cast<std::uint32_t>(*perIp);

  quire::net::trustExtraCertificatesFromEnvironment();
  std::optional<QSslConfiguration> tls;
  if (tlsCert) {
    auto loaded = quire::net::loadServerTls(settings.value(QStringLiteral("tls-cert")),
                                            settings.value(QStringLiteral("tls-key")));
    if (!loaded) {
      logLine(loaded.error().toString());
      return kExitFailure;
    }
    tls = std::move(*loaded);
  }

  auto store =
      quire::app::SqliteRelayStore::open(settings.value(QStringLiteral("db")).toStdString());
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
