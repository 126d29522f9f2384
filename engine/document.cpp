#include "engine/document.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <charconv>
#include <cstdlib>

#include "engine/content_tree.h"
#include "engine/op_log.h"
#include "engine/update_codec.h"
#include "engine/utf8.h"

namespace quire::engine {

namespace {
std::atomic<std::uint64_t> g_maxDecompressedBytes{DecodeLimits::kDefaultMaxDecompressedBytes};
}  // namespace

std::uint64_t DecodeLimits::processMaxDecompressedBytes() {
  return g_maxDecompressedBytes.load(std::memory_order_relaxed);
}

Result<void> DecodeLimits::setProcessMaxDecompressedMiB(std::string_view mib) {
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(mib.data(), mib.data() + mib.size(), n);
  if (ec != std::errc{} || end != mib.data() + mib.size() || n < 1 || n > 65536)
    return fail(Error::malformed("maximum document size '" + std::string(mib) +
                                 "': expected a whole number of MiB from 1 to 65536"));
  g_maxDecompressedBytes.store(n << 20, std::memory_order_relaxed);
  return {};
}

Result<void> DecodeLimits::setProcessFromEnvironment() {
  const char* mib = std::getenv("QUIRE_MAX_DOCUMENT_MIB");
  if (mib == nullptr) return {};
  auto set = setProcessMaxDecompressedMiB(mib);
  if (!set) return fail(set.error().prefixed("QUIRE_MAX_DOCUMENT_MIB"));
  return {};
}

void PatchCollector::add(Patch p) {
  const std::uint32_t length = static_cast<std::uint32_t>(utf8::count(p.inserted));
  if (!m_patches.empty()) {
    Patch& last = m_patches.back();
    if (p.deleted == 0 && last.deleted == 0 && length > 0 && m_lastInsertedLength > 0 &&
        p.pos == last.pos + m_lastInsertedLength) {
      last.inserted += p.inserted;
      m_lastInsertedLength += length;
      return;
    }
    if (length == 0 && m_lastInsertedLength == 0 && last.inserted.empty()) {
      if (p.pos == last.pos) {  // forward delete
        last.deleted += p.deleted;
        return;
      }
      if (p.pos + p.deleted == last.pos) {  // backspace
        last.pos = p.pos;
        last.deleted += p.deleted;
        return;
      }
    }
  }
  m_lastInsertedLength = length;
  m_patches.push_back(std::move(p));
}

Document::Document(ReplicaId localReplica)
    : m_log(std::make_unique<OpLog>()),
      m_tree(std::make_unique<ContentTree>()),
      m_pending(std::make_unique<PendingRuns>()) {
  m_local = m_log->addAgent(localReplica);
}

Document::~Document() = default;
Document::Document(Document&&) noexcept = default;
Document& Document::operator=(Document&&) noexcept = default;

Document::Document(const Document& other)
    : m_log(std::make_unique<OpLog>(*other.m_log)),
      m_tree(std::make_unique<ContentTree>(*other.m_tree)),
      m_pending(std::make_unique<PendingRuns>(*other.m_pending)),
      m_local(other.m_local),
      m_lastDeletePos(other.m_lastDeletePos) {}

Document& Document::operator=(const Document& other) {
  if (this != &other) *this = Document(other);
  return *this;
}

ReplicaId Document::localReplica() const { return m_log->replica(m_local); }
std::uint32_t Document::length() const { return m_tree->visibleCount(); }
LV Document::nextLv() const { return m_log->nextLv(); }
std::uint64_t Document::opCount() const { return m_log->nextLv(); }
std::size_t Document::runCount() const { return m_tree->itemCount(); }
std::size_t Document::pendingOpCount() const { return m_pending->ops; }

std::size_t Document::memoryUsage() const {
  return sizeof(*this) + sizeof(OpLog) + sizeof(ContentTree) + m_log->memoryUsage() +
         m_tree->memoryUsage() + m_pending->memoryUsage();
}

// ---- Local edits ----------------------------------------------------------------------------

void Document::insertAt(AgentIndex agent, std::uint32_t pos, std::string_view utf8,
                        std::uint32_t n, bool ascii) {
  ContentTree& tree = *m_tree;
  TreeCursor c;
  LV left = kNoLv;
  if (pos == 0) {
    c = tree.start();
  } else {
    c = tree.findVisible(pos - 1);
    left = tree.itemAt(c).lv + c.off;
    ++c.off;
  }
  LV right = tree.lvAfter(c);
  LV lv = m_log->appendInsert(agent, m_log->nextSeq(agent), left, right, utf8, n, ascii);
  tree.insert(c, lv, n);
}

Result<void> Document::insert(std::uint32_t pos, std::string_view utf8) {
  if (pos > length())
    return fail(Error::invalidArgument("insert at " + std::to_string(pos) + " past the end (" +
                                       std::to_string(length()) + ")"));
  bool ascii = utf8::isAscii(utf8);
  std::size_t n = utf8.size();
  if (!ascii) {
    auto count = utf8::countValid(utf8);
    if (!count) return fail(Error::invalidArgument("insert: text is not valid UTF-8"));
    n = *count;
  }
  if (n == 0) return {};
  if (n > 0x7FFFFFFFu || m_log->nextLv() > kNoLv - 1 - n)
    return fail(Error::invalidArgument("insert: document would exceed 2^32 operations"));
  insertAt(m_local, pos, utf8, static_cast<std::uint32_t>(n), ascii);
  return {};
}

std::uint32_t Document::insertAfterChar(AgentIndex agent, LV left, std::string_view utf8,
                                        std::uint32_t n, bool ascii) {
  TreeCursor c = m_tree->find(left);
  ++c.off;
  LV right = m_tree->lvAfter(c);
  std::uint32_t pos = m_tree->visibleBefore(c);
  LV lv = m_log->appendInsert(agent, m_log->nextSeq(agent), left, right, utf8, n, ascii);
  m_tree->insert(c, lv, n);
  return pos;
}

void Document::deleteAt(AgentIndex agent, std::uint32_t pos, std::uint32_t n) {
  while (n > 0) {
    TreeCursor c = m_tree->findVisible(pos);
    const Item& it = m_tree->itemAt(c);
    std::uint32_t k = std::min(n, it.size() - c.off);
    // Only deletes that touch the previous one may share its run, so that a run's targets are
    // adjacent in the text (the history encoding can then give them by position).
    bool touching = pos == m_lastDeletePos || pos + k == m_lastDeletePos;
    m_log->appendDelete(agent, m_log->nextSeq(agent), it.lv + c.off, k, false, touching);
    m_tree->markDeleted(c, k);
    m_lastDeletePos = pos;
    n -= k;
  }
}

void Document::deleteRunAt(AgentIndex agent, std::uint32_t pos, std::uint32_t n, LV target,
                           bool reversed) {
  m_log->appendDelete(agent, m_log->nextSeq(agent), target, n, reversed);
  while (n > 0) {
    TreeCursor c = m_tree->findVisible(pos);
    std::uint32_t k = std::min(n, m_tree->itemAt(c).size() - c.off);
    m_tree->markDeleted(c, k);
    n -= k;
  }
}

Result<void> Document::remove(std::uint32_t pos, std::uint32_t count) {
  if (pos > length() || count > length() - pos)
    return fail(Error::invalidArgument("delete of " + std::to_string(count) + " at " +
                                       std::to_string(pos) + " runs past the end (" +
                                       std::to_string(length()) + ")"));
  if (m_log->nextLv() > kNoLv - 1 - count)
    return fail(Error::invalidArgument("delete: document would exceed 2^32 operations"));
  deleteAt(m_local, pos, count);
  return {};
}

// ---- Reading --------------------------------------------------------------------------------

void Document::appendText(std::string& out, LV lv, std::uint32_t n) const {
  while (n > 0) {
    const OpRun& run = m_log->runAt(lv);
    std::uint32_t k = std::min(n, run.end() - lv);
    out += m_log->text(lv, k);
    lv += k;
    n -= k;
  }
}

std::string Document::text() const {
  std::string out;
  out.reserve(m_tree->visibleCount());
  TreeCursor c = m_tree->start();
  if (!m_tree->roll(c)) return out;
  do {
    const Item& it = m_tree->itemAt(c);
    if (it.visible()) appendText(out, it.lv, it.size());
  } while (m_tree->nextItem(c));
  return out;
}

VersionVector Document::version() const {
  std::vector<std::pair<ReplicaId, std::uint32_t>> entries;
  entries.reserve(m_log->agentCount());
  for (AgentIndex a = 0; a < m_log->agentCount(); ++a)
    if (m_log->nextSeq(a) > 0) entries.emplace_back(m_log->replica(a), m_log->nextSeq(a));
  return VersionVector::fromUnsorted(std::move(entries));
}

std::string Document::textAt(const VersionVector& version) const {
  const OpLog& log = *m_log;
  std::vector<std::uint32_t> limit(log.agentCount());
  for (AgentIndex a = 0; a < log.agentCount(); ++a) limit[a] = version.get(log.replica(a));
  auto included = [&](LV lv) {
    OpId id = log.idOf(lv);
    return id.seq < limit[id.agent];
  };
  std::vector<bool> deleted(log.nextLv(), false);
  for (const OpRun& r : log.runs()) {
    if (r.kind != OpKind::Delete) continue;
    for (std::uint32_t i = 0; i < r.len && r.seq + i < limit[r.agent]; ++i) deleted[r.target(i)] = true;
  }
  std::string out;
  TreeCursor c = m_tree->start();
  if (!m_tree->roll(c)) return out;
  do {
    const Item& it = m_tree->itemAt(c);
    for (std::uint32_t i = 0; i < it.size(); ++i) {
      LV lv = it.lv + i;
      if (!deleted[lv] && included(lv)) appendText(out, lv, 1);
    }
  } while (m_tree->nextItem(c));
  return out;
}

// ---- Anchors --------------------------------------------------------------------------------

Anchor Document::anchorAt(std::uint32_t pos, Bias bias) const {
  assert(pos <= length());
  Anchor a;
  a.bias = bias;
  if (bias == Bias::Before && pos == length()) {
    a.kind = Anchor::Kind::End;
    return a;
  }
  if (bias == Bias::After && pos == 0) {
    a.kind = Anchor::Kind::Start;
    return a;
  }
  TreeCursor c = m_tree->findVisible(bias == Bias::Before ? pos : pos - 1);
  OpId id = m_log->idOf(m_tree->itemAt(c).lv + c.off);
  a.kind = Anchor::Kind::Char;
  a.replica = m_log->replica(id.agent);
  a.seq = id.seq;
  return a;
}

std::optional<std::uint32_t> Document::resolveAnchor(const Anchor& anchor) const {
  switch (anchor.kind) {
    case Anchor::Kind::Start: return 0;
    case Anchor::Kind::End: return length();
    case Anchor::Kind::Char: break;
  }
  auto agent = m_log->findAgent(anchor.replica);
  if (!agent) return std::nullopt;
  LV lv = m_log->lvOf(*agent, anchor.seq);
  if (lv == kNoLv || m_log->kindOf(lv) != OpKind::Insert) return std::nullopt;
  TreeCursor c = m_tree->find(lv);
  std::uint32_t pos = m_tree->visibleBefore(c);
  if (anchor.bias == Bias::After && m_tree->itemAt(c).visible()) ++pos;
  return pos;
}

// ---- Remote ops -----------------------------------------------------------------------------

std::uint32_t Document::integrate(AgentIndex agent, std::uint32_t seq, LV left, LV right,
                                  std::string_view utf8, std::uint32_t n, bool ascii) {
  ContentTree& tree = *m_tree;
  const OpLog& log = *m_log;
  TreeCursor c = tree.start();
  if (left != kNoLv) {
    c = tree.find(left);
    ++c.off;
  }
  if (tree.lvAfter(c) != right) {
    // Concurrent inserts sit between our origins: order by the rule FORMAT.md, "Ordering", gives.
    auto rawAfter = [&](LV lv) { return lv == kNoLv ? 0 : tree.rawBefore(tree.find(lv)) + 1; };
    auto rawAt = [&](LV lv) { return lv == kNoLv ? tree.rawCount() : tree.rawBefore(tree.find(lv)); };
    const std::uint32_t leftRaw = rawAfter(left);
    const std::uint32_t rightRaw = rawAt(right);
    const ReplicaId& me = log.replica(agent);
    bool scanning = false;
    TreeCursor saved = c;
    TreeCursor cur = c;
    while (tree.roll(cur)) {
      const Item& it = tree.itemAt(cur);
      LV y = it.lv + cur.off;
      if (y == right) break;
      const OpRun& run = log.runAt(y);
      LV otherLeft = y == run.lv ? run.origin : y - 1;
      std::uint32_t otherLeftRaw = rawAfter(otherLeft);
      if (otherLeftRaw < leftRaw) break;
      if (otherLeftRaw == leftRaw) {
        if (run.right == right) {
          const ReplicaId& other = log.replica(run.agent);
          std::uint32_t otherSeq = run.seq + (y - run.lv);
          if (me < other || (me == other && seq < otherSeq)) break;
          scanning = false;
        } else if (rawAt(run.right) < rightRaw) {
          if (!scanning) {
            scanning = true;
            saved = cur;
          }
        } else {
          scanning = false;
        }
      }
      // The rest of this op run inside the item is chained to y: all of it lies after our left
      // origin, so none of it can be where we go, unless our right origin is in it.
      LV segmentEnd = std::min(run.end(), it.lv + it.size());
      if (right != kNoLv && right > y && right < segmentEnd) {
        cur.off = right - it.lv;
        break;
      }
      cur.off = segmentEnd - it.lv;
    }
    c = scanning ? saved : cur;
  }
  std::uint32_t pos = tree.visibleBefore(c);
  LV lv = m_log->appendInsert(agent, seq, left, right, utf8, n, ascii);
  tree.insert(c, lv, n);
  return pos;
}

void Document::deleteTargets(AgentIndex agent, std::uint32_t seq, LV target, std::uint32_t n,
                             bool reversed, PatchCollector* patches) {
  m_log->appendDelete(agent, seq, target, n, reversed);
  LV lo = reversed ? target - (n - 1) : target;
  // Mark [lo, lo+n) item by item; the set is what matters, not the order.
  while (n > 0) {
    TreeCursor c = m_tree->find(lo);
    const Item& it = m_tree->itemAt(c);
    std::uint32_t k = std::min(n, it.size() - c.off);
    if (it.visible()) {
      std::uint32_t pos = m_tree->visibleBefore(c);
      m_tree->markDeleted(c, k);
      if (patches) patches->add(Patch{pos, k, {}});
    }
    lo += k;
    n -= k;
  }
}

// ---- Encoding updates -----------------------------------------------------------------------

std::vector<std::uint8_t> Document::encodeRanges(std::vector<std::pair<LV, LV>> ranges,
                                                 StreamContext& stream) const {
  const OpLog& log = *m_log;
  std::sort(ranges.begin(), ranges.end());
  UpdateEncoder enc(stream);
  WireRun w;
  for (auto [lv, end] : ranges) {
    while (lv < end) {
      const OpRun& run = log.runAt(lv);
      std::uint32_t n = std::min(end, run.end()) - lv;
      std::uint32_t off = lv - run.lv;
      w.agent = log.replica(run.agent);
      w.seq = run.seq + off;
      w.kind = run.kind;
      if (run.kind == OpKind::Insert) {
        LV left = off > 0 ? lv - 1 : run.origin;
        bool chained = false;
        if (left == kNoLv) {
          w.left = WireRun::Origin::None;
        } else {
          OpId id = log.idOf(left);
          chained = id.agent == run.agent && id.seq + 1 == w.seq;
          w.left = chained ? WireRun::Origin::Chained : WireRun::Origin::Id;
          w.leftId = {log.replica(id.agent), id.seq};
        }
        if (chained && log.originRight(left) == run.right) {
          w.right = WireRun::Origin::SameAsPrevious;
        } else if (run.right == kNoLv) {
          w.right = WireRun::Origin::None;
        } else {
          OpId id = log.idOf(run.right);
          w.right = WireRun::Origin::Id;
          w.rightId = {log.replica(id.agent), id.seq};
        }
        w.len = n;
        w.text.assign(log.text(lv, n));
        enc.add(w);
      } else {
        // One record per stretch of targets that belong to one run of one agent.
        w.reversed = run.reversed;
        for (std::uint32_t i = 0; i < n;) {
          LV t = run.target(off + i);
          const OpRun& tr = log.runAt(t);
          std::uint32_t k = run.reversed ? std::min(n - i, t - tr.lv + 1) : std::min(n - i, tr.end() - t);
          w.seq = run.seq + off + i;
          w.len = k;
          w.target = {log.replica(tr.agent), tr.seq + (t - tr.lv)};
          enc.add(w);
          i += k;
        }
      }
      lv += n;
    }
  }
  return enc.finish();
}

std::vector<std::uint8_t> Document::encodeOpsSince(LV from, StreamContext* stream) const {
  return encodeOpsBetween(from, nextLv(), stream);
}

std::vector<std::uint8_t> Document::encodeOpsBetween(LV from, LV to, StreamContext* stream) const {
  StreamContext fresh;
  std::vector<std::pair<LV, LV>> ranges;
  to = std::min(to, nextLv());
  if (from < to) ranges.push_back({from, to});
  return encodeRanges(std::move(ranges), stream ? *stream : fresh);
}

std::vector<std::uint8_t> Document::encodeUpdateBetween(const VersionVector& from,
                                                        const VersionVector& to) const {
  const OpLog& log = *m_log;
  std::vector<std::pair<LV, LV>> ranges;
  for (AgentIndex a = 0; a < log.agentCount(); ++a) {
    std::uint32_t lo = from.get(log.replica(a));
    std::uint32_t hi = std::min(to.get(log.replica(a)), log.nextSeq(a));
    if (lo >= hi) continue;
    const auto& spans = log.spans(a);
    auto s = std::upper_bound(spans.begin(), spans.end(), lo,
                              [](std::uint32_t seq, const AgentSpan& x) { return seq < x.seq; });
    if (s != spans.begin()) --s;
    for (; s != spans.end() && s->seq < hi; ++s) {
      std::uint32_t b = std::max(lo, s->seq), e = std::min(hi, s->seq + s->len);
      if (b < e) ranges.push_back({s->lv + (b - s->seq), s->lv + (e - s->seq)});
    }
  }
  StreamContext fresh;
  return encodeRanges(std::move(ranges), fresh);
}

std::vector<std::uint8_t> Document::encodeUpdateSince(const VersionVector& theirs) const {
  VersionVector everything = version();
  return encodeUpdateBetween(theirs, everything);
}

// ---- Invariants -----------------------------------------------------------------------------

std::string Document::checkInvariants() const {
  if (auto e = m_log->checkInvariants(); !e.empty()) return e;
  if (auto e = m_tree->checkInvariants(); !e.empty()) return e;
  // Every inserted character is in the tree exactly once, deleted iff some delete targets it.
  std::vector<std::uint8_t> deleted(m_log->nextLv(), 0);
  std::uint64_t inserts = 0;
  for (const OpRun& r : m_log->runs()) {
    if (r.kind == OpKind::Insert) {
      inserts += r.len;
      for (std::uint32_t i = 0; i < r.len; ++i)
        if (!m_tree->contains(r.lv + i)) return "document: insert " + std::to_string(r.lv + i) + " not in the tree";
    } else {
      for (std::uint32_t i = 0; i < r.len; ++i) {
        LV t = r.target(i);
        if (m_log->kindOf(t) != OpKind::Insert) return "document: delete targets a delete";
        deleted[t] = 1;
      }
    }
  }
  if (inserts != m_tree->rawCount()) return "document: tree holds characters the log does not";
  TreeCursor c = m_tree->start();
  if (m_tree->roll(c)) {
    do {
      const Item& it = m_tree->itemAt(c);
      for (std::uint32_t i = 0; i < it.size(); ++i)
        if ((deleted[it.lv + i] != 0) == it.visible())
          return "document: deleted state of " + std::to_string(it.lv + i) + " disagrees with the log";
    } while (m_tree->nextItem(c));
  }
  return {};
}

}  // namespace quire::engine
