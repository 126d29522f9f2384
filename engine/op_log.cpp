#include "engine/op_log.h"

#include <algorithm>
#include <cassert>

#include "engine/utf8.h"

namespace quire::engine {

std::optional<AgentIndex> OpLog::findAgent(const ReplicaId& r) const {
  auto it = m_agentIndex.find(r);
  if (it == m_agentIndex.end()) return std::nullopt;
  return it->second;
}

AgentIndex OpLog::addAgent(const ReplicaId& r) {
  auto [it, added] = m_agentIndex.try_emplace(r, static_cast<AgentIndex>(m_agents.size()));
  if (!added) return it->second;
  m_agents.push_back(r);
  m_nextSeq.push_back(0);
  m_spans.emplace_back();
  return static_cast<AgentIndex>(m_agents.size() - 1);
}

std::size_t OpLog::findRun(LV lv) const {
  assert(lv < m_next);
  std::size_t i = m_lastFound;
  if (i < m_runs.size() && m_runs[i].lv <= lv && lv < m_runs[i].end()) return i;
  if (i + 1 < m_runs.size() && m_runs[i + 1].lv <= lv && lv < m_runs[i + 1].end())
    return m_lastFound = i + 1;
  auto it = std::upper_bound(m_runs.begin(), m_runs.end(), lv,
                             [](LV key, const OpRun& r) { return key < r.lv; });
  return m_lastFound = static_cast<std::size_t>(it - m_runs.begin()) - 1;
}

const AgentSpan& OpLog::spanOf(AgentIndex agent, std::uint32_t seq) const {
  const auto& spans = m_spans[agent];
  if (spans.back().seq <= seq) return spans.back();
  auto it = std::upper_bound(spans.begin(), spans.end(), seq,
                             [](std::uint32_t key, const AgentSpan& s) { return key < s.seq; });
  assert(it != spans.begin());
  return *(it - 1);
}

LV OpLog::lvOf(AgentIndex agent, std::uint32_t seq) const {
  if (agent >= m_agents.size() || seq >= m_nextSeq[agent]) return kNoLv;
  const AgentSpan& span = spanOf(agent, seq);
  return span.lv + (seq - span.seq);
}

OpId OpLog::idOf(LV lv) const {
  const OpRun& r = runAt(lv);
  return {r.agent, r.seq + (lv - r.lv)};
}

LV OpLog::originLeft(LV lv) const {
  const OpRun& r = runAt(lv);
  assert(r.kind == OpKind::Insert);
  return lv == r.lv ? r.origin : lv - 1;
}

LV OpLog::originRight(LV lv) const {
  const OpRun& r = runAt(lv);
  assert(r.kind == OpKind::Insert);
  return r.right;
}

std::string_view OpLog::text(LV lv, std::uint32_t n) const {
  const OpRun& r = runAt(lv);
  assert(r.kind == OpKind::Insert && lv + n <= r.end());
  std::string_view all(m_text.data() + r.textOffset, m_text.size() - r.textOffset);
  if (r.ascii) return all.substr(lv - r.lv, n);
  std::size_t begin = utf8::offsetOf(all, lv - r.lv);
  std::size_t len = utf8::offsetOf(all.substr(begin), n);
  return all.substr(begin, len);
}

void OpLog::noteSpan(AgentIndex agent, std::uint32_t seq, LV lv, std::uint32_t n) {
  assert(seq == m_nextSeq[agent]);
  auto& spans = m_spans[agent];
  if (!spans.empty() && spans.back().lv + spans.back().len == lv)
    spans.back().len += n;
  else
    spans.push_back({seq, lv, n});
  m_nextSeq[agent] = seq + n;
}

LV OpLog::appendInsert(AgentIndex agent, std::uint32_t seq, LV originLeft, LV originRight,
                       std::string_view utf8, std::uint32_t n, bool ascii) {
  LV lv = m_next;
  noteSpan(agent, seq, lv, n);
  if (continuesLastInsert(agent, originLeft, originRight)) {
    OpRun& last = m_runs.back();
    last.len += n;
    last.ascii = last.ascii && ascii;
  } else {
    OpRun r;
    r.lv = lv;
    r.len = n;
    r.agent = agent;
    r.seq = seq;
    r.kind = OpKind::Insert;
    r.ascii = ascii;
    r.origin = originLeft;
    r.right = originRight;
    r.textOffset = static_cast<std::uint32_t>(m_text.size());
    m_runs.push_back(r);
  }
  m_text.append(utf8);
  m_next += n;
  return lv;
}

LV OpLog::appendDelete(AgentIndex agent, std::uint32_t seq, LV target, std::uint32_t n,
                       bool reversed, bool mergeable) {
  LV lv = m_next;
  noteSpan(agent, seq, lv, n);
  bool merged = false;
  if (mergeable && !m_runs.empty()) {
    OpRun& last = m_runs.back();
    if (last.kind == OpKind::Delete && last.agent == agent && last.end() == lv) {
      bool lastFwd = last.len == 1 || !last.reversed;
      bool lastRev = last.len == 1 || last.reversed;
      bool newFwd = n == 1 || !reversed;
      bool newRev = n == 1 || reversed;
      if (lastFwd && newFwd && target == last.origin + last.len) {
        last.reversed = false;
        last.len += n;
        merged = true;
      } else if (lastRev && newRev && last.origin >= last.len && target == last.origin - last.len) {
        last.reversed = true;
        last.len += n;
        merged = true;
      }
    }
  }
  if (!merged) {
    OpRun r;
    r.lv = lv;
    r.len = n;
    r.agent = agent;
    r.seq = seq;
    r.kind = OpKind::Delete;
    r.reversed = reversed && n > 1;
    r.origin = target;
    m_runs.push_back(r);
  }
  m_next += n;
  return lv;
}

std::size_t OpLog::memoryUsage() const {
  std::size_t bytes = m_agents.capacity() * sizeof(ReplicaId) +
                      m_nextSeq.capacity() * sizeof(std::uint32_t) +
                      m_spans.capacity() * sizeof(std::vector<AgentSpan>) +
                      m_runs.capacity() * sizeof(OpRun) + m_text.capacity();
  for (const auto& s : m_spans) bytes += s.capacity() * sizeof(AgentSpan);
  bytes += m_agentIndex.size() * (sizeof(ReplicaId) + sizeof(AgentIndex) + 32);  // tree nodes
  return bytes;
}

std::string OpLog::checkInvariants() const {
  LV expect = 0;
  std::vector<std::uint32_t> seqs(m_agents.size(), 0);
  for (std::size_t i = 0; i < m_runs.size(); ++i) {
    const OpRun& r = m_runs[i];
    if (r.lv != expect) return "op log: run " + std::to_string(i) + " does not start at its LV";
    if (r.len == 0) return "op log: empty run " + std::to_string(i);
    if (r.agent >= m_agents.size()) return "op log: run with unknown agent";
    if (lvOf(r.agent, r.seq) != r.lv) return "op log: agent span disagrees at run " + std::to_string(i);
    if (r.kind == OpKind::Insert) {
      if (r.origin != kNoLv && r.origin >= r.lv) return "op log: origin-left not before its insert";
      if (r.right != kNoLv && r.right >= r.lv) return "op log: origin-right not before its insert";
    } else {
      LV lo = r.reversed ? r.origin - (r.len - 1) : r.origin;
      if (r.reversed && r.origin < r.len - 1) return "op log: reversed delete below LV 0";
      if (lo + r.len > r.lv) return "op log: delete targets a later op";
    }
    expect = r.end();
  }
  if (expect != m_next) return "op log: runs do not cover every LV";
  return {};
}

}  // namespace quire::engine
