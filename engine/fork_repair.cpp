// Repairing a fork: two versions of one (author, seq) reached different copies. FORMAT.md,
// "Forks".
#include "engine/document.h"
#include "engine/fork_check.h"
#include "engine/op_log.h"
#include "engine/update_codec.h"
#include "engine/utf8.h"

namespace quire::engine {

Result<Document> Document::without(const ReplicaId& author, std::uint32_t seq) const {
  VersionVector keep = version();
  if (keep.get(author) > seq) keep.set(author, seq);
  Document out(localReplica());
  if (auto base = out.applyUpdate(encodeUpdateBetween(VersionVector{}, keep)); !base)
    return fail(base.error());
  // Runs waiting here wait there too, but for the author's dropped ones.
  if (m_pending->ops > 0) {
    StreamContext fresh;
    UpdateEncoder enc(fresh);
    for (const auto& [id, held] : m_pending->runs) {
      if (held.agent != author || held.seq + std::uint64_t{held.len} <= seq) {
        enc.add(held);
      } else if (held.seq < seq) {
        WireRun front = held;
        front.len = seq - held.seq;
        if (front.kind == OpKind::Insert) front.text.resize(utf8::offsetOf(held.text, front.len));
        enc.add(front);
      }
    }
    if (auto waiting = out.applyUpdate(enc.finish()); !waiting) return fail(waiting.error());
  }
  return out;
}

std::string ForkRepair::summary() const {
  return "a fork at op " + author.toHex().substr(0, 8) + ":" + std::to_string(seq) + " (" + why + ")";
}

Patch ForkRepair::replace(Document& doc) {
  const std::uint32_t shown = doc.length();
  doc = std::move(*rebuilt);
  rebuilt.reset();
  return Patch{0, shown, doc.text()};
}

Result<ForkRepair> Document::repairFork(std::span<const std::uint8_t> update,
                                        StreamContext* stream) const {
  const StreamContext fresh;
  const StreamContext& context = stream ? *stream : fresh;
  auto decoded = decodeUpdate(update, context);
  if (!decoded) return fail(decoded.error());
  const OpLog& log = *m_log;
  for (const WireRun& run : decoded->runs) {
    const auto agent = log.findAgent(run.agent);
    if (!agent) continue;
    auto at = findFork(log, *agent, run);
    if (!at) continue;

    ForkRepair repair;
    repair.author = run.agent;
    repair.seq = at->seq;
    repair.why = std::move(at->why);
    // No copy can tell which version its author made (that takes signatures, issue 14), so
    // every copy picks by the same rule, the author's own included: all end with one version.
    repair.incomingWins = wireOpKey(log, *agent, run, at->seq) < heldOpKey(log, *agent, at->seq);
    if (!repair.incomingWins) {
      VersionVector from = version();
      from.set(run.agent, at->seq);
      repair.winner = encodeUpdateBetween(from, version());
      return repair;
    }

    auto rebuilt = without(run.agent, at->seq);
    if (!rebuilt) return fail(rebuilt.error());
    StreamContext next = context;
    if (auto applied = rebuilt->applyUpdate(update, &next); !applied)
      return fail(applied.error().prefixed("fork repair: the winning version does not apply"));
    if (rebuilt->version().get(localReplica()) != version().get(localReplica()))
      return fail(Error::forked("fork repair: edits made here build on the losing version of op " +
                                run.agent.toHex().substr(0, 8) + ":" + std::to_string(at->seq)));
    if (stream) *stream = std::move(next);
    repair.rebuilt = std::make_unique<Document>(std::move(*rebuilt));
    return repair;
  }
  return fail(Error::invalidArgument("fork repair: the update forks nothing held here"));
}

}  // namespace quire::engine
