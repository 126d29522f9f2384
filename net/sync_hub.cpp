#include "net/sync_hub.h"

#include <utility>

namespace quire::net {

SyncHub::SyncHub(engine::Document& doc, const DocKey& key, SessionOptions options)
    : m_doc(doc), m_key(key), m_options(options) {}

SyncHub::PeerId SyncHub::addPeer(Frame& hello) {
  const PeerId id = m_nextPeer++;
  auto session = std::make_unique<SyncSession>(m_doc, m_key, m_options);
  hello = session->start();
  if (m_localPresence) session->setLocalPresence(*m_localPresence);
  m_sessions.emplace(id, std::move(session));
  return id;
}

void SyncHub::removePeer(PeerId peer) { m_sessions.erase(peer); }

const SyncSession* SyncHub::session(PeerId peer) const {
  auto it = m_sessions.find(peer);
  return it == m_sessions.end() ? nullptr : it->second.get();
}

void SyncHub::forwardOps(engine::LV from, PeerId except, Output& out) {
  for (auto& [id, session] : m_sessions) {
    if (id == except) continue;
    for (Frame& f : session->localUpdate(from)) out.frames.push_back({id, std::move(f)});
  }
}

void SyncHub::forwardPresence(const Presence& p, PeerId except, Output& out) {
  for (auto& [id, session] : m_sessions) {
    if (id == except) continue;
    for (Frame& f : session->forwardPresence(p)) out.frames.push_back({id, std::move(f)});
  }
}

SyncHub::Output SyncHub::receive(PeerId peer, std::span<const std::uint8_t> frame) {
  Output out;
  out.newOpsFrom = out.newOpsTo = m_doc.nextLv();
  auto it = m_sessions.find(peer);
  if (it == m_sessions.end()) {
    out.disconnect.push_back(peer);
    return out;
  }
  SessionOutput s = it->second->receive(frame);
  for (Frame& f : s.frames) out.frames.push_back({peer, std::move(f)});
  out.patches = std::move(s.patches);
  out.newOpsFrom = s.newOpsFrom;
  out.newOpsTo = s.newOpsTo;
  // New ops go on at once to everyone else, before any presence that may point at them.
  if (s.newOpsTo != s.newOpsFrom) forwardOps(s.newOpsFrom, peer, out);
  for (Presence& p : s.presence) {
    auto seen = m_presenceClock.find(p.replica);
    if (p.replica == m_doc.localReplica()) continue;  // our own, echoed back by a cycle
    if (seen != m_presenceClock.end() && p.clock <= seen->second) continue;
    m_presenceClock[p.replica] = p.clock;
    forwardPresence(p, peer, out);
    out.presence.push_back(std::move(p));
  }
  out.left = std::move(s.left);
  if (s.disconnect) out.disconnect.push_back(peer);
  return out;
}

SyncHub::Output SyncHub::localEdited(engine::LV from) {
  Output out;
  out.newOpsFrom = out.newOpsTo = m_doc.nextLv();
  forwardOps(from, 0, out);
  return out;
}

void SyncHub::setLocalPresence(Presence p) {
  p.replica = m_doc.localReplica();
  p.clock = ++m_localClock;
  for (auto& [id, session] : m_sessions) session->setLocalPresence(p);
  m_localPresence = std::move(p);
}

SyncHub::Output SyncHub::flushPresence() {
  Output out;
  out.newOpsFrom = out.newOpsTo = m_doc.nextLv();
  for (auto& [id, session] : m_sessions)
    for (Frame& f : session->flushPresence()) out.frames.push_back({id, std::move(f)});
  return out;
}

}  // namespace quire::net
