#include "net/tls.h"

#include <cstdint>
#include <optional>
#include <string>

#include <QByteArray>
#include <QFile>
#include <QList>
#include <QSslCertificate>
#include <QSslKey>
#include <QSslServer>
#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>
#include <QWebSocketServer>
#include <QtGlobal>

namespace quire::net {

namespace {

// --- just enough DER to find a key's public half -----------------------------------------------
// Qt cannot derive a public key from a private one, so the public parts are read from the DER
// Qt gives: PKCS#1 RSAPrivateKey / SEC 1 ECPrivateKey for the private key, SubjectPublicKeyInfo
// for the certificate's key.

constexpr std::uint8_t kInteger = 0x02;
constexpr std::uint8_t kBitString = 0x03;
constexpr std::uint8_t kOctetString = 0x04;
constexpr std::uint8_t kSequence = 0x30;
constexpr std::uint8_t kEcPublicKeyField = 0xa1;  // ECPrivateKey's [1] publicKey

struct Tlv {
  std::uint8_t tag = 0;
  QByteArray content;
  QByteArray whole;  // tag, length and content, for comparing fields exactly
};

// Reads one TLV from the front of `in` and drops it from `in`; nullopt if malformed.
std::optional<Tlv> readTlv(QByteArray& in) {
  if (in.size() < 2) return std::nullopt;
  Tlv out;
  out.tag = static_cast<std::uint8_t>(in[0]);
  qsizetype length = static_cast<std::uint8_t>(in[1]);
  qsizetype header = 2;
  if (length & 0x80) {
    const int lengthBytes = length & 0x7f;
    if (lengthBytes == 0 || lengthBytes > 4 || in.size() < 2 + lengthBytes) return std::nullopt;
    length = 0;
    for (int i = 0; i < lengthBytes; ++i)
      length = length << 8 | static_cast<std::uint8_t>(in[2 + i]);
    header += lengthBytes;
  }
  if (length > in.size() - header) return std::nullopt;
  out.content = in.mid(header, length);
  out.whole = in.left(header + length);
  in = in.mid(header + length);
  return out;
}

// The contents of `tlv` if it is a BIT STRING with no unused bits.
std::optional<QByteArray> bitStringBytes(const Tlv& tlv) {
  if (tlv.tag != kBitString || tlv.content.isEmpty() || tlv.content[0] != 0) return std::nullopt;
  return tlv.content.mid(1);
}

// The key bits of a SubjectPublicKeyInfo: SEQUENCE { SEQUENCE algorithm, BIT STRING key }.
std::optional<QByteArray> spkiKeyBits(QByteArray der) {
  auto spki = readTlv(der);
  if (!spki || spki->tag != kSequence) return std::nullopt;
  QByteArray fields = spki->content;
  auto algorithm = readTlv(fields);
  auto key = readTlv(fields);
  if (!algorithm || algorithm->tag != kSequence || !key) return std::nullopt;
  return bitStringBytes(*key);
}

// RSA: modulus and exponent, as their INTEGER encodings (public key: RSAPublicKey inside the
// SPKI bit string; private key: RSAPrivateKey { version, n, e, ... }).
std::optional<QByteArray> rsaPublicPart(QByteArray sequence, bool isPrivate) {
  auto outer = readTlv(sequence);
  if (!outer || outer->tag != kSequence) return std::nullopt;
  QByteArray fields = outer->content;
  if (isPrivate && !readTlv(fields)) return std::nullopt;  // version
  auto n = readTlv(fields);
  auto e = readTlv(fields);
  if (!n || !e || n->tag != kInteger || e->tag != kInteger) return std::nullopt;
  return n->whole + e->whole;
}

// EC: the public point (private key: ECPrivateKey { version, privateKey, [0] parameters,
// [1] publicKey }; the parameters are optional, the public key is what OpenSSL writes).
std::optional<QByteArray> ecPrivateKeyPoint(QByteArray der) {
  auto outer = readTlv(der);
  if (!outer || outer->tag != kSequence) return std::nullopt;
  QByteArray fields = outer->content;
  auto version = readTlv(fields);
  auto secret = readTlv(fields);
  if (!version || version->tag != kInteger || !secret || secret->tag != kOctetString)
    return std::nullopt;
  while (!fields.isEmpty()) {
    auto field = readTlv(fields);
    if (!field) return std::nullopt;
    if (field->tag != kEcPublicKeyField) continue;
    QByteArray inner = field->content;
    auto bits = readTlv(inner);
    if (!bits) return std::nullopt;
    return bitStringBytes(*bits);
  }
  return std::nullopt;
}

// Whether `privateKey` is the private half of `publicKey`; nullopt if that cannot be told.
std::optional<bool> keysMatch(const QSslKey& privateKey, const QSslKey& publicKey) {
  if (privateKey.algorithm() != publicKey.algorithm()) return false;
  auto publicBits = spkiKeyBits(publicKey.toDer());
  if (!publicBits) return std::nullopt;
  std::optional<QByteArray> mine;
  std::optional<QByteArray> theirs;
  if (privateKey.algorithm() == QSsl::Rsa) {
    mine = rsaPublicPart(privateKey.toDer(), true);
    theirs = rsaPublicPart(*publicBits, false);
  } else if (privateKey.algorithm() == QSsl::Ec) {
    mine = ecPrivateKeyPoint(privateKey.toDer());
    theirs = publicBits;
  }
  if (!mine || !theirs) return std::nullopt;
  return *mine == *theirs;
}

std::string quoted(const QString& path) { return "'" + path.toStdString() + "'"; }

Result<QByteArray> readFile(const QString& path, const char* what) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly))
    return fail(Error::io(std::string(what) + " " + quoted(path) +
                          ": cannot read: " + file.errorString().toStdString()));
  return file.readAll();
}

}  // namespace

Result<QSslConfiguration> loadServerTls(const QString& certPath, const QString& keyPath) {
  if (!QSslSocket::supportsSsl())
    return fail(Error::io("TLS: Qt has no working TLS backend (OpenSSL " +
                          QSslSocket::sslLibraryBuildVersionString().toStdString() +
                          " not loadable?); wss:// is not available"));
  auto certText = readFile(certPath, "TLS certificate");
  if (!certText) return fail(certText.error());
  auto keyText = readFile(keyPath, "TLS key");
  if (!keyText) return fail(keyText.error());

  const QList<QSslCertificate> chain = QSslCertificate::fromData(*certText, QSsl::Pem);
  if (chain.isEmpty())
    return fail(Error::invalidArgument("TLS certificate " + quoted(certPath) +
                                       ": no PEM certificate in it"));
  for (const QSslCertificate& cert : chain)
    if (cert.isNull())
      return fail(Error::invalidArgument("TLS certificate " + quoted(certPath) +
                                         ": a certificate in it does not parse"));

  QSslKey key;
  for (QSsl::KeyAlgorithm algorithm : {QSsl::Rsa, QSsl::Ec}) {
    key = QSslKey(*keyText, algorithm, QSsl::Pem, QSsl::PrivateKey);
    if (!key.isNull()) break;
  }
  if (key.isNull())
    return fail(Error::invalidArgument("TLS key " + quoted(keyPath) +
                                       ": not an unencrypted PEM RSA or EC private key (remove a "
                                       "passphrase with 'openssl pkey')"));

  const auto match = keysMatch(key, chain.front().publicKey());
  if (!match)
    return fail(Error::invalidArgument("TLS key " + quoted(keyPath) +
                                       ": cannot compare it with the certificate's public key"));
  if (!*match)
    return fail(Error::invalidArgument("TLS key " + quoted(keyPath) +
                                       " does not match the certificate in " + quoted(certPath) +
                                       " (the first certificate must be the server's own)"));

  QSslConfiguration config = QSslConfiguration::defaultConfiguration();
  config.setLocalCertificateChain(chain);
  config.setPrivateKey(key);
  config.setProtocol(QSsl::TlsV1_2OrLater);
  // Clients are anonymous (a room id is their only credential), so asking them for a
  // certificate would only slow the handshake.
  config.setPeerVerifyMode(QSslSocket::VerifyNone);
  return config;
}

void trustExtraCertificatesFromEnvironment() {
  const QString path = qEnvironmentVariable(kTlsCaFileVariable);
  if (path.isEmpty()) return;
  const QList<QSslCertificate> extra =
      QSslCertificate::fromPath(path, QSsl::Pem, QSslCertificate::PatternSyntax::FixedString);
  if (extra.isEmpty()) {
    qWarning("%s=%s: no PEM certificate read; trusting only the system's CAs", kTlsCaFileVariable,
             qUtf8Printable(path));
    return;
  }
  QSslConfiguration config = QSslConfiguration::defaultConfiguration();
  // Setting any CA list turns off Qt's on-demand loading of the system's CAs: list them too, so
  // the extra CA adds to them rather than replacing them.
  QList<QSslCertificate> cas = config.caCertificates();
  if (cas.isEmpty()) cas = QSslConfiguration::systemCaCertificates();
  cas += extra;
  config.setCaCertificates(cas);
  QSslConfiguration::setDefaultConfiguration(config);
}

}  // namespace quire::net

namespace quire::net {

Result<QTcpServer*> listenForWebSockets(QWebSocketServer* ws, const QHostAddress& address,
                                        quint16 port, const std::optional<QSslConfiguration>& tls,
                                        QObject* owner) {
  QTcpServer* tcp = nullptr;
  if (tls) {
    auto* ssl = new QSslServer(owner);
    ssl->setSslConfiguration(*tls);
    tcp = ssl;
  } else {
    tcp = new QTcpServer(owner);
  }
  // A QSslServer offers a connection once its TLS handshake is done; a QTcpServer at once.
  QObject::connect(tcp, &QTcpServer::pendingConnectionAvailable, ws, [tcp, ws] {
    while (QTcpSocket* socket = tcp->nextPendingConnection()) {
      socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
      ws->handleConnection(socket);
    }
  });
  if (!tcp->listen(address, port)) {
    Error e = Error::io("cannot listen on " + address.toString().toStdString() + ":" +
                        std::to_string(port) + ": " + tcp->errorString().toStdString());
    delete tcp;
    return fail(std::move(e));
  }
  return tcp;
}

}  // namespace quire::net
