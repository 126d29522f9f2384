#include "app/trace/trace_replay.h"

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "engine/version_vector.h"

namespace quire::trace {

namespace {

std::string patchWhere(std::size_t txn, std::size_t patch) {
  return "txn " + std::to_string(txn) + " patch " + std::to_string(patch);
}

// A splice as local edits: the deletion first, so `pos` means the same for both.
Result<void> applyPatch(engine::Document& doc, const TracePatch& patch) {
  if (patch.deleted > 0) {
    if (auto removed = doc.remove(patch.pos, patch.deleted); !removed) return removed;
  }
  if (!patch.inserted.empty()) return doc.insert(patch.pos, patch.inserted);
  return {};
}

Result<void> applyTxn(engine::Document& doc, const TraceTxn& txn, std::size_t index) {
  for (std::size_t p = 0; p < txn.patches.size(); ++p) {
    if (auto applied = applyPatch(doc, txn.patches[p]); !applied) {
      return fail(applied.error().prefixed(patchWhere(index, p)));
    }
  }
  return {};
}

// Per replica, the larger of the two next seqs: the ops of both versions.
void mergeVersion(engine::VersionVector& into, const engine::VersionVector& other) {
  for (const auto& [replica, next] : other.entries()) {
    if (next > into.get(replica)) into.set(replica, next);
  }
}

}  // namespace

engine::ReplicaId agentReplica(std::uint32_t agent) {
  engine::ReplicaId id;
  id.bytes.fill(0x51);
  const std::uint32_t n = agent + 1;
  for (int i = 0; i < 4; ++i)
    id.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(n >> (8 * i));
  return id;
}

Result<engine::Document> replaySequential(const Trace& trace) {
  engine::Document doc(agentReplica(0));
  if (!trace.startContent.empty()) {
    if (auto inserted = doc.insert(0, trace.startContent); !inserted) {
      return fail(inserted.error().prefixed("startContent"));
    }
  }
  for (std::size_t t = 0; t < trace.txns.size(); ++t) {
    if (auto applied = applyTxn(doc, trace.txns[t], t); !applied) return fail(applied.error());
  }
  return doc;
}

Result<engine::Document> replayConcurrent(const Trace& trace) {
  engine::Document all(agentReplica(kMergeAgent));
  if (!trace.startContent.empty()) {
    if (auto inserted = all.insert(0, trace.startContent); !inserted) {
      return fail(inserted.error().prefixed("startContent"));
    }
  }
  const engine::VersionVector root = all.version();

  std::vector<engine::Document> replicas;
  replicas.reserve(trace.numAgents);
  for (std::uint32_t a = 0; a < trace.numAgents; ++a) replicas.emplace_back(agentReplica(a));
  // held[a] == replicas[a].version(), re-read after every change instead of before every txn.
  std::vector<engine::VersionVector> held(trace.numAgents);
  // versions[i]: the ops txn i's result holds, i.e. its parents' and its own.
  std::vector<engine::VersionVector> versions;
  versions.reserve(trace.txns.size());

  for (std::size_t i = 0; i < trace.txns.size(); ++i) {
    const TraceTxn& txn = trace.txns[i];
    const auto where = [i] { return "txn " + std::to_string(i); };
    if (txn.agent >= replicas.size()) {
      return fail(Error::malformed(where() + ": agent " + std::to_string(txn.agent) +
                                   " but numAgents is " + std::to_string(trace.numAgents)));
    }
    engine::VersionVector target = root;
    for (std::uint32_t parent : txn.parents) {
      if (parent >= i) {
        return fail(Error::malformed(where() + ": parent " + std::to_string(parent) +
                                     " is not an earlier txn"));
      }
      mergeVersion(target, versions[parent]);
    }

    engine::Document& replica = replicas[txn.agent];
    engine::VersionVector& have = held[txn.agent];
    if (have != target) {
      // An agent's txns are totally ordered, so its replica can only lag behind the parents.
      if (!target.includes(have)) {
        return fail(Error::malformed(where() + ": agent " + std::to_string(txn.agent) +
                                     " already holds ops outside the txn's parents (has " +
                                     have.toString() + ", parents " + target.toString() + ")"));
      }
      auto merged = replica.applyUpdate(all.encodeUpdateBetween(have, target));
      if (!merged) {
        return fail(merged.error().prefixed(where() + ": bringing agent to its parents"));
      }
      have = replica.version();
      if (have != target) {
        return fail(Error::corrupt(where() + ": update to the parents left agent " +
                                   std::to_string(txn.agent) + " at " + have.toString() +
                                   ", expected " + target.toString()));
      }
    }

    const engine::LV before = replica.nextLv();
    if (auto applied = applyTxn(replica, txn, i); !applied) return fail(applied.error());
    if (replica.nextLv() != before) {
      auto merged = all.applyUpdate(replica.encodeOpsSince(before));
      if (!merged) return fail(merged.error().prefixed(where() + ": merging into the result"));
      have = replica.version();
    }
    versions.push_back(have);
  }

  if (all.pendingOpCount() != 0) {
    return fail(Error::corrupt("merged document still waits for " +
                               std::to_string(all.pendingOpCount()) + " ops"));
  }
  return all;
}

Result<engine::Document> replay(const Trace& trace) {
  return trace.concurrent ? replayConcurrent(trace) : replaySequential(trace);
}

}  // namespace quire::trace
