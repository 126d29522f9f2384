#include "tests/bench/sync_join.h"

#include <optional>
#include <span>

#include <QHostAddress>
#include <QUrl>
#include <QWebSocket>

#include "net/crypto.h"
#include "net/frame.h"
#include "net/room_session.h"
#include "net/ws_peer.h"
#include "tests/bench/sync_support.h"

namespace quire::bench {

namespace {

constexpr int kJoinTimeoutMs = 30'000;
constexpr int kCloseTimeoutMs = 3'000;
constexpr int kSnapshotProbeMs = 100;

std::span<const std::uint8_t> bytesOf(const QByteArray& data) {
  return {reinterpret_cast<const std::uint8_t*>(data.constData()),
          static_cast<std::size_t>(data.size())};
}

// A fresh, empty replica dials `url` and joins; the time from the dial until its text is
// complete (checked against `text` afterwards, outside the timing).
Result<double> joinOnce(const net::DocKey& key, const QUrl& url, const std::string& text,
                        std::uint32_t length, bool fromSnapshot) {
  engine::Document doc(randomReplica());
  net::WsDocument joiner(doc, key);
  std::optional<SyncClock::time_point> complete;
  bool replaced = false;
  bool stopping = false;
  std::string failure;
  QObject::connect(&joiner, &net::WsDocument::patchesApplied, &joiner, [&] {
    if (!complete && doc.length() == length) complete = SyncClock::now();
  });
  QObject::connect(&joiner, &net::WsDocument::documentReplaced, &joiner, [&] { replaced = true; });
  QObject::connect(&joiner, &net::WsDocument::connectFailed, &joiner,
                   [&](const QUrl&, const QString& error) {
                     // Closing before the relay's "joined N" (the text was complete) is no failure.
                     if (!stopping) failure = error.toStdString();
                   });
  QObject::connect(&joiner, &net::WsDocument::peerLeft, &joiner,
                   [&](net::WsDocument::PeerId, const QString& reason) {
                     if (!stopping) failure = "connection closed: " + reason.toStdString();
                   });

  const SyncClock::time_point start = SyncClock::now();
  joiner.connectTo(url);
  runUntil([&] { return complete.has_value() || !failure.empty(); }, kJoinTimeoutMs);
  stopping = true;
  joiner.closeAll(QStringLiteral("done"));
  runUntil([&] { return joiner.peerCount() == 0; }, kCloseTimeoutMs);

  if (!failure.empty()) return fail(Error::io("join via " + url.toString().toStdString() + ": " + failure));
  if (!complete) {
    return fail(Error::io("join via " + url.toString().toStdString() + ": " +
                          std::to_string(doc.length()) + " of " + std::to_string(length) +
                          " characters after 30 s"));
  }
  if (doc.text() != text) {
    return fail(Error::io("join via " + url.toString().toStdString() +
                          ": the joiner's text differs from the holder's"));
  }
  if (fromSnapshot && !replaced) {
    return fail(Error::io("join via the relay did not start from the room's snapshot"));
  }
  return msBetween(start, *complete);
}

// True once the room's first stored item opens as a snapshot (a raw client joins and looks).
Result<bool> roomStartsWithSnapshot(const net::DocKey& key, const QString& relayUrl) {
  const net::RoomId room = net::roomIdOf(key);
  QWebSocket probe;
  std::optional<QByteArray> first;
  bool joined = false;
  QObject::connect(&probe, &QWebSocket::connected, &probe, [&] {
    probe.sendTextMessage(QStringLiteral("join ") +
                          QString::fromLatin1(QByteArray(reinterpret_cast<const char*>(room.bytes.data()),
                                                         room.bytes.size())
                                                  .toHex()));
  });
  QObject::connect(&probe, &QWebSocket::binaryMessageReceived, &probe, [&](const QByteArray& b) {
    if (!first) first = b;
  });
  QObject::connect(&probe, &QWebSocket::textMessageReceived, &probe, [&](const QString& t) {
    if (t.startsWith(QStringLiteral("joined "))) joined = true;
  });
  probe.open(QUrl(relayUrl));
  if (!runUntil([&] { return joined; }, kJoinTimeoutMs)) {
    return fail(Error::io("the snapshot probe could not join the relay room: " +
                          probe.errorString().toStdString()));
  }
  probe.close();
  if (!first) return false;
  auto m = net::decodeFrame(key, room, bytesOf(*first));
  return m && m->kind == net::FrameKind::Snapshot;
}

}  // namespace

Result<std::vector<double>> measureDirectJoins(const engine::Document& full, const std::string& text,
                                               int runs) {
  const net::DocKey key = net::generateKey();
  engine::Document holderDoc(full);
  net::WsDocument holder(holderDoc, key);
  net::WsListener listener;
  listener.serve(&holder);
  if (auto listening = listener.listen(QHostAddress::LocalHost, 0); !listening) {
    return fail(listening.error());
  }
  const QUrl url(QStringLiteral("ws://127.0.0.1:%1").arg(listener.port()));
  std::vector<double> ms;
  for (int run = 0; run < runs; ++run) {
    auto joined = joinOnce(key, url, text, full.length(), false);
    if (!joined) return fail(joined.error());
    ms.push_back(*joined);
  }
  listener.close();
  return ms;
}

Result<std::vector<double>> measureRelayJoins(const engine::Document& full, const std::string& text,
                                              const QString& relayUrl, int runs) {
  const net::DocKey key = net::generateKey();
  engine::Document holderDoc(full);
  net::WsDocument holder(holderDoc, key);
  net::RoomOptions options;
  options.snapshotAfterItems = 1;  // the first item stored makes the holder snapshot the room
  holder.setRoomOptions(options);
  bool synced = false;
  QObject::connect(&holder, &net::WsDocument::peerSynced, &holder, [&] { synced = true; });
  holder.connectTo(QUrl(relayUrl));
  if (!runUntil([&] { return synced; }, kJoinTimeoutMs)) {
    return fail(Error::io("the holder could not join the relay room"));
  }
  bool snapshot = false;
  const SyncClock::time_point deadline = SyncClock::now() + std::chrono::milliseconds(kJoinTimeoutMs);
  while (!snapshot && SyncClock::now() < deadline) {
    runFor(kSnapshotProbeMs);
    auto probed = roomStartsWithSnapshot(key, relayUrl);
    if (!probed) return fail(probed.error());
    snapshot = *probed;
  }
  if (!snapshot) return fail(Error::io("the relay room holds no snapshot 30 s after the holder joined"));

  std::vector<double> ms;
  for (int run = 0; run < runs; ++run) {
    auto joined = joinOnce(key, QUrl(relayUrl), text, full.length(), true);
    if (!joined) return fail(joined.error());
    ms.push_back(*joined);
  }
  holder.closeAll(QStringLiteral("done"));
  runUntil([&] { return holder.peerCount() == 0; }, kCloseTimeoutMs);
  return ms;
}

}  // namespace quire::bench
