// Replays a loaded trace (trace_file.h) through the engine: a sequential trace as local edits on
// one Document, a concurrent one by fork and merge over one replica per agent (README.md of the
// traces, "Concurrent format"). Used by the trace tests, quire-bench and `quire-cli replay`.
#pragma once

#include <cstdint>

#include "app/trace/trace_file.h"
#include "engine/document.h"
#include "engine/ids.h"
#include "engine/result.h"

namespace quire::trace {

// The replica id replays give `agent`: bytes 0..3 are agent + 1 (little-endian), the rest 0x51.
// Deterministic, so two replays of one trace produce the same bytes.
engine::ReplicaId agentReplica(std::uint32_t agent);

// The replica id of the document that replayConcurrent() merges every agent into.
inline constexpr std::uint32_t kMergeAgent = 0xFFFF;

// Replays every patch in order as local edits on one Document (replica agentReplica(0)): first
// startContent, then per patch remove(pos, deleted) and insert(pos, inserted). Ignores parents
// and agents. Fails with the engine's error (same code) prefixed "txn N patch M: ".
// Does not compare with endContent; the caller does.
[[nodiscard]] quire::Result<engine::Document> replaySequential(const Trace& trace);

// Replays by fork and merge: one Document per agent (agentReplica(a)) plus one that receives
// every transaction's ops (agentReplica(kMergeAgent)), which is returned. Before txn i runs, its
// agent's replica is brought to exactly the union of its parents' versions (parents [] is the
// state after startContent) with an update from the merged document. Fails if a replica holds
// ops outside a txn's parents, if an update leaves ops pending, or on an engine error, naming
// the txn (and patch). Works on sequential traces too (they load as a chain).
// Does not compare with endContent; the caller does.
[[nodiscard]] quire::Result<engine::Document> replayConcurrent(const Trace& trace);

// replayConcurrent() for concurrent traces, replaySequential() otherwise.
[[nodiscard]] quire::Result<engine::Document> replay(const Trace& trace);

}  // namespace quire::trace
