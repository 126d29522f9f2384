#include "tests/bench/editor_remote.h"

#include <time.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <QHostAddress>
#include <QThread>
#include <QUrl>

#include "net/ws_peer.h"
#include "tests/bench/sync_support.h"

namespace quire::bench {

namespace {

constexpr int kSyncTimeoutMs = 30'000;
constexpr int kBurstTimeoutMs = 60'000;
// After the typist has called sendLocalEdits() for every keystroke, the GUI thread stays
// blocked this much longer so the typist's event loop writes the frames to the socket.
constexpr int kFlushMs = 200;

double threadCpuMs() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

double monotonicSeconds(EditorClock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// The other replica, on its own thread with its own event loop (WsDocument lives on one thread).
class RemoteTypist : public QThread {
 public:
  RemoteTypist(std::vector<std::uint8_t> history, const net::DocKey& key, QUrl url,
               std::uint32_t pos, int keystrokes)
      : m_history(std::move(history)), m_key(key), m_url(std::move(url)), m_pos(pos),
        m_keystrokes(keystrokes) {}

  std::atomic<bool> ready{false};  // synced with the measured session
  std::atomic<bool> go{false};     // set by the GUI thread: type now
  std::atomic<bool> sent{false};   // every keystroke handed to sendLocalEdits()
  std::atomic<bool> stop{false};   // set by the GUI thread: close and end
  std::atomic<bool> failed{false};

  std::string failure() const {
    const std::lock_guard lock(m_mutex);
    return m_failure;
  }
  // The typist's text after the burst (valid once `sent`).
  const std::string& text() const { return m_text; }

 protected:
  void run() override {
    auto doc = engine::Document::decodeHistory(m_history, randomReplica());
    if (!doc) return fail("decode: " + doc.error().toString());
    net::WsDocument ws(*doc, m_key);
    bool synced = false;
    std::string error;
    QObject::connect(&ws, &net::WsDocument::peerSynced, &ws, [&] { synced = true; });
    QObject::connect(&ws, &net::WsDocument::connectFailed, &ws,
                     [&](const QUrl&, const QString& e) { error = e.toStdString(); });
    QObject::connect(&ws, &net::WsDocument::peerLeft, &ws,
                     [&](net::WsDocument::PeerId, const QString& reason) {
                       if (!stop) error = "connection closed: " + reason.toStdString();
                     });
    ws.connectTo(m_url);
    runUntil([&] { return synced || !error.empty() || stop; }, kSyncTimeoutMs);
    if (!synced) return fail(error.empty() ? "not synced after 30 s" : error);
    ready = true;
    runUntil([&] { return go.load() || stop.load(); }, kBurstTimeoutMs);
    if (go && !stop) {
      static constexpr char kLetters[] = "etaoinshrdlu ";
      for (int i = 0; i < m_keystrokes; ++i) {
        const engine::LV before = doc->nextLv();
        const char letter = kLetters[i % (sizeof kLetters - 1)];
        if (auto r = doc->insert(m_pos + static_cast<std::uint32_t>(i), std::string_view(&letter, 1));
            !r) {
          return fail("insert: " + r.error().toString());
        }
        ws.sendLocalEdits(before, doc->nextLv());
      }
      m_text = doc->text();
      sent = true;
    }
    runUntil([&] { return stop.load(); }, 2 * kBurstTimeoutMs);
    ws.closeAll(QStringLiteral("done"));
    runUntil([&] { return ws.peerCount() == 0; }, 3'000);
  }

 private:
  void fail(std::string what) {
    {
      const std::lock_guard lock(m_mutex);
      m_failure = std::move(what);
    }
    failed = true;
  }

  std::vector<std::uint8_t> m_history;
  net::DocKey m_key;
  QUrl m_url;
  std::uint32_t m_pos;
  int m_keystrokes;
  mutable std::mutex m_mutex;
  std::string m_failure;
  std::string m_text;
};

// Stops and joins the typist on every way out.
struct TypistGuard {
  RemoteTypist& typist;
  ~TypistGuard() {
    typist.stop = true;
    typist.wait();
  }
};

}  // namespace

Result<RemoteBurstResult> measureRemoteBurst(app::DocumentSession& session, ProbedTextEdit& edit,
                                             std::uint32_t pos, int keystrokes) {
  net::WsDocument& measured = session.net();
  auto listener = std::make_unique<net::WsListener>();
  listener->serve(&measured);
  if (auto listening = listener->listen(QHostAddress::LocalHost, 0); !listening) {
    return fail(listening.error());
  }
  bool measuredSynced = false;
  const QMetaObject::Connection syncedConnection = QObject::connect(
      &measured, &net::WsDocument::peerSynced, &edit, [&] { measuredSynced = true; });

  RemoteTypist typist(session.document().encodeHistory(), measured.key(),
                      QUrl(QStringLiteral("ws://127.0.0.1:%1").arg(listener->port())), pos,
                      keystrokes);
  std::optional<Result<RemoteBurstResult>> outcome;
  {
    TypistGuard guard{typist};
    typist.start();
    runUntil([&] { return (typist.ready && measuredSynced) || typist.failed; }, kSyncTimeoutMs);
    QObject::disconnect(syncedConnection);
    if (!typist.ready || !measuredSynced) {
      return fail(Error::io("remote burst: the other replica did not sync: " +
                            (typist.failed ? typist.failure() : std::string("timeout"))));
    }
    runFor(200);  // presence and the hello exchange settle

    const std::uint32_t expected = session.document().length() + static_cast<std::uint32_t>(keystrokes);
    std::size_t signalCount = 0;
    std::optional<EditorClock::time_point> first, applied;
    // The other replica types ASCII letters only: the widget is done when a paint shows this.
    const int expectedLength = edit.document()->characterCount() - 1 + keystrokes;
    // The engine has every keystroke at the remoteEdited that brings it to `expected` (this
    // binding shows each signal's patches at once; one that defers them paints later).
    const QMetaObject::Connection editedConnection =
        QObject::connect(&session, &app::DocumentSession::remoteEdited, &edit, [&] {
          ++signalCount;
          if (!first) first = EditorClock::now();
          if (!applied && session.document().length() == expected) applied = EditorClock::now();
        });

    // The GUI thread blocks (handles nothing) while the other replica types and flushes.
    typist.go = true;
    const auto deadline = EditorClock::now() + std::chrono::milliseconds(kBurstTimeoutMs);
    while (!typist.sent && !typist.failed && EditorClock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(kFlushMs));
    if (!typist.sent) {
      QObject::disconnect(editedConnection);
      return fail(Error::io("remote burst: the other replica did not type: " + typist.failure()));
    }
    const double cpuStart = threadCpuMs();
    const double waitStart = runQueueWaitSeconds();
    const EditorClock::time_point start = EditorClock::now();
    const auto shown = [&] { return applied && edit.paintedLength() == expectedLength; };
    runUntil(shown, kBurstTimeoutMs);
    const double cpuMs = threadCpuMs() - cpuStart;
    const double waitMs = (runQueueWaitSeconds() - waitStart) * 1e3;
    QObject::disconnect(editedConnection);
    if (!shown()) {
      return fail(Error::io("remote burst: " + std::to_string(session.document().length()) + " of " +
                            std::to_string(expected) + " characters, or no paint, after 60 s"));
    }
    const std::string engineText = session.document().text();
    if (edit.toPlainText().toStdString() != engineText) {
      outcome = fail(Error::io("remote burst: the widget's text differs from the engine's"));
    } else if (engineText != typist.text()) {
      outcome = fail(Error::io("remote burst: the session's text differs from the other replica's"));
    } else {
      RemoteBurstResult r;
      r.burstMs = msBetween(start, edit.lastPaint());
      r.appliedMs = msBetween(start, *applied);
      r.firstPatchMs = msBetween(start, *first);
      r.patchSignals = signalCount;
      r.cpuMs = cpuMs;
      r.waitMs = waitMs;
      r.startS = monotonicSeconds(start);
      r.endS = monotonicSeconds(edit.lastPaint());
      outcome = r;
    }
  }
  // The typist closed its side; let the measured side see it before the listener goes.
  runUntil([&] { return measured.peerCount() == 0; }, 3'000);
  listener->close();
  listener.reset();
  return std::move(*outcome);
}

}  // namespace quire::bench
