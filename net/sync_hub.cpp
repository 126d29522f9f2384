#include "net/sync_hub.h"

#include <utility>

namespace quire::net {

namespace {

void append(std::vector<SyncHub::Outgoing>& out, SyncHub::PeerId to, std::vector<RelayMessage> m) {
  for (RelayMessage& r : m) out.push_back({to, std::move(r.bytes), r.text});
}

}  // namespace

SyncHub::SyncHub(engine::Document& doc, const DocKey& key, SessionOptions options)
    : m_doc(doc), m_key(key), m_options(options) {}

SyncHub::Output SyncHub::emptyOutput() const {
  Output out;
  out.newOpsFrom = out.newOpsTo = m_doc.nextLv();
  return out;
}

SyncHub::PeerId SyncHub::addPeer(Frame& hello) {
  const PeerId id = m_nextPeer++;
  auto session = std::make_unique<SyncSession>(m_doc, m_key, m_options);
  hello = session->start();
  if (m_localPresence) session->setLocalPresence(*m_localPresence);
  m_sessions.emplace(id, std::move(session));
  return id;
}

SyncHub::PeerId SyncHub::addRoom(Outgoing& join, RoomOptions options) {
  const PeerId id = m_nextPeer++;
  auto room = std::make_unique<RoomSession>(m_doc, m_key, options);
  RelayMessage first = room->start();
  join = {id, std::move(first.bytes), first.text};
  if (m_localPresence) room->setLocalPresence(*m_localPresence);
  m_rooms.emplace(id, std::move(room));
  return id;
}

void SyncHub::removePeer(PeerId peer) {
  m_sessions.erase(peer);
  m_rooms.erase(peer);
}

const SyncSession* SyncHub::session(PeerId peer) const {
  auto it = m_sessions.find(peer);
  return it == m_sessions.end() ? nullptr : it->second.get();
}

const RoomSession* SyncHub::room(PeerId peer) const {
  auto it = m_rooms.find(peer);
  return it == m_rooms.end() ? nullptr : it->second.get();
}

void SyncHub::forwardOps(engine::LV from, engine::LV to, PeerId except, Output& out) {
  for (auto& [id, session] : m_sessions) {
    if (id == except) continue;
    for (Frame& f : session->localUpdate(from, to)) out.frames.push_back({id, std::move(f)});
  }
  for (auto& [id, room] : m_rooms)
    if (id != except) append(out.frames, id, room->localUpdate(from, to));
}

void SyncHub::forwardUpdate(const std::vector<std::uint8_t>& update, PeerId except, Output& out) {
  if (update.empty()) return;
  for (auto& [id, session] : m_sessions) {
    if (id == except) continue;
    for (Frame& f : session->sendUpdate(update)) out.frames.push_back({id, std::move(f)});
  }
  for (auto& [id, room] : m_rooms)
    if (id != except) append(out.frames, id, room->sendUpdate(update));
}

void SyncHub::forwardPresence(const Presence& p, PeerId except, Output& out) {
  for (auto& [id, session] : m_sessions) {
    if (id == except) continue;
    for (Frame& f : session->forwardPresence(p)) out.frames.push_back({id, std::move(f)});
  }
  for (auto& [id, room] : m_rooms)
    if (id != except) append(out.frames, id, room->forwardPresence(p));
}

// What a session produced, made the hub's: new ops go on at once to everyone else, before any
// presence that may point at them; presence is deduplicated and forwarded.
void SyncHub::absorb(PeerId from, std::vector<engine::Patch> patches, engine::LV newFrom,
                     engine::LV newTo, std::vector<Presence> presence,
                     std::vector<engine::ReplicaId> left, Output& out) {
  out.patches = std::move(patches);
  out.newOpsFrom = newFrom;
  out.newOpsTo = newTo;
  if (newTo != newFrom) forwardOps(newFrom, newTo, from, out);
  for (Presence& p : presence) {
    if (p.replica == m_doc.localReplica()) continue;  // our own, echoed back by a cycle
    auto seen = m_presenceClock.find(p.replica);
    if (seen != m_presenceClock.end() && p.clock <= seen->second) continue;
    m_presenceClock[p.replica] = p.clock;
    m_presenceSeenAt[p.replica] = m_now;
    forwardPresence(p, from, out);
    out.presence.push_back(std::move(p));
  }
  for (const engine::ReplicaId& r : left) m_presenceSeenAt.erase(r);
  out.left = std::move(left);
}

SyncHub::Output SyncHub::receive(PeerId peer, std::span<const std::uint8_t> frame) {
  Output out = emptyOutput();
  if (auto room = m_rooms.find(peer); room != m_rooms.end())
    return fromRoom(peer, room->second->receiveBinary(frame));
  auto it = m_sessions.find(peer);
  if (it == m_sessions.end()) {
    out.disconnect.push_back(peer);
    out.reasons.push_back("unknown connection");
    return out;
  }
  SessionOutput s = it->second->receive(frame);
  for (Frame& f : s.frames) out.frames.push_back({peer, std::move(f)});
  absorb(s.rebuilt ? kNobody : peer, std::move(s.patches), s.newOpsFrom, s.newOpsTo, std::move(s.presence),
         std::move(s.left), out);
  out.replaced = out.rebuilt = s.rebuilt;
  if (!s.repaired.empty()) out.repaired.emplace_back(peer, std::move(s.repaired));
  forwardUpdate(s.forkWinner, peer, out);
  if (s.disconnect) {
    out.disconnect.push_back(peer);
    out.reasons.push_back(std::move(s.reason));
  }
  return out;
}

SyncHub::Output SyncHub::receiveText(PeerId peer, std::string_view text) {
  Output out = emptyOutput();
  auto room = m_rooms.find(peer);
  if (room == m_rooms.end()) {
    out.disconnect.push_back(peer);
    out.reasons.push_back("text frames are not part of the protocol");
    return out;
  }
  return fromRoom(peer, room->second->receiveText(text));
}

SyncHub::Output SyncHub::finishCheck(PeerId peer, FrameCheck check) {
  auto room = m_rooms.find(peer);
  if (room == m_rooms.end()) return emptyOutput();  // gone while the check ran
  return fromRoom(peer, room->second->finishCheck(std::move(check)));
}

bool SyncHub::canContinue(PeerId peer) const {
  auto room = m_rooms.find(peer);
  return room != m_rooms.end() && room->second->canContinue();
}

SyncHub::Output SyncHub::continueWaiting(PeerId peer) {
  auto room = m_rooms.find(peer);
  if (room == m_rooms.end()) return emptyOutput();
  return fromRoom(peer, room->second->continueWaiting());
}

SyncHub::Output SyncHub::fromRoom(PeerId peer, RoomOutput r) {
  Output out = emptyOutput();
  for (std::string& why : r.rejected) out.rejected.emplace_back(peer, std::move(why));
  append(out.frames, peer, std::move(r.messages));
  // A rebuilt document goes to the room that brought the winner too: what this copy sent it
  // before held the loser, so the members holding the winner refused it whole, honest ops and
  // all.
  absorb(r.rebuilt ? kNobody : peer, std::move(r.patches), r.newOpsFrom, r.newOpsTo,
         std::move(r.presence), std::move(r.left), out);
  out.replaced = r.replaced;
  out.rebuilt = r.rebuilt;
  if (!r.repaired.empty()) out.repaired.emplace_back(peer, std::move(r.repaired));
  forwardUpdate(r.forkWinner, peer, out);
  if (r.joined) out.joined.push_back(peer);
  if (r.check) out.checks.emplace_back(peer, std::move(*r.check));
  if (r.disconnect) {
    out.disconnect.push_back(peer);
    out.reasons.push_back(std::move(r.reason));
  }
  return out;
}

SyncHub::Output SyncHub::localEdited(engine::LV from, engine::LV to) {
  Output out = emptyOutput();
  forwardOps(from, to, kNobody, out);
  return out;
}

void SyncHub::setLocalPresence(Presence p) {
  p.replica = m_doc.localReplica();
  p.clock = ++m_localClock;
  for (auto& [id, session] : m_sessions) session->setLocalPresence(p);
  for (auto& [id, room] : m_rooms) room->setLocalPresence(p);
  m_localPresence = std::move(p);
}

SyncHub::Output SyncHub::flushPresence() {
  Output out = emptyOutput();
  for (auto& [id, session] : m_sessions)
    for (Frame& f : session->flushPresence()) out.frames.push_back({id, std::move(f)});
  for (auto& [id, room] : m_rooms) append(out.frames, id, room->flushPresence());
  if (!out.frames.empty()) m_presenceSentAt = m_now;
  return out;
}

SyncHub::Output SyncHub::tick(std::int64_t nowMs) {
  m_now = nowMs;
  Output out = emptyOutput();
  // A re-send is a new value (a higher clock), so hubs along the way forward it again.
  if (m_localPresence && nowMs - m_presenceSentAt >= kPresenceResendMs) {
    setLocalPresence(*m_localPresence);
    out = flushPresence();
    m_presenceSentAt = nowMs;
  }
  for (auto it = m_presenceSeenAt.begin(); it != m_presenceSeenAt.end();) {
    if (nowMs - it->second > kPresenceExpiryMs) {
      out.left.push_back(it->first);
      it = m_presenceSeenAt.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

}  // namespace quire::net
