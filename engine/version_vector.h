// Version vectors: for each replica, the next sequence number not yet seen. Because an agent's
// seqs are dense, a version vector names a set of operations exactly. FORMAT.md, "Versions".
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "engine/ids.h"
#include "engine/result.h"

namespace quire::engine {

// A value type; not thread-safe to mutate from several threads.
class VersionVector {
 public:
  // The next seq of `replica` (0 when the replica is unknown).
  std::uint32_t get(const ReplicaId& replica) const;
  // Sets the next seq; 0 removes the entry. O(log n) for a known replica, O(n) for a new one:
  // build large vectors with fromUnsorted() or mergeMax() instead.
  void set(const ReplicaId& replica, std::uint32_t nextSeq);
  // A vector of these entries, in any order; of duplicates the highest seq counts, zeros are
  // dropped. O(n log n).
  static VersionVector fromUnsorted(std::vector<std::pair<ReplicaId, std::uint32_t>> entries);
  // Raises each entry to `other`'s where that is higher. O(m log n) when `other` names no new
  // replica, O(n + m) otherwise.
  void mergeMax(const VersionVector& other);
  // True if every operation in `other` is also in this one.
  bool includes(const VersionVector& other) const;
  // Entries sorted by replica id, none with seq 0.
  const std::vector<std::pair<ReplicaId, std::uint32_t>>& entries() const { return m_entries; }
  // Total number of operations named.
  std::uint64_t total() const;

  bool operator==(const VersionVector&) const = default;

  std::vector<std::uint8_t> encode() const;
  [[nodiscard]] static Result<VersionVector> decode(std::span<const std::uint8_t> bytes);
  std::string toString() const;

 private:
  std::vector<std::pair<ReplicaId, std::uint32_t>> m_entries;
};

}  // namespace quire::engine
