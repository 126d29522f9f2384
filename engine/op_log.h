// The op log: every operation a copy holds, in arrival (LV) order, run-length compressed, with
// the agent table and the text of every insert ever made (deleted text kept). FORMAT.md,
// "Glossary" and "Op log".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/ids.h"

namespace quire::engine {

enum class OpKind : std::uint8_t { Insert = 0, Delete = 1 };

// A run of consecutive LVs made by one agent with consecutive seqs.
// Insert runs are chained: character i > 0 has origin-left lv+i-1 and every character has the
// same origin-right. Delete runs target `origin`, origin+1, ... (or origin-1, ... if reversed).
struct OpRun {
  LV lv = 0;
  std::uint32_t len = 0;
  AgentIndex agent = 0;
  std::uint32_t seq = 0;
  OpKind kind = OpKind::Insert;
  bool reversed = false;  // delete: targets descend
  bool ascii = true;      // insert: text is all ASCII (byte offset == code point offset)
  LV origin = kNoLv;      // insert: origin-left of the first character; delete: first target
  LV right = kNoLv;       // insert: origin-right
  std::uint32_t textOffset = 0;  // insert: byte offset of its text in the text arena

  LV end() const { return lv + len; }
  LV target(std::uint32_t i) const { return reversed ? origin - i : origin + i; }
};

// A stretch of one agent's seqs that sit at consecutive LVs.
struct AgentSpan {
  std::uint32_t seq;
  LV lv;
  std::uint32_t len;
};

// Owns all of the above. Value type; not thread-safe.
class OpLog {
 public:
  LV nextLv() const { return m_next; }
  const std::vector<OpRun>& runs() const { return m_runs; }
  const std::string& textArena() const { return m_text; }

  // ---- Agents.
  std::size_t agentCount() const { return m_agents.size(); }
  const ReplicaId& replica(AgentIndex a) const { return m_agents[a]; }
  std::optional<AgentIndex> findAgent(const ReplicaId& r) const;  // O(log agents)
  AgentIndex addAgent(const ReplicaId& r);  // finds or adds
  std::uint32_t nextSeq(AgentIndex a) const { return m_nextSeq[a]; }
  const std::vector<AgentSpan>& spans(AgentIndex a) const { return m_spans[a]; }
  // The span holding (agent, seq). REQUIRES: seq < nextSeq(agent).
  const AgentSpan& spanOf(AgentIndex agent, std::uint32_t seq) const;

  // ---- Lookups.
  // The index of the run holding `lv`. REQUIRES: lv < nextLv().
  std::size_t findRun(LV lv) const;
  const OpRun& runAt(LV lv) const { return m_runs[findRun(lv)]; }
  // The LV of (agent, seq), or kNoLv if this copy does not have it.
  LV lvOf(AgentIndex agent, std::uint32_t seq) const;
  OpId idOf(LV lv) const;
  OpKind kindOf(LV lv) const { return runAt(lv).kind; }
  // Origins of the inserted character `lv`. REQUIRES: lv is an insert.
  LV originLeft(LV lv) const;
  LV originRight(LV lv) const;
  // The UTF-8 text of inserted characters [lv, lv+n). REQUIRES: all in one insert run.
  std::string_view text(LV lv, std::uint32_t n) const;

  // ---- Appends (the new ops get LVs from nextLv()). Return the first new LV.
  // REQUIRES: `seq` == nextSeq(agent); `utf8` holds exactly `n` code points.
  LV appendInsert(AgentIndex agent, std::uint32_t seq, LV originLeft, LV originRight,
                  std::string_view utf8, std::uint32_t n, bool ascii);
  // `mergeable`: the caller knows these targets sit right after (or, backspacing, right before)
  // the last run's in the visible text, so the two may become one run.
  LV appendDelete(AgentIndex agent, std::uint32_t seq, LV target, std::uint32_t n, bool reversed,
                  bool mergeable = true);
  // True if an insert of `agent` after `originLeft`, before `originRight`, would continue the
  // last run (typing on).
  bool continuesLastInsert(AgentIndex agent, LV originLeft, LV originRight) const {
    if (m_runs.empty()) return false;
    const OpRun& last = m_runs.back();
    return last.kind == OpKind::Insert && last.agent == agent && last.end() - 1 == originLeft &&
           last.right == originRight;
  }

  // Capacity hints for decoding a history of known size.
  void reserve(std::size_t runs, std::size_t textBytes) {
    m_runs.reserve(runs);
    m_text.reserve(textBytes);
  }

  std::size_t memoryUsage() const;
  std::string checkInvariants() const;

 private:
  void noteSpan(AgentIndex agent, std::uint32_t seq, LV lv, std::uint32_t n);

  std::vector<ReplicaId> m_agents;
  std::map<ReplicaId, AgentIndex> m_agentIndex;  // a tree, not a hash: ids come from peers
  std::vector<std::uint32_t> m_nextSeq;
  std::vector<std::vector<AgentSpan>> m_spans;
  std::vector<OpRun> m_runs;
  std::string m_text;
  LV m_next = 0;
  mutable std::size_t m_lastFound = 0;  // lookup cache
};

}  // namespace quire::engine
