#include "tests/bench/hostile_honest.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QMetaObject>
#include <QTimer>
#include <QUrl>

#include "engine/document.h"
#include "net/ws_peer.h"

namespace quire::bench {

namespace {
const auto kKeyInterval = std::chrono::duration_cast<SyncClock::duration>(
    std::chrono::duration<double>(1.0 / 30.0));
constexpr int kCloseWaitMs = 3000;
}  // namespace

void HonestShared::fail(const std::string& why) {
  if (failure.empty()) failure = why;
}

// Everything here runs on the peer's thread.
class HonestPeer::Worker : public QObject {
 public:
  Worker(std::size_t index, net::DocKey key, HonestShared& shared, std::uint64_t seed,
         std::atomic<int>& synced, std::atomic<bool>& typing)
      : m_index(index), m_letter(static_cast<char>('A' + index)), m_key(key), m_shared(shared),
        m_rng(seed), m_synced(synced), m_typing(typing) {}

  void open(const QString& url) {
    m_doc = std::make_unique<engine::Document>(randomReplica());
    m_ws = std::make_unique<net::WsDocument>(*m_doc, m_key);
    connect(m_ws.get(), &net::WsDocument::patchesApplied, this,
            [this](const std::vector<engine::Patch>& patches) { received(patches); });
    connect(m_ws.get(), &net::WsDocument::peerSynced, this, [this] { ++m_synced; });
    connect(m_ws.get(), &net::WsDocument::peerLeft, this,
            [this](net::WsDocument::PeerId, const QString& reason) {
              std::lock_guard held(m_shared.lock);
              if (!m_shared.stopping)
                m_shared.fail("honest peer " + std::to_string(m_index) +
                              " lost its relay connection: " + reason.toStdString());
            });
    m_clock = new QTimer(this);
    m_clock->setTimerType(Qt::PreciseTimer);
    connect(m_clock, &QTimer::timeout, this, [this] { tick(); });
    m_ws->connectTo(QUrl(url));
  }

  void startTyping(std::size_t keys, SyncClock::time_point firstDue) {
    m_left = keys;
    m_nextDue = firstDue;
    m_clock->start(1);
  }

  void close() {
    if (!m_ws) return;  // never opened
    m_clock->stop();
    m_ws->closeAll(QStringLiteral("done"));
    QElapsedTimer waited;
    waited.start();
    while (m_ws->peerCount() > 0 && waited.elapsed() < kCloseWaitMs)
      QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
    m_ws.reset();
    m_doc.reset();
  }

 private:
  void tick() {
    if (m_left == 0 || SyncClock::now() < m_nextDue) return;
    const engine::LV before = m_doc->nextLv();
    const auto pos = std::uniform_int_distribution<std::uint32_t>(0, m_doc->length())(m_rng);
    auto inserted = m_doc->insert(pos, std::string_view(&m_letter, 1));
    {
      std::lock_guard held(m_shared.lock);
      if (!inserted) m_shared.fail("insert: " + inserted.error().toString());
      m_shared.typedAt[m_index].push_back(SyncClock::now());
    }
    m_ws->sendLocalEdits(before);
    m_nextDue += kKeyInterval;
    if (--m_left == 0) {
      m_clock->stop();
      m_typing = false;
    }
  }

  void received(const std::vector<engine::Patch>& patches) {
    const SyncClock::time_point now = SyncClock::now();
    std::lock_guard held(m_shared.lock);
    const std::size_t n = m_shared.typedAt.size();
    for (const engine::Patch& patch : patches) {
      for (char c : patch.inserted) {
        if (c < 'A' || c > 'Z') continue;  // the attacker's characters
        const auto sender = static_cast<std::size_t>(c - 'A');
        if (sender >= n || sender == m_index) continue;
        const std::vector<SyncClock::time_point>& typed = m_shared.typedAt[sender];
        const std::size_t k = m_shared.received[m_index][sender]++;
        if (k < typed.size()) m_shared.deliveries.push_back({sender, k, msBetween(typed[k], now)});
      }
    }
  }

  std::size_t m_index;
  char m_letter;
  net::DocKey m_key;
  HonestShared& m_shared;
  std::mt19937_64 m_rng;
  std::atomic<int>& m_synced;
  std::atomic<bool>& m_typing;
  std::unique_ptr<engine::Document> m_doc;
  std::unique_ptr<net::WsDocument> m_ws;
  QTimer* m_clock = nullptr;
  std::size_t m_left = 0;
  SyncClock::time_point m_nextDue;
};

HonestPeer::HonestPeer(std::size_t index, const net::DocKey& key, HonestShared& shared,
                       std::uint64_t seed)
    : m_worker(new Worker(index, key, shared, seed, m_synced, m_typing)) {
  m_worker->moveToThread(&m_thread);
  QObject::connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
  m_thread.start();
}

HonestPeer::~HonestPeer() {
  QMetaObject::invokeMethod(m_worker, [w = m_worker] { w->close(); }, Qt::BlockingQueuedConnection);
  m_thread.quit();
  m_thread.wait();
}

void HonestPeer::connectTo(const QString& relayUrl) {
  QMetaObject::invokeMethod(m_worker, [w = m_worker, relayUrl] { w->open(relayUrl); },
                            Qt::QueuedConnection);
}

void HonestPeer::startTyping(std::size_t keys, SyncClock::time_point firstDue) {
  m_typing = keys > 0;
  QMetaObject::invokeMethod(m_worker, [w = m_worker, keys, firstDue] { w->startTyping(keys, firstDue); },
                            Qt::QueuedConnection);
}

}  // namespace quire::bench
