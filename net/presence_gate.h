// Remote presence between a session's decoder and the screen: drops stale copies and holds a
// presence whose anchors name ops this copy has not received, until they arrive, so a remote
// cursor never points past its text. Shared by SyncSession and RoomSession.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "engine/document.h"
#include "net/frame.h"

namespace quire::net {

class PresenceGate {
 public:
  // A presence arrived. Ignored unless its clock is newer than the last seen for its replica;
  // appended to `shown` if both anchors resolve in `doc`, else held (latest per replica).
  void receive(const Presence& p, const engine::Document& doc, std::vector<Presence>& shown);
  // `doc` gained ops: appends the held presences that now resolve to `shown`.
  void release(const engine::Document& doc, std::vector<Presence>& shown);
  // The replica left: drop what is held for it (its clock is remembered, so a late copy of an
  // old presence stays ignored).
  void forget(const engine::ReplicaId& replica) { m_held.erase(replica); }
  std::size_t heldCount() const { return m_held.size(); }

 private:
  static bool resolvable(const Presence& p, const engine::Document& doc);

  std::map<engine::ReplicaId, Presence> m_held;
  std::map<engine::ReplicaId, std::uint32_t> m_seenClock;
};

}  // namespace quire::net
