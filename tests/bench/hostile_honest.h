// `quire-bench hostile`, the honest side of the attack: each typist is a Document and its
// WsDocument on a thread of its own, as it would be in a quire process on a machine of its own,
// so one peer's work on a hostile frame does not delay another peer's deliveries (two copies of
// Quire on two machines do not share an event loop). The peers and the runner meet only in
// HonestShared, under its lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <QString>
#include <QThread>

#include "net/crypto.h"
#include "tests/bench/sync_support.h"

namespace quire::bench {

// One keystroke shown on another peer: the sender, the keystroke's index among the sender's,
// and the milliseconds from typed to shown.
struct HonestDelivery {
  std::size_t sender = 0;
  std::size_t keystroke = 0;
  double ms = 0;
};

// What the peers and the runner share. Everything in it is read and written under `lock`.
struct HonestShared {
  explicit HonestShared(std::size_t peers)
      : typedAt(peers), received(peers, std::vector<std::size_t>(peers, 0)) {}
  std::mutex lock;
  std::vector<std::vector<SyncClock::time_point>> typedAt;  // per sender, every keystroke so far
  std::vector<std::vector<std::size_t>> received;  // [receiver][sender]: keystrokes seen so far
  std::vector<HonestDelivery> deliveries;          // every one so far
  std::string failure;    // the first thing that went wrong
  bool stopping = false;  // closing down: a lost connection is no failure
  void fail(const std::string& why);  // REQUIRES: `lock` held
};

// One honest typist: types its letter (index 0 'A', 1 'B', ...) at random places when asked,
// and records, for every other peer's letter it receives, the latency since that peer typed it.
class HonestPeer {
 public:
  HonestPeer(std::size_t index, const net::DocKey& key, HonestShared& shared, std::uint64_t seed);
  ~HonestPeer();  // closes its connections (waiting up to 3 s) and joins the thread

  void connectTo(const QString& relayUrl);
  bool synced() const { return m_synced.load() > 0; }
  // Types `keys` keystrokes at 30 per second, the first at `firstDue`; typing() until done.
  void startTyping(std::size_t keys, SyncClock::time_point firstDue);
  bool typing() const { return m_typing.load(); }

 private:
  class Worker;
  QThread m_thread;
  Worker* m_worker = nullptr;  // lives on m_thread
  std::atomic<int> m_synced{0};
  std::atomic<bool> m_typing{false};
};

}  // namespace quire::bench
