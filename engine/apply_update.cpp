// Document::applyUpdate: validates a whole remote update against what this copy holds, plans the
// order in which its runs (and runs held from earlier updates) become ready, then commits.
// FORMAT.md, "Applying updates".
#include <algorithm>
#include <cassert>
#include <deque>
#include <functional>
#include <map>

#include "engine/content_tree.h"
#include "engine/document.h"
#include "engine/fork_check.h"
#include "engine/op_log.h"
#include "engine/update_codec.h"
#include "engine/utf8.h"

namespace quire::engine {

namespace {

std::string opName(const ReplicaId& r, std::uint32_t seq) {
  return r.toHex().substr(0, 8) + ":" + std::to_string(seq);
}

// What a document would hold after the runs accepted so far: used to validate a whole update
// before changing anything. Agents are found through a map, so an update naming many authors
// costs O(log n) per lookup.
class Simulation {
 public:
  explicit Simulation(const OpLog& log) : m_log(log) {}

  std::uint32_t next(const ReplicaId& r) { return agent(r).next; }
  // Agents that the plan so far would add to the document.
  std::size_t newAgents() const { return m_newAgents; }

  // The kind of op (r, seq), or empty if it is not there.
  std::optional<OpKind> kind(const ReplicaId& r, std::uint32_t seq) {
    Agent& a = agent(r);
    if (seq >= a.next) return std::nullopt;
    if (a.index && seq < m_log.nextSeq(*a.index)) return m_log.kindOf(m_log.lvOf(*a.index, seq));
    auto it = std::upper_bound(a.added.begin(), a.added.end(), seq,
                               [](std::uint32_t s, const Added& x) { return s < x.seq; });
    return (it - 1)->kind;
  }

  // 1: all of (r, lo..lo+n-1) are inserts; 0: some are missing; -1: some are not inserts.
  int allInserts(const ReplicaId& r, std::uint32_t lo, std::uint32_t n) {
    Agent& a = agent(r);
    if (std::uint64_t{lo} + n > a.next) return 0;
    std::uint32_t s = lo;
    while (s < lo + n) {
      if (a.index && s < m_log.nextSeq(*a.index)) {
        LV lv = m_log.lvOf(*a.index, s);
        const OpRun& run = m_log.runAt(lv);
        if (run.kind != OpKind::Insert) return -1;
        s += std::min(lo + n - s, run.end() - lv);
      } else {
        auto it = std::upper_bound(a.added.begin(), a.added.end(), s,
                                   [](std::uint32_t x, const Added& y) { return x < y.seq; }) - 1;
        if (it->kind != OpKind::Insert) return -1;
        s = std::min(lo + n, it->seq + it->len);
      }
    }
    return 1;
  }

  // Where `run` differs from the ops this copy already holds under the same ids, if it does.
  // (Ops planned earlier in the same update are compared by kind only.)
  std::optional<std::string> fork(const WireRun& run) {
    Agent& a = agent(run.agent);
    if (!a.index) return std::nullopt;
    if (auto at = findFork(m_log, *a.index, run)) return std::move(at->why);
    return std::nullopt;
  }

  void accept(const WireRun& run) {
    Agent& a = agent(run.agent);
    if (!a.index && a.added.empty()) ++m_newAgents;
    if (!a.added.empty() && a.added.back().kind == run.kind &&
        a.added.back().seq + a.added.back().len == run.seq)
      a.added.back().len += run.len;  // a chain of runs costs one entry
    else
      a.added.push_back({run.seq, run.len, run.kind});
    a.next = run.seq + run.len;
  }

 private:
  struct Added {
    std::uint32_t seq, len;
    OpKind kind;
  };
  struct Agent {
    std::optional<AgentIndex> index;
    std::uint32_t next = 0;
    std::vector<Added> added;
  };
  Agent& agent(const ReplicaId& r) {
    auto [it, inserted] = m_agents.try_emplace(r);
    if (inserted) {
      it->second.index = m_log.findAgent(r);
      if (it->second.index) it->second.next = m_log.nextSeq(*it->second.index);
    }
    return it->second;
  }

  const OpLog& m_log;
  std::map<ReplicaId, Agent> m_agents;
  std::size_t m_newAgents = 0;
};

enum class Readiness { Duplicate, Ready, Waiting, Invalid, Forked };

void trimFront(WireRun& run, std::uint32_t k) {
  run.seq += k;
  run.len -= k;
  if (run.kind == OpKind::Insert) {
    run.text.erase(0, utf8::offsetOf(run.text, k));
    run.left = WireRun::Origin::Chained;
  } else {
    run.target.seq = run.reversed ? run.target.seq - k : run.target.seq + k;
  }
}

// Whether `run` can be applied now; trims ops already present from its front. When it must wait,
// `missing` names one op it needs: the run cannot become ready before that op arrives.
Readiness readiness(Simulation& sim, WireRun& run, WireId& missing, std::string& why) {
  std::uint32_t next = sim.next(run.agent);
  if (run.seq > next) {
    missing = {run.agent, run.seq - 1};
    return Readiness::Waiting;
  }
  if (run.seq < next) {
    auto known = sim.kind(run.agent, run.seq);
    if (known != run.kind) {
      why = "op " + opName(run.agent, run.seq) + " is held with a different kind";
      return Readiness::Forked;
    }
    if (auto fork = sim.fork(run)) {
      why = *fork;
      return Readiness::Forked;
    }
    if (std::uint64_t{run.seq} + run.len <= next) return Readiness::Duplicate;
    trimFront(run, next - run.seq);
  }
  auto dependency = [&](const ReplicaId& r, std::uint32_t seq, const char* what) {
    auto k = sim.kind(r, seq);
    if (!k) {
      missing = {r, seq};
      return Readiness::Waiting;
    }
    if (*k != OpKind::Insert) {
      why = std::string(what) + " " + opName(r, seq) + " is not an inserted character";
      return Readiness::Invalid;
    }
    return Readiness::Ready;
  };
  if (run.kind == OpKind::Insert) {
    Readiness r = Readiness::Ready;
    if (run.left == WireRun::Origin::Chained || run.right == WireRun::Origin::SameAsPrevious)
      r = dependency(run.agent, run.seq - 1, "origin-left");
    if (r == Readiness::Ready && run.left == WireRun::Origin::Id)
      r = dependency(run.leftId.replica, run.leftId.seq, "origin-left");
    if (r == Readiness::Ready && run.right == WireRun::Origin::Id)
      r = dependency(run.rightId.replica, run.rightId.seq, "origin-right");
    return r;
  }
  std::uint32_t lo = run.reversed ? run.target.seq - (run.len - 1) : run.target.seq;
  switch (sim.allInserts(run.target.replica, lo, run.len)) {
    case 1: return Readiness::Ready;
    case 0:
      missing = {run.target.replica, lo + run.len - 1};
      return Readiness::Waiting;
    default:
      why = "delete targets ops that are not inserted characters";
      return Readiness::Invalid;
  }
}

// The plan of one applyUpdate: which runs become ready in which order, found without rescans.
// An item is a run of the update (item < runs.size(), packed, trimmed in place) or a run held
// from an earlier update, copied when woken: `held` is never changed, since the update may still
// be refused, and then nothing may have changed. Per run of the update the plan keeps its packed
// form (32 bytes), a place in the order (4) and, while it waits, an entry under what it waits
// for (8): FORMAT.md, "Decoding limits".
class Planner {
 public:
  using Item = std::uint32_t;

  Planner(const OpLog& log, const PendingRuns& held, PackedUpdate& update)
      : m_sim(log), m_held(held), m_update(update), m_updateRuns(static_cast<Item>(update.runs.size())) {}

  // Offers run `i` of the update.
  [[nodiscard]] bool offer(Item i) { return settle(i); }

  // The items to apply, in order.
  const std::vector<Item>& plan() const { return m_plan; }
  // Item `i` in wire form.
  WireRun run(Item i) const {
    return i < m_updateRuns ? m_update.unpack(m_update.runs[i]) : m_woken[i - m_updateRuns];
  }
  std::uint32_t length(Item i) const {
    return i < m_updateRuns ? m_update.runs[i].len : m_woken[i - m_updateRuns].len;
  }
  const std::string& error() const { return m_error; }
  // The error is a fork: a run differs from held ops with the same ids.
  bool forked() const { return m_forked; }
  std::size_t newAgents() const { return m_sim.newAgents(); }
  // Held runs woken (each at most once: wokenBelow only rises) and their ops as held.
  std::uint64_t wokenRuns() const { return m_woken.size(); }
  std::uint64_t wokenOps() const { return m_wokenOps; }
  std::uint64_t plannedOps() const { return m_plannedOps; }
  // replica -> every held run waiting on it below this seq was woken (it is an item).
  const std::map<ReplicaId, std::uint32_t>& wokenBelow() const { return m_wokenBelow; }
  // Calls f(missing replica, missing seq, item) for every item still waiting.
  template <typename F>
  void forEachWaiting(F f) const {
    for (const auto& [replica, heap] : m_waiters)
      for (const Waiter& w : heap) f(replica, w.seq, w.item);
  }

 private:
  struct Waiter {
    std::uint32_t seq;  // the op it waits for
    Item item;
    bool operator>(const Waiter& o) const { return seq > o.seq; }
  };

  bool settle(Item first) {
    std::deque<Item> queue{first};
    while (!queue.empty()) {
      const Item i = queue.front();
      queue.pop_front();
      WireRun run = this->run(i);
      const std::uint32_t offered = run.seq;
      WireId missing;
      std::string why;
      const Readiness state = readiness(m_sim, run, missing, why);
      if (run.seq != offered) {  // ops already held were trimmed from its front
        if (i < m_updateRuns)
          m_update.trimFront(m_update.runs[i], run.seq - offered);
        else
          m_woken[i - m_updateRuns] = run;
      }
      switch (state) {
        case Readiness::Duplicate: break;
        case Readiness::Invalid:
        case Readiness::Forked:
          if (i < m_updateRuns) {
            m_forked = state == Readiness::Forked;
            m_error = "update record " + std::to_string(i) + ": " + why;
            return false;
          }
          break;  // a run held from an earlier update: forget it
        case Readiness::Waiting: {
          auto& heap = m_waiters[missing.replica];
          heap.push_back({missing.seq, i});
          std::push_heap(heap.begin(), heap.end(), std::greater<>{});
          break;
        }
        case Readiness::Ready:
          m_sim.accept(run);
          m_plan.push_back(i);
          m_plannedOps += run.len;
          wake(run.agent, run.seq + run.len, queue);
          break;
      }
    }
    return true;
  }

  // The replica's ops below `next` are all present now: queue every run waiting on one of them.
  void wake(const ReplicaId& replica, std::uint32_t next, std::deque<Item>& queue) {
    if (auto it = m_waiters.find(replica); it != m_waiters.end()) {
      auto& heap = it->second;
      while (!heap.empty() && heap.front().seq < next) {
        queue.push_back(heap.front().item);
        std::pop_heap(heap.begin(), heap.end(), std::greater<>{});
        heap.pop_back();
      }
      if (heap.empty()) m_waiters.erase(it);
    }
    if (auto it = m_held.waiting.find(replica); it != m_held.waiting.end()) {
      std::uint32_t& below = m_wokenBelow[replica];
      for (auto w = it->second.lower_bound(below); w != it->second.end() && w->first < next; ++w) {
        const WireRun& run = m_held.runs.at(w->second);
        m_woken.push_back(run);
        m_wokenOps += run.len;
        queue.push_back(m_updateRuns + static_cast<Item>(m_woken.size() - 1));
      }
      below = std::max(below, next);
    }
  }

  Simulation m_sim;
  const PendingRuns& m_held;
  PackedUpdate& m_update;
  const Item m_updateRuns;
  std::vector<WireRun> m_woken;  // held runs woken, in the order they were
  std::vector<Item> m_plan;
  // replica -> a min-heap by seq of the items waiting for one of its ops.
  std::map<ReplicaId, std::vector<Waiter>> m_waiters;
  std::map<ReplicaId, std::uint32_t> m_wokenBelow;
  std::uint64_t m_plannedOps = 0;
  std::uint64_t m_wokenOps = 0;
  std::string m_error;
  bool m_forked = false;
};

}  // namespace

Result<std::vector<Patch>> Document::applyUpdate(std::span<const std::uint8_t> update,
                                                 StreamContext* stream) {
  StreamContext fresh;
  StreamContext& ctx = stream ? *stream : fresh;
  auto decoded = decodePackedUpdate(update, ctx);
  if (!decoded) return fail(decoded.error());

  // Cheap bounds first, before any planning: the ops this update could add at most.
  const std::uint64_t offered = offeredOps(*decoded);
  if (std::uint64_t{m_log->nextLv()} + offered >= kNoLv) {
    // Duplicates would not count, so this may refuse an update that repeats what is held; an
    // honest peer never sends 2^32 ops, repeated or not.
    return fail(Error::malformed("update: op counter would pass 2^32 - 1 operations in one document (" +
                                 std::to_string(m_log->nextLv()) + " held, up to " +
                                 std::to_string(offered) + " more)"));
  }

  // Plan: offer each run; a run that becomes ready wakes exactly the runs waiting for its ops.
  Planner planner(*m_log, *m_pending, *decoded);
  for (Planner::Item i = 0; i < decoded->runs.size(); ++i)
    if (!planner.offer(i))
      return fail(planner.forked() ? Error::forked(planner.error()) : Error::corrupt(planner.error()));

  OpLog& log = *m_log;
  if (log.agentCount() + planner.newAgents() > kMaxAgents)
    return fail(Error::malformed("update: agent-count would reach " +
                                 std::to_string(log.agentCount() + planner.newAgents()) +
                                 " authors in one document (at most " + std::to_string(kMaxAgents) + ")"));
  if (std::uint64_t{log.nextLv()} + planner.plannedOps() >= kNoLv)
    return fail(Error::malformed("update: op counter would pass 2^32 - 1 operations in one document (" +
                                 std::to_string(log.nextLv()) + " held, " +
                                 std::to_string(planner.plannedOps()) + " more)"));

  // What stays pending: held runs nobody woke, plus the runs still waiting at the end. Ops waiting
  // for dependencies cost memory until those arrive, which a hostile or broken peer may never
  // send: refuse an update that would leave too many waiting.
  std::uint64_t keptOps = m_pending->ops - planner.wokenOps();
  std::uint64_t keptRuns = m_pending->runs.size() - planner.wokenRuns();
  planner.forEachWaiting([&](const ReplicaId&, std::uint32_t, Planner::Item i) {
    keptOps += planner.length(i);
    ++keptRuns;
  });
  if (keptOps > kMaxPendingOps || keptRuns > kMaxPendingRuns)
    return fail(Error::malformed("update would leave " + std::to_string(keptOps) + " ops in " +
                                 std::to_string(keptRuns) + " runs waiting for dependencies (at most " +
                                 std::to_string(kMaxPendingOps) + " ops, " +
                                 std::to_string(kMaxPendingRuns) + " runs)"));

  // Commit. Nothing below can fail.
  ctx.agents.insert(ctx.agents.end(), decoded->newAgents.begin(), decoded->newAgents.end());
  PatchCollector patches;
  for (Planner::Item i : planner.plan()) {
    WireRun run = planner.run(i);
    AgentIndex agent = log.addAgent(run.agent);
    assert(run.seq == log.nextSeq(agent));
    auto lvOf = [&](const WireId& id) { return log.lvOf(*log.findAgent(id.replica), id.seq); };
    if (run.kind == OpKind::Insert) {
      LV left = kNoLv, right = kNoLv;
      if (run.left == WireRun::Origin::Chained) left = log.lvOf(agent, run.seq - 1);
      if (run.left == WireRun::Origin::Id) left = lvOf(run.leftId);
      if (run.right == WireRun::Origin::Id) right = lvOf(run.rightId);
      if (run.right == WireRun::Origin::SameAsPrevious) right = log.originRight(log.lvOf(agent, run.seq - 1));
      std::uint32_t pos = integrate(agent, run.seq, left, right, run.text, run.len, utf8::isAscii(run.text));
      patches.add(Patch{pos, 0, std::move(run.text)});
    } else {
      AgentIndex target = *log.findAgent(run.target.replica);
      // One delete run per stretch of targets that sit at consecutive LVs here.
      for (std::uint32_t done = 0; done < run.len;) {
        std::uint32_t s = run.reversed ? run.target.seq - done : run.target.seq + done;
        const AgentSpan& span = log.spanOf(target, s);
        std::uint32_t k = run.reversed ? std::min(run.len - done, s - span.seq + 1)
                                       : std::min(run.len - done, span.seq + span.len - s);
        deleteTargets(agent, run.seq + done, span.lv + (s - span.seq), k, run.reversed, &patches);
        done += k;
      }
    }
  }
  // Held runs that were woken leave the pending set (applied, duplicate, dropped or re-filed
  // below); runs still waiting are filed under what they wait for.
  PendingRuns& pending = *m_pending;
  for (const auto& [replica, below] : planner.wokenBelow()) {
    auto it = pending.waiting.find(replica);
    auto& bySeq = it->second;
    for (auto w = bySeq.begin(); w != bySeq.end() && w->first < below; w = bySeq.erase(w)) {
      pending.ops -= pending.runs.at(w->second).len;
      pending.runs.erase(w->second);
    }
    if (bySeq.empty()) pending.waiting.erase(it);
  }
  planner.forEachWaiting([&](const ReplicaId& replica, std::uint32_t seq, Planner::Item i) {
    std::uint64_t id = pending.nextId++;
    pending.ops += planner.length(i);
    pending.waiting[replica].emplace(seq, id);
    pending.runs.emplace(id, planner.run(i));
  });
  return patches.take();
}

}  // namespace quire::engine
