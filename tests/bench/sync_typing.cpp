#include "tests/bench/sync_typing.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <vector>

#include <QHostAddress>
#include <QMetaObject>
#include <QTimer>
#include <QUrl>
#include <QWebSocket>

#include "engine/document.h"
#include "net/crypto.h"
#include "net/frame.h"
#include "net/ws_peer.h"
#include "storage/append_queue.h"
#include "storage/document_store.h"
#include "tests/bench/sync_support.h"

namespace quire::bench {

namespace {

// Each peer types its own letter, so a receiver knows whose keystroke a character is; a
// sender's keystrokes reach each peer in the order typed (one relay stream, or one hub), so the
// k-th copy of a letter to arrive is that sender's k-th keystroke.
constexpr char kLetters[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr int kMaxPeers = sizeof kLetters - 1;
constexpr int kJoinTimeoutMs = 30'000;
constexpr int kDrainTimeoutMs = 30'000;
constexpr int kCloseTimeoutMs = 3'000;

const auto kKeyInterval = std::chrono::duration_cast<SyncClock::duration>(
    std::chrono::duration<double>(1.0 / kTypingKeysPerSecond));

std::span<const std::uint8_t> bytesOf(const QByteArray& data) {
  return {reinterpret_cast<const std::uint8_t*>(data.constData()),
          static_cast<std::size_t>(data.size())};
}

QString roomHex(const net::DocKey& key) {
  const net::RoomId room = net::roomIdOf(key);
  return QString::fromLatin1(
      QByteArray(reinterpret_cast<const char*>(room.bytes.data()), room.bytes.size()).toHex());
}

// One typist and receiver. Declared so that destruction runs queue (flushes, its callbacks
// post to `ws`), then ws, then doc, then store.
struct Peer {
  std::unique_ptr<storage::DocumentStore> store;
  storage::DocumentId docId;
  std::unique_ptr<engine::Document> doc;
  std::unique_ptr<net::WsDocument> ws;
  std::unique_ptr<storage::AppendQueue> queue;
  char letter = 'A';
  int synced = 0;
  std::vector<SyncClock::time_point> typedAt;
  SyncClock::time_point nextDue;
  std::vector<std::size_t> received;  // per sender: its keystrokes seen here so far
};

// The state of one typing run, shared by the signal handlers.
class TypingRun {
 public:
  TypingRun(const TypingConfig& config, const QString& relayUrl)
      : m_config(config), m_relayUrl(relayUrl), m_key(net::generateKey()), m_rng(net::randomU64()) {
    m_senderOf.fill(-1);
  }
  ~TypingRun() {
    m_stopping = true;
    m_listener.reset();
    m_peers.clear();
  }

  Result<TypingResult> run();

 private:
  Result<void> setUp();
  void type(Peer& p);
  void received(std::size_t receiver, const std::vector<engine::Patch>& patches);
  void failWith(std::string why) {
    if (m_failure.empty() && !m_stopping) m_failure = std::move(why);
  }
  Result<void> checkTexts() const;

  TypingConfig m_config;
  QString m_relayUrl;
  net::DocKey m_key;
  std::mt19937_64 m_rng;
  std::array<int, 256> m_senderOf{};
  std::vector<std::unique_ptr<Peer>> m_peers;
  std::unique_ptr<net::WsListener> m_listener;  // after m_peers: destroyed before the docs
  std::vector<double> m_latencies;
  std::size_t m_echo = 0;
  std::size_t m_uncommitted = 0;
  std::string m_failure;
  bool m_stopping = false;
};

Result<void> TypingRun::setUp() {
  const int n = m_config.peers;
  for (int i = 0; i < n; ++i) {
    auto peer = std::make_unique<Peer>();
    Peer& p = *peer;
    p.letter = kLetters[i];
    m_senderOf[static_cast<unsigned char>(p.letter)] = i;
    p.received.assign(static_cast<std::size_t>(n), 0);
    if (m_config.durable) {
      const std::string path = m_config.dir + "/peer-" + std::to_string(i) + ".db";
      auto store = storage::DocumentStore::open(path);
      if (!store) return fail(store.error());
      p.store = std::move(*store);
      auto id = p.store->create("sync bench");
      if (!id) return fail(id.error());
      p.docId = *id;
      auto queue = storage::AppendQueue::open(path);
      if (!queue) return fail(queue.error());
      p.queue = std::move(*queue);
    }
    p.doc = std::make_unique<engine::Document>(randomReplica());
    p.ws = std::make_unique<net::WsDocument>(*p.doc, m_key);
    const auto index = static_cast<std::size_t>(i);
    QObject::connect(p.ws.get(), &net::WsDocument::patchesApplied, p.ws.get(),
                     [this, index](const std::vector<engine::Patch>& patches) {
                       received(index, patches);
                     });
    QObject::connect(p.ws.get(), &net::WsDocument::peerSynced, p.ws.get(), [&p] { ++p.synced; });
    QObject::connect(p.ws.get(), &net::WsDocument::peerLeft, p.ws.get(),
                     [this, i](net::WsDocument::PeerId, const QString& reason) {
                       failWith("peer " + std::to_string(i) + " lost a connection: " +
                                reason.toStdString());
                     });
    QObject::connect(p.ws.get(), &net::WsDocument::connectFailed, p.ws.get(),
                     [this, i](const QUrl& url, const QString& error) {
                       failWith("peer " + std::to_string(i) + " cannot reach " +
                                url.toString().toStdString() + ": " + error.toStdString());
                     });
    m_peers.push_back(std::move(peer));
  }

  QUrl url(m_relayUrl);
  if (!m_config.relay) {
    m_listener = std::make_unique<net::WsListener>();
    m_listener->serve(m_peers[0]->ws.get());
    if (auto listening = m_listener->listen(QHostAddress::LocalHost, 0); !listening) {
      return fail(listening.error());
    }
    url = QUrl(QStringLiteral("ws://127.0.0.1:%1").arg(m_listener->port()));
  }
  for (int i = m_config.relay ? 0 : 1; i < n; ++i) m_peers[i]->ws->connectTo(url);
  const bool joined = runUntil(
      [&] {
        if (!m_failure.empty()) return true;
        for (int i = 0; i < n; ++i) {
          const int want = !m_config.relay && i == 0 ? n - 1 : 1;
          if (m_peers[i]->synced < want) return false;
        }
        return true;
      },
      kJoinTimeoutMs);
  if (!m_failure.empty()) return fail(Error::io(m_failure));
  if (!joined) return fail(Error::io("the peers did not all join within 30 s"));
  return {};
}

void TypingRun::type(Peer& p) {
  const SyncClock::time_point now = SyncClock::now();
  const engine::LV before = p.doc->nextLv();
  const std::uint32_t pos = std::uniform_int_distribution<std::uint32_t>(0, p.doc->length())(m_rng);
  if (auto inserted = p.doc->insert(pos, std::string_view(&p.letter, 1)); !inserted) {
    failWith("insert: " + inserted.error().toString());
    return;
  }
  p.typedAt.push_back(now);
  if (!m_config.durable) {
    p.ws->sendLocalEdits(before);
    return;
  }
  const engine::LV after = p.doc->nextLv();
  const std::size_t typed = p.typedAt.size();
  Peer* peer = &p;
  p.queue->append(p.docId, p.doc->encodeOpsSince(before), [this, peer, before, after, typed](Result<void> r) {
    // The writer thread: the send happens on the peer's thread.
    const std::string error = r ? std::string() : r.error().toString();
    QMetaObject::invokeMethod(
        peer->ws.get(),
        [this, peer, before, after, typed, error] {
          if (!error.empty()) {
            failWith("commit: " + error);
            return;
          }
          if (peer->typedAt.size() != typed) {
            ++m_uncommitted;
          } else if (peer->doc->nextLv() != after) {
            ++m_echo;
          }
          peer->ws->sendLocalEdits(before, after);  // only what this commit made durable
        },
        Qt::QueuedConnection);
  });
}

void TypingRun::received(std::size_t receiver, const std::vector<engine::Patch>& patches) {
  const SyncClock::time_point now = SyncClock::now();
  Peer& r = *m_peers[receiver];
  for (const engine::Patch& patch : patches) {
    if (patch.deleted != 0) failWith("a patch deleted text; nobody deletes");
    for (char c : patch.inserted) {
      const int sender = m_senderOf[static_cast<unsigned char>(c)];
      if (sender < 0 || static_cast<std::size_t>(sender) == receiver) {
        failWith(std::string("peer ") + r.letter + " received '" + c + "', not another's letter");
        continue;
      }
      const Peer& s = *m_peers[static_cast<std::size_t>(sender)];
      const std::size_t k = r.received[static_cast<std::size_t>(sender)]++;
      if (k >= s.typedAt.size()) {
        failWith(std::string("peer ") + r.letter + " received more '" + c + "' than were typed");
        continue;
      }
      m_latencies.push_back(msBetween(s.typedAt[k], now));
    }
  }
}

Result<void> TypingRun::checkTexts() const {
  const std::string first = m_peers[0]->doc->text();
  const std::size_t expected =
      static_cast<std::size_t>(m_config.peers) * static_cast<std::size_t>(m_config.keystrokesPerPeer);
  if (first.size() != expected) {
    return fail(Error::io("peer A ends with " + std::to_string(first.size()) + " characters, " +
                          std::to_string(expected) + " typed"));
  }
  for (const auto& p : m_peers) {
    if (p->doc->text() != first) {
      return fail(Error::io(std::string("peer ") + p->letter + "'s text differs from peer A's"));
    }
  }
  return {};
}

Result<TypingResult> TypingRun::run() {
  if (m_config.peers < 2 || m_config.peers > kMaxPeers) {
    return fail(Error::io("peers must be 2.." + std::to_string(kMaxPeers)));
  }
  if (auto ready = setUp(); !ready) return fail(ready.error());

  const std::size_t n = m_peers.size();
  const auto keys = static_cast<std::size_t>(m_config.keystrokesPerPeer);
  const SyncClock::time_point start = SyncClock::now() + std::chrono::milliseconds(20);
  for (std::size_t i = 0; i < n; ++i) {
    m_peers[i]->typedAt.reserve(keys);
    m_peers[i]->nextDue = start + kKeyInterval * i / n;  // spread over one interval
  }
  m_latencies.reserve(n * (n - 1) * keys);
  // One 1 ms clock types for every peer whose keystroke is due (late ones catch up).
  QTimer clock;
  clock.setTimerType(Qt::PreciseTimer);
  SyncClock::time_point lastTyped = start;
  QObject::connect(&clock, &QTimer::timeout, [&] {
    const SyncClock::time_point now = SyncClock::now();
    bool more = false;
    for (auto& p : m_peers) {
      if (p->typedAt.size() < keys && p->nextDue <= now) {
        type(*p);
        p->nextDue += kKeyInterval;
        lastTyped = SyncClock::now();
      }
      more = more || p->typedAt.size() < keys;
    }
    if (!more) clock.stop();
  });
  const double ownCpuBefore = ownCpuSeconds();
  const double relayCpuBefore = m_config.relayProcess ? m_config.relayProcess->cpuSeconds() : 0;
  clock.start(1);
  const std::size_t expected = n * (n - 1) * keys;
  const int typingMs = static_cast<int>(1000.0 * static_cast<double>(keys) / kTypingKeysPerSecond);
  const bool delivered = runUntil(
      [&] { return !m_failure.empty() || (!clock.isActive() && m_latencies.size() >= expected); },
      typingMs + kDrainTimeoutMs);
  clock.stop();
  if (!m_failure.empty()) return fail(Error::io(m_failure));
  if (!delivered) {
    return fail(Error::io(std::to_string(expected - m_latencies.size()) + " of " +
                          std::to_string(expected) + " keystroke deliveries missing 30 s after "
                          "the last keystroke"));
  }
  const double wallSeconds = msBetween(start, SyncClock::now()) / 1000.0;
  const double ownCpu = ownCpuSeconds() - ownCpuBefore;
  const double relayCpu =
      m_config.relayProcess ? m_config.relayProcess->cpuSeconds() - relayCpuBefore : 0;
  if (auto same = checkTexts(); !same) return fail(same.error());

  TypingResult result;
  result.p50Ms = percentileOf(m_latencies, 0.50);
  result.p99Ms = percentileOf(m_latencies, 0.99);
  result.maxMs = percentileOf(m_latencies, 1.0);
  result.deliveries = m_latencies.size();
  const double typedSeconds = msBetween(start, lastTyped) / 1000.0;
  result.typedPerSecond =
      typedSeconds > 0 ? static_cast<double>(keys - 1) / typedSeconds : kTypingKeysPerSecond;
  result.benchCpuPercent = 100.0 * ownCpu / wallSeconds;
  result.relayCpuPercent = 100.0 * relayCpu / wallSeconds;
  result.echoSends = m_echo;
  result.uncommittedSends = m_uncommitted;

  m_stopping = true;
  for (auto& p : m_peers) p->ws->closeAll(QStringLiteral("done"));
  runUntil(
      [&] {
        return std::all_of(m_peers.begin(), m_peers.end(),
                           [](const auto& p) { return p->ws->peerCount() == 0; });
      },
      kCloseTimeoutMs);
  return result;
}

}  // namespace

Result<TypingResult> runTyping(const TypingConfig& config, const QString& relayUrl) {
  TypingRun run(config, relayUrl);
  return run.run();
}

Result<WireResult> runWire(const QString& relayUrl, int keystrokes) {
  const net::DocKey key = net::generateKey();
  const net::RoomId room = net::roomIdOf(key);
  struct Seen {
    std::uint32_t counter;
    std::size_t bytes;
  };
  std::vector<Seen> seen;
  std::string failure;
  bool observerJoined = false;

  // The observer: a raw member of the room that only listens.
  QWebSocket observer;
  QObject::connect(&observer, &QWebSocket::connected, &observer,
                   [&] { observer.sendTextMessage(QStringLiteral("join ") + roomHex(key)); });
  QObject::connect(&observer, &QWebSocket::textMessageReceived, &observer, [&](const QString& t) {
    if (t.startsWith(QStringLiteral("joined "))) observerJoined = true;
  });
  QObject::connect(&observer, &QWebSocket::binaryMessageReceived, &observer,
                   [&](const QByteArray& frame) {
                     auto m = net::decodeFrame(key, room, bytesOf(frame));
                     if (!m) {
                       failure = "the observer cannot open a frame: " + m.error().toString();
                     } else if (m->kind == net::FrameKind::RoomOps) {
                       seen.push_back({m->counter, static_cast<std::size_t>(frame.size())});
                     }
                   });
  observer.open(QUrl(relayUrl));
  if (!runUntil([&] { return observerJoined; }, kJoinTimeoutMs)) {
    return fail(Error::io("the observer could not join the relay room: " +
                          observer.errorString().toStdString()));
  }

  engine::Document typistDoc(randomReplica());
  engine::Document readerDoc(randomReplica());
  net::WsDocument typist(typistDoc, key);
  net::WsDocument reader(readerDoc, key);
  int synced = 0;
  QObject::connect(&typist, &net::WsDocument::peerSynced, &typist, [&] { ++synced; });
  QObject::connect(&reader, &net::WsDocument::peerSynced, &reader, [&] { ++synced; });
  typist.connectTo(QUrl(relayUrl));
  reader.connectTo(QUrl(relayUrl));
  if (!runUntil([&] { return synced >= 2; }, kJoinTimeoutMs)) {
    return fail(Error::io("the wire-size peers did not join the relay room"));
  }

  QTimer clock;
  clock.setTimerType(Qt::PreciseTimer);
  int typed = 0;
  QObject::connect(&clock, &QTimer::timeout, [&] {
    const engine::LV before = typistDoc.nextLv();
    if (auto inserted = typistDoc.insert(typistDoc.length(), "e"); !inserted) {
      failure = inserted.error().toString();
    }
    typist.sendLocalEdits(before);
    if (++typed == keystrokes) clock.stop();
  });
  clock.start(static_cast<int>(1000.0 / kTypingKeysPerSecond));
  const auto all = static_cast<std::size_t>(keystrokes);
  runUntil(
      [&] {
        return !failure.empty() || (seen.size() >= all && readerDoc.length() >= all);
      },
      keystrokes * 100 + kDrainTimeoutMs);
  clock.stop();
  typist.closeAll(QStringLiteral("done"));
  reader.closeAll(QStringLiteral("done"));
  observer.close();
  runUntil([&] { return typist.peerCount() == 0 && reader.peerCount() == 0; }, kCloseTimeoutMs);

  if (!failure.empty()) return fail(Error::io(failure));
  if (seen.size() != all || readerDoc.text() != typistDoc.text()) {
    return fail(Error::io(std::to_string(keystrokes) + " keystrokes gave " +
                          std::to_string(seen.size()) + " frames and " +
                          std::to_string(readerDoc.length()) + " characters at the receiver"));
  }
  WireResult result;
  result.frames = seen.size();
  double sent = 0;
  double got = 0;
  std::size_t steady = 0;
  for (const Seen& s : seen) {
    if (s.counter == 0) {
      result.firstSentBytes = s.bytes + wsHeaderBytes(s.bytes, true);
      continue;
    }
    sent += static_cast<double>(s.bytes + wsHeaderBytes(s.bytes, true));
    got += static_cast<double>(s.bytes + wsHeaderBytes(s.bytes, false));
    ++steady;
  }
  if (steady == 0) return fail(Error::io("no steady keystroke frames (type more than one)"));
  result.sentBytes = sent / static_cast<double>(steady);
  result.receivedBytes = got / static_cast<double>(steady);
  return result;
}

}  // namespace quire::bench
