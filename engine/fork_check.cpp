#include "engine/fork_check.h"

#include <algorithm>

#include "engine/utf8.h"

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

// The held delete ops [lv, lv+k) of held run `op` against wire ops i, i+1, ... of `run`: how many
// of them, from the first, have the same targets (k if all). Steps over a stretch of consecutive
// targets at a time.
std::uint32_t sameTargets(const OpLog& log, const OpRun& op, LV lv, std::uint32_t k, const WireRun& run,
                 std::uint32_t i) {
  for (std::uint32_t j = 0; j < k;) {
    OpId id = log.idOf(op.target(lv - op.lv + j));
    std::uint32_t wi = i + j;
    std::uint32_t wireSeq = run.reversed ? run.target.seq - wi : run.target.seq + wi;
    if (id.seq != wireSeq || log.replica(id.agent) != run.target.replica) return j;
    // Within a span, LVs and seqs move together: both sides stay equal while they move the
    // same way and the span lasts.
    std::uint32_t step = 1;
    if (op.reversed == run.reversed) {
      const AgentSpan& span = log.spanOf(id.agent, id.seq);
      step = op.reversed ? id.seq - span.seq + 1 : span.seq + span.len - id.seq;
    }
    j += std::min(step, k - j);
  }
  return k;
}

// The index of the code point of `a` where `a` and `b` first differ (both valid UTF-8).
std::uint32_t firstDifferentCodePoint(std::string_view a, std::string_view b) {
  const std::size_t n = std::min(a.size(), b.size());
  std::size_t at = 0;
  while (at < n && a[at] == b[at]) ++at;
  std::uint32_t starts = 0;  // code points that start at or before `at`
  for (std::size_t i = 0; i <= at && i < a.size(); ++i)
    if ((static_cast<unsigned char>(a[i]) & 0xC0) != 0x80) ++starts;
  return starts == 0 ? 0 : starts - 1;
}

void appendId(std::string& key, const std::optional<WireId>& id) {
  if (!id) {
    key.push_back('\0');
    return;
  }
  key.push_back('\1');
  key.append(reinterpret_cast<const char*>(id->replica.bytes.data()), id->replica.bytes.size());
  for (int shift = 24; shift >= 0; shift -= 8) key.push_back(static_cast<char>(id->seq >> shift));
}

std::optional<WireId> heldId(const OpLog& log, LV lv) {
  if (lv == kNoLv) return std::nullopt;
  const OpId id = log.idOf(lv);
  return WireId{log.replica(id.agent), id.seq};
}

}  // namespace

std::optional<ForkAt> findFork(const OpLog& log, AgentIndex agent, const WireRun& run) {
  const std::uint32_t heldNext = log.nextSeq(agent);
  if (run.seq >= heldNext || run.len == 0) return std::nullopt;
  const std::uint32_t hi =
      static_cast<std::uint32_t>(std::min<std::uint64_t>(std::uint64_t{run.seq} + run.len, heldNext));
  const ReplicaId& author = log.replica(agent);
  auto differs = [&](std::uint32_t seq, const char* what) {
    return ForkAt{seq, "op " + opName(author, seq) + " is held with a different " + what};
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
      std::string_view wire = std::string_view(run.text).substr(textPos, held.size());
      if (wire != held) return differs(s + firstDifferentCodePoint(held, wire), "text");
      textPos += held.size();
    } else if (const std::uint32_t same = sameTargets(log, op, lv, k, run, i); same < k) {
      return differs(s + same, "delete target");
    }
    s += k;
  }
  return std::nullopt;
}

std::string heldOpKey(const OpLog& log, AgentIndex agent, std::uint32_t seq) {
  const LV lv = log.lvOf(agent, seq);
  const OpRun& op = log.runAt(lv);
  std::string key(1, static_cast<char>(op.kind));
  if (op.kind == OpKind::Insert) {
    appendId(key, heldId(log, lv == op.lv ? op.origin : lv - 1));
    appendId(key, heldId(log, op.right));
    key.append(log.text(lv, 1));
  } else {
    appendId(key, heldId(log, op.target(lv - op.lv)));
  }
  return key;
}

std::string wireOpKey(const OpLog& log, AgentIndex agent, const WireRun& run, std::uint32_t seq) {
  const std::uint32_t i = seq - run.seq;
  std::string key(1, static_cast<char>(run.kind));
  if (run.kind == OpKind::Insert) {
    std::optional<WireId> left;
    if (i > 0 || run.left == WireRun::Origin::Chained) left = WireId{run.agent, seq - 1};
    else if (run.left == WireRun::Origin::Id) left = run.leftId;
    std::optional<WireId> right;
    if (run.right == WireRun::Origin::Id) right = run.rightId;
    if (run.right == WireRun::Origin::SameAsPrevious && run.seq > 0 && run.seq - 1 < log.nextSeq(agent))
      right = heldId(log, log.originRight(log.lvOf(agent, run.seq - 1)));
    appendId(key, left);
    appendId(key, right);
    const std::size_t from = utf8::offsetOf(run.text, i);
    key.append(std::string_view(run.text).substr(from, utf8::offsetOf(run.text, i + 1) - from));
  } else {
    const std::uint32_t target = run.reversed ? run.target.seq - i : run.target.seq + i;
    appendId(key, WireId{run.target.replica, target});
  }
  return key;
}

}  // namespace quire::engine
