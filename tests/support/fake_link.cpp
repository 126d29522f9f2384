#include "tests/support/fake_link.h"

#include <algorithm>
#include <utility>

namespace quire::test {

FakeLink::FakeLink(std::size_t peers, std::uint64_t seed, LinkFaults faults)
    : m_rng(seed), m_faults(faults), m_group(peers, 0) {}

bool FakeLink::connected(std::size_t a, std::size_t b) const {
  return !m_partitioned || m_group[a] == m_group[b];
}

void FakeLink::send(std::size_t from, std::size_t to, std::vector<std::uint8_t> bytes) {
  if (from == to) return;
  if (!connected(from, to) || m_rng.chance(m_faults.drop)) {
    ++m_dropped;
    return;
  }
  if (m_rng.chance(m_faults.duplicate)) {
    ++m_duplicated;
    m_queue.push_back(Message{from, to, bytes});
  }
  m_queue.push_back(Message{from, to, std::move(bytes)});
}

void FakeLink::broadcast(std::size_t from, const std::vector<std::uint8_t>& bytes) {
  for (std::size_t to = 0; to < peers(); ++to) {
    if (to != from) send(from, to, bytes);
  }
}

std::size_t FakeLink::deliver(std::size_t maxMessages, const Handler& handler) {
  std::size_t n = 0;
  while (n < maxMessages && !m_queue.empty()) {
    std::size_t pick = 0;
    if (m_queue.size() > 1 && m_rng.chance(m_faults.reorder)) {
      pick = m_rng.below(static_cast<std::uint32_t>(m_queue.size()));
    }
    Message message = std::move(m_queue[pick]);
    m_queue.erase(m_queue.begin() + static_cast<std::ptrdiff_t>(pick));
    ++n;
    ++m_delivered;
    handler(message.to, message.bytes);
  }
  return n;
}

std::size_t FakeLink::deliverAll(const Handler& handler) {
  std::size_t total = 0;
  while (!m_queue.empty()) total += deliver(m_queue.size(), handler);
  return total;
}

void FakeLink::partitionRandomly() {
  if (peers() < 2) return;
  // Guarantee both groups are non-empty: peer 0 on one side, a random other peer on the other.
  const std::size_t other = 1 + m_rng.below(static_cast<std::uint32_t>(peers() - 1));
  for (std::size_t i = 0; i < peers(); ++i) m_group[i] = m_rng.chance(0.5) ? 1 : 0;
  m_group[0] = 0;
  m_group[other] = 1;
  m_partitioned = true;
  dropAcrossPartition();
}

void FakeLink::heal() {
  m_partitioned = false;
  std::fill(m_group.begin(), m_group.end(), 0);
}

void FakeLink::dropAcrossPartition() {
  const auto before = m_queue.size();
  std::erase_if(m_queue, [&](const Message& m) { return !connected(m.from, m.to); });
  m_dropped += before - m_queue.size();
}

}  // namespace quire::test
