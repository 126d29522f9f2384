// The live-update encoding: a sequence of op runs in wire form (replica ids, seqs), compact
// enough that a typed character continuing a run costs a few bytes. FORMAT.md, "Update encoding".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/document.h"
#include "engine/ids.h"
#include "engine/op_log.h"
#include "engine/result.h"

namespace quire::engine {

// An op named by its wire id.
struct WireId {
  ReplicaId replica;
  std::uint32_t seq = 0;
};

// One run of ops as it travels. Insert runs are chained (each character's origin-left is the
// one before it); the origins describe the first character.
struct WireRun {
  enum class Origin : std::uint8_t { None, Id, Chained, SameAsPrevious };
  OpKind kind = OpKind::Insert;
  ReplicaId agent;
  std::uint32_t seq = 0;
  std::uint32_t len = 0;
  // Insert: left is None (document start), Id, or Chained ((agent, seq-1)); right is None
  // (document end), Id, or SameAsPrevious (the origin-right of (agent, seq-1)).
  Origin left = Origin::None;
  Origin right = Origin::None;
  WireId leftId;
  WireId rightId;
  std::string text;  // UTF-8, exactly len code points
  // Delete: targets target.seq, target.seq+1, ... (or descending if reversed), of one replica.
  WireId target;
  bool reversed = false;
};

// Builds an update: header, record count, records. Agents not yet in `stream` are defined
// inline and added to it. Not thread-safe.
class UpdateEncoder {
 public:
  explicit UpdateEncoder(StreamContext& stream);
  void add(const WireRun& run);
  // The finished update.
  std::vector<std::uint8_t> finish();

 private:
  std::uint32_t refOf(const ReplicaId& r);
  std::vector<std::uint8_t> m_records;
  std::uint64_t m_count = 0;
  StreamContext& m_stream;
};

// A decoded update: its runs, and the agents it defines (to append to the stream context once
// the update has been accepted).
struct DecodedUpdate {
  std::vector<WireRun> runs;
  std::vector<ReplicaId> newAgents;
};

// A decoded run in 32 bytes (a WireRun is 128, plus its text): what applyUpdate plans with, so
// an update's decoded form costs a small multiple of its bytes (FORMAT.md, "Decoding limits").
// Replicas are references into the stream's agents followed by the update's new ones (fewer
// than Document::kMaxAgents: 16 bits); an insert's text stays where it is in the update.
struct PackedRun {
  std::uint32_t seq = 0;
  std::uint32_t len = 0;
  std::uint32_t leftSeq = 0;   // insert: origin-left's seq (left == Id); delete: the target's
  std::uint32_t rightSeq = 0;  // insert: origin-right's seq (right == Id)
  std::uint32_t textAt = 0;    // insert: offset of its text in the update's bytes
  std::uint16_t agent = 0;
  std::uint16_t leftAgent = 0;  // insert: origin-left's replica (left == Id); delete: the target's
  std::uint16_t rightAgent = 0;
  OpKind kind = OpKind::Insert;
  WireRun::Origin left = WireRun::Origin::None;
  WireRun::Origin right = WireRun::Origin::None;
  bool reversed = false;  // delete
};
static_assert(sizeof(PackedRun) == 32);

// An update decoded into packed runs. Refers to the update's bytes and to the stream context it
// was decoded on: both must outlive it, unchanged.
struct PackedUpdate {
  std::vector<PackedRun> runs;
  std::vector<ReplicaId> newAgents;
  std::span<const std::uint8_t> bytes;
  const StreamContext* stream = nullptr;

  const ReplicaId& replica(std::uint16_t ref) const {
    return ref < stream->agents.size() ? stream->agents[ref] : newAgents[ref - stream->agents.size()];
  }
  // The run in wire form, its text copied out of the update.
  WireRun unpack(const PackedRun& run) const;
  // Drops the run's first k ops (0 < k < run.len), as WireRun trimming does.
  void trimFront(PackedRun& run, std::uint32_t k) const;
};

// Decodes and fully validates the structure of an update. Pure: `stream` is only read.
[[nodiscard]] Result<PackedUpdate> decodePackedUpdate(std::span<const std::uint8_t> bytes,
                                                      const StreamContext& stream);
// What applyUpdate refuses on any document, with no document at hand (so on any thread): the
// update does not decode against `stream`, or it offers more ops than a document can count
// (2^32 - 1). An update that passes may still be refused by a document (forks, missing targets,
// its own op count or authors). Costs what decodePackedUpdate costs.
[[nodiscard]] Result<void> checkUpdateAlone(std::span<const std::uint8_t> bytes,
                                            const StreamContext& stream);
// The ops an update's runs offer, inserts and deletes (duplicates of held ops included).
std::uint64_t offeredOps(const PackedUpdate& update);
// The same, every run in wire form.
[[nodiscard]] Result<DecodedUpdate> decodeUpdate(std::span<const std::uint8_t> bytes,
                                                 const StreamContext& stream);

}  // namespace quire::engine

namespace quire::engine {

// Op runs received before their dependencies, kept by the Document until those arrive. Each run
// is filed under the one op it waits for, (replica, seq), so an arriving run wakes exactly the
// runs that wait for something it brings: no rescans (FORMAT.md, "Applying updates").
struct PendingRuns {
  std::map<std::uint64_t, WireRun> runs;  // by id, in arrival order
  // replica -> seq waited for -> run id. A run wakes once the replica's next seq passes it.
  std::map<ReplicaId, std::multimap<std::uint32_t, std::uint64_t>> waiting;
  std::uint64_t nextId = 0;
  std::uint64_t ops = 0;  // sum of runs' lengths

  std::size_t memoryUsage() const;
};

}  // namespace quire::engine
