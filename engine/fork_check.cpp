#include "engine/fork_check.h"

#include <algorithm>

namespace quire::engine {

namespace {

std::string opName(const ReplicaId& r, std::uint32_t seq) {
  return r.toHex().substr(0, 8) + ":" + std::to_string(seq);
}

// Whether held origin `lv` (kNoLv: none) is the op the wire names (empty: none).
bool sameOrigin(const OpLog& log, LV lv, const std::optional<WireId>& wire) {
  if (lv == kNoLv || !wire) return lv == kNoLv && !wire;
  OpId id = log.idOf(lv);
  return id.seq == wire->seq && log.replica(id.agent) == wire->replica;
}

// The held delete ops [lv, lv+k) of held run `op` against wire ops i, i+1, ... of `run`: the same
// targets? Steps over a stretch of consecutive targets at a time.
bool sameTargets(const OpLog& log, const OpRun& op, LV lv, std::uint32_t k, const WireRun& run,
                 std::uint32_t i) {
  for (std::uint32_t j = 0; j < k;) {
    OpId id = log.idOf(op.target(lv - op.lv + j));
    std::uint32_t wi = i + j;
    std::uint32_t wireSeq = run.reversed ? run.target.seq - wi : run.target.seq + wi;
    if (id.seq != wireSeq || log.replica(id.agent) != run.target.replica) return false;
    // Within a span, LVs and seqs move together: both sides stay equal while they move the
    // same way and the span lasts.
    std::uint32_t step = 1;
    if (op.reversed == run.reversed) {
      const AgentSpan& span = log.spanOf(id.agent, id.seq);
      step = op.reversed ? id.seq - span.seq + 1 : span.seq + span.len - id.seq;
    }
    j += std::min(step, k - j);
  }
  return true;
}

}  // namespace

std::optional<std::string> findFork(const OpLog& log, AgentIndex agent, const WireRun& run) {
  const std::uint32_t heldNext = log.nextSeq(agent);
  if (run.seq >= heldNext || run.len == 0) return std::nullopt;
  const std::uint32_t hi =
      static_cast<std::uint32_t>(std::min<std::uint64_t>(std::uint64_t{run.seq} + run.len, heldNext));
  const ReplicaId& author = log.replica(agent);
  auto differs = [&](std::uint32_t seq, const char* what) {
    return "op " + opName(author, seq) + " is held with a different " + what;
  };

  // Every op of an insert run has the first op's origin-right.
  LV wireRightLv = kNoLv;  // for SameAsPrevious
  std::optional<WireId> wireRight;
  if (run.kind == OpKind::Insert) {
    if (run.right == WireRun::Origin::Id) wireRight = run.rightId;
    if (run.right == WireRun::Origin::SameAsPrevious) {
      if (run.seq == 0) return differs(run.seq, "origin-right");
      wireRightLv = log.originRight(log.lvOf(agent, run.seq - 1));
    }
  }

  std::size_t textPos = 0;  // byte offset in run.text of the op at `s`
  for (std::uint32_t s = run.seq; s < hi;) {
    const LV lv = log.lvOf(agent, s);
    const OpRun& op = log.runAt(lv);
    const std::uint32_t k = static_cast<std::uint32_t>(std::min<std::uint64_t>(hi - s, op.end() - lv));
    const std::uint32_t i = s - run.seq;
    if (op.kind != run.kind) return differs(s, "kind");
    if (run.kind == OpKind::Insert) {
      // Inside both runs each op's origin-left is the op before it; compare the first of this
      // stretch only.
      std::optional<WireId> wireLeft;
      if (i > 0 || run.left == WireRun::Origin::Chained) {
        if (s == 0) return differs(s, "origin-left");
        wireLeft = WireId{author, s - 1};
      } else if (run.left == WireRun::Origin::Id) {
        wireLeft = run.leftId;
      }
      if (!sameOrigin(log, lv == op.lv ? op.origin : lv - 1, wireLeft)) return differs(s, "origin-left");
      bool rightSame = run.right == WireRun::Origin::SameAsPrevious ? op.right == wireRightLv
                                                                    : sameOrigin(log, op.right, wireRight);
      if (!rightSame) return differs(s, "origin-right");
      std::string_view held = log.text(lv, k);
      if (std::string_view(run.text).substr(textPos, held.size()) != held) return differs(s, "text");
      textPos += held.size();
    } else if (!sameTargets(log, op, lv, k, run, i)) {
      return differs(s, "delete target");
    }
    s += k;
  }
  return std::nullopt;
}

}  // namespace quire::engine
