#include "tests/bench/sync_relay_load.h"

#include <memory>
#include <vector>

#include <QHash>
#include <QUrl>
#include <QWebSocket>

#include "engine/document.h"
#include "net/crypto.h"
#include "net/frame.h"
#include "tests/bench/sync_support.h"

namespace quire::bench {

namespace {

constexpr int kConnectTimeoutMs = 60'000;
constexpr int kDrainTimeoutMs = 10'000;
constexpr int kCloseTimeoutMs = 5'000;

struct LoadClient {
  std::unique_ptr<QWebSocket> socket;
  QByteArray frame;  // this client's sealed frame, sent again and again
  int outstanding = 0;
  bool joined = false;
};

// The engine update of a continuing keystroke (its agent already announced on the stream): what
// a RoomOps frame carries while someone types.
std::vector<std::uint8_t> steadyKeystroke() {
  engine::Document doc(randomReplica());
  engine::StreamContext stream;
  (void)doc.insert(0, "a");
  (void)doc.encodeOpsSince(0, &stream);
  const engine::LV before = doc.nextLv();
  (void)doc.insert(1, "b");
  return doc.encodeOpsSince(before, &stream);
}

}  // namespace

Result<LoadResult> runRelayLoad(const std::string& dir, const std::string& name, int warmupMs,
                                int windowMs) {
  auto relay = RelayProcess::start(dir, name);
  if (!relay) return fail(relay.error());
  const QUrl url((*relay)->url());

  constexpr int kClients = kLoadRooms * kLoadPeersPerRoom;
  const std::vector<std::uint8_t> update = steadyKeystroke();
  // Declared before the clients: their handlers use these until the sockets are gone.
  QHash<QByteArray, int> senderOf;
  std::string failure;
  bool sending = false;
  bool closing = false;
  std::uint64_t received = 0;
  std::vector<LoadClient> clients(kClients);

  const auto topUp = [&](int c) {
    LoadClient& client = clients[static_cast<std::size_t>(c)];
    while (sending && client.outstanding < kLoadWindow) {
      client.socket->sendBinaryMessage(client.frame);
      ++client.outstanding;
    }
  };
  // The room mate whose receipt of c's frame frees a slot in c's window.
  const auto ackerOf = [](int c) {
    const int base = c - c % kLoadPeersPerRoom;
    return base + (c % kLoadPeersPerRoom + 1) % kLoadPeersPerRoom;
  };

  for (int r = 0; r < kLoadRooms; ++r) {
    const net::DocKey key = net::generateKey();
    const net::RoomId room = net::roomIdOf(key);
    const QString join =
        QStringLiteral("join ") +
        QString::fromLatin1(
            QByteArray(reinterpret_cast<const char*>(room.bytes.data()), room.bytes.size()).toHex());
    for (int m = 0; m < kLoadPeersPerRoom; ++m) {
      const int c = r * kLoadPeersPerRoom + m;
      LoadClient& client = clients[static_cast<std::size_t>(c)];
      net::Message message;
      message.kind = net::FrameKind::RoomOps;
      message.stream = net::randomU64();
      message.counter = 1;
      message.update = update;
      const std::vector<std::uint8_t> sealed = net::encodeFrame(key, room, message);
      client.frame = QByteArray(reinterpret_cast<const char*>(sealed.data()),
                                static_cast<qsizetype>(sealed.size()));
      senderOf.insert(client.frame, c);
      client.socket = std::make_unique<QWebSocket>();
      QWebSocket* socket = client.socket.get();
      QObject::connect(socket, &QWebSocket::connected, socket,
                       [socket, join] { socket->sendTextMessage(join); });
      QObject::connect(socket, &QWebSocket::textMessageReceived, socket,
                       [&client](const QString& t) {
                         if (t.startsWith(QStringLiteral("joined "))) client.joined = true;
                       });
      QObject::connect(socket, &QWebSocket::binaryMessageReceived, socket,
                       [&, c](const QByteArray& frame) {
                         ++received;
                         const int sender = senderOf.value(frame, -1);
                         if (sender < 0 || sender / kLoadPeersPerRoom != c / kLoadPeersPerRoom) {
                           failure = "client " + std::to_string(c) +
                                     " received a frame no room mate sent";
                           return;
                         }
                         if (ackerOf(sender) != c) return;
                         --clients[static_cast<std::size_t>(sender)].outstanding;
                         topUp(sender);
                       });
      QObject::connect(socket, &QWebSocket::disconnected, socket, [&, c, socket] {
        if (!closing && failure.empty()) {
          failure = "client " + std::to_string(c) + " was closed: " +
                    socket->closeReason().toStdString() + " " + socket->errorString().toStdString();
        }
      });
      socket->open(url);
    }
  }
  LoadResult result;
  result.frameBytes = static_cast<std::size_t>(clients[0].frame.size());

  const auto allJoined = [&] {
    for (const LoadClient& c : clients)
      if (!c.joined) return false;
    return true;
  };
  if (!runUntil([&] { return !failure.empty() || allJoined(); }, kConnectTimeoutMs) ||
      !failure.empty()) {
    closing = true;
    return fail(Error::io("not every load client joined its room: " +
                          (failure.empty() ? std::string("timed out") : failure) + "; relay log: " +
                          (*relay)->logTail()));
  }

  sending = true;
  for (int c = 0; c < kClients; ++c) topUp(c);
  runFor(warmupMs);
  const SyncClock::time_point start = SyncClock::now();
  const std::uint64_t receivedBefore = received;
  const double relayCpuBefore = (*relay)->cpuSeconds();
  const double ownCpuBefore = ownCpuSeconds();
  const double relayWaitBefore = (*relay)->runQueueWaitSeconds();
  const double ownWaitBefore = runQueueWaitSeconds();
  runFor(windowMs);
  const double seconds = msBetween(start, SyncClock::now()) / 1000.0;
  result.framesPerSecond = static_cast<double>(received - receivedBefore) / seconds;
  result.relayCpuPercent = 100.0 * ((*relay)->cpuSeconds() - relayCpuBefore) / seconds;
  result.benchCpuPercent = 100.0 * (ownCpuSeconds() - ownCpuBefore) / seconds;
  result.relayWaitPercent = 100.0 * ((*relay)->runQueueWaitSeconds() - relayWaitBefore) / seconds;
  result.benchWaitPercent = 100.0 * (runQueueWaitSeconds() - ownWaitBefore) / seconds;

  sending = false;
  runUntil(
      [&] {
        if (!failure.empty()) return true;
        for (const LoadClient& c : clients)
          if (c.outstanding > 0) return false;
        return true;
      },
      kDrainTimeoutMs);
  result.relayRssMb = (*relay)->rssMb();
  closing = true;
  for (LoadClient& c : clients) c.socket->close();
  runUntil(
      [&] {
        for (const LoadClient& c : clients)
          if (c.socket->state() != QAbstractSocket::UnconnectedState) return false;
        return true;
      },
      kCloseTimeoutMs);
  if (!failure.empty()) return fail(Error::io(failure + "; relay log: " + (*relay)->logTail()));
  if (!(*relay)->running()) return fail(Error::io("quire-relay exited: " + (*relay)->logTail()));
  return result;
}

}  // namespace quire::bench
