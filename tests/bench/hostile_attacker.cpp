#include "tests/bench/hostile_attacker.h"

#include <QMetaObject>
#include <QObject>
#include <QTimer>
#include <QUrl>
#include <QWebSocket>

namespace quire::bench {

namespace {
constexpr int kAttackIntervalMs = 100;
constexpr int kReconnectMs = 50;
}  // namespace

// Everything here runs on the attacker's thread.
class AttackerThread::Worker : public QObject {
 public:
  Worker(QString url, QString roomHex, std::vector<std::pair<int, QByteArray>> frames,
         std::shared_ptr<Counts> counts)
      : m_url(std::move(url)), m_join(QStringLiteral("join ") + roomHex),
        m_frames(std::move(frames)), m_counts(std::move(counts)) {}

  void open() {
    m_socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
    m_timer = new QTimer(this);
    m_timer->setInterval(kAttackIntervalMs);
    connect(m_timer, &QTimer::timeout, this, [this] { sendNext(); });
    connect(m_socket, &QWebSocket::connected, this, [this] { m_socket->sendTextMessage(m_join); });
    connect(m_socket, &QWebSocket::textMessageReceived, this, [this](const QString& t) {
      if (t.startsWith(QStringLiteral("joined "))) m_counts->joined = true;
    });
    connect(m_socket, &QWebSocket::disconnected, this, [this] {
      m_counts->joined = false;
      if (m_stopping || !m_attacking) return;
      ++m_counts->closed;  // closed by the relay: come back, as an attacker would
      QTimer::singleShot(kReconnectMs, this, [this] {
        if (m_attacking && !m_stopping) m_socket->open(QUrl(m_url));
      });
    });
    m_socket->open(QUrl(m_url));
  }
  void setAttacking(bool on) {
    m_attacking = on;
    if (on) {
      m_timer->start();
      if (m_socket->state() == QAbstractSocket::UnconnectedState) m_socket->open(QUrl(m_url));
    } else {
      m_timer->stop();
      // A join the relay is still sending would go on into the quiet slice: cut it (the next
      // attacked slice joins again). A joined attacker stays, silent.
      if (!m_counts->joined) m_socket->abort();
    }
  }
  void stop() {
    m_stopping = true;
    m_timer->stop();
    m_socket->abort();
  }

 private:
  void sendNext() {
    if (!m_counts->joined || m_frames.empty()) return;
    const auto& [kind, frame] = m_frames[m_next++ % m_frames.size()];
    m_socket->sendBinaryMessage(frame);
    ++m_counts->sent[static_cast<std::size_t>(kind)];
  }

  QString m_url;
  QString m_join;
  std::vector<std::pair<int, QByteArray>> m_frames;
  std::shared_ptr<Counts> m_counts;
  QWebSocket* m_socket = nullptr;
  QTimer* m_timer = nullptr;
  std::size_t m_next = 0;
  bool m_attacking = false;
  bool m_stopping = false;
};

AttackerThread::AttackerThread(QString relayUrl, QString roomHex,
                               std::vector<std::pair<int, QByteArray>> frames)
    : m_worker(new Worker(std::move(relayUrl), std::move(roomHex), std::move(frames), m_counts)) {
  m_worker->moveToThread(&m_thread);
  QObject::connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
  m_thread.start(QThread::IdlePriority);
  QMetaObject::invokeMethod(m_worker, [w = m_worker] { w->open(); }, Qt::QueuedConnection);
}

AttackerThread::~AttackerThread() {
  QMetaObject::invokeMethod(m_worker, [w = m_worker] { w->stop(); }, Qt::BlockingQueuedConnection);
  m_thread.quit();
  m_thread.wait();
}

void AttackerThread::setAttacking(bool on) {
  QMetaObject::invokeMethod(m_worker, [w = m_worker, on] { w->setAttacking(on); },
                            Qt::QueuedConnection);
}

}  // namespace quire::bench
