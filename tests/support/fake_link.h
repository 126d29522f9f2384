// An in-memory network between N peers for property tests (yjs's TestConnector, in spirit):
// messages are byte strings that the link may drop, duplicate, deliver out of order, or lose
// across a partition. Deterministic for a given seed. Test-only; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "tests/support/test_util.h"

namespace quire::test {

// Probabilities of each fault, per message copy.
struct LinkFaults {
  double drop = 0.1;       // a sent copy never arrives
  double duplicate = 0.05; // a sent copy arrives twice
  double reorder = 0.4;    // a delivery picks a random queued message instead of the oldest
};

class FakeLink {
 public:
  // Receives a message for peer `to`.
  using Handler = std::function<void(std::size_t to, std::span<const std::uint8_t> bytes)>;

  FakeLink(std::size_t peers, std::uint64_t seed, LinkFaults faults = {});

  std::size_t peers() const { return m_group.size(); }

  // Queues a copy of `bytes` from `from` to `to`; subject to faults and partitions.
  void send(std::size_t from, std::size_t to, std::vector<std::uint8_t> bytes);
  // send() to every other peer.
  void broadcast(std::size_t from, const std::vector<std::uint8_t>& bytes);

  // Delivers up to `maxMessages` queued messages through `handler`; returns how many.
  std::size_t deliver(std::size_t maxMessages, const Handler& handler);
  // Delivers until the queue is empty (handlers may send more; those are delivered too).
  std::size_t deliverAll(const Handler& handler);

  // Splits the peers into two non-empty random groups. Messages between groups are lost, both
  // those already queued and those sent until heal().
  void partitionRandomly();
  void heal();
  bool partitioned() const { return m_partitioned; }
  bool connected(std::size_t a, std::size_t b) const;

  std::size_t queued() const { return m_queue.size(); }
  std::size_t dropped() const { return m_dropped; }
  std::size_t duplicated() const { return m_duplicated; }
  std::size_t delivered() const { return m_delivered; }

 private:
  struct Message {
    std::size_t from;
    std::size_t to;
    std::vector<std::uint8_t> bytes;
  };

  void dropAcrossPartition();

  Rng m_rng;
  LinkFaults m_faults;
  std::vector<int> m_group;
  bool m_partitioned = false;
  std::vector<Message> m_queue;
  std::size_t m_dropped = 0;
  std::size_t m_duplicated = 0;
  std::size_t m_delivered = 0;
};

}  // namespace quire::test
