// wss:// for the relay: loadServerTls() (net/tls.h) on good and bad PEM files, an in-process
// RelayServer in SecureMode with clients that do and do not trust its CA, and quire-relay with
// --tls-cert/--tls-key. The CA and server certificate are made at test time with the openssl
// command line (scripts/install-deps.sh installs it). PROTOCOL.md, "Relay".
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QSslConfiguration>
#include <QSslKey>
#include <catch2/catch.hpp>

#include "net/relay_router.h"
#include "net/relay_server.h"
#include "net/tls.h"
#include "tests/support/temp_dir.h"
#include "tests/support/ws_test_client.h"

namespace {

using quire::Error;
using quire::net::loadServerTls;
using quire::test::TempDir;
using quire::test::spinUntil;
using Client = quire::test::WsTestClient;

// TLS handshakes are slow under the sanitizers.
constexpr int kWaitMs = 10000;

const std::string kRoom = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

bool writeFile(const std::string& path, const std::string& text) {
  QFile file(QString::fromStdString(path));
  return file.open(QIODevice::WriteOnly) &&
         file.write(text.data(), text.size()) == qint64(text.size());
}

// Runs `command` in `dir` with a shell, output into dir/openssl.log; true on exit status 0.
bool run(const std::string& dir, const std::string& command) {
  return std::system(("cd '" + dir + "' && " + command + " >>openssl.log 2>&1").c_str()) == 0;
}

// A throwaway CA (EC P-256) and a server certificate it signed for IP 127.0.0.1 (RSA 2048),
// their keys also in the older PEM forms (PKCS#1, SEC 1), and an RSA and an EC key that match
// nothing. Made once per test run.
struct TestPki {
  TempDir dir{"quire-tls"};
  std::string error;  // why it could not be made; empty on success

  TestPki() {
    if (dir.path().empty()) {
      error = "cannot make a temporary folder";
      return;
    }
    if (!run(dir.path(), "openssl version")) {
      error =
          "the openssl command is missing (apt-get install openssl; "
          "scripts/install-deps.sh lists it)";
      return;
    }
    const bool files =
        writeFile(dir.file("openssl.cnf"),
                  "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n"
                  "[ca]\nbasicConstraints = critical, CA:TRUE\n"
                  "keyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\n") &&
        writeFile(dir.file("server.ext"),
                  "basicConstraints = CA:FALSE\nkeyUsage = digitalSignature, keyEncipherment\n"
                  "extendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1\n");
    const bool made =
        files &&
        run(dir.path(),
            "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key") &&
        run(dir.path(),
            "openssl req -x509 -new -key ca.key -out ca.crt -days 2 -subj '/CN=Quire Test CA' "
            "-config openssl.cnf -extensions ca") &&
        run(dir.path(),
            "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out server.key") &&
        run(dir.path(),
            "openssl req -new -key server.key -out server.csr -subj '/CN=127.0.0.1' "
            "-config openssl.cnf") &&
        run(dir.path(),
            "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -set_serial 2 -days 2 "
            "-extfile server.ext -out server.crt") &&
        run(dir.path(),
            "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out other.key") &&
        run(dir.path(),
            "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other-ec.key") &&
        run(dir.path(), "openssl pkey -in server.key -traditional -out server-pkcs1.key") &&
        run(dir.path(), "openssl pkey -in ca.key -traditional -out ca-sec1.key");
    if (!made) error = "openssl failed; see " + dir.file("openssl.log");
  }
  QString file(const char* name) const { return QString::fromStdString(dir.file(name)); }
};

// The test PKI, or FAILs the test saying why it could not be made.
const TestPki& pki() {
  static TestPki made;
  if (!made.error.empty()) FAIL(made.error);
  return made;
}

// A relay client that joins kRoom and waits for `reply` as its latest message.
bool joined(quire::test::WsTestClient& client, const std::string& reply) {
  client.text("join " + kRoom);
  return client.receivedUntil(reply, kWaitMs);
}

// A client configuration that trusts the test CA (and nothing else).
QSslConfiguration trustingTestCa() {
  QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
  tls.setCaCertificates(QSslCertificate::fromPath(pki().file("ca.crt")));
  return tls;
}

// The system's CAs only, which do not include the test CA.
QSslConfiguration trustingSystemCas() {
  QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
  tls.setCaCertificates(QSslConfiguration::systemCaCertificates());
  return tls;
}

bool contains(const std::vector<std::string>& lines, const std::string& part) {
  for (const std::string& line : lines)
    if (line.find(part) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("loadServerTls accepts a matching certificate and key, RSA or EC", "[net][relay][tls]") {
  quire::test::ensureCoreApp();
  const TestPki& files = pki();
  auto rsa = loadServerTls(files.file("server.crt"), files.file("server.key"));
  REQUIRE(rsa.has_value());
  CHECK(rsa->localCertificate().subjectInfo(QSslCertificate::CommonName) ==
        QStringList{QStringLiteral("127.0.0.1")});
  CHECK(!rsa->privateKey().isNull());
  auto ec = loadServerTls(files.file("ca.crt"), files.file("ca.key"));
  REQUIRE(ec.has_value());
  CHECK(ec->privateKey().algorithm() == QSsl::Ec);
  // "BEGIN RSA PRIVATE KEY" and "BEGIN EC PRIVATE KEY" files work too.
  CHECK(loadServerTls(files.file("server.crt"), files.file("server-pkcs1.key")).has_value());
  CHECK(loadServerTls(files.file("ca.crt"), files.file("ca-sec1.key")).has_value());
}

TEST_CASE("loadServerTls says which file is missing, unparsable or not matching",
          "[net][relay][tls]") {
  quire::test::ensureCoreApp();
  const TestPki& files = pki();
  const QString missing = files.file("no-such.pem");

  auto noCert = loadServerTls(missing, files.file("server.key"));
  REQUIRE(!noCert);
  CHECK(noCert.error().code() == Error::Code::Io);
  CHECK(noCert.error().message().find("no-such.pem") != std::string::npos);
  auto noKey = loadServerTls(files.file("server.crt"), missing);
  REQUIRE(!noKey);
  CHECK(noKey.error().code() == Error::Code::Io);
  CHECK(noKey.error().message().find("TLS key") != std::string::npos);

  REQUIRE(writeFile(files.dir.file("garbage.pem"),
                    "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"));
  auto badCert = loadServerTls(files.file("garbage.pem"), files.file("server.key"));
  REQUIRE(!badCert);
  CHECK(badCert.error().code() == Error::Code::InvalidArgument);
  CHECK(badCert.error().message().find("TLS certificate") != std::string::npos);
  // A key file that holds a certificate is no key.
  auto badKey = loadServerTls(files.file("server.crt"), files.file("ca.crt"));
  REQUIRE(!badKey);
  CHECK(badKey.error().code() == Error::Code::InvalidArgument);
  CHECK(badKey.error().message().find("private key") != std::string::npos);

  auto otherRsa = loadServerTls(files.file("server.crt"), files.file("other.key"));
  REQUIRE(!otherRsa);
  CHECK(otherRsa.error().code() == Error::Code::InvalidArgument);
  CHECK(otherRsa.error().message().find("does not match") != std::string::npos);
  auto otherAlgorithm = loadServerTls(files.file("server.crt"), files.file("ca.key"));
  REQUIRE(!otherAlgorithm);
  CHECK(otherAlgorithm.error().message().find("does not match") != std::string::npos);
  auto otherEc = loadServerTls(files.file("ca.crt"), files.file("other-ec.key"));
  REQUIRE(!otherEc);
  CHECK(otherEc.error().message().find("does not match") != std::string::npos);
}

TEST_CASE("a relay in wss:// mode serves a client that trusts its CA and drops one that does not",
          "[net][relay][tls]") {
  quire::test::ensureCoreApp();
  const TestPki& files = pki();
  auto tls = loadServerTls(files.file("server.crt"), files.file("server.key"));
  REQUIRE(tls.has_value());
  quire::net::MemoryRelayStore store;
  quire::net::RelayLimits limits;
  limits.maxConnectionsPerAddress = 2;  // failed handshakes must not use up a slot
  quire::net::RelayRouter router(store, limits);
  std::vector<std::string> log;
  quire::net::RelayServer server(router, [&](const std::string& line) { log.push_back(line); });
  auto port = server.listen(QHostAddress::LocalHost, 0, *tls);
  REQUIRE(port.has_value());
  CHECK(server.secure());
  const std::string url = "wss://127.0.0.1:" + std::to_string(*port);

  Client trusting(url, trustingTestCa());
  REQUIRE(trusting.connected(kWaitMs));
  CHECK(trusting.sslErrors.isEmpty());
  REQUIRE(joined(trusting, "T:joined 0"));

  Client stranger(url, trustingSystemCas());
  REQUIRE(spinUntil([&] { return stranger.failed || stranger.disconnected; }, kWaitMs));
  CHECK(stranger.socket->state() != QAbstractSocket::ConnectedState);
  CHECK(!stranger.sslErrors.isEmpty());
  INFO("server log:\n"
       << [&] {
            std::string all;
            for (const auto& line : log) all += line + "\n";
            return all;
          }());
  CHECK(spinUntil([&] { return contains(log, "TLS handshake failed"); }, 5000));

  // Plain ws:// to a wss:// port is a bad handshake too.
  Client plain("ws://127.0.0.1:" + std::to_string(*port), trustingTestCa());
  REQUIRE(spinUntil([&] { return plain.failed || plain.disconnected; }, kWaitMs));
  CHECK(plain.socket->state() != QAbstractSocket::ConnectedState);

  // The server carries on: the first client is still there, and a newcomer joins and hears it.
  Client later(url, trustingTestCa());
  REQUIRE(later.connected(kWaitMs));
  REQUIRE(joined(later, "T:joined 0"));
  trusting.binary(std::string("sealed-frame"));
  REQUIRE(later.receivedUntil("sealed-frame", kWaitMs));
  CHECK(!trusting.disconnected);
  CHECK(router.connectionCount() == 2);

  // A third connection from 127.0.0.1 is over the limit: accepted, then closed with the reason.
  Client third(url, trustingTestCa());
  REQUIRE(spinUntil([&] { return third.disconnected; }, kWaitMs));
  CHECK(third.closeReason == QStringLiteral("too many connections from this address (limit 2)"));
  CHECK(contains(log, "refused #"));
  CHECK(!trusting.disconnected);
}

TEST_CASE("trustExtraCertificatesFromEnvironment adds QUIRE_TLS_CA_FILE's CAs to the defaults",
          "[net][relay][tls]") {
  quire::test::ensureCoreApp();
  const TestPki& files = pki();
  const QSslConfiguration saved = QSslConfiguration::defaultConfiguration();
  const QSslCertificate ca = QSslCertificate::fromPath(files.file("ca.crt")).value(0);
  REQUIRE(!ca.isNull());
  CHECK(!saved.caCertificates().contains(ca));

  qputenv(quire::net::kTlsCaFileVariable, files.file("ca.crt").toLocal8Bit());
  quire::net::trustExtraCertificatesFromEnvironment();
  const QList<QSslCertificate> now = QSslConfiguration::defaultConfiguration().caCertificates();
  qunsetenv(quire::net::kTlsCaFileVariable);
  QSslConfiguration::setDefaultConfiguration(saved);
  CHECK(now.contains(ca));
  // The system's CAs stay trusted next to it.
  const QList<QSslCertificate> system = QSslConfiguration::systemCaCertificates();
  if (!system.isEmpty()) CHECK(now.contains(system.front()));
}

TEST_CASE("quire-relay serves wss:// with --tls-cert and --tls-key", "[net][relay][tls]") {
#ifndef QUIRE_RELAY_PATH
  FAIL("QUIRE_RELAY_PATH is not defined: tests/CMakeLists.txt must pass quire-relay's path");
#else
  quire::test::ensureCoreApp();
  const TestPki& files = pki();
  TempDir dir("quire-relay-tls");
  REQUIRE(!dir.path().empty());
  const QString relay = QStringLiteral(QUIRE_RELAY_PATH);
  const QString db = QString::fromStdString(dir.file("relay.db"));
  const QString log = QString::fromStdString(dir.file("relay.log"));

  // One of the pair alone is a usage error, and a mismatched pair fails to start.
  {
    QProcess alone;
    alone.start(relay, {QStringLiteral("--db"), db, QStringLiteral("--listen"),
                        QStringLiteral("127.0.0.1:0"), QStringLiteral("--tls-cert"),
                        files.file("server.crt")});
    REQUIRE(alone.waitForFinished(10000));
    CHECK(alone.exitCode() == 2);
    QProcess mismatched;
    mismatched.start(
        relay, {QStringLiteral("--db"), db, QStringLiteral("--listen"),
                QStringLiteral("127.0.0.1:0"), QStringLiteral("--tls-cert"),
                files.file("server.crt"), QStringLiteral("--tls-key"), files.file("other.key")});
    REQUIRE(mismatched.waitForFinished(10000));
    CHECK(mismatched.exitCode() == 1);
    CHECK(mismatched.readAllStandardError().contains("does not match"));
    CHECK(mismatched.readAllStandardOutput().isEmpty());
  }

  QProcess process;
  process.setStandardErrorFile(log);
  process.start(
      relay, {QStringLiteral("--db"), db, QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
              QStringLiteral("--tls-cert"), files.file("server.crt"), QStringLiteral("--tls-key"),
              files.file("server.key")});
  REQUIRE(process.waitForStarted(10000));
  QElapsedTimer timer;
  timer.start();
  while (!process.canReadLine() && timer.elapsed() < 10000) process.waitForReadyRead(100);
  const std::string line = process.readLine().trimmed().toStdString();
  const std::string prefix = "listening on wss://127.0.0.1:";
  REQUIRE(line.rfind(prefix, 0) == 0);
  const std::string url = line.substr(std::string("listening on ").size());

  {
    Client client(url, trustingTestCa());
    REQUIRE(client.connected(kWaitMs));
    REQUIRE(joined(client, "T:joined 0"));
    client.text("mark");
    REQUIRE(client.receivedUntil("T:mark 0", kWaitMs));
    client.socket->close();
    client.closed(kWaitMs);
  }

  process.terminate();
  CHECK(process.waitForFinished(10000));
  CHECK(process.exitStatus() == QProcess::NormalExit);
  CHECK(process.exitCode() == 0);
#endif
}
