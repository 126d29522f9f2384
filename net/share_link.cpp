#include "net/share_link.h"

#include <cassert>

#include <QByteArray>
#include <QString>
#include <QUrl>
#include <QUrlQuery>

namespace quire::net {

namespace {

constexpr auto kBase64Options = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;

Error bad(const std::string& what) { return Error::malformed("share link: " + what); }

std::string quoted(const QString& s) {
  // Long values (a pasted key, a whole URL) are cut so the message stays one line.
  QString shown = s.size() > 60 ? s.left(57) + "..." : s;
  return "'" + shown.toStdString() + "'";
}

[[maybe_unused]] bool isRouteUrl(const QUrl& url) {
  const QString scheme = url.scheme();
  return url.isValid() && (scheme == "ws" || scheme == "wss") && !url.host().isEmpty();
}

Result<DocumentId> parseDocId(const QString& hex) {
  if (hex.size() != 32)
    return fail(bad("doc must be 32 hex digits, got " + std::to_string(hex.size()) +
                    " characters"));
  DocumentId id;
  for (int i = 0; i < 32; ++i) {
    const char16_t c = hex[i].unicode();
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    if (v < 0)
      return fail(bad("doc " + quoted(hex) + " is not hex (character " + std::to_string(i + 1) +
                      ")"));
    id.bytes[static_cast<std::size_t>(i / 2)] |= static_cast<std::uint8_t>(i % 2 ? v : v << 4);
  }
  return id;
}

Result<DocKey> parseKey(const QString& text) {
  if (text.size() != 43)
    return fail(bad("key k must be 43 base64url characters (32 bytes, no padding), got " +
                    std::to_string(text.size())));
  const QByteArray ascii = text.toLatin1();
  auto decoded = QByteArray::fromBase64Encoding(
      ascii, kBase64Options | QByteArray::AbortOnBase64DecodingErrors);
  // Re-encoding rejects a last character with stray low bits, so each key has one spelling.
  if (!decoded || decoded.decoded.size() != static_cast<qsizetype>(kKeyBytes) ||
      decoded.decoded.toBase64(kBase64Options) != ascii)
    return fail(bad("key k is not base64url of 32 bytes"));
  DocKey key;
  std::copy(decoded.decoded.begin(), decoded.decoded.end(), key.bytes.begin());
  return key;
}

}  // namespace

std::string encodeShareLink(const ShareLink& link) {
  assert(!link.routes.empty());
  QUrl url;
  url.setScheme("quire");
  url.setHost("open");
  QUrlQuery query;
  const QByteArray docHex =
      QByteArray(reinterpret_cast<const char*>(link.doc.bytes.data()), link.doc.bytes.size())
          .toHex();
  query.addQueryItem("doc", QString::fromLatin1(docHex));
  for (const std::string& route : link.routes) {
    assert(isRouteUrl(QUrl(QString::fromStdString(route), QUrl::StrictMode)));
    // Percent-encode everything but the unreserved set and ':' '/', so a route's own '&', '#',
    // '=' or '+' cannot end the item early.
    const QByteArray enc =
        QUrl::toPercentEncoding(QString::fromStdString(route), ":/[]@");
    query.addQueryItem("via", QString::fromLatin1(enc));
  }
  url.setQuery(query);
  const QByteArray key =
      QByteArray(reinterpret_cast<const char*>(link.key.bytes.data()), link.key.bytes.size())
          .toBase64(kBase64Options);
  url.setFragment("k=" + QString::fromLatin1(key));
  return url.toString(QUrl::FullyEncoded).toStdString();
}

Result<ShareLink> parseShareLink(std::string_view text) {
  const QString input = QString::fromUtf8(text.data(), static_cast<qsizetype>(text.size())).trimmed();
  if (input.isEmpty()) return fail(bad("empty"));
  const QUrl url(input, QUrl::StrictMode);
  if (!url.isValid()) return fail(bad("not a URL: " + url.errorString().toStdString()));
  if (url.scheme() != "quire")
    return fail(bad("scheme must be quire://, got " + quoted(url.scheme())));
  if (url.host() != "open")
    return fail(bad("must start with quire://open, got host " + quoted(url.host())));
  if (!url.path().isEmpty() && url.path() != "/")
    return fail(bad("unexpected path " + quoted(url.path())));
  if (!url.userInfo().isEmpty() || url.port() != -1)
    return fail(bad("quire://open takes no user or port"));

  const QUrlQuery query(url);
  if (query.hasQueryItem("k"))
    return fail(bad("the key k is in the query, where servers can see it; it belongs in the "
                    "fragment (#k=...)"));

  ShareLink link;
  const QStringList docs = query.allQueryItemValues("doc", QUrl::FullyDecoded);
  if (docs.isEmpty()) return fail(bad("missing doc=<32 hex digits>"));
  if (docs.size() > 1) return fail(bad("doc given " + std::to_string(docs.size()) + " times"));
  auto doc = parseDocId(docs.front());
  if (!doc) return fail(doc.error());
  link.doc = *doc;

  const QStringList vias = query.allQueryItemValues("via", QUrl::FullyDecoded);
  if (vias.isEmpty()) return fail(bad("missing via=<ws:// or wss:// URL>"));
  for (const QString& via : vias) {
    const QUrl route(via, QUrl::StrictMode);
    if (!route.isValid()) return fail(bad("via " + quoted(via) + " is not a URL"));
    if (route.scheme() != "ws" && route.scheme() != "wss")
      return fail(bad("via " + quoted(via) + " must be a ws:// or wss:// URL"));
    if (route.host().isEmpty()) return fail(bad("via " + quoted(via) + " has no host"));
    link.routes.push_back(via.toStdString());
  }

  if (!url.hasFragment() || url.fragment().isEmpty())
    return fail(bad("missing key: the fragment must be #k=<base64url key>"));
  const QUrlQuery fragment(url.fragment(QUrl::FullyEncoded));
  const QStringList keys = fragment.allQueryItemValues("k", QUrl::FullyDecoded);
  if (keys.isEmpty()) return fail(bad("missing key: the fragment must be #k=<base64url key>"));
  if (keys.size() > 1) return fail(bad("key k given " + std::to_string(keys.size()) + " times"));
  auto key = parseKey(keys.front());
  if (!key) return fail(key.error());
  link.key = *key;
  return link;
}

}  // namespace quire::net
