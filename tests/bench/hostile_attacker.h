// The attacker of `quire-bench hostile`: a raw room member that holds the key and sends one
// hostile sealed frame every 100 ms, on a thread of its own at idle priority (Linux SCHED_IDLE).
// A real attacker is another machine: on the honest peers' thread, the room it downloads on each
// of its rejoins (the relay closes it for every frame over the size limit) would be charged to
// their keystrokes, and on a thread of normal priority it takes one of this machine's two cores
// from the relay and the peers (measured: worse than sharing their thread). What the relay does
// for it, it still does at normal priority.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <utility>
#include <vector>

#include <QByteArray>
#include <QString>
#include <QThread>

namespace quire::bench {

class AttackerThread {
 public:
  // `frames`: (kind 0..3, sealed frame), sent in rotation. Connects and joins `roomHex` at once.
  AttackerThread(QString relayUrl, QString roomHex, std::vector<std::pair<int, QByteArray>> frames);
  ~AttackerThread();  // closes the connection and joins the thread
  AttackerThread(const AttackerThread&) = delete;
  AttackerThread& operator=(const AttackerThread&) = delete;

  // Whether it is in the room now ("joined" received, not closed since).
  bool joined() const { return m_counts->joined.load(); }
  // While on, one frame every 100 ms whenever joined; when closed, it reconnects after 50 ms.
  // Switched off, it sends nothing and cuts a join still in progress (it reconnects when
  // switched on again); a joined attacker stays in the room.
  void setAttacking(bool on);
  int framesSent(int kind) const { return m_counts->sent[static_cast<std::size_t>(kind)].load(); }
  int closedByRelay() const { return m_counts->closed.load(); }

  struct Counts {
    std::atomic<bool> joined{false};
    std::array<std::atomic<int>, 4> sent{};
    std::atomic<int> closed{0};
  };

 private:
  class Worker;
  std::shared_ptr<Counts> m_counts = std::make_shared<Counts>();
  QThread m_thread;
  Worker* m_worker = nullptr;  // lives on m_thread; deleted when it finishes
};

}  // namespace quire::bench
